/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tinyproxy.h"

#include <glib/gstdio.h>

#include <sys/prctl.h>
#include <csignal>
#include <cstring>

namespace {

/* A port nobody listens on right now (the kernel's choice for port 0). */
guint16 free_port() {
  g_autoptr(GSocket) socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  if (!socket)
    return 0;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new(loopback, 0);
  if (!g_socket_bind(socket, any, TRUE, nullptr))
    return 0;
  g_autoptr(GSocketAddress) bound = g_socket_get_local_address(socket, nullptr);
  return bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)) : 0;
}

void die_with_parent(gpointer) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

}  // namespace

std::unique_ptr<Tinyproxy> Tinyproxy::start(const std::string& user, const std::string& password, bool via) {
  g_autofree gchar* exe = g_find_program_in_path("tinyproxy");
  if (!exe) {
    g_printerr("tinyproxy is not installed (Debian package tinyproxy-bin; scripts/install-deps.sh installs it)\n");
    return nullptr;
  }
  std::unique_ptr<Tinyproxy> proxy(new Tinyproxy());
  g_autofree gchar* dir = g_dir_make_tmp("mindvideo-tinyproxy-XXXXXX", nullptr);
  if (!dir)
    return nullptr;
  proxy->dir_ = dir;
  /* A port taken between free_port() and tinyproxy's bind is unlikely;
   * a second try covers it. */
  for (int attempt = 0; attempt < 3 && !proxy->process_; attempt++) {
    proxy->port_ = free_port();
    const std::string config = proxy->dir_ + "/tinyproxy.conf";
    const std::string logfile = proxy->dir_ + "/tinyproxy.log";
    std::string text = "Port " + std::to_string(proxy->port_) +
                       "\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 120\nMaxClients 200\nLogLevel Connect\n"
                       "LogFile \"" + logfile + "\"\n";
    if (!user.empty())
      text += "BasicAuth " + user + " " + password + "\n";
    if (!via)
      text += "DisableViaHeader Yes\n";
    if (!g_file_set_contents(config.c_str(), text.c_str(), -1, nullptr))
      return nullptr;
    g_unlink(logfile.c_str());

    g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new((GSubprocessFlags)(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE));
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, nullptr, nullptr);
    GError* err = nullptr;
    GSubprocess* process = g_subprocess_launcher_spawn(launcher, &err, exe, "-d", "-c", config.c_str(), nullptr);
    if (!process) {
      g_printerr("tinyproxy did not start: %s\n", err->message);
      g_error_free(err);
      return nullptr;
    }
    /* Ready once it accepts a connection. */
    g_autoptr(GSocketClient) client = g_socket_client_new();
    bool ready = false;
    for (int i = 0; i < 200 && !ready; i++) {
      g_autoptr(GSocketConnection) c = g_socket_client_connect_to_host(client, "127.0.0.1", proxy->port_, nullptr, nullptr);
      if (c)
        ready = true;
      else
        g_usleep(100 * 1000);
    }
    if (ready) {
      proxy->process_ = process;
    } else {
      g_subprocess_force_exit(process);
      g_subprocess_wait(process, nullptr, nullptr);
      g_object_unref(process);
    }
  }
  if (!proxy->process_) {
    g_printerr("tinyproxy did not listen on 127.0.0.1\n");
    return nullptr;
  }
  proxy->url_ = "http://127.0.0.1:" + std::to_string(proxy->port_);
  return proxy;
}

Tinyproxy::~Tinyproxy() {
  if (process_) {
    /* Nothing of its own to clean up: no need for a graceful stop. */
    g_subprocess_force_exit(process_);
    g_subprocess_wait(process_, nullptr, nullptr);
    g_object_unref(process_);
  }
  if (!dir_.empty()) {
    g_unlink((dir_ + "/tinyproxy.conf").c_str());
    g_unlink((dir_ + "/tinyproxy.log").c_str());
    g_rmdir(dir_.c_str());
  }
}

std::string Tinyproxy::log() const {
  gchar* text = nullptr;
  gsize length = 0;
  if (!g_file_get_contents((dir_ + "/tinyproxy.log").c_str(), &text, &length, nullptr))
    return "";
  std::string out(text, length);
  g_free(text);
  return out;
}

int Tinyproxy::carried(const std::string& text) const {
  const std::string all = log();
  int count = 0;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find('\n', start);
    if (end == std::string::npos)
      end = all.size();
    const std::string line = all.substr(start, end - start);
    if (line.find("]: Request (file descriptor") != std::string::npos && line.find(text) != std::string::npos)
      count++;
    start = end + 1;
  }
  return count;
}
