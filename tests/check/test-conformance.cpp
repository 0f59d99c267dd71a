/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Conformance: the official JSON-Schema-Test-Suite (Debian package
 * json-schema-test-suite, draft 7) for every keyword the shipped schemas
 * use, run through mv::ModelSchema, the validator the element and the
 * emulator use. The keywords are read from schemas/ itself, so a keyword
 * added there is covered, or this test says it is not.
 */
#include "schema.h"

#include <glib.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

using nlohmann::json;

static std::string suite_dir() {
  const char* env = g_getenv("JSON_SCHEMA_TEST_SUITE");
  return env && *env ? env : "/usr/share/json-schema-test-suite/tests/draft7";
}

/* Keywords that only annotate: nothing to validate, no suite file. */
static const std::set<std::string> kAnnotations = {"$schema", "$id", "$comment", "title", "description",
                                                   "x-playground", "examples"};

/* Suite file of a validation keyword, relative to the draft7 directory. */
static std::string suite_file(const std::string& keyword, const std::set<std::string>& formats) {
  if (keyword == "if" || keyword == "then" || keyword == "else")
    return "if-then-else.json";
  if (keyword == "format") {
    fail_unless(formats.size() == 1 && *formats.begin() == "uri", "a format other than uri is used");
    return "optional/format/uri.json";
  }
  return keyword + ".json";
}

/* Collects the keywords of `schema` and of every subschema in it. */
static void collect(const json& schema, std::set<std::string>* keywords, std::set<std::string>* formats) {
  if (!schema.is_object())
    return;
  for (const auto& item : schema.items()) {
    keywords->insert(item.key());
    const json& v = item.value();
    if (item.key() == "format")
      formats->insert(v.get<std::string>());
    if (item.key() == "properties" || item.key() == "dependencies")
      for (const auto& sub : v.items())
        collect(sub.value(), keywords, formats);
    else if (item.key() == "items" || item.key() == "additionalProperties" || item.key() == "if" ||
             item.key() == "then" || item.key() == "else" || item.key() == "not")
      collect(v, keywords, formats);
    else if (item.key() == "anyOf" || item.key() == "allOf" || item.key() == "oneOf")
      for (const auto& sub : v)
        collect(sub, keywords, formats);
  }
}

static json read_json(const std::string& path) {
  std::ifstream in(path);
  fail_unless(in.good(), "cannot open %s (is json-schema-test-suite installed?)", path.c_str());
  return json::parse(in);
}

GST_START_TEST(test_suite_for_every_keyword_used) {
  std::set<std::string> keywords, formats;
  const auto dirs = mv::schema_search_path();
  int schemas = 0;
  for (const char* model : {"gemini-3-1-flash-image-preview", "gemini-2-5-flash-image-preview-official",
                            "veo3-1-quality", "gpt-image-2", "qwen-image-2-0-pro"}) {
    std::string path = mv::find_schema_file(model, dirs);
    fail_if(path.empty(), "no schema for %s", model);
    collect(read_json(path), &keywords, &formats);
    schemas++;
  }
  fail_unless_equals_int(schemas, 5);
  /* The constraints the issue names must be among them. */
  for (const char* k : {"type", "required", "enum", "minimum", "maximum", "minLength", "maxLength", "minItems",
                        "maxItems", "items", "additionalProperties", "format", "pattern", "dependencies", "if"})
    fail_unless(keywords.count(k), "the shipped schemas do not use %s", k);

  std::set<std::string> files;
  for (const auto& k : keywords)
    if (!kAnnotations.count(k))
      files.insert(suite_file(k, formats));

  int passed = 0;
  std::string failures;
  for (const auto& file : files) {
    json groups = read_json(suite_dir() + "/" + file);
    for (const auto& group : groups) {
      std::string error;
      auto schema = mv::ModelSchema::from_text(group["schema"].dump(), &error);
      if (!schema) {
        failures += file + ": " + group["description"].get<std::string>() + ": schema refused: " + error + "\n";
        continue;
      }
      for (const auto& test : group["tests"]) {
        bool valid = schema->validate(test["data"].dump()).empty();
        if (valid == test["valid"].get<bool>())
          passed++;
        else
          failures += file + ": " + group["description"].get<std::string>() + " / " +
                      test["description"].get<std::string>() + "\n";
      }
    }
  }
  GST_INFO("%d conformance cases passed in %zu files", passed, files.size());
  fail_unless(failures.empty(), "conformance failures:\n%s", failures.c_str());
  /* Guard against a silently empty run. */
  fail_unless(files.size() >= 15, "only %zu suite files", files.size());
  fail_unless(passed > 200, "only %d cases ran", passed);
}
GST_END_TEST;

static Suite* conformance_suite(void) {
  Suite* s = suite_create("mindvideo-conformance");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_suite_for_every_keyword_used);
  return s;
}

GST_CHECK_MAIN(conformance);
