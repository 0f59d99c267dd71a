/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "faults.h"

#include <algorithm>
#include <cmath>

namespace emu {

namespace {

struct Named {
  const char* name;
  int value;
};

const Named kRoutes[] = {
    {"submit", (int)Route::Submit}, {"poll", (int)Route::Poll},         {"events", (int)Route::Events},
    {"download", (int)Route::Download}, {"task", (int)Route::Task},
};

const Named kActions[] = {
    {"status", (int)Action::Status},     {"delay", (int)Action::Delay},   {"hang", (int)Action::Hang},
    {"cut", (int)Action::Cut},           {"body", (int)Action::Body},     {"truncate", (int)Action::Truncate},
    {"slow", (int)Action::Slow},         {"throttle", (int)Action::Slow}, {"expire", (int)Action::Expire}, {"no_length", (int)Action::NoLength},
    {"ignore_range", (int)Action::IgnoreRange}, {"content_type", (int)Action::ContentType},
    {"redirect", (int)Action::Redirect}, {"fail", (int)Action::Fail},     {"cancel", (int)Action::Cancel},
    {"output_url", (int)Action::OutputUrl},
};

/* Cap on a "body" answer (body × repeat): big enough for "huge response"
 * tests, small enough not to take the machine down by mistake. */
constexpr long long kMaxBodyBytes = 512ll * 1024 * 1024;

template <size_t N>
int lookup(const Named (&table)[N], const std::string& name) {
  for (const auto& item : table)
    if (name == item.name)
      return item.value;
  return -1;
}

bool action_allowed(Route route, Action action) {
  switch (route) {
    case Route::Submit:
    case Route::Poll:
    case Route::Events:
      return action == Action::Status || action == Action::Delay || action == Action::Hang || action == Action::Cut ||
             action == Action::Body;
    case Route::Download:
      return action == Action::Status || action == Action::Delay || action == Action::Hang ||
             action == Action::Cut || action == Action::Truncate || action == Action::Slow ||
             action == Action::Expire || action == Action::NoLength || action == Action::IgnoreRange ||
             action == Action::ContentType;
    case Route::Task:
      /* delay = longer processing, hang = the task never finishes. */
      return action == Action::Redirect || action == Action::Fail || action == Action::Cancel ||
             action == Action::Delay || action == Action::Hang || action == Action::OutputUrl;
  }
  return false;
}

bool check_int(const ojson& obj, const char* name, long long min, long long max, std::string* error) {
  if (!obj.contains(name))
    return true;
  const ojson& v = obj[name];
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max) {
    *error = std::string("fault rule: \"") + name + "\" must be an integer in [" + std::to_string(min) + ", " +
             std::to_string(max) + "]";
    return false;
  }
  return true;
}

bool check_type(const ojson& obj, const char* name, bool (ojson::*pred)() const noexcept, const char* what,
                std::string* error) {
  if (obj.contains(name) && !(obj[name].*pred)()) {
    *error = std::string("fault rule: \"") + name + "\" must be " + what;
    return false;
  }
  return true;
}

}  // namespace

const char* route_name(Route route) {
  for (const auto& item : kRoutes)
    if (item.value == (int)route)
      return item.name;
  return "?";
}

const char* action_name(Action action) {
  for (const auto& item : kActions)
    if (item.value == (int)action)
      return item.name;
  return "?";
}

int FaultRule::get_int(const char* name, int def) const {
  auto it = params.find(name);
  return it != params.end() && it->is_number() ? (int)it->get<double>() : def;
}

double FaultRule::get_double(const char* name, double def) const {
  auto it = params.find(name);
  return it != params.end() && it->is_number() ? it->get<double>() : def;
}

std::string FaultRule::get_string(const char* name, const std::string& def) const {
  auto it = params.find(name);
  if (it == params.end())
    return def;
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_number())
    return dump(*it);
  return def;
}

bool FaultRule::get_bool(const char* name, bool def) const {
  auto it = params.find(name);
  return it != params.end() && it->is_boolean() ? it->get<bool>() : def;
}

std::string FaultRule::body_text() const {
  auto it = params.find("body");
  if (it == params.end())
    return "";
  return it->is_string() ? it->get<std::string>() : dump(*it);
}

