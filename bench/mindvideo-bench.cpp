/* mindvideo-bench: one measurement per process, so that peak RSS and CPU
 * time belong to that measurement alone. bench/bench.py drives it.
 *
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   mindvideo-bench versions
 *   mindvideo-bench throughput --element mindvideosrc|souphttpsrc --url URL [--size BYTES]
 *                   [--api-url U --api-key K]
 *   mindvideo-bench memory --url URL --size BYTES --api-url U --api-key K
 *   mindvideo-bench latency --samples N [--min-ms 1000 --max-ms 4000] --api-url U --api-key K
 *   mindvideo-bench polling --seconds S --api-url U --api-key K
 *   mindvideo-bench concurrency --count N --url URL --size BYTES --api-url U --api-key K
 *   mindvideo-bench playback --element mindvideosrc|souphttpsrc|downloadbuffer --url URL
 *                   [--seek FRACTION [--duration-s S]] [--api-url U --api-key K]
 *
 * Each prints JSON lines on stdout (one per run or sample) and exits 0 when
 * every pipeline reached EOS, 1 otherwise. Diagnostics go to stderr.
 *
 * For mindvideosrc the emulator is configured from here through its
 * /_emulator/ control endpoints: the processing time, and an `output_url`
 * task rule that makes the task's output URL the --url (the nginx file).
 * Throughput is timed from the first buffer reaching fakesink to EOS, so
 * the submission and polling are left out and mindvideosrc and souphttpsrc
 * are timed on the same thing: the transfer and the streaming.
 */
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* kModel = "gpt-image-2";
constexpr const char* kPrompt = "a benchmark test card";
constexpr double kMiB = 1024.0 * 1024.0;

/* ---- process measurements ---- */

struct Usage {
  double cpu_s = 0;       /* user + system */
  long ctx_switches = 0;  /* voluntary + involuntary */
};

Usage usage_now() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  Usage u;
  u.cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  u.ctx_switches = ru.ru_nvcsw + ru.ru_nivcsw;
  return u;
}

