/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The MindVideo task API as plain data: building requests and parsing
 * responses. No I/O, so tests can drive it without a server.
 */
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mv {

/* The platform's normalized task states. `Unknown` is any other string:
 * it is logged and treated as not terminal. */
enum class TaskStatus { None, Queued, Processing, Succeeded, Failed, Cancelled, Unknown };

TaskStatus parse_status(const std::string& text);
const char* status_name(TaskStatus status);
bool status_is_terminal(TaskStatus status);

struct Output {
  std::string kind; /* the member of `output` it came from: "videos", "images", ... */
  std::string url;
};

/* A task as returned by POST /api/v1/tasks and GET /api/v1/tasks/{id}. */
struct TaskInfo {
  std::string task_id;
  std::string request_id;
  std::string status_text; /* as the server sent it */
  TaskStatus status = TaskStatus::None;
  std::optional<double> cost_estimate;
  std::optional<double> cost_actual;
  std::vector<Output> outputs; /* every output.<kind>[].url, in document order */
  std::string error_message;   /* for failed / cancelled tasks, when given */
};

/* Parses a task body leniently: unknown fields are ignored, numbers may be
 * strings, any `output.<kind>[]` holding objects with a `url` (or plain
 * strings) counts. Fails only when the body is not a JSON object or has no
 * usable task id. */
bool parse_task(const std::string& body, TaskInfo* task, std::string* error);

/* Best human-readable message in an error body, whose shape the docs never
 * show: {"error":{"message":..}}, {"error":".."}, {"message":..},
 * {"detail":..}; otherwise a short excerpt of the body. Never empty unless
 * the body is. */
std::string parse_error_message(const std::string& body);

/* What the user configured on the element, as far as the request goes. */
struct RequestSettings {
  std::string model;
  std::string prompt; /* wins over input.prompt when not empty */
  std::string input;  /* JSON object text; empty means {} */
};

/* Builds the exact POST body {"model": .., "input": {prompt + input fields}}.
 * Nothing is added beyond what the user gave, but local files in URL fields
 * become data URIs (see inputs.h). When the model has a schema (see
 * schema.h) the input must pass it. Returns false with a message naming
 * every problem: missing model or prompt, `input` not a JSON object, each
 * schema violation. No network I/O. */
bool build_submit_body(const RequestSettings& settings, std::string* body, std::string* error,
                       const std::string& log_id = "");

/* The prompt that goes out: the property, else input's "prompt" string. */
std::string effective_prompt(const RequestSettings& settings);

/* {api}/api/v1/tasks, {api}/api/v1/tasks/{id}, {api}/api/v1/tasks/{id}/events.
 * A trailing slash on the base is tolerated; the id is percent-encoded. */
std::string tasks_url(const std::string& api_url);
std::string task_url(const std::string& api_url, const std::string& task_id);
std::string task_events_url(const std::string& api_url, const std::string& task_id);

/* Checks that `url` is an absolute http(s) URL with a host. */
bool is_http_url(const std::string& url);

/* Whether a secret may travel to `url`: https, or plain http to a loopback
 * host (localhost, 127.0.0.0/8, ::1) that never leaves the machine. */
bool is_safe_for_key(const std::string& url);

/* A fresh random (version 4) UUID, for the Idempotency-Key. */
std::string new_idempotency_key();

/* `text` with every occurrence of `secret` replaced, so that a server that
 * echoes the API key back cannot make us print it. Secrets shorter than
 * kMinRedactedSecret are left alone: no real key is that short. */
constexpr size_t kMinRedactedSecret = 8;
std::string redact(const std::string& text, const std::string& secret);

}  // namespace mv
