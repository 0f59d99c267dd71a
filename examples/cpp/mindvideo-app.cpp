/* mindvideo-app: embeds mindvideosrc in an application.
 *
 *   mindvideo-app --model gpt-image-2 --prompt "an orange cat" [--input JSON] --output cat.png
 *                 [--idempotency-key KEY]
 *
 * Runs `mindvideosrc ! decodebin ! videoconvert ! pngenc ! filesink` and so
 * writes an image, or the first frame of a video, as PNG. Shows the task's
 * status (from `notify::status`), its progress and cost (from the bus), and
 * exits with 0 when done, 1 on error, 130 on Ctrl-C.
 *
 * Needs MINDVIDEO_API_KEY; MINDVIDEO_API_URL overrides https://api.mindvideo.ai.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-unix.h>
#include <gst/gst.h>

#include <csignal>

namespace {

struct App {
  GMainLoop* loop = nullptr;
  GstElement* pipeline = nullptr;
  GstElement* src = nullptr;
  int exit_code = 1;
  gdouble cost_estimate = -1, cost_actual = -1;
  guint64 elapsed = GST_CLOCK_TIME_NONE;
};

void stop(App* app, int exit_code) {
  gst_element_set_state(app->pipeline, GST_STATE_NULL);
  app->exit_code = exit_code;
  g_main_loop_quit(app->loop);
}

/* Prints what a run needs to pick up its task again without paying twice. */
void print_resume_hint(App* app) {
  gchar *task_id = nullptr, *key = nullptr;
  g_object_get(app->src, "task-id", &task_id, "idempotency-key", &key, nullptr);
  if (key && *key)
    g_printerr("Task id: %s\nIdempotency key: %s (run again with --idempotency-key %s to resume)\n",
               task_id && *task_id ? task_id : "not known yet", key, key);
  g_free(task_id);
  g_free(key);
}

/* notify::status is emitted from the streaming thread: read the property
 * there (properties are thread-safe), then hand the value to the main loop
 * instead of touching application state from that thread. */
gboolean print_status(gpointer status) {
  g_print("status: %s\n", static_cast<const gchar*>(status));
  return G_SOURCE_REMOVE;
}

void on_status(GObject* src, GParamSpec*, gpointer) {
  gchar* status = nullptr;
  g_object_get(src, "status", &status, nullptr);
  g_main_context_invoke_full(nullptr, G_PRIORITY_DEFAULT, print_status, status, g_free);
}

gboolean on_message(GstBus*, GstMessage* msg, gpointer data) {
  App* app = static_cast<App*>(data);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_PROGRESS: {
      GstProgressType type;
      gchar *code = nullptr, *text = nullptr;
      gst_message_parse_progress(msg, &type, &code, &text);
      g_print("progress: %s\n", text);
      g_free(code);
      g_free(text);
      break;
    }
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, "mindvideo-task")) {
        gst_structure_get_double(s, "cost-estimate", &app->cost_estimate);
        gst_structure_get_double(s, "cost-actual", &app->cost_actual);
        gst_structure_get_uint64(s, "elapsed", &app->elapsed);  // absent in older versions
      }
      break;
    }
    case GST_MESSAGE_ERROR: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(msg, &err, &debug);
      g_printerr("Error: %s\n", err->message);  // errors about a task name it and its key
      g_clear_error(&err);
      g_free(debug);
      stop(app, 1);
      break;
    }
    case GST_MESSAGE_EOS:
      g_print("Done. Cost: %g (estimate %g; -1 = not reported)", app->cost_actual, app->cost_estimate);
      if (GST_CLOCK_TIME_IS_VALID(app->elapsed))
        g_print(", task finished %.1f s after submission", (double)app->elapsed / GST_SECOND);
      g_print("\n");
      stop(app, 0);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean on_sigint(gpointer data) {
  App* app = static_cast<App*>(data);
  g_printerr("Interrupted.\n");
  print_resume_hint(app);  // before NULL: the element still knows its task
  stop(app, 128 + SIGINT);
  return G_SOURCE_REMOVE;
}

}  // namespace

int main(int argc, char** argv) {
  gchar *model = nullptr, *prompt = nullptr, *input = nullptr, *output = nullptr, *key = nullptr;
  GOptionEntry entries[] = {
      {"model", 0, 0, G_OPTION_ARG_STRING, &model, "Model slug, e.g. gpt-image-2", "MODEL"},
      {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "Text prompt", "TEXT"},
      {"input", 0, 0, G_OPTION_ARG_STRING, &input, "Other model inputs as a JSON object", "JSON"},
      {"output", 0, 0, G_OPTION_ARG_FILENAME, &output, "PNG file to write", "FILE"},
      {"idempotency-key", 0, 0, G_OPTION_ARG_STRING, &key, "Resume the task submitted with this key", "KEY"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext* ctx = g_option_context_new("- generate an image (or a video's first frame) as PNG");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  g_option_context_add_group(ctx, gst_init_get_option_group());
  GError* err = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &err) || !model || !prompt || !output) {
    g_printerr("%s\nUsage: %s --model MODEL --prompt TEXT [--input JSON] --output FILE.png\n",
               err ? err->message : "--model, --prompt and --output are required", argv[0]);
    return 2;
  }
  g_option_context_free(ctx);

  App app;
  app.pipeline = gst_parse_launch(
      "mindvideosrc name=src ! decodebin ! videoconvert ! pngenc ! filesink name=sink", &err);
  if (err) {  // a missing element is reported here
    g_printerr("Could not build the pipeline: %s (is mindvideosrc installed, or GST_PLUGIN_PATH set?)\n",
               err->message);
    return 1;
  }
  app.src = gst_bin_get_by_name(GST_BIN(app.pipeline), "src");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(app.pipeline), "sink");
  g_object_set(app.src, "model", model, "prompt", prompt, nullptr);
  if (input)
    g_object_set(app.src, "input", input, nullptr);
  if (key)  // with the same model, prompt and input: the same task, not charged again
    g_object_set(app.src, "idempotency-key", key, nullptr);
  g_object_set(sink, "location", output, nullptr);
  gst_object_unref(sink);
  g_signal_connect(app.src, "notify::status", G_CALLBACK(on_status), nullptr);

  app.loop = g_main_loop_new(nullptr, FALSE);
  GstBus* bus = gst_element_get_bus(app.pipeline);
  gst_bus_add_watch(bus, on_message, &app);
  g_unix_signal_add(SIGINT, on_sigint, &app);

  /* A refused input fails here already; its ERROR message is on the bus. */
  if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE)
    g_main_loop_run(app.loop);
  else if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    on_message(bus, msg, &app);
    gst_message_unref(msg);
  }
  if (app.exit_code == 0)
    g_print("Wrote %s\n", output);

  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  gst_bus_remove_watch(bus);
  gst_object_unref(bus);
  gst_object_unref(app.src);
  gst_object_unref(app.pipeline);
  g_main_loop_unref(app.loop);
  g_free(model);
  g_free(prompt);
  g_free(input);
  g_free(output);
  g_free(key);
  return app.exit_code;
}
