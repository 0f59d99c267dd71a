/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "test-helpers.h"

#include <glib/gstdio.h>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

TempDir::TempDir(const char* tmpl) {
  gchar* p = g_dir_make_tmp(tmpl, nullptr);
  fail_unless(p != nullptr, "cannot make a temporary directory %s", tmpl);
  path = p;
  g_free(p);
}

static void remove_tree(const std::string& path) {
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR) && !g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)) {
    if (GDir* d = g_dir_open(path.c_str(), 0, nullptr)) {
      while (const gchar* n = g_dir_read_name(d))
        remove_tree(path + "/" + n);
      g_dir_close(d);
    }
    g_rmdir(path.c_str());
  } else {
    g_unlink(path.c_str());
  }
}

TempDir::~TempDir() {
  remove_tree(path);
}

int count_entries(const std::string& dir) {
  int n = 0;
  if (GDir* d = g_dir_open(dir.c_str(), 0, nullptr)) {
    while (g_dir_read_name(d))
      n++;
    g_dir_close(d);
  }
  return n;
}

std::unique_ptr<EmulatorProcess> start_emulator_process(const std::vector<std::string>& args) {
  auto emu = EmulatorProcess::start(args);
  fail_unless(emu != nullptr, "the emulator did not start");
  return emu;
}

std::string read_file(const std::string& path) {
  g_autofree gchar* data = nullptr;
  gsize size = 0;
  fail_unless(g_file_get_contents(path.c_str(), &data, &size, nullptr), "cannot read %s", path.c_str());
  return std::string(data, size);
}

guint32 be32(const std::string& data, size_t at) {
  return ((guint32)(guint8)data[at] << 24) | ((guint32)(guint8)data[at + 1] << 16) |
         ((guint32)(guint8)data[at + 2] << 8) | (guint32)(guint8)data[at + 3];
}

std::vector<std::string> mp4_boxes(const std::string& data) {
  std::vector<std::string> boxes;
  size_t pos = 0;
  while (pos + 8 <= data.size()) {
    guint64 size = be32(data, pos);
    std::string type = data.substr(pos + 4, 4);
    if (size == 1 && pos + 16 <= data.size())
      size = ((guint64)be32(data, pos + 8) << 32) | be32(data, pos + 12);
    if (size < 8)
      break;
    boxes.push_back(type);
    pos += size;
  }
  return boxes;
}
