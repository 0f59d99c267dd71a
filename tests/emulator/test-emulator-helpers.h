/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the emulator's own tests (test-emulator-*.cpp): an emulator
 * with short timelines, a plain libsoup client for its API and CDN, and the
 * JSON bits the tests read. Each fails the running gst-check test on error.
 * What the element tests use too (read_file, mp4_boxes, ...) is in
 * tests/common/test-helpers.h.
 */
#pragma once

#include "test-helpers.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

inline constexpr char kKey[] = "mv_test_key";

/* The status timeline of a task that succeeds. */
inline const std::vector<std::string> kTimeline = {"queued", "processing", "succeeded"};

/* An emulator with short timelines (--queued-ms 150 --processing-ms 400)
 * plus `extra`; fails the test if it cannot start. */
std::unique_ptr<EmulatorProcess> start_emulator(std::vector<std::string> extra = {});

struct Response {
  guint status = 0;  // 0: transport error
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
  GQuark error_domain = 0;  // of a transport error
  int error_code = 0;

  std::string header(const char* name) const {
    g_autofree gchar* lower = g_ascii_strdown(name, -1);
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }
  bool has_header(const char* name) const {
    g_autofree gchar* lower = g_ascii_strdown(name, -1);
    return headers.count(lower) > 0;
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

/* The client session of the tests (timeout 30 s). */
SoupSession* session();
SoupMessage* new_message(const char* method, const std::string& url, const std::string& body, const Headers& headers,
                         bool follow);
Response http_on(SoupSession* s, const char* method, const std::string& url, const std::string& body = "",
                 const Headers& headers = {}, bool follow = true);
/* http_on(session(), ...). */
Response http(const char* method, const std::string& url, const std::string& body = "", const Headers& headers = {},
              bool follow = true);
/* Authorization: Bearer kKey, and Idempotency-Key when given. */
Headers auth(const std::string& idempotency_key = "");

/* A new JsonNode, or nullptr when `text` is not JSON. */
JsonNode* parse(const std::string& text);
/* The node's object; fails the test if it is not one. */
JsonObject* obj(JsonNode* node);
/* A string member, "" when absent. */
std::string str(JsonObject* o, const char* name);
/* error.code and error.message of an error answer. */
std::string error_code(const Response& r);
std::string error_message(const Response& r);
std::string uuid();

/* Submits and returns the task id, checking 201 + queued. */
std::string submit(EmulatorProcess& emu, const std::string& body, const std::string& idem = "");
/* Polls until a terminal status; returns the final task object and the statuses seen. */
JsonNode* wait_task(EmulatorProcess& emu, const std::string& id, std::vector<std::string>* seen = nullptr,
                    SoupSession* via = session());
/* The URLs of a task's output `kind` ("images", "videos"). */
std::vector<std::string> output_urls(JsonNode* task, const char* kind);
/* The statuses of a JSON events answer, checking each event's type and time. */
std::vector<std::string> event_statuses(const Response& r);
/* A number of /_emulator/stats, from its `group` object if not null. */
int stat_of(EmulatorProcess& emu, const char* group, const char* name);
/* Reads a body until EOF or error; returns the byte count. */
goffset read_stream(const std::string& url, guint* status, goffset* content_length, std::string* error);
