/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Smoke test of mindvideo-emulator through the harness and a plain libsoup
 * client: API contract, real media, CDN semantics and fault rules.
 */
#include <gst/check/gstcheck.h>

#include "emulator-harness.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

/* fail_unless_equals_string keeps the raw pointers: it must not be given
 * std::string temporaries. This copies both sides first. */
#define assert_str(a, b)                                                                          \
  do {                                                                                            \
    const std::string assert_a_ = (a), assert_b_ = (b);                                           \
    fail_unless(assert_a_ == assert_b_, "'%s' is not equal to '%s'", assert_a_.c_str(), assert_b_.c_str()); \
  } while (0)

namespace {

const char kKey[] = "mv_test_key";

/* Short timelines keep the suite fast; statuses are still observable. */
std::unique_ptr<Emulator> start_emulator(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--queued-ms", "150", "--processing-ms", "400"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto emu = Emulator::start(args);
  fail_unless(emu != nullptr, "emulator did not start");
  return emu;
}

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
};

using Headers = std::vector<std::pair<std::string, std::string>>;

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

void collect_headers(SoupMessage* msg, Response* r) {
  SoupMessageHeadersIter iter;
  const char *name, *value;
  soup_message_headers_iter_init(&iter, soup_message_get_response_headers(msg));
  while (soup_message_headers_iter_next(&iter, &name, &value)) {
    g_autofree gchar* lower = g_ascii_strdown(name, -1);
    r->headers[lower] = value;
  }
}

Response http_on(SoupSession* s, const char* method, const std::string& url, const std::string& body = "",
                 const Headers& headers = {}, bool follow = true) {
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

Response http(const char* method, const std::string& url, const std::string& body = "", const Headers& headers = {},
              bool follow = true) {
  return http_on(session(), method, url, body, headers, follow);
}

Headers auth(const std::string& idempotency_key = "") {
  Headers h = {{"Authorization", std::string("Bearer ") + kKey}};
  if (!idempotency_key.empty())
    h.emplace_back("Idempotency-Key", idempotency_key);
  return h;
}

/* Reads a body until EOF or error; returns the byte count. */
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
std::string submit(Emulator& emu, const std::string& body, const std::string& idem = "") {
  Response r = http("POST", emu.url() + "/api/v1/tasks", body, auth(idem.empty() ? uuid() : idem));
  fail_unless_equals_int(r.status, 201);
  g_autoptr(JsonNode) node = parse(r.body);
  assert_str(str(obj(node), "status"), "queued");
  std::string id = str(obj(node), "task_id");
  fail_unless(g_str_has_prefix(id.c_str(), "task_"), "bad task id %s", id.c_str());
  return id;
}

/* Polls until a terminal status; returns the final task object and the statuses seen. */
JsonNode* wait_task(Emulator& emu, const std::string& id, std::vector<std::string>* seen = nullptr,
                    SoupSession* via = session()) {
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

std::string read_file(const std::string& path) {
  g_autofree gchar* data = nullptr;
  gsize size = 0;
  fail_unless(g_file_get_contents(path.c_str(), &data, &size, nullptr), "cannot read %s", path.c_str());
  return std::string(data, size);
}

guint32 be32(const std::string& s, size_t at) {
  return ((guint32)(guint8)s[at] << 24) | ((guint32)(guint8)s[at + 1] << 16) | ((guint32)(guint8)s[at + 2] << 8) |
         (guint32)(guint8)s[at + 3];
}

/* Top-level ISO-BMFF box types, in file order. */
std::vector<std::string> mp4_boxes(const std::string& data) {
  std::vector<std::string> boxes;
  size_t pos = 0;
  while (pos + 8 <= data.size()) {
    guint64 size = be32(data, pos);
    boxes.push_back(data.substr(pos + 4, 4));
    if (size == 1 && pos + 16 <= data.size())
      size = ((guint64)be32(data, pos + 8) << 32) | be32(data, pos + 12);
    if (size < 8)
      break;
    pos += size;
  }
  return boxes;
}

int index_of(const std::vector<std::string>& v, const char* item) {
  for (size_t i = 0; i < v.size(); i++)
    if (v[i] == item)
      return (int)i;
  return -1;
}

struct Decoded {
  gint frames = 0;  // updated from the streaming thread
  int width = 0, height = 0;
};

void on_handoff(GstElement*, GstBuffer*, GstPad* pad, gpointer data) {
  auto* d = static_cast<Decoded*>(data);
  if (g_atomic_int_add(&d->frames, 1) == 0) {
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "width", &d->width);
    gst_structure_get_int(s, "height", &d->height);
  }
}

/* Decodes a file with decodebin and counts the frames. Debian 12's
 * avdemux_gif never posts EOS (it keeps pulling past the end), so for GIFs
 * pass `no_eos_frames`: decoding stops once that many frames arrived and
 * no more follow. */
Decoded decode_file(const std::string& path, int no_eos_frames = 0) {
  Decoded d;
  g_autoptr(GError) error = nullptr;
  g_autoptr(GstElement) pipeline =
      gst_parse_launch("filesrc name=src ! decodebin ! fakesink name=sink signal-handoffs=true sync=false", &error);
  fail_unless(pipeline != nullptr, "cannot build decode pipeline: %s", error ? error->message : "?");
  {
    g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "location", path.c_str(), nullptr);
    g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &d);
  }
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  const GstMessageType types = (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  g_autoptr(GstMessage) msg = nullptr;
  while (!msg && g_get_monotonic_time() < deadline) {
    msg = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, types);
    if (!msg && no_eos_frames > 0 && g_atomic_int_get(&d.frames) >= no_eos_frames) {
      msg = gst_bus_timed_pop_filtered(bus, 300 * GST_MSECOND, types);  // anything more would show up here
      break;
    }
  }
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    fail("decoding %s failed: %s", path.c_str(), err->message);
  }
  fail_unless(msg != nullptr || no_eos_frames > 0, "decoding %s timed out", path.c_str());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return d;
}

