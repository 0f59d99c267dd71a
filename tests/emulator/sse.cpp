/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GET /api/v1/tasks/{id}/events with `Accept: text/event-stream`: a
 * streaming Server-Sent Events answer. The events so far are sent at once,
 * each later status change is pushed as it happens (Emulator::set_status),
 * and the body is completed after a terminal event or when the task is
 * deleted (reset). A ": keep-alive" comment goes out every 15 s meanwhile.
 *
 * libsoup 3.2 writes a chunked response from the message's body and pauses
 * the message whenever the body has no unwritten chunk; appending a chunk
 * and calling soup_server_message_unpause() resumes it (from an idle
 * source), and soup_message_body_complete() lets it finish. Once the
 * message is "finished" or "disconnected", its I/O is gone and it must not
 * be unpaused again: both signals drop the stream.
 */
#include "emulator.h"

#include <glib-unix.h>
#include <poll.h>

#include <algorithm>

namespace emu {

namespace {

constexpr guint kKeepAliveMs = 15 * 1000;

std::string sse_event(const Event& event) {
  return "event: status\ndata: " + dump(event_json(event)) + "\n\n";
}

void append(SoupServerMessage* msg, const std::string& text) {
  soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_COPY, text.data(), text.size());
}

}  // namespace

void Emulator::sse_open(SoupServerMessage* msg, const Task& task) {
  soup_server_message_set_status(msg, 200, nullptr);
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(headers, "Content-Type", "text/event-stream");
  soup_message_headers_replace(headers, "Cache-Control", "no-cache");
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  /* Written chunks are freed instead of piling up for the stream's lifetime. */
  soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);

  std::string backlog;
  for (const auto& e : task.events)
    backlog += sse_event(e);
  append(msg, backlog);

  auto* s = new SseStream{this, (SoupServerMessage*)g_object_ref(msg), task.id};
  s->finished_handler = g_signal_connect(msg, "finished", G_CALLBACK(on_sse_message_gone), s);
  s->disconnected_handler = g_signal_connect(msg, "disconnected", G_CALLBACK(on_sse_message_gone), s);
  sse_streams_.push_back(s);

  /* We are inside the handler (or the caller unpauses, for "delay"):
   * libsoup writes what is there once we return. */
  if (is_terminal(task.status)) {
    sse_end(s, /*unpause=*/false);
    return;
  }
  s->keepalive = g_timeout_add(kKeepAliveMs, on_sse_keepalive, s);
  /* A paused message is not watched by libsoup, so a client that hangs up
   * would only be noticed at the next write. HTTP/1 only: an HTTP/2
   * connection carries other streams. */
  GSocket* socket = soup_server_message_get_socket(msg);
  if (socket && !g_socket_is_closed(socket) && soup_server_message_get_http_version(msg) < SOUP_HTTP_2_0) {
    s->watch = g_unix_fd_source_new(g_socket_get_fd(socket), (GIOCondition)(POLLRDHUP | G_IO_HUP | G_IO_ERR));
    g_source_set_callback(s->watch, G_SOURCE_FUNC(on_sse_socket), s, nullptr);
    g_source_attach(s->watch, nullptr);
  }
}

void Emulator::sse_publish(const Task& task) {
  if (task.events.empty())
    return;
  const Event& event = task.events.back();
  const std::string text = sse_event(event);
  /* Neither sse_push nor sse_end drops streams (that only happens from
   * libsoup's signals), so iterating here is safe. */
  for (SseStream* s : sse_streams_) {
    if (s->task_id != task.id || s->ended || s->gone)
      continue;
    append(s->msg, text);
    if (is_terminal(event.status))
      sse_end(s, /*unpause=*/true);
    else
      soup_server_message_unpause(s->msg);
  }
}

void Emulator::sse_push(SseStream* s, const std::string& text) {
  if (s->ended || s->gone)
    return;
  append(s->msg, text);
  soup_server_message_unpause(s->msg);
}

