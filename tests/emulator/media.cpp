/* mindvideo-emulator
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "media.h"

#include "gif.h"

#include <gio/gio.h>
#include <gst/gst.h>
#include <glib/gstdio.h>

#include <atomic>
#include <cmath>
#include <cstdio>

namespace emu {

namespace {

const ModelInfo kModels[] = {
    {"veo3-1-quality", Kind::Video, 0.675, nullptr},
    {"veo3-1-fast", Kind::Video, 0.4, nullptr},
    {"gemini-3-1-flash-image-preview", Kind::Image, 0.045, "png"},
    {"gemini-2-5-flash-image-preview-official", Kind::Image, 0.0351, "png"},
    {"gpt-image-2", Kind::Image, 0.0135, "png"},
    {"qwen-image-2-0-pro", Kind::Image, 0.05625, "jpeg"},
};

/* Distinct patterns so that the n images of one task differ visibly. */
const char* const kImagePatterns[] = {"smpte", "pinwheel", "circular", "spokes", "gradient",
                                      "zone-plate", "gamut", "chroma-zone-plate", "checkers-8", "colors"};

std::atomic<bool> g_shutdown{false};

int round_even(double v) {
  long r = std::lround(v / 2.0) * 2;
  return (int)MAX(r, 2);
}

std::string lower(const std::string& s) {
  g_autofree gchar* l = g_ascii_strdown(s.c_str(), -1);
  return l;
}

std::string get_string(const json& input, const char* name) {
  auto it = input.find(name);
  return it != input.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/* "W:H" → ratio; false when not of that form. */
bool parse_ratio(const std::string& s, double* w, double* h) {
  unsigned a = 0, b = 0;
  char tail = 0;
  if (sscanf(s.c_str(), "%u:%u%c", &a, &b, &tail) != 2 || a == 0 || b == 0)
    return false;
  *w = a;
  *h = b;
  return true;
}

/* "WIDTHxHEIGHT" → pixels; false when not of that form. */
bool parse_pixels(const std::string& s, int* w, int* h) {
  unsigned a = 0, b = 0;
  char tail = 0;
  std::string l = lower(s);
  if (sscanf(l.c_str(), "%ux%u%c", &a, &b, &tail) != 2)
    return false;
  *w = (int)a;
  *h = (int)b;
  return true;
}

std::string file_ext(const std::string& format) {
  return format == "jpeg" ? "jpg" : format;
}

std::string overlay_markup(const std::string& text) {
  /* textoverlay parses Pango markup: escape the prompt so '<' or '&' render as text. */
  g_autofree gchar* escaped = g_markup_escape_text(text.c_str(), -1);
  return escaped;
}

/* Runs a parsed pipeline to EOS. Honours media_request_shutdown(). */
bool run_pipeline(GstElement* pipeline, std::string* error) {
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  bool ok = false;
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    *error = "pipeline failed to start";
  while (error->empty()) {
    if (g_shutdown.load()) {
      *error = "emulator is shutting down";
      break;
    }
    g_autoptr(GstMessage) msg =
        gst_bus_timed_pop_filtered(bus, 100 * GST_MSECOND, (GstMessageType)(GST_MESSAGE_ERROR | GST_MESSAGE_EOS));
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
      ok = true;
      break;
    }
    g_autoptr(GError) err = nullptr;
    g_autofree gchar* debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    *error = std::string("Generation failed: ") + (err ? err->message : "unknown pipeline error") + " (" +
             GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) + ")";
  }
  if (error->empty() && !ok)
    *error = "pipeline stopped without EOS";
  /* Drain any error that explains a failed state change. */
  if (!ok && *error == "pipeline failed to start") {
    g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (msg) {
      g_autoptr(GError) err = nullptr;
      gst_message_parse_error(msg, &err, nullptr);
      if (err)
        *error = std::string("Generation failed: ") + err->message;
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return ok;
}

GstElement* parse(const std::string& desc, std::string* error) {
  g_autoptr(GError) err = nullptr;
  GstElement* pipeline = gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!pipeline) {
    *error = std::string("Generation failed: cannot build pipeline: ") + (err ? err->message : "?");
    return nullptr;
  }
  return pipeline;
}

void set_child(GstElement* pipeline, const char* name, const char* prop, const char* value) {
  g_autoptr(GstElement) e = gst_bin_get_by_name(GST_BIN(pipeline), name);
  if (e)
    g_object_set(e, prop, value, nullptr);
}

