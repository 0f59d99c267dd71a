/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Element tests: mindvideosrc in real pipelines against the emulator on
 * 127.0.0.1. Each test starts its own emulator.
 */
#include "element-helpers.h"

#include <gst/base/gstbasesrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"


/* ---- the happy paths ---------------------------------------------------- */

GST_START_TEST(test_video_decodes_to_eos) {
  auto emu = start_emulator();
  /* veo3-1-quality: 720p, 8 s at the emulator's 24 fps = 192 frames. */
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "a red car at sunset",
                                       R"({"aspect_ratio":"16:9","resolution":"720p"})",
                                       "decodebin ! video/x-raw ! fakesink name=sink sync=false");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 8 * 24);
  assert_contains(run.sink_caps, "width=(int)1280");
  assert_contains(run.sink_caps, "height=(int)720");
  assert_str(src_string(pipeline, "status"), "succeeded");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_large_mp4_with_moov_at_end) {
  auto emu = start_emulator();
  /* Over 10 MB, so qtdemux must seek to the moov at the end. */
  fail_unless(emu->set_config(R"({"video_bitrate_kbps":14000})"));
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "a large video",
                                       R"({"resolution":"720p"})",
                                       "decodebin ! video/x-raw ! fakesink name=sink sync=false");
  PlayResult run;
  play(pipeline, &run, 180);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 8 * 24);

  auto files = emu->task_files(src_string(pipeline, "task-id"));
  fail_unless_equals_int(files.size(), 1);
  std::string mp4 = read_file(files[0]);
  fail_unless(mp4.size() > 10 * 1000 * 1000, "only %zu bytes: not the >10 MB case", mp4.size());
  auto boxes = mp4_boxes(mp4);
  auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  fail_unless(mdat != boxes.end() && moov != boxes.end() && moov > mdat, "moov is not after mdat");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_image_decodes_at_size) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "neon city",
                                       R"({"size":"16:9","resolution":"1K"})",
                                       "decodebin ! video/x-raw ! fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  assert_contains(run.sink_caps, "width=(int)1024");
  assert_contains(run.sink_caps, "height=(int)576");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_jpeg_and_webp_images_decode) {
  auto emu = start_emulator();
  /* qwen-image-2-0-pro serves JPEG; then every model WebP. */
  for (const char* format : {"", "webp"}) {
    if (*format)
      fail_unless(emu->set_config(std::string(R"({"image_format":")") + format + "\"}"));
    GstElement* pipeline = make_pipeline(emu.get(), "qwen-image-2-0-pro", "a quiet lake",
                                         R"({"size":"4:3","resolution":"1K"})",
                                         "decodebin ! video/x-raw ! fakesink name=sink");
    PlayResult run;
    play(pipeline, &run);
    fail_unless(run.eos, "%s: no EOS: %s", format, run.message().c_str());
    fail_unless_equals_int(run.buffers, 1);
    assert_contains(run.sink_caps, "width=(int)1024");
    assert_contains(run.sink_caps, "height=(int)768");
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

GST_START_TEST(test_bytes_identical_to_served_file) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "bytes", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run, 90, true);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  std::string task_id = src_string(pipeline, "task-id");
  auto files = emu->task_files(task_id);
  fail_unless_equals_int(files.size(), 1);
  std::string served = read_file(files[0]);
  fail_unless(served.size() > 100000);
  fail_unless_equals_uint64(run.data.size(), served.size());
  fail_unless(run.data == served, "the streamed bytes differ from the served file");
  /* Typefinding set caps for decodebin. */
  assert_contains(run.sink_caps, "video/quicktime");
  assert_contains(src_string(pipeline, "output-uri"), "/files/" + task_id + "/");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_output_index) {
  auto emu = start_emulator();
  std::string first, second, task_id;
  for (guint index : {0u, 1u}) {
    GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "two cats",
                                         R"({"n":2,"size":"1:1","resolution":"0.5K"})", "fakesink name=sink");
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    /* The same request twice: the second run gets the same task, unpaid. */
    g_object_set(src, "output-index", index, "idempotency-key", "same-two-cats", nullptr);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run, 90, true);
    fail_unless(run.eos, "no EOS: %s", run.message().c_str());
    task_id = src_string(pipeline, "task-id");
    (index ? second : first) = run.data;
    gst_object_unref(pipeline);
  }
  auto files = emu->task_files(task_id);
  fail_unless_equals_int(files.size(), 2);
  fail_unless(first == read_file(files[0]), "output 0 differs");
  fail_unless(second == read_file(files[1]), "output 1 differs");
  fail_if(first == second, "both indexes gave the same image");
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* Past the end: a SETTINGS error that says how many there are. */
  GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "two cats",
                                       R"({"n":2,"size":"1:1","resolution":"0.5K"})", "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "output-index", 2, "idempotency-key", "same-two-cats", nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
              run.message().c_str());
  assert_contains(run.message(), "output-index 2 is out of range");
  assert_contains(run.message(), "2 output(s)");
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- the request on the wire -------------------------------------------- */

