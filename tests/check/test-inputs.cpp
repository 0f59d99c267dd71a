/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Model inputs end to end: the seeds' own curl examples as golden requests,
 * the quoting gst-launch users type, validation before any request, local
 * files, and every output of a task.
 */
#include "element-helpers.h"

#include <glib/gstdio.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

using nlohmann::json;

namespace {

/* Runs until the task is queued (the POST is done), then stops. */
void submit_only(GstElement* pipeline) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  wait_until([&] { return has_status(src, "queued") || has_status(src, "processing"); });
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
}

Logged the_post(const std::vector<Logged>& log) {
  const Logged* post = nullptr;
  for (const auto& l : log)
    if (l.origin == "api" && l.method == "POST") {
      fail_unless(post == nullptr, "more than one POST");
      post = &l;
    }
  fail_unless(post != nullptr, "no POST reached the emulator");
  return *post;
}

struct Seed {
  const char* model;
  const char* prompt;  /* as a user sets the property */
  const char* input;   /* as a user sets the property */
  const char* payload; /* the seed page's -d payload, verbatim */
};

/* The curl examples of the five model pages in ../shared/seeds. */
const Seed kSeeds[] = {
    {"gemini-3-1-flash-image-preview", "赛博朋克风格的城市夜景,霓虹灯闪烁",
     R"({"size":"16:9","resolution":"2K","n":1})",
     R"({
"model": "gemini-3-1-flash-image-preview",
"input": {
"prompt": "赛博朋克风格的城市夜景,霓虹灯闪烁",
"size": "16:9",
"resolution": "2K",
"n": 1
}
})"},
    {"gemini-2-5-flash-image-preview-official", "云海之上的漂浮瀑布群,晨雾和金色光线,电影感风景画面",
     R"({"size":"16:9","resolution":"1K","n":1})",
     R"({
  "model": "gemini-2-5-flash-image-preview-official",
  "input": {
    "prompt": "云海之上的漂浮瀑布群,晨雾和金色光线,电影感风景画面",
    "size": "16:9",
    "resolution": "1K",
    "n": 1
  }
})"},
    {"veo3-1-quality", "海边日落时一辆红色跑车驶过公路,镜头平稳推进,电影感",
     R"({"aspect_ratio":"16:9","resolution":"720p","duration":8})",
     R"({
"model": "veo3-1-quality",
"input": {
"prompt": "海边日落时一辆红色跑车驶过公路,镜头平稳推进,电影感",
"aspect_ratio": "16:9",
"resolution": "720p",
"duration": 8
}
})"},
    {"gpt-image-2", "一只橘猫坐在窗台上看夕阳,水彩画风格", R"({"size":"16:9","resolution":"2k","n":1})",
     R"({
"model": "gpt-image-2",
"input": {
"prompt": "一只橘猫坐在窗台上看夕阳,水彩画风格",
"size": "16:9",
"resolution": "2k",
"n": 1
}
})"},
    {"qwen-image-2-0-pro", "赛博朋克风格的未来城市夜景,霓虹灯闪烁,画面细节丰富,真实质感",
     R"({"size":"16:9","resolution":"2K","n":1})",
     R"({
"model": "qwen-image-2-0-pro",
"input": {
"prompt": "赛博朋克风格的未来城市夜景,霓虹灯闪烁,画面细节丰富,真实质感",
"size": "16:9",
"resolution": "2K",
"n": 1
}
})"},
};

}  // namespace

GST_START_TEST(test_seed_examples_are_golden) {
  auto emu = start_emulator();
  for (const Seed& seed : kSeeds) {
    fail_unless(emu->clear_requests());
    GstElement* pipeline = make_pipeline(emu.get(), seed.model, seed.prompt, seed.input, "fakesink");
    submit_only(pipeline);
    gst_object_unref(pipeline);

    const Logged post = the_post(request_log(emu.get()));
    /* The body equals the documented payload as JSON, Chinese included. */
    json sent = json::parse(post.body), documented = json::parse(seed.payload);
    fail_unless(sent == documented, "%s: sent %s, documented %s", seed.model, sent.dump().c_str(),
                documented.dump().c_str());
    /* With the documented headers. */
    assert_str(post.path, "/api/v1/tasks");
    assert_str(post.authorization, "Bearer " API_KEY);
    assert_contains(post.content_type, "application/json");
    fail_unless(g_uuid_string_is_valid(post.idempotency_key.c_str()), "Idempotency-Key '%s'",
                post.idempotency_key.c_str());
  }
}
GST_END_TEST;

