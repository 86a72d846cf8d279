/* web/server.c - the HTTP server: libmicrohttpd (a thread per connection), the
 * request's way in (size limit, path and query parsing, route, credentials, rate
 * limit, role, CSRF, body), a pool of database connections, the static console and
 * vendor files embedded at build time, and the security headers every response
 * carries. Route handlers live in api.c. */
#include "web_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/embed.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/tbucket.h"
#include "common/utf8.h"
#include "common/banned.h"

/* Generated from web/static/ and TL_WEB_VENDOR_FILES (web/CMakeLists.txt). */
extern const struct tl_embedded web_static[];
extern const unsigned web_static_count;
extern const struct tl_embedded web_vendor[];
extern const unsigned web_vendor_count;

#define RATE_SLOTS 1024
#define RATE_PROBE 8
#define MAX_CONNS 512 /* connections in all: each one a thread */

struct rate_slot {
    char key[80]; /* as long as the key handle_request builds */
    struct tl_tbucket b;
};

struct pool_waiter;
struct web_pool {
    const char *url;
    atomic_llong *waits, *wait_us; /* the metrics it adds to */
    atomic_llong *epoch;           /* NULL, or: idle connections from before it moved are dead */
    long long idle_epoch;
    pthread_mutex_t mu;
    struct store **idle;
    size_t n_idle, n_open, max_open;
    struct pool_waiter *wait_head, *wait_tail; /* requests waiting, oldest first */
};

struct web {
    const struct cfg *cfg;
    struct MHD_Daemon *d;
    unsigned port;
    char *csp;
    unsigned rounded;           /* role bits that see rounded points */
    struct web_pool pool;       /* connections to database_url */
    struct web_pool rpool;      /* ... and to the read replica's, when one is configured */
    struct web_replica replica; /* whether the read-only routes may read from it (replica.c) */
    pthread_mutex_t rate_mu;
    struct rate_slot *rate;
    struct web_events ev;
    int ev_started;
    struct web_creds *creds;     /* credentials checked lately (creds.c) */
    struct web_streams *streams; /* open event streams per account (streams.c) */
    pthread_mutex_t conns_mu;
    struct conn_count *conns; /* open connections per peer address (MAX_CONNS) */
    size_t n_conns;
    struct web_metrics metrics; /* /metrics (metrics.c) */
};

struct conn_count {
    char addr[INET6_ADDRSTRLEN];
    unsigned n;
};

struct req {
    char *uri; /* as the client sent it, with the query */
    struct tl_buf body;
    int started;
    int too_big;
};

static const struct cfg *web_cfg(const struct web *w)
{
    return w->cfg;
}

long long web_events_read(struct web *w)
{
    return atomic_load(&w->ev.read_upto);
}

unsigned web_port(const struct web *w)
{
    return w->port;
}

/* ---- the database pool ----
 * At most max_open connections (cfg_web_db_connections: two per core by default),
 * opened on demand and kept. A request that finds none free waits in line: a connection
 * given back goes to the longest waiter (a condition variable alone wakes whichever
 * thread it likes, and with more requests than connections the unlucky ones waited
 * many turns: claim p99 27-43 ms instead of 11-12 in bench/triage). */

struct pool_waiter {
    pthread_cond_t cv;
    int served; /* given a connection (s), or a free slot to open one (s NULL) */
    struct store *s;
    struct pool_waiter *next;
};

/* Hands s (NULL: a slot to open a connection in) to the longest waiter; 0: none waits.
 * Under p->mu. */
static int pool_handoff(struct web_pool *p, struct store *s)
{
    struct pool_waiter *x = p->wait_head;
    if (!x)
        return 0;
    p->wait_head = x->next;
    if (!p->wait_head)
        p->wait_tail = NULL;
    x->s = s;
    x->served = 1;
    pthread_cond_signal(&x->cv);
    return 1;
}

