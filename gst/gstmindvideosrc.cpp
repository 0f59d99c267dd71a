/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-mindvideosrc
 * @title: mindvideosrc
 *
 * mindvideosrc turns a prompt into media. It submits a generation task to
 * the MindVideo API (`POST {api-url}/api/v1/tasks`), polls the task until it
 * ends, downloads the output it produced and streams the bytes downstream,
 * where they can be decoded, transcoded or composited like a file's.
 *
 * Nothing is sent before the pipeline starts streaming: start() does no
 * network I/O, since a submission costs money. Every retry of a submission
 * carries the same Idempotency-Key and the same body, so the server never
 * charges twice for one run. The output is spooled to an unlinked temporary
 * file: memory stays flat whatever its size, BYTES seeks are answered (an MP4
 * with its `moov` atom at the end plays through decodebin) and the download
 * goes on while the pipeline is paused.
 *
 * Progress is posted on the bus as PROGRESS messages (START when the task is
 * submitted, CONTINUE on each status change, then COMPLETE, CANCELED or
 * ERROR) and as an element message named `mindvideo-task` on each status
 * change, with the fields `task-id`, `request-id`, `idempotency-key`,
 * `model`, `status` (strings), `cost-estimate`, `cost-actual` (doubles, -1
 * when unknown), `output-uris` (an array of every output URL, once the task
 * succeeded), `elapsed` (#GstClockTime since the submission) and `resumed`
 * (boolean: the task is one a run that did not finish submitted, picked up
 * through the journal). A tag event
 * before the first buffer carries the prompt as the title and a comment
 * naming the model and the task.
 *
 * The element handles `mindvideo://` URIs, so that playbin, uridecodebin and
 * gst-play-1.0 can play a prompt:
 * `mindvideo://<model>?prompt=<text>&<input field>=<value>&<setting>=<value>`.
 * Query fields become `input` fields, typed as JSON reads them (numbers,
 * true, false and null; values starting with `"`, `{` or `[` are JSON; a
 * repeated field or `field[]` is an array). The settings `output-index`,
 * `idempotency-key`, `task-id`, `poll-interval`, `timeout`,
 * `request-timeout`, `retries` and `max-size` may be given too. The API key
 * and URL never come from a URI: they come from the element or from
 * `MINDVIDEO_API_KEY` and `MINDVIDEO_API_URL`.
 *
 * ## Example launch lines
 * |[
 * export MINDVIDEO_API_KEY=mv_live_...
 * gst-launch-1.0 mindvideosrc model=veo3-1-quality prompt="a red car at sunset" \
 *     input='{"aspect_ratio":"16:9","resolution":"1080p"}' ! decodebin ! videoconvert ! autovideosink
 * ]| Generates a video and shows it.
 * |[
 * gst-launch-1.0 mindvideosrc model=gpt-image-2 prompt="an orange cat on a windowsill" \
 *     input='{"size":"16:9"}' ! decodebin ! videoconvert ! pngenc ! filesink location=cat.png
 * ]| Generates an image and writes it as PNG.
 * |[
 * gst-launch-1.0 mindvideosrc model=veo3-1-quality idempotency-key=3f1c... ! decodebin ! ...
 * ]| Picks up the task submitted earlier with the same key without paying
 * for it again; `task-id=...` attaches to a known task. Without either, the
 * journal (see #GstMindVideoSrc:journal) does the same by itself: running
 * the same pipeline again after a crash resumes the unfinished task.
 * |[
 * gst-play-1.0 "mindvideo://veo3-1-quality?prompt=waves%20at%20dawn&resolution=1080p"
 * ]| Plays a prompt by URI.
 *
 * ## Thread safety notes
 *
 * The element is a shell: a run of it, from start() to stop(), is an
 * mv::Run (gst/mindvideo/run.h), plain C++ that owns the task, the
 * downloads, the spool and the sequencing of several outputs. The element
 * answers GStreamer's questions (properties, session sharing, caps, tags,
 * bus messages) around it.
 *
 * - `settings_lock` guards Settings, the values users write as properties.
 *   start() copies them once into the Run; the streaming thread never reads
 *   them afterwards.
 * - `state_lock` guards State, the values users read back (status, ids,
 *   costs, output URI). The streaming thread writes it, any thread reads it.
 * - `settings_lock` and `state_lock` are never held together, never held
 *   while calling into the Run, and never held while notifying or posting
 *   messages.
 * - Streaming (the Run and what the element keeps about it: caps set, tags
 *   sent) is made in start() and destroyed in stop(), so a run never sees
 *   the leftovers of the one before. Only the key memory outlives it: a
 *   restart of the same request submits with the same Idempotency-Key
 *   (through the journal on disk, or, without one, the in-process memory).
 * - In between, only the streaming thread calls create() and so the Run's
 *   wait() and read(); the Run's observer calls come on that thread too.
 *   unlock() calls Run::interrupt() from any thread (waking HTTP I/O, sleeps
 *   and waits for bytes); unlock_stop() calls Run::resume(). Interruption is
 *   sticky: a wait that starts after unlock() returns at once.
 * - A probe on the source pad tells the Run when EOS leaves, on the
 *   streaming thread: the output was delivered, so its journal entry goes.
 * - The Run's own threads (download, spool writer, event watcher) end
 *   before it is destroyed; see run.h.
 */
#include "gstmindvideosrc.h"

#include "mindvideo/api.h"
#include "mindvideo/http.h"
#include "mindvideo/network.h"
#include "mindvideo/journal.h"
#include "mindvideo/run.h"
#include "mindvideo/uri.h"

#include <gst/base/gsttypefindhelper.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_mind_video_src_debug);
#define GST_CAT_DEFAULT gst_mind_video_src_debug

#define DEFAULT_API_URL "https://api.mindvideo.ai"
#define DEFAULT_OUTPUT_INDEX 0
#define DEFAULT_POLL_INTERVAL 1000
#define DEFAULT_TIMEOUT 1800
#define DEFAULT_REQUEST_TIMEOUT mv::HttpSession::kDefaultIoTimeoutS
#define DEFAULT_RETRIES 5
/* Measured in bench/: 256 KiB blocks stream a spooled file faster than
 * souphttpsrc streams the socket; smaller ones spend the time per buffer. */
#define DEFAULT_BLOCKSIZE (256 * 1024)
/* Generated 4K videos are tens of MB; 4 GiB is far above any, and still
 * stops a hostile or broken host from filling the disk. */
#define DEFAULT_MAX_SIZE (G_GUINT64_CONSTANT(4) << 30)
#define DEFAULT_ALLOW_PLAIN_HTTP FALSE
#define DEFAULT_USER_AGENT "mindvideosrc/" PACKAGE_VERSION
#define DEFAULT_JOURNAL TRUE
/* The GstContext type through which elements share one HTTP session, as
 * souphttpsrc shares its own through "gst.soup.session". */
#define MINDVIDEO_SESSION_CONTEXT "mindvideo.http.session"
/* Enough bytes for every typefinder that matters here (MP4, PNG, JPEG, WebP). */
#define TYPEFIND_BYTES 4096

enum {
  PROP_0,
  PROP_MODEL,
  PROP_PROMPT,
  PROP_INPUT,
  PROP_API_KEY,
  PROP_API_URL,
  PROP_IDEMPOTENCY_KEY,
  PROP_TASK_ID,
  PROP_OUTPUT_INDEX,
  PROP_POLL_INTERVAL,
  PROP_TIMEOUT,
  PROP_REQUEST_TIMEOUT,
  PROP_RETRIES,
  PROP_MAX_SIZE,
  PROP_ALLOW_PLAIN_HTTP,
  PROP_PROXY,
  PROP_PROXY_ID,
  PROP_PROXY_PW,
  PROP_CA_FILE,
  PROP_TLS_DATABASE,
  PROP_USER_AGENT,
  PROP_EXTRA_HEADERS,
  PROP_JOURNAL,
  PROP_STATUS,
  PROP_REQUEST_ID,
  PROP_COST_ESTIMATE,
  PROP_COST_ACTUAL,
  PROP_OUTPUT_URI,
  N_PROPERTIES
};

static GParamSpec* properties[N_PROPERTIES];

namespace {

/* What users write. Empty strings mean "not set". */
struct Settings {
  std::string model;
  std::string prompt;
  std::string input;
  std::string api_key;
  std::string api_url;
  std::string idempotency_key;
  std::string task_id;
  gint output_index = DEFAULT_OUTPUT_INDEX;
  guint poll_interval = DEFAULT_POLL_INTERVAL;
  guint timeout = DEFAULT_TIMEOUT;
  guint request_timeout = DEFAULT_REQUEST_TIMEOUT;
  gint retries = DEFAULT_RETRIES;
  guint64 max_size = DEFAULT_MAX_SIZE;
  gboolean allow_plain_http = DEFAULT_ALLOW_PLAIN_HTTP;
  /* Network (see mv::NetworkSettings). */
  std::string proxy;
  std::string proxy_id;
  std::string proxy_pw;
  std::string ca_file;
  std::shared_ptr<GTlsDatabase> tls_database;
  std::string user_agent;
  std::shared_ptr<GstStructure> extra_headers; /* never changed once set: replaced */
  gboolean journal = DEFAULT_JOURNAL;
};

/* What users read back. */
struct State {
  std::string idempotency_key;
  std::string task_id;
  std::string status;
  std::string request_id;
  std::string output_uri;
  gdouble cost_estimate = -1;
  gdouble cost_actual = -1;
};

std::string env_or(const char* name, const char* fallback) {
  const char* v = g_getenv(name);
  return (v && *v) ? v : fallback;
}

/* The URL's file extension, a hint for typefinding ("mp4", "png", ...). */
std::string url_extension(const std::string& url) {
  g_autoptr(GUri) uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return "";
  std::string path = g_uri_get_path(uri);
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return "";
  return path.substr(dot + 1);
}

/* Loads the typefinders for the API's output types (their plugin takes
 * about 5 ms to load), so that the first buffer after the task succeeds
 * does not wait for them. Once per process. */
void load_typefinders() {
  static std::once_flag once;
  std::call_once(once, [] {
    static const char* const kOutputExtensions[] = {"mp4", "png", "jpg", "webp"};
    GList* factories = gst_type_find_factory_get_list();
    guint count = 0;
    for (GList* l = factories; l; l = l->next) {
      const gchar* const* exts = gst_type_find_factory_get_extensions(GST_TYPE_FIND_FACTORY(l->data));
      for (; exts && *exts; exts++) {
        auto wanted = [&](const char* e) { return g_ascii_strcasecmp(e, *exts) == 0; };
        if (std::any_of(std::begin(kOutputExtensions), std::end(kOutputExtensions), wanted)) {
          if (GstPluginFeature* loaded = gst_plugin_feature_load(GST_PLUGIN_FEATURE(l->data))) {
            gst_object_unref(loaded);
            count++;
          }
          break;
        }
      }
    }
    gst_plugin_feature_list_free(factories);
    GST_INFO("loaded %u typefinders for the API's output types", count);
  });
}

}  // namespace

/* The boxed value a session context carries: a reference to the session. */
struct GstMindVideoSession {
  std::shared_ptr<mv::HttpSession> http;
};

static GstMindVideoSession* gst_mind_video_session_copy(GstMindVideoSession* session) {
  return new GstMindVideoSession{session->http};
}

static void gst_mind_video_session_free(GstMindVideoSession* session) {
  delete session;
}

G_DEFINE_BOXED_TYPE(GstMindVideoSession, gst_mind_video_session, gst_mind_video_session_copy,
                    gst_mind_video_session_free)

/* What the element keeps about one run, from start() to stop(). */
struct Streaming {
  std::unique_ptr<mv::Run> run;
  std::string api_key; /* resolved, for redacting texts we post */
  std::string model;
  std::string prompt;                /* as sent, for the title tag */
  GstClockTime started_at = 0;       /* submission or attach, for "elapsed" */
  bool tagged = false;               /* tag event sent */
  std::optional<size_t> typed;       /* the output whose caps are set */
  std::atomic<bool> progress_open{false};
};

struct GstMindVideoSrcPrivate final : public mv::RunObserver {
  explicit GstMindVideoSrcPrivate(GstMindVideoSrc* s) : self(s) {}

  GstMindVideoSrc* self;

  std::mutex settings_lock;
  Settings settings;
  std::shared_ptr<mv::HttpSession> context_http; /* from a GstContext; under settings_lock */

  std::mutex state_lock;
  State state;

  /* Outlives runs: which key a restart of the same request reuses. */
  mv::KeyMemory keys;
  std::unique_ptr<Streaming> streaming;

  /* mv::RunObserver, called on the streaming thread. */
  void on_start(const std::string& task_id) override;
  void on_task(const mv::TaskInfo& task, bool changed) override;
  void on_warning(const std::string& message) override;
  void on_ready(const mv::TaskInfo& task) override;
  void on_output(size_t index, const std::string& url) override;

  void post_progress(GstProgressType type, const std::string& text);
  std::shared_ptr<mv::HttpSession> use_session(const mv::NetworkSettings& network);
  void send_tags();
  void post_task_message(const mv::TaskInfo& task);
  void post_error(const mv::Error& error);
  GstFlowReturn wait_bytes(guint64 offset, guint64 want, uint64_t* available);
  GstFlowReturn set_type();
  void finish_buffer(GstBuffer* buf, guint64 offset);
  void notify(std::initializer_list<int> props);
};

struct _GstMindVideoSrc {
  GstBaseSrc parent;
  GstMindVideoSrcPrivate* priv;
};

static void gst_mind_video_src_finalize(GObject* object);
static void gst_mind_video_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                            GParamSpec* pspec);
static void gst_mind_video_src_get_property(GObject* object, guint prop_id, GValue* value,
                                            GParamSpec* pspec);
