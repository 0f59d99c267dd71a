/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fault matrix (docs/reliability.md): each fault the emulator can
 * inject, and what the element makes of it. Never a lost result, never a
 * second charge, never the key where it does not belong.
 */
#include "element-helpers.h"

#include <glib/gstdio.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

using nlohmann::json;

namespace {

/* An image task through decodebin, with quick polls; `props` tune the src. */
GstElement* image_pipeline(EmulatorProcess* emu, const char* prompt = "reliable",
                           const char* rest = "decodebin ! fakesink name=sink") {
  return make_pipeline(emu, "gpt-image-2", prompt, R"({"size":"1:1"})", rest);
}

void set_src(GstElement* pipeline, const char* first, ...) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  va_list args;
  va_start(args, first);
  g_object_set_valist(G_OBJECT(src), first, args);
  va_end(args);
  gst_object_unref(src);
}

/* Plays an image task with `faults` injected; returns with the run done. */
void run_with(EmulatorProcess* emu, const char* faults, PlayResult* run, GstElement** out = nullptr) {
  if (faults)
    fail_unless(emu->add_fault(faults), "fault rejected: %s", faults);
  GstElement* pipeline = image_pipeline(emu);
  play(pipeline, run);
  if (out)
    *out = pipeline;
  else
    gst_object_unref(pipeline);
}

/* The whole task bytes, to compare with the served file. */
std::string served_file(EmulatorProcess* emu, GstElement* pipeline, size_t index = 0) {
  auto files = emu->task_files(src_string(pipeline, "task-id"));
  fail_unless(files.size() > index, "no file %zu", index);
  return read_file(files[index]);
}

}  // namespace

/* ---- submission ------------------------------------------------------------ */

GST_START_TEST(test_submit_rate_limited_and_unavailable) {
  auto emu = start_emulator();
  /* 429 with Retry-After in seconds, then as an HTTP-date, then a 503:
   * every answer honoured, one task, one charge. */
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autoptr(GDateTime) soon = g_date_time_add_seconds(now, 1);
  g_autofree gchar* date = g_date_time_format(soon, "%a, %d %b %Y %H:%M:%S GMT");
  std::string rules = std::string(R"({"rules":[
      {"route":"submit","action":"status","status":429,"retry_after":"1"},
      {"route":"submit","action":"status","status":429,"retry_after":")") + date + R"("},
      {"route":"submit","action":"status","status":503}]})";
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), rules.c_str(), &run, &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "api", "POST"), 4);
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_submit_hang_times_out_and_retries) {
  auto emu = start_emulator();
  /* The first POST is processed, then never answered: request-timeout ends
   * the wait, the retry gets the same task back. */
  fail_unless(emu->add_fault(R"({"route":"submit","action":"hang","after_processing":true})"));
  GstElement* pipeline = image_pipeline(emu.get());
  /* 5 s: the retried POST must be answered within it, even under TSan. */
  set_src(pipeline, "request-timeout", 5, nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 2);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_submit_keeps_failing) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"submit","action":"status","status":500,"count":-1})"));
  GstElement* pipeline = image_pipeline(emu.get());
  set_src(pipeline, "retries", 2, nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ), "%s", run.message().c_str());
  assert_contains(run.message(), "HTTP 500");
  assert_contains(run.message(), "after 2 retries");
  /* retries bounds the attempts: 1 + 2. */
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 3);
  fail_unless_equals_int(emu->ledger_count(), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_submit_answers_that_are_not_tasks) {
  auto emu = start_emulator();
  /* A 2xx without a task (task created meanwhile): resent with the same key
   * and bytes, so the task comes back, charged once. */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"submit","action":"body","status":201,"body":"{\"status\":\"queued\"}","after_processing":true},
      {"route":"submit","action":"body","status":200,"body":"<html>gateway</html>","content_type":"text/html"}]})"));
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), nullptr, &run, &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- polling --------------------------------------------------------------- */

