/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string>

namespace mv {

/* A failure the user must hear about. The element maps `kind` to a
 * GStreamer error domain and code, and `message` becomes the error text. */
struct Error {
  enum class Kind {
    Settings,      /* bad properties, or input the server rejected (400/409/422) */
    NotAuthorized, /* 401/403 */
    NotFound,      /* 404 */
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

}  // namespace mv
