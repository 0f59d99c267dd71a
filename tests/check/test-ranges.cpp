/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The range set of the sparse spool and the fetch decisions, without a
 * network: pure code (ranges.h), then the sparse spool itself.
 */
#include "ranges.h"
#include "spool.h"

#include <cstring>
#include <string>
#include <thread>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

GST_START_TEST(test_range_set_merges) {
  mv::RangeSet set;
  fail_unless_equals_uint64(set.size(), 0);
  fail_if(set.contains(0));
  set.add(10, 20);
  set.add(30, 40);
  fail_unless_equals_int(set.count(), 2);
  fail_unless_equals_uint64(set.size(), 20);
  /* Touching ranges merge; overlapping ones count once. */
  set.add(20, 25);
  fail_unless_equals_int(set.count(), 2);
  set.add(15, 35);
  fail_unless_equals_int(set.count(), 1);
  fail_unless_equals_uint64(set.size(), 30);
  fail_unless(set.contains(10) && set.contains(39));
  fail_if(set.contains(9) || set.contains(40));
  /* An empty range changes nothing. */
  set.add(50, 50);
  fail_unless_equals_int(set.count(), 1);
  set.add(0, 5);
  fail_unless_equals_int(set.count(), 2);
  fail_unless_equals_uint64(set.size(), 35);
}
GST_END_TEST;

GST_START_TEST(test_range_set_queries) {
  mv::RangeSet set;
  set.add(0, 100);
  set.add(200, 300);
  fail_unless_equals_uint64(set.contiguous_from(0), 100);
  fail_unless_equals_uint64(set.contiguous_from(50), 50);
  fail_unless_equals_uint64(set.contiguous_from(100), 0);
  fail_unless_equals_uint64(set.contiguous_from(250), 50);
  fail_unless_equals_uint64(set.next_missing(0), 100);
  fail_unless_equals_uint64(set.next_missing(150), 150);
  fail_unless_equals_uint64(set.next_missing(200), 300);
  fail_unless_equals_uint64(set.next_present(100, 1000), 200);
  fail_unless_equals_uint64(set.next_present(100, 150), 150);
  fail_unless_equals_uint64(set.next_present(50, 1000), 50);
  fail_unless_equals_uint64(set.next_present(300, 1000), 1000);
  fail_unless(set.covers(100));
  fail_if(set.covers(101));
  set.add(100, 200);
  fail_unless(set.covers(300));
  fail_unless(mv::RangeSet().covers(0));
}
GST_END_TEST;

GST_START_TEST(test_reach_follows_the_measured_rate) {
  /* Never less than the floor: a new request costs more than that. */
  fail_unless_equals_uint64(mv::reach_bytes(0, 0), mv::kMinReach);
  fail_unless_equals_uint64(mv::reach_bytes(4e6, 1000), mv::kMinReach);
  /* 4 MB/s and 100 ms to answer: 0.8 MB in twice that time. */
  fail_unless_equals_uint64(mv::reach_bytes(4e6, 100000), 800000);
  fail_unless_equals_uint64(mv::reach_bytes(8e6, 100000), 1600000);
}
GST_END_TEST;

GST_START_TEST(test_fetch_decisions) {
  const uint64_t MiB = 1 << 20;
  mv::FetchView main;
  main.main = true;
  main.position = 1 * MiB;
  main.limit = 14 * MiB;
  main.rate_bps = 4e6;
  main.started_us = 0;
  using A = mv::FetchDecision::Action;
  /* Just ahead of the main fetch: wait for it. */
  fail_unless(mv::decide_fetch(1 * MiB + 1000, {main}, 1000).action == A::Wait);
  /* The moov at the end of a 14 MB file: a fetch of its own. */
  fail_unless(mv::decide_fetch(14 * MiB - 1000, {main}, 1000).action == A::Start);
  /* Behind a fetch: it will never get there. */
  fail_unless(mv::decide_fetch(MiB / 2, {main}, 1000).action == A::Start);
  /* Beyond where the fetch stops (bytes already there in between). */
  mv::FetchView stops = main;
  stops.limit = 1 * MiB + 100000;
  fail_unless(mv::decide_fetch(1 * MiB + 200000, {stops}, 1000).action == A::Start);
  /* A slow answer makes waiting worth more: 2 MB ahead at 4 MB/s, with
   * requests answering in 300 ms, is within 2.4 MB. */
  fail_unless(mv::decide_fetch(3 * MiB, {main}, 300000).action == A::Wait);
  fail_unless(mv::decide_fetch(3 * MiB, {main}, 1000).action == A::Start);

  /* At the cap, the oldest Range fetch gives way; the main one never. */
  mv::FetchView older, newer;
  older.position = 10 * MiB;
  older.limit = 12 * MiB;
  older.started_us = 100;
  newer.position = 5 * MiB;
  newer.limit = 6 * MiB;
  newer.started_us = 200;
  mv::FetchDecision d = mv::decide_fetch(8 * MiB, {main, newer, older}, 1000);
  fail_unless(d.action == A::Replace);
  fail_unless_equals_int(d.replace, 2);
  /* A fetch about to reach the byte still wins over a new one. */
  fail_unless(mv::decide_fetch(10 * MiB + 10, {main, newer, older}, 1000).action == A::Wait);
}
GST_END_TEST;

