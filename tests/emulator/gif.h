/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A minimal animated GIF89a writer. Debian 12's gst-libav registers no
 * avenc_gif (and no GIF muxer), so frames rendered by a GStreamer pipeline are
 * quantised to a fixed 6x7x6 colour cube and LZW-compressed here.
 */
#pragma once

#include <glib.h>

#include <cstdio>
#include <string>

namespace emu {

class GifWriter {
 public:
  GifWriter() = default;
  ~GifWriter();
  GifWriter(const GifWriter&) = delete;
  GifWriter& operator=(const GifWriter&) = delete;

  /* Starts a looping animation; `delay_cs` is the frame delay in 1/100 s. */
  bool open(const std::string& path, int width, int height, int delay_cs, std::string* error);
  /* Appends one frame of packed 4-byte pixels (R, G, B, x) with `stride` bytes per row. */
  bool add_frame_rgbx(const guint8* data, int stride);
  /* Writes the trailer and closes the file. */
  bool close(std::string* error);
  int frames() const { return frames_; }

 private:
  FILE* file_ = nullptr;
  int width_ = 0, height_ = 0, delay_cs_ = 10, frames_ = 0;
  bool failed_ = false;
};

}  // namespace emu
