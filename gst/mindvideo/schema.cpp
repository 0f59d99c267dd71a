/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * valijson decides validity (it passes the JSON-Schema-Test-Suite for every
 * keyword the shipped schemas use) and says where each error is. What it
 * says is generic ("Expected number less than or equal to 4.000000"), so the
 * sentences users read are written here from the failing value and the
 * subschema at that place: "n = 5 is above the maximum 4".
 *
 * valijson does not check `format: uri`; check_formats() below does.
 */
#include "schema.h"

#include <glib.h>

#include <nlohmann/json.hpp>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <exception>
#include <map>
#include <regex>

namespace mv {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

std::unique_ptr<valijson::Schema> compile(const json& doc) {
  auto schema = std::make_unique<valijson::Schema>();
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  parser.populateSchema(adapter, *schema);
  return schema;
}

bool valid(const valijson::Schema& schema, const json& value, valijson::ValidationResults* results = nullptr) {
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(value);
  return validator.validate(schema, target, results);
}

/* "a string", "an integer", ... as JSON Schema types read in a sentence. */
std::string type_phrase(const std::string& type) {
  if (type == "integer" || type == "object" || type == "array")
    return "an " + type;
  if (type == "null")
    return "null";
  return "a " + type;
}

std::string type_of(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool type_matches(const json& v, const std::string& type) {
  if (type == "number")
    return v.is_number();
  if (type == "integer")
    return v.is_number_integer() || v.is_number_unsigned() ||
           (v.is_number_float() && v.get<double>() == (double)(int64_t)v.get<double>());
  return type_of(v) == type;
}

/* A value as users typed it; long strings (data URIs) shortened. */
std::string show(const json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    glong chars = g_utf8_strlen(s.c_str(), -1);
    if (chars > 60) {
      gchar* head = g_utf8_substring(s.c_str(), 0, 40);
      std::string out = "\"" + std::string(head) + "...\" (" + std::to_string(chars) + " characters)";
      g_free(head);
      return out;
    }
  }
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string number(const json& v) {
  return v.dump();
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : sep) + item;
  return out;
}

std::string list_values(const json& values) {
  std::vector<std::string> items;
  for (const auto& v : values)
    items.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return join(items);
}

/* RFC 3986 absolute URI: a scheme, only the characters the grammar allows,
 * and a structure GLib accepts. */
bool is_uri(const std::string& s) {
  static const char* allowed =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%";
  if (s.empty() || s.find_first_not_of(allowed) != std::string::npos)
    return false;
  return g_uri_is_valid(s.c_str(), G_URI_FLAGS_NONE, nullptr);
}

/* Describes why `value` fails `sub`, the subschema at `path`; "" when no
 * keyword of `sub` itself fails (the error came from elsewhere, such as an
 * if/then at the top). */
std::string explain(const std::string& path, const json& value, const ordered_json& sub) {
  const std::string head = path + " = " + show(value);
  std::string hint;
  if (sub.contains("description") && sub["description"].is_string())
    hint = sub["description"].get<std::string>();
  const std::string because = hint.empty() ? std::string() : ": " + hint;

  if (sub.contains("type")) {
    std::vector<std::string> types;
    if (sub["type"].is_string())
      types.push_back(sub["type"].get<std::string>());
    else if (sub["type"].is_array())
      for (const auto& t : sub["type"])
        types.push_back(t.get<std::string>());
    bool ok = std::any_of(types.begin(), types.end(), [&](const std::string& t) { return type_matches(value, t); });
    if (!ok) {
      std::vector<std::string> phrases;
      for (const auto& t : types)
        phrases.push_back(type_phrase(t));
      return head + " is " + type_phrase(type_of(value)) + ", but must be " + join(phrases, " or ");
    }
  }
  if (sub.contains("const") && json(sub["const"]) != value)
    return head + " is not allowed: it can only be " + show(json(sub["const"]));
  if (sub.contains("enum")) {
    json allowed = sub["enum"];
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end())
      return head + " is not allowed (allowed: " + list_values(allowed) + ")";
  }
  if (value.is_number()) {
    double v = value.get<double>();
    if (sub.contains("minimum") && v < sub["minimum"].get<double>())
      return head + " is below the minimum " + number(json(sub["minimum"]));
    if (sub.contains("maximum") && v > sub["maximum"].get<double>())
      return head + " is above the maximum " + number(json(sub["maximum"]));
    if (sub.contains("exclusiveMinimum") && v <= sub["exclusiveMinimum"].get<double>())
      return head + " must be above " + number(json(sub["exclusiveMinimum"]));
    if (sub.contains("exclusiveMaximum") && v >= sub["exclusiveMaximum"].get<double>())
      return head + " must be below " + number(json(sub["exclusiveMaximum"]));
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    /* Characters, not bytes: the docs' own prompts are Chinese. */
    glong chars = g_utf8_strlen(s.c_str(), -1);
    if (sub.contains("minLength") && chars < sub["minLength"].get<glong>())
      return chars == 0 ? path + " is empty; it needs at least " + number(json(sub["minLength"])) + " character(s)"
                        : path + " is " + std::to_string(chars) + " characters long; the minimum is " +
                              number(json(sub["minLength"]));
    if (sub.contains("maxLength") && chars > sub["maxLength"].get<glong>())
      return path + " is " + std::to_string(chars) + " characters long; the maximum is " +
             number(json(sub["maxLength"]));
    if (sub.contains("pattern")) {
      std::regex re(sub["pattern"].get<std::string>(), std::regex::ECMAScript);
      if (!std::regex_search(s, re))
        return head + " is not allowed" +
               (hint.empty() ? " (it must match " + sub["pattern"].get<std::string>() + ")" : because);
    }
    if (sub.contains("format") && sub["format"] == "uri" && !is_uri(s))
      return head + " is not a valid absolute URI";
  }
  if (value.is_array()) {
    size_t n = value.size();
    if (sub.contains("minItems") && n < sub["minItems"].get<size_t>())
      return path + " has " + std::to_string(n) + " item(s); the minimum is " + number(json(sub["minItems"]));
    if (sub.contains("maxItems") && n > sub["maxItems"].get<size_t>())
      return path + " has " + std::to_string(n) + " items; the maximum is " + number(json(sub["maxItems"]));
  }
  if (sub.contains("anyOf") || sub.contains("oneOf"))
    return head + " is not allowed" + because;
  return "";
}

