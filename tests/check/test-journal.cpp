/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The journal: its pure part (fingerprint, entry text, the resume window,
 * file names) without I/O, then the small file and lock part in a private
 * temporary directory: entries are 0600 and hold no secret, two holders in
 * one process exclude each other, and old entries are cleaned up.
 */
#include "journal.h"
#include "test-helpers.h"

#include <glib/gstdio.h>

#include <sys/stat.h>

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

constexpr int64_t kNow = 1795000000; /* 2026-11-18 */
const std::string kBody = R"({"model":"gpt-image-2","input":{"prompt":"a secret red apple"}})";

mv::JournalEntry sample(int64_t created = kNow) {
  mv::JournalEntry e;
  e.fingerprint = mv::journal_fingerprint("https://api.example", "gpt-image-2", kBody);
  e.idempotency_key = "3f1c2b4a-0000-4000-8000-0123456789ab";
  e.created_s = created;
  return e;
}

std::string slurp(const std::string& path) {
  gchar* text = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &text, &len, nullptr))
    return "";
  std::string s(text, len);
  g_free(text);
  return s;
}

std::string entry_path(const std::string& dir, const mv::JournalEntry& e, const char* ext) {
  return dir + "/" + mv::journal_basename(e.fingerprint, e.idempotency_key) + "." + ext;
}

}  // namespace

