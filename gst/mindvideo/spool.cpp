/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spool.h"

#include "log.h"
#include "thread.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <vector>

namespace mv {

namespace {
/* Chunks kept in memory once on disk, for a reader slightly behind. */
constexpr size_t kRecentChunks = 8;
/* Chunks written in one system call, at most (IOV_MAX is far above). */
constexpr size_t kMaxBatch = 16;
}  // namespace

Spool::Spool(std::string log_id) : log_id_(std::move(log_id)) {}

Spool::~Spool() {
  close();
}

Error Spool::write_failure(const std::string& why) const {
  Error e;
  e.kind = Error::Kind::Write;
  e.message = why;
  return e;
}

bool Spool::open(Error* error) {
  close();
  g_autofree gchar* path = nullptr;
  g_autoptr(GError) err = nullptr;
  int fd = g_file_open_tmp("mindvideosrc-XXXXXX", &path, &err);
  if (fd < 0) {
    *error = write_failure(std::string("cannot create a spool file: ") + err->message);
    return false;
  }
  g_unlink(path);
  MV_DEBUG_ID(log_id_, "spool file opened in %s", g_get_tmp_dir());
  {
    std::lock_guard<std::mutex> guard(lock_);
    fd_ = fd;
    closing_ = false;
  }
  writer_ = named_thread("mv-spool", [this] { write_loop(); });
  return true;
}

void Spool::close() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    closing_ = true;
  }
  disk_.notify_all();
  cond_.notify_all();
  if (writer_.joinable())
    writer_.join();
  std::lock_guard<std::mutex> guard(lock_);
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  recent_.clear();
  queue_.clear();
  have_.clear();
  queued_bytes_ = 0;
  total_ = -1;
  complete_ = failed_ = false;
  write_error_.clear();
  error_ = Error();
}

bool Spool::write(uint64_t offset, BufferRef chunk, Error* error) {
  const uint64_t size = chunk.size();
  {
    std::unique_lock<std::mutex> guard(lock_);
    /* Back-pressure: a disk slower than the network must not fill RAM. */
    disk_.wait(guard, [this] { return queued_bytes_ < kMaxQueued || closing_ || !write_error_.empty(); });
    if (!write_error_.empty() || closing_) {
      *error = write_failure(write_error_.empty() ? "the spool is closed" : write_error_);
      return false;
    }
    queue_.push_back({offset, std::move(chunk)});
    queued_bytes_ += size;
    have_.add(offset, offset + size);
    complete_if_covered();
  }
  disk_.notify_all();
  cond_.notify_all();
  return true;
}

void Spool::complete_if_covered() {
  if (!complete_ && total_ >= 0 && have_.covers((uint64_t)total_)) {
    complete_ = true;
    MV_DEBUG_ID(log_id_, "spool complete: %" G_GINT64_FORMAT " bytes in %zu write(s) queued or done", total_,
                queue_.size() + recent_.size());
  }
}

/* Writes consecutive chunks at their offsets in one system call; called by
 * the writer thread only. Buffered: a reader that fell behind the chunks
 * kept in memory then reads the page cache, not the disk. */
bool Spool::write_chunks(const std::vector<Chunk>& chunks, std::string* error) {
  std::vector<GstMapInfo> maps(chunks.size());
  std::vector<struct iovec> iov(chunks.size());
  size_t mapped = 0;
  bool ok = true;
  for (; mapped < chunks.size(); mapped++) {
    if (!gst_buffer_map(chunks[mapped].buffer.get(), &maps[mapped], GST_MAP_READ)) {
      *error = "cannot map a downloaded chunk to write it to the spool file";
      ok = false;
      break;
    }
    iov[mapped] = {maps[mapped].data, maps[mapped].size};
  }
  size_t first = 0; /* the first iovec not written in full */
  off_t at = (off_t)chunks.front().offset;
  while (ok && first < iov.size()) {
    ssize_t n = pwritev(fd_, iov.data() + first, (int)(iov.size() - first), at);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *error = std::string("cannot write the spool file in ") + g_get_tmp_dir() + ": " + g_strerror(errno);
      ok = false;
      break;
    }
    at += n;
    /* A short write: skip what went out, and go on with the rest. */
    while (first < iov.size() && (size_t)n >= iov[first].iov_len)
      n -= (ssize_t)iov[first++].iov_len;
    if (first < iov.size()) {
      iov[first].iov_base = (char*)iov[first].iov_base + n;
      iov[first].iov_len -= (size_t)n;
    }
  }
  for (size_t i = 0; i < mapped; i++)
    gst_buffer_unmap(chunks[i].buffer.get(), &maps[i]);
  return ok;
}

void Spool::write_loop() {
  std::unique_lock<std::mutex> guard(lock_);
  for (;;) {
    disk_.wait(guard, [this] { return !queue_.empty() || closing_; });
    if (closing_)
      return;
    /* The oldest chunks that follow each other in the file, in one write.
     * They stay queued (and readable from memory) meanwhile. */
    std::vector<Chunk> batch{queue_.front()};
    while (batch.size() < MIN(queue_.size(), kMaxBatch) &&
           queue_[batch.size()].offset == batch.back().offset + batch.back().buffer.size())
      batch.push_back(queue_[batch.size()]);
    guard.unlock();
    std::string error;
    bool ok = write_chunks(batch, &error);
    guard.lock();
    if (!ok) {
      MV_WARNING_ID(log_id_, "%s", error.c_str());
      write_error_ = error;
      disk_.notify_all();
      return;
    }
    for (size_t i = 0; i < batch.size(); i++) {
      /* The batch holds references of its own: move the queue's. */
      Chunk chunk = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= chunk.buffer.size();
      recent_.push_back(std::move(chunk));
      if (recent_.size() > kRecentChunks)
        recent_.pop_front();
    }
    disk_.notify_all();
  }
}

