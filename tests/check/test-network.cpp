/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Networks (issue #13): proxies (a real tinyproxy on loopback), TLS trust,
 * User-Agent and extra headers, answers that cannot get better, and HTTP
 * sessions kept apart when their network settings differ.
 */
#include "connect-proxy.h"
#include "element-helpers.h"
#include "socks.h"
#include "tinyproxy.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstdarg>
#include <map>
#include <mutex>
#include <string>
#include <vector>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

namespace {

int count_origin(const std::vector<Logged>& log, const char* origin) {
  return (int)std::count_if(log.begin(), log.end(), [origin](const Logged& r) { return r.origin == origin; });
}

void set_src(GstElement* pipeline, const char* name, const char* first, ...) {
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), name);
  fail_unless(src != nullptr, "no element %s", name);
  va_list args;
  va_start(args, first);
  g_object_set_valist(G_OBJECT(src), first, args);
  va_end(args);
  gst_object_unref(src);
}

GstElement* image_pipeline(EmulatorProcess* emu, const char* prompt) {
  return make_pipeline(emu, "gpt-image-2", prompt, R"({"size":"1:1"})", "fakesink name=sink");
}

std::string test_data(const char* file) {
  const char* dir = g_getenv("MINDVIDEO_TEST_DATA");
  fail_unless(dir != nullptr, "MINDVIDEO_TEST_DATA is not set");
  return std::string(dir) + "/" + file;
}

std::unique_ptr<EmulatorProcess> tls_emulator() {
  auto emu = start_emulator({"--tls-cert", test_data("tls-selfsigned.pem"), "--tls-key", test_data("tls-selfsigned.key")});
  fail_unless(g_str_has_prefix(emu->url().c_str(), "https://"), "%s", emu->url().c_str());
  return emu;
}

/* "127.0.0.1:PORT" of a base URL. */
std::string host_port(const std::string& url) {
  size_t start = url.find("://");
  fail_unless(start != std::string::npos, "%s", url.c_str());
  std::string rest = url.substr(start + 3);
  return rest.substr(0, rest.find('/'));
}

std::unique_ptr<Tinyproxy> start_proxy(const std::string& user = "", const std::string& password = "") {
  auto proxy = Tinyproxy::start(user, password);
  fail_unless(proxy != nullptr, "tinyproxy did not start");
  return proxy;
}

void assert_eos(const PlayResult& run) {
  fail_unless(run.eos, "no EOS: %s", run.message().c_str());
}

/* Plays with http_proxy and no_proxy (null: unset) in the environment. */
void play_with_proxy_environment(GstElement* pipeline, const std::string& http_proxy, const char* no_proxy,
                                 PlayResult* run) {
  g_setenv("http_proxy", http_proxy.c_str(), TRUE);
  if (no_proxy)
    g_setenv("no_proxy", no_proxy, TRUE);
  else
    g_unsetenv("no_proxy");
  play(pipeline, run);
  g_unsetenv("http_proxy");
  g_unsetenv("no_proxy");
}

/* No request reached the emulator with proxy credentials: over https they
 * would have travelled inside the tunnel. (A plain-http proxy takes them
 * off what it forwards, so this tells something only for https and for
 * hosts reached directly.) */
void assert_no_proxy_credentials(EmulatorProcess* emu) {
  for (const Logged& r : request_log(emu))
    fail_unless(r.header("proxy-authorization").empty(), "%s %s carried proxy credentials to the origin",
                r.method.c_str(), r.path.c_str());
}

}  // namespace

/* ---- proxies ---------------------------------------------------------------- */