GST_START_TEST(test_request_and_no_key_to_output_host) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "a red car at sunset",
                                       R"({"aspect_ratio":"16:9","resolution":"720p"})", "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());

  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "api", "POST"), 1);
  fail_unless(count_requests(log, "api", "GET") >= 1);
  fail_unless(count_requests(log, "cdn") >= 1, "the output was not fetched from the CDN origin");
  std::string key = src_string(pipeline, "idempotency-key");
  fail_unless(g_uuid_string_is_valid(key.c_str()), "idempotency key '%s' is not a UUID", key.c_str());
  int events = 0;
  for (const auto& l : log) {
    if (l.origin == "cdn") {
      fail_unless(l.authorization.empty(), "the output host got an Authorization header");
      continue;
    }
    assert_str(l.authorization, "Bearer " API_KEY);
    if (l.method == "POST") {
      assert_str(l.path, "/api/v1/tasks");
      assert_str(l.idempotency_key, key);
      assert_str(l.body,
                 R"({"model":"veo3-1-quality","input":{"prompt":"a red car at sunset","aspect_ratio":"16:9","resolution":"720p"}})");
    } else if (g_str_has_suffix(l.path.c_str(), "/events")) {
      /* The push channel, opened once, with the key like every API call. */
      assert_str(l.path, "/api/v1/tasks/" + src_string(pipeline, "task-id") + "/events");
      events++;
    } else {
      assert_str(l.path, "/api/v1/tasks/" + src_string(pipeline, "task-id"));
    }
  }
  fail_unless_equals_int(events, 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_outputs_behind_redirects) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"task","action":"redirect","hops":2})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "redirected", R"({"size":"1:1"})",
                                       "decodebin ! fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  auto log = request_log(emu.get());
  int redirects = 0;
  for (const auto& l : log) {
    if (l.origin == "cdn") {
      fail_unless(l.authorization.empty());
      redirects += g_str_has_prefix(l.path.c_str(), "/redirect/");
    }
  }
  fail_unless_equals_int(redirects, 2);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_bus_messages) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "progress", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  /* START, CONTINUE per status (queued, processing, succeeded), COMPLETE. */
  fail_unless(run.progress.size() >= 3);
  assert_str(run.progress.front(), "start");
  assert_str(run.progress.back(), "complete");
  for (size_t i = 1; i + 1 < run.progress.size(); i++)
    assert_str(run.progress[i], "continue");

  std::vector<std::string> statuses;
  for (GstStructure* s : run.task_messages) {
    for (const char* field : {"task-id", "request-id", "idempotency-key", "model", "status"})
      fail_unless(gst_structure_get_string(s, field) != nullptr, "no %s", field);
    gdouble estimate = 0, actual = 0;
    fail_unless(gst_structure_get_double(s, "cost-estimate", &estimate));
    fail_unless(gst_structure_get_double(s, "cost-actual", &actual));
    assert_str(gst_structure_get_string(s, "model"), "gpt-image-2");
    assert_str(gst_structure_get_string(s, "task-id"), src_string(pipeline, "task-id"));
    assert_str(gst_structure_get_string(s, "idempotency-key"), src_string(pipeline, "idempotency-key"));
    fail_unless(estimate > 0);
    statuses.push_back(gst_structure_get_string(s, "status"));
  }
  /* One message per status change, in order. A slow machine may poll past
   * "processing" entirely, so it is allowed, not required. */
  fail_unless(statuses.size() == 2 || statuses.size() == 3, "%zu status messages", statuses.size());
  assert_str(statuses.front(), "queued");
  assert_str(statuses.back(), "succeeded");
  if (statuses.size() == 3)
    assert_str(statuses[1], "processing");
  fail_unless_equals_int(std::count(run.progress.begin(), run.progress.end(), "continue"), statuses.size());
  gdouble actual = 0;
  gst_structure_get_double(run.task_messages.back(), "cost-actual", &actual);
  fail_unless(actual > 0, "no actual cost once succeeded");
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- failures ------------------------------------------------------------ */