/* Counts the image descriptors of a GIF by walking its block structure. */
int gif_frame_count(const std::string& gif) {
  fail_unless(gif.size() > 13 && gif.compare(0, 6, "GIF89a") == 0, "not a GIF89a");
  size_t pos = 13;
  guint8 flags = (guint8)gif[10];
  if (flags & 0x80)
    pos += 3u * (1u << ((flags & 7) + 1));  // global colour table
  auto skip_sub_blocks = [&]() {
    while (pos < gif.size() && gif[pos] != 0)
      pos += 1 + (guint8)gif[pos];
    pos++;
  };
  int frames = 0;
  while (pos < gif.size()) {
    guint8 block = (guint8)gif[pos];
    if (block == 0x3B)
      return frames;  // trailer
    if (block == 0x21) {
      pos += 2;
      skip_sub_blocks();
    } else if (block == 0x2C) {
      guint8 local = (guint8)gif[pos + 9];
      pos += 10;
      if (local & 0x80)
        pos += 3u * (1u << ((local & 7) + 1));
      pos++;  // LZW minimum code size
      skip_sub_blocks();
      frames++;
    } else {
      fail("unexpected GIF block 0x%02x at %zu", block, pos);
    }
  }
  fail("GIF has no trailer");
  return -1;
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

const std::vector<std::string> kTimeline = {"queued", "processing", "succeeded"};

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

std::string task_status(Emulator& emu, const std::string& id) {
  Response r = http("GET", emu.url() + "/api/v1/tasks/" + id, "", auth());
  fail_unless_equals_int(r.status, 200);
  g_autoptr(JsonNode) node = parse(r.body);
  return str(obj(node), "status");
}

/* The request log's status for requests to `path` (0 while unanswered). */
std::vector<int> logged_statuses(Emulator& emu, const std::string& path) {
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

GST_START_TEST(test_image_task) {
  auto emu = start_emulator();
  std::string id = submit(*emu,
                          R"({"model":"gemini-3-1-flash-image-preview","input":{"prompt":"赛博朋克风格的城市夜景 <neon> & rain",)"
                          R"("size":"16:9","resolution":"0.5K","n":2}})");
  std::vector<std::string> seen = {"queued"};  // as submit answered
  g_autoptr(JsonNode) task = wait_task(*emu, id, &seen);
  fail_unless(seen == kTimeline, "unexpected status sequence (%zu statuses, last %s)", seen.size(),
              seen.back().c_str());
  JsonObject* t = obj(task);
  fail_unless(json_object_get_double_member(t, "cost_actual") == 0.09);
  fail_unless(json_object_get_double_member(t, "cost_estimate") == 0.09);
  fail_unless(!json_object_has_member(t, "error"));

  auto urls = output_urls(task, "images");
  auto files = emu->task_files(id);
  fail_unless_equals_int(urls.size(), 2);
  fail_unless_equals_int(files.size(), 2);
  std::string first;
  for (size_t i = 0; i < urls.size(); i++) {
    fail_if(g_str_has_prefix(urls[i].c_str(), emu->url().c_str()), "outputs must come from another origin");
    Response r = http("GET", urls[i]);
    fail_unless_equals_int(r.status, 200);
    assert_str(r.header("Content-Type"), "image/png");
    assert_str(r.header("Accept-Ranges"), "bytes");
    assert_str(r.header("Content-Length"), std::to_string(r.body.size()));
    fail_unless(r.body == read_file(files[i]), "downloaded bytes differ from %s", files[i].c_str());
    /* PNG signature, then IHDR: width and height as big-endian 32-bit. */
    fail_unless(r.body.size() > 24 && memcmp(r.body.data(), "\x89PNG\r\n\x1a\n", 8) == 0, "not a PNG");
    fail_unless(r.body.compare(12, 4, "IHDR") == 0);
    fail_unless_equals_int(be32(r.body, 16), 512);
    fail_unless_equals_int(be32(r.body, 20), 288);
    if (i == 0)
      first = r.body;
    else
      fail_if(r.body == first, "the n images must differ");
  }
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* Events: JSON by default, SSE on request. */
  Response ev = http("GET", emu->url() + "/api/v1/tasks/" + id + "/events", "", auth());
  fail_unless_equals_int(ev.status, 200);
  fail_unless(g_str_has_prefix(ev.header("Content-Type").c_str(), "application/json"));
  fail_unless(event_statuses(ev) == kTimeline, "unexpected events: %s", ev.body.c_str());
  Headers sse_headers = auth();
  sse_headers.emplace_back("Accept", "text/event-stream");
  Response sse = http("GET", emu->url() + "/api/v1/tasks/" + id + "/events", "", sse_headers);
  fail_unless_equals_int(sse.status, 200);
  fail_unless(g_str_has_prefix(sse.header("Content-Type").c_str(), "text/event-stream"));
  size_t count = 0;
  for (size_t pos = 0; (pos = sse.body.find("event: status\ndata: {", pos)) != std::string::npos; pos++)
    count++;
  fail_unless_equals_int(count, 3);
  fail_unless(sse.body.find("\"status\":\"succeeded\"") != std::string::npos, "SSE: %s", sse.body.c_str());
}
GST_END_TEST;

GST_START_TEST(test_video_task) {
  auto emu = start_emulator({"--fps", "8"});
  std::string id = submit(*emu, R"({"model":"veo3-1-fast","input":{"prompt":"海边日落时一辆红色跑车驶过公路",)"
                                R"("duration":2,"enable_gif":true}})");
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  assert_str(str(obj(task), "status"), "succeeded");
  fail_unless(json_object_get_double_member(obj(task), "cost_actual") == 0.4);
  auto urls = output_urls(task, "videos");
  auto files = emu->task_files(id);
  fail_unless_equals_int(urls.size(), 2);
  fail_unless_equals_int(files.size(), 2);

  Response mp4 = http("GET", urls[0]);
  fail_unless_equals_int(mp4.status, 200);
  assert_str(mp4.header("Content-Type"), "video/mp4");
  fail_unless(mp4.body == read_file(files[0]));
  auto boxes = mp4_boxes(mp4.body);
  int mdat = index_of(boxes, "mdat"), moov = index_of(boxes, "moov");
  fail_unless(mdat >= 0 && moov >= 0, "mdat/moov missing");
  fail_unless(moov > mdat, "moov must come after mdat (faststart off)");
  Decoded video = decode_file(files[0]);
  fail_unless_equals_int(video.frames, 2 * 8);
  fail_unless_equals_int(video.width, 1280);
  fail_unless_equals_int(video.height, 720);

  Response gif = http("GET", urls[1]);
  fail_unless_equals_int(gif.status, 200);
  assert_str(gif.header("Content-Type"), "image/gif");
  fail_unless(gif.body.compare(0, 6, "GIF89a") == 0, "not a GIF");
  fail_unless(gif.body == read_file(files[1]));
  fail_unless_equals_int(gif_frame_count(gif.body), 2 * 8);
  Decoded anim = decode_file(files[1], 2 * 8);
  fail_unless_equals_int(anim.frames, 2 * 8);
  fail_unless_equals_int(anim.width, 320);
}
GST_END_TEST;

GST_START_TEST(test_idempotency) {
  auto emu = start_emulator({"--key", kKey, "--key", "mv_other_key"});
  const std::string key = uuid();
  const std::string url = emu->url() + "/api/v1/tasks";
  std::string id = submit(*emu, R"({"model":"gpt-image-2","input":{"prompt":"一只橘猫","size":"1:1"}})", key);
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* Same payload, other key order and whitespace: the original task, no charge. */
  Response replay = http("POST", url, "{ \"input\": {\"size\": \"1:1\", \"prompt\": \"一只橘猫\"},\n \"model\": \"gpt-image-2\" }",
                         auth(key));
  fail_unless_equals_int(replay.status, 200);
  g_autoptr(JsonNode) node = parse(replay.body);
  assert_str(str(obj(node), "task_id"), id);
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(emu->ledger_count(key), 1);

  Response conflict = http("POST", url, R"({"model":"gpt-image-2","input":{"prompt":"一只黑猫"}})", auth(key));
  fail_unless_equals_int(conflict.status, 409);
  assert_str(error_code(conflict), "idempotency_conflict");
  fail_unless(error_message(conflict).find("different payload") != std::string::npos);
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* Keys are scoped per API key. */
  Response other = http("POST", url, R"({"model":"gpt-image-2","input":{"prompt":"一只橘猫","size":"1:1"}})",
                        {{"Authorization", "Bearer mv_other_key"}, {"Idempotency-Key", key}});
  fail_unless_equals_int(other.status, 201);
  /* ... and the other key cannot see this key's task. */
  Response foreign = http("GET", emu->url() + "/api/v1/tasks/" + id, "", {{"Authorization", "Bearer mv_other_key"}});
  fail_unless_equals_int(foreign.status, 404);

  /* No Idempotency-Key: no deduplication. */
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"no key"}})";
  Response a = http("POST", url, body, auth());
  Response b = http("POST", url, body, auth());
  fail_unless_equals_int(a.status, 201);
  fail_unless_equals_int(b.status, 201);
  g_autoptr(JsonNode) na = parse(a.body);
  g_autoptr(JsonNode) nb = parse(b.body);
  fail_if(str(obj(na), "task_id") == str(obj(nb), "task_id"));
  fail_unless_equals_int(emu->ledger_count(), 4);

  g_autoptr(JsonNode) ledger = emu->get_json("/_emulator/ledger");
  JsonArray* charges = json_object_get_array_member(obj(ledger), "charges");
  std::string prefix = str(json_array_get_object_element(charges, 0), "api_key_sha256_prefix");
  fail_unless_equals_int(prefix.size(), 12);
  g_autofree gchar* ledger_text = json_to_string(ledger, FALSE);
  fail_if(strstr(ledger_text, kKey) != nullptr, "the ledger must not contain raw keys");
}
GST_END_TEST;

