/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The journal, through the element: a gst-launch-1.0 killed with SIGKILL
 * while polling or downloading, then the same pipeline run again without a
 * key, pays once and delivers the whole output. A delivered request run
 * again is a new generation; two live runs of one request are two; a failed
 * task or a refused submission is not resumed; old entries are ignored and
 * cleaned up; an unusable state directory only warns; journal=false and a
 * key of the user's leave the journal alone. Each test has its own
 * XDG_STATE_HOME.
 */
#include "element-helpers.h"

#include "api.h"
#include "journal.h"

#include <glib/gstdio.h>

#include <signal.h>
#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* A private $XDG_STATE_HOME for the test (and the processes it starts). */
struct StateHome {
  StateHome() : dir("mv-state-XXXXXX"), path(dir.path), journal(dir.path + "/mindvideo") {
    g_setenv("XDG_STATE_HOME", path.c_str(), TRUE);
  }
  TempDir dir; /* removed with the journal in it */
  std::string path;
  std::string journal; /* $XDG_STATE_HOME/mindvideo */
};

std::vector<std::string> journal_files(const std::string& dir) {
  std::vector<std::string> names;
  if (GDir* d = g_dir_open(dir.c_str(), 0, nullptr)) {
    while (const gchar* n = g_dir_read_name(d))
      names.push_back(dir + "/" + n);
    g_dir_close(d);
  }
  return names;
}

/* The entries (.json files) in the journal. */
std::vector<mv::JournalEntry> journal_entries(const std::string& dir) {
  std::vector<mv::JournalEntry> out;
  for (const std::string& path : journal_files(dir)) {
    if (!g_str_has_suffix(path.c_str(), ".json"))
      continue;
    gchar* text = nullptr;
    gsize len = 0;
    if (!g_file_get_contents(path.c_str(), &text, &len, nullptr))
      continue;
    mv::JournalEntry e;
    std::string why;
    if (mv::journal_parse(std::string(text, len), &e, &why))
      out.push_back(e);
    g_free(text);
  }
  return out;
}

/* gst-launch-1.0 with the request the in-process reruns make, with no key. */
GSubprocess* launch(EmulatorProcess* emu, const char* prompt, const std::string& out) {
  std::string command = "exec gst-launch-1.0 -q mindvideosrc api-url=" + emu->url() + " api-key=" API_KEY
                        " model=gpt-image-2 prompt=" + prompt + " poll-interval=100 ! filesink location=" + out;
  GSubprocess* p = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, nullptr, "/bin/sh", "-c", command.c_str(), nullptr);
  fail_unless(p != nullptr);
  return p;
}

void kill_hard(GSubprocess* p) {
  g_subprocess_force_exit(p); /* SIGKILL */
  fail_unless(g_subprocess_wait(p, nullptr, nullptr));
  fail_unless(g_subprocess_get_if_signaled(p) && g_subprocess_get_term_sig(p) == SIGKILL,
              "the first run ended before it was killed");
  g_object_unref(p);
}

bool field_bool(const GstStructure* s, const char* name) {
  gboolean v = FALSE;
  fail_unless(gst_structure_get_boolean(s, name, &v), "no boolean '%s' in %s", name, gst_structure_get_name(s));
  return v;
}

/* Plays the request in this process and checks that it delivered. */
void play_to_eos(GstElement* pipeline, PlayResult* run) {
  play(pipeline, run, 90, true);
  fail_unless(run->eos, "no EOS: %s", run->message().c_str());
}

/* The rerun of a killed run: resumes its task, pays nothing, delivers the
 * served bytes, and leaves the journal empty. */
void rerun_resumes(EmulatorProcess* emu, const StateHome& state, const char* prompt, const std::string& task_id,
                   const std::string& key) {
  GstElement* pipeline = make_pipeline(emu, "gpt-image-2", prompt, nullptr, "fakesink name=sink");
  PlayResult run;
  play_to_eos(pipeline, &run);
  fail_unless(!run.progress_text.empty());
  assert_contains(run.progress_text[0], "Resuming task " + task_id);
  assert_contains(run.progress_text[0], "by a run that did not finish");
  assert_str(src_string(pipeline, "idempotency-key"), key);
  assert_str(src_string(pipeline, "task-id"), task_id);
  fail_unless(!run.task_messages.empty());
  for (auto* s : run.task_messages)
    fail_unless(field_bool(s, "resumed"));
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless(run.data == read_file(emu->task_files(task_id)[0]), "the resumed output differs from the served file");
  fail_unless(journal_entries(state.journal).empty(), "a delivered request is still in the journal");
  auto left = journal_files(state.journal);
  fail_unless(left.empty(), "a delivered request left files in the journal: %s", left.empty() ? "" : left[0].c_str());
  gst_object_unref(pipeline);
}

}  // namespace

