/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstmindvideosrc.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin* plugin) {
  return GST_ELEMENT_REGISTER(mindvideosrc, plugin);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, mindvideo,
                  "Generates video and images with the MindVideo AI API and streams them",
                  plugin_init, PACKAGE_VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
