#!/usr/bin/env python3
# mindvideosrc benchmark driver (python3 standard library only).
#
# Called by bench/run.sh (the documented command) and by `meson test
# --suite bench` (the smoke mode). It makes the test files, starts nginx and
# the emulator, runs mindvideo-bench (one fresh process per measurement),
# curl for comparison, and writes RESULTS.md and results.png (gnuplot).
#
# Copyright (C) 2026 mindvideosrc developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""mindvideosrc benchmark driver; see bench/README.md."""

import argparse
import datetime
import json
import math
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MiB = 1024 * 1024
API_KEY = "mv_bench_key"
POLL_INTERVAL_MS = 1000  # the element's default; the latency target depends on it

SRC_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(SRC_DIR)

# What each mode runs with: (full, smoke).
PLANS = {
    "full": dict(
        throughput_size=256 * MiB, throughput_runs=15, raw_runs=3,
        memory_small=16 * MiB, memory_large=1024 * MiB, memory_runs=3,
        latency_samples=40, latency_min_ms=1000, latency_max_ms=4000,
        polling_seconds=60,
        concurrency=64, concurrency_size=16 * MiB, concurrency_processing_ms=2000,
        # Progressive playback (issue #12): an 8 s 1080p H.264 MP4 of at least
        # 14 MB (15 Mbit/s), behind nginx limit_rate 4m (first frame) and 2m (seek).
        video_width=1920, video_height=1080, video_fps=30, video_seconds=8, video_kbps=15000,
        video_min_bytes=14_000_000, playback_runs=5, playback_warmup=True,
    ),
    "smoke": dict(
        throughput_size=4 * MiB, throughput_runs=2, raw_runs=1,
        memory_small=1 * MiB, memory_large=4 * MiB, memory_runs=1,
        latency_samples=3, latency_min_ms=1000, latency_max_ms=2000,
        polling_seconds=5,
        concurrency=8, concurrency_size=1 * MiB, concurrency_processing_ms=1000,
        video_width=320, video_height=240, video_fps=30, video_seconds=2, video_kbps=2000,
        video_min_bytes=100_000, playback_runs=1, playback_warmup=False,
    ),
}

# "curl-file" is curl writing the file into the spool's directory: a client
# that keeps the bytes on disk, as the element must (the spool), shown for
# context; the targets are against souphttpsrc and curl -o /dev/null.
TOOLS = ["mindvideosrc", "souphttpsrc", "curl", "curl-file"]
ELEMENTS = ["mindvideosrc", "souphttpsrc"]  # GStreamer runs: CPU time and peak RSS are ours to report
# Progressive playback: `<source> ! decodebin ! fakesink`; "downloadbuffer" is
# `uridecodebin download=true` (souphttpsrc ! downloadbuffer ! decodebin).
PLAYERS = ["mindvideosrc", "souphttpsrc", "downloadbuffer"]
# nginx locations that throttle each response (limit_rate; nginx's "m" is MiB/s).
RATES = {"first_frame": "4m", "seek": "2m"}
SEEK_FRACTION = 0.75

# An MP4 `ftyp` box (isom) and an empty `free` box: the test files start like
# the MP4s the API returns, so typefinding stops at video/quicktime. Pure
# random data is typefound by every typefinder, which loads gst-libav
# (~0.1 s and ~35 MiB RSS once per process): measured separately.
MP4_HEADER = (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
              b"\x00\x00\x00\x08free")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def size_label(n):
    return f"{n // (1024 * MiB)} GiB" if n >= 1024 * MiB else f"{n // MiB} MiB"


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s)))
    return s[rank - 1]


def median(values):
    return statistics.median(values) if values else float("nan")


def fmt(x, digits=1):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:,.{digits}f}"


def yes_no(ok):
    return "**yes**" if ok else "**NO**"


