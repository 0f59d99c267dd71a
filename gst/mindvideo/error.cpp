/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "error.h"

namespace mv {

Error::Kind error_kind_for_status(unsigned status, Origin origin) {
  if (status == 0)
    return Error::Kind::OpenRead;
  if (status == 401 || status == 403 || status == 407)
    return Error::Kind::NotAuthorized;
  if (status == 404 || status == 410)
    return Error::Kind::NotFound;
  /* Transient ones, once every retry is spent. */
  if (status == 408 || status == 429 || status >= 500)
    return Error::Kind::Read;
  if (origin == Origin::Output)
    return Error::Kind::Read;
  if (status == 400 || status == 409 || status == 422)
    return Error::Kind::Settings;
  return Error::Kind::Failed; /* redirects and the other 4xx */
}

}  // namespace mv
