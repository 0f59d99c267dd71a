/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's CDN features for progressive playback (issue #12):
 * throttled downloads (config download_rate, `slow`/`throttle` rules) that
 * hold up nothing else, hosts without ranges (config ranges:false, the
 * `ignore_range` rule and its Accept-Ranges), the request log's Range,
 * order, times and bytes sent, and faststart MP4s. No timing assertion
 * other than lower bounds a throttle guarantees.
 */
#include "test-emulator-helpers.h"

#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* Shorter timelines than start_emulator()'s, and 8 fps. */
std::unique_ptr<EmulatorProcess> start_ranges_emulator(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--queued-ms", "50", "--processing-ms", "100", "--fps", "8"};
  args.insert(args.end(), extra.begin(), extra.end());
  return start_emulator_process(args);
}

/* One session per call: the throttled download runs on a thread of its own. */
Response http_alone(const char* method, const std::string& url, const std::string& body = "",
                    const Headers& headers = {}) {
  g_autoptr(SoupSession) s = soup_session_new_with_options("timeout", 60, nullptr);
  return http_on(s, method, url, body, headers);
}

/* Submits a short video task, waits for it, returns its MP4 URL and local path. */
void video_task(EmulatorProcess& emu, double duration, std::string* url, std::string* path) {
  g_autofree gchar* body =
      g_strdup_printf(R"({"model":"veo3-1-fast","input":{"prompt":"ranges","duration":%g}})", duration);
  std::string id = submit(emu, body);
  std::vector<std::string> seen;
  g_autoptr(JsonNode) task = wait_task(emu, id, &seen);
  for (const auto& status : seen)
    fail_unless(status == "queued" || status == "processing" || status == "succeeded", "task %s", status.c_str());
  assert_str(str(obj(task), "status"), "succeeded");
  auto urls = output_urls(task, "videos");
  fail_unless(!urls.empty(), "the task has no video");
  *url = urls[0];
  auto files = emu.task_files(id);
  fail_unless_equals_int(files.size(), 1);
  *path = files[0];
}

int index_of(const std::vector<std::string>& v, const char* item) {
  for (size_t i = 0; i < v.size(); i++)
    if (v[i] == item)
      return (int)i;
  return -1;
}

/* The CDN /files/ GETs of the request log, in log order. */
std::vector<JsonObject*> file_gets(JsonNode* log) {
  std::vector<JsonObject*> out;
  fail_unless(log && JSON_NODE_HOLDS_ARRAY(log), "no request log");
  JsonArray* a = json_node_get_array(log);
  for (guint i = 0; i < json_array_get_length(a); i++) {
    JsonObject* e = json_array_get_object_element(a, i);
    if (str(e, "origin") == "cdn" && str(e, "method") == "GET" && g_str_has_prefix(str(e, "path").c_str(), "/files/"))
      out.push_back(e);
  }
  return out;
}

/* The request log once every CDN body in it is logged as done. A client
 * has a whole answer before the delivery thread has closed its end and
 * logged it: wait for that (30 s at most, for sanitizer builds on a loaded
 * machine); the caller checks what it finds. */
JsonNode* requests_when_done(EmulatorProcess& emu) {
  JsonNode* log = nullptr;
  const gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  for (;;) {
    if (log)
      json_node_unref(log);
    log = emu.requests();
    bool done = true;
    for (JsonObject* e : file_gets(log))
      done = done && !json_object_get_null_member(e, "done_t_ms");
    if (done || g_get_monotonic_time() > deadline)
      return log;
    g_usleep(10 * 1000);
  }
}

struct Download {
  std::string url;
  Headers headers;
  Response response;
  gint64 seconds_us = 0;
};

gpointer download_thread(gpointer data) {
  auto* d = static_cast<Download*>(data);
  gint64 t0 = g_get_monotonic_time();
  d->response = http_alone("GET", d->url, "", d->headers);
  d->seconds_us = g_get_monotonic_time() - t0;
  return nullptr;
}

}  // namespace

