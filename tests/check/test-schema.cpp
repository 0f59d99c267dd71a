/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The shipped schemas (schemas/, found through MINDVIDEO_SCHEMA_PATH) and
 * the messages users get: every kind of violation, named with its field, its
 * value and what is allowed. Local files in URL fields. No network.
 */
#include "api.h"
#include "inputs.h"
#include "schema.h"

#include <glib/gstdio.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

static std::unique_ptr<mv::ModelSchema> load(const char* model) {
  std::string path = mv::find_schema_file(model, mv::schema_search_path());
  fail_if(path.empty(), "no schema for %s in MINDVIDEO_SCHEMA_PATH", model);
  std::string error;
  auto schema = mv::ModelSchema::from_file(path, &error);
  fail_unless(schema != nullptr, "%s: %s", model, error.c_str());
  return schema;
}

static std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : "; ") + s;
  return out;
}

/* The exact sentence(s) a model's schema gives for `input`. */
#define assert_violations(model, input, expected) assert_str(joined(load(model)->validate(input)), expected)

#define assert_valid(model, input) assert_violations(model, input, "")

GST_START_TEST(test_seed_examples_are_valid) {
  assert_valid("gemini-3-1-flash-image-preview",
               R"({"prompt":"赛博朋克风格的城市夜景,霓虹灯闪烁","size":"16:9","resolution":"2K","n":1})");
  assert_valid("gemini-2-5-flash-image-preview-official",
               R"({"prompt":"云海之上的漂浮瀑布群,晨雾和金色光线,电影感风景画面","size":"16:9","resolution":"1K","n":1})");
  assert_valid("veo3-1-quality",
               R"({"prompt":"海边日落时一辆红色跑车驶过公路,镜头平稳推进,电影感","aspect_ratio":"16:9","resolution":"720p","duration":8})");
  assert_valid("gpt-image-2", R"({"prompt":"一只橘猫坐在窗台上看夕阳,水彩画风格","size":"16:9","resolution":"2k","n":1})");
  assert_valid("qwen-image-2-0-pro",
               R"({"prompt":"赛博朋克风格的未来城市夜景,霓虹灯闪烁,画面细节丰富,真实质感","size":"16:9","resolution":"2K","n":1})");
}
GST_END_TEST;

GST_START_TEST(test_each_kind_of_violation) {
  const char* gemini = "gemini-3-1-flash-image-preview";
  /* type */
  assert_violations(gemini, R"({"prompt":"p","n":"2"})", "n = \"2\" is a string, but must be an integer");
  assert_violations(gemini, R"({"prompt":"p","n":1.5})", "n = 1.5 is a number, but must be an integer");
  /* required */
  assert_violations(gemini, R"({"n":1})", "prompt is required");
  /* enum */
  assert_violations(gemini, R"({"prompt":"p","resolution":"8K"})",
                    "resolution = \"8K\" is not allowed (allowed: 0.5K, 1K, 2K, 4K)");
  /* minimum, maximum */
  assert_violations(gemini, R"({"prompt":"p","n":0})", "n = 0 is below the minimum 1");
  assert_violations(gemini, R"({"prompt":"p","n":5})", "n = 5 is above the maximum 4");
  /* minLength */
  assert_violations(gemini, R"({"prompt":""})", "prompt is empty; it needs at least 1 character(s)");
  /* minItems, maxItems, items */
  assert_violations(gemini, R"({"prompt":"p","image_urls":[]})", "image_urls has 0 item(s); the minimum is 1");
  assert_violations("veo3-1-quality",
                    R"({"prompt":"p","image_urls":["https://a/1.png","https://a/2.png","https://a/3.png"]})",
                    "image_urls has 3 items; the maximum is 2");
  assert_violations(gemini, R"({"prompt":"p","image_urls":["https://a/1.png",7]})",
                    "image_urls[1] = 7 is an integer, but must be a string");
  /* additionalProperties: one, then several in one sentence */
  assert_violations(gemini, R"({"prompt":"p","colour":"red"})",
                    "colour is not an input of this model (allowed: n, size, prompt, image_urls, resolution, "
                    "google_search, google_image_search)");
  assert_violations("veo3-1-quality", R"({"prompt":"p","fps":30,"seed":1})",
                    "fps and seed are not inputs of this model (allowed: prompt, duration, enable_gif, image_urls, "
                    "resolution, aspect_ratio, generation_type)");
  /* format: uri */
  assert_violations("qwen-image-2-0-pro", R"({"prompt":"p","image_urls":["https://exa mple.com/a.png"]})",
                    "image_urls[0] = \"https://exa mple.com/a.png\" is not a valid absolute URI");
  /* pattern: public http(s) URLs only */
  assert_violations("veo3-1-quality", R"({"prompt":"p","image_urls":["data:image/png;base64,iVBORw0KGgo="]})",
                    "image_urls[0] = \"data:image/png;base64,iVBORw0KGgo=\" is not allowed: must be a public "
                    "http(s) URL: this model accepts no data URIs or local files");
  assert_violations("qwen-image-2-0-pro", R"({"prompt":"p","image_urls":["ftp://a/1.png"]})",
                    "image_urls[0] = \"ftp://a/1.png\" is not allowed: must be a public http(s) URL: this model "
                    "accepts no data URIs or local files");
}
GST_END_TEST;

