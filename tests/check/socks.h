/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A minimal SOCKS proxy on loopback inside the test process, to check that
 * socks4://, socks4a:// and socks5:// proxies carry the element's requests
 * (CONNECT only). No Debian package offers one that fits a test.
 *  - Version 5 (RFC 1928), with no authentication or, when a user is given,
 *    username/password only (RFC 1929).
 *  - Version 4 and 4a: a user given must be the request's user id.
 *
 *   auto socks = SocksProxy::start(5, "me", "secret");
 *   g_object_set(src, "proxy", socks->url().c_str(), ...);  // socks5://...
 *   fail_unless(socks->targets() has "127.0.0.1:PORT");
 */
#pragma once

#include "loopback-server.h"

#include <gio/gio.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

class SocksProxy {
 public:
  /* `version` 4 (takes 4 and 4a requests) or 5. Nullptr when it cannot
   * listen. */
  static std::unique_ptr<SocksProxy> start(int version, const std::string& user = "",
                                           const std::string& password = "");
  SocksProxy(const SocksProxy&) = delete;
  SocksProxy& operator=(const SocksProxy&) = delete;

  /* "socks5://127.0.0.1:PORT" or "socks4://127.0.0.1:PORT" */
  const std::string& url() const { return url_; }
  /* "127.0.0.1:PORT" */
  std::string address() const;
  /* The "host:port" of every CONNECT it carried. */
  std::vector<std::string> targets();
  /* How many requests it refused for their credentials (or lack of them). */
  int refused();

  /* What the connections' threads share; they may outlive the proxy. */
  struct State {
    int version = 5;
    std::string user, password;
    std::mutex lock;
    std::vector<std::string> targets;
    int refused = 0;
  };

 private:
  SocksProxy() = default;

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::unique_ptr<LoopbackServer> server_;
  std::string url_;
};
