/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "journal.h"

#include "log.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mv {

namespace {
constexpr int kVersion = 1;
constexpr const char* kJson = "json";
constexpr const char* kLock = "lock";

bool is_hex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

/* Keys we make are UUIDs; anything else in a file name is refused, so a
 * crafted entry cannot point a path anywhere. */
bool is_key(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return g_ascii_isalnum(c) || c == '-' || c == '_';
         });
}

std::string errno_text(int err) {
  return g_strerror(err);
}

/* Deletes entry `base`: the .json first (without it nobody takes the entry
 * over, even a run that locks the .lock about to go), then what a write cut
 * short by a crash left (g_file_set_contents' "<base>.json.XXXXXX"), then
 * the .lock. The caller holds the lock. */
void remove_files(const std::string& dir, const std::string& base) {
  const std::string json = base + "." + kJson;
  const std::string temporary = json + ".";
  g_unlink((dir + G_DIR_SEPARATOR_S + json).c_str());
  if (GDir* d = g_dir_open(dir.c_str(), 0, nullptr)) {
    while (const gchar* name = g_dir_read_name(d))
      if (g_str_has_prefix(name, temporary.c_str()))
        g_unlink((dir + G_DIR_SEPARATOR_S + name).c_str());
    g_dir_close(d);
  }
  g_unlink((dir + G_DIR_SEPARATOR_S + base + "." + kLock).c_str());
}
}  // namespace

std::string journal_fingerprint(const std::string& api_url, const std::string& model, const std::string& body) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  /* Lengths first, so that no two different triples hash the same bytes. */
  for (const std::string* part : {&api_url, &model, &body}) {
    const std::string length = std::to_string(part->size()) + ":";
    g_checksum_update(sum, (const guchar*)length.data(), (gssize)length.size());
    g_checksum_update(sum, (const guchar*)part->data(), (gssize)part->size());
  }
  return g_checksum_get_string(sum);
}

std::string journal_time_text(int64_t unix_s) {
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(unix_s);
  if (!t)
    return std::to_string(unix_s);
  g_autofree gchar* text = g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC");
  return text ? text : std::to_string(unix_s);
}

std::string journal_serialise(const JournalEntry& e) {
  nlohmann::ordered_json j;
  j["version"] = kVersion;
  j["fingerprint"] = e.fingerprint;
  j["idempotency_key"] = e.idempotency_key;
  j["created"] = e.created_s;
  j["created_text"] = journal_time_text(e.created_s); /* for people reading the directory */
  j["task_id"] = e.task_id;
  j["status"] = e.status;
  return j.dump(2) + "\n";
}

bool journal_parse(const std::string& text, JournalEntry* entry, std::string* why) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *why = "not a JSON object";
    return false;
  }
  auto string_field = [&j](const char* name, std::string* out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string())
      return false;
    *out = it->get<std::string>();
    return true;
  };
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || version->get<int64_t>() != kVersion) {
    *why = "unknown version";
    return false;
  }
  JournalEntry e;
  if (!string_field("fingerprint", &e.fingerprint) || !is_hex64(e.fingerprint)) {
    *why = "no valid fingerprint";
    return false;
  }
  if (!string_field("idempotency_key", &e.idempotency_key) || !is_key(e.idempotency_key)) {
    *why = "no valid idempotency_key";
    return false;
  }
  auto created = j.find("created");
  if (created == j.end() || !created->is_number_integer()) {
    *why = "no creation time";
    return false;
  }
  e.created_s = created->get<int64_t>();
  /* Unknown until the server answers: optional. */
  string_field("task_id", &e.task_id);
  string_field("status", &e.status);
  *entry = std::move(e);
  return true;
}

bool journal_fresh(int64_t created_s, int64_t now_s, int64_t window_s) {
  return now_s - created_s < window_s;
}

std::string journal_basename(const std::string& fingerprint, const std::string& key) {
  return fingerprint + "-" + key;
}

bool journal_split_name(const std::string& name, std::string* base, std::string* ext) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos)
    return false;
  const std::string e = name.substr(dot + 1);
  const std::string b = name.substr(0, dot);
  if ((e != kJson && e != kLock) || b.size() < 66 || b[64] != '-' || !is_hex64(b.substr(0, 64)) ||
      !is_key(b.substr(65)))
    return false;
  *base = b;
  *ext = e;
  return true;
}

std::string journal_default_dir() {
  const char* xdg = g_getenv("XDG_STATE_HOME");
  /* The XDG spec ignores relative paths. */
  const std::string state = (xdg && g_path_is_absolute(xdg)) ? xdg : g_get_user_state_dir();
  g_autofree gchar* dir = g_build_filename(state.c_str(), "mindvideo", nullptr);
  return dir;
}

/* The file and lock part. */

HeldEntry::HeldEntry(std::string dir, std::string base, JournalEntry entry, int lock_fd)
    : dir_(std::move(dir)), base_(std::move(base)), entry_(std::move(entry)), lock_fd_(lock_fd) {}

HeldEntry::~HeldEntry() {
  if (lock_fd_ >= 0)
    close(lock_fd_); /* releases the flock */
}

std::string HeldEntry::path(const char* ext) const {
  const std::string name = base_ + "." + ext;
  g_autofree gchar* p = g_build_filename(dir_.c_str(), name.c_str(), nullptr);
  return p;
}

static bool write_entry(const std::string& path, const JournalEntry& entry, std::string* why) {
  const std::string text = journal_serialise(entry);
  g_autoptr(GError) error = nullptr;
  /* Temporary file, fsync, rename, fsync of the directory entry: the entry
   * is on disk before the POST that it is about. */
  if (!g_file_set_contents_full(path.c_str(), text.data(), (gssize)text.size(),
                                (GFileSetContentsFlags)(G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE),
                                0600, &error)) {
    *why = error->message;
    return false;
  }
  return true;
}

