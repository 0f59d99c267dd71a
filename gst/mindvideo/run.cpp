/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "run.h"

#include "api.h"
#include "log.h"

namespace mv {

namespace {
/* How often a waiting reader looks at the fetches again. */
constexpr int64_t kReplanMs = 100;
}  // namespace

std::string KeyMemory::key_for(const JobSettings& s) {
  if (!s.task_id.empty())
    return ""; /* attaching: nothing is submitted */
  if (!s.idempotency_key.empty())
    return s.idempotency_key;
  const std::string request = s.api_url + '\n' + s.request.model + '\n' + s.request.prompt + '\n' + s.request.input;
  if (key_.empty() || request_ != request) {
    key_ = new_idempotency_key();
    request_ = request;
  } else {
    MV_DEBUG_ID(s.log_id, "same request as the previous run: submitting with its key again");
  }
  return key_;
}

std::unique_ptr<Run> Run::create(RunSettings settings, KeyMemory& keys,
                                 const std::function<std::shared_ptr<HttpSession>()>& pick_session,
                                 RunObserver& observer, Error* error) {
  std::string body;
  if (!Job::check_settings(settings.job, &body, error))
    return nullptr;
  JobSettings& job = settings.job;
  const std::string& log_id = job.log_id;

  /* With a key or a task id of their own, users manage resuming. */
  std::unique_ptr<Journal> journal;
  std::unique_ptr<HeldEntry> held;
  std::string fingerprint, warning;
  if (settings.journal.enabled && job.idempotency_key.empty() && job.task_id.empty()) {
    std::string why;
    journal = Journal::open(settings.journal.dir, &why);
    if (journal) {
      fingerprint = journal_fingerprint(job.api_url, job.request.model, body);
      held = journal->take_over(fingerprint, g_get_real_time() / G_USEC_PER_SEC, settings.journal.window_s, log_id);
    } else {
      /* Never a reason to fail the run: it goes on as without a journal. */
      warning = "The journal cannot be used (" + why +
                "): if this process dies, a rerun pays again unless it sets the idempotency-key of this run";
      MV_WARNING_ID(log_id, "%s", warning.c_str());
    }
  }
  std::optional<JournalEntry> resumed;
  if (held) {
    resumed = held->entry();
    job.idempotency_key = resumed->idempotency_key;
    MV_INFO_ID(log_id, "journal: resuming the unfinished run of %s (task %s, key %s)",
               journal_time_text(resumed->created_s).c_str(),
               resumed->task_id.empty() ? "unknown" : resumed->task_id.c_str(), job.idempotency_key.c_str());
  } else if (journal) {
    /* A delivered request run again is a new generation: a new key. */
    job.idempotency_key = new_idempotency_key();
  } else {
    job.idempotency_key = keys.key_for(job);
  }

  auto run = std::unique_ptr<Run>(new Run(std::move(settings), std::move(body), pick_session(), observer));
  run->journal_ = std::move(journal);
  run->fingerprint_ = std::move(fingerprint);
  run->held_ = std::move(held);
  run->resumed_ = std::move(resumed);
  run->journal_warning_ = std::move(warning);
  return run;
}

Run::Run(RunSettings settings, std::string body, std::shared_ptr<HttpSession> http, RunObserver& observer)
    : settings_(std::move(settings)),
      all_outputs_(settings_.job.output_index < 0),
      http_(std::move(http)),
      observer_(observer),
      job_(std::make_unique<Job>(settings_.job, std::move(body), *http_, cancel_, hooks_)) {}

/* Just before the first POST: the entry goes to disk before the request it
 * is about, so that no crash can lose the key of a paid task. */
void Run::JobHooks::on_start(const std::string& task_id) {
  Run& r = run_;
  const std::string& log_id = r.settings_.job.log_id;
  if (r.journal_ && !r.held_ && task_id.empty()) {
    JournalEntry entry;
    entry.fingerprint = r.fingerprint_;
    entry.idempotency_key = r.settings_.job.idempotency_key;
    entry.created_s = g_get_real_time() / G_USEC_PER_SEC;
    std::string why;
    r.held_ = r.journal_->create(entry, &why);
    if (r.held_) {
      MV_DEBUG_ID(log_id, "journal: wrote the entry of key %s in %s", entry.idempotency_key.c_str(),
                  r.journal_->dir().c_str());
    } else {
      r.journal_warning_ = "The journal entry could not be written (" + why +
                           "): if this process dies, a rerun pays again unless it sets idempotency-key=" +
                           entry.idempotency_key;
      MV_WARNING_ID(log_id, "%s", r.journal_warning_.c_str());
      r.journal_.reset();
    }
  }
  if (!r.journal_warning_.empty()) {
    r.observer_.on_warning(r.journal_warning_);
    r.journal_warning_.clear();
  }
  r.observer_.on_start(task_id);
}

void Run::JobHooks::on_task(const TaskInfo& task, bool changed) {
  Run& r = run_;
  if (r.held_) {
    if (task.status == TaskStatus::Failed || task.status == TaskStatus::Cancelled) {
      /* A rerun must be able to try again, with a new key. */
      r.forget_entry(task.status_text.c_str());
    } else if (task.task_id != r.held_->entry().task_id || task.status_text != r.held_->entry().status) {
      JournalEntry entry = r.held_->entry();
      entry.task_id = task.task_id;
      entry.status = task.status_text;
      std::string why;
      if (!r.held_->update(entry, &why)) /* the key is on disk already: resuming still works */
        MV_WARNING_ID(r.settings_.job.log_id, "journal: could not record task %s: %s", task.task_id.c_str(),
                      why.c_str());
    }
  }
  r.observer_.on_task(task, changed);
}

void Run::eos() {
  if (!held_ || !ready_ || (all_outputs_ && current_ + 1 < job_->output_urls().size()))
    return;
  /* An EOS the application sent mid-download is no delivery. */
  std::shared_ptr<Output> output = current_output();
  if (output && output->spool.complete())
    forget_entry("delivered");
}

/* Drops the entry when the run failed in a way every rerun would repeat.
 * Kept otherwise: the network, a 5xx, the deadline, a download or a wrong
 * output-index (a rerun with another one resumes unpaid) can all be fixed. */
void Run::forget_unresumable(const Error& error) {
  const TaskInfo& task = job_->task();
  const unsigned status = error.http_status;
  /* A submission refused for good (not 408/429) charged nothing. */
  if (task.task_id.empty() && status >= 400 && status < 500 && status != 408 && status != 429)
    forget_entry("submission refused");
  /* A task that succeeded without a usable output (none, or a URL that is
   * not http(s)) would give the same again. */
  else if (task.status == TaskStatus::Succeeded && error.kind == Error::Kind::Failed)
    forget_entry("no usable output");
}

void Run::forget_entry(const char* why) {
  if (!held_)
    return;
  MV_DEBUG_ID(settings_.job.log_id, "journal: removing the entry of key %s (%s)",
              held_->entry().idempotency_key.c_str(), why);
  held_->remove();
  held_.reset();
}

Run::~Run() {
  /* The download threads go first: they use the spool, the session and,
   * for a fresh URL, the job. */
  std::shared_ptr<Output> output;
  {
    std::lock_guard<std::mutex> guard(lock_);
    output = std::move(output_);
  }
  output.reset();
  job_.reset();
}

Error Run::task_error(Error::Kind kind, const std::string& message) const {
  return Error{kind, message, 0, job_->task().task_id, job_->task().status_text};
}

std::shared_ptr<Run::Output> Run::current_output() const {
  std::lock_guard<std::mutex> guard(lock_);
  return output_;
}

/* Starts downloading job_->output_urls()[index] into a spool of its own,
 * in place of the previous output's. */
Run::Wait Run::start_output(size_t index, Error* error) {
  const std::string& log_id = settings_.job.log_id;
  auto output = std::make_shared<Output>(log_id);
  if (!output->spool.open(error)) {
    *error = task_error(error->kind, error->message);
    return Wait::Error;
  }
  const std::string url = job_->output_urls()[index];
  output->download =
      std::make_unique<Downloader>(*http_, output->spool, settings_.job.retry, settings_.max_size, log_id);
  std::shared_ptr<Output> previous;
  {
    std::lock_guard<std::mutex> guard(lock_);
    previous = std::move(output_);
    output_ = output;
    output_url_ = url;
    if (interrupted_)
      output->spool.interrupt();
  }
  previous.reset(); /* stops its download, drops its file */
  current_ = index;
  MV_INFO_ID(log_id, "downloading output %zu of task %s: %s", index, job_->task().task_id.c_str(), url.c_str());
  observer_.on_output(index, url);
  Job* job = job_.get();
  /* Runs on the download thread, which ends before the job does. */
  output->download->start(url, [job, index](GCancellable* c, std::string* fresh, Error* e,
                                            std::optional<Failure>* passing) {
    return job->refresh_output_url(index, c, fresh, e, passing);
  });
  return Wait::Ready;
}

Run::Wait Run::wait(uint64_t offset, uint64_t want, uint64_t* available, Error* error) {
  if (!ready_) {
    switch (job_->run(error)) {
      case Job::Result::Cancelled:
        return Wait::Flushing;
      case Job::Result::Failed:
        forget_unresumable(*error);
        return Wait::Error;
      case Job::Result::Ready:
        break;
    }
    observer_.on_ready(job_->task());
    Wait started = start_output(0, error);
    if (started != Wait::Ready)
      return started;
    ready_ = true;
  }
  if (offset < base_) {
    *error = task_error(Error::Kind::Settings, "output-index=-1 streams every output once and cannot seek back");
    return Wait::Error;
  }
  for (;;) {
    std::shared_ptr<Output> output = current_output();
    const uint64_t at = offset - base_;
    /* The first byte missing in what the reader needs: if no fetch will
     * reach it soon, one starts there. Asked again while the wait lasts, as
     * the fetches move. */
    const uint64_t missing = output->spool.next_missing(at);
    if (missing < at + want)
      output->download->want(missing);
    switch (output->spool.wait(at, want, available, kReplanMs)) {
      case Spool::State::Pending:
        continue;
      case Spool::State::Ready:
        return Wait::Ready;
      case Spool::State::Interrupted:
        return Wait::Flushing;
      case Spool::State::Failed: {
        const Error failure = output->spool.error();
        *error = task_error(failure.kind, failure.message);
        error->http_status = failure.http_status;
        return Wait::Error;
      }
      case Spool::State::Eos:
        break;
    }
    const uint64_t size = output->spool.downloaded();
    if (size == 0) {
      *error = task_error(Error::Kind::Read, "The output of task " + job_->task().task_id + " is empty");
      return Wait::Error;
    }
    if (!all_outputs_ || current_ + 1 >= job_->output_urls().size()) {
      MV_DEBUG_ID(settings_.job.log_id, "EOS at offset %" G_GUINT64_FORMAT, offset);
      forget_entry("delivered");
      return Wait::Eos;
    }
    /* The next output follows, as a discontinuity. */
    base_ += size;
    Wait started = start_output(current_ + 1, error);
    if (started != Wait::Ready)
      return started;
    discont_ = true;
  }
}

int64_t Run::read(uint64_t offset, void* dst, size_t len) {
  std::shared_ptr<Output> output = current_output();
  if (!output || offset < base_)
    return -1;
  return output->spool.read(offset - base_, dst, len);
}

BufferRef Run::share(uint64_t offset, uint64_t len) {
  std::shared_ptr<Output> output = current_output();
  if (!output || offset < base_)
    return BufferRef();
  return output->spool.share(offset - base_, len);
}

bool Run::take_discont() {
  bool discont = discont_;
  discont_ = false;
  return discont;
}

void Run::interrupt() {
  cancel_.cancel();
  std::lock_guard<std::mutex> guard(lock_);
  interrupted_ = true;
  if (output_)
    output_->spool.interrupt();
}

void Run::resume() {
  cancel_.reset();
  std::lock_guard<std::mutex> guard(lock_);
  interrupted_ = false;
  if (output_)
    output_->spool.clear_interrupt();
}

int64_t Run::size() const {
  if (all_outputs_)
    return -1;
  std::shared_ptr<Output> output = current_output();
  return output ? output->spool.total() : -1;
}

bool Run::seekable() const {
  return size() >= 0;
}

std::string Run::output_url() const {
  std::lock_guard<std::mutex> guard(lock_);
  return output_url_;
}

}  // namespace mv
