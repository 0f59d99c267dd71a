#!/usr/bin/env bash
# Generates an image and writes a PNG thumbnail 320 pixels wide, aspect kept
# (videoscale picks the height: only the width is fixed in the caps).
#
#   image-thumbnail.sh [OUTPUT.png] [PROMPT]
#
# Needs MINDVIDEO_API_KEY (and MINDVIDEO_API_URL for anything but the real API).
set -euo pipefail
out=${1:-thumbnail.png}
prompt=${2:-"A lighthouse on a cliff in a storm"}
: "${MINDVIDEO_API_KEY:?set MINDVIDEO_API_KEY (or run this through examples/run-with-emulator.sh)}"

gst-launch-1.0 \
  mindvideosrc model=gemini-3-1-flash-image-preview prompt="$prompt" \
      input='{"size":"16:9","resolution":"1K"}' \
  ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=320,pixel-aspect-ratio=1/1 \
  ! pngenc ! filesink location="$out"

echo "wrote $out"
