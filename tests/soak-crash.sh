#!/usr/bin/env bash
# The crash soak (issue #14): RUNS gst-launch-1.0 runs of the element, each
# killed with SIGKILL at a random moment of one phase (submitting, polling or
# downloading, in turn), then run again the same way, without a key, to the
# end. Expected, with the journal ($XDG_STATE_HOME/mindvideo/): the rerun
# finds the killed run's entry, submits with the same Idempotency-Key and
# gets the same task back, so the ledger shows ONE charge per request and
# every output is byte-identical to the file the emulator served.
#
# Until the journal lands, a request whose submission reached the server
# before the kill is charged twice: the soak then fails, naming each one.
#
#   bash tests/soak-crash.sh [RUNS]      (default 21: 7 per phase)
#
# The element is used uninstalled (GST_PLUGIN_PATH=build/gst), with
# XDG_STATE_HOME pointed at a temporary directory shared by a run and its
# rerun. The seed of the kill moments is $MINDVIDEO_SOAK_SEED (default 1).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
runs=${1:-21}
bash scripts/build.sh >/dev/null
build="$root/${MINDVIDEO_BUILDDIR:-build}"
py=/usr/bin/python3

export GST_PLUGIN_SYSTEM_PATH_1_0
GST_PLUGIN_SYSTEM_PATH_1_0=$(pkg-config --variable=pluginsdir gstreamer-1.0)
export GST_PLUGIN_PATH_1_0="$build/gst"
export GST_REGISTRY="$build/tests/registry-soak-crash.bin"
export GSETTINGS_BACKEND=memory
export MINDVIDEO_SCHEMA_PATH="$root/schemas"

work=$(mktemp -d)
emu_pid=""
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export XDG_STATE_HOME="$work/state"
mkdir -p "$XDG_STATE_HOME" "$work/out"

# Each phase lasts long enough to be hit at a random moment: submissions
# are answered after 1.5 s (and processed even if the client is gone, like a
# real server), tasks process for 2 s, downloads run at 300 kB/s.
"$build/tests/emulator/mindvideo-emulator" --port 0 --quiet --key mv_test_key \
  --queued-ms 300 --processing-ms 2000 --cache-dir "$work/cache" \
  --fault '{"route":"submit","action":"delay","ms":1500,"count":-1}' \
  --fault '{"route":"download","action":"slow","bytes_per_sec":300000,"count":-1,"method":"GET"}' \
  > "$work/emulator.url" 2> "$work/emulator.log" &
emu_pid=$!
# Up to 60 s: a cold plugin registry is scanned first. Stop early if it died.
for _ in $(seq 600); do
  [ -s "$work/emulator.url" ] && break
  kill -0 "$emu_pid" 2>/dev/null || break
  sleep 0.1
done
api=$(head -n1 "$work/emulator.url")
[ -n "$api" ] || { cat "$work/emulator.log"; echo "soak-crash: the emulator did not start"; exit 1; }

# Whether the request log (cleared before each run) has a request in phase
# $1 (submitting: the POST; polling: a GET of the task; downloading: a GET
# of the output on the CDN).
seen() {
  curl -sf "$api/_emulator/requests" | "$py" -c '
import json, sys
phase = sys.argv[1]
hit = False
for r in json.load(sys.stdin):
    if phase == "submitting" and r["origin"] == "api" and r["method"] == "POST":
        hit = True
    if phase == "polling" and r["origin"] == "api" and r["method"] == "GET" and r["path"].startswith("/api/v1/tasks/task_"):
        hit = True
    if phase == "downloading" and r["origin"] == "cdn" and r["method"] == "GET" and r["path"].startswith("/files/"):
        hit = True
sys.exit(0 if hit else 1)' "$1"
}

# The charges of request $1, and the served file of its (last) task:
# "COUNT PATH".
charges_and_file() {
  "$py" - "$api" "$1" <<'EOF'
import json, sys, urllib.request
api, run = sys.argv[1], int(sys.argv[2])
get = lambda p: json.load(urllib.request.urlopen(api + p))
count, path = 0, ""
for c in get("/_emulator/ledger")["charges"]:
    t = get("/_emulator/tasks/" + c["task_id"])
    if t.get("input", {}).get("soak_run") == run:
        count += 1
        files = t.get("files") or []
        if files:
            f = files[0]
            path = f.get("path", f) if isinstance(f, dict) else f
print(count, path)
EOF
}

# One request per run: the same prompt (so the emulator's cache makes the
# video once) and a field of the run's own in the input, which the emulator
# accepts for veo3-1-fast and the ledger check looks for.
launch() {  # run number, output file
  exec gst-launch-1.0 -q mindvideosrc api-url="$api" api-key=mv_test_key model=veo3-1-fast \
    prompt="crash soak" input="{\"duration\":2,\"soak_run\":$1}" poll-interval=200 timeout=120 \
    ! filesink location="$2"
}

RANDOM=${MINDVIDEO_SOAK_SEED:-1}
phases=(submitting polling downloading)
passed=0 failed=0 charged_twice=0
declare -A hit=()
start=$(date +%s)
for i in $(seq 1 "$runs"); do
  phase=${phases[$(( (i - 1) % 3 ))]}
  out="$work/out/$i.mp4"
  curl -sf -X DELETE "$api/_emulator/requests" >/dev/null

  # 1. Run, and kill -9 at a random moment of the phase.
  ( launch "$i" "$out" ) >"$work/run-$i.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do seen "$phase" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  # Within the phase: up to 1.2 s (submit answers take 1.5 s; downloads ~3 s).
  sleep "0.$(( RANDOM % 12 ))"
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    hit[$phase]=$(( ${hit[$phase]:-0} + 1 ))
    killed="killed while $phase"
  else
    wait "$pid" 2>/dev/null || true
    killed="ended before the kill"
  fi

  # 2. The same command again, no key: it must deliver, paying nothing more.
  if ! ( launch "$i" "$out" ) >>"$work/run-$i.log" 2>&1; then
    failed=$((failed + 1))
    echo "run $i ($killed): the rerun failed:"; sed 's/^/  /' "$work/run-$i.log" | tail -5
    continue
  fi
  read -r count served < <(charges_and_file "$i")
  if [ "$count" -ne 1 ]; then
    failed=$((failed + 1)); charged_twice=$((charged_twice + 1))
    echo "run $i ($killed): $count charges for one request"
  elif [ -z "$served" ] || ! cmp -s "$out" "$served"; then
    failed=$((failed + 1))
    echo "run $i ($killed): the output differs from the served file"
  else
    passed=$((passed + 1))
  fi
done

left=$(find "$XDG_STATE_HOME" -type f 2>/dev/null | wc -l)
total=$("$py" -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]+"/_emulator/ledger"))["count"])' "$api")
echo "soak-crash: killed while submitting ${hit[submitting]:-0}, polling ${hit[polling]:-0}, downloading ${hit[downloading]:-0}; $total charges for $runs requests; $left files left in \$XDG_STATE_HOME; $(( $(date +%s) - start )) s"
echo "soak-crash: $passed passed, $failed failed ($charged_twice charged more than once)"
[ "$failed" -eq 0 ]