class Children:
    """Every process we start, so that an exit or a signal stops them."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, **kw):
        proc = subprocess.Popen(cmd, **kw)
        self.procs.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM, wait=10):
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in list(reversed(self.procs)):
            self.stop(proc)


class Bench:
    def __init__(self, args):
        self.args = args
        self.smoke = args.smoke
        self.plan = dict(PLANS["smoke" if args.smoke else "full"])
        for key in ("throughput_runs", "latency_samples", "polling_seconds", "concurrency", "playback_runs"):
            value = getattr(args, key)
            if value is not None:
                self.plan[key] = value
        self.children = Children()
        self.failures = []  # sanity failures: a run that did not do what it should
        self.results = {}
        build = os.path.abspath(args.build_dir)
        self.bench_exe = args.bench_exe or os.path.join(build, "bench", "mindvideo-bench")
        self.emulator_exe = (args.emulator or os.environ.get("MINDVIDEO_EMULATOR")
                             or os.path.join(build, "tests", "emulator", "mindvideo-emulator"))
        self.out_dir = os.path.abspath(args.out_dir or (os.path.join(build, "bench") if self.smoke or args.playback_only
                                                        else SRC_DIR))
        env = dict(os.environ)
        if not env.get("GST_PLUGIN_PATH_1_0") and not env.get("GST_PLUGIN_PATH"):
            env["GST_PLUGIN_PATH"] = os.path.join(build, "gst")
        env.setdefault("MINDVIDEO_SCHEMA_PATH", os.path.join(ROOT, "schemas"))
        env.setdefault("GST_REGISTRY", os.path.join(build, "bench", "registry-bench.bin"))
        # The element's own settings come from the bench, never from the caller's shell.
        for var in ("MINDVIDEO_API_KEY", "MINDVIDEO_API_URL", "GST_DEBUG"):
            env.pop(var, None)
        self.env = env
        # nginx, curl, gnuplot and the like are not ours: no sanitizer runtime
        # preloaded into them (tests/run-sanitizers.sh preloads ASan).
        self.tool_env = {k: v for k, v in env.items() if k != "LD_PRELOAD"}
        self.tmp = None
        self.api_url = None
        self.nginx_url = None

    # ---- processes ----

    def check_tools(self):
        missing = [p for p in (self.bench_exe, self.emulator_exe) if not os.access(p, os.X_OK)]
        missing += [t for t in ("nginx", "curl", "gnuplot") if not shutil.which(t, path=self.path_with_sbin())]
        if missing:
            sys.exit("bench: missing " + ", ".join(missing)
                     + " (bash scripts/install-deps.sh installs nginx, curl and gnuplot-nox; "
                     "bash scripts/build.sh builds the rest)")

    def path_with_sbin(self):
        return os.environ.get("PATH", "") + ":/usr/sbin:/sbin"

    def run_json(self, cmd, timeout):
        """Runs a command, returns (exit status, list of JSON objects on stdout)."""
        proc = self.children.start(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.children.stop(proc, signal.SIGKILL)
            out, err = proc.communicate()
            err += f"\n(killed after {timeout} s)"
        if proc in self.children.procs:
            self.children.procs.remove(proc)
        lines = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
        if proc.returncode != 0 and err.strip():
            log(f"{os.path.basename(cmd[0])} {cmd[1] if len(cmd) > 1 else ''} exited {proc.returncode}:\n"
                + "\n".join(err.strip().splitlines()[-15:]))
        return proc.returncode, lines

    def bench(self, mode, *extra, timeout=900):
        cmd = [self.bench_exe, mode, "--api-url", self.api_url, "--api-key", API_KEY, *map(str, extra)]
        status, lines = self.run_json(cmd, timeout)
        return status, lines

    def make_files(self):
        """Random data (incompressible) behind a 40-byte MP4 header, so that the
        element's typefinding recognises video/quicktime as it would a real
        output; and one headerless file of the throughput size, for the cost of
        an output whose type is not recognised."""
        www = os.path.join(self.tmp, "www")
        os.makedirs(www)
        self.files = {}
        sizes = {self.plan["throughput_size"], self.plan["memory_small"], self.plan["memory_large"],
                 self.plan["concurrency_size"]}
        for size in sorted(sizes):
            name = f"data-{size}.mp4"
            log(f"writing {size_label(size)} of random data")
            with open(os.path.join(www, name), "wb") as f:
                f.write(MP4_HEADER)
                f.flush()
                subprocess.run(["head", "-c", str(size - len(MP4_HEADER)), "/dev/urandom"], stdout=f, check=True,
                               env=self.tool_env)
            self.files[size] = name
        size = self.plan["throughput_size"]
        self.raw_file = f"raw-{size}.bin"
        with open(os.path.join(www, self.raw_file), "wb") as f:
            subprocess.run(["head", "-c", str(size), "/dev/urandom"], stdout=f, check=True, env=self.tool_env)
        self.make_videos(www)
        return www

    def make_videos(self, www):
        """The progressive playback files: one H.264 encode (x264enc, moving
        SMPTE bars with a timestamp) muxed by mp4mux with the moov at the end
        (its default, like the API's videos), then remuxed with
        faststart=true (moov first; same samples)."""
        p = self.plan
        frames = p["video_seconds"] * p["video_fps"]
        self.video_duration_s = p["video_seconds"]
        self.videos = {"moov-last": "video-moov-last.mp4", "faststart": "video-faststart.mp4"}
        last = os.path.join(www, self.videos["moov-last"])
        fast = os.path.join(www, self.videos["faststart"])
        gst_launch = shutil.which("gst-launch-1.0") or "gst-launch-1.0"
        log(f"encoding a {p['video_seconds']} s {p['video_width']}x{p['video_height']} H.264 MP4 "
            f"at {p['video_kbps']} kbit/s")
        t0 = time.monotonic()
        encode = [gst_launch, "-q", "videotestsrc", "pattern=smpte", "horizontal-speed=6", f"num-buffers={frames}", "!",
                  f"video/x-raw,width={p['video_width']},height={p['video_height']},framerate={p['video_fps']}/1",
                  "!", "timeoverlay", "font-desc=Sans 40", "!", "videoconvert", "!", "video/x-raw,format=I420", "!",
                  "x264enc", "speed-preset=ultrafast", f"bitrate={p['video_kbps']}", f"key-int-max={p['video_fps']}",
                  "!", "h264parse", "!", "mp4mux", "!", "filesink", f"location={last}"]
        remux = [gst_launch, "-q", "filesrc", f"location={last}", "!", "qtdemux", "!", "h264parse", "!", "mp4mux",
                 "faststart=true", f"faststart-file={fast}.tmp", "!", "filesink", f"location={fast}"]
        for cmd in (encode, remux):
            proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=600)
            if proc.returncode != 0:
                sys.exit(f"bench: {' '.join(cmd[:3])}... failed: {proc.stderr.strip()[-1000:]}")
        self.video_encode_s = time.monotonic() - t0
        self.video_bytes = {k: os.path.getsize(os.path.join(www, v)) for k, v in self.videos.items()}
        for kind, size in self.video_bytes.items():
            self.check(size >= p["video_min_bytes"], f"{kind} video: {size} bytes, expected at least "
                                                      f"{p['video_min_bytes']}")
        log(f"  {self.video_bytes['moov-last'] / 1e6:.1f} MB (moov last), {self.video_bytes['faststart'] / 1e6:.1f} MB "
            f"(faststart) in {self.video_encode_s:.1f} s")

    def start_nginx(self, www):
        nginx = shutil.which("nginx", path=self.path_with_sbin())
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(os.path.join(prefix, "temp"))
        for attempt in range(5):
            with socket.socket() as s:  # a free port; nginx binds it right after
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            conf = os.path.join(prefix, "nginx.conf")
            temp = os.path.join(prefix, "temp")
            with open(conf, "w") as f:
                f.write(f"""# written by bench/bench.py
daemon off;
master_process on;
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{"user root root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{ }}
        # Progressive playback: each response throttled (per connection).
        location /rate4/ {{ alias {www}/; limit_rate 4m; }}
        location /rate2/ {{ alias {www}/; limit_rate 2m; }}
    }}
}}
""")
            log_file = open(os.path.join(prefix, "stderr.log"), "a")
            proc = self.children.start([nginx, "-e", os.path.join(prefix, "error.log"), "-p", prefix + "/", "-c", conf],
                                       stdout=log_file, stderr=log_file, env=self.tool_env)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        self.nginx = proc
                        self.nginx_url = f"http://127.0.0.1:{port}"
                        log(f"nginx on {self.nginx_url}")
                        return
                except OSError:
                    time.sleep(0.05)
            self.children.stop(proc)
            log(f"nginx did not start on port {port} (attempt {attempt + 1})")
        errors = open(os.path.join(prefix, "error.log")).read() if os.path.exists(os.path.join(prefix, "error.log")) else ""
        sys.exit("bench: nginx did not start:\n" + errors[-2000:])

    def start_emulator(self):
        err = open(os.path.join(self.tmp, "emulator.log"), "w")
        cache = os.path.join(self.tmp, "emulator-cache")
        proc = self.children.start([self.emulator_exe, "--port", "0", "--key", API_KEY, "--quiet",
                                    "--cache-dir", cache, "--queued-ms", "0", "--processing-ms", "0"],
                                   stdout=subprocess.PIPE, stderr=err, env=self.env, text=True)
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().strip() if ready else ""
        if not line.startswith("http"):
            self.children.stop(proc)
            sys.exit("bench: the emulator did not start: " + open(os.path.join(self.tmp, "emulator.log")).read())
        self.emulator = proc
        self.api_url = line
        log(f"emulator on {self.api_url}")

    def url(self, size):
        return f"{self.nginx_url}/{self.files[size]}"

    def raw_url(self):
        return f"{self.nginx_url}/{self.raw_file}"

    def video_url(self, measure):
        kind = "moov-last" if measure == "first_frame" else "faststart"
        return f"{self.nginx_url}/rate{RATES[measure][:-1]}/{self.videos[kind]}"

    # ---- measurements ----

    def curl_run(self, size, to_file=False):
        out = os.path.join(self.tmp, "curl-output") if to_file else "/dev/null"
        cmd = ["curl", "-sS", "-o", out, "-w",
               "%{time_pretransfer} %{time_starttransfer} %{time_total} %{size_download} %{http_code}", self.url(size)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=self.tool_env)
        finally:
            if to_file and os.path.exists(out):
                os.unlink(out)
        try:
            pre, start, total, got, code = proc.stdout.split()
            seconds = float(total) - float(start)          # first byte to end
            seconds_request = float(total) - float(pre)    # request to end
            got = int(got)
        except ValueError:
            return {"ok": False, "bytes": 0, "seconds": 0, "mib_per_s": 0, "mib_per_s_request": 0,
                    "error": proc.stderr.strip()}
        ok = proc.returncode == 0 and code == "200" and got == size and seconds > 0
        return {"ok": ok, "bytes": got, "seconds": seconds, "seconds_request": seconds_request,
                "mib_per_s": got / MiB / seconds if seconds > 0 else 0,
                "mib_per_s_request": got / MiB / seconds_request if seconds_request > 0 else 0}

    def transfer_run(self, tool, size, url=None):
        if tool in ("curl", "curl-file"):
            return self.curl_run(size, to_file=tool == "curl-file")
        status, lines = self.bench("throughput", "--element", tool, "--url", url or self.url(size), "--size", size)
        if not lines:
            return {"ok": False, "bytes": 0, "seconds": 0, "mib_per_s": 0, "mib_per_s_request": 0,
                    "error": f"exit {status}, no result"}
        return lines[-1]

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
            log(f"FAILED: {what}")
        return ok

    def throughput(self):
        size = self.plan["throughput_size"]
        runs = self.plan["throughput_runs"]
        log(f"throughput: {size_label(size)}, {runs} alternating rounds of {', '.join(TOOLS)}")
        for tool in TOOLS:  # warm-up, not counted: page cache, emulator cache, registry
            self.transfer_run(tool, size)
        rounds = []
        for r in range(runs):
            order = TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]
            result = {}
            for tool in order:
                res = self.transfer_run(tool, size)
                self.check(res.get("ok") and res.get("bytes") == size,
                           f"throughput round {r + 1} {tool}: bytes {res.get('bytes')} of {size} {res.get('error', '')}")
                result[tool] = res
                log(f"  round {r + 1} {tool}: {fmt(res.get('mib_per_s_request', 0))} MiB/s from the request, "
                    f"{fmt(res.get('mib_per_s', 0))} MiB/s from the first byte")
            rounds.append(result)
        good = [r for r in rounds if all(r[t].get("ok") for t in TOOLS)]

        def summary(key):
            rate = {t: [r[t][key] for r in good] for t in TOOLS}
            ratio_soup = [r["mindvideosrc"][key] / r["souphttpsrc"][key] for r in good]
            ratio_curl = [r["mindvideosrc"][key] / r["curl"][key] for r in good]
            ratio_curl_file = [r["mindvideosrc"][key] / r["curl-file"][key] for r in good]
            return dict(median={t: median(rate[t]) for t in TOOLS},
                        ratio_soup=median(ratio_soup), ratio_curl=median(ratio_curl),
                        ratio_curl_file=median(ratio_curl_file))

        # Headline: from the request for the output to the end (see README.md).
        headline = summary("mib_per_s_request")
        self.results["throughput"] = dict(
            size=size, runs=runs, rounds=rounds, good=len(good), first_byte=summary("mib_per_s"),
            cpu={t: median([r[t]["cpu_s"] for r in good]) for t in ELEMENTS},
            rss={t: median([r[t]["peak_rss_kib"] for r in good]) for t in ELEMENTS},
            **headline)
        for tool in ELEMENTS:
            for r in good:
                self.check(r[tool].get("peak_rss_kib", 0) > 0, f"throughput {tool}: no peak RSS")
        # The same transfer with an output whose type nothing recognises.
        raw = []
        for i in range(self.plan["raw_runs"]):
            res = self.transfer_run("mindvideosrc", size, self.raw_url())
            if self.check(res.get("ok") and res.get("bytes") == size,
                          f"throughput, unrecognised type, run {i + 1}: bytes {res.get('bytes')} of {size}"):
                raw.append(res)
                log(f"  unrecognised type, run {i + 1}: {fmt(res['mib_per_s_request'])} MiB/s from the request, "
                    f"peak RSS {fmt(res['peak_rss_kib'] / 1024)} MiB")
        self.results["throughput"]["raw"] = dict(
            runs=len(raw), median=median([r["mib_per_s_request"] for r in raw]),
            rss=median([r["peak_rss_kib"] for r in raw]),
            seconds=median([r["seconds_request"] for r in raw]))

    def memory(self):
        small, large = self.plan["memory_small"], self.plan["memory_large"]
        runs = self.plan["memory_runs"]
        log(f"memory: mindvideosrc peak RSS for {size_label(small)} and {size_label(large)}, {runs} run(s) each")
        rss = {small: [], large: []}
        for r in range(runs):
            for size in ((small, large) if r % 2 == 0 else (large, small)):
                status, lines = self.bench("memory", "--url", self.url(size), "--size", size)
                res = lines[-1] if lines else {}
                ok = res.get("ok") and res.get("bytes") == size and res.get("peak_rss_kib", 0) > 0
                self.check(ok, f"memory {size_label(size)}: bytes {res.get('bytes')} of {size}, "
                               f"peak RSS {res.get('peak_rss_kib')} KiB {res.get('error', '')}")
                if ok:
                    rss[size].append(res["peak_rss_kib"])
                    log(f"  {size_label(size)}: peak RSS {fmt(res['peak_rss_kib'] / 1024)} MiB, "
                        f"{fmt(res['mib_per_s_request'])} MiB/s")
        med = {s: median(v) for s, v in rss.items()}
        self.results["memory"] = dict(small=small, large=large, rss=rss, median=med,
                                      delta_mib=(med[large] - med[small]) / 1024)

    def latency(self):
        n, lo, hi = self.plan["latency_samples"], self.plan["latency_min_ms"], self.plan["latency_max_ms"]
        log(f"latency: {n} samples, processing {lo}-{hi} ms, poll-interval default ({POLL_INTERVAL_MS} ms)")
        status, lines = self.bench("latency", "--samples", n, "--min-ms", lo, "--max-ms", hi,
                                   timeout=120 + n * (hi / 1000 + 30))
        samples = [l for l in lines if l.get("mode") == "latency"]
        self.check(len(samples) == n, f"latency: {len(samples)} of {n} samples")
        for s in samples:
            self.check(s.get("ok") and 0 < s["latency_ms"] < 10000,
                       f"latency sample {s.get('sample')}: {s.get('latency_ms')} ms {s.get('error', '')}")
        good = [s for s in samples if s.get("ok")]
        lat = [s["latency_ms"] for s in good]
        comp = [s["complete_ms"] for s in good if s["complete_ms"] >= 0]
        self.results["latency"] = dict(
            samples=samples, n=len(good), lo=lo, hi=hi,
            median=median(lat), p95=percentile(lat, 95), min=min(lat, default=float("nan")),
            max=max(lat, default=float("nan")), mean=statistics.mean(lat) if lat else float("nan"),
            complete_median=median(comp), complete_p95=percentile(comp, 95),
            first_buffer_after_complete=median([s["latency_ms"] - s["complete_ms"] for s in good
                                                if s["complete_ms"] >= 0]),
            download_median=median([s["download_ms"] for s in good]),
            bytes=median([s["bytes"] for s in good]),
            target=POLL_INTERVAL_MS / 2 + 50,
            events_from=sorted({s.get("events_from", "?") for s in good}),
        )
        log(f"  median {fmt(self.results['latency']['median'])} ms, p95 {fmt(self.results['latency']['p95'])} ms")

    def polling(self):
        seconds = self.plan["polling_seconds"]
        log(f"polling: one task processing for {seconds} s")
        status, lines = self.bench("polling", "--seconds", seconds, timeout=seconds + 300)
        res = lines[-1] if lines else {}
        self.check(res.get("ok") and res.get("status_requests", 0) > 0 and res.get("cpu_s", -1) >= 0
                   and res.get("peak_rss_kib", 0) > 0, f"polling: {res or 'no result'}")
        self.results["polling"] = dict(seconds=seconds, **res)
        if res:
            log(f"  CPU {fmt(res.get('cpu_s', 0) * 1000)} ms, {fmt(res.get('requests_per_task_minute', 0))} "
                f"status requests per task-minute")

    def concurrency(self):
        count, size = self.plan["concurrency"], self.plan["concurrency_size"]
        log(f"concurrency: {count} elements in one process, {size_label(size)} each")
        status, lines = self.bench("concurrency", "--count", count, "--url", self.url(size), "--size", size,
                                   "--processing-ms", self.plan["concurrency_processing_ms"], timeout=900)
        res = lines[-1] if lines else {}
        self.check(res.get("ok") and res.get("completed") == count and res.get("peak_rss_kib", 0) > 0,
                   f"concurrency: {res or 'no result'}")
        self.results["concurrency"] = dict(size=size, processing_ms=self.plan["concurrency_processing_ms"], **res)
        if res:
            log(f"  {res.get('completed')}/{count} completed, CPU {fmt(res.get('cpu_s', 0), 2)} s, "
                f"peak RSS {fmt(res.get('peak_rss_kib', 0) / 1024)} MiB")

    def playback_run(self, player, measure):
        extra = ["--element", player, "--url", self.video_url(measure), "--timeout", 120]
        if measure == "seek":
            extra += ["--seek", SEEK_FRACTION, "--duration-s", self.video_duration_s]
        status, lines = self.bench("playback", *extra, timeout=180)
        res = lines[-1] if lines else {"ok": False, "error": f"exit {status}, no result"}
        return res

    def playback(self):
        """First frame of a moov-at-end MP4 at 4 MiB/s, and a seek ahead in a
        faststart MP4 at 2 MiB/s, for the three players in alternating rounds."""
        runs = self.plan["playback_runs"]
        self.results["playback"] = {}
        for measure in ("first_frame", "seek"):
            kind = "moov-last" if measure == "first_frame" else "faststart"
            log(f"playback {measure}: {self.video_bytes[kind] / 1e6:.1f} MB {kind} MP4 at nginx limit_rate "
                f"{RATES[measure]}, {runs} alternating round(s) of {', '.join(PLAYERS)}")
            if self.plan["playback_warmup"]:
                for player in PLAYERS:  # not counted: registry, decoder plugins, page cache
                    self.playback_run(player, measure)
            rounds = []
            for r in range(runs):
                order = PLAYERS[r % len(PLAYERS):] + PLAYERS[:r % len(PLAYERS)]
                result = {}
                for player in order:
                    res = self.playback_run(player, measure)
                    self.check(res.get("ok") and res.get("seconds", -1) >= 0,
                               f"playback {measure} round {r + 1} {player}: {res.get('error', res)}")
                    result[player] = res
                    log(f"  round {r + 1} {player}: {fmt(res.get('seconds', float('nan')), 3)} s"
                        + (f" (frame at {fmt(res.get('frame_pts_s'), 2)} s of {fmt(res.get('duration_s'), 2)} s)"
                           if measure == "seek" else ""))
                rounds.append(result)
            good = [r for r in rounds if all(r[p_].get("ok") and r[p_].get("seconds", 0) > 0 for p_ in PLAYERS)]
            med = {p_: median([r[p_]["seconds"] for r in good]) for p_ in PLAYERS}
            # souphttpsrc's time ÷ this player's: ≥ 1 means as fast as souphttpsrc.
            ratio = {p_: median([r["souphttpsrc"]["seconds"] / r[p_]["seconds"] for r in good]) for p_ in PLAYERS}
            self.results["playback"][measure] = dict(
                rounds=rounds, good=len(good), runs=runs, median=med, ratio=ratio, rate=RATES[measure],
                bytes=self.video_bytes[kind], kind=kind,
                seek_to=median([r[p_].get("seek_to_s", float("nan")) for r in good for p_ in PLAYERS])
                if measure == "seek" else None)
            log(f"  medians: " + ", ".join(f"{p_} {fmt(med[p_], 3)} s" for p_ in PLAYERS)
                + f"; souphttpsrc ÷ mindvideosrc {fmt(ratio['mindvideosrc'], 2)}×")

    # ---- report ----

    def tool_output(self, cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, env=self.tool_env, timeout=60)
        except OSError as e:
            return subprocess.CompletedProcess(cmd, 127, "", str(e))

    def machine(self):
        info = {}
        info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        info["nproc"] = self.tool_output(["nproc"]).stdout.strip()
        model = "unknown"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        info["cpu"] = model
        try:
            kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
            info["ram"] = f"{kb / 1024 / 1024:.1f} GiB"
        except (OSError, StopIteration, ValueError):
            info["ram"] = "unknown"
        info["kernel"] = os.uname().release
        _, lines = self.run_json([self.bench_exe, "versions"], 120)
        v = lines[-1] if lines else {}
        info["gstreamer"] = v.get("gstreamer", "unknown")
        info["libsoup"] = v.get("libsoup", "unknown")
        nginx = self.tool_output([shutil.which("nginx", path=self.path_with_sbin()), "-v"])
        info["nginx"] = (nginx.stderr.strip().split("/", 1) + ["?"])[1]
        info["curl"] = (self.tool_output(["curl", "--version"]).stdout.split() + ["?", "?"])[1]
        git = self.tool_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
        dirty = self.tool_output(["git", "-C", ROOT, "status", "--porcelain", "--", "gst"])
        info["commit"] = (git.stdout.strip() or "unknown") + (" + local changes in gst/" if dirty.stdout.strip() else "")
        info["tmpdir"] = os.environ.get("TMPDIR", "/tmp")
        return info

    def chart(self, info, path):
        t = self.results["throughput"]
        m = self.results["memory"]
        data = os.path.join(self.tmp, "chart")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "throughput.dat"), "w") as f:
            for tool in TOOLS:
                f.write(f'"{tool}" {t["median"][tool]:.3f}\n')
        with open(os.path.join(data, "rss.dat"), "w") as f:
            for size in (m["small"], m["large"]):
                f.write(f'"{size_label(size)} output" {m["median"][size] / 1024:.3f}\n')
        pb = self.results["playback"]
        # One block per player (gnuplot `index`): x = its bar in the first-frame
        # group (0-2) and in the seek group (4-6).
        with open(os.path.join(data, "playback.dat"), "w") as f:
            for i, player in enumerate(PLAYERS):
                for g, measure in enumerate(("first_frame", "seek")):
                    v = pb[measure]["median"][player]
                    f.write(f"{g * 4 + i} {v if v == v and v > 0 else 0.001:.4f}\n")
                f.write("\n\n")
        pvals = [v for x in pb.values() for v in x["median"].values() if v == v and v > 0]
        ymin_p = 10 ** math.floor(math.log10(min(pvals) / 1.5)) if pvals else 0.01

        def top(values):
            finite = [v for v in values if v == v and v > 0]
            return max(finite) * 1.15 if finite else 1

        ymax_t = top(t["median"].values())
        ymax_m = top([v / 1024 for v in m["median"].values()])
        ymax_p = top([v for x in pb.values() for v in x["median"].values()]) * 8  # room for the key (log scale)
        script = f"""
