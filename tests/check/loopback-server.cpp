/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "loopback-server.h"

std::unique_ptr<LoopbackServer> LoopbackServer::start(Serve serve) {
  std::unique_ptr<LoopbackServer> server(new LoopbackServer());
  server->listener_ = g_socket_listener_new();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = nullptr;
  if (!g_socket_listener_add_address(server->listener_, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                     &bound, nullptr))
    return nullptr;
  server->port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  server->cancellable_ = g_cancellable_new();
  GSocketListener* listener = server->listener_;
  GCancellable* cancellable = server->cancellable_;
  server->thread_ = std::thread([listener, cancellable, serve] {
    for (;;) {
      GSocketConnection* client = g_socket_listener_accept(listener, nullptr, cancellable, nullptr);
      if (!client)
        return;
      std::thread([serve, client] {
        serve(client);
        g_object_unref(client);
      }).detach();
    }
  });
  return server;
}

LoopbackServer::~LoopbackServer() {
  if (cancellable_)
    g_cancellable_cancel(cancellable_);
  if (thread_.joinable())
    thread_.join();
  g_clear_object(&listener_);
  g_clear_object(&cancellable_);
}

void relay(GIOStream* from, GSocketConnection* to) {
  GInputStream* in = g_io_stream_get_input_stream(from);
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(to));
  char buf[65536];
  gssize n;
  while ((n = g_input_stream_read(in, buf, sizeof buf, nullptr, nullptr)) > 0)
    if (!g_output_stream_write_all(out, buf, (gsize)n, nullptr, nullptr, nullptr))
      break;
  g_socket_shutdown(g_socket_connection_get_socket(to), FALSE, TRUE, nullptr);
}

void relay_both_ways(GIOStream* client_side, GSocketConnection* client, GSocketConnection* origin) {
  std::thread back([client, origin] { relay(G_IO_STREAM(origin), client); });
  relay(client_side, origin);
  back.join();
}