/* "google_search = true" for the const properties of a conditional branch. */
std::string describe_consts(const ordered_json& branch) {
  std::vector<std::string> parts;
  if (branch.contains("properties") && branch["properties"].is_object())
    for (const auto& item : branch["properties"].items())
      if (item.value().is_object() && item.value().contains("const"))
        parts.push_back(item.key() + " = " + json(item.value()["const"]).dump());
  return join(parts, " and ");
}

}  // namespace

struct ModelSchema::Impl {
  std::unique_ptr<valijson::Schema> schema;
  ordered_json doc; /* as written, for messages in the schema's own order */
  std::vector<std::string> properties;
  struct Conditional {
    std::unique_ptr<valijson::Schema> when, then;
    std::string message;
  };
  std::vector<Conditional> conditionals;

  const ordered_json* subschema(const std::vector<std::string>& path) const;
  std::string explain_at(const json& value, const std::vector<std::string>& path, const std::string& where) const;
  std::vector<std::string> root_messages(const json& value, const std::vector<std::string>& kinds) const;
  void check_formats(const ordered_json& sub, const json& value, const std::string& path,
                     std::vector<std::pair<std::string, std::string>>* out) const;
  std::vector<std::string> validate(const std::string& json_text) const;
};

ModelSchema::ModelSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelSchema::~ModelSchema() = default;

