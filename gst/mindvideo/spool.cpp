/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spool.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace mv {

Spool::~Spool() {
  close();
}

bool Spool::open(std::string* error) {
  close();
  gchar* path = nullptr;
  GError* err = nullptr;
  int fd = g_file_open_tmp("mindvideosrc-XXXXXX", &path, &err);
  if (fd < 0) {
    *error = std::string("cannot create a spool file: ") + err->message;
    g_error_free(err);
    return false;
  }
  g_unlink(path);
  g_free(path);
  std::lock_guard<std::mutex> guard(lock_);
  fd_ = fd;
  return true;
}

void Spool::close() {
  std::lock_guard<std::mutex> guard(lock_);
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  written_ = 0;
  total_ = -1;
  complete_ = failed_ = false;
  error_ = Error();
}

bool Spool::append(const char* data, size_t len, std::string* error) {
  int fd;
  uint64_t at;
  {
    std::lock_guard<std::mutex> guard(lock_);
    fd = fd_;
    at = written_;
  }
  /* Only this thread writes, so the file offset needs no lock; readers use
   * pread and only look below written_. */
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, data + done, len - done, (off_t)(at + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *error = std::string("cannot write the spool file in ") + g_get_tmp_dir() + ": " + g_strerror(errno);
      return false;
    }
    done += (size_t)n;
  }
  {
    std::lock_guard<std::mutex> guard(lock_);
    written_ += len;
  }
  cond_.notify_all();
  return true;
}

void Spool::set_total(int64_t total) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    total_ = total;
  }
  cond_.notify_all();
}

void Spool::finish() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    complete_ = true;
    total_ = (int64_t)written_;
  }
  cond_.notify_all();
}

void Spool::set_failed(const Error& error) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    failed_ = true;
    error_ = error;
  }
  cond_.notify_all();
}

Spool::State Spool::wait(uint64_t offset, uint64_t want, uint64_t* available) {
  std::unique_lock<std::mutex> guard(lock_);
  for (;;) {
    if (interrupted_)
      return State::Interrupted;
    /* Bytes already on disk are served even after a failure: the error is
     * reported when the reader needs a byte that never came. */
    if (written_ > offset && (written_ - offset >= want || complete_ || failed_)) {
      *available = written_ - offset;
      return State::Ready;
    }
    if (complete_ || (total_ >= 0 && offset >= (uint64_t)total_ && written_ >= (uint64_t)total_))
      return State::Eos;
    if (failed_)
      return State::Failed;
    cond_.wait(guard);
  }
}

int64_t Spool::read(uint64_t offset, void* dst, size_t len) {
  int fd;
  {
    std::lock_guard<std::mutex> guard(lock_);
    fd = fd_;
  }
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, (char*)dst + done, len - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : (int64_t)done;
    done += (size_t)n;
  }
  return (int64_t)done;
}

void Spool::interrupt() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    interrupted_ = true;
  }
  cond_.notify_all();
}

void Spool::clear_interrupt() {
  std::lock_guard<std::mutex> guard(lock_);
  interrupted_ = false;
}

int64_t Spool::total() const {
  std::lock_guard<std::mutex> guard(lock_);
  return total_;
}

uint64_t Spool::written() const {
  std::lock_guard<std::mutex> guard(lock_);
  return written_;
}

Error Spool::error() const {
  std::lock_guard<std::mutex> guard(lock_);
  return error_;
}

}  // namespace mv
