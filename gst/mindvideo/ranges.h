/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Range bookkeeping for the sparse spool, and the decisions of the fetches
 * that fill it, as pure code: no I/O, no clock, no threads.
 *
 * The spool's output arrives through up to kMaxFetches HTTP fetches at once:
 * the main one from byte 0, and Range fetches started where a reader waits
 * for bytes no fetch will reach soon (the `moov` atom at the end of an MP4,
 * a seek ahead). "Soon" is measured, not guessed: a reader waits for a fetch
 * that is at most reach_bytes() behind it, the bytes that fetch downloads in
 * twice the time a new request took to answer, and never less than
 * kMinReach. A nearer miss costs less waiting than a new request would.
 */
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace mv {

/* A set of byte ranges [start, end), kept merged. */
class RangeSet {
 public:
  void add(uint64_t start, uint64_t end);
  bool contains(uint64_t offset) const;
  /* How many bytes from `offset` are in the set without a gap (0 when
   * `offset` is not). */
  uint64_t contiguous_from(uint64_t offset) const;
  /* The first offset at or after `offset` that is in the set, or `limit`
   * when none is below it. */
  uint64_t next_present(uint64_t offset, uint64_t limit) const;
  /* The first offset at or after `offset` that is not in the set. */
  uint64_t next_missing(uint64_t offset) const;
  /* Whether [0, total) is all in the set. */
  bool covers(uint64_t total) const;
  uint64_t size() const { return size_; } /* bytes in the set */
  size_t count() const { return ranges_.size(); }
  void clear();

 private:
  std::map<uint64_t, uint64_t> ranges_; /* start -> end */
  uint64_t size_ = 0;
};

/* Fetches at once, at most: the main one and two Range fetches. */
constexpr size_t kMaxFetches = 3;
/* A reader waits rather than starting a fetch when one is this close. */
constexpr uint64_t kMinReach = 256 * 1024;

/* How far behind a reader a fetch may be for the reader to wait for it:
 * what it downloads at `rate_bps` in twice `answer_us`, the time a request
 * took to answer, and at least kMinReach. */
uint64_t reach_bytes(double rate_bps, int64_t answer_us);

/* A running fetch as the decisions see it. */
struct FetchView {
  uint64_t position = 0; /* the next byte it will download */
  uint64_t limit = 0;    /* where it stops: the next byte present, or the end */
  double rate_bps = 0;   /* measured; 0 before its first bytes */
  bool main = false;     /* the fetch from byte 0: never replaced */
  int64_t started_us = 0;
};

struct FetchDecision {
  enum class Action { Wait, Start, Replace } action = Action::Wait;
  size_t replace = 0; /* for Replace: the fetch to stop for the new one */
};

/* A reader waits for the missing byte at `offset`: wait for a fetch that
 * will reach it soon, start a fetch there, or, with kMaxFetches running,
 * replace the oldest Range fetch. */
FetchDecision decide_fetch(uint64_t offset, const std::vector<FetchView>& fetches, int64_t answer_us);

/* Where a fetch that reached bytes already present goes next: the first
 * missing byte of [0, total) at or after `from`, else from 0, that no
 * interval of `claimed` (the paths of the other fetches) covers. nullopt
 * when nothing is left for it. */
std::optional<uint64_t> next_unclaimed(const RangeSet& have, uint64_t total, uint64_t from,
                                       const std::vector<std::pair<uint64_t, uint64_t>>& claimed);

}  // namespace mv
