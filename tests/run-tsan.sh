#!/usr/bin/env bash
# The test suite in a ThreadSanitizer build (build-tsan/), issue #14. Each
# element runs several threads (streaming, download, spool writer, event
# watcher); a data race between them fails the run.
#
# Which tests, and why:
#  - run, progressive, resume, reliability, native, logs, inputs, network:
#    the element and mv::Run with all their threads; progressive runs
#    several Range fetches at once and stops them, reliability runs 32
#    elements at once and cycles states while downloads run, resume kills
#    and reruns. These are the point of this build.
#  - mindvideosrc: the checks tests/valgrind.sh runs (stops while
#    submitting, polling and downloading, bus messages, errors, resume...).
#    Its other checks decode video and measure GStreamer's decoders, which
#    takes too long under TSan for CI.
#  - spool, ranges, journal, retry, api, uri, schema, network-settings: the
#    core's logic; spool and ranges drive the spool's writer thread. They
#    take seconds.
#  - emulator-cdn, emulator-ranges, emulator-chaos: the emulator's CDN
#    threads (throttled, concurrent) and its chaos mode.
#  - left out: conformance (the JSON Schema suite: one thread, minutes
#    under TSan, nothing to find), fuzz-replay (one thread, covered by the
#    ASan build) and the bench (times nginx and curl, not ours).
#
# GLib, GStreamer and libsoup are not built with TSan here. Three things
# keep their internals from drowning the reports, none of which hides a
# frame of this project:
#  - tests/tsan/glib-sync.c, preloaded: GMutex, GRecMutex, GRWLock and GCond
#    are futexes that TSan cannot see; the shim tells it about each lock,
#    unlock and wait, so fields guarded by GST_OBJECT_LOCK or a stream lock
#    are not reported.
#  - ignore_noninstrumented_modules=1: memory accesses that the libraries
#    make through intercepted functions (malloc, free, memcpy, strlen...)
#    are not checked, as the libraries' own code is not either.
#  - tests/tsan/suppressions.txt: library-only entries, each saying why.
#
#   bash tests/run-tsan.sh [extra meson test arguments]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh >/dev/null

builddir=${MINDVIDEO_TSAN_BUILDDIR:-build-tsan}
if [ ! -f "$builddir/build.ninja" ]; then
  # b_lundef=false: the plugin leaves the sanitizer runtime's symbols to the
  # process that loads it. debugoptimized: TSan's slowdown on -O0 code would
  # double the time of this step.
  meson setup "$builddir" -Dbuildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false >/dev/null
fi
meson compile -C "$builddir" >/dev/null

shim="$(cd "$builddir" && pwd)/libtsan-glib-sync.so"
gcc -shared -fPIC -O1 -Wall $(pkg-config --cflags glib-2.0) tests/tsan/glib-sync.c -o "$shim" -ldl

# The shim goes into every process the tests start (it is inert in those
# without GLib or TSan). The TSan runtime itself cannot: dash (/bin/sh,
# which some tests run) crashes with it preloaded. Only the GStreamer tools
# the tests run (gst-launch-1.0, gst-play-1.0), which are not built with TSan
# but load the plugin, get it, through wrappers first in PATH; the test
# binaries and the emulator link it.
export LD_PRELOAD="$shim"
wrappers="$(cd "$builddir" && pwd)/tsan-bin"
mkdir -p "$wrappers"
for tool in gst-launch-1.0 gst-play-1.0; do
  cat > "$wrappers/$tool" <<EOF
#!/bin/sh
LD_PRELOAD="$(gcc -print-file-name=libtsan.so) $shim" exec $(command -v $tool) "\$@"
EOF
  chmod +x "$wrappers/$tool"
done
export PATH="$wrappers:$PATH"
# halt_on_error=0 + exitcode: every report of a test is printed, and the
# test still fails. second_deadlock_stack: both stacks of a lock inversion.
export TSAN_OPTIONS="suppressions=$root/tests/tsan/suppressions.txt exitcode=66 halt_on_error=0 second_deadlock_stack=1 history_size=4 report_signal_unsafe=0 ignore_noninstrumented_modules=1"
# Scan plugins in-process: the scanner helper is a separate, uninstrumented
# process with nothing of ours to check.
export GST_REGISTRY_FORK=no
# gst-check runs each test in a forked child by default; TSan cannot start
# threads after a fork of a multi-threaded process (GStreamer's are), so
# each test binary runs its tests in one process. meson's timeout still
# bounds them.
export CK_FORK=no

tests=(run progressive resume reliability native logs inputs network spool ranges journal retry api uri schema network-settings emulator-cdn emulator-ranges emulator-chaos)
element_checks=test_image_decodes_at_size,test_bytes_identical_to_served_file,test_output_index,test_request_and_no_key_to_output_host,test_bus_messages,test_failed_task_message,test_missing_key_refused_without_request,test_http_errors_map_to_clear_errors,test_resume_by_key_and_attach_by_task_id,test_restart_reuses_the_task,test_null_while_polling,test_null_while_submitting,test_null_while_downloading_and_streaming,test_stop_mid_task_closes_progress
start=$(date +%s)
# The element tests cannot share the machine under TSan's slowdown: one at
# a time (they are is_parallel: false anyway), with a generous multiplier.
status=0
meson test -C "$builddir" --print-errorlogs --timeout-multiplier 4 --logbase tsan-suite "${tests[@]}" "$@" \
  > "$builddir/tsan-test.log" 2>&1 || status=1
GST_CHECKS=$element_checks meson test -C "$builddir" --print-errorlogs --timeout-multiplier 4 --logbase tsan-element \
  mindvideosrc "$@" >> "$builddir/tsan-test.log" 2>&1 || status=1
logs=("$builddir/meson-logs/tsan-suite.txt" "$builddir/meson-logs/tsan-element.txt")
grep -E "^ *[0-9]+/[0-9]+ " "$builddir/tsan-test.log" || true
races=$(cat "${logs[@]}" | grep -c "WARNING: ThreadSanitizer" || true)
# meson lists each failure twice (progress and summary): count names once.
ok=$( { grep -E "^ *[0-9]+/[0-9]+ .* OK " "$builddir/tsan-test.log" || true; } | sort -u | wc -l)
bad=$( { grep -E "^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR) " "$builddir/tsan-test.log" || true; } | sort -u | wc -l)
if [ "$status" -ne 0 ]; then
  # For whoever reads the CI log: why each failed check failed (gst-check
  # prints "file:line:F:..." or ":E:"), and the race reports.
  grep -E ":[0-9]+:[FE]:" "${logs[@]}" | head -40 || true
  cat "${logs[@]}" | sed -n '/WARNING: ThreadSanitizer/,/^SUMMARY: ThreadSanitizer/p' | head -400
fi
echo "tsan: $ok passed, $bad failed, $races ThreadSanitizer reports (any process, the emulator's included), $(( $(date +%s) - start )) s"
exit "$status"
