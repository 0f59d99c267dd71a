/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "download.h"

#include "api.h"
#include "log.h"
#include "thread.h"

#include <glib.h>

namespace mv {

Downloader::Downloader(HttpSession& http, Spool& spool, const RetryPolicy& policy, uint64_t max_size,
                       std::string log_id)
    : http_(http),
      log_id_(std::move(log_id)),
      spool_(spool),
      policy_(policy),
      max_size_(max_size),
      pool_(gst_buffer_pool_new()) {
  GstStructure* config = gst_buffer_pool_get_config(pool_);
  gst_buffer_pool_config_set_params(config, nullptr, kChunk, 2, 0);
  gst_buffer_pool_set_config(pool_, config);
  gst_buffer_pool_set_active(pool_, TRUE);
}

Downloader::~Downloader() {
  stop();
  /* Chunks still downstream keep the pool alive until they come back. */
  gst_buffer_pool_set_active(pool_, FALSE);
  gst_object_unref(pool_);
}

void Downloader::start(const std::string& url, RefreshFn refresh) {
  stop();
  cancel_.reset();
  url_ = url;
  refresh_ = std::move(refresh);
  thread_ = named_thread("mv-download", [this] { run(); });
}

void Downloader::stop() {
  cancel_.cancel();
  if (thread_.joinable())
    thread_.join();
}

void Downloader::report(Error::Kind kind, const std::string& message, unsigned http_status) {
  Error e;
  e.kind = kind;
  e.message = message;
  e.http_status = http_status;
  MV_DEBUG_ID(log_id_, "download failed: %s", message.c_str());
  spool_.set_failed(e);
}

/* The output host gave no usable answer, after every retry. */
void Downloader::report_refused(const HttpResponse& r, uint64_t offset) {
  Error::Kind kind = error_kind_for_status(r.status, Origin::Output);
  const std::string code = std::to_string(r.status);
  if (r.status == 0)
    report(offset ? Error::Kind::Read : kind, "Could not download the output: " + r.error);
  else if (kind == Error::Kind::NotAuthorized)
    report(kind, "The output host refused the download (HTTP " + code + "): " + parse_error_message(r.body),
           r.status);
  else if (kind == Error::Kind::NotFound)
    report(kind, "The output is gone from its host (HTTP " + code + ")", r.status);
  else
    report(kind, "The output host answered HTTP " + code + ": " + parse_error_message(r.body), r.status);
}

void Downloader::report_too_large(uint64_t size, bool exact) {
  report(Error::Kind::Failed, "The output is " + std::string(exact ? "" : "over ") + std::to_string(size) +
                                  " bytes, above max-size (" + std::to_string(max_size_) +
                                  " bytes); raise max-size to accept it");
}

/* Sleeps before the next attempt if the policy allows one. */
bool Downloader::retry_wait(int* retries, const Failure& failure) {
  RetryDecision d = decide_retry(policy_, *retries, failure, g_random_double(),
                                 g_get_real_time() / G_USEC_PER_SEC);
  if (!d.retry)
    return false;
  (*retries)++;
  return cancel_.sleep_ms(d.delay_ms);
}

void Downloader::run() {
  const gint64 started = g_get_monotonic_time();
  std::string url = url_;
  int retries = 0;
  bool refreshed = false;

  while (!cancel_.is_cancelled()) {
    const uint64_t offset = spool_.downloaded();
    g_autoptr(GCancellable) cancellable = cancel_.cancellable_ref();
    g_autoptr(GInputStream) in = nullptr;
    HttpResponse r = http_.open(log_id_, url, offset, &in, cancellable);

    if (!in) {
      if (r.cancelled || cancel_.is_cancelled())
        return;
      if ((r.status == 403 || r.status == 404 || r.status == 410) && refresh_ && !refreshed) {
        /* Signed URLs expire: ask the API once for a fresh one. */
        refreshed = true;
        MV_INFO_ID(log_id_, "the output URL was refused (HTTP %u); reading the task again for a fresh one", r.status);
        Error e;
        std::optional<Failure> passing;
        if (!refresh_(cancellable, &url, &e, &passing)) {
          if (cancel_.is_cancelled())
            return;
          /* That read of the task can meet a passing failure of its own (a
           * 5xx, a 429, a cut; found by the chaos soak): retried within the
           * same budget. The old URL is still refused, so the next round
           * reads the task again. */
          if (passing && retry_wait(&retries, *passing)) {
            refreshed = false;
            continue;
          }
          spool_.set_failed(e);
          return;
        }
        continue;
      }
      if (retry_wait(&retries, r.failure))
        continue;
      if (cancel_.is_cancelled())
        return;
      report_refused(r, offset);
      return;
    }

    /* Where this response starts, and how large the whole output is. */
    int64_t total = r.content_length;
    if (r.status == 206) {
      if (r.range_start != (int64_t)offset) {
        report(Error::Kind::Read, "The output host answered a Range request from byte " +
                                    std::to_string(offset) + " with another range");
        return;
      }
      total = r.range_total;
    } else if (offset > 0) {
      /* The host ignored Range and sent everything: skip what we have.
       * A skip may stop short (at what libsoup had buffered); go on. */
      uint64_t skipped = 0;
      gssize n = 0;
      while (skipped < offset &&
             (n = g_input_stream_skip(in, (gsize)(offset - skipped), cancellable, nullptr)) > 0)
        skipped += (uint64_t)n;
      if (skipped != offset) {
        if (cancel_.is_cancelled())
          return;
        if (retry_wait(&retries, Failure{}))
          continue;
        report(Error::Kind::Read, "The output download broke off at byte " + std::to_string(offset));
        return;
      }
    }
    if (total >= 0 && max_size_ && (uint64_t)total > max_size_) {
      report_too_large((uint64_t)total, true);
      return;
    }
    if (total >= 0) {
      int64_t known = spool_.total();
      if (known >= 0 && known != total) {
        report(Error::Kind::Read, "The output changed size during the download (" + std::to_string(known) +
                                    " then " + std::to_string(total) + " bytes)");
        return;
      }
      spool_.set_total(total);
      Error why;
      if (!spool_.reserve((uint64_t)total, &why)) {
        spool_.set_failed(why);
        return;
      }
    }

    g_autoptr(GError) err = nullptr;
    bool progressed = false;
    for (bool more = true; more;) {
      /* A whole chunk before it is appended: the file is written in large
       * pieces, and a reader that keeps up gets this very buffer. */
      GstBuffer* acquired = nullptr;
      if (gst_buffer_pool_acquire_buffer(pool_, &acquired, nullptr) != GST_FLOW_OK) {
        report(Error::Kind::Write, "cannot allocate a download buffer");
        return;
      }
      BufferRef chunk = BufferRef::adopt(acquired);
      GstMapInfo map;
      if (!gst_buffer_map(chunk.get(), &map, GST_MAP_WRITE)) {
        report(Error::Kind::Write, "cannot map a download buffer");
        return;
      }
      gsize filled = 0;
      while (filled < map.size) {
        gssize n = g_input_stream_read(in, map.data + filled, map.size - filled, cancellable, &err);
        if (n <= 0) {
          more = false;
          break;
        }
        filled += (gsize)n;
      }
      gst_buffer_unmap(chunk.get(), &map);
      gst_buffer_set_size(chunk.get(), filled);
      if (filled && max_size_ && spool_.downloaded() + filled > max_size_) {
        /* No size was announced, or the host sends more than it did. */
        report_too_large(max_size_, false);
        return;
      }
      Error werr;
      if (filled && !spool_.append(std::move(chunk), &werr)) {
        spool_.set_failed(werr);
        return;
      }
      progressed |= filled > 0;
    }
    if (cancel_.is_cancelled())
      return;

    /* Judge completeness by the size announced by any response so far: a
     * 206 may give "*" for the total. */
    total = spool_.total();
    const uint64_t written = spool_.downloaded();
    if (!err && (total < 0 || written == (uint64_t)total)) {
      if (total < 0)
        MV_INFO_ID(log_id_, "output ended after %" G_GUINT64_FORMAT " bytes; the host announced no size to check it against",
                written);
      spool_.finish();
      const double seconds = (double)(g_get_monotonic_time() - started) / G_USEC_PER_SEC;
      MV_INFO_ID(log_id_, "downloaded %" G_GUINT64_FORMAT " bytes in %.3f s (%.1f MiB/s)", written, seconds,
              seconds > 0 ? written / seconds / 1048576 : 0.0);
      return;
    }
    if (total >= 0 && written > (uint64_t)total) {
      report(Error::Kind::Read,
           "The output host sent more bytes than it announced (" + std::to_string(total) + ")");
      return;
    }
    /* Cut short: resume from what we have. Progress earns fresh retries. */
    if (progressed)
      retries = 0;
    MV_DEBUG_ID(log_id_, "download cut at byte %" G_GUINT64_FORMAT ": %s; resuming", written,
                err ? err->message : "the connection closed early");
    if (retry_wait(&retries, Failure{}))
      continue;
    if (cancel_.is_cancelled())
      return;
    report(Error::Kind::Read, "The output download stopped at byte " + std::to_string(written) +
                                (total >= 0 ? " of " + std::to_string(total) : std::string()) + ": " +
                                (err ? err->message : "the connection closed early"));
    return;
  }
}

}  // namespace mv
