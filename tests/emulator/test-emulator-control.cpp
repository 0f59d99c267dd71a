/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's /_emulator/ control endpoints: request and task
 * statistics, open connections, reset.
 */
#include "test-emulator-helpers.h"

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

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
  for (int i = 0; i < 1500 && (after = stat_of(*emu, nullptr, "open_connections")) != before; i++)
    g_usleep(20 * 1000);
  fail_unless_equals_int(after, before);

  fail_unless(emu->reset());
  fail_unless_equals_int(stat_of(*emu, "requests", "poll"), 0);
  fail_unless_equals_int(stat_of(*emu, nullptr, "tasks"), 0);
}
GST_END_TEST;

static Suite* emulator_control_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-control");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_stats);
  return s;
}

GST_CHECK_MAIN(emulator_control)
