/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "element-helpers.h"

#include <atomic>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>


std::unique_ptr<EmulatorProcess> start_emulator(std::vector<std::string> args) {
  /* Quick tasks: the tests are about the element, not the waiting. */
  args.insert(args.begin(), {"--key", API_KEY, "--queued-ms", "100", "--processing-ms", "300"});
  return start_emulator_process(args);
}

namespace {

struct SinkCounter {
  std::atomic<guint64> buffers{0};
  std::atomic<guint64> bytes{0};
  std::string* data = nullptr;
};

GstPadProbeReturn count_buffers(GstPad*, GstPadProbeInfo* info, gpointer user_data) {
  auto* c = static_cast<SinkCounter*>(user_data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  c->buffers++;
  c->bytes += gst_buffer_get_size(buf);
  if (c->data) {
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_READ);
    c->data->append((const char*)map.data, map.size);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

const char* progress_name(GstProgressType t) {
  switch (t) {
    case GST_PROGRESS_TYPE_START: return "start";
    case GST_PROGRESS_TYPE_CONTINUE: return "continue";
    case GST_PROGRESS_TYPE_COMPLETE: return "complete";
    case GST_PROGRESS_TYPE_CANCELED: return "canceled";
    case GST_PROGRESS_TYPE_ERROR: return "error";
  }
  return "?";
}

static void collect(PlayResult* run, GstMessage* msg) {
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      run->eos = true;
      break;
    case GST_MESSAGE_ERROR: {
      if (run->error)
        break; /* keep the first */
      gchar* debug = nullptr;
      gst_message_parse_error(msg, &run->error, &debug);
      run->error_debug = debug ? debug : "";
      g_free(debug);
      const GstStructure* details = nullptr;
      gst_message_parse_error_details(msg, &details);
      if (details)
        run->error_details = gst_structure_copy(details);
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError* err = nullptr;
      gst_message_parse_warning(msg, &err, nullptr);
      run->warnings.push_back(err->message);
      g_error_free(err);
      break;
    }
    case GST_MESSAGE_PROGRESS: {
      GstProgressType type;
      gchar* text = nullptr;
      gst_message_parse_progress(msg, &type, nullptr, &text);
      run->progress.push_back(progress_name(type));
      run->progress_text.push_back(text ? text : "");
      g_free(text);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      if (s && gst_structure_has_name(s, "mindvideo-task"))
        run->task_messages.push_back(gst_structure_copy(s));
      break;
    }
    default:
      break;
  }
}

/* Plays `pipeline` until EOS or an error (or `timeout_s`), then sets it to
 * NULL. A sink named "sink" gets its buffers counted. */
void play(GstElement* pipeline, PlayResult* run, int timeout_s, bool keep_data) {
  SinkCounter counter;
  if (keep_data)
    counter.data = &run->data;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad* sinkpad = nullptr;
  gulong probe = 0;
  if (sink) {
    sinkpad = gst_element_get_static_pad(sink, "sink");
    probe = gst_pad_add_probe(sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_buffers, &counter, nullptr);
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
  while (!run->eos && !run->error) {
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0) {
      run->timed_out = true;
      break;
    }
    GstMessage* msg = gst_bus_timed_pop(bus, left * GST_USECOND);
    if (!msg)
      continue;
    collect(run, msg);
    gst_message_unref(msg);
  }
  if (sinkpad) {
    if (GstCaps* caps = gst_pad_get_current_caps(sinkpad)) {
      gchar* s = gst_caps_to_string(caps);
      run->sink_caps = s;
      g_free(s);
      gst_caps_unref(caps);
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  /* Messages posted while stopping (a CANCELED progress, say). */
  while (GstMessage* msg = gst_bus_pop(bus)) {
    collect(run, msg);
    gst_message_unref(msg);
  }
  run->buffers = counter.buffers;
  run->bytes = counter.bytes;
  gst_object_unref(bus);
  if (sinkpad) {
    /* `counter` dies with this call: a second play() of the pipeline must
     * not count into it. */
    gst_pad_remove_probe(sinkpad, probe);
    gst_object_unref(sinkpad);
  }
  if (sink)
    gst_object_unref(sink);
}

/* A pipeline "mindvideosrc name=src ! <rest>" with the API settings applied. */
GstElement* make_pipeline(EmulatorProcess* emu, const char* model, const char* prompt, const char* input,
                          const char* rest) {
  std::string desc = std::string("mindvideosrc name=src ! ") + rest;
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(desc.c_str(), &err);
  fail_unless(pipeline != nullptr, "parse error: %s", err ? err->message : "?");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "model", model, "prompt", prompt,
               "poll-interval", 100, nullptr);
  if (input)
    g_object_set(src, "input", input, nullptr);
  gst_object_unref(src);
  return pipeline;
}

std::string src_string(GstElement* pipeline, const char* prop) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gchar* v = nullptr;
  g_object_get(src, prop, &v, nullptr);
  gst_object_unref(src);
  std::string out = v ? v : "";
  g_free(v);
  return out;
}

bool has_status(GstElement* src, const char* status) {
  gchar* s = nullptr;
  g_object_get(src, "status", &s, nullptr);
  bool yes = s && g_str_equal(s, status);
  g_free(s);
  return yes;
}

bool wait_for_status(GstElement* src, const char* status) {
  return wait_until([&] { return has_status(src, status); });
}

LogCapture::LogCapture(GstDebugLevel level) : level_(level) {
  gst_debug_set_threshold_for_name("mindvideosrc", level);
  gst_debug_add_log_function(on_log, this, nullptr);
}

LogCapture::~LogCapture() {
  gst_debug_remove_log_function_by_data(this);
}

bool LogCapture::contains(const std::string& text) {
  std::lock_guard<std::mutex> guard(lock_);
  for (const auto& m : messages_)
    if (m.find(text) != std::string::npos)
      return true;
  return false;
}

void LogCapture::on_log(GstDebugCategory* category, GstDebugLevel level, const gchar*, const gchar*, gint, GObject*,
                        GstDebugMessage* message, gpointer data) {
  auto* self = static_cast<LogCapture*>(data);
  if (level != self->level_ || g_strcmp0(gst_debug_category_get_name(category), "mindvideosrc") != 0)
    return;
  std::lock_guard<std::mutex> guard(self->lock_);
  self->messages_.push_back(gst_debug_message_get(message));
}

std::vector<Logged> request_log(EmulatorProcess* emu) {
  std::vector<Logged> out;
  g_autoptr(JsonNode) root = emu->requests();
  fail_unless(root && JSON_NODE_HOLDS_ARRAY(root), "no request log");
  JsonArray* array = json_node_get_array(root);
  for (guint i = 0; i < json_array_get_length(array); i++) {
    JsonObject* o = json_array_get_object_element(array, i);
    Logged l;
    l.origin = json_object_get_string_member(o, "origin");
    l.method = json_object_get_string_member(o, "method");
    l.path = json_object_get_string_member(o, "path");
    if (json_object_has_member(o, "body") && !json_object_get_null_member(o, "body"))
      l.body = json_object_get_string_member(o, "body");
    JsonObject* headers = json_object_get_object_member(o, "headers");
    GList* names = json_object_get_members(headers);
    for (GList* n = names; n; n = n->next) {
      const char* name = (const char*)n->data;
      g_autofree gchar* lower = g_ascii_strdown(name, -1);
      l.headers[lower] = json_object_get_string_member(headers, name);
      if (g_ascii_strcasecmp(name, "Authorization") == 0)
        l.authorization = json_object_get_string_member(headers, name);
      if (g_ascii_strcasecmp(name, "Idempotency-Key") == 0)
        l.idempotency_key = json_object_get_string_member(headers, name);
      if (g_ascii_strcasecmp(name, "Content-Type") == 0)
        l.content_type = json_object_get_string_member(headers, name);
      if (g_ascii_strcasecmp(name, "Range") == 0)
        l.range = json_object_get_string_member(headers, name);
    }
    g_list_free(names);
    l.seq = json_object_get_int_member_with_default(o, "seq", 0);
    l.t_ms = json_object_get_double_member_with_default(o, "t_ms", -1);
    l.status = (int)json_object_get_int_member_with_default(o, "status", 0);
    l.bytes_sent = json_object_get_int_member_with_default(o, "bytes_sent", -1);
    if (json_object_has_member(o, "done_t_ms") && !json_object_get_null_member(o, "done_t_ms"))
      l.done_t_ms = json_object_get_double_member(o, "done_t_ms");
    out.push_back(l);
  }
  return out;
}

int count_requests(const std::vector<Logged>& log, const char* origin, const char* method) {
  int n = 0;
  for (const auto& l : log)
    if (l.origin == origin && (!method || l.method == method))
      n++;
  return n;
}

const GValue* detail(const PlayResult& run, const char* field) {
  fail_unless(run.error_details != nullptr, "the error has no details");
  return gst_structure_get_value(run.error_details, field);
}