/* A field of /proc/self/status in KiB (VmHWM = peak RSS), -1 if missing. */
long proc_status_kib(const char* field) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long value = -1;
  size_t len = strlen(field);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, len) == 0 && line[len] == ':') {
      value = strtol(line + len + 1, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

/* ---- emulator control (/_emulator/...) ---- */

class Control {
 public:
  Control(std::string base, std::string api_key) : base_(std::move(base)), api_key_(std::move(api_key)) {
    session_ = soup_session_new_with_options("timeout", 30, nullptr);
  }
  ~Control() { g_object_unref(session_); }

  /* Returns the parsed JSON answer (nullptr and a message on stderr on failure). */
  /* `bearer`: an API call (Authorization: Bearer <api key>), not a control call. */
  JsonNode* call(const char* method, const std::string& path, const std::string& body = "", bool bearer = false) {
    std::string url = base_ + path;
    g_autoptr(SoupMessage) msg = soup_message_new(method, url.c_str());
    if (!msg) {
      g_printerr("mindvideo-bench: bad control URL %s\n", url.c_str());
      return nullptr;
    }
    if (bearer)
      soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                   ("Bearer " + api_key_).c_str());
    if (!body.empty()) {
      g_autoptr(GBytes) bytes = g_bytes_new(body.data(), body.size());
      soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
    }
    g_autoptr(GError) error = nullptr;
    g_autoptr(GBytes) answer = soup_session_send_and_read(session_, msg, nullptr, &error);
    if (!answer) {
      g_printerr("mindvideo-bench: %s %s: %s\n", method, url.c_str(), error->message);
      return nullptr;
    }
    gsize size = 0;
    const char* data = (const char*)g_bytes_get_data(answer, &size);
    if (soup_message_get_status(msg) != 200) {
      g_printerr("mindvideo-bench: %s %s: HTTP %u: %.*s\n", method, url.c_str(), soup_message_get_status(msg),
                 (int)size, data);
      return nullptr;
    }
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, data, (gssize)size, &error)) {
      g_printerr("mindvideo-bench: %s %s: bad JSON: %s\n", method, url.c_str(), error->message);
      return nullptr;
    }
    return json_node_copy(json_parser_get_root(parser));
  }

  bool post(const std::string& path, const std::string& body) {
    JsonNode* node = call("POST", path, body);
    if (node)
      json_node_unref(node);
    return node != nullptr;
  }

  bool clear_faults() {
    JsonNode* node = call("DELETE", "/_emulator/faults");
    if (node)
      json_node_unref(node);
    return node != nullptr;
  }

  bool set_timing(int queued_ms, int processing_ms) {
    return post("/_emulator/config",
                "{\"queued_ms\":" + std::to_string(queued_ms) + ",\"processing_ms\":" + std::to_string(processing_ms) +
                    "}");
  }

  /* The next `count` tasks give `url` as their output URL. */
  bool route_output(const std::string& url, int count) {
    g_autofree gchar* quoted = g_strescape(url.c_str(), nullptr);
    return post("/_emulator/faults", std::string("{\"route\":\"task\",\"action\":\"output_url\",\"url\":\"") + quoted +
                                         "\",\"count\":" + std::to_string(count) + "}");
  }

  /* Status requests so far: GET /api/v1/tasks/{id} (poll) and the events route. */
  bool status_requests(gint64* poll, gint64* events) {
    JsonNode* node = call("GET", "/_emulator/stats");
    if (!node)
      return false;
    JsonObject* requests = json_object_get_object_member(json_node_get_object(node), "requests");
    *poll = requests ? json_object_get_int_member_with_default(requests, "poll", -1) : -1;
    *events = requests ? json_object_get_int_member_with_default(requests, "events", -1) : -1;
    json_node_unref(node);
    return *poll >= 0;
  }

  /* Realtime (µs) of the task's first event with this status, -1 if none.
   * The events (ms-precision RFC 3339 `created_at`) are read from
   * /_emulator/tasks/{id} when it lists them, otherwise from the API's
   * GET /api/v1/tasks/{id}/events (plain JSON: no text/event-stream Accept);
   * that call counts in the stats' `events` route, so read stats first. */
  gint64 event_time_us(const std::string& task_id, const char* status) {
    JsonNode* node = call("GET", "/_emulator/tasks/" + task_id);
    events_source = "/_emulator/tasks/{id}";
    if (node && !json_object_has_member(json_node_get_object(node), "events")) {
      json_node_unref(node);
      node = call("GET", "/api/v1/tasks/" + task_id + "/events", "", true);
      events_source = "/api/v1/tasks/{id}/events";
    }
    if (!node)
      return -1;
    gint64 at = -1;
    JsonObject* obj = json_node_get_object(node);
    JsonArray* events = json_object_has_member(obj, "events") ? json_object_get_array_member(obj, "events") : nullptr;
    for (guint i = 0; events && i < json_array_get_length(events) && at < 0; i++) {
      JsonObject* e = json_array_get_object_element(events, i);
      const char* s = json_object_get_string_member_with_default(e, "status", "");
      const char* when = json_object_get_string_member_with_default(e, "created_at", "");
      if (g_strcmp0(s, status) == 0) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(when, nullptr);
        if (dt)
          at = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
      }
    }
    if (!events)
      g_printerr("mindvideo-bench: task %s: no events\n", task_id.c_str());
    json_node_unref(node);
    return at;
  }

  /* Where event_time_us() found the events. */
  std::string events_source;

 private:
  std::string base_, api_key_;
  SoupSession* session_;
};

/* ---- one pipeline: <source> ! fakesink sync=false ---- */

struct Run {
  GstElement* pipeline = nullptr;
  GstElement* src = nullptr;
  GstBus* bus = nullptr;
  guint watch = 0;

  std::atomic<guint64> bytes{0};
  std::atomic<gint64> first_mono_us{0}, first_real_us{0}, eos_mono_us{0};
  gint64 playing_mono_us = 0;
  /* PROGRESS START / COMPLETE, stamped when posted (sync handler). */
  std::atomic<gint64> start_real_us{0}, complete_real_us{0}, complete_mono_us{0};
  Usage at_start, at_complete;

  bool done = false, failed = false;
  std::string error;

  ~Run() {
    if (watch)
      g_source_remove(watch);
    if (bus)
      gst_object_unref(bus);
    if (pipeline) {
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
    }
  }

  std::string task_id() const {
    if (!src || !g_object_class_find_property(G_OBJECT_GET_CLASS(src), "task-id"))
      return "";
    g_autofree gchar* id = nullptr;
    g_object_get(src, "task-id", &id, nullptr);
    return id ? id : "";
  }
};

GstPadProbeReturn sink_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  Run* run = static_cast<Run*>(data);
  guint64 size = 0;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    size = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    size = gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
      run->eos_mono_us = g_get_monotonic_time();
    return GST_PAD_PROBE_OK;
  }
  if (run->first_mono_us == 0) {
    run->first_real_us = g_get_real_time();
    run->first_mono_us = g_get_monotonic_time();
  }
  run->bytes += size;
  return GST_PAD_PROBE_OK;
}

