/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gif.h"

#include <fcntl.h>
#include <gif_lib.h>
#include <unistd.h>

#include <cerrno>

namespace emu {

namespace {

/* Palette: 6 levels of red x 7 of green x 6 of blue = 252 colours. */
constexpr int kR = 6, kG = 7, kB = 6;
constexpr int kPaletteSize = 256;  // a GIF colour table holds 2^n entries

inline int level(int value, int levels) {
  return (value * (levels - 1) + 127) / 255;
}

std::string gif_error(const std::string& what, int code) {
  const char* text = GifErrorString(code);
  return what + ": " + (text ? text : "giflib error " + std::to_string(code));
}

}  // namespace

GifWriter::~GifWriter() {
  if (gif_)
    EGifCloseFile(gif_, nullptr);
}

bool GifWriter::open(const std::string& path, int width, int height, int delay_cs, std::string* error) {
  if (gif_)
    EGifCloseFile(gif_, nullptr);
  gif_ = nullptr;
  path_ = path;
  frames_ = 0;
  failed_ = false;
  frame_error_.clear();
  width_ = width;
  height_ = height;
  delay_cs_ = delay_cs;
  row_.assign((size_t)width, 0);

  /* EGifOpenFileName() would create the file 0600; open it like every other
   * output (0666 less the umask) and hand giflib the descriptor. */
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = "cannot create " + path + ": " + g_strerror(errno);
    return false;
  }
  int code = E_GIF_SUCCEEDED;
  gif_ = EGifOpenFileHandle(fd, &code);
  if (!gif_) {
    ::close(fd);
    *error = gif_error("cannot create " + path, code);
    return false;
  }
  /* giflib writes "GIF87a" unless told; the extensions below need GIF89a. */
  EGifSetGifVersion(gif_, true);

  GifColorType colours[kPaletteSize] = {};
  for (int i = 0; i < kR * kG * kB; i++) {
    colours[i].Red = (GifByteType)((i / (kG * kB)) * 255 / (kR - 1));
    colours[i].Green = (GifByteType)(((i / kB) % kG) * 255 / (kG - 1));
    colours[i].Blue = (GifByteType)((i % kB) * 255 / (kB - 1));
  }
  ColorMapObject* palette = GifMakeMapObject(kPaletteSize, colours);
  if (!palette) {
    *error = gif_error("cannot write " + path, E_GIF_ERR_NOT_ENOUGH_MEM);
    EGifCloseFile(gif_, nullptr);
    gif_ = nullptr;
    return false;
  }
  /* EGifPutScreenDesc() keeps its own copy of the palette. */
  bool ok = EGifPutScreenDesc(gif_, width, height, 8, 0, palette) == GIF_OK;
  GifFreeMapObject(palette);

  /* NETSCAPE2.0 application extension: loop forever. */
  static const GifByteType kNetscape[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
  static const GifByteType kLoopForever[] = {0x01, 0x00, 0x00};
  ok = ok && EGifPutExtensionLeader(gif_, APPLICATION_EXT_FUNC_CODE) == GIF_OK &&
       EGifPutExtensionBlock(gif_, sizeof kNetscape, kNetscape) == GIF_OK &&
       EGifPutExtensionBlock(gif_, sizeof kLoopForever, kLoopForever) == GIF_OK &&
       EGifPutExtensionTrailer(gif_) == GIF_OK;
  if (!ok) {
    *error = gif_error("cannot write " + path, gif_->Error);
    EGifCloseFile(gif_, nullptr);
    gif_ = nullptr;
    return false;
  }
  return true;
}

bool GifWriter::add_frame_rgbx(const guint8* data, int stride) {
  if (!gif_ || failed_)
    return false;
  /* Graphics control extension: frame delay, no transparency, and each frame
   * left in place (every frame covers the whole screen anyway). */
  GraphicsControlBlock gcb = {};
  gcb.DisposalMode = DISPOSE_DO_NOT;
  gcb.UserInputFlag = false;
  gcb.DelayTime = delay_cs_;
  gcb.TransparentColor = NO_TRANSPARENT_COLOR;
  GifByteType gce[4];
  size_t gce_len = EGifGCBToExtension(&gcb, gce);
  bool ok = EGifPutExtension(gif_, GRAPHICS_EXT_FUNC_CODE, (int)gce_len, gce) == GIF_OK &&
            EGifPutImageDesc(gif_, 0, 0, width_, height_, false, nullptr) == GIF_OK;
  for (int y = 0; ok && y < height_; y++) {
    const guint8* row = data + (size_t)y * stride;
    for (int x = 0; x < width_; x++) {
      const guint8* p = row + x * 4;
      row_[x] = (guint8)(level(p[0], kR) * kG * kB + level(p[1], kG) * kB + level(p[2], kB));
    }
    ok = EGifPutLine(gif_, row_.data(), width_) == GIF_OK;
  }
  if (!ok) {
    failed_ = true;
    frame_error_ = gif_error("cannot write frame " + std::to_string(frames_ + 1) + " of " + path_, gif_->Error);
    return false;
  }
  frames_++;
  return true;
}

bool GifWriter::close(std::string* error) {
  if (!gif_) {
    *error = "GIF file is not open";
    return false;
  }
  /* Writes the trailer, closes the file and frees gif_ whatever happens. */
  int code = E_GIF_SUCCEEDED;
  bool closed = EGifCloseFile(gif_, &code) == GIF_OK;
  gif_ = nullptr;
  if (failed_) {
    *error = frame_error_;
    return false;
  }
  if (!closed) {
    *error = gif_error("cannot finish " + path_, code);
    return false;
  }
  return true;
}

}  // namespace emu