static gboolean gst_mind_video_src_start(GstBaseSrc* bsrc);
static gboolean gst_mind_video_src_stop(GstBaseSrc* bsrc);
static gboolean gst_mind_video_src_unlock(GstBaseSrc* bsrc);
static gboolean gst_mind_video_src_unlock_stop(GstBaseSrc* bsrc);
static gboolean gst_mind_video_src_get_size(GstBaseSrc* bsrc, guint64* size);
static gboolean gst_mind_video_src_is_seekable(GstBaseSrc* bsrc);
static gboolean gst_mind_video_src_decide_allocation(GstBaseSrc* bsrc, GstQuery* query);
static GstFlowReturn gst_mind_video_src_create(GstBaseSrc* bsrc, guint64 offset, guint length, GstBuffer** buf);

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void gst_mind_video_src_uri_handler_init(gpointer g_iface, gpointer iface_data);
static void gst_mind_video_src_set_context(GstElement* element, GstContext* context);

#define gst_mind_video_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstMindVideoSrc, gst_mind_video_src, GST_TYPE_BASE_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_mind_video_src_uri_handler_init));
/* PRIMARY, so that playbin, uridecodebin and gst-play pick it for mindvideo://. */
GST_ELEMENT_REGISTER_DEFINE(mindvideosrc, "mindvideosrc", GST_RANK_PRIMARY, GST_TYPE_MIND_VIDEO_SRC);

