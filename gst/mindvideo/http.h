/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The only libsoup user. Blocking calls, each bound by a GCancellable and by
 * the session's I/O timeout; libsoup >= 3.2 allows them from any thread.
 */
#pragma once

#include "retry.h"

#include <gio/gio.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

typedef struct _SoupSession SoupSession;

namespace mv {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0; /* 0: no response (see `failure` and `error`) */
  bool cancelled = false;
  Failure failure;   /* why it did not succeed, for the retry policy */
  std::string error; /* transport error text, when status is 0 */
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

  explicit HttpSession(unsigned io_timeout_s);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  /* Every call takes `log_id`, the name of the element it is made for: the
   * session is shared, and its log lines must say whose request it was. */

  /* Sends one request and reads the whole response body, up to `max_body`
   * bytes (a larger body is an error). Redirects are not followed: API calls
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

 private:
  HttpResponse open_message(const std::string& log_id, const std::string& url, uint64_t offset,
                            const Headers* headers, GInputStream** stream, GCancellable* cancellable);

  SoupSession* session_;
};

}  // namespace mv