std::optional<FaultRule> parse_fault_rule(const ojson& obj, std::string* error) {
  if (!obj.is_object()) {
    *error = "fault rule must be a JSON object";
    return std::nullopt;
  }
  if (!obj.contains("route") || !obj["route"].is_string()) {
    *error = "fault rule needs a \"route\": submit, poll, events, download or task";
    return std::nullopt;
  }
  if (!obj.contains("action") || !obj["action"].is_string()) {
    *error = "fault rule needs an \"action\"";
    return std::nullopt;
  }
  int route = lookup(kRoutes, obj["route"].get<std::string>());
  if (route < 0) {
    *error = "fault rule: unknown route \"" + obj["route"].get<std::string>() + "\"";
    return std::nullopt;
  }
  int action = lookup(kActions, obj["action"].get<std::string>());
  if (action < 0 || !action_allowed((Route)route, (Action)action)) {
    *error = "fault rule: action \"" + obj["action"].get<std::string>() + "\" is not valid for route \"" +
             obj["route"].get<std::string>() + "\"";
    return std::nullopt;
  }
  if (!check_int(obj, "count", -1, G_MAXINT, error) || !check_int(obj, "after", 0, G_MAXINT, error) ||
      !check_int(obj, "status", 100, 599, error) || !check_int(obj, "ms", 0, 3600 * 1000, error) ||
      !check_int(obj, "bytes", 0, G_MAXINT, error) || !check_int(obj, "bytes_per_sec", 1, G_MAXINT, error) ||
      !check_int(obj, "hops", 1, 20, error) || !check_int(obj, "retry_after_ms", 0, G_MAXINT, error) ||
      !check_int(obj, "repeat", 0, kMaxBodyBytes, error) ||
      !check_type(obj, "message", &ojson::is_string, "a string", error) ||
      !check_type(obj, "code", &ojson::is_string, "a string", error) ||
      !check_type(obj, "after_processing", &ojson::is_boolean, "a boolean", error) ||
      !check_type(obj, "cross_origin", &ojson::is_boolean, "a boolean", error) ||
      !check_type(obj, "resign", &ojson::is_boolean, "a boolean", error) ||
      !check_type(obj, "content_type", &ojson::is_string, "a string", error) ||
      !check_type(obj, "www_authenticate", &ojson::is_string, "a string", error) ||
      !check_type(obj, "value", &ojson::is_string, "a string", error) ||
      !check_type(obj, "accept_ranges", &ojson::is_string, "a string", error) ||
      !check_type(obj, "url", &ojson::is_string, "a string", error) ||
      !check_type(obj, "method", &ojson::is_string, "a string", error) ||
      !check_type(obj, "model", &ojson::is_string, "a string", error) ||
      !check_type(obj, "task_id", &ojson::is_string, "a string", error))
    return std::nullopt;
  if (obj.contains("retry_after") && !obj["retry_after"].is_string() && !obj["retry_after"].is_number_integer()) {
    *error = "fault rule: \"retry_after\" must be a string (or an integer number of seconds)";
    return std::nullopt;
  }
  if (obj.contains("count") && obj["count"].get<long long>() == 0) {
    *error = "fault rule: \"count\" must be positive, or -1 for forever";
    return std::nullopt;
  }
  /* Parameters without a sensible default are required. */
  const char* required = action == (int)Action::ContentType ? "value"
                         : action == (int)Action::OutputUrl ? "url"
                                                            : nullptr;
  if (required && !obj.contains(required)) {
    *error = std::string("fault rule: action \"") + action_name((Action)action) + "\" needs \"" + required + "\"";
    return std::nullopt;
  }

  FaultRule rule;
  rule.params = obj;
  if (action == (int)Action::Body &&
      (long long)rule.body_text().size() * rule.get_double("repeat", 1) > (double)kMaxBodyBytes) {
    *error = "fault rule: \"body\" times \"repeat\" must not exceed " + std::to_string(kMaxBodyBytes) + " bytes";
    return std::nullopt;
  }
  rule.route = (Route)route;
  rule.action = (Action)action;
  rule.count = rule.get_int("count", 1);
  rule.after = rule.get_int("after", 0);
  rule.method = rule.get_string("method", "");
  rule.model = rule.get_string("model", "");
  rule.task_id = rule.get_string("task_id", "");
  return rule;
}

bool FaultList::add(const ojson& doc, std::string* error) {
  std::vector<FaultRule> parsed;
  if (doc.is_object() && doc.contains("rules")) {
    if (!doc["rules"].is_array()) {
      *error = "\"rules\" must be an array";
      return false;
    }
    for (const auto& item : doc["rules"]) {
      auto rule = parse_fault_rule(item, error);
      if (!rule)
        return false;
      parsed.push_back(std::move(*rule));
    }
  } else {
    auto rule = parse_fault_rule(doc, error);
    if (!rule)
      return false;
    parsed.push_back(std::move(*rule));
  }
  rules_.insert(rules_.end(), parsed.begin(), parsed.end());
  return true;
}

