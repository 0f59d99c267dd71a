/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's seeded random fault mode (--chaos, /_emulator/chaos) and
 * its counts of what it injected, for the chaos soak.
 */
#include "test-emulator-helpers.h"

#include <algorithm>
#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

/* POST /_emulator/chaos (or --chaos SEED) and its counts. */
bool set_chaos(EmulatorProcess& emu, const std::string& config, guint* status = nullptr) {
  return emu.post_json("/_emulator/chaos", config, status);
}

long long chaos_count(EmulatorProcess& emu, const char* group, const char* kind) {
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
std::string poll_pattern(EmulatorProcess& emu, int n) {
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

static Suite* emulator_chaos_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-chaos");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_chaos);
  return s;
}

GST_CHECK_MAIN(emulator_chaos);
