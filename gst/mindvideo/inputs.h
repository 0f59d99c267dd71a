/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Local files in URL fields. Where a user gives a path or a file:// URI for
 * an image field (any `*_url` string or `*_urls` array, e.g. image_urls and
 * mask_url), it becomes a base64 data: URI with the file's MIME type, when
 * the model's schema admits data URIs there. No network I/O.
 */
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mv {

class ModelSchema;

/* Files above this are refused rather than inlined: the data URI travels in
 * the request body, and large inputs belong on a hosted URL. */
constexpr uint64_t kMaxInlineBytes = 10 * 1024 * 1024;

/* Replaces the local files in `input`. Without a schema (an unknown model)
 * files are inlined and the server decides. Returns false with a message
 * naming the field and the file when a file is missing, too large, not an
 * image, or given to a field that takes public URLs only. */
bool inline_local_files(nlohmann::ordered_json* input, const std::string& model, const ModelSchema* schema,
                        std::string* error);

}  // namespace mv
