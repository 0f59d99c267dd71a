/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Animated GIF89a output on giflib. Debian 12's gst-libav registers no
 * avenc_gif (and no GIF muxer), so frames rendered by a GStreamer pipeline are
 * mapped here onto a fixed 6x7x6 colour cube (no per-frame quantisation) and
 * giflib writes the file: screen descriptor, NETSCAPE2.0 looping, a graphics
 * control extension with the delay per frame, and the LZW image data.
 */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

struct GifFileType;  // giflib's <gif_lib.h>, included by gif.cpp only

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
  /* Writes the trailer and closes the file; reports the first error of
   * add_frame_rgbx() too. */
  bool close(std::string* error);
  int frames() const { return frames_; }

 private:
  GifFileType* gif_ = nullptr;
  std::string path_;
  std::vector<guint8> row_;  // one row of palette indices
  int width_ = 0, height_ = 0, delay_cs_ = 10, frames_ = 0;
  bool failed_ = false;
  std::string frame_error_;
};

}  // namespace emu
