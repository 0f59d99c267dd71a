/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "run.h"

#include "api.h"
#include "log.h"

namespace mv {

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
  settings.job.idempotency_key = keys.key_for(settings.job);
  return std::unique_ptr<Run>(new Run(std::move(settings), std::move(body), pick_session(), observer));
}

Run::Run(RunSettings settings, std::string body, std::shared_ptr<HttpSession> http, RunObserver& observer)
    : settings_(std::move(settings)),
      all_outputs_(settings_.job.output_index < 0),
      http_(std::move(http)),
      observer_(observer),
      job_(std::make_unique<Job>(settings_.job, std::move(body), *http_, cancel_, observer_)) {}

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
    switch (output->spool.wait(offset - base_, want, available)) {
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
