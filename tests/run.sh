#!/usr/bin/env bash
# README command 2: install what is needed, build, and run the test suite.
#   bash tests/run.sh [extra meson test arguments]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/build.sh
builddir=${MINDVIDEO_BUILDDIR:-build}
meson test -C "$builddir" --print-errorlogs "$@"
