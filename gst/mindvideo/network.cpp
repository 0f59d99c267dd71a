/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "network.h"

#include <glib.h>

#include <cstring>

namespace mv {

namespace {

constexpr unsigned kDefaultIoTimeout = 30;

bool is_token_char(char c) {
  return g_ascii_isalnum(c) || strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

bool NetworkSettings::is_default() const {
  return proxy.empty() && proxy_id.empty() && proxy_pw.empty() && ca_file.empty() && !tls_database &&
         user_agent.empty() && io_timeout_s == kDefaultIoTimeout;
}

bool same_session(const NetworkSettings& a, const NetworkSettings& b) {
  return a.proxy == b.proxy && a.proxy_id == b.proxy_id && a.proxy_pw == b.proxy_pw && a.ca_file == b.ca_file &&
         a.tls_database.get() == b.tls_database.get() && a.user_agent == b.user_agent &&
         a.io_timeout_s == b.io_timeout_s;
}

std::shared_ptr<GTlsDatabase> tls_database_ref(GTlsDatabase* db) {
  if (!db)
    return nullptr;
  return std::shared_ptr<GTlsDatabase>(G_TLS_DATABASE(g_object_ref(db)), [](GTlsDatabase* d) { g_object_unref(d); });
}

std::string normalize_proxy(const std::string& proxy) {
  if (proxy.empty())
    return "";
  /* As souphttpsrc: "host:port" means an HTTP proxy. */
  if (proxy.find("://") == std::string::npos)
    return "http://" + proxy;
  return proxy;
}

std::string proxy_for_display(const std::string& proxy) {
  const std::string uri = normalize_proxy(proxy);
  g_autoptr(GUri) parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!parsed)
    return "(an invalid proxy URI)"; /* it may hold a password: never shown */
  g_autofree gchar* shown = g_uri_join(G_URI_FLAGS_NONE, g_uri_get_scheme(parsed), nullptr, g_uri_get_host(parsed),
                                       g_uri_get_port(parsed), "", nullptr, nullptr);
  return shown;
}

std::string proxy_without_password(const std::string& proxy) {
  if (proxy.empty())
    return "";
  g_autoptr(GUri) parsed = g_uri_parse(normalize_proxy(proxy).c_str(),
                                       (GUriFlags)(G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_ENCODED), nullptr);
  if (!parsed)
    return proxy_for_display(proxy);
  if (!g_uri_get_password(parsed))
    return proxy;
  g_autofree gchar* shown =
      g_uri_join_with_user(G_URI_FLAGS_ENCODED, g_uri_get_scheme(parsed), g_uri_get_user(parsed), nullptr, nullptr,
                           g_uri_get_host(parsed), g_uri_get_port(parsed), "", nullptr, nullptr);
  return shown;
}

bool proxy_userinfo(const std::string& proxy, std::string* user, std::string* password) {
  g_autoptr(GUri) parsed = g_uri_parse(normalize_proxy(proxy).c_str(), G_URI_FLAGS_HAS_PASSWORD, nullptr);
  if (!parsed || !g_uri_get_user(parsed) || !*g_uri_get_user(parsed))
    return false;
  *user = g_uri_get_user(parsed);
  *password = g_uri_get_password(parsed) ? g_uri_get_password(parsed) : "";
  return true;
}

std::string proxy_with_credentials(const std::string& proxy, const std::string& id, const std::string& pw) {
  const std::string uri = normalize_proxy(proxy);
  if (id.empty())
    return uri;
  g_autoptr(GUri) parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!parsed)
    return uri;
  g_autofree gchar* user = g_uri_escape_string(id.c_str(), nullptr, FALSE);
  g_autofree gchar* password = g_uri_escape_string(pw.c_str(), nullptr, FALSE);
  g_autofree gchar* joined =
      g_uri_join_with_user(G_URI_FLAGS_ENCODED, g_uri_get_scheme(parsed), user, pw.empty() ? nullptr : password,
                           nullptr, g_uri_get_host(parsed), g_uri_get_port(parsed), "", nullptr, nullptr);
  return joined;
}

bool is_reserved_header(const std::string& name) {
  static const char* const kReserved[] = {"Authorization", "Idempotency-Key", "Content-Type", "Host"};
  for (const char* reserved : kReserved)
    if (g_ascii_strcasecmp(name.c_str(), reserved) == 0)
      return true;
  return false;
}

bool check_extra_headers(const Headers& headers, std::string* why) {
  for (const auto& [name, value] : headers) {
    if (name.empty()) {
      *why = "extra-headers has a header without a name";
      return false;
    }
    for (char c : name) {
      if (!is_token_char(c)) {
        *why = "extra-headers: '" + name + "' is not a valid HTTP header name";
        return false;
      }
    }
    if (is_reserved_header(name)) {
      *why = "extra-headers may not set '" + name +
             "': the element sets Authorization, Idempotency-Key, Content-Type and Host itself (the API key "
             "goes in the api-key property)";
      return false;
    }
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos) {
      *why = "extra-headers: the value of '" + name + "' contains a line break";
      return false;
    }
  }
  return true;
}