GstBusSyncReply sync_handler(GstBus*, GstMessage* msg, gpointer data) {
  Run* run = static_cast<Run*>(data);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_PROGRESS) {
    GstProgressType type;
    gchar *code = nullptr, *text = nullptr;
    gst_message_parse_progress(msg, &type, &code, &text);
    if (g_strcmp0(code, "task") == 0) {
      if (type == GST_PROGRESS_TYPE_START && run->start_real_us == 0) {
        run->at_start = usage_now();
        run->start_real_us = g_get_real_time();
      } else if (type == GST_PROGRESS_TYPE_COMPLETE && run->complete_real_us == 0) {
        run->at_complete = usage_now();
        run->complete_real_us = g_get_real_time();
        run->complete_mono_us = g_get_monotonic_time();
      }
    }
    g_free(code);
    g_free(text);
  }
  return GST_BUS_PASS;
}

struct Waiter {
  GMainLoop* loop;
  int pending;
  bool timed_out;
};

struct WatchData {
  Run* run;
  Waiter* waiter;
};

gboolean bus_watch(GstBus*, GstMessage* msg, gpointer data) {
  auto* wd = static_cast<WatchData*>(data);
  Run* run = wd->run;
  if (run->done)
    return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      run->done = true;
      break;
    case GST_MESSAGE_ERROR: {
      g_autoptr(GError) err = nullptr;
      g_autofree gchar* dbg = nullptr;
      gst_message_parse_error(msg, &err, &dbg);
      run->error = err ? err->message : "error";
      if (dbg)
        run->error += std::string(" (") + dbg + ")";
      run->done = run->failed = true;
      break;
    }
    default:
      break;
  }
  if (run->done && --wd->waiter->pending == 0)
    g_main_loop_quit(wd->waiter->loop);
  return G_SOURCE_CONTINUE;
}

struct SrcSettings {
  std::string element = "mindvideosrc";
  std::string url;      /* souphttpsrc location */
  std::string api_url;  /* mindvideosrc */
  std::string api_key;
};

std::unique_ptr<Run> make_run(const SrcSettings& s) {
  auto run = std::make_unique<Run>();
  run->pipeline = gst_pipeline_new(nullptr);
  run->src = gst_element_factory_make(s.element.c_str(), nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  if (!run->src || !sink) {
    g_printerr("mindvideo-bench: no element %s (GST_PLUGIN_PATH?)\n", run->src ? "fakesink" : s.element.c_str());
    if (sink)
      gst_object_unref(sink);
    return nullptr;
  }
  if (s.element == "mindvideosrc") {
    /* Everything else at its default (poll-interval 1000 ms). */
    g_object_set(run->src, "model", kModel, "prompt", kPrompt, "api-url", s.api_url.c_str(), "api-key",
                 s.api_key.c_str(), nullptr);
  } else {
    g_object_set(run->src, "location", s.url.c_str(), nullptr);
  }
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(run->pipeline), run->src, sink, nullptr);
  if (!gst_element_link(run->src, sink)) {
    g_printerr("mindvideo-bench: cannot link %s to fakesink\n", s.element.c_str());
    return nullptr;
  }
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad,
                    (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    sink_probe, run.get(), nullptr);
  gst_object_unref(pad);
  run->bus = gst_element_get_bus(run->pipeline);
  gst_bus_set_sync_handler(run->bus, sync_handler, run.get(), nullptr);
  return run;
}

gboolean on_timeout(gpointer data) {
  auto* waiter = static_cast<Waiter*>(data);
  g_printerr("mindvideo-bench: timed out with %d pipeline(s) still running\n", waiter->pending);
  waiter->timed_out = true;
  g_main_loop_quit(waiter->loop);
  return G_SOURCE_REMOVE;
}

