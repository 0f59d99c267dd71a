/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mindvideo:// scheme as data: typing of query fields, lists, settings,
 * refusals, and the round trip. No network.
 */
#include "uri.h"

#include <nlohmann/json.hpp>

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

using nlohmann::ordered_json;

static mv::UriRequest parse(const std::string& uri) {
  mv::UriRequest r;
  std::string error;
  fail_unless(mv::parse_uri(uri, &r, &error), "%s: %s", uri.c_str(), error.c_str());
  return r;
}

static std::string parse_error(const std::string& uri) {
  mv::UriRequest r;
  std::string error;
  fail_if(mv::parse_uri(uri, &r, &error), "%s was accepted", uri.c_str());
  return error;
}

GST_START_TEST(test_fields_typed_as_json) {
  mv::UriRequest r = parse(
      "mindvideo://veo3-1-quality?prompt=a+red+car%2C+at+sunset&aspect_ratio=16%3A9&duration=8&scale=0.5"
      "&enable_gif=true&resolution=1080p&seed=-3&note=%228%22&extra=%7B%22a%22%3A1%7D&nothing=null");
  assert_str(r.model, "veo3-1-quality");
  assert_str(r.prompt, "a red car, at sunset");
  /* Order kept; numbers, booleans and null typed; quoted "8" stays a string. */
  assert_str(r.input,
             R"({"aspect_ratio":"16:9","duration":8,"scale":0.5,"enable_gif":true,"resolution":"1080p","seed":-3,"note":"8","extra":{"a":1},"nothing":null})");
  fail_unless(r.settings.empty());
}
GST_END_TEST;

GST_START_TEST(test_lists) {
  /* Repeated fields, and field[] even once. */
  mv::UriRequest r = parse(
      "mindvideo://gpt-image-2?prompt=x&image_urls=https%3A%2F%2Fa%2F1.png&image_urls=https%3A%2F%2Fa%2F2.png"
      "&tags[]=one&n=1");
  assert_str(r.input, R"({"image_urls":["https://a/1.png","https://a/2.png"],"tags":["one"],"n":1})");
}
GST_END_TEST;

GST_START_TEST(test_settings_and_refusals) {
  mv::UriRequest r = parse("mindvideo://gemini-3-1-flash-image-preview?prompt=p&n=4&output-index=-1&timeout=60");
  fail_unless_equals_int(r.settings.size(), 2);
  assert_str(r.settings[0].first, "output-index");
  assert_str(r.settings[0].second, "-1");
  assert_str(r.settings[1].first, "timeout");
  assert_str(r.input, R"({"n":4})");

  assert_contains(parse_error("mindvideo://veo3-1-quality?prompt=p&api-key=mv_live_x"), "'api-key' cannot come from a URI");
  assert_contains(parse_error("mindvideo://veo3-1-quality?prompt=p&api-url=http%3A%2F%2Fevil"), "MINDVIDEO_API_URL");
  assert_contains(parse_error("mindvideo://?prompt=p"), "no model");
  assert_contains(parse_error("http://veo3-1-quality?prompt=p"), "not mindvideo://");
  assert_contains(parse_error("mindvideo://veo3-1-quality/some/path?prompt=p"), "unexpected path");
  assert_contains(parse_error("mindvideo://veo3-1-quality?prompt=p&x=%7Bbroken"), "not valid JSON");
  /* No prompt is fine here: the element says what is missing. */
  assert_str(parse("mindvideo://veo3-1-quality").prompt, "");
}
GST_END_TEST;

GST_START_TEST(test_round_trip) {
  mv::UriRequest r;
  r.model = "gpt-image-2";
  r.prompt = "一只橘猫 & a \"cat\"?";
  r.input = ordered_json::parse(R"({"size":"1881x836","n":1,"text":"true","num":"12","neg":"-","image_urls":["https://a/b.png?x=1&y=2"],"obj":{"k":[1,{"z":null}]},"empty":[],"flag":false,"f":1.25})")
                .dump();
  r.settings = {{"output-index", "1"}, {"idempotency-key", "k e/y"}};
  std::string uri = mv::build_uri(r);
  mv::UriRequest back = parse(uri);
  assert_str(back.model, r.model);
  assert_str(back.prompt, r.prompt);
  assert_str(back.input, r.input);
  fail_unless_equals_int(back.settings.size(), 2);
  assert_str(back.settings[1].second, "k e/y");
  /* And the URI of the result is the same URI. */
  assert_str(mv::build_uri(back), uri);
  assert_str(mv::build_uri({"veo3-1-quality", "waves", "", {}}), "mindvideo://veo3-1-quality?prompt=waves");
}
GST_END_TEST;

static Suite* uri_suite(void) {
  Suite* s = suite_create("mindvideo-uri");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_fields_typed_as_json);
  tcase_add_test(tc, test_lists);
  tcase_add_test(tc, test_settings_and_refusals);
  tcase_add_test(tc, test_round_trip);
  return s;
}

GST_CHECK_MAIN(uri);
