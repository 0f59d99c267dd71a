/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fault rules: scripted misbehaviour (errors, delays, cut connections,
 * truncated downloads, failed tasks...) that tests inject to exercise the
 * client's recovery paths. Main-thread only.
 */
#pragma once

#include "util.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace emu {

enum class Route { Submit, Poll, Events, Download, Task };
enum class Action {
  Status, Delay, Hang, Cut, Body, Truncate, Slow, Expire, NoLength, IgnoreRange, ContentType,
  Redirect, Fail, Cancel, OutputUrl,
};

const char* route_name(Route route);
const char* action_name(Action action);

struct FaultRule {
  Route route = Route::Submit;
  Action action = Action::Status;
  int count = 1;  // remaining applications; -1 = forever
  int after = 0;  // matching requests still to let through untouched
  /* Optional filters: a rule only matches requests that agree. */
  std::string method, model, task_id;
  ojson params;  // the rule as given, for parameters and for listing

  int get_int(const char* name, int def) const;
  double get_double(const char* name, double def) const;
  std::string get_string(const char* name, const std::string& def) const;
  bool get_bool(const char* name, bool def) const;
  /* The "body" action's text: a string as is, any other JSON value serialised. */
  std::string body_text() const;
};

/* What a request (or a newly created task) looks like to the matcher. */
struct FaultContext {
  Route route;
  std::string method;
  std::string model;    // submit (when the body names one) and task
  std::string task_id;  // poll, events, download and task
};

/* Seeded random faults ("chaos"): every API request (submit, poll, events)
 * and every download GET that no scripted rule matched draws one number
 * from a generator seeded with `seed`, and gets at most one fault with the
 * given probabilities. The sequence of draws is fixed by the seed; which
 * request gets which draw depends on the order requests arrive in. */
struct ChaosConfig {
  uint64_t seed = 1;
  /* API requests. */
  double api_5xx = 0.04;         // 500, 502, 503 or 504, nothing processed
  double api_429 = 0.03;         // 429 with Retry-After: retry_after_s
  double api_cut = 0.03;         // connection closed without an answer
  double api_delay = 0.05;       // answered after delay_min_ms..delay_max_ms
  double lost_response = 0.5;    // share of submit cuts made after processing
  /* Download GETs. */
  double download_truncate = 0.10;  // the body stops halfway
  double download_cut = 0.05;       // closed before the status line
  double download_expire = 0.05;    // 410 expired, URL re-signed; once per task
  int delay_min_ms = 100, delay_max_ms = 1500;
  int retry_after_s = 1;
};

/* Parses {"seed":N, "api":{"5xx":p,"429":p,"cut":p,"delay":p},
 * "download":{"truncate":p,"cut":p,"expire":p}, "lost_response":p,
 * "delay_ms":[min,max], "retry_after_s":N}; missing fields keep their
 * defaults. */
std::optional<ChaosConfig> parse_chaos(const ojson& doc, std::string* error);

class FaultList {
 public:
  /* Accepts one rule object or {"rules":[...]}. All rules are validated
   * before any is added; on error nothing changes and `error` says why. */
  bool add(const ojson& doc, std::string* error);
  /* The first applicable rule for `ctx`, consumed once; else, in chaos
   * mode, a random fault (see ChaosConfig); nullopt if none. */
  std::optional<FaultRule> take(const FaultContext& ctx);
  /* The scripted rules only; chaos stays as it is. */
  void clear() { rules_.clear(); }
  ojson to_json() const;

  /* Chaos mode on (counts start from zero) or off. */
  void set_chaos(const ChaosConfig& config);
  void stop_chaos();
  bool chaos_on() const { return chaos_.has_value(); }
  /* {"enabled":…, "config":{…}, "decisions":N, "injected":{"api":{"5xx":N,
   * "429":N,"cut":N,"delay":N,"lost_response":N},"download":{"truncate":N,
   * "cut":N,"expire":N}}}. */
  ojson chaos_json() const;

 private:
  std::optional<FaultRule> chaos_take(const FaultContext& ctx);

  std::vector<FaultRule> rules_;
  std::optional<ChaosConfig> chaos_;
  std::mt19937_64 rng_;
  long long decisions_ = 0;
  std::map<std::string, long long> injected_;  // "api.5xx", "download.expire", ...
  std::set<std::string> expired_tasks_;        // download expire: once per task
};

/* Parses and validates one rule. */
std::optional<FaultRule> parse_fault_rule(const ojson& obj, std::string* error);

}  // namespace emu