/* Plays every run until each has ended (EOS or error) or the timeout. */
void play_all(std::vector<Run*>& runs, int timeout_s) {
  Waiter waiter{g_main_loop_new(nullptr, FALSE), (int)runs.size(), false};
  std::vector<std::unique_ptr<WatchData>> data;
  for (Run* run : runs) {
    data.push_back(std::make_unique<WatchData>(WatchData{run, &waiter}));
    run->watch = gst_bus_add_watch(run->bus, bus_watch, data.back().get());
  }
  guint timer = g_timeout_add_seconds((guint)timeout_s, on_timeout, &waiter);
  for (Run* run : runs) {
    run->playing_mono_us = g_get_monotonic_time();
    if (gst_element_set_state(run->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      /* The error message on the bus says why; the watch counts it. */
      g_printerr("mindvideo-bench: set_state(PLAYING) failed\n");
    }
  }
  if (waiter.pending > 0)
    g_main_loop_run(waiter.loop);
  if (!waiter.timed_out)
    g_source_remove(timer);
  for (Run* run : runs) {
    if (!run->done) {
      run->failed = true;
      run->error = "timed out";
    }
    g_source_remove(run->watch);
    run->watch = 0;
    gst_element_set_state(run->pipeline, GST_STATE_NULL);
  }
  g_main_loop_unref(waiter.loop);
}

/* ---- output ---- */

class JsonLine {
 public:
  JsonLine& str(const char* key, const std::string& value) {
    g_autofree gchar* esc = g_strescape(value.c_str(), nullptr);
    return raw(key, std::string("\"") + esc + "\"");
  }
  JsonLine& num(const char* key, double value) {
    char buf[64];
    g_ascii_formatd(buf, sizeof buf, "%.6f", value);
    return raw(key, buf);
  }
  JsonLine& integer(const char* key, long long value) { return raw(key, std::to_string(value)); }
  JsonLine& boolean(const char* key, bool value) { return raw(key, value ? "true" : "false"); }
  void print() {
    printf("{%s}\n", body_.c_str());
    fflush(stdout);
  }

 private:
  JsonLine& raw(const char* key, const std::string& value) {
    if (!body_.empty())
      body_ += ",";
    body_ += std::string("\"") + key + "\":" + value;
    return *this;
  }
  std::string body_;
};

/* ---- options ---- */

struct Options {
  std::string mode;
  SrcSettings src;
  long long size = -1; /* expected bytes, -1 = unknown */
  int samples = 20;
  int min_ms = 1000, max_ms = 4000;
  int seconds = 60;
  int count = 64;
  int processing_ms = 2000; /* concurrency: time the tasks spend polling */
  int timeout_s = 900;
  double seek = -1;         /* playback: seek to this fraction of the duration after preroll; <0: first frame */
  double duration_s = -1;   /* playback: the file's duration, if the pipeline cannot tell */
};

int usage_error(const char* what) {
  g_printerr("mindvideo-bench: %s\n"
             "usage: mindvideo-bench versions\n"
             "       mindvideo-bench throughput --element mindvideosrc|souphttpsrc --url URL [--size BYTES]\n"
             "                       [--api-url U --api-key K]\n"
             "       mindvideo-bench memory --url URL --size BYTES --api-url U --api-key K\n"
             "       mindvideo-bench latency --samples N [--min-ms 1000] [--max-ms 4000] --api-url U --api-key K\n"
             "       mindvideo-bench polling --seconds S --api-url U --api-key K\n"
             "       mindvideo-bench concurrency --count N --url URL --size BYTES [--processing-ms 2000]\n"
             "                       --api-url U --api-key K\n"
             "       mindvideo-bench playback --element mindvideosrc|souphttpsrc|downloadbuffer --url URL\n"
             "                       [--seek FRACTION [--duration-s S]] [--api-url U --api-key K]\n"
             "       (every mode: [--timeout SECONDS], default 900)\n",
             what);
  return 2;
}

bool parse_options(int argc, char** argv, Options* o) {
  if (argc < 2)
    return false;
  o->mode = argv[1];
  for (int i = 2; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      g_printerr("mindvideo-bench: %s needs a value\n", arg.c_str());
      return false;
    }
    const char* v = argv[++i];
    if (arg == "--element")
      o->src.element = v;
    else if (arg == "--url")
      o->src.url = v;
    else if (arg == "--api-url")
      o->src.api_url = v;
    else if (arg == "--api-key")
      o->src.api_key = v;
    else if (arg == "--size")
      o->size = g_ascii_strtoll(v, nullptr, 10);
    else if (arg == "--samples")
      o->samples = atoi(v);
    else if (arg == "--min-ms")
      o->min_ms = atoi(v);
    else if (arg == "--max-ms")
      o->max_ms = atoi(v);
    else if (arg == "--seconds")
      o->seconds = atoi(v);
    else if (arg == "--count")
      o->count = atoi(v);
    else if (arg == "--processing-ms")
      o->processing_ms = atoi(v);
    else if (arg == "--timeout")
      o->timeout_s = atoi(v);
    else if (arg == "--seek")
      o->seek = g_ascii_strtod(v, nullptr);
    else if (arg == "--duration-s")
      o->duration_s = g_ascii_strtod(v, nullptr);
    else {
      g_printerr("mindvideo-bench: unknown option %s\n", arg.c_str());
      return false;
    }
  }
  return true;
}

bool need_api(const Options& o) {
  if (o.src.api_url.empty() || o.src.api_key.empty()) {
    usage_error("this mode needs --api-url and --api-key (the emulator)");
    return false;
  }
  return true;
}

/* ---- modes ---- */

int mode_versions() {
  guint major, minor, micro, nano;
  gst_version(&major, &minor, &micro, &nano);
  JsonLine()
      .str("gstreamer", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro))
      .str("libsoup", std::to_string(soup_get_major_version()) + "." + std::to_string(soup_get_minor_version()) + "." +
                          std::to_string(soup_get_micro_version()))
      .boolean("mindvideosrc", gst_element_factory_find("mindvideosrc") != nullptr)
      .boolean("souphttpsrc", gst_element_factory_find("souphttpsrc") != nullptr)
      .print();
  return 0;
}

