/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The proxy resolver of an HTTP session: another resolver's answers (the
 * environment's, or the element's one proxy), with the user name and
 * password taken out of http:// proxies' URIs and kept aside. Given a URI
 * with credentials, libsoup 3.2 answers an HTTP proxy's 407 itself and
 * sends the second CONNECT to the proxy's own address; without them it asks
 * through the message's authenticate signal, and the session answers from
 * what is kept here. SOCKS and https:// proxies keep their credentials in
 * the URI: GIO speaks those and takes them from there.
 */
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace mv {

/* Credentials of HTTP proxies by authority ("host:port", the port filled
 * in as libsoup has it in SoupAuth:authority). Thread-safe. */
class ProxyLogins {
 public:
  void remember(const std::string& authority, const std::string& user, const std::string& password);
  bool find(const std::string& authority, std::string* user, std::string* password) const;

 private:
  mutable std::mutex lock_;
  std::map<std::string, std::pair<std::string, std::string>> by_authority_;
};

/* "host:port" of a proxy URI, the default port of its scheme filled in;
 * "" when it is not a URI with a host. */
std::string proxy_authority(const std::string& uri);

/* What the resolver hands on for one of `inner`'s answers: an http:// URI
 * without its user and password (remembered in `logins`), anything else as
 * it is. Pure but for `logins`. */
std::string strip_proxy_login(const std::string& uri, ProxyLogins* logins);

/* A new resolver (a full reference) over `inner`, keeping the credentials
 * it strips in `logins`. */
GProxyResolver* proxy_resolver_new(GProxyResolver* inner, std::shared_ptr<ProxyLogins> logins);

}  // namespace mv
