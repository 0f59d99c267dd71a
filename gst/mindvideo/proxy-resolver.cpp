/* mindvideosrc
 * Copyright (C) 2026 mindvideosrc developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "proxy-resolver.h"

namespace mv {

void ProxyLogins::remember(const std::string& authority, const std::string& user, const std::string& password) {
  std::lock_guard<std::mutex> guard(lock_);
  by_authority_[authority] = {user, password};
}

bool ProxyLogins::find(const std::string& authority, std::string* user, std::string* password) const {
  std::lock_guard<std::mutex> guard(lock_);
  auto it = by_authority_.find(authority);
  if (it == by_authority_.end())
    return false;
  *user = it->second.first;
  *password = it->second.second;
  return true;
}

std::string proxy_authority(const std::string& uri) {
  /* SCHEME_NORMALIZE fills in the default port, as libsoup parses it. */
  g_autoptr(GUri) parsed = g_uri_parse(
      uri.c_str(), (GUriFlags)(G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_SCHEME_NORMALIZE | G_URI_FLAGS_PARSE_RELAXED),
      nullptr);
  if (!parsed || !g_uri_get_host(parsed))
    return "";
  return std::string(g_uri_get_host(parsed)) + ":" + std::to_string(g_uri_get_port(parsed));
}

std::string strip_proxy_login(const std::string& uri, ProxyLogins* logins) {
  /* Relaxed: GLib would print a URI it cannot parse, password and all. */
  g_autoptr(GUri) parsed =
      g_uri_parse(uri.c_str(), (GUriFlags)(G_URI_FLAGS_HAS_PASSWORD | G_URI_FLAGS_PARSE_RELAXED), nullptr);
  /* Any userinfo, even "http://:token@host": libsoup would answer with it
   * itself (see the header). */
  if (!parsed || g_strcmp0(g_uri_get_scheme(parsed), "http") != 0 || !g_uri_get_userinfo(parsed))
    return uri;
  logins->remember(proxy_authority(uri), g_uri_get_user(parsed) ? g_uri_get_user(parsed) : "",
                   g_uri_get_password(parsed) ? g_uri_get_password(parsed) : "");
  g_autofree gchar* bare = g_uri_join(G_URI_FLAGS_NONE, "http", nullptr, g_uri_get_host(parsed),
                                      g_uri_get_port(parsed), "", nullptr, nullptr);
  return bare;
}

namespace {

struct Resolver {
  GObject parent;
  GProxyResolver* inner;
  std::shared_ptr<ProxyLogins>* logins;
};

struct ResolverClass {
  GObjectClass parent_class;
};

gchar** strip_all(Resolver* self, gchar** proxies) {
  for (gchar** p = proxies; p && *p; p++) {
    const std::string stripped = strip_proxy_login(*p, self->logins->get());
    if (stripped != *p) {
      g_free(*p);
      *p = g_strdup(stripped.c_str());
    }
  }
  return proxies;
}

Resolver* resolver_of(GProxyResolver* resolver) {
  return reinterpret_cast<Resolver*>(resolver);
}

gboolean resolver_is_supported(GProxyResolver* resolver) {
  return g_proxy_resolver_is_supported(resolver_of(resolver)->inner);
}

gchar** resolver_lookup(GProxyResolver* resolver, const gchar* uri, GCancellable* cancellable, GError** error) {
  Resolver* self = resolver_of(resolver);
  return strip_all(self, g_proxy_resolver_lookup(self->inner, uri, cancellable, error));
}

void resolver_lookup_async(GProxyResolver* resolver, const gchar* uri, GCancellable* cancellable,
                           GAsyncReadyCallback callback, gpointer user_data) {
  GTask* task = g_task_new(resolver, cancellable, callback, user_data);
  g_proxy_resolver_lookup_async(
      resolver_of(resolver)->inner, uri, cancellable,
      [](GObject* inner, GAsyncResult* result, gpointer data) {
        GTask* task = G_TASK(data);
        GError* error = nullptr;
        gchar** proxies = g_proxy_resolver_lookup_finish(G_PROXY_RESOLVER(inner), result, &error);
        if (proxies)
          g_task_return_pointer(task, strip_all(resolver_of(G_PROXY_RESOLVER(g_task_get_source_object(task))), proxies),
                                (GDestroyNotify)g_strfreev);
        else
          g_task_return_error(task, error);
        g_object_unref(task);
      },
      task);
}

gchar** resolver_lookup_finish(GProxyResolver*, GAsyncResult* result, GError** error) {
  return static_cast<gchar**>(g_task_propagate_pointer(G_TASK(result), error));
}

GObjectClass* resolver_parent_class = nullptr;

void resolver_finalize(GObject* object) {
  auto* self = reinterpret_cast<Resolver*>(object);
  g_clear_object(&self->inner);
  delete self->logins;
  self->logins = nullptr;
  resolver_parent_class->finalize(object);
}

void resolver_class_init(gpointer klass, gpointer) {
  resolver_parent_class = G_OBJECT_CLASS(g_type_class_peek_parent(klass));
  G_OBJECT_CLASS(klass)->finalize = resolver_finalize;
}

void resolver_iface_init(gpointer iface, gpointer) {
  auto* resolver = static_cast<GProxyResolverInterface*>(iface);
  resolver->is_supported = resolver_is_supported;
  resolver->lookup = resolver_lookup;
  resolver->lookup_async = resolver_lookup_async;
  resolver->lookup_finish = resolver_lookup_finish;
}

GType resolver_get_type() {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    /* A name of this copy's own: a test that links the core and loads the
     * plugin holds two copies of this code in one process. */
    g_autofree gchar* name = g_strdup_printf("MvProxyResolver%" G_GUINTPTR_FORMAT, (guintptr)&type);
    GType t = g_type_register_static_simple(G_TYPE_OBJECT, name, sizeof(ResolverClass), resolver_class_init,
                                            sizeof(Resolver), nullptr, G_TYPE_FLAG_FINAL);
    const GInterfaceInfo iface = {resolver_iface_init, nullptr, nullptr};
    g_type_add_interface_static(t, G_TYPE_PROXY_RESOLVER, &iface);
    g_once_init_leave(&type, t);
  }
  return (GType)type;
}

}  // namespace

GProxyResolver* proxy_resolver_new(GProxyResolver* inner, std::shared_ptr<ProxyLogins> logins) {
  auto* self = static_cast<Resolver*>(g_object_new(resolver_get_type(), nullptr));
  self->inner = G_PROXY_RESOLVER(g_object_ref(inner));
  self->logins = new std::shared_ptr<ProxyLogins>(std::move(logins));
  return G_PROXY_RESOLVER(self);
}

}  // namespace mv
