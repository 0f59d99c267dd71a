/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One run of the element, from start() to stop(), as plain C++: the task
 * (Job), the download of each output into its Spool, the order of several
 * outputs and the offsets of the stream they make, and which Idempotency-Key
 * a run sends, kept in the crash journal (journal.h) until the output is
 * delivered. The element asks it for bytes and hears of the task through a
 * RunObserver; a test can drive a whole run the same way, without a
 * pipeline.
 *
 * Thread safety: wait(), read(), share(), task(), resume_hint() and eos()
 * belong to the thread that streams (one at a time). interrupt(), resume(), size(),
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
#include "journal.h"
#include "spool.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace mv {

/* The crash journal (journal.h). Used only when the user set neither an
 * idempotency key nor a task id. */
struct JournalSettings {
  bool enabled = false; /* the element's `journal` property (default true there) */
  std::string dir;      /* journal_default_dir() in the element */
  int64_t window_s = kJournalWindowS; /* how old an entry may be to be resumed */
};

struct RunSettings {
  JobSettings job; /* job.idempotency_key: the user's; empty lets the run choose */
  uint64_t max_size = 0; /* largest output accepted; 0 for no limit */
  JournalSettings journal;
};

/* The key a run submits with when the user set none and the journal is off
 * or cannot be used, remembered between runs of one element: a restart of the same request (api-url, model,
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
  /* Checks the settings and builds the submission body without network
   * I/O, then chooses the key and the session from `pick_session` (called
   * only for settings that pass). On failure there is no run.
   *
   * The key: the user's; else, with the journal, the one of an unfinished
   * run of the same request (its entry is taken over and locked here, so
   * that no other run resumes it too), or a new one whose entry is written
   * just before the first POST (see on_start), so that a start and stop
   * with no submission leaves nothing behind; else the one `keys`
   * remembers. */
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
  /* The journal entry of an unfinished run this run resumes (its key is
   * this run's), or nullptr. */
  const JournalEntry* resumed() const { return resumed_ ? &*resumed_ : nullptr; }
  /* The element pushed EOS downstream: when the last output was downloaded
   * whole, it is delivered and its journal entry goes. (basesrc ends a
   * stream of known size by itself, without a wait() that says Eos.)
   * Streaming thread. */
  void eos();
  /* Whether a journal entry of this run is on disk, for a rerun to resume.
   * Streaming thread, or once it stopped. */
  bool journaled() const { return held_ != nullptr; }
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

  /* Between the job and the element's observer: keeps the journal entry
   * in step with the task before the element hears of it. */
  class JobHooks final : public JobObserver {
   public:
    explicit JobHooks(Run& run) : run_(run) {}
    void on_start(const std::string& task_id) override;
    void on_task(const TaskInfo& task, bool changed) override;
    void on_warning(const std::string& message) override { run_.observer_.on_warning(message); }

   private:
    Run& run_;
  };

  Run(RunSettings settings, std::string body, std::shared_ptr<HttpSession> http, RunObserver& observer);
  /* Drops the journal entry for good: delivered, or never worth resuming. */
  void forget_entry(const char* why);
  void forget_unresumable(const Error& error);
  Wait start_output(size_t index, Error* error);
  std::shared_ptr<Output> current_output() const;

  const RunSettings settings_;
  const bool all_outputs_;
  std::shared_ptr<HttpSession> http_;
  RunObserver& observer_;
  JobHooks hooks_{*this};
  Canceller cancel_;

  /* The journal, streaming thread only (create() and the destructor
   * aside). No journal_: off, not wanted, or unusable. */
  std::unique_ptr<Journal> journal_;
  std::string fingerprint_;
  std::unique_ptr<HeldEntry> held_; /* this run's entry, locked */
  std::optional<JournalEntry> resumed_;
  std::string journal_warning_; /* told on the streaming thread, at on_start */

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
