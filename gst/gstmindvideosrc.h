/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_MIND_VIDEO_SRC (gst_mind_video_src_get_type())
G_DECLARE_FINAL_TYPE(GstMindVideoSrc, gst_mind_video_src, GST, MIND_VIDEO_SRC, GstBaseSrc)

GST_ELEMENT_REGISTER_DECLARE(mindvideosrc);

G_END_DECLS