GST_START_TEST(test_proxy_carries_api_and_downloads) {
  auto emu = start_emulator();
  auto proxy = start_proxy();
  GstElement* pipeline = image_pipeline(emu.get(), "through a proxy");
  set_src(pipeline, "src", "proxy", proxy->url().c_str(), nullptr);
  PlayResult run;
  play(pipeline, &run);
  assert_eos(run);
  /* The proxy forwarded the submission, the polls and the download. */
  const std::string api = "http://" + host_port(emu->url());
  const std::string cdn = "http://" + host_port(emu->cdn_url());
  fail_unless_equals_int(proxy->carried("POST " + api + "/api/v1/tasks "), 1);
  fail_unless(proxy->carried("GET " + api + "/api/v1/tasks/") >= 1, "%s", proxy->log().c_str());
  fail_unless(proxy->carried("GET " + cdn + "/files/") >= 1, "%s", proxy->log().c_str());
  /* And every request the emulator saw came through it (tinyproxy adds Via). */
  auto log = request_log(emu.get());
  fail_unless(count_origin(log, "api") >= 2 && count_origin(log, "cdn") >= 1);
  for (const Logged& r : log)
    assert_contains(r.header("via"), "tinyproxy");
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_proxy_https_through_connect_with_ca_file) {
  auto emu = tls_emulator();
  auto proxy = start_proxy();
  GstElement* pipeline = image_pipeline(emu.get(), "https through a proxy");
  set_src(pipeline, "src", "proxy", proxy->url().c_str(), "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
  PlayResult run;
  play(pipeline, &run);
  assert_eos(run);
  /* The API over a tunnel (the proxy sees no path, let alone the key), the
   * plain-http CDN forwarded. */
  fail_unless(proxy->carried("CONNECT " + host_port(emu->url())) >= 1, "%s", proxy->log().c_str());
  fail_unless(proxy->carried("GET http://" + host_port(emu->cdn_url()) + "/files/") >= 1, "%s", proxy->log().c_str());
  fail_if(proxy->log().find(API_KEY) != std::string::npos);
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_proxy_credentials) {
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  /* Plain http (the 407 of a forwarded request), then https (a CONNECT). */
  for (bool tls : {false, true}) {
    auto emu = tls ? tls_emulator() : start_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "credentials");
    set_src(pipeline, "src", "proxy", proxy->url().c_str(), "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret", nullptr);
    if (tls)
      set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
    LogCapture capture(GST_LEVEL_MEMDUMP);
    PlayResult run;
    play(pipeline, &run);
    assert_eos(run);
    fail_unless_equals_int(emu->ledger_count(), 1);
    assert_no_proxy_credentials(emu.get());
    /* Never logged, in clear or as the Basic credentials. */
    fail_if(capture.contains("pr0xy-s3cret"), "the proxy password is in the debug log");
    fail_if(capture.contains("bXZ1c2VyOnByMHh5LXMzY3JldA"), "the proxy credentials are in the debug log");
    gst_object_unref(pipeline);
  }
  /* Or in the proxy's URI, as curl takes them: read back without the
   * password, never logged. */
  {
    auto emu = start_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "credentials in the URI");
    const std::string with_userinfo = "http://mvuser:pr0xy-s3cret@" + host_port(proxy->url());
    set_src(pipeline, "src", "proxy", with_userinfo.c_str(), nullptr);
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    gchar* shown = nullptr;
    g_object_get(src, "proxy", &shown, nullptr);
    assert_str(std::string(shown), "http://mvuser@" + host_port(proxy->url()));
    g_free(shown);
    gst_object_unref(src);
    LogCapture capture(GST_LEVEL_MEMDUMP);
    PlayResult run;
    play(pipeline, &run);
    assert_eos(run);
    fail_unless_equals_int(emu->ledger_count(), 1);
    fail_if(capture.contains("pr0xy-s3cret"), "the proxy password is in the debug log");
    gst_object_unref(pipeline);
  }
  /* Write-only, like api-key. */
  GParamSpec* pspec = g_object_class_find_property(
      G_OBJECT_CLASS(g_type_class_peek(g_type_from_name("GstMindVideoSrc"))), "proxy-pw");
  fail_unless(pspec && (pspec->flags & G_PARAM_WRITABLE) && !(pspec->flags & G_PARAM_READABLE));
}
GST_END_TEST;

GST_START_TEST(test_proxy_without_credentials_is_refused_at_once) {
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  struct Case {
    bool tls;
    bool attach; /* a GET (attaching to a task) instead of the submission's POST */
    const char* id;
    const char* pw;
    int requests; /* what the proxy sees of the one attempt */
  };
  /* https: the CONNECT is refused; with credentials libsoup makes two (the
   * first gets the 407 it answers), never more. Plain http: the request
   * itself is refused. tinyproxy closes on its 407 without reading a
   * POST's body, which resets the connection under the answer, and it says
   * 401, not 407, to wrong credentials: both must still read as the proxy's
   * refusal. */
  const Case cases[] = {
      {true, false, nullptr, nullptr, 1},      {false, false, nullptr, nullptr, 1},
      {false, true, nullptr, nullptr, 1},      {true, false, "mvuser", "wrong-pw", 2},
      {false, false, "mvuser", "wrong-pw", 1},
  };
  for (const Case& c : cases) {
    auto emu = c.tls ? tls_emulator() : start_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "no credentials");
    set_src(pipeline, "src", "proxy", proxy->url().c_str(), "retries", 5, nullptr);
    if (c.id)
      set_src(pipeline, "src", "proxy-id", c.id, "proxy-pw", c.pw, nullptr);
    if (c.tls)
      set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
    if (c.attach)
      set_src(pipeline, "src", "task-id", "t-attached", nullptr);
    const std::string what = std::string(c.tls ? "https" : "http") + (c.attach ? " GET" : " POST") +
                             (c.id ? " with a wrong password" : "");
    const std::string target = c.tls      ? "CONNECT " + host_port(emu->url())
                               : c.attach ? "GET " + emu->url() + "/api/v1/tasks/t-attached "
                                          : "POST " + emu->url() + "/api/v1/tasks ";
    const int before = proxy->carried(target);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s: %s",
                what.c_str(), run.message().c_str());
    assert_contains(run.message(), "The proxy " + proxy->url());
    assert_contains(run.message(), c.id ? "check proxy-id and proxy-pw" : "set proxy-id and proxy-pw");
    /* One attempt, not retried; nothing reached the API. */
    fail_unless_equals_int(proxy->carried(target) - before, c.requests);
    fail_if(run.message().find("wrong-pw") != std::string::npos);
    fail_if(run.error_debug.find("wrong-pw") != std::string::npos);
    fail_unless_equals_int(count_origin(request_log(emu.get()), "api"), 0);
    fail_unless_equals_int(emu->ledger_count(), 0);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* Through a proxy that takes the credentials, the API's own 401 is still
 * the API refusing its key, not the proxy. A 401 reads as the proxy's only
 * when the proxy wrote it: a Basic challenge, no Via, not JSON (tinyproxy's
 * answer to wrong credentials, in the refusal test above); each answer
 * below lacks one of the three. */