/* throughput and memory: one transfer, timed from the first buffer to EOS. */
int mode_transfer(const Options& o) {
  if (o.src.url.empty())
    return usage_error("--url is required");
  if (o.src.element != "mindvideosrc" && o.src.element != "souphttpsrc")
    return usage_error("--element must be mindvideosrc or souphttpsrc");
  if (o.src.element == "mindvideosrc") {
    if (!need_api(o))
      return 2;
    Control control(o.src.api_url, o.src.api_key);
    if (!control.clear_faults() || !control.set_timing(0, 0) || !control.route_output(o.src.url, 1))
      return 1;
  }
  auto run = make_run(o.src);
  if (!run)
    return 1;
  std::vector<Run*> runs{run.get()};
  Usage before = usage_now();
  play_all(runs, o.timeout_s);
  Usage after = usage_now();

  /* Two clocks. From the first buffer at fakesink to EOS, and from the
   * request for the output to EOS: the pipeline going to PLAYING for
   * souphttpsrc (it sends its request at once), PROGRESS COMPLETE for
   * mindvideosrc (the task succeeded and its download begins). The second
   * is the fair one for a spooling source, whose download thread is already
   * ahead when its first buffer leaves. */
  gint64 request_us = o.src.element == "mindvideosrc" ? run->complete_mono_us.load() : run->playing_mono_us;
  double seconds = (run->eos_mono_us - run->first_mono_us) / 1e6;
  double seconds_request = (run->eos_mono_us - request_us) / 1e6;
  double total = (run->eos_mono_us - run->playing_mono_us) / 1e6;
  bool ok = !run->failed && run->eos_mono_us > 0 && run->first_mono_us > 0 && request_us > 0 &&
            (o.size < 0 || (long long)run->bytes.load() == o.size);
  JsonLine line;
  line.str("mode", o.mode)
      .str("element", o.src.element)
      .boolean("ok", ok)
      .integer("bytes", (long long)run->bytes.load())
      .num("seconds", seconds)
      .num("mib_per_s", seconds > 0 ? run->bytes / kMiB / seconds : 0)
      .num("seconds_request", seconds_request)
      .num("mib_per_s_request", seconds_request > 0 ? run->bytes / kMiB / seconds_request : 0)
      .num("seconds_from_playing", total)
      .integer("peak_rss_kib", proc_status_kib("VmHWM"))
      .num("cpu_s", after.cpu_s - before.cpu_s)
      .num("cpu_total_s", after.cpu_s);
  if (!run->error.empty())
    line.str("error", run->error);
  line.print();
  if (!ok)
    g_printerr("mindvideo-bench: %s run failed: %s (bytes %" G_GUINT64_FORMAT ", expected %lld)\n",
               o.src.element.c_str(), run->error.c_str(), run->bytes.load(), o.size);
  return ok ? 0 : 1;
}

/* Time from the emulator marking the task succeeded to the first buffer at
 * fakesink, at the element's default settings. */
int mode_latency(const Options& o) {
  if (!need_api(o))
    return 2;
  if (o.samples < 1 || o.min_ms < 0 || o.max_ms < o.min_ms)
    return usage_error("bad --samples / --min-ms / --max-ms");
  Control control(o.src.api_url, o.src.api_key);
  if (!control.clear_faults())
    return 1;
  GRand* rand = g_rand_new();
  int failures = 0;
  for (int i = 0; i < o.samples; i++) {
    int processing = g_rand_int_range(rand, o.min_ms, o.max_ms + 1);
    if (!control.set_timing(0, processing))
      return 1;
    auto run = make_run(o.src);
    if (!run)
      return 1;
    std::vector<Run*> runs{run.get()};
    play_all(runs, o.timeout_s);
    std::string task = run->task_id();
    gint64 succeeded = task.empty() ? -1 : control.event_time_us(task, "succeeded");
    gint64 created = task.empty() ? -1 : control.event_time_us(task, "queued");
    bool ok = !run->failed && succeeded > 0 && run->first_real_us > 0;
    JsonLine line;
    line.str("mode", "latency")
        .integer("sample", i)
        .boolean("ok", ok)
        .str("task_id", task)
        .integer("processing_ms", processing)
        .num("latency_ms", ok ? (run->first_real_us - succeeded) / 1e3 : -1)
        /* when the element saw the success (PROGRESS COMPLETE, before the download) */
        .num("complete_ms", ok && run->complete_real_us ? (run->complete_real_us - succeeded) / 1e3 : -1)
        /* task length as the emulator recorded it */
        .num("task_ms", ok && created > 0 ? (succeeded - created) / 1e3 : -1)
        .integer("bytes", (long long)run->bytes.load())
        .num("download_ms", ok ? (run->eos_mono_us - run->first_mono_us) / 1e3 : -1)
        .str("events_from", control.events_source);
    if (!run->error.empty())
      line.str("error", run->error);
    line.print();
    if (!ok)
      failures++;
  }
  g_rand_free(rand);
  return failures ? 1 : 0;
}