const char* kOverlay =
    "textoverlay name=text valignment=center halignment=center line-alignment=center "
    "wrap-mode=wordchar shaded-background=true font-desc=\"Sans 20\"";

bool make_mp4(const MediaPlan& plan, const std::string& path, std::string* error) {
  g_autofree gchar* desc = g_strdup_printf(
      "videotestsrc pattern=smpte horizontal-speed=%d num-buffers=%d ! "
      "video/x-raw,width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! %s ! "
      "timeoverlay halignment=right valignment=bottom font-desc=\"Monospace 12\" ! "
      "videoconvert ! video/x-raw,format=I420 ! "
      "x264enc speed-preset=ultrafast bitrate=%d key-int-max=%d ! h264parse ! "
      "mp4mux name=mux ! filesink name=sink",
      MAX(1, plan.width / 320), plan.frames, plan.width, plan.height, plan.fps, kOverlay, plan.bitrate_kbps,
      MAX(1, plan.fps * 2));
  g_autoptr(GstElement) pipeline = parse(desc, error);
  if (!pipeline)
    return false;
  set_child(pipeline, "text", "text", overlay_markup(plan.prompt).c_str());
  set_child(pipeline, "sink", "location", path.c_str());
  if (plan.faststart) {
    /* moov first: mp4mux writes the samples to a temporary file next to the
     * output, then the moov, then copies the samples after it. */
    g_autoptr(GstElement) mux = gst_bin_get_by_name(GST_BIN(pipeline), "mux");
    std::string temp = path + ".faststart";
    g_object_set(mux, "faststart", TRUE, "faststart-file", temp.c_str(), nullptr);
  }
  return run_pipeline(pipeline, error);
}

struct GifSink {
  GifWriter* writer;
  int stride;
};

void on_gif_frame(GstElement*, GstBuffer* buffer, GstPad*, gpointer data) {
  auto* sink = static_cast<GifSink*>(data);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    return;
  sink->writer->add_frame_rgbx(map.data, sink->stride);
  gst_buffer_unmap(buffer, &map);
}

bool make_gif(const MediaPlan& plan, const std::string& path, std::string* error) {
  GifWriter writer;
  if (!writer.open(path, plan.gif_width, plan.gif_height, 100 / plan.gif_fps, error))
    return false;
  g_autofree gchar* desc = g_strdup_printf(
      "videotestsrc pattern=smpte horizontal-speed=%d num-buffers=%d ! "
      "video/x-raw,width=%d,height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! %s ! "
      "videoconvert ! video/x-raw,format=RGBx ! fakesink name=sink signal-handoffs=true sync=false",
      MAX(1, (int)std::lround(2.4 * 24.0 / plan.gif_fps)), plan.gif_frames, plan.gif_width, plan.gif_height,
      plan.gif_fps, kOverlay);
  g_autoptr(GstElement) pipeline = parse(desc, error);
  if (!pipeline)
    return false;
  set_child(pipeline, "text", "text", overlay_markup(plan.prompt).c_str());
  /* RGBx rows are 4-byte aligned by construction, so stride = 4 * width. */
  GifSink sink{&writer, plan.gif_width * 4};
  {
    g_autoptr(GstElement) fakesink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    g_signal_connect(fakesink, "handoff", G_CALLBACK(on_gif_frame), &sink);
  }
  if (!run_pipeline(pipeline, error))
    return false;
  if (writer.frames() != plan.gif_frames) {
    *error = "Generation failed: GIF encoder got " + std::to_string(writer.frames()) + " frames";
    return false;
  }
  return writer.close(error);
}

bool make_image(const MediaPlan& plan, int index, const std::string& path, std::string* error) {
  const char* encoder = plan.format == "jpeg"   ? "jpegenc quality=90"
                        : plan.format == "webp" ? "webpenc"
                                                : "pngenc snapshot=true";
  const char* pattern = kImagePatterns[index % G_N_ELEMENTS(kImagePatterns)];
  g_autofree gchar* desc = g_strdup_printf(
      "videotestsrc pattern=%s num-buffers=1 ! video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 ! %s ! "
      "videoconvert ! %s ! filesink name=sink",
      pattern, plan.width, plan.height, kOverlay, encoder);
  g_autoptr(GstElement) pipeline = parse(desc, error);
  if (!pipeline)
    return false;
  std::string text = plan.prompt;
  text += (text.empty() ? "" : "\n") + std::to_string(index + 1) + "/" + std::to_string(plan.n);
  set_child(pipeline, "text", "text", overlay_markup(text).c_str());
  set_child(pipeline, "sink", "location", path.c_str());
  return run_pipeline(pipeline, error);
}

