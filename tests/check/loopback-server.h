/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the in-process test proxies (socks.h, connect-proxy.h) share: a TCP
 * listener on 127.0.0.1 whose every connection gets a thread of its own,
 * and the relay of a tunnel's bytes.
 */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <thread>

class LoopbackServer {
 public:
  /* Serves one connection. Connections may outlive the server (they relay
   * until their peers close), so it must own what it uses. */
  using Serve = std::function<void(GSocketConnection* client)>;

  /* Nullptr when it cannot listen. */
  static std::unique_ptr<LoopbackServer> start(Serve serve);
  /* Stops accepting; connections still open go on. */
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  guint16 port() const { return port_; }

 private:
  LoopbackServer() = default;

  GSocketListener* listener_ = nullptr;
  GCancellable* cancellable_ = nullptr;
  std::thread thread_;
  guint16 port_ = 0;
};

/* Copies from `from` to `to` until either side ends, then shuts `to` down
 * for writing, so the other direction sees the end too. */
void relay(GIOStream* from, GSocketConnection* to);

/* Relays both ways between a client and the origin it asked for, until
 * both directions end. The client's side is read from `client_side` (which
 * may hold bytes a reader buffered already). */
void relay_both_ways(GIOStream* client_side, GSocketConnection* client, GSocketConnection* origin);
