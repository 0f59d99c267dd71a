/* mindvideosrc soak
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The chaos soak (issue #14): many tasks, several at a time, in ONE
 * process, each a pipeline "mindvideosrc ! fakesink" as a user would run
 * it, against an emulator in seeded random fault mode (--chaos). Expected:
 *  - every task delivers a byte-identical output (compared with the file the
 *    emulator served);
 *  - the ledger shows exactly one charge per task;
 *  - no run hangs past its deadline (the element's `timeout` plus a grace).
 * Prints what the emulator injected, by kind, and a Markdown block that can
 * be pasted into docs/reliability.md. Exit status 0 when all of it holds.
 *
 *   soak-chaos --cache-dir DIR [--tasks 200] [--parallel 8] [--seed 1] [--deadline 120]
 *
 * Needs the environment tests/soak-chaos.sh sets (plugin path, emulator).
 */
#include "emulator-harness.h"

#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

const char kKey[] = "mv_test_key";

/* What one task's run gave. */
struct Outcome {
  std::string model, task_id, key;
  std::string sha256;  // of the bytes that reached the sink
  guint64 bytes = 0;
  bool eos = false, hung = false;
  std::string error;
  double seconds = 0;
};

/* The requests the soak cycles through: images of two models and a short
 * video. Five prompts each, so the emulator's cache makes generation cheap
 * after the first few; every run still submits its own task (own key). */
struct Request {
  const char* model;
  const char* input;
};
const Request kRequests[] = {
    {"gemini-3-1-flash-image-preview", R"({"resolution":"0.5K"})"},
    {"gpt-image-2", R"({"size":"1:1"})"},
    {"gemini-3-1-flash-image-preview", R"({"resolution":"0.5K"})"},
    {"veo3-1-fast", R"({"duration":1})"},
};

GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* checksum = static_cast<GChecksum*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    g_checksum_update(checksum, map.data, (gssize)map.size);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

std::string get_string(GstElement* element, const char* prop) {
  gchar* v = nullptr;
  g_object_get(element, prop, &v, nullptr);
  std::string out = v ? v : "";
  g_free(v);
  return out;
}

/* One task: a pipeline played to EOS or an error, or abandoned when it
 * outlives its deadline. */
Outcome run_task(const std::string& api_url, int index, unsigned deadline_s) {
  const Request& req = kRequests[index % G_N_ELEMENTS(kRequests)];
  Outcome out;
  out.model = req.model;
  const std::string prompt = "soak prompt " + std::to_string(index % 5);

  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* src = gst_element_factory_make("mindvideosrc", nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (!src || !sink) {
    out.error = "cannot make mindvideosrc (is GST_PLUGIN_PATH set?) or fakesink";
    return out;
  }
  g_object_set(src, "api-url", api_url.c_str(), "api-key", kKey, "model", req.model, "prompt", prompt.c_str(),
               "input", req.input, "poll-interval", 200, "timeout", deadline_s, nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline), src, sink, nullptr);
  gst_element_link(src, sink);
  GChecksum* checksum = g_checksum_new(G_CHECKSUM_SHA256);
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  std::atomic<guint64> bytes{0};
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, checksum, nullptr);
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        *static_cast<std::atomic<guint64>*>(data) += gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
        return GST_PAD_PROBE_OK;
      },
      &bytes, nullptr);

  const gint64 t0 = g_get_monotonic_time();
  /* The element gives up by itself at `timeout`; 30 s more covers the last
   * download and stopping. Anything later is a hang. */
  const gint64 hard = t0 + ((gint64)deadline_s + 30) * G_USEC_PER_SEC;
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  while (!out.eos && out.error.empty()) {
    gint64 left = hard - g_get_monotonic_time();
    if (left <= 0) {
      out.hung = true;
      out.error = "still running " + std::to_string(deadline_s + 30) + " s after the start";
      break;
    }
    GstMessage* msg =
        gst_bus_timed_pop_filtered(bus, left * GST_USECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
      out.eos = true;
    } else {
      GError* err = nullptr;
      gst_message_parse_error(msg, &err, nullptr);
      out.error = err ? err->message : "error";
      g_clear_error(&err);
    }
    gst_message_unref(msg);
  }
  out.task_id = get_string(src, "task-id");
  out.key = get_string(src, "idempotency-key");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  out.seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  out.sha256 = g_checksum_get_string(checksum);
  out.bytes = bytes;
  gst_object_unref(pad);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  g_checksum_free(checksum);
  return out;
}

