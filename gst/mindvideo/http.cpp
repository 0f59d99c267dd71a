/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http.h"

#include "log.h"
#include "proxy-resolver.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <mutex>

namespace mv {

namespace {

/* HTTP Basic credentials (RFC 7617). */
std::string basic_authorization(const std::string& user, const std::string& password) {
  const std::string pair = user + ":" + password;
  g_autofree gchar* encoded = g_base64_encode((const guchar*)pair.data(), pair.size());
  return std::string("Basic ") + encoded;
}

/* Records a transport error in `r`. */
void set_transport_error(HttpResponse* r, const GError* err) {
  r->status = 0;
  r->error = err->message;
  r->cancelled = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    r->failure.kind = Failure::Kind::Timeout;
  else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PROXY_NEED_AUTH) ||
           g_error_matches(err, G_IO_ERROR, G_IO_ERROR_PROXY_AUTH_FAILED))
    r->failure.kind = Failure::Kind::ProxyAuth; /* a CONNECT or SOCKS the proxy refused */
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
  r->failure.kind = r->status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED ? Failure::Kind::ProxyAuth
                                                                          : Failure::Kind::Http;
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

/* Notes why a certificate was refused; the answer stays "no". */
gboolean on_accept_certificate(SoupMessage*, GTlsCertificate*, GTlsCertificateFlags errors, gpointer data) {
  *static_cast<GTlsCertificateFlags*>(data) = errors;
  return FALSE;
}

/* A message libsoup restarts (e.g. on a kept-alive connection the server
 * had closed) sends its body again from the start. */
void on_restarted(SoupMessage* msg, gpointer data) {
  soup_message_set_request_body_from_bytes(msg, "application/json", static_cast<GBytes*>(data));
}

}  // namespace

/* The proxy the environment's resolver names first for `url` (libsoup
 * tries it first), or "" for a direct connection. For error texts only. */
std::string HttpSession::resolved_proxy(const std::string& url) {
  g_auto(GStrv) proxies = g_proxy_resolver_lookup(g_proxy_resolver_get_default(), url.c_str(), nullptr, nullptr);
  if (!proxies || !proxies[0] || g_strcmp0(proxies[0], "direct://") == 0)
    return "";
  return proxies[0];
}

/* A new request with the session's proxy credentials and the bookkeeping
 * of refused certificates. */
SoupMessage* HttpSession::new_message(const char* method, const std::string& url, bool api, Exchange* exchange) {
  SoupMessage* msg = soup_message_new(method, url.c_str());
  if (!msg)
    return nullptr;
  exchange->session = this;
  exchange->api = api;
  g_signal_connect(msg, "accept-certificate", G_CALLBACK(on_accept_certificate), &exchange->refused);
  /* https reaches an HTTP proxy through CONNECT, whose 407 libsoup answers
   * through this signal (also after a redirect from http to https). */
  g_signal_connect(msg, "authenticate", G_CALLBACK(on_authenticate), this);
  /* Else libsoup adds the proxy login it keeps from a CONNECT to the
   * request itself, which travels inside the tunnel to the origin. */
  soup_message_add_flags(msg, SOUP_MESSAGE_DO_NOT_USE_AUTH_CACHE);
  if (g_strcmp0(g_uri_get_scheme(soup_message_get_uri(msg)), "http") == 0) {
    /* Plain http: the element never answers a challenge; credentials go
     * up front. libsoup would read the whole body of a 401 or 407 before
     * handing it over, and a proxy that closes on its 407 without reading
     * a POST's body (tinyproxy) resets that read: the answer would be lost
     * and the submission retried. */
    soup_message_disable_feature(msg, SOUP_TYPE_AUTH_MANAGER);
  }
  /* Emitted on every attempt, redirects included, once the connection is
   * chosen: then it is known whether an HTTP proxy forwards the request. */
  g_signal_connect(msg, "starting", G_CALLBACK(on_starting), exchange);
  return msg;
}

/* Proxy-Authorization up front, as curl sends it, on a plain-http request
 * that goes to an HTTP proxy to forward: its connection's address is that
 * proxy's. On any other request none, so that credentials never reach an
 * origin: over https, or through the tunnel of an https:// or SOCKS proxy,
 * the header would travel to it. */
