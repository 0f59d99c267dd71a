/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Helpers shared by the element tests (tests/check) and the emulator's
 * tests (tests/emulator): polling, temporary directories, files, MP4 boxes,
 * and an emulator process that fails the test when it cannot start. Each fails the running test (gst-check)
 * on error.
 */
#pragma once

#include "emulator-harness.h"

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

/* Polls `done` every 10 ms for 30 s at most; whether it came true. */
template <typename Fn>
bool wait_until(Fn done) {
  for (int i = 0; i < 3000; i++) {
    if (done())
      return true;
    g_usleep(10 * 1000);
  }
  return false;
}

/* A fresh directory from g_dir_make_tmp(`tmpl`), removed with everything in
 * it when the TempDir goes; fails the test if it cannot be made. */
struct TempDir {
  explicit TempDir(const char* tmpl);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

/* How many entries `dir` holds (0 when it cannot be read). */
int count_entries(const std::string& dir);

/* EmulatorProcess::start(args); fails the test if the emulator cannot start. */
std::unique_ptr<EmulatorProcess> start_emulator_process(const std::vector<std::string>& args);

/* The whole file; fails the test if it cannot be read. */
std::string read_file(const std::string& path);

/* The big-endian 32-bit number at `at`. */
guint32 be32(const std::string& data, size_t at);

/* Top-level ISO-BMFF (MP4) box types, in file order. */
std::vector<std::string> mp4_boxes(const std::string& data);
