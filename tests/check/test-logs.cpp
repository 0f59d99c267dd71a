/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Two elements in one pipeline with GST_DEBUG=mindvideosrc:6: every line
 * about a request, a task, a download or the spool names the element it
 * belongs to, as the object of the line or as its log id.
 */
#include "element-helpers.h"

#include <mutex>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

struct Line {
  std::string owner; /* the object's name or the log id; "" for neither */
  std::string text;
};

std::mutex lines_lock;
std::vector<Line> lines;

void collect(GstDebugCategory* category, GstDebugLevel, const gchar*, const gchar*, gint, GObject* object,
             GstDebugMessage* message, gpointer) {
  if (g_strcmp0(gst_debug_category_get_name(category), "mindvideosrc") != 0)
    return;
  Line line;
  if (object && GST_IS_OBJECT(object))
    line.owner = GST_OBJECT_NAME(object);
  else if (const gchar* id = gst_debug_message_get_id(message))
    line.owner = id;
  line.text = gst_debug_message_get(message);
  std::lock_guard<std::mutex> guard(lines_lock);
  lines.push_back(std::move(line));
}

/* Lines about the process, not about one element's work. */
bool process_wide(const std::string& text) {
  return text.find("typefinders for the API's output types") != std::string::npos;
}

}  // namespace

GST_START_TEST(test_each_line_names_its_element) {
  auto emu = start_emulator();
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "mindvideosrc name=first model=gpt-image-2 prompt=one ! fakesink name=sink "
      "mindvideosrc name=second model=gpt-image-2 prompt=two ! fakesink",
      &err);
  fail_unless(pipeline != nullptr, "parse error: %s", err ? err->message : "?");
  for (const char* name : {"first", "second"}) {
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), name);
    g_object_set(src, "api-url", emu->url().c_str(), "api-key", API_KEY, "poll-interval", 100, nullptr);
    gst_object_unref(src);
  }
  gst_debug_add_log_function(collect, nullptr, nullptr);
  PlayResult run;
  play(pipeline, &run);
  gst_debug_remove_log_function(collect);
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
  fail_unless_equals_int(emu->ledger_count(), 2);

  std::lock_guard<std::mutex> guard(lines_lock);
  int requests[2] = {0, 0}, downloads[2] = {0, 0}, spools[2] = {0, 0}, journals[2] = {0, 0};
  for (const Line& line : lines) {
    if (process_wide(line.text))
      continue;
    fail_unless(line.owner == "first" || line.owner == "second", "a line names no element (owner '%s'): %s",
                line.owner.c_str(), line.text.c_str());
    const int which = line.owner == "first" ? 0 : 1;
    if (line.text.rfind("POST ", 0) == 0)
      requests[which]++;
    if (line.text.find("downloaded ") == 0)
      downloads[which]++;
    if (line.text.find("spool complete") == 0)
      spools[which]++;
    if (line.text.find("journal: ") == 0)
      journals[which]++;
  }
  /* The lines from the core (the shared session, the download, the spool,
   * the journal) are there for each element, each under its own name. */
  for (int i = 0; i < 2; i++) {
    fail_unless(requests[i] >= 1, "no request line for element %d", i);
    fail_unless(downloads[i] >= 1, "no download line for element %d", i);
    fail_unless(spools[i] >= 1, "no spool line for element %d", i);
    fail_unless(journals[i] >= 2, "no journal lines (entry written, removed) for element %d", i);
  }
  lines.clear();
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* logs_suite(void) {
  Suite* s = suite_create("mindvideo-logs");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_each_line_names_its_element);
  return s;
}

int main(int argc, char** argv) {
  /* As a user would set it, before GStreamer reads it. */
  g_setenv("GST_DEBUG", "mindvideosrc:6", TRUE);
  gst_check_init(&argc, &argv);
  gst_debug_remove_log_function(gst_debug_log_default);
  return gst_check_run_suite(logs_suite(), "logs", __FILE__);
}