GST_START_TEST(test_gst_launch_quoting) {
  auto emu = start_emulator();
  /* What the README shows, through a shell, as a user types it. */
  std::string command = "gst-launch-1.0 -q mindvideosrc api-url=" + emu->url() + " api-key=" API_KEY
                        " model=veo3-1-quality prompt=\"a red car, at sunset: fast\""
                        " input='{\"aspect_ratio\":\"16:9\",\"resolution\":\"720p\",\"duration\":8}'"
                        " poll-interval=100 ! fakesink";
  GError* err = nullptr;
  GSubprocess* proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &err, "/bin/sh", "-c", command.c_str(),
                                       nullptr);
  fail_unless(proc != nullptr, "%s", err ? err->message : "?");
  gchar* out = nullptr;
  fail_unless(g_subprocess_communicate_utf8(proc, nullptr, nullptr, &out, nullptr, &err));
  fail_unless(g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0,
              "gst-launch-1.0 failed: %s", out ? out : "");
  g_free(out);
  g_object_unref(proc);

  const Logged post = the_post(request_log(emu.get()));
  json sent = json::parse(post.body);
  json expected = {{"model", "veo3-1-quality"},
                   {"input",
                    {{"prompt", "a red car, at sunset: fast"},
                     {"aspect_ratio", "16:9"},
                     {"resolution", "720p"},
                     {"duration", 8}}}};
  fail_unless(sent == expected, "sent %s", sent.dump().c_str());
  fail_unless(count_requests(request_log(emu.get()), "cdn", "GET") >= 1, "the output was not downloaded");
}
GST_END_TEST;

GST_START_TEST(test_violations_refused_before_any_request) {
  auto emu = start_emulator();
  struct Case {
    const char* model;
    const char* input;
    const char* message;
  } cases[] = {
      {"gemini-3-1-flash-image-preview", R"({"n":5,"colour":"red"})",
       "gemini-3-1-flash-image-preview: n = 5 is above the maximum 4; colour is not an input of this model "
       "(allowed: n, size, prompt, image_urls, resolution, google_search, google_image_search)"},
      {"gemini-2-5-flash-image-preview-official", R"({"mask_url":"https://a/m.png","resolution":"2K"})",
       "gemini-2-5-flash-image-preview-official: mask_url needs image_urls as well; resolution = \"2K\" is not "
       "allowed (allowed: 1K)"},
      {"veo3-1-quality", R"({"duration":6,"image_urls":["data:image/png;base64,iVBORw0KGgo="]})",
       "veo3-1-quality: duration = 6 is not allowed (allowed: 8); image_urls[0] = "
       "\"data:image/png;base64,iVBORw0KGgo=\" is not allowed: must be a public http(s) URL: this model accepts "
       "no data URIs or local files"},
      {"gpt-image-2", R"({"size":"1881*836","n":2})",
       "gpt-image-2: size = \"1881*836\" is not allowed: Supported ratios: auto, 1:1, 3:2, 2:3, 4:3, 3:4, 5:4, "
       "4:5, 16:9, 9:16, 2:1, 1:2, 3:1, 1:3, 21:9, 9:21. You can also pass pixel sizes such as 1881x836.; "
       "n = 2 is not allowed (allowed: 1)"},
      {"qwen-image-2-0-pro", R"({"negative_prompt":7,"image_urls":[]})",
       "qwen-image-2-0-pro: negative_prompt = 7 is an integer, but must be a string; image_urls has 0 item(s); "
       "the minimum is 1"},
  };
  for (const Case& c : cases) {
    GstElement* pipeline = make_pipeline(emu.get(), c.model, "p", c.input, "fakesink");
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s: %s", c.model,
                run.message().c_str());
    assert_str(run.message(), c.message);
    gst_object_unref(pipeline);
  }
  /* Nothing was sent, nothing charged. */
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

GST_START_TEST(test_model_without_schema_is_sent_unvalidated) {
  auto emu = start_emulator();
  LogCapture warnings(GST_LEVEL_WARNING);
  /* veo3-1-fast has no schema here; the emulator knows it. */
  GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-fast", "quick", R"({"duration":1,"whatever":true})",
                                       "fakesink");
  submit_only(pipeline);
  gst_object_unref(pipeline);

  json sent = json::parse(the_post(request_log(emu.get())).body);
  fail_unless(sent["input"]["whatever"] == true);
  fail_unless(warnings.contains("no schema for model 'veo3-1-fast'"), "no warning about the missing schema in the debug log");
}
GST_END_TEST;

