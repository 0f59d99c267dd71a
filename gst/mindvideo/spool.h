/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The download spool: an unlinked temporary file, sparse while the output
 * arrives, plus the set of byte ranges already downloaded. Fetches store
 * bytes at their offsets while readers wait for the range they need. RAM
 * stays flat whatever the output's size, and any byte offset can be served
 * again (BYTES seeks). The spool is complete once every byte of the output
 * is there; then the whole output is on disk.
 *
 * Chunks are written to the file by a thread of the spool's own, so the
 * download does not wait for the disk. Until a chunk is written, and for
 * the last few after, it stays in memory as the buffer it was downloaded
 * into: a reader that keeps up gets that very buffer, with no copy. At most
 * kMaxQueued bytes wait to be written; past that, write() waits.
 */
#pragma once

#include "buffer.h"
#include "error.h"
#include "ranges.h"

#include <gst/gst.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
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

  /* Download side. Stores the bytes of `chunk` at `offset`; the spool then
   * owns it. Bytes already there may come again (two fetches met): the
   * output is the same file, so they are the same bytes. Waits while
   * kMaxQueued bytes are still on their way to the disk. Fails once a write
   * to the file failed. Completes the spool when the last missing byte of
   * an output of known size arrives. */
  bool write(uint64_t offset, BufferRef chunk, Error* error);
  void set_total(int64_t total);
  /* Allocates the file's blocks for `total` bytes up front: ext4 then
   * skips delayed allocation on every page written (a tenth of the spool
   * thread's CPU time in bench/), and a disk too small for the output fails
   * here rather than after most of the download. False, with the reason,
   * only when the space is not there; a filesystem that cannot preallocate
   * is fine. */
  bool reserve(uint64_t total, Error* error);
  /* The download of an output of unknown size ended: what is there is all. */
  void finish();
  void set_failed(const Error& error);

  /* Fetch side: where bytes are. `limit` caps next_present(). */
  uint64_t next_present(uint64_t offset, uint64_t limit) const;
  uint64_t next_missing(uint64_t offset) const;
  /* mv::next_unclaimed() over the spool's ranges and size. */
  std::optional<uint64_t> next_unclaimed(uint64_t from,
                                         const std::vector<std::pair<uint64_t, uint64_t>>& claimed) const;
  bool complete() const;

  /* Reader side. */
  enum class State { Ready, Eos, Failed, Interrupted, Pending };
  /* Blocks until `want` bytes from `offset` are there (fewer at the end of
   * the output), or the output has ended or failed, or interrupt() is
   * called, or `timeout_ms` (-1: none) passed (Pending). `*available` is
   * the number of bytes readable at `offset` when it returns Ready. */
  State wait(uint64_t offset, uint64_t want, uint64_t* available, int64_t timeout_ms = -1);
  /* Copies up to `len` bytes at `offset` that are there, from memory or
   * from the file; returns the count, or -1. */
  int64_t read(uint64_t offset, void* dst, size_t len);
  /* The bytes at `offset` (at most `len`) from a chunk still in memory,
   * sharing its memory; empty when none holds them. */
  BufferRef share(uint64_t offset, uint64_t len);
  void interrupt();
  void clear_interrupt();

  int64_t total() const; /* -1 while unknown */
  uint64_t downloaded() const; /* bytes there so far, wherever they are */
  Error error() const;

 private:
  struct Chunk {
    uint64_t offset;
    BufferRef buffer;
  };
  void write_loop();
  bool write_chunks(const std::vector<Chunk>& chunks, std::string* error);
  Error write_failure(const std::string& why) const;
  const Chunk* find(uint64_t offset) const;     /* under lock_ */
  uint64_t next_queued(uint64_t offset) const;  /* under lock_ */
  void complete_if_covered();                   /* under lock_ */

  const std::string log_id_;
  mutable std::mutex lock_;
  std::condition_variable cond_; /* readers: more bytes, an end, a failure */
  std::condition_variable disk_; /* the writer and write(): the queue moved */
  int fd_ = -1;
  RangeSet have_; /* every byte stored, in memory or on disk */
  uint64_t queued_bytes_ = 0;
  int64_t total_ = -1;
  bool complete_ = false;
  bool failed_ = false;
  bool interrupted_ = false;
  bool closing_ = false;
  std::string write_error_;
  Error error_;
  std::deque<Chunk> queue_;  /* stored, not yet on disk, oldest first */
  std::deque<Chunk> recent_; /* on disk and still in memory, oldest first */
  std::thread writer_;
};

}  // namespace mv
