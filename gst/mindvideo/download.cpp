/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "download.h"

#include "api.h"
#include "log.h"
#include "ranges.h"
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
      pool_(gst_buffer_pool_new()),
      created_us_(g_get_monotonic_time()) {
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
  std::lock_guard<std::mutex> guard(lock_);
  url_ = url;
  refresh_ = std::move(refresh);
  start_fetch(0, true);
}

void Downloader::start_fetch(uint64_t offset, bool main) {
  auto fetch = std::make_unique<Fetch>();
  fetch->position = offset;
  fetch->main = main;
  fetch->started_us = g_get_monotonic_time();
  Fetch* f = fetch.get();
  fetches_.push_back(std::move(fetch));
  started_++;
  if (!main)
    MV_INFO_ID(log_id_, "a reader waits for byte %" G_GUINT64_FORMAT ": Range fetch %zu starts there", offset,
               started_);
  f->thread = named_thread(main ? "mv-download" : "mv-fetch", [this, f] { run(f); });
}

void Downloader::stop() {
  std::vector<std::unique_ptr<Fetch>> all;
  {
    std::lock_guard<std::mutex> guard(lock_);
    stopped_ = true;
    for (auto& f : fetches_)
      f->cancel.cancel();
    all = std::move(fetches_);
    fetches_.clear();
  }
  for (auto& f : all)
    if (f->thread.joinable())
      f->thread.join();
}

size_t Downloader::fetches_started() const {
  std::lock_guard<std::mutex> guard(lock_);
  return started_;
}

void Downloader::want(uint64_t offset) {
  std::lock_guard<std::mutex> guard(lock_);
  const int64_t total = spool_.total();
  /* Without a size there are no holes to aim at: the main fetch alone. */
  if (stopped_ || ranges_ == Ranges::No || total < 0 || offset >= (uint64_t)total)
    return;
  if (spool_.next_missing(offset) != offset)
    return;
  /* Finished fetches leave; their threads have returned (see run()). */
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();
      it = fetches_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<FetchView> views;
  std::vector<Fetch*> running;
  const int64_t now = g_get_monotonic_time();
  for (auto& f : fetches_) {
    if (f->cancel.is_cancelled())
      continue;
    FetchView v;
    v.position = f->position;
    v.limit = spool_.next_present(f->position, (uint64_t)total);
    v.main = f->main;
    v.started_us = f->started_us;
    if (f->first_byte_us && now > f->first_byte_us)
      v.rate_bps = (double)f->bytes * 1e6 / (double)(now - f->first_byte_us);
    views.push_back(v);
    running.push_back(f.get());
  }
  FetchDecision d = decide_fetch(offset, views, answer_us_);
  if (d.action == FetchDecision::Action::Wait)
    return;
  if (d.action == FetchDecision::Action::Replace) {
    MV_DEBUG_ID(log_id_, "%zu fetches run: the Range fetch at byte %" G_GUINT64_FORMAT " gives way", kMaxFetches,
                running[d.replace]->position);
    running[d.replace]->cancel.cancel();
  }
  start_fetch(offset, false);
}

void Downloader::run(Fetch* f) {
  uint64_t offset;
  {
    std::lock_guard<std::mutex> guard(lock_);
    offset = f->position;
  }
  int retries = 0;
  while (fetch_once(f, &offset, &retries)) {
  }
  std::lock_guard<std::mutex> guard(lock_);
  /* The last fetch standing never leaves a hole behind: a fetch that ended
   * while another was still heading for a region that it then left. */
  bool alive = false;
  for (auto& other : fetches_)
    alive |= other.get() != f && !other->done && !other->cancel.is_cancelled();
  const int64_t total = spool_.total();
  if (!alive && !stopped_ && !f->cancel.is_cancelled() && ranges_ != Ranges::No && total >= 0 &&
      !spool_.complete() && spool_.error().message.empty()) {
    const uint64_t hole = spool_.next_missing(0);
    if (hole < (uint64_t)total)
      start_fetch(hole, false);
  }
  /* Last: want() joins a fetch once this is set. */
  f->done = true;
}

Downloader::RefreshResult Downloader::refresh_url(int seen_generation, GCancellable* cancellable, Fetch* f,
                                                  Failure* passing, Error* error) {
  std::lock_guard<std::mutex> once(refresh_lock_);
  {
    std::lock_guard<std::mutex> guard(lock_);
    if (url_generation_ != seen_generation)
      return RefreshResult::Fresh; /* another fetch read it again meanwhile */
    if (refreshed_)
      return RefreshResult::Spent;
    refreshed_ = true;
  }
  if (f->cancel.is_cancelled())
    return RefreshResult::Failed;
  MV_INFO_ID(log_id_, "the output URL was refused; reading the task again for a fresh one");
  std::string fresh;
  std::optional<Failure> failure;
  if (!refresh_(cancellable, &fresh, error, &failure)) {
    if (f->cancel.is_cancelled())
      return RefreshResult::Failed;
    if (failure) {
      /* That read of the task met a passing failure of its own (a 5xx, a
       * 429, a cut; found by the chaos soak): it may be read again, within
       * the fetch's retry budget. */
      std::lock_guard<std::mutex> guard(lock_);
      refreshed_ = false;
      *passing = *failure;
      return RefreshResult::Passing;
    }
    spool_.set_failed(*error);
    return RefreshResult::Failed;
  }
  std::lock_guard<std::mutex> guard(lock_);
  url_ = fresh;
  url_generation_++;
  return RefreshResult::Fresh;
}

