/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "api.h"

#include "inputs.h"
#include "log.h"
#include "schema.h"

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>

/* The request body is built with nlohmann::ordered_json rather than
 * json-glib: json-glib 1.6 prints 0.1 as 0.10000000000000001 and wraps
 * integers past int64, and the body must carry the user's values unchanged. */
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <memory>

namespace mv {

namespace {

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
using ParserPtr = std::unique_ptr<JsonParser, GObjectUnref>;

std::string lower(const std::string& s) {
  g_autofree gchar* l = g_ascii_strdown(s.c_str(), -1);
  return l;
}

/* A member as a string, whether the server sent a string or a number. */
std::string member_string(JsonObject* obj, const char* name) {
  JsonNode* node = json_object_get_member(obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE(node))
    return "";
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_STRING)
    return json_node_get_string(node);
  if (type == G_TYPE_INT64)
    return std::to_string(json_node_get_int(node));
  return "";
}

std::optional<double> member_number(JsonObject* obj, const char* name) {
  JsonNode* node = json_object_get_member(obj, name);
  if (!node || !JSON_NODE_HOLDS_VALUE(node))
    return std::nullopt;
  GType type = json_node_get_value_type(node);
  if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64)
    return json_node_get_double(node);
  if (type == G_TYPE_STRING) {
    const char* s = json_node_get_string(node);
    char* end = nullptr;
    double v = g_ascii_strtod(s, &end);
    if (end != s && *end == '\0')
      return v;
  }
  return std::nullopt;
}

/* The message of an error that may be a string or an object. */
std::string message_of(JsonNode* node) {
  if (!node)
    return "";
  if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING)
    return json_node_get_string(node);
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObject* obj = json_node_get_object(node);
    for (const char* name : {"message", "detail", "error_message", "reason", "error"}) {
      std::string m = message_of(json_object_get_member(obj, name));
      if (!m.empty())
        return m;
    }
  }
  return "";
}

/* Parses `text` and returns its root object, or nullptr. The parser owns it. */
JsonObject* parse_object(const std::string& text, ParserPtr* parser, std::string* error) {
  parser->reset(json_parser_new_immutable());
  g_autoptr(GError) err = nullptr;
  if (!json_parser_load_from_data(parser->get(), text.data(), (gssize)text.size(), &err)) {
    if (error)
      *error = std::string("response is not JSON: ") + err->message;
    return nullptr;
  }
  JsonNode* root = json_parser_get_root(parser->get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    if (error)
      *error = "response is not a JSON object";
    return nullptr;
  }
  return json_node_get_object(root);
}

}  // namespace

TaskStatus parse_status(const std::string& text) {
  std::string s = lower(text);
  if (s.empty())
    return TaskStatus::None;
  if (s == "queued")
    return TaskStatus::Queued;
  if (s == "processing")
    return TaskStatus::Processing;
  if (s == "succeeded")
    return TaskStatus::Succeeded;
  if (s == "failed")
    return TaskStatus::Failed;
  if (s == "cancelled" || s == "canceled")
    return TaskStatus::Cancelled;
  return TaskStatus::Unknown;
}

const char* status_name(TaskStatus status) {
  switch (status) {
    case TaskStatus::None: return "";
    case TaskStatus::Queued: return "queued";
    case TaskStatus::Processing: return "processing";
    case TaskStatus::Succeeded: return "succeeded";
    case TaskStatus::Failed: return "failed";
    case TaskStatus::Cancelled: return "cancelled";
    case TaskStatus::Unknown: return "unknown";
  }
  return "";
}

bool status_is_terminal(TaskStatus status) {
  return status == TaskStatus::Succeeded || status == TaskStatus::Failed ||
         status == TaskStatus::Cancelled;
}

bool parse_task(const std::string& body, TaskInfo* task, std::string* error) {
  ParserPtr parser;
  JsonObject* obj = parse_object(body, &parser, error);
  if (!obj)
    return false;

  TaskInfo t;
  t.task_id = member_string(obj, "task_id");
  if (t.task_id.empty())
    t.task_id = member_string(obj, "id");
  if (t.task_id.empty()) {
    if (error)
      *error = "response has no task_id";
    return false;
  }
  t.request_id = member_string(obj, "request_id");
  t.status_text = member_string(obj, "status");
  t.status = parse_status(t.status_text);
  t.cost_estimate = member_number(obj, "cost_estimate");
  t.cost_actual = member_number(obj, "cost_actual");
  t.error_message = message_of(json_object_get_member(obj, "error"));
  if (t.error_message.empty())
    t.error_message = member_string(obj, "message");

  JsonNode* output = json_object_get_member(obj, "output");
  if (output && JSON_NODE_HOLDS_OBJECT(output)) {
    JsonObject* out = json_node_get_object(output);
    GList* members = json_object_get_members(out); /* in document order */
    for (GList* l = members; l; l = l->next) {
      const char* kind = (const char*)l->data;
      JsonNode* list = json_object_get_member(out, kind);
      if (!JSON_NODE_HOLDS_ARRAY(list))
        continue;
      JsonArray* array = json_node_get_array(list);
      for (guint i = 0; i < json_array_get_length(array); i++) {
        JsonNode* item = json_array_get_element(array, i);
        std::string url;
        if (JSON_NODE_HOLDS_OBJECT(item))
          url = member_string(json_node_get_object(item), "url");
        else if (JSON_NODE_HOLDS_VALUE(item) && json_node_get_value_type(item) == G_TYPE_STRING)
          url = json_node_get_string(item);
        if (!url.empty())
          t.outputs.push_back({kind, url});
      }
    }
    g_list_free(members);
  }
  *task = std::move(t);
  return true;
}

