#!/usr/bin/env bash
# Generates four images in one task (n=4) and writes every one of them:
# output-index=-1 streams all outputs one after another, each starting with a
# DISCONT buffer, and multifilesink starts a new file on each DISCONT.
# The files keep the bytes the model produced (PNG for this model).
#
#   all-outputs.sh [OUTPUT_DIR] [PROMPT]     -> OUTPUT_DIR/image-0.png ... image-3.png
#
# Needs MINDVIDEO_API_KEY (and MINDVIDEO_API_URL for anything but the real API).
set -euo pipefail
dir=${1:-.}
prompt=${2:-"A neon sign that says OPEN, four variations"}
: "${MINDVIDEO_API_KEY:?set MINDVIDEO_API_KEY (or run this through examples/run-with-emulator.sh)}"
mkdir -p "$dir"

gst-launch-1.0 \
  mindvideosrc model=gemini-3-1-flash-image-preview prompt="$prompt" \
      input='{"n":4,"size":"1:1","resolution":"1K"}' output-index=-1 \
  ! multifilesink next-file=discont location="$dir/image-%d.png"

echo "wrote $dir/image-0.png ... $dir/image-3.png"
