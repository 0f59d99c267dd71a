/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Progressive playback against a throttled emulator CDN: the `moov` at the
 * end of an MP4 and a seek ahead each get a Range fetch of their own, the
 * bytes stay the served file's whatever the seeks, and every promise of a
 * single download holds for each fetch (resume, fresh URL, prompt stop).
 * No timing assertions: "before the main download reached it" is read off
 * the throttle, which cannot have sent byte N sooner than N / rate after
 * the main request.
 */
#include "element-helpers.h"

#include <map>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* 4 s of 1080p at 12000 kbit/s: about 6 MB, above the 4 MiB under which
 * qtdemux reads a moov-at-end file through instead of seeking to the moov;
 * at 1.5 MB/s the main download takes about 4 s. */
constexpr int kRate = 1500000;
constexpr const char* kVideoInput = R"({"duration":4,"resolution":"1080p"})";

std::unique_ptr<EmulatorProcess> slow_cdn(bool faststart = false, bool ranges = true, int rate = kRate) {
  auto emu = start_emulator();
  fail_unless(emu->set_config(std::string(R"({"video_bitrate_kbps":12000,"download_rate":)") +
                              std::to_string(rate) + ",\"faststart\":" + (faststart ? "true" : "false") +
                              ",\"ranges\":" + (ranges ? "true" : "false") + "}"));
  return emu;
}

GstElement* video_pipeline(EmulatorProcess* emu, const char* rest = "decodebin ! fakesink name=sink sync=false") {
  return make_pipeline(emu, "veo3-1-fast", "a slow river", kVideoInput, rest);
}

/* The CDN GETs of the output, in the order the emulator read them. */
std::vector<Logged> downloads(EmulatorProcess* emu) {
  std::vector<Logged> out;
  for (auto& l : request_log(emu))
    if (l.origin == "cdn" && l.method == "GET")
      out.push_back(l);
  return out;
}

/* The first byte of a Range request ("bytes=N-"), or -1. */
gint64 range_start(const Logged& l) {
  if (!g_str_has_prefix(l.range.c_str(), "bytes="))
    return -1;
  return g_ascii_strtoll(l.range.c_str() + 6, nullptr, 10);
}

/* How many frames the served file decodes to. */
guint64 frames_of(const std::string& path) {
  std::string desc = "filesrc location=\"" + path + "\" ! decodebin ! fakesink name=sink sync=false";
  GstElement* pipeline = gst_parse_launch(desc.c_str(), nullptr);
  fail_unless(pipeline != nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.eos, "the served file does not decode: %s", run.message().c_str());
  gst_object_unref(pipeline);
  return run.buffers;
}

/* Plays until the first message of `type` (or an error, or 60 s). */
GstMessage* wait_for(GstElement* pipeline, GstMessageType type) {
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, (GstMessageType)(type | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  fail_unless(msg != nullptr, "nothing came within 60 s");
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    fail("error: %s", err->message);
  }
  return msg;
}

}  // namespace

GST_START_TEST(test_moov_at_end_fetches_the_tail_first) {
  auto emu = slow_cdn();
  GstElement* pipeline = video_pipeline(emu.get());
  PlayResult run;
  play(pipeline, &run, 120);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  const std::string task = src_string(pipeline, "task-id");
  gst_object_unref(pipeline);

  const std::string file = emu->task_files(task)[0];
  const std::string bytes = read_file(file);
  auto boxes = mp4_boxes(bytes);
  fail_unless(!boxes.empty() && boxes.back() == "moov", "the emulator's video has no moov at the end");
  fail_unless_equals_uint64(run.buffers, frames_of(file));

  /* The main download, then a Range request for the tail, read from the
   * emulator before the throttle let the main download get there. */
  auto gets = downloads(emu.get());
  fail_unless(gets.size() >= 2, "%zu download requests", gets.size());
  const Logged& main = gets[0];
  fail_unless_equals_int64(range_start(main), -1);
  const Logged* tail = nullptr;
  for (const auto& l : gets)
    if (range_start(l) > (gint64)bytes.size() / 2) {
      tail = &l;
      break;
    }
  fail_unless(tail != nullptr, "no Range request for the tail");
  fail_unless_equals_int(tail->status, 206);
  const double main_could_reach_ms = main.t_ms + 1000.0 * (double)range_start(*tail) / kRate;
  fail_unless(tail->t_ms < main_could_reach_ms, "the tail was asked for at %.0f ms, the main download could reach it at %.0f ms",
              tail->t_ms, main_could_reach_ms);
}
GST_END_TEST;

