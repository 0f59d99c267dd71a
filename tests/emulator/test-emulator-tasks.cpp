/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's tasks through a plain libsoup client: the status
 * timeline, costs, and real media (PNG, MP4 with moov after mdat, GIF),
 * decoded with GStreamer.
 */
#include "test-emulator-helpers.h"

#include <cstring>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

int index_of(const std::vector<std::string>& v, const char* item) {
  for (size_t i = 0; i < v.size(); i++)
    if (v[i] == item)
      return (int)i;
  return -1;
}

struct Decoded {
  gint frames = 0;  // updated from the streaming thread
  int width = 0, height = 0;
};

void on_handoff(GstElement*, GstBuffer*, GstPad* pad, gpointer data) {
  auto* d = static_cast<Decoded*>(data);
  if (g_atomic_int_add(&d->frames, 1) == 0) {
    g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
    GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "width", &d->width);
    gst_structure_get_int(s, "height", &d->height);
  }
}

/* Decodes a file with decodebin and counts the frames. Debian 12's
 * avdemux_gif never posts EOS (it keeps pulling past the end), so for GIFs
 * pass `no_eos_frames`: decoding stops once that many frames arrived and
 * no more follow. */
Decoded decode_file(const std::string& path, int no_eos_frames = 0) {
  Decoded d;
  g_autoptr(GError) error = nullptr;
  g_autoptr(GstElement) pipeline =
      gst_parse_launch("filesrc name=src ! decodebin ! fakesink name=sink signal-handoffs=true sync=false", &error);
  fail_unless(pipeline != nullptr, "cannot build decode pipeline: %s", error ? error->message : "?");
  {
    g_autoptr(GstElement) src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    g_object_set(src, "location", path.c_str(), nullptr);
    g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &d);
  }
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  const GstMessageType types = (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  g_autoptr(GstMessage) msg = nullptr;
  while (!msg && g_get_monotonic_time() < deadline) {
    msg = gst_bus_timed_pop_filtered(bus, 50 * GST_MSECOND, types);
    if (!msg && no_eos_frames > 0 && g_atomic_int_get(&d.frames) >= no_eos_frames) {
      msg = gst_bus_timed_pop_filtered(bus, 300 * GST_MSECOND, types);  // anything more would show up here
      break;
    }
  }
  if (msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    fail("decoding %s failed: %s", path.c_str(), err->message);
  }
  fail_unless(msg != nullptr || no_eos_frames > 0, "decoding %s timed out", path.c_str());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return d;
}

/* Counts the image descriptors of a GIF by walking its block structure. */

/* Counts the image descriptors of a GIF by walking its block structure. */
int gif_frame_count(const std::string& gif) {
  fail_unless(gif.size() > 13 && gif.compare(0, 6, "GIF89a") == 0, "not a GIF89a");
  size_t pos = 13;
  guint8 flags = (guint8)gif[10];
  if (flags & 0x80)
    pos += 3u * (1u << ((flags & 7) + 1));  // global colour table
  auto skip_sub_blocks = [&]() {
    while (pos < gif.size() && gif[pos] != 0)
      pos += 1 + (guint8)gif[pos];
    pos++;
  };
  int frames = 0;
  while (pos < gif.size()) {
    guint8 block = (guint8)gif[pos];
    if (block == 0x3B)
      return frames;  // trailer
    if (block == 0x21) {
      pos += 2;
      skip_sub_blocks();
    } else if (block == 0x2C) {
      guint8 local = (guint8)gif[pos + 9];
      pos += 10;
      if (local & 0x80)
        pos += 3u * (1u << ((local & 7) + 1));
      pos++;  // LZW minimum code size
      skip_sub_blocks();
      frames++;
    } else {
      fail("unexpected GIF block 0x%02x at %zu", block, pos);
    }
  }
  fail("GIF has no trailer");
  return -1;
}

}  // namespace

