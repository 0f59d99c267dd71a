#!/usr/bin/env python3
"""Generate one video or image with mindvideosrc and save it.

    mindvideo-generate.py --model veo3-1-quality --prompt "a red car at sunset" \
        --input '{"aspect_ratio":"16:9","resolution":"720p"}' --output car.mp4

The pipeline is `mindvideosrc ! filesink`: the file gets the bytes the model
produced (MP4 for video models; PNG, JPEG or WebP for image models), so name
it accordingly. Progress comes from the bus: PROGRESS messages and the element
message `mindvideo-task`. Ctrl-C stops the pipeline and prints the task id and
idempotency key: run again with `--idempotency-key KEY` (and the same model,
prompt and input) to pick the task up without paying for it twice.

Needs MINDVIDEO_API_KEY; MINDVIDEO_API_URL overrides https://api.mindvideo.ai.
Exit status: 0 done, 1 error, 130 interrupted.
"""
import argparse
import shlex
import signal
import sys
import time
import warnings

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
except (ImportError, ValueError) as e:
    sys.exit(f"{e}: needs PyGObject and GStreamer's typelib (Debian: python3-gi gir1.2-gstreamer-1.0)")

# Fraction of the bar filled at each task status; the download fills the rest.
STAGES = {"submitting": 0.05, "queued": 0.15, "processing": 0.4, "succeeded": 0.9}


def string_array(structure, field):
    """A GstValueArray of strings as a list ([] if the field is absent)."""
    ok, array = structure.get_array(field)
    if not ok:
        return []
    with warnings.catch_warnings():  # GValueArray is the only way in; it is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return [array.get_nth(i) for i in range(array.n_values)]


def money(value):
    return "unknown" if value is None or value < 0 else f"{value:g}"


