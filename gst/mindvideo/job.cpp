/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "job.h"

#include "log.h"

#include <glib.h>

#include <algorithm>
#include <climits>

namespace mv {

namespace {
/* An API answer larger than this is not a task: refuse rather than buffer. */
constexpr size_t kMaxApiBody = 4 * 1024 * 1024;
/* While an event stream pushes the changes, polls go out this many times
 * less often. */
constexpr int64_t kPushedPollFactor = 5;

std::string code_text(unsigned status) {
  return "HTTP " + std::to_string(status);
}
}  // namespace

bool Job::check_settings(const JobSettings& s, std::string* body, Error* error) {
  error->kind = Error::Kind::Settings;
  if (!is_http_url(s.api_url)) {
    error->message = "The api-url '" + s.api_url + "' is not an http:// or https:// URL";
    return false;
  }
  if (s.api_key.empty()) {
    error->message = "No API key: set the api-key property or the MINDVIDEO_API_KEY environment variable";
    return false;
  }
  if (s.api_key.find_first_of("\r\n") != std::string::npos) {
    error->message = "The API key contains a line break";
    return false;
  }
  if (!s.allow_plain_http && !is_safe_for_key(s.api_url)) {
    error->message = "Refusing to send the API key over plain http:// to " + s.api_url +
                     ": anyone on the way could read it. Use https://, or set allow-plain-http=true if that "
                     "network is trusted";
    return false;
  }
  if (!s.task_id.empty()) /* attaching: nothing is submitted */
    return true;
  return build_submit_body(s.request, body, &error->message, s.log_id);
}

Job::Job(const JobSettings& settings, std::string body, HttpSession& http, Canceller& cancel,
         JobObserver& observer)
    : settings_(settings), body_(std::move(body)), http_(http), cancel_(cancel), observer_(observer) {}

int64_t Job::remaining_ms() const {
  if (!deadline_us_)
    return INT64_MAX;
  return std::max<int64_t>(0, (deadline_us_ - g_get_monotonic_time()) / 1000);
}

bool Job::sleep_ms(int64_t ms) {
  return cancel_.sleep_ms(std::min(ms, remaining_ms()));
}

Headers Job::api_headers() const {
  /* The user's extra headers go first, so that the element's own (set
   * later, each replacing a header of its name) win. They are for the API
   * origin only: output downloads never get them. */
  Headers headers = settings_.extra_headers;
  headers.emplace_back("Authorization", "Bearer " + settings_.api_key);
  return headers;
}

HttpResponse Job::call(const char* method, const std::string& url, const std::string* body,
                       GCancellable* cancellable) {
  Headers headers = api_headers();
  headers.emplace_back("Accept", "application/json");
  if (body)
    headers.emplace_back("Idempotency-Key", settings_.idempotency_key);
  HttpResponse r = http_.send(settings_.log_id, method, url, headers, body, kMaxApiBody, cancellable);
  if (!r.body.empty())
    MV_LOG_ID(settings_.log_id, "response body: %s", redact(r.body, settings_.api_key).c_str());
  return r;
}

Error Job::http_error(const HttpResponse& r, bool submitting) const {
  Error e;
  e.kind = error_kind_for_status(r.status, Origin::Api);
  e.http_status = r.status;
  e.task_id = task_.task_id;
  e.status = task_.status_text;
  const std::string server = r.body.empty() ? std::string() : ": " + parse_error_message(r.body);
  /* Failures that are not a status: their kind overrides the status's. */
  if (r.failure.kind == Failure::Kind::ProxyAuth) {
    e.kind = Error::Kind::NotAuthorized;
    e.message = r.error; /* names the proxy, says what to set */
  } else if (r.failure.kind == Failure::Kind::TooLarge) {
    e.kind = Error::Kind::Read;
    e.message = "The MindVideo API at " + settings_.api_url + " sent " + r.error +
                ": that is not a task, and asking again would not change it";
  } else if (r.status == 0) {
    e.message = "Could not reach the MindVideo API at " + settings_.api_url + ": " + r.error;
  } else if (r.status >= 300 && r.status < 400) {
    e.message = "The MindVideo API answered with a redirect (" + code_text(r.status) + " to '" +
                r.location + "'); it is not followed, so that the API key only goes to " +
                settings_.api_url + ". Set api-url to the final address";
  } else if (r.status == 401 || r.status == 403) {
    e.message = "The MindVideo API refused the API key (" + code_text(r.status) + ")" + server +
                ". Check the api-key property or MINDVIDEO_API_KEY";
  } else if (r.status == 409) {
    e.message = "The Idempotency-Key '" + settings_.idempotency_key +
                "' was already used with a different request (HTTP 409)" + server +
                ". Use a new idempotency-key, or the same model, prompt and input as before";
  } else if (r.status == 404 || r.status == 410) {
    e.message = submitting ? "The MindVideo API does not know this request (" + code_text(r.status) + ")" + server
                           : "Task '" + task_.task_id + "' was not found (" + code_text(r.status) + ")" + server;
  } else if (e.kind == Error::Kind::Settings) {
    e.message = "The MindVideo API rejected the request (" + code_text(r.status) + ")" + server;
  } else if (e.kind == Error::Kind::Failed) {
    e.message = "The MindVideo API refused the request (" + code_text(r.status) + ")" + server;
  } else {
    e.message = "The MindVideo API failed (" + code_text(r.status) + ")" + server;
  }
  return e;
}

std::string Job::resume_hint() const {
  if (settings_.idempotency_key.empty()) /* attached: no key was ever sent */
    return "task-id=" + task_.task_id;
  return "idempotency-key=" + settings_.idempotency_key +
         (task_.task_id.empty() ? std::string() : " or task-id=" + task_.task_id);
}

Error Job::timeout_error() const {
  Error e;
  e.kind = Error::Kind::Failed;
  e.task_id = task_.task_id;
  e.status = task_.status_text;
  const std::string limit = std::to_string(settings_.timeout_s) + " s";
  if (task_.task_id.empty()) {
    e.message = "Could not submit the task within the timeout of " + limit + ". Run again with " + resume_hint() +
                " and the same model, prompt and input: if the task was created meanwhile, it is picked up "
                "without a second charge";
  } else {
    e.message = "Task '" + task_.task_id + "' did not finish within the timeout of " + limit +
                " (status: " + (task_.status_text.empty() ? "unknown" : task_.status_text) +
                "). It may still complete: run again with " + resume_hint() + " to pick it up without paying again";
  }
  return e;
}

void Job::update(const TaskInfo& task) {
  bool changed = task.status_text != task_.status_text || task_.task_id.empty();
  if (task_.task_id.empty() || task.task_id == task_.task_id) {
    task_ = task;
  } else {
    /* A different id in a poll answer is a server bug; keep ours. */
    std::string id = task_.task_id;
    task_ = task;
    task_.task_id = id;
  }
  observer_.on_task(task_, changed);
}

Job::Result Job::run(Error* error) {
  if (!started_) {
    started_ = true;
    if (settings_.timeout_s)
      deadline_us_ = g_get_monotonic_time() + (int64_t)settings_.timeout_s * G_USEC_PER_SEC;
    if (!settings_.task_id.empty())
      task_.task_id = settings_.task_id;
    observer_.on_start(settings_.task_id);
  }
  if (!output_urls_.empty())
    return Result::Ready;
  if (task_.task_id.empty()) {
    Result r = submit(error);
    if (r != Result::Ready)
      return r;
  }
  return poll(error);
}

Job::Result Job::submit(Error* error) {
  const std::string url = tasks_url(settings_.api_url);
  int retries = 0;
  for (;;) {
    if (remaining_ms() == 0) {
      *error = timeout_error();
      return Result::Failed;
    }
    g_autoptr(GCancellable) cancellable = cancel_.cancellable_ref();
    HttpResponse r = call("POST", url, &body_, cancellable);
    if (r.cancelled || cancel_.is_cancelled())
      return Result::Cancelled;

    std::string why;
    if (r.ok()) {
      TaskInfo task;
      if (parse_task(r.body, &task, &why)) {
        update(task);
        return Result::Ready;
      }
    }
    /* A garbled 2xx is retried like a transient failure: resending is safe
     * with the same key and the same bytes. */
    Failure failure = r.ok() ? Failure{} : r.failure;
    RetryDecision d = decide_retry(settings_.retry, retries, failure, g_random_double(),
                                   g_get_real_time() / G_USEC_PER_SEC);
    if (!d.retry) {
      if (r.ok())
        *error = Error{Error::Kind::Read,
                       "The MindVideo API answered the submission with something that is not a task: " + why,
                       r.status, "", ""};
      else
        *error = http_error(r, true);
      if (retries > 0 && is_transient(failure))
        error->message += " (after " + std::to_string(retries) + " retries)";
      return Result::Failed;
    }
    retries++;
    MV_DEBUG_ID(settings_.log_id, "submission not answered with a task (%s); retry %d with the same key in %" G_GINT64_FORMAT " ms",
                r.ok() ? why.c_str() : (r.status ? code_text(r.status).c_str() : r.error.c_str()), retries,
                d.delay_ms);
    if (!sleep_ms(d.delay_ms))
      return Result::Cancelled;
  }
}

Job::Result Job::poll(Error* error) {
  const std::string url = task_url(settings_.api_url, task_.task_id);
  if (!watcher_ && !status_is_terminal(task_.status)) {
    /* Pushed events cut the wait short; polls stay the truth. */
    watcher_ = std::make_unique<EventWatcher>(http_, settings_.log_id,
                                              task_events_url(settings_.api_url, task_.task_id), api_headers(),
                                              [this] { cancel_.nudge(); });
    watcher_->start();
  }
  Result result = poll_until_terminal(url, error);
  if (result != Result::Cancelled)
    watcher_.reset();
  return result;
}

Job::Result Job::poll_until_terminal(const std::string& url, Error* error) {
  /* An attached task is read at once; a new one after one interval. */
  bool wait = !task_.status_text.empty();
  int64_t delay_ms = settings_.poll_interval_ms;
  for (;;) {
    if (task_.status == TaskStatus::Succeeded)
      return finish(error);
    if (task_.status == TaskStatus::Failed || task_.status == TaskStatus::Cancelled) {
      *error = Error{Error::Kind::Failed,
                     "Task '" + task_.task_id + "' " + task_.status_text +
                         (task_.error_message.empty() ? std::string(" without a message from the server")
                                                      : ": " + task_.error_message),
                     0, task_.task_id, task_.status_text};
      return Result::Failed;
    }
    if (wait && !sleep_ms(delay_ms))
      return Result::Cancelled;
    wait = true;
    if (remaining_ms() == 0) {
      *error = timeout_error();
      return Result::Failed;
    }

    g_autoptr(GCancellable) cancellable = cancel_.cancellable_ref();
    HttpResponse r = call("GET", url, nullptr, cancellable);
    if (r.cancelled || cancel_.is_cancelled())
      return Result::Cancelled;

    TaskInfo task;
    std::string why;
    if (r.ok() && parse_task(r.body, &task, &why)) {
      poll_failures_ = 0;
      /* With changes pushed, a poll is only a safety net. */
      delay_ms = (int64_t)settings_.poll_interval_ms * (watcher_ && watcher_->live() ? kPushedPollFactor : 1);
      update(task);
      continue;
    }
    Failure failure = r.ok() ? Failure{} : r.failure;
    if (!is_transient(failure)) {
      *error = http_error(r, false);
      return Result::Failed;
    }
    /* A poll that fails for a passing reason never fails the task; only the
     * deadline does. Back off, and tell the user once it looks lasting. */
    poll_failures_++;
    MV_DEBUG_ID(settings_.log_id, "poll of task %s failed (%s); polling on", task_.task_id.c_str(),
                r.ok() ? why.c_str() : (r.status ? code_text(r.status).c_str() : r.error.c_str()));
    RetryPolicy forever = settings_.retry;
    forever.max_retries = -1;
    delay_ms = std::max<int64_t>(settings_.poll_interval_ms,
                                 decide_retry(forever, poll_failures_ - 1, failure, g_random_double(),
                                              g_get_real_time() / G_USEC_PER_SEC)
                                     .delay_ms);
    const int warn_after = settings_.retry.max_retries >= 0 ? settings_.retry.max_retries + 1 : 5;
    if (poll_failures_ == warn_after) {
      std::string what = r.ok() ? "an answer that is not a task (" + why + ")"
                                : (r.status ? code_text(r.status) : r.error);
      observer_.on_warning("Polling task '" + task_.task_id + "' failed " + std::to_string(poll_failures_) +
                           " times in a row (" + what + "); still trying until the timeout");
    }
  }
}

bool Job::select_outputs(const TaskInfo& task, std::vector<std::string>* urls, Error* error) const {
  *error = Error{Error::Kind::Failed, "", 0, task.task_id, task.status_text};
  if (task.outputs.empty()) {
    error->message = "Task '" + task.task_id + "' succeeded but lists no output";
    return false;
  }
  const size_t count = task.outputs.size();
  if (settings_.output_index >= 0 && (size_t)settings_.output_index >= count) {
    error->kind = Error::Kind::Settings;
    error->message = "output-index " + std::to_string(settings_.output_index) + " is out of range: task '" +
                     task.task_id + "' has " + std::to_string(count) + " output(s), indexes 0 to " +
                     std::to_string(count - 1) + " (or -1 for all of them)";
    return false;
  }
  urls->clear();
  for (size_t i = 0; i < count; i++) {
    if (settings_.output_index >= 0 && i != (size_t)settings_.output_index)
      continue;
    const std::string& url = task.outputs[i].url;
    if (!is_http_url(url)) {
      error->message = "Task '" + task.task_id + "' gave an output URL that is not http(s); refusing it: " + url;
      return false;
    }
    urls->push_back(url);
  }
  return true;
}

Job::Result Job::finish(Error* error) {
  if (!select_outputs(task_, &output_urls_, error))
    return Result::Failed;
  return Result::Ready;
}

bool Job::refresh_output_url(size_t which, GCancellable* cancellable, std::string* url, Error* error,
                             std::optional<Failure>* passing) {
  HttpResponse r = call("GET", task_url(settings_.api_url, task_.task_id), nullptr, cancellable);
  TaskInfo task;
  std::string why;
  if (!r.ok()) {
    *error = http_error(r, false);
    error->message = "The output URL was refused and the task could not be read again: " + error->message;
    if (is_transient(r.failure))
      *passing = r.failure;
    return false;
  }
  if (!parse_task(r.body, &task, &why)) {
    *error = Error{Error::Kind::Read, "The task could not be read again for a fresh output URL: " + why, r.status,
                   task_.task_id, task_.status_text};
    *passing = Failure{}; /* a garbled 2xx: read again, as polls do */
    return false;
  }
  std::vector<std::string> fresh;
  if (!select_outputs(task, &fresh, error))
    return false;
  if (which >= fresh.size()) {
    *error = Error{Error::Kind::NotFound, "Task '" + task_.task_id + "' no longer lists output " +
                                              std::to_string(which), 0, task_.task_id, task_.status_text};
    return false;
  }
  /* Possibly the same URL: tried once more all the same. */
  *url = fresh[which];
  return true;
}

}  // namespace mv