void HttpSession::set_proxy_credentials(SoupMessage* msg, Exchange* exchange) const {
  SoupMessageHeaders* headers = soup_message_get_request_headers(msg);
  soup_message_headers_remove(headers, "Proxy-Authorization");
  exchange->sent_proxy_credentials = false;
  GSocketAddress* address = soup_message_get_remote_address(msg);
  if (g_strcmp0(g_uri_get_scheme(soup_message_get_uri(msg)), "http") != 0 || !G_IS_PROXY_ADDRESS(address))
    return;
  GProxyAddress* proxy = G_PROXY_ADDRESS(address);
  std::string user, password;
  if (g_strcmp0(g_proxy_address_get_protocol(proxy), "http") != 0 ||
      !proxy_login(proxy_authority(g_proxy_address_get_uri(proxy)), &user, &password))
    return;
  soup_message_headers_replace(headers, "Proxy-Authorization", basic_authorization(user, password).c_str());
  exchange->sent_proxy_credentials = true;
}

/* The credentials for the HTTP proxy at `authority`: proxy-id and
 * proxy-pw, else those its URI gave (the proxy property's, or the
 * environment's, as http_proxy=http://user:pw@host:port has them). */
bool HttpSession::proxy_login(const std::string& authority, std::string* user, std::string* password) const {
  if (!network_.proxy_id.empty()) {
    *user = network_.proxy_id;
    *password = network_.proxy_pw;
    return true;
  }
  return logins_->find(authority, user, password);
}

/* Answers an HTTP proxy's 407 to a CONNECT (https) with its credentials,
 * once: another 407 means they are wrong, and is the error. */
gboolean HttpSession::on_authenticate(SoupMessage*, SoupAuth* auth, gboolean retrying, gpointer data) {
  const auto* session = static_cast<const HttpSession*>(data);
  std::string user, password;
  if (!soup_auth_is_for_proxy(auth) || retrying ||
      !session->proxy_login(soup_auth_get_authority(auth), &user, &password))
    return FALSE;
  soup_auth_authenticate(auth, user.c_str(), password.c_str());
  return TRUE;
}

HttpSession::Exchange::Scope::~Scope() {
  g_signal_handlers_disconnect_by_data(msg, &exchange->refused);
  g_signal_handlers_disconnect_by_data(msg, exchange);
}

void HttpSession::on_starting(SoupMessage* msg, gpointer data) {
  auto* exchange = static_cast<Exchange*>(data);
  exchange->session->set_proxy_credentials(msg, exchange);
}

/* Which proxy carries requests to `url`, for error texts: the element's,
 * or what the environment's resolver says. Never with credentials. */
std::string HttpSession::proxy_of(const std::string& url) const {
  if (!network_.proxy.empty())
    return proxy_for_display(network_.proxy);
  const std::string found = resolved_proxy(url);
  return found.empty() ? "(the proxy)" : proxy_for_display(found) + " (from the environment)";
}

/* Turns the failures that no retry can mend into a sentence that names the
 * proxy or the host, and says what to do. Called once the (error) body, if
 * any, has been read. */