GST_START_TEST(test_failed_task_message) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"task","action":"fail","message":"content policy violation: no cars"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "a car", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
  assert_contains(run.message(), "content policy violation: no cars");
  std::string task_id = src_string(pipeline, "task-id");
  assert_str(g_value_get_string(detail(run, "task-id")), task_id);
  assert_str(g_value_get_string(detail(run, "status")), "failed");
  assert_str(run.progress.back(), "error");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_cancelled_task_message) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"task","action":"cancel","message":"cancelled by the operator"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "a car", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
  assert_contains(run.message(), "cancelled by the operator");
  assert_str(g_value_get_string(detail(run, "status")), "cancelled");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_missing_key_refused_without_request) {
  auto emu = start_emulator();
  g_unsetenv("MINDVIDEO_API_KEY");
  GstElement* pipeline = gst_parse_launch("mindvideosrc name=src ! fakesink", nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-url", emu->url().c_str(), "model", "gpt-image-2", "prompt", "x", nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s", run.message().c_str());
  assert_contains(run.message(), "MINDVIDEO_API_KEY");
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_bad_settings_refused_without_request) {
  auto emu = start_emulator();
  struct Case {
    const char* model;
    const char* prompt;
    const char* input;
    const char* expect;
  } cases[] = {
      {nullptr, "p", nullptr, "No model"},
      {"gpt-image-2", nullptr, nullptr, "No prompt"},
      {"gpt-image-2", "p", "[\"not\",\"an\",\"object\"]", "JSON object"},
      {"gpt-image-2", "p", "{\"size\":", "not valid JSON"},
  };
  for (const Case& c : cases) {
    GstElement* pipeline = gst_parse_launch("mindvideosrc name=src ! fakesink", nullptr);
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "model", c.model, "prompt", c.prompt,
                 "input", c.input, nullptr);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
                run.message().c_str());
    assert_contains(run.message(), c.expect);
    gst_object_unref(pipeline);
  }
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
}
GST_END_TEST;