GST_START_TEST(test_lengths_count_characters) {
  /* qwen allows 800 characters of prompt: 800 Chinese characters are 2400
   * bytes, and still fine. */
  std::string p800;
  for (int i = 0; i < 800; i++)
    p800 += "猫";
  nlohmann::json input = {{"prompt", p800}};
  assert_valid("qwen-image-2-0-pro", input.dump());
  input["prompt"] = p800 + "猫";
  assert_violations("qwen-image-2-0-pro", input.dump(), "prompt is 801 characters long; the maximum is 800");
  /* negative_prompt: 500. */
  input = {{"prompt", "p"}, {"negative_prompt", std::string(501, 'x')}};
  assert_violations("qwen-image-2-0-pro", input.dump(), "negative_prompt is 501 characters long; the maximum is 500");
}
GST_END_TEST;

GST_START_TEST(test_prose_constraints) {
  /* mask_url needs image_urls. */
  for (const char* model : {"gemini-2-5-flash-image-preview-official", "gpt-image-2"}) {
    assert_violations(model, R"({"prompt":"p","mask_url":"https://a/m.png"})", "mask_url needs image_urls as well");
    assert_valid(model, R"({"prompt":"p","mask_url":"https://a/m.png","image_urls":["https://a/i.png"]})");
  }
  /* google_image_search needs google_search: true. */
  const char* gemini = "gemini-3-1-flash-image-preview";
  assert_violations(gemini, R"({"prompt":"p","google_image_search":true})",
                    "google_image_search = true needs google_search = true");
  assert_violations(gemini, R"({"prompt":"p","google_image_search":true,"google_search":false})",
                    "google_image_search = true needs google_search = true");
  assert_valid(gemini, R"({"prompt":"p","google_image_search":true,"google_search":true})");
  assert_valid(gemini, R"({"prompt":"p","google_image_search":false})");
  /* gpt-image-2 size: a listed ratio or WIDTHxHEIGHT. */
  assert_valid("gpt-image-2", R"({"prompt":"p","size":"1881x836"})");
  assert_valid("gpt-image-2", R"({"prompt":"p","size":"9:21"})");
  assert_valid("gpt-image-2", R"({"prompt":"p","size":"auto"})");
  for (const char* bad : {"7:7", "1881x", "0x100", "big", "1881 x 836"}) {
    std::string input = std::string(R"({"prompt":"p","size":")") + bad + "\"}";
    std::string expected = std::string("size = \"") + bad +
                           "\" is not allowed: Supported ratios: auto, 1:1, 3:2, 2:3, 4:3, 3:4, 5:4, 4:5, 16:9, "
                           "9:16, 2:1, 1:2, 3:1, 1:3, 21:9, 9:21. You can also pass pixel sizes such as 1881x836.";
    assert_violations("gpt-image-2", input, expected.c_str());
  }
  /* Data URIs are fine where the docs allow them. */
  assert_valid("gpt-image-2", R"({"prompt":"p","image_urls":["data:image/png;base64,iVBORw0KGgo="]})");
}
GST_END_TEST;

GST_START_TEST(test_every_violation_in_input_order) {
  /* The issue's own example, and more: all of them, as written. */
  assert_violations("gemini-3-1-flash-image-preview",
                    R"({"prompt":"p","n":5,"colour":"red","size":"7:7","google_image_search":true})",
                    "n = 5 is above the maximum 4; "
                    "colour is not an input of this model (allowed: n, size, prompt, image_urls, resolution, "
                    "google_search, google_image_search); "
                    "size = \"7:7\" is not allowed (allowed: auto, 1:1, 3:2, 2:3, 4:3, 3:4, 16:9, 9:16, 5:4, 4:5, "
                    "21:9, 1:4, 4:1, 1:8, 8:1); "
                    "google_image_search = true needs google_search = true");
}
GST_END_TEST;

GST_START_TEST(test_submit_body_refuses_with_model_name) {
  std::string body, error;
  fail_if(mv::build_submit_body({"gemini-3-1-flash-image-preview", "p", R"({"n":5,"colour":"red"})"}, &body, &error));
  assert_str(error, "gemini-3-1-flash-image-preview: n = 5 is above the maximum 4; colour is not an input "
                            "of this model (allowed: n, size, prompt, image_urls, resolution, google_search, "
                            "google_image_search)");
  fail_unless(body.empty());
  /* No local schema: sent as given, the server decides. */
  fail_unless(mv::build_submit_body({"viduq3", "p", R"({"anything":[1,2]})"}, &body, &error), "%s", error.c_str());
  assert_str(body, R"({"model":"viduq3","input":{"prompt":"p","anything":[1,2]}})");
}
GST_END_TEST;

/* A small real PNG (1x1) and a text file in a fresh directory. */
struct Files {
  std::string dir, png, text, big;
  Files() {
    gchar* d = g_dir_make_tmp("mindvideo-inputs-XXXXXX", nullptr);
    dir = d;
    g_free(d);
    static const guint8 png_bytes[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
        0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05,
        0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
        0x60, 0x82};
    png = dir + "/ref.png";
    g_file_set_contents(png.c_str(), (const gchar*)png_bytes, sizeof png_bytes, nullptr);
    text = dir + "/notes.txt";
    g_file_set_contents(text.c_str(), "just some words, not an image\n", -1, nullptr);
    big = dir + "/big.png";
    std::string content((size_t)mv::kMaxInlineBytes + 1, '\0');
    content.replace(0, sizeof png_bytes, (const char*)png_bytes, sizeof png_bytes);
    g_file_set_contents(big.c_str(), content.data(), (gssize)content.size(), nullptr);
  }
  ~Files() {
    for (const auto& f : {png, text, big})
      g_unlink(f.c_str());
    g_rmdir(dir.c_str());
  }
};

static bool inline_files(const char* model, nlohmann::ordered_json* input, std::string* error) {
  auto schema = load(model);
  return mv::inline_local_files(input, model, schema.get(), error);
}

GST_START_TEST(test_local_files_become_data_uris) {
  Files f;
  gchar* uri = g_filename_to_uri(f.png.c_str(), nullptr, nullptr);
  nlohmann::ordered_json input = {{"prompt", "p"},
                                  {"image_urls", {f.png, "https://a/hosted.png", uri}},
                                  {"mask_url", f.png}};
  g_free(uri);
  std::string error;
  fail_unless(inline_files("gpt-image-2", &input, &error), "%s", error.c_str());
  const std::string expected = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==";
  assert_str(input["image_urls"][0].get<std::string>(), expected.c_str());
  assert_str(input["image_urls"][1].get<std::string>(), "https://a/hosted.png");
  assert_str(input["image_urls"][2].get<std::string>(), expected.c_str());
  assert_str(input["mask_url"].get<std::string>(), expected.c_str());
  /* And the result passes the schema. */
  fail_unless(load("gpt-image-2")->validate(input.dump()).empty());
}
GST_END_TEST;

GST_START_TEST(test_local_files_refused_where_they_cannot_go) {
  Files f;
  std::string error;
  /* Public URLs only: said so, before anything is read or sent. */
  nlohmann::ordered_json input = {{"prompt", "p"}, {"image_urls", {f.png}}};
  fail_if(inline_files("veo3-1-quality", &input, &error));
  assert_str(error, ("veo3-1-quality accepts only public http(s) URLs in image_urls, so the "
                                            "local file " + f.png + " cannot be sent. Upload it and pass its URL instead")
                                               .c_str());
  input = {{"prompt", "p"}, {"image_urls", {f.png}}};
  fail_if(inline_files("qwen-image-2-0-pro", &input, &error));
  /* Past the size cap. */
  input = {{"prompt", "p"}, {"image_urls", {f.big}}};
  fail_if(inline_files("gpt-image-2", &input, &error));
  assert_str(error, ("image_urls[0]: the file " + f.big + " is " +
                                            std::to_string(mv::kMaxInlineBytes + 1) +
                                            " bytes; local files up to 10485760 bytes are inlined. Host it and pass "
                                            "its URL instead")
                                               .c_str());
  /* Not an image; missing. */
  input = {{"prompt", "p"}, {"mask_url", f.text}};
  fail_if(inline_files("gpt-image-2", &input, &error));
  fail_unless(error.find("is not an image") != std::string::npos, "%s", error.c_str());
  input = {{"prompt", "p"}, {"image_urls", {"no-such-file.png"}}};
  fail_if(inline_files("gpt-image-2", &input, &error));
  assert_str(error, "image_urls[0] = \"no-such-file.png\" is neither a URL nor a readable file");
}
GST_END_TEST;

static Suite* schema_suite(void) {
  Suite* s = suite_create("mindvideo-schema");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_seed_examples_are_valid);
  tcase_add_test(tc, test_each_kind_of_violation);
  tcase_add_test(tc, test_lengths_count_characters);
  tcase_add_test(tc, test_prose_constraints);
  tcase_add_test(tc, test_every_violation_in_input_order);
  tcase_add_test(tc, test_submit_body_refuses_with_model_name);
  tcase_add_test(tc, test_local_files_become_data_uris);
  tcase_add_test(tc, test_local_files_refused_where_they_cannot_go);
  return s;
}

GST_CHECK_MAIN(schema);
