#!/usr/bin/env bash
# Generates a video and an image (two tasks, run at the same time) and puts the
# image over the video's top-right corner, picture-in-picture, into an H.264 MP4.
#
#   composite.sh [OUTPUT.mp4]
#
# Needs MINDVIDEO_API_KEY (and MINDVIDEO_API_URL for anything but the real API).
# imagefreeze repeats the one decoded image as a video stream. It must end for
# the compositor to end: veo3-1-quality videos last 8 s (its only duration),
# so the image is shown for 8 s x 24 fps = 192 frames.
set -euo pipefail
out=${1:-composite.mp4}
: "${MINDVIDEO_API_KEY:?set MINDVIDEO_API_KEY (or run this through examples/run-with-emulator.sh)}"

gst-launch-1.0 -e \
  compositor name=mix \
      sink_1::xpos=920 sink_1::ypos=40 sink_1::width=320 sink_1::height=320 \
      sink_1::sizing-policy=keep-aspect-ratio \
  ! videoconvert ! video/x-raw,format=I420 ! x264enc speed-preset=veryfast ! h264parse ! mp4mux faststart=true \
  ! filesink location="$out" \
  mindvideosrc model=veo3-1-quality prompt="A busy city street at night, rain, neon reflections" \
      input='{"aspect_ratio":"16:9","resolution":"720p"}' \
  ! decodebin ! videoconvert ! mix.sink_0 \
  mindvideosrc model=gpt-image-2 prompt="A round logo of a stylised camera, flat design" \
      input='{"size":"1:1","resolution":"1k"}' \
  ! decodebin ! videoconvert ! imagefreeze num-buffers=192 ! video/x-raw,framerate=24/1 ! mix.sink_1

echo "wrote $out"