GST_START_TEST(test_local_files_sent_as_data_uris) {
  auto emu = start_emulator();
  /* A real PNG, made by GStreamer. */
  gchar* dir = g_dir_make_tmp("mindvideo-test-XXXXXX", nullptr);
  std::string png = std::string(dir) + "/reference.png";
  std::string launch = "videotestsrc num-buffers=1 ! video/x-raw,width=64,height=48 ! pngenc ! filesink location=" + png;
  GstElement* maker = gst_parse_launch(launch.c_str(), nullptr);
  PlayResult made;
  play(maker, &made);
  fail_unless(made.eos);
  gst_object_unref(maker);
  std::string bytes = read_file(png);
  gchar* b64 = g_base64_encode((const guchar*)bytes.data(), bytes.size());
  const std::string data_uri = std::string("data:image/png;base64,") + b64;
  g_free(b64);

  gchar* file_uri = g_filename_to_uri(png.c_str(), nullptr, nullptr);
  json input = {{"image_urls", {png, file_uri}}, {"mask_url", png}};
  g_free(file_uri);
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "edit", input.dump().c_str(), "fakesink");
  submit_only(pipeline);
  gst_object_unref(pipeline);
  json sent = json::parse(the_post(request_log(emu.get())).body);
  assert_str(sent["input"]["image_urls"][0].get<std::string>(), data_uri);
  assert_str(sent["input"]["image_urls"][1].get<std::string>(), data_uri);
  assert_str(sent["input"]["mask_url"].get<std::string>(), data_uri);

  /* A model that takes public URLs only: refused, with no request. */
  fail_unless(emu->clear_requests());
  input = {{"image_urls", {png}}};
  pipeline = make_pipeline(emu.get(), "veo3-1-quality", "animate", input.dump().c_str(), "fakesink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s", run.message().c_str());
  assert_str(run.message(), "veo3-1-quality accepts only public http(s) URLs in image_urls, so the local file " + png +
                                " cannot be sent. Upload it and pass its URL instead");
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  gst_object_unref(pipeline);
  g_unlink(png.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_every_output_to_multifilesink) {
  auto emu = start_emulator();
  gchar* dir = g_dir_make_tmp("mindvideo-test-XXXXXX", nullptr);
  std::string location = std::string(dir) + "/image-%d.png";
  std::string rest = "multifilesink name=sink next-file=discont location=" + location;
  /* n=3: all three, each into its own file, in one run. */
  GstElement* pipeline = make_pipeline(emu.get(), "gemini-3-1-flash-image-preview", "three birds",
                                       R"({"n":3,"size":"1:1","resolution":"0.5K"})", rest.c_str());
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "output-index", -1, nullptr);
  gst_object_unref(src);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  auto files = emu->task_files(src_string(pipeline, "task-id"));
  fail_unless_equals_int(files.size(), 3);
  for (int i = 0; i < 3; i++) {
    gchar* written = g_strdup_printf(location.c_str(), i);
    fail_unless(read_file(written) == read_file(files[i]), "file %d differs from output %d", i, i);
    g_unlink(written);
    g_free(written);
  }
  gchar* fourth = g_strdup_printf(location.c_str(), 3);
  fail_if(g_file_test(fourth, G_FILE_TEST_EXISTS), "a fourth file was written");
  g_free(fourth);
  fail_if(read_file(files[0]) == read_file(files[1]));
  gst_object_unref(pipeline);
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_enable_gif_outputs_are_each_reachable) {
  auto emu = start_emulator();
  const char* input = R"({"resolution":"720p","enable_gif":true})";
  std::vector<std::string> caps;
  std::string task_id;
  for (int index : {0, 1}) {
    GstElement* pipeline = make_pipeline(emu.get(), "veo3-1-quality", "a gif too", input, "fakesink name=sink");
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "output-index", index, "idempotency-key", "one-veo-with-gif", nullptr);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run, 120, true);
    fail_unless(run.eos, "output %d: no EOS: %s", index, run.message().c_str());
    task_id = src_string(pipeline, "task-id");
    auto files = emu->task_files(task_id);
    fail_unless_equals_int(files.size(), 2);
    fail_unless(run.data == read_file(files[index]), "output %d differs from the served file", index);
    caps.push_back(run.sink_caps);
    gst_object_unref(pipeline);
  }
  assert_contains(caps[0], "video/quicktime");
  assert_contains(caps[1], "image/gif");
  fail_unless_equals_int(emu->ledger_count(), 1);
}
GST_END_TEST;

static Suite* inputs_suite(void) {
  Suite* s = suite_create("mindvideosrc-inputs");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_seed_examples_are_golden);
  tcase_add_test(tc, test_gst_launch_quoting);
  tcase_add_test(tc, test_violations_refused_before_any_request);
  tcase_add_test(tc, test_model_without_schema_is_sent_unvalidated);
  tcase_add_test(tc, test_local_files_sent_as_data_uris);
  tcase_add_test(tc, test_every_output_to_multifilesink);
  tcase_add_test(tc, test_enable_gif_outputs_are_each_reachable);
  return s;
}

GST_CHECK_MAIN(inputs);