static void gst_mind_video_src_class_init(GstMindVideoSrcClass* klass) {
  GObjectClass* gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass* basesrc_class = GST_BASE_SRC_CLASS(klass);

  gobject_class->finalize = gst_mind_video_src_finalize;
  gobject_class->set_property = gst_mind_video_src_set_property;
  gobject_class->get_property = gst_mind_video_src_get_property;

  const auto rw = (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto ro = (GParamFlags)(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  const auto wo = (GParamFlags)(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  /**
   * GstMindVideoSrc:model:
   *
   * The platform slug of the model, e.g. `veo3-1-quality` or `gpt-image-2`.
   * Required, unless #GstMindVideoSrc:task-id attaches to an existing task.
   */
  properties[PROP_MODEL] = g_param_spec_string(
      "model", "Model", "Model slug, e.g. veo3-1-quality or gpt-image-2 (required)", nullptr, rw);
  /**
   * GstMindVideoSrc:prompt:
   *
   * The text prompt. Required unless #GstMindVideoSrc:input holds a
   * `prompt` field; when both are set, this property wins.
   */
  properties[PROP_PROMPT] = g_param_spec_string(
      "prompt", "Prompt", "Text prompt (required unless input holds one; this property wins)", nullptr, rw);
  /**
   * GstMindVideoSrc:input:
   *
   * The rest of the model input as a JSON object text, e.g.
   * `{"aspect_ratio":"16:9","resolution":"1080p"}`. Sent as given, merged
   * with the prompt; no defaults are added.
   */
  properties[PROP_INPUT] = g_param_spec_string(
      "input", "Input",
      "Other model input fields as a JSON object, e.g. {\"aspect_ratio\":\"16:9\"}; sent as given", nullptr,
      rw);
  /**
   * GstMindVideoSrc:api-key:
   *
   * The API key, sent as `Authorization: Bearer` to the API origin only.
   * Write-only, so it cannot be read back or printed. When unset, the
   * `MINDVIDEO_API_KEY` environment variable is used.
   */
  properties[PROP_API_KEY] = g_param_spec_string(
      "api-key", "API key",
      "MindVideo API key (write-only; default: $MINDVIDEO_API_KEY). Sent only to api-url", nullptr, wo);
  /**
   * GstMindVideoSrc:api-url:
   *
   * Base URL of the API; requests go to `{api-url}/api/v1/tasks...`. The
   * `MINDVIDEO_API_URL` environment variable overrides the default.
   */
  properties[PROP_API_URL] = g_param_spec_string(
      "api-url", "API URL", "Base URL of the MindVideo API (default: $MINDVIDEO_API_URL, else " DEFAULT_API_URL ")",
      DEFAULT_API_URL, rw);
  /**
   * GstMindVideoSrc:idempotency-key:
   *
   * The Idempotency-Key of the submission, sent with every retry of it.
   * When unset, a fresh UUIDv4 is made for the run and can be read back
   * once the task is submitted; until the output is delivered, the journal
   * (#GstMindVideoSrc:journal) keeps it, so that running the same request
   * again, in this process or another after a crash, picks up the task
   * already paid for (without the journal, only a restart of this element
   * does). Running again with the same key does the same. Not used with
   * #GstMindVideoSrc:task-id.
   */
  properties[PROP_IDEMPOTENCY_KEY] = g_param_spec_string(
      "idempotency-key", "Idempotency key",
      "Idempotency-Key of the submission (default: a fresh UUIDv4 per run, kept across restarts of the same "
      "request, readable after submission)",
      nullptr, rw);
  /**
   * GstMindVideoSrc:task-id:
   *
   * Written: attach to this existing task, with no submission. Read: the id
   * of the current task.
   */
  properties[PROP_TASK_ID] = g_param_spec_string(
      "task-id", "Task ID", "Write: attach to an existing task without submitting; read: the current task's id",
      nullptr, rw);
  /**
   * GstMindVideoSrc:output-index:
   *
   * Which output of the task to stream, counting every entry of
   * `output.videos[]`, `output.images[]`... in the order the API lists them.
   * -1 streams all of them one after another: each output starts with a
   * DISCONT buffer (and new caps if its type differs), so that
   * `multifilesink next-file=discont` writes each to a file of its own. That
   * stream is not seekable.
   */
  properties[PROP_OUTPUT_INDEX] = g_param_spec_int(
      "output-index", "Output index",
      "Which output of the task (output.videos[] / output.images[]) to stream; -1 = all, one after another, each "
      "starting with a DISCONT buffer",
      -1, G_MAXINT, DEFAULT_OUTPUT_INDEX, rw);
  /**
   * GstMindVideoSrc:poll-interval:
   *
   * Milliseconds between two status requests while the task runs. Failing
   * requests back off beyond it, up to 8 s. When the API pushes the task's
   * events as a Server-Sent Events stream, each event triggers a status
   * request at once, and polls only go out five times less often, as a
   * safety net.
   */
  properties[PROP_POLL_INTERVAL] = g_param_spec_uint(
      "poll-interval", "Poll interval", "Milliseconds between status requests", 50, G_MAXUINT,
      DEFAULT_POLL_INTERVAL, rw);
  /**
   * GstMindVideoSrc:timeout:
   *
   * Seconds allowed from the submission (or attachment) until the task has
   * ended. Past it the element posts an error naming the task id and the
   * idempotency key, with which a later run picks the task up unpaid. 0
   * waits for ever. The download has no deadline of its own.
   */
  properties[PROP_TIMEOUT] = g_param_spec_uint(
      "timeout", "Timeout", "Seconds allowed from submission until the task has ended (0 = no limit)", 0,
      G_MAXUINT, DEFAULT_TIMEOUT, rw);
  /**
   * GstMindVideoSrc:request-timeout:
   *
   * Seconds an HTTP request may wait for the network (connecting, or
   * between two reads) before it fails and is retried. Elements with the
   * default share one HTTP session in the process.
   */
  properties[PROP_REQUEST_TIMEOUT] = g_param_spec_uint(
      "request-timeout", "Request timeout", "Seconds an HTTP request may wait for the network before it fails",
      1, 3600, DEFAULT_REQUEST_TIMEOUT, rw);
  /**
   * GstMindVideoSrc:retries:
   *
   * How many times a request that failed for a passing reason (network
   * error, timeout, HTTP 408, 429 or 5xx) is tried again: the submission
   * (always with the same Idempotency-Key and body) and downloads that make
   * no progress. Polls are retried until the timeout regardless. -1 retries
   * for ever.
   */
  properties[PROP_RETRIES] = g_param_spec_int(
      "retries", "Retries", "Retries of a request that failed for a passing reason (-1 = forever)", -1,
      G_MAXINT, DEFAULT_RETRIES, rw);
  /**
   * GstMindVideoSrc:max-size:
   *
   * The largest output accepted, in bytes, announced or not: a larger one is
   * an error rather than a full disk. 0 accepts any size.
   */
  properties[PROP_MAX_SIZE] = g_param_spec_uint64(
      "max-size", "Maximum size", "Largest output accepted, in bytes (0 = no limit)", 0, G_MAXUINT64,
      DEFAULT_MAX_SIZE, rw);
  /**
   * GstMindVideoSrc:allow-plain-http:
   *
   * The API key is only sent over https, or over plain http to a loopback
   * host (the emulator, a local proxy). Set this to send it over plain http
   * to any other host, on a network you trust.
   */
  properties[PROP_ALLOW_PLAIN_HTTP] = g_param_spec_boolean(
      "allow-plain-http", "Allow plain HTTP",
      "Send the API key over plain http:// to a host that is not loopback (default: refused)",
      DEFAULT_ALLOW_PLAIN_HTTP, rw);
  /**
   * GstMindVideoSrc:proxy:
   *
   * The proxy for every request of this element, to the API and to output
   * hosts alike: `http://host:port` (a bare `host:port` means http),
   * `https://`, `socks4://`, `socks4a://` or `socks5://`. When set, it
   * overrides the environment (`no_proxy` included). When unset,
   * `http_proxy`, `https_proxy` and `no_proxy` from the environment apply,
   * through GLib's default proxy resolver. https requests go through the
   * proxy with CONNECT, so the proxy never sees the API key. Credentials
   * may be in the URI (`http://user:pw@host:port`) when
   * #GstMindVideoSrc:proxy-id is unset; the property reads back without
   * the password.
   */
  properties[PROP_PROXY] = g_param_spec_string(
      "proxy", "Proxy",
      "Proxy URI for every request (http://, socks5://...; default: from http_proxy/https_proxy/no_proxy)", nullptr,
      rw);
  /**
   * GstMindVideoSrc:proxy-id:
   *
   * The user name for the proxy, be it #GstMindVideoSrc:proxy or a proxy
   * from the environment: HTTP Basic authentication (sent up front on
   * plain http, in answer to the CONNECT's 407 on https), the SOCKS5 user
   * name, or the SOCKS4 user id.
   */
  properties[PROP_PROXY_ID] = g_param_spec_string(
      "proxy-id", "Proxy user name", "User name for proxy authentication", nullptr, rw);
  /**
   * GstMindVideoSrc:proxy-pw:
   *
   * The password for the proxy. Write-only, and never logged, like
   * #GstMindVideoSrc:api-key.
   */
  properties[PROP_PROXY_PW] = g_param_spec_string(
      "proxy-pw", "Proxy password", "Password for proxy authentication (write-only)", nullptr, wo);
  /**
   * GstMindVideoSrc:ca-file:
   *
   * A PEM file of CA certificates to trust for this element's connections,
   * instead of the system's: for a TLS-inspecting gateway, or an API with a
   * private CA. Certificates are always verified; a host whose certificate
   * is not signed by one of these CAs is refused.
   */
  properties[PROP_CA_FILE] = g_param_spec_string(
      "ca-file", "CA file", "PEM file of CA certificates to trust instead of the system's", nullptr, rw);
  /**
   * GstMindVideoSrc:tls-database:
   *
   * A #GTlsDatabase to verify certificates with, for applications (as
   * souphttpsrc's). Not together with #GstMindVideoSrc:ca-file.
   */
  properties[PROP_TLS_DATABASE] = g_param_spec_object(
      "tls-database", "TLS database", "TLS database with the CAs to trust (default: the system's)",
      G_TYPE_TLS_DATABASE, rw);
  /**
   * GstMindVideoSrc:user-agent:
   *
   * The User-Agent sent to the API and to output hosts.
   */
  properties[PROP_USER_AGENT] = g_param_spec_string(
      "user-agent", "User-Agent", "User-Agent sent to the API and to output hosts", DEFAULT_USER_AGENT, rw);
  /**
   * GstMindVideoSrc:extra-headers:
   *
   * Headers to add to every request to the API origin, as a structure whose
   * fields are the header names, e.g. `extra-headers="headers,
   * X-Gateway-Token=abc"` (the structure's name does not matter). Values
   * are strings or anything that converts to one; an array becomes one
   * header with its values separated by commas. They are never sent to
   * output hosts. `Authorization`, `Idempotency-Key`, `Content-Type` and
   * `Host` may not be set this way: starting fails with a settings error.
   */
  properties[PROP_EXTRA_HEADERS] = g_param_spec_boxed(
      "extra-headers", "Extra headers", "Extra headers for the API requests only (not for output hosts)",
      GST_TYPE_STRUCTURE, rw);
  /**
   * GstMindVideoSrc:journal:
   *
   * Whether to keep the Idempotency-Key of each paid request in a journal on
   * disk until its output is delivered, so that running the same pipeline
   * again after a crash (kill -9, an OOM kill, a reboot) picks up the task
   * already paid for instead of paying again. The journal lives in
   * `$XDG_STATE_HOME/mindvideo/` (default `~/.local/state/mindvideo/`), one
   * file per unfinished request, mode 0600: a hash of api-url, model and
   * request body, the key, when it was made, the task id and status; never
   * the API key or the prompt. An entry is resumed for 24 hours. Not used
   * when #GstMindVideoSrc:idempotency-key or #GstMindVideoSrc:task-id is set.
   * A state directory that cannot be written gives a warning and the run
   * goes on without a journal. Without it, only a restart of the element in
   * the same process reuses the key.
   */
  properties[PROP_JOURNAL] = g_param_spec_boolean(
      "journal", "Journal",
      "Keep each paid request's idempotency key in $XDG_STATE_HOME/mindvideo until its output is delivered, so "
      "that a rerun after a crash does not pay again",
      DEFAULT_JOURNAL, rw);
  /**
   * GstMindVideoSrc:status:
   *
   * The task's status as the API last reported it: `queued`, `processing`,
   * `succeeded`, `failed`, `cancelled`, or another string the platform may
   * add. Notified on each change, from the streaming thread.
   */
  properties[PROP_STATUS] = g_param_spec_string(
      "status", "Status", "Task status: queued, processing, succeeded, failed or cancelled", nullptr, ro);
  /**
   * GstMindVideoSrc:request-id:
   *
   * The request id the API gave the task, for support requests.
   */
  properties[PROP_REQUEST_ID] =
      g_param_spec_string("request-id", "Request ID", "Request id the API gave the task", nullptr, ro);
  /**
   * GstMindVideoSrc:cost-estimate:
   *
   * The cost the API estimated for the task, -1 until it said.
   */
  properties[PROP_COST_ESTIMATE] = g_param_spec_double(
      "cost-estimate", "Cost estimate", "Estimated cost the API reported (-1 = not known yet)", -1, G_MAXDOUBLE,
      -1, ro);
  /**
   * GstMindVideoSrc:cost-actual:
   *
   * The cost the API charged, -1 until it said (usually once the task
   * succeeded).
   */
  properties[PROP_COST_ACTUAL] = g_param_spec_double(
      "cost-actual", "Actual cost", "Actual cost the API reported (-1 = not known yet)", -1, G_MAXDOUBLE, -1, ro);
  /**
   * GstMindVideoSrc:output-uri:
   *
   * The URL of the output being downloaded and streamed.
   */
  properties[PROP_OUTPUT_URI] =
      g_param_spec_string("output-uri", "Output URI", "URL of the output being streamed", nullptr, ro);
  g_object_class_install_properties(gobject_class, N_PROPERTIES, properties);

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "MindVideo AI generation source", "Source/Network",
      "Generates video or images with the MindVideo API from a prompt and streams the result",
      "mindvideosrc developers <dev@mindvideosrc.invalid>");

  element_class->set_context = GST_DEBUG_FUNCPTR(gst_mind_video_src_set_context);
  basesrc_class->start = GST_DEBUG_FUNCPTR(gst_mind_video_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR(gst_mind_video_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR(gst_mind_video_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_mind_video_src_unlock_stop);
  basesrc_class->get_size = GST_DEBUG_FUNCPTR(gst_mind_video_src_get_size);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR(gst_mind_video_src_is_seekable);
  basesrc_class->create = GST_DEBUG_FUNCPTR(gst_mind_video_src_create);
  basesrc_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_mind_video_src_decide_allocation);

  GST_DEBUG_CATEGORY_INIT(gst_mind_video_src_debug, "mindvideosrc", 0, "MindVideo AI generation source");
}

/* EOS leaving the source pad, on the streaming thread: the run learns that
 * its output was delivered (and drops its journal entry). */
static GstPadProbeReturn gst_mind_video_src_eos_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  GstMindVideoSrcPrivate* priv = static_cast<GstMindVideoSrc*>(data)->priv;
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS && priv->streaming)
    priv->streaming->run->eos();
  return GST_PAD_PROBE_OK;
}

static void gst_mind_video_src_init(GstMindVideoSrc* self) {
  self->priv = new GstMindVideoSrcPrivate(self);
  gst_pad_add_probe(GST_BASE_SRC_PAD(self), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, gst_mind_video_src_eos_probe, self,
                    nullptr);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_BYTES);
  /* The size is learned mid-stream, from the download's headers. */
  gst_base_src_set_dynamic_size(GST_BASE_SRC(self), TRUE);
  gst_base_src_set_blocksize(GST_BASE_SRC(self), DEFAULT_BLOCKSIZE);
}

