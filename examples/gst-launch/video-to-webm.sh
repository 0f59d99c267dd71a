#!/usr/bin/env bash
# Generates an 8 s 720p video with veo3-1-quality and transcodes it to a
# 640x360 VP9 WebM (video only).
#
#   video-to-webm.sh [OUTPUT.webm] [PROMPT]
#
# Needs MINDVIDEO_API_KEY (and MINDVIDEO_API_URL for anything but the real API).
# `deadline=1 cpu-used=8` is libvpx's fastest realtime setting: about 1x real
# time on two cores at 640x360.
set -euo pipefail
out=${1:-video.webm}
prompt=${2:-"Waves rolling onto a beach at dawn, slow camera pan"}
: "${MINDVIDEO_API_KEY:?set MINDVIDEO_API_KEY (or run this through examples/run-with-emulator.sh)}"

gst-launch-1.0 -e \
  mindvideosrc model=veo3-1-quality prompt="$prompt" \
      input='{"aspect_ratio":"16:9","resolution":"720p"}' \
  ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=640,height=360 \
  ! vp9enc deadline=1 cpu-used=8 ! webmmux ! filesink location="$out"

echo "wrote $out"