static struct store *pool_get(struct web_pool *p, struct tl_errinfo *ei)
{
    struct store *s = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->epoch && atomic_load(p->epoch) != p->idle_epoch) {
        /* the server went away since they were used: each would fail once */
        for (size_t i = 0; i < p->n_idle; i++)
            store_free(p->idle[i]);
        p->n_open -= p->n_idle;
        p->n_idle = 0;
        p->idle_epoch = atomic_load(p->epoch);
    }
    if (p->n_idle) {
        s = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->mu);
        return s;
    }
    if (p->n_open < p->max_open) {
        p->n_open++;
    } else {
        struct pool_waiter x = {.served = 0, .s = NULL, .next = NULL};
        int64_t waited_from = tl_now_ms();
        atomic_fetch_add(p->waits, 1);
        pthread_cond_init(&x.cv, NULL);
        if (p->wait_tail)
            p->wait_tail->next = &x;
        else
            p->wait_head = &x;
        p->wait_tail = &x;
        while (!x.served)
            pthread_cond_wait(&x.cv, &p->mu);
        pthread_cond_destroy(&x.cv);
        atomic_fetch_add(p->wait_us, (long long)(tl_now_ms() - waited_from) * 1000);
        if (x.s) {
            pthread_mutex_unlock(&p->mu);
            return x.s;
        }
        /* a slot: n_open already counts it */
    }
    pthread_mutex_unlock(&p->mu);
    if (store_open(p->url, &s, ei) != TL_OK) {
        pthread_mutex_lock(&p->mu);
        if (!pool_handoff(p, NULL))
            p->n_open--;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    return s;
}

static void pool_put(struct web_pool *p, struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&p->mu);
    if (!pool_handoff(p, s))
        p->idle[p->n_idle++] = s;
    pthread_mutex_unlock(&p->mu);
}

static int pool_init(struct web_pool *p, const char *url, size_t max_open, struct web_metrics *m)
{
    p->url = url;
    p->max_open = max_open;
    p->waits = &m->pool_waits;
    p->wait_us = &m->pool_wait_us;
    pthread_mutex_init(&p->mu, NULL);
    p->idle = calloc(max_open ? max_open : 1, sizeof(*p->idle));
    return p->idle ? TL_OK : TL_ENOMEM;
}

static void pool_release(struct web_pool *p)
{
    for (size_t i = 0; i < p->n_idle; i++)
        store_free(p->idle[i]);
    free(p->idle);
    pthread_mutex_destroy(&p->mu);
}

/* ---- per-token rate limit: a token bucket per credential (or client, for login) ---- */

/* 0 when a request may go now, else the seconds to wait. */
static long rate_take(struct web *w, const char *key)
{
    double per_s = (double)w->cfg->api_rate_per_min / 60.0, cap = (double)w->cfg->api_rate_per_min;
    uint32_t h = tl_fnv1a_str(key);
    /* the clock is read under the lock: a request timed before the one that took the
     * lock first would find the bucket's last time ahead of it and be refused */
    pthread_mutex_lock(&w->rate_mu);
    int64_t now = tl_now_us();
    struct rate_slot *slot = NULL, *oldest = NULL;
    for (int i = 0; i < RATE_PROBE && !slot; i++) {
        struct rate_slot *c = &w->rate[(h + (uint32_t)i) % RATE_SLOTS];
        if (strcmp(c->key, key) == 0)
            slot = c;
        else if (!oldest || c->b.last_us < oldest->b.last_us)
            oldest = c;
    }
    if (!slot) { /* a new key takes the stalest slot of its probe run */
        slot = oldest;
        tl_strlcpy(slot->key, key, sizeof(slot->key));
        tl_tbucket_init(&slot->b, per_s, cap, now);
    }
    int64_t wait_us = tl_tbucket_take(&slot->b, now);
    pthread_mutex_unlock(&w->rate_mu);
    return wait_us ? (long)(wait_us / 1000000) + 1 : 0;
}

/* ---- credentials ---- */

/* c->who_p for the credential whose SHA-256 is sha (key: "t:" or "s:" and sha): a check
 * kept from lately (creds.c), else the database's, which is then kept. */
static int check(struct web_call *c, const char *key, const char *sha, struct tl_errinfo *ei)
{
    uint64_t gen;
    if (web_creds_get(c->w->creds, key, &c->who_p, &gen))
        return TL_OK;
    int rc = key[0] == 's'
                 ? store_auth_session(c->s, sha, web_cfg(c->w)->session_idle_minutes, &c->who_p, ei)
                 : store_auth_token(c->s, sha, &c->who_p, ei);
    if (rc == TL_OK)
        web_creds_put(c->w->creds, key, &c->who_p, gen);
    return rc;
}

/* Sets c->who_p from a bearer token or the session cookie. TL_EAUTH when neither is
 * valid; the key of the rate limiter goes to key. */
