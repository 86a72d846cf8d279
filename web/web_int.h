/* web/web_int.h - internal to web/ (and its fuzzer): the parsers of what a client
 * sends (paths, query strings, cookies, JSON bodies, filters), the route table, the
 * request/response shapes and the live-update fan-out. */
#ifndef TL_WEB_INT_H
#define TL_WEB_INT_H

#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/cfg.h"
#include "common/prom.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "web/web.h"

#define WEB_BODY_MAX (64 * 1024)
#define WEB_MAX_SEGS 8
#define WEB_MAX_PARAMS 16
#define WEB_MSG 160

/* ---- parsers of outside bytes (parse.c): never trust, never crash ---- */

/* 1 when m is a request method: 1..32 RFC 9110 token characters (what an error message
 * may quote back), else 0. */
int web_method_ok(const char *m);

/* A path split into percent-decoded segments: "/api/reports/12" -> api, reports, 12.
 * TL_EINVAL for bad escapes, NUL bytes, bytes that are not UTF-8 once decoded, "." or
 * ".." segments, or too many segments. */
struct web_path {
    char *segs[WEB_MAX_SEGS];
    size_t n;
};
int web_path_parse(const char *path, struct web_path *p) TL_WUR;
void web_path_release(struct web_path *p);

struct web_kv {
    char *key, *val;
};
/* A query string (without '?'): key=value pairs, '+' and %XX decoded. TL_EINVAL (msg
 * says why) for bad escapes, an encoded NUL, bytes that are not UTF-8 once decoded, a
 * repeated key or too many. */
struct web_query {
    struct web_kv kv[WEB_MAX_PARAMS];
    size_t n;
};
int web_query_parse(const char *qs, struct web_query *q, char *msg, size_t msgsz) TL_WUR;
void web_query_release(struct web_query *q);
const char *web_query_get(const struct web_query *q, const char *key);
/* TL_EINVAL (msg names it) when q holds a key not in allowed (NULL-terminated). */
int web_query_allowed(const struct web_query *q, const char *const *allowed, char *msg,
                      size_t msgsz) TL_WUR;

/* The value of cookie name in a Cookie header when it is 64 lower-case hex digits
 * (what tipline sets); 1 found, 0 not. out: size 65. */
int web_cookie_session(const char *header, const char *name, char *out);

/* WF_STRINGS: an array of strings, each at most max_len bytes */
enum web_ftype { WF_STRING, WF_INT, WF_BOOL, WF_STRINGS };
struct web_field {
    const char *name;
    enum web_ftype type;
    int required;
    size_t max_len; /* strings (each of WF_STRINGS): bytes; 0 = any */
};
/* Parses a JSON object body strictly (one object, nothing after it) and checks it
 * against fields (terminated by a NULL name): unknown fields, wrong types, missing
 * required fields, oversized strings, any string (or key) that is not UTF-8 or holds a
 * NUL -> TL_EINVAL with msg. An empty body is {}.
 * *out: json_object_put. */
int web_body_parse(const char *body, size_t len, const struct web_field *fields,
                   struct json_object **out, char *msg, size_t msgsz) TL_WUR;

/* 1 when s is an ISO 8601 UTC or offset time: YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM), a
 * day that the month has (2026-02-31 is none). */
int web_iso_valid(const char *s);
/* "W,S,E,N" in degrees, W < E, S < N, inside [-180,180] x [-90,90]. */
int web_bbox_parse(const char *s, double out[4]) TL_WUR;
/* The list's cursor "<us>_<id>": microseconds since 1970 up to the end of year 9999
 * (the database's timestamps end not far beyond), an id > 0. */
#define WEB_CURSOR_US_MAX 253402300799999999LL
int web_cursor_parse(const char *s, long long *us, long long *id) TL_WUR;
/* An integer in [min, max]. */
int web_long_parse(const char *s, long min, long max, long *out) TL_WUR;

/* The query of GET /api/reports and GET /api/export.geojson into f. */
int web_list_filter(const struct web_query *q, struct store_web_filter *f, char *msg,
                    size_t msgsz) TL_WUR;
int web_export_filter(const struct web_query *q, struct store_web_filter *f, char *msg,
                      size_t msgsz) TL_WUR;

