/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The spool without a network: a writer thread, waiting readers,
 * interruption, end and failure.
 */
#include "spool.h"

#include <glib.h>

#include <cstring>
#include <string>
#include <thread>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

/* Appends `text` as one chunk, after the bytes already there. */
static bool append(mv::Spool& spool, const char* text) {
  mv::Error error;
  return spool.write(spool.downloaded(), mv::BufferRef::adopt(gst_buffer_new_memdup(text, strlen(text))), &error);
}

GST_START_TEST(test_reader_waits_for_writer) {
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error), "%s", error.message.c_str());
  spool.set_total(6);
  std::thread writer([&spool] {
    g_usleep(20 * 1000);
    append(spool, "abc");
    g_usleep(20 * 1000);
    append(spool, "def");
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
  mv::Error error;
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
  append(spool, "x");
  fail_unless(spool.wait(0, 1, &available) == mv::Spool::State::Ready);
}
GST_END_TEST;

GST_START_TEST(test_failure_after_partial_data) {
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error));
  spool.set_total(100);
  append(spool, "0123456789");
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
  fail_unless_equals_uint64(spool.downloaded(), 0);
}
GST_END_TEST;

/* The space for the output is taken when its size is known; reserved
 * blocks are not data. Needs a spool directory whose filesystem can
 * preallocate (ext4, xfs, btrfs, tmpfs). */
GST_START_TEST(test_reserve_space_up_front) {
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error), "%s", error.message.c_str());
  fail_unless(spool.reserve(1024 * 1024, &error), "%s", error.message.c_str());
  spool.set_total(1024 * 1024);
  append(spool, "abc");
  uint64_t available = 0;
  fail_unless(spool.wait(0, 3, &available) == mv::Spool::State::Ready);
  fail_unless_equals_uint64(available, 3);
  char buf[64];
  fail_unless_equals_int64(spool.read(0, buf, sizeof buf), 3);
  fail_unless(memcmp(buf, "abc", 3) == 0);
  /* A petabyte fits on no test machine: refused at once, naming where. */
  error = mv::Error();
  fail_if(spool.reserve(uint64_t(1) << 50, &error));
  fail_unless(error.message.find("not enough space in") != std::string::npos, "%s", error.message.c_str());
  fail_unless(error.message.find(g_get_tmp_dir()) != std::string::npos, "%s", error.message.c_str());
  fail_unless(error.message.find("1125899906842624 bytes") != std::string::npos, "%s", error.message.c_str());
}
GST_END_TEST;

GST_START_TEST(test_recent_chunks_are_shared_not_copied) {
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error));
  GstBuffer* first = gst_buffer_new_memdup("0123456789", 10);
  fail_unless(spool.write(0, mv::BufferRef::adopt(gst_buffer_ref(first)), &error));
  /* The whole chunk: the very buffer. A part: the same memory. */
  GstBuffer* whole = spool.share(0, 100).release();
  fail_unless(whole == first);
  gst_buffer_unref(whole);
  GstBuffer* part = spool.share(4, 3).release();
  fail_unless(part != nullptr);
  fail_unless_equals_int(gst_buffer_get_size(part), 3);
  GstMapInfo a, b;
  gst_buffer_map(part, &a, GST_MAP_READ);
  gst_buffer_map(first, &b, GST_MAP_READ);
  fail_unless(a.data == b.data + 4, "the part was copied");
  gst_buffer_unmap(part, &a);
  gst_buffer_unmap(first, &b);
  fail_unless_equals_int(gst_buffer_memcmp(part, 0, "456", 3), 0);
  gst_buffer_unref(part);
  /* Only the last few chunks stay in memory; the file has everything. */
  for (int i = 0; i < 8; i++)
    fail_unless(append(spool, "abcdefghij"));
  /* Once the writer has put them on disk (it runs on its own thread; 30 s
   * at most, for a loaded machine). */
  bool dropped = false;
  for (int i = 0; i < 3000 && !dropped; i++) {
    GstBuffer* old = spool.share(0, 10).release();
    dropped = old == nullptr;
    if (old)
      gst_buffer_unref(old);
    else
      break;
    g_usleep(10 * 1000);
  }
  fail_unless(dropped, "an old chunk is still held in memory");
  char buf[10];
  fail_unless_equals_int64(spool.read(0, buf, 10), 10);
  fail_unless(memcmp(buf, "0123456789", 10) == 0);
  GstBuffer* last = spool.share(80, 10).release();
  fail_unless(last != nullptr);
  gst_buffer_unref(last);
  /* Past the end: nothing. */
  fail_unless(!spool.share(90, 10));
  gst_buffer_unref(first);
}
GST_END_TEST;

static Suite* spool_suite(void) {
  Suite* s = suite_create("mindvideo-spool");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_reader_waits_for_writer);
  tcase_add_test(tc, test_interrupt_wakes_and_sticks);
  tcase_add_test(tc, test_failure_after_partial_data);
  tcase_add_test(tc, test_recent_chunks_are_shared_not_copied);
  tcase_add_test(tc, test_reserve_space_up_front);
  return s;
}

GST_CHECK_MAIN(spool);
