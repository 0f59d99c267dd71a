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

#include <optional>
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

class FaultList {
 public:
  /* Accepts one rule object or {"rules":[...]}. All rules are validated
   * before any is added; on error nothing changes and `error` says why. */
  bool add(const ojson& doc, std::string* error);
  /* The first applicable rule for `ctx`, consumed once; nullopt if none. */
  std::optional<FaultRule> take(const FaultContext& ctx);
  void clear() { rules_.clear(); }
  ojson to_json() const;

 private:
  std::vector<FaultRule> rules_;
};

/* Parses and validates one rule. */
std::optional<FaultRule> parse_fault_rule(const ojson& obj, std::string* error);

}  // namespace emu
