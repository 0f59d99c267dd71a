/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mindvideosrc as GStreamer users expect a source to behave: by URI in
 * uridecodebin, playbin and gst-play, with tags, documented bus messages,
 * one shared HTTP session and complete plugin metadata.
 */
#include "element-helpers.h"

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* The URI path takes the key and URL from the environment only. */
void use_emulator_env(EmulatorProcess* emu) {
  g_setenv("MINDVIDEO_API_URL", emu->url().c_str(), TRUE);
  g_setenv("MINDVIDEO_API_KEY", API_KEY, TRUE);
}

std::string get_uri(GstElement* element) {
  gchar* uri = gst_uri_handler_get_uri(GST_URI_HANDLER(element));
  std::string out = uri ? uri : "";
  g_free(uri);
  return out;
}

std::string string_prop(GstElement* element, const char* name) {
  gchar* v = nullptr;
  g_object_get(element, name, &v, nullptr);
  std::string out = v ? v : "";
  g_free(v);
  return out;
}

}  // namespace

GST_START_TEST(test_uri_round_trip_on_the_element) {
  GstElement* src = gst_element_make_from_uri(
      GST_URI_SRC, "mindvideo://veo3-1-quality?prompt=a+red+car&aspect_ratio=16%3A9&duration=8&output-index=1",
      nullptr, nullptr);
  fail_unless(src != nullptr, "no element for mindvideo://");
  assert_str(G_OBJECT_TYPE_NAME(src), "GstMindVideoSrc");
  assert_str(string_prop(src, "model"), "veo3-1-quality");
  assert_str(string_prop(src, "prompt"), "a red car");
  assert_str(string_prop(src, "input"), R"({"aspect_ratio":"16:9","duration":8})");
  gint index = 0;
  g_object_get(src, "output-index", &index, nullptr);
  fail_unless_equals_int(index, 1);
  std::string uri = get_uri(src);
  assert_str(uri, "mindvideo://veo3-1-quality?prompt=a%20red%20car&aspect_ratio=16%3A9&duration=8&output-index=1");

  /* A second element from that URI is the same element. */
  GstElement* again = gst_element_make_from_uri(GST_URI_SRC, uri.c_str(), nullptr, nullptr);
  assert_str(get_uri(again), uri);
  assert_str(string_prop(again, "input"), string_prop(src, "input"));

  /* A new URI resets what the old one set. */
  GError* err = nullptr;
  fail_unless(gst_uri_handler_set_uri(GST_URI_HANDLER(src), "mindvideo://gpt-image-2?prompt=cat", &err));
  assert_str(string_prop(src, "input"), "");
  g_object_get(src, "output-index", &index, nullptr);
  fail_unless_equals_int(index, 0);

  /* Refusals: a key in the URI, a bad setting. Nothing changes. */
  fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(src), "mindvideo://gpt-image-2?prompt=x&api-key=mv_live_z", &err));
  fail_unless(g_error_matches(err, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
  assert_contains(err->message, "'api-key' cannot come from a URI");
  g_clear_error(&err);
  fail_if(gst_uri_handler_set_uri(GST_URI_HANDLER(src), "mindvideo://gpt-image-2?prompt=x&retries=many", &err));
  assert_contains(err->message, "retries=many is not a valid gint");
  g_clear_error(&err);
  assert_str(string_prop(src, "prompt"), "cat");
  gst_object_unref(again);
  gst_object_unref(src);
}
GST_END_TEST;

GST_START_TEST(test_uridecodebin_by_uri) {
  auto emu = start_emulator();
  use_emulator_env(emu.get());
  GstElement* pipeline = gst_parse_launch(
      "uridecodebin uri=mindvideo://gemini-3-1-flash-image-preview?prompt=neon&size=16:9&resolution=1K "
      "! video/x-raw ! fakesink name=sink",
      nullptr);
  fail_unless(pipeline != nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(run.buffers, 1);
  assert_contains(run.sink_caps, "width=(int)1024");
  /* The key came from the environment, never from the URI. */
  for (const auto& l : request_log(emu.get()))
    if (l.origin == "api")
      assert_str(l.authorization, "Bearer " API_KEY);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_playbin_by_uri) {
  auto emu = start_emulator();
  use_emulator_env(emu.get());
  GstElement* playbin = gst_element_factory_make("playbin", nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", "sink");
  g_object_set(playbin, "uri", "mindvideo://veo3-1-quality?prompt=waves&resolution=720p", "video-sink", sink,
               "audio-sink", gst_element_factory_make("fakesink", nullptr), nullptr);
  std::atomic<int> frames{0};
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER,
                    [](GstPad*, GstPadProbeInfo*, gpointer d) {
                      (*static_cast<std::atomic<int>*>(d))++;
                      return GST_PAD_PROBE_OK;
                    },
                    &frames, nullptr);
  gst_object_unref(pad);
  PlayResult run;
  play(playbin, &run, 120);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(frames, 8 * 24);
  gst_object_unref(playbin);
}
GST_END_TEST;

GST_START_TEST(test_gst_play_by_uri) {
  auto emu = start_emulator();
  use_emulator_env(emu.get());
  gchar* out = nullptr;
  gint status = -1;
  const gchar* argv[] = {"gst-play-1.0", "--no-interactive", "--videosink=fakesink", "--audiosink=fakesink",
                         "mindvideo://gpt-image-2?prompt=a+cat&size=16:9", nullptr};
  fail_unless(g_spawn_sync(nullptr, (gchar**)argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out, nullptr,
                           &status, nullptr));
  std::string output = out ? out : "";
  g_free(out);
  fail_unless(g_spawn_check_wait_status(status, nullptr), "gst-play-1.0 failed: %s", output.c_str());
  assert_contains(output, "Reached end of play list");
  fail_if(output.find("ERROR") != std::string::npos, "%s", output.c_str());
  fail_unless(count_requests(request_log(emu.get()), "cdn", "GET") >= 1, "gst-play did not fetch the output");
}
GST_END_TEST;

struct Tags {
  std::mutex lock;
  GstTagList* first_tags = nullptr;
  bool buffer_before_tags = false;
  bool saw_buffer = false;
};

static GstPadProbeReturn watch_tags(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* t = static_cast<Tags*>(data);
  std::lock_guard<std::mutex> guard(t->lock);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    t->saw_buffer = true;
  } else if (GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info)) {
    if (GST_EVENT_TYPE(event) == GST_EVENT_TAG && !t->first_tags) {
      GstTagList* tags = nullptr;
      gst_event_parse_tag(event, &tags);
      t->first_tags = gst_tag_list_copy(tags);
      t->buffer_before_tags = t->saw_buffer;
    }
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_tags_before_the_first_buffer) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "an orange cat on a windowsill", nullptr,
                                       "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstPad* pad = gst_element_get_static_pad(src, "src");
  Tags tags;
  gst_pad_add_probe(pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    watch_tags, &tags, nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless(tags.first_tags != nullptr, "no tag event");
  fail_if(tags.buffer_before_tags, "the tags came after the first buffer");
  gchar* title = nullptr;
  gchar* comment = nullptr;
  fail_unless(gst_tag_list_get_string(tags.first_tags, GST_TAG_TITLE, &title));
  fail_unless(gst_tag_list_get_string(tags.first_tags, GST_TAG_COMMENT, &comment));
  assert_str(title, "an orange cat on a windowsill");
  assert_str(comment, "Generated by MindVideo model gpt-image-2, task " + src_string(pipeline, "task-id"));
  g_free(title);
  g_free(comment);
  gst_tag_list_unref(tags.first_tags);
  gst_object_unref(pad);
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_task_message_fields) {
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "two", R"({"n":2})",
                                       "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless(run.task_messages.size() >= 3);
  guint64 last_elapsed = 0;
  for (GstStructure* s : run.task_messages) {
    guint64 elapsed = G_MAXUINT64;
    fail_unless(gst_structure_get_uint64(s, "elapsed", &elapsed));
    fail_unless(elapsed >= last_elapsed, "elapsed went back");
    last_elapsed = elapsed;
    const GValue* uris = gst_structure_get_value(s, "output-uris");
    fail_unless(uris && GST_VALUE_HOLDS_ARRAY(uris));
    const bool done = g_str_equal(gst_structure_get_string(s, "status"), "succeeded");
    /* Every output once the task succeeded, none before. */
    fail_unless_equals_int(gst_value_array_get_size(uris), done ? 2 : 0);
    if (done) {
      assert_contains(g_value_get_string(gst_value_array_get_value(uris, 0)), "/output-0.png");
      assert_contains(g_value_get_string(gst_value_array_get_value(uris, 1)), "/output-1.png");
    }
  }
  fail_unless(last_elapsed > 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* The id of the HTTP session in the element's session context. */
static guint64 session_of(GstElement* pipeline) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstContext* context = gst_element_get_context(src, "mindvideo.http.session");
  gst_object_unref(src);
  fail_unless(context != nullptr, "no session context on the element");
  guint64 id = 0;
  fail_unless(gst_structure_get_uint64(gst_context_get_structure(context), "id", &id));
  fail_unless(gst_structure_has_field(gst_context_get_structure(context), "session"));
  gst_context_unref(context);
  return id;
}

GST_START_TEST(test_one_session_for_all_keys_and_urls) {
  /* Two services with different keys, four elements at once. */
  auto first = start_emulator();
  auto second = EmulatorProcess::start({"--key", "mv_second_key", "--queued-ms", "100", "--processing-ms", "300"});
  fail_unless(second != nullptr);
  std::vector<GstElement*> pipelines;
  for (int i = 0; i < 4; i++) {
    EmulatorProcess* emu = i % 2 ? second.get() : first.get();
    std::string prompt = "shared " + std::to_string(i);
    GstElement* p = make_pipeline(emu, "gpt-image-2", prompt.c_str(), nullptr, "fakesink name=sink");
    if (i % 2) {
      GstElement* src = gst_bin_get_by_name(GST_BIN(p), "src");
      g_object_set(src, "api-key", "mv_second_key", nullptr);
      gst_object_unref(src);
    }
    pipelines.push_back(p);
  }
  for (GstElement* p : pipelines)
    gst_element_set_state(p, GST_STATE_PLAYING);
  for (GstElement* p : pipelines) {
    GstBus* bus = gst_element_get_bus(p);
    GstMessage* msg =
        gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "an element failed");
    gst_message_unref(msg);
    gst_object_unref(bus);
  }
  /* One session for all four. */
  const guint64 session = session_of(pipelines[0]);
  fail_unless(session != 0);
  for (GstElement* p : pipelines)
    fail_unless(session_of(p) == session, "an element used a session of its own");
  for (GstElement* p : pipelines) {
    gst_element_set_state(p, GST_STATE_NULL);
    gst_object_unref(p);
  }
  /* Each service saw only its own key, and each output host none. */
  for (auto* emu : {first.get(), second.get()}) {
    const std::string key = emu == first.get() ? API_KEY : "mv_second_key";
    int posts = 0;
    for (const auto& l : request_log(emu)) {
      if (l.origin == "cdn")
        fail_unless(l.authorization.empty());
      else
        assert_str(l.authorization, "Bearer " + key);
      posts += l.method == "POST";
    }
    fail_unless_equals_int(posts, 2);
  }
}
GST_END_TEST;

GST_START_TEST(test_plugin_metadata) {
  GstPlugin* plugin = gst_registry_find_plugin(gst_registry_get(), "mindvideo");
  fail_unless(plugin != nullptr);
  assert_str(gst_plugin_get_license(plugin), "LGPL");
  assert_str(gst_plugin_get_origin(plugin), "https://mindvideo.ai");
  assert_str(gst_plugin_get_package(plugin), "mindvideosrc");
  assert_str(gst_plugin_get_source(plugin), "mindvideosrc");
  gst_object_unref(plugin);
  GstElementFactory* found = gst_element_factory_find("mindvideosrc");
  GstElementFactory* factory = GST_ELEMENT_FACTORY(gst_plugin_feature_load(GST_PLUGIN_FEATURE(found)));
  gst_object_unref(found);
  assert_str(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS), "Source/Network");
  /* Every property has a description worth reading. */
  GObjectClass* klass = G_OBJECT_CLASS(g_type_class_ref(gst_element_factory_get_element_type(factory)));
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(klass, &n);
  for (guint i = 0; i < n; i++)
    if (specs[i]->owner_type == G_OBJECT_CLASS_TYPE(klass))
      fail_unless(strlen(g_param_spec_get_blurb(specs[i])) > 20, "%s has no real description", specs[i]->name);
  g_free(specs);
  g_type_class_unref(klass);
  gst_object_unref(factory);
}
GST_END_TEST;

static Suite* native_suite(void) {
  Suite* s = suite_create("mindvideosrc-native");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_uri_round_trip_on_the_element);
  tcase_add_test(tc, test_uridecodebin_by_uri);
  tcase_add_test(tc, test_playbin_by_uri);
  tcase_add_test(tc, test_gst_play_by_uri);
  tcase_add_test(tc, test_tags_before_the_first_buffer);
  tcase_add_test(tc, test_task_message_fields);
  tcase_add_test(tc, test_one_session_for_all_keys_and_urls);
  tcase_add_test(tc, test_plugin_metadata);
  return s;
}

GST_CHECK_MAIN(native);
