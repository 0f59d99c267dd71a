/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's events as a push channel (Server-Sent Events): live
 * events, failed tasks, clients that hang up, faults, reset.
 */
#include "test-emulator-helpers.h"

#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* RFC 3339 timestamp (as the emulator writes them) → g_get_real_time() units. */
gint64 parse_time_us(const std::string& text) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text.c_str(), nullptr);
  fail_unless(dt != nullptr, "bad timestamp '%s'", text.c_str());
  return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
}

/* A Server-Sent Events client on a plain libsoup session: soup_session_send,
 * then blocking reads of the body as it arrives. */
class SseClient {
 public:
  struct Event {
    std::string type, data, status;  // status: from the JSON data
    gint64 received_us = 0;          // g_get_real_time() when it was complete
    gint64 created_us = 0;           // its "created_at"
  };

  explicit SseClient(const std::string& url, const Headers& extra = {}) {
    session_ = soup_session_new_with_options("timeout", 10, nullptr);
    Headers headers = auth();
    headers.emplace_back("Accept", "text/event-stream");
    headers.insert(headers.end(), extra.begin(), extra.end());
    msg_ = new_message("GET", url, "", headers, true);
    cancellable_ = g_cancellable_new();
    g_autoptr(GError) error = nullptr;
    in_ = soup_session_send(session_, msg_, cancellable_, &error);
    fail_unless(in_ != nullptr, "GET %s failed: %s", url.c_str(), error ? error->message : "?");
  }
  ~SseClient() {
    disconnect();
    g_clear_object(&msg_);
    g_clear_object(&cancellable_);
  }

  SoupMessage* message() const { return msg_; }
  /* ": ..." comment lines seen so far. */
  int comments() const { return comments_; }

  /* The next event; false at the end of the stream (`*error` says whether
   * it ended with a read error rather than a clean end). */
  bool next(Event* out, std::string* error = nullptr) {
    for (;;) {
      size_t end = buffer_.find("\n\n");
      if (end != std::string::npos) {
        std::string block = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        Event e;
        bool any = false;
        for (const auto& line : split_lines(block)) {
          if (line.empty())
            continue;
          if (line[0] == ':') {
            comments_++;
            continue;
          }
          if (g_str_has_prefix(line.c_str(), "event: "))
            e.type = line.substr(7), any = true;
          else if (g_str_has_prefix(line.c_str(), "data: "))
            e.data += line.substr(6), any = true;
          else
            fail("unexpected SSE line '%s'", line.c_str());
        }
        if (!any)
          continue;  // a comment block
        e.received_us = g_get_real_time();
        g_autoptr(JsonNode) node = parse(e.data);
        fail_unless(node != nullptr, "event data is not JSON: %s", e.data.c_str());
        assert_str(str(obj(node), "type"), "status");
        e.status = str(obj(node), "status");
        e.created_us = parse_time_us(str(obj(node), "created_at"));
        *out = e;
        return true;
      }
      char buf[4096];
      g_autoptr(GError) read_error = nullptr;
      gssize n = g_input_stream_read(in_, buf, sizeof buf, nullptr, &read_error);
      if (n <= 0) {
        fail_unless(buffer_.find_first_not_of('\n') == std::string::npos, "stream ended inside an event: '%s'",
                    buffer_.c_str());
        if (error)
          *error = n < 0 ? read_error->message : "";
        return false;
      }
      buffer_.append(buf, (size_t)n);
    }
  }

  /* Hangs up without reading the rest (closing the stream normally would
   * read it to the end first), and drops the session's connection. */
  void disconnect() {
    if (!in_)
      return;
    g_cancellable_cancel(cancellable_);
    g_input_stream_close(in_, cancellable_, nullptr);
    g_clear_object(&in_);
    soup_session_abort(session_);
    g_clear_object(&session_);
  }

 private:
  static std::vector<std::string> split_lines(const std::string& block) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = block.find('\n', start)) != std::string::npos; start = nl + 1)
      lines.push_back(block.substr(start, nl - start));
    lines.push_back(block.substr(start));
    return lines;
  }

  SoupSession* session_ = nullptr;
  SoupMessage* msg_ = nullptr;
  GCancellable* cancellable_ = nullptr;
  GInputStream* in_ = nullptr;
  std::string buffer_;
  int comments_ = 0;
};