GST_START_TEST(test_http_errors_map_to_clear_errors) {
  auto emu = start_emulator();
  struct Case {
    const char* fault;
    GstResourceError code;
    const char* expect;
  } cases[] = {
      {R"({"route":"submit","action":"status","status":401,"message":"key disabled"})",
       GST_RESOURCE_ERROR_NOT_AUTHORIZED, "key disabled"},
      {R"({"route":"submit","action":"status","status":403,"message":"forbidden here"})",
       GST_RESOURCE_ERROR_NOT_AUTHORIZED, "forbidden here"},
      {R"({"route":"submit","action":"status","status":402,"message":"insufficient balance"})",
       GST_RESOURCE_ERROR_FAILED, "insufficient balance"},
      {R"({"route":"poll","action":"status","status":404,"message":"no such task"})",
       GST_RESOURCE_ERROR_NOT_FOUND, "no such task"},
  };
  for (const Case& c : cases) {
    fail_unless(emu->add_fault(c.fault));
    GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "errors", nullptr, "fakesink name=sink");
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, c.code), "%s: %s", c.fault, run.message().c_str());
    assert_contains(run.message(), c.expect);
    fail_unless(g_value_get_uint(detail(run, "http-status-code")) >= 400);
    fail_unless(emu->clear_faults());
    gst_object_unref(pipeline);
  }

  /* A real 401 from a wrong key. */
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "errors", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-key", "mv_wrong_key", nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s",
              run.message().c_str());
  fail_unless_equals_int(g_value_get_uint(detail(run, "http-status-code")), 401);
  fail_unless(run.message().find("mv_wrong_key") == std::string::npos, "the key is in the error text");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_conflict_and_rejection) {
  auto emu = start_emulator();
  /* Same key, different input: 409, named as such. */
  for (const char* prompt : {"first", "second"}) {
    GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", prompt, nullptr, "fakesink name=sink");
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "idempotency-key", "reused-key", nullptr);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run);
    if (g_str_equal(prompt, "first")) {
      fail_unless(run.eos, "no EOS: %s", run.message().c_str());
    } else {
      fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
                  run.message().c_str());
      assert_contains(run.message(), "Idempotency-Key 'reused-key' was already used with a different request");
      fail_unless_equals_int(g_value_get_uint(detail(run, "http-status-code")), 409);
    }
    gst_object_unref(pipeline);
  }
  /* The server's own validation message reaches the user (the element
   * validates first, so the server's 422 is injected). */
  fail_unless(emu->add_fault(R"({"route":"submit","action":"status","status":422,"message":"n must be at most 4"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "too many", R"({"n":2})",
                                       "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s", run.message().c_str());
  assert_contains(run.message(), "HTTP 422");
  assert_contains(run.message(), "n must be at most 4");
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_unreachable_api) {
  /* A loopback port nobody listens on. */
  GSocket* sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress* lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress* addr = g_inet_socket_address_new(lo, 0);
  fail_unless(g_socket_bind(sock, addr, FALSE, nullptr));
  GSocketAddress* bound = g_socket_get_local_address(sock, nullptr);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_socket_close(sock, nullptr); /* bound, then closed: refused */
  std::string url = "http://127.0.0.1:" + std::to_string(port);

  GstElement* pipeline = gst_parse_launch("mindvideosrc name=src retries=1 ! fakesink", nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-url", url.c_str(), "api-key", API_KEY, "model", "gpt-image-2", "prompt", "x", nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ), "%s", run.message().c_str());
  assert_contains(run.message(), "Could not reach the MindVideo API at " + url);
  fail_if(run.message().find("Internal data stream error") != std::string::npos);
  gst_object_unref(pipeline);
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_object_unref(sock);
}
GST_END_TEST;

/* ---- retries, resume, idempotency ---------------------------------------- */

GST_START_TEST(test_transient_errors_are_retried_without_double_charge) {
  auto emu = start_emulator();
  /* The submission's answer is lost after the task was created, then a 503;
   * polls fail twice. One task, one charge, output delivered. */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"submit","action":"cut","after_processing":true},
      {"route":"submit","action":"status","status":503,"retry_after":"0"},
      {"route":"poll","action":"status","status":502,"count":2}]})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "retry me", nullptr, "decodebin ! fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  fail_unless_equals_int(emu->ledger_count(), 1);
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "api", "POST"), 3);
  std::string body;
  for (const auto& l : log) {
    if (l.method != "POST")
      continue;
    /* Every retry: the same key, the same bytes. */
    assert_str(l.idempotency_key, src_string(pipeline, "idempotency-key"));
    if (body.empty())
      body = l.body;
    assert_str(l.body, body);
  }
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_resume_by_key_and_attach_by_task_id) {
  auto emu = start_emulator();
  std::string task_id;
  for (int round = 0; round < 2; round++) {
    GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "resume", nullptr, "fakesink name=sink");
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "idempotency-key", "resume-key-1", nullptr);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(run.eos, "no EOS: %s", run.message().c_str());
    if (round == 0)
      task_id = src_string(pipeline, "task-id");
    else
      assert_str(src_string(pipeline, "task-id"), task_id);
    gst_object_unref(pipeline);
  }
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* task-id attaches: no POST at all. */
  fail_unless(emu->clear_requests());
  GstElement* pipeline = gst_parse_launch("mindvideosrc name=src ! decodebin ! fakesink name=sink", nullptr);
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "task-id", task_id.c_str(), nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "api", "POST"), 0);
  fail_unless(count_requests(log, "api", "GET") >= 1);
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_restart_reuses_the_task) {
  /* 3 s: long enough that a loaded machine still sees it processing. */
  auto emu = start_emulator({"--processing-ms", "3000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "once", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  /* Stopped mid-task through READY, as players do on Stop then Play. */
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "processing"));
  std::string key = src_string(pipeline, "idempotency-key");
  std::string task_id = src_string(pipeline, "task-id");
  gst_element_set_state(pipeline, GST_STATE_READY);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  /* The same request: the same key, the same task, one charge. */
  assert_str(src_string(pipeline, "idempotency-key"), key);
  assert_str(src_string(pipeline, "task-id"), task_id);
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* A different request gets a key of its own. */
  g_object_set(src, "prompt", "twice", nullptr);
  PlayResult second;
  play(pipeline, &second);
  fail_unless(second.eos, "no EOS: %s", second.message().c_str());
  fail_if(src_string(pipeline, "idempotency-key") == key);
  fail_unless_equals_int(emu->ledger_count(), 2);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_download_resumes_on_a_host_without_range) {
  auto emu = start_emulator();
  /* Cut at 100 kB, then a host that answers Range with the whole file. */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"download","action":"truncate","bytes":100000,"method":"GET"},
      {"route":"download","action":"ignore_range","method":"GET"}]})"));
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "resume", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run, 90, true);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  auto files = emu->task_files(src_string(pipeline, "task-id"));
  fail_unless_equals_int(files.size(), 1);
  std::string served = read_file(files[0]);
  fail_unless(served.size() > 100000);
  fail_unless(run.data == served, "the resumed download differs from the served file");
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "cdn", "GET"), 2);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_large_mp4_without_content_length) {
  auto emu = start_emulator();
  fail_unless(emu->set_config(R"({"video_bitrate_kbps":14000})"));
  fail_unless(emu->add_fault(R"({"route":"download","action":"no_length","method":"GET"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "no length", R"({"resolution":"720p"})",
                                       "decodebin ! video/x-raw ! fakesink name=sink sync=false");
  PlayResult run;
  play(pipeline, &run, 180);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 8 * 24);
  auto files = emu->task_files(src_string(pipeline, "task-id"));
  fail_unless(read_file(files[0]).size() > 10 * 1000 * 1000);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_download_error_names_the_task) {
  auto emu = start_emulator();
  /* Every download cut: the error must still say which task. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"cut","count":-1})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "cut", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "retries", 1, nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.error != nullptr, "no error");
  fail_unless(run.error->domain == GST_RESOURCE_ERROR, "%s", run.message().c_str());
  assert_str(g_value_get_string(detail(run, "task-id")), src_string(pipeline, "task-id"));
  assert_str(g_value_get_string(detail(run, "status")), "succeeded");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_attach_names_no_key) {
  auto emu = start_emulator({"--processing-ms", "120000"});
  /* A task that will not finish in time, attached by id. */
  guint status = 0;
  fail_unless(emu->post_json("/_emulator/faults", R"({"route":"task","action":"hang"})", &status));
  GstElement* first = make_pipeline(emu.get(), "gpt-image-2", "slow", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(first), "src");
  gst_element_set_state(first, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "queued"));
  std::string task_id = src_string(first, "task-id");
  gst_object_unref(src);
  gst_element_set_state(first, GST_STATE_NULL);
  gst_object_unref(first);
  fail_if(task_id.empty());

  GstElement* pipeline = gst_parse_launch("mindvideosrc name=src timeout=1 ! fakesink", nullptr);
  src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "task-id", task_id.c_str(),
               "poll-interval", 100, nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
  assert_contains(run.message(), "did not finish within the timeout of 1 s");
  assert_contains(run.message(), "run again with task-id=" + task_id);
  fail_if(run.message().find("idempotency-key") != std::string::npos, "%s", run.message().c_str());
  assert_str(src_string(pipeline, "idempotency-key"), "");
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- start() and state changes ------------------------------------------- */