void Emulator::sse_end(SseStream* s, bool unpause) {
  if (s->ended)
    return;
  s->ended = true;
  g_clear_handle_id(&s->keepalive, g_source_remove);
  if (s->watch) {
    g_source_destroy(s->watch);
    g_clear_pointer(&s->watch, g_source_unref);
  }
  if (s->gone)
    return;
  soup_message_body_complete(soup_server_message_get_response_body(s->msg));
  if (unpause)
    soup_server_message_unpause(s->msg);
}

void Emulator::sse_end_all() {
  for (SseStream* s : sse_streams_)
    sse_end(s, /*unpause=*/true);
}

gboolean Emulator::on_sse_keepalive(gpointer data) {
  auto* s = static_cast<SseStream*>(data);
  s->emu->sse_push(s, ": keep-alive\n\n");
  return G_SOURCE_CONTINUE;
}

gboolean Emulator::on_sse_socket(gint, GIOCondition, gpointer data) {
  /* POLLRDHUP, HUP or ERR: the client closed its side. Unread data is no
   * sign of life or death (TLS clients send a close_notify first), which is
   * why the watch does not ask for G_IO_IN. A client that only half-closes
   * is treated as gone, as everywhere in the emulator. */
  auto* s = static_cast<SseStream*>(data);
  g_clear_pointer(&s->watch, g_source_unref);
  s->emu->sse_client_gone(s);
  return G_SOURCE_REMOVE;
}

void Emulator::sse_client_gone(SseStream* s) {
  if (s->gone)
    return;
  /* Make libsoup notice: write to the closed socket; the write fails, the
   * message is "finished" and sse_drop() forgets the stream. */
  GSocket* socket = soup_server_message_get_socket(s->msg);
  if (socket && !g_socket_is_closed(socket))
    g_socket_close(socket, nullptr);
  append(s->msg, ": bye\n\n");
  soup_server_message_unpause(s->msg);
  s->gone = true;
  g_clear_handle_id(&s->keepalive, g_source_remove);
}

void Emulator::on_sse_message_gone(SoupServerMessage* msg, gpointer data) {
  auto* s = static_cast<SseStream*>(data);
  /* A stream cut short by the client ends with a write error, which libsoup
   * turns into a 500 for the request log; what the client got was a 200
   * (as for truncated CDN downloads, the log keeps the status sent). */
  if (soup_server_message_get_status(msg) != 200)
    soup_server_message_set_status(msg, 200, nullptr);
  s->emu->sse_drop(s);
}

void Emulator::sse_drop(SseStream* s) {
  auto it = std::find(sse_streams_.begin(), sse_streams_.end(), s);
  if (it == sse_streams_.end())
    return;
  sse_streams_.erase(it);
  g_clear_handle_id(&s->keepalive, g_source_remove);
  if (s->watch) {
    g_source_destroy(s->watch);
    g_clear_pointer(&s->watch, g_source_unref);
  }
  /* Disconnecting from inside the emission is allowed; libsoup holds its
   * own reference on the message while it emits. */
  g_signal_handler_disconnect(s->msg, s->finished_handler);
  g_signal_handler_disconnect(s->msg, s->disconnected_handler);
  g_object_unref(s->msg);
  delete s;
}

/* An open stream's socket is closed by libsoup or by sse_client_gone(),
 * never by the connection sweep: a stream that has just ended is still
 * flushing its last chunk asynchronously, and libsoup would then set up
 * the connection's next request on a socket closed under it. */
bool Emulator::sse_uses_socket(GSocket* socket) const {
  return std::any_of(sse_streams_.begin(), sse_streams_.end(),
                     [socket](SseStream* s) { return soup_server_message_get_socket(s->msg) == socket; });
}

void Emulator::sse_drop_all() {
  while (!sse_streams_.empty())
    sse_drop(sse_streams_.back());
}

}  // namespace emu
