/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gif.h"

#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace emu {

namespace {

/* Palette: 6 levels of red x 7 of green x 6 of blue = 252 colours. */
constexpr int kR = 6, kG = 7, kB = 6;

inline int level(int value, int levels) {
  return (value * (levels - 1) + 127) / 255;
}

/* LSB-first bit packer emitting GIF data sub-blocks (at most 255 bytes each). */
class BitWriter {
 public:
  explicit BitWriter(std::vector<guint8>* out) : out_(out) {}
  void write(unsigned code, int bits) {
    acc_ |= (guint32)code << nbits_;
    nbits_ += bits;
    while (nbits_ >= 8) {
      push((guint8)(acc_ & 0xff));
      acc_ >>= 8;
      nbits_ -= 8;
    }
  }
  void finish() {
    if (nbits_ > 0)
      push((guint8)(acc_ & 0xff));
    acc_ = 0;
    nbits_ = 0;
    flush_block();
    out_->push_back(0);  // block terminator
  }

 private:
  void push(guint8 byte) {
    block_[block_len_++] = byte;
    if (block_len_ == 255)
      flush_block();
  }
  void flush_block() {
    if (block_len_ == 0)
      return;
    out_->push_back((guint8)block_len_);
    out_->insert(out_->end(), block_, block_ + block_len_);
    block_len_ = 0;
  }
  std::vector<guint8>* out_;
  guint32 acc_ = 0;
  int nbits_ = 0;
  guint8 block_[255];
  int block_len_ = 0;
};

/* Variable-length LZW with 8-bit minimum code size, as GIF decoders expect:
 * the code width grows when the next free code reaches 2^width, and the
 * table is reset with a clear code before it would exceed 4095 entries. */
void lzw_encode(const std::vector<guint8>& pixels, std::vector<guint8>* out) {
  const unsigned kClear = 256, kEnd = 257;
  BitWriter bits(out);
  std::unordered_map<guint32, unsigned> table;
  table.reserve(8192);
  int width = 9;
  unsigned max_code = kEnd;
  bits.write(kClear, width);
  int cur = -1;
  for (guint8 px : pixels) {
    if (cur < 0) {
      cur = px;
      continue;
    }
    guint32 key = ((guint32)cur << 8) | px;
    auto it = table.find(key);
    if (it != table.end()) {
      cur = (int)it->second;
      continue;
    }
    bits.write((unsigned)cur, width);
    table.emplace(key, ++max_code);
    if (max_code >= (1u << width))
      width++;
    if (max_code == 4095) {
      bits.write(kClear, width);
      table.clear();
      width = 9;
      max_code = kEnd;
    }
    cur = px;
  }
  if (cur >= 0) {
    bits.write((unsigned)cur, width);
    /* The decoder adds one more table entry on reading that last code. */
    if (max_code + 1 >= (1u << width) && width < 12)
      width++;
  }
  bits.write(kEnd, width);
  bits.finish();
}

void put16(std::vector<guint8>* out, int v) {
  out->push_back((guint8)(v & 0xff));
  out->push_back((guint8)((v >> 8) & 0xff));
}

}  // namespace

GifWriter::~GifWriter() {
  if (file_)
    fclose(file_);
}

bool GifWriter::open(const std::string& path, int width, int height, int delay_cs, std::string* error) {
  if (file_)
    fclose(file_);
  frames_ = 0;
  failed_ = false;
  file_ = fopen(path.c_str(), "wb");
  if (!file_) {
    *error = "cannot create " + path + ": " + g_strerror(errno);
    return false;
  }
  width_ = width;
  height_ = height;
  delay_cs_ = delay_cs;
  std::vector<guint8> head;
  const char magic[] = "GIF89a";
  head.insert(head.end(), magic, magic + 6);
  put16(&head, width);
  put16(&head, height);
  head.push_back(0xF7);  // global colour table of 256 entries, 8-bit colour resolution
  head.push_back(0);     // background colour index
  head.push_back(0);     // square pixels
  for (int i = 0; i < 256; i++) {
    int r = 0, g = 0, b = 0;
    if (i < kR * kG * kB) {
      r = (i / (kG * kB)) * 255 / (kR - 1);
      g = ((i / kB) % kG) * 255 / (kG - 1);
      b = (i % kB) * 255 / (kB - 1);
    }
    head.push_back((guint8)r);
    head.push_back((guint8)g);
    head.push_back((guint8)b);
  }
  /* NETSCAPE2.0 application extension: loop forever. */
  const guint8 loop[] = {0x21, 0xFF, 0x0B, 'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0', 0x03, 0x01, 0x00, 0x00, 0x00};
  head.insert(head.end(), loop, loop + sizeof loop);
  if (fwrite(head.data(), 1, head.size(), file_) != head.size()) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

bool GifWriter::add_frame_rgbx(const guint8* data, int stride) {
  if (!file_ || failed_)
    return false;
  std::vector<guint8> indices((size_t)width_ * height_);
  for (int y = 0; y < height_; y++) {
    const guint8* row = data + (size_t)y * stride;
    for (int x = 0; x < width_; x++) {
      const guint8* p = row + x * 4;
      indices[(size_t)y * width_ + x] = (guint8)(level(p[0], kR) * kG * kB + level(p[1], kG) * kB + level(p[2], kB));
    }
  }
  std::vector<guint8> out;
  out.reserve(indices.size() / 2);
  /* Graphic control extension: no transparency, frame delay. */
  const guint8 gce[] = {0x21, 0xF9, 0x04, 0x04, (guint8)(delay_cs_ & 0xff), (guint8)(delay_cs_ >> 8), 0x00, 0x00};
  out.insert(out.end(), gce, gce + sizeof gce);
  out.push_back(0x2C);  // image descriptor, full frame, no local palette
  put16(&out, 0);
  put16(&out, 0);
  put16(&out, width_);
  put16(&out, height_);
  out.push_back(0);
  out.push_back(8);  // LZW minimum code size
  lzw_encode(indices, &out);
  if (fwrite(out.data(), 1, out.size(), file_) != out.size()) {
    failed_ = true;
    return false;
  }
  frames_++;
  return true;
}

bool GifWriter::close(std::string* error) {
  if (!file_) {
    *error = "GIF file is not open";
    return false;
  }
  bool ok = !failed_ && fputc(0x3B, file_) != EOF;
  ok = (fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok)
    *error = "writing the GIF failed";
  return ok;
}

}  // namespace emu
