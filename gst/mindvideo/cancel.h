/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A sticky cancel flag shared by every blocking call of one thread of work:
 * HTTP I/O (through a GCancellable) and sleeps (through a condition). Once
 * cancel() has run, every wait returns at once, including waits that start
 * later, until reset().
 */
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace mv {

class Canceller {
 public:
  Canceller();
  ~Canceller();
  Canceller(const Canceller&) = delete;
  Canceller& operator=(const Canceller&) = delete;

  void cancel();
  void reset();
  bool is_cancelled() const;

  /* The GCancellable for the next I/O call, with a reference the caller
   * drops. It is already cancelled when this canceller is. */
  GCancellable* cancellable_ref() const;

  /* Sleeps `ms` milliseconds, or less when nudged; returns false at once
   * when cancelled. */
  bool sleep_ms(int64_t ms);

  /* Ends the current or next sleep early (not a cancel): something worth
   * acting on happened, such as a pushed task event. */
  void nudge();

 private:
  mutable std::mutex lock_;
  std::condition_variable cond_;
  bool cancelled_ = false;
  bool nudged_ = false;
  GCancellable* cancellable_;
};

}  // namespace mv
