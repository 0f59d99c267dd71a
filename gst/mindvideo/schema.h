/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Validation of a model's `input` against its JSON Schema (schemas/<model>.json).
 * Pure logic: no GObject, no I/O beyond reading the schema file; the shipped
 * schemas are compiled in, so they are found wherever the plugin is.
 */
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace mv {

class ModelSchema {
 public:
  ~ModelSchema();
  ModelSchema(const ModelSchema&) = delete;
  ModelSchema& operator=(const ModelSchema&) = delete;

  /* Compiles a schema from its JSON text. Returns nullptr and sets `error`
   * when the text is not a usable draft-7 schema. */
  static std::unique_ptr<ModelSchema> from_text(const std::string& text, std::string* error);
  /* Reads and compiles a schema file. */
  static std::unique_ptr<ModelSchema> from_file(const std::string& path, std::string* error);

  /* Validates a JSON document (text). Returns one sentence per violation,
   * naming the field, the bad value and what is allowed, e.g.
   * "n = 5 is above the maximum 4", in the order the fields were written;
   * empty when the document is valid. Text that is not JSON is itself a
   * violation. */
  std::vector<std::string> validate(const std::string& json_text) const;

  /* Whether the property (or, for an array, its items) admits a data: URI,
   * so that a local file may be inlined there. */
  bool accepts_data_uri(const std::string& property) const;

  /* The names listed under the schema's top-level `properties`. */
  const std::vector<std::string>& property_names() const;

 private:
  struct Impl;
  explicit ModelSchema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/* Directories searched for `<model>.json` before the built-in schemas: the
 * entries of $MINDVIDEO_SCHEMA_PATH (colon separated). They add models and
 * override built-in ones. */
std::vector<std::string> schema_search_path();

/* Path of the schema file of `model` in `dirs`, or "" when none exists.
 * A model name that could escape the directory is never looked up. */
std::string find_schema_file(const std::string& model, const std::vector<std::string>& dirs);

/* The schema text of `model` compiled into the plugin from schemas/ (a
 * GResource), or "" when it has none. The same name rule applies. */
std::string builtin_schema_text(const std::string& model);

/* The models with a built-in schema, sorted. */
std::vector<std::string> builtin_schema_models();

/* The schema of `model`: `<model>.json` in the first of `dirs` that has one,
 * else the built-in one. nullptr with `error` left empty when the model has
 * no schema; nullptr with `error` set when the schema found is unusable.
 * `origin` (optional) gets the file's path, or "built-in". */
std::unique_ptr<ModelSchema> load_schema(const std::string& model, const std::vector<std::string>& dirs,
                                         std::string* error, std::string* origin = nullptr);

}  // namespace mv