GST_START_TEST(test_fingerprint) {
  const std::string f = mv::journal_fingerprint("https://api.example", "gpt-image-2", kBody);
  fail_unless_equals_int(f.size(), 64);
  assert_str(mv::journal_fingerprint("https://api.example", "gpt-image-2", kBody), f);
  fail_if(mv::journal_fingerprint("https://api.example/", "gpt-image-2", kBody) == f);
  fail_if(mv::journal_fingerprint("https://api.example", "gpt-image-1", kBody) == f);
  fail_if(mv::journal_fingerprint("https://api.example", "gpt-image-2", kBody + " ") == f);
  /* The boundaries count: moving bytes from one part to the next changes it. */
  fail_if(mv::journal_fingerprint("ab", "c", "") == mv::journal_fingerprint("a", "bc", ""));
  /* No prompt text leaks through the hash's input into the output. */
  fail_if(f.find("apple") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST(test_entry_round_trip) {
  mv::JournalEntry e = sample();
  std::string text = mv::journal_serialise(e);
  mv::JournalEntry back;
  std::string why;
  fail_unless(mv::journal_parse(text, &back, &why), "%s", why.c_str());
  assert_str(back.fingerprint, e.fingerprint);
  assert_str(back.idempotency_key, e.idempotency_key);
  fail_unless_equals_int64(back.created_s, kNow);
  assert_str(back.task_id, "");
  assert_str(back.status, "");

  e.task_id = "task_123";
  e.status = "processing";
  text = mv::journal_serialise(e);
  fail_unless(mv::journal_parse(text, &back, &why), "%s", why.c_str());
  assert_str(back.task_id, "task_123");
  assert_str(back.status, "processing");
  /* What it holds, and no more. */
  fail_if(text.find("apple") != std::string::npos);
  assert_contains(text, "2026-11-18");
}
GST_END_TEST;

GST_START_TEST(test_entry_parse_refuses) {
  mv::JournalEntry e;
  std::string why;
  fail_if(mv::journal_parse("", &e, &why));
  fail_if(mv::journal_parse("{\"version\":1", &e, &why)); /* torn */
  fail_if(mv::journal_parse("[]", &e, &why));
  const mv::JournalEntry good = sample();
  auto variant = [&](const std::string& from, const std::string& to) {
    std::string text = mv::journal_serialise(good);
    size_t at = text.find(from);
    fail_unless(at != std::string::npos, "%s", from.c_str());
    return text.replace(at, from.size(), to);
  };
  fail_if(mv::journal_parse(variant("\"version\": 1", "\"version\": 2"), &e, &why));
  fail_if(mv::journal_parse(variant(good.fingerprint, "abc"), &e, &why));
  fail_if(mv::journal_parse(variant(good.idempotency_key, "../../etc/passwd"), &e, &why));
  fail_if(mv::journal_parse(variant("\"created\": " + std::to_string(kNow), "\"created\": \"soon\""), &e, &why));
  fail_unless(mv::journal_parse(mv::journal_serialise(good), &e, &why));
}
GST_END_TEST;

GST_START_TEST(test_window) {
  const int64_t day = mv::kJournalWindowS;
  fail_unless_equals_int64(day, 24 * 3600);
  fail_unless(mv::journal_fresh(kNow, kNow, day));
  fail_unless(mv::journal_fresh(kNow - day + 1, kNow, day));
  fail_if(mv::journal_fresh(kNow - day, kNow, day));
  fail_if(mv::journal_fresh(kNow - 2 * day, kNow, day));
  fail_unless(mv::journal_fresh(kNow + 600, kNow, day)); /* the clock went back */
  fail_if(mv::journal_fresh(kNow, kNow, 0));
}
GST_END_TEST;

GST_START_TEST(test_names) {
  const mv::JournalEntry e = sample();
  const std::string base = mv::journal_basename(e.fingerprint, e.idempotency_key);
  std::string b, ext;
  fail_unless(mv::journal_split_name(base + ".json", &b, &ext));
  assert_str(b, base);
  assert_str(ext, "json");
  fail_unless(mv::journal_split_name(base + ".lock", &b, &ext));
  assert_str(ext, "lock");
  fail_if(mv::journal_split_name(base + ".json.ABC123", &b, &ext)); /* a temporary file */
  fail_if(mv::journal_split_name(base + ".txt", &b, &ext));
  fail_if(mv::journal_split_name("notes.json", &b, &ext));
  fail_if(mv::journal_split_name(e.fingerprint + "-.json", &b, &ext));
}
GST_END_TEST;

GST_START_TEST(test_default_dir_follows_xdg_state_home) {
  const std::string saved = g_getenv("XDG_STATE_HOME") ? g_getenv("XDG_STATE_HOME") : "";
  g_setenv("XDG_STATE_HOME", "/var/tmp/state-a", TRUE);
  assert_str(mv::journal_default_dir(), "/var/tmp/state-a/mindvideo");
  g_setenv("XDG_STATE_HOME", "/var/tmp/state-b", TRUE);
  assert_str(mv::journal_default_dir(), "/var/tmp/state-b/mindvideo");
  g_setenv("XDG_STATE_HOME", "relative/dir", TRUE); /* ignored, as the XDG spec says */
  assert_str(mv::journal_default_dir(), std::string(g_get_user_state_dir()) + "/mindvideo");
  if (saved.empty())
    g_unsetenv("XDG_STATE_HOME");
  else
    g_setenv("XDG_STATE_HOME", saved.c_str(), TRUE);
}
GST_END_TEST;

GST_START_TEST(test_create_is_private_and_durable) {
  TempDir tmp("mv-journal-XXXXXX");
  const std::string dir = tmp.path + "/state/mindvideo";
  std::string why;
  auto journal = mv::Journal::open(dir, &why);
  fail_unless(journal != nullptr, "%s", why.c_str());
  struct stat st;
  fail_unless(g_stat(dir.c_str(), &st) == 0);
  fail_unless_equals_int(st.st_mode & 0777, 0700);

  mv::JournalEntry e = sample();
  auto held = journal->create(e, &why);
  fail_unless(held != nullptr, "%s", why.c_str());
  const std::string json = entry_path(dir, e, "json");
  fail_unless(g_stat(json.c_str(), &st) == 0);
  fail_unless_equals_int(st.st_mode & 0777, 0600);
  fail_unless(g_stat(entry_path(dir, e, "lock").c_str(), &st) == 0);
  fail_unless_equals_int(st.st_mode & 0777, 0600);

  e.task_id = "task_9";
  e.status = "queued";
  fail_unless(held->update(e, &why), "%s", why.c_str());
  mv::JournalEntry back;
  fail_unless(mv::journal_parse(slurp(json), &back, &why));
  assert_str(back.task_id, "task_9");
  fail_unless(g_stat(json.c_str(), &st) == 0);
  fail_unless_equals_int(st.st_mode & 0777, 0600);

  /* What a write cut short by a crash leaves goes with the entry. */
  const std::string torn = json + ".AB12CD";
  fail_unless(g_file_set_contents(torn.c_str(), "{", 1, nullptr));
  held->remove();
  fail_if(g_file_test(torn.c_str(), G_FILE_TEST_EXISTS));
  fail_if(g_file_test(json.c_str(), G_FILE_TEST_EXISTS));
  fail_if(g_file_test(entry_path(dir, e, "lock").c_str(), G_FILE_TEST_EXISTS));
  held.reset();
  g_rmdir(dir.c_str());
  g_rmdir((tmp.path + "/state").c_str());
}
GST_END_TEST;

GST_START_TEST(test_take_over_excludes_within_one_process) {
  TempDir tmp("mv-journal-XXXXXX");
  std::string why;
  auto journal = mv::Journal::open(tmp.path, &why);
  fail_unless(journal != nullptr, "%s", why.c_str());
  const mv::JournalEntry e = sample(kNow - 60);
  auto first = journal->create(e, &why);
  fail_unless(first != nullptr, "%s", why.c_str());

  /* Held by a live run (of this very process): not resumable. */
  fail_unless(journal->take_over(e.fingerprint, kNow, mv::kJournalWindowS, "test") == nullptr);
  /* Another request never takes it over. */
  fail_unless(journal->take_over(std::string(64, 'a'), kNow, mv::kJournalWindowS, "test") == nullptr);

  /* Released (the run stopped or died): taken over, once. */
  first.reset();
  auto second = journal->take_over(e.fingerprint, kNow, mv::kJournalWindowS, "test");
  fail_unless(second != nullptr);
  assert_str(second->entry().idempotency_key, e.idempotency_key);
  fail_unless(journal->take_over(e.fingerprint, kNow, mv::kJournalWindowS, "test") == nullptr);
  second.reset();
  fail_unless_equals_int(count_entries(tmp.path), 2); /* kept: .json and .lock */

  /* The newest of two unfinished runs of the request wins. */
  mv::JournalEntry newer = sample(kNow - 10);
  newer.idempotency_key = "newer-key";
  fail_unless(journal->create(newer, &why) != nullptr);
  auto taken = journal->take_over(e.fingerprint, kNow, mv::kJournalWindowS, "test");
  fail_unless(taken != nullptr);
  assert_str(taken->entry().idempotency_key, "newer-key");
}
GST_END_TEST;

GST_START_TEST(test_old_entries_are_ignored_and_cleaned_up) {
  TempDir tmp("mv-journal-XXXXXX");
  std::string why;
  auto journal = mv::Journal::open(tmp.path, &why);
  fail_unless(journal != nullptr, "%s", why.c_str());
  const int64_t window = 3600;
  mv::JournalEntry old = sample(kNow - window);
  mv::JournalEntry other = sample(kNow - 2 * window);
  other.fingerprint = std::string(64, 'b');
  mv::JournalEntry held_old = sample(kNow - 3 * window);
  held_old.idempotency_key = "still-running";
  fail_unless(journal->create(old, &why) != nullptr);
  fail_unless(journal->create(other, &why) != nullptr);
  auto live = journal->create(held_old, &why);
  fail_unless(live != nullptr);
  /* Not journal files: left alone. */
  fail_unless(g_file_set_contents((tmp.path + "/README").c_str(), "x", 1, nullptr));
  fail_unless_equals_int(count_entries(tmp.path), 7);

  fail_unless(journal->take_over(old.fingerprint, kNow, window, "test") == nullptr);
  fail_if(g_file_test(entry_path(tmp.path, old, "json").c_str(), G_FILE_TEST_EXISTS));
  fail_if(g_file_test(entry_path(tmp.path, other, "json").c_str(), G_FILE_TEST_EXISTS));
  fail_if(g_file_test(entry_path(tmp.path, old, "lock").c_str(), G_FILE_TEST_EXISTS));
  /* A live run's entry stays, however old. */
  fail_unless(g_file_test(entry_path(tmp.path, held_old, "json").c_str(), G_FILE_TEST_EXISTS));
  fail_unless_equals_int(count_entries(tmp.path), 3);
}
GST_END_TEST;

GST_START_TEST(test_unusable_directory) {
  TempDir tmp("mv-journal-XXXXXX");
  const std::string file = tmp.path + "/a-file";
  fail_unless(g_file_set_contents(file.c_str(), "x", 1, nullptr));
  std::string why;
  fail_unless(mv::Journal::open(file + "/mindvideo", &why) == nullptr);
  fail_if(why.empty());
}
GST_END_TEST;

GST_START_TEST(test_foreign_and_torn_files_are_skipped) {
  TempDir tmp("mv-journal-XXXXXX");
  std::string why;
  auto journal = mv::Journal::open(tmp.path, &why);
  fail_unless(journal != nullptr);
  const mv::JournalEntry e = sample(kNow - 60);
  /* A torn entry, and one whose name and contents disagree. */
  fail_unless(g_file_set_contents(entry_path(tmp.path, e, "json").c_str(), "{\"vers", -1, nullptr));
  mv::JournalEntry renamed = e;
  renamed.idempotency_key = "another-key";
  const std::string text = mv::journal_serialise(e);
  fail_unless(g_file_set_contents(entry_path(tmp.path, renamed, "json").c_str(), text.c_str(), -1, nullptr));
  fail_unless(journal->take_over(e.fingerprint, kNow, mv::kJournalWindowS, "test") == nullptr);
}
GST_END_TEST;

static Suite* journal_suite(void) {
  Suite* s = suite_create("mindvideo-journal");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_fingerprint);
  tcase_add_test(tc, test_entry_round_trip);
  tcase_add_test(tc, test_entry_parse_refuses);
  tcase_add_test(tc, test_window);
  tcase_add_test(tc, test_names);
  tcase_add_test(tc, test_default_dir_follows_xdg_state_home);
  tcase_add_test(tc, test_create_is_private_and_durable);
  tcase_add_test(tc, test_take_over_excludes_within_one_process);
  tcase_add_test(tc, test_old_entries_are_ignored_and_cleaned_up);
  tcase_add_test(tc, test_unusable_directory);
  tcase_add_test(tc, test_foreign_and_torn_files_are_skipped);
  return s;
}

GST_CHECK_MAIN(journal);
