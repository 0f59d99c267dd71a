/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * /_emulator/ control endpoints (no auth): ledger, request log, task
 * internals, config, fault rules, chaos mode, reset, stats and info.
 */
#include "emulator.h"

#include <cmath>

namespace emu {

namespace {

ojson config_json(const Config& c) {
  ojson obj = ojson::object();
  obj["queued_ms"] = c.queued_ms;
  obj["processing_ms"] = c.processing_ms;
  obj["fps"] = c.fps;
  obj["video_bitrate_kbps"] = c.video_bitrate_kbps;
  obj["image_format"] = c.image_format.empty() ? ojson(nullptr) : ojson(c.image_format);
  obj["faststart"] = c.faststart;
  obj["download_rate"] = c.download_rate;
  obj["ranges"] = c.ranges;
  return obj;
}

/* Applies a config subset; all-or-nothing. */
bool apply_config(const json& doc, Config* config, std::string* error) {
  if (!doc.is_object()) {
    *error = "config must be a JSON object";
    return false;
  }
  Config next = *config;
  struct IntField {
    const char* name;
    int* target;
    int min, max;
  } ints[] = {
      {"queued_ms", &next.queued_ms, 0, 3600 * 1000},
      {"processing_ms", &next.processing_ms, 0, 3600 * 1000},
      {"fps", &next.fps, 1, 240},
      {"video_bitrate_kbps", &next.video_bitrate_kbps, 1, 200000},
  };
  for (const auto& f : ints) {
    if (!doc.contains(f.name))
      continue;
    const json& v = doc[f.name];
    if (!v.is_number_integer() || v.get<long long>() < f.min || v.get<long long>() > f.max) {
      *error = std::string(f.name) + " must be an integer in [" + std::to_string(f.min) + ", " +
               std::to_string(f.max) + "]";
      return false;
    }
    *f.target = (int)v.get<long long>();
  }
  if (doc.contains("image_format")) {
    const json& v = doc["image_format"];
    if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) {
      next.image_format.clear();
    } else if (v.is_string() && valid_image_format(v.get<std::string>())) {
      next.image_format = v.get<std::string>();
    } else {
      *error = "image_format must be png, jpeg, webp or null";
      return false;
    }
  }
  if (doc.contains("download_rate")) {
    /* Bytes per second per download response (0 = unthrottled), up to 1 TiB/s. */
    const json& v = doc["download_rate"];
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > (1ll << 40)) {
      *error = "download_rate must be an integer number of bytes per second in [0, 1099511627776] (0 = unlimited)";
      return false;
    }
    next.download_rate = v.get<long long>();
  }
  struct BoolField {
    const char* name;
    bool* target;
  } bools[] = {{"faststart", &next.faststart}, {"ranges", &next.ranges}};
  for (const auto& f : bools) {
    if (!doc.contains(f.name))
      continue;
    if (!doc[f.name].is_boolean()) {
      *error = std::string(f.name) + " must be true or false";
      return false;
    }
    *f.target = doc[f.name].get<bool>();
  }
  for (const auto& item : doc.items()) {
    bool known = item.key() == "image_format" || item.key() == "download_rate";
    for (const auto& f : bools)
      known = known || item.key() == f.name;
    for (const auto& f : ints)
      known = known || item.key() == f.name;
    if (!known) {
      *error = "unknown config field \"" + item.key() + "\"";
      return false;
    }
  }
  *config = next;
  return true;
}

}  // namespace

ojson Emulator::stats_json() {
  ojson requests = ojson::object();
  for (Route route : {Route::Submit, Route::Poll, Route::Events, Route::Download})
    requests[route_name(route)] = route_requests_[(size_t)route];
  ojson out = ojson::object();
  out["requests"] = requests;
  out["tasks"] = tasks_.size();
  out["open_connections"] = open_connections();
  out["chaos"] = faults_.chaos_json();
  return out;
}

