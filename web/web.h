/* web/web.h - the analysts' HTTP API and console (libmicrohttpd): JSON routes over
 * the PostgreSQL queue (web/openapi.yaml is the contract), the static console
 * embedded at build time, and live updates by Server-Sent Events fed by a poll of
 * the web_events table (migration 0013). TLS is the reverse proxy's job
 * (deploy/nginx-tipline.conf).
 *
 *   struct web_opts o = {.cfg = &cfg, .listen = "127.0.0.1:8080"};
 *   struct web *w;
 *   if (web_start(&o, &w, &ei) == TL_OK) { ... wait for a signal ...; web_free(w); }
 */
#ifndef TL_WEB_H
#define TL_WEB_H

#include "common/cfg.h"
#include "common/err.h"

struct web;

struct web_opts {
    const struct cfg *cfg; /* database_url, lease_seconds and the web keys; kept, not copied:
                              it must outlive the server */
    const char *listen;    /* "host:port" (port 0: an ephemeral one); NULL: cfg->http_listen */
};

/* Connects to the database (a pool of cfg->web_db_connections and one connection
 * that polls the live events) and starts serving in threads of its own. *out NULL on error. */
int web_start(const struct web_opts *o, struct web **out, struct tl_errinfo *ei) TL_WUR;

/* The port actually bound (useful with port 0). */
unsigned web_port(const struct web *w);

/* Stops accepting, ends open event streams, waits for requests in flight, frees.
 * web_free(NULL) is a no-op. */
void web_free(struct web *w);

/* Generates an API token: "tl_" and 43 characters of base64url (256 random bits) into
 * token (size >= 64), and the SHA-256 hex of it (what is stored) into sha (size 65). */
int web_token_new(char *token, char *sha) TL_WUR;

/* 1 when name may name an account: 1 to 32 of a-z, 0-9, '.', '_', '-'. */
int web_account_name_ok(const char *name);

#endif