static int authenticate(struct web_call *c, struct MHD_Connection *conn, char *key, size_t keysz,
                        struct tl_errinfo *ei)
{
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    char sha[65];
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) != 0 || strlen(authz + 7) < 8 ||
            strlen(authz + 7) > 256)
            return tl_errf(ei, TL_EAUTH, "Authorization must be 'Bearer <token>'");
        web_sha256_hex(authz + 7, sha);
        snprintf(key, keysz, "t:%s", sha);
        return check(c, key, sha, ei);
    }
    const char *cookie = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
    char sid[65];
    if (!web_cookie_session(cookie, "tl_session", sid))
        return tl_errf(ei, TL_EAUTH, "log in first (POST /api/login) or send a bearer token");
    web_sha256_hex(sid, sha);
    snprintf(key, keysz, "s:%s", sha);
    int rc = check(c, key, sha, ei);
    if (rc == TL_OK) {
        c->by_session = 1;
        tl_strlcpy(c->sid_sha, sha, sizeof(c->sid_sha));
    }
    return rc;
}

/* ---- static files ---- */

const char *web_mime_of(const char *name)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".geojson", "application/geo+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t e = strlen(map[i][0]);
        if (n > e && strcmp(name + n - e, map[i][0]) == 0)
            return map[i][1];
    }
    return "application/octet-stream";
}

/* 1 when the path is a static one (answered into r), 0 when it is not. */
static int serve_static(const char *method, const struct web_path *p, struct web_resp *r)
{
    const struct tl_embedded *table = NULL;
    unsigned count = 0;
    size_t from = 1;
    if (p->n == 0) {
        table = web_static;
        count = web_static_count;
        from = 0;
    } else if (strcmp(p->segs[0], "static") == 0) {
        table = web_static;
        count = web_static_count;
    } else if (strcmp(p->segs[0], "vendor") == 0) {
        table = web_vendor;
        count = web_vendor_count;
    } else {
        return 0;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tl_strlcpy(r->allow, "GET, HEAD", sizeof(r->allow));
        web_reply_err(r, 405, "method_not_allowed", "%s is not allowed here", method);
        return 1;
    }
    struct tl_buf name;
    tl_buf_init(&name, 4096);
    int e = p->n == 0 ? tl_buf_append(&name, "index.html", 10) : 0;
    for (size_t i = from; i < p->n && !e; i++)
        e = tl_buf_printf(&name, "%s%s", i > from ? "/" : "", p->segs[i]);
    const struct tl_embedded *f = NULL;
    for (unsigned i = 0; !e && name.len && i < count && !f; i++)
        if (strcmp(table[i].name, (const char *)name.data) == 0)
            f = &table[i];
    if (f) {
        r->status = 200;
        r->static_body = f->data;
        r->len = f->len;
        r->ctype = web_mime_of(f->name);
        r->cache = "no-cache";
    } else {
        web_reply_err(r, 404, "not_found", "no such file");
    }
    tl_buf_release(&name);
    return 1;
}

/* ---- a request ---- */

const char *web_header(const struct web_call *c, const char *name)
{
    return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

/* -1: exact points; else the decimals the role sees. */
static int decimals_for(const struct web *w, unsigned role)
{
    return (w->rounded & role) ? (int)w->cfg->round_decimals : -1;
}

/* The address in s[0..len) (spaces around it allowed), written as inet_ntop writes it:
 * 0, or -1 when it is not one. */
static int addr_norm(const char *s, size_t len, char *out, size_t n)
{
    char tmp[INET6_ADDRSTRLEN];
    const char *e = s + len;
    web_trim(&s, &e);
    len = (size_t)(e - s);
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, tmp, bin) == 1)
        return inet_ntop(AF_INET, bin, out, (socklen_t)n) ? 0 : -1;
    if (inet_pton(AF_INET6, tmp, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, (socklen_t)n) ? 0 : -1;
    return -1;
}

