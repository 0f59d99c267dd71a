/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "log.h"

namespace mv {

GstDebugCategory* debug_category() {
  static GstDebugCategory* category = [] {
    GstDebugCategory* c = nullptr;
    /* Same name as the element's category: one switch for both. */
    GST_DEBUG_CATEGORY_INIT(c, "mindvideosrc", 0, "MindVideo AI generation source");
    return c;
  }();
  return category;
}

}  // namespace mv