bool copy_file(const std::string& from, const std::string& to, std::string* error) {
  g_autoptr(GFile) src = g_file_new_for_path(from.c_str());
  g_autoptr(GFile) dst = g_file_new_for_path(to.c_str());
  g_autoptr(GError) err = nullptr;
  if (!g_file_copy(src, dst, G_FILE_COPY_OVERWRITE, nullptr, nullptr, nullptr, &err)) {
    *error = "copy " + from + " failed: " + err->message;
    return false;
  }
  return true;
}

/* Publishes generated files into the cache: copy into a private directory
 * then rename it, so concurrent emulators never see a partial entry. */
void store_in_cache(const std::string& cache_entry, const std::vector<std::string>& files,
                    const std::vector<OutputPlan>& outputs) {
  std::string tmp = cache_entry + ".tmp-" + random_hex(6);
  if (g_mkdir_with_parents(tmp.c_str(), 0755) != 0)
    return;
  std::string error;
  bool ok = true;
  for (size_t i = 0; i < files.size() && ok; i++) {
    g_autofree gchar* dst = g_build_filename(tmp.c_str(), outputs[i].name.c_str(), nullptr);
    ok = copy_file(files[i], dst, &error);
  }
  if (ok && g_rename(tmp.c_str(), cache_entry.c_str()) == 0)
    return;
  /* Failed, or another process won the race: drop our copy. */
  for (const auto& out : outputs) {
    g_autofree gchar* p = g_build_filename(tmp.c_str(), out.name.c_str(), nullptr);
    g_unlink(p);
  }
  g_rmdir(tmp.c_str());
}

}  // namespace

const ModelInfo* find_model(const std::string& slug) {
  for (const auto& m : kModels)
    if (slug == m.slug)
      return &m;
  return nullptr;
}

std::string model_list() {
  std::string out;
  for (const auto& m : kModels)
    out += (out.empty() ? "" : ", ") + std::string(m.slug);
  return out;
}

bool valid_image_format(const std::string& format) {
  return format == "png" || format == "jpeg" || format == "webp";
}

const char* content_type_for(const std::string& format) {
  if (format == "mp4")
    return "video/mp4";
  if (format == "gif")
    return "image/gif";
  if (format == "jpeg")
    return "image/jpeg";
  if (format == "webp")
    return "image/webp";
  if (format == "png")
    return "image/png";
  return "application/octet-stream";
}

std::string MediaPlan::cache_key() const {
  /* Every field that changes the bytes; bump "v1" when the pipelines change. */
  std::string key = "v1|" + std::string(kind == Kind::Video ? "video" : "image") + "|" + prompt + "|" +
                    std::to_string(width) + "x" + std::to_string(height);
  if (kind == Kind::Video)
    key += "|fps=" + std::to_string(fps) + "|frames=" + std::to_string(frames) + "|kbps=" +
           std::to_string(bitrate_kbps) + (faststart ? "|faststart" : "") + "|gif=" +
           (gif ? std::to_string(gif_width) + "x" + std::to_string(gif_height) + "@" + std::to_string(gif_fps) + "/" +
                      std::to_string(gif_frames)
                : std::string("no"));
  else
    key += "|n=" + std::to_string(n) + "|format=" + format;
  return sha256_hex(key);
}