GST_START_TEST(test_image_task) {
  /* Processing for 2 s: a 40 ms poller sees it even on a loaded machine. */
  auto emu = start_emulator({"--processing-ms", "2000"});
  std::string id = submit(*emu,
                          R"({"model":"gemini-3-1-flash-image-preview","input":{"prompt":"赛博朋克风格的城市夜景 <neon> & rain",)"
                          R"("size":"16:9","resolution":"0.5K","n":2}})");
  std::vector<std::string> seen = {"queued"};  // as submit answered
  g_autoptr(JsonNode) task = wait_task(*emu, id, &seen);
  fail_unless(seen == kTimeline, "unexpected status sequence (%zu statuses, last %s)", seen.size(),
              seen.back().c_str());
  JsonObject* t = obj(task);
  fail_unless(json_object_get_double_member(t, "cost_actual") == 0.09);
  fail_unless(json_object_get_double_member(t, "cost_estimate") == 0.09);
  fail_unless(!json_object_has_member(t, "error"));

  auto urls = output_urls(task, "images");
  auto files = emu->task_files(id);
  fail_unless_equals_int(urls.size(), 2);
  fail_unless_equals_int(files.size(), 2);
  std::string first;
  for (size_t i = 0; i < urls.size(); i++) {
    fail_if(g_str_has_prefix(urls[i].c_str(), emu->url().c_str()), "outputs must come from another origin");
    Response r = http("GET", urls[i]);
    fail_unless_equals_int(r.status, 200);
    assert_str(r.header("Content-Type"), "image/png");
    assert_str(r.header("Accept-Ranges"), "bytes");
    assert_str(r.header("Content-Length"), std::to_string(r.body.size()));
    fail_unless(r.body == read_file(files[i]), "downloaded bytes differ from %s", files[i].c_str());
    /* PNG signature, then IHDR: width and height as big-endian 32-bit. */
    fail_unless(r.body.size() > 24 && memcmp(r.body.data(), "\x89PNG\r\n\x1a\n", 8) == 0, "not a PNG");
    fail_unless(r.body.compare(12, 4, "IHDR") == 0);
    fail_unless_equals_int(be32(r.body, 16), 512);
    fail_unless_equals_int(be32(r.body, 20), 288);
    if (i == 0)
      first = r.body;
    else
      fail_if(r.body == first, "the n images must differ");
  }
  fail_unless_equals_int(emu->ledger_count(), 1);

  /* Events: JSON by default, SSE on request. */
  Response ev = http("GET", emu->url() + "/api/v1/tasks/" + id + "/events", "", auth());
  fail_unless_equals_int(ev.status, 200);
  fail_unless(g_str_has_prefix(ev.header("Content-Type").c_str(), "application/json"));
  fail_unless(event_statuses(ev) == kTimeline, "unexpected events: %s", ev.body.c_str());
  Headers sse_headers = auth();
  sse_headers.emplace_back("Accept", "text/event-stream");
  Response sse = http("GET", emu->url() + "/api/v1/tasks/" + id + "/events", "", sse_headers);
  fail_unless_equals_int(sse.status, 200);
  fail_unless(g_str_has_prefix(sse.header("Content-Type").c_str(), "text/event-stream"));
  size_t count = 0;
  for (size_t pos = 0; (pos = sse.body.find("event: status\ndata: {", pos)) != std::string::npos; pos++)
    count++;
  fail_unless_equals_int(count, 3);
  fail_unless(sse.body.find("\"status\":\"succeeded\"") != std::string::npos, "SSE: %s", sse.body.c_str());
}
GST_END_TEST;

GST_START_TEST(test_video_task) {
  auto emu = start_emulator({"--fps", "8"});
  std::string id = submit(*emu, R"({"model":"veo3-1-fast","input":{"prompt":"海边日落时一辆红色跑车驶过公路",)"
                                R"("duration":2,"enable_gif":true}})");
  g_autoptr(JsonNode) task = wait_task(*emu, id);
  assert_str(str(obj(task), "status"), "succeeded");
  fail_unless(json_object_get_double_member(obj(task), "cost_actual") == 0.4);
  auto urls = output_urls(task, "videos");
  auto files = emu->task_files(id);
  fail_unless_equals_int(urls.size(), 2);
  fail_unless_equals_int(files.size(), 2);

  Response mp4 = http("GET", urls[0]);
  fail_unless_equals_int(mp4.status, 200);
  assert_str(mp4.header("Content-Type"), "video/mp4");
  fail_unless(mp4.body == read_file(files[0]));
  auto boxes = mp4_boxes(mp4.body);
  int mdat = index_of(boxes, "mdat"), moov = index_of(boxes, "moov");
  fail_unless(mdat >= 0 && moov >= 0, "mdat/moov missing");
  fail_unless(moov > mdat, "moov must come after mdat (faststart off)");
  Decoded video = decode_file(files[0]);
  fail_unless_equals_int(video.frames, 2 * 8);
  fail_unless_equals_int(video.width, 1280);
  fail_unless_equals_int(video.height, 720);

  Response gif = http("GET", urls[1]);
  fail_unless_equals_int(gif.status, 200);
  assert_str(gif.header("Content-Type"), "image/gif");
  fail_unless(gif.body.compare(0, 6, "GIF89a") == 0, "not a GIF");
  fail_unless(gif.body == read_file(files[1]));
  fail_unless_equals_int(gif_frame_count(gif.body), 2 * 8);
  Decoded anim = decode_file(files[1], 2 * 8);
  fail_unless_equals_int(anim.frames, 2 * 8);
  fail_unless_equals_int(anim.width, 320);
}
GST_END_TEST;

static Suite* emulator_tasks_suite(void) {
  Suite* s = suite_create("mindvideo-emulator-tasks");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_image_task);
  tcase_add_test(tc, test_video_task);
  return s;
}

GST_CHECK_MAIN(emulator_tasks)