std::optional<ChaosConfig> parse_chaos(const ojson& doc, std::string* error) {
  ChaosConfig c;
  if (!doc.is_object()) {
    *error = "chaos: expected a JSON object";
    return std::nullopt;
  }
  auto probability = [&](const ojson& obj, const char* name, double* target, const char* where) {
    if (!obj.contains(name))
      return true;
    const ojson& v = obj[name];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) {
      *error = std::string("chaos: \"") + where + name + "\" must be a probability in [0, 1]";
      return false;
    }
    *target = v.get<double>();
    return true;
  };
  auto known = [&](const ojson& obj, std::initializer_list<const char*> names, const char* where) {
    for (const auto& item : obj.items()) {
      bool ok = false;
      for (const char* n : names)
        ok = ok || item.key() == n;
      if (!ok) {
        *error = std::string("chaos: unknown field \"") + where + item.key() + "\"";
        return false;
      }
    }
    return true;
  };
  if (!known(doc, {"seed", "api", "download", "lost_response", "delay_ms", "retry_after_s"}, ""))
    return std::nullopt;
  if (doc.contains("seed")) {
    if (!doc["seed"].is_number_unsigned() && !(doc["seed"].is_number_integer() && doc["seed"].get<long long>() >= 0)) {
      *error = "chaos: \"seed\" must be a non-negative integer";
      return std::nullopt;
    }
    c.seed = doc["seed"].get<uint64_t>();
  }
  if (doc.contains("api")) {
    const ojson& api = doc["api"];
    if (!api.is_object() || !known(api, {"5xx", "429", "cut", "delay"}, "api.") ||
        !probability(api, "5xx", &c.api_5xx, "api.") || !probability(api, "429", &c.api_429, "api.") ||
        !probability(api, "cut", &c.api_cut, "api.") || !probability(api, "delay", &c.api_delay, "api.")) {
      if (error->empty())
        *error = "chaos: \"api\" must be an object";
      return std::nullopt;
    }
  }
  if (doc.contains("download")) {
    const ojson& dl = doc["download"];
    if (!dl.is_object() || !known(dl, {"truncate", "cut", "expire"}, "download.") ||
        !probability(dl, "truncate", &c.download_truncate, "download.") ||
        !probability(dl, "cut", &c.download_cut, "download.") ||
        !probability(dl, "expire", &c.download_expire, "download.")) {
      if (error->empty())
        *error = "chaos: \"download\" must be an object";
      return std::nullopt;
    }
  }
  if (!probability(doc, "lost_response", &c.lost_response, ""))
    return std::nullopt;
  if (doc.contains("delay_ms")) {
    const ojson& d = doc["delay_ms"];
    if (!d.is_array() || d.size() != 2 || !d[0].is_number_integer() || !d[1].is_number_integer() ||
        d[0].get<long long>() < 0 || d[1].get<long long>() < d[0].get<long long>() ||
        d[1].get<long long>() > 600000) {
      *error = "chaos: \"delay_ms\" must be [min, max] in milliseconds, 0 <= min <= max <= 600000";
      return std::nullopt;
    }
    c.delay_min_ms = (int)d[0].get<long long>();
    c.delay_max_ms = (int)d[1].get<long long>();
  }
  if (doc.contains("retry_after_s")) {
    const ojson& v = doc["retry_after_s"];
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 3600) {
      *error = "chaos: \"retry_after_s\" must be an integer in [0, 3600]";
      return std::nullopt;
    }
    c.retry_after_s = (int)v.get<long long>();
  }
  if (c.api_5xx + c.api_429 + c.api_cut + c.api_delay > 1 + 1e-9 ||
      c.download_truncate + c.download_cut + c.download_expire > 1 + 1e-9) {
    *error = "chaos: the probabilities of one kind of request must add up to at most 1";
    return std::nullopt;
  }
  return c;
}

void FaultList::set_chaos(const ChaosConfig& config) {
  chaos_ = config;
  rng_.seed(config.seed);
  decisions_ = 0;
  injected_.clear();
  expired_tasks_.clear();
}

void FaultList::stop_chaos() {
  chaos_.reset();
  decisions_ = 0;
  injected_.clear();
  expired_tasks_.clear();
}