bool plan_media(const ModelInfo& model, const json& input, const Config& config, MediaPlan* plan,
                std::string* error) {
  plan->kind = model.kind;
  plan->prompt = get_string(input, "prompt");
  plan->outputs.clear();
  if (model.kind == Kind::Video) {
    bool portrait = get_string(input, "aspect_ratio") == "9:16";
    std::string res = lower(get_string(input, "resolution"));
    int w = 1280, h = 720;
    if (res == "1080p")
      w = 1920, h = 1080;
    else if (res == "4k")
      w = 3840, h = 2160;
    if (portrait)
      std::swap(w, h);
    double duration = 8;
    auto it = input.find("duration");
    if (it != input.end() && it->is_number() && it->get<double>() > 0)
      duration = it->get<double>();
    if (duration > 300) {
      *error = "duration: at most 300 seconds";
      return false;
    }
    plan->width = w;
    plan->height = h;
    plan->fps = config.fps;
    plan->frames = MAX(1, (int)std::lround(duration * config.fps));
    plan->bitrate_kbps = config.video_bitrate_kbps;
    plan->faststart = config.faststart;
    auto gif = input.find("enable_gif");
    plan->gif = gif != input.end() && gif->is_boolean() && gif->get<bool>();
    plan->gif_width = 320;
    plan->gif_height = round_even(320.0 * h / w);
    plan->gif_fps = MIN(config.fps, 10);
    plan->gif_frames = MAX(1, (int)std::lround(duration * plan->gif_fps));
    plan->outputs.push_back({"output-0.mp4", "mp4"});
    if (plan->gif)
      plan->outputs.push_back({"output-1.gif", "gif"});
    return true;
  }

  plan->n = 1;
  auto n = input.find("n");
  if (n != input.end() && n->is_number_integer() && n->get<long long>() >= 1) {
    if (n->get<long long>() > 10) {
      *error = "n: at most 10 images";
      return false;
    }
    plan->n = (int)n->get<long long>();
  }
  std::string size = get_string(input, "size");
  if (size.empty())
    size = get_string(input, "aspect_ratio");
  std::string res = lower(get_string(input, "resolution"));
  int long_side = res == "0.5k" ? 512 : res == "2k" ? 2048 : res == "4k" ? 4096 : 1024;
  double rw = 1, rh = 1;
  int pw = 0, ph = 0;
  if (parse_pixels(size, &pw, &ph)) {
    if (pw < 16 || ph < 16 || pw > 8192 || ph > 8192) {
      *error = "size: pixel sizes must be between 16 and 8192 on each side";
      return false;
    }
    plan->width = pw;
    plan->height = ph;
  } else {
    if (!size.empty() && size != "auto" && !parse_ratio(size, &rw, &rh)) {
      *error = "size: expected a ratio such as 16:9, a pixel size such as 1881x836, or auto";
      return false;
    }
    if (rw >= rh) {
      plan->width = long_side;
      plan->height = round_even(long_side * rh / rw);
    } else {
      plan->height = long_side;
      plan->width = round_even(long_side * rw / rh);
    }
  }
  plan->format = !config.image_format.empty() ? config.image_format : model.image_format;
  for (int i = 0; i < plan->n; i++)
    plan->outputs.push_back({"output-" + std::to_string(i) + "." + file_ext(plan->format), plan->format});
  return true;
}

double task_cost(const ModelInfo& model, const MediaPlan& plan) {
  double cost = model.kind == Kind::Image ? model.unit_cost * plan.n : model.unit_cost;
  /* Keep prices at a cent fraction without binary noise (0.045 * 3). */
  return std::round(cost * 1e6) / 1e6;
}

bool generate_media(const MediaPlan& plan, const std::string& dir, const std::string& cache_dir,
                    std::vector<std::string>* files, std::string* error) {
  if (g_mkdir_with_parents(dir.c_str(), 0755) != 0) {
    *error = "Generation failed: cannot create " + dir;
    return false;
  }
  files->clear();
  for (const auto& out : plan.outputs) {
    g_autofree gchar* p = g_build_filename(dir.c_str(), out.name.c_str(), nullptr);
    files->push_back(p);
  }

  std::string cache_entry;
  if (!cache_dir.empty()) {
    g_autofree gchar* p = g_build_filename(cache_dir.c_str(), plan.cache_key().c_str(), nullptr);
    cache_entry = p;
    bool hit = g_file_test(cache_entry.c_str(), G_FILE_TEST_IS_DIR);
    for (size_t i = 0; hit && i < files->size(); i++) {
      g_autofree gchar* cached = g_build_filename(cache_entry.c_str(), plan.outputs[i].name.c_str(), nullptr);
      std::string ignored;
      hit = copy_file(cached, (*files)[i], &ignored);
    }
    if (hit)
      return true;
  }

  bool ok = true;
  if (plan.kind == Kind::Video) {
    ok = make_mp4(plan, (*files)[0], error);
    if (ok && plan.gif)
      ok = make_gif(plan, (*files)[1], error);
  } else {
    for (int i = 0; ok && i < plan.n; i++)
      ok = make_image(plan, i, (*files)[i], error);
  }
  if (ok && !cache_entry.empty())
    store_in_cache(cache_entry, *files, plan.outputs);
  return ok;
}

void media_request_shutdown() {
  g_shutdown.store(true);
}

}  // namespace emu