/* One task that stays processing for --seconds: CPU time and status
 * requests between submission (PROGRESS START) and success (COMPLETE). */
int mode_polling(const Options& o) {
  if (!need_api(o))
    return 2;
  Control control(o.src.api_url, o.src.api_key);
  gint64 poll0 = 0, events0 = 0, poll1 = 0, events1 = 0;
  if (!control.clear_faults() || !control.set_timing(0, o.seconds * 1000) ||
      !control.status_requests(&poll0, &events0))
    return 1;
  auto run = make_run(o.src);
  if (!run)
    return 1;
  std::vector<Run*> runs{run.get()};
  play_all(runs, o.timeout_s + o.seconds);
  if (!control.status_requests(&poll1, &events1))
    return 1;
  std::string task = run->task_id();
  gint64 created = task.empty() ? -1 : control.event_time_us(task, "queued");
  gint64 succeeded = task.empty() ? -1 : control.event_time_us(task, "succeeded");
  bool ok = !run->failed && run->start_real_us > 0 && run->complete_real_us > 0 && created > 0 && succeeded > 0;
  double window_s = (run->complete_real_us - run->start_real_us) / 1e6;
  double task_min = (succeeded - created) / 60e6;
  gint64 requests = (poll1 - poll0) + (events1 - events0);
  double cpu = run->at_complete.cpu_s - run->at_start.cpu_s;
  long switches = run->at_complete.ctx_switches - run->at_start.ctx_switches;
  JsonLine line;
  line.str("mode", "polling")
      .boolean("ok", ok)
      .str("task_id", task)
      .num("task_s", (succeeded - created) / 1e6)
      .num("window_s", window_s)
      .integer("status_requests", requests)
      .integer("poll_requests", poll1 - poll0)
      .integer("events_requests", events1 - events0)
      .num("requests_per_task_minute", task_min > 0 ? requests / task_min : -1)
      .num("cpu_s", cpu)
      .integer("context_switches", switches)
      .num("context_switches_per_s", window_s > 0 ? switches / window_s : -1)
      .num("cpu_total_s", usage_now().cpu_s)
      .integer("peak_rss_kib", proc_status_kib("VmHWM"));
  if (!run->error.empty())
    line.str("error", run->error);
  line.print();
  return ok ? 0 : 1;
}

/* --count elements in one process at once, each downloading --url. */
int mode_concurrency(const Options& o) {
  if (!need_api(o))
    return 2;
  if (o.src.url.empty() || o.count < 1)
    return usage_error("--url and a positive --count are required");
  Control control(o.src.api_url, o.src.api_key);
  if (!control.clear_faults() || !control.set_timing(0, o.processing_ms) || !control.route_output(o.src.url, o.count))
    return 1;
  std::vector<std::unique_ptr<Run>> owned;
  std::vector<Run*> runs;
  for (int i = 0; i < o.count; i++) {
    owned.push_back(make_run(o.src));
    if (!owned.back())
      return 1;
    runs.push_back(owned.back().get());
  }
  Usage before = usage_now();
  gint64 t0 = g_get_monotonic_time();
  play_all(runs, o.timeout_s);
  gint64 last_eos = t0;
  int completed = 0, failed = 0, short_runs = 0;
  guint64 bytes = 0;
  std::string first_error;
  for (Run* run : runs) {
    bytes += run->bytes;
    last_eos = std::max(last_eos, run->eos_mono_us.load());
    if (run->failed) {
      failed++;
      if (first_error.empty())
        first_error = run->error;
    } else if (o.size >= 0 && (long long)run->bytes.load() != o.size) {
      short_runs++;
    } else {
      completed++;
    }
  }
  Usage after = usage_now();
  JsonLine line;
  line.str("mode", "concurrency")
      .boolean("ok", completed == o.count)
      .integer("count", o.count)
      .integer("completed", completed)
      .integer("failed", failed)
      .integer("wrong_size", short_runs)
      .integer("bytes", (long long)bytes)
      .num("wall_s", (last_eos - t0) / 1e6)
      .num("cpu_s", after.cpu_s - before.cpu_s)
      .num("cpu_total_s", after.cpu_s)
      .integer("peak_rss_kib", proc_status_kib("VmHWM"));
  if (!first_error.empty())
    line.str("error", first_error);
  line.print();
  return completed == o.count ? 0 : 1;
}


/* ---- playback: <source> ! decodebin ! fakesink, first frame or seek ---- */

