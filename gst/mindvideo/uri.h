/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mindvideo:// URI scheme, as plain data:
 *
 *   mindvideo://<model>?prompt=<text>&<field>=<value>&...&<setting>=<value>
 *
 * Query fields become `input` fields, typed as JSON reads them: a value that
 * reads as a JSON number, true, false or null is one; a value starting with
 * `"`, `{` or `[` is JSON text; anything else is a string. A repeated field,
 * or one written `field[]`, is an array. Element settings (kUriSettings) are
 * written with dashes, as their properties are named. The API key and URL
 * never come from a URI.
 */
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mv {

/* Element properties a URI may set, besides model, prompt and input. */
extern const char* const kUriSettings[];

struct UriRequest {
  std::string model;
  std::string prompt;
  std::string input; /* JSON object text; "" for none */
  std::vector<std::pair<std::string, std::string>> settings; /* in URI order */
};

/* Parses `uri`. Returns false with a message naming the problem. */
bool parse_uri(const std::string& uri, UriRequest* request, std::string* error);

/* The URI for `request`; parse_uri() gives `request` back. */
std::string build_uri(const UriRequest& request);

}  // namespace mv
