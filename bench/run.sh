#!/usr/bin/env bash
# The benchmark's one command (see bench/README.md):
#   bash bench/run.sh            full run: writes bench/RESULTS.md and bench/results.png
#   bash bench/run.sh --smoke    small and quick: results in $MINDVIDEO_BUILDDIR/bench/
# Further options go to bench/bench.py (--help lists them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# Installs the Debian packages (nginx, curl and gnuplot-nox among them; sudo
# only when not root) and builds into $MINDVIDEO_BUILDDIR (default build/).
bash scripts/build.sh
builddir=${MINDVIDEO_BUILDDIR:-build}

# bench.py starts nginx and the emulator itself and stops them on any exit
# (including Ctrl-C and SIGTERM).
exec python3 bench/bench.py --build-dir "$builddir" "$@"
