/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's fault rules: statuses, cut and truncated answers,
 * failing tasks, redirects, delays, arbitrary bodies, and the output
 * faults (content_type, expire, output_url).
 */
#include "test-emulator-helpers.h"

#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"


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

static Suite* emulator_faults_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-faults");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_faults);
  tcase_add_test(tc, test_fault_bodies);
  tcase_add_test(tc, test_output_faults);
  return s;
}

GST_CHECK_MAIN(emulator_faults)