static void gst_mind_video_src_finalize(GObject* object) {
  GstMindVideoSrc* self = GST_MIND_VIDEO_SRC(object);
  delete self->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void set_string(std::string* field, const GValue* value) {
  const gchar* s = g_value_get_string(value);
  *field = s ? s : "";
}

static void gst_mind_video_src_set_property(GObject* object, guint prop_id, const GValue* value,
                                            GParamSpec* pspec) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(object)->priv;
  std::lock_guard<std::mutex> guard(priv->settings_lock);
  Settings& s = priv->settings;
  switch (prop_id) {
    case PROP_MODEL: set_string(&s.model, value); break;
    case PROP_PROMPT: set_string(&s.prompt, value); break;
    case PROP_INPUT: set_string(&s.input, value); break;
    case PROP_API_KEY: set_string(&s.api_key, value); break;
    case PROP_API_URL: set_string(&s.api_url, value); break;
    case PROP_IDEMPOTENCY_KEY: set_string(&s.idempotency_key, value); break;
    case PROP_TASK_ID: set_string(&s.task_id, value); break;
    case PROP_OUTPUT_INDEX: s.output_index = g_value_get_int(value); break;
    case PROP_POLL_INTERVAL: s.poll_interval = g_value_get_uint(value); break;
    case PROP_TIMEOUT: s.timeout = g_value_get_uint(value); break;
    case PROP_REQUEST_TIMEOUT: s.request_timeout = g_value_get_uint(value); break;
    case PROP_RETRIES: s.retries = g_value_get_int(value); break;
    case PROP_MAX_SIZE: s.max_size = g_value_get_uint64(value); break;
    case PROP_ALLOW_PLAIN_HTTP: s.allow_plain_http = g_value_get_boolean(value); break;
    case PROP_PROXY: set_string(&s.proxy, value); break;
    case PROP_PROXY_ID: set_string(&s.proxy_id, value); break;
    case PROP_PROXY_PW: set_string(&s.proxy_pw, value); break;
    case PROP_CA_FILE: set_string(&s.ca_file, value); break;
    case PROP_TLS_DATABASE: s.tls_database = mv::tls_database_ref(G_TLS_DATABASE(g_value_get_object(value))); break;
    case PROP_USER_AGENT: set_string(&s.user_agent, value); break;
    case PROP_EXTRA_HEADERS: {
      const GstStructure* headers = gst_value_get_structure(value);
      s.extra_headers.reset(headers ? gst_structure_copy(headers) : nullptr,
                            [](GstStructure* h) { if (h) gst_structure_free(h); });
      break;
    }
    case PROP_JOURNAL: s.journal = g_value_get_boolean(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_mind_video_src_get_property(GObject* object, guint prop_id, GValue* value,
                                            GParamSpec* pspec) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(object)->priv;
  auto str = [value](const std::string& v) { g_value_set_string(value, v.empty() ? nullptr : v.c_str()); };
  switch (prop_id) {
    case PROP_IDEMPOTENCY_KEY:
    case PROP_TASK_ID: {
      /* The run's value once there is one, else what the user set. */
      std::string current;
      {
        std::lock_guard<std::mutex> guard(priv->state_lock);
        current = prop_id == PROP_TASK_ID ? priv->state.task_id : priv->state.idempotency_key;
      }
      if (current.empty()) {
        std::lock_guard<std::mutex> guard(priv->settings_lock);
        current = prop_id == PROP_TASK_ID ? priv->settings.task_id : priv->settings.idempotency_key;
      }
      str(current);
      return;
    }
    case PROP_STATUS:
    case PROP_REQUEST_ID:
    case PROP_COST_ESTIMATE:
    case PROP_COST_ACTUAL:
    case PROP_OUTPUT_URI: {
      std::lock_guard<std::mutex> guard(priv->state_lock);
      const State& st = priv->state;
      if (prop_id == PROP_STATUS) str(st.status);
      else if (prop_id == PROP_REQUEST_ID) str(st.request_id);
      else if (prop_id == PROP_OUTPUT_URI) str(st.output_uri);
      else g_value_set_double(value, prop_id == PROP_COST_ESTIMATE ? st.cost_estimate : st.cost_actual);
      return;
    }
    default:
      break;
  }
  std::lock_guard<std::mutex> guard(priv->settings_lock);
  const Settings& s = priv->settings;
  switch (prop_id) {
    case PROP_MODEL: str(s.model); break;
    case PROP_PROMPT: str(s.prompt); break;
    case PROP_INPUT: str(s.input); break;
    case PROP_API_URL: str(s.api_url.empty() ? env_or("MINDVIDEO_API_URL", DEFAULT_API_URL) : s.api_url); break;
    case PROP_OUTPUT_INDEX: g_value_set_int(value, s.output_index); break;
    case PROP_POLL_INTERVAL: g_value_set_uint(value, s.poll_interval); break;
    case PROP_TIMEOUT: g_value_set_uint(value, s.timeout); break;
    case PROP_REQUEST_TIMEOUT: g_value_set_uint(value, s.request_timeout); break;
    case PROP_RETRIES: g_value_set_int(value, s.retries); break;
    case PROP_MAX_SIZE: g_value_set_uint64(value, s.max_size); break;
    case PROP_ALLOW_PLAIN_HTTP: g_value_set_boolean(value, s.allow_plain_http); break;
    case PROP_PROXY: str(mv::proxy_without_password(s.proxy)); break; /* a password in it is a secret */
    case PROP_PROXY_ID: str(s.proxy_id); break;
    case PROP_CA_FILE: str(s.ca_file); break;
    case PROP_TLS_DATABASE: g_value_set_object(value, s.tls_database.get()); break;
    case PROP_USER_AGENT: str(s.user_agent.empty() ? DEFAULT_USER_AGENT : s.user_agent); break;
    case PROP_EXTRA_HEADERS: gst_value_set_structure(value, s.extra_headers.get()); break;
    case PROP_JOURNAL: g_value_set_boolean(value, s.journal); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

void GstMindVideoSrcPrivate::notify(std::initializer_list<int> props) {
  for (int p : props)
    g_object_notify_by_pspec(G_OBJECT(self), properties[p]);
}

void GstMindVideoSrcPrivate::post_progress(GstProgressType type, const std::string& text) {
  streaming->progress_open = type == GST_PROGRESS_TYPE_START || type == GST_PROGRESS_TYPE_CONTINUE;
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_progress(GST_OBJECT(self), type, "task",
                                                    mv::redact(text, streaming->api_key).c_str()));
}

void GstMindVideoSrcPrivate::post_task_message(const mv::TaskInfo& task) {
  State st;
  {
    std::lock_guard<std::mutex> guard(state_lock);
    st = state;
  }
  GstStructure* s = gst_structure_new(
      "mindvideo-task", "task-id", G_TYPE_STRING, st.task_id.c_str(), "request-id", G_TYPE_STRING,
      st.request_id.c_str(), "idempotency-key", G_TYPE_STRING, st.idempotency_key.c_str(), "model",
      G_TYPE_STRING, streaming->model.c_str(), "status", G_TYPE_STRING, st.status.c_str(), "cost-estimate",
      G_TYPE_DOUBLE, st.cost_estimate, "cost-actual", G_TYPE_DOUBLE, st.cost_actual, "elapsed", G_TYPE_UINT64,
      (guint64)GST_CLOCK_DIFF(streaming->started_at, gst_util_get_timestamp()), "resumed", G_TYPE_BOOLEAN,
      (gboolean)(streaming->run->resumed() != nullptr), nullptr);
  /* Every output the task lists, in order (empty until it succeeded). */
  GValue uris = G_VALUE_INIT;
  gst_value_array_init(&uris, task.outputs.size());
  for (const auto& output : task.outputs) {
    GValue uri = G_VALUE_INIT;
    g_value_init(&uri, G_TYPE_STRING);
    g_value_set_string(&uri, output.url.c_str());
    gst_value_array_append_and_take_value(&uris, &uri);
  }
  gst_structure_take_value(s, "output-uris", &uris);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

void GstMindVideoSrcPrivate::on_start(const std::string& task_id) {
  streaming->started_at = gst_util_get_timestamp();
  if (!task_id.empty()) {
    GST_INFO_OBJECT(self, "attaching to task %s", task_id.c_str());
    post_progress(GST_PROGRESS_TYPE_START, "Attaching to task " + task_id);
    return;
  }
  std::string key;
  {
    std::lock_guard<std::mutex> guard(state_lock);
    key = state.idempotency_key;
  }
  if (const mv::JournalEntry* resumed = streaming->run->resumed()) {
    const std::string when = mv::journal_time_text(resumed->created_s);
    GST_INFO_OBJECT(self, "resuming with idempotency key %s from the journal", key.c_str());
    post_progress(GST_PROGRESS_TYPE_START,
                  resumed->task_id.empty()
                      ? "Resuming the submission made at " + when +
                            " by a run that did not finish (idempotency-key " + key +
                            "): the server hands back its task if it got it"
                      : "Resuming task " + resumed->task_id + ", submitted at " + when +
                            " by a run that did not finish (idempotency-key " + key + ")");
  } else {
    GST_INFO_OBJECT(self, "submitting with idempotency key %s", key.c_str());
    post_progress(GST_PROGRESS_TYPE_START,
                  "Submitting a task to model " + streaming->model + " (idempotency-key " + key + ")");
  }
  notify({PROP_IDEMPOTENCY_KEY});
}

void GstMindVideoSrcPrivate::on_task(const mv::TaskInfo& task, bool changed) {
  if (!mv::status_is_terminal(task.status))
    load_typefinders(); /* while the task runs, not after it succeeds */
  bool new_id, new_request, new_estimate, new_actual;
  {
    std::lock_guard<std::mutex> guard(state_lock);
    State& st = state;
    new_id = st.task_id != task.task_id;
    new_request = st.request_id != task.request_id;
    gdouble estimate = task.cost_estimate.value_or(-1), actual = task.cost_actual.value_or(-1);
    new_estimate = st.cost_estimate != estimate;
    new_actual = st.cost_actual != actual;
    st.task_id = task.task_id;
    st.request_id = task.request_id;
    st.status = task.status_text;
    st.cost_estimate = estimate;
    st.cost_actual = actual;
  }
  if (new_id) notify({PROP_TASK_ID});
  if (new_request) notify({PROP_REQUEST_ID});
  if (new_estimate) notify({PROP_COST_ESTIMATE});
  if (new_actual) notify({PROP_COST_ACTUAL});
  if (!changed)
    return;
  if (task.status == mv::TaskStatus::Unknown)
    GST_WARNING_OBJECT(self, "task %s has a status this element does not know: '%s'; still waiting",
                       task.task_id.c_str(), task.status_text.c_str());
  else
    GST_INFO_OBJECT(self, "task %s is %s", task.task_id.c_str(), task.status_text.c_str());
  notify({PROP_STATUS});
  post_progress(GST_PROGRESS_TYPE_CONTINUE, "Task " + task.task_id + ": " + task.status_text);
  post_task_message(task);
}

void GstMindVideoSrcPrivate::on_warning(const std::string& message) {
  std::string text = mv::redact(message, streaming->api_key);
  GST_ELEMENT_WARNING(self, RESOURCE, READ, ("%s", text.c_str()), (nullptr));
}

void GstMindVideoSrcPrivate::on_ready(const mv::TaskInfo& task) {
  post_progress(GST_PROGRESS_TYPE_COMPLETE, "Task " + task.task_id + " succeeded; downloading its output");
}

void GstMindVideoSrcPrivate::on_output(size_t index, const std::string& url) {
  {
    std::lock_guard<std::mutex> guard(state_lock);
    state.output_uri = url;
  }
  notify({PROP_OUTPUT_URI});
  GST_INFO_OBJECT(self, "streaming output %zu", index);
  streaming->typed.reset();
}

void GstMindVideoSrcPrivate::post_error(const mv::Error& error) {
  GstResourceError code;
  switch (error.kind) {
    case mv::Error::Kind::Settings: code = GST_RESOURCE_ERROR_SETTINGS; break;
    case mv::Error::Kind::NotAuthorized: code = GST_RESOURCE_ERROR_NOT_AUTHORIZED; break;
    case mv::Error::Kind::NotFound: code = GST_RESOURCE_ERROR_NOT_FOUND; break;
    case mv::Error::Kind::OpenRead: code = GST_RESOURCE_ERROR_OPEN_READ; break;
    case mv::Error::Kind::Read: code = GST_RESOURCE_ERROR_READ; break;
    case mv::Error::Kind::Write: code = GST_RESOURCE_ERROR_WRITE; break;
    case mv::Error::Kind::Failed:
    default: code = GST_RESOURCE_ERROR_FAILED; break;
  }
  std::string key;
  {
    std::lock_guard<std::mutex> guard(state_lock);
    key = state.idempotency_key;
  }
  const std::string& api_key = streaming->api_key;
  std::string text = mv::redact(error.message, api_key);
  std::string task_id = mv::redact(error.task_id, api_key);
  std::string status = mv::redact(error.status, api_key);
  gchar* debug = g_strdup_printf("task-id=%s status=%s http-status-code=%u idempotency-key=%s",
                                 task_id.c_str(), status.c_str(), error.http_status, key.c_str());
  GstStructure* details = gst_structure_new(
      "details", "task-id", G_TYPE_STRING, task_id.c_str(), "status", G_TYPE_STRING, status.c_str(),
      "http-status-code", G_TYPE_UINT, error.http_status, "idempotency-key", G_TYPE_STRING, key.c_str(), nullptr);
  GST_WARNING_OBJECT(self, "error: %s (%s)", text.c_str(), debug);
  if (streaming->progress_open)
    post_progress(GST_PROGRESS_TYPE_ERROR, text);
  gst_element_message_full_with_details(GST_ELEMENT(self), GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, code,
                                        g_strdup(text.c_str()), debug, __FILE__, GST_FUNCTION, __LINE__,
                                        details);
}

static void gst_mind_video_src_set_context(GstElement* element, GstContext* context) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(element)->priv;
  if (g_strcmp0(gst_context_get_context_type(context), MINDVIDEO_SESSION_CONTEXT) == 0) {
    GstMindVideoSession* session = nullptr;
    if (gst_structure_get(gst_context_get_structure(context), "session", gst_mind_video_session_get_type(),
                          &session, nullptr) &&
        session) {
      std::lock_guard<std::mutex> guard(priv->settings_lock);
      priv->context_http = session->http;
      gst_mind_video_session_free(session);
    }
  }
  GST_ELEMENT_CLASS(parent_class)->set_context(element, context);
}

/* Picks the HTTP session for this run: the one a neighbour or the
 * application offers through a GstContext when its network settings are
 * identical to this element's (proxy, credentials, trust, User-Agent,
 * request-timeout: all session-wide in libsoup), else the process-wide one
 * for default settings, else the one of other elements with identical
 * settings, or a new one; then offered in turn, as
 * souphttpsrc does. A session with other settings is never adopted. No
 * network I/O. */
std::shared_ptr<mv::HttpSession> GstMindVideoSrcPrivate::use_session(const mv::NetworkSettings& network) {
  GstQuery* query = gst_query_new_context(MINDVIDEO_SESSION_CONTEXT);
  if (gst_pad_peer_query(GST_BASE_SRC_PAD(self), query)) {
    GstContext* context = nullptr;
    gst_query_parse_context(query, &context);
    if (context)
      gst_element_set_context(GST_ELEMENT(self), context);
  } else {
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_need_context(GST_OBJECT(self), MINDVIDEO_SESSION_CONTEXT));
  }
  gst_query_unref(query);
  std::shared_ptr<mv::HttpSession> offered;
  {
    std::lock_guard<std::mutex> guard(settings_lock);
    offered = context_http;
  }
  std::shared_ptr<mv::HttpSession> http;
  if (offered && mv::same_session(offered->network(), network))
    http = offered;
  else if (network.is_default())
    http = mv::HttpSession::process_default();
  else
    http = mv::HttpSession::for_settings(network);
  if (offered && offered != http)
    GST_DEBUG_OBJECT(self, "not using the offered HTTP session: its network settings differ");
  GstContext* context = gst_context_new(MINDVIDEO_SESSION_CONTEXT, TRUE);
  GstMindVideoSession session{http};
  /* "id" tells sessions apart, for applications and tests. */
  gst_structure_set(gst_context_writable_structure(context), "session", gst_mind_video_session_get_type(),
                    &session, "id", G_TYPE_UINT64, (guint64)(uintptr_t)http.get(), nullptr);
  gst_element_set_context(GST_ELEMENT(self), context);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_have_context(GST_OBJECT(self), context));
  return http;
}

/* Where the media came from, for muxers and applications: once, before the
 * first buffer. */
void GstMindVideoSrcPrivate::send_tags() {
  const Streaming& st = *streaming;
  GstTagList* tags = gst_tag_list_new_empty();
  if (!st.prompt.empty())
    gst_tag_list_add(tags, GST_TAG_MERGE_REPLACE, GST_TAG_TITLE, st.prompt.c_str(), nullptr);
  std::string comment = "Generated by MindVideo model " + (st.model.empty() ? std::string("(unknown)") : st.model) +
                        ", task " + st.run->task().task_id;
  gst_tag_list_add(tags, GST_TAG_MERGE_REPLACE, GST_TAG_COMMENT, comment.c_str(), nullptr);
  /* basesrc queues it and pushes it after the segment, before the buffer.
   * The class method, not gst_element_send_event(): that takes the state
   * lock, which a state change may hold while it waits for this thread. */
  GST_ELEMENT_CLASS(parent_class)->send_event(GST_ELEMENT(self), gst_event_new_tag(tags));
  streaming->tagged = true;
}

static gboolean gst_mind_video_src_start(GstBaseSrc* bsrc) {
  GstMindVideoSrc* self = GST_MIND_VIDEO_SRC(bsrc);
  GstMindVideoSrcPrivate* priv = self->priv;

  Settings s;
  {
    std::lock_guard<std::mutex> guard(priv->settings_lock);
    s = priv->settings;
  }
  mv::RunSettings rs;
  mv::JobSettings& js = rs.job;
  g_autofree gchar* name = gst_object_get_name(GST_OBJECT(self));
  js.log_id = name ? name : "";
  js.api_url = s.api_url.empty() ? env_or("MINDVIDEO_API_URL", DEFAULT_API_URL) : s.api_url;
  js.api_key = s.api_key.empty() ? env_or("MINDVIDEO_API_KEY", "") : s.api_key;
  js.request = {s.model, s.prompt, s.input};
  js.idempotency_key = s.idempotency_key;
  js.task_id = s.task_id;
  js.output_index = s.output_index;
  js.poll_interval_ms = s.poll_interval;
  js.timeout_s = s.timeout;
  js.retry.max_retries = s.retries;
  js.allow_plain_http = s.allow_plain_http;
  rs.max_size = s.max_size;
  mv::NetworkSettings network;
  network.proxy = s.proxy;
  network.proxy_id = s.proxy_id;
  network.proxy_pw = s.proxy_pw;
  network.ca_file = s.ca_file;
  network.tls_database = s.tls_database;
  network.user_agent = s.user_agent;
  network.io_timeout_s = s.request_timeout;
  rs.journal.enabled = s.journal;
  rs.journal.dir = mv::journal_default_dir();

  priv->streaming = std::make_unique<Streaming>();
  Streaming& st = *priv->streaming;
  st.api_key = js.api_key;
  st.model = s.model;
  st.prompt = mv::effective_prompt(js.request);
  {
    std::lock_guard<std::mutex> guard(priv->state_lock);
    priv->state = State();
  }

  /* No network I/O here: basesrc may start and stop just to answer a
   * scheduling query, and a submission costs money. */
  mv::Error error;
  if (!mv::headers_from_structure(s.extra_headers.get(), &network.extra_headers, &error.message) ||
      !mv::check_network_settings(network, &error.message)) {
    error.kind = mv::Error::Kind::Settings;
  } else {
    js.extra_headers = network.extra_headers;
    st.run = mv::Run::create(
        rs, priv->keys, [priv, &network] { return priv->use_session(network); }, *priv, &error);
  }
  if (!st.run) {
    priv->post_error(error);
    priv->streaming.reset();
    return FALSE;
  }
  {
    std::lock_guard<std::mutex> guard(priv->state_lock);
    priv->state.idempotency_key = st.run->idempotency_key();
  }
  GST_DEBUG_OBJECT(self, "started: model %s, api %s", s.model.c_str(), js.api_url.c_str());
  return TRUE;
}

static gboolean gst_mind_video_src_stop(GstBaseSrc* bsrc) {
  GstMindVideoSrc* self = GST_MIND_VIDEO_SRC(bsrc);
  GstMindVideoSrcPrivate* priv = self->priv;
  if (!priv->streaming)
    return TRUE;
  const mv::Run& run = *priv->streaming->run;
  if (priv->streaming->progress_open) {
    priv->post_progress(GST_PROGRESS_TYPE_CANCELED,
                        run.task().task_id.empty()
                            ? "Stopped before the task was submitted"
                            : "Stopped while task " + run.task().task_id + " was running; run again with " +
                                  run.resume_hint() + " to pick it up" +
                                  (run.journaled() ? " (or run the same request again: the journal kept its key)"
                                                   : ""));
  }
  /* Joins the run's threads before anything of it is freed. */
  priv->streaming.reset();
  GST_DEBUG_OBJECT(self, "stopped");
  return TRUE;
}

static gboolean gst_mind_video_src_unlock(GstBaseSrc* bsrc) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(bsrc)->priv;
  GST_DEBUG_OBJECT(bsrc, "unlock");
  if (priv->streaming)
    priv->streaming->run->interrupt();
  return TRUE;
}

