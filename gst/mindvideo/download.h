/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Downloads one output URL into a Spool on a thread of its own, so that the
 * download goes on at network speed while the pipeline is paused or slow
 * (signed output URLs expire). Broken transfers resume with a Range request.
 */
#pragma once

#include "cancel.h"
#include "error.h"
#include "http.h"
#include "retry.h"
#include "spool.h"

#include <functional>
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

  void start(const std::string& url, RefreshFn refresh);
  /* Cancels the transfer and joins the thread; returns promptly. */
  void stop();

 private:
  void run();
  bool retry_wait(int* retries, const Failure& failure);
  void report(Error::Kind kind, const std::string& message, unsigned http_status = 0);
  void report_refused(const HttpResponse& r, uint64_t offset);
  void report_too_large(uint64_t size, bool exact);

  HttpSession& http_;
  const std::string log_id_;
  Spool& spool_;
  RetryPolicy policy_;
  uint64_t max_size_;
  std::string url_;
  RefreshFn refresh_;
  Canceller cancel_;
  std::thread thread_;
  GstBufferPool* pool_; /* the chunks downloaded into */
};

}  // namespace mv
