/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Downloads one output URL into a Spool, on threads of its own, so that the
 * download goes on at network speed while the pipeline is paused or slow
 * (signed output URLs expire).
 *
 * The main fetch runs from byte 0. When a reader waits for bytes that no
 * running fetch will reach soon (want(); the rule is in ranges.h), a Range
 * fetch of that region starts on a connection of its own, up to kMaxFetches
 * at once. A fetch that reaches bytes already there jumps to the next
 * missing byte no other fetch is heading for, or ends. The download is
 * complete when every byte is there.
 *
 * Each fetch keeps the promises of a single download: no credentials to
 * output hosts, redirects followed, every 206 checked against the range
 * asked for and the size, a broken fetch resumed from its own offset under
 * the retry policy, max-size, no short file passed off as complete. An
 * expired URL (403/404/410) is read again from the task once, for all
 * fetches together. A host that answers a Range request with 200, or says
 * `Accept-Ranges: none`, gets the main fetch alone, as does an output of
 * unknown size.
 */
#pragma once

#include "cancel.h"
#include "error.h"
#include "http.h"
#include "retry.h"
#include "spool.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mv {

class Downloader {
 public:
  /* Asks the API for a fresh URL of the same output after the current one
   * was refused (403/404/410), as signed URLs expire. On a failure that may
   * pass (a 5xx, a 429, a cut), `*passing` says why: it is retried. */
  using RefreshFn = std::function<bool(GCancellable* cancellable, std::string* url, Error* error,
                                       std::optional<Failure>* passing)>;

  /* `max_size`: the largest output accepted, in bytes; 0 for no limit.
   * `log_id`: the element's name, carried by every log line. */
  Downloader(HttpSession& http, Spool& spool, const RetryPolicy& policy, uint64_t max_size, std::string log_id);
  /* The size of the chunks the download is read and spooled in. */
  static constexpr size_t kChunk = 256 * 1024;
  ~Downloader();
  Downloader(const Downloader&) = delete;
  Downloader& operator=(const Downloader&) = delete;

  /* Starts the main fetch, from byte 0. */
  void start(const std::string& url, RefreshFn refresh);
  /* A reader waits for the missing byte at `offset`: starts a Range fetch
   * there unless a running fetch will reach it soon. Any thread. */
  void want(uint64_t offset);
  /* Cancels every fetch and joins their threads; returns promptly. */
  void stop();

  /* Fetches started so far, the main one included (for tests and logs). */
  size_t fetches_started() const;

 private:
  struct Fetch {
    uint64_t position = 0; /* the next byte it downloads; under lock_ */
    bool main = false;
    int64_t started_us = 0;
    int64_t first_byte_us = 0; /* for the rate; under lock_ */
    uint64_t bytes = 0;        /* downloaded by this fetch; under lock_ */
    bool done = false;         /* its thread has returned; under lock_ */
    Canceller cancel;
    std::thread thread;
  };
  enum class Ranges { Unknown, Yes, No };
  /* Fresh: try the URL again (read anew, by this fetch or another);
   * Spent: the one reading of the task was used, the refusal stands;
   * Passing: the reading met a passing failure (`*passing`), to retry;
   * Failed: reported, or cancelled. */
  enum class RefreshResult { Fresh, Spent, Passing, Failed };

  void start_fetch(uint64_t offset, bool main); /* under lock_ */
  void run(Fetch* fetch);
  bool fetch_once(Fetch* fetch, uint64_t* offset, int* retries);
  RefreshResult refresh_url(int seen_generation, GCancellable* cancellable, Fetch* fetch, Failure* passing,
                            Error* error);
  std::optional<uint64_t> next_target(const Fetch* fetch);
  bool retry_wait(Fetch* fetch, int* retries, const Failure& failure);
  void report(Error::Kind kind, const std::string& message, unsigned http_status = 0);
  void report_refused(const HttpResponse& r, uint64_t offset);
  void report_too_large(uint64_t size, bool exact);

  HttpSession& http_;
  const std::string log_id_;
  Spool& spool_;
  const RetryPolicy policy_;
  const uint64_t max_size_;
  RefreshFn refresh_;
  GstBufferPool* pool_; /* the chunks downloaded into */
  const int64_t created_us_;

  mutable std::mutex lock_;
  std::vector<std::unique_ptr<Fetch>> fetches_;
  size_t started_ = 0;
  bool stopped_ = false;
  Ranges ranges_ = Ranges::Unknown;
  std::string url_;
  int url_generation_ = 0;
  bool refreshed_ = false;
  int64_t answer_us_ = 0; /* how long the latest request took to answer */

  std::mutex refresh_lock_; /* one refresh at a time, for every fetch */
};

}  // namespace mv
