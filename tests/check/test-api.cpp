/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the pure API logic: request building, response parsing,
 * status mapping. No network.
 */
#include "api.h"

#include <nlohmann/json.hpp>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

using nlohmann::json;

static std::string body_of(const mv::RequestSettings& s) {
  std::string body, error;
  fail_unless(mv::build_submit_body(s, &body, &error), "build failed: %s", error.c_str());
  return body;
}

GST_START_TEST(test_submit_body_merges_prompt_and_input) {
  std::string body = body_of({"veo3-1-quality", "a red car at sunset",
                              R"({"aspect_ratio":"16:9","resolution":"1080p"})"});
  /* Exact bytes: model first, prompt first in input, input order kept. */
  fail_unless_equals_string(
      body.c_str(),
      R"({"model":"veo3-1-quality","input":{"prompt":"a red car at sunset","aspect_ratio":"16:9","resolution":"1080p"}})");
}
GST_END_TEST;

GST_START_TEST(test_submit_body_keeps_values_exactly) {
  /* No defaults injected, numbers and non-ASCII text unchanged. */
  /* A model with no local schema: sent unvalidated, so anything goes. */
  std::string body = body_of({"wan2-x", "",
                              R"({"prompt":"一只橘猫坐在窗台上看夕阳,水彩画风格","n":1,"scale":0.1,"big":12345678901234567890,"flag":false,"list":["a",2]})"});
  fail_unless_equals_string(
      body.c_str(),
      R"({"model":"wan2-x","input":{"prompt":"一只橘猫坐在窗台上看夕阳,水彩画风格","n":1,"scale":0.1,"big":12345678901234567890,"flag":false,"list":["a",2]}})");
}
GST_END_TEST;

GST_START_TEST(test_submit_body_prompt_property_wins) {
  std::string body = body_of({"m", "from property", R"({"size":"1:1","prompt":"from input"})"});
  json j = json::parse(body);
  assert_str(j["input"]["prompt"].get<std::string>(), "from property");
  fail_unless_equals_int(j["input"].size(), 2);
  assert_str(j["input"].begin().key(), "prompt");
}
GST_END_TEST;

GST_START_TEST(test_submit_body_refuses_bad_settings) {
  std::string body, error;
  fail_if(mv::build_submit_body({"", "p", ""}, &body, &error));
  fail_unless(error.find("model") != std::string::npos, "%s", error.c_str());

  error.clear();
  fail_if(mv::build_submit_body({"m", "", ""}, &body, &error));
  fail_unless(error.find("prompt") != std::string::npos, "%s", error.c_str());

  error.clear();
  fail_if(mv::build_submit_body({"m", "p", "[1,2]"}, &body, &error));
  fail_unless(error.find("JSON object") != std::string::npos, "%s", error.c_str());

  error.clear();
  fail_if(mv::build_submit_body({"m", "p", "{\"a\":"}, &body, &error));
  fail_unless(error.find("not valid JSON") != std::string::npos, "%s", error.c_str());

  error.clear();
  fail_if(mv::build_submit_body({"m", "\xff\xfe", ""}, &body, &error));
  fail_unless(error.find("UTF-8") != std::string::npos, "%s", error.c_str());
}
GST_END_TEST;

GST_START_TEST(test_parse_task_seed_example) {
  /* The documented result, verbatim from the seed pages. */
  const char* body = R"({
"request_id": "req_demo_model",
"task_id": "task_demo_model",
"status": "succeeded",
"cost_estimate": 0.675,
"cost_actual": 0.675,
"output": {
"videos": [
{
"url": "https://example.com/output/demo.mp4"
}
]
}
})";
  mv::TaskInfo t;
  std::string error;
  fail_unless(mv::parse_task(body, &t, &error), "%s", error.c_str());
  fail_unless_equals_string(t.task_id.c_str(), "task_demo_model");
  fail_unless_equals_string(t.request_id.c_str(), "req_demo_model");
  fail_unless(t.status == mv::TaskStatus::Succeeded);
  fail_unless(t.cost_estimate && *t.cost_estimate == 0.675);
  fail_unless(t.cost_actual && *t.cost_actual == 0.675);
  fail_unless_equals_int(t.outputs.size(), 1);
  fail_unless_equals_string(t.outputs[0].kind.c_str(), "videos");
  fail_unless_equals_string(t.outputs[0].url.c_str(), "https://example.com/output/demo.mp4");
}
GST_END_TEST;

GST_START_TEST(test_parse_task_is_lenient) {
  /* Unknown fields, string costs, a numeric id, null cost, several kinds,
   * strings as outputs, entries without url: all tolerated. */
  const char* body = R"({"task_id":42,"status":"PROCESSING","cost_estimate":"0.5","cost_actual":null,
    "extra":{"deep":[1,2,3]},
    "output":{"images":[{"url":"https://a/1.png"},{"nourl":true},"https://a/2.png"],
              "audio":[{"url":"https://a/3.wav","format":"wav"}],"note":"x"}})";
  mv::TaskInfo t;
  std::string error;
  fail_unless(mv::parse_task(body, &t, &error), "%s", error.c_str());
  fail_unless_equals_string(t.task_id.c_str(), "42");
  fail_unless(t.status == mv::TaskStatus::Processing);
  fail_unless(t.cost_estimate && *t.cost_estimate == 0.5);
  fail_if(t.cost_actual.has_value());
  fail_unless_equals_int(t.outputs.size(), 3);
  fail_unless_equals_string(t.outputs[1].url.c_str(), "https://a/2.png");
  fail_unless_equals_string(t.outputs[2].kind.c_str(), "audio");
}
GST_END_TEST;