GST_START_TEST(test_kill_while_polling_then_rerun_pays_once) {
  StateHome state;
  auto emu = start_emulator({"--processing-ms", "4000"});
  gchar* dir = g_dir_make_tmp("mv-out-XXXXXX", nullptr);
  const std::string out = std::string(dir) + "/out.png";

  GSubprocess* first = launch(emu.get(), "polled", out);
  /* The journal knows the task (written before the POST, updated after). */
  mv::JournalEntry entry;
  fail_unless(wait_until([&] {
    auto entries = journal_entries(state.journal);
    if (entries.size() != 1 || entries[0].task_id.empty())
      return false;
    entry = entries[0];
    return count_requests(request_log(emu.get()), "api", "GET") > 0;
  }), "the first run never polled with a journal entry");
  kill_hard(first);
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(emu->ledger_count(entry.idempotency_key), 1);
  fail_unless_equals_int(journal_entries(state.journal).size(), 1); /* kept */

  rerun_resumes(emu.get(), state, "polled", entry.task_id, entry.idempotency_key);
  g_unlink(out.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_kill_while_downloading_then_rerun_pays_once) {
  StateHome state;
  auto emu = start_emulator();
  /* A trickle, so that the kill lands mid-download. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"slow","bytes_per_sec":2048,"method":"GET"})"));
  gchar* dir = g_dir_make_tmp("mv-out-XXXXXX", nullptr);
  const std::string out = std::string(dir) + "/out.png";

  GSubprocess* first = launch(emu.get(), "downloaded", out);
  fail_unless(wait_until([&] { return count_requests(request_log(emu.get()), "cdn", "GET") > 0; }),
              "the first run never downloaded");
  kill_hard(first);
  fail_unless_equals_int(emu->ledger_count(), 1);
  auto entries = journal_entries(state.journal);
  fail_unless_equals_int(entries.size(), 1);
  assert_str(entries[0].status, "succeeded");
  fail_unless(emu->clear_faults());

  rerun_resumes(emu.get(), state, "downloaded", entries[0].task_id, entries[0].idempotency_key);
  g_unlink(out.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_delivered_request_again_is_a_new_generation) {
  StateHome state;
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "twice please", nullptr, "fakesink name=sink");
  PlayResult first;
  play_to_eos(pipeline, &first);
  const std::string key = src_string(pipeline, "idempotency-key");
  fail_unless(journal_files(state.journal).empty());

  /* The same element, the same request: delivered, so paid for anew. */
  PlayResult second;
  play_to_eos(pipeline, &second);
  fail_if(src_string(pipeline, "idempotency-key") == key);
  assert_contains(second.progress_text[0], "Submitting a task");
  for (auto* s : second.task_messages)
    fail_if(field_bool(s, "resumed"));
  fail_unless_equals_int(emu->ledger_count(), 2);
  fail_unless(journal_files(state.journal).empty());
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_two_live_runs_are_two_generations) {
  StateHome state;
  auto emu = start_emulator({"--processing-ms", "1500"});
  GstElement* a = make_pipeline(emu.get(), "gpt-image-2", "side by side", nullptr, "fakesink name=sink");
  GstElement* b = make_pipeline(emu.get(), "gpt-image-2", "side by side", nullptr, "fakesink name=sink");
  PlayResult run_a, run_b;
  std::thread first([&] { play(a, &run_a, 90, true); });
  /* A's entry is on disk and locked before B starts. */
  fail_unless(wait_until([&] { return journal_entries(state.journal).size() == 1; }));
  play(b, &run_b, 90, true);
  first.join();
  fail_unless(run_a.eos, "%s", run_a.message().c_str());
  fail_unless(run_b.eos, "%s", run_b.message().c_str());
  const std::string key_a = src_string(a, "idempotency-key"), key_b = src_string(b, "idempotency-key");
  fail_if(key_a == key_b, "the second live run took over the first one's entry");
  fail_unless_equals_int(emu->ledger_count(), 2);
  fail_unless_equals_int(emu->ledger_count(key_a), 1);
  fail_unless_equals_int(emu->ledger_count(key_b), 1);
  fail_unless(journal_files(state.journal).empty());
  gst_object_unref(a);
  gst_object_unref(b);
}
GST_END_TEST;

GST_START_TEST(test_failed_task_is_not_resumed) {
  StateHome state;
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"task","action":"fail","message":"content policy violation"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "refused", nullptr, "fakesink name=sink");
  PlayResult first;
  play(pipeline, &first);
  fail_unless(first.error != nullptr);
  const std::string key = src_string(pipeline, "idempotency-key");
  fail_unless(journal_files(state.journal).empty(), "a failed task stays in the journal");

  PlayResult second;
  play_to_eos(pipeline, &second);
  fail_if(src_string(pipeline, "idempotency-key") == key);
  assert_contains(second.progress_text[0], "Submitting a task");
  fail_unless_equals_int(emu->ledger_count(), 2);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_refused_submission_is_not_kept) {
  StateHome state;
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"submit","action":"status","status":400})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "bad request", nullptr, "fakesink name=sink");
  PlayResult run;
  play(pipeline, &run);
  fail_unless(run.error != nullptr);
  fail_unless(journal_files(state.journal).empty(), "a refused submission stays in the journal");
  fail_unless_equals_int(emu->ledger_count(), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_timed_out_run_is_kept_and_resumed) {
  StateHome state;
  auto emu = start_emulator({"--processing-ms", "4000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "too slow", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "timeout", 1, nullptr);
  PlayResult first;
  play(pipeline, &first);
  fail_unless(first.error != nullptr, "the task did not time out");
  assert_contains(first.message(), "did not finish within the timeout");
  const std::string key = src_string(pipeline, "idempotency-key");
  const std::string task_id = src_string(pipeline, "task-id");
  /* An error a rerun can fix: kept. */
  auto entries = journal_entries(state.journal);
  fail_unless_equals_int(entries.size(), 1);
  assert_str(entries[0].idempotency_key, key);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  rerun_resumes(emu.get(), state, "too slow", task_id, key);
}
GST_END_TEST;

/* `gst-launch-1.0 -e` and Ctrl-C: an EOS the application sends before the
 * output is downloaded is no delivery. */
GST_START_TEST(test_eos_before_the_download_ended_keeps_the_entry) {
  StateHome state;
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"download","action":"slow","bytes_per_sec":2048,"method":"GET"})"));
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "cut short", nullptr, "fakesink name=sink");
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_until([&] { return count_requests(request_log(emu.get()), "cdn", "GET") > 0; }),
              "the download never started");
  const std::string key = src_string(pipeline, "idempotency-key");
  const std::string task_id = src_string(pipeline, "task-id");
  gst_element_send_event(pipeline, gst_event_new_eos());
  GstMessage* msg = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                               (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "no EOS");
  gst_message_unref(msg);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  auto entries = journal_entries(state.journal);
  fail_unless_equals_int(entries.size(), 1);
  assert_str(entries[0].idempotency_key, key);

  fail_unless(emu->clear_faults());
  rerun_resumes(emu.get(), state, "cut short", task_id, key);
}
GST_END_TEST;

