/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A minimal SOCKS5 proxy on loopback (RFC 1928: no authentication, CONNECT
 * only) inside the test process, to check that socks5:// proxies carry the
 * element's requests. No Debian package offers one that fits a test.
 */
#pragma once

#include <gio/gio.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

class Socks5Proxy {
 public:
  /* Nullptr when it cannot listen. */
  static std::unique_ptr<Socks5Proxy> start();
  ~Socks5Proxy();
  Socks5Proxy(const Socks5Proxy&) = delete;
  Socks5Proxy& operator=(const Socks5Proxy&) = delete;

  /* "socks5://127.0.0.1:PORT" */
  const std::string& url() const { return url_; }
  /* The "host:port" of every CONNECT so far. */
  std::vector<std::string> targets();

 private:
  Socks5Proxy() = default;
  void accept_loop();
  void serve(GSocketConnection* client);

  GSocketListener* listener_ = nullptr;
  GCancellable* cancellable_ = nullptr;
  std::thread thread_;
  std::string url_;
  std::mutex lock_;
  std::vector<std::string> targets_;
};