GST_START_TEST(test_seek_ahead_starts_a_range_fetch) {
  /* A quarter of kRate: the main download needs about 12 s to reach the
   * seek's byte, room for a preroll through decodebin on a slow machine.
   * Only the last quarter of the file has to come at that rate. */
  constexpr int rate = kRate / 4;
  auto emu = slow_cdn(true, true, rate);
  GstElement* pipeline = video_pipeline(emu.get());
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
  const gint64 requests_before = (gint64)downloads(emu.get()).size();
  /* To 3 s of 4 s, right after preroll: far ahead of the download. */
  fail_unless(gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                      (GstSeekFlags)(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                      3 * GST_SECOND));
  gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_message_unref(wait_for(pipeline, GST_MESSAGE_EOS));
  gst_element_set_state(pipeline, GST_STATE_NULL);
  const std::string task = src_string(pipeline, "task-id");
  gst_object_unref(pipeline);

  const std::string bytes = read_file(emu->task_files(task)[0]);
  auto boxes = mp4_boxes(bytes);
  fail_unless(boxes.size() >= 2 && boxes[1] == "moov", "the video is not faststart");
  /* A Range request the emulator read before its throttle could have let
   * the main download reach that byte. */
  auto gets = downloads(emu.get());
  fail_unless(!gets.empty());
  bool ahead = false;
  for (size_t i = (size_t)requests_before; i < gets.size(); i++) {
    const gint64 start = range_start(gets[i]);
    ahead |= start > 0 && gets[i].status == 206 && gets[i].t_ms < gets[0].t_ms + 1000.0 * (double)start / rate;
  }
  fail_unless(ahead, "the seek did not start a Range request ahead of the download");
}
GST_END_TEST;

