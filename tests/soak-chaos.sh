#!/usr/bin/env bash
# The chaos soak (issue #14): TASKS tasks, PARALLEL at a time, in one
# process (tests/soak/soak-chaos.cpp), each a "mindvideosrc ! fakesink"
# pipeline, against the emulator in seeded random fault mode. Passes when
# every output is byte-identical to the served file, the ledger shows
# exactly one charge per task and no run outlives its deadline. Its output
# ends with a Markdown table for docs/reliability.md.
#
#   bash tests/soak-chaos.sh [--tasks 200] [--parallel 8] [--seed 1] [--deadline 120] [--rates JSON]
#
# The seed defaults to $MINDVIDEO_SOAK_SEED, else 1. Builds in
# $MINDVIDEO_BUILDDIR (default build/) first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh >/dev/null
build="$root/${MINDVIDEO_BUILDDIR:-build}"

export GST_PLUGIN_SYSTEM_PATH_1_0
GST_PLUGIN_SYSTEM_PATH_1_0=$(pkg-config --variable=pluginsdir gstreamer-1.0)
export GST_PLUGIN_PATH_1_0="$build/gst"
export GST_REGISTRY="$build/tests/registry-soak.bin"
export GSETTINGS_BACKEND=memory
export MINDVIDEO_SCHEMA_PATH="$root/schemas"
export MINDVIDEO_EMULATOR="$build/tests/emulator/mindvideo-emulator"

cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
# The driver ends with "soak-chaos: PASS|FAIL: ..." and exits non-zero on FAIL.
"$build/tests/soak/soak-chaos" --cache-dir "$cache" --seed "${MINDVIDEO_SOAK_SEED:-1}" "$@"
