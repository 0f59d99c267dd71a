/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The download spool: an unlinked temporary file that the download appends
 * to while readers wait for the range they need. RAM stays flat whatever the
 * output's size, and any byte offset can be served again (BYTES seeks).
 *
 * Chunks are written to the file by a thread of the spool's own, so the
 * download does not wait for the disk. Until a chunk is written, and for
 * the last few after, it stays in memory as the buffer it was downloaded
 * into: a reader that keeps up gets that very buffer, with no copy. At most
 * kMaxQueued bytes wait to be written; past that, append() waits.
 */
#pragma once

#include "buffer.h"
#include "error.h"

#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mv {

class Spool {
 public:
  /* Bytes downloaded but not yet written, at most. */
  static constexpr uint64_t kMaxQueued = 4 * 1024 * 1024;

  /* `log_id`: the element's name, carried by every log line. */
  explicit Spool(std::string log_id = "");
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /* Creates the file in g_get_tmp_dir() and unlinks it at once, so nothing
   * is left behind even if the process dies. */
  bool open(Error* error);
  /* Stops the writer, closes the file and forgets everything. */
  void close();

  /* Download side. Appends the bytes of `chunk`, which the spool then owns;
   * waits while kMaxQueued bytes are still on their way to the disk. Fails
   * once a write to the file failed. */
  bool append(BufferRef chunk, Error* error);
  void set_total(int64_t total);
  /* Allocates the file's blocks for `total` bytes up front: ext4 then
   * skips delayed allocation on every page written (a tenth of the spool
   * thread's CPU time in bench/), and a disk too small for the output fails
   * here rather than after most of the download. False, with the reason,
   * only when the space is not there; a filesystem that cannot preallocate
   * is fine. */
  bool reserve(uint64_t total, Error* error);
  void finish();
  void set_failed(const Error& error);

  /* Reader side. */
  enum class State { Ready, Eos, Failed, Interrupted };
  /* Blocks until `want` bytes from `offset` have been downloaded, or the
   * download has ended or failed, or interrupt() is called. `*available` is
   * the number of bytes readable at `offset` when it returns Ready. */
  State wait(uint64_t offset, uint64_t want, uint64_t* available);
  /* Copies up to `len` downloaded bytes at `offset`, from memory or from the
   * file; returns the count, or -1. */
  int64_t read(uint64_t offset, void* dst, size_t len);
  /* The bytes at `offset` (at most `len`) from a chunk still in memory,
   * sharing its memory; empty when none holds them. */
  BufferRef share(uint64_t offset, uint64_t len);
  void interrupt();
  void clear_interrupt();

  int64_t total() const; /* -1 while unknown */
  uint64_t downloaded() const; /* bytes appended so far (on disk or not yet) */
  Error error() const;

 private:
  struct Chunk {
    uint64_t offset;
    BufferRef buffer;
  };
  void write_loop();
  bool write_chunks(const std::vector<Chunk>& chunks, std::string* error);
  Error write_failure(const std::string& why) const;
  const Chunk* find(uint64_t offset) const; /* under lock_ */
  void drop_memory();                       /* under lock_ */

  mutable std::mutex lock_;
  std::condition_variable cond_; /* readers: more bytes, an end, a failure */
  std::condition_variable disk_; /* the writer and append(): the queue moved */
  const std::string log_id_;
  int fd_ = -1;
  uint64_t downloaded_ = 0;
  uint64_t on_disk_ = 0; /* of which written to the file */
  uint64_t queued_bytes_ = 0;
  int64_t total_ = -1;
  bool complete_ = false;
  bool failed_ = false;
  bool interrupted_ = false;
  bool closing_ = false;
  std::string write_error_;
  Error error_;
  std::deque<Chunk> queue_;  /* downloaded, not yet on disk, oldest first */
  std::deque<Chunk> recent_; /* on disk and still in memory, oldest first */
  std::thread writer_;
};

}  // namespace mv
