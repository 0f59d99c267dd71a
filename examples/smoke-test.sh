#!/usr/bin/env bash
# Smoke test of one example: runs it and checks what it wrote. Run under
# run-with-emulator.sh (meson test does: examples/meson.build), which exports
# MINDVIDEO_API_URL and MINDVIDEO_API_KEY; the checks also read the
# emulator's charge ledger.
#
#   examples/run-with-emulator.sh --queued-ms 200 --processing-ms 600 -- examples/smoke-test.sh NAME
#
# NAME: video-to-webm image-thumbnail composite all-outputs python-generate
#       python-error python-interrupt (needs --processing-ms 4000) cpp-app
# cpp-app runs $MINDVIDEO_EXAMPLE_APP (default build/examples/mindvideo-app).
set -euo pipefail
examples=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:?usage: $0 NAME}
: "${MINDVIDEO_API_URL:?run this under examples/run-with-emulator.sh}"

tmp=$(mktemp -d)
trap 'rc=$?; if [ $rc -eq 0 ]; then rm -rf "$tmp"; else echo "smoke-test: files kept in $tmp" >&2; fi' EXIT

fail() {
  echo "FAIL ($name): $*" >&2
  exit 1
}

# expect_media FILE PATTERN...: gst-discoverer-1.0 can read FILE and every
# PATTERN (an extended regex) matches a line of what it found.
expect_media() {
  local file=$1 out
  shift
  [ -s "$file" ] || fail "$file is missing or empty"
  out=$(gst-discoverer-1.0 "$file" 2>&1) || fail "gst-discoverer-1.0 failed on $file: $out"
  for pattern in "$@"; do
    grep -Eq "$pattern" <<<"$out" || fail "$file: no line matches '$pattern' in:"$'\n'"$out"
  done
}

# expect_duration FILE MIN MAX: the duration in whole seconds is in [MIN, MAX].
expect_duration() {
  local s
  s=$(gst-discoverer-1.0 "$1" | awk '/^ *Duration:/ { split($2, t, ":"); print int(t[1] * 3600 + t[2] * 60 + t[3]) }')
  [[ $s =~ ^[0-9]+$ ]] || fail "$1: gst-discoverer-1.0 reports no duration"
  if [ "$s" -lt "$2" ] || [ "$s" -gt "$3" ]; then fail "$1 lasts ${s}s, expected $2..$3 s"; fi
}

# A Python 3 with PyGObject (python3-gi); a pyenv or venv python3 may lack it.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import gi' 2>/dev/null; then python=$candidate; break; fi
done

# ledger FIELD: a field of the emulator's charge ledger, through Python:
# count, total, or task_id / idempotency_key of the last charge.
ledger() {
  "${python:-python3}" - "$1" <<'EOF'
import json, os, sys, urllib.request
with urllib.request.urlopen(os.environ["MINDVIDEO_API_URL"] + "/_emulator/ledger") as r:
    doc = json.load(r)
field = sys.argv[1]
print(f"{doc[field]:g}" if field == "total" else doc[field] if field == "count" else doc["charges"][-1][field])
EOF
}

# run NAME COMMAND...: runs COMMAND with its stdout in $tmp/NAME.out and its
# stderr in $tmp/NAME.err, shows both, and leaves its exit status in $rc.
run() {
  local n=$1
  shift
  rc=0
  "$@" >"$tmp/$n.out" 2>"$tmp/$n.err" || rc=$?
  cat "$tmp/$n.out" "$tmp/$n.err"
}

expect_output() {  # expect_output FILE PATTERN: a line of FILE matches PATTERN (grep -E)
  grep -Eq -- "$2" "$1" || fail "no line of $(basename "$1") matches '$2'"
}

generate=$examples/python/mindvideo-generate.py
case $name in
video-to-webm)
  "$examples/gst-launch/video-to-webm.sh" "$tmp/waves.webm"
  expect_media "$tmp/waves.webm" 'container( #0)?: WebM' 'video( #1)?: VP9' 'Width: 640$' 'Height: 360$'
  expect_duration "$tmp/waves.webm" 7 8
  ;;
image-thumbnail)
  "$examples/gst-launch/image-thumbnail.sh" "$tmp/thumb.png"
  # A 16:9 image: 320 wide keeps the aspect at 180 high.
  expect_media "$tmp/thumb.png" 'image.*: PNG' 'Width: 320$' 'Height: 1(79|80|81)$'
  ;;
composite)
  "$examples/gst-launch/composite.sh" "$tmp/composite.mp4"
  expect_media "$tmp/composite.mp4" 'container( #0)?: Quicktime' 'video( #1)?: H\.264 \(High Profile\)' \
    'Width: 1280$' 'Height: 720$'
  expect_duration "$tmp/composite.mp4" 7 8
  [ "$(ledger count)" = 2 ] || fail "expected 2 tasks charged, got $(ledger count)"
  ;;