namespace {

bool value_text(const GValue* value, std::string* text) {
  if (G_VALUE_HOLDS_STRING(value)) {
    const char* v = g_value_get_string(value);
    *text = v ? v : "";
    return true;
  }
  if (GST_VALUE_HOLDS_ARRAY(value) || GST_VALUE_HOLDS_LIST(value)) {
    const bool array = GST_VALUE_HOLDS_ARRAY(value);
    const guint n = array ? gst_value_array_get_size(value) : gst_value_list_get_size(value);
    text->clear();
    for (guint i = 0; i < n; i++) {
      std::string item;
      if (!value_text(array ? gst_value_array_get_value(value, i) : gst_value_list_get_value(value, i), &item))
        return false;
      *text += (i ? ", " : "") + item;
    }
    return true;
  }
  if (g_value_type_transformable(G_VALUE_TYPE(value), G_TYPE_STRING)) {
    GValue str = G_VALUE_INIT;
    g_value_init(&str, G_TYPE_STRING);
    bool ok = g_value_transform(value, &str);
    if (ok)
      *text = g_value_get_string(&str) ? g_value_get_string(&str) : "";
    g_value_unset(&str);
    return ok;
  }
  return false;
}

}  // namespace

bool headers_from_structure(const GstStructure* structure, Headers* headers, std::string* why) {
  headers->clear();
  if (!structure)
    return true;
  const int n = gst_structure_n_fields(structure);
  for (int i = 0; i < n; i++) {
    const char* name = gst_structure_nth_field_name(structure, i);
    std::string text;
    if (!value_text(gst_structure_get_value(structure, name), &text)) {
      *why = std::string("extra-headers: the value of '") + name + "' cannot be turned into text";
      return false;
    }
    headers->emplace_back(name, text);
  }
  return true;
}

bool check_network_settings(const NetworkSettings& s, std::string* why) {
  if (!s.proxy.empty()) {
    const std::string uri = normalize_proxy(s.proxy);
    g_autoptr(GUri) parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_NONE, nullptr);
    const char* scheme = parsed ? g_uri_get_scheme(parsed) : nullptr;
    const char* host = parsed ? g_uri_get_host(parsed) : nullptr;
    static const char* const kSchemes[] = {"http", "https", "socks", "socks4", "socks4a", "socks5"};
    bool known = false;
    for (const char* k : kSchemes)
      known |= scheme && g_ascii_strcasecmp(scheme, k) == 0;
    if (!parsed || !host || !*host) {
      *why = "The proxy " + proxy_for_display(s.proxy) + " is not a URI with a host, e.g. http://proxy.example:3128";
      return false;
    }
    if (!known) {
      *why = "The proxy " + proxy_for_display(s.proxy) +
             " has a scheme this element cannot use: use http://, https://, socks4://, socks4a:// or socks5://";
      return false;
    }
  }
  if (s.proxy_id.find_first_of("\r\n") != std::string::npos || s.proxy_pw.find_first_of("\r\n") != std::string::npos) {
    *why = "proxy-id or proxy-pw contains a line break";
    return false;
  }
  if (!s.ca_file.empty() && s.tls_database) {
    *why = "Set ca-file or tls-database, not both";
    return false;
  }
  if (!s.ca_file.empty()) {
    g_autoptr(GError) err = nullptr;
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(s.ca_file.c_str(), &err);
    if (!db) {
      *why = "The ca-file '" + s.ca_file + "' cannot be used: " + (err ? err->message : "unknown error");
      return false;
    }
  }
  if (s.user_agent.find_first_of("\r\n") != std::string::npos) {
    *why = "user-agent contains a line break";
    return false;
  }
  return check_extra_headers(s.extra_headers, why);
}

std::string tls_errors_text(GTlsCertificateFlags errors) {
  static const struct {
    GTlsCertificateFlags flag;
    const char* text;
  } kReasons[] = {
      {G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer (a CA this system does not trust)"},
      {G_TLS_CERTIFICATE_BAD_IDENTITY, "wrong host (the certificate is for another name)"},
      {G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet"},
      {G_TLS_CERTIFICATE_EXPIRED, "expired"},
      {G_TLS_CERTIFICATE_REVOKED, "revoked"},
      {G_TLS_CERTIFICATE_INSECURE, "insecure algorithm"},
      {G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid certificate"},
  };
  std::string text;
  for (const auto& reason : kReasons) {
    if (errors & reason.flag) {
      if (!text.empty())
        text += ", ";
      text += reason.text;
    }
  }
  return text;
}

}  // namespace mv
