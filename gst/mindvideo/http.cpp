/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http.h"

#include "log.h"

#include <libsoup/soup.h>

namespace mv {

namespace {

/* Records a transport error in `r`. */
void set_transport_error(HttpResponse* r, const GError* err) {
  r->status = 0;
  r->error = err->message;
  r->cancelled = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    r->failure.kind = Failure::Kind::Timeout;
  else if (err->domain == G_TLS_ERROR)
    r->failure.kind = Failure::Kind::Tls;
  else
    r->failure.kind = Failure::Kind::Network;
}

/* Copies status and headers of a finished exchange into `r`. */
void read_head(SoupMessage* msg, HttpResponse* r) {
  r->status = soup_message_get_status(msg);
  SoupMessageHeaders* h = soup_message_get_response_headers(msg);
  auto header = [h](const char* name) {
    const char* v = soup_message_headers_get_one(h, name);
    return std::string(v ? v : "");
  };
  r->content_type = header("Content-Type");
  r->location = header("Location");
  r->ranges_refused = g_ascii_strcasecmp(header("Accept-Ranges").c_str(), "none") == 0;
  r->failure.kind = Failure::Kind::Http;
  r->failure.http_status = r->status;
  r->failure.retry_after = header("Retry-After");
  r->failure.retry_after_ms = header("retry-after-ms");
  goffset length = soup_message_headers_get_content_length(h);
  if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH)
    r->content_length = length;
  goffset start = 0, end = 0, total = 0;
  if (soup_message_headers_get_content_range(h, &start, &end, &total)) {
    r->range_start = start;
    r->range_total = total; /* -1 when the server wrote "*" */
  }
}

}  // namespace

std::shared_ptr<HttpSession> HttpSession::process_default() {
  /* Leaked on purpose: a SoupSession must not be finalized at exit from
   * whatever thread happens to run static destructors. */
  static auto* session = new std::shared_ptr<HttpSession>(std::make_shared<HttpSession>(kDefaultIoTimeoutS));
  return *session;
}

HttpSession::HttpSession(unsigned io_timeout_s) {
  /* Shared by every element of a process, each of which may hold an event
   * stream, a poll and a download at once: room for many. */
  session_ = soup_session_new_with_options("timeout", io_timeout_s, "idle-timeout", 60,
                                           "user-agent", "mindvideosrc/" PACKAGE_VERSION " ",
                                           "max-conns", 1024, "max-conns-per-host", 256, nullptr);
  /* Bytes must arrive as the server stored them: Content-Length and Range
   * offsets refer to them, so no transparent decompression. */
  soup_session_remove_feature_by_type(session_, SOUP_TYPE_CONTENT_DECODER);
}

HttpSession::~HttpSession() {
  g_object_unref(session_);
}

HttpResponse HttpSession::send(const std::string& log_id, const char* method, const std::string& url,
                               const Headers& headers, const std::string* json_body, size_t max_body,
                               GCancellable* cancellable) {
  HttpResponse r;
  g_autoptr(SoupMessage) msg = soup_message_new(method, url.c_str());
  if (!msg) {
    r.error = "invalid URL: " + url;
    return r;
  }
  soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders* req = soup_message_get_request_headers(msg);
  for (const auto& [name, value] : headers)
    soup_message_headers_replace(req, name.c_str(), value.c_str());
  if (json_body) {
    g_autoptr(GBytes) bytes = g_bytes_new(json_body->data(), json_body->size());
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
  }

  g_autoptr(GError) err = nullptr;
  g_autoptr(GInputStream) in = soup_session_send(session_, msg, cancellable, &err);
  if (!in) {
    set_transport_error(&r, err);
    MV_DEBUG_ID(log_id, "%s %s failed: %s", method, url.c_str(), r.error.c_str());
    return r;
  }
  read_head(msg, &r);

  char chunk[16384];
  for (;;) {
    gssize n = g_input_stream_read(in, chunk, sizeof chunk, cancellable, &err);
    if (n < 0) {
      set_transport_error(&r, err);
      g_clear_error(&err);
      break;
    }
    if (n == 0)
      break;
    if (r.body.size() + (size_t)n > max_body) {
      r.status = 0;
      r.failure.kind = Failure::Kind::Network;
      r.error = "response body larger than " + std::to_string(max_body) + " bytes";
      break;
    }
    r.body.append(chunk, (size_t)n);
  }
  g_input_stream_close(in, nullptr, nullptr);
  MV_DEBUG_ID(log_id, "%s %s -> %u (%zu bytes)", method, url.c_str(), r.status, r.body.size());
  return r;
}

HttpResponse HttpSession::open_api(const std::string& log_id, const std::string& url, const Headers& headers,
                                   GInputStream** stream, GCancellable* cancellable) {
  return open_message(log_id, url, 0, &headers, stream, cancellable);
}

HttpResponse HttpSession::open(const std::string& log_id, const std::string& url, uint64_t offset,
                               GInputStream** stream, GCancellable* cancellable) {
  return open_message(log_id, url, offset, nullptr, stream, cancellable);
}

HttpResponse HttpSession::open_message(const std::string& log_id, const std::string& url, uint64_t offset,
                                       const Headers* headers, GInputStream** stream, GCancellable* cancellable) {
  HttpResponse r;
  *stream = nullptr;
  g_autoptr(SoupMessage) msg = soup_message_new("GET", url.c_str());
  if (!msg) {
    r.error = "invalid URL: " + url;
    return r;
  }
  if (offset > 0)
    soup_message_headers_set_range(soup_message_get_request_headers(msg), (goffset)offset, -1);
  if (headers) {
    /* An API request: its headers carry the key, so no redirect is followed. */
    soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
    for (const auto& [name, value] : *headers)
      soup_message_headers_replace(soup_message_get_request_headers(msg), name.c_str(), value.c_str());
  }

  g_autoptr(GError) err = nullptr;
  g_autoptr(GInputStream) in = soup_session_send(session_, msg, cancellable, &err);
  if (!in) {
    set_transport_error(&r, err);
  } else {
    read_head(msg, &r);
    if (r.ok()) {
      *stream = (GInputStream*)g_steal_pointer(&in);
    } else {
      /* Keep a short error body for the message. */
      char buf[4096];
      gssize n = g_input_stream_read(in, buf, sizeof buf, cancellable, nullptr);
      if (n > 0)
        r.body.assign(buf, (size_t)n);
    }
  }
  MV_DEBUG_ID(log_id, "GET %s from byte %" G_GUINT64_FORMAT " -> %u %s", url.c_str(), offset, r.status,
              r.status ? "" : r.error.c_str());
  return r;
}

}  // namespace mv
