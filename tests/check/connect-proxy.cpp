/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "connect-proxy.h"

#include <cstring>

namespace {

using State = ConnectProxy::State;

bool write_text(GOutputStream* out, const std::string& text) {
  return g_output_stream_write_all(out, text.data(), text.size(), nullptr, nullptr, nullptr);
}

void note(State* state, const std::string& line) {
  std::lock_guard<std::mutex> guard(state->lock);
  state->requests.push_back(line);
}

/* Serves the requests of one client connection until it closes or is
 * tunnelled or forwarded. */
void serve(State* state, GSocketConnection* client) {
  g_autoptr(GDataInputStream) in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(client)));
  g_data_input_stream_set_newline_type(in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  g_filter_input_stream_set_close_base_stream(G_FILTER_INPUT_STREAM(in), FALSE);
  GOutputStream* out = g_io_stream_get_output_stream(G_IO_STREAM(client));
  for (;;) {
    g_autofree gchar* request_line = g_data_input_stream_read_line(in, nullptr, nullptr, nullptr);
    if (!request_line)
      return;
    g_auto(GStrv) parts = g_strsplit(request_line, " ", 3);
    if (g_strv_length(parts) != 3)
      return;
    const std::string method = parts[0], target = parts[1];
    std::string authorization, head;
    for (;;) {
      g_autofree gchar* line = g_data_input_stream_read_line(in, nullptr, nullptr, nullptr);
      if (!line)
        return;
      if (!*line)
        break;
      if (g_ascii_strncasecmp(line, "Proxy-Authorization:", 20) == 0)
        authorization = g_strstrip(line + 20);
      else if (g_ascii_strncasecmp(line, "Connection:", 11) != 0 &&
               g_ascii_strncasecmp(line, "Proxy-Connection:", 17) != 0)
        head += std::string(line) + "\r\n";
    }
    if (authorization != "Basic " + state->credentials) {
      note(state, method + " " + target + " 407");
      /* Kept open, with an empty body: the client may answer here. */
      if (!write_text(out, "HTTP/1.1 407 Proxy Authentication Required\r\n"
                           "Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n"))
        return;
      continue;
    }
    std::string host_port;
    std::string path;
    if (method == "CONNECT") {
      host_port = target;
    } else {
      /* http://host:port/path */
      g_autoptr(GUri) uri = g_uri_parse(target.c_str(), G_URI_FLAGS_ENCODED, nullptr);
      if (!uri || g_strcmp0(g_uri_get_scheme(uri), "http") != 0)
        return;
      host_port = std::string(g_uri_get_host(uri)) + ":" + std::to_string(g_uri_get_port(uri) > 0 ? g_uri_get_port(uri) : 80);
      path = *g_uri_get_path(uri) ? g_uri_get_path(uri) : "/";
      if (g_uri_get_query(uri))
        path += std::string("?") + g_uri_get_query(uri);
    }
    g_autoptr(GSocketClient) connector = g_socket_client_new();
    g_socket_client_set_enable_proxy(connector, FALSE);
    GSocketConnection* origin = g_socket_client_connect_to_host(connector, host_port.c_str(), 80, nullptr, nullptr);
    note(state, method + " " + target + (origin ? " 200" : " 502"));
    if (!origin) {
      write_text(out, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    GOutputStream* to_origin = g_io_stream_get_output_stream(G_IO_STREAM(origin));
    bool ok = method == "CONNECT" ? write_text(out, "HTTP/1.1 200 Connection established\r\n\r\n")
                                  : write_text(to_origin, method + " " + path + " HTTP/1.1\r\n" + head +
                                                              "Connection: close\r\n\r\n");
    if (ok) {
      /* What the client sends next (the TLS handshake of a tunnel) may sit
       * in the line reader's buffer already: relay from there. */
      g_autoptr(GIOStream) from_client = g_simple_io_stream_new(G_INPUT_STREAM(in), out);
      relay_both_ways(from_client, client, origin);
    }
    g_object_unref(origin);
    return;
  }
}

}  // namespace

std::unique_ptr<ConnectProxy> ConnectProxy::start(const std::string& user, const std::string& password) {
  std::unique_ptr<ConnectProxy> proxy(new ConnectProxy());
  const std::string pair = user + ":" + password;
  g_autofree gchar* token = g_base64_encode((const guchar*)pair.data(), pair.size());
  proxy->state_->credentials = token;
  std::shared_ptr<State> state = proxy->state_;
  proxy->server_ = LoopbackServer::start([state](GSocketConnection* client) { serve(state.get(), client); });
  if (!proxy->server_)
    return nullptr;
  proxy->url_ = "http://127.0.0.1:" + std::to_string(proxy->server_->port());
  return proxy;
}

std::string ConnectProxy::address() const {
  return url_.substr(url_.find("://") + 3);
}

std::vector<std::string> ConnectProxy::requests() {
  std::lock_guard<std::mutex> guard(state_->lock);
  return state_->requests;
}
