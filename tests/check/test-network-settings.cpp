/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The network settings without a server: which headers extra-headers may
 * set, how proxies are shown, when two elements may share a session.
 */
#include "network.h"
#include "proxy-resolver.h"

#include <string>

/* Last: its fail() macro clashes with C++ library headers. */
#include <gst/check/gstcheck.h>

#include "assertions.h"

GST_START_TEST(test_reserved_headers_refused) {
  for (const char* name : {"Authorization", "authorization", "IDEMPOTENCY-KEY", "Content-Type", "content-type", "Host",
                           "hOsT"}) {
    std::string why;
    fail_unless(mv::is_reserved_header(name), "%s", name);
    fail_if(mv::check_extra_headers({{name, "x"}}, &why), "%s accepted", name);
    assert_contains(why, name);
    assert_contains(why, "may not set");
  }
  std::string why;
  fail_unless(mv::check_extra_headers({{"X-Gateway-Token", "abc"}, {"Accept-Language", "fr"}, {"X-Empty", ""}}, &why),
              "%s", why.c_str());
  fail_unless(mv::check_extra_headers({}, &why));
  /* Not a token, or a value that would inject a header. */
  fail_if(mv::check_extra_headers({{"Bad Name", "x"}}, &why));
  assert_contains(why, "not a valid HTTP header name");
  fail_if(mv::check_extra_headers({{"X-A:", "x"}}, &why));
  fail_if(mv::check_extra_headers({{"", "x"}}, &why));
  fail_if(mv::check_extra_headers({{"X-Inject", "a\r\nAuthorization: Bearer stolen"}}, &why));
  assert_contains(why, "line break");
}
GST_END_TEST;

GST_START_TEST(test_headers_from_structure) {
  GstStructure* s = gst_structure_from_string(
      "headers, X-Token=(string)abc, X-Number=(int)42, X-List=(string){ a, b }, X-Array=<(string)c, (string)d>",
      nullptr);
  fail_unless(s != nullptr);
  mv::Headers headers;
  std::string why;
  fail_unless(mv::headers_from_structure(s, &headers, &why), "%s", why.c_str());
  fail_unless_equals_int(headers.size(), 4);
  assert_str(headers[0].first, "X-Token");
  assert_str(headers[0].second, "abc");
  assert_str(headers[1].second, "42");
  assert_str(headers[2].second, "a, b");
  assert_str(headers[3].second, "c, d");
  gst_structure_free(s);
  fail_unless(mv::headers_from_structure(nullptr, &headers, &why));
  fail_unless(headers.empty());
}
GST_END_TEST;

GST_START_TEST(test_proxy_uris) {
  assert_str(mv::normalize_proxy("127.0.0.1:3128"), "http://127.0.0.1:3128");
  assert_str(mv::normalize_proxy("socks5://127.0.0.1:1080"), "socks5://127.0.0.1:1080");
  assert_str(mv::normalize_proxy(""), "");
  /* Shown and logged without credentials. */
  assert_str(mv::proxy_for_display("http://user:secret@proxy.example:3128"), "http://proxy.example:3128");
  assert_str(mv::proxy_for_display("proxy.example:3128"), "http://proxy.example:3128");
  fail_if(mv::proxy_for_display("http://u:secret@[bad").find("secret") != std::string::npos);
  /* Credentials go into the URI GIO gets, escaped. */
  assert_str(mv::proxy_with_credentials("http://127.0.0.1:3128", "me", "p@ss:w/rd"),
             "http://me:p%40ss%3Aw%2Frd@127.0.0.1:3128");
  assert_str(mv::proxy_with_credentials("127.0.0.1:3128", "", ""), "http://127.0.0.1:3128");
  /* Read back without the password, the user name kept. */
  assert_str(mv::proxy_without_password("http://jdoe:s3cret@proxy.example:3128"), "http://jdoe@proxy.example:3128");
  assert_str(mv::proxy_without_password("http://jdoe@proxy.example:3128"), "http://jdoe@proxy.example:3128");
  assert_str(mv::proxy_without_password("proxy.example:3128"), "proxy.example:3128");
  assert_str(mv::proxy_without_password(""), "");
  fail_if(mv::proxy_without_password("http://u:secret@[bad").find("secret") != std::string::npos);
  /* A URI's own credentials, decoded. */
  std::string user, password;
  fail_unless(mv::proxy_userinfo("http://j%40doe:p%3Ass%2F@proxy.example:3128", &user, &password));
  assert_str(user, "j@doe");
  assert_str(password, "p:ss/");
  fail_unless(mv::proxy_userinfo("socks5://jdoe@127.0.0.1:1080", &user, &password));
  assert_str(user, "jdoe");
  assert_str(password, "");
  fail_if(mv::proxy_userinfo("http://proxy.example:3128", &user, &password));
  fail_if(mv::proxy_userinfo("", &user, &password));
}
GST_END_TEST;