/* 1 when addr (normalised) is one of the comma-separated trusted_proxies. */
static int trusted_proxy(const char *list, const char *addr)
{
    char one[INET6_ADDRSTRLEN];
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");
        if (addr_norm(p, k, one, sizeof(one)) == 0 && strcmp(one, addr) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

void web_forwarded_client(const char *trusted, const char *xff, char *out, size_t n)
{
    if (!trusted || !*trusted || !xff || !trusted_proxy(trusted, out))
        return;
    size_t end = strlen(xff);
    char one[INET6_ADDRSTRLEN];
    for (int hops = 0; end > 0 && hops < 16; hops++) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (addr_norm(xff + start, end - start, one, sizeof(one)))
            return;
        tl_strlcpy(out, one, n);
        if (!trusted_proxy(trusted, one) || start == 0)
            return;
        end = start - 1;
    }
}

/* The client's address, for per-client limits: the peer's, or the one its
 * X-Forwarded-For names when the peer is a trusted proxy (web_forwarded_client). */
static void client_addr(const struct web *w, struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    tl_strlcpy(out, "?", n);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
    web_forwarded_client(web_cfg(w)->trusted_proxies,
                         MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For"), out,
                         n);
}

/* The name of the first header the server reads whose value is not UTF-8 (or holds a
 * NUL), else NULL: what reaches a route, the log or the database is text. */
static const char *header_not_text(struct MHD_Connection *conn)
{
    static const char *const used[] = {"Authorization", "Cookie", "Content-Type",   "X-CSRF-Token",
                                       "Last-Event-ID", "Prefer", "X-Forwarded-For"};
    for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
        const char *v = NULL;
        size_t n = 0;
        if (MHD_lookup_connection_value_n(conn, MHD_HEADER_KIND, used[i], strlen(used[i]), &v,
                                          &n) == MHD_YES &&
            v && !tl_utf8_valid(v, n))
            return used[i];
    }
    return NULL;
}