void HttpSession::describe_failure(SoupMessage* msg, const Exchange& exchange, const std::string& url,
                                   HttpResponse* r) {
  const bool https = msg && g_strcmp0(g_uri_get_scheme(soup_message_get_uri(msg)), "https") == 0;
  if (msg && r->status && (r->status == SOUP_STATUS_UNAUTHORIZED || r->status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED) &&
      https && !soup_message_get_tls_peer_certificate(msg)) {
    /* An https answer without a TLS handshake: the proxy refused the
     * CONNECT (some proxies, tinyproxy among them, say 401 to wrong
     * credentials), and the API never saw the request. */
    r->failure.kind = Failure::Kind::ProxyAuth;
  }
  if (msg && r->status == SOUP_STATUS_UNAUTHORIZED && exchange.api && exchange.sent_proxy_credentials) {
    SoupMessageHeaders* h = soup_message_get_response_headers(msg);
    const char* challenge = soup_message_headers_get_one(h, "WWW-Authenticate");
    if (challenge && g_ascii_strncasecmp(challenge, "Basic", 5) == 0 && !soup_message_headers_get_one(h, "Via") &&
        !g_str_has_prefix(r->content_type.c_str(), "application/json")) {
      /* A 401 to an API request that carried proxy credentials, which
       * the proxy wrote itself: it asks for Basic credentials (the API
       * takes a Bearer key), a forwarded answer would have a Via header,
       * and the API's errors are JSON. tinyproxy answers wrong
       * credentials that way. */
      r->failure.kind = Failure::Kind::ProxyAuth;
    }
  }
  if (r->failure.kind == Failure::Kind::ProxyAuth) {
    std::string user, password;
    const bool had_credentials =
        !network_.proxy_id.empty() || exchange.sent_proxy_credentials ||
        proxy_userinfo(network_.proxy.empty() ? resolved_proxy(url) : network_.proxy, &user, &password);
    const std::string how = had_credentials ? "check proxy-id and proxy-pw" : "set proxy-id and proxy-pw";
    const std::string answer = r->status ? "HTTP " + std::to_string(r->status) : r->error;
    r->error = "The proxy " + proxy_of(url) + " refused the request: it requires authentication (" + answer +
               "); " + how;
  } else if (r->failure.kind == Failure::Kind::Tls && msg) {
    g_autoptr(GUri) uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
    std::string host = uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : url;
    if (uri && g_uri_get_port(uri) > 0)
      host += ":" + std::to_string(g_uri_get_port(uri));
    std::string reason =
        tls_errors_text((GTlsCertificateFlags)(exchange.refused | soup_message_get_tls_peer_certificate_errors(msg)));
    r->error = "the TLS certificate of " + host + " was refused (" + (reason.empty() ? r->error : reason) +
               "). To trust the CA that signed it, set ca-file to a PEM file of that CA (or tls-database); "
               "certificates are always verified";
  }
}

std::shared_ptr<HttpSession> HttpSession::for_settings(const NetworkSettings& network) {
  /* Sessions live while elements use them; the list only remembers them. */
  static std::mutex lock;
  static auto* sessions = new std::vector<std::weak_ptr<HttpSession>>();
  std::lock_guard<std::mutex> guard(lock);
  sessions->erase(std::remove_if(sessions->begin(), sessions->end(),
                                 [](const std::weak_ptr<HttpSession>& s) { return s.expired(); }),
                  sessions->end());
  for (const auto& weak : *sessions)
    if (auto session = weak.lock(); session && same_session(session->network(), network))
      return session;
  auto session = std::make_shared<HttpSession>(network);
  sessions->push_back(session);
  return session;
}

std::shared_ptr<HttpSession> HttpSession::process_default() {
  /* Leaked on purpose: a SoupSession must not be finalized at exit from
   * whatever thread happens to run static destructors. */
  static auto* session = new std::shared_ptr<HttpSession>(std::make_shared<HttpSession>(kDefaultIoTimeoutS));
  return *session;
}

HttpSession::HttpSession(unsigned io_timeout_s)
    : HttpSession([io_timeout_s] {
        NetworkSettings network;
        network.io_timeout_s = io_timeout_s;
        return network;
      }()) {}

HttpSession::HttpSession(const NetworkSettings& network) : network_(network) {
  network_.extra_headers.clear(); /* per request, not the session's */
  /* A trailing space makes libsoup append its own name and version. */
  const std::string agent =
      network_.user_agent.empty() ? std::string("mindvideosrc/" PACKAGE_VERSION " ") : network_.user_agent;
  /* Shared by every element of a process, each of which may hold an event
   * stream, a poll and a download at once: room for many. */
  session_ = soup_session_new_with_options("timeout", network_.io_timeout_s, "idle-timeout", 60, "user-agent",
                                           agent.c_str(), "max-conns", 1024, "max-conns-per-host", 256, nullptr);
  /* Bytes must arrive as the server stored them: Content-Length and Range
   * offsets refer to them, so no transparent decompression. */
  soup_session_remove_feature_by_type(session_, SOUP_TYPE_CONTENT_DECODER);

  /* With the proxy property, every request, whatever its scheme or host,
   * goes through that proxy (as souphttpsrc's); the environment is not
   * consulted. Else the environment's resolver decides. Either way an
   * HTTP proxy's credentials are kept aside (proxy-resolver.h) and go up
   * front on plain http (set_proxy_credentials()), or in answer to a
   * CONNECT's 407 (on_authenticate()); GIO takes a SOCKS or https://
   * proxy's from its URI. */
  g_autoptr(GProxyResolver) inner =
      network_.proxy.empty()
          ? G_PROXY_RESOLVER(g_object_ref(g_proxy_resolver_get_default()))
          : g_simple_proxy_resolver_new(
                proxy_with_credentials(network_.proxy, network_.proxy_id, network_.proxy_pw).c_str(), nullptr);
  g_autoptr(GProxyResolver) resolver = proxy_resolver_new(inner, logins_);
  soup_session_set_proxy_resolver(session_, resolver);
  /* Certificates are always verified; these only say which CAs to trust. */
  if (!network_.ca_file.empty()) {
    g_autoptr(GError) err = nullptr;
    g_autoptr(GTlsDatabase) db = g_tls_file_database_new(network_.ca_file.c_str(), &err);
    if (db) {
      soup_session_set_tls_database(session_, db);
    } else {
      /* check_network_settings() refused it before any element got here. */
      GST_CAT_WARNING(debug_category(), "ca-file %s: %s; only the system's CAs are trusted",
                      network_.ca_file.c_str(), err->message);
    }
  } else if (network_.tls_database) {
    soup_session_set_tls_database(session_, network_.tls_database.get());
  }
}

