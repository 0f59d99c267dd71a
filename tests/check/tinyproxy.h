/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A private tinyproxy (Debian package tinyproxy-bin) on loopback for a test:
 * a generated config in a temporary directory, `tinyproxy -d -c FILE` in the
 * foreground, stopped (and its directory removed) by the destructor. Its log
 * says which requests it carried: "GET http://host:port/path" for plain
 * http, "CONNECT host:port" for https.
 *
 *   auto proxy = Tinyproxy::start();                 // open to 127.0.0.1
 *   auto locked = Tinyproxy::start("me", "secret");  // BasicAuth me secret
 *   g_object_set(src, "proxy", proxy->url().c_str(), nullptr);
 *   fail_unless(proxy->carried("CONNECT 127.0.0.1:" + port));
 */
#pragma once

#include <gio/gio.h>

#include <memory>
#include <string>

class Tinyproxy {
 public:
  /* Nullptr (after g_printerr) when tinyproxy is missing or did not start
   * within 20 s. With a user, the proxy requires BasicAuth. Without `via`,
   * it adds no Via header to what it forwards (DisableViaHeader). */
  static std::unique_ptr<Tinyproxy> start(const std::string& user = "", const std::string& password = "",
                                          bool via = true);
  ~Tinyproxy();
  Tinyproxy(const Tinyproxy&) = delete;
  Tinyproxy& operator=(const Tinyproxy&) = delete;

  /* "http://127.0.0.1:PORT" */
  const std::string& url() const { return url_; }
  guint16 port() const { return port_; }
  /* The log so far. */
  std::string log() const;
  /* How many requests the log shows whose request line contains `text`
   * (e.g. "GET http://127.0.0.1:4000/api/v1/tasks", "CONNECT 127.0.0.1:4000"). */
  int carried(const std::string& text) const;

 private:
  Tinyproxy() = default;
  GSubprocess* process_ = nullptr;
  std::string dir_;
  std::string url_;
  guint16 port_ = 0;
};