struct Playback {
  /* Stamped on fakesink's sink pad (streaming thread). */
  std::atomic<gint64> first_frame_us{0};
  std::atomic<bool> flushed{false};          /* a FLUSH_STOP went by since the seek was armed */
  std::atomic<bool> seek_armed{false};
  std::atomic<gint64> after_seek_us{0};      /* first decoded frame after the seek's flush */
  std::atomic<guint64> after_seek_pts{GST_CLOCK_TIME_NONE};
  GstElement* sink = nullptr;
};

GstPadProbeReturn playback_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* p = static_cast<Playback*>(data);
  if (info->type & (GST_PAD_PROBE_TYPE_EVENT_BOTH | GST_PAD_PROBE_TYPE_EVENT_FLUSH)) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP && p->seek_armed)
      p->flushed = true;
    return GST_PAD_PROBE_OK;
  }
  gint64 now = g_get_monotonic_time();
  gint64 zero = 0;
  p->first_frame_us.compare_exchange_strong(zero, now);
  if (p->flushed && p->after_seek_us == 0) {
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    p->after_seek_pts = buffer ? GST_BUFFER_PTS(buffer) : GST_CLOCK_TIME_NONE;
    p->after_seek_us = now;
  }
  return GST_PAD_PROBE_OK;
}

void on_decoded_pad(GstElement*, GstPad* pad, gpointer data) {
  auto* p = static_cast<Playback*>(data);
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad(p->sink, "sink");
  if (gst_pad_is_linked(sinkpad))
    return;  /* one stream is enough (the bench files have video only) */
  if (gst_pad_link(pad, sinkpad) != GST_PAD_LINK_OK)
    g_printerr("mindvideo-bench: cannot link a decoded pad to fakesink\n");
}

/* Pops bus messages until `until` says stop, an error, EOS or the deadline.
 * Returns "" or what went wrong. */
template <typename F>
std::string wait_bus(GstBus* bus, gint64 deadline_us, F until, bool* async_done = nullptr) {
  while (!until()) {
    if (g_get_monotonic_time() > deadline_us)
      return "timed out";
    g_autoptr(GstMessage) msg = gst_bus_timed_pop(bus, 5 * GST_MSECOND);
    if (!msg)
      continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_ERROR: {
        g_autoptr(GError) err = nullptr;
        g_autofree gchar* dbg = nullptr;
        gst_message_parse_error(msg, &err, &dbg);
        return std::string(err ? err->message : "error") + (dbg ? std::string(" (") + dbg + ")" : "");
      }
      case GST_MESSAGE_EOS:
        if (!until())
          return "EOS before the frame";
        break;
      case GST_MESSAGE_ASYNC_DONE:
        if (async_done)
          *async_done = true;
        break;
      default:
        break;
    }
  }
  return "";
}

/* First frame (no --seek): time from the request for the output to the
 * first decoded frame at fakesink, in PLAYING: mindvideosrc from PROGRESS
 * COMPLETE (the task succeeded; its download starts), the others from
 * set_state(PLAYING). Seek (--seek F): preroll in PAUSED, then a flushing
 * key-unit seek (snap before) to F × the duration; time from the seek call
 * to the first decoded frame after its flush. */