HttpSession::~HttpSession() {
  g_object_unref(session_);
}

HttpResponse HttpSession::send(const std::string& log_id, const char* method, const std::string& url,
                               const Headers& headers, const std::string* json_body, size_t max_body,
                               GCancellable* cancellable) {
  HttpResponse r;
  Exchange exchange;
  g_autoptr(SoupMessage) msg = new_message(method, url, true, &exchange);
  if (!msg) {
    r.error = "invalid URL: " + url;
    return r;
  }
  Exchange::Scope scope(&exchange, msg);
  soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders* req = soup_message_get_request_headers(msg);
  for (const auto& [name, value] : headers)
    soup_message_headers_replace(req, name.c_str(), value.c_str());
  g_autoptr(GBytes) bytes = nullptr;
  if (json_body) {
    bytes = g_bytes_new(json_body->data(), json_body->size());
    soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
    g_signal_connect(msg, "restarted", G_CALLBACK(on_restarted), bytes);
  }

  g_autoptr(GError) err = nullptr;
  g_autoptr(GInputStream) in = soup_session_send(session_, msg, cancellable, &err);
  if (!in) {
    set_transport_error(&r, err);
    describe_failure(msg, exchange, url, &r);
    MV_DEBUG_ID(log_id, "%s %s failed: %s", method, url.c_str(), r.error.c_str());
    return r;
  }
  read_head(msg, &r);

  char chunk[16384];
  for (;;) {
    gssize n = g_input_stream_read(in, chunk, sizeof chunk, cancellable, &err);
    if (n < 0) {
      if (r.ok() || g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        set_transport_error(&r, err);
      } else {
        /* The status is the answer; its body only explains it. A proxy
         * that closes on its error page resets the connection mid-body. */
        MV_DEBUG_ID(log_id, "%s %s: the body of the %u answer was cut: %s", method, url.c_str(), r.status,
                    err->message);
      }
      g_clear_error(&err);
      break;
    }
    if (n == 0)
      break;
    if (r.body.size() + (size_t)n > max_body) {
      /* It cannot get smaller by asking again. */
      r.status = 0;
      r.body.clear();
      r.failure = Failure{};
      r.failure.kind = Failure::Kind::TooLarge;
      r.error = "an answer larger than " + std::to_string(max_body / (1024 * 1024)) + " MiB (" +
                std::to_string(max_body) + " bytes), the limit for an API response";
      break;
    }
    r.body.append(chunk, (size_t)n);
  }
  g_input_stream_close(in, nullptr, nullptr);
  if (r.status)
    describe_failure(msg, exchange, url, &r);
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
  Exchange exchange;
  g_autoptr(SoupMessage) msg = new_message("GET", url, headers != nullptr, &exchange);
  if (!msg) {
    r.error = "invalid URL: " + url;
    return r;
  }
  /* The body's stream may keep the message alive past this call. */
  Exchange::Scope scope(&exchange, msg);
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
    describe_failure(msg, exchange, url, &r);
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
    describe_failure(msg, exchange, url, &r);
  }
  MV_DEBUG_ID(log_id, "GET %s from byte %" G_GUINT64_FORMAT " -> %u %s", url.c_str(), offset, r.status,
              r.status ? "" : r.error.c_str());
  return r;
}

}  // namespace mv