static void handle(struct web *w, struct MHD_Connection *conn, struct req *rq, const char *method,
                   struct web_resp *r)
{
    struct web_path path = {0};
    struct web_query q = {0};
    struct web_call c;
    struct tl_errinfo ei;
    struct store *rs = NULL; /* a replica's connection, when the route reads from it */
    char msg[WEB_MSG], allow[32], key[80], client[64];
    memset(&c, 0, sizeof(c));
    tl_errinfo_clear(&ei);
    const char *qm = strchr(rq->uri, '?');
    char *pathpart = qm ? tl_strndup(rq->uri, (size_t)(qm - rq->uri)) : tl_strdup(rq->uri);
    const char *gm = strcmp(method, "HEAD") == 0 ? "GET" : method;
    if (!pathpart) {
        web_reply_err(r, 500, "internal", "out of memory");
        return;
    }
    if (!web_method_ok(method)) {
        web_reply_err(r, 400, "bad_request", "malformed method");
        goto out;
    }
    if (web_path_parse(pathpart, &path)) {
        web_reply_err(r, 400, "bad_request", "malformed path");
        goto out;
    }
    const char *bad_header = header_not_text(conn);
    if (bad_header) {
        web_reply_err(r, 400, "bad_request", "the %s header is not UTF-8 text", bad_header);
        goto out;
    }
    if (rq->too_big) {
        web_reply_err(r, 413, "payload_too_large", "the body is larger than %d bytes",
                      WEB_BODY_MAX);
        goto out;
    }
    enum web_ops ops = web_ops_path(&path);
    if (ops != WEB_OPS_NONE) {
        c.s = ops == WEB_OPS_HEALTHZ ? NULL : pool_get(&w->pool, &ei);
        web_ops_serve(ops, gm, c.s, &w->metrics, *w->cfg->webhook_listen != 0, r);
        goto out;
    }
    if (path.n == 0 || strcmp(path.segs[0], "api") != 0) {
        if (!serve_static(gm, &path, r))
            web_reply_err(r, 404, "not_found", "no such page");
        goto out;
    }
    int known = 0;
    const struct web_route *rt = web_route_find(gm, &path, &known, allow, sizeof(allow));
    if (!rt) {
        if (known) {
            tl_strlcpy(r->allow, allow, sizeof(r->allow));
            web_reply_err(r, 405, "method_not_allowed",
                          "%s is not allowed on this path (allowed: %s)", method, allow);
        } else {
            web_reply_err(r, 404, "not_found", "no such route");
        }
        goto out;
    }
    if (web_query_parse(qm ? qm + 1 : NULL, &q, msg, sizeof(msg)) ||
        web_query_allowed(&q, rt->params, msg, sizeof(msg))) {
        web_reply_err(r, 400, "bad_request", "%s", msg);
        goto out;
    }
    c.w = w;
    c.cfg = w->cfg;
    c.creds = w->creds;
    c.ev = &w->ev;
    c.streams = w->streams;
    c.path = &path;
    c.q = &q;
    c.resp = r;
    c.conn = conn;
    client_addr(w, conn, client, sizeof(client));
    c.client = client;
    c.last_event_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    c.range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    c.prefer_minimal =
        web_prefer_minimal(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Prefer"));
    if (!(c.s = pool_get(&w->pool, &ei))) {
        web_reply_store_err(r, TL_EDBDOWN, &ei);
        goto out;
    }
    if (rt->roles) {
        int rc = authenticate(&c, conn, key, sizeof(key), &ei);
        if (rc) {
            /* Failed credentials count against the client's address, so that guessing
             * (or a flood of bad tokens, each a database query) is slowed too. */
            snprintf(key, sizeof(key), "ip:%s", client);
            long wait = rc == TL_EAUTH ? rate_take(w, key) : 0;
            if (wait) {
                r->retry_after = wait;
                web_reply_err(r, 429, "rate_limited", "too many failed logins; retry in %ld s",
                              wait);
            } else {
                web_reply_store_err(r, rc, &ei);
            }
            goto out;
        }
    } else {
        snprintf(key, sizeof(key), "ip:%s", client);
    }
    /* A map view fetches tiles by the dozen: they draw on a budget of their own, so
     * panning the map never locks the caller out of the queue (nor the other way). */
    if (strncmp(rt->pattern, "api/tiles/", 10) == 0 && strlen(key) + 7 < sizeof(key))
        memcpy(key + strlen(key), ":tiles", 7);
    long wait = rate_take(w, key);
    if (wait) {
        r->retry_after = wait;
        web_reply_err(r, 429, "rate_limited", "too many requests; retry in %ld s", wait);
        goto out;
    }
    unsigned bit = web_role_bit(c.who_p.role);
    if (rt->roles && !(rt->roles & bit) && bit != WR_ADMIN) {
        web_reply_err(r, 403, "forbidden", "the role %s may not do this", c.who_p.role);
        goto out;
    }
    if (c.by_session && strcmp(gm, "GET") != 0) {
        const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
        size_t tl = t ? strlen(t) : 0, cl = strlen(c.who_p.csrf);
        if (!t || tl != cl || cl == 0 || CRYPTO_memcmp(t, c.who_p.csrf, cl) != 0) {
            web_reply_err(r, 403, "csrf", "missing or wrong X-CSRF-Token header");
            goto out;
        }
    }
    if (strcmp(gm, "POST") == 0 && rq->body.len) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
            (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
            web_reply_err(r, 415, "unsupported_media_type", "send Content-Type: application/json");
            goto out;
        }
    }
    if (web_body_parse((const char *)rq->body.data, rq->body.len, rt->body, &c.body, msg,
                       sizeof(msg))) {
        web_reply_err(r, 400, "bad_request", "%s", msg);
        goto out;
    }
    c.who.account = c.who_p.account;
    c.who.round_decimals = decimals_for(w, bit);
    c.rs = c.s;
    if (web_route_reads(rt)) {
        if (web_replica_usable(&w->replica) && (rs = pool_get(&w->rpool, &ei))) {
            c.rs = rs;
            c.on_replica = 1;
        }
        atomic_fetch_add(c.on_replica ? &w->metrics.reads_replica : &w->metrics.reads_primary, 1);
    }
    int64_t fn_from = web_metrics_now_us();
    if (rt->fn(&c) != TL_OK && !r->status)
        web_reply_err(r, 500, "internal", "internal error");
    web_metrics_route(&w->metrics, rt->pattern, web_metrics_now_us() - fn_from);
    if (c.on_replica && r->status == 503)
        web_replica_failed(&w->replica);
out:
    json_object_put(c.body);
    pool_put(&w->rpool, rs);
    pool_put(&w->pool, c.s);
    web_query_release(&q);
    web_path_release(&path);
    free(pathpart);
}

static void add_headers(struct web *w, struct MHD_Response *m, const struct web_resp *r)
{
    MHD_add_response_header(m, "Content-Type", r->ctype ? r->ctype : "application/json");
    MHD_add_response_header(m, "Cache-Control", r->cache ? r->cache : "no-store");
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "X-Frame-Options", "DENY");
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(m, "Content-Security-Policy", w->csp);
    MHD_add_response_header(m, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(m, "Cross-Origin-Resource-Policy", "same-origin");
    if (r->set_cookie)
        MHD_add_response_header(m, "Set-Cookie", r->set_cookie);
    if (r->allow[0])
        MHD_add_response_header(m, "Allow", r->allow);
    if (r->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", r->retry_after);
        MHD_add_response_header(m, "Retry-After", ra);
    }
    if (r->sse)
        MHD_add_response_header(m, "X-Accel-Buffering", "no");
    if (r->applied)
        MHD_add_response_header(m, "Preference-Applied", r->applied);
    if (r->close)
        MHD_add_response_header(m, "Connection", "close");
    if (r->accept_ranges)
        MHD_add_response_header(m, "Accept-Ranges", "bytes");
    if (r->content_range[0])
        MHD_add_response_header(m, "Content-Range", r->content_range);
    for (char *h = r->headers, *nl; h && (nl = strchr(h, '\n')); h = nl + 1) {
        char *colon = memchr(h, ':', (size_t)(nl - h));
        if (!colon)
            continue;
        *colon = *nl = 0;
        MHD_add_response_header(m, h, colon + 1 + (colon[1] == ' '));
        *colon = ':';
        *nl = '\n';
    }
}

