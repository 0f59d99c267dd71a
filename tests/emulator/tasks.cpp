/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Task lifecycle: creation (with its ledger charge), the queued → processing
 * → terminal timeline driven by main-loop timers, media generation jobs on
 * the worker pool, and the task's JSON views.
 */
#include "emulator.h"

#include <atomic>

namespace emu {

namespace {

/* Timers and jobs refer to tasks by id + reset generation, never by pointer:
 * a reset may drop the task while they are pending. */
struct TaskRef {
  Emulator* emu;
  std::string task_id;
  guint generation;
};

void delete_ref(gpointer data) {
  delete static_cast<TaskRef*>(data);
}

struct Job {
  Emulator* emu;
  std::string task_id;
  guint generation;
  MediaPlan plan;
  std::string dir, cache_dir;
  std::vector<std::string> files;
  std::string error;
  bool ok = false;
  /* The job goes to a pool thread and back to the main loop through GLib's
   * queues, whose locks ThreadSanitizer does not see (GLib is not built
   * with it): this release/acquire pair makes each hand-over visible, so
   * tests/run-tsan.sh reports no false race on the job's fields. */
  std::atomic<int> handovers{0};
};

}  // namespace

const char* status_name(Status status) {
  switch (status) {
    case Status::Queued:
      return "queued";
    case Status::Processing:
      return "processing";
    case Status::Succeeded:
      return "succeeded";
    case Status::Failed:
      return "failed";
    case Status::Cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::shared_ptr<Task> Emulator::find_task(const std::string& id) const {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second;
}

std::shared_ptr<Task> Emulator::create_task(const ModelInfo& model, const MediaPlan& plan, const std::string& key,
                                            const std::string& idempotency_key, json payload, ojson input) {
  auto task = std::make_shared<Task>();
  task->id = "task_" + random_hex(12);
  task->request_id = "req_" + random_hex(12);
  task->model = model.slug;
  task->idempotency_key = idempotency_key;
  task->key_hash = sha256_hex(key);
  task->payload = std::move(payload);
  task->input = std::move(input);
  task->kind = model.kind;
  task->plan = plan;
  task->cost = task_cost(model, plan);
  task->created_us = g_get_real_time();
  task->status = Status::Queued;
  task->events.push_back({Status::Queued, task->created_us});

  /* A `task` rule decides how this task ends. */
  if (auto rule = faults_.take({Route::Task, "", task->model, task->id})) {
    switch (rule->action) {
      case Action::Fail:
        task->outcome = Outcome::Fail;
        task->outcome_code = rule->get_string("code", "generation_failed");
        task->outcome_message = rule->get_string("message", "Generation failed: content policy violation");
        break;
      case Action::Cancel:
        task->outcome = Outcome::Cancel;
        task->outcome_code = rule->get_string("code", "cancelled");
        task->outcome_message = rule->get_string("message", "Task was cancelled");
        break;
      case Action::Hang:
        task->outcome = Outcome::Hang;
        break;
      case Action::Delay:
        task->extra_processing_ms = rule->get_int("ms", 5000);
        break;
      case Action::Redirect:
        task->redirect_hops = rule->get_int("hops", 1);
        task->redirect_cross_origin = rule->get_bool("cross_origin", false);
        break;
      case Action::OutputUrl:
        task->output_url_override = rule->get_string("url", "");
        break;
      default:
        break;
    }
  }

  tasks_[task->id] = task;
  ledger_.push_back({task->key_hash.substr(0, 12), task->id, task->model, idempotency_key, task->cost});

  g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)config_.queued_ms, on_queued_elapsed,
                     new TaskRef{this, task->id, generation_}, delete_ref);

  /* Generation starts at once, off the main loop; fail/cancel/hang tasks need no media. */
  if (task->outcome == Outcome::Normal) {
    auto* job = new Job{this, task->id, generation_, plan, "", opts_.cache_dir, {}, "", false};
    g_autofree gchar* dir = g_build_filename(opts_.media_dir.c_str(), task->id.c_str(), nullptr);
    job->dir = dir;
    job->handovers.fetch_add(1, std::memory_order_release);
    g_thread_pool_push(pool_, job, nullptr);
  }
  return task;
}

void Emulator::set_status(Task& task, Status status) {
  if (task.status == status)
    return;
  task.status = status;
  task.events.push_back({status, g_get_real_time()});
  /* Open event streams get it now, not on their next poll. */
  sse_publish(task);
}

gboolean Emulator::on_queued_elapsed(gpointer data) {
  auto* ref = static_cast<TaskRef*>(data);
  Emulator* self = ref->emu;
  if (ref->generation != self->generation_)
    return G_SOURCE_REMOVE;
  auto task = self->find_task(ref->task_id);
  if (!task || task->status != Status::Queued)
    return G_SOURCE_REMOVE;
  self->set_status(*task, Status::Processing);
  g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)(self->config_.processing_ms + task->extra_processing_ms),
                     on_processing_elapsed, new TaskRef{self, task->id, self->generation_}, delete_ref);
  return G_SOURCE_REMOVE;
}

gboolean Emulator::on_processing_elapsed(gpointer data) {
  auto* ref = static_cast<TaskRef*>(data);
  Emulator* self = ref->emu;
  if (ref->generation != self->generation_)
    return G_SOURCE_REMOVE;
  if (auto task = self->find_task(ref->task_id)) {
    task->processing_elapsed = true;
    self->try_finish(*task);
  }
  return G_SOURCE_REMOVE;
}

