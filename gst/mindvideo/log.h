/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The core logs into the element's "mindvideosrc" debug category. A line
 * about a request, a task, a download or the spool carries the id of the
 * element it serves (its name), as GST_*_OBJECT lines do, so that the lines
 * of 32 elements at once can be told apart: the core holds no GstObject, so
 * it passes the name as the log id. Only process-wide lines go without one.
 *
 * Nothing logged may contain the API key: headers are never logged, and
 * bodies only after mv::redact().
 */
#pragma once

#include <gst/gst.h>

#include <string>

namespace mv {
GstDebugCategory* debug_category();
}

#define MV_LOG_ID_AT(level, id, ...) \
  GST_CAT_LEVEL_LOG_ID(mv::debug_category(), level, (id).c_str(), __VA_ARGS__)
#define MV_WARNING_ID(id, ...) MV_LOG_ID_AT(GST_LEVEL_WARNING, id, __VA_ARGS__)
#define MV_INFO_ID(id, ...) MV_LOG_ID_AT(GST_LEVEL_INFO, id, __VA_ARGS__)
#define MV_DEBUG_ID(id, ...) MV_LOG_ID_AT(GST_LEVEL_DEBUG, id, __VA_ARGS__)
#define MV_LOG_ID(id, ...) MV_LOG_ID_AT(GST_LEVEL_LOG, id, __VA_ARGS__)