static gboolean gst_mind_video_src_unlock_stop(GstBaseSrc* bsrc) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(bsrc)->priv;
  GST_DEBUG_OBJECT(bsrc, "unlock_stop");
  if (priv->streaming)
    priv->streaming->run->resume();
  return TRUE;
}

/* Buffers come from a pool, also when downstream (fakesink, filesink)
 * offers none: no allocation per block. */
static gboolean gst_mind_video_src_decide_allocation(GstBaseSrc* bsrc, GstQuery* query) {
  if (gst_query_get_n_allocation_pools(query) == 0)
    gst_query_add_allocation_pool(query, nullptr, gst_base_src_get_blocksize(bsrc), 2, 0);
  return GST_BASE_SRC_CLASS(parent_class)->decide_allocation(bsrc, query);
}

static gboolean gst_mind_video_src_get_size(GstBaseSrc* bsrc, guint64* size) {
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(bsrc)->priv;
  int64_t total = priv->streaming ? priv->streaming->run->size() : -1;
  if (total < 0)
    return FALSE;
  *size = (guint64)total;
  return TRUE;
}

static gboolean gst_mind_video_src_is_seekable(GstBaseSrc* bsrc) {
  /* Any offset can be served once the size is known: the spool keeps every
   * byte. Before that (in start()) this answers FALSE, which keeps basesrc
   * in push mode, so nothing pulls before the task exists. */
  GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(bsrc)->priv;
  return priv->streaming && priv->streaming->run->seekable();
}

