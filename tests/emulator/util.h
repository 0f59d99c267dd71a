/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Small helpers shared by the emulator's servers: JSON output, ids, hashes,
 * timestamps and request bookkeeping.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace emu {

/* `json` sorts object keys, so `==` is a structural comparison (used for
 * idempotency); `ojson` keeps insertion order for readable responses. */
using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

/* Parses without throwing; returns a discarded value on invalid input. */
json parse_json(const std::string& text);
ojson parse_ojson(const std::string& text);

/* Serialises; invalid UTF-8 in strings is replaced instead of throwing. */
std::string dump(const ojson& value);
std::string dump(const json& value);

std::string random_hex(size_t n_bytes);
std::string sha256_hex(const std::string& data);
/* RFC 3339 UTC timestamp with milliseconds, from g_get_real_time() units. */
std::string rfc3339(gint64 realtime_us);

const char* reason_phrase(guint status);
ojson error_body(const std::string& code, const std::string& message);
void send_json(SoupServerMessage* msg, guint status, const ojson& body);
void send_error(SoupServerMessage* msg, guint status, const std::string& code, const std::string& message);

/* Request path, query (or "") and a header value (or "") of a server message. */
std::string msg_path(SoupServerMessage* msg);
std::string msg_query(SoupServerMessage* msg);
std::string msg_header(SoupServerMessage* msg, const char* name);
std::string msg_body(SoupServerMessage* msg);
/* Value of one query parameter (URL-decoded), or "" when absent. */
std::string query_param(const std::string& query, const char* name);

/* Splits "a/b/c" on '/', dropping empty parts. */
std::vector<std::string> split_path(const std::string& path);

/* One request as seen by a server, for GET /_emulator/requests. */
struct LogEntry {
  std::string origin;  // "api" or "cdn"
  std::string method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status = 0;  // 0 while unanswered, or when the connection was cut
  gint64 seq = 0;          // 1, 2, 3… in the order the requests were read (reset clears the log, not the count)
  gint64 at_us = 0;        // g_get_monotonic_time() when the request was read
  gint64 realtime_us = 0;  // g_get_real_time() then
  /* CDN file bodies (a thread streams them): body bytes written so far, and
   * when the connection was closed (0 while the body is still going out).
   * Atomics, written by the delivery thread through its own reference to
   * the entry (which may outlive the log: a throttled body at exit). */
  std::atomic<gint64> bytes_sent{-1};  // -1: not a streamed file body
  std::atomic<gint64> done_at_us{0};
};

/* Thread safe: CDN workers set statuses from their own threads. */
class RequestLog {
 public:
  std::shared_ptr<LogEntry> add(const char* origin, SoupServerMessage* msg);
  void set_status(const std::shared_ptr<LogEntry>& entry, int status);
  /* CDN delivery threads: body progress, and the end of the connection.
   * They touch the entry only, never the log. */
  static void set_bytes_sent(const std::shared_ptr<LogEntry>& entry, gint64 bytes);
  static void set_done(const std::shared_ptr<LogEntry>& entry, gint64 bytes);
  void clear();
  ojson to_json() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<LogEntry>> entries_;
  gint64 next_seq_ = 1;
  const gint64 start_us_ = g_get_monotonic_time();  // "t_ms" is counted from here
};

/* Attach/fetch the log entry of a server message. */
void set_msg_log_entry(SoupServerMessage* msg, std::shared_ptr<LogEntry> entry);
std::shared_ptr<LogEntry> msg_log_entry(SoupServerMessage* msg);

}  // namespace emu
