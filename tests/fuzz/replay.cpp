/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs the fuzz target over every file of the given directories, without
 * libFuzzer: the corpus as a regression test under any compiler.
 */
#include <glib.h>

#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  int files = 0;
  for (int i = 1; i < argc; i++) {
    GDir* dir = g_dir_open(argv[i], 0, nullptr);
    if (!dir) {
      g_printerr("replay: cannot open %s\n", argv[i]);
      return 1;
    }
    while (const char* name = g_dir_read_name(dir)) {
      gchar* path = g_build_filename(argv[i], name, nullptr);
      gchar* contents = nullptr;
      gsize length = 0;
      if (g_file_get_contents(path, &contents, &length, nullptr)) {
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(contents), length);
        files++;
      }
      g_free(contents);
      g_free(path);
    }
    g_dir_close(dir);
  }
  g_print("replay: %d inputs\n", files);
  return files > 0 ? 0 : 1;
}