GST_START_TEST(test_auth_and_validation) {
  auto emu = start_emulator();
  const std::string url = emu->url() + "/api/v1/tasks";
  const std::string ok_body = R"({"model":"gpt-image-2","input":{"prompt":"x"}})";

  Response bad = http("POST", url, ok_body, {{"Authorization", "Bearer mv_wrong_secret_123"}});
  fail_unless_equals_int(bad.status, 401);
  assert_str(error_code(bad), "unauthorized");
  fail_unless(bad.body.find("mv_wrong_secret_123") == std::string::npos, "the key must never be echoed");
  fail_unless(g_str_has_prefix(bad.header("Content-Type").c_str(), "application/json"));
  Response none = http("POST", url, ok_body);
  fail_unless_equals_int(none.status, 401);
  Response poll = http("GET", url + "/task_nope", "", {{"Authorization", "Bearer mv_wrong_secret_123"}});
  fail_unless_equals_int(poll.status, 401);
  Response missing = http("GET", url + "/task_nope", "", auth());
  fail_unless_equals_int(missing.status, 404);
  assert_str(error_code(missing), "not_found");

  Response dur = http("POST", url, R"({"model":"veo3-1-quality","input":{"prompt":"p","duration":5}})", auth(uuid()));
  fail_unless_equals_int(dur.status, 422);
  assert_str(error_code(dur), "invalid_input");
  fail_unless(error_message(dur).find("duration") != std::string::npos, "message: %s", dur.body.c_str());
  /* Every violation is listed. */
  Response two = http("POST", url, R"({"model":"gpt-image-2","input":{"colour":"red","n":3}})", auth());
  fail_unless_equals_int(two.status, 422);
  std::string msg = error_message(two);
  fail_unless(msg.find("colour") != std::string::npos && msg.find("prompt") != std::string::npos &&
                  msg.find("; ") != std::string::npos,
              "message: %s", msg.c_str());

  Response unknown = http("POST", url, R"({"model":"sora-99","input":{"prompt":"p"}})", auth());
  fail_unless_equals_int(unknown.status, 400);
  assert_str(error_code(unknown), "unknown_model");
  Response not_json = http("POST", url, "{model:", auth());
  fail_unless_equals_int(not_json.status, 400);
  Response no_input = http("POST", url, R"({"model":"gpt-image-2"})", auth());
  fail_unless_equals_int(no_input.status, 400);
  Response array = http("POST", url, "[1,2]", auth());
  fail_unless_equals_int(array.status, 400);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

GST_START_TEST(test_cdn) {
  auto emu = start_emulator();
  std::string id = submit(*emu, R"({"model":"qwen-image-2-0-pro","input":{"prompt":"range","size":"4:3"}})");
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  std::string url = output_urls(task, "images")[0];
  std::string data = read_file(emu->task_files(id)[0]);
  const std::string size = std::to_string(data.size());
  fail_unless(data.size() > 100);
  fail_unless(data.compare(0, 3, "\xff\xd8\xff") == 0, "qwen outputs are JPEG");

  Response r = http("GET", url, "", {{"Range", "bytes=10-19"}});
  fail_unless_equals_int(r.status, 206);
  assert_str(r.header("Content-Range"), "bytes 10-19/" + size);
  assert_str(r.header("Content-Type"), "image/jpeg");
  fail_unless(r.body == data.substr(10, 10));
  Response tail = http("GET", url, "", {{"Range", "bytes=-5"}});
  fail_unless_equals_int(tail.status, 206);
  fail_unless(tail.body == data.substr(data.size() - 5));
  Response open_end = http("GET", url, "", {{"Range", "bytes=" + std::to_string(data.size() - 7) + "-"}});
  fail_unless_equals_int(open_end.status, 206);
  fail_unless(open_end.body == data.substr(data.size() - 7));
  Response beyond = http("GET", url, "", {{"Range", "bytes=" + size + "-"}});
  fail_unless_equals_int(beyond.status, 416);
  assert_str(beyond.header("Content-Range"), "bytes */" + size);

  Response head = http("HEAD", url);
  fail_unless_equals_int(head.status, 200);
  assert_str(head.header("Content-Length"), size);
  fail_unless(head.body.empty());

  std::string unsigned_url = url.substr(0, url.find("?sig="));
  fail_unless_equals_int(http("GET", unsigned_url).status, 403);
  fail_unless_equals_int(http("GET", unsigned_url + "?sig=0123").status, 403);

  /* The API key must never go to the CDN; when it does, the CDN refuses and the log shows it. */
  fail_unless(emu->clear_requests());
  Response leak = http("GET", url, "", auth());
  fail_unless_equals_int(leak.status, 400);
  assert_str(error_message(leak), "Only one auth mechanism allowed");
  g_autoptr(JsonNode) log = emu->requests();
  fail_unless(log && JSON_NODE_HOLDS_ARRAY(log));
  JsonArray* entries = json_node_get_array(log);
  fail_unless_equals_int(json_array_get_length(entries), 1);
  JsonObject* entry = json_array_get_object_element(entries, 0);
  assert_str(str(entry, "origin"), "cdn");
  fail_unless_equals_int(json_object_get_int_member(entry, "status"), 400);
  JsonObject* headers = json_object_get_object_member(entry, "headers");
  assert_str(str(headers, "Authorization"), std::string("Bearer ") + kKey);
}
GST_END_TEST;

GST_START_TEST(test_faults) {
  auto emu = start_emulator();
  const std::string url = emu->url() + "/api/v1/tasks";
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"faults"}})";

  /* 503 once on submit: nothing created or charged, then success. */
  fail_unless(emu->add_fault(R"({"route":"submit","action":"status","status":503,"retry_after":"2"})"));
  const std::string key = uuid();
  Response busy = http("POST", url, body, auth(key));
  fail_unless_equals_int(busy.status, 503);
  assert_str(busy.header("Retry-After"), "2");
  fail_unless_equals_int(emu->ledger_count(), 0);
  Response created = http("POST", url, body, auth(key));
  fail_unless_equals_int(created.status, 201);
  fail_unless_equals_int(emu->ledger_count(), 1);
  g_autoptr(JsonNode) created_node = parse(created.body);
  std::string id = str(obj(created_node), "task_id");

  /* Response lost after the task was created: the retry with the same key replays it. */
  fail_unless(emu->add_fault(R"({"route":"submit","action":"cut","after_processing":true})"));
  const std::string key2 = uuid();
  Response lost = http("POST", url, body, auth(key2));
  fail_unless_equals_int(lost.status, 0);
  fail_unless_equals_int(emu->ledger_count(), 2);
  Response again = http("POST", url, body, auth(key2));
  fail_unless_equals_int(again.status, 200);
  fail_unless_equals_int(emu->ledger_count(), 2);

  /* Truncated download: full Content-Length, fewer bytes. */
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  std::string file_url = output_urls(task, "images")[0];
  fail_unless(emu->add_fault(R"({"route":"download","action":"truncate","bytes":100})"));
  guint status = 0;
  goffset length = -1;
  std::string error;
  goffset got = read_stream(file_url, &status, &length, &error);
  fail_unless_equals_int(status, 200);
  fail_unless(length > 100, "Content-Length %" G_GINT64_FORMAT, (gint64)length);
  fail_unless_equals_int(got, 100);
  fail_unless(got < length);
  /* The rule was used up: the next download is whole. */
  got = read_stream(file_url, &status, &length, &error);
  fail_unless_equals_int(got, length);

  /* A task that fails. */
  fail_unless(emu->add_fault(R"({"route":"task","action":"fail","message":"Generation failed: nope"})"));
  std::string failing = submit(*emu, body);
  g_autoptr(JsonNode) failed = wait_task(*emu, failing);
  assert_str(str(obj(failed), "status"), "failed");
  fail_unless(!json_object_has_member(obj(failed), "output"));
  JsonObject* err = json_object_get_object_member(obj(failed), "error");
  fail_unless(err != nullptr);
  assert_str(str(err, "message"), "Generation failed: nope");

  /* Redirects: two 302 hops, then the file. */
  fail_unless(emu->add_fault(R"({"route":"task","action":"redirect","hops":2})"));
  std::string redirected = submit(*emu, body);
  g_autoptr(JsonNode) rtask = wait_task(*emu, redirected);
  std::string next = output_urls(rtask, "images")[0];
  fail_unless(next.find("/redirect/") != std::string::npos, "url %s", next.c_str());
  int hops = 0;
  Response hop;
  for (;;) {
    hop = http("GET", next, "", {}, /*follow=*/false);
    if (hop.status != 302)
      break;
    hops++;
    next = hop.header("Location");
    fail_if(next.empty());
    fail_unless(hops <= 5);
  }
  fail_unless_equals_int(hops, 2);
  fail_unless_equals_int(hop.status, 200);
  fail_unless(hop.body == read_file(emu->task_files(redirected)[0]));

  /* Poll delay holds the answer without blocking the server. */
  fail_unless(emu->add_fault(R"({"route":"poll","action":"delay","ms":500})"));
  gint64 t0 = g_get_monotonic_time();
  Response slow = http("GET", url + "/" + id, "", auth());
  fail_unless_equals_int(slow.status, 200);
  fail_unless(g_get_monotonic_time() - t0 >= 450 * 1000, "delay not applied");

  /* Rule listing and clearing. */
  fail_unless(emu->add_fault(R"({"route":"events","action":"status","status":429,"count":3})"));
  g_autoptr(JsonNode) rules = emu->get_json("/_emulator/faults");
  fail_unless_equals_int(json_object_get_int_member(obj(rules), "count"), 1);
  Response limited = http("GET", url + "/" + id + "/events", "", auth());
  fail_unless_equals_int(limited.status, 429);
  fail_unless(emu->clear_faults());
  Response events = http("GET", url + "/" + id + "/events", "", auth());
  fail_unless_equals_int(events.status, 200);

  guint code = 0;
  fail_if(emu->post_json("/_emulator/faults", R"({"route":"submit","action":"truncate"})", &code));
  fail_unless_equals_int(code, 400);
}
GST_END_TEST;

