/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "schema.h"

#include <glib.h>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <exception>

namespace mv {

struct ModelSchema::Impl {
  valijson::Schema schema;
  std::vector<std::string> properties;
};

ModelSchema::ModelSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelSchema::~ModelSchema() = default;

std::unique_ptr<ModelSchema> ModelSchema::from_text(const std::string& text, std::string* error) {
  /* nlohmann and valijson report problems with exceptions; they stop here. */
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    auto impl = std::make_unique<Impl>();
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    parser.populateSchema(adapter, impl->schema);
    if (doc.is_object() && doc.contains("properties") && doc["properties"].is_object()) {
      for (const auto& item : doc["properties"].items())
        impl->properties.push_back(item.key());
    }
    return std::unique_ptr<ModelSchema>(new ModelSchema(std::move(impl)));
  } catch (const std::exception& e) {
    if (error)
      *error = e.what();
    return nullptr;
  }
}

std::unique_ptr<ModelSchema> ModelSchema::from_file(const std::string& path, std::string* error) {
  gchar* contents = nullptr;
  GError* gerr = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, nullptr, &gerr)) {
    if (error)
      *error = gerr->message;
    g_error_free(gerr);
    return nullptr;
  }
  std::string text(contents);
  g_free(contents);
  std::string parse_error;
  auto schema = from_text(text, &parse_error);
  if (!schema && error)
    *error = path + ": " + parse_error;
  return schema;
}

const std::vector<std::string>& ModelSchema::property_names() const {
  return impl_->properties;
}

/* valijson's context looks like ["<root>", "[n]", "[0]"]; make it "n[0]". */
static std::string context_path(const std::vector<std::string>& context) {
  std::string path;
  for (const auto& part : context) {
    if (part == "<root>")
      continue;
    std::string name = part;
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
      name = name.substr(1, name.size() - 2);
    bool index = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
    if (index)
      path += "[" + name + "]";
    else
      path += (path.empty() ? "" : ".") + name;
  }
  return path.empty() ? "input" : path;
}

std::vector<std::string> ModelSchema::validate(const std::string& json_text) const {
  std::vector<std::string> out;
  try {
    nlohmann::json doc = nlohmann::json::parse(json_text);
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(doc);
    if (validator.validate(impl_->schema, target, &results))
      return out;
    valijson::ValidationResults::Error err;
    while (results.popError(err)) {
      /* Skip the summaries valijson adds above the leaf error. */
      if (g_str_has_prefix(err.description.c_str(), "Failed to validate against schema associated with") ||
          g_str_has_prefix(err.description.c_str(), "Failed to validate item #"))
        continue;
      out.push_back(context_path(err.context) + ": " + err.description);
    }
    if (out.empty())
      out.push_back("input does not match the model's schema");
  } catch (const std::exception& e) {
    out.push_back(std::string("input is not valid JSON: ") + e.what());
  }
  return out;
}

std::vector<std::string> schema_search_path() {
  std::vector<std::string> dirs;
  const char* env = g_getenv("MINDVIDEO_SCHEMA_PATH");
  if (env && *env) {
    gchar** parts = g_strsplit(env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (gchar** p = parts; *p; p++)
      if (**p)
        dirs.emplace_back(*p);
    g_strfreev(parts);
  }
#ifdef MINDVIDEO_SCHEMA_DIR
  dirs.emplace_back(MINDVIDEO_SCHEMA_DIR);
#endif
  return dirs;
}

std::string find_schema_file(const std::string& model, const std::vector<std::string>& dirs) {
  if (model.empty() || model.find('/') != std::string::npos || model.find('\\') != std::string::npos ||
      model[0] == '.')
    return "";
  for (const auto& dir : dirs) {
    gchar* path = g_build_filename(dir.c_str(), (model + ".json").c_str(), nullptr);
    std::string result(path);
    g_free(path);
    if (g_file_test(result.c_str(), G_FILE_TEST_IS_REGULAR))
      return result;
  }
  return "";
}

}  // namespace mv
