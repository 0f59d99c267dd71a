/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Makes GLib's locks visible to ThreadSanitizer (tests/run-tsan.sh preloads
 * it after libtsan). GLib is not built with TSan here, and on Linux GMutex,
 * GRecMutex, GRWLock and GCond are futexes, not pthread calls, so TSan sees
 * no synchronisation in them: every field that this project guards with
 * GST_OBJECT_LOCK, a pad's stream lock or a GCond would be reported as a
 * race. Each wrapper calls the real function (dlsym RTLD_NEXT) and tells
 * TSan about the happens-before edge: acquire after a lock, release before
 * an unlock, both around a wait.
 *
 * Calls between GLib's own functions do not go through these (GLib links
 * with -Bsymbolic-functions); calls from GStreamer, libsoup, GIO and this
 * project do. Built without -fsanitize (it is not code under test); the
 * __tsan_* functions come from the TSan runtime of the process, if any.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>

/* Weak: in a process without the TSan runtime the shim only forwards. */
void __tsan_acquire(void* addr) __attribute__((weak));
void __tsan_release(void* addr) __attribute__((weak));
#define ACQUIRE(x) (__tsan_acquire ? __tsan_acquire(x) : (void)0)
#define RELEASE(x) (__tsan_release ? __tsan_release(x) : (void)0)

/* The real function, looked up once. */
#define REAL(name)                                                                 \
  static __typeof__(&name) real_##name;                                            \
  if (!__atomic_load_n(&real_##name, __ATOMIC_ACQUIRE))                            \
    __atomic_store_n(&real_##name, (__typeof__(&name))dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE)

void g_mutex_lock(GMutex* m) {
  REAL(g_mutex_lock);
  real_g_mutex_lock(m);
  ACQUIRE(m);
}

gboolean g_mutex_trylock(GMutex* m) {
  REAL(g_mutex_trylock);
  gboolean ok = real_g_mutex_trylock(m);
  if (ok)
    ACQUIRE(m);
  return ok;
}

void g_mutex_unlock(GMutex* m) {
  REAL(g_mutex_unlock);
  RELEASE(m);
  real_g_mutex_unlock(m);
}

void g_rec_mutex_lock(GRecMutex* m) {
  REAL(g_rec_mutex_lock);
  real_g_rec_mutex_lock(m);
  ACQUIRE(m);
}

gboolean g_rec_mutex_trylock(GRecMutex* m) {
  REAL(g_rec_mutex_trylock);
  gboolean ok = real_g_rec_mutex_trylock(m);
  if (ok)
    ACQUIRE(m);
  return ok;
}

void g_rec_mutex_unlock(GRecMutex* m) {
  REAL(g_rec_mutex_unlock);
  RELEASE(m);
  real_g_rec_mutex_unlock(m);
}

void g_rw_lock_writer_lock(GRWLock* l) {
  REAL(g_rw_lock_writer_lock);
  real_g_rw_lock_writer_lock(l);
  ACQUIRE(l);
}

gboolean g_rw_lock_writer_trylock(GRWLock* l) {
  REAL(g_rw_lock_writer_trylock);
  gboolean ok = real_g_rw_lock_writer_trylock(l);
  if (ok)
    ACQUIRE(l);
  return ok;
}

void g_rw_lock_writer_unlock(GRWLock* l) {
  REAL(g_rw_lock_writer_unlock);
  RELEASE(l);
  real_g_rw_lock_writer_unlock(l);
}

void g_rw_lock_reader_lock(GRWLock* l) {
  REAL(g_rw_lock_reader_lock);
  real_g_rw_lock_reader_lock(l);
  ACQUIRE(l);
}

gboolean g_rw_lock_reader_trylock(GRWLock* l) {
  REAL(g_rw_lock_reader_trylock);
  gboolean ok = real_g_rw_lock_reader_trylock(l);
  if (ok)
    ACQUIRE(l);
  return ok;
}

void g_rw_lock_reader_unlock(GRWLock* l) {
  REAL(g_rw_lock_reader_unlock);
  RELEASE(l);
  real_g_rw_lock_reader_unlock(l);
}

void g_cond_wait(GCond* c, GMutex* m) {
  REAL(g_cond_wait);
  RELEASE(m);
  real_g_cond_wait(c, m);
  ACQUIRE(m);
}

gboolean g_cond_wait_until(GCond* c, GMutex* m, gint64 end_time) {
  REAL(g_cond_wait_until);
  RELEASE(m);
  gboolean signalled = real_g_cond_wait_until(c, m, end_time);
  ACQUIRE(m);
  return signalled;
}