/* "body" faults: arbitrary answers the client must survive. */
GST_START_TEST(test_fault_bodies) {
  auto emu = start_emulator();
  const std::string url = emu->url() + "/api/v1/tasks";
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"bodies"}})";

  /* Malformed JSON instead of a task; the submit is not processed. */
  fail_unless(emu->add_fault(R"({"route":"submit","action":"body","body":"{\"task_id\":"})"));
  Response broken = http("POST", url, body, auth(uuid()));
  fail_unless_equals_int(broken.status, 200);
  assert_str(broken.body, "{\"task_id\":");
  assert_str(broken.header("Content-Type"), "application/json");
  fail_unless_equals_int(emu->ledger_count(), 0);

  /* after_processing: created and charged, the real answer replaced (headers too). */
  fail_unless(emu->add_fault(
      R"({"route":"submit","action":"body","after_processing":true,"status":202,"content_type":"text/plain","body":"accepted"})"));
  const std::string key = uuid();
  Response replaced = http("POST", url, body, auth(key));
  fail_unless_equals_int(replaced.status, 202);
  assert_str(replaced.header("Content-Type"), "text/plain");
  assert_str(replaced.body, "accepted");
  fail_if(replaced.header("Server").empty(), "the server's own headers must stay");
  fail_unless_equals_int(emu->ledger_count(), 1);
  Response replay = http("POST", url, body, auth(key));
  fail_unless_equals_int(replay.status, 200);
  g_autoptr(JsonNode) replay_node = parse(replay.body);
  std::string id = str(obj(replay_node), "task_id");
  fail_unless(g_str_has_prefix(id.c_str(), "task_"), "replay: %s", replay.body.c_str());
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* A non-string "body" is sent as JSON: wrong types, unknown statuses. */
  fail_unless(emu->add_fault(R"({"route":"poll","action":"body","body":{"task_id":7,"status":"exploded"}})"));
  Response odd = http("GET", url + "/" + id, "", auth());
  fail_unless_equals_int(odd.status, 200);
  assert_str(odd.body, R"({"task_id":7,"status":"exploded"})");

  /* Huge answer. */
  fail_unless(emu->add_fault(R"({"route":"poll","action":"body","body":"x","repeat":6000000})"));
  Response huge = http("GET", url + "/" + id, "", auth());
  fail_unless_equals_int(huge.status, 200);
  fail_unless_equals_int(huge.body.size(), 6000000);
  assert_str(huge.header("Content-Length"), "6000000");
  fail_unless(huge.body.find_first_not_of('x') == std::string::npos);

  /* No Content-Type at all, any status. */
  fail_unless(emu->add_fault(R"({"route":"events","action":"body","status":500,"content_type":"","body":"<html>oops</html>"})"));
  Response html = http("GET", url + "/" + id + "/events", "", auth());
  fail_unless_equals_int(html.status, 500);
  fail_unless(html.headers.count("content-type") == 0, "Content-Type: %s", html.header("Content-Type").c_str());
  assert_str(html.body, "<html>oops</html>");
  /* Each rule was used once. */
  Response normal = http("GET", url + "/" + id, "", auth());
  fail_unless_equals_int(normal.status, 200);
  g_autoptr(JsonNode) normal_node = parse(normal.body);
  assert_str(str(obj(normal_node), "task_id"), id);

  /* Invalid rules are refused. */
  for (const char* bad : {R"({"route":"download","action":"body"})", R"({"route":"poll","action":"body","repeat":-1})",
                          R"({"route":"poll","action":"body","body":"xx","repeat":300000000})",
                          R"({"route":"poll","action":"body","content_type":5})",
                          R"({"route":"download","action":"content_type"})", R"({"route":"task","action":"output_url"})",
                          R"({"route":"download","action":"expire","resign":"yes"})"}) {
    guint code = 0;
    fail_if(emu->post_json("/_emulator/faults", bad, &code), "accepted: %s", bad);
    fail_unless_equals_int(code, 400);
  }
}
GST_END_TEST;

