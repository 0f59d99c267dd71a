/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small HTTP proxy on loopback inside the test process that, unlike
 * tinyproxy, keeps the connection open after its 407 (as Squid does), so
 * that a client answers the challenge on the same connection. It requires
 * Basic credentials; it tunnels CONNECT and forwards plain-http requests
 * (one per connection, without a body: enough for downloads).
 *
 *   auto proxy = ConnectProxy::start("me", "secret");
 *   g_setenv("https_proxy", proxy->url().c_str(), TRUE);
 *   ... proxy->requests() has "CONNECT 127.0.0.1:PORT 407", then "... 200"
 */
#pragma once

#include "loopback-server.h"

#include <gio/gio.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

class ConnectProxy {
 public:
  /* Nullptr when it cannot listen. */
  static std::unique_ptr<ConnectProxy> start(const std::string& user, const std::string& password);
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  /* "http://127.0.0.1:PORT" */
  const std::string& url() const { return url_; }
  /* "127.0.0.1:PORT" */
  std::string address() const;
  /* Every request so far as "METHOD TARGET STATUS", e.g.
   * "CONNECT 127.0.0.1:4000 407", "GET http://127.0.0.1:4001/files/x 200". */
  std::vector<std::string> requests();

  /* What the connections' threads share; they may outlive the proxy. */
  struct State {
    std::string credentials; /* the Basic token expected */
    std::mutex lock;
    std::vector<std::string> requests;
  };

 private:
  ConnectProxy() = default;

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::unique_ptr<LoopbackServer> server_;
  std::string url_;
};