/* An HTTP proxy's URI loses its credentials to the side store, keyed as
 * libsoup names the proxy in SoupAuth:authority; others keep theirs. */
GST_START_TEST(test_proxy_logins_kept_aside) {
  mv::ProxyLogins logins;
  std::string user, password;
  assert_str(mv::strip_proxy_login("http://j%40doe:p%3Ass@proxy.example:3128", &logins), "http://proxy.example:3128");
  fail_unless(logins.find("proxy.example:3128", &user, &password));
  assert_str(user, "j@doe");
  assert_str(password, "p:ss");
  /* No port: the scheme's, as libsoup fills it in. */
  assert_str(mv::strip_proxy_login("http://me:pw@proxy.example", &logins), "http://proxy.example");
  fail_unless(logins.find("proxy.example:80", &user, &password));
  assert_str(user, "me");
  assert_str(mv::proxy_authority("http://proxy.example"), "proxy.example:80");
  assert_str(mv::proxy_authority("http://127.0.0.1:3128"), "127.0.0.1:3128");
  assert_str(mv::proxy_authority("not a uri"), "");
  /* A password alone goes too, and so does one GLib's strict parser
   * refuses (it would print it). */
  assert_str(mv::strip_proxy_login("http://:t0ken@proxy.example:3128", &logins), "http://proxy.example:3128");
  fail_unless(logins.find("proxy.example:3128", &user, &password));
  assert_str(user, "");
  assert_str(password, "t0ken");
  assert_str(mv::strip_proxy_login("http://me:50%off@proxy.example:8080", &logins), "http://proxy.example:8080");
  fail_unless(logins.find("proxy.example:8080", &user, &password));
  assert_str(password, "50%off");
  /* GIO answers SOCKS and https:// proxies with the URI's credentials. */
  for (const char* kept : {"socks5://me:pw@127.0.0.1:1080", "https://me:pw@proxy.example:443", "http://proxy.example:3128",
                           "direct://"})
    assert_str(mv::strip_proxy_login(kept, &logins), kept);
  fail_if(logins.find("127.0.0.1:1080", &user, &password));
}
GST_END_TEST;