std::unique_ptr<ModelSchema> ModelSchema::from_text(const std::string& text, std::string* error) {
  /* nlohmann and valijson report problems with exceptions; they stop here. */
  try {
    auto impl = std::make_unique<Impl>();
    impl->doc = ordered_json::parse(text);
    impl->schema = compile(json::parse(text));
    if (impl->doc.is_object() && impl->doc.contains("properties") && impl->doc["properties"].is_object())
      for (const auto& item : impl->doc["properties"].items())
        impl->properties.push_back(item.key());
    /* if/then at the top or inside allOf: compiled apart, to tell which one
     * failed and say it in the schema's own terms. */
    std::vector<const ordered_json*> branches;
    if (impl->doc.is_object()) {
      branches.push_back(&impl->doc);
      if (impl->doc.contains("allOf") && impl->doc["allOf"].is_array())
        for (const auto& b : impl->doc["allOf"])
          branches.push_back(&b);
    }
    for (const ordered_json* b : branches) {
      if (!b->is_object() || !b->contains("if") || !b->contains("then"))
        continue;
      Impl::Conditional c;
      c.when = compile(json((*b)["if"]));
      c.then = compile(json((*b)["then"]));
      std::string when = describe_consts((*b)["if"]), then = describe_consts((*b)["then"]);
      c.message = !when.empty() && !then.empty() ? when + " needs " + then
                                                  : "the input does not meet the model's condition " + (*b)["if"].dump();
      impl->conditionals.push_back(std::move(c));
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

const ordered_json* ModelSchema::Impl::subschema(const std::vector<std::string>& path) const {
  const ordered_json* s = &doc;
  for (const auto& part : path) {
    if (!s->is_object())
      return nullptr;
    bool index = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    if (index && s->contains("items") && (*s)["items"].is_object()) {
      s = &(*s)["items"];
    } else if (!index && s->contains("properties") && (*s)["properties"].contains(part)) {
      s = &(*s)["properties"][part];
    } else if (!index && s->contains("additionalProperties") && (*s)["additionalProperties"].is_object()) {
      s = &(*s)["additionalProperties"];
    } else {
      return nullptr;
    }
  }
  return s;
}

/* The sentence for a valijson error at `path`, or "" when the value or the
 * subschema there does not explain it. */
std::string ModelSchema::Impl::explain_at(const json& value, const std::vector<std::string>& path,
                                          const std::string& where) const {
  const json* v = &value;
  for (const auto& part : path) {
    bool index = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    if (index && v->is_array() && std::stoul(part) < v->size())
      v = &(*v)[std::stoul(part)];
    else if (v->is_object() && v->contains(part))
      v = &(*v)[part];
    else
      return "";
  }
  const ordered_json* sub = subschema(path);
  if (!sub)
    return "";
  try {
    return explain(where, *v, *sub);
  } catch (const std::exception&) {
    return "";
  }
}

/* Messages for errors about the object itself, by the kind valijson gave. */
std::vector<std::string> ModelSchema::Impl::root_messages(const json& value,
                                                          const std::vector<std::string>& kinds) const {
  std::vector<std::string> out;
  auto has = [&](const char* prefix) {
    return std::any_of(kinds.begin(), kinds.end(),
                       [prefix](const std::string& k) { return g_str_has_prefix(k.c_str(), prefix); });
  };
  if (!value.is_object()) {
    out.push_back("the input is " + type_phrase(type_of(value)) + ", but must be an object");
    return out;
  }
  if (has("Missing required property") && doc.contains("required"))
    for (const auto& name : doc["required"])
      if (!value.contains(name.get<std::string>()))
        out.push_back(name.get<std::string>() + " is required");
  if (has("Object contains a property that could not be validated")) {
    std::vector<std::string> unknown;
    for (const auto& item : value.items())
      if (std::find(properties.begin(), properties.end(), item.key()) == properties.end())
        unknown.push_back(item.key());
    if (unknown.size() == 1)
      out.push_back(unknown[0] + " is not an input of this model (allowed: " + join(properties) + ")");
    else if (unknown.size() > 1)
      out.push_back(join(std::vector<std::string>(unknown.begin(), unknown.end() - 1)) + " and " + unknown.back() +
                    " are not inputs of this model (allowed: " + join(properties) + ")");
  }
  if (has("Missing dependency") && doc.contains("dependencies"))
    for (const auto& dep : doc["dependencies"].items())
      if (value.contains(dep.key()) && dep.value().is_array())
        for (const auto& needed : dep.value())
          if (!value.contains(needed.get<std::string>()))
            out.push_back(dep.key() + " needs " + needed.get<std::string>() + " as well");
  if (has("Failed to validate against a conditional schema"))
    for (const auto& c : conditionals)
      if (valid(*c.when, value) && !valid(*c.then, value))
        out.push_back(c.message);
  return out;
}

void ModelSchema::Impl::check_formats(const ordered_json& sub, const json& value, const std::string& path,
                                      std::vector<std::pair<std::string, std::string>>* out) const {
  if (!sub.is_object())
    return;
  bool reported = std::any_of(out->begin(), out->end(), [&path](const auto& f) { return f.first == path; });
  if (!reported && sub.contains("format") && sub["format"] == "uri" && value.is_string() &&
      !is_uri(value.get<std::string>()))
    out->emplace_back(path, (path.empty() ? std::string("the input") : path + " = " + show(value)) +
                                " is not a valid absolute URI");
  if (value.is_object() && sub.contains("properties"))
    for (const auto& item : value.items())
      if (sub["properties"].contains(item.key()))
        check_formats(sub["properties"][item.key()], item.value(),
                      path.empty() ? item.key() : path + "." + item.key(), out);
  if (value.is_array() && sub.contains("items") && sub["items"].is_object())
    for (size_t i = 0; i < value.size(); i++)
      check_formats(sub["items"], value[i], path + "[" + std::to_string(i) + "]", out);
}

std::vector<std::string> ModelSchema::validate(const std::string& json_text) const {
  try {
    return impl_->validate(json_text);
  } catch (const std::exception& e) {
    /* Only a schema of a shape valijson accepted but this code does not. */
    return {std::string("the input could not be checked against the model's schema: ") + e.what()};
  }
}

std::vector<std::string> ModelSchema::Impl::validate(const std::string& json_text) const {
  json value;
  ordered_json as_typed;
  try {
    value = json::parse(json_text);
    as_typed = ordered_json::parse(json_text);
  } catch (const std::exception& e) {
    return {std::string("the input is not valid JSON: ") + e.what()};
  }

  /* (where, message): the top-level field of `where` orders the messages as
   * the user wrote the input. */
  std::vector<std::pair<std::string, std::string>> found;
  /* valijson's words for errors nothing here explains: shown only when no
   * better sentence exists, since an if/then failure also surfaces as an
   * error at the property it constrains. */
  std::vector<std::string> unexplained;
  valijson::ValidationResults results;
  const bool invalid = !valid(*schema, value, &results);
  if (invalid) {
    std::vector<std::string> root_kinds;
    valijson::ValidationResults::Error err;
    while (results.popError(err)) {
      std::vector<std::string> path;
      for (const auto& part : err.context) {
        if (part == "<root>")
          continue;
        std::string p = part;
        if (p.size() >= 2 && p.front() == '[' && p.back() == ']')
          p = p.substr(1, p.size() - 2);
        path.push_back(p);
      }
      if (path.empty()) {
        /* Summaries of failures reported below them on their own. */
        if (!g_str_has_prefix(err.description.c_str(), "Failed to validate against schema associated with"))
          root_kinds.push_back(err.description);
        continue;
      }
      if (g_str_has_prefix(err.description.c_str(), "Failed to validate item #"))
        continue;
      std::string where = path[0];
      for (size_t i = 1; i < path.size(); i++)
        where += path[i].find_first_not_of("0123456789") == std::string::npos ? "[" + path[i] + "]" : "." + path[i];
      std::string message = explain_at(value, path, where);
      if (message.empty())
        unexplained.push_back(where + ": " + err.description);
      else
        found.emplace_back(where, message);
    }
    std::vector<std::string> root = root_messages(value, root_kinds);
    if (root.empty())
      for (const auto& kind : root_kinds)
        root.push_back("the input: " + kind);
    for (const auto& m : root) {
      /* "colour is not an input..." sorts with its field; "prompt is required" first. */
      std::string field = m.substr(0, m.find_first_of(" ,"));
      found.emplace_back(as_typed.is_object() && as_typed.contains(field) ? field : "", m);
    }
  }
  check_formats(doc, value, "", &found);

  auto rank = [&as_typed](const std::string& where) -> size_t {
    const std::string field = where.substr(0, where.find_first_of(".["));
    if (field.empty() || !as_typed.is_object())
      return 0;
    size_t i = 1;
    for (const auto& item : as_typed.items()) {
      if (item.key() == field)
        return i;
      i++;
    }
    return i;
  };
  std::stable_sort(found.begin(), found.end(),
                   [&](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
  std::vector<std::string> out;
  for (const auto& f : found)
    if (std::find(out.begin(), out.end(), f.second) == out.end())
      out.push_back(f.second);
  if (out.empty() && invalid) {
    /* valijson's verdict stands even when no sentence could be made. */
    out = unexplained;
    if (out.empty())
      out.push_back("the input does not match the model's schema");
  }
  return out;
}

bool ModelSchema::accepts_data_uri(const std::string& property) const {
  const ordered_json* sub = impl_->subschema({property});
  if (!sub)
    return false;
  if (sub->contains("items") && (*sub)["items"].is_object())
    sub = &(*sub)["items"];
  try {
    /* Ask the schema itself, with a tiny PNG. */
    auto schema = compile(json(*sub));
    return valid(*schema, json("data:image/png;base64,iVBORw0KGgo="));
  } catch (const std::exception&) {
    return false;
  }
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
