/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the element tests: an emulator per test, pipelines with the
 * API settings applied, and a run that collects what reached the bus and
 * the sink.
 */
#pragma once

#include "test-helpers.h"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#define API_KEY "mv_test_key"

/* An emulator with quick tasks and API_KEY; fails the test if it cannot start. */
std::unique_ptr<EmulatorProcess> start_emulator(std::vector<std::string> args = {});

/* Everything a pipeline run left on the bus, plus what reached the sink. */
struct PlayResult {
  bool eos = false;
  bool timed_out = false;
  GError* error = nullptr;
  std::string error_debug;
  GstStructure* error_details = nullptr;
  std::vector<std::string> progress; /* "start", "continue", "complete", ... */
  std::vector<std::string> progress_text; /* their texts, in the same order */
  std::vector<GstStructure*> task_messages;
  std::vector<std::string> warnings;
  guint64 buffers = 0;
  guint64 bytes = 0;
  std::string sink_caps;
  std::string data; /* the bytes, when collected */

  PlayResult() = default;
  PlayResult(const PlayResult&) = delete;
  ~PlayResult() {
    g_clear_error(&error);
    if (error_details)
      gst_structure_free(error_details);
    for (auto* s : task_messages)
      gst_structure_free(s);
  }
  std::string message() const { return error ? error->message : ""; }
};

/* Plays `pipeline` until EOS or an error (or `timeout_s`), then sets it to
 * NULL. A sink named "sink" gets its buffers counted (and kept, with
 * `keep_data`). */
void play(GstElement* pipeline, PlayResult* run, int timeout_s = 90, bool keep_data = false);

const char* progress_name(GstProgressType type);

/* A pipeline "mindvideosrc name=src ! <rest>" with the API settings applied. */
GstElement* make_pipeline(EmulatorProcess* emu, const char* model, const char* prompt, const char* input,
                          const char* rest);

/* A string property of the element named "src". */
std::string src_string(GstElement* pipeline, const char* prop);
bool has_status(GstElement* src, const char* status);
/* Waits (30 s at most) until the element's status is `status`; whether it got there. */
bool wait_for_status(GstElement* src, const char* status);

/* Collects what the mindvideosrc debug category logs at `level`, while it
 * lives (it raises the category's threshold to `level`). */
class LogCapture {
 public:
  explicit LogCapture(GstDebugLevel level);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  /* Whether a message logged so far contains `text`. */
  bool contains(const std::string& text);

 private:
  static void on_log(GstDebugCategory* category, GstDebugLevel level, const gchar*, const gchar*, gint, GObject*,
                     GstDebugMessage* message, gpointer data);
  GstDebugLevel level_;
  std::mutex lock_;
  std::vector<std::string> messages_;
};

/* The request log, as (origin, method, path, Authorization header) rows. */
struct Logged {
  std::string origin, method, path, authorization, body, idempotency_key, content_type, range;
  /* Every request header, names lower case. */
  std::map<std::string, std::string> headers;
  bool has(const char* name) const { return headers.count(name) > 0; }
  std::string header(const char* name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  /* Order and times (ms since the emulator started), status; for CDN file
   * responses the body bytes sent so far and when the connection closed
   * (-1: still sending, or not a file response). */
  gint64 seq = 0;
  double t_ms = -1, done_t_ms = -1;
  int status = 0;
  gint64 bytes_sent = -1;
};
std::vector<Logged> request_log(EmulatorProcess* emu);
int count_requests(const std::vector<Logged>& log, const char* origin, const char* method = nullptr);

/* A field of the error's details structure. */
const GValue* detail(const PlayResult& run, const char* field);
