/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * mv::Run driven against the emulator without a pipeline, as the element
 * drives it: wait for bytes, read them. Submit and poll to the bytes, resume
 * by key after a stop mid-poll, a fresh URL for an expired one, every output
 * of an n>1 task in order, and interruption of each wait.
 */
#include "element-helpers.h"

#include "http.h"
#include "run.h"

#include <glib/gstdio.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

/* What the run told its observer. */
class Recorder final : public mv::RunObserver {
 public:
  void on_start(const std::string&) override { started_ = true; }
  void on_task(const mv::TaskInfo& task, bool changed) override {
    std::lock_guard<std::mutex> guard(lock_);
    task_id_ = task.task_id;
    if (changed)
      statuses_.push_back(task.status_text);
  }
  void on_warning(const std::string& message) override {
    std::lock_guard<std::mutex> guard(lock_);
    warnings_.push_back(message);
  }
  void on_ready(const mv::TaskInfo&) override { ready_ = true; }
  void on_output(size_t index, const std::string& url) override {
    std::lock_guard<std::mutex> guard(lock_);
    outputs_.emplace_back(index, url);
  }

  std::string task_id() {
    std::lock_guard<std::mutex> guard(lock_);
    return task_id_;
  }
  std::vector<std::string> statuses() {
    std::lock_guard<std::mutex> guard(lock_);
    return statuses_;
  }
  std::vector<std::pair<size_t, std::string>> outputs() {
    std::lock_guard<std::mutex> guard(lock_);
    return outputs_;
  }
  bool started() const { return started_; }
  bool ready() const { return ready_; }

 private:
  std::mutex lock_;
  std::string task_id_;
  std::vector<std::string> statuses_;
  std::vector<std::string> warnings_;
  std::vector<std::pair<size_t, std::string>> outputs_;
  std::atomic<bool> started_{false};
  std::atomic<bool> ready_{false};
};

mv::RunSettings settings_for(EmulatorProcess* emu, const char* model, const char* prompt, const char* input = "") {
  mv::RunSettings s;
  s.job.log_id = "run-test";
  s.job.api_url = emu->url();
  s.job.api_key = API_KEY;
  s.job.request = {model, prompt, input};
  s.job.poll_interval_ms = 100;
  s.job.timeout_s = 120;
  s.job.retry.base_delay_ms = 50;
  s.max_size = 1 << 30;
  return s;
}

std::unique_ptr<mv::Run> make_run(const mv::RunSettings& settings, mv::KeyMemory& keys, Recorder& recorder) {
  mv::Error error;
  auto run = mv::Run::create(
      settings, keys, [] { return mv::HttpSession::process_default(); }, recorder, &error);
  fail_unless(run != nullptr, "no run: %s", error.message.c_str());
  return run;
}

/* Reads the whole stream as the element does: wait for bytes, read them.
 * Returns how the last wait ended; `disconts` gets the offsets where a new
 * output started. */
mv::Run::Wait read_all(mv::Run& run, std::string* data, mv::Error* error,
                       std::vector<uint64_t>* disconts = nullptr) {
  constexpr uint64_t kBlock = 64 * 1024;
  uint64_t offset = 0;
  for (;;) {
    uint64_t available = 0;
    mv::Run::Wait w = run.wait(offset, kBlock, &available, error);
    if (w != mv::Run::Wait::Ready)
      return w;
    if (run.take_discont() && disconts)
      disconts->push_back(offset);
    std::string block(MIN(available, kBlock), '\0');
    int64_t n = run.read(offset, block.data(), block.size());
    fail_unless(n > 0, "read at %" G_GUINT64_FORMAT " gave %" G_GINT64_FORMAT, offset, n);
    data->append(block.data(), (size_t)n);
    offset += (uint64_t)n;
  }
}

bool in_progress(const std::vector<std::string>& statuses) {
  return !statuses.empty() && (statuses.back() == "queued" || statuses.back() == "processing");
}

}  // namespace