/* Worker thread: touches only the Job. */
void Emulator::run_job(gpointer data, gpointer) {
  auto* job = static_cast<Job*>(data);
  job->handovers.load(std::memory_order_acquire);
  job->ok = generate_media(job->plan, job->dir, job->cache_dir, &job->files, &job->error);
  job->handovers.fetch_add(1, std::memory_order_release);
  g_idle_add(on_job_done, job);
}

gboolean Emulator::on_job_done(gpointer data) {
  std::unique_ptr<Job> job(static_cast<Job*>(data));
  job->handovers.load(std::memory_order_acquire);
  Emulator* self = job->emu;
  if (job->generation != self->generation_)
    return G_SOURCE_REMOVE;
  auto task = self->find_task(job->task_id);
  if (!task)
    return G_SOURCE_REMOVE;
  task->media_done = true;
  if (job->ok) {
    for (size_t i = 0; i < job->files.size(); i++)
      task->files.push_back({task->plan.outputs[i].name, task->plan.outputs[i].format, job->files[i], random_hex(16)});
  } else {
    task->media_error = job->error.empty() ? "Generation failed" : job->error;
    if (!self->opts_.quiet)
      g_printerr("mindvideo-emulator: %s: %s\n", task->id.c_str(), task->media_error.c_str());
  }
  self->try_finish(*task);
  return G_SOURCE_REMOVE;
}

/* A task ends once its processing time has passed and, for a normal task,
 * its media are ready. */
void Emulator::try_finish(Task& task) {
  if (task.status != Status::Processing || !task.processing_elapsed)
    return;
  switch (task.outcome) {
    case Outcome::Hang:
      return;
    case Outcome::Fail:
      task.error_code = task.outcome_code;
      task.error_message = task.outcome_message;
      set_status(task, Status::Failed);
      return;
    case Outcome::Cancel:
      task.error_code = task.outcome_code;
      task.error_message = task.outcome_message;
      set_status(task, Status::Cancelled);
      return;
    case Outcome::Normal:
      break;
  }
  if (!task.media_done)
    return;
  if (!task.media_error.empty()) {
    task.error_code = "generation_failed";
    task.error_message = task.media_error;
    set_status(task, Status::Failed);
    return;
  }
  set_status(task, Status::Succeeded);
}

std::string Emulator::output_url(const Task& task, const OutputFile& file) const {
  /* output_url rule: a URL the client must refuse (file://, ftp://...). */
  if (task.output_url_override)
    return *task.output_url_override;
  std::string path = "/files/" + task.id + "/" + file.name + "?sig=" + file.sig;
  if (task.redirect_hops > 0)
    path = "/redirect/" + std::to_string(task.redirect_hops) + (task.redirect_cross_origin ? "x" : "") + path;
  return cdn_url_ + path;
}

ojson Emulator::task_json(const Task& task) const {
  ojson obj = ojson::object();
  obj["request_id"] = task.request_id;
  obj["task_id"] = task.id;
  obj["model"] = task.model;
  obj["status"] = status_name(task.status);
  obj["cost_estimate"] = task.cost;
  obj["cost_actual"] = task.status == Status::Succeeded ? ojson(task.cost) : ojson(nullptr);
  obj["created_at"] = rfc3339(task.created_us);
  if (task.status == Status::Succeeded) {
    ojson list = ojson::array();
    for (const auto& f : task.files)
      list.push_back(ojson{{"url", output_url(task, f)}});
    ojson output = ojson::object();
    output[task.kind == Kind::Video ? "videos" : "images"] = list;
    obj["output"] = output;
  }
  if (task.status == Status::Failed || task.status == Status::Cancelled) {
    ojson err = ojson::object();
    err["code"] = task.error_code;
    err["message"] = task.error_message;
    obj["error"] = err;
  }
  return obj;
}

ojson Emulator::task_internal_json(const Task& task) const {
  ojson obj = task_json(task);
  obj["input"] = task.input;
  obj["idempotency_key"] = task.idempotency_key.empty() ? ojson(nullptr) : ojson(task.idempotency_key);
  ojson files = ojson::array();
  for (const auto& f : task.files)
    files.push_back(f.path);
  obj["files"] = files;
  return obj;
}

bool is_terminal(Status status) {
  return status == Status::Succeeded || status == Status::Failed || status == Status::Cancelled;
}

ojson event_json(const Event& event) {
  ojson item = ojson::object();
  item["type"] = "status";
  item["status"] = status_name(event.status);
  item["created_at"] = rfc3339(event.at_us);
  return item;
}

ojson Emulator::events_json(const Task& task) const {
  ojson events = ojson::array();
  for (const auto& e : task.events)
    events.push_back(event_json(e));
  ojson obj = ojson::object();
  obj["task_id"] = task.id;
  obj["events"] = events;
  return obj;
}

void Emulator::reset() {
  generation_++;
  /* Open event streams of the deleted tasks end cleanly (a complete body). */
  sse_end_all();
  tasks_.clear();
  idempotency_.clear();
  ledger_.clear();
  log_.clear();
  faults_.clear();
  faults_.stop_chaos();
  route_requests_.fill(0);
}

}  // namespace emu