set terminal pngcairo size 1650,500 font ",10"
set output '{path}'
set multiplot layout 1,3 title "mindvideosrc bench, {info['date']}, {info['nproc']} cores{' (smoke)' if self.smoke else ''}"
set style fill solid 0.75 border -1
set boxwidth 0.6
set grid ytics
set xrange [-0.6:3.6]
unset key
set title "Throughput over {size_label(t['size'])}, median of {t['good']} runs (request to end)\\nmindvideosrc = {t['ratio_soup']:.2f}x souphttpsrc, {t['ratio_curl']:.2f}x curl (targets >= 1.0x, >= 0.8x)"
set ylabel "MiB/s"
set yrange [0:{ymax_t}]
plot '{data}/throughput.dat' using 0:2:($0+1):xtic(1) with boxes lc variable, \\
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8
set xrange [-0.6:1.6]
set title "mindvideosrc peak RSS (VmHWM), median\\n{size_label(m['large'])} uses {m['delta_mib']:+.1f} MiB vs {size_label(m['small'])} (target <= +8)"
set ylabel "MiB"
set yrange [0:{ymax_m}]
plot '{data}/rss.dat' using 0:2:($0+5):xtic(1) with boxes lc variable, \\
     '' using 0:2:(sprintf("%.1f", $2)) with labels offset 0,0.8
