/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The CDN origin: signed output URLs, served from disk with HEAD and single
 * Range support. A file response takes over the connection
 * (soup_server_message_steal_connection) and is written as raw HTTP/1.1 by a
 * thread of its own with blocking writes, in 64 KiB chunks: memory stays flat
 * whatever the file size, and truncated, cut or throttled responses are
 * simple to produce. A throttled body (config download_rate, `slow` rule)
 * sleeps on its own thread; the main loop, and so the API, the control
 * endpoints and every other download, carry on.
 */
#include "emulator.h"

#include <glib/gstdio.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace emu {

namespace {

struct Delivery {
  GIOStream* stream = nullptr;
  std::string path, content_type;
  bool head = false;
  guint status = 200;  // 200 or 206
  goffset size = 0, start = 0, length = 0;
  double rate = 0;                          // bytes/s for this response; 0 = unthrottled
  std::string accept_ranges = "bytes";      // "" = no Accept-Ranges header
  std::shared_ptr<LogEntry> entry;          // the request's log line: bytes sent, end time
  std::optional<FaultRule> fault;
  SoupServerMessage* msg = nullptr;  // until the connection is stolen
  ~Delivery() {
    if (stream)
      g_object_unref(stream);
    if (msg)
      g_object_unref(msg);
  }
};

bool parse_digits(const std::string& s, goffset* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18)
    return false;
  *out = g_ascii_strtoll(s.c_str(), nullptr, 10);
  return true;
}

/* Single byte range (RFC 9110 §14.1.2). Returns 206 with start/length, 416
 * when unsatisfiable, or 200 when absent or unusable (multi-range, bad
 * syntax), in which case the whole file is served. */
guint parse_range(const std::string& header, goffset size, goffset* start, goffset* length) {
  *start = 0;
  *length = size;
  if (g_ascii_strncasecmp(header.c_str(), "bytes=", 6) != 0)
    return 200;
  std::string spec = header.substr(6);
  spec.erase(0, spec.find_first_not_of(" \t"));
  while (!spec.empty() && (spec.back() == ' ' || spec.back() == '\t'))
    spec.pop_back();
  size_t dash = spec.find('-');
  if (spec.find(',') != std::string::npos || dash == std::string::npos)
    return 200;
  std::string first = spec.substr(0, dash), last = spec.substr(dash + 1);
  goffset a = 0, b = 0;
  if (first.empty()) {
    if (!parse_digits(last, &b))
      return 200;
    if (b == 0 || size == 0)
      return 416;
    *start = b >= size ? 0 : size - b;
    *length = size - *start;
    return 206;
  }
  if (!parse_digits(first, &a))
    return 200;
  if (last.empty()) {
    b = size - 1;
  } else {
    if (!parse_digits(last, &b) || b < a)
      return 200;
    b = MIN(b, size - 1);
  }
  if (a >= size)
    return 416;
  *start = a;
  *length = b - a + 1;
  return 206;
}

std::string http_date() {
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree gchar* text = soup_date_time_to_string(now, SOUP_DATE_HTTP);
  return text;
}

bool write_all(GOutputStream* out, const void* data, gsize size) {
  return g_output_stream_write_all(out, data, size, nullptr, nullptr, nullptr);
}