std::optional<FaultRule> FaultList::chaos_take(const FaultContext& ctx) {
  const ChaosConfig& c = *chaos_;
  const bool api = ctx.route == Route::Submit || ctx.route == Route::Poll || ctx.route == Route::Events;
  const bool download = ctx.route == Route::Download && g_ascii_strcasecmp(ctx.method.c_str(), "GET") == 0;
  if (!api && !download)
    return std::nullopt;
  /* One draw for the kind, one for its parameter, whether or not a fault
   * comes of it: the sequence of draws only depends on the seed. */
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double roll = unit(rng_);
  const double param = unit(rng_);
  decisions_++;

  ojson rule = ojson::object();
  rule["route"] = route_name(ctx.route);
  std::string kind;
  if (api) {
    double edge = c.api_5xx;
    if (roll < edge) {
      static const int kStatuses[] = {500, 502, 503, 504};
      rule["action"] = "status";
      rule["status"] = kStatuses[std::min(3, (int)(param * 4))];
      kind = "api.5xx";
    } else if (roll < (edge += c.api_429)) {
      rule["action"] = "status";
      rule["status"] = 429;
      rule["code"] = "rate_limited";
      rule["retry_after"] = std::to_string(c.retry_after_s);
      kind = "api.429";
    } else if (roll < (edge += c.api_cut)) {
      rule["action"] = "cut";
      /* A submit processed and then cut is the lost answer idempotency
       * keys exist for: the task is created and charged. */
      if (ctx.route == Route::Submit && param < c.lost_response) {
        rule["after_processing"] = true;
        injected_["api.lost_response"]++;
      }
      kind = "api.cut";
    } else if (roll < (edge += c.api_delay)) {
      rule["action"] = "delay";
      rule["ms"] = c.delay_min_ms + (int)(param * (c.delay_max_ms - c.delay_min_ms));
      kind = "api.delay";
    }
  } else {
    double edge = c.download_truncate;
    if (roll < edge) {
      rule["action"] = "truncate";  // half of what the response would carry
      kind = "download.truncate";
    } else if (roll < (edge += c.download_cut)) {
      rule["action"] = "cut";
      kind = "download.cut";
    } else if (roll < (edge += c.download_expire)) {
      /* Once per task: a URL the API just signed again is fresh, as real
       * signed URLs are. */
      if (expired_tasks_.insert(ctx.task_id).second) {
        rule["action"] = "expire";
        rule["resign"] = true;
        kind = "download.expire";
      }
    }
  }
  if (kind.empty())
    return std::nullopt;
  std::string error;
  auto parsed = parse_fault_rule(rule, &error);
  if (!parsed) {
    g_warning("chaos made an invalid rule: %s", error.c_str());
    return std::nullopt;
  }
  injected_[kind]++;
  parsed->params["chaos"] = true;
  return parsed;
}

ojson FaultList::chaos_json() const {
  ojson out = ojson::object();
  out["enabled"] = chaos_.has_value();
  if (chaos_) {
    const ChaosConfig& c = *chaos_;
    ojson config = ojson::object();
    config["seed"] = c.seed;
    config["api"] = ojson{{"5xx", c.api_5xx}, {"429", c.api_429}, {"cut", c.api_cut}, {"delay", c.api_delay}};
    config["download"] =
        ojson{{"truncate", c.download_truncate}, {"cut", c.download_cut}, {"expire", c.download_expire}};
    config["lost_response"] = c.lost_response;
    config["delay_ms"] = ojson::array({c.delay_min_ms, c.delay_max_ms});
    config["retry_after_s"] = c.retry_after_s;
    out["config"] = config;
  }
  out["decisions"] = decisions_;
  auto count = [&](const char* key) {
    auto it = injected_.find(key);
    return it == injected_.end() ? 0ll : it->second;
  };
  ojson api = ojson::object();
  for (const char* k : {"5xx", "429", "cut", "delay", "lost_response"})
    api[k] = count((std::string("api.") + k).c_str());
  ojson download = ojson::object();
  for (const char* k : {"truncate", "cut", "expire"})
    download[k] = count((std::string("download.") + k).c_str());
  long long total = 0;
  for (const auto& item : injected_)
    if (item.first != "api.lost_response")  // a kind of cut, counted there too
      total += item.second;
  out["injected"] = ojson{{"api", api}, {"download", download}, {"total", total}};
  return out;
}

std::optional<FaultRule> FaultList::take(const FaultContext& ctx) {
  for (auto it = rules_.begin(); it != rules_.end(); ++it) {
    FaultRule& rule = *it;
    if (rule.route != ctx.route)
      continue;
    if (!rule.method.empty() && g_ascii_strcasecmp(rule.method.c_str(), ctx.method.c_str()) != 0)
      continue;
    if (!rule.model.empty() && rule.model != ctx.model)
      continue;
    if (!rule.task_id.empty() && rule.task_id != ctx.task_id)
      continue;
    if (rule.after > 0) {
      /* This request is one of the first M that pass untouched. */
      rule.after--;
      continue;
    }
    FaultRule applied = rule;
    if (rule.count > 0 && --rule.count == 0)
      rules_.erase(it);
    return applied;
  }
  if (chaos_)
    return chaos_take(ctx);
  return std::nullopt;
}

ojson FaultList::to_json() const {
  ojson list = ojson::array();
  for (const auto& rule : rules_) {
    ojson item = rule.params;
    item["count"] = rule.count;
    item["after"] = rule.after;
    list.push_back(item);
  }
  ojson out = ojson::object();
  out["rules"] = list;
  out["count"] = rules_.size();
  return out;
}

}  // namespace emu