GST_START_TEST(test_start_does_no_network_io) {
  auto emu = start_emulator();
  GstElement* src = gst_element_factory_make("mindvideosrc", nullptr);
  g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "model", "gpt-image-2", "prompt", "x",
               nullptr);
  gst_element_set_state(src, GST_STATE_READY);
  /* A scheduling query makes basesrc start() and stop() the element. */
  GstPad* pad = gst_element_get_static_pad(src, "src");
  GstQuery* query = gst_query_new_scheduling();
  fail_unless(gst_pad_query(pad, query));
  /* Push mode only until the output exists. */
  fail_if(gst_query_has_scheduling_mode(query, GST_PAD_MODE_PULL));
  gst_query_unref(query);
  gst_object_unref(pad);
  gst_element_set_state(src, GST_STATE_NULL);
  gst_object_unref(src);
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

/* Sets PLAYING, waits for `ready(src)`, then times set_state(NULL). */
static gint64 null_after(GstElement* pipeline, const std::function<bool(GstElement*)>& ready, int wait_s = 60) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gint64 deadline = g_get_monotonic_time() + wait_s * G_USEC_PER_SEC;
  while (!ready(src) && g_get_monotonic_time() < deadline)
    g_usleep(20 * 1000);
  fail_unless(ready(src), "the pipeline never reached the stage under test");
  gint64 t0 = g_get_monotonic_time();
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gint64 elapsed = g_get_monotonic_time() - t0;
  gst_object_unref(src);
  return elapsed;
}

