/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "retry.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <algorithm>

namespace mv {

bool is_transient(const Failure& failure) {
  switch (failure.kind) {
    case Failure::Kind::Network:
    case Failure::Kind::Timeout:
      return true;
    case Failure::Kind::Tls:
    case Failure::Kind::ProxyAuth:
    case Failure::Kind::TooLarge:
      return false;
    case Failure::Kind::Http:
      switch (failure.http_status) {
        case 408: case 429: case 500: case 502: case 503: case 504:
          return true;
        default:
          return false;
      }
  }
  return false;
}

static bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

std::optional<int64_t> parse_retry_after(const std::string& value, int64_t now_unix) {
  g_autofree gchar* copy = g_strdup(value.c_str());
  const std::string v = g_strstrip(copy);
  if (v.empty())
    return std::nullopt;
  if (all_digits(v)) {
    if (v.size() > 9) /* more than 30 years: clamp rather than overflow */
      return INT64_C(999999999) * 1000;
    return (int64_t)g_ascii_strtoll(v.c_str(), nullptr, 10) * 1000;
  }
  g_autoptr(GDateTime) date = soup_date_time_new_from_http_string(v.c_str());
  if (!date)
    return std::nullopt;
  const int64_t when = g_date_time_to_unix(date);
  return std::max<int64_t>(0, (when - now_unix) * 1000);
}

RetryDecision decide_retry(const RetryPolicy& policy, int retries_done, const Failure& failure,
                           double jitter, int64_t now_unix) {
  RetryDecision d;
  if (!is_transient(failure))
    return d;
  if (policy.max_retries >= 0 && retries_done >= policy.max_retries)
    return d;
  d.retry = true;

  std::optional<int64_t> server_ms;
  if (all_digits(failure.retry_after_ms))
    server_ms = (int64_t)g_ascii_strtoll(failure.retry_after_ms.c_str(), nullptr, 10);
  else if (!failure.retry_after.empty())
    server_ms = parse_retry_after(failure.retry_after, now_unix);
  if (server_ms) {
    d.delay_ms = std::min(*server_ms, policy.max_retry_after_ms);
    return d;
  }

  int64_t backoff = policy.base_delay_ms;
  for (int i = 0; i < retries_done && backoff < policy.max_delay_ms; i++)
    backoff *= 2;
  backoff = std::min(backoff, policy.max_delay_ms);
  jitter = std::clamp(jitter, 0.0, 1.0);
  d.delay_ms = (int64_t)((double)backoff * (1.0 - 0.25 * jitter));
  return d;
}

}  // namespace mv