/* Connection thread: everything here is blocking, on a socket we own. */
gpointer deliver(gpointer data) {
  std::unique_ptr<Delivery> d(static_cast<Delivery*>(data));
  GOutputStream* out = g_io_stream_get_output_stream(d->stream);
  Action action = d->fault ? d->fault->action : Action::Status;

  if (d->fault && action == Action::Delay)
    g_usleep((gulong)d->fault->get_int("ms", 1000) * 1000);
  if (d->fault && action == Action::Hang) {
    /* Say nothing until the client gives up. */
    GInputStream* in = g_io_stream_get_input_stream(d->stream);
    char buf[1024];
    while (g_input_stream_read(in, buf, sizeof buf, nullptr, nullptr) > 0) {
    }
    g_io_stream_close(d->stream, nullptr, nullptr);
    return nullptr;
  }
  if (d->fault && action == Action::Cut) {
    g_io_stream_close(d->stream, nullptr, nullptr);
    return nullptr;
  }

  int fd = open(d->path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    static const char gone[] =
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 59\r\nConnection: close\r\n\r\n"
        "{\"error\":{\"code\":\"not_found\",\"message\":\"File not found.\"}}";
    write_all(out, gone, sizeof gone - 1);
    g_io_stream_close(d->stream, nullptr, nullptr);
    return nullptr;
  }

  std::string head = d->status == 206 ? "HTTP/1.1 206 Partial Content\r\n" : "HTTP/1.1 200 OK\r\n";
  head += "Date: " + http_date() + "\r\n";
  head += "Server: mindvideo-emulator-cdn\r\n";
  /* content_type fault with "": no header at all, so clients must sniff. */
  if (!d->content_type.empty())
    head += "Content-Type: " + d->content_type + "\r\n";
  /* no_length: a body delimited by the connection's close, as old servers
   * and some proxies send it. */
  if (action != Action::NoLength)
    head += "Content-Length: " + std::to_string(d->length) + "\r\n";
  if (d->status == 206)
    head += "Content-Range: bytes " + std::to_string(d->start) + "-" + std::to_string(d->start + d->length - 1) +
            "/" + std::to_string(d->size) + "\r\n";
  if (!d->accept_ranges.empty())
    head += "Accept-Ranges: " + d->accept_ranges + "\r\n";
  head += "Cache-Control: private, max-age=3600\r\nConnection: close\r\n\r\n";
  bool ok = write_all(out, head.data(), head.size());
  RequestLog::set_bytes_sent(d->entry, 0);

  goffset limit = d->length;
  if (action == Action::Truncate)
    limit = MIN(limit, (goffset)d->fault->get_double("bytes", (double)(d->length / 2)));
  /* Throttling: a `slow` (alias `throttle`) rule, else the config's
   * download_rate. Each connection has its own thread, so a throttled body
   * holds up nothing else. */
  double rate = action == Action::Slow ? MAX(1.0, d->fault->get_double("bytes_per_sec", 65536)) : d->rate;
  const gint64 t0 = g_get_monotonic_time();
  std::vector<char> buf(64 * 1024);
  goffset sent = 0;
  while (ok && !d->head && sent < limit) {
    gsize chunk = (gsize)MIN((goffset)buf.size(), limit - sent);
    if (rate > 0)
      chunk = MIN(chunk, (gsize)MAX(1.0, rate / 20));  // ~20 writes per second
    ssize_t n = pread(fd, buf.data(), chunk, d->start + sent);
    if (n <= 0)
      break;
    ok = write_all(out, buf.data(), (gsize)n);
    if (ok) {
      sent += n;
      RequestLog::set_bytes_sent(d->entry, sent);
    }
    if (rate > 0) {
      gint64 due = t0 + (gint64)(sent / rate * G_USEC_PER_SEC);
      gint64 now = g_get_monotonic_time();
      if (due > now)
        g_usleep((gulong)(due - now));
    }
  }
  close(fd);
  g_output_stream_flush(out, nullptr, nullptr);
  g_io_stream_close(d->stream, nullptr, nullptr);
  RequestLog::set_done(d->entry, sent);
  return nullptr;
}

/* Idle callback: the message was paused in its handler; now the connection
 * can be taken without freeing the message under libsoup's feet. */
gboolean steal_and_deliver(gpointer data) {
  std::unique_ptr<Delivery> d(static_cast<Delivery*>(data));
  d->stream = soup_server_message_steal_connection(d->msg);
  g_clear_object(&d->msg);
  if (!d->stream)
    return G_SOURCE_REMOVE;
  g_autoptr(GError) error = nullptr;
  GThread* thread = g_thread_try_new("cdn-conn", deliver, d.get(), &error);
  if (!thread) {
    g_printerr("mindvideo-emulator: cannot start a CDN thread: %s\n", error->message);
    return G_SOURCE_REMOVE;
  }
  d.release();
  g_thread_unref(thread);
  return G_SOURCE_REMOVE;
}

}  // namespace

void Emulator::handle_cdn(SoupServerMessage* msg) {
  auto parts = split_path(msg_path(msg));
  const bool file = parts.size() == 3 && parts[0] == "files";
  if (file)
    route_requests_[(size_t)Route::Download]++;
  /* Like S3/CloudFront signed URLs: a second auth mechanism is refused. */
  if (!msg_header(msg, "Authorization").empty()) {
    send_error(msg, 400, "invalid_request", "Only one auth mechanism allowed");
    return;
  }
  if (file) {
    handle_file(msg, parts);
    return;
  }
  if (parts.size() == 5 && parts[0] == "redirect" && parts[2] == "files") {
    handle_redirect(msg, parts);
    return;
  }
  send_error(msg, 404, "not_found", "Not found");
}