static enum MHD_Result send_resp(struct web *w, struct MHD_Connection *conn, struct web_resp *r)
{
    struct MHD_Response *m;
    if (r->sse) {
        m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, web_sse_read, r->sse,
                                              web_sse_free);
        if (m)
            r->sse = NULL; /* the response owns it now */
    } else if (r->reader) {
        m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, r->reader, r->reader_cls,
                                              r->reader_free);
        if (m)
            r->reader = NULL; /* the response owns reader_cls now */
    } else if (r->body) {
        m = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
        if (m)
            r->body = NULL;
    } else {
        m = MHD_create_response_from_buffer(r->len, (void *)(uintptr_t)r->static_body,
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (!m)
        return MHD_NO;
    add_headers(w, m, r);
    enum MHD_Result ret = MHD_queue_response(conn, r->status ? r->status : 500, m);
    MHD_destroy_response(m);
    return ret;
}

static void resp_release(struct web_resp *r)
{
    free(r->body);
    free(r->set_cookie);
    free(r->headers);
    web_sse_free(r->sse);
    if (r->reader && r->reader_free)
        r->reader_free(r->reader_cls);
}

static void log_request(const char *method, const struct req *rq, unsigned status, int64_t t0)
{
    if (log_level < LOG_DEBUG)
        return;
    /* The path only: queries may carry filters, never credentials, but keep logs lean. */
    size_t n = strcspn(rq->uri, "?");
    log_debug("http %s path=\"%.*s\" status=%u ms=%lld", method, (int)(n > 200 ? 200 : n), rq->uri,
              status, (long long)(tl_now_ms() - t0));
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct req *rq = calloc(1, sizeof(*rq));
    if (!rq)
        return NULL;
    rq->uri = tl_strdup(uri ? uri : "/");
    tl_buf_init(&rq->body, WEB_BODY_MAX);
    return rq;
}

/* The framing headers of a request: how many Content-Length and Transfer-Encoding, and
 * whether every Transfer-Encoding says just "chunked". */
struct framing {
    int n_cl, n_te, te_other;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *fr = cls;
    (void)kind;
    if (strcasecmp(key, "Content-Length") == 0) {
        fr->n_cl++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        const char *s = value ? value : "", *e = s + strlen(s);
        web_trim(&s, &e);
        fr->n_te++;
        fr->te_other |= !((size_t)(e - s) == 7 && strncasecmp(s, "chunked", 7) == 0);
    }
    return MHD_YES;
}

/* Why the body's framing is refused, or NULL. Two lengths, a length beside chunks, or a
 * coding other than chunked: a proxy in front and this server could each read the body
 * differently and disagree where the next request starts (and libmicrohttpd waits for
 * the peer to close on a coding it does not know). */
static const char *framing_refused(struct MHD_Connection *conn)
{
    struct framing fr = {0, 0, 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &fr);
    if (fr.n_cl > 1)
        return "more than one Content-Length header";
    if (fr.n_te && fr.n_cl)
        return "both Content-Length and Transfer-Encoding";
    if (fr.n_te > 1 || fr.te_other)
        return "the only Transfer-Encoding taken is one 'chunked'";
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct web *w = cls;
    struct req *rq = *con_cls;
    (void)url;
    (void)version;
    if (!rq || !rq->uri)
        return MHD_NO;
    if (!rq->started) {
        rq->started = 1;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        long long len = 0;
        struct web_resp r = {0};
        const char *refused = framing_refused(conn);
        if (refused)
            web_reply_err(&r, 400, "bad_request", "%s", refused);
        else if (cl && tl_parse_ll(cl, &len) == TL_OK && len > WEB_BODY_MAX)
            /* Refused before reading: the client need not send it. */
            web_reply_err(&r, 413, "payload_too_large", "the body is larger than %d bytes",
                          WEB_BODY_MAX);
        else
            return MHD_YES;
        r.close = 1; /* the unread body must not be taken for the next request */
        web_metrics_response(&w->metrics, r.status);
        log_request(method, rq, r.status, tl_now_ms());
        enum MHD_Result ret = send_resp(w, conn, &r);
        resp_release(&r);
        return ret;
    }
    if (*upload_data_size) {
        if (!rq->too_big && tl_buf_append(&rq->body, upload_data, *upload_data_size))
            rq->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    int64_t t0 = tl_now_ms();
    struct web_resp r = {0};
    handle(w, conn, rq, method, &r);
    web_metrics_response(&w->metrics, r.status);
    log_request(method, rq, r.status, t0);
    enum MHD_Result ret = send_resp(w, conn, &r);
    resp_release(&r);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct req *rq = *con_cls;
    if (!rq)
        return;
    free(rq->uri);
    tl_buf_release(&rq->body);
    free(rq);
    *con_cls = NULL;
}

/* ---- connections per peer address ----
 * libmicrohttpd's own per-address cap would count a reverse proxy's connections too
 * (all of them come from its address), so the server counts them itself: the accept
 * policy refuses a connection from an address that has web_conns_per_client open, the
 * connection notices count them. Both run in libmicrohttpd's listening thread, one
 * connection after the other, so no two accepts race past the cap. */

/* The peer address of sa as inet_ntop writes it ("" when it is neither IPv4 nor IPv6). */
static void peer_text(const struct sockaddr *sa, char *out, size_t n)
{
    out[0] = 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* addr's entry, under conns_mu; NULL when it has none. */
static struct conn_count *conn_find(struct web *w, const char *addr)
{
    for (size_t i = 0; i < w->n_conns; i++)
        if (strcmp(w->conns[i].addr, addr) == 0)
            return &w->conns[i];
    return NULL;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
    struct web *w = cls;
    char addr[INET6_ADDRSTRLEN];
    (void)salen;
    peer_text(sa, addr, sizeof(addr));
    if (w->cfg->web_conns_per_client == 0 || trusted_proxy(w->cfg->trusted_proxies, addr))
        return MHD_YES;
    pthread_mutex_lock(&w->conns_mu);
    const struct conn_count *c = conn_find(w, addr);
    int over = c && c->n >= (unsigned)w->cfg->web_conns_per_client;
    pthread_mutex_unlock(&w->conns_mu);
    return over ? MHD_NO : MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct web *w = cls;
    char addr[INET6_ADDRSTRLEN];
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    peer_text(ci ? ci->client_addr : NULL, addr, sizeof(addr));
    pthread_mutex_lock(&w->conns_mu);
    struct conn_count *c = conn_find(w, addr);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (!c && w->n_conns < MAX_CONNS) {
            c = &w->conns[w->n_conns++];
            tl_strlcpy(c->addr, addr, sizeof(c->addr));
            c->n = 0;
        }
        if (c) {
            c->n++;
            *ctx = w; /* counted */
        }
    } else if (*ctx && c && --c->n == 0) {
        *c = w->conns[--w->n_conns];
    }
    pthread_mutex_unlock(&w->conns_mu);
}

/* ---- start and stop ---- */

/* The origin of a tile URL for the CSP: "{s}" subdomains become a wildcard. */
static char *tile_origin(const char *url)
{
    if (!url || strncmp(url, "https://", 8) != 0)
        return tl_strdup("");
    size_t n = 8 + strcspn(url + 8, "/?#");
    char *o = tl_strndup(url, n);
    if (!o)
        return NULL;
    char *sub = strstr(o, "{s}");
    if (sub) {
        sub[0] = '*';
        memmove(sub + 1, sub + 3, strlen(sub + 3) + 1);
    }
    for (char *p = o + 8; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '*' || *p == ':')) {
            free(o);
            return tl_strdup(""); /* not a host a policy can name */
        }
    return o;
}

static unsigned rounded_roles(const char *csv)
{
    unsigned bits = 0;
    char *dup = tl_strdup(csv ? csv : ""), *save = NULL;
    for (char *t = dup ? strtok_r(dup, ", ", &save) : NULL; t; t = strtok_r(NULL, ", ", &save))
        bits |= web_role_bit(t);
    free(dup);
    return bits;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, struct tl_errinfo *ei)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    long long port;
    char host[64];
    if (!colon || (size_t)(colon - listen) >= sizeof(host) || tl_parse_ll(colon + 1, &port) ||
        port < 0 || port > 65535)
        return tl_errf(ei, TL_ECONFIG, "http_listen must be host:port (IPv4), not '%s'",
                       listen ? listen : "");
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = 0;
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) != 1)
        return tl_errf(ei, TL_ECONFIG, "http_listen: '%s' is not an IPv4 address", host);
    sa->sin_port = htons((uint16_t)port);
    return TL_OK;
}

