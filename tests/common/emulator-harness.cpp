/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "emulator-harness.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#ifndef MINDVIDEO_EMULATOR_PATH
#define MINDVIDEO_EMULATOR_PATH "mindvideo-emulator"
#endif

namespace {

void child_setup(gpointer) {
  /* The emulator dies with the test, even if the test crashes: SIGTERM lets
   * it remove its temporary media directory. Its own process group keeps it
   * out of check's killpg(SIGKILL) of a finished (e.g. failed) test. */
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Iterates a private context until *done or the deadline passes. */
void iterate_until(GMainContext* ctx, const bool* done, guint timeout_ms) {
  bool timed_out = false;
  GSource* timeout = g_timeout_source_new(timeout_ms);
  g_source_set_callback(
      timeout,
      [](gpointer flag) -> gboolean {
        *static_cast<bool*>(flag) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out, nullptr);
  g_source_attach(timeout, ctx);
  while (!*done && !timed_out)
    g_main_context_iteration(ctx, TRUE);
  g_source_destroy(timeout);
  g_source_unref(timeout);
}

struct LineRead {
  bool done = false;
  gchar* line = nullptr;
  GError* error = nullptr;
};

struct Waited {
  bool done = false;
};

}  // namespace

std::unique_ptr<EmulatorProcess> EmulatorProcess::start(const std::vector<std::string>& extra_args) {
  const char* env = g_getenv("MINDVIDEO_EMULATOR");
  std::string program = env && *env ? env : MINDVIDEO_EMULATOR_PATH;
  std::vector<const char*> argv = {program.c_str(), "--port", "0", "--quiet"};
  for (const auto& a : extra_args)
    argv.push_back(a.c_str());
  argv.push_back(nullptr);

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup(launcher, child_setup, nullptr, nullptr);
  g_autoptr(GError) error = nullptr;
  std::unique_ptr<EmulatorProcess> emu(new EmulatorProcess());
  emu->process_ = g_subprocess_launcher_spawnv(launcher, argv.data(), &error);
  if (!emu->process_) {
    g_printerr("emulator-harness: cannot start %s: %s\n", program.c_str(), error->message);
    return nullptr;
  }

  /* Read the URL line with a deadline, on a private context. */
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(emu->process_));
  g_autoptr(GCancellable) cancel = g_cancellable_new();
  LineRead read;
  g_data_input_stream_read_line_async(
      out, G_PRIORITY_DEFAULT, cancel,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        auto* r = static_cast<LineRead*>(data);
        r->line = g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(src), res, nullptr, &r->error);
        r->done = true;
      },
      &read);
  iterate_until(ctx, &read.done, 20000);
  if (!read.done) {
    g_cancellable_cancel(cancel);
    iterate_until(ctx, &read.done, 1000);
  }
  g_main_context_pop_thread_default(ctx);

  std::string line = read.line ? read.line : "";
  g_free(read.line);
  if (read.error) {
    if (!g_error_matches(read.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_printerr("emulator-harness: reading the emulator's URL failed: %s\n", read.error->message);
    else
      g_printerr("emulator-harness: the emulator printed no URL within 20 s\n");
    g_error_free(read.error);
    return nullptr;  // the destructor stops the process
  }
  if (!g_str_has_prefix(line.c_str(), "http://") && !g_str_has_prefix(line.c_str(), "https://")) {
    g_printerr("emulator-harness: the emulator exited or printed no URL (got \"%s\")\n", line.c_str());
    return nullptr;
  }
  emu->url_ = line;
  emu->session_ = soup_session_new_with_options("timeout", 30, "idle-timeout", 30, nullptr);
  /* --tls-cert: the control calls trust exactly that certificate. */
  for (size_t i = 0; i < extra_args.size(); i++) {
    std::string cert;
    if (extra_args[i] == "--tls-cert" && i + 1 < extra_args.size())
      cert = extra_args[i + 1];
    else if (g_str_has_prefix(extra_args[i].c_str(), "--tls-cert="))
      cert = extra_args[i].substr(strlen("--tls-cert="));
    if (cert.empty())
      continue;
    g_autoptr(GError) tls_error = nullptr;
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(cert.c_str(), &tls_error);
    if (!db) {
      g_printerr("emulator-harness: cannot load %s: %s\n", cert.c_str(), tls_error->message);
      return nullptr;
    }
    soup_session_set_tls_database(emu->session_, db);
  }
  return emu;
}

EmulatorProcess::~EmulatorProcess() {
  g_clear_object(&session_);
  if (!process_)
    return;
  g_subprocess_send_signal(process_, SIGTERM);
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  Waited waited;
  g_subprocess_wait_async(
      process_, nullptr,
      [](GObject* src, GAsyncResult* res, gpointer data) {
        g_subprocess_wait_finish(G_SUBPROCESS(src), res, nullptr);
        static_cast<Waited*>(data)->done = true;
      },
      &waited);
  iterate_until(ctx, &waited.done, 10000);
  if (!waited.done) {
    g_printerr("emulator-harness: emulator ignored SIGTERM, killing it\n");
    g_subprocess_force_exit(process_);
    iterate_until(ctx, &waited.done, 5000);
  }
  g_main_context_pop_thread_default(ctx);
  g_clear_object(&process_);
}

bool EmulatorProcess::send(const char* method, const std::string& path, const std::string& body, guint* status,
                           GBytes** response) {
  if (status)
    *status = 0;
  std::string uri = url_ + path;
  g_autoptr(SoupMessage) msg = soup_message_new(method, uri.c_str());
  if (!msg) {
    g_printerr("emulator-harness: bad URL %s\n", uri.c_str());
    return false;
  }
  if (!body.empty()) {
    g_autoptr(GBytes) bytes = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }
  g_autoptr(GError) error = nullptr;
  GBytes* reply = soup_session_send_and_read(session_, msg, nullptr, &error);
  if (!reply) {
    g_printerr("emulator-harness: %s %s failed: %s\n", method, path.c_str(), error->message);
    return false;
  }
  guint code = soup_message_get_status(msg);
  if (status)
    *status = code;
  if (response)
    *response = reply;
  else
    g_bytes_unref(reply);
  return code >= 200 && code < 300;
}

JsonNode* EmulatorProcess::get_json(const std::string& path) {
  GBytes* raw = nullptr;
  if (!send("GET", path, "", nullptr, &raw)) {
    if (raw)
      g_bytes_unref(raw);
    return nullptr;
  }
  g_autoptr(GBytes) reply = raw;
  gsize size = 0;
  const char* data = (const char*)g_bytes_get_data(reply, &size);
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = nullptr;
  if (!json_parser_load_from_data(parser, data ? data : "", (gssize)size, &error)) {
    g_printerr("emulator-harness: GET %s: invalid JSON: %s\n", path.c_str(), error->message);
    return nullptr;
  }
  return json_node_copy(json_parser_get_root(parser));
}

bool EmulatorProcess::post_json(const std::string& path, const std::string& body, guint* status) {
  guint code = 0;
  GBytes* raw = nullptr;
  bool ok = send("POST", path, body.empty() ? "{}" : body, &code, &raw);
  if (!ok && raw) {
    gsize size = 0;
    const char* data = (const char*)g_bytes_get_data(raw, &size);
    g_printerr("emulator-harness: POST %s -> %u: %.*s\n", path.c_str(), code, (int)size, data ? data : "");
  }
  if (raw)
    g_bytes_unref(raw);
  if (status)
    *status = code;
  return ok;
}

bool EmulatorProcess::del(const std::string& path) {
  return send("DELETE", path, "", nullptr, nullptr);
}

bool EmulatorProcess::add_fault(const std::string& rule_json) {
  return post_json("/_emulator/faults", rule_json);
}

std::string EmulatorProcess::cdn_url() {
  g_autoptr(JsonNode) info = get_json("/_emulator/info");
  if (!info || !JSON_NODE_HOLDS_OBJECT(info))
    return "";
  const char* cdn = json_object_get_string_member_with_default(json_node_get_object(info), "cdn_url", "");
  return cdn ? cdn : "";
}

int EmulatorProcess::ledger_count(const std::string& idempotency_key) {
  std::string path = "/_emulator/ledger";
  if (!idempotency_key.empty()) {
    g_autofree gchar* escaped = g_uri_escape_string(idempotency_key.c_str(), nullptr, FALSE);
    path += std::string("?idempotency_key=") + escaped;
  }
  g_autoptr(JsonNode) ledger = get_json(path);
  if (!ledger || !JSON_NODE_HOLDS_OBJECT(ledger))
    return -1;
  return (int)json_object_get_int_member_with_default(json_node_get_object(ledger), "count", -1);
}

JsonNode* EmulatorProcess::requests() {
  return get_json("/_emulator/requests");
}

JsonNode* EmulatorProcess::task(const std::string& task_id) {
  g_autofree gchar* escaped = g_uri_escape_string(task_id.c_str(), nullptr, FALSE);
  return get_json(std::string("/_emulator/tasks/") + escaped);
}

std::vector<std::string> EmulatorProcess::task_files(const std::string& task_id) {
  std::vector<std::string> files;
  g_autoptr(JsonNode) node = task(task_id);
  if (!node || !JSON_NODE_HOLDS_OBJECT(node))
    return files;
  JsonObject* obj = json_node_get_object(node);
  if (!json_object_has_member(obj, "files"))
    return files;
  JsonNode* list = json_object_get_member(obj, "files");
  if (!JSON_NODE_HOLDS_ARRAY(list))
    return files;
  JsonArray* array = json_node_get_array(list);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    const char* path = json_array_get_string_element(array, i);
    if (path)
      files.emplace_back(path);
  }
  return files;
}
