#!/usr/bin/env bash
# Runs a command against a fresh mindvideo-emulator on 127.0.0.1, with
# MINDVIDEO_API_URL and MINDVIDEO_API_KEY exported for it; stops the emulator
# afterwards and exits with the command's status. No network, no cost.
#
#   examples/run-with-emulator.sh [EMULATOR_OPTIONS...] -- COMMAND [ARGS...]
#   examples/run-with-emulator.sh -- examples/gst-launch/video-to-webm.sh /tmp/waves.webm
#   examples/run-with-emulator.sh --processing-ms 10000 -- examples/python/mindvideo-generate.py ...
#
# From a build tree (build/) it uses build/tests/emulator/mindvideo-emulator,
# the plugin in build/gst and the schemas in schemas/; MINDVIDEO_EMULATOR,
# GST_PLUGIN_PATH and MINDVIDEO_SCHEMA_PATH override them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

emulator_args=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  emulator_args+=("$1")
  shift
done
if [ $# -lt 2 ]; then
  echo "usage: $0 [EMULATOR_OPTIONS...] -- COMMAND [ARGS...]" >&2
  exit 2
fi
shift

emulator=${MINDVIDEO_EMULATOR:-$root/build/tests/emulator/mindvideo-emulator}
export MINDVIDEO_SCHEMA_PATH=${MINDVIDEO_SCHEMA_PATH:-$root/schemas}
if [ -z "${GST_PLUGIN_PATH_1_0:-}${GST_PLUGIN_PATH:-}" ]; then
  export GST_PLUGIN_PATH=$root/build/gst
fi

urlfile=$(mktemp)
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -f "$urlfile"
}
trap cleanup EXIT

key=mv_example_key
"$emulator" --port 0 --key "$key" --quiet "${emulator_args[@]}" >"$urlfile" &
emulator_pid=$!
# The emulator prints its URL, one line, once it listens.
until [ "$(wc -l <"$urlfile")" -ge 1 ]; do
  kill -0 "$emulator_pid" 2>/dev/null || { echo "$0: the emulator ($emulator) failed to start" >&2; exit 1; }
  sleep 0.1
done
MINDVIDEO_API_URL=$(head -n1 "$urlfile")
export MINDVIDEO_API_URL MINDVIDEO_API_KEY=$key
echo "run-with-emulator: MindVideo emulator at $MINDVIDEO_API_URL" >&2

"$@"