GST_START_TEST(test_poll_faults_do_not_fail_the_task) {
  auto emu = start_emulator();
  /* Everything a poll can meet on the way, once each. (A body over the
   * 4 MiB cap is not among them: it fails at once, see test-network.) */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"poll","action":"status","status":429,"retry_after":"0"},
      {"route":"poll","action":"status","status":503},
      {"route":"poll","action":"cut"},
      {"route":"poll","action":"body","body":"not json at all"},
      {"route":"poll","action":"body","body":"{\"status\":\"queued\"}"},
      {"route":"poll","action":"body","body":"[1,2,3]"},
      {"route":"poll","action":"delay","ms":300}]})"));
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), nullptr, &run, &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  g_autoptr(JsonNode) faults = emu->get_json("/_emulator/faults");
  fail_unless(faults && JSON_NODE_HOLDS_OBJECT(faults));
  /* Every rule was met: none is left. */
  fail_unless_equals_int(json_object_get_int_member(json_node_get_object(faults), "count"), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_unknown_statuses_and_wrong_types_are_waited_out) {
  auto emu = start_emulator({"--processing-ms", "1500"});
  /* A status the docs do not list, and one of the wrong type: not terminal. */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"poll","action":"body","body":"{\"task_id\":\"t\",\"status\":\"rendering\",\"cost_estimate\":\"n/a\"}"},
      {"route":"poll","action":"body","body":"{\"task_id\":\"t\",\"status\":7,\"output\":\"none\"}"}]})"));
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), nullptr, &run, &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  assert_str(src_string(pipeline, "status"), "succeeded");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_deadline_names_task_and_key) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"task","action":"hang"})"));
  GstElement* pipeline = image_pipeline(emu.get());
  set_src(pipeline, "timeout", 2, "idempotency-key", "deadline-key-1", nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
  std::string task_id = src_string(pipeline, "task-id");
  assert_contains(run.message(), "Task '" + task_id + "' did not finish within the timeout of 2 s");
  assert_contains(run.message(), "idempotency-key=deadline-key-1 or task-id=" + task_id);
  assert_str(g_value_get_string(detail(run, "idempotency-key")), "deadline-key-1");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_lasting_poll_failure_warns_then_deadline) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"poll","action":"status","status":502,"count":-1})"));
  GstElement* pipeline = image_pipeline(emu.get());
  /* 10 s: room for the submit and two failed polls on a slow machine. */
  set_src(pipeline, "timeout", 10, "retries", 1, nullptr);
  PlayResult run;
  play(pipeline, &run);
  /* The failures never failed the task; the deadline did, after a warning. */
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
  assert_contains(run.message(), "did not finish within the timeout of 10 s");
  fail_unless_equals_int(run.warnings.size(), 1);
  assert_contains(run.warnings[0], "still trying until the timeout");
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- downloads ------------------------------------------------------------- */

GST_START_TEST(test_truncated_download_resumes_with_range) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"download","action":"truncate","bytes":50000,"method":"GET"})"));
  GstElement* pipeline = image_pipeline(emu.get(), "resume", "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run, 90, true);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless(run.data == served_file(emu.get(), pipeline), "the resumed output differs from the served file");
  std::vector<std::string> ranges;
  for (const auto& l : request_log(emu.get()))
    if (l.origin == "cdn" && l.method == "GET")
      ranges.push_back(l.range);
  fail_unless_equals_int(ranges.size(), 2);
  assert_str(ranges[0], "");
  assert_str(ranges[1], "bytes=50000-");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_short_file_is_never_success) {
  auto emu = start_emulator();
  /* 50000 bytes, then nothing more from any retry: the file stays short. */
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"download","action":"truncate","bytes":50000,"method":"GET"},
      {"route":"download","action":"truncate","bytes":0,"method":"GET","count":-1}]})"));
  GstElement* pipeline = image_pipeline(emu.get(), "short", "fakesink name=sink");
  set_src(pipeline, "retries", 2, nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_if(run.eos, "a truncated download ended as a success");
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ), "%s", run.message().c_str());
  assert_contains(run.message(), "stopped at byte 50000 of");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_download_cut_and_unavailable_are_retried) {
  auto emu = start_emulator();
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), R"({"rules":[
      {"route":"download","action":"cut","method":"GET"},
      {"route":"download","action":"status","status":503,"method":"GET"},
      {"route":"download","action":"delay","ms":300,"method":"GET"}]})",
           &run, &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(count_requests(request_log(emu.get()), "cdn", "GET"), 3);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_expired_url_is_read_again_once) {
  auto emu = start_emulator();
  /* Expired once, re-signed: one fresh read of the task gives a new URL. */
  PlayResult run;
  GstElement* pipeline = nullptr;
  run_with(emu.get(), R"({"route":"download","action":"expire","status":403,"resign":true,"method":"GET"})", &run,
           &pipeline);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "cdn", "GET"), 2);
  gst_object_unref(pipeline);

  /* Gone for good: one fresh read, then a clear error. */
  PlayResult gone;
  run_with(emu.get(), R"({"route":"download","action":"expire","count":-1,"method":"GET"})", &gone);
  fail_unless(g_error_matches(gone.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND), "%s",
              gone.message().c_str());
  assert_contains(gone.message(), "gone from its host (HTTP 410)");
}
GST_END_TEST;

