/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's CDN: signed URLs, Range and HEAD, and an API key sent
 * to the CDN refused and logged.
 */
#include "test-emulator-helpers.h"

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

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

static Suite* emulator_cdn_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-cdn");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_cdn);
  return s;
}

GST_CHECK_MAIN(emulator_cdn)
