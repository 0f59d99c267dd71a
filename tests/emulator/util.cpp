/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "util.h"

#include <cstring>

namespace emu {

json parse_json(const std::string& text) {
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

ojson parse_ojson(const std::string& text) {
  return ojson::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string dump(const ojson& value) {
  return value.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::string random_hex(size_t n_bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n_bytes * 2);
  for (size_t i = 0; i < n_bytes; i++) {
    guint8 b = (guint8)g_random_int_range(0, 256);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string sha256_hex(const std::string& data) {
  g_autofree gchar* hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar*)data.data(), data.size());
  return hex;
}

std::string rfc3339(gint64 realtime_us) {
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(realtime_us / G_USEC_PER_SEC);
  if (!dt)
    return "1970-01-01T00:00:00.000Z";
  g_autofree gchar* base = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
  char frac[8];
  g_snprintf(frac, sizeof frac, ".%03dZ", (int)((realtime_us % G_USEC_PER_SEC) / 1000));
  return std::string(base) + frac;
}

ojson error_body(const std::string& code, const std::string& message) {
  ojson err = ojson::object();
  err["code"] = code;
  err["message"] = message;
  ojson body = ojson::object();
  body["error"] = err;
  return body;
}

const char* reason_phrase(guint status) {
  /* libsoup 3.2 has no phrase for some codes that fault rules use. */
  switch (status) {
    case 425:
      return "Too Early";
    case 429:
      return "Too Many Requests";
    case 451:
      return "Unavailable For Legal Reasons";
    default:
      return soup_status_get_phrase(status);
  }
}

void send_json(SoupServerMessage* msg, guint status, const ojson& body) {
  std::string text = dump(body);
  soup_server_message_set_status(msg, status, reason_phrase(status));
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text.data(), text.size());
}

void send_error(SoupServerMessage* msg, guint status, const std::string& code, const std::string& message) {
  send_json(msg, status, error_body(code, message));
}

std::string msg_path(SoupServerMessage* msg) {
  const char* path = g_uri_get_path(soup_server_message_get_uri(msg));
  return path ? path : "";
}

std::string msg_query(SoupServerMessage* msg) {
  const char* query = g_uri_get_query(soup_server_message_get_uri(msg));
  return query ? query : "";
}

std::string msg_header(SoupServerMessage* msg, const char* name) {
  const char* value = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
  return value ? value : "";
}

std::string msg_body(SoupServerMessage* msg) {
  SoupMessageBody* body = soup_server_message_get_request_body(msg);
  if (!body)
    return "";
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char* data = (const char*)g_bytes_get_data(bytes, &size);
  return data ? std::string(data, size) : std::string();
}

std::string query_param(const std::string& query, const char* name) {
  if (query.empty())
    return "";
  GHashTable* table = soup_form_decode(query.c_str());
  const char* value = (const char*)g_hash_table_lookup(table, name);
  std::string out = value ? value : "";
  g_hash_table_destroy(table);
  return out;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    if (end > start)
      parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::shared_ptr<LogEntry> RequestLog::add(const char* origin, SoupServerMessage* msg) {
  auto entry = std::make_shared<LogEntry>();
  entry->origin = origin;
  entry->method = soup_server_message_get_method(msg);
  entry->path = msg_path(msg);
  entry->query = msg_query(msg);
  entry->body = msg_body(msg);
  SoupMessageHeadersIter iter;
  const char *name, *value;
  soup_message_headers_iter_init(&iter, soup_server_message_get_request_headers(msg));
  while (soup_message_headers_iter_next(&iter, &name, &value))
    entry->headers.emplace_back(name, value);
  entry->at_us = g_get_monotonic_time();
  entry->realtime_us = g_get_real_time();
  std::lock_guard<std::mutex> lock(mutex_);
  entry->seq = next_seq_++;
  entries_.push_back(entry);
  return entry;
}

void RequestLog::set_status(const std::shared_ptr<LogEntry>& entry, int status) {
  if (!entry)
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  entry->status = status;
}

void RequestLog::set_bytes_sent(const std::shared_ptr<LogEntry>& entry, gint64 bytes) {
  if (entry)
    entry->bytes_sent = bytes;
}

void RequestLog::set_done(const std::shared_ptr<LogEntry>& entry, gint64 bytes) {
  if (!entry)
    return;
  entry->bytes_sent = bytes;
  entry->done_at_us = g_get_monotonic_time();
}

void RequestLog::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

ojson RequestLog::to_json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  ojson out = ojson::array();
  for (const auto& e : entries_) {
    ojson headers = ojson::object();
    for (const auto& h : e->headers) {
      /* Repeated headers are folded as HTTP allows. */
      if (headers.contains(h.first))
        headers[h.first] = headers[h.first].get<std::string>() + ", " + h.second;
      else
        headers[h.first] = h.second;
    }
    ojson item = ojson::object();
    item["origin"] = e->origin;
    item["method"] = e->method;
    item["path"] = e->path;
    item["query"] = e->query;
    item["headers"] = headers;
    item["body"] = e->body;
    item["status"] = e->status;
    item["seq"] = e->seq;
    /* Milliseconds since the emulator started (monotonic clock), and the
     * wall-clock time, for ordering requests against each other. */
    item["t_ms"] = (double)(e->at_us - start_us_) / 1000.0;
    item["received_at"] = rfc3339(e->realtime_us);
    const char* range = nullptr;
    for (const auto& h : e->headers)
      if (g_ascii_strcasecmp(h.first.c_str(), "Range") == 0)
        range = h.second.c_str();
    item["range"] = range ? ojson(range) : ojson(nullptr);
    /* done first: a body logged as done shows all of its bytes. */
    const gint64 done_at = e->done_at_us.load();
    const gint64 sent = e->bytes_sent.load();
    if (sent >= 0) {
      item["bytes_sent"] = sent;
      item["done_t_ms"] = done_at ? ojson((double)(done_at - start_us_) / 1000.0) : ojson(nullptr);
    }
    out.push_back(item);
  }
  return out;
}

static const char kLogKey[] = "mindvideo-emulator-log-entry";

static void delete_entry(gpointer data) {
  delete static_cast<std::shared_ptr<LogEntry>*>(data);
}

void set_msg_log_entry(SoupServerMessage* msg, std::shared_ptr<LogEntry> entry) {
  g_object_set_data_full(G_OBJECT(msg), kLogKey, new std::shared_ptr<LogEntry>(std::move(entry)), delete_entry);
}

std::shared_ptr<LogEntry> msg_log_entry(SoupServerMessage* msg) {
  auto* p = static_cast<std::shared_ptr<LogEntry>*>(g_object_get_data(G_OBJECT(msg), kLogKey));
  return p ? *p : nullptr;
}

}  // namespace emu
