/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's API contract: idempotency (keys scoped per API key, the
 * ledger), authentication and input validation.
 */
#include "test-emulator-helpers.h"

#include <cstring>
#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

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

static Suite* emulator_api_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-api");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_idempotency);
  tcase_add_test(tc, test_auth_and_validation);
  return s;
}

GST_CHECK_MAIN(emulator_api)
