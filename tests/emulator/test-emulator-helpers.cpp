/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers of the emulator's tests: see test-emulator-helpers.h.
 */
#include "test-emulator-helpers.h"

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

/* Short timelines keep the suite fast; statuses are still observable. */
std::unique_ptr<EmulatorProcess> start_emulator(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--queued-ms", "150", "--processing-ms", "400"};
  args.insert(args.end(), extra.begin(), extra.end());
  return start_emulator_process(args);
}

SoupSession* session() {
  static SoupSession* s = soup_session_new_with_options("timeout", 30, nullptr);
  return s;
}

SoupMessage* new_message(const char* method, const std::string& url, const std::string& body, const Headers& headers,
                         bool follow) {
  SoupMessage* msg = soup_message_new(method, url.c_str());
  fail_unless(msg != nullptr, "bad URL %s", url.c_str());
  for (const auto& h : headers)
    soup_message_headers_replace(soup_message_get_request_headers(msg), h.first.c_str(), h.second.c_str());
  if (!body.empty()) {
    g_autoptr(GBytes) bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  if (!follow)
    soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
  return msg;
}

static void collect_headers(SoupMessage* msg, Response* r) {
  SoupMessageHeadersIter iter;
  const char *name, *value;
  soup_message_headers_iter_init(&iter, soup_message_get_response_headers(msg));
  while (soup_message_headers_iter_next(&iter, &name, &value)) {
    g_autofree gchar* lower = g_ascii_strdown(name, -1);
    r->headers[lower] = value;
  }
}

Response http_on(SoupSession* s, const char* method, const std::string& url, const std::string& body,
                 const Headers& headers, bool follow) {
  Response r;
  g_autoptr(SoupMessage) msg = new_message(method, url, body, headers, follow);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GBytes) bytes = soup_session_send_and_read(s, msg, nullptr, &error);
  if (!bytes) {
    r.error = error->message;
    r.error_domain = error->domain;
    r.error_code = error->code;
    return r;
  }
  r.status = soup_message_get_status(msg);
  gsize size = 0;
  const char* data = (const char*)g_bytes_get_data(bytes, &size);
  r.body.assign(data ? data : "", size);
  collect_headers(msg, &r);
  return r;
}

Response http(const char* method, const std::string& url, const std::string& body, const Headers& headers,
              bool follow) {
  return http_on(session(), method, url, body, headers, follow);
}

Headers auth(const std::string& idempotency_key) {
  Headers h = {{"Authorization", std::string("Bearer ") + kKey}};
  if (!idempotency_key.empty())
    h.emplace_back("Idempotency-Key", idempotency_key);
  return h;
}

JsonNode* parse(const std::string& text) {
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text.c_str(), (gssize)text.size(), nullptr))
    return nullptr;
  return json_node_copy(json_parser_get_root(parser));
}

JsonObject* obj(JsonNode* node) {
  fail_unless(node != nullptr && JSON_NODE_HOLDS_OBJECT(node), "not a JSON object");
  return json_node_get_object(node);
}

std::string str(JsonObject* o, const char* name) {
  const char* v = json_object_get_string_member_with_default(o, name, nullptr);
  return v ? v : "";
}

std::string error_code(const Response& r) {
  g_autoptr(JsonNode) node = parse(r.body);
  fail_unless(node && JSON_NODE_HOLDS_OBJECT(node), "error body is not JSON: %s", r.body.c_str());
  JsonObject* o = json_node_get_object(node);
  fail_unless(json_object_has_member(o, "error"), "no error member: %s", r.body.c_str());
  return str(json_object_get_object_member(o, "error"), "code");
}

std::string error_message(const Response& r) {
  g_autoptr(JsonNode) node = parse(r.body);
  fail_unless(node && JSON_NODE_HOLDS_OBJECT(node));
  return str(json_object_get_object_member(json_node_get_object(node), "error"), "message");
}