std::string file_sha256(const std::string& path, guint64* size) {
  gchar* data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &data, &len, nullptr))
    return "";
  *size = len;
  gchar* sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar*)data, len);
  std::string out = sum;
  g_free(sum);
  g_free(data);
  return out;
}

long long member_int(JsonObject* o, const char* name) {
  return o && json_object_has_member(o, name) ? json_object_get_int_member(o, name) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  gint tasks = 200, parallel = 8, seed = 1, deadline = 120;
  /* Harsher than the emulator's defaults: about a third of API requests
   * and of downloads meet a fault, and most submits that are cut were
   * created and charged first. */
  g_autofree gchar* rates = g_strdup(
      R"({"api":{"5xx":0.08,"429":0.05,"cut":0.08,"delay":0.08},)"
      R"("download":{"truncate":0.2,"cut":0.1,"expire":0.15},"lost_response":0.8})");
  g_autofree gchar* cache = nullptr;
  const GOptionEntry entries[] = {
      {"tasks", 0, 0, G_OPTION_ARG_INT, &tasks, "Tasks to run (default 200)", "N"},
      {"parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "Runs at a time (default 8)", "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "The emulator's chaos seed (default 1)", "N"},
      {"deadline", 0, 0, G_OPTION_ARG_INT, &deadline, "The element's timeout per task, in s (default 120)", "S"},
      {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache, "The emulator's --cache-dir (required)", "DIR"},
      {"rates", 0, 0, G_OPTION_ARG_STRING, &rates, "--chaos-rates for the emulator (default: the soak's, see below)", "JSON"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  GOptionContext* context = g_option_context_new("- the chaos soak of mindvideosrc");
  g_option_context_add_main_entries(context, entries, nullptr);
  GError* error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error) || tasks < 1 || parallel < 1 || seed < 0 ||
      deadline < 10 || !cache) {
    g_printerr("soak-chaos: %s\n", error ? error->message : "bad arguments");
    return 2;
  }
  g_option_context_free(context);
  gst_init(nullptr, nullptr);

  std::vector<std::string> args = {"--key",     kKey,  "--queued-ms", "100", "--processing-ms", "300",
                                   "--cache-dir", cache, "--chaos",     std::to_string(seed)};
  args.insert(args.end(), {"--chaos-rates", rates});
  auto emu = EmulatorProcess::start(args);
  if (!emu) {
    g_printerr("soak-chaos: the emulator did not start\n");
    return 1;
  }

  const gint64 t0 = g_get_monotonic_time();
  std::vector<Outcome> outcomes((size_t)tasks);
  std::atomic<int> next{0}, finished{0};
  std::mutex print_lock;
  std::vector<std::thread> workers;
  for (int w = 0; w < parallel; w++) {
    workers.emplace_back([&] {
      for (int i; (i = next++) < tasks;) {
        outcomes[(size_t)i] = run_task(emu->url(), i, (unsigned)deadline);
        int done = ++finished;
        std::lock_guard<std::mutex> guard(print_lock);
        const Outcome& o = outcomes[(size_t)i];
        if (!o.eos)
          g_printerr("task %d (%s, %s): %s\n", i, o.model.c_str(), o.task_id.c_str(), o.error.c_str());
        if (done % 25 == 0)
          g_printerr("soak-chaos: %d/%d runs done, %.0f s\n", done, tasks,
                     (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
      }
    });
  }
  for (auto& t : workers)
    t.join();
  const double seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;

  /* Outputs: the bytes each run delivered against the file the emulator served. */
  int delivered = 0, identical = 0, hung = 0, failed = 0;
  double slowest = 0;
  for (size_t i = 0; i < outcomes.size(); i++) {
    const Outcome& o = outcomes[i];
    slowest = std::max(slowest, o.seconds);
    hung += o.hung;
    if (!o.eos) {
      failed++;
      continue;
    }
    delivered++;
    auto files = emu->task_files(o.task_id);
    guint64 size = 0;
    std::string served = files.empty() ? "" : file_sha256(files[0], &size);
    if (!served.empty() && served == o.sha256 && size == o.bytes)
      identical++;
    else
      g_printerr("task %zu (%s): %" G_GUINT64_FORMAT " bytes delivered, %" G_GUINT64_FORMAT
                 " served: not the same bytes\n",
                 i, o.task_id.c_str(), o.bytes, size);
  }

  /* Ledger: exactly one charge per task, and only for the soak's tasks. */
  std::map<std::string, int> charges_by_task;
  long long charges = -1;
  if (JsonNode* ledger = emu->get_json("/_emulator/ledger")) {
    JsonObject* lo = json_node_get_object(ledger);
    charges = member_int(lo, "count");
    JsonArray* list = json_object_get_array_member(lo, "charges");
    for (guint i = 0; list && i < json_array_get_length(list); i++)
      charges_by_task[json_object_get_string_member(json_array_get_object_element(list, i), "task_id")]++;
    json_node_unref(ledger);
  }
  int once = 0;
  std::set<std::string> ids;
  for (const Outcome& o : outcomes) {
    if (!o.task_id.empty())
      ids.insert(o.task_id);
    if (!o.task_id.empty() && charges_by_task[o.task_id] == 1)
      once++;
    else
      g_printerr("task %s: %d charges\n", o.task_id.c_str(), o.task_id.empty() ? 0 : charges_by_task[o.task_id]);
  }
  const bool ledger_ok = charges == tasks && once == tasks && (int)ids.size() == tasks;

  /* What the emulator injected. */
  long long f[8] = {-1, -1, -1, -1, -1, -1, -1, -1}, decisions = -1, total = -1;
  long long req[4] = {-1, -1, -1, -1};
  if (JsonNode* stats = emu->get_json("/_emulator/stats")) {
    JsonObject* so = json_node_get_object(stats);
    JsonObject* r = json_object_get_object_member(so, "requests");
    const char* routes[] = {"submit", "poll", "events", "download"};
    for (int i = 0; i < 4; i++)
      req[i] = member_int(r, routes[i]);
    JsonObject* chaos = json_object_get_object_member(so, "chaos");
    decisions = member_int(chaos, "decisions");
    JsonObject* injected = json_object_get_object_member(chaos, "injected");
    total = member_int(injected, "total");
    JsonObject* api = json_object_get_object_member(injected, "api");
    JsonObject* dl = json_object_get_object_member(injected, "download");
    const char* api_kinds[] = {"5xx", "429", "cut", "lost_response", "delay"};
    for (int i = 0; i < 5; i++)
      f[i] = member_int(api, api_kinds[i]);
    const char* dl_kinds[] = {"truncate", "cut", "expire"};
    for (int i = 0; i < 3; i++)
      f[5 + i] = member_int(dl, dl_kinds[i]);
    json_node_unref(stats);
  }

  const bool ok = delivered == tasks && identical == tasks && ledger_ok && hung == 0;
  printf("\n### Chaos soak: seed %d, %d tasks, %d at a time, one process\n\n", seed, tasks, parallel);
  printf("Rates: `%s`\n\n", rates);
  printf("| figure | value |\n|---|---|\n");
  printf("| tasks (pipelines `mindvideosrc ! fakesink`) | %d, %d at a time, in %.0f s (slowest run %.1f s) |\n", tasks,
         parallel, seconds, slowest);
  printf("| requests seen by the emulator | submit %lld, poll %lld, events %lld, download %lld |\n", req[0], req[1],
         req[2], req[3]);
  printf("| faults injected (of %lld draws) | %lld |\n", decisions, total);
  printf("| API: 5xx / 429 + Retry-After / cut (of which submits answered then lost) / delay | %lld / %lld / %lld "
         "(%lld) / %lld |\n",
         f[0], f[1], f[2], f[3], f[4]);
  printf("| downloads: truncated / cut / expired URL | %lld / %lld / %lld |\n", f[5], f[6], f[7]);
  printf("| charges in the ledger | %lld for %d tasks (%d with exactly one) |\n", charges, tasks, once);
  printf("| outputs byte-identical to the served file | %d of %d |\n", identical, tasks);
  printf("| runs failed / hung past the deadline (%d s + 30 s) | %d / %d |\n\n", deadline, failed, hung);
  printf("soak-chaos: %s: %d tasks, %d delivered, %d identical, %lld charges, %d failed, %d hung\n",
         ok ? "PASS" : "FAIL", tasks, delivered, identical, charges, failed, hung);
  fflush(stdout);
  emu.reset();
  return ok ? 0 : 1;
}
