/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one error convention of the core: every failure the user must hear
 * about is an mv::Error, and every HTTP status maps to a kind in one place.
 */
#pragma once

#include <string>

namespace mv {

/* A failure the user must hear about. The element maps `kind` to a
 * GStreamer error domain and code, and `message` becomes the error text. */
struct Error {
  enum class Kind {
    Settings,      /* bad properties, or input the server rejected (400/409/422) */
    NotAuthorized, /* 401/403, and 407 from a proxy */
    NotFound,      /* 404/410 */
    Failed,        /* other 4xx, a failed or cancelled task, the deadline */
    OpenRead,      /* no response at all: refused, unreachable, TLS */
    Read,          /* transfer broke off, or 5xx after every retry */
    Write,         /* the spool file could not be written */
  };
  Kind kind = Kind::Failed;
  std::string message;
  unsigned http_status = 0; /* 0 when no HTTP status applies */
  std::string task_id;
  std::string status; /* the task's status, when one is known */
};

/* Who answered: the API (which judges the request) or an output host (which
 * only serves bytes, so a refusal there is a failed read, not bad input). */
enum class Origin { Api, Output };

/* The kind of error an HTTP status means; 0 is "no response at all". */
Error::Kind error_kind_for_status(unsigned status, Origin origin);

}  // namespace mv