std::string uuid() {
  g_autofree gchar* u = g_uuid_string_random();
  return u;
}

/* Submits and returns the task id, checking 201 + queued. */
std::string submit(EmulatorProcess& emu, const std::string& body, const std::string& idem) {
  Response r = http("POST", emu.url() + "/api/v1/tasks", body, auth(idem.empty() ? uuid() : idem));
  fail_unless_equals_int(r.status, 201);
  g_autoptr(JsonNode) node = parse(r.body);
  assert_str(str(obj(node), "status"), "queued");
  std::string id = str(obj(node), "task_id");
  fail_unless(g_str_has_prefix(id.c_str(), "task_"), "bad task id %s", id.c_str());
  return id;
}

/* Polls until a terminal status; returns the final task object and the statuses seen. */
JsonNode* wait_task(EmulatorProcess& emu, const std::string& id, std::vector<std::string>* seen, SoupSession* via) {
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    Response r = http_on(via, "GET", emu.url() + "/api/v1/tasks/" + id, "", auth());
    fail_unless_equals_int(r.status, 200);
    JsonNode* node = parse(r.body);
    std::string status = str(obj(node), "status");
    if (seen && (seen->empty() || seen->back() != status))
      seen->push_back(status);
    if (status == "succeeded" || status == "failed" || status == "cancelled")
      return node;
    json_node_unref(node);
    g_usleep(40 * 1000);
  }
  fail("task %s did not finish within 30 s", id.c_str());
  return nullptr;
}

std::vector<std::string> output_urls(JsonNode* task, const char* kind) {
  std::vector<std::string> urls;
  JsonObject* o = obj(task);
  fail_unless(json_object_has_member(o, "output"), "task has no output");
  JsonArray* list = json_object_get_array_member(json_object_get_object_member(o, "output"), kind);
  fail_unless(list != nullptr, "output has no %s", kind);
  for (guint i = 0; i < json_array_get_length(list); i++)
    urls.push_back(str(json_array_get_object_element(list, i), "url"));
  return urls;
}

std::vector<std::string> event_statuses(const Response& r) {
  std::vector<std::string> out;
  g_autoptr(JsonNode) node = parse(r.body);
  JsonArray* events = json_object_get_array_member(obj(node), "events");
  fail_unless(events != nullptr, "no events array: %s", r.body.c_str());
  for (guint i = 0; i < json_array_get_length(events); i++) {
    JsonObject* e = json_array_get_object_element(events, i);
    assert_str(str(e, "type"), "status");
    fail_unless(!str(e, "created_at").empty());
    out.push_back(str(e, "status"));
  }
  return out;
}

int stat_of(EmulatorProcess& emu, const char* group, const char* name) {
  g_autoptr(JsonNode) stats = emu.get_json("/_emulator/stats");
  JsonObject* o = obj(stats);
  if (group)
    o = json_object_get_object_member(o, group);
  fail_unless(o && json_object_has_member(o, name), "stats have no %s", name);
  return (int)json_object_get_int_member(o, name);
}

goffset read_stream(const std::string& url, guint* status, goffset* content_length, std::string* error) {
  g_autoptr(SoupMessage) msg = new_message("GET", url, "", {}, true);
  g_autoptr(GError) err = nullptr;
  g_autoptr(GInputStream) in = soup_session_send(session(), msg, nullptr, &err);
  fail_unless(in != nullptr, "GET %s failed: %s", url.c_str(), err ? err->message : "?");
  *status = soup_message_get_status(msg);
  *content_length = soup_message_headers_get_content_length(soup_message_get_response_headers(msg));
  goffset total = 0;
  char buf[16384];
  for (;;) {
    g_autoptr(GError) read_error = nullptr;
    gssize n = g_input_stream_read(in, buf, sizeof buf, nullptr, &read_error);
    if (n < 0) {
      *error = read_error->message;
      break;
    }
    if (n == 0)
      break;
    total += n;
  }
  return total;
}
