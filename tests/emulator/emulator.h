/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The emulator's state and its two servers. Everything here lives on the
 * main loop thread except:
 *  - media generation jobs (GThreadPool) which only touch their own Job and
 *    report back with an idle callback on the main context;
 *  - CDN connection threads, which only write to a stolen socket and update
 *    RequestLog (which has its own mutex).
 */
#pragma once

#include "faults.h"
#include "media.h"
#include "util.h"

#include <libsoup/soup.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mv {
class ModelSchema;
}

namespace emu {

struct Options {
  std::vector<std::string> keys;
  /* Searched before the built-in schemas (mv::load_schema). */
  std::vector<std::string> schema_dirs;
  std::string media_dir;
  bool media_dir_is_temp = false;
  std::string cache_dir;
  bool quiet = false;
};

enum class Status { Queued, Processing, Succeeded, Failed, Cancelled };
const char* status_name(Status status);

struct Event {
  Status status;
  gint64 at_us;
};

struct OutputFile {
  std::string name, format, path, sig;
};

/* How a task ends, decided by `task` fault rules at creation. */
enum class Outcome { Normal, Fail, Cancel, Hang };

struct Task {
  std::string id, request_id, model, idempotency_key, key_hash;
  json payload;  // the whole request body, for idempotent replays
  ojson input;
  Kind kind = Kind::Image;
  MediaPlan plan;
  double cost = 0;
  gint64 created_us = 0;
  Status status = Status::Queued;
  std::vector<Event> events;
  std::vector<OutputFile> files;
  std::string error_code, error_message;

  Outcome outcome = Outcome::Normal;
  std::string outcome_code, outcome_message;
  int extra_processing_ms = 0;
  int redirect_hops = 0;
  bool redirect_cross_origin = false;
  std::optional<std::string> output_url_override;  // `output_url` rule: every output URL is this

  bool processing_elapsed = false;
  bool media_done = false;
  std::string media_error;
};

class Emulator;

/* One event as the events endpoints show it: {"type":"status","status":…,"created_at":…}. */
ojson event_json(const Event& event);
bool is_terminal(Status status);

/* An open `text/event-stream` answer of GET /api/v1/tasks/{id}/events
 * (sse.cpp). Lives from the request until libsoup reports the message
 * "finished" or "disconnected" (or the emulator shuts down). */
struct SseStream {
  Emulator* emu;
  SoupServerMessage* msg;  // owned reference
  std::string task_id;
  bool ended = false;        // the body is complete (terminal event sent, or the task was deleted)
  bool gone = false;         // the client went away; nothing more is written
  guint keepalive = 0;       // ": keep-alive" timer
  GSource* watch = nullptr;  // notices a client that hangs up while nothing is being written
  gulong finished_handler = 0, disconnected_handler = 0;
};

struct Charge {
  std::string key_prefix, task_id, model, idempotency_key;
  double amount;
};

/* Answers with a fault rule's "status" (or `def_status`) and JSON error body
 * (code/message from the rule, else the defaults, else derived from the
 * status), plus its Retry-After / retry-after-ms headers. */
void send_fault_status(SoupServerMessage* msg, const FaultRule& rule, guint def_status, const char* def_code,
                       const char* def_message);

/* Before soup_server_message_steal_connection(): the socket now belongs to
 * whoever stole it, and the connection sweep must leave it alone. */
void mark_connection_stolen(SoupServerMessage* msg);

class Emulator {
 public:
  Emulator(Options options, Config config, FaultList faults);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  /* Binds both servers on 127.0.0.1; with `tls` the API origin speaks HTTPS
   * (the CDN stays plain HTTP). */
  bool start(guint api_port, guint cdn_port, GTlsCertificate* tls, std::string* error);
  const std::string& api_url() const { return api_url_; }
  /* Stops accepting work; pending generations are abandoned. */
  void shutdown();

 private:
  /* server.cpp: wiring, request log hooks, dispatch */
  static void on_request_read(SoupServer* server, SoupServerMessage* msg, gpointer self);
  static void on_request_done(SoupServer* server, SoupServerMessage* msg, gpointer self);
  static void api_callback(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer self);
  static void cdn_callback(SoupServer*, SoupServerMessage* msg, const char*, GHashTable*, gpointer self);
  void log_line(const char* origin, const char* method, const std::string& path, int status);
  /* Open client connections of both origins (GET /_emulator/stats). */
  void track_connection(SoupServerMessage* msg);
  int open_connections();

