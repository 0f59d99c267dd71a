/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One run of the element, from start() to stop(), as plain C++: the task
 * (Job), the download of each output into its Spool, the order of several
 * outputs and the offsets of the stream they make, and which Idempotency-Key
 * a run sends. The element asks it for bytes and hears of the task through a
 * RunObserver; a test can drive a whole run the same way, without a
 * pipeline.
 *
 * Thread safety: wait(), read(), share(), task() and resume_hint() belong to
 * the thread that streams (one at a time). interrupt(), resume(), size(),
 * seekable() and output_url() may be called from any thread. Observer calls
 * come from the streaming thread.
 */
#pragma once

#include "buffer.h"
#include "cancel.h"
#include "download.h"
#include "error.h"
#include "http.h"
#include "job.h"
#include "spool.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace mv {

struct RunSettings {
  JobSettings job; /* job.idempotency_key: the user's; empty lets the run choose */
  uint64_t max_size = 0; /* largest output accepted; 0 for no limit */
};

/* The key a run submits with when the user set none, remembered between
 * runs of one element: a restart of the same request (api-url, model,
 * prompt, input) reuses it, so the server hands back the task it already
 * charged for instead of making a second one. */
class KeyMemory {
 public:
  /* The key for `settings`: the user's when set, none when attaching to a
   * task, else the remembered one for the same request or a new one. */
  std::string key_for(const JobSettings& settings);

 private:
  std::string key_;
  std::string request_;
};

class RunObserver : public JobObserver {
 public:
  /* The task succeeded: its outputs are about to be downloaded. */
  virtual void on_ready(const TaskInfo& task) = 0;
  /* Output `index` of the ones streamed (0 unless output-index is -1)
   * starts downloading from `url`. */
  virtual void on_output(size_t index, const std::string& url) = 0;
};

class Run {
 public:
  /* Checks the settings and builds the submission body without any I/O,
   * then chooses the key from `keys` and the session from `pick_session`
   * (called only for settings that pass). On failure there is no run. */
  static std::unique_ptr<Run> create(RunSettings settings, KeyMemory& keys,
                                     const std::function<std::shared_ptr<HttpSession>()>& pick_session,
                                     RunObserver& observer, Error* error);
  /* Stops the download threads and forgets the spooled bytes. */
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  enum class Wait { Ready, Eos, Flushing, Error };
  /* Blocks until `want` bytes from stream `offset` are downloaded (fewer at
   * the end of the output): Ready with `*available` bytes readable there.
   * The first call runs the task to its output (submit, poll). With every
   * output (output-index -1) the stream is the outputs one after the other,
   * and a wait past the end of one moves to the next. Flushing after
   * interrupt(); Error with `*error` set. */
  Wait wait(uint64_t offset, uint64_t want, uint64_t* available, Error* error);
  /* Copies up to `len` bytes at stream `offset` once wait() said they are
   * there; returns the count, or -1. */
  int64_t read(uint64_t offset, void* dst, size_t len);
  /* The bytes at stream `offset` (at most `len`) as the buffer they were
   * downloaded into, without a copy, when it is still in memory. */
  BufferRef share(uint64_t offset, uint64_t len);
  /* Whether the next buffer starts a new output (once per output after the
   * first): it marks a discontinuity. */
  bool take_discont();

  /* Wakes every wait (the task's and the spool's) with Flushing, and keeps
   * them from blocking until resume(). The run carries on after resume(). */
  void interrupt();
  void resume();

  /* The size of the streamed output, -1 while unknown and with every output. */
  int64_t size() const;
  /* Whether any offset can be read: the size is known and only one output is
   * streamed. */
  bool seekable() const;
  /* Which output is streaming, and the stream offset where it starts. */
  size_t output() const { return current_; }
  uint64_t output_offset() const { return base_; }
  bool all_outputs() const { return all_outputs_; }
  std::string output_url() const;

  const std::string& idempotency_key() const { return settings_.job.idempotency_key; }
  const TaskInfo& task() const { return job_->task(); }
  std::string resume_hint() const { return job_->resume_hint(); }
  /* An error about this run's task. */
  Error task_error(Error::Kind kind, const std::string& message) const;

 private:
  /* One output on its way: its spool and the download into it. */
  struct Output {
    Output(const std::string& log_id) : spool(log_id) {}
    Spool spool;
    std::unique_ptr<Downloader> download; /* after the spool: it writes there */
  };

  Run(RunSettings settings, std::string body, std::shared_ptr<HttpSession> http, RunObserver& observer);
  Wait start_output(size_t index, Error* error);
  std::shared_ptr<Output> current_output() const;

  const RunSettings settings_;
  const bool all_outputs_;
  std::shared_ptr<HttpSession> http_;
  RunObserver& observer_;
  Canceller cancel_;
  std::unique_ptr<Job> job_;

  /* Streaming thread only. */
  bool ready_ = false;   /* the task succeeded and output 0 is downloading */
  size_t current_ = 0;   /* which of job_->output_urls() streams */
  uint64_t base_ = 0;    /* stream offset where it starts */
  bool discont_ = false; /* a new output started */

  /* The output streaming now, under lock_: other threads interrupt it and
   * ask its size. */
  mutable std::mutex lock_;
  std::shared_ptr<Output> output_;
  std::string output_url_;
  bool interrupted_ = false;
};

}  // namespace mv
