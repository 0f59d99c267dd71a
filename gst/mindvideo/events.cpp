/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "events.h"

#include "log.h"
#include "thread.h"

#include <glib.h>

namespace mv {

EventWatcher::EventWatcher(HttpSession& http, std::string log_id, std::string url, Headers headers,
                           std::function<void()> on_event)
    : http_(http),
      log_id_(std::move(log_id)),
      url_(std::move(url)),
      headers_(std::move(headers)),
      on_event_(std::move(on_event)) {}

EventWatcher::~EventWatcher() {
  stop();
}

void EventWatcher::start() {
  if (!thread_.joinable())
    thread_ = named_thread("mv-events", [this] { run(); });
}

void EventWatcher::stop() {
  cancel_.cancel();
  if (thread_.joinable())
    thread_.join();
}

int EventWatcher::listen(GInputStream* in, GCancellable* cancellable) {
  int events = 0;
  bool data = false; /* the event being read has data */
  std::string line;
  char buf[4096];
  gssize n;
  while ((n = g_input_stream_read(in, buf, sizeof buf, cancellable, nullptr)) > 0) {
    for (gssize i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (line.size() < 65536) /* a line this long is not an event we need */
          line += buf[i];
        continue;
      }
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      if (line.empty()) {
        /* A blank line ends an event; comments (": keep-alive") have no data. */
        if (data) {
          events++;
          live_ = true;
          on_event_();
        }
        data = false;
      } else if (g_str_has_prefix(line.c_str(), "data:")) {
        data = true;
      }
      line.clear();
    }
  }
  return events;
}

void EventWatcher::run() {
  Headers headers = headers_;
  headers.emplace_back("Accept", "text/event-stream");
  while (!cancel_.is_cancelled()) {
    g_autoptr(GCancellable) cancellable = cancel_.cancellable_ref();
    g_autoptr(GInputStream) in = nullptr;
    const gint64 opened = g_get_monotonic_time();
    HttpResponse r = http_.open_api(log_id_, url_, headers, &in, cancellable);
    if (!in || !g_str_has_prefix(r.content_type.c_str(), "text/event-stream")) {
      MV_DEBUG_ID(log_id_, "no event stream at %s (%u %s); polling alone", url_.c_str(), r.status,
                  r.content_type.c_str());
      return;
    }
    MV_DEBUG_ID(log_id_, "listening to the task's event stream at %s", url_.c_str());
    int events = listen(in, cancellable);
    live_ = false;
    /* A stream that ended soon or said nothing is not worth reopening. */
    if (events == 0 || g_get_monotonic_time() - opened < 2 * G_USEC_PER_SEC)
      return;
    if (!cancel_.sleep_ms(1000))
      return;
  }
}

}  // namespace mv
