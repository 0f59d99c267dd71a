/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Listens to GET /api/v1/tasks/{id}/events as Server-Sent Events, when the
 * server offers them, to learn of a status change at once instead of at the
 * next poll. It only says "something happened": the status endpoint stays
 * the truth, and polling goes on regardless. A server whose events are not
 * an event stream (the docs never show the format) costs one request.
 */
#pragma once

#include "cancel.h"
#include "http.h"

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace mv {

class EventWatcher {
 public:
  /* `on_event` runs on the watcher's thread for each event received. */
  EventWatcher(HttpSession& http, std::string log_id, std::string url, Headers headers,
               std::function<void()> on_event);
  ~EventWatcher();
  EventWatcher(const EventWatcher&) = delete;
  EventWatcher& operator=(const EventWatcher&) = delete;

  void start();
  /* Closes the stream and joins the thread; returns promptly. */
  void stop();
  /* Whether an event stream is open and has delivered an event: changes
   * will be pushed, so polling can relax. */
  bool live() const { return live_; }

 private:
  void run();
  /* Reads one response to its end; returns how many events it carried. */
  int listen(GInputStream* in, GCancellable* cancellable);

  HttpSession& http_;
  const std::string log_id_;
  const std::string url_;
  const Headers headers_;
  const std::function<void()> on_event_;
  Canceller cancel_;
  std::thread thread_;
  std::atomic<bool> live_{false};
};

}  // namespace mv
