#!/usr/bin/env bash
# Installs the Debian packages, configures the build directory once and
# builds. The build directory is $MINDVIDEO_BUILDDIR, default build/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
builddir=${MINDVIDEO_BUILDDIR:-build}
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir"
fi
meson compile -C "$builddir"
