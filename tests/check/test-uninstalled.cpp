/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin used from the build tree, as the README's "Build and install"
 * shows it, with no MINDVIDEO_SCHEMA_PATH: the built-in schemas still refuse
 * bad input before any request is sent (and charged). The emulator, started
 * the same way, validates with the same schemas.
 */
#include "element-helpers.h"

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

const char* const kModel = "gemini-3-1-flash-image-preview";
const char* const kRefusal = "gemini-3-1-flash-image-preview: n = 5 is above the maximum 4";

/* build/gst: tests/meson.build points GStreamer's plugin path there. */
std::string plugin_build_dir() {
  const char* dir = g_getenv("GST_PLUGIN_PATH_1_0");
  fail_unless(dir && *dir, "GST_PLUGIN_PATH_1_0 is not set");
  return dir;
}

}  // namespace

GST_START_TEST(test_plugin_from_build_tree_refuses_invalid_input) {
  fail_unless(g_getenv("MINDVIDEO_SCHEMA_PATH") == nullptr);
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), kModel, "p", R"({"n":5})", "fakesink");

  /* The element really is the build tree's. */
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstPlugin* plugin = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(gst_element_get_factory(src)));
  fail_unless(plugin != nullptr);
  assert_contains(gst_plugin_get_filename(plugin), plugin_build_dir());
  gst_object_unref(plugin);
  gst_object_unref(src);

  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
              run.message().c_str());
  assert_str(run.message(), kRefusal);
  gst_object_unref(pipeline);
  /* Nothing was sent, nothing charged. */
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 0);
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

GST_START_TEST(test_gst_launch_with_plugin_path_refuses_invalid_input) {
  auto emu = start_emulator();
  /* As a user types it after `meson compile`, without installing. */
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new((GSubprocessFlags)(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE));
  g_subprocess_launcher_unsetenv(launcher, "MINDVIDEO_SCHEMA_PATH");
  g_subprocess_launcher_unsetenv(launcher, "GST_PLUGIN_PATH_1_0");
  g_subprocess_launcher_setenv(launcher, "GST_PLUGIN_PATH", plugin_build_dir().c_str(), TRUE);
  /* A registry of its own: this one is shared with the in-process test. The
   * loading whitelist stays, so an installed copy of the plugin, if any,
   * cannot stand in for the build tree's. */
  const char* registry = g_getenv("GST_REGISTRY");
  fail_unless(registry != nullptr);
  g_subprocess_launcher_setenv(launcher, "GST_REGISTRY", (std::string(registry) + ".launch").c_str(), TRUE);
  std::string command = "gst-launch-1.0 mindvideosrc api-url=" + emu->url() + " api-key=" API_KEY " model=" +
                        kModel + " prompt=p input='{\"n\":5}' ! fakesink";
  g_autoptr(GError) err = nullptr;
  g_autoptr(GSubprocess) proc =
      g_subprocess_launcher_spawn(launcher, &err, "/bin/sh", "-c", command.c_str(), nullptr);
  fail_unless(proc != nullptr, "%s", err ? err->message : "?");
  g_autofree gchar* out = nullptr;
  fail_unless(g_subprocess_communicate_utf8(proc, nullptr, nullptr, &out, nullptr, &err), "%s",
              err ? err->message : "?");
  fail_unless(g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) != 0,
              "gst-launch-1.0 succeeded: %s", out ? out : "");
  /* The error names the model and the problem. */
  assert_contains(out ? out : "", kRefusal);
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 0);
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

GST_START_TEST(test_emulator_validates_with_built_in_schemas) {
  /* Started with no MINDVIDEO_SCHEMA_PATH and no --schemas. */
  auto emu = start_emulator();
  g_autoptr(SoupSession) session = soup_session_new();
  g_autoptr(SoupMessage) msg = soup_message_new("POST", (emu->url() + "/api/v1/tasks").c_str());
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", "Bearer " API_KEY);
  const std::string body = std::string(R"({"model":")") + kModel + R"(","input":{"prompt":"p","n":5}})";
  g_autoptr(GBytes) request = g_bytes_new(body.data(), body.size());
  soup_message_set_request_body_from_bytes(msg, "application/json", request);
  g_autoptr(GError) err = nullptr;
  g_autoptr(GBytes) reply = soup_session_send_and_read(session, msg, nullptr, &err);
  fail_unless(reply != nullptr, "%s", err ? err->message : "?");
  fail_unless_equals_int(soup_message_get_status(msg), 422);
  gsize size = 0;
  const char* data = static_cast<const char*>(g_bytes_get_data(reply, &size));
  assert_contains(std::string(data ? data : "", size), "n = 5 is above the maximum 4");
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

static Suite* uninstalled_suite(void) {
  Suite* s = suite_create("mindvideosrc-uninstalled");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_plugin_from_build_tree_refuses_invalid_input);
  tcase_add_test(tc, test_gst_launch_with_plugin_path_refuses_invalid_input);
  tcase_add_test(tc, test_emulator_validates_with_built_in_schemas);
  return s;
}

int main(int argc, char** argv) {
  /* Whatever the caller's environment holds: no schema directory at all, for
   * the element, gst-launch-1.0 and the emulator alike. */
  g_unsetenv("MINDVIDEO_SCHEMA_PATH");
  gst_check_init(&argc, &argv);
  return gst_check_run_suite(uninstalled_suite(), "uninstalled", __FILE__);
}