GST_START_TEST(test_settings_checked_without_network) {
  std::string why;
  mv::NetworkSettings ok;
  fail_unless(ok.is_default());
  fail_unless(mv::check_network_settings(ok, &why), "%s", why.c_str());

  mv::NetworkSettings s;
  s.proxy = "ftp://127.0.0.1:21";
  fail_if(mv::check_network_settings(s, &why));
  assert_contains(why, "scheme");
  s.proxy = "http://";
  fail_if(mv::check_network_settings(s, &why));
  for (const char* good : {"http://127.0.0.1:3128", "127.0.0.1:3128", "socks5://127.0.0.1:1080", "https://p.example"}) {
    s.proxy = good;
    fail_unless(mv::check_network_settings(s, &why), "%s: %s", good, why.c_str());
  }
  s.proxy_pw = "secret\nX: y";
  fail_if(mv::check_network_settings(s, &why));
  fail_if(why.find("secret") != std::string::npos, "the password is in the message");

  mv::NetworkSettings ca;
  ca.ca_file = "/nonexistent/ca.pem";
  fail_if(mv::check_network_settings(ca, &why));
  assert_contains(why, "/nonexistent/ca.pem");
  const char* data = g_getenv("MINDVIDEO_TEST_DATA");
  fail_unless(data != nullptr);
  ca.ca_file = std::string(data) + "/tls-selfsigned.pem";
  fail_unless(mv::check_network_settings(ca, &why), "%s", why.c_str());
  GTlsDatabase* db = g_tls_file_database_new(ca.ca_file.c_str(), nullptr);
  fail_unless(db != nullptr);
  ca.tls_database = mv::tls_database_ref(db);
  g_object_unref(db);
  fail_if(mv::check_network_settings(ca, &why));
  assert_contains(why, "not both");

  mv::NetworkSettings headers;
  headers.extra_headers = {{"Host", "evil.example"}};
  fail_if(mv::check_network_settings(headers, &why));
  assert_contains(why, "Host");
}
GST_END_TEST;

GST_START_TEST(test_sessions_shared_only_when_identical) {
  mv::NetworkSettings a, b;
  fail_unless(mv::same_session(a, b));
  /* Per-request headers do not matter. */
  b.extra_headers = {{"X-Token", "1"}};
  fail_unless(mv::same_session(a, b));
  fail_unless(b.is_default());
  auto differs = [&a](void (*change)(mv::NetworkSettings*)) {
    mv::NetworkSettings other;
    change(&other);
    fail_if(mv::same_session(a, other));
    fail_if(other.is_default());
  };
  differs([](mv::NetworkSettings* s) { s->proxy = "http://127.0.0.1:1"; });
  differs([](mv::NetworkSettings* s) { s->proxy_id = "me"; });
  differs([](mv::NetworkSettings* s) { s->proxy_pw = "pw"; });
  differs([](mv::NetworkSettings* s) { s->ca_file = "/etc/ssl/certs/ca-certificates.crt"; });
  differs([](mv::NetworkSettings* s) { s->user_agent = "other/1"; });
  differs([](mv::NetworkSettings* s) { s->io_timeout_s = 5; });
  GTlsDatabase* db = g_tls_backend_get_default_database(g_tls_backend_get_default());
  if (db) {
    mv::NetworkSettings with_db;
    with_db.tls_database = mv::tls_database_ref(db);
    fail_if(mv::same_session(a, with_db));
    mv::NetworkSettings same_db;
    same_db.tls_database = mv::tls_database_ref(db);
    fail_unless(mv::same_session(with_db, same_db));
    g_object_unref(db);
  }
}
GST_END_TEST;

GST_START_TEST(test_tls_reasons_in_words) {
  assert_str(mv::tls_errors_text((GTlsCertificateFlags)0), "");
  assert_contains(mv::tls_errors_text(G_TLS_CERTIFICATE_UNKNOWN_CA), "unknown issuer");
  assert_contains(mv::tls_errors_text(G_TLS_CERTIFICATE_EXPIRED), "expired");
  std::string both = mv::tls_errors_text((GTlsCertificateFlags)(G_TLS_CERTIFICATE_BAD_IDENTITY | G_TLS_CERTIFICATE_EXPIRED));
  assert_contains(both, "wrong host");
  assert_contains(both, "expired");
}
GST_END_TEST;

static Suite* network_settings_suite(void) {
  Suite* s = suite_create("mindvideo-network-settings");
  TCase* tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_reserved_headers_refused);
  tcase_add_test(tc, test_headers_from_structure);
  tcase_add_test(tc, test_proxy_uris);
  tcase_add_test(tc, test_proxy_logins_kept_aside);
  tcase_add_test(tc, test_settings_checked_without_network);
  tcase_add_test(tc, test_sessions_shared_only_when_identical);
  tcase_add_test(tc, test_tls_reasons_in_words);
  return s;
}

GST_CHECK_MAIN(network_settings);