GST_START_TEST(test_api_key_refused_through_an_authenticating_proxy) {
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  auto quiet = Tinyproxy::start("mvuser", "pr0xy-s3cret", /*via=*/false);
  fail_unless(quiet != nullptr, "tinyproxy did not start");
  struct Case {
    const char* what;
    Tinyproxy* proxy;
    const char* fault; /* the API's answer to the submission; null: its own, for a wrong key */
  };
  const Case cases[] = {
      {"the API's 401", proxy.get(), nullptr},
      {"an HTML 401 with a Basic challenge, forwarded with Via", proxy.get(),
       R"({"route":"submit","action":"body","status":401,"content_type":"text/html","www_authenticate":"Basic realm=\"api\"","body":"<h1>Unauthorized</h1>"})"},
      {"a JSON 401 with a Basic challenge, without Via", quiet.get(),
       R"({"route":"submit","action":"body","status":401,"www_authenticate":"Basic realm=\"api\"","body":{"message":"Invalid API key"}})"},
      {"an HTML 401 without a challenge, without Via", quiet.get(),
       R"({"route":"submit","action":"body","status":401,"content_type":"text/html","body":"<h1>Unauthorized</h1>"})"},
  };
  for (const Case& c : cases) {
    auto emu = start_emulator();
    if (c.fault)
      fail_unless(emu->add_fault(c.fault), "%s", c.what);
    GstElement* pipeline = image_pipeline(emu.get(), "wrong key");
    set_src(pipeline, "src", "proxy", c.proxy->url().c_str(), "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret",
            "retries", 5, nullptr);
    if (!c.fault)
      set_src(pipeline, "src", "api-key", "mv_not_the_key", nullptr);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s: %s", c.what,
                run.message().c_str());
    assert_contains(run.message(), "refused the API key");
    fail_if(run.message().find("proxy") != std::string::npos, "%s: %s", c.what, run.message().c_str());
    fail_unless_equals_int(c.proxy->carried("POST " + emu->url() + "/api/v1/tasks "), 1);
    fail_unless_equals_int(count_origin(request_log(emu.get()), "api"), 1);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