/* config download_rate: each response is paced; the API and the control
 * endpoints answer while a throttled download runs; the log shows its
 * progress, then its end. */
GST_START_TEST(test_download_rate) {
  auto emu = start_ranges_emulator();
  std::string url, path;
  video_task(*emu, 2, &url, &path);
  const std::string file = read_file(path);
  const gint64 size = (gint64)file.size();
  fail_unless(size > 50000, "video too small: %" G_GINT64_FORMAT, size);

  /* While a throttled body is being sent, the control endpoints and the API
   * answer, and the log shows it partly sent and not finished. The rate
   * makes it last about a minute, so a slow machine cannot finish it before
   * the checks; the client then hangs up. */
  gint64 rate = MAX(size / 60, (gint64)1);
  fail_unless(emu->set_config("{\"download_rate\":" + std::to_string(rate) + "}"));
  {
    g_autoptr(JsonNode) info = emu->get_json("/_emulator/config");
    fail_unless_equals_int(json_object_get_int_member(obj(info), "download_rate"), rate);
  }
  fail_unless(emu->clear_requests());
  {
    g_autoptr(SoupSession) s = soup_session_new_with_options("timeout", 60, nullptr);
    g_autoptr(SoupMessage) msg = new_message("GET", url, "", {}, true);
    g_autoptr(GError) err = nullptr;
    g_autoptr(GInputStream) in = soup_session_send(s, msg, nullptr, &err);
    fail_unless(in != nullptr, "GET %s failed: %s", url.c_str(), err ? err->message : "?");
    fail_unless_equals_int(soup_message_get_status(msg), 200);
    char first[64];
    fail_unless(g_input_stream_read(in, first, sizeof first, nullptr, nullptr) > 0, "no byte of the throttled body");
    {
      /* The server counts a chunk once its write returned, which can be
       * after the client read it: wait for the count to move. */
      JsonNode* log = nullptr;
      gint64 sent = -1;
      const gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
      do {
        if (log)
          json_node_unref(log);
        g_usleep(10 * 1000);
        log = emu->requests();
        auto gets = file_gets(log);
        fail_unless_equals_int(gets.size(), 1);
        fail_unless(json_object_has_member(gets[0], "bytes_sent"), "the log has no bytes_sent for a body");
        sent = json_object_get_int_member(gets[0], "bytes_sent");
      } while (sent <= 0 && g_get_monotonic_time() < deadline);
      auto gets = file_gets(log);
      fail_unless(sent > 0 && sent < size, "bytes_sent %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT, sent, size);
      fail_unless(json_object_get_null_member(gets[0], "done_t_ms"), "done before all was sent");
      json_node_unref(log);
    }
    /* The API answers too (an unknown task: 404, at once). */
    Response api = http_alone("GET", emu->url() + "/api/v1/tasks/task_nope", "", auth());
    fail_unless_equals_int(api.status, 404);
    g_autoptr(JsonNode) log = emu->requests();
    auto gets = file_gets(log);
    fail_unless_equals_int(gets.size(), 1);
    fail_unless(json_object_get_null_member(gets[0], "done_t_ms"), "the API waited for the download");
  }

  /* About 2 s for the whole file: each response is paced to the rate. */
  rate = size / 2;
  fail_unless(emu->set_config("{\"download_rate\":" + std::to_string(rate) + "}"));
  fail_unless(emu->clear_requests());
  Download d{url, {}, {}, 0};
  download_thread(&d);
  fail_unless_equals_int(d.response.status, 200);
  fail_unless(d.response.body == file, "throttled body differs from the file");
  /* A lower bound only: the throttle guarantees it. */
  fail_unless(d.seconds_us >= (size * G_USEC_PER_SEC / rate) * 8 / 10, "%" G_GINT64_FORMAT " µs for %" G_GINT64_FORMAT
              " bytes at %" G_GINT64_FORMAT " B/s",
              d.seconds_us, size, rate);
  {
    g_autoptr(JsonNode) log = requests_when_done(*emu);
    auto gets = file_gets(log);
    fail_unless_equals_int(gets.size(), 1);
    fail_unless_equals_int(json_object_get_int_member(gets[0], "bytes_sent"), size);
    fail_unless(json_object_get_double_member(gets[0], "done_t_ms") >=
                json_object_get_double_member(gets[0], "t_ms") + 1000.0 * size / rate * 0.8);
  }

  /* Two throttled downloads at once take about as long as one: the rate is
   * per connection. A Range request is throttled too. */
  fail_unless(emu->set_config(R"({"download_rate":0})"));
  fail_unless(emu->add_fault(R"({"route":"download","action":"throttle","bytes_per_sec":)" + std::to_string(size) +
                             R"(,"count":2})"));
  Download a{url, {}, {}, 0}, b{url, {{"Range", "bytes=" + std::to_string(size / 2) + "-"}}, {}, 0};
  GThread* ta = g_thread_new("a", download_thread, &a);
  GThread* tb = g_thread_new("b", download_thread, &b);
  g_thread_join(ta);
  g_thread_join(tb);
  fail_unless_equals_int(a.response.status, 200);
  fail_unless(a.response.body == file);
  fail_unless_equals_int(b.response.status, 206);
  fail_unless(b.response.body == file.substr((size_t)(size / 2)));
  fail_unless(a.seconds_us >= G_USEC_PER_SEC * 8 / 10, "%" G_GINT64_FORMAT " µs", a.seconds_us);
  fail_unless(b.seconds_us >= G_USEC_PER_SEC * 4 / 10, "%" G_GINT64_FORMAT " µs", b.seconds_us);
  /* Rule used up, config 0: unthrottled again. */
  Response fast = http_alone("GET", url);
  fail_unless_equals_int(fast.status, 200);

  /* Bad values are refused, and nothing changes. */
  guint status = 0;
  fail_if(emu->post_json("/_emulator/config", R"({"download_rate":-1})", &status));
  fail_unless_equals_int(status, 400);
  fail_if(emu->post_json("/_emulator/config", R"({"download_rate":"fast"})", &status));
  fail_unless_equals_int(status, 400);
  fail_if(emu->add_fault(R"({"route":"download","action":"throttle","bytes_per_sec":0})"));
}
GST_END_TEST;

/* The command-line form starts throttled. */
GST_START_TEST(test_download_rate_option) {
  auto emu = start_ranges_emulator({"--download-rate", "123456", "--no-ranges", "--faststart"});
  g_autoptr(JsonNode) config = emu->get_json("/_emulator/config");
  fail_unless_equals_int(json_object_get_int_member(obj(config), "download_rate"), 123456);
  fail_unless(!json_object_get_boolean_member(obj(config), "ranges"));
  fail_unless(json_object_get_boolean_member(obj(config), "faststart"));
  auto plain = start_ranges_emulator();
  g_autoptr(JsonNode) defaults = plain->get_json("/_emulator/config");
  fail_unless_equals_int(json_object_get_int_member(obj(defaults), "download_rate"), 0);
  fail_unless(json_object_get_boolean_member(obj(defaults), "ranges"));
  fail_unless(!json_object_get_boolean_member(obj(defaults), "faststart"));
}
GST_END_TEST;

/* Hosts without ranges: config ranges:false, and the ignore_range rule with
 * its Accept-Ranges variants. */
GST_START_TEST(test_no_ranges) {
  auto emu = start_ranges_emulator();
  std::string url, path;
  video_task(*emu, 1, &url, &path);
  const std::string file = read_file(path);
  const Headers tail = {{"Range", "bytes=-1000"}};

  /* Default: 206 and Accept-Ranges: bytes. */
  Response r = http_alone("GET", url, "", tail);
  fail_unless_equals_int(r.status, 206);
  assert_str(r.header("Accept-Ranges"), "bytes");
  fail_unless(r.body == file.substr(file.size() - 1000));

  /* ranges:false: 200, the whole file, Accept-Ranges: none (on HEAD too). */
  fail_unless(emu->set_config(R"({"ranges":false})"));
  r = http_alone("GET", url, "", tail);
  fail_unless_equals_int(r.status, 200);
  assert_str(r.header("Accept-Ranges"), "none");
  fail_unless(!r.has_header("Content-Range"));
  fail_unless(r.body == file);
  r = http_alone("HEAD", url);
  fail_unless_equals_int(r.status, 200);
  assert_str(r.header("Accept-Ranges"), "none");
  assert_str(r.header("Content-Length"), std::to_string(file.size()));
  /* Even an unsatisfiable range: the whole file. */
  r = http_alone("GET", url, "", {{"Range", "bytes=999999999-"}});
  fail_unless_equals_int(r.status, 200);
  fail_unless(r.body == file);
  fail_unless(emu->set_config(R"({"ranges":true})"));
  fail_unless_equals_int(http_alone("GET", url, "", tail).status, 206);

  /* ignore_range: 200 with the whole file, still claiming Accept-Ranges:
   * bytes (a lying host), or what "accept_ranges" says, "" = no header. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"ignore_range"})"));
  r = http_alone("GET", url, "", tail);
  fail_unless_equals_int(r.status, 200);
  assert_str(r.header("Accept-Ranges"), "bytes");
  fail_unless(r.body == file);
  fail_unless(emu->add_fault(R"({"route":"download","action":"ignore_range","accept_ranges":"none"})"));
  r = http_alone("GET", url, "", tail);
  fail_unless_equals_int(r.status, 200);
  assert_str(r.header("Accept-Ranges"), "none");
  fail_unless(emu->add_fault(R"({"route":"download","action":"ignore_range","accept_ranges":""})"));
  r = http_alone("GET", url, "", tail);
  fail_unless_equals_int(r.status, 200);
  fail_unless(!r.has_header("Accept-Ranges"), "Accept-Ranges: %s", r.header("Accept-Ranges").c_str());
  fail_unless(r.body == file);
  /* Rules used up: ranges again. */
  fail_unless_equals_int(http_alone("GET", url, "", tail).status, 206);

  guint status = 0;
  fail_if(emu->post_json("/_emulator/config", R"({"ranges":"no"})", &status));
  fail_unless_equals_int(status, 400);
  fail_if(emu->add_fault(R"({"route":"download","action":"ignore_range","accept_ranges":false})"));
}
GST_END_TEST;

/* The request log: each download's Range, in order, with times and bytes. */
GST_START_TEST(test_request_log) {
  auto emu = start_ranges_emulator();
  std::string url, path;
  video_task(*emu, 1, &url, &path);
  const gint64 size = (gint64)read_file(path).size();
  fail_unless(emu->clear_requests());

  fail_unless_equals_int(http_alone("GET", url).status, 200);
  fail_unless_equals_int(http_alone("GET", url, "", {{"Range", "bytes=100-199"}}).status, 206);
  fail_unless_equals_int(http_alone("GET", url, "", {{"Range", "bytes=-500"}}).status, 206);
  fail_unless_equals_int(http_alone("HEAD", url).status, 200);

  JsonNode* log = requests_when_done(*emu);
  JsonArray* a = json_node_get_array(log);
  fail_unless_equals_int(json_array_get_length(a), 4);
  const char* ranges[] = {nullptr, "bytes=100-199", "bytes=-500", nullptr};
  const gint64 sent[] = {size, 100, 500, 0};
  gint64 last_seq = 0;
  double last_t = -1;
  for (guint i = 0; i < 4; i++) {
    JsonObject* e = json_array_get_object_element(a, i);
    /* "range" (null without one), and the header itself as sent. */
    if (ranges[i]) {
      assert_str(str(e, "range"), ranges[i]);
      assert_str(str(json_object_get_object_member(e, "headers"), "Range"), ranges[i]);
    } else {
      fail_unless(json_object_get_null_member(e, "range"), "entry %u has a range", i);
    }
    gint64 seq = json_object_get_int_member(e, "seq");
    double t = json_object_get_double_member(e, "t_ms");
    fail_unless(seq > last_seq, "seq %" G_GINT64_FORMAT " after %" G_GINT64_FORMAT, seq, last_seq);
    fail_unless(t >= last_t, "t_ms %f after %f", t, last_t);
    fail_unless(!str(e, "received_at").empty());
    last_seq = seq;
    last_t = t;
    fail_unless_equals_int(json_object_get_int_member(e, "bytes_sent"), sent[i]);
    fail_unless(json_object_get_double_member(e, "done_t_ms") >= t);
  }
  json_node_unref(log);
  /* API requests have no body fields. */
  fail_unless(emu->clear_requests());
  http_alone("GET", emu->url() + "/api/v1/tasks/task_nope", "", auth());
  g_autoptr(JsonNode) api = emu->requests();
  JsonObject* e = json_array_get_object_element(json_node_get_array(api), 0);
  fail_unless(!json_object_has_member(e, "bytes_sent"));
  fail_unless(json_object_get_int_member(e, "seq") > last_seq, "seq restarted after a clear");
}
GST_END_TEST;

/* faststart: moov before mdat, the same frames; the default stays moov last. */
GST_START_TEST(test_faststart) {
  auto emu = start_ranges_emulator();
  std::string url, path;
  video_task(*emu, 1, &url, &path);
  auto boxes = mp4_boxes(read_file(path));
  fail_unless(index_of(boxes, "moov") > index_of(boxes, "mdat"), "default: moov must come last");

  fail_unless(emu->set_config(R"({"faststart":true})"));
  std::string url2, path2;
  video_task(*emu, 1, &url2, &path2);
  Response r = http_alone("GET", url2);
  fail_unless_equals_int(r.status, 200);
  fail_unless(r.body == read_file(path2));
  boxes = mp4_boxes(r.body);
  int moov = index_of(boxes, "moov"), mdat = index_of(boxes, "mdat");
  fail_unless(moov >= 0 && mdat >= 0 && moov < mdat, "faststart: moov must come before mdat");

  /* Decodes to its 8 frames. */
  g_autoptr(GError) error = nullptr;
  g_autoptr(GstElement) pipeline =
      gst_parse_launch("filesrc name=src ! decodebin ! fakesink name=sink sync=false", &error);
  fail_unless(pipeline != nullptr);
  {
    g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "location", path2.c_str(), nullptr);
  }
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "faststart MP4 does not decode");
  {
    g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    GstSample* last = nullptr;
    g_object_get(sink, "last-sample", &last, nullptr);
    fail_unless(last != nullptr);
    gst_sample_unref(last);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);

  /* mp4mux's temporary file is gone. */
  g_autofree gchar* dir = g_path_get_dirname(path2.c_str());
  g_autoptr(GDir) d = g_dir_open(dir, 0, nullptr);
  fail_unless(d != nullptr);
  while (const char* name = g_dir_read_name(d))
    fail_if(g_str_has_suffix(name, ".faststart"), "left over: %s", name);

  guint status = 0;
  fail_if(emu->post_json("/_emulator/config", R"({"faststart":1})", &status));
  fail_unless_equals_int(status, 400);
}
GST_END_TEST;

static Suite* ranges_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-ranges");
  TCase* tc = tcase_create("ranges");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_download_rate);
  tcase_add_test(tc, test_download_rate_option);
  tcase_add_test(tc, test_no_ranges);
  tcase_add_test(tc, test_request_log);
  tcase_add_test(tc, test_faststart);
  return s;
}

GST_CHECK_MAIN(ranges)