GST_START_TEST(test_max_size) {
  auto emu = start_emulator();
  for (const char* fault : {(const char*)nullptr, R"({"route":"download","action":"no_length","method":"GET"})"}) {
    if (fault)
      fail_unless(emu->add_fault(fault));
    GstElement* pipeline = image_pipeline(emu.get(), "too big", "fakesink name=sink");
    set_src(pipeline, "max-size", (guint64)1000, nullptr);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
    assert_contains(run.message(), "above max-size (1000 bytes); raise max-size to accept it");
    gst_object_unref(pipeline);
  }
  GParamSpec* pspec = g_object_class_find_property(
      G_OBJECT_CLASS(g_type_class_peek(g_type_from_name("GstMindVideoSrc"))), "max-size");
  fail_unless(pspec != nullptr);
  fail_unless_equals_uint64(G_PARAM_SPEC_UINT64(pspec)->default_value, G_GUINT64_CONSTANT(4) << 30);
}
GST_END_TEST;

GST_START_TEST(test_content_type_is_sniffed) {
  auto emu = start_emulator();
  for (const char* type : {"text/html", ""}) {
    std::string rule = std::string(R"({"route":"download","action":"content_type","value":")") + type + "\"}";
    fail_unless(emu->add_fault(rule));
    GstElement* pipeline = image_pipeline(emu.get(), "sniffed", "decodebin ! video/x-raw ! fakesink name=sink");
    PlayResult run;
    play(pipeline, &run);
    fail_unless(run.eos, "'%s': no EOS: %s", type, run.message().c_str());
    fail_unless_equals_int(run.buffers, 1);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* ---- security ---------------------------------------------------------------- */

GST_START_TEST(test_non_http_output_urls_refused) {
  auto emu = start_emulator();
  for (const char* url : {"file:///etc/passwd", "ftp://127.0.0.1/out.png"}) {
    std::string rule = std::string(R"({"route":"task","action":"output_url","url":")") + url + "\"}";
    PlayResult run;
    run_with(emu.get(), rule.c_str(), &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s", run.message().c_str());
    assert_contains(run.message(), std::string("not http(s); refusing it: ") + url);
  }
}
GST_END_TEST;

GST_START_TEST(test_plain_http_to_remote_host_refused) {
  auto emu = start_emulator();
  /* 192.0.2.1 is TEST-NET-1: refused in start(), so never contacted. */
  GstElement* pipeline = gst_parse_launch("mindvideosrc name=src ! fakesink", nullptr);
  set_src(pipeline, "api-url", "http://192.0.2.1:8080", "api-key", API_KEY, "model", "gpt-image-2", "prompt", "p",
          nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s", run.message().c_str());
  assert_contains(run.message(), "Refusing to send the API key over plain http:// to http://192.0.2.1:8080");
  assert_contains(run.message(), "allow-plain-http=true");
  gst_object_unref(pipeline);
  /* Loopback over http is fine (the emulator); so is "localhost". */
  std::string local = emu->url();
  local.replace(local.find("127.0.0.1"), 9, "localhost");
  pipeline = image_pipeline(emu.get());
  set_src(pipeline, "api-url", local.c_str(), nullptr);
  PlayResult ok;
  play(pipeline, &ok);
  fail_unless(ok.eos, "no EOS: %s", ok.message().c_str());
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_tls_certificates_are_verified) {
  std::string data = g_getenv("MINDVIDEO_TEST_DATA");
  auto emu = start_emulator({"--tls-cert", data + "/tls-selfsigned.pem", "--tls-key", data + "/tls-selfsigned.key"});
  fail_unless(g_str_has_prefix(emu->url().c_str(), "https://"), "%s", emu->url().c_str());
  GstElement* pipeline = image_pipeline(emu.get());
  PlayResult run;
  play(pipeline, &run);
  /* A self-signed certificate: refused, not retried, no key sent. */
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ), "%s", run.message().c_str());
  assert_contains(run.message(), "Could not reach the MindVideo API at " + emu->url());
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api"), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

struct KeyWatch {
  std::mutex lock;
  std::vector<std::string> leaks;
  guint64 messages = 0;
};

static void watch_log(GstDebugCategory*, GstDebugLevel, const gchar*, const gchar*, gint, GObject*,
                      GstDebugMessage* message, gpointer data) {
  auto* watch = static_cast<KeyWatch*>(data);
  const gchar* text = gst_debug_message_get(message);
  std::lock_guard<std::mutex> guard(watch->lock);
  watch->messages++;
  if (text && strstr(text, API_KEY))
    watch->leaks.push_back(text);
}

static GstBusSyncReply watch_bus(GstBus*, GstMessage* msg, gpointer data) {
  auto* watch = static_cast<KeyWatch*>(data);
  gchar* text = nullptr;
  if (const GstStructure* s = gst_message_get_structure(msg))
    text = gst_structure_to_string(s);
  std::lock_guard<std::mutex> guard(watch->lock);
  if (text && strstr(text, API_KEY))
    watch->leaks.push_back(std::string("bus: ") + text);
  g_free(text);
  return GST_BUS_PASS;
}

GST_START_TEST(test_key_never_in_logs_messages_or_errors) {
  auto emu = start_emulator();
  KeyWatch watch;
  gst_debug_set_default_threshold(GST_LEVEL_MEMDUMP);
  gst_debug_add_log_function(watch_log, &watch, nullptr);
  /* A success, and a hostile server that echoes the key in its error. */
  for (const char* fault : {(const char*)nullptr,
                            R"({"route":"submit","action":"status","status":401,"message":"key mv_test_key is revoked"})"}) {
    if (fault)
      fail_unless(emu->add_fault(fault));
    GstElement* pipeline = image_pipeline(emu.get());
    GstBus* bus = gst_element_get_bus(pipeline);
    gst_bus_set_sync_handler(bus, watch_bus, &watch, nullptr);
    PlayResult run;
    play(pipeline, &run);
    gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
    gst_object_unref(bus);
    if (fault) {
      assert_contains(run.message(), "key *** is revoked");
      fail_if(run.error_debug.find(API_KEY) != std::string::npos);
    } else {
      fail_unless(run.eos, "no EOS: %s", run.message().c_str());
    }
    gst_object_unref(pipeline);
  }
  gst_debug_remove_log_function(watch_log);
  gst_debug_set_default_threshold(GST_LEVEL_NONE);
  fail_unless(watch.messages > 1000, "the debug log was not captured (%" G_GUINT64_FORMAT " lines)", watch.messages);
  fail_unless(watch.leaks.empty(), "the key leaked: %s", watch.leaks.empty() ? "" : watch.leaks[0].c_str());

  /* Write-only: nobody can read it back. */
  GParamSpec* pspec = g_object_class_find_property(
      G_OBJECT_CLASS(g_type_class_peek(g_type_from_name("GstMindVideoSrc"))), "api-key");
  fail_unless(pspec && (pspec->flags & G_PARAM_WRITABLE) && !(pspec->flags & G_PARAM_READABLE));
}
GST_END_TEST;

GST_START_TEST(test_key_not_in_gst_launch_verbose) {
  auto emu = start_emulator();
  std::string command = "gst-launch-1.0 -v mindvideosrc api-url=" + emu->url() +
                        " api-key=" API_KEY " model=gpt-image-2 prompt=verbose poll-interval=100 ! fakesink 2>&1";
  gchar* out = nullptr;
  gint status = -1;
  gchar* argv[] = {(gchar*)"/bin/sh", (gchar*)"-c", (gchar*)command.c_str(), nullptr};
  fail_unless(g_spawn_sync(nullptr, argv, nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out, nullptr, &status, nullptr));
  std::string output = out ? out : "";
  g_free(out);
  fail_unless(g_spawn_check_wait_status(status, nullptr), "gst-launch failed: %s", output.c_str());
  /* -v printed the element's readable properties as they changed. */
  assert_contains(output, "/GstMindVideoSrc:mindvideosrc0: status = succeeded");
  fail_unless(output.find(API_KEY) == std::string::npos, "the key is in gst-launch -v output");
}
GST_END_TEST;

/* ---- crash, concurrency, state changes ---------------------------------------- */

GST_START_TEST(test_kill_and_resume_pays_once) {
  auto emu = start_emulator({"--processing-ms", "3000"});
  gchar* dir = g_dir_make_tmp("mindvideo-test-XXXXXX", nullptr);
  std::string out = std::string(dir) + "/out.png";
  std::string command = "exec gst-launch-1.0 -q mindvideosrc api-url=" + emu->url() + " api-key=" API_KEY
                        " model=gpt-image-2 prompt=crash idempotency-key=crash-key-1 poll-interval=100"
                        " ! filesink location=" + out;
  /* Killed with SIGKILL while the task is processing. */
  GSubprocess* first = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, nullptr, "/bin/sh", "-c", command.c_str(), nullptr);
  fail_unless(first != nullptr);
  bool processing = false;
  for (int i = 0; i < 2000 && !processing; i++) {
    g_usleep(10 * 1000);
    for (const auto& l : request_log(emu.get()))
      processing |= l.method == "GET" && l.origin == "api";
  }
  fail_unless(processing, "the first run never polled");
  g_subprocess_force_exit(first);
  fail_unless(g_subprocess_wait(first, nullptr, nullptr));
  fail_unless(g_subprocess_get_if_signaled(first) && g_subprocess_get_term_sig(first) == SIGKILL);
  g_object_unref(first);
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* The same key again: the same task, no second charge, the output whole. */
  GSubprocess* second = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, nullptr, "/bin/sh", "-c", command.c_str(), nullptr);
  fail_unless(g_subprocess_wait_check(second, nullptr, nullptr), "the second run failed");
  g_object_unref(second);
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(emu->ledger_count("crash-key-1"), 1);
  g_autoptr(JsonNode) ledger = emu->get_json("/_emulator/ledger");
  std::string task_id =
      json_object_get_string_member(json_array_get_object_element(
                                        json_object_get_array_member(json_node_get_object(ledger), "charges"), 0),
                                    "task_id");
  auto files = emu->task_files(task_id);
  fail_unless(read_file(out) == read_file(files[0]), "the resumed output differs from the served file");
  g_unlink(out.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_32_elements_at_once) {
  auto emu = start_emulator();
  const int kCount = 32;
  std::vector<GstElement*> pipelines;
  for (int i = 0; i < kCount; i++) {
    std::string prompt = "crowd " + std::to_string(i);
    pipelines.push_back(make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", prompt.c_str(),
                                      R"({"resolution":"0.5K"})", "fakesink name=sink"));
  }
  for (GstElement* p : pipelines)
    gst_element_set_state(p, GST_STATE_PLAYING);
  int done = 0, failed = 0;
  std::vector<bool> finished(kCount, false);
  gint64 deadline = g_get_monotonic_time() + 180 * G_USEC_PER_SEC;
  while (done + failed < kCount && g_get_monotonic_time() < deadline) {
    for (int i = 0; i < kCount; i++) {
      if (finished[i])
        continue;
      GstBus* bus = gst_element_get_bus(pipelines[i]);
      GstMessage* msg = gst_bus_timed_pop_filtered(bus, 10 * GST_MSECOND,
                                                   (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      gst_object_unref(bus);
      if (!msg)
        continue;
      finished[i] = true;
      (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS ? done : failed)++;
      gst_message_unref(msg);
    }
  }
  std::vector<std::string> ids;
  for (GstElement* p : pipelines) {
    ids.push_back(src_string(p, "task-id"));
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  fail_unless_equals_int(failed, 0);
  fail_unless_equals_int(done, kCount);
  std::sort(ids.begin(), ids.end());
  fail_unless(std::unique(ids.begin(), ids.end()) == ids.end(), "two elements shared a task");
  fail_unless_equals_int(emu->ledger_count(), kCount);
}
GST_END_TEST;

GST_START_TEST(test_state_cycling) {
  auto emu = start_emulator({"--queued-ms", "50", "--processing-ms", "200"});
  GstElement* pipeline = image_pipeline(emu.get(), "cycle", "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstBus* bus = gst_element_get_bus(pipeline);
  int completed = 0;
  for (int i = 0; i < 100; i++) {
    /* Two in three: a new request, stopped mid-poll. Every third: the
     * same one, to the end. */
    const bool mid_poll = i % 3 != 0;
    std::string prompt = mid_poll ? "cycle " + std::to_string(i) : "cycle to the end";
    g_object_set(src, "prompt", prompt.c_str(), nullptr);
    fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    if (mid_poll) {
      /* The POST reached the emulator (each cycle pays once, see below),
       * however slow the machine; then, mid-poll at best. */
      fail_unless(wait_until([&] { return emu->ledger_count() == i + 1; }), "cycle %d never submitted", i);
      for (int w = 0; w < 500 && !has_status(src, "queued") && !has_status(src, "processing"); w++)
        g_usleep(2 * 1000);
    } else {
      GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                                   (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "cycle %d did not end well", i);
      gst_message_unref(msg);
      completed++;
    }
    fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
  fail_unless_equals_int(completed, 34);
  /* Each cycle changed the request, so each paid for a task of its own. */
  fail_unless_equals_int(emu->ledger_count(), 100);
  gst_object_unref(bus);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* reliability_suite(void) {
  Suite* s = suite_create("mindvideosrc-reliability");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_submit_rate_limited_and_unavailable);
  tcase_add_test(tc, test_submit_hang_times_out_and_retries);
  tcase_add_test(tc, test_submit_keeps_failing);
  tcase_add_test(tc, test_submit_answers_that_are_not_tasks);
  tcase_add_test(tc, test_poll_faults_do_not_fail_the_task);
  tcase_add_test(tc, test_unknown_statuses_and_wrong_types_are_waited_out);
  tcase_add_test(tc, test_deadline_names_task_and_key);
  tcase_add_test(tc, test_lasting_poll_failure_warns_then_deadline);
  tcase_add_test(tc, test_truncated_download_resumes_with_range);
  tcase_add_test(tc, test_short_file_is_never_success);
  tcase_add_test(tc, test_download_cut_and_unavailable_are_retried);
  tcase_add_test(tc, test_expired_url_is_read_again_once);
  tcase_add_test(tc, test_max_size);
  tcase_add_test(tc, test_content_type_is_sniffed);
  tcase_add_test(tc, test_non_http_output_urls_refused);
  tcase_add_test(tc, test_plain_http_to_remote_host_refused);
  tcase_add_test(tc, test_tls_certificates_are_verified);
  tcase_add_test(tc, test_key_never_in_logs_messages_or_errors);
  tcase_add_test(tc, test_key_not_in_gst_launch_verbose);
  tcase_add_test(tc, test_kill_and_resume_pays_once);
  tcase_add_test(tc, test_32_elements_at_once);
  tcase_add_test(tc, test_state_cycling);
  return s;
}

GST_CHECK_MAIN(reliability);