std::string task_status(EmulatorProcess& emu, const std::string& id) {
  Response r = http("GET", emu.url() + "/api/v1/tasks/" + id, "", auth());
  fail_unless_equals_int(r.status, 200);
  g_autoptr(JsonNode) node = parse(r.body);
  return str(obj(node), "status");
}

/* The request log's status for requests to `path` (0 while unanswered). */
std::vector<int> logged_statuses(EmulatorProcess& emu, const std::string& path) {
  std::vector<int> out;
  g_autoptr(JsonNode) log = emu.requests();
  fail_unless(log && JSON_NODE_HOLDS_ARRAY(log));
  JsonArray* entries = json_node_get_array(log);
  for (guint i = 0; i < json_array_get_length(entries); i++) {
    JsonObject* e = json_array_get_object_element(entries, i);
    if (str(e, "path") == path)
      out.push_back((int)json_object_get_int_member(e, "status"));
  }
  return out;
}

}  // namespace

/* GET /events with Accept: text/event-stream is a push channel: the events
 * so far at once, each new one as it happens, then the end of the body. */
GST_START_TEST(test_events_stream) {
  auto emu = start_emulator();
  /* Long enough that "as it happens" and "at the end" cannot be confused. */
  fail_unless(emu->set_config(R"({"queued_ms":700,"processing_ms":900})"));
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"stream"}})";
  const std::string tasks = emu->url() + "/api/v1/tasks/";

  std::string id = submit(*emu, body);
  const int events_before = stat_of(*emu, "requests", "events");
  {
    SseClient sse(tasks + id + "/events");
    SoupMessage* m = sse.message();
    fail_unless_equals_int(soup_message_get_status(m), 200);
    SoupMessageHeaders* h = soup_message_get_response_headers(m);
    fail_unless(g_str_has_prefix(soup_message_headers_get_content_type(h, nullptr), "text/event-stream"));
    assert_str(soup_message_headers_get_one(h, "Cache-Control"), "no-cache");
    fail_unless_equals_int(soup_message_headers_get_encoding(h), SOUP_ENCODING_CHUNKED);

    std::vector<SseClient::Event> got;
    SseClient::Event e;
    std::string error;
    while (sse.next(&e, &error)) {
      assert_str(e.type, "status");
      if (got.empty())  // sent at once: the task is still where it was
        assert_str(task_status(*emu, id), "queued");
      got.push_back(e);
    }
    fail_unless(error.empty(), "the stream ended with an error: %s", error.c_str());
    fail_unless_equals_int(got.size(), 3);
    for (size_t i = 0; i < kTimeline.size(); i++)
      assert_str(got[i].status, kTimeline[i]);
    /* Each event arrived before the next one happened (pushed, not
     * collected at the end), and soon after its own time. */
    fail_unless(got[0].received_us < got[1].created_us, "queued arrived after the task moved on");
    fail_unless(got[1].received_us < got[2].created_us, "processing arrived only after the task ended");
    for (size_t i = 1; i < got.size(); i++) {
      const gint64 lag = got[i].received_us - got[i].created_us;
      fail_unless(lag < G_USEC_PER_SEC, "%s arrived %" G_GINT64_FORMAT " ms late", got[i].status.c_str(),
                  lag / 1000);
    }
    g_autoptr(JsonNode) done = wait_task(*emu, id);
    assert_str(str(obj(done), "status"), "succeeded");
    fail_unless_equals_int(sse.comments(), 0);
  }
  fail_unless_equals_int(stat_of(*emu, "requests", "events"), events_before + 1);
  /* The JSON variant is unchanged. */
  Response json = http("GET", tasks + id + "/events", "", auth());
  fail_unless(g_str_has_prefix(json.header("Content-Type").c_str(), "application/json"));
  fail_unless(event_statuses(json) == kTimeline, "unexpected events: %s", json.body.c_str());

  /* A task that fails: its terminal event ends the stream too. */
  fail_unless(emu->set_config(R"({"queued_ms":100,"processing_ms":300})"));
  fail_unless(emu->add_fault(R"({"route":"task","action":"fail"})"));
  std::string failing = submit(*emu, body);
  {
    SseClient sse(tasks + failing + "/events");
    std::vector<std::string> statuses;
    SseClient::Event e;
    while (sse.next(&e))
      statuses.push_back(e.status);
    fail_unless(statuses == std::vector<std::string>({"queued", "processing", "failed"}), "%zu events, last %s",
                statuses.size(), statuses.empty() ? "-" : statuses.back().c_str());
  }

  /* A client that hangs up mid-stream: the server notices at once (the
   * request is logged as answered, 200, while the task is still
   * processing), and the task finishes and reads normally. */
  fail_unless(emu->set_config(R"({"queued_ms":100,"processing_ms":2500})"));
  std::string left = submit(*emu, body);
  const std::string left_path = "/api/v1/tasks/" + left + "/events";
  {
    SseClient sse(tasks + left + "/events");
    SseClient::Event e;
    fail_unless(sse.next(&e));
    assert_str(e.status, "queued");
    /* Hang up while nothing is being written (the next event is 2.5 s
     * away), so only watching the connection can tell. */
    fail_unless(sse.next(&e));
    assert_str(e.status, "processing");
    std::vector<int> open = logged_statuses(*emu, left_path);
    fail_unless(open.size() == 1 && open[0] == 0, "the stream should be open (status 0)");
    sse.disconnect();
    std::vector<int> statuses;
    for (int i = 0; i < 75 && (statuses = logged_statuses(*emu, left_path)) != std::vector<int>{200}; i++)
      g_usleep(20 * 1000);
    fail_unless(statuses == std::vector<int>{200}, "the server did not notice the client leaving");
    fail_if(task_status(*emu, left) == "succeeded", "too slow to tell (task already finished)");
  }
  g_autoptr(JsonNode) left_task = wait_task(*emu, left);
  assert_str(str(obj(left_task), "status"), "succeeded");
  fail_unless_equals_int(http("GET", output_urls(left_task, "images")[0]).status, 200);

  /* Faults still apply to SSE requests: a status fault, and a delay after
   * which the stream is live. */
  fail_unless(emu->set_config(R"({"queued_ms":400,"processing_ms":400})"));
  std::string late = submit(*emu, body);
  fail_unless(emu->add_fault(R"({"route":"events","action":"status","status":429})"));
  Headers sse_headers = auth();
  sse_headers.emplace_back("Accept", "text/event-stream");
  fail_unless_equals_int(http("GET", tasks + late + "/events", "", sse_headers).status, 429);
  fail_unless(emu->add_fault(R"({"route":"events","action":"delay","ms":200})"));
  {
    gint64 t0 = g_get_monotonic_time();
    SseClient sse(tasks + late + "/events");
    fail_unless(g_get_monotonic_time() - t0 >= 150 * 1000, "delay not applied");
    std::vector<std::string> statuses;
    SseClient::Event e;
    while (sse.next(&e))
      statuses.push_back(e.status);
    fail_unless(statuses == kTimeline, "%zu events after a delay", statuses.size());
  }

  /* Deleting the tasks (reset) ends open streams cleanly. */
  fail_unless(emu->set_config(R"({"queued_ms":100,"processing_ms":400})"));
  fail_unless(emu->add_fault(R"({"route":"task","action":"hang"})"));
  std::string stuck = submit(*emu, body);
  {
    SseClient sse(tasks + stuck + "/events");
    SseClient::Event e;
    fail_unless(sse.next(&e));
    assert_str(e.status, "queued");
    fail_unless(sse.next(&e));
    assert_str(e.status, "processing");
    fail_unless(emu->reset());
    std::string error = "?";
    fail_if(sse.next(&e, &error), "an event after reset: %s", e.data.c_str());
    fail_unless(error.empty(), "the stream ended with an error: %s", error.c_str());
  }
  /* The server is still fine. */
  std::string after = submit(*emu, body);
  g_autoptr(JsonNode) after_task = wait_task(*emu, after);
  assert_str(str(obj(after_task), "status"), "succeeded");
}
GST_END_TEST;

static Suite* emulator_events_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-events");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_events_stream);
  return s;
}

GST_CHECK_MAIN(emulator_events)