int mode_playback(const Options& o) {
  if (o.src.url.empty())
    return usage_error("--url is required");
  const std::string& element = o.src.element;
  if (element != "mindvideosrc" && element != "souphttpsrc" && element != "downloadbuffer")
    return usage_error("--element must be mindvideosrc, souphttpsrc or downloadbuffer");
  if (element == "mindvideosrc") {
    if (!need_api(o))
      return 2;
    Control control(o.src.api_url, o.src.api_key);
    if (!control.clear_faults() || !control.set_timing(0, 0) || !control.route_output(o.src.url, 1))
      return 1;
  }
  Playback p;
  Run run;  /* pipeline, bus, PROGRESS stamps, NULL on exit */
  run.pipeline = gst_pipeline_new(nullptr);
  p.sink = gst_element_factory_make("fakesink", nullptr);
  GstElement* decoder = nullptr;
  if (element == "downloadbuffer") {
    /* uridecodebin download=true puts a downloadbuffer (a sparse temporary
     * file, range requests for what is missing) after souphttpsrc for
     * MP4 and other download-friendly formats. */
    decoder = gst_element_factory_make("uridecodebin", nullptr);
    if (decoder)
      g_object_set(decoder, "uri", o.src.url.c_str(), "download", TRUE, nullptr);
  } else {
    run.src = gst_element_factory_make(element.c_str(), nullptr);
    decoder = gst_element_factory_make("decodebin", nullptr);
  }
  if (!p.sink || !decoder || (element != "downloadbuffer" && !run.src)) {
    g_printerr("mindvideo-bench: missing elements for %s (GST_PLUGIN_PATH?)\n", element.c_str());
    return 1;
  }
  g_object_set(p.sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(run.pipeline), decoder, p.sink, nullptr);
  if (run.src) {
    if (element == "mindvideosrc")
      g_object_set(run.src, "model", kModel, "prompt", kPrompt, "api-url", o.src.api_url.c_str(), "api-key",
                   o.src.api_key.c_str(), nullptr);
    else
      g_object_set(run.src, "location", o.src.url.c_str(), nullptr);
    gst_bin_add(GST_BIN(run.pipeline), run.src);
    if (!gst_element_link(run.src, decoder)) {
      g_printerr("mindvideo-bench: cannot link %s to decodebin\n", element.c_str());
      return 1;
    }
  }
  g_signal_connect(decoder, "pad-added", G_CALLBACK(on_decoded_pad), &p);
  {
    g_autoptr(GstPad) pad = gst_element_get_static_pad(p.sink, "sink");
    gst_pad_add_probe(pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_BOTH |
                                             GST_PAD_PROBE_TYPE_EVENT_FLUSH),
                      playback_probe, &p, nullptr);
  }
  run.bus = gst_element_get_bus(run.pipeline);
  gst_bus_set_sync_handler(run.bus, sync_handler, &run, nullptr);

  const gint64 deadline = g_get_monotonic_time() + (gint64)o.timeout_s * G_USEC_PER_SEC;
  JsonLine line;
  line.str("mode", "playback").str("element", element).str("measure", o.seek >= 0 ? "seek" : "first_frame");
  std::string error;
  bool ok = false;
  if (o.seek < 0) {
    gint64 playing_us = g_get_monotonic_time();
    gst_element_set_state(run.pipeline, GST_STATE_PLAYING);
    error = wait_bus(run.bus, deadline, [&] { return p.first_frame_us.load() != 0; });
    if (error.empty()) {
      gint64 from = element == "mindvideosrc" ? run.complete_mono_us.load() : playing_us;
      if (from <= 0) {
        error = "no PROGRESS COMPLETE before the first frame";
      } else {
        ok = true;
        line.num("seconds", (p.first_frame_us - from) / 1e6).num("from_playing_s", (p.first_frame_us - playing_us) / 1e6);
      }
    }
  } else {
    gint64 paused_us = g_get_monotonic_time();
    gst_element_set_state(run.pipeline, GST_STATE_PAUSED);
    bool prerolled = false;
    error = wait_bus(run.bus, deadline, [&] { return prerolled; }, &prerolled);
    gint64 duration = -1;
    if (error.empty()) {
      line.num("preroll_s", (g_get_monotonic_time() - paused_us) / 1e6);
      if (!gst_element_query_duration(run.pipeline, GST_FORMAT_TIME, &duration) || duration <= 0)
        duration = o.duration_s > 0 ? (gint64)(o.duration_s * GST_SECOND) : -1;
      if (duration <= 0)
        error = "unknown duration (pass --duration-s)";
    }
    if (error.empty()) {
      gint64 target = (gint64)(o.seek * (double)duration);
      p.seek_armed = true;
      gint64 seek_us = g_get_monotonic_time();
      if (!gst_element_seek_simple(run.pipeline, GST_FORMAT_TIME,
                                   (GstSeekFlags)(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT |
                                                  GST_SEEK_FLAG_SNAP_BEFORE),
                                   target)) {
        error = "seek refused";
      } else {
        error = wait_bus(run.bus, deadline, [&] { return p.after_seek_us.load() != 0; });
        if (error.empty()) {
          ok = true;
          guint64 pts = p.after_seek_pts;
          line.num("seconds", (p.after_seek_us - seek_us) / 1e6)
              .num("duration_s", duration / 1e9)
              .num("seek_to_s", target / 1e9)
              .num("frame_pts_s", pts == GST_CLOCK_TIME_NONE ? -1.0 : pts / 1e9);
        }
      }
    }
  }
  line.boolean("ok", ok).integer("peak_rss_kib", proc_status_kib("VmHWM"));
  if (!error.empty())
    line.str("error", error);
  line.print();
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  Options o;
  if (!parse_options(argc, argv, &o))
    return usage_error("bad arguments");
  if (o.timeout_s < 1)
    return usage_error("--timeout must be positive");
  if (o.mode == "versions")
    return mode_versions();
  if (o.mode == "throughput")
    return mode_transfer(o);
  if (o.mode == "memory") {
    o.src.element = "mindvideosrc";
    return mode_transfer(o);
  }
  if (o.mode == "latency")
    return mode_latency(o);
  if (o.mode == "polling")
    return mode_polling(o);
  if (o.mode == "concurrency")
    return mode_concurrency(o);
  if (o.mode == "playback")
    return mode_playback(o);
  return usage_error("unknown mode");
}
