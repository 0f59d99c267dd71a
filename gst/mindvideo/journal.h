/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The journal: the Idempotency-Key of every paid request whose output has not
 * been delivered yet, kept on disk so that a rerun after a crash submits with
 * the same key and the server hands back the task already paid for.
 *
 * It lives in $XDG_STATE_HOME/mindvideo/ (GLib's g_get_user_state_dir(),
 * default ~/.local/state/mindvideo/), one entry per request run:
 *
 *   <fingerprint>-<key>.json  the entry, replaced atomically and durably
 *                             (write, fsync, rename), mode 0600
 *   <fingerprint>-<key>.lock  empty; a live run holds flock(LOCK_EX) on it
 *
 * The lock is on a file of its own because an atomic rewrite replaces the
 * .json's inode, and a lock on the old inode would no longer guard the path.
 * flock() locks belong to the open file description, so two elements of one
 * process exclude each other (POSIX fcntl record locks would not: they
 * belong to the process). The kernel drops the lock when the process dies,
 * even by SIGKILL: an unlocked entry is one nobody is running.
 * (On NFS, Linux emulates flock() with POSIX locks, so two elements of one
 * process would not exclude each other there; a local state directory is
 * assumed, as XDG intends.)
 *
 * An entry holds the request's fingerprint (SHA-256 of api-url, model and
 * the exact body bytes), the key, when it was made, and the task id and
 * status once known. Never the API key, never the prompt.
 *
 * The pure part (fingerprint, (de)serialisation, the window) does no I/O;
 * Journal and HeldEntry are the small file and lock part.
 */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mv {

/* How long an entry may be resumed: the API does not document how long it
 * keeps keys, and a day covers a crashed batch rerun the next morning. */
constexpr int64_t kJournalWindowS = 24 * 3600;

struct JournalEntry {
  std::string fingerprint;     /* 64 lowercase hex digits */
  std::string idempotency_key;
  int64_t created_s = 0;       /* Unix time the entry was made */
  std::string task_id;         /* empty until the server answered */
  std::string status;          /* the task's status text, once known */
};

/* SHA-256 (hex) of the request: api-url, model and the exact body bytes. */
std::string journal_fingerprint(const std::string& api_url, const std::string& model, const std::string& body);

/* The entry as the JSON text of its file. */
std::string journal_serialise(const JournalEntry& entry);
/* Reads an entry back; false with `why` for anything that is not one (a
 * torn or foreign file, a key that could not have been ours). */
bool journal_parse(const std::string& text, JournalEntry* entry, std::string* why);

/* Whether an entry made at `created_s` may still be resumed at `now_s`. A
 * time in the future (the clock went back) counts as fresh. */
bool journal_fresh(int64_t created_s, int64_t now_s, int64_t window_s);

/* The file name of an entry, without extension: "<fingerprint>-<key>". */
std::string journal_basename(const std::string& fingerprint, const std::string& key);
/* Whether `name` (a directory entry) is an entry file, and of which base. */
bool journal_split_name(const std::string& name, std::string* base, std::string* ext);

/* "2026-12-02 07:40:00 UTC", for messages. */
std::string journal_time_text(int64_t unix_s);

/* $XDG_STATE_HOME/mindvideo, read at each call (GLib caches its own answer
 * for the process's life), else g_get_user_state_dir()/mindvideo. */
std::string journal_default_dir();

/* An entry this run holds the lock of. Destroying it releases the lock and
 * keeps the entry for a rerun; remove() drops it for good. */
class HeldEntry {
 public:
  ~HeldEntry();
  HeldEntry(const HeldEntry&) = delete;
  HeldEntry& operator=(const HeldEntry&) = delete;

  const JournalEntry& entry() const { return entry_; }
  /* Rewrites the entry with `entry` (same fingerprint and key), durably. */
  bool update(const JournalEntry& entry, std::string* why);
  /* Deletes the entry and its lock file; the lock goes with the last close. */
  void remove();

 private:
  friend class Journal;
  HeldEntry(std::string dir, std::string base, JournalEntry entry, int lock_fd);
  std::string path(const char* ext) const;

  const std::string dir_;
  const std::string base_;
  JournalEntry entry_;
  int lock_fd_ = -1;
  bool removed_ = false;
};

class Journal {
 public:
  /* The journal in `dir`, made (mode 0700) if missing; nullptr with `why`
   * when it cannot be used. */
  static std::unique_ptr<Journal> open(const std::string& dir, std::string* why);

  /* Deletes the unlocked entries older than the window (whatever their
   * request), then takes over the newest fresh, unlocked entry with this
   * fingerprint: nullptr when there is none. `log_id` names the element in
   * the log. */
  std::unique_ptr<HeldEntry> take_over(const std::string& fingerprint, int64_t now_s, int64_t window_s,
                                       const std::string& log_id);
  /* Writes a new entry durably and holds it; nullptr with `why` on failure. */
  std::unique_ptr<HeldEntry> create(const JournalEntry& entry, std::string* why);

  const std::string& dir() const { return dir_; }

 private:
  explicit Journal(std::string dir) : dir_(std::move(dir)) {}
  /* The lock of entry `base`, or -1 when a live run holds it (or it fails). */
  int try_lock(const std::string& base, bool create) const;
  std::vector<std::string> list() const;

  const std::string dir_;
};

}  // namespace mv
