/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A local stand-in for the MindVideo HTTP API, for tests and demos. Prints
 * the API base URL on stdout once both origins listen; logs go to stderr.
 */
#include "emulator.h"

#include "schema.h"

#include <gst/gst.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include <cerrno>
#include <csignal>
#include <cstdio>

namespace {

/* Deletes a directory tree (the temporary media dir). */
void remove_tree(const std::string& path) {
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR) && !g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)) {
    if (GDir* dir = g_dir_open(path.c_str(), 0, nullptr)) {
      while (const char* name = g_dir_read_name(dir)) {
        g_autofree gchar* child = g_build_filename(path.c_str(), name, nullptr);
        remove_tree(child);
      }
      g_dir_close(dir);
    }
    g_rmdir(path.c_str());
  } else {
    g_unlink(path.c_str());
  }
}

int fail(const std::string& message) {
  g_printerr("mindvideo-emulator: %s\n", message.c_str());
  return 2;
}

gboolean on_signal(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop*>(loop));
  return G_SOURCE_CONTINUE;
}

bool make_dir(const std::string& path, std::string* error) {
  if (g_mkdir_with_parents(path.c_str(), 0755) != 0) {
    *error = "cannot create directory " + path + ": " + g_strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gint port = 0, cdn_port = 0;
  gint queued_ms = 300, processing_ms = 1500, fps = 24, bitrate = 2000;
  g_auto(GStrv) keys = nullptr;
  g_auto(GStrv) faults = nullptr;
  g_autofree gchar* schemas = nullptr;
  g_autofree gchar* media_dir = nullptr;
  g_autofree gchar* cache_dir = nullptr;
  g_autofree gchar* image_format = nullptr;
  g_autofree gchar* scenario = nullptr;
  g_autofree gchar* tls_cert = nullptr;
  g_autofree gchar* tls_key = nullptr;
  g_autofree gchar* chaos_seed = nullptr;
  g_autofree gchar* chaos_rates = nullptr;
  gboolean quiet = FALSE;
  gboolean faststart = FALSE, no_ranges = FALSE;
  gint64 download_rate = 0;

  const GOptionEntry entries[] = {
      {"port", 0, 0, G_OPTION_ARG_INT, &port, "API port (0 = pick a free one)", "N"},
      {"cdn-port", 0, 0, G_OPTION_ARG_INT, &cdn_port, "CDN port (0 = pick a free one)", "N"},
      {"key", 0, 0, G_OPTION_ARG_STRING_ARRAY, &keys, "Accepted Bearer key, repeatable (default: mv_test_key)", "KEY"},
      {"schemas", 0, 0, G_OPTION_ARG_FILENAME, &schemas,
       "Schema directory searched before the built-in schemas (default: $MINDVIDEO_SCHEMA_PATH)", "DIR"},
      {"media-dir", 0, 0, G_OPTION_ARG_FILENAME, &media_dir,
       "Where outputs are written (default: a temporary directory removed on exit)", "DIR"},
      {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
       "Reuse generated media across runs, keyed by a hash of the generation parameters", "DIR"},
      {"queued-ms", 0, 0, G_OPTION_ARG_INT, &queued_ms, "Time a new task stays queued (default 300)", "N"},
      {"processing-ms", 0, 0, G_OPTION_ARG_INT, &processing_ms, "Minimum time in processing (default 1500)", "N"},
      {"fps", 0, 0, G_OPTION_ARG_INT, &fps, "Video frame rate (default 24)", "N"},
      {"video-bitrate", 0, 0, G_OPTION_ARG_INT, &bitrate, "x264 bitrate in kbit/s (default 2000)", "N"},
      {"faststart", 0, 0, G_OPTION_ARG_NONE, &faststart,
       "MP4s with the moov atom first (mp4mux faststart=true; default: moov at the end)", nullptr},
      {"download-rate", 0, 0, G_OPTION_ARG_INT64, &download_rate,
       "Send each download response at most N bytes/s (per connection; default 0 = unlimited)", "N"},
      {"no-ranges", 0, 0, G_OPTION_ARG_NONE, &no_ranges,
       "CDN without Range support: answer Range requests with 200 and the whole file, say Accept-Ranges: none",
       nullptr},
      {"image-format", 0, 0, G_OPTION_ARG_STRING, &image_format,
       "Image format for all models: png, jpeg or webp (default: per model)", "F"},
      {"scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario, "JSON file {\"rules\":[...]} of fault rules", "FILE"},
      {"fault", 0, 0, G_OPTION_ARG_STRING_ARRAY, &faults, "One fault rule as JSON, repeatable", "JSON"},
      {"chaos", 0, 0, G_OPTION_ARG_STRING, &chaos_seed,
       "Seeded random faults on every API request and download (see README)", "SEED"},
      {"chaos-rates", 0, 0, G_OPTION_ARG_STRING, &chaos_rates,
       "JSON object overriding the chaos probabilities, as POST /_emulator/chaos takes", "JSON"},
      {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
       "Serve the API over HTTPS with this PEM certificate (needs --tls-key; the CDN stays HTTP)", "FILE"},
      {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key for --tls-cert", "FILE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No per-request log lines on stderr", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- MindVideo API emulator");
  g_option_context_set_summary(context,
                               "Serves the MindVideo task API on 127.0.0.1 and its outputs from a separate CDN origin.\n"
                               "Prints the API base URL on stdout when ready.");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_option_context_add_group(context, gst_init_get_option_group());
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    return fail(error->message);
  if (argc > 1)
    return fail(std::string("unexpected argument: ") + argv[1]);
  gst_init(nullptr, nullptr);

  if (port < 0 || port > 65535 || cdn_port < 0 || cdn_port > 65535)
    return fail("ports must be between 0 and 65535");
  if (port != 0 && port == cdn_port)
    return fail("--port and --cdn-port must differ");
  if (queued_ms < 0 || processing_ms < 0)
    return fail("--queued-ms and --processing-ms must not be negative");
  if (fps < 1 || fps > 240)
    return fail("--fps must be between 1 and 240");
  if (bitrate < 1 || bitrate > 200000)
    return fail("--video-bitrate must be between 1 and 200000 kbit/s");
  if (download_rate < 0 || download_rate > (G_GINT64_CONSTANT(1) << 40))
    return fail("--download-rate must be between 0 (unlimited) and 1099511627776 bytes/s");
  if (image_format && !emu::valid_image_format(image_format))
    return fail("--image-format must be png, jpeg or webp");
  if (!tls_cert != !tls_key)
    return fail("--tls-cert and --tls-key go together");
  /* Loaded here so that a bad file is a usage error (status 2). */
  g_autoptr(GTlsCertificate) tls = nullptr;
  if (tls_cert) {
    g_autoptr(GError) tls_error = nullptr;
    tls = g_tls_certificate_new_from_files(tls_cert, tls_key, &tls_error);
    if (!tls)
      return fail(std::string("--tls-cert/--tls-key: ") + tls_error->message);
  }

  emu::Config config;
  config.queued_ms = queued_ms;
  config.processing_ms = processing_ms;
  config.fps = fps;
  config.video_bitrate_kbps = bitrate;
  config.image_format = image_format ? image_format : "";
  config.faststart = faststart;
  config.download_rate = download_rate;
  config.ranges = !no_ranges;

  emu::FaultList rules;
  std::string err;
  if (scenario) {
    g_autofree gchar* text = nullptr;
    g_autoptr(GError) read_error = nullptr;
    if (!g_file_get_contents(scenario, &text, nullptr, &read_error))
      return fail(std::string("--scenario: ") + read_error->message);
    emu::ojson doc = emu::parse_ojson(text);
    if (doc.is_discarded())
      return fail(std::string("--scenario ") + scenario + ": not valid JSON");
    if (!doc.is_object() || !doc.contains("rules"))
      return fail(std::string("--scenario ") + scenario + ": expected {\"rules\": [...]}");
    if (!rules.add(doc, &err))
      return fail(std::string("--scenario ") + scenario + ": " + err);
  }
  for (gchar** f = faults; f && *f; f++) {
    emu::ojson doc = emu::parse_ojson(*f);
    if (doc.is_discarded())
      return fail(std::string("--fault: not valid JSON: ") + *f);
    if (!rules.add(doc, &err))
      return fail("--fault: " + err);
  }

  if (chaos_rates && !chaos_seed)
    return fail("--chaos-rates needs --chaos SEED");
  if (chaos_seed) {
    gchar* end = nullptr;
    guint64 seed = g_ascii_strtoull(chaos_seed, &end, 10);
    if (!*chaos_seed || *end || chaos_seed[0] == '-')
      return fail(std::string("--chaos: not a seed (a non-negative integer): ") + chaos_seed);
    emu::ojson doc = chaos_rates ? emu::parse_ojson(chaos_rates) : emu::ojson::object();
    if (doc.is_discarded() || !doc.is_object())
      return fail("--chaos-rates: not a JSON object");
    doc["seed"] = seed;
    auto chaos = emu::parse_chaos(doc, &err);
    if (!chaos)
      return fail("--chaos-rates: " + err);
    rules.set_chaos(*chaos);
  }

  emu::Options options;
  for (gchar** k = keys; k && *k; k++) {
    if (!**k)
      return fail("--key must not be empty");
    options.keys.emplace_back(*k);
  }
  if (options.keys.empty())
    options.keys.emplace_back("mv_test_key");
  /* Either way the built-in schemas come after these, as in the element. */
  if (schemas) {
    if (!g_file_test(schemas, G_FILE_TEST_IS_DIR))
      return fail(std::string("--schemas: not a directory: ") + schemas);
    options.schema_dirs.emplace_back(schemas);
  } else {
    options.schema_dirs = mv::schema_search_path();
  }
  if (media_dir) {
    if (!make_dir(media_dir, &err))
      return fail("--media-dir: " + err);
    options.media_dir = media_dir;
  } else {
    g_autoptr(GError) tmp_error = nullptr;
    g_autofree gchar* tmp = g_dir_make_tmp("mindvideo-emulator-XXXXXX", &tmp_error);
    if (!tmp)
      return fail(std::string("cannot create a temporary media directory: ") + tmp_error->message);
    options.media_dir = tmp;
    options.media_dir_is_temp = true;
  }
  if (cache_dir) {
    if (!make_dir(cache_dir, &err))
      return fail("--cache-dir: " + err);
    options.cache_dir = cache_dir;
  }
  options.quiet = quiet;
  const std::string media = options.media_dir;
  const bool media_is_temp = options.media_dir_is_temp;

  /* Writes to a vanished client must fail, not kill the process. */
  signal(SIGPIPE, SIG_IGN);

  int status = 0;
  {
    emu::Emulator emulator(std::move(options), config, std::move(rules));
    if (!emulator.start((guint)port, (guint)cdn_port, tls, &err)) {
      g_printerr("mindvideo-emulator: %s\n", err.c_str());
      status = 1;
    } else {
      g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
      guint sigint = g_unix_signal_add(SIGINT, on_signal, loop);
      guint sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
      printf("%s\n", emulator.api_url().c_str());
      fflush(stdout);
      g_main_loop_run(loop);
      g_source_remove(sigint);
      g_source_remove(sigterm);
    }
    emulator.shutdown();
  }
  if (media_is_temp)
    remove_tree(media);
  return status;
}