class Generator:
    def __init__(self, args):
        self.args = args
        self.tty = sys.stderr.isatty()
        self.exit_code = 1
        self.status = "submitting"
        self.task_id = ""
        self.key = args.idempotency_key or ""
        self.cost_estimate = self.cost_actual = -1.0
        self.output_uris = []
        self.started = time.monotonic()

        self.pipeline = Gst.Pipeline.new("generate")
        self.src = Gst.ElementFactory.make("mindvideosrc", "src")
        sink = Gst.ElementFactory.make("filesink", "sink")
        if not self.src or not sink:
            raise SystemExit("mindvideosrc not found: install the plugin or set GST_PLUGIN_PATH")
        self.src.set_property("model", args.model)
        self.src.set_property("prompt", args.prompt)
        if args.input:
            self.src.set_property("input", args.input)
        if args.idempotency_key:
            self.src.set_property("idempotency-key", args.idempotency_key)
        sink.set_property("location", args.output)
        self.pipeline.add(self.src)
        self.pipeline.add(sink)
        self.src.link(sink)

        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.on_signal, signal.SIGINT)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.on_signal, signal.SIGTERM)
        if self.tty:
            GLib.timeout_add(200, self.redraw)

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            # e.g. input the model's schema refuses: the reason is on the bus
            msg = self.pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
            self.fail(msg.parse_error()[0].message if msg else "could not start the pipeline")
            return self.exit_code
        self.loop.run()
        return self.exit_code

    # -- progress ---------------------------------------------------------

    def fraction(self):
        if self.status == "succeeded":  # downloading: bytes written / output size
            ok_pos, pos = self.pipeline.query_position(Gst.Format.BYTES)
            ok_dur, dur = self.pipeline.query_duration(Gst.Format.BYTES)
            if ok_pos and ok_dur and dur > 0:
                return 0.9 + 0.1 * min(pos / dur, 1.0)
        return STAGES.get(self.status, 0.4)  # an unknown status is waited out

    def redraw(self):
        width = 30
        filled = int(self.fraction() * width)
        status = "downloading" if self.status == "succeeded" else self.status
        line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {status:<12}"
                f" {time.monotonic() - self.started:5.1f}s  estimate {money(self.cost_estimate)}")
        sys.stderr.write(line + "\033[K")
        sys.stderr.flush()
        return GLib.SOURCE_CONTINUE

    def say(self, text):
        """One line of output; in a terminal the bar is redrawn below it."""
        if self.tty:
            sys.stderr.write("\r\033[K")
        print(text, file=sys.stderr, flush=True)

    # -- bus --------------------------------------------------------------

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.PROGRESS:
            _type, _code, text = msg.parse_progress()
            if not self.tty:
                self.say(f"progress: {text}")
        elif msg.type == Gst.MessageType.ELEMENT and msg.has_name("mindvideo-task"):
            self.on_task(msg.get_structure())
        elif msg.type == Gst.MessageType.ERROR:
            err, _debug = msg.parse_error()
            details = msg.parse_error_details()
            if details:  # errors about a task name it and the key
                self.task_id = details.get_string("task-id") or self.task_id
                self.key = details.get_string("idempotency-key") or self.key
            # READ: the API or the download kept failing; the task may be fine.
            self.fail(err.message, resumable=err.matches(Gst.ResourceError.quark(),
                                                         Gst.ResourceError.READ))
        elif msg.type == Gst.MessageType.EOS:
            self.finish()

    def on_task(self, s):
        if not self.task_id:  # shown once: what a resume after a crash needs
            self.say(f"Task {s.get_string('task-id')}, idempotency key {s.get_string('idempotency-key')}")
        self.task_id = s.get_string("task-id") or self.task_id
        self.key = s.get_string("idempotency-key") or self.key
        self.status = s.get_string("status") or self.status
        self.cost_estimate = s.get_double("cost-estimate")[1]
        self.cost_actual = s.get_double("cost-actual")[1]
        # Newer versions of the element also carry these two fields.
        self.output_uris = string_array(s, "output-uris") or self.output_uris
        ok, elapsed = s.get_uint64("elapsed")
        if ok:  # the clock starts at the submission, even a resumed one
            self.started = time.monotonic() - elapsed / Gst.SECOND
        if self.tty:
            self.redraw()

    # -- endings ----------------------------------------------------------

    def stop(self, code):
        self.pipeline.set_state(Gst.State.NULL)
        if self.tty:
            sys.stderr.write("\r\033[K")
        self.exit_code = code
        self.loop.quit()

    def finish(self):
        cost = self.cost_actual if self.cost_actual >= 0 else self.src.get_property("cost-actual")
        self.stop(0)
        print(f"Wrote {self.args.output}")
        print(f"Task {self.task_id}, cost {money(cost)} (estimate {money(self.cost_estimate)}), "
              f"{time.monotonic() - self.started:.1f}s")
        for uri in self.output_uris:
            print(f"Output: {uri}")

    def fail(self, message, resumable=False):
        self.stop(1)
        print(f"Error: {message}", file=sys.stderr)
        if resumable or self.task_id:
            self.print_ids(resumable)

    def on_signal(self, signum):
        self.key = self.key or self.src.get_property("idempotency-key") or ""
        self.task_id = self.task_id or self.src.get_property("task-id") or ""
        self.stop(128 + signum)
        print("Interrupted.", file=sys.stderr)
        if self.key:  # else nothing was submitted
            self.print_ids(resumable=True)
        return GLib.SOURCE_REMOVE

    def print_ids(self, resumable):
        print(f"Task id: {self.task_id or 'not known yet'}\n"
              f"Idempotency key: {self.key or 'none'}", file=sys.stderr)
        if resumable and self.key:
            a = self.args
            command = [sys.argv[0], "--model", a.model, "--prompt", a.prompt] + \
                (["--input", a.input] if a.input else []) + \
                ["--output", a.output, "--idempotency-key", self.key]
            print("To pick the task up without paying for it again, run:\n"
                  f"  {shlex.join(command)}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description="Generate a video or image with mindvideosrc.")
    parser.add_argument("--model", required=True, help="model slug, e.g. veo3-1-quality")
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--input", help='other model inputs as a JSON object, e.g. \'{"n":1}\'')
    parser.add_argument("--output", required=True, help="file to write the output to")
    parser.add_argument("--idempotency-key", help="resume the task submitted with this key")
    args = parser.parse_args()
    Gst.init(None)
    return Generator(args).run()


if __name__ == "__main__":
    sys.exit(main())