all-outputs)
  "$examples/gst-launch/all-outputs.sh" "$tmp/out"
  for i in 0 1 2 3; do
    expect_media "$tmp/out/image-$i.png" 'image.*: PNG' 'Width: [0-9]+$'
  done
  [ "$(find "$tmp/out" -type f | wc -l)" = 4 ] || fail "expected exactly 4 files, got: $(ls "$tmp/out")"
  [ "$(sha256sum "$tmp"/out/*.png | cut -d' ' -f1 | sort -u | wc -l)" = 4 ] || fail "the 4 images are not distinct"
  [ "$(ledger count)" = 1 ] || fail "expected 1 task charged, got $(ledger count)"
  ;;
python-generate)
  [ -n "$python" ] || fail "no python3 with PyGObject (install python3-gi)"
  run gen "$python" "$generate" --model gemini-3-1-flash-image-preview --prompt "a red fox in the snow" \
    --input '{"size":"1:1"}' --output "$tmp/fox.png"
  [ $rc = 0 ] || fail "exit status $rc"
  expect_media "$tmp/fox.png" 'image.*: PNG'
  expect_output "$tmp/gen.out" "^Task $(ledger task_id), cost $(ledger total) \(estimate $(ledger total)\)"
  expect_output "$tmp/gen.err" "^progress: Task $(ledger task_id): succeeded"
  ;;
python-error)
  [ -n "$python" ] || fail "no python3 with PyGObject (install python3-gi)"
  run gen "$python" "$generate" --model gemini-3-1-flash-image-preview --prompt "five foxes" \
    --input '{"n":5}' --output "$tmp/fox.png"
  [ $rc = 1 ] || fail "exit status $rc, expected 1"
  expect_output "$tmp/gen.err" '^Error: gemini-3-1-flash-image-preview: n = 5 is above the maximum 4'
  [ ! -s "$tmp/fox.png" ] || fail "an output was written"
  [ "$(ledger count)" = 0 ] || fail "a task was charged"
  ;;
python-interrupt)
  [ -n "$python" ] || fail "no python3 with PyGObject (install python3-gi)"
  # Ctrl-C while the task is processing (the emulator keeps it so for 4 s) ...
  args=(--model veo3-1-quality --prompt "a red car at sunset" --input '{"resolution":"720p"}'
        --output "$tmp/car.mp4")
  set -m  # job control, else a background job ignores SIGINT
  "$python" "$generate" "${args[@]}" >"$tmp/gen.out" 2>"$tmp/gen.err" &
  pid=$!
  set +m
  for _ in $(seq 1 300); do
    grep -q ': processing$' "$tmp/gen.err" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  grep -q ': processing$' "$tmp/gen.err" || { cat "$tmp/gen.err" >&2; fail "the task never showed as processing"; }
  kill -INT $pid
  rc=0
  wait $pid || rc=$?
  cat "$tmp/gen.out" "$tmp/gen.err"
  [ $rc = 130 ] || fail "exit status $rc after SIGINT, expected 130"
  task_id=$(ledger task_id)
  key=$(ledger idempotency_key)
  expect_output "$tmp/gen.err" "^Task id: $task_id\$"
  expect_output "$tmp/gen.err" "^Idempotency key: $key\$"
  # ... then resume with the printed key: the same task, not charged again.
  run resume "$python" "$generate" "${args[@]}" --idempotency-key "$key"
  [ $rc = 0 ] || fail "the resumed run exited with $rc"
  expect_output "$tmp/resume.out" "^Task $task_id, cost $(ledger total) "
  [ "$(ledger count)" = 1 ] || fail "charged $(ledger count) times, expected once"
  expect_media "$tmp/car.mp4" 'container( #0)?: Quicktime' 'video( #1)?: H\.264' 'Width: 1280$' 'Height: 720$'
  ;;
cpp-app)
  app=${MINDVIDEO_EXAMPLE_APP:-$examples/../build/examples/mindvideo-app}
  # A JPEG image decoded and written as PNG ...
  run image "$app" --model qwen-image-2-0-pro --prompt "a koi pond" --input '{"size":"16:9"}' --output "$tmp/koi.png"
  [ $rc = 0 ] || fail "exit status $rc"
  expect_media "$tmp/koi.png" 'image.*: PNG' 'Width: 1024$' 'Height: 576$'
  expect_output "$tmp/image.out" '^status: succeeded$'
  expect_output "$tmp/image.out" "^Done\. Cost: $(ledger total) "
  # ... and a video's first frame.
  run video "$app" --model veo3-1-quality --prompt "a koi pond, slow pan" --output "$tmp/poster.png"
  [ $rc = 0 ] || fail "exit status $rc"
  expect_media "$tmp/poster.png" 'image.*: PNG' 'Width: 1280$' 'Height: 720$'
  expect_output "$tmp/video.out" '^status: succeeded$'
  ;;
*)
  fail "unknown smoke test"
  ;;
esac
echo "PASS ($name)"