GST_START_TEST(test_submit_and_poll_to_the_bytes) {
  auto emu = start_emulator();
  Recorder recorder;
  mv::KeyMemory keys;
  auto run = make_run(settings_for(emu.get(), "gpt-image-2", "a red apple"), keys, recorder);
  fail_if(run->seekable(), "seekable before the task exists");

  std::string data;
  mv::Error error;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  auto files = emu->task_files(recorder.task_id());
  fail_unless_equals_int(files.size(), 1);
  fail_unless(data == read_file(files[0]), "the bytes differ from the served file");
  fail_unless_equals_int64(run->size(), (int64_t)data.size());
  fail_unless(run->seekable());
  fail_unless(recorder.started() && recorder.ready());
  fail_unless(recorder.statuses().back() == "succeeded");
  auto outputs = recorder.outputs();
  fail_unless_equals_int(outputs.size(), 1);
  assert_str(outputs[0].second, run->output_url());
  assert_str(run->task().task_id, recorder.task_id());
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(emu->ledger_count(run->idempotency_key()), 1);

  /* Any offset again, from the spool: what a seek back needs. */
  char again[16];
  uint64_t available = 0;
  fail_unless(run->wait(10, sizeof again, &available, &error) == mv::Run::Wait::Ready);
  fail_unless_equals_int64(run->read(10, again, sizeof again), (int64_t)sizeof again);
  fail_unless(data.compare(10, sizeof again, again, sizeof again) == 0);
}
GST_END_TEST;

GST_START_TEST(test_resume_by_key_after_a_stop_mid_poll) {
  auto emu = start_emulator();
  fail_unless(emu->set_config(R"({"processing_ms":3000})"));
  const mv::RunSettings settings = settings_for(emu.get(), "gpt-image-2", "a slow pear");
  mv::KeyMemory keys;

  Recorder first;
  auto run = make_run(settings, keys, first);
  mv::Run::Wait ended = mv::Run::Wait::Ready;
  std::thread streaming([&] {
    std::string data;
    mv::Error error;
    ended = read_all(*run, &data, &error);
  });
  fail_unless(wait_until([&] { return in_progress(first.statuses()); }), "the task never started");
  run->interrupt();
  streaming.join();
  fail_unless(ended == mv::Run::Wait::Flushing);
  const std::string key = run->idempotency_key();
  const std::string task_id = first.task_id();
  assert_contains(run->resume_hint(), "idempotency-key=" + key);
  run.reset(); /* stop() */

  /* start() again with the same request: the same key, the same task. */
  Recorder second;
  run = make_run(settings, keys, second);
  assert_str(run->idempotency_key(), key);
  std::string data;
  mv::Error error;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  assert_str(second.task_id(), task_id);
  fail_unless(data == read_file(emu->task_files(task_id)[0]));
  fail_unless_equals_int(emu->ledger_count(), 1);
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 2);

  /* Another request gets a key of its own. */
  Recorder third;
  auto other = make_run(settings_for(emu.get(), "gpt-image-2", "another pear"), keys, third);
  fail_if(other->idempotency_key() == key);
}
GST_END_TEST;

GST_START_TEST(test_expired_url_is_refreshed) {
  auto emu = start_emulator();
  fail_unless(emu->add_fault(R"({"route":"download","action":"expire","status":403,"resign":true,"method":"GET"})"));
  Recorder recorder;
  mv::KeyMemory keys;
  auto run = make_run(settings_for(emu.get(), "gpt-image-2", "a fresh URL"), keys, recorder);
  std::string data;
  mv::Error error;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  fail_unless(data == read_file(emu->task_files(recorder.task_id())[0]));
  auto log = request_log(emu.get());
  fail_unless_equals_int(count_requests(log, "cdn", "GET"), 2);
  /* The refusal was followed by a fresh read of the task, then the retry. */
  size_t refused = 0;
  while (refused < log.size() && !(log[refused].origin == "cdn" && log[refused].method == "GET"))
    refused++;
  bool reread = false;
  for (size_t i = refused + 1; i < log.size(); i++) {
    if (log[i].origin == "cdn")
      break;
    reread |= log[i].origin == "api" && log[i].method == "GET";
  }
  fail_unless(reread, "the task was not read again between the refused and the fresh download");
}
GST_END_TEST;