std::string parse_error_message(const std::string& body) {
  ParserPtr parser;
  if (parse_object(body, &parser, nullptr)) {
    std::string m = message_of(json_parser_get_root(parser.get()));
    if (!m.empty())
      return m;
  }
  /* Not a shape we know: an excerpt of the body, on one line. */
  std::string excerpt = body.substr(0, 200);
  for (char& c : excerpt)
    if (c == '\n' || c == '\r' || c == '\t')
      c = ' ';
  g_autofree gchar* valid = g_utf8_make_valid(excerpt.c_str(), (gssize)excerpt.size());
  std::string out = g_strstrip(valid);
  if (body.size() > 200)
    out += "...";
  return out;
}

bool build_submit_body(const RequestSettings& settings, std::string* body, std::string* error,
                       const std::string& log_id) {
  using json = nlohmann::ordered_json;
  if (settings.model.empty()) {
    *error = "No model set: set the 'model' property, e.g. model=veo3-1-quality";
    return false;
  }
  json input = json::object();
  if (!settings.input.empty()) {
    input = json::parse(settings.input, nullptr, false);
    if (input.is_discarded()) {
      *error = "The 'input' property is not valid JSON: " + settings.input;
      return false;
    }
    if (!input.is_object()) {
      *error = "The 'input' property must be a JSON object such as {\"aspect_ratio\":\"16:9\"}, not: " +
               settings.input;
      return false;
    }
  }
  if (!settings.prompt.empty()) {
    /* The property wins, and goes first. */
    json merged = json::object();
    merged["prompt"] = settings.prompt;
    for (auto& item : input.items())
      if (item.key() != "prompt")
        merged[item.key()] = item.value();
    input = std::move(merged);
  } else if (!input.contains("prompt")) {
    *error = "No prompt set: set the 'prompt' property, or a \"prompt\" field in 'input'";
    return false;
  }
  /* Checked here, on the user's machine, before anything is charged:
   * MINDVIDEO_SCHEMA_PATH first, then the schemas built into the plugin. */
  const std::vector<std::string> dirs = schema_search_path();
  std::string why;
  std::unique_ptr<ModelSchema> schema = load_schema(settings.model, dirs, &why);
  if (!schema && !why.empty()) {
    *error = "The schema of model " + settings.model + " is unreadable: " + why;
    return false;
  }
  if (!schema) {
    std::string where;
    for (const auto& d : dirs)
      where += (where.empty() ? "" : ", ") + d;
    MV_WARNING_ID(log_id,
                  "no schema for model '%s' built in or in MINDVIDEO_SCHEMA_PATH (%s): sending its input "
                  "unvalidated, the server decides",
                  settings.model.c_str(), where.empty() ? "unset" : where.c_str());
  }
  if (!inline_local_files(&input, settings.model, schema.get(), error))
    return false;

  json request = json::object();
  request["model"] = settings.model;
  request["input"] = std::move(input);
  std::string text;
  try {
    text = request.dump();
  } catch (const json::exception&) {
    *error = "The prompt, model or input holds text that is not valid UTF-8";
    return false;
  }
  if (schema) {
    std::vector<std::string> violations = schema->validate(request["input"].dump());
    if (!violations.empty()) {
      *error = settings.model + ": ";
      for (size_t i = 0; i < violations.size(); i++)
        *error += (i ? "; " : "") + violations[i];
      return false;
    }
  }
  *body = std::move(text);
  return true;
}

std::string effective_prompt(const RequestSettings& settings) {
  if (!settings.prompt.empty())
    return settings.prompt;
  nlohmann::ordered_json input = nlohmann::ordered_json::parse(settings.input, nullptr, false);
  if (input.is_object() && input.contains("prompt") && input["prompt"].is_string())
    return input["prompt"].get<std::string>();
  return "";
}

static std::string api_base(const std::string& api_url) {
  std::string base = api_url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  return base;
}

std::string tasks_url(const std::string& api_url) {
  return api_base(api_url) + "/api/v1/tasks";
}

std::string task_url(const std::string& api_url, const std::string& task_id) {
  g_autofree gchar* escaped = g_uri_escape_string(task_id.c_str(), nullptr, FALSE);
  return tasks_url(api_url) + "/" + escaped;
}

std::string task_events_url(const std::string& api_url, const std::string& task_id) {
  return task_url(api_url, task_id) + "/events";
}

bool is_http_url(const std::string& url) {
  g_autoptr(GUri) uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return false;
  const char* scheme = g_uri_get_scheme(uri);
  const char* host = g_uri_get_host(uri);
  return scheme && (g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0) &&
         host && *host;
}

bool is_safe_for_key(const std::string& url) {
  g_autoptr(GUri) uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return false;
  bool safe = false;
  const char* scheme = g_uri_get_scheme(uri);
  const char* host = g_uri_get_host(uri);
  if (scheme && g_ascii_strcasecmp(scheme, "https") == 0) {
    safe = true;
  } else if (host) {
    std::string h = lower(host);
    if (h == "localhost" || g_str_has_suffix(h.c_str(), ".localhost")) {
      safe = true;
    } else if (g_autoptr(GInetAddress) address = g_inet_address_new_from_string(h.c_str())) {
      safe = g_inet_address_get_is_loopback(address);
    }
  }
  return safe;
}

std::string new_idempotency_key() {
  g_autofree gchar* uuid = g_uuid_string_random();
  return uuid;
}

std::string redact(const std::string& text, const std::string& secret) {
  /* Real keys are long (mv_live_...); redacting a few letters would only
   * garble every text they happen to occur in. */
  if (secret.size() < kMinRedactedSecret)
    return text;
  std::string out = text;
  for (size_t pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos + 3))
    out.replace(pos, secret.size(), "***");
  return out;
}

}  // namespace mv