/* ---- roles and routes (api.c) ---- */

enum web_role { WR_ANALYST = 1, WR_MODERATOR = 2, WR_EXPORTER = 4, WR_ADMIN = 8 };
unsigned web_role_bit(const char *role);

struct web_resp {
    unsigned status;
    char *body; /* owned */
    size_t len;
    const char *ctype;
    const char *static_body; /* embedded, not owned (used when body is NULL) */
    char *set_cookie;        /* owned */
    long retry_after;        /* > 0: Retry-After seconds */
    char allow[32];          /* 405: the methods the path takes */
    const char *cache;       /* Cache-Control; NULL: no-store */
    const char *applied;     /* Preference-Applied, or NULL */
    struct web_sse *sse;     /* an event stream instead of a body */
    int close;               /* Connection: close (a body left unread) */
    int accept_ranges;       /* 1: Accept-Ranges: bytes */
    char content_range[64];  /* Content-Range of a 206 or 416, "" none */
    /* a body written while it is sent (export.c): read like web_sse_read, freed by
     * reader_free, instead of body */
    ssize_t (*reader)(void *cls, uint64_t pos, char *buf, size_t max);
    void (*reader_free)(void *cls);
    void *reader_cls;
    char *headers; /* owned: more header lines, "Name: value\n" each, or NULL */
};

struct web_call {
    struct web *w;
    const struct cfg *cfg;   /* the server's configuration */
    struct web_creds *creds; /* its kept credential checks: a route that changes one drops them */
    struct web_events *ev;   /* its live updates, for an event stream */
    struct web_streams *streams; /* its open event streams per account */
    struct store *s;
    struct store *rs; /* where a read-only route reads: the replica's connection, or s */
    int on_replica;   /* rs is the replica's */
    struct store_principal who_p;
    struct store_who who;
    int by_session;
    char sid_sha[65]; /* the session's cookie hash, when by_session */
    const struct web_path *path;
    const struct web_query *q;
    struct json_object *body;  /* validated against the route's fields */
    const char *client;        /* the peer's address, for per-client limits */
    const char *last_event_id; /* an event stream's Last-Event-ID header, or NULL */
    const char *range;         /* the Range header, or NULL */
    int prefer_minimal;        /* Prefer: return=minimal */
    struct web_resp *resp;
    void *conn; /* the request's connection, for web_header */
};
/* A request header of c (first of its name), or NULL. */
const char *web_header(const struct web_call *c, const char *name);

/* A Range header against a body of total bytes (range.c): WEB_RANGE_OK with *first and
 * *last (inclusive), WEB_RANGE_NONE (absent, several ranges, another unit or malformed:
 * send the whole body), WEB_RANGE_UNSATISFIABLE (416). */
enum { WEB_RANGE_NONE = 0, WEB_RANGE_OK, WEB_RANGE_UNSATISFIABLE };
int web_range_parse(const char *h, size_t total, size_t *first, size_t *last);

struct web_route {
    const char *method;
    const char *pattern; /* segments; "*" matches one */
    unsigned roles;      /* 0: public (login) */
    int (*fn)(struct web_call *c);
    const struct web_field *body;
    const char *const *params; /* allowed query keys, NULL: none */
};

/* The route for method and path; NULL when none: *path_known says whether another
 * method takes the path (405, with the methods in allow, size >= 32) or not (404). */
const struct web_route *web_route_find(const char *method, const struct web_path *p,
                                       int *path_known, char *allow, size_t allowsz);

/* The i-th route of the table, NULL past its end (the test that holds the table against
 * web/openapi.yaml lists it with this). */
const struct web_route *web_route_at(size_t i);