  /* api.cpp */
  void handle_api_request(SoupServerMessage* msg);
  void apply_api_fault(SoupServerMessage* msg, const FaultRule& rule);
  /* `live`: an SSE events request becomes a stream; false for the
   * after_processing fault paths, whose answer is replaced or never sent. */
  void handle_api(SoupServerMessage* msg, bool live = true);
  void handle_submit(SoupServerMessage* msg, const std::string& key);
  void handle_poll(SoupServerMessage* msg, const std::string& key, const std::string& task_id);
  void handle_events(SoupServerMessage* msg, const std::string& key, const std::string& task_id, bool live);
  bool authorize(SoupServerMessage* msg, std::string* key);
  const mv::ModelSchema* schema_for(const std::string& model);
  void hold_forever(SoupServerMessage* msg);
  void cut_connection(SoupServerMessage* msg);

  /* sse.cpp: streaming Server-Sent Events for /events */
  void sse_open(SoupServerMessage* msg, const Task& task);
  void sse_publish(const Task& task);          // the task's last event, to its open streams
  void sse_push(SseStream* s, const std::string& text);
  void sse_end(SseStream* s, bool unpause);   // completes the body
  void sse_client_gone(SseStream* s);
  void sse_drop(SseStream* s);                 // forgets a finished/disconnected stream
  void sse_end_all();                          // reset: every task is gone
  void sse_drop_all();                         // shutdown
  bool sse_uses_socket(GSocket* socket) const;  // the connection sweep leaves it alone
  static void on_sse_message_gone(SoupServerMessage* msg, gpointer stream);
  static gboolean on_sse_keepalive(gpointer stream);
  static gboolean on_sse_socket(gint fd, GIOCondition condition, gpointer stream);

  /* control.cpp */
  void handle_control(SoupServerMessage* msg, const std::string& path);
  ojson stats_json();

  /* cdn.cpp */
  void handle_cdn(SoupServerMessage* msg);
  void handle_redirect(SoupServerMessage* msg, const std::vector<std::string>& parts);
  void handle_file(SoupServerMessage* msg, const std::vector<std::string>& parts);

  /* tasks.cpp */
  std::shared_ptr<Task> create_task(const ModelInfo& model, const MediaPlan& plan, const std::string& key,
                                    const std::string& idempotency_key, json payload, ojson input);
  std::shared_ptr<Task> find_task(const std::string& id) const;
  void set_status(Task& task, Status status);
  void try_finish(Task& task);
  ojson task_json(const Task& task) const;
  ojson task_internal_json(const Task& task) const;
  ojson events_json(const Task& task) const;
  std::string output_url(const Task& task, const OutputFile& file) const;
  static gboolean on_queued_elapsed(gpointer data);
  static gboolean on_processing_elapsed(gpointer data);
  static void run_job(gpointer job, gpointer self);
  static gboolean on_job_done(gpointer job);
  void reset();

  Options opts_;
  Config config_;
  FaultList faults_;
  RequestLog log_;

  SoupServer* api_ = nullptr;
  SoupServer* cdn_ = nullptr;
  std::string api_url_, cdn_url_, cdn_alt_url_;
  guint cdn_port_ = 0, cdn_alt_port_ = 0;

  std::map<std::string, std::shared_ptr<Task>> tasks_;
  std::map<std::string, std::string> idempotency_;  // key hash + '\n' + Idempotency-Key → task id
  std::vector<Charge> ledger_;
  std::map<std::string, std::unique_ptr<mv::ModelSchema>> schemas_;  // null: no schema file
  std::vector<SoupServerMessage*> held_;                            // "hang" faults, released on exit
  std::vector<SseStream*> sse_streams_;                             // open SSE answers (owned)
  /* GET /_emulator/stats: requests per fault route (Route order; `task` unused). */
  std::array<int, 5> route_requests_{};
  std::vector<GSocket*> sockets_;  // connections seen, for open_connections()
  GThreadPool* pool_ = nullptr;
  /* Bumped by reset so that late timers and jobs of old tasks are ignored. */
  guint generation_ = 0;
};

}  // namespace emu