GST_START_TEST(test_fresh_url_read_survives_passing_failures) {
  /* Found by the chaos soak: the read of the task for a fresh URL met a
   * 503 or a 429 of its own, and the paid-for output was lost. A task made
   * first, then attached to: one GET of the task before the download, which
   * "after":1 on each poll rule lets through (every rule counts it); the
   * rules then hit the re-reads in turn. */
  auto emu = start_emulator();
  Recorder first;
  mv::KeyMemory keys;
  auto made = make_run(settings_for(emu.get(), "gpt-image-2", "a flaky re-read"), keys, first);
  std::string expected;
  mv::Error error;
  fail_unless(read_all(*made, &expected, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  made.reset();

  fail_unless(emu->clear_requests());
  fail_unless(emu->add_fault(R"({"route":"download","action":"expire","resign":true,"method":"GET"})"));
  fail_unless(emu->add_fault(R"({"rules":[
      {"route":"poll","action":"status","status":503,"after":1},
      {"route":"poll","action":"status","status":429,"retry_after_ms":50,"after":1},
      {"route":"poll","action":"body","body":"<html>","after":1}]})"));
  mv::RunSettings attach = settings_for(emu.get(), "gpt-image-2", "a flaky re-read");
  attach.job.task_id = first.task_id();
  Recorder second;
  auto run = make_run(attach, keys, second);
  std::string data;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  fail_unless(data == expected, "the bytes differ from the first download");
  /* The attach, three re-reads that failed, the one that gave the URL. */
  int reads = 0;
  for (const auto& l : request_log(emu.get()))
    reads += l.origin == "api" && l.method == "GET" && l.path == "/api/v1/tasks/" + first.task_id();
  fail_unless_equals_int(reads, 5);
  fail_unless_equals_int(emu->ledger_count(), 1);
}
GST_END_TEST;

GST_START_TEST(test_every_output_in_order) {
  auto emu = start_emulator();
  Recorder recorder;
  mv::KeyMemory keys;
  mv::RunSettings settings = settings_for(emu.get(), "qwen-image-2-0-pro", "three plums", R"({"n":3})");
  settings.job.output_index = -1;
  auto run = make_run(settings, keys, recorder);
  std::string data;
  std::vector<uint64_t> disconts;
  mv::Error error;
  fail_unless(read_all(*run, &data, &error, &disconts) == mv::Run::Wait::Eos, "%s", error.message.c_str());

  auto files = emu->task_files(recorder.task_id());
  fail_unless_equals_int(files.size(), 3);
  std::string expected;
  std::vector<uint64_t> starts;
  for (const auto& f : files) {
    if (!expected.empty())
      starts.push_back(expected.size());
    expected += read_file(f);
  }
  fail_unless(data == expected, "the stream is not the outputs in order");
  fail_unless(disconts == starts, "a new output did not start with a discontinuity");
  auto outputs = recorder.outputs();
  fail_unless_equals_int(outputs.size(), 3);
  for (size_t i = 0; i < outputs.size(); i++)
    fail_unless_equals_int(outputs[i].first, i);
  fail_unless_equals_int64(run->size(), -1);
  fail_if(run->seekable());
  fail_unless_equals_int(run->output(), 2);
  fail_unless_equals_uint64(run->output_offset(), starts.back());

  /* Every output streams once: no way back. */
  uint64_t available = 0;
  fail_unless(run->wait(0, 10, &available, &error) == mv::Run::Wait::Error);
  assert_contains(error.message, "cannot seek back");
  fail_unless(error.kind == mv::Error::Kind::Settings);
}
GST_END_TEST;

GST_START_TEST(test_interrupt_wakes_the_task_wait) {
  auto emu = start_emulator();
  fail_unless(emu->set_config(R"({"processing_ms":3000})"));
  Recorder recorder;
  mv::KeyMemory keys;
  auto run = make_run(settings_for(emu.get(), "gpt-image-2", "an interrupted fig"), keys, recorder);
  mv::Run::Wait ended = mv::Run::Wait::Ready;
  std::thread streaming([&] {
    uint64_t available = 0;
    mv::Error error;
    ended = run->wait(0, 1, &available, &error);
  });
  fail_unless(wait_until([&] { return in_progress(recorder.statuses()); }), "the task never started");
  run->interrupt();
  streaming.join();
  fail_unless(ended == mv::Run::Wait::Flushing);
  /* Sticky until resume(). */
  uint64_t available = 0;
  mv::Error error;
  fail_unless(run->wait(0, 1, &available, &error) == mv::Run::Wait::Flushing);

  /* resume() carries on with the same task: no second charge. */
  run->resume();
  std::string data;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  fail_unless(data == read_file(emu->task_files(recorder.task_id())[0]));
  fail_unless_equals_int(emu->ledger_count(), 1);
}
GST_END_TEST;

GST_START_TEST(test_interrupt_wakes_the_bytes_wait) {
  auto emu = start_emulator();
  /* The output host answers after 5 s: the reader waits for bytes. */
  fail_unless(emu->add_fault(R"({"route":"download","action":"delay","ms":5000,"method":"GET"})"));
  Recorder recorder;
  mv::KeyMemory keys;
  auto run = make_run(settings_for(emu.get(), "gpt-image-2", "a waiting kiwi"), keys, recorder);
  mv::Run::Wait ended = mv::Run::Wait::Ready;
  std::thread streaming([&] {
    uint64_t available = 0;
    mv::Error error;
    ended = run->wait(0, 1, &available, &error);
  });
  fail_unless(wait_until([&] { return !recorder.outputs().empty(); }), "the download never started");
  run->interrupt();
  streaming.join();
  fail_unless(ended == mv::Run::Wait::Flushing);
  fail_unless_equals_int64(run->size(), -1);

  run->resume();
  std::string data;
  mv::Error error;
  fail_unless(read_all(*run, &data, &error) == mv::Run::Wait::Eos, "%s", error.message.c_str());
  fail_unless(data == read_file(emu->task_files(recorder.task_id())[0]));
}
GST_END_TEST;

/* The journal from the run's side, with the window as a core parameter: an
 * interrupted run leaves its entry, the next run of the request takes it
 * over within the window, and past it makes a new key and cleans it up. */
GST_START_TEST(test_journal_window_is_a_run_setting) {
  auto emu = start_emulator();
  fail_unless(emu->set_config(R"({"processing_ms":3000})"));
  gchar* tmp = g_dir_make_tmp("mv-run-journal-XXXXXX", nullptr);
  mv::RunSettings settings = settings_for(emu.get(), "gpt-image-2", "a journaled quince");
  settings.journal.enabled = true;
  settings.journal.dir = std::string(tmp) + "/mindvideo";
  mv::KeyMemory keys;

  Recorder first;
  auto run = make_run(settings, keys, first);
  fail_unless(run->resumed() == nullptr);
  std::thread streaming([&] {
    std::string data;
    mv::Error error;
    read_all(*run, &data, &error);
  });
  fail_unless(wait_until([&] { return in_progress(first.statuses()); }), "the task never started");
  fail_unless(run->journaled());
  run->interrupt();
  streaming.join();
  const std::string key = run->idempotency_key();
  const std::string task_id = first.task_id();
  run.reset();

  Recorder second;
  run = make_run(settings, keys, second);
  fail_unless(run->resumed() != nullptr);
  assert_str(run->idempotency_key(), key);
  assert_str(run->resumed()->task_id, task_id);
  run.reset(); /* a start and a stop: the entry stays */

  settings.journal.window_s = 0; /* every entry is too old */
  Recorder third;
  run = make_run(settings, keys, third);
  fail_unless(run->resumed() == nullptr);
  fail_if(run->idempotency_key() == key);
  run.reset();
  /* Cleaned up, and a start without streaming wrote nothing. */
  GDir* d = g_dir_open(settings.journal.dir.c_str(), 0, nullptr);
  fail_unless(d != nullptr);
  fail_unless(g_dir_read_name(d) == nullptr, "the journal is not empty");
  g_dir_close(d);
  g_rmdir(settings.journal.dir.c_str());
  g_rmdir(tmp);
  g_free(tmp);
}
GST_END_TEST;

GST_START_TEST(test_key_policy) {
  mv::KeyMemory keys;
  mv::JobSettings s;
  s.api_url = "https://api.example";
  s.request = {"gpt-image-2", "a cat", ""};
  const std::string first = keys.key_for(s);
  fail_if(first.empty());
  assert_str(keys.key_for(s), first); /* a restart of the same request */
  s.request.prompt = "a dog";
  const std::string second = keys.key_for(s);
  fail_if(second == first); /* another request */
  s.idempotency_key = "user-key";
  assert_str(keys.key_for(s), "user-key");
  s.task_id = "task_1";
  assert_str(keys.key_for(s), ""); /* attaching: nothing is submitted */
}
GST_END_TEST;

static Suite* run_suite(void) {
  Suite* s = suite_create("mindvideo-run");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_key_policy);
  tcase_add_test(tc, test_submit_and_poll_to_the_bytes);
  tcase_add_test(tc, test_resume_by_key_after_a_stop_mid_poll);
  tcase_add_test(tc, test_expired_url_is_refreshed);
  tcase_add_test(tc, test_fresh_url_read_survives_passing_failures);
  tcase_add_test(tc, test_every_output_in_order);
  tcase_add_test(tc, test_interrupt_wakes_the_task_wait);
  tcase_add_test(tc, test_interrupt_wakes_the_bytes_wait);
  tcase_add_test(tc, test_journal_window_is_a_run_setting);
  return s;
}

GST_CHECK_MAIN(run);