std::optional<uint64_t> Downloader::next_target(const Fetch* f) {
  std::lock_guard<std::mutex> guard(lock_);
  if (ranges_ == Ranges::No)
    return std::nullopt;
  const int64_t total = spool_.total();
  if (total < 0)
    return std::nullopt;
  std::vector<std::pair<uint64_t, uint64_t>> claimed;
  for (auto& other : fetches_)
    if (other.get() != f && !other->done && !other->cancel.is_cancelled())
      claimed.emplace_back(other->position, spool_.next_present(other->position, (uint64_t)total));
  return spool_.next_unclaimed(f->position, claimed);
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
  if (r.failure.kind == Failure::Kind::ProxyAuth) /* the text names the proxy */
    report(Error::Kind::NotAuthorized, "Could not download the output: " + r.error, r.status);
  else if (r.status == 0)
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
bool Downloader::retry_wait(Fetch* f, int* retries, const Failure& failure) {
  RetryDecision d = decide_retry(policy_, *retries, failure, g_random_double(),
                                 g_get_real_time() / G_USEC_PER_SEC);
  if (!d.retry)
    return false;
  (*retries)++;
  return f->cancel.sleep_ms(d.delay_ms);
}

/* One request of a fetch, from `*offset` on. True to go on: a retry, a
 * fresh URL, or a jump to the next missing byte (`*offset` says where). */
bool Downloader::fetch_once(Fetch* f, uint64_t* at, int* retries) {
  if (f->cancel.is_cancelled())
    return false;
  uint64_t offset = *at;
  std::string url;
  int generation;
  {
    std::lock_guard<std::mutex> guard(lock_);
    url = url_;
    generation = url_generation_;
    f->position = offset;
  }
  g_autoptr(GCancellable) cancellable = f->cancel.cancellable_ref();
  g_autoptr(GInputStream) in = nullptr;
  const int64_t asked = g_get_monotonic_time();
  HttpResponse r = http_.open(log_id_, url, offset, &in, cancellable);
  if (r.status) {
    std::lock_guard<std::mutex> guard(lock_);
    answer_us_ = g_get_monotonic_time() - asked;
  }

  if (!in) {
    if (r.cancelled || f->cancel.is_cancelled())
      return false;
    if ((r.status == 403 || r.status == 404 || r.status == 410) && refresh_) {
      /* Signed URLs expire: ask the API once for a fresh one. */
      Failure passing;
      Error error;
      switch (refresh_url(generation, cancellable, f, &passing, &error)) {
        case RefreshResult::Fresh:
          return true;
        case RefreshResult::Failed:
          return false;
        case RefreshResult::Passing:
          if (retry_wait(f, retries, passing))
            return true;
          if (!f->cancel.is_cancelled())
            spool_.set_failed(error);
          return false;
        case RefreshResult::Spent:
          break;
      }
    }
    if (retry_wait(f, retries, r.failure))
      return true;
    if (f->cancel.is_cancelled())
      return false;
    report_refused(r, offset);
    return false;
  }

  /* Where this response starts, and how large the whole output is. */
  int64_t total = r.content_length;
  if (r.status == 206) {
    if (r.range_start != (int64_t)offset) {
      report(Error::Kind::Read, "The output host answered a Range request from byte " + std::to_string(offset) +
                                    " with another range");
      return false;
    }
    total = r.range_total;
    std::lock_guard<std::mutex> guard(lock_);
    if (ranges_ == Ranges::Unknown && !r.ranges_refused)
      ranges_ = Ranges::Yes;
  } else if (offset > 0) {
    {
      std::lock_guard<std::mutex> guard(lock_);
      ranges_ = Ranges::No;
    }
    if (!f->main) {
      MV_INFO_ID(log_id_, "the output host answered a Range request with the whole output; the main download "
                          "goes on alone");
      return false;
    }
    /* The host ignored Range and sent everything: skip what we have.
     * A skip may stop short (at what libsoup had buffered); go on. */
    uint64_t skipped = 0;
    gssize n = 0;
    while (skipped < offset && (n = g_input_stream_skip(in, (gsize)(offset - skipped), cancellable, nullptr)) > 0)
      skipped += (uint64_t)n;
    if (skipped != offset) {
      if (f->cancel.is_cancelled())
        return false;
      if (retry_wait(f, retries, Failure{}))
        return true;
      report(Error::Kind::Read, "The output download broke off at byte " + std::to_string(offset));
      return false;
    }
  }
  if (r.ranges_refused) {
    std::lock_guard<std::mutex> guard(lock_);
    ranges_ = Ranges::No;
  }
  if (total >= 0 && max_size_ && (uint64_t)total > max_size_) {
    report_too_large((uint64_t)total, true);
    return false;
  }
  if (total >= 0) {
    int64_t known = spool_.total();
    if (known >= 0 && known != total) {
      report(Error::Kind::Read, "The output changed size during the download (" + std::to_string(known) + " then " +
                                    std::to_string(total) + " bytes)");
      return false;
    }
    if (known < 0) {
      spool_.set_total(total);
      Error why;
      if (!spool_.reserve((uint64_t)total, &why)) {
        spool_.set_failed(why);
        return false;
      }
    }
  }

  const int64_t known = spool_.total();
  const uint64_t end = known >= 0 ? (uint64_t)known : UINT64_MAX;
  g_autoptr(GError) err = nullptr;
  bool progressed = false, reached = false;
  for (bool more = true; more;) {
    /* Up to the next byte already there: another fetch has it. At the end
     * of the output, a whole chunk, to catch a host sending too much. */
    const uint64_t limit = spool_.next_present(offset, end);
    if (limit <= offset && offset < end) {
      reached = true;
      break;
    }
    GstBuffer* acquired = nullptr;
    if (gst_buffer_pool_acquire_buffer(pool_, &acquired, nullptr) != GST_FLOW_OK) {
      report(Error::Kind::Write, "cannot allocate a download buffer");
      return false;
    }
    BufferRef chunk = BufferRef::adopt(acquired);
    GstMapInfo map;
    if (!gst_buffer_map(chunk.get(), &map, GST_MAP_WRITE)) {
      report(Error::Kind::Write, "cannot map a download buffer");
      return false;
    }
    const gsize room = limit < end ? (gsize)MIN((uint64_t)map.size, limit - offset) : map.size;
    gsize filled = 0;
    while (filled < room) {
      gssize n = g_input_stream_read(in, map.data + filled, room - filled, cancellable, &err);
      if (n <= 0) {
        more = false;
        break;
      }
      filled += (gsize)n;
    }
    gst_buffer_unmap(chunk.get(), &map);
    gst_buffer_set_size(chunk.get(), filled);
    if (!filled)
      break;
    if (offset + filled > end) {
      report(Error::Kind::Read, "The output host sent more bytes than it announced (" + std::to_string(end) + ")");
      return false;
    }
    if (max_size_ && offset + filled > max_size_) {
      /* No size was announced, or the host sends more than it did. */
      report_too_large(max_size_, false);
      return false;
    }
    {
      /* Moved on before the bytes land: a reader waiting right past them
       * must never see this fetch behind bytes already there (and so
       * unable to reach it) and start another. */
      std::lock_guard<std::mutex> guard(lock_);
      f->position = offset + filled;
      f->bytes += filled;
      if (!f->first_byte_us)
        f->first_byte_us = g_get_monotonic_time();
    }
    Error werr;
    if (!spool_.write(offset, std::move(chunk), &werr)) {
      spool_.set_failed(werr);
      return false;
    }
    offset += filled;
    progressed = true;
  }
  *at = offset;
  if (f->cancel.is_cancelled())
    return false;

  if (spool_.complete()) {
    const double seconds = (double)(g_get_monotonic_time() - created_us_) / G_USEC_PER_SEC;
    const uint64_t size = spool_.downloaded();
    MV_INFO_ID(log_id_, "downloaded %" G_GUINT64_FORMAT " bytes in %.3f s (%.1f MiB/s, %zu fetch(es))", size,
               seconds, seconds > 0 ? size / seconds / 1048576 : 0.0, fetches_started());
    return false;
  }
  if (reached || (known >= 0 && offset >= (uint64_t)known)) {
    /* This fetch's path is done: on to a byte still missing, if one is
     * left that no other fetch is heading for. */
    std::optional<uint64_t> next = next_target(f);
    if (!next) {
      MV_DEBUG_ID(log_id_, "fetch ends at byte %" G_GUINT64_FORMAT ": the rest is there or on its way", offset);
      return false;
    }
    MV_DEBUG_ID(log_id_, "fetch reached bytes already there at %" G_GUINT64_FORMAT "; on to byte %" G_GUINT64_FORMAT,
                offset, *next);
    *at = *next;
    *retries = 0;
    return true;
  }
  if (!err && known < 0) {
    MV_INFO_ID(log_id_,
               "output ended after %" G_GUINT64_FORMAT " bytes; the host announced no size to check it against",
               offset);
    spool_.finish();
    return false;
  }
  /* Cut short: resume from what we have. Progress earns fresh retries. */
  if (progressed)
    *retries = 0;
  MV_DEBUG_ID(log_id_, "download cut at byte %" G_GUINT64_FORMAT ": %s; resuming", offset,
              err ? err->message : "the connection closed early");
  if (retry_wait(f, retries, Failure{}))
    return true;
  if (f->cancel.is_cancelled())
    return false;
  report(Error::Kind::Read, "The output download stopped at byte " + std::to_string(offset) +
                                (known >= 0 ? " of " + std::to_string(known) : std::string()) + ": " +
                                (err ? err->message : "the connection closed early"));
  return false;
}

}  // namespace mv