set xrange [-0.8:6.8]
set logscale y
set yrange [{ymin_p}:{ymax_p}]
set key top center horizontal samplen 1.5 width -2
set bmargin 4
set xtics ("first frame\\n(moov at end, {pb['first_frame']['rate'][:-1]} MiB/s)" 1, "seek to {int(SEEK_FRACTION * 100)}%%\\n(faststart, {pb['seek']['rate'][:-1]} MiB/s)" 5)
set title "Progressive playback, median s (log scale; lower is better)\\nsouphttpsrc / mindvideosrc: first frame {pb['first_frame']['ratio']['mindvideosrc']:.2f}x, seek {pb['seek']['ratio']['mindvideosrc']:.2f}x (>= 0.8x)"
set ylabel "seconds"
plot for [i=0:2] '{data}/playback.dat' index i using 1:2 with boxes lc i+1 title word("{' '.join(PLAYERS)}", i+1), \\
     for [i=0:2] '' index i using 1:2:(sprintf($2 < 0.1 ? "%.3f" : "%.2f", $2)) with labels offset 0,0.8 notitle
unset logscale y
unset multiplot
"""
        with open(os.path.join(data, "chart.gp"), "w") as f:
            f.write(script)
        proc = subprocess.run(["gnuplot", os.path.join(data, "chart.gp")], capture_output=True, text=True,
                              env=self.tool_env)
        made = proc.returncode == 0 and os.path.exists(path) and os.path.getsize(path) > 0
        self.check(made, f"gnuplot chart: {proc.stderr.strip()[-500:]}")

    def report(self, info, path, png_name):
        t, m, l, p, c = (self.results[k] for k in ("throughput", "memory", "latency", "polling", "concurrency"))
        soup_ok = t["ratio_soup"] >= 1.0
        curl_ok = t["ratio_curl"] >= 0.8
        mem_ok = m["delta_mib"] <= 8
        lat_ok = l["median"] <= l["target"]
        cpu_ms = p.get("cpu_s", float("nan")) * 1000
        switches = p.get("context_switches_per_s", float("nan"))
        # "No busy waiting": a waiting process should wake a few times per poll, not
        # hundreds of times a second.
        poll_ok = p.get("ok", False) and cpu_ms < 50 and switches < 50
        conc_ok = c.get("ok", False)
        pb = self.results["playback"]
        ff_ok = pb["first_frame"]["ratio"]["mindvideosrc"] >= 0.8
        seek_ok = pb["seek"]["ratio"]["mindvideosrc"] >= 0.8
        out = []
        w = out.append
        w("# mindvideosrc benchmark results" + (" (smoke mode)" if self.smoke else ""))
        w("")
        w(f"Written by `bash bench/run.sh{' --smoke' if self.smoke else ''}` (see [README.md](README.md)) "
          f"on **{info['date']}**.")
        w("")
        w(f"- Machine: **{info['nproc']} cores** (`nproc`), {info['cpu']}, {info['ram']} RAM, Linux {info['kernel']}")
        w(f"- GStreamer {info['gstreamer']}, libsoup {info['libsoup']}, nginx {info['nginx']}, curl {info['curl']}")
        w(f"- Tree: {info['commit']}; spool in `{info['tmpdir']}`; everything on loopback (127.0.0.1)")
        w("- These machines are noisy: read the **ratios**, the absolute times are for context.")
        if self.failures:
            w("")
            w(f"**{len(self.failures)} run(s) failed**; their numbers are left out:")
            for f_ in self.failures:
                w(f"- {f_}")
        w("")
        w("## Summary")
        w("")
        w("| measurement | result | target | met |")
        w("|---|---|---|---|")
        w(f"| 1. Throughput vs souphttpsrc ({size_label(t['size'])}) | **{t['ratio_soup']:.2f}×** "
          f"(median of {t['good']} paired runs) | ≥ 1.0× | {yes_no(soup_ok)} |")
        w(f"| 1. Throughput vs curl ({size_label(t['size'])}) | **{t['ratio_curl']:.2f}×** "
          f"(median of {t['good']} paired runs) | ≥ 0.8× | {yes_no(curl_ok)} |")
        w(f"| 2. Peak RSS, {size_label(m['large'])} run minus {size_label(m['small'])} run | "
          f"**{m['delta_mib']:+.1f} MiB** ({fmt(m['median'][m['large']] / 1024)} vs "
          f"{fmt(m['median'][m['small']] / 1024)} MiB; ratio {m['median'][m['large']] / m['median'][m['small']]:.2f}×) "
          f"| ≤ +8 MiB | {yes_no(mem_ok)} |")
        w(f"| 3. Latency after completion (poll-interval {POLL_INTERVAL_MS} ms) | median **{fmt(l['median'], 0)} ms** "
          f"({100 * l['median'] / POLL_INTERVAL_MS:.1f}% of the poll interval), p95 **{fmt(l['p95'], 0)} ms**, n = {l['n']} "
          f"| median ≤ {l['target']:.0f} ms | {yes_no(lat_ok)} |")
        w(f"| 4. Polling cost, {p['seconds']} s task | **{fmt(cpu_ms)} ms CPU**, "
          f"{fmt(p.get('requests_per_task_minute'))} status requests per task-minute, "
          f"{fmt(switches)} context switches/s | < 50 ms CPU, no busy waiting | {yes_no(poll_ok)} |")
        w(f"| 5. Concurrency, {c.get('count')} elements in one process | **{c.get('completed')}/{c.get('count')} "
          f"completed**, {fmt(c.get('cpu_s'), 2)} s CPU, peak RSS {fmt(c.get('peak_rss_kib', 0) / 1024)} MiB "
          f"| all complete | {yes_no(conc_ok)} |")
        for num, measure, what, ok in ((6, "first_frame", "First frame", ff_ok), (7, "seek", "Seek ahead", seek_ok)):
            x = pb[measure]
            w(f"| {num}. {what}, {x['bytes'] / 1e6:.1f} MB {'moov-at-end' if measure == 'first_frame' else 'faststart'} "
              f"MP4 at {x['rate'][:-1]} MiB/s, souphttpsrc's time ÷ mindvideosrc's | **{x['ratio']['mindvideosrc']:.2f}×** "
              f"({fmt(x['median']['mindvideosrc'], 2)} s vs {fmt(x['median']['souphttpsrc'], 2)} s; median of "
              f"{x['good']} rounds) | ≥ 0.8× | {yes_no(ok)} |")
        w("")
        w(f"![throughput, RSS and progressive playback]({png_name})")
        w("")
        fb = t["first_byte"]
        w(f"## 1. Throughput ({size_label(t['size'])}, nginx `sendfile on`)")
        w("")
        w("`mindvideosrc ! fakesink sync=false` (the emulator's `output_url` rule makes the task's output URL the "
          "nginx file; the task is done at once), `souphttpsrc location=URL ! fakesink sync=false`, "
          "`curl -o /dev/null URL` and, for context, `curl -o FILE URL` with FILE in the spool's directory "
          "(**curl-file**: a client that keeps the bytes on disk, as the element's spool must), in alternating rounds (the order rotates each round) after one uncounted "
          "warm-up round, each element run in a fresh process. The ratio is the median over rounds of each "
          "round's own ratio (paired runs), which cancels slow drifts of a noisy machine.")
        w("")
        w("Two clocks, neither of which includes the task's submission and polling:")
        w("")
        w("- **from the request for the output to the end** (the headline): mindvideosrc from its PROGRESS "
          "COMPLETE message (the task succeeded; the download starts right after it) to EOS at fakesink; "
          "souphttpsrc from `set_state(PLAYING)` (it sends its request at once) to EOS; curl "
          "`time_total - time_pretransfer`.")
        w("- **from the first byte to the end**: the first buffer at fakesink to EOS; curl `time_total - "
          "time_starttransfer`. This flatters mindvideosrc whenever its download thread is ahead of its first "
          "buffer (the spool keeps filling before the first buffer leaves), so it is shown for reference only.")
        w("")
        w("| | mindvideosrc | souphttpsrc | curl | curl-file |")
        w("|---|---|---|---|---|")
        w("| median MiB/s, request → end | " + " | ".join(f"**{fmt(t['median'][x])}**" for x in TOOLS) + " |")
        w(f"| ratio mindvideosrc ÷ this, request → end (median of rounds) | 1.00× | **{t['ratio_soup']:.2f}×** | "
          f"**{t['ratio_curl']:.2f}×** | {t['ratio_curl_file']:.2f}× |")
        w("| ratio of the medians, request → end | 1.00× | "
          + " | ".join(f"{t['median']['mindvideosrc'] / t['median'][x]:.2f}×" for x in TOOLS[1:]) + " |")
        w("| median MiB/s, first byte → end | " + " | ".join(fmt(fb["median"][x]) for x in TOOLS) + " |")
        w(f"| ratio mindvideosrc ÷ this, first byte → end | 1.00× | {fb['ratio_soup']:.2f}× | {fb['ratio_curl']:.2f}× "
          f"| {fb['ratio_curl_file']:.2f}× |")
        w(f"| median process CPU, s (whole run) | {fmt(t['cpu']['mindvideosrc'], 2)} | "
          f"{fmt(t['cpu']['souphttpsrc'], 2)} | – | – |")
        w(f"| median peak RSS, MiB | {fmt(t['rss']['mindvideosrc'] / 1024)} | {fmt(t['rss']['souphttpsrc'] / 1024)} "
          "| – | – |")
        raw = t["raw"]
        w("")
        w(f"**An output whose type is not recognised** (pure random data, no MP4 header; {raw['runs']} run(s) of "
          f"mindvideosrc): {fmt(raw['median'])} MiB/s request → end, "
          f"{raw['median'] / t['median']['souphttpsrc']:.2f}× the souphttpsrc median, peak RSS "
          f"{fmt(raw['rss'] / 1024)} MiB. The element typefinds the first bytes; when no typefinder is sure, "
          "GStreamer tries them all, which loads every plugin that has one (gst-libav among them, about 0.1 s "
          "and 35 MiB once per process). The files above start with a 40-byte MP4 `ftyp` header, as the "
          "API's videos do, so typefinding stops at `video/quicktime`.")
        w("")
        w("Every round, request → end (first byte → end in brackets), MiB/s:")
        w("")
        w("| round | mindvideosrc | souphttpsrc | curl | curl-file | ÷ souphttpsrc | ÷ curl | ÷ curl-file |")
        w("|---|---|---|---|---|---|---|---|")
        for i, r in enumerate(t["rounds"]):
            vals = [r[x].get("mib_per_s_request", 0) for x in TOOLS]
            first = [r[x].get("mib_per_s", 0) for x in TOOLS]
            ratios = [f"{vals[0] / v:.2f}×" if v else "–" for v in vals[1:]]
            w(f"| {i + 1} | " + " | ".join(f"{fmt(v)} ({fmt(f_)})" for v, f_ in zip(vals, first))
              + " | " + " | ".join(ratios) + " |")
        w("")
        w(f"## 2. Memory (peak RSS of the process, `VmHWM`)")
        w("")
        w(f"`mindvideosrc ! fakesink` on a {size_label(m['small'])} and a {size_label(m['large'])} output, "
          "each run in a fresh process, alternating.")
        w("")
        w("| output | runs, MiB | median, MiB |")
        w("|---|---|---|")
        for size in (m["small"], m["large"]):
            w(f"| {size_label(size)} | " + ", ".join(fmt(x / 1024) for x in m["rss"][size])
              + f" | {fmt(m['median'][size] / 1024)} |")
        w(f"| difference | | **{m['delta_mib']:+.1f} MiB** (target ≤ +8 MiB) |")
        w("")
        w(f"## 3. Latency after completion")
        w("")
        w(f"From the emulator's `succeeded` event (its `created_at`, ms precision, read from "
          f"{' and '.join('`' + e + '`' for e in l['events_from'])}) to the first buffer at fakesink, same clock. Default settings (poll-interval {POLL_INTERVAL_MS} ms); each sample "
          f"sets a random processing time in {l['lo']}–{l['hi']} ms, so completion falls uniformly within the poll "
          f"schedule. The output is a normal emulator image (median {fmt(l['bytes'] / 1024)} KiB, downloaded "
          f"from first buffer to EOS in a median {fmt(l['download_median'])} ms).")
        w("")
        w("| | median | p95 | min | max | mean |")
        w("|---|---|---|---|---|---|")
        w(f"| succeeded → first buffer, ms | **{fmt(l['median'], 0)}** | **{fmt(l['p95'], 0)}** | {fmt(l['min'], 0)} "
          f"| {fmt(l['max'], 0)} | {fmt(l['mean'], 0)} |")
        w(f"| succeeded → element sees it (PROGRESS COMPLETE), ms | {fmt(l['complete_median'], 0)} | "
          f"{fmt(l['complete_p95'], 0)} | | | |")
        w(f"| PROGRESS COMPLETE → first buffer, ms | {fmt(l['first_buffer_after_complete'], 0)} | | | | |")
        w("")
        w(f"Target: median ≤ poll-interval / 2 + 50 ms = {l['target']:.0f} ms. "
          f"Median = {l['median'] / l['target']:.2f}× the target.")
        w("")
        w("## 4. Polling cost")
        w("")
        w(f"One task that stays `processing` for {p['seconds']} s (emulator `processing_ms`), default settings. "
          "CPU time (user + system, whole process) and context switches between PROGRESS START (submitted) and "
          "PROGRESS COMPLETE (succeeded); status requests from `/_emulator/stats` (poll + events routes).")
        w("")
        w("| | value |")
        w("|---|---|")
        w(f"| task length (emulator events) | {fmt(p.get('task_s'), 2)} s |")
        w(f"| CPU time, START → COMPLETE | **{fmt(cpu_ms, 1)} ms** (target < 50 ms) |")
        w(f"| status requests | {p.get('status_requests')} (poll {p.get('poll_requests')}, events "
          f"{p.get('events_requests')}) |")
        w(f"| status requests per task-minute | **{fmt(p.get('requests_per_task_minute'))}** |")
        w(f"| context switches | {p.get('context_switches')} ({fmt(switches)}/s; busy waiting would be "
          f"hundreds per second) |")
        w(f"| whole process CPU (incl. startup, download) | {fmt(p.get('cpu_total_s', 0) * 1000)} ms |")
        w("")
        w("## 5. Concurrency")
        w("")
        w(f"{c.get('count')} `mindvideosrc ! fakesink` pipelines in one process, started together; each task "
          f"processes {c['processing_ms']} ms (so all poll at once), then each downloads a "
          f"{size_label(c['size'])} file from nginx.")
        w("")
        w("| | value |")
        w("|---|---|")
        w(f"| completed (EOS with every byte) | **{c.get('completed')}/{c.get('count')}** (failed {c.get('failed')}, "
          f"wrong size {c.get('wrong_size')}) |")
        w(f"| wall time, PLAYING → last EOS | {fmt(c.get('wall_s'), 2)} s |")
        w(f"| total CPU time | **{fmt(c.get('cpu_s'), 2)} s** |")
        w(f"| peak RSS | **{fmt(c.get('peak_rss_kib', 0) / 1024)} MiB** |")
        w(f"| bytes streamed | {fmt(c.get('bytes', 0) / MiB)} MiB |")
        if c.get("error"):
            w(f"| first error | {c['error']} |")
        w("")
        self.report_playback(w)
        with open(path, "w") as f:
            f.write("\n".join(out))
        return dict(soup=soup_ok, curl=curl_ok, mem=mem_ok, lat=lat_ok, poll=poll_ok, conc=conc_ok,
                    first_frame=ff_ok, seek=seek_ok)

    def report_playback(self, w):
        pb = self.results["playback"]
        ff, sk = pb["first_frame"], pb["seek"]
        p = self.plan
        w("## 6–7. Progressive playback (nginx `limit_rate`)")
        w("")
        w(f"One {p['video_seconds']} s {p['video_width']}x{p['video_height']} H.264 MP4 encoded per bench run "
          f"(`videotestsrc ! x264enc bitrate={p['video_kbps']} key-int-max={p['video_fps']} ! mp4mux`, "
          f"{fmt(self.video_encode_s, 1)} s with the faststart remux): **moov at the end** "
          f"({self.video_bytes['moov-last']:,} bytes, mp4mux's default, like the API's videos) and **faststart** "
          f"({self.video_bytes['faststart']:,} bytes, remuxed with `mp4mux faststart=true`). nginx throttles each "
          "response (`limit_rate`, per connection, so a Range request gets its own budget). Three players, each "
          "in a fresh process, `decodebin ! fakesink sync=false`: **mindvideosrc** (the emulator's `output_url` "
          "rule makes the task's output URL the nginx file; the task is done at once), **souphttpsrc** and "
          "**downloadbuffer** (`uridecodebin download=true`: souphttpsrc ! downloadbuffer, a sparse temporary "
          f"file). Alternating rounds (the order rotates){', after one uncounted warm-up round' if p['playback_warmup'] else ''}; "
          "the ratio is souphttpsrc's time ÷ the player's (≥ 1: as fast as souphttpsrc), median over rounds of "
          "each round's own ratio.")
        w("")
        w(f"- **6. First frame**: moov-at-end MP4 at {ff['rate'][:-1]} MiB/s, PLAYING; from the request for the "
          "output to the first decoded frame at fakesink: mindvideosrc from its PROGRESS COMPLETE message (the "
          "task succeeded; the download starts), the others from `set_state(PLAYING)`. qtdemux must read the "
          "`moov` at the end before the first frame.")
        w(f"- **7. Seek ahead**: faststart MP4 at {sk['rate'][:-1]} MiB/s; PAUSED until prerolled, then at once a "
          f"flushing key-unit seek (`FLUSH | KEY_UNIT | SNAP_BEFORE`) to {SEEK_FRACTION:.0%} of the duration "
          f"({fmt(sk['seek_to'], 2)} s); from the seek call to the first decoded frame after its flush (the "
          f"keyframe at or before the target; keyframes every {p['video_fps']} frames).")
        w("")
        w("| | mindvideosrc | souphttpsrc | downloadbuffer |")
        w("|---|---|---|---|")
        for x, what in ((ff, "6. first frame"), (sk, "7. seek → next frame")):
            w(f"| {what}, median s | **{fmt(x['median']['mindvideosrc'], 3)}** | {fmt(x['median']['souphttpsrc'], 3)} "
              f"| {fmt(x['median']['downloadbuffer'], 3)} |")
            w(f"| {what}, souphttpsrc ÷ this (median of {x['good']} rounds; target ≥ 0.8× for mindvideosrc) | "
              f"**{x['ratio']['mindvideosrc']:.2f}×** | 1.00× | {x['ratio']['downloadbuffer']:.2f}× |")
        w("")
        w("Every round, seconds:")
        w("")
        w("| measurement | round | mindvideosrc | souphttpsrc | downloadbuffer |")
        w("|---|---|---|---|---|")
        for x, what in ((ff, "first frame"), (sk, "seek")):
            for i, r in enumerate(x["rounds"]):
                w(f"| {what} | {i + 1} | " + " | ".join(
                    fmt(r[p_].get("seconds"), 3) if r[p_].get("ok") else "failed" for p_ in PLAYERS) + " |")
        w("")

    # ---- main ----

    def run_playback_only(self):
        """Measurements 6 and 7 alone: no RESULTS.md, the numbers on stderr and
        in OUT_DIR/playback.json (called inside run()'s try/finally)."""
        www = os.path.join(self.tmp, "www")
        os.makedirs(www)
        self.make_videos(www)
        self.start_nginx(www)
        self.start_emulator()
        self.playback()
        path = os.path.join(self.out_dir, "playback.json")
        with open(path, "w") as f:
            json.dump(dict(plan=self.plan, video_bytes=self.video_bytes, encode_s=self.video_encode_s,
                           **self.results["playback"]), f, indent=1)
        log(f"wrote {path}")
        if self.failures:
            log(f"{len(self.failures)} sanity check(s) failed:\n  " + "\n  ".join(self.failures))
            return 1
        return 0

    def run(self):
        self.check_tools()
        os.makedirs(self.out_dir, exist_ok=True)
        os.makedirs(os.path.dirname(self.env["GST_REGISTRY"]), exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="mindvideo-bench-")
        try:
            info = self.machine()
            if self.args.playback_only:
                return self.run_playback_only()
            www = self.make_files()
            self.start_nginx(www)
            self.start_emulator()
            self.throughput()
            self.memory()
            self.latency()
            self.polling()
            self.concurrency()
            self.playback()
            name = "RESULTS.md"
            png = os.path.join(self.out_dir, "results.png")
            self.chart(info, png)
            met = self.report(info, os.path.join(self.out_dir, name), "results.png")
        finally:
            self.children.stop_all()
            if self.args.keep:
                log(f"kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        log(f"wrote {os.path.join(self.out_dir, name)} and {png}")
        log("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in met.items()))
        if self.failures:
            log(f"{len(self.failures)} sanity check(s) failed:\n  " + "\n  ".join(self.failures))
            return 1
        return 0


def main():
    parser = argparse.ArgumentParser(description="mindvideosrc benchmark (see bench/README.md)")
    parser.add_argument("--smoke", action="store_true",
                        help="small files, few runs, results in the build dir; fails only on broken runs")
    parser.add_argument("--build-dir", default=os.environ.get("MINDVIDEO_BUILDDIR", os.path.join(ROOT, "build")))
    parser.add_argument("--bench-exe", help="mindvideo-bench (default: BUILD/bench/mindvideo-bench)")
    parser.add_argument("--emulator", help="mindvideo-emulator (default: $MINDVIDEO_EMULATOR or BUILD/tests/emulator/...)")
    parser.add_argument("--out-dir", help="where RESULTS.md and results.png go (default: bench/, smoke: BUILD/bench)")
    parser.add_argument("--throughput-runs", type=int, help="alternating throughput rounds (full: 15, at least 5)")
    parser.add_argument("--latency-samples", type=int, help="latency samples (full: 40)")
    parser.add_argument("--polling-seconds", type=int, help="length of the polling task (full: 60)")
    parser.add_argument("--concurrency", type=int, help="elements in one process (full: 64)")
    parser.add_argument("--playback-runs", type=int, help="alternating progressive playback rounds (full: 5)")
    parser.add_argument("--playback-only", action="store_true",
                        help="only measurements 6-7 (first frame, seek ahead); writes OUT_DIR/playback.json, "
                             "not RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (files, logs)")
    args = parser.parse_args()

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return bench.run()
    finally:
        bench.children.stop_all()


if __name__ == "__main__":
    sys.exit(main())
