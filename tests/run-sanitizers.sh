#!/usr/bin/env bash
# The test suite in an AddressSanitizer + UndefinedBehaviorSanitizer build
# (build-asan/). Leaks are left to tests/valgrind.sh, which tells GLib's and
# GStreamer's one-time allocations apart from ours.
#
#   bash tests/run-sanitizers.sh [extra meson test arguments]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

builddir=${MINDVIDEO_ASAN_BUILDDIR:-build-asan}
if [ ! -f "$builddir/build.ninja" ]; then
  # b_lundef=false: the plugin leaves the sanitizer runtime's symbols to the
  # process that loads it.
  meson setup "$builddir" -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
fi
meson compile -C "$builddir"

# gst-launch-1.0 (run by some tests) is not built with the sanitizers but
# loads the plugin, so the runtime is preloaded. libstdc++ too: GIO's
# libproxy module throws C++ exceptions, which ASan's __cxa_throw
# interceptor can only forward once libstdc++ is loaded.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Scan plugins in-process: the scanner helper is not built with ASan.
export GST_REGISTRY_FORK=no
# The bench's smoke run is left out: it times nginx and curl, which are not
# ours, and would get the preloaded runtime too.
meson test -C "$builddir" --print-errorlogs --timeout-multiplier 3 --no-suite bench "$@"