void Emulator::handle_control(SoupServerMessage* msg, const std::string& path) {
  std::string method = soup_server_message_get_method(msg);
  auto parts = split_path(path);  // parts[0] == "_emulator"
  std::string what = parts.size() >= 2 ? parts[1] : "";
  bool get = method == "GET", post = method == "POST", del = method == "DELETE";

  if (what == "ledger" && parts.size() == 2 && get) {
    std::string filter = query_param(msg_query(msg), "idempotency_key");
    ojson charges = ojson::array();
    double total = 0;
    for (const auto& c : ledger_) {
      if (!filter.empty() && c.idempotency_key != filter)
        continue;
      ojson item = ojson::object();
      item["api_key_sha256_prefix"] = c.key_prefix;
      item["task_id"] = c.task_id;
      item["model"] = c.model;
      item["idempotency_key"] = c.idempotency_key.empty() ? ojson(nullptr) : ojson(c.idempotency_key);
      item["amount"] = c.amount;
      charges.push_back(item);
      total += c.amount;
    }
    ojson out = ojson::object();
    out["charges"] = charges;
    out["count"] = charges.size();
    out["total"] = std::round(total * 1e6) / 1e6;
    send_json(msg, 200, out);
    return;
  }
  if (what == "requests" && parts.size() == 2 && (get || del)) {
    if (del) {
      log_.clear();
      send_json(msg, 200, ojson{{"cleared", true}});
    } else {
      send_json(msg, 200, log_.to_json());
    }
    return;
  }
  if (what == "tasks" && parts.size() == 3 && get) {
    auto task = find_task(parts[2]);
    if (!task)
      send_error(msg, 404, "not_found", "Task '" + parts[2] + "' not found");
    else
      send_json(msg, 200, task_internal_json(*task));
    return;
  }
  if (what == "config" && parts.size() == 2 && (get || post)) {
    std::string error;
    if (post && !apply_config(parse_json(msg_body(msg)), &config_, &error)) {
      send_error(msg, 400, "invalid_request", error);
      return;
    }
    send_json(msg, 200, config_json(config_));
    return;
  }
  if (what == "faults" && parts.size() == 2 && (get || post || del)) {
    std::string error;
    if (post) {
      ojson doc = parse_ojson(msg_body(msg));
      if (doc.is_discarded() || !faults_.add(doc, &error)) {
        send_error(msg, 400, "invalid_request", doc.is_discarded() ? "body is not valid JSON" : error);
        return;
      }
    } else if (del) {
      faults_.clear();
    }
    send_json(msg, 200, faults_.to_json());
    return;
  }
  if (what == "chaos" && parts.size() == 2 && (get || post || del)) {
    if (post) {
      std::string error;
      ojson doc = parse_ojson(msg_body(msg));
      auto chaos = doc.is_discarded() ? std::nullopt : parse_chaos(doc, &error);
      if (!chaos) {
        send_error(msg, 400, "invalid_request", doc.is_discarded() ? "body is not valid JSON" : error);
        return;
      }
      faults_.set_chaos(*chaos);
    } else if (del) {
      faults_.stop_chaos();
    }
    send_json(msg, 200, faults_.chaos_json());
    return;
  }
  if (what == "reset" && parts.size() == 2 && post) {
    reset();
    send_json(msg, 200, ojson{{"reset", true}});
    return;
  }
  if (what == "stats" && parts.size() == 2 && get) {
    send_json(msg, 200, stats_json());
    return;
  }
  if (what == "info" && parts.size() == 2 && get) {
    ojson out = ojson::object();
    out["api_url"] = api_url_;
    out["tls"] = (bool)g_str_has_prefix(api_url_.c_str(), "https:");
    out["cdn_url"] = cdn_url_;
    out["cdn_alt_url"] = cdn_alt_url_;
    out["media_dir"] = opts_.media_dir;
    out["cache_dir"] = opts_.cache_dir.empty() ? ojson(nullptr) : ojson(opts_.cache_dir);
    out["models"] = model_list();
    out["config"] = config_json(config_);
    send_json(msg, 200, out);
    return;
  }
  send_error(msg, 404, "not_found", "No such control endpoint: " + method + " " + path);
}

}  // namespace emu
