/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only libsoup user. Blocking calls, each bound by a GCancellable and by
 * the session's I/O timeout; libsoup >= 3.2 allows them from any thread.
 */
#pragma once

#include "network.h"
#include "proxy-resolver.h"
#include "retry.h"

#include <gio/gio.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

typedef struct _SoupSession SoupSession;
typedef struct _SoupMessage SoupMessage;
typedef struct _SoupAuth SoupAuth;

namespace mv {

struct HttpResponse {
  unsigned status = 0; /* 0: no response (see `failure` and `error`) */
  bool cancelled = false;
  Failure failure;   /* why it did not succeed, for the retry policy */
  /* Transport error text when status is 0; for Failure::Kind::ProxyAuth,
   * Tls and TooLarge a whole sentence for the user. */
  std::string error;
  std::string body;
  std::string content_type;
  std::string location;
  /* For streamed responses. */
  int64_t content_length = -1;                      /* -1: unknown */
  int64_t range_start = -1, range_total = -1;       /* from Content-Range */
  bool ranges_refused = false;                      /* Accept-Ranges: none */

  bool ok() const { return status >= 200 && status < 300; }
};

class HttpSession {
 public:
  /* The process's session for elements with the default I/O timeout: one
   * pool of connections. It holds no credentials (keys travel as
   * per-request headers), so elements with different keys and URLs can
   * share it. Never destroyed. */
  static constexpr unsigned kDefaultIoTimeoutS = 30;
  static std::shared_ptr<HttpSession> process_default();

  /* A session with these settings, shared with every other user of
   * identical ones (same_session()) in this process while any holds it. */
  static std::shared_ptr<HttpSession> for_settings(const NetworkSettings& network);

  explicit HttpSession(unsigned io_timeout_s);
  /* A session with these network settings (checked beforehand with
   * check_network_settings(); a CA file that fails to load here leaves the
   * system's trust, so check first). */
  explicit HttpSession(const NetworkSettings& network);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  /* Every call takes `log_id`, the name of the element it is made for: the
   * session is shared, and its log lines must say whose request it was. */

  /* Sends one request and reads the whole response body, up to `max_body`
   * bytes (a larger body is a Failure::Kind::TooLarge). Redirects are not followed: API calls
   * carry the key, which must not travel to another origin. */
  HttpResponse send(const std::string& log_id, const char* method, const std::string& url, const Headers& headers,
                    const std::string* json_body, size_t max_body, GCancellable* cancellable);

  /* Starts a GET of `url` with `headers`, without following redirects (an
   * API request), and leaves its body to the caller in `*stream`. */
  HttpResponse open_api(const std::string& log_id, const std::string& url, const Headers& headers,
                        GInputStream** stream, GCancellable* cancellable);

  /* Starts a GET of `url` from byte `offset` (a Range request when > 0),
   * following redirects and carrying no credentials. On success `*stream`
   * holds the body for the caller to read and unref. */
  HttpResponse open(const std::string& log_id, const std::string& url, uint64_t offset, GInputStream** stream,
                    GCancellable* cancellable);

 /* The settings the session was made with (extra_headers left empty). */
  const NetworkSettings& network() const { return network_; }

 private:
  /* The signal handlers of one request made by new_message(), and what they
   * noted. Lives on the caller's stack; a Scope disconnects its handlers
   * when the call ends, as the message may outlive it. */
  struct Exchange {
    const HttpSession* session = nullptr;
    bool api = false; /* a request to the API, not to an output host */
    GTlsCertificateFlags refused = (GTlsCertificateFlags)0; /* why a certificate was refused */
    bool sent_proxy_credentials = false; /* Proxy-Authorization went with it */
    struct Scope {
      Scope(Exchange* e, SoupMessage* m) : exchange(e), msg(m) {}
      ~Scope();
      Exchange* exchange;
      SoupMessage* msg;
    };
  };
  void set_proxy_credentials(SoupMessage* msg, Exchange* exchange) const;
  static void on_starting(SoupMessage* msg, gpointer data);
  bool proxy_login(const std::string& authority, std::string* user, std::string* password) const;
  static gboolean on_authenticate(SoupMessage* msg, SoupAuth* auth, gboolean retrying, gpointer data);
  void describe_failure(SoupMessage* msg, const Exchange& exchange, const std::string& url, HttpResponse* r);
  static std::string resolved_proxy(const std::string& url);
  std::string proxy_of(const std::string& url) const;
  SoupMessage* new_message(const char* method, const std::string& url, bool api, Exchange* exchange);
  HttpResponse open_message(const std::string& log_id, const std::string& url, uint64_t offset,
                            const Headers* headers, GInputStream** stream, GCancellable* cancellable);

  NetworkSettings network_;
  /* HTTP proxies' credentials from their URIs; never logged. */
  std::shared_ptr<ProxyLogins> logins_ = std::make_shared<ProxyLogins>();
  SoupSession* session_;
};

}  // namespace mv
