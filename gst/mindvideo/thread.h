/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The element's own threads carry a name, so that top, perf and gdb tell
 * them apart.
 */
#pragma once

#include <pthread.h>

#include <thread>
#include <utility>

namespace mv {

/* Runs `fn` on a new thread named `name` (15 characters at most). */
template <typename Fn>
std::thread named_thread(const char* name, Fn&& fn) {
  return std::thread([name, fn = std::forward<Fn>(fn)]() mutable {
    pthread_setname_np(pthread_self(), name);
    fn();
  });
}

}  // namespace mv