/* ---- responses (reply.c) ---- */
int web_reply_json(struct web_resp *r, unsigned status, char *owned_json);
int web_reply_err(struct web_resp *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a storage error to its HTTP status and JSON error. */
int web_reply_store_err(struct web_resp *r, int rc, const struct tl_errinfo *ei);

/* out holds the peer's address; when the peer is one of trusted (comma-separated
 * addresses), out becomes the right-most address of xff (X-Forwarded-For) that is not
 * one of them: proxies append the address they saw, so entries left of it are the
 * client's word, never believed. A malformed entry, or 16 hops, ends the walk. */
void web_forwarded_client(const char *trusted, const char *xff, char *out, size_t n);
/* Narrows [*s, *e) to leave out spaces and tabs around it (header values). */
void web_trim(const char **s, const char **e);
/* 1 when a Prefer header (RFC 7240) asks for return=minimal (name and value in any case,
 * the value may be quoted; the first WEB_PREFER_MAX bytes are read), else 0. */
#define WEB_PREFER_MAX 1024
int web_prefer_minimal(const char *h);

/* ---- live updates (events.c) ---- */

#define WEB_EV_RING 4096   /* frames kept for streams and for Last-Event-ID resumes */
#define WEB_EV_POLL_MS 100 /* how often web_events is read */
#define WEB_EV_BATCH 20000 /* events read in one poll; more: the consoles refetch */
struct web_events {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *ring[WEB_EV_RING];  /* "event: claim\ndata: {...}\n\n" */
    char *queue[WEB_EV_RING]; /* the report's queue, for filtering */
    unsigned long long seq;   /* events written so far */
    long long epoch;          /* this process's stream ids: "epoch-seq" */
    int stopping;
    int started;
    pthread_t th;
    struct store *db;        /* the poll's own connection */
    struct store_events pos; /* where it has read */
    struct web_creds *creds; /* told what the reads say about credentials (not owned) */
    atomic_llong read_upto;  /* pos.cursor once its events were handed on */
    char *database_url;
};
int web_events_start(struct web_events *ev, const char *database_url, struct web_creds *creds,
                     struct tl_errinfo *ei) TL_WUR;
void web_events_stop(struct web_events *ev);
/* Turns one event (web_events.body) into an SSE frame and hands it to every open stream;
 * an "auth" event goes to the kept credentials (ev->creds) instead. */
void web_events_push(struct web_events *ev, const char *payload);

struct web_sse;
/* A stream that sees events of the queues in queues_csv from now on. */
/* A stream of the frames of queues_csv's queues: from after last_id ("epoch-seq", the
 * Last-Event-ID of a reconnecting client) when this process wrote it, else from now
 * (with a resync frame when last_id was given); it ends after max_ms, so that the
 * client reconnects and its account and queues are read again. */
/* A stream id "epoch-seq" as the frames carry it (a client's Last-Event-ID): 1 and its
 * parts, else 0. */
int web_sse_parse_id(const char *s, long long *epoch, unsigned long long *seq);
struct web_sse *web_sse_new(struct web_events *ev, const char *queues_csv, const char *last_id,
                            long long max_ms);
void web_sse_free(void *sse);
/* Starts an event stream for c's account (its visible queues) into c->resp; at the
 * account's cap of streams its oldest is told to end, or 429 while too many are ending. */
int web_events_open(struct web_call *c);
/* Ends the stream: a read waiting for events wakes and ends it (the client reconnects). */
void web_sse_end(struct web_sse *x);
/* fn(arg) is called once when the stream is freed (its end, whatever ended it). */
void web_sse_on_free(struct web_sse *x, void (*fn)(void *arg), void *arg);

/* ---- open event streams per account (events.c) ---- */

struct web_streams;
struct web_stream_hold;
/* cap = sse_per_account. Returns NULL on allocation failure. */
struct web_streams *web_streams_new(long cap);
void web_streams_free(struct web_streams *st);
/* Counts sse as one more stream of account and returns its hold, for web_streams_end. At
 * cap streams, the account's oldest is told to end (web_sse_end): a console reloaded, or
 * a tab closed (its stream unnoticed until a write fails), must not lock the account
 * out. NULL (no memory, or twice cap streams still ending: their threads are stuck
 * sending) when sse may not start. */
struct web_stream_hold *web_streams_begin(struct web_streams *st, const char *account,
                                          struct web_sse *sse);
/* web_sse_on_free's hook: the stream held by hold (a struct web_stream_hold) is gone. */
void web_streams_end(void *hold);
/* libmicrohttpd's content reader: blocks until an event, a 15 s heartbeat or stop. */
ssize_t web_sse_read(void *sse, uint64_t pos, char *buf, size_t max);

/* ---- tokens and login (auth.c) ---- */
/* out: the hex SHA-256 of s, as the database keeps a token or a session id. */
void web_sha256_hex(const char *s, char out[65]);
/* For the login route: checks the token, opens a session, sets the cookie on c->resp. */
int web_login(struct web_call *c, const char *token, struct tl_errinfo *ei);

/* ---- static files (files.c) ---- */
const char *web_mime_of(const char *name);

/* ---- operators' endpoints (metrics.c): /healthz, /readyz, /metrics ---- */

struct web_metrics {
    atomic_llong responses[6];    /* by status class: [1] 1xx .. [5] 5xx, [0] other */
    atomic_llong pool_waits;      /* requests that waited in line for a database connection */
    atomic_llong pool_wait_us;    /* ... and how long, in all */
    struct tl_hist claim, decide; /* route handler time of claims and decisions */
    /* the read replica (replica.c): gauges its watcher sets, and where reads went */
    atomic_int replica_configured, replica_up, replica_usable;
    atomic_llong replica_lag_ms, replica_lag_bytes;
    atomic_llong reads_replica, reads_primary; /* requests of the read-only routes */
};

/* ---- the read replica (replica.c) ----
 * The read-only routes (web_route_reads) read from cfg->database_replica_url while its
 * watcher finds it up and lagging at most cfg->replica_max_lag_seconds. */
#define WEB_REPLICA_RING 1024 /* the primary's recent WAL positions, one per busy second */
struct web_replica_pos {
    long long lsn;
    int64_t t_ms; /* the last moment the primary stood at lsn */
};
struct web_replica {
    const struct cfg *cfg;
    struct web_metrics *m; /* the watcher's gauges (replica_*) */
    pthread_t th;
    int started;
    volatile sig_atomic_t stop;
    atomic_llong checked_ms; /* the watcher's last check */
    atomic_llong down_epoch; /* checks that found it down (or a read that failed on it) */
    struct web_replica_pos ring[WEB_REPLICA_RING]; /* the watcher's own */
    size_t head, n;
};
/* Starts the watcher when a replica is configured (else nothing: never usable). */
int web_replica_start(struct web_replica *rp, const struct cfg *cfg, struct web_metrics *m,
                      struct tl_errinfo *ei) TL_WUR;
void web_replica_stop(struct web_replica *rp);
/* 1 when rt only reads and may read what is behind by replica_max_lag_seconds: it
 * reads through c->rs (or, a stream, on the replica when c->on_replica). */
int web_route_reads(const struct web_route *rt);
/* 1 when reads may go to the replica now. */
int web_replica_usable(struct web_replica *rp);
/* A read on the replica failed (it went away): reads go to the primary until the
 * watcher finds it again. */
void web_replica_failed(struct web_replica *rp);

/* Readiness refuses when the oldest due reply (or, in webhook mode, the oldest
 * unprocessed update) waited longer than this. */
#define WEB_READY_LAG_S 300

/* Which operators' path p is: WEB_OPS_NONE when it is none of them. */
enum web_ops { WEB_OPS_NONE, WEB_OPS_HEALTHZ, WEB_OPS_READYZ, WEB_OPS_METRICS };
enum web_ops web_ops_path(const struct web_path *p);
/* A monotonic clock in microseconds, for the latencies. */
int64_t web_metrics_now_us(void);
/* Records one route's handler time (claims and decisions go to their histograms). */
void web_metrics_route(struct web_metrics *m, const char *pattern, int64_t us);
/* Counts one answer by its status class. */
void web_metrics_response(struct web_metrics *m, unsigned status);
/* Answers an operators' path into r as text/plain: s may be NULL (the database is
 * unreachable: /readyz says 503, /metrics leaves the database's samples out and says
 * tipline_database_up 0). webhook: the deployment takes updates by webhook, so intake
 * is healthy when the inbox lag is under the bound, not when a poller holds its lock. */
void web_ops_serve(enum web_ops which, const char *method, struct store *s, struct web_metrics *m,
                   int webhook, struct web_resp *r);

#endif