int web_start(const struct web_opts *o, struct web **out, struct tl_errinfo *ei)
{
    int rc;
    struct sockaddr_in sa;
    *out = NULL;
    const struct cfg *cfg = o->cfg;
    if ((rc = parse_listen(o->listen ? o->listen : cfg->http_listen, &sa, ei)) != TL_OK)
        return rc;
    struct web *w = calloc(1, sizeof(*w));
    if (!w)
        return TL_ENOMEM;
    w->cfg = cfg;
    size_t conns = (size_t)cfg_web_db_connections(cfg);
    int pools = pool_init(&w->pool, cfg->database_url, conns, &w->metrics) |
                pool_init(&w->rpool, cfg->database_replica_url, conns, &w->metrics);
    w->rate = calloc(RATE_SLOTS, sizeof(*w->rate));
    w->rounded = rounded_roles(cfg->rounded_roles);
    pthread_mutex_init(&w->rate_mu, NULL);
    pthread_mutex_init(&w->conns_mu, NULL);
    w->conns = calloc(MAX_CONNS, sizeof(*w->conns));
    w->streams = web_streams_new(cfg->sse_per_account);
    char *tiles = tile_origin(cfg->tile_url);
    if (tiles)
        w->csp = tl_asprintf("default-src 'self'; img-src 'self' data: blob:%s%s; "
                             "connect-src 'self'; style-src 'self'; script-src 'self'; "
                             "object-src 'none'; base-uri 'none'; form-action 'self'; "
                             "frame-ancestors 'none'",
                             *tiles ? " " : "", tiles);
    free(tiles);
    if (pools || !w->rate || !w->csp || !w->conns || !w->streams) {
        rc = TL_ENOMEM;
        goto out;
    }
    /* A first connection now: a wrong database_url fails here, not at the first call. */
    struct store *first = pool_get(&w->pool, ei);
    if (!first) {
        rc = TL_EDBDOWN;
        goto out;
    }
    pool_put(&w->pool, first);
    if ((rc = web_replica_start(&w->replica, cfg, &w->metrics, ei)) != TL_OK)
        goto out;
    w->rpool.epoch = &w->replica.down_epoch;
    if ((rc = web_creds_new(cfg->web_auth_cache_seconds, &w->creds)) != TL_OK)
        goto out;
    if ((rc = web_events_start(&w->ev, cfg->database_url, w->creds, ei)) != TL_OK)
        goto out;
    w->ev_started = 1;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    w->d = MHD_start_daemon(
        flags, 0, on_accept, w, on_request, w, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, w, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, w, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNS, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (!w->d) {
        rc = tl_errf(ei, TL_EIO, "cannot listen on %s", o->listen ? o->listen : cfg->http_listen);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
    w->port = di ? di->port : ntohs(sa.sin_port);
    log_info("web: listening addr=%s port=%u", o->listen ? o->listen : cfg->http_listen, w->port);
    *out = w;
    w = NULL;
out:
    web_free(w);
    return rc;
}

void web_free(struct web *w)
{
    if (!w)
        return;
    if (w->ev_started) { /* wakes the event streams so their threads can end */
        pthread_mutex_lock(&w->ev.mu);
        w->ev.stopping = 1;
        pthread_cond_broadcast(&w->ev.cv);
        pthread_mutex_unlock(&w->ev.mu);
    }
    if (w->d)
        MHD_stop_daemon(w->d);
    if (w->ev_started)
        web_events_stop(&w->ev);
    web_replica_stop(&w->replica);
    web_creds_free(w->creds);
    pool_release(&w->pool);
    pool_release(&w->rpool);
    free(w->rate);
    free(w->csp);
    pthread_mutex_destroy(&w->rate_mu);
    web_streams_free(w->streams);
    pthread_mutex_destroy(&w->conns_mu);
    free(w->conns);
    free(w);
}