/* Waits until `want` bytes from `offset` are downloaded (fewer at the end),
 * running the task first; posts the error when there is one. */
GstFlowReturn GstMindVideoSrcPrivate::wait_bytes(guint64 offset, guint64 want, uint64_t* available) {
  mv::Error error;
  switch (streaming->run->wait(offset, want, available, &error)) {
    case mv::Run::Wait::Ready:
      return GST_FLOW_OK;
    case mv::Run::Wait::Eos:
      return GST_FLOW_EOS;
    case mv::Run::Wait::Flushing:
      return GST_FLOW_FLUSHING;
    case mv::Run::Wait::Error:
      break;
  }
  post_error(error);
  return GST_FLOW_ERROR;
}

/* Typefinds the first bytes of the output streaming now and sets caps, so
 * that decodebin or a demuxer can follow, and publishes the size for
 * seeking. */
GstFlowReturn GstMindVideoSrcPrivate::set_type() {
  mv::Run& run = *streaming->run;
  const uint64_t head_at = run.output_offset();
  uint64_t available = 0;
  GstFlowReturn ret = wait_bytes(head_at, TYPEFIND_BYTES, &available);
  if (ret != GST_FLOW_OK)
    return ret;
  if (run.size() < 0 && !run.all_outputs()) {
    /* No size announced (chunked transfer): demuxers such as qtdemux only
     * seek in a stream of known size, and a moov at the end of an MP4 over
     * 10 MB needs that seek. Start once the whole output is spooled. */
    GST_INFO_OBJECT(self, "the output host announced no size; streaming once the download is complete");
    if ((ret = wait_bytes(head_at, G_MAXUINT64, &available)) != GST_FLOW_OK)
      return ret;
  }
  std::vector<guint8> head(MIN(available, (uint64_t)TYPEFIND_BYTES));
  int64_t n = run.read(head_at, head.data(), head.size());
  if (n > 0) {
    std::string ext = url_extension(run.output_url());
    GstTypeFindProbability prob = GST_TYPE_FIND_NONE;
    g_autoptr(GstCaps) caps = gst_type_find_helper_for_data_with_extension(
        GST_OBJECT(self), head.data(), (gsize)n, ext.empty() ? nullptr : ext.c_str(), &prob);
    if (caps && prob >= GST_TYPE_FIND_LIKELY) {
      GST_INFO_OBJECT(self, "output type: %" GST_PTR_FORMAT, caps);
      gst_base_src_set_caps(GST_BASE_SRC(self), caps);
    } else {
      GST_INFO_OBJECT(self, "output type not recognised; leaving it to downstream typefinding");
    }
  }
  int64_t total = run.size();
  if (total >= 0) {
    GST_OBJECT_LOCK(self);
    GST_BASE_SRC(self)->segment.duration = total;
    GST_OBJECT_UNLOCK(self);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_duration_changed(GST_OBJECT(self)));
  }
  streaming->typed = run.output();
  return GST_FLOW_OK;
}

