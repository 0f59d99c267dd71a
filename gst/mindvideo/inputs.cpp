/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "inputs.h"

#include "schema.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <gst/base/gsttypefindhelper.h>

namespace mv {

namespace {

/* The local path `value` names, or "" when it is a URL (http:, data:, ...). */
std::string local_path(const std::string& value) {
  if (g_str_has_prefix(value.c_str(), "file:")) {
    g_autofree gchar* path = g_filename_from_uri(value.c_str(), nullptr, nullptr);
    return (path && *path) ? std::string(path) : value;
  }
  return g_uri_peek_scheme(value.c_str()) ? "" : value;
}

/* Reads `path` and returns it as a data: URI, or "" with `error` set. */
std::string data_uri(const std::string& where, const std::string& path, std::string* error) {
  GStatBuf st;
  if (g_stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    *error = where + " = \"" + path + "\" is neither a URL nor a readable file";
    return "";
  }
  if ((uint64_t)st.st_size > kMaxInlineBytes) {
    *error = where + ": the file " + path + " is " + std::to_string(st.st_size) + " bytes; local files up to " +
             std::to_string(kMaxInlineBytes) + " bytes are inlined. Host it and pass its URL instead";
    return "";
  }
  g_autofree gchar* contents = nullptr;
  gsize length = 0;
  g_autoptr(GError) err = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &err)) {
    *error = where + ": cannot read " + path + ": " + err->message;
    return "";
  }
  /* The type from the bytes, not from the name. */
  g_autoptr(GstCaps) caps = gst_type_find_helper_for_data(nullptr, (const guint8*)contents, length, nullptr);
  std::string mime = caps ? gst_structure_get_name(gst_caps_get_structure(caps, 0)) : "";
  if (!g_str_has_prefix(mime.c_str(), "image/")) {
    *error = where + ": the file " + path + " is not an image (" + (mime.empty() ? "unknown type" : mime) + ")";
    return "";
  }
  g_autofree gchar* b64 = g_base64_encode((const guchar*)contents, length);
  return "data:" + mime + ";base64," + b64;
}

}  // namespace

bool inline_local_files(nlohmann::ordered_json* input, const std::string& model, const ModelSchema* schema,
                        std::string* error) {
  for (auto& item : input->items()) {
    const std::string& key = item.key();
    const bool list = g_str_has_suffix(key.c_str(), "_urls");
    if (!list && !g_str_has_suffix(key.c_str(), "_url"))
      continue;
    nlohmann::ordered_json& field = item.value();
    const size_t count = list ? (field.is_array() ? field.size() : 0) : 1;
    for (size_t i = 0; i < count; i++) {
      nlohmann::ordered_json& value = list ? field[i] : field;
      if (!value.is_string())
        continue; /* the schema names the wrong type */
      const std::string path = local_path(value.get<std::string>());
      if (path.empty())
        continue;
      const std::string where = list ? key + "[" + std::to_string(i) + "]" : key;
      if (schema && !schema->accepts_data_uri(key)) {
        *error = model + " accepts only public http(s) URLs in " + key + ", so the local file " + path +
                 " cannot be sent. Upload it and pass its URL instead";
        return false;
      }
      std::string uri = data_uri(where, path, error);
      if (uri.empty())
        return false;
      value = uri;
    }
  }
  return true;
}

}  // namespace mv
