/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Retry policy as a pure function of (attempt, outcome, jitter): no sleeping
 * and no I/O here, so every delay can be unit-tested exactly.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mv {

struct RetryPolicy {
  int max_retries = 5;                /* -1: retry forever */
  int64_t base_delay_ms = 500;        /* first backoff, doubled each retry */
  int64_t max_delay_ms = 8000;        /* backoff ceiling */
  int64_t max_retry_after_ms = 60000; /* ceiling on a server's Retry-After */
};

/* Why an HTTP request did not succeed. */
struct Failure {
  /* ProxyAuth: the proxy wants credentials (407, or a refused CONNECT);
   * TooLarge: an API answer over its size cap. Neither gets better by
   * asking again, nor does a TLS certificate error. */
  enum class Kind { Network, Timeout, Tls, Http, ProxyAuth, TooLarge } kind = Kind::Network;
  unsigned http_status = 0;   /* for Kind::Http */
  std::string retry_after;    /* Retry-After header, "" if absent */
  std::string retry_after_ms; /* retry-after-ms header, "" if absent */
};

struct RetryDecision {
  bool retry = false;
  int64_t delay_ms = 0;
};

/* Network errors, timeouts and HTTP 408, 429, 500, 502, 503, 504 are
 * transient. Everything else (TLS failures, proxy authentication, answers
 * over the size cap, other 4xx, 409 above all) is not. */
bool is_transient(const Failure& failure);

/* Whether and how long to wait before retry number `retries_done + 1`.
 * `jitter` in [0, 1) scales the backoff down by up to 25%. A Retry-After the
 * server gives (seconds or HTTP-date, or retry-after-ms) replaces the
 * backoff, capped at max_retry_after_ms. `now_unix` is the current time, for
 * HTTP-dates. */
RetryDecision decide_retry(const RetryPolicy& policy, int retries_done, const Failure& failure,
                           double jitter, int64_t now_unix);

/* A Retry-After value in milliseconds from now: delta-seconds or an
 * HTTP-date; nullopt when it is neither. Dates in the past give 0. */
std::optional<int64_t> parse_retry_after(const std::string& value, int64_t now_unix);

}  // namespace mv
