/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The retry policy is a pure function: exact delays, no sleeping.
 */
#include "cancel.h"
#include "retry.h"

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

using mv::Failure;

static Failure http(unsigned status, const char* retry_after = "", const char* retry_after_ms = "") {
  Failure f;
  f.kind = Failure::Kind::Http;
  f.http_status = status;
  f.retry_after = retry_after;
  f.retry_after_ms = retry_after_ms;
  return f;
}

static Failure kind(Failure::Kind k) {
  Failure f;
  f.kind = k;
  return f;
}

/* 2026-11-21 12:00:00 UTC */
static const int64_t kNow = 1795262400;

GST_START_TEST(test_transient_classes) {
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u})
    fail_unless(mv::is_transient(http(s)), "%u should be transient", s);
  for (unsigned s : {400u, 401u, 403u, 404u, 409u, 410u, 422u, 501u, 505u})
    fail_if(mv::is_transient(http(s)), "%u should be fatal", s);
  fail_unless(mv::is_transient(kind(Failure::Kind::Network)));
  fail_unless(mv::is_transient(kind(Failure::Kind::Timeout)));
  fail_if(mv::is_transient(kind(Failure::Kind::Tls)));
}
GST_END_TEST;

/* Answers that cannot get better by asking again: a certificate the host
 * will present again, a proxy that wants credentials (407, or a refused
 * CONNECT), an API answer over the size cap. Never retried, whatever the
 * policy, even "for ever" as polls use it. */
GST_START_TEST(test_hopeless_failures_never_retry) {
  mv::RetryPolicy forever;
  forever.max_retries = -1;
  Failure proxy_407 = http(407);
  proxy_407.kind = Failure::Kind::ProxyAuth;
  for (const Failure& f : {kind(Failure::Kind::Tls), kind(Failure::Kind::ProxyAuth), kind(Failure::Kind::TooLarge),
                           proxy_407, http(407)}) {
    fail_if(mv::is_transient(f));
    fail_if(mv::decide_retry(forever, 0, f, 0.0, kNow).retry);
  }
  /* Even with a Retry-After. */
  Failure large = kind(Failure::Kind::TooLarge);
  large.retry_after = "1";
  fail_if(mv::decide_retry(forever, 0, large, 0.0, kNow).retry);
  /* What stays retried. */
  for (const Failure& f : {kind(Failure::Kind::Network), kind(Failure::Kind::Timeout), http(408), http(429), http(503)})
    fail_unless(mv::decide_retry(forever, 0, f, 0.0, kNow).retry);
}
GST_END_TEST;

GST_START_TEST(test_backoff_exact_delays) {
  mv::RetryPolicy p; /* 500 ms doubling to 8 s, 5 retries */
  const int64_t expected[] = {500, 1000, 2000, 4000, 8000};
  for (int i = 0; i < 5; i++) {
    mv::RetryDecision d = mv::decide_retry(p, i, http(503), 0.0, kNow);
    fail_unless(d.retry);
    fail_unless_equals_int64(d.delay_ms, expected[i]);
  }
  /* The budget is spent after max_retries. */
  fail_if(mv::decide_retry(p, 5, http(503), 0.0, kNow).retry);
  /* The ceiling holds far out. */
  p.max_retries = -1;
  fail_unless_equals_int64(mv::decide_retry(p, 40, http(503), 0.0, kNow).delay_ms, 8000);
  fail_unless(mv::decide_retry(p, 100000, kind(Failure::Kind::Network), 0.0, kNow).retry);
}
GST_END_TEST;

GST_START_TEST(test_jitter_scales_down_by_a_quarter) {
  mv::RetryPolicy p;
  fail_unless_equals_int64(mv::decide_retry(p, 1, http(500), 0.5, kNow).delay_ms, 875);   /* 1000 * 0.875 */
  fail_unless_equals_int64(mv::decide_retry(p, 2, http(500), 0.999, kNow).delay_ms, 1500); /* 2000 * 0.75025 */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(500), 7.0, kNow).delay_ms, 375);   /* clamped to 1 */
}
GST_END_TEST;