GST_START_TEST(test_entry_is_private_and_kept_when_stopped) {
  StateHome state;
  /* 3 s: long enough that a loaded machine still sees it processing. */
  auto emu = start_emulator({"--processing-ms", "3000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "a private prompt", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "processing"));
  const std::string key = src_string(pipeline, "idempotency-key");
  const std::string task_id = src_string(pipeline, "task-id");

  struct stat st;
  fail_unless(g_stat(state.journal.c_str(), &st) == 0);
  fail_unless_equals_int(st.st_mode & 0777, 0700);
  auto files = journal_files(state.journal);
  fail_unless_equals_int(files.size(), 2); /* the entry and its lock */
  for (const auto& f : files) {
    fail_unless(g_stat(f.c_str(), &st) == 0);
    fail_unless_equals_int(st.st_mode & 0777, 0600);
    const std::string text = read_file(f);
    fail_if(text.find(API_KEY) != std::string::npos, "the API key is in %s", f.c_str());
    fail_if(text.find("private prompt") != std::string::npos, "the prompt is in %s", f.c_str());
  }
  auto entries = journal_entries(state.journal);
  fail_unless_equals_int(entries.size(), 1);
  assert_str(entries[0].idempotency_key, key);
  assert_str(entries[0].task_id, task_id);

  /* Stopped before delivery: kept, and a new element resumes it. */
  gst_element_set_state(pipeline, GST_STATE_NULL);
  fail_unless_equals_int(journal_entries(state.journal).size(), 1);
  gst_object_unref(src);
  gst_object_unref(pipeline);
  rerun_resumes(emu.get(), state, "a private prompt", task_id, key);
}
GST_END_TEST;

GST_START_TEST(test_old_entries_are_ignored_and_cleaned_up) {
  StateHome state;
  auto emu = start_emulator();
  /* An unfinished run of this very request, 25 hours ago. */
  std::string body, why;
  fail_unless(mv::build_submit_body({"gpt-image-2", "yesterday", ""}, &body, &why), "%s", why.c_str());
  mv::JournalEntry old;
  old.fingerprint = mv::journal_fingerprint(emu->url(), "gpt-image-2", body);
  old.idempotency_key = "old-key-1";
  old.created_s = g_get_real_time() / G_USEC_PER_SEC - 25 * 3600;
  old.task_id = "task_gone";
  old.status = "processing";
  fail_unless(g_mkdir_with_parents(state.journal.c_str(), 0700) == 0);
  const std::string base = state.journal + "/" + mv::journal_basename(old.fingerprint, old.idempotency_key);
  const std::string text = mv::journal_serialise(old);
  fail_unless(g_file_set_contents((base + ".json").c_str(), text.c_str(), -1, nullptr));
  fail_unless(g_file_set_contents((base + ".lock").c_str(), "", 0, nullptr));

  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "yesterday", nullptr, "fakesink name=sink");
  PlayResult run;
  play_to_eos(pipeline, &run);
  fail_if(src_string(pipeline, "idempotency-key") == "old-key-1");
  assert_contains(run.progress_text[0], "Submitting a task");
  fail_unless_equals_int(emu->ledger_count("old-key-1"), 0);
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless(journal_files(state.journal).empty(), "the old entry was not cleaned up");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_unwritable_state_directory_still_runs) {
  StateHome state;
  /* A file where the directory would be: unusable, even for root. */
  const std::string blocker = state.path + "/not-a-dir";
  fail_unless(g_file_set_contents(blocker.c_str(), "x", 1, nullptr));
  g_setenv("XDG_STATE_HOME", blocker.c_str(), TRUE);
  auto emu = start_emulator();
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "no journal", nullptr, "fakesink name=sink");
  PlayResult run;
  play_to_eos(pipeline, &run);
  bool warned = false;
  for (const auto& w : run.warnings)
    warned |= w.find("journal") != std::string::npos;
  fail_unless(warned, "no warning about the journal");
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless(run.data == read_file(emu->task_files(src_string(pipeline, "task-id"))[0]));
  gst_object_unref(pipeline);
  g_unlink(blocker.c_str());
}
GST_END_TEST;

