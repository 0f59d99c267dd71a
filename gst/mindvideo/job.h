/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One generation task from submission to a downloadable output URL:
 * POST (retried only with the same Idempotency-Key and body bytes), then
 * GET until the status is terminal, within a whole-task deadline. Blocking,
 * interruptible through a Canceller, and resumable after an interruption
 * without submitting twice. Knows nothing of GStreamer.
 */
#pragma once

#include "api.h"
#include "cancel.h"
#include "error.h"
#include "events.h"
#include "http.h"
#include "retry.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mv {

struct JobSettings {
  std::string log_id; /* the element's name, carried by every log line */
  std::string api_url;
  std::string api_key;
  RequestSettings request;
  std::string idempotency_key; /* empty when attaching */
  std::string task_id;         /* attach to this task instead of submitting */
  int output_index = 0; /* -1: every output, in order */
  unsigned poll_interval_ms = 1000;
  unsigned timeout_s = 1800; /* 0: no deadline */
  RetryPolicy retry;
  bool allow_plain_http = false; /* send the key over http:// to a non-loopback host */
  /* extra-headers: sent with every API request, never to output hosts. */
  Headers extra_headers;
};

class JobObserver {
 public:
  virtual ~JobObserver() = default;
  /* Before the first POST, or the first GET of the attached `task_id`. */
  virtual void on_start(const std::string& task_id) = 0;
  /* After every task the API returned; `changed` when its status moved. */
  virtual void on_task(const TaskInfo& task, bool changed) = 0;
  /* Something the user should know that does not stop the task. */
  virtual void on_warning(const std::string& message) = 0;
};

class Job {
 public:
  /* Checks the settings without any I/O. On failure the Job must not run. */
  static bool check_settings(const JobSettings& settings, std::string* body, Error* error);

  Job(const JobSettings& settings, std::string body, HttpSession& http, Canceller& cancel,
      JobObserver& observer);

  enum class Result { Ready, Cancelled, Failed };
  /* Runs until the task succeeded and its output URL is known (Ready), the
   * canceller fired (Cancelled: call again to carry on), or it failed. */
  Result run(Error* error);

  const TaskInfo& task() const { return task_; }
  /* How to pick this task up again: "idempotency-key=... or task-id=...". */
  std::string resume_hint() const;
  /* The URLs to stream once run() returned Ready: the chosen output, or
   * every output when output_index is -1. */
  const std::vector<std::string>& output_urls() const { return output_urls_; }

  /* One fresh GET of the task for a new URL of output_urls()[which]. Safe
   * to call from another thread once run() returned Ready. When it failed
   * for a passing reason (network, 408/429/5xx, an answer that is not a
   * task), `*passing` says why, so that the caller can try again. */
  bool refresh_output_url(size_t which, GCancellable* cancellable, std::string* url, Error* error,
                          std::optional<Failure>* passing);

 private:
  Result submit(Error* error);
  Result poll(Error* error);
  Result poll_until_terminal(const std::string& url, Error* error);
  Result finish(Error* error);
  /* The headers of every API request: the extra ones, then the key. */
  Headers api_headers() const;
  HttpResponse call(const char* method, const std::string& url, const std::string* body,
                    GCancellable* cancellable);
  Error http_error(const HttpResponse& r, bool submitting) const;
  Error timeout_error() const;
  void update(const TaskInfo& task);
  int64_t remaining_ms() const; /* INT64_MAX without a deadline */
  bool sleep_ms(int64_t ms);    /* bounded by the deadline; false when cancelled */
  bool select_outputs(const TaskInfo& task, std::vector<std::string>* urls, Error* error) const;

  const JobSettings settings_;
  const std::string body_; /* the exact bytes every POST retry sends */
  HttpSession& http_;
  Canceller& cancel_;
  JobObserver& observer_;

  bool started_ = false;
  int64_t deadline_us_ = 0; /* monotonic; 0: none */
  TaskInfo task_;
  std::vector<std::string> output_urls_;
  int poll_failures_ = 0;
  /* Last member: its thread uses the others until it is joined. */
  std::unique_ptr<EventWatcher> watcher_;
};

}  // namespace mv
