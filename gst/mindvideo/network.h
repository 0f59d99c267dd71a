/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An element's network settings in one plain struct: the proxy and its
 * credentials, the TLS trust, the User-Agent, the extra API headers and the
 * I/O timeout. An HttpSession is built from it, and two elements share a
 * session only when the session part of their settings is identical
 * (same_session()). The checks here are pure: no network I/O.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mv {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct NetworkSettings {
  /* "": the environment decides (http_proxy, https_proxy, no_proxy through
   * GLib's default resolver). Else an http://, https:// or socks[4a|5]://
   * URI that carries every request and overrides the environment. */
  std::string proxy;
  std::string proxy_id;
  std::string proxy_pw; /* never logged */
  std::string ca_file;  /* PEM file of CAs to trust instead of the system's */
  std::shared_ptr<GTlsDatabase> tls_database; /* an application's, or null */
  std::string user_agent;                     /* "": mindvideosrc/<version> */
  unsigned io_timeout_s = 30;
  /* Sent to the API origin only, never to output hosts. Per request, so not
   * part of the session. */
  Headers extra_headers;

  /* Whether this is what an element with default properties has. */
  bool is_default() const;
};

/* Two elements may use one HTTP session: same proxy, credentials, trust,
 * User-Agent and timeout. Extra headers don't matter (they are per request). */
bool same_session(const NetworkSettings& a, const NetworkSettings& b);

/* Holds a reference to `db` (which may be null). */
std::shared_ptr<GTlsDatabase> tls_database_ref(GTlsDatabase* db);

/* The proxy property as a URI GIO takes: "http://" is added when no scheme
 * is given. "" when `proxy` is empty. */
std::string normalize_proxy(const std::string& proxy);
/* The proxy as it may be shown and logged: without user name or password. */
std::string proxy_for_display(const std::string& proxy);
/* The proxy property as it may be read back: without its password. */
std::string proxy_without_password(const std::string& proxy);
/* The user name and password a proxy URI carries, decoded
 * ("http://jdoe:s3cret@proxy:3128", as in http_proxy). False when it has
 * no user name. */
bool proxy_userinfo(const std::string& proxy, std::string* user, std::string* password);
/* The URI for GSimpleProxyResolver: the proxy with `id`/`pw` as its
 * userinfo (for SOCKS5, which GIO authenticates from it). */
std::string proxy_with_credentials(const std::string& proxy, const std::string& id, const std::string& pw);

/* Header names the element sets itself and that extra-headers must not
 * replace (compared case-insensitively). */
bool is_reserved_header(const std::string& name);
/* Extra headers: valid names (RFC 9110 tokens), values without line breaks,
 * none reserved. On failure `why` says which and why. */
bool check_extra_headers(const Headers& headers, std::string* why);
/* The extra-headers structure as headers: each field a header, its value
 * a string or converted to one; an array or list becomes one header with
 * its values joined by ", ". Null gives none. Fails for a value that has
 * no text form. */
bool headers_from_structure(const GstStructure* structure, Headers* headers, std::string* why);
/* Every check of the settings that needs no network: the proxy URI, the CA
 * file (read and parsed), ca-file and tls-database not both, the headers.
 * On failure `why` is a message for the user (never with the password). */
bool check_network_settings(const NetworkSettings& settings, std::string* why);

/* The reasons in `errors`, in words: "unknown issuer, expired". */
std::string tls_errors_text(GTlsCertificateFlags errors);

}  // namespace mv