GST_START_TEST(test_environment_proxy_and_no_proxy) {
  auto emu = start_emulator();
  auto proxy = start_proxy();
  /* The API through the proxy, the CDN direct (libproxy matches host:port). */
  const std::string cdn = host_port(emu->cdn_url());
  g_setenv("http_proxy", proxy->url().c_str(), TRUE);
  g_setenv("no_proxy", cdn.c_str(), TRUE);
  GstElement* pipeline = image_pipeline(emu.get(), "environment proxy");
  PlayResult run;
  play(pipeline, &run);
  g_unsetenv("http_proxy");
  g_unsetenv("no_proxy");
  assert_eos(run);
  auto log = request_log(emu.get());
  fail_unless(count_origin(log, "api") >= 2 && count_origin(log, "cdn") >= 1);
  for (const Logged& r : log) {
    if (r.origin == "api")
      assert_contains(r.header("via"), "tinyproxy");
    else
      fail_if(r.has("via"), "%s %s went through the proxy despite no_proxy", r.method.c_str(), r.path.c_str());
  }
  fail_unless(proxy->carried("POST " + emu->url() + "/api/v1/tasks ") == 1, "%s", proxy->log().c_str());
  fail_unless_equals_int(proxy->carried("http://" + cdn), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* A proxy from the environment that wants credentials: proxy-id and
 * proxy-pw answer its 407, to plain http requests (a GET here, attaching
 * to a task, for the reason given above) and to a CONNECT. */
GST_START_TEST(test_environment_proxy_with_credentials) {
  auto emu = start_emulator();
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  g_setenv("http_proxy", proxy->url().c_str(), TRUE);
  g_unsetenv("no_proxy");
  /* Plain http: the submission, the polls and the download carry the
   * credentials to the environment's proxy. */
  GstElement* pipeline = image_pipeline(emu.get(), "env credentials");
  set_src(pipeline, "src", "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret", nullptr);
  PlayResult run;
  play(pipeline, &run);
  g_unsetenv("http_proxy");
  assert_eos(run);
  fail_unless_equals_int(proxy->carried("POST " + emu->url() + "/api/v1/tasks "), 1);
  fail_unless_equals_int(emu->ledger_count(), 1);
  auto log = request_log(emu.get());
  fail_unless(count_origin(log, "api") >= 2 && count_origin(log, "cdn") >= 1);
  for (const Logged& r : log)
    assert_contains(r.header("via"), "tinyproxy");
  gst_object_unref(pipeline);

  /* A no_proxy host gets no proxy credentials: they would go to the origin. */
  emu->clear_requests();
  pipeline = image_pipeline(emu.get(), "env credentials, direct");
  set_src(pipeline, "src", "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret", nullptr);
  PlayResult direct;
  play_with_proxy_environment(pipeline, proxy->url(), "127.0.0.1", &direct);
  assert_eos(direct);
  log = request_log(emu.get());
  fail_unless(count_origin(log, "api") >= 2 && count_origin(log, "cdn") >= 1);
  for (const Logged& r : log)
    fail_unless(r.header("via").empty(), "a no_proxy request went through the proxy");
  assert_no_proxy_credentials(emu.get());
  gst_object_unref(pipeline);

  /* https: the CONNECT's 407 is answered the same way. */
  auto tls = tls_emulator();
  g_setenv("https_proxy", proxy->url().c_str(), TRUE);
  pipeline = image_pipeline(tls.get(), "env credentials over https");
  set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), "proxy-id", "mvuser", "proxy-pw",
          "pr0xy-s3cret", nullptr);
  PlayResult secure;
  play(pipeline, &secure);
  g_unsetenv("https_proxy");
  assert_eos(secure);
  fail_unless(proxy->carried("CONNECT " + host_port(tls->url())) >= 1, "%s", proxy->log().c_str());
  fail_unless_equals_int(tls->ledger_count(), 1);
  assert_no_proxy_credentials(tls.get());
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* A download redirected from a proxied host to one that no_proxy reaches
 * directly: the credentials are decided again for the new host, and the
 * origin never gets them. */
GST_START_TEST(test_proxy_credentials_dropped_on_a_redirect_to_a_direct_host) {
  auto emu = start_emulator();
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  g_autoptr(JsonNode) info = emu->get_json("/_emulator/info");
  fail_unless(info && JSON_NODE_HOLDS_OBJECT(info));
  const std::string alt = host_port(json_object_get_string_member(json_node_get_object(info), "cdn_alt_url"));
  fail_unless(emu->add_fault(R"({"route":"task","action":"redirect","hops":1,"cross_origin":true})"));
  GstElement* pipeline = image_pipeline(emu.get(), "redirected");
  set_src(pipeline, "src", "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret", nullptr);
  PlayResult run;
  play_with_proxy_environment(pipeline, proxy->url(), alt.c_str(), &run);
  assert_eos(run);
  int proxied = 0, direct = 0;
  for (const Logged& r : request_log(emu.get())) {
    if (r.origin != "cdn")
      continue;
    if (r.header("host") == alt) {
      direct++;
      fail_unless(r.header("via").empty(), "the no_proxy host was reached through the proxy");
      fail_unless(r.header("proxy-authorization").empty(), "the proxy credentials reached %s", alt.c_str());
    } else {
      proxied++;
      assert_contains(r.header("via"), "tinyproxy");
    }
  }
  fail_unless(proxied >= 1 && direct >= 1, "%d through the proxy, %d direct", proxied, direct);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* http_proxy=http://user:pw@host:port, as curl takes it: plain http gets
 * them up front, a CONNECT in answer to its 407. */
GST_START_TEST(test_environment_proxy_credentials_in_uri) {
  auto proxy = start_proxy("mvuser", "pr0xy-s3cret");
  const std::string with_userinfo = "http://mvuser:pr0xy-s3cret@" + host_port(proxy->url());
  g_unsetenv("no_proxy");
  for (bool tls : {false, true}) {
    auto emu = tls ? tls_emulator() : start_emulator();
    g_setenv(tls ? "https_proxy" : "http_proxy", with_userinfo.c_str(), TRUE);
    GstElement* pipeline = image_pipeline(emu.get(), "credentials in http_proxy");
    if (tls)
      set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
    LogCapture capture(GST_LEVEL_MEMDUMP);
    PlayResult run;
    play(pipeline, &run);
    g_unsetenv(tls ? "https_proxy" : "http_proxy");
    assert_eos(run);
    if (tls)
      fail_unless(proxy->carried("CONNECT " + host_port(emu->url())) >= 1, "%s", proxy->log().c_str());
    else
      fail_unless_equals_int(proxy->carried("POST " + emu->url() + "/api/v1/tasks "), 1);
    fail_unless_equals_int(emu->ledger_count(), 1);
    assert_no_proxy_credentials(emu.get());
    fail_if(capture.contains("pr0xy-s3cret"), "the proxy password is in the debug log");
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* A proxy that keeps the connection open after its 407, as Squid does:
 * the CONNECT is answered on the same connection, and still to the API's
 * address. (libsoup, given credentials in the proxy's URI, would answer
 * itself and send the second CONNECT to the proxy's own address.) */
GST_START_TEST(test_proxy_keeping_the_connection_after_407) {
  auto proxy = ConnectProxy::start("mvuser", "pr0xy-s3cret");
  fail_unless(proxy != nullptr, "the proxy did not start");
  const std::string with_userinfo = "http://mvuser:pr0xy-s3cret@" + proxy->address();
  enum class How { PropertyAndId, PropertyUri, EnvironmentUri };
  for (How how : {How::PropertyAndId, How::PropertyUri, How::EnvironmentUri}) {
    auto emu = tls_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "keep-alive proxy");
    set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), "retries", 0, nullptr);
    if (how == How::PropertyAndId)
      set_src(pipeline, "src", "proxy", proxy->url().c_str(), "proxy-id", "mvuser", "proxy-pw", "pr0xy-s3cret",
              nullptr);
    else if (how == How::PropertyUri)
      set_src(pipeline, "src", "proxy", with_userinfo.c_str(), nullptr);
    else
      g_setenv("https_proxy", with_userinfo.c_str(), TRUE);
    const size_t before = proxy->requests().size();
    PlayResult run;
    play_with_proxy_environment(pipeline, with_userinfo, nullptr, &run);
    g_unsetenv("https_proxy");
    assert_eos(run);
    fail_unless_equals_int(emu->ledger_count(), 1);
    assert_no_proxy_credentials(emu.get());
    auto requests = proxy->requests();
    int tunnels = 0;
    for (size_t i = before; i < requests.size(); i++) {
      fail_if(requests[i].find(proxy->address()) != std::string::npos, "a request to the proxy itself: %s",
              requests[i].c_str());
      if (requests[i] == "CONNECT " + host_port(emu->url()) + " 200")
        tunnels++;
    }
    fail_unless(tunnels >= 1, "the API was not reached through the proxy");
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* The proxy property overrides the environment, no_proxy included. */
GST_START_TEST(test_proxy_property_overrides_environment) {
  auto emu = start_emulator();
  auto proxy = start_proxy();
  g_setenv("http_proxy", "http://127.0.0.1:9", TRUE); /* discard: nothing listens */
  g_setenv("no_proxy", "127.0.0.1", TRUE);
  GstElement* pipeline = image_pipeline(emu.get(), "property wins");
  set_src(pipeline, "src", "proxy", proxy->url().c_str(), nullptr);
  PlayResult run;
  play(pipeline, &run);
  g_unsetenv("http_proxy");
  g_unsetenv("no_proxy");
  assert_eos(run);
  for (const Logged& r : request_log(emu.get()))
    assert_contains(r.header("via"), "tinyproxy");
  gst_object_unref(pipeline);
}
GST_END_TEST;

std::vector<std::string>::difference_type connects(SocksProxy* socks, const std::string& where) {
  auto targets = socks->targets();
  return std::count(targets.begin(), targets.end(), where);
}

/* GIO's SOCKS5 client carries the API (over TLS inside the tunnel) and the
 * downloads alike. */
GST_START_TEST(test_socks5_proxy) {
  auto emu = tls_emulator();
  auto socks = SocksProxy::start(5);
  fail_unless(socks != nullptr, "the SOCKS5 proxy did not start");
  GstElement* pipeline = image_pipeline(emu.get(), "through socks5");
  set_src(pipeline, "src", "proxy", socks->url().c_str(), "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
  PlayResult run;
  play(pipeline, &run);
  assert_eos(run);
  fail_unless(connects(socks.get(), host_port(emu->url())) >= 1, "the API was not reached through the SOCKS5 proxy");
  fail_unless(connects(socks.get(), host_port(emu->cdn_url())) >= 1,
              "the output was not downloaded through the SOCKS5 proxy");
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* A SOCKS5 proxy that requires a user name and password (RFC 1929) gets
 * proxy-id and proxy-pw; without them, or with wrong ones, the run is
 * refused at once, naming the proxy, and nothing reaches the API. */
GST_START_TEST(test_socks5_proxy_credentials) {
  auto socks = SocksProxy::start(5, "mvuser", "s0cks-s3cret");
  fail_unless(socks != nullptr, "the SOCKS5 proxy did not start");
  {
    auto emu = start_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "socks5 credentials");
    set_src(pipeline, "src", "proxy", socks->url().c_str(), "proxy-id", "mvuser", "proxy-pw", "s0cks-s3cret",
            nullptr);
    LogCapture capture(GST_LEVEL_MEMDUMP);
    PlayResult run;
    play(pipeline, &run);
    assert_eos(run);
    fail_unless(connects(socks.get(), host_port(emu->url())) >= 1, "the API was not reached through the proxy");
    fail_unless(connects(socks.get(), host_port(emu->cdn_url())) >= 1, "the output was not downloaded through it");
    fail_unless_equals_int(socks->refused(), 0);
    fail_unless_equals_int(emu->ledger_count(), 1);
    fail_if(capture.contains("s0cks-s3cret"), "the SOCKS password is in the debug log");
    gst_object_unref(pipeline);
  }
  for (const char* pw : {(const char*)nullptr, "wrong-pw"}) {
    auto emu = start_emulator();
    GstElement* pipeline = image_pipeline(emu.get(), "socks5 refused");
    set_src(pipeline, "src", "proxy", socks->url().c_str(), "retries", 5, nullptr);
    if (pw)
      set_src(pipeline, "src", "proxy-id", "mvuser", "proxy-pw", pw, nullptr);
    const int before = socks->refused();
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s",
                run.message().c_str());
    assert_contains(run.message(), "The proxy " + socks->url());
    assert_contains(run.message(), pw ? "check proxy-id and proxy-pw" : "set proxy-id and proxy-pw");
    fail_if(run.message().find("wrong-pw") != std::string::npos);
    fail_if(run.error_debug.find("wrong-pw") != std::string::npos);
    /* One attempt, not retried. */
    fail_unless_equals_int(socks->refused() - before, 1);
    fail_unless_equals_int(count_origin(request_log(emu.get()), "api"), 0);
    fail_unless_equals_int(emu->ledger_count(), 0);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* SOCKS4 and 4a, GIO's too: proxy-id is the user id. socks4 resolves host
 * names itself and sends an address; socks4a leaves the name to the proxy. */
GST_START_TEST(test_socks4_proxies) {
  auto socks = SocksProxy::start(4, "mvuser");
  fail_unless(socks != nullptr, "the SOCKS4 proxy did not start");
  for (const char* scheme : {"socks4", "socks4a"}) {
    auto emu = start_emulator();
    /* The API by name: socks4a passes the name on, socks4 an address. */
    const bool by_name = g_str_equal(scheme, "socks4a");
    const std::string port = host_port(emu->url()).substr(host_port(emu->url()).find(':') + 1);
    const std::string api_host = (by_name ? "localhost:" : "127.0.0.1:") + port;
    GstElement* pipeline = image_pipeline(emu.get(), scheme);
    const std::string proxy = std::string(scheme) + "://" + socks->address();
    set_src(pipeline, "src", "proxy", proxy.c_str(), "proxy-id", "mvuser", "api-url",
            ("http://localhost:" + port).c_str(), nullptr);
    PlayResult run;
    play(pipeline, &run);
    assert_eos(run);
    fail_unless(connects(socks.get(), api_host) >= 1, "%s: the API was not reached as %s", scheme, api_host.c_str());
    fail_unless(connects(socks.get(), host_port(emu->cdn_url())) >= 1, "%s: the output was not downloaded through it",
                scheme);
    fail_unless_equals_int(socks->refused(), 0);
    fail_unless_equals_int(emu->ledger_count(), 1);
    gst_object_unref(pipeline);
  }
}
GST_END_TEST;

/* ---- TLS trust ---------------------------------------------------------------- */

GST_START_TEST(test_untrusted_ca_refused_then_trusted_with_ca_file) {
  auto emu = tls_emulator();
  GstElement* pipeline = image_pipeline(emu.get(), "private CA");
  set_src(pipeline, "src", "retries", 5, nullptr);
  PlayResult run;
  play(pipeline, &run);
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ), "%s", run.message().c_str());
  /* The host, the reason, and how to trust it. */
  assert_contains(run.message(), host_port(emu->url()));
  assert_contains(run.message(), "unknown issuer");
  assert_contains(run.message(), "ca-file");
  fail_unless_equals_int(count_origin(request_log(emu.get()), "api"), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
  gst_object_unref(pipeline);

  pipeline = image_pipeline(emu.get(), "private CA");
  set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), nullptr);
  PlayResult trusted;
  play(pipeline, &trusted);
  assert_eos(trusted);
  fail_unless_equals_int(emu->ledger_count(), 1);
  gst_object_unref(pipeline);

  /* The same trust as a GTlsDatabase, as applications give it. */
  GTlsDatabase* db = g_tls_file_database_new(test_data("tls-selfsigned.pem").c_str(), nullptr);
  fail_unless(db != nullptr);
  pipeline = image_pipeline(emu.get(), "private CA, database");
  set_src(pipeline, "src", "tls-database", db, nullptr);
  g_object_unref(db);
  PlayResult with_db;
  play(pipeline, &with_db);
  assert_eos(with_db);
  fail_unless_equals_int(emu->ledger_count(), 2);
  gst_object_unref(pipeline);

  /* A trusted CA does not make a certificate good for another name: it is
   * for IP 127.0.0.1 only, and "localhost" is the wrong host. */
  const std::string port = host_port(emu->url()).substr(host_port(emu->url()).find(':') + 1);
  pipeline = image_pipeline(emu.get(), "wrong host");
  set_src(pipeline, "src", "ca-file", test_data("tls-selfsigned.pem").c_str(), "api-url",
          ("https://localhost:" + port).c_str(), "retries", 5, nullptr);
  PlayResult wrong_host;
  play(pipeline, &wrong_host);
  fail_unless(g_error_matches(wrong_host.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ), "%s",
              wrong_host.message().c_str());
  assert_contains(wrong_host.message(), "localhost:" + port);
  assert_contains(wrong_host.message(), "wrong host");
  fail_unless_equals_int(emu->ledger_count(), 2);
  gst_object_unref(pipeline);
}
GST_END_TEST;

GST_START_TEST(test_bad_network_settings_fail_before_any_request) {
  auto emu = start_emulator();
  struct Case {
    const char* property;
    const char* value;
    const char* expected;
  };
  for (const Case& c : {Case{"ca-file", "/nonexistent/ca.pem", "/nonexistent/ca.pem"},
                        Case{"proxy", "ftp://127.0.0.1:21", "scheme"},
                        Case{"extra-headers", "headers, Authorization=\"Bearer other\"", "Authorization"},
                        Case{"extra-headers", "headers, idempotency-key=abc", "idempotency-key"},
                        Case{"extra-headers", "headers, Content-Type=text/plain", "Content-Type"},
                        Case{"extra-headers", "headers, Host=evil.example", "Host"}}) {
    GstElement* pipeline = image_pipeline(emu.get(), "refused settings");
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(src), c.property);
    GValue value = G_VALUE_INIT;
    g_value_init(&value, pspec->value_type);
    fail_unless(G_VALUE_HOLDS_STRING(&value) ? (g_value_set_string(&value, c.value), true)
                                              : gst_value_deserialize(&value, c.value),
                "%s", c.value);
    g_object_set_property(G_OBJECT(src), c.property, &value);
    g_value_unset(&value);
    gst_object_unref(src);
    PlayResult run;
    play(pipeline, &run);
    fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s=%s: %s", c.property,
                c.value, run.message().c_str());
    assert_contains(run.message(), c.expected);
    gst_object_unref(pipeline);
  }
  fail_unless_equals_int(request_log(emu.get()).size(), 0);
  fail_unless_equals_int(emu->ledger_count(), 0);
}
GST_END_TEST;

/* ---- headers -------------------------------------------------------------------- */

GST_START_TEST(test_user_agent_and_extra_headers) {
  auto emu = start_emulator();
  GstElement* pipeline = image_pipeline(emu.get(), "headers");
  GstStructure* headers = gst_structure_from_string("headers, X-Gateway-Token=gw-123, X-Team=(int)7", nullptr);
  fail_unless(headers != nullptr);
  set_src(pipeline, "src", "user-agent", "acme-player/2.1", "extra-headers", headers, nullptr);
  gst_structure_free(headers);
  PlayResult run;
  play(pipeline, &run);
  assert_eos(run);
  auto log = request_log(emu.get());
  fail_unless(count_origin(log, "api") >= 2 && count_origin(log, "cdn") >= 1);
  for (const Logged& r : log) {
    assert_str(r.header("user-agent"), "acme-player/2.1");
    if (r.origin == "api") {
      assert_str(r.header("x-gateway-token"), "gw-123");
      assert_str(r.header("x-team"), "7");
      assert_str(r.header("authorization"), "Bearer " API_KEY);
    } else {
      /* Output hosts are other origins: no extra header, no key. */
      fail_if(r.has("x-gateway-token") || r.has("x-team") || r.has("authorization"), "%s %s got API headers",
              r.origin.c_str(), r.path.c_str());
    }
  }
  gst_object_unref(pipeline);

  /* The default names the element and its version, everywhere. */
  emu->clear_requests();
  pipeline = image_pipeline(emu.get(), "default agent");
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  gchar* agent = nullptr;
  g_object_get(src, "user-agent", &agent, nullptr);
  assert_str(agent, "mindvideosrc/" PACKAGE_VERSION);
  g_free(agent);
  gst_object_unref(src);
  PlayResult plain;
  play(pipeline, &plain);
  assert_eos(plain);
  for (const Logged& r : request_log(emu.get()))
    fail_unless(g_str_has_prefix(r.header("user-agent").c_str(), "mindvideosrc/" PACKAGE_VERSION), "%s",
                r.header("user-agent").c_str());
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- answers that cannot get better --------------------------------------------- */

GST_START_TEST(test_api_answer_over_the_cap_is_not_retried) {
  auto emu = start_emulator();
  /* Every task GET answers 5 MB: one is enough to fail. */
  fail_unless(emu->add_fault(R"({"route":"poll","action":"body","body":"x","repeat":5000000,"count":-1})"));
  GstElement* pipeline = image_pipeline(emu.get(), "huge answer");
  set_src(pipeline, "src", "retries", -1, nullptr);
  PlayResult run;
  play(pipeline, &run, 60);
  fail_if(run.timed_out, "no error: the answer over the cap was retried");
  fail_unless(g_error_matches(run.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ), "%s", run.message().c_str());
  assert_contains(run.message(), "larger than 4 MiB");
  assert_contains(run.message(), "limit for an API response");
  auto log = request_log(emu.get());
  const std::string task = "/api/v1/tasks/" + src_string(pipeline, "task-id");
  fail_unless_equals_int(std::count_if(log.begin(), log.end(),
                                       [&task](const Logged& r) { return r.method == "GET" && r.path == task; }),
                         1);
  gst_object_unref(pipeline);

  /* The same for the submission: one POST, nothing charged. */
  emu->reset();
  fail_unless(emu->add_fault(R"({"route":"submit","action":"body","body":"y","repeat":5000000,"count":-1})"));
  pipeline = image_pipeline(emu.get(), "huge submission answer");
  set_src(pipeline, "src", "retries", -1, nullptr);
  PlayResult submit;
  play(pipeline, &submit, 60);
  fail_if(submit.timed_out, "no error: the answer over the cap was retried");
  assert_contains(submit.message(), "larger than 4 MiB");
  fail_unless_equals_int(count_requests(request_log(emu.get()), "api", "POST"), 1);
  fail_unless_equals_int(emu->ledger_count(), 0);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- sessions --------------------------------------------------------------------- */

/* Records each element's session when it announces it. */
struct Sessions {
  std::mutex lock;
  std::map<std::string, guint64> of;
};

static GstBusSyncReply note_session(GstBus*, GstMessage* msg, gpointer data) {
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_HAVE_CONTEXT) {
    GstContext* context = nullptr;
    gst_message_parse_have_context(msg, &context);
    guint64 id = 0;
    if (context && gst_structure_get_uint64(gst_context_get_structure(context), "id", &id)) {
      auto* sessions = static_cast<Sessions*>(data);
      std::lock_guard<std::mutex> guard(sessions->lock);
      sessions->of[GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))] = id;
    }
    if (context)
      gst_context_unref(context);
  }
  return GST_BUS_PASS;
}

