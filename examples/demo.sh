#!/usr/bin/env bash
# README command 1: install, build, then generate a video and an image with
# mindvideosrc and write files a person can open.
#
#   bash examples/demo.sh
#
# Without MINDVIDEO_API_KEY it starts the bundled emulator on 127.0.0.1 and
# runs against it (no network, no cost). With MINDVIDEO_API_KEY set it runs
# against the real API (MINDVIDEO_API_URL, default https://api.mindvideo.ai),
# which charges for both tasks.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/build.sh
builddir=${MINDVIDEO_BUILDDIR:-build}

# Use the element from the build tree, without installing it.
export GST_PLUGIN_PATH="$root/$builddir/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export MINDVIDEO_SCHEMA_PATH="$root/schemas"
out="$root/demo-output"
mkdir -p "$out"

emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if [ -z "${MINDVIDEO_API_KEY:-}" ]; then
  urlfile=$(mktemp)
  "$builddir/tests/emulator/mindvideo-emulator" --port 0 --key mv_demo_key >"$urlfile" &
  emulator_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$urlfile" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { echo "demo: the emulator failed to start" >&2; exit 1; }
    sleep 0.1
  done
  export MINDVIDEO_API_URL=$(head -n1 "$urlfile")
  export MINDVIDEO_API_KEY=mv_demo_key
  rm -f "$urlfile"
  echo "demo: using the MindVideo emulator at $MINDVIDEO_API_URL (set MINDVIDEO_API_KEY to use the real API)"
else
  echo "demo: using the real MindVideo API at ${MINDVIDEO_API_URL:-https://api.mindvideo.ai} (this is charged)"
fi

echo
echo "== 1/2 video: veo3-1-quality, transcoded to a 960x540 H.264 MP4"
gst-launch-1.0 -e mindvideosrc model=veo3-1-quality \
    prompt="A red sports car drives along a coastal road at sunset, cinematic" \
    input='{"aspect_ratio":"16:9","resolution":"720p","duration":8}' \
  ! decodebin ! videoconvert ! videoscale ! video/x-raw,width=960,height=540 \
  ! x264enc speed-preset=veryfast ! h264parse ! mp4mux faststart=true \
  ! filesink location="$out/red-car.mp4"

echo
echo "== 2/2 image: gemini-3-1-flash-image-preview, written as PNG"
gst-launch-1.0 -e mindvideosrc model=gemini-3-1-flash-image-preview \
    prompt="A cyberpunk city at night, neon lights flickering" \
    input='{"size":"16:9","resolution":"1K","n":1}' \
  ! decodebin ! videoconvert ! pngenc ! filesink location="$out/neon-city.png"

echo
for f in "$out/red-car.mp4" "$out/neon-city.png"; do
  [ -s "$f" ] || { echo "demo: $f was not written" >&2; exit 1; }
  gst-discoverer-1.0 "$f" | grep -E "^Done|Duration|video|image|Width|Height" | head -n 8 || true
done
echo
echo "demo: done. Open these:"
echo "  $out/red-car.mp4"
echo "  $out/neon-city.png"
