/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The download spool: an unlinked temporary file that one writer appends to
 * while readers wait for the range they need. RAM stays flat whatever the
 * output's size, and any byte offset can be served again (BYTES seeks).
 */
#pragma once

#include "error.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace mv {

class Spool {
 public:
  Spool() = default;
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  /* Creates the file in g_get_tmp_dir() and unlinks it at once, so nothing
   * is left behind even if the process dies. */
  bool open(std::string* error);
  /* Closes the file and forgets everything. */
  void close();

  /* Writer side. */
  bool append(const char* data, size_t len, std::string* error);
  void set_total(int64_t total);
  void finish();
  void set_failed(const Error& error);

  /* Reader side. */
  enum class State { Ready, Eos, Failed, Interrupted };
  /* Blocks until `want` bytes from `offset` are on disk, or the download has
   * ended or failed, or interrupt() is called. `*available` is the number of
   * bytes readable at `offset` when it returns Ready. */
  State wait(uint64_t offset, uint64_t want, uint64_t* available);
  /* Reads up to `len` bytes at `offset`; returns the count, or -1. */
  int64_t read(uint64_t offset, void* dst, size_t len);
  void interrupt();
  void clear_interrupt();

  int64_t total() const; /* -1 while unknown */
  uint64_t written() const;
  Error error() const;

 private:
  mutable std::mutex lock_;
  std::condition_variable cond_;
  int fd_ = -1;
  uint64_t written_ = 0;
  int64_t total_ = -1;
  bool complete_ = false;
  bool failed_ = false;
  bool interrupted_ = false;
  Error error_;
};

}  // namespace mv