GST_START_TEST(test_elements_with_different_proxies_keep_their_own) {
  auto emu = start_emulator();
  auto first = start_proxy();
  auto second = start_proxy();
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(
      "mindvideosrc name=a ! fakesink mindvideosrc name=b ! fakesink mindvideosrc name=c ! fakesink "
      "mindvideosrc name=d ! fakesink",
      &err);
  fail_unless(pipeline != nullptr, "%s", err ? err->message : "?");
  const char* names[] = {"a", "b", "c", "d"};
  for (const char* name : names)
    set_src(pipeline, name, "api-url", emu->url().c_str(), "api-key", API_KEY, "model", "gpt-image-2", "prompt",
            (std::string("sharing ") + name).c_str(), "input", R"({"size":"1:1"})", "poll-interval", 100, nullptr);
  /* a and d: the first proxy; b: the second; c: none (direct). */
  set_src(pipeline, "a", "proxy", first->url().c_str(), nullptr);
  set_src(pipeline, "d", "proxy", first->url().c_str(), nullptr);
  set_src(pipeline, "b", "proxy", second->url().c_str(), nullptr);
  Sessions sessions;
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, note_session, &sessions, nullptr);
  PlayResult run;
  play(pipeline, &run);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  assert_eos(run);

  auto task_of = [&](const char* name) {
    GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), name);
    gchar* id = nullptr;
    g_object_get(src, "task-id", &id, nullptr);
    gst_object_unref(src);
    std::string out = id ? id : "";
    g_free(id);
    fail_if(out.empty(), "%s has no task", name);
    return out;
  };
  const std::string a = task_of("a"), b = task_of("b"), c = task_of("c"), d = task_of("d");
  auto through = [](Tinyproxy* proxy, const std::string& task) { return proxy->carried("/api/v1/tasks/" + task) > 0; };
  fail_unless(through(first.get(), a) && !through(second.get(), a), "a did not use only the first proxy");
  fail_unless(through(first.get(), d) && !through(second.get(), d), "d did not use only the first proxy");
  fail_unless(through(second.get(), b) && !through(first.get(), b), "b did not use only the second proxy");
  fail_unless(!through(first.get(), c) && !through(second.get(), c), "c went through a proxy");

  /* Sessions: a and d share one; b and c each have another. */
  std::lock_guard<std::mutex> guard(sessions.lock);
  fail_unless_equals_int(sessions.of.size(), 4);
  fail_unless(sessions.of["a"] == sessions.of["d"], "a and d have identical settings but two sessions");
  fail_unless(sessions.of["a"] != sessions.of["b"]);
  fail_unless(sessions.of["a"] != sessions.of["c"]);
  fail_unless(sessions.of["b"] != sessions.of["c"]);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static Suite* network_suite(void) {
  Suite* s = suite_create("mindvideosrc-network");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_proxy_carries_api_and_downloads);
  tcase_add_test(tc, test_proxy_https_through_connect_with_ca_file);
  tcase_add_test(tc, test_proxy_credentials);
  tcase_add_test(tc, test_proxy_without_credentials_is_refused_at_once);
  tcase_add_test(tc, test_api_key_refused_through_an_authenticating_proxy);
  tcase_add_test(tc, test_environment_proxy_and_no_proxy);
  tcase_add_test(tc, test_environment_proxy_with_credentials);
  tcase_add_test(tc, test_environment_proxy_credentials_in_uri);
  tcase_add_test(tc, test_proxy_credentials_dropped_on_a_redirect_to_a_direct_host);
  tcase_add_test(tc, test_proxy_keeping_the_connection_after_407);
  tcase_add_test(tc, test_proxy_property_overrides_environment);
  tcase_add_test(tc, test_socks5_proxy);
  tcase_add_test(tc, test_socks5_proxy_credentials);
  tcase_add_test(tc, test_socks4_proxies);
  tcase_add_test(tc, test_untrusted_ca_refused_then_trusted_with_ca_file);
  tcase_add_test(tc, test_bad_network_settings_fail_before_any_request);
  tcase_add_test(tc, test_user_agent_and_extra_headers);
  tcase_add_test(tc, test_api_answer_over_the_cap_is_not_retried);
  tcase_add_test(tc, test_elements_with_different_proxies_keep_their_own);
  return s;
}

GST_CHECK_MAIN(network);
