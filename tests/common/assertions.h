/* mindvideosrc tests
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Checks for std::string results, for the element tests (tests/check) and
 * the emulator's tests (tests/emulator). gst-check's
 * fail_unless_equals_string keeps only a char pointer, so a temporary
 * std::string would be gone before the comparison; these hold both sides
 * for the whole check, and compare them whole (embedded NULs included).
 * Include after <gst/check/gstcheck.h>.
 */
#pragma once

#include <string>

#define assert_str(actual, expected)                                                                        \
  do {                                                                                                      \
    const std::string _actual = (actual), _expected = (expected);                                           \
    fail_unless(_actual == _expected, "'%s' (%s) is not equal to '%s' (%s)", #actual, _actual.c_str(),     \
                #expected, _expected.c_str());                                                              \
  } while (0)

#define assert_contains(haystack, needle)                                                          \
  do {                                                                                             \
    const std::string _h = (haystack), _n = (needle);                                              \
    fail_unless(_h.find(_n) != std::string::npos, "'%s' does not contain '%s'", _h.c_str(), _n.c_str()); \
  } while (0)