/* Marks a buffer about to leave: tags first, offsets, a new output's DISCONT. */
void GstMindVideoSrcPrivate::finish_buffer(GstBuffer* buf, guint64 offset) {
  if (!streaming->tagged)
    send_tags();
  if (streaming->run->take_discont())
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
  GST_BUFFER_OFFSET(buf) = offset;
  GST_BUFFER_OFFSET_END(buf) = offset + gst_buffer_get_size(buf);
}

/* The one path for data. A reader that keeps up with the download gets the
 * very buffers the download was read into, with no copy; otherwise the
 * bytes are read from the spool into a buffer from the pool (or the one
 * downstream gave, in pull mode). */
static GstFlowReturn gst_mind_video_src_create(GstBaseSrc* bsrc, guint64 offset, guint length, GstBuffer** buf) {
  GstMindVideoSrc* self = GST_MIND_VIDEO_SRC(bsrc);
  GstMindVideoSrcPrivate* priv = self->priv;
  Streaming& st = *priv->streaming;

  uint64_t available = 0;
  GstFlowReturn ret = priv->wait_bytes(offset, length, &available);
  if (ret == GST_FLOW_OK && st.typed != st.run->output())
    ret = priv->set_type();
  if (ret != GST_FLOW_OK)
    return ret;
  const uint64_t want = MIN((uint64_t)length, available);

  if (*buf == nullptr) {
    if (mv::BufferRef shared = st.run->share(offset, want)) {
      GstBuffer* out = gst_buffer_make_writable(shared.release()); /* shares the memory */
      priv->finish_buffer(out, offset);
      *buf = out;
      return GST_FLOW_OK;
    }
  }
  GstBuffer* out = *buf;
  if (!out && (ret = GST_BASE_SRC_GET_CLASS(bsrc)->alloc(bsrc, offset, (guint)want, &out)) != GST_FLOW_OK)
    return ret;
  GstMapInfo map;
  int64_t n = -1;
  if (gst_buffer_map(out, &map, GST_MAP_WRITE)) {
    n = st.run->read(offset, map.data, (size_t)MIN((uint64_t)map.size, want));
    gst_buffer_unmap(out, &map);
  }
  if (n <= 0) {
    if (out != *buf)
      gst_buffer_unref(out);
    priv->post_error(st.run->task_error(mv::Error::Kind::Read, "Could not read back the spooled output"));
    return GST_FLOW_ERROR;
  }
  gst_buffer_set_size(out, n);
  priv->finish_buffer(out, offset);
  *buf = out;
  return GST_FLOW_OK;
}