/* The typefinders load while the task runs, so the first buffer does not
 * wait for their plugin once the task succeeds. (Where the registry is
 * scanned in-process, GST_REGISTRY_FORK=no under ASan, every plugin is
 * loaded before the test starts: the log line tells the element's part.) */
GST_START_TEST(test_typefinders_load_while_the_task_runs) {
  auto emu = start_emulator({"--processing-ms", "120000"});
  LogCapture info(GST_LEVEL_INFO);
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "slow", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "processing"));
  fail_unless(info.contains("typefinders for the API's output types"), "the element did not load the typefinders");
  g_autoptr(GstPlugin) plugin = gst_registry_find_plugin(gst_registry_get(), "typefindfunctions");
  fail_unless(plugin != nullptr, "gst-plugins-base's typefindfunctions is not installed");
  fail_unless(gst_plugin_is_loaded(plugin), "typefindfunctions is not loaded while the task runs");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* Every wait below would last a minute if unlock() failed to wake it; the
 * bound only tells "woken" from "not woken", it is no speed measurement. */
#define WOKEN_BOUND (30 * G_USEC_PER_SEC)

GST_START_TEST(test_null_while_polling) {
  /* Queued for minutes: the wait below cannot miss the stage. */
  auto emu = start_emulator({"--queued-ms", "120000", "--processing-ms", "120000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "slow", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "poll-interval", 60000, "request-timeout", 60, nullptr);
  gst_object_unref(src);
  gint64 elapsed = null_after(pipeline, [](GstElement* s) { return has_status(s, "queued"); });
  fail_unless(elapsed < WOKEN_BOUND, "set_state(NULL) took %" G_GINT64_FORMAT " us", elapsed);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_null_while_submitting) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"submit","action":"hang"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "hang", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "request-timeout", 60, nullptr);
  gst_object_unref(src);
  EmulatorProcess* e = emu.get();
  gint64 elapsed = null_after(pipeline, [e](GstElement*) {
    auto log = request_log(e);
    return count_requests(log, "api", "POST") == 1;
  });
  fail_unless(elapsed < WOKEN_BOUND, "set_state(NULL) took %" G_GINT64_FORMAT " us", elapsed);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_null_while_downloading_and_streaming) {
  auto emu = start_emulator();
  /* 20 kB/s: the download lasts minutes, so NULL lands mid-transfer, while
   * the streaming thread waits for bytes. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"slow","bytes_per_sec":20000})"));
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "slow download", nullptr, "fakesink name=sink");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  std::atomic<int> buffers{0};
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER,
                    [](GstPad*, GstPadProbeInfo*, gpointer d) {
                      (*static_cast<std::atomic<int>*>(d))++;
                      return GST_PAD_PROBE_OK;
                    },
                    &buffers, nullptr);
  gint64 elapsed = null_after(pipeline, [&buffers](GstElement*) { return buffers > 0; });
  fail_unless(elapsed < WOKEN_BOUND, "set_state(NULL) took %" G_GINT64_FORMAT " us", elapsed);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}
GST_END_TEST;

struct ProgressLog {
  std::mutex lock;
  std::vector<std::string> types;
};

static GstBusSyncReply record_progress(GstBus*, GstMessage* msg, gpointer data) {
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_PROGRESS) {
    auto* log = static_cast<ProgressLog*>(data);
    GstProgressType type;
    gst_message_parse_progress(msg, &type, nullptr, nullptr);
    std::lock_guard<std::mutex> guard(log->lock);
    log->types.push_back(progress_name(type));
  }
  return GST_BUS_PASS;
}

GST_START_TEST(test_stop_mid_task_closes_progress) {
  auto emu = start_emulator({"--processing-ms", "120000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "slow", nullptr, "fakesink name=sink");
  /* A sync handler: going to NULL flushes the bus, and the CANCELED comes
   * from stop(), on the way there. */
  ProgressLog log;
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, record_progress, &log, nullptr);
  null_after(pipeline, [](GstElement* s) { return has_status(s, "processing"); });
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  fail_unless(log.types.size() >= 2);
  assert_str(log.types.front(), "start");
  assert_str(log.types.back(), "canceled");
  gst_object_unref(bus);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* mindvideosrc_suite(void) {
  Suite* s = suite_create("mindvideosrc");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_video_decodes_to_eos);
  tcase_add_test(tc, test_large_mp4_with_moov_at_end);
  tcase_add_test(tc, test_image_decodes_at_size);
  tcase_add_test(tc, test_jpeg_and_webp_images_decode);
  tcase_add_test(tc, test_bytes_identical_to_served_file);
  tcase_add_test(tc, test_output_index);
  tcase_add_test(tc, test_request_and_no_key_to_output_host);
  tcase_add_test(tc, test_outputs_behind_redirects);
  tcase_add_test(tc, test_bus_messages);
  tcase_add_test(tc, test_failed_task_message);
  tcase_add_test(tc, test_cancelled_task_message);
  tcase_add_test(tc, test_missing_key_refused_without_request);
  tcase_add_test(tc, test_bad_settings_refused_without_request);
  tcase_add_test(tc, test_http_errors_map_to_clear_errors);
  tcase_add_test(tc, test_conflict_and_rejection);
  tcase_add_test(tc, test_unreachable_api);
  tcase_add_test(tc, test_transient_errors_are_retried_without_double_charge);
  tcase_add_test(tc, test_resume_by_key_and_attach_by_task_id);
  tcase_add_test(tc, test_restart_reuses_the_task);
  tcase_add_test(tc, test_download_resumes_on_a_host_without_range);
  tcase_add_test(tc, test_large_mp4_without_content_length);
  tcase_add_test(tc, test_download_error_names_the_task);
  tcase_add_test(tc, test_attach_names_no_key);
  tcase_add_test(tc, test_start_does_no_network_io);
  tcase_add_test(tc, test_typefinders_load_while_the_task_runs);
  tcase_add_test(tc, test_null_while_polling);
  tcase_add_test(tc, test_null_while_submitting);
  tcase_add_test(tc, test_null_while_downloading_and_streaming);
  tcase_add_test(tc, test_stop_mid_task_closes_progress);
  return s;
}

GST_CHECK_MAIN(mindvideosrc);
