/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The core logs into the element's "mindvideosrc" debug category. Nothing
 * logged may contain the API key: headers are never logged, and bodies only
 * after mv::redact().
 */
#pragma once

#include <gst/gst.h>

namespace mv {
GstDebugCategory* debug_category();
}

#define MV_DEBUG(...) GST_CAT_DEBUG(mv::debug_category(), __VA_ARGS__)
#define MV_INFO(...) GST_CAT_INFO(mv::debug_category(), __VA_ARGS__)
#define MV_LOG(...) GST_CAT_LOG(mv::debug_category(), __VA_ARGS__)
#define MV_WARNING(...) GST_CAT_WARNING(mv::debug_category(), __VA_ARGS__)