GST_START_TEST(test_journal_false_turns_it_off) {
  StateHome state;
  /* 3 s: long enough that a loaded machine still sees it processing. */
  auto emu = start_emulator({"--processing-ms", "3000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "unjournaled", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gboolean journal = FALSE;
  g_object_get(src, "journal", &journal, nullptr);
  fail_unless(journal, "the journal is not on by default");
  g_object_set(src, "journal", FALSE, nullptr);

  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "processing"));
  fail_unless(journal_files(state.journal).empty());
  const std::string key = src_string(pipeline, "idempotency-key");
  gst_element_set_state(pipeline, GST_STATE_NULL);

  /* As before the journal: a restart of this element reuses the key. */
  PlayResult run;
  play_to_eos(pipeline, &run);
  assert_str(src_string(pipeline, "idempotency-key"), key);
  for (auto* s : run.task_messages)
    fail_if(field_bool(s, "resumed"));
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless(!g_file_test(state.journal.c_str(), G_FILE_TEST_EXISTS), "journal=false made the directory");
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_users_key_bypasses_the_journal) {
  StateHome state;
  /* Processing for minutes: the wait below cannot miss the stage. */
  auto emu = start_emulator({"--processing-ms", "120000"});
  GstElement* pipeline = make_pipeline(emu.get(), "gpt-image-2", "my own key", nullptr, "fakesink name=sink");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  g_object_set(src, "idempotency-key", "users-key-1", nullptr);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  fail_unless(wait_for_status(src, "processing"));
  fail_unless(journal_files(state.journal).empty());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  fail_unless(!g_file_test(state.journal.c_str(), G_FILE_TEST_EXISTS));
  gst_object_unref(src);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* resume_suite(void) {
  Suite* s = suite_create("mindvideo-resume");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_kill_while_polling_then_rerun_pays_once);
  tcase_add_test(tc, test_kill_while_downloading_then_rerun_pays_once);
  tcase_add_test(tc, test_delivered_request_again_is_a_new_generation);
  tcase_add_test(tc, test_two_live_runs_are_two_generations);
  tcase_add_test(tc, test_failed_task_is_not_resumed);
  tcase_add_test(tc, test_refused_submission_is_not_kept);
  tcase_add_test(tc, test_timed_out_run_is_kept_and_resumed);
  tcase_add_test(tc, test_eos_before_the_download_ended_keeps_the_entry);
  tcase_add_test(tc, test_entry_is_private_and_kept_when_stopped);
  tcase_add_test(tc, test_old_entries_are_ignored_and_cleaned_up);
  tcase_add_test(tc, test_unwritable_state_directory_still_runs);
  tcase_add_test(tc, test_journal_false_turns_it_off);
  tcase_add_test(tc, test_users_key_bypasses_the_journal);
  return s;
}

GST_CHECK_MAIN(resume);