namespace {

/* Every buffer at the sink, by its offset. */
struct Collected {
  std::map<guint64, std::string> at;
};

GstPadProbeReturn keep_buffer(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  GstMapInfo map;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    static_cast<Collected*>(data)->at[GST_BUFFER_OFFSET(buf)] = std::string((const char*)map.data, map.size);
    gst_buffer_unmap(buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

GST_START_TEST(test_bytes_are_the_file_with_seeks) {
  auto emu = slow_cdn();
  for (bool seeks : {false, true}) {
    GstElement* pipeline = video_pipeline(emu.get(), "fakesink name=sink sync=false");
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    Collected collected;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, keep_buffer, &collected, nullptr);
    gst_element_set_state(pipeline, GST_STATE_PAUSED);
    gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
    if (seeks) {
      /* Ahead into bytes not there yet, back, ahead again, then from 0. */
      gint64 size = 0;
      fail_unless(gst_element_query_duration(pipeline, GST_FORMAT_BYTES, &size) && size > 0);
      for (double at : {0.7, 0.2, 0.9, 0.0}) {
        fail_unless(gst_element_seek_simple(pipeline, GST_FORMAT_BYTES, GST_SEEK_FLAG_FLUSH, (gint64)(size * at)));
        gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
      }
    }
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    gst_message_unref(wait_for(pipeline, GST_MESSAGE_EOS));
    gst_element_set_state(pipeline, GST_STATE_NULL);
    const std::string file = read_file(emu->task_files(src_string(pipeline, "task-id"))[0]);
    /* Each buffer holds the file's bytes at its offset, and from 0 they
     * cover the whole file. */
    guint64 covered = 0;
    for (const auto& [offset, data] : collected.at) {
      fail_unless(offset + data.size() <= file.size());
      fail_unless(file.compare(offset, data.size(), data) == 0, "bytes at %" G_GUINT64_FORMAT " differ (seeks: %d)",
                  offset, seeks);
      if (offset <= covered)
        covered = MAX(covered, offset + data.size());
    }
    fail_unless_equals_uint64(covered, file.size());
    gst_object_unref(pad);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

GST_START_TEST(test_host_without_ranges_still_plays) {
  auto emu = slow_cdn(false, false);
  GstElement* pipeline = video_pipeline(emu.get());
  PlayResult run;
  play(pipeline, &run, 120);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_uint64(run.buffers, frames_of(emu->task_files(src_string(pipeline, "task-id"))[0]));
  gst_object_unref(pipeline);
  /* At most one Range request was tried, answered with the whole file. */
  for (const auto& l : downloads(emu.get()))
    fail_unless_equals_int(l.status, 200);
}
GST_END_TEST;

GST_START_TEST(test_cut_range_fetch_resumes_its_range) {
  auto emu = slow_cdn();
  /* The second download request is the tail's Range fetch: cut it after
   * 100 bytes. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"truncate","bytes":100,"method":"GET","after":1})"));
  GstElement* pipeline = video_pipeline(emu.get());
  PlayResult run;
  play(pipeline, &run, 120);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  gst_object_unref(pipeline);
  auto gets = downloads(emu.get());
  fail_unless(gets.size() >= 3, "%zu download requests", gets.size());
  const gint64 cut_at = range_start(gets[1]);
  fail_unless(cut_at > 0, "the second request is not a Range request: %s", gets[1].range.c_str());
  bool resumed = false;
  for (size_t i = 2; i < gets.size(); i++)
    resumed |= range_start(gets[i]) == cut_at + 100;
  fail_unless(resumed, "the cut Range fetch did not resume from byte %" G_GINT64_FORMAT, cut_at + 100);
}
GST_END_TEST;

GST_START_TEST(test_expired_url_during_a_range_fetch) {
  auto emu = slow_cdn();
  /* The tail's Range fetch finds the URL expired: one fresh read of the
   * task, for every fetch. */
  fail_unless(emu->add_fault(
      R"({"route":"download","action":"expire","status":403,"resign":true,"method":"GET","after":1})"));
  GstElement* pipeline = video_pipeline(emu.get());
  PlayResult run;
  play(pipeline, &run, 120);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  const std::string task = src_string(pipeline, "task-id");
  gst_object_unref(pipeline);
  int refused = 0;
  for (const auto& l : downloads(emu.get()))
    refused += l.status == 403;
  fail_unless_equals_int(refused, 1);
  fail_unless_equals_uint64(run.buffers, frames_of(emu->task_files(task)[0]));
}
GST_END_TEST;

GST_START_TEST(test_null_with_two_fetches_running) {
  /* 100 kB/s: both downloads last far longer than the checks below take on
   * a slow machine (the seek's fetch alone about 15 s); NULL ends them. */
  auto emu = slow_cdn(true, true, 100000);
  GstElement* pipeline = video_pipeline(emu.get(), "fakesink name=sink sync=false");
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
  gint64 size = 0;
  fail_unless(gst_element_query_duration(pipeline, GST_FORMAT_BYTES, &size) && size > 0);
  fail_unless(gst_element_seek_simple(pipeline, GST_FORMAT_BYTES, GST_SEEK_FLAG_FLUSH, size * 3 / 4));
  gst_message_unref(wait_for(pipeline, GST_MESSAGE_ASYNC_DONE));
  /* Two downloads are open at the emulator now: the main one and the
   * Range fetch of the seek. */
  int open = 0;
  for (const auto& l : downloads(emu.get()))
    open += l.done_t_ms < 0;
  fail_unless_equals_int(open, 2);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  /* Both connections closed: no fetch outlives the element's run. */
  fail_unless(wait_until([&] {
    for (const auto& l : downloads(emu.get()))
      if (l.done_t_ms < 0)
        return false;
    return true;
  }), "a download is still open after NULL");
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* progressive_suite(void) {
  Suite* s = suite_create("mindvideo-progressive");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_moov_at_end_fetches_the_tail_first);
  tcase_add_test(tc, test_seek_ahead_starts_a_range_fetch);
  tcase_add_test(tc, test_bytes_are_the_file_with_seeks);
  tcase_add_test(tc, test_host_without_ranges_still_plays);
  tcase_add_test(tc, test_cut_range_fetch_resumes_its_range);
  tcase_add_test(tc, test_expired_url_during_a_range_fetch);
  tcase_add_test(tc, test_null_with_two_fetches_running);
  return s;
}

GST_CHECK_MAIN(progressive);