GST_START_TEST(test_next_unclaimed) {
  mv::RangeSet have;
  have.add(0, 100);
  have.add(500, 600);
  /* From 100: the hole [100, 500), but a fetch heads through [100, 300). */
  auto next = mv::next_unclaimed(have, 1000, 100, {{100, 300}});
  fail_unless(next.has_value());
  fail_unless_equals_uint64(*next, 300);
  /* From 600: the hole [600, 1000). */
  next = mv::next_unclaimed(have, 1000, 600, {{100, 500}});
  fail_unless_equals_uint64(*next, 600);
  /* Everything after is claimed: back to the first unclaimed hole. */
  next = mv::next_unclaimed(have, 1000, 600, {{600, 1000}});
  fail_unless_equals_uint64(*next, 100);
  /* All claimed or there: nothing left. */
  fail_if(mv::next_unclaimed(have, 1000, 600, {{600, 1000}, {100, 500}}).has_value());
  have.add(100, 1000);
  fail_if(mv::next_unclaimed(have, 1000, 0, {}).has_value());
}
GST_END_TEST;

static bool put(mv::Spool& spool, uint64_t offset, const std::string& text) {
  mv::Error error;
  return spool.write(offset, mv::BufferRef::adopt(gst_buffer_new_memdup(text.data(), text.size())), &error);
}

GST_START_TEST(test_sparse_spool) {
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error), "%s", error.message.c_str());
  spool.set_total(30);
  /* The tail first, as a Range fetch brings it. */
  fail_unless(put(spool, 20, "KLMNOPQRST"));
  uint64_t available = 0;
  fail_unless(spool.wait(20, 10, &available) == mv::Spool::State::Ready);
  fail_unless_equals_uint64(available, 10);
  char buf[32] = {0};
  fail_unless_equals_int64(spool.read(25, buf, 5), 5);
  fail_unless(memcmp(buf, "PQRST", 5) == 0);
  /* The head is not there: a bounded wait says so. */
  fail_unless(spool.wait(0, 5, &available, 10) == mv::Spool::State::Pending);
  fail_unless_equals_uint64(spool.next_missing(0), 0);
  fail_unless_equals_uint64(spool.next_present(0, 30), 20);
  fail_if(spool.complete());
  /* Nothing is read across a hole. */
  fail_unless(put(spool, 0, "ABCDE"));
  fail_unless_equals_int64(spool.read(0, buf, 30), 5);
  std::thread fill([&spool] {
    g_usleep(20 * 1000);
    put(spool, 5, "FGHIJabcdefghij");
  });
  fail_unless(spool.wait(0, 30, &available) == mv::Spool::State::Ready);
  fill.join();
  fail_unless_equals_uint64(available, 30);
  fail_unless(spool.complete());
  fail_unless_equals_int64(spool.read(0, buf, 30), 30);
  fail_unless(memcmp(buf, "ABCDEFGHIJabcdefghijKLMNOPQRST", 30) == 0);
  /* The same bytes again, from two fetches that met: no harm. */
  fail_unless(put(spool, 18, "ijKL"));
  fail_unless_equals_uint64(spool.downloaded(), 30);
  fail_unless(spool.wait(30, 1, &available) == mv::Spool::State::Eos);
}
GST_END_TEST;

GST_START_TEST(test_sparse_spool_reads_back_from_disk) {
  /* More chunks than stay in memory, out of order: every byte comes back
   * from the file where it belongs. */
  mv::Spool spool;
  mv::Error error;
  fail_unless(spool.open(&error));
  const int kChunks = 40, kSize = 1000;
  spool.set_total(kChunks * kSize);
  for (int i = kChunks - 1; i >= 0; i -= 2)
    fail_unless(put(spool, (uint64_t)i * kSize, std::string(kSize, (char)('a' + i % 26))));
  for (int i = 0; i < kChunks; i += 2)
    fail_unless(put(spool, (uint64_t)i * kSize, std::string(kSize, (char)('a' + i % 26))));
  fail_unless(spool.complete());
  std::string all(kChunks * kSize, '\0');
  fail_unless_equals_int64(spool.read(0, all.data(), all.size()), (int64_t)all.size());
  for (int i = 0; i < kChunks; i++)
    fail_unless(all[(size_t)i * kSize] == (char)('a' + i % 26) && all[(size_t)i * kSize + kSize - 1] == all[(size_t)i * kSize],
                "chunk %d is wrong", i);
}
GST_END_TEST;

static Suite* ranges_suite(void) {
  Suite* s = suite_create("mindvideo-ranges");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_range_set_merges);
  tcase_add_test(tc, test_range_set_queries);
  tcase_add_test(tc, test_reach_follows_the_measured_rate);
  tcase_add_test(tc, test_fetch_decisions);
  tcase_add_test(tc, test_next_unclaimed);
  tcase_add_test(tc, test_sparse_spool);
  tcase_add_test(tc, test_sparse_spool_reads_back_from_disk);
  return s;
}

GST_CHECK_MAIN(ranges);