void Emulator::handle_redirect(SoupServerMessage* msg, const std::vector<std::string>& parts) {
  /* /redirect/<hops>[x]/files/<task>/<name>: 302 to one hop less; "x"
   * alternates between the two CDN origins. */
  const std::string& spec = parts[1];
  bool cross = !spec.empty() && spec.back() == 'x';
  goffset hops = 0;
  if (!parse_digits(cross ? spec.substr(0, spec.size() - 1) : spec, &hops) || hops < 1) {
    send_error(msg, 404, "not_found", "Not found");
    return;
  }
  guint port = 0;
  if (GSocketAddress* local = soup_server_message_get_local_address(msg))
    port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
  bool on_main = port != cdn_alt_port_;
  const std::string& origin = cross ? (on_main ? cdn_alt_url_ : cdn_url_) : (on_main ? cdn_url_ : cdn_alt_url_);
  std::string target = "/files/" + parts[3] + "/" + parts[4];
  if (hops > 1)
    target = "/redirect/" + std::to_string(hops - 1) + (cross ? "x" : "") + target;
  std::string query = msg_query(msg);
  std::string location = origin + target + (query.empty() ? "" : "?" + query);
  soup_server_message_set_redirect(msg, 302, location.c_str());
}

void Emulator::handle_file(SoupServerMessage* msg, const std::vector<std::string>& parts) {
  std::string method = soup_server_message_get_method(msg);
  auto task = find_task(parts[1]);
  OutputFile* file = nullptr;
  if (task && task->status == Status::Succeeded)
    for (auto& f : task->files)
      if (f.name == parts[2])
        file = &f;
  if (!file) {
    send_error(msg, 404, "not_found", "File not found.");
    return;
  }
  if (query_param(msg_query(msg), "sig") != file->sig) {
    send_error(msg, 403, "invalid_signature", "The request signature is missing or invalid.");
    return;
  }
  if (method != "GET" && method != "HEAD") {
    send_error(msg, 405, "method_not_allowed", "Only GET and HEAD are allowed.");
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET, HEAD");
    return;
  }

  auto fault = faults_.take({Route::Download, method, task->model, task->id});
  if (fault && (fault->action == Action::Status || fault->action == Action::Expire)) {
    if (fault->action == Action::Status)
      send_fault_status(msg, *fault, 503, nullptr, nullptr);
    else
      send_fault_status(msg, *fault, 410, "expired", "Request has expired");
    /* "resign": this URL is dead for good; re-reading the task gives a new one. */
    if (fault->action == Action::Expire && fault->get_bool("resign", false))
      file->sig = random_hex(16);
    return;
  }

  GStatBuf st;
  if (g_stat(file->path.c_str(), &st) != 0) {
    send_error(msg, 404, "not_found", "File not found.");
    return;
  }
  auto d = std::make_unique<Delivery>();
  d->path = file->path;
  d->content_type = fault && fault->action == Action::ContentType ? fault->get_string("value", "")
                                                                  : content_type_for(file->format);
  d->head = method == "HEAD";
  d->size = st.st_size;
  /* ignore_range (fault) or ranges:false (config): a host that answers every
   * request with the whole file. The fault keeps `Accept-Ranges: bytes`
   * unless "accept_ranges" says otherwise ("" = no header); the config says
   * `Accept-Ranges: none`. */
  const bool ignore_range = (fault && fault->action == Action::IgnoreRange) || !config_.ranges;
  if (fault && fault->action == Action::IgnoreRange)
    d->accept_ranges = fault->get_string("accept_ranges", config_.ranges ? "bytes" : "none");
  else if (!config_.ranges)
    d->accept_ranges = "none";
  d->rate = (double)config_.download_rate;
  d->entry = msg_log_entry(msg);
  d->status = parse_range(ignore_range ? "" : msg_header(msg, "Range"), d->size, &d->start, &d->length);
  if (d->status == 416) {
    send_error(msg, 416, "range_not_satisfiable", "Requested range not satisfiable.");
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Content-Range",
                                 ("bytes */" + std::to_string(d->size)).c_str());
    return;
  }
  d->fault = fault;
  bool answered = !fault || (fault->action != Action::Cut && fault->action != Action::Hang);
  log_.set_status(msg_log_entry(msg), answered ? (int)d->status : 0);
  log_line("cdn", method.c_str(), msg_path(msg), answered ? (int)d->status : 0);

  soup_server_message_pause(msg);
  mark_connection_stolen(msg);
  d->msg = (SoupServerMessage*)g_object_ref(msg);
  g_idle_add(steal_and_deliver, d.release());
}

}  // namespace emu
