/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "cancel.h"

namespace mv {

Canceller::Canceller() : cancellable_(g_cancellable_new()) {}

Canceller::~Canceller() {
  g_object_unref(cancellable_);
}

void Canceller::cancel() {
  GCancellable* c;
  {
    std::lock_guard<std::mutex> guard(lock_);
    cancelled_ = true;
    c = (GCancellable*)g_object_ref(cancellable_);
  }
  cond_.notify_all();
  /* Outside the lock: "cancelled" handlers run synchronously. */
  g_cancellable_cancel(c);
  g_object_unref(c);
}

void Canceller::reset() {
  std::lock_guard<std::mutex> guard(lock_);
  if (!cancelled_)
    return;
  cancelled_ = false;
  /* A cancelled GCancellable may still be held by a call that is returning;
   * give the next calls a fresh one instead of resetting it under them. */
  g_object_unref(cancellable_);
  cancellable_ = g_cancellable_new();
}

bool Canceller::is_cancelled() const {
  std::lock_guard<std::mutex> guard(lock_);
  return cancelled_;
}

GCancellable* Canceller::cancellable_ref() const {
  std::lock_guard<std::mutex> guard(lock_);
  return (GCancellable*)g_object_ref(cancellable_);
}

bool Canceller::sleep_ms(int64_t ms) {
  std::unique_lock<std::mutex> guard(lock_);
  cond_.wait_for(guard, std::chrono::milliseconds(ms < 0 ? 0 : ms), [this] { return cancelled_ || nudged_; });
  nudged_ = false;
  return !cancelled_;
}

void Canceller::nudge() {
  {
    std::lock_guard<std::mutex> guard(lock_);
    nudged_ = true;
  }
  cond_.notify_all();
}

}  // namespace mv
