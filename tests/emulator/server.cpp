/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Server wiring: binds the API and CDN origins on loopback, records every
 * request in the request log and dispatches to the handlers.
 */
#include "emulator.h"

#include "schema.h"

#include <sys/socket.h>

#include <algorithm>

namespace emu {

namespace {

const char kOriginKey[] = "mindvideo-emulator-origin";
const char kStolenKey[] = "mindvideo-emulator-stolen";

/* The peer has closed its side and sent nothing we have not read. */
bool peer_closed(GSocket* socket) {
  char c;
  return recv(g_socket_get_fd(socket), &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

std::vector<guint> bound_ports(SoupServer* server) {
  std::vector<guint> ports;
  GSList* uris = soup_server_get_uris(server);
  for (GSList* l = uris; l; l = l->next)
    ports.push_back((guint)g_uri_get_port((GUri*)l->data));
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  return ports;
}

bool listen_loopback(SoupServer* server, guint port, bool https, guint* bound, std::string* error) {
  g_autoptr(GError) err = nullptr;
  std::vector<guint> before = bound_ports(server);
  auto flags = (SoupServerListenOptions)(SOUP_SERVER_LISTEN_IPV4_ONLY | (https ? SOUP_SERVER_LISTEN_HTTPS : 0));
  if (!soup_server_listen_local(server, port, flags, &err)) {
    *error = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + err->message;
    return false;
  }
  /* The new listener's port is the one that was not there before. */
  *bound = 0;
  for (guint p : bound_ports(server))
    if (std::find(before.begin(), before.end(), p) == before.end())
      *bound = p;
  if (*bound == 0) {
    *error = "cannot determine the bound port";
    return false;
  }
  return true;
}

std::string loopback_url(guint port, bool https = false) {
  return (https ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port);
}

}  // namespace

void mark_connection_stolen(SoupServerMessage* msg) {
  if (GSocket* socket = soup_server_message_get_socket(msg))
    g_object_set_data(G_OBJECT(socket), kStolenKey, GINT_TO_POINTER(1));
}

Emulator::Emulator(Options options, Config config, FaultList faults)
    : opts_(std::move(options)), config_(std::move(config)), faults_(std::move(faults)) {
  /* Two workers: generations overlap but never starve the machine. */
  pool_ = g_thread_pool_new(run_job, this, 2, FALSE, nullptr);
}

Emulator::~Emulator() {
  shutdown();
  g_clear_object(&api_);
  g_clear_object(&cdn_);
}

void Emulator::shutdown() {
  media_request_shutdown();
  if (pool_) {
    /* Running pipelines notice the shutdown flag within ~100 ms. */
    g_thread_pool_free(pool_, TRUE, TRUE);
    pool_ = nullptr;
  }
  if (api_)
    soup_server_disconnect(api_);
  if (cdn_)
    soup_server_disconnect(cdn_);
  /* Disconnecting drops open event streams ("disconnected"); any left over
   * (a connection libsoup no longer listed) go here. */
  sse_drop_all();
  for (auto* msg : held_)
    g_object_unref(msg);
  held_.clear();
  for (auto* socket : sockets_)
    g_object_unref(socket);
  sockets_.clear();
}

bool Emulator::start(guint api_port, guint cdn_port, GTlsCertificate* tls, std::string* error) {
  /* No "tls-certificate" (NULL): plain HTTP. */
  api_ = soup_server_new("server-header", "mindvideo-emulator ", "tls-certificate", tls, nullptr);
  cdn_ = soup_server_new("server-header", "mindvideo-emulator-cdn ", nullptr);
  g_object_set_data(G_OBJECT(api_), kOriginKey, (gpointer) "api");
  g_object_set_data(G_OBJECT(cdn_), kOriginKey, (gpointer) "cdn");
  for (SoupServer* server : {api_, cdn_}) {
    g_signal_connect(server, "request-read", G_CALLBACK(on_request_read), this);
    g_signal_connect(server, "request-finished", G_CALLBACK(on_request_done), this);
    g_signal_connect(server, "request-aborted", G_CALLBACK(on_request_done), this);
  }
  soup_server_add_handler(api_, nullptr, api_callback, this, nullptr);
  soup_server_add_handler(cdn_, nullptr, cdn_callback, this, nullptr);

  guint api_bound = 0;
  const bool https = tls != nullptr;
  if (!listen_loopback(cdn_, cdn_port, false, &cdn_port_, error) ||
      /* A second CDN origin, for redirects that cross origins. */
      !listen_loopback(cdn_, 0, false, &cdn_alt_port_, error) ||
      !listen_loopback(api_, api_port, https, &api_bound, error))
    return false;
  api_url_ = loopback_url(api_bound, https);
  cdn_url_ = loopback_url(cdn_port_);
  cdn_alt_url_ = loopback_url(cdn_alt_port_);
  return true;
}

void Emulator::on_request_read(SoupServer* server, SoupServerMessage* msg, gpointer data) {
  auto* self = static_cast<Emulator*>(data);
  self->track_connection(msg);
  /* Control traffic is the test talking to the emulator, not a client request. */
  if (g_str_has_prefix(msg_path(msg).c_str(), "/_emulator/"))
    return;
  const char* origin = (const char*)g_object_get_data(G_OBJECT(server), kOriginKey);
  set_msg_log_entry(msg, self->log_.add(origin, msg));
}

void Emulator::on_request_done(SoupServer* server, SoupServerMessage* msg, gpointer data) {
  auto* self = static_cast<Emulator*>(data);
  int status = (int)soup_server_message_get_status(msg);
  if (auto entry = msg_log_entry(msg))
    self->log_.set_status(entry, status);
  if (!g_str_has_prefix(msg_path(msg).c_str(), "/_emulator/"))
    self->log_line((const char*)g_object_get_data(G_OBJECT(server), kOriginKey), soup_server_message_get_method(msg),
                   msg_path(msg), status);
}

void Emulator::track_connection(SoupServerMessage* msg) {
  /* A socket we hold is never freed, so its pointer identifies the connection. */
  GSocket* socket = soup_server_message_get_socket(msg);
  if (!socket || std::find(sockets_.begin(), sockets_.end(), socket) != sockets_.end())
    return;  // the next request of a keep-alive connection
  open_connections();
  sockets_.push_back((GSocket*)g_object_ref(socket));
}

int Emulator::open_connections() {
  auto gone = std::remove_if(sockets_.begin(), sockets_.end(), [this](GSocket* s) {
    /* libsoup 3.2 never closes a keep-alive connection that the client
     * closes between requests (it stays in CLOSE_WAIT, one fd each): close
     * those here. Stolen sockets belong to their thread and are left alone;
     * their owner closes them (reading the closed flag meanwhile is benign).
     * So are those of event streams (sse.cpp). */
    if (!g_socket_is_closed(s) && !g_object_get_data(G_OBJECT(s), kStolenKey) && !sse_uses_socket(s) &&
        peer_closed(s))
      g_socket_close(s, nullptr);
    if (!g_socket_is_closed(s))
      return false;
    g_object_unref(s);
    return true;
  });
  sockets_.erase(gone, sockets_.end());
  return (int)sockets_.size();
}

void Emulator::log_line(const char* origin, const char* method, const std::string& path, int status) {
  /* Method, path and status only: headers (and so API keys) are never printed. */
  if (!opts_.quiet)
    g_printerr("mindvideo-emulator: [%s] %s %s -> %d\n", origin, method, path.c_str(), status);
}

void Emulator::api_callback(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*, gpointer data) {
  auto* self = static_cast<Emulator*>(data);
  if (g_str_has_prefix(path, "/_emulator/"))
    self->handle_control(msg, path);
  else
    self->handle_api_request(msg);
}

void Emulator::cdn_callback(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer data) {
  static_cast<Emulator*>(data)->handle_cdn(msg);
}

}  // namespace emu