GST_START_TEST(test_fatal_statuses_never_retry) {
  mv::RetryPolicy p;
  p.max_retries = -1;
  fail_if(mv::decide_retry(p, 0, http(409), 0, kNow).retry);
  fail_if(mv::decide_retry(p, 0, http(401), 0, kNow).retry);
  fail_if(mv::decide_retry(p, 0, http(422), 0, kNow).retry);
  fail_if(mv::decide_retry(p, 0, http(404, "1"), 0, kNow).retry);
  fail_if(mv::decide_retry(p, 0, kind(Failure::Kind::Tls), 0, kNow).retry);
}
GST_END_TEST;

GST_START_TEST(test_retry_after) {
  mv::RetryPolicy p;
  /* Seconds form replaces the backoff, jitter does not apply. */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(429, "3"), 0.9, kNow).delay_ms, 3000);
  /* HTTP-date form, 7 s from now. */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(503, "Sat, 21 Nov 2026 12:00:07 GMT"), 0.0, kNow).delay_ms,
                           7000);
  /* A date in the past means now. */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(503, "Sat, 21 Nov 2026 11:00:00 GMT"), 0.0, kNow).delay_ms, 0);
  /* Capped. */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(429, "86400"), 0.0, kNow).delay_ms, 60000);
  /* retry-after-ms wins when present. */
  fail_unless_equals_int64(mv::decide_retry(p, 0, http(429, "3", "250"), 0.0, kNow).delay_ms, 250);
  /* Garbage falls back to the backoff. */
  fail_unless_equals_int64(mv::decide_retry(p, 1, http(429, "soon"), 0.0, kNow).delay_ms, 1000);
  /* Retry-After does not make a fatal status retryable, nor extend the budget. */
  p.max_retries = 0;
  fail_if(mv::decide_retry(p, 0, http(429, "1"), 0.0, kNow).retry);

  fail_unless(mv::parse_retry_after(" 12 ", kNow).value() == 12000);
  fail_if(mv::parse_retry_after("-1", kNow).has_value());
  fail_if(mv::parse_retry_after("", kNow).has_value());
}
GST_END_TEST;

GST_START_TEST(test_canceller_is_sticky) {
  mv::Canceller c;
  fail_unless(c.sleep_ms(1));
  c.cancel();
  /* A wait that starts after cancel() returns at once, every time. */
  fail_if(c.sleep_ms(60000));
  fail_if(c.sleep_ms(60000));
  GCancellable* before = c.cancellable_ref();
  fail_unless(g_cancellable_is_cancelled(before));
  c.reset();
  GCancellable* after = c.cancellable_ref();
  fail_if(g_cancellable_is_cancelled(after));
  fail_unless(g_cancellable_is_cancelled(before));
  g_object_unref(before);
  g_object_unref(after);
  fail_unless(c.sleep_ms(1));
}
GST_END_TEST;

static gpointer cancel_later(gpointer data) {
  g_usleep(50 * 1000);
  static_cast<mv::Canceller*>(data)->cancel();
  return nullptr;
}

GST_START_TEST(test_canceller_wakes_a_sleeper) {
  mv::Canceller c;
  GThread* t = g_thread_new("cancel", cancel_later, &c);
  fail_if(c.sleep_ms(120000), "the sleep should have been cut short");
  g_thread_join(t);
}
GST_END_TEST;

static Suite* retry_suite(void) {
  Suite* s = suite_create("mindvideo-retry");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_transient_classes);
  tcase_add_test(tc, test_hopeless_failures_never_retry);
  tcase_add_test(tc, test_backoff_exact_delays);
  tcase_add_test(tc, test_jitter_scales_down_by_a_quarter);
  tcase_add_test(tc, test_fatal_statuses_never_retry);
  tcase_add_test(tc, test_retry_after);
  tcase_add_test(tc, test_canceller_is_sticky);
  tcase_add_test(tc, test_canceller_wakes_a_sleeper);
  return s;
}

GST_CHECK_MAIN(retry);
