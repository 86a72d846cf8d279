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

#include <stdint.h>

#include "common/cfg.h"
#include "common/err.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "storage/store_export.h"

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

/* The id (web_events.id) up to which this server has read the live events and acted on
 * them: an event committed with an id at most this has reached the streams and the kept
 * credentials (tests wait on it after changing credentials behind the server's back). */
long long web_events_read(struct web *w);

/* Stops accepting, ends open event streams, waits for requests in flight, frees.
 * web_free(NULL) is a no-op. */
void web_free(struct web *w);

/* Generates an API token: "tl_" and 43 characters of base64url (256 random bits) into
 * token (size >= 64), and the SHA-256 hex of it (what is stored) into sha (size 65). */
int web_token_new(char *token, char *sha) TL_WUR;

/* ---- credentials checked lately (creds.c) ----
 * The server keeps a successful check of a bearer token or session for
 * web_auth_cache_seconds, dropped as soon as its event reader reads that something about
 * accounts, tokens or sessions changed (migration 0015), and not used at all while the
 * reader has not read for WEB_CREDS_FRESH_MS. bench_triage runs the same. Thread-safe. */
#define WEB_CREDS_KEY 72        /* "t:" or "s:" and the credential's SHA-256 hex */
#define WEB_CREDS_FRESH_MS 1000 /* kept answers count while the reader read this recently */
struct web_creds;
/* ttl_seconds 0: nothing is kept. Free with web_creds_free. */
int web_creds_new(long ttl_seconds, struct web_creds **out) TL_WUR;
void web_creds_free(struct web_creds *c);
/* 1 and *p when key's check is kept and still counts, else 0; either way *gen is what
 * web_creds_put must be given after the check in the database. */
int web_creds_get(struct web_creds *c, const char *key, struct store_principal *p, uint64_t *gen);
/* Keeps p for key (at most p->valid_ms), unless a flush came since gen was handed out. */
void web_creds_put(struct web_creds *c, const char *key, const struct store_principal *p,
                   uint64_t gen);
/* Drops every kept answer (credentials changed). */
void web_creds_flush(struct web_creds *c);
/* An event read from web_events, by its "event" field: when it says credentials changed
 * ("auth", migration 0015), flushes and returns 1; else 0. */
int web_creds_event(struct web_creds *c, const char *event);
/* The event reader's word after each read: ok 1 read, 0 failed (drops all; kept answers
 * count again from the next good read, which drops all once more). */
void web_creds_read(struct web_creds *c, int ok);

/* 1 when name may name an account: 1 to 32 of a-z, 0-9, '.', '_', '-'. */
int web_account_name_ok(const char *name);

/* ---- export formats (export_fmt.c): one row at a time ----
 *   struct web_export_fmt w = {.format = WEB_EXPORT_CSV, .hxl = 1};
 *   web_export_head(&w, &b); for each row: web_export_row(&w, &row, &b);
 *   web_export_tail(&w, &b);
 * Each appends to b (the caller drains it as it likes); TL_ENOMEM when b cannot grow. */
enum web_export_format {
    WEB_EXPORT_GEOJSON,
    WEB_EXPORT_CSV,
    WEB_EXPORT_KML,
    WEB_EXPORT_GEOJSONSEQ,
};
struct web_export_fmt {
    enum web_export_format format;
    int with_text; /* the report's text as a property (the export read it) */
    int hxl;       /* CSV: an HXL hashtag row under the header */
    long long n;   /* rows written */
};
/* "geojson", "csv", "kml", "geojsonseq"; TL_EINVAL otherwise. */
int web_export_format_parse(const char *name, enum web_export_format *out) TL_WUR;
/* The media type of a format (Content-Type). */
const char *web_export_mime(enum web_export_format f);
int web_export_head(struct web_export_fmt *w, struct tl_buf *b) TL_WUR;
int web_export_row(struct web_export_fmt *w, const struct store_export_row *r,
                   struct tl_buf *b) TL_WUR;
int web_export_tail(struct web_export_fmt *w, struct tl_buf *b) TL_WUR;
/* A row's "after" cursor, "<decided microseconds>_<id>" (what feeds take back). */
#define WEB_EXPORT_CURSOR 48
void web_export_cursor(const struct store_export_row *r, char out[WEB_EXPORT_CURSOR]);

/* ---- outgoing webhooks' targets (webhook_addr.c) ---- */
struct sockaddr;
/* 1 when sa (AF_INET or AF_INET6; any other family counts as private) is no public
 * unicast address: loopback, RFC 1918, link-local (the cloud metadata services),
 * shared (CGNAT), unspecified, multicast, reserved, documentation, unique local, and
 * the IPv6 forms that carry such an IPv4 address (mapped, NAT64, 6to4). */
int web_addr_private(const struct sockaddr *sa);
/* Checks a webhook URL's target: the host as libcurl parses it, resolved, every address
 * public unless allow_private. TL_OK: pin (CURLOPT_RESOLVE's "HOST:PORT:ADDRESS") names
 * the checked address to connect to. Else why says what: TL_EINVAL (not an http(s) URL
 * with a host, or a private address), TL_ENET (does not resolve). */
#define WEB_WEBHOOK_PIN 320
int web_webhook_target(const char *url, int allow_private, char *pin, size_t pinsz, char *why,
                       size_t whysz) TL_WUR;

#endif
