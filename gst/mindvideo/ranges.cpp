/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "ranges.h"

#include <algorithm>

namespace mv {

void RangeSet::add(uint64_t start, uint64_t end) {
  if (start >= end)
    return;
  /* Merge with every range that touches [start, end). */
  auto it = ranges_.upper_bound(start);
  if (it != ranges_.begin() && std::prev(it)->second >= start)
    --it;
  while (it != ranges_.end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    size_ -= it->second - it->first;
    it = ranges_.erase(it);
  }
  ranges_.emplace(start, end);
  size_ += end - start;
}

bool RangeSet::contains(uint64_t offset) const {
  return contiguous_from(offset) > 0;
}

uint64_t RangeSet::contiguous_from(uint64_t offset) const {
  auto it = ranges_.upper_bound(offset);
  if (it == ranges_.begin())
    return 0;
  --it;
  return offset < it->second ? it->second - offset : 0;
}

uint64_t RangeSet::next_present(uint64_t offset, uint64_t limit) const {
  if (contains(offset))
    return std::min(offset, limit);
  auto it = ranges_.upper_bound(offset);
  return it == ranges_.end() ? limit : std::min(it->first, limit);
}

uint64_t RangeSet::next_missing(uint64_t offset) const {
  return offset + contiguous_from(offset);
}

bool RangeSet::covers(uint64_t total) const {
  return total == 0 || contiguous_from(0) >= total;
}

void RangeSet::clear() {
  ranges_.clear();
  size_ = 0;
}

uint64_t reach_bytes(double rate_bps, int64_t answer_us) {
  const double reach = rate_bps * 2.0 * (double)std::max<int64_t>(answer_us, 0) / 1e6;
  return std::max<uint64_t>(kMinReach, (uint64_t)reach);
}

FetchDecision decide_fetch(uint64_t offset, const std::vector<FetchView>& fetches, int64_t answer_us) {
  FetchDecision d;
  for (const FetchView& f : fetches) {
    if (offset >= f.position && offset < f.limit && offset - f.position <= reach_bytes(f.rate_bps, answer_us))
      return d; /* Wait */
  }
  if (fetches.size() < kMaxFetches) {
    d.action = FetchDecision::Action::Start;
    return d;
  }
  /* The Range fetch started longest ago serves the oldest need. */
  bool found = false;
  for (size_t i = 0; i < fetches.size(); i++) {
    if (fetches[i].main)
      continue;
    if (!found || fetches[i].started_us < fetches[d.replace].started_us) {
      d.replace = i;
      found = true;
    }
  }
  d.action = found ? FetchDecision::Action::Replace : FetchDecision::Action::Wait;
  return d;
}

std::optional<uint64_t> next_unclaimed(const RangeSet& have, uint64_t total, uint64_t from,
                                       const std::vector<std::pair<uint64_t, uint64_t>>& claimed) {
  /* The first byte at or after `at`, below `end`, that is missing and
   * unclaimed. */
  auto search = [&](uint64_t at, uint64_t end) -> std::optional<uint64_t> {
    while (at < end) {
      at = have.next_missing(at);
      if (at >= end)
        return std::nullopt;
      bool moved = false;
      for (const auto& [start, stop] : claimed) {
        if (at >= start && at < stop) {
          at = stop;
          moved = true;
        }
      }
      if (!moved)
        return at;
    }
    return std::nullopt;
  };
  if (auto hole = search(std::min(from, total), total))
    return hole;
  return search(0, std::min(from, total));
}

}  // namespace mv
