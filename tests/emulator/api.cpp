/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The API origin: /api/v1/tasks (submit), /api/v1/tasks/{id} (poll) and
 * /api/v1/tasks/{id}/events, behind Bearer authentication and fault rules.
 */
#include "emulator.h"

#include "schema.h"

#include <algorithm>

namespace emu {

namespace {

/* Which fault route a request belongs to, and the task it names. */
struct ApiRoute {
  std::optional<Route> route;
  std::string task_id;
};

ApiRoute classify(SoupServerMessage* msg) {
  ApiRoute r;
  auto parts = split_path(msg_path(msg));
  const char* method = soup_server_message_get_method(msg);
  bool tasks = parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "tasks";
  if (!tasks)
    return r;
  if (parts.size() == 3 && g_str_equal(method, "POST"))
    r.route = Route::Submit;
  else if (parts.size() == 4 && g_str_equal(method, "GET"))
    r.route = Route::Poll;
  else if (parts.size() == 5 && parts[4] == "events" && g_str_equal(method, "GET"))
    r.route = Route::Events;
  if (parts.size() >= 4)
    r.task_id = parts[3];
  return r;
}

const char* status_code_name(guint status) {
  switch (status) {
    case 400:
      return "invalid_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 408:
      return "timeout";
    case 409:
      return "conflict";
    case 410:
      return "gone";
    case 429:
      return "rate_limited";
    case 502:
      return "bad_gateway";
    case 503:
      return "service_unavailable";
    case 504:
      return "gateway_timeout";
    default:
      return status >= 500 ? "internal_error" : "error";
  }
}

/* "body" faults: any status, Content-Type and body text, for clients that
 * must survive malformed, incomplete or oversized answers. The repeated text
 * is built once and handed to libsoup without a copy. */
void send_fault_body(SoupServerMessage* msg, const FaultRule& rule) {
  const std::string text = rule.body_text();
  const size_t repeat = (size_t)MAX(0, rule.get_int("repeat", 1));
  auto* body = new std::string();
  body->reserve(text.size() * repeat);
  for (size_t i = 0; i < repeat; i++)
    body->append(text);
  g_autoptr(GBytes) bytes = g_bytes_new_with_free_func(body->data(), body->size(),
                                                       [](gpointer p) { delete static_cast<std::string*>(p); }, body);
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  const std::string content_type = rule.get_string("content_type", "application/json");
  if (content_type.empty())
    soup_message_headers_remove(headers, "Content-Type");
  else
    soup_message_headers_replace(headers, "Content-Type", content_type.c_str());
  SoupMessageBody* out = soup_server_message_get_response_body(msg);
  soup_message_body_truncate(out);
  soup_message_body_append_bytes(out, bytes);
  const std::string challenge = rule.get_string("www_authenticate", "");
  if (!challenge.empty())
    soup_message_headers_replace(headers, "WWW-Authenticate", challenge.c_str());
  guint status = (guint)rule.get_int("status", 200);
  soup_server_message_set_status(msg, status, reason_phrase(status));
}

struct Pending {
  Emulator* emu;
  SoupServerMessage* msg;  // owned reference
  bool gone;               // the connection closed while we waited
  gulong handler;
};

}  // namespace

/* Shared by API and CDN "status"/"expire" faults. */
void send_fault_status(SoupServerMessage* msg, const FaultRule& rule, guint def_status, const char* def_code,
                       const char* def_message) {
  guint status = (guint)rule.get_int("status", (int)def_status);
  std::string message = rule.get_string(
      "message", def_message ? def_message : "Injected fault: HTTP " + std::to_string(status));
  send_error(msg, status, rule.get_string("code", def_code ? def_code : status_code_name(status)), message);
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  std::string retry_after = rule.get_string("retry_after", "");
  if (!retry_after.empty())
    soup_message_headers_replace(headers, "Retry-After", retry_after.c_str());
  if (rule.params.contains("retry_after_ms"))
    soup_message_headers_replace(headers, "retry-after-ms", std::to_string(rule.get_int("retry_after_ms", 0)).c_str());
}

void Emulator::handle_api_request(SoupServerMessage* msg) {
  ApiRoute r = classify(msg);
  if (r.route) {
    route_requests_[(size_t)*r.route]++;
    FaultContext ctx{*r.route, soup_server_message_get_method(msg), "", r.task_id};
    if (*r.route == Route::Submit) {
      json body = parse_json(msg_body(msg));
      if (body.is_object() && body.contains("model") && body["model"].is_string())
        ctx.model = body["model"].get<std::string>();
    }
    /* Faults act like the infrastructure in front of the service: before auth. */
    if (auto rule = faults_.take(ctx)) {
      apply_api_fault(msg, *rule);
      return;
    }
  }
  handle_api(msg);
}

void Emulator::apply_api_fault(SoupServerMessage* msg, const FaultRule& rule) {
  switch (rule.action) {
    case Action::Status:
      /* Not processed: a submit answered this way creates and charges nothing. */
      send_fault_status(msg, rule, 503, nullptr, nullptr);
      return;
    case Action::Delay: {
      soup_server_message_pause(msg);
      auto* pending = new Pending{this, (SoupServerMessage*)g_object_ref(msg), false, 0};
      /* A client that gives up meanwhile must not be answered (libsoup would warn). */
      pending->handler = g_signal_connect(msg, "disconnected",
                                          G_CALLBACK(+[](SoupServerMessage*, gpointer data) {
                                            static_cast<Pending*>(data)->gone = true;
                                          }),
                                          pending);
      g_timeout_add_full(
          G_PRIORITY_DEFAULT, (guint)rule.get_int("ms", 1000),
          [](gpointer data) -> gboolean {
            auto* p = static_cast<Pending*>(data);
            if (!p->gone) {
              p->emu->handle_api(p->msg);
              soup_server_message_unpause(p->msg);
            }
            return G_SOURCE_REMOVE;
          },
          pending,
          [](gpointer data) {
            auto* p = static_cast<Pending*>(data);
            g_signal_handler_disconnect(p->msg, p->handler);
            g_object_unref(p->msg);
            delete p;
          });
      return;
    }
    case Action::Hang:
    case Action::Cut:
      /* "after_processing": the request takes effect (a submit creates and
       * charges its task) but the response is lost. */
      if (rule.get_bool("after_processing", false))
        handle_api(msg, /*live=*/false);
      if (rule.action == Action::Hang)
        hold_forever(msg);
      else
        cut_connection(msg);
      return;
    case Action::Body:
      /* Like cut: a submit is processed (task created and charged) only
       * with "after_processing"; its real answer is then replaced. */
      if (rule.get_bool("after_processing", false)) {
        /* Only the server's own headers (Server, Date) survive the real answer. */
        std::vector<std::pair<std::string, std::string>> before;
        SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
        SoupMessageHeadersIter iter;
        const char *name, *value;
        soup_message_headers_iter_init(&iter, headers);
        while (soup_message_headers_iter_next(&iter, &name, &value))
          before.emplace_back(name, value);
        handle_api(msg, /*live=*/false);
        soup_message_headers_clear(headers);
        for (const auto& h : before)
          soup_message_headers_append(headers, h.first.c_str(), h.second.c_str());
      }
      send_fault_body(msg, rule);
      return;
    default:
      send_error(msg, 500, "internal_error", "fault action not applicable here");
      return;
  }
}

void Emulator::hold_forever(SoupServerMessage* msg) {
  /* No response will be sent: record 0 and ignore later completion signals. */
  log_.set_status(msg_log_entry(msg), 0);
  set_msg_log_entry(msg, nullptr);
  log_line("api", soup_server_message_get_method(msg), msg_path(msg), 0);
  soup_server_message_pause(msg);
  held_.push_back((SoupServerMessage*)g_object_ref(msg));
}

void Emulator::cut_connection(SoupServerMessage* msg) {
  /* Stealing from inside the handler would free `msg` under libsoup's feet:
   * pause it and steal from an idle callback instead. */
  soup_server_message_pause(msg);
  mark_connection_stolen(msg);
  /* No response will be sent: record 0 and ignore later completion signals. */
  log_.set_status(msg_log_entry(msg), 0);
  set_msg_log_entry(msg, nullptr);
  log_line("api", soup_server_message_get_method(msg), msg_path(msg), 0);
  g_idle_add_full(
      G_PRIORITY_DEFAULT,
      [](gpointer data) -> gboolean {
        auto* msg = static_cast<SoupServerMessage*>(data);
        GIOStream* stream = soup_server_message_steal_connection(msg);
        if (stream) {
          g_io_stream_close(stream, nullptr, nullptr);
          g_object_unref(stream);
        }
        return G_SOURCE_REMOVE;
      },
      g_object_ref(msg), g_object_unref);
}

bool Emulator::authorize(SoupServerMessage* msg, std::string* key) {
  std::string auth = msg_header(msg, "Authorization");
  const size_t n = strlen("Bearer ");
  if (auth.size() > n && g_ascii_strncasecmp(auth.c_str(), "Bearer ", n) == 0) {
    std::string candidate = auth.substr(n);
    candidate.erase(0, candidate.find_first_not_of(' '));
    while (!candidate.empty() && candidate.back() == ' ')
      candidate.pop_back();
    if (std::find(opts_.keys.begin(), opts_.keys.end(), candidate) != opts_.keys.end()) {
      *key = candidate;
      return true;
    }
  }
  /* Never echo what was sent: it may be a real key. */
  send_error(msg, 401, "unauthorized",
             auth.empty() ? "Missing Authorization header (expected: Bearer <api key>)" : "Invalid API key");
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate", "Bearer");
  return false;
}

void Emulator::handle_api(SoupServerMessage* msg, bool live) {
  std::string key;
  if (!authorize(msg, &key))
    return;
  auto parts = split_path(msg_path(msg));
  const char* method = soup_server_message_get_method(msg);
  bool tasks = parts.size() >= 3 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "tasks";
  if (tasks && parts.size() == 3) {
    if (g_str_equal(method, "POST"))
      handle_submit(msg, key);
    else
      send_error(msg, 405, "method_not_allowed", std::string("Method ") + method + " not allowed here");
    return;
  }
  if (tasks && (parts.size() == 4 || (parts.size() == 5 && parts[4] == "events"))) {
    if (!g_str_equal(method, "GET"))
      send_error(msg, 405, "method_not_allowed", std::string("Method ") + method + " not allowed here");
    else if (parts.size() == 4)
      handle_poll(msg, key, parts[3]);
    else
      handle_events(msg, key, parts[3], live);
    return;
  }
  send_error(msg, 404, "not_found", "No such endpoint: " + msg_path(msg));
}

const mv::ModelSchema* Emulator::schema_for(const std::string& model) {
  auto it = schemas_.find(model);
  if (it != schemas_.end())
    return it->second.get();
  /* The element's own lookup: the schema directories, then the built-in ones. */
  std::string error, origin;
  std::unique_ptr<mv::ModelSchema> schema = mv::load_schema(model, opts_.schema_dirs, &error, &origin);
  if (!schema && !error.empty())
    g_printerr("mindvideo-emulator: bad schema %s: %s (model accepted unvalidated)\n", origin.c_str(),
               error.c_str());
  return (schemas_[model] = std::move(schema)).get();
}

void Emulator::handle_submit(SoupServerMessage* msg, const std::string& key) {
  std::string text = msg_body(msg);
  json body = parse_json(text);
  if (body.is_discarded()) {
    send_error(msg, 400, "invalid_request", "Request body is not valid JSON");
    return;
  }
  if (!body.is_object()) {
    send_error(msg, 400, "invalid_request", "Request body must be a JSON object");
    return;
  }
  if (!body.contains("model") || !body["model"].is_string()) {
    send_error(msg, 400, "invalid_request", "\"model\" is required and must be a string");
    return;
  }
  if (!body.contains("input") || !body["input"].is_object()) {
    send_error(msg, 400, "invalid_request", "\"input\" is required and must be an object");
    return;
  }

  /* Idempotency comes first: a reused key is answered from the record,
   * whatever the new payload would have done. */
  std::string idem = msg_header(msg, "Idempotency-Key");
  std::string idem_slot = sha256_hex(key) + "\n" + idem;
  if (!idem.empty()) {
    auto it = idempotency_.find(idem_slot);
    if (it != idempotency_.end()) {
      auto task = find_task(it->second);
      if (task && task->payload == body) {
        send_json(msg, 200, task_json(*task));
        return;
      }
      if (task) {
        send_error(msg, 409, "idempotency_conflict",
                   "Idempotency-Key '" + idem + "' was already used with a different payload");
        return;
      }
    }
  }

  std::string model_name = body["model"].get<std::string>();
  const ModelInfo* model = find_model(model_name);
  if (!model) {
    send_error(msg, 400, "unknown_model", "Unknown model '" + model_name + "'. Available: " + model_list());
    return;
  }
  ojson input = parse_ojson(text)["input"];  // keeps the client's key order for /_emulator/tasks
  if (const mv::ModelSchema* schema = schema_for(model_name)) {
    auto violations = schema->validate(dump(body["input"]));
    if (!violations.empty()) {
      std::string message;
      for (const auto& v : violations)
        message += (message.empty() ? "" : "; ") + v;
      send_error(msg, 422, "invalid_input", message);
      return;
    }
  }
  MediaPlan plan;
  std::string plan_error;
  if (!plan_media(*model, body["input"], config_, &plan, &plan_error)) {
    send_error(msg, 422, "invalid_input", plan_error);
    return;
  }

  auto task = create_task(*model, plan, key, idem, body, input);
  if (!idem.empty())
    idempotency_[idem_slot] = task->id;
  send_json(msg, 201, task_json(*task));
}

void Emulator::handle_poll(SoupServerMessage* msg, const std::string& key, const std::string& task_id) {
  auto task = find_task(task_id);
  if (!task || task->key_hash != sha256_hex(key)) {
    /* Tasks of other keys are indistinguishable from missing ones. */
    send_error(msg, 404, "not_found", "Task '" + task_id + "' not found");
    return;
  }
  send_json(msg, 200, task_json(*task));
}

void Emulator::handle_events(SoupServerMessage* msg, const std::string& key, const std::string& task_id,
                             bool live) {
  auto task = find_task(task_id);
  if (!task || task->key_hash != sha256_hex(key)) {
    send_error(msg, 404, "not_found", "Task '" + task_id + "' not found");
    return;
  }
  if (msg_header(msg, "Accept").find("text/event-stream") == std::string::npos) {
    send_json(msg, 200, events_json(*task));
    return;
  }
  if (live) {
    /* The events so far, then each new one as it happens (sse.cpp). */
    sse_open(msg, *task);
    return;
  }
  /* after_processing faults: the answer is replaced or never sent, so no
   * stream is opened; a snapshot of the events stands in for it. */
  std::string sse;
  for (const auto& e : task->events)
    sse += "event: status\ndata: " + dump(event_json(e)) + "\n\n";
  soup_server_message_set_status(msg, 200, nullptr);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control", "no-cache");
  soup_server_message_set_response(msg, "text/event-stream", SOUP_MEMORY_COPY, sse.data(), sse.size());
}

}  // namespace emu
