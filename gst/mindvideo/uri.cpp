/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "uri.h"

#include <glib.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <regex>

namespace mv {

using ordered_json = nlohmann::ordered_json;

const char* const kUriSettings[] = {"output-index", "idempotency-key", "task-id", "poll-interval",
                                    "timeout",      "request-timeout", "retries", "max-size",
                                    nullptr};

namespace {

bool is_setting(const std::string& key) {
  for (const char* const* s = kUriSettings; *s; s++)
    if (key == *s)
      return true;
  return false;
}

/* Whether `text` reads as a JSON scalar (so a string of that text must be
 * quoted to stay a string), or starts as JSON text. */
bool reads_as_json(const std::string& text) {
  static const std::regex number("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
  if (text == "true" || text == "false" || text == "null" || std::regex_match(text, number))
    return true;
  return !text.empty() && (text[0] == '"' || text[0] == '{' || text[0] == '[');
}

bool typed_value(const std::string& key, const std::string& text, ordered_json* value, std::string* error) {
  if (!reads_as_json(text)) {
    *value = text;
    return true;
  }
  *value = ordered_json::parse(text, nullptr, false);
  if (value->is_discarded()) {
    *error = "the value of '" + key + "' starts like JSON but is not valid JSON: " + text;
    return false;
  }
  return true;
}

std::string escape(const std::string& s) {
  g_autofree gchar* e = g_uri_escape_string(s.c_str(), nullptr, TRUE);
  return e;
}

/* A scalar as a query value: strings as typed unless they would read as
 * something else. */
std::string scalar_text(const ordered_json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return reads_as_json(s) ? v.dump() : s;
  }
  return v.dump();
}

}  // namespace

bool parse_uri(const std::string& uri, UriRequest* request, std::string* error) {
  g_autoptr(GError) err = nullptr;
  g_autoptr(GUri) parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_ENCODED_QUERY, &err);
  if (!parsed) {
    *error = std::string("not a valid URI: ") + err->message;
    return false;
  }
  UriRequest r;
  const char* scheme = g_uri_get_scheme(parsed);
  const char* host = g_uri_get_host(parsed);
  const char* path = g_uri_get_path(parsed);
  const char* query = g_uri_get_query(parsed);
  bool ok = false;
  ordered_json input = ordered_json::object();
  if (!scheme || g_ascii_strcasecmp(scheme, "mindvideo") != 0) {
    *error = "the scheme is not mindvideo://";
  } else if (!host || !*host) {
    *error = "no model: write mindvideo://<model>?prompt=...";
  } else if (path && *path && strcmp(path, "/") != 0) {
    *error = std::string("unexpected path '") + path + "': write mindvideo://<model>?prompt=...";
  } else {
    r.model = host;
    ok = true;
    GUriParamsIter iter;
    g_uri_params_iter_init(&iter, query ? query : "", -1, "&", G_URI_PARAMS_WWW_FORM);
    for (;;) {
      g_autofree gchar* attr = nullptr;
      g_autofree gchar* value = nullptr;
      if (!ok || !g_uri_params_iter_next(&iter, &attr, &value, &err))
        break;
      std::string key = attr, text = value ? value : "";
      const bool list = g_str_has_suffix(key.c_str(), "[]");
      if (list)
        key.resize(key.size() - 2);
      if (key == "api-key" || key == "api-url" || key == "allow-plain-http") {
        *error = "'" + key + "' cannot come from a URI: set the element property or " +
                 (key == "api-key" ? "MINDVIDEO_API_KEY" : key == "api-url" ? "MINDVIDEO_API_URL" : "the property");
        ok = false;
      } else if (key == "prompt" && !list) {
        r.prompt = text;
      } else if (is_setting(key) && !list) {
        r.settings.emplace_back(key, text);
      } else if (key.empty()) {
        *error = "a query field without a name";
        ok = false;
      } else {
        ordered_json v;
        ok = typed_value(key, text, &v, error);
        if (ok && !input.contains(key)) {
          input[key] = list ? ordered_json::array({v}) : v;
        } else if (ok) {
          /* Seen before: a list, made one now if need be. */
          ordered_json& field = input[key];
          if (!field.is_array())
            field = ordered_json::array({field});
          field.push_back(v);
        }
      }
    }
    if (err) {
      *error = std::string("bad query: ") + err->message;
      g_clear_error(&err);
      ok = false;
    }
  }
  if (!ok)
    return false;
  if (!input.empty())
    r.input = input.dump();
  *request = std::move(r);
  return true;
}

std::string build_uri(const UriRequest& request) {
  std::string uri = "mindvideo://" + escape(request.model);
  std::vector<std::string> params;
  if (!request.prompt.empty())
    params.push_back("prompt=" + escape(request.prompt));
  ordered_json input = ordered_json::parse(request.input.empty() ? "{}" : request.input, nullptr, false);
  if (input.is_object()) {
    for (const auto& item : input.items()) {
      const ordered_json& v = item.value();
      bool scalars = v.is_array() && !v.empty();
      for (const auto& e : v.is_array() ? v : ordered_json::array())
        scalars = scalars && !e.is_structured();
      if (scalars) {
        for (const auto& e : v)
          params.push_back(escape(item.key()) + "[]=" + escape(scalar_text(e)));
      } else {
        params.push_back(escape(item.key()) + "=" + escape(v.is_structured() ? v.dump() : scalar_text(v)));
      }
    }
  }
  for (const auto& [key, value] : request.settings)
    params.push_back(key + "=" + escape(value));
  for (size_t i = 0; i < params.size(); i++)
    uri += (i ? "&" : "?") + params[i];
  return uri;
}

}  // namespace mv