const Spool::Chunk* Spool::find(uint64_t offset) const {
  for (const auto* list : {&recent_, &queue_})
    for (const Chunk& c : *list)
      if (offset >= c.offset && offset < c.offset + c.buffer.size())
        return &c;
  return nullptr;
}

uint64_t Spool::next_queued(uint64_t offset) const {
  uint64_t next = UINT64_MAX;
  for (const Chunk& c : queue_)
    if (c.offset > offset)
      next = MIN(next, c.offset);
  return next;
}

BufferRef Spool::share(uint64_t offset, uint64_t len) {
  std::lock_guard<std::mutex> guard(lock_);
  const Chunk* c = find(offset);
  if (!c)
    return BufferRef();
  const uint64_t size = c->buffer.size();
  if (offset == c->offset && len >= size)
    return c->buffer;
  return BufferRef::adopt(gst_buffer_copy_region(c->buffer.get(), GST_BUFFER_COPY_MEMORY, offset - c->offset,
                                                 MIN(len, c->offset + size - offset)));
}

void Spool::set_total(int64_t total) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    total_ = total;
    complete_if_covered();
  }
  cond_.notify_all();
}

bool Spool::reserve(uint64_t total, Error* error) {
  int fd;
  {
    std::lock_guard<std::mutex> guard(lock_);
    fd = fd_;
  }
  if (fd < 0 || total == 0)
    return true;
  /* KEEP_SIZE: the file still grows as bytes arrive, so nothing reads
   * reserved zeros as data. Blocks already written are left as they are. */
  if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)total) == 0)
    return true;
  const int e = errno;
  if (e != ENOSPC && e != EDQUOT && e != EFBIG)
    return true; /* EOPNOTSUPP and the like: writes allocate as they go */
  *error = write_failure(std::string("not enough space in ") + g_get_tmp_dir() + " to spool the output (" +
                         std::to_string(total) + " bytes): " + g_strerror(e) + "; set TMPDIR to a larger disk");
  return false;
}

void Spool::finish() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    total_ = (int64_t)have_.next_missing(0);
    complete_ = true;
  }
  MV_DEBUG_ID(log_id_, "spool complete at the end of a download of unknown size");
  cond_.notify_all();
}

uint64_t Spool::next_present(uint64_t offset, uint64_t limit) const {
  std::lock_guard<std::mutex> guard(lock_);
  return have_.next_present(offset, limit);
}

uint64_t Spool::next_missing(uint64_t offset) const {
  std::lock_guard<std::mutex> guard(lock_);
  return have_.next_missing(offset);
}

std::optional<uint64_t> Spool::next_unclaimed(uint64_t from,
                                              const std::vector<std::pair<uint64_t, uint64_t>>& claimed) const {
  std::lock_guard<std::mutex> guard(lock_);
  if (total_ < 0)
    return std::nullopt;
  return mv::next_unclaimed(have_, (uint64_t)total_, from, claimed);
}

bool Spool::complete() const {
  std::lock_guard<std::mutex> guard(lock_);
  return complete_;
}

void Spool::set_failed(const Error& error) {
  {
    std::lock_guard<std::mutex> guard(lock_);
    failed_ = true;
    error_ = error;
  }
  cond_.notify_all();
}

Spool::State Spool::wait(uint64_t offset, uint64_t want, uint64_t* available, int64_t timeout_ms) {
  std::unique_lock<std::mutex> guard(lock_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(MAX(timeout_ms, 0));
  for (;;) {
    if (interrupted_ || closing_)
      return State::Interrupted;
    /* Bytes already there are served even after a failure: the error is
     * reported when the reader needs a byte that never came. */
    const uint64_t there = have_.contiguous_from(offset);
    const bool to_the_end = total_ >= 0 && offset + there >= (uint64_t)total_;
    if (there > 0 && (there >= want || to_the_end || complete_ || failed_)) {
      *available = there;
      return State::Ready;
    }
    if (total_ >= 0 && offset >= (uint64_t)total_)
      return State::Eos;
    if (failed_)
      return State::Failed;
    if (timeout_ms < 0)
      cond_.wait(guard);
    else if (cond_.wait_until(guard, deadline) == std::cv_status::timeout)
      return State::Pending;
  }
}

int64_t Spool::read(uint64_t offset, void* dst, size_t len) {
  size_t done = 0;
  while (done < len) {
    const uint64_t at = offset + done;
    int fd;
    size_t n;
    {
      std::lock_guard<std::mutex> guard(lock_);
      /* In memory: copy from the chunk, whether or not it is on disk yet. */
      if (const Chunk* c = find(at)) {
        n = (size_t)MIN((uint64_t)(len - done), c->offset + c->buffer.size() - at);
        gst_buffer_extract(c->buffer.get(), at - c->offset, (char*)dst + done, n);
        done += n;
        continue;
      }
      /* Not in memory: on disk, up to where the bytes or the written ones
       * end (a chunk still queued is not in the file yet). */
      n = (size_t)MIN(MIN((uint64_t)(len - done), have_.contiguous_from(at)), next_queued(at) - at);
      fd = fd_;
    }
    if (n == 0)
      break;
    ssize_t got = pread(fd, (char*)dst + done, n, (off_t)at);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return done ? (int64_t)done : -1;
    done += (size_t)got;
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

uint64_t Spool::downloaded() const {
  std::lock_guard<std::mutex> guard(lock_);
  return have_.size();
}

Error Spool::error() const {
  std::lock_guard<std::mutex> guard(lock_);
  return error_;
}

}  // namespace mv
