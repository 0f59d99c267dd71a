/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs a private mindvideo-emulator process for a test and talks to its
 * /_emulator/ control endpoints. (The emulator's own server class, inside
 * that process, is `Emulator` in tests/emulator/emulator.h.)
 *
 *   auto emu = EmulatorProcess::start({"--processing-ms", "200"});
 *   g_object_set(src, "api-url", emu->url().c_str(), ...);
 *   emu->add_fault(R"({"route":"submit","action":"status","status":503})");
 *   fail_unless_equals_int(emu->ledger_count(), 1);
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <memory>
#include <string>
#include <vector>

class EmulatorProcess {
 public:
  /* Spawns $MINDVIDEO_EMULATOR (fallback: the emulator built with this
   * harness) with --port 0 --quiet plus `extra_args`, and waits (at most
   * 20 s) for the URL line. The child gets PR_SET_PDEATHSIG(SIGTERM), so it
   * never outlives the test. With "--tls-cert FILE" among the arguments the
   * API is HTTPS and the harness's own calls trust that certificate.
   * Returns nullptr after g_printerr on failure. */
  static std::unique_ptr<EmulatorProcess> start(const std::vector<std::string>& extra_args = {});
  /* SIGTERM, then a bounded wait, then SIGKILL if needed. */
  ~EmulatorProcess();
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  /* API base URL, e.g. "http://127.0.0.1:41234" (https:// with --tls-cert). */
  const std::string& url() const { return url_; }
  /* CDN base URL (from /_emulator/info), "" if unavailable. */
  std::string cdn_url();

  /* Control calls (synchronous). `path` starts with '/', relative to url().
   * get_json returns a new JsonNode (use g_autoptr(JsonNode)) or nullptr
   * when the request fails or the answer is not JSON. */
  JsonNode* get_json(const std::string& path);
  /* True when the request was answered with 2xx; `status` gets the code (0 on transport error). */
  bool post_json(const std::string& path, const std::string& body, guint* status = nullptr);
  bool del(const std::string& path);
  /* One rule object or {"rules":[...]}. */
  bool add_fault(const std::string& rule_json);
  bool clear_faults() { return del("/_emulator/faults"); }
  /* Any subset of {"queued_ms","processing_ms","video_bitrate_kbps","fps","image_format"}. */
  bool set_config(const std::string& config_json) { return post_json("/_emulator/config", config_json); }
  /* Clears tasks, ledger, request log and faults. */
  bool reset() { return post_json("/_emulator/reset", "{}"); }

  /* Number of ledger charges (-1 on failure), optionally for one Idempotency-Key. */
  int ledger_count(const std::string& idempotency_key = "");
  /* The request log: a JSON array of {origin, method, path, query, headers, body, status}. */
  JsonNode* requests();
  bool clear_requests() { return del("/_emulator/requests"); }
  /* Internal view of a task (task object + input, idempotency_key, files). */
  JsonNode* task(const std::string& task_id);
  /* Local paths of a task's outputs, in output order (empty until generated). */
  std::vector<std::string> task_files(const std::string& task_id);

  GSubprocess* process() const { return process_; }

 private:
  EmulatorProcess() = default;
  bool send(const char* method, const std::string& path, const std::string& body, guint* status, GBytes** response);

  GSubprocess* process_ = nullptr;
  SoupSession* session_ = nullptr;
  std::string url_;
};