GST_START_TEST(test_parse_task_failures) {
  mv::TaskInfo t;
  std::string error;
  fail_if(mv::parse_task("not json", &t, &error));
  fail_unless(error.find("not JSON") != std::string::npos, "%s", error.c_str());
  fail_if(mv::parse_task("[]", &t, &error));
  fail_if(mv::parse_task(R"({"status":"queued"})", &t, &error));
  fail_unless(error.find("task_id") != std::string::npos, "%s", error.c_str());
  fail_if(mv::parse_task("", &t, &error));

  /* A failed task carries the server's message, whatever its shape. */
  fail_unless(mv::parse_task(R"({"task_id":"t","status":"failed","error":{"code":"x","message":"content policy"}})",
                             &t, &error));
  fail_unless(t.status == mv::TaskStatus::Failed);
  fail_unless_equals_string(t.error_message.c_str(), "content policy");
  fail_unless(mv::parse_task(R"({"task_id":"t","status":"cancelled","error":"by user"})", &t, &error));
  fail_unless_equals_string(t.error_message.c_str(), "by user");
}
GST_END_TEST;

GST_START_TEST(test_status_mapping) {
  fail_unless(mv::parse_status("queued") == mv::TaskStatus::Queued);
  fail_unless(mv::parse_status("processing") == mv::TaskStatus::Processing);
  fail_unless(mv::parse_status("succeeded") == mv::TaskStatus::Succeeded);
  fail_unless(mv::parse_status("failed") == mv::TaskStatus::Failed);
  fail_unless(mv::parse_status("cancelled") == mv::TaskStatus::Cancelled);
  fail_unless(mv::parse_status("Succeeded") == mv::TaskStatus::Succeeded);
  fail_unless(mv::parse_status("rendering") == mv::TaskStatus::Unknown);
  fail_unless(mv::parse_status("") == mv::TaskStatus::None);
  fail_unless(mv::status_is_terminal(mv::TaskStatus::Succeeded));
  fail_unless(mv::status_is_terminal(mv::TaskStatus::Failed));
  fail_unless(mv::status_is_terminal(mv::TaskStatus::Cancelled));
  fail_if(mv::status_is_terminal(mv::TaskStatus::Unknown));
  fail_if(mv::status_is_terminal(mv::TaskStatus::Processing));
}
GST_END_TEST;

GST_START_TEST(test_error_messages) {
  assert_str(mv::parse_error_message(R"({"error":{"code":"x","message":"bad n"}})"), "bad n");
  assert_str(mv::parse_error_message(R"({"error":"nope"})"), "nope");
  assert_str(mv::parse_error_message(R"({"message":"m"})"), "m");
  assert_str(mv::parse_error_message(R"({"detail":"d"})"), "d");
  assert_str(mv::parse_error_message("<html>\nBad Gateway</html>"), "<html> Bad Gateway</html>");
  std::string longbody(1000, 'x');
  fail_unless_equals_int(mv::parse_error_message(longbody).size(), 203);
}
GST_END_TEST;

GST_START_TEST(test_urls_and_keys) {
  assert_str(mv::tasks_url("https://api.mindvideo.ai"), "https://api.mindvideo.ai/api/v1/tasks");
  assert_str(mv::tasks_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/api/v1/tasks");
  assert_str(mv::task_url("https://h", "task_1"), "https://h/api/v1/tasks/task_1");
  assert_str(mv::task_url("https://h", "a/b?c"), "https://h/api/v1/tasks/a%2Fb%3Fc");
  assert_str(mv::task_events_url("https://h", "t"), "https://h/api/v1/tasks/t/events");
  fail_unless(mv::is_http_url("https://api.mindvideo.ai"));
  fail_unless(mv::is_http_url("http://127.0.0.1:1/x"));
  fail_if(mv::is_http_url("file:///etc/passwd"));
  fail_if(mv::is_http_url("ftp://h/x"));
  fail_if(mv::is_http_url("not a url"));

  std::string a = mv::new_idempotency_key(), b = mv::new_idempotency_key();
  fail_unless(g_uuid_string_is_valid(a.c_str()));
  fail_unless_equals_int(a[14], '4'); /* version 4 */
  fail_if(a == b);

  assert_str(mv::redact("nothing", ""), "nothing");
  assert_str(mv::redact("mv_live_abcdef and mv_live_abcdef!", "mv_live_abcdef"), "*** and ***!");
  assert_str(mv::redact("a task", "tas"), "a task");
}
GST_END_TEST;

static Suite* api_suite(void) {
  Suite* s = suite_create("mindvideo-api");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_submit_body_merges_prompt_and_input);
  tcase_add_test(tc, test_submit_body_keeps_values_exactly);
  tcase_add_test(tc, test_submit_body_prompt_property_wins);
  tcase_add_test(tc, test_submit_body_refuses_bad_settings);
  tcase_add_test(tc, test_parse_task_seed_example);
  tcase_add_test(tc, test_parse_task_is_lenient);
  tcase_add_test(tc, test_parse_task_failures);
  tcase_add_test(tc, test_status_mapping);
  tcase_add_test(tc, test_error_messages);
  tcase_add_test(tc, test_urls_and_keys);
  return s;
}

GST_CHECK_MAIN(api);
