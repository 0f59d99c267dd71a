#!/usr/bin/env bash
# valgrind memcheck over the element tests: "definitely lost" must be zero.
# Suppressions come from GLib (/usr/share/glib-2.0/valgrind/glib.supp) and
# tests/valgrind/glib-gstreamer.supp, which documents each one; none covers
# this project's code. Tests that decode video are left out: they exercise
# GStreamer's decoders, not the element, and take minutes under valgrind.
#
#   bash tests/valgrind.sh            (after a build in build/)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/${MINDVIDEO_BUILDDIR:-build}"
command -v valgrind >/dev/null || {
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends valgrind
}

export GST_PLUGIN_SYSTEM_PATH_1_0
GST_PLUGIN_SYSTEM_PATH_1_0=$(pkg-config --variable=pluginsdir gstreamer-1.0)
export GST_PLUGIN_PATH_1_0="$build/gst"
export GST_REGISTRY="$build/tests/registry-valgrind.bin"
export GSETTINGS_BACKEND=memory
# The crash journal of runs stopped mid-task: in the build, not the user's.
export XDG_STATE_HOME="$build/tests/state-valgrind"
export CK_DEFAULT_TIMEOUT=900
export MINDVIDEO_SCHEMA_PATH="$root/schemas"
export MINDVIDEO_TEST_DATA="$root/tests/data"
export MINDVIDEO_EMULATOR="$build/tests/emulator/mindvideo-emulator"
export G_SLICE=always-malloc G_DEBUG=gc-friendly

valgrind=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite
  --errors-for-leak-kinds=definite --error-exitcode=1 --num-callers=40
  --suppressions=/usr/share/glib-2.0/valgrind/glib.supp
  --suppressions="$root/tests/valgrind/glib-gstreamer.supp")

run() {
  local test=$1 checks=$2
  echo "== valgrind: test-$test ($checks)"
  # gst-check runs each test in a child process; a definite leak makes that
  # child exit with valgrind's error code, which fails the test.
  if ! GST_CHECKS="$checks" "${valgrind[@]}" --log-file="$build/tests/valgrind-$test-%p.log" \
      "$build/tests/test-$test"; then
    grep -l "definitely lost: [1-9]" "$build"/tests/valgrind-"$test"-*.log | while read -r log; do
      sed -n '/definitely lost in loss record/,/^==[0-9]*== $/p' "$log"
    done
    return 1
  fi
}

rm -f "$build"/tests/valgrind-*.log
run mindvideosrc test_image_decodes_at_size,test_bytes_identical_to_served_file,test_output_index,test_request_and_no_key_to_output_host,test_bus_messages,test_failed_task_message,test_missing_key_refused_without_request,test_http_errors_map_to_clear_errors,test_resume_by_key_and_attach_by_task_id,test_restart_reuses_the_task,test_null_while_polling,test_null_while_submitting,test_null_while_downloading_and_streaming,test_stop_mid_task_closes_progress
run inputs test_violations_refused_before_any_request,test_local_files_sent_as_data_uris,test_every_output_to_multifilesink
run reliability test_poll_faults_do_not_fail_the_task,test_truncated_download_resumes_with_range,test_expired_url_is_read_again_once,test_max_size,test_32_elements_at_once,test_state_cycling
# Its main() unsets MINDVIDEO_SCHEMA_PATH: the plugin's built-in schemas.
run uninstalled test_plugin_from_build_tree_refuses_invalid_input
run network test_proxy_carries_api_and_downloads,test_proxy_without_credentials_is_refused_at_once,test_proxy_keeping_the_connection_after_407,test_proxy_credentials_dropped_on_a_redirect_to_a_direct_host,test_untrusted_ca_refused_then_trusted_with_ca_file,test_bad_network_settings_fail_before_any_request,test_user_agent_and_extra_headers,test_api_answer_over_the_cap_is_not_retried,test_elements_with_different_proxies_keep_their_own
echo "valgrind: no definite leaks"
