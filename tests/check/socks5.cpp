/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "socks5.h"

namespace {

bool read_all(GInputStream* in, void* buf, gsize n) {
  gsize got = 0;
  return g_input_stream_read_all(in, buf, n, &got, nullptr, nullptr) && got == n;
}

bool write_all(GOutputStream* out, const void* buf, gsize n) {
  return g_output_stream_write_all(out, buf, n, nullptr, nullptr, nullptr);
}

/* Copies from `from` to `to` until either side ends, then shuts `to` down
 * for writing, so the other direction sees the end too. */
void pump(GSocketConnection* from, GSocketConnection* to) {
  GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(from));
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(to));
  char buf[65536];
  gssize n;
  while ((n = g_input_stream_read(in, buf, sizeof buf, nullptr, nullptr)) > 0)
    if (!write_all(out, buf, (gsize)n))
      break;
  g_socket_shutdown(g_socket_connection_get_socket(to), FALSE, TRUE, nullptr);
}

}  // namespace

std::unique_ptr<Socks5Proxy> Socks5Proxy::start() {
  std::unique_ptr<Socks5Proxy> proxy(new Socks5Proxy());
  proxy->listener_ = g_socket_listener_new();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
  g_autoptr(GSocketAddress) bound = nullptr;
  if (!g_socket_listener_add_address(proxy->listener_, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr,
                                     &bound, nullptr))
    return nullptr;
  proxy->url_ = "socks5://127.0.0.1:" + std::to_string(g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
  proxy->cancellable_ = g_cancellable_new();
  Socks5Proxy* self = proxy.get();
  proxy->thread_ = std::thread([self] { self->accept_loop(); });
  return proxy;
}

Socks5Proxy::~Socks5Proxy() {
  if (cancellable_)
    g_cancellable_cancel(cancellable_);
  if (thread_.joinable())
    thread_.join();
  /* Connections still relaying end with their peers; their threads hold
   * their own references. */
  g_clear_object(&listener_);
  g_clear_object(&cancellable_);
}

std::vector<std::string> Socks5Proxy::targets() {
  std::lock_guard<std::mutex> guard(lock_);
  return targets_;
}

void Socks5Proxy::accept_loop() {
  for (;;) {
    GSocketConnection* client = g_socket_listener_accept(listener_, nullptr, cancellable_, nullptr);
    if (!client)
      return;
    std::thread([this, client] {
      serve(client);
      g_object_unref(client);
    }).detach();
  }
}

void Socks5Proxy::serve(GSocketConnection* client) {
  GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(client));
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(client));
  guint8 head[2];
  /* Greeting: version 5, the methods offered; we take "no authentication". */
  if (!read_all(in, head, 2) || head[0] != 5)
    return;
  guint8 methods[255];
  if (!read_all(in, methods, head[1]))
    return;
  const guint8 no_auth[] = {5, 0};
  if (!write_all(out, no_auth, 2))
    return;
  /* Request: version, command (1 = CONNECT), reserved, address type. */
  guint8 request[4];
  if (!read_all(in, request, 4) || request[0] != 5 || request[1] != 1)
    return;
  std::string host;
  if (request[3] == 1) {
    guint8 ip[4];
    if (!read_all(in, ip, 4))
      return;
    host = std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." + std::to_string(ip[3]);
  } else if (request[3] == 3) {
    guint8 length = 0;
    char name[256];
    if (!read_all(in, &length, 1) || !read_all(in, name, length))
      return;
    host.assign(name, length);
  } else {
    return; /* IPv6: not needed on 127.0.0.1 */
  }
  guint8 port_bytes[2];
  if (!read_all(in, port_bytes, 2))
    return;
  const guint16 port = (guint16)(port_bytes[0] << 8 | port_bytes[1]);
  {
    std::lock_guard<std::mutex> guard(lock_);
    targets_.push_back(host + ":" + std::to_string(port));
  }
  g_autoptr(GSocketClient) connector = g_socket_client_new();
  g_socket_client_set_enable_proxy(connector, FALSE);
  GSocketConnection* target = g_socket_client_connect_to_host(connector, host.c_str(), port, nullptr, nullptr);
  guint8 reply[10] = {5, (guint8)(target ? 0 : 5), 0, 1, 0, 0, 0, 0, 0, 0};
  if (!write_all(out, reply, sizeof reply) || !target) {
    g_clear_object(&target);
    return;
  }
  std::thread back([client, target] { pump(target, client); });
  pump(client, target);
  back.join();
  g_object_unref(target);
}
