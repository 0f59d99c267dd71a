/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator over HTTPS (--tls-cert/--tls-key): usage errors,
 * untrusted and trusting clients, the CDN still plain HTTP.
 */
#include "test-emulator-helpers.h"

#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

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

}  // namespace

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

static Suite* emulator_tls_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-tls");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_tls);
  return s;
}

GST_CHECK_MAIN(emulator_tls)