/* content_type, expire (+ resign) and output_url. */
GST_START_TEST(test_output_faults) {
  auto emu = start_emulator();
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"outputs"}})";
  std::string id = submit(*emu, body);
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  const std::string url = output_urls(task, "images")[0];
  const std::string data = read_file(emu->task_files(id)[0]);

  fail_unless(emu->add_fault(R"({"route":"download","action":"content_type","value":"text/html"})"));
  Response html = http("GET", url);
  fail_unless_equals_int(html.status, 200);
  assert_str(html.header("Content-Type"), "text/html");
  fail_unless(html.body == data);
  fail_unless(emu->add_fault(R"({"route":"download","action":"content_type","value":""})"));
  Response bare = http("GET", url);
  fail_unless_equals_int(bare.status, 200);
  fail_unless(bare.headers.count("content-type") == 0, "Content-Type: %s", bare.header("Content-Type").c_str());
  fail_unless(bare.body == data);
  assert_str(http("GET", url).header("Content-Type"), "image/png");

  /* expire: the same URL works again once the rule is used up. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"expire"})"));
  Response expired = http("GET", url);
  fail_unless_equals_int(expired.status, 410);
  assert_str(error_code(expired), "expired");
  fail_unless_equals_int(http("GET", url).status, 200);

  /* expire + resign: that URL is dead for good, the task gives a new one. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"expire","resign":true})"));
  fail_unless_equals_int(http("GET", url).status, 410);
  fail_unless_equals_int(http("GET", url).status, 403);
  g_autoptr(JsonNode) reread = wait_task(*emu, id);
  const std::string fresh = output_urls(reread, "images")[0];
  fail_if(fresh == url, "no new signature");
  assert_str(fresh.substr(0, fresh.find("?sig=")), url.substr(0, url.find("?sig=")));
  Response again = http("GET", fresh);
  fail_unless_equals_int(again.status, 200);
  fail_unless(again.body == data);
  fail_unless_equals_int(http("GET", url).status, 403);

  /* output_url: every output URL of the next task, in GET and POST answers. */
  fail_unless(emu->add_fault(R"({"route":"task","action":"output_url","url":"file:///etc/passwd"})"));
  const std::string key = uuid();
  const std::string two = R"({"model":"gemini-3-1-flash-image-preview","input":{"prompt":"o","resolution":"0.5K","n":2}})";
  std::string odd = submit(*emu, two, key);
  g_autoptr(JsonNode) odd_task = wait_task(*emu, odd);
  auto urls = output_urls(odd_task, "images");
  fail_unless_equals_int(urls.size(), 2);
  for (const auto& u : urls)
    assert_str(u, "file:///etc/passwd");
  Response replay = http("POST", emu->url() + "/api/v1/tasks", two, auth(key));
  fail_unless_equals_int(replay.status, 200);
  g_autoptr(JsonNode) replay_node = parse(replay.body);
  assert_str(output_urls(replay_node, "images")[0], "file:///etc/passwd");
  /* Only that task. */
  g_autoptr(JsonNode) normal = wait_task(*emu, submit(*emu, body));
  fail_unless(g_str_has_prefix(output_urls(normal, "images")[0].c_str(), "http://127.0.0.1:"));
}
GST_END_TEST;

int stat_of(Emulator& emu, const char* group, const char* name) {
  g_autoptr(JsonNode) stats = emu.get_json("/_emulator/stats");
  JsonObject* o = obj(stats);
  if (group)
    o = json_object_get_object_member(o, group);
  fail_unless(o && json_object_has_member(o, name), "stats have no %s", name);
  return (int)json_object_get_int_member(o, name);
}

GST_START_TEST(test_stats) {
  auto emu = start_emulator();
  const std::string url = emu->url() + "/api/v1/tasks";
  fail_unless_equals_int(stat_of(*emu, "requests", "submit"), 0);
  fail_unless_equals_int(stat_of(*emu, nullptr, "tasks"), 0);

  fail_unless(emu->add_fault(R"({"route":"submit","action":"status","status":503})"));
  fail_unless_equals_int(http("POST", url, "{}", auth()).status, 503);
  std::string id = submit(*emu, R"({"model":"gpt-image-2","input":{"prompt":"stats"}})");
  http("GET", url + "/" + id, "", auth());
  http("GET", url + "/" + id, "", auth());
  http("GET", url + "/" + id + "/events", "", auth());
  fail_unless_equals_int(stat_of(*emu, "requests", "submit"), 2);
  fail_unless_equals_int(stat_of(*emu, "requests", "poll"), 2);
  fail_unless_equals_int(stat_of(*emu, "requests", "events"), 1);
  fail_unless_equals_int(stat_of(*emu, "requests", "download"), 0);
  fail_unless_equals_int(stat_of(*emu, nullptr, "tasks"), 1);
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  fail_unless_equals_int(http("GET", output_urls(task, "images")[0]).status, 200);
  fail_unless_equals_int(stat_of(*emu, "requests", "download"), 1);

  /* A keep-alive connection counts while open, and not once its client closes it. */
  const int before = stat_of(*emu, nullptr, "open_connections");
  fail_unless(before >= 1, "the stats request's own connection is open");
  SoupSession* extra = soup_session_new();
  fail_unless_equals_int(http_on(extra, "GET", url + "/" + id, "", auth()).status, 200);
  fail_unless_equals_int(stat_of(*emu, nullptr, "open_connections"), before + 1);
  g_object_unref(extra);
  int after = -1;
  for (int i = 0; i < 50 && (after = stat_of(*emu, nullptr, "open_connections")) != before; i++)
    g_usleep(20 * 1000);
  fail_unless_equals_int(after, before);

  fail_unless(emu->reset());
  fail_unless_equals_int(stat_of(*emu, "requests", "poll"), 0);
  fail_unless_equals_int(stat_of(*emu, nullptr, "tasks"), 0);
}
GST_END_TEST;

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

int run_emulator(const std::vector<std::string>& args) {
  const char* program = g_getenv("MINDVIDEO_EMULATOR");
  fail_unless(program != nullptr, "MINDVIDEO_EMULATOR is not set");
  std::vector<const char*> argv = {program, "--port", "0", "--quiet"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  argv.push_back(nullptr);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GSubprocess) p = g_subprocess_newv(argv.data(), G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  fail_unless(p != nullptr, "cannot run the emulator: %s", error ? error->message : "?");
  fail_unless(g_subprocess_wait(p, nullptr, nullptr));
  fail_unless(g_subprocess_get_if_exited(p), "the emulator did not exit by itself");
  return g_subprocess_get_exit_status(p);
}

GST_START_TEST(test_tls) {
  const char* data_dir = g_getenv("MINDVIDEO_TEST_DATA");
  fail_unless(data_dir != nullptr, "MINDVIDEO_TEST_DATA is not set");
  const std::string cert = std::string(data_dir) + "/tls-selfsigned.pem";
  const std::string key = std::string(data_dir) + "/tls-selfsigned.key";
  /* Usage errors. */
  fail_unless_equals_int(run_emulator({"--tls-cert", cert}), 2);
  fail_unless_equals_int(run_emulator({"--tls-cert", cert, "--tls-key", cert}), 2);

  auto emu = start_emulator({"--tls-cert", cert, "--tls-key", key});
  fail_unless(g_str_has_prefix(emu->url().c_str(), "https://127.0.0.1:"), "url %s", emu->url().c_str());
  const std::string tasks = emu->url() + "/api/v1/tasks";

  /* A client that does not trust the certificate gets a certificate error. */
  Response untrusted = http("GET", tasks + "/task_none", "", auth());
  fail_unless_equals_int(untrusted.status, 0);
  fail_unless(untrusted.error_domain == G_TLS_ERROR && untrusted.error_code == G_TLS_ERROR_BAD_CERTIFICATE,
              "expected a certificate error, got: %s", untrusted.error.c_str());

  /* One that trusts it (and the harness, over the same HTTPS) works. */
  g_autoptr(GError) error = nullptr;
  g_autoptr(GTlsDatabase) db = g_tls_file_database_new(cert.c_str(), &error);
  fail_unless(db != nullptr, "cannot load %s: %s", cert.c_str(), error ? error->message : "?");
  g_autoptr(SoupSession) trusting = soup_session_new_with_options("timeout", 30, "tls-database", db, nullptr);
  Response created =
      http_on(trusting, "POST", tasks, R"({"model":"gpt-image-2","input":{"prompt":"tls"}})", auth(uuid()));
  fail_unless_equals_int(created.status, 201);
  fail_unless_equals_int(emu->ledger_count(), 1);
  g_autoptr(JsonNode) node = parse(created.body);
  g_autoptr(JsonNode) task = wait_task(*emu, str(obj(node), "task_id"), nullptr, trusting);
  /* The CDN stays plain HTTP. */
  const std::string file = output_urls(task, "images")[0];
  fail_unless(g_str_has_prefix(file.c_str(), "http://127.0.0.1:"), "url %s", file.c_str());
  fail_unless_equals_int(http("GET", file).status, 200);
}
GST_END_TEST;

/* POST /_emulator/chaos (or --chaos SEED) and its counts. */
bool set_chaos(Emulator& emu, const std::string& config, guint* status = nullptr) {
  return emu.post_json("/_emulator/chaos", config, status);
}

long long chaos_count(Emulator& emu, const char* group, const char* kind) {
  g_autoptr(JsonNode) stats = emu.get_json("/_emulator/stats");
  JsonObject* chaos = json_object_get_object_member(obj(stats), "chaos");
  fail_unless(chaos != nullptr, "stats have no chaos");
  if (!group)
    return json_object_get_int_member(chaos, kind);
  JsonObject* injected = json_object_get_object_member(chaos, "injected");
  return json_object_get_int_member(json_object_get_object_member(injected, group), kind);
}

/* The statuses of `n` polls of a task that does not exist: 404 unless a
 * fault answered instead. */
std::string poll_pattern(Emulator& emu, int n) {
  std::string out;
  for (int i = 0; i < n; i++) {
    Response r = http("GET", emu.url() + "/api/v1/tasks/task_nothing", "", auth());
    out += r.status == 404 ? '.' : 'x';
  }
  return out;
}

GST_START_TEST(test_chaos) {
  auto emu = start_emulator();
  const std::string url = emu->url() + "/api/v1/tasks";

  /* Bad configurations are refused whole. */
  guint status = 0;
  fail_if(set_chaos(*emu, R"({"seed":1,"api":{"5xx":1.5}})", &status));
  fail_unless_equals_int(status, 400);
  fail_if(set_chaos(*emu, R"({"seed":1,"api":{"5xx":0.6,"cut":0.6}})", &status));
  fail_if(set_chaos(*emu, R"({"seed":1,"download":{"oops":0.1}})", &status));
  fail_if(set_chaos(*emu, R"({"seed":-3})", &status));
  fail_if(set_chaos(*emu, R"({"delay_ms":[500,100]})", &status));
  fail_unless_equals_int(status, 400);
  g_autoptr(JsonNode) off = emu->get_json("/_emulator/chaos");
  fail_if(json_object_get_boolean_member(obj(off), "enabled"));

  /* Seeded: the same seed gives the same faults in the same order, and the
   * counts say how many. */
  const std::string half = R"({"seed":42,"api":{"5xx":0.5,"429":0,"cut":0,"delay":0},"download":{"truncate":0,"cut":0,"expire":0}})";
  fail_unless(set_chaos(*emu, half));
  const std::string first = poll_pattern(*emu, 40);
  const long long faults = std::count(first.begin(), first.end(), 'x');
  fail_unless(faults > 5 && faults < 35, "40 draws at 50%% gave %lld faults: %s", faults, first.c_str());
  fail_unless_equals_int(chaos_count(*emu, nullptr, "decisions"), 40);
  fail_unless_equals_int(chaos_count(*emu, "api", "5xx"), faults);
  fail_unless(set_chaos(*emu, half));
  assert_str(poll_pattern(*emu, 40), first);
  fail_unless(set_chaos(*emu, R"({"seed":43,"api":{"5xx":0.5,"429":0,"cut":0,"delay":0}})"));
  fail_if(poll_pattern(*emu, 40) == first, "another seed gave the same faults");

  /* Each API kind. */
  fail_unless(set_chaos(*emu, R"({"seed":1,"api":{"5xx":1,"429":0,"cut":0,"delay":0}})"));
  Response err = http("GET", url + "/task_x", "", auth());
  fail_unless(err.status == 500 || err.status == 502 || err.status == 503 || err.status == 504, "got %u", err.status);
  fail_unless(set_chaos(*emu, R"({"seed":1,"api":{"5xx":0,"429":1,"cut":0,"delay":0},"retry_after_s":2})"));
  Response limited = http("GET", url + "/task_x", "", auth());
  fail_unless_equals_int(limited.status, 429);
  assert_str(limited.header("Retry-After"), "2");
  fail_unless(set_chaos(*emu, R"({"seed":1,"api":{"5xx":0,"429":0,"cut":0,"delay":1},"delay_ms":[300,300]})"));
  gint64 t0 = g_get_monotonic_time();
  fail_unless_equals_int(http("GET", url + "/task_x", "", auth()).status, 404);
  fail_unless(g_get_monotonic_time() - t0 >= 300 * 1000, "not delayed");
  fail_unless_equals_int(chaos_count(*emu, "api", "delay"), 1);

  /* A submit cut after processing: created and charged, the answer lost;
   * the same key then gets that task back. */
  fail_unless(set_chaos(*emu, R"({"seed":1,"api":{"5xx":0,"429":0,"cut":1,"delay":0},"lost_response":1})"));
  const std::string body = R"({"model":"gpt-image-2","input":{"prompt":"chaos"}})";
  const std::string key = uuid();
  Response lost = http("POST", url, body, auth(key));
  fail_unless_equals_int(lost.status, 0);
  fail_unless_equals_int(emu->ledger_count(key), 1);
  fail_unless_equals_int(chaos_count(*emu, "api", "cut"), 1);
  fail_unless_equals_int(chaos_count(*emu, "api", "lost_response"), 1);
  fail_unless(emu->del("/_emulator/chaos"));
  Response replay = http("POST", url, body, auth(key));
  fail_unless_equals_int(replay.status, 200);
  fail_unless_equals_int(emu->ledger_count(key), 1);
  g_autoptr(JsonNode) replay_node = parse(replay.body);
  const std::string id = str(obj(replay_node), "task_id");
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  const std::string file_url = output_urls(task, "images")[0];
  const std::string data = read_file(emu->task_files(id)[0]);

  /* Downloads: a truncated body, a cut, an expired URL re-signed once per task. */
  fail_unless(set_chaos(*emu, R"({"seed":1,"api":{"5xx":0,"429":0,"cut":0,"delay":0},"download":{"truncate":1,"cut":0,"expire":0}})"));
  guint code = 0;
  goffset length = 0;
  std::string read_error;
  goffset got = read_stream(file_url, &code, &length, &read_error);
  fail_unless_equals_int(code, 200);
  fail_unless_equals_int64(length, (goffset)data.size());
  fail_unless_equals_int64(got, (goffset)data.size() / 2);
  fail_unless(set_chaos(*emu, R"({"seed":1,"download":{"truncate":0,"cut":1,"expire":0}})"));
  fail_unless_equals_int(http("GET", file_url).status, 0);
  /* HEAD probes are left alone. */
  fail_unless_equals_int(http("HEAD", file_url).status, 200);
  fail_unless(set_chaos(*emu, R"({"seed":1,"download":{"truncate":0,"cut":0,"expire":1}})"));
  Response expired = http("GET", file_url);
  fail_unless_equals_int(expired.status, 410);
  assert_str(error_code(expired), "expired");
  fail_unless_equals_int(http("GET", file_url).status, 403);
  g_autoptr(JsonNode) reread = wait_task(*emu, id);
  const std::string fresh = output_urls(reread, "images")[0];
  fail_if(fresh == file_url, "no new signature");
  Response again = http("GET", fresh);
  fail_unless_equals_int(again.status, 200);
  fail_unless(again.body == data);
  fail_unless_equals_int(chaos_count(*emu, "download", "expire"), 1);

  /* Reset turns chaos off. */
  fail_unless(emu->reset());
  g_autoptr(JsonNode) after = emu->get_json("/_emulator/chaos");
  fail_if(json_object_get_boolean_member(obj(after), "enabled"));
  fail_unless_equals_int(chaos_count(*emu, nullptr, "decisions"), 0);

  /* From the command line. */
  auto seeded = start_emulator({"--chaos", "7", "--chaos-rates", R"({"api":{"5xx":0.25}})"});
  g_autoptr(JsonNode) on = seeded->get_json("/_emulator/chaos");
  fail_unless(json_object_get_boolean_member(obj(on), "enabled"));
  JsonObject* config = json_object_get_object_member(obj(on), "config");
  fail_unless_equals_int(json_object_get_int_member(config, "seed"), 7);
  fail_unless(json_object_get_double_member(json_object_get_object_member(config, "api"), "5xx") == 0.25);
}
GST_END_TEST;

static Suite* emulator_suite(void) {
  Suite* s = suite_create("mindvideo-emulator");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_image_task);
  tcase_add_test(tc, test_video_task);
  tcase_add_test(tc, test_idempotency);
  tcase_add_test(tc, test_auth_and_validation);
  tcase_add_test(tc, test_cdn);
  tcase_add_test(tc, test_faults);
  tcase_add_test(tc, test_fault_bodies);
  tcase_add_test(tc, test_output_faults);
  tcase_add_test(tc, test_stats);
  tcase_add_test(tc, test_events_stream);
  tcase_add_test(tc, test_tls);
  tcase_add_test(tc, test_chaos);
  return s;
}

GST_CHECK_MAIN(emulator)
