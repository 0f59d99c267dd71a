/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target: everything the element parses from a server it does not
 * control. A task body, an error body, a Retry-After header. Built with
 * libFuzzer by tests/fuzz/run.sh; tests/meson.build replays the corpus on
 * every test run.
 */
#include "api.h"
#include "retry.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  mv::TaskInfo task;
  std::string error;
  if (mv::parse_task(body, &task, &error)) {
    /* What the element does next with a parsed task. */
    for (const auto& output : task.outputs)
      (void)mv::is_http_url(output.url);
    (void)mv::status_is_terminal(task.status);
  }
  (void)mv::parse_error_message(body);
  (void)mv::parse_retry_after(body, 1795262400);
  return 0;
}
