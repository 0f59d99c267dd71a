/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "socks.h"

namespace {

bool read_all(GInputStream* in, void* buf, gsize n) {
  gsize got = 0;
  return g_input_stream_read_all(in, buf, n, &got, nullptr, nullptr) && got == n;
}

bool write_all(GOutputStream* out, const void* buf, gsize n) {
  return g_output_stream_write_all(out, buf, n, nullptr, nullptr, nullptr);
}

/* A NUL-terminated string of SOCKS4, at most 255 bytes. */
bool read_string(GInputStream* in, std::string* text) {
  text->clear();
  for (;;) {
    char c;
    if (!read_all(in, &c, 1) || text->size() > 255)
      return false;
    if (c == '\0')
      return true;
    text->push_back(c);
  }
}

/* A byte-length-prefixed string of SOCKS5. */
bool read_counted(GInputStream* in, std::string* text) {
  guint8 length = 0;
  char buf[256];
  if (!read_all(in, &length, 1) || !read_all(in, buf, length))
    return false;
  text->assign(buf, length);
  return true;
}

std::string ipv4_text(const guint8 ip[4]) {
  return std::to_string(ip[0]) + "." + std::to_string(ip[1]) + "." + std::to_string(ip[2]) + "." +
         std::to_string(ip[3]);
}

using State = SocksProxy::State;

void note_refused(State* state) {
  std::lock_guard<std::mutex> guard(state->lock);
  state->refused++;
}

/* Reads one SOCKS4/4a request (its version byte read already); on success
 * `host`/`port` name its target. */
bool handshake4(State* state, GInputStream* in, GOutputStream* out, std::string* host, guint16* port) {
  /* Command (1 = CONNECT), port, IPv4, user id; for 4a an IP of 0.0.0.x,
   * then the host name after the user id. */
  guint8 request[7];
  std::string user;
  if (!read_all(in, request, sizeof request) || request[0] != 1 || !read_string(in, &user))
    return false;
  *port = (guint16)(request[1] << 8 | request[2]);
  const guint8* ip = request + 3;
  if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) {
    if (!read_string(in, host))
      return false;
  } else {
    *host = ipv4_text(ip);
  }
  if (!state->user.empty() && user != state->user) {
    note_refused(state);
    const guint8 rejected[8] = {0, 93, 0, 0, 0, 0, 0, 0}; /* the user id does not match */
    write_all(out, rejected, sizeof rejected);
    return false;
  }
  return true;
}

/* The same for SOCKS5: the methods offered, the optional username and
 * password, the request. */
bool handshake5(State* state, GInputStream* in, GOutputStream* out, std::string* host, guint16* port) {
  guint8 count = 0;
  guint8 methods[255];
  if (!read_all(in, &count, 1) || !read_all(in, methods, count))
    return false;
  const guint8 wanted = state->user.empty() ? 0 : 2; /* none, or username/password */
  bool offered = false;
  for (int i = 0; i < count; i++)
    offered |= methods[i] == wanted;
  if (!offered) {
    note_refused(state);
    const guint8 none_acceptable[] = {5, 0xff};
    write_all(out, none_acceptable, 2);
    return false;
  }
  const guint8 chosen[] = {5, wanted};
  if (!write_all(out, chosen, 2))
    return false;
  if (wanted == 2) {
    guint8 subversion = 0;
    std::string user, password;
    if (!read_all(in, &subversion, 1) || subversion != 1 || !read_counted(in, &user) || !read_counted(in, &password))
      return false;
    const bool ok = user == state->user && password == state->password;
    const guint8 status[] = {1, (guint8)(ok ? 0 : 1)};
    if (!ok)
      note_refused(state);
    if (!write_all(out, status, 2) || !ok)
      return false;
  }
  /* Request: version, command (1 = CONNECT), reserved, address type. */
  guint8 request[4];
  if (!read_all(in, request, 4) || request[0] != 5 || request[1] != 1)
    return false;
  if (request[3] == 1) {
    guint8 ip[4];
    if (!read_all(in, ip, 4))
      return false;
    *host = ipv4_text(ip);
  } else if (request[3] == 3) {
    if (!read_counted(in, host))
      return false;
  } else {
    return false; /* IPv6: not needed on 127.0.0.1 */
  }
  guint8 port_bytes[2];
  if (!read_all(in, port_bytes, 2))
    return false;
  *port = (guint16)(port_bytes[0] << 8 | port_bytes[1]);
  return true;
}

void serve(State* state, GSocketConnection* client) {
  GInputStream* in = g_io_stream_get_input_stream(G_IO_STREAM(client));
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(client));
  guint8 version = 0;
  std::string host;
  guint16 port = 0;
  if (!read_all(in, &version, 1) || version != state->version)
    return;
  if (!(version == 4 ? handshake4(state, in, out, &host, &port) : handshake5(state, in, out, &host, &port)))
    return;
  {
    std::lock_guard<std::mutex> guard(state->lock);
    state->targets.push_back(host + ":" + std::to_string(port));
  }
  g_autoptr(GSocketClient) connector = g_socket_client_new();
  g_socket_client_set_enable_proxy(connector, FALSE);
  GSocketConnection* target = g_socket_client_connect_to_host(connector, host.c_str(), port, nullptr, nullptr);
  bool sent;
  if (version == 4) {
    const guint8 reply[8] = {0, (guint8)(target ? 90 : 91), 0, 0, 0, 0, 0, 0};
    sent = write_all(out, reply, sizeof reply);
  } else {
    const guint8 reply[10] = {5, (guint8)(target ? 0 : 5), 0, 1, 0, 0, 0, 0, 0, 0};
    sent = write_all(out, reply, sizeof reply);
  }
  if (!sent || !target) {
    g_clear_object(&target);
    return;
  }
  relay_both_ways(G_IO_STREAM(client), client, target);
  g_object_unref(target);
}

}  // namespace

std::unique_ptr<SocksProxy> SocksProxy::start(int version, const std::string& user, const std::string& password) {
  std::unique_ptr<SocksProxy> proxy(new SocksProxy());
  proxy->state_->version = version;
  proxy->state_->user = user;
  proxy->state_->password = password;
  std::shared_ptr<State> state = proxy->state_;
  proxy->server_ = LoopbackServer::start([state](GSocketConnection* client) { serve(state.get(), client); });
  if (!proxy->server_)
    return nullptr;
  proxy->url_ = std::string(version == 4 ? "socks4" : "socks5") + "://127.0.0.1:" + std::to_string(proxy->server_->port());
  return proxy;
}

std::string SocksProxy::address() const {
  return url_.substr(url_.find("://") + 3);
}

std::vector<std::string> SocksProxy::targets() {
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->targets;
}

int SocksProxy::refused() {
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->refused;
}
