/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The spool without a network: a writer thread, waiting readers,
 * interruption, end and failure.
 */
#include "spool.h"

#include <glib.h>

#include <string>
#include <thread>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

GST_START_TEST(test_reader_waits_for_writer) {
  mv::Spool spool;
  std::string error;
  fail_unless(spool.open(&error), "%s", error.c_str());
  spool.set_total(6);
  std::thread writer([&spool] {
    std::string e;
    g_usleep(20 * 1000);
    spool.append("abc", 3, &e);
    g_usleep(20 * 1000);
    spool.append("def", 3, &e);
    spool.finish();
  });
  uint64_t available = 0;
  /* Wants 6 bytes from 0: returns once the second write landed. */
  fail_unless(spool.wait(0, 6, &available) == mv::Spool::State::Ready);
  fail_unless_equals_uint64(available, 6);
  char buf[8] = {0};
  fail_unless_equals_int64(spool.read(0, buf, 6), 6);
  fail_unless_equals_string(buf, "abcdef");
  /* Any offset again: what BYTES seeks need. */
  fail_unless(spool.wait(4, 10, &available) == mv::Spool::State::Ready);
  fail_unless_equals_uint64(available, 2);
  fail_unless_equals_int64(spool.read(4, buf, 2), 2);
  fail_unless(memcmp(buf, "ef", 2) == 0);
  writer.join();
  fail_unless(spool.wait(6, 1, &available) == mv::Spool::State::Eos);
  fail_unless_equals_int64(spool.total(), 6);
}
GST_END_TEST;

GST_START_TEST(test_interrupt_wakes_and_sticks) {
  mv::Spool spool;
  std::string error;
  fail_unless(spool.open(&error));
  std::thread waker([&spool] {
    g_usleep(20 * 1000);
    spool.interrupt();
  });
  uint64_t available = 0;
  fail_unless(spool.wait(0, 1, &available) == mv::Spool::State::Interrupted);
  waker.join();
  /* Sticky until cleared. */
  fail_unless(spool.wait(0, 1, &available) == mv::Spool::State::Interrupted);
  spool.clear_interrupt();
  spool.append("x", 1, &error);
  fail_unless(spool.wait(0, 1, &available) == mv::Spool::State::Ready);
}
GST_END_TEST;

GST_START_TEST(test_failure_after_partial_data) {
  mv::Spool spool;
  std::string error;
  fail_unless(spool.open(&error));
  spool.set_total(100);
  spool.append("0123456789", 10, &error);
  mv::Error e;
  e.kind = mv::Error::Kind::Read;
  e.message = "cut";
  spool.set_failed(e);
  uint64_t available = 0;
  /* Bytes that arrived are still served... */
  fail_unless(spool.wait(0, 64, &available) == mv::Spool::State::Ready);
  fail_unless_equals_uint64(available, 10);
  /* ...and the failure is reported where the bytes end, not EOS. */
  fail_unless(spool.wait(10, 64, &available) == mv::Spool::State::Failed);
  const std::string message = spool.error().message;
  fail_unless_equals_string(message.c_str(), "cut");
  spool.close();
  fail_unless_equals_int64(spool.total(), -1);
  fail_unless_equals_uint64(spool.written(), 0);
}
GST_END_TEST;

static Suite* spool_suite(void) {
  Suite* s = suite_create("mindvideo-spool");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_reader_waits_for_writer);
  tcase_add_test(tc, test_interrupt_wakes_and_sticks);
  tcase_add_test(tc, test_failure_after_partial_data);
  return s;
}

GST_CHECK_MAIN(spool);
