/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One owned reference to a GstBuffer, so that who holds a downloaded chunk
 * (the download, the spool's queues, a reader) is written in the types.
 */
#pragma once

#include <gst/gst.h>

#include <utility>

namespace mv {

class BufferRef {
 public:
  BufferRef() = default;
  /* Takes over the caller's reference. */
  static BufferRef adopt(GstBuffer* buffer) { return BufferRef(buffer); }
  BufferRef(const BufferRef& other) : buffer_(other.buffer_ ? gst_buffer_ref(other.buffer_) : nullptr) {}
  BufferRef(BufferRef&& other) noexcept : buffer_(std::exchange(other.buffer_, nullptr)) {}
  BufferRef& operator=(BufferRef other) noexcept {
    std::swap(buffer_, other.buffer_);
    return *this;
  }
  ~BufferRef() {
    if (buffer_)
      gst_buffer_unref(buffer_);
  }

  GstBuffer* get() const { return buffer_; }
  /* Hands the reference to the caller. */
  GstBuffer* release() { return std::exchange(buffer_, nullptr); }
  explicit operator bool() const { return buffer_ != nullptr; }
  size_t size() const { return gst_buffer_get_size(buffer_); }

 private:
  explicit BufferRef(GstBuffer* buffer) : buffer_(buffer) {}
  GstBuffer* buffer_ = nullptr;
};

}  // namespace mv