bool HeldEntry::update(const JournalEntry& entry, std::string* why) {
  if (removed_)
    return true;
  if (!write_entry(path(kJson), entry, why))
    return false;
  entry_ = entry;
  return true;
}

void HeldEntry::remove() {
  if (removed_)
    return;
  removed_ = true;
  remove_files(dir_, base_);
}

std::unique_ptr<Journal> Journal::open(const std::string& dir, std::string* why) {
  if (g_mkdir_with_parents(dir.c_str(), 0700) != 0) {
    *why = "cannot create " + dir + ": " + errno_text(errno);
    return nullptr;
  }
  if (g_access(dir.c_str(), W_OK | X_OK) != 0) {
    *why = "cannot write to " + dir + ": " + errno_text(errno);
    return nullptr;
  }
  return std::unique_ptr<Journal>(new Journal(dir));
}

int Journal::try_lock(const std::string& base, bool create) const {
  const std::string name = base + "." + kLock;
  g_autofree gchar* path = g_build_filename(dir_.c_str(), name.c_str(), nullptr);
  int fd = ::open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0)
    return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  /* Still the file at that path? A run that removed the entry may have
   * unlinked it between our open() and flock(). */
  struct stat held, now;
  if (fstat(fd, &held) != 0 || g_stat(path, &now) != 0 || held.st_ino != now.st_ino || held.st_dev != now.st_dev) {
    close(fd);
    return -1;
  }
  return fd;
}

std::vector<std::string> Journal::list() const {
  std::vector<std::string> names;
  g_autoptr(GDir) d = g_dir_open(dir_.c_str(), 0, nullptr);
  if (!d)
    return names;
  while (const gchar* name = g_dir_read_name(d))
    names.emplace_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<HeldEntry> Journal::take_over(const std::string& fingerprint, int64_t now_s, int64_t window_s,
                                              const std::string& log_id) {
  std::unique_ptr<HeldEntry> best;
  for (const std::string& name : list()) {
    std::string base, ext;
    if (!journal_split_name(name, &base, &ext))
      continue;
    g_autofree gchar* path = g_build_filename(dir_.c_str(), name.c_str(), nullptr);
    if (ext == kLock) {
      /* A lock without its entry: a run removed it, or died between the two
       * files. Only old ones go, so that a run making its entry right now
       * keeps its lock file. */
      const std::string json = base + "." + kJson;
      g_autofree gchar* json_path = g_build_filename(dir_.c_str(), json.c_str(), nullptr);
      struct stat st;
      if (!g_file_test(json_path, G_FILE_TEST_EXISTS) && g_stat(path, &st) == 0 &&
          !journal_fresh(st.st_mtime, now_s, window_s)) {
        int fd = try_lock(base, false);
        if (fd >= 0) {
          remove_files(dir_, base);
          close(fd);
        }
      }
      continue;
    }
    gchar* contents = nullptr;
    gsize length = 0;
    if (!g_file_get_contents(path, &contents, &length, nullptr))
      continue; /* removed meanwhile */
    g_autofree gchar* text = contents;
    JournalEntry entry;
    std::string why;
    if (!journal_parse(std::string(text, length), &entry, &why) ||
        journal_basename(entry.fingerprint, entry.idempotency_key) != base) {
      MV_DEBUG_ID(log_id, "journal: ignoring %s: %s", name.c_str(), why.empty() ? "name and contents differ" : why.c_str());
      continue;
    }
    const bool fresh = journal_fresh(entry.created_s, now_s, window_s);
    const bool ours = entry.fingerprint == fingerprint;
    if (fresh && (!ours || (best && best->entry().created_s >= entry.created_s)))
      continue;
    int fd = try_lock(base, true);
    if (fd < 0) {
      if (ours && fresh)
        MV_DEBUG_ID(log_id, "journal: entry %s is held by a live run; not resuming it", name.c_str());
      continue;
    }
    /* Read again under the lock: its last holder may have updated or
     * removed it meanwhile. */
    auto held = std::unique_ptr<HeldEntry>(new HeldEntry(dir_, base, entry, fd));
    gchar* again = nullptr;
    if (!g_file_get_contents(path, &again, &length, nullptr))
      continue;
    g_autofree gchar* again_text = again;
    if (!journal_parse(std::string(again_text, length), &entry, &why) ||
        journal_basename(entry.fingerprint, entry.idempotency_key) != base)
      continue;
    held->entry_ = entry;
    if (!fresh) {
      MV_INFO_ID(log_id, "journal: removing %s, made %s, older than the resume window of %" G_GINT64_FORMAT " s",
                 name.c_str(), journal_time_text(entry.created_s).c_str(), window_s);
      held->remove();
      continue;
    }
    best = std::move(held); /* the one it replaces is released, kept */
  }
  return best;
}

std::unique_ptr<HeldEntry> Journal::create(const JournalEntry& entry, std::string* why) {
  const std::string base = journal_basename(entry.fingerprint, entry.idempotency_key);
  /* The lock first: once the .json exists another run may look at it. */
  int fd = try_lock(base, true);
  if (fd < 0) {
    *why = "cannot create and lock " + base + "." + kLock + " in " + dir_ + ": " + errno_text(errno);
    return nullptr;
  }
  auto held = std::unique_ptr<HeldEntry>(new HeldEntry(dir_, base, entry, fd));
  if (!write_entry(held->path(kJson), entry, why)) {
    held->remove();
    return nullptr;
  }
  return held;
}

}  // namespace mv