/* GstURIHandler: mindvideo://<model>?prompt=...&<field>=<value>&<setting>=<value>
 * (see gst/mindvideo/uri.h for the typing rules). */

static GstURIType gst_mind_video_src_uri_get_type(GType) {
  return GST_URI_SRC;
}

static const gchar* const* gst_mind_video_src_uri_get_protocols(GType) {
  static const gchar* const protocols[] = {"mindvideo", nullptr};
  return protocols;
}

/* The properties a URI sets: each is back to its default unless the URI
 * says otherwise, so that get_uri() and set_uri() round-trip. */
static std::vector<const char*> uri_properties() {
  std::vector<const char*> names = {"model", "prompt", "input"};
  for (const char* const* s = mv::kUriSettings; *s; s++)
    names.push_back(*s);
  return names;
}

static gchar* gst_mind_video_src_uri_get_uri(GstURIHandler* handler) {
  GObject* object = G_OBJECT(handler);
  mv::UriRequest request;
  {
    GstMindVideoSrcPrivate* priv = GST_MIND_VIDEO_SRC(handler)->priv;
    std::lock_guard<std::mutex> guard(priv->settings_lock);
    if (priv->settings.model.empty())
      return nullptr;
    request.model = priv->settings.model;
    request.prompt = priv->settings.prompt;
    request.input = priv->settings.input;
  }
  for (const char* const* name = mv::kUriSettings; *name; name++) {
    GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), *name);
    GValue value = G_VALUE_INIT;
    g_value_init(&value, pspec->value_type);
    g_object_get_property(object, *name, &value);
    if (!g_param_value_defaults(pspec, &value)) {
      gchar* text = G_VALUE_HOLDS_STRING(&value) ? g_value_dup_string(&value) : gst_value_serialize(&value);
      request.settings.emplace_back(*name, text ? text : "");
      g_free(text);
    }
    g_value_unset(&value);
  }
  return g_strdup(mv::build_uri(request).c_str());
}

static gboolean gst_mind_video_src_uri_set_uri(GstURIHandler* handler, const gchar* uri, GError** error) {
  GstElement* element = GST_ELEMENT(handler);
  GObject* object = G_OBJECT(handler);
  if (GST_STATE(element) > GST_STATE_READY) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
                "Changing the URI of mindvideosrc while it runs is not supported");
    return FALSE;
  }
  mv::UriRequest request;
  std::string why;
  if (!mv::parse_uri(uri ? uri : "", &request, &why)) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "Invalid mindvideo URI '%s': %s", uri, why.c_str());
    return FALSE;
  }
  /* Every setting is checked before anything changes. */
  std::vector<std::pair<GParamSpec*, GValue>> values;
  auto unset_all = [&values] {
    for (auto& entry : values)
      g_value_unset(&entry.second);
  };
  for (const auto& [name, text] : request.settings) {
    GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), name.c_str());
    GValue value = G_VALUE_INIT;
    g_value_init(&value, pspec->value_type);
    bool ok = G_VALUE_HOLDS_STRING(&value) ? (g_value_set_string(&value, text.c_str()), true)
                                           : gst_value_deserialize(&value, text.c_str());
    if (!ok || g_param_value_validate(pspec, &value)) {
      g_value_unset(&value);
      unset_all();
      g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI, "Invalid mindvideo URI '%s': %s=%s is not a valid %s",
                  uri, name.c_str(), text.c_str(), g_type_name(pspec->value_type));
      return FALSE;
    }
    values.emplace_back(pspec, value);
  }
  for (const char* name : uri_properties()) {
    GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(object), name);
    GValue value = G_VALUE_INIT;
    g_value_init(&value, pspec->value_type);
    g_param_value_set_default(pspec, &value);
    g_object_set_property(object, name, &value);
    g_value_unset(&value);
  }
  g_object_set(object, "model", request.model.c_str(), "prompt",
               request.prompt.empty() ? nullptr : request.prompt.c_str(), "input",
               request.input.empty() ? nullptr : request.input.c_str(), nullptr);
  for (auto& [pspec, value] : values)
    g_object_set_property(object, pspec->name, &value);
  unset_all();
  return TRUE;
}

static void gst_mind_video_src_uri_handler_init(gpointer g_iface, gpointer) {
  GstURIHandlerInterface* iface = (GstURIHandlerInterface*)g_iface;
  iface->get_type = gst_mind_video_src_uri_get_type;
  iface->get_protocols = gst_mind_video_src_uri_get_protocols;
  iface->get_uri = gst_mind_video_src_uri_get_uri;
  iface->set_uri = gst_mind_video_src_uri_set_uri;
}
