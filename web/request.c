/* web/request.c - a request's way in to its route: well formed (method, path, header
 * text, size), routed (operations, static files, the API's table), admitted
 * (credentials, rate limit, role, CSRF), its body checked, then run on the primary or
 * the read replica. Route handlers live in api.c. */
#include "server_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "storage/store_web.h"
#include "common/banned.h"

/* ---- credentials ---- */

/* c->who_p for the credential whose SHA-256 is sha (key: "t:" or "s:" and sha): a check
 * kept from lately (creds.c), else the database's, which is then kept. */
static int check(struct web_call *c, const char *key, const char *sha, struct tl_errinfo *ei)
{
    uint64_t gen;
    if (web_creds_get(c->w->creds, key, &c->who_p, &gen))
        return TL_OK;
    int rc = key[0] == 's'
                 ? store_auth_session(c->s, sha, c->w->cfg->session_idle_minutes, &c->who_p, ei)
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

/* Refuses a request that is not well formed, before anything is looked up: its method,
 * its path (parsed into path), its headers' text, its body's size. 1 when refused
 * (answered into r). */
static int request_refused(struct MHD_Connection *conn, const struct web_req *rq,
                           const char *method, const char *pathpart, struct web_path *path,
                           struct web_resp *r)
{
    if (!web_method_ok(method)) {
        web_reply_err(r, 400, "bad_request", "malformed method");
        return 1;
    }
    if (web_path_parse(pathpart, path)) {
        web_reply_err(r, 400, "bad_request", "malformed path");
        return 1;
    }
    const char *bad_header = header_not_text(conn);
    if (bad_header) {
        web_reply_err(r, 400, "bad_request", "the %s header is not UTF-8 text", bad_header);
        return 1;
    }
    if (rq->too_big) {
        web_reply_err(r, 413, "payload_too_large", "the body is larger than %d bytes",
                      WEB_BODY_MAX);
        return 1;
    }
    return 0;
}

/* Answers the paths outside the API: the operations' (health, metrics: *s is the
 * connection taken for them, for the caller to give back) and the static files. 1 when
 * path was one of them (answered into r). */
static int serve_outside_api(struct web *w, const char *gm, const struct web_path *path,
                             struct store **s, struct web_resp *r, struct tl_errinfo *ei)
{
    enum web_ops ops = web_ops_path(path);
    if (ops != WEB_OPS_NONE) {
        *s = ops == WEB_OPS_HEALTHZ ? NULL : web_pool_get(&w->pool, ei);
        web_ops_serve(ops, gm, *s, &w->metrics, *w->cfg->webhook_listen != 0, r);
        return 1;
    }
    if (path->n == 0 || strcmp(path->segs[0], "api") != 0) {
        if (!web_serve_static(gm, path, r))
            web_reply_err(r, 404, "not_found", "no such page");
        return 1;
    }
    return 0;
}

/* The route for method (gm: HEAD taken as GET) on path, its query (NULL: none) parsed
 * into q and checked against the route's keys. NULL when there is no such route or the
 * query is refused (answered into r). */
static const struct web_route *route_of(const char *method, const char *gm,
                                        const struct web_path *path, const char *query,
                                        struct web_query *q, struct web_resp *r)
{
    char msg[WEB_MSG], allow[32];
    int known = 0;
    const struct web_route *rt = web_route_find(gm, path, &known, allow, sizeof(allow));
    if (!rt) {
        if (known) {
            tl_strlcpy(r->allow, allow, sizeof(r->allow));
            web_reply_err(r, 405, "method_not_allowed",
                          "%s is not allowed on this path (allowed: %s)", method, allow);
        } else {
            web_reply_err(r, 404, "not_found", "no such route");
        }
        return NULL;
    }
    if (web_query_parse(query, q, msg, sizeof(msg)) ||
        web_query_allowed(q, rt->params, msg, sizeof(msg))) {
        web_reply_err(r, 400, "bad_request", "%s", msg);
        return NULL;
    }
    return rt;
}

/* c for a call on conn: the server's state, the request's path and query, the headers
 * routes read, the client's address (written to client, size n; c borrows it). */
static void call_init(struct web *w, struct MHD_Connection *conn, const struct web_path *path,
                      const struct web_query *q, struct web_resp *r, char *client, size_t n,
                      struct web_call *c)
{
    c->w = w;
    c->cfg = w->cfg;
    c->creds = w->creds;
    c->ev = &w->ev;
    c->streams = w->streams;
    c->path = path;
    c->q = q;
    c->resp = r;
    c->conn = conn;
    web_client_addr(w, conn, client, n);
    c->client = client;
    c->last_event_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    c->range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    c->prefer_minimal =
        web_prefer_minimal(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Prefer"));
}

/* Who calls and whether they may, now: the credentials (when the route wants any), the
 * rate limit, the role, the CSRF token of a session's change. 0 when the call may go on
 * (*bit: the caller's role); 1 when refused (answered into c->resp). */
static int admit(struct web *w, struct MHD_Connection *conn, const struct web_route *rt,
                 const char *gm, struct web_call *c, unsigned *bit, struct tl_errinfo *ei)
{
    struct web_resp *r = c->resp;
    char key[80];
    if (rt->roles) {
        int rc = authenticate(c, conn, key, sizeof(key), ei);
        if (rc) {
            /* Failed credentials count against the client's address, so that guessing
             * (or a flood of bad tokens, each a database query) is slowed too. */
            snprintf(key, sizeof(key), "ip:%s", c->client);
            long wait = rc == TL_EAUTH ? web_rate_take(w, key) : 0;
            if (wait) {
                r->retry_after = wait;
                web_reply_err(r, 429, "rate_limited", "too many failed logins; retry in %ld s",
                              wait);
            } else {
                web_reply_store_err(r, rc, ei);
            }
            return 1;
        }
    } else {
        snprintf(key, sizeof(key), "ip:%s", c->client);
    }
    /* A map view fetches tiles by the dozen: they draw on a budget of their own, so
     * panning the map never locks the caller out of the queue (nor the other way). */
    if (strncmp(rt->pattern, "api/tiles/", 10) == 0 && strlen(key) + 7 < sizeof(key))
        memcpy(key + strlen(key), ":tiles", 7);
    long wait = web_rate_take(w, key);
    if (wait) {
        r->retry_after = wait;
        web_reply_err(r, 429, "rate_limited", "too many requests; retry in %ld s", wait);
        return 1;
    }
    *bit = web_role_bit(c->who_p.role);
    if (rt->roles && !(rt->roles & *bit) && *bit != WR_ADMIN) {
        web_reply_err(r, 403, "forbidden", "the role %s may not do this", c->who_p.role);
        return 1;
    }
    if (c->by_session && strcmp(gm, "GET") != 0) {
        const char *t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
        size_t tl = t ? strlen(t) : 0, cl = strlen(c->who_p.csrf);
        if (!t || tl != cl || cl == 0 || CRYPTO_memcmp(t, c->who_p.csrf, cl) != 0) {
            web_reply_err(r, 403, "csrf", "missing or wrong X-CSRF-Token header");
            return 1;
        }
    }
    return 0;
}

/* c->body: the request's JSON body, checked against the route's fields. 1 when refused
 * (answered into c->resp). */
static int body_of(struct MHD_Connection *conn, const char *gm, const struct web_req *rq,
                   const struct web_route *rt, struct web_call *c)
{
    char msg[WEB_MSG];
    if (strcmp(gm, "POST") == 0 && rq->body.len) {
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
            (ct[16] && ct[16] != ';' && ct[16] != ' ')) {
            web_reply_err(c->resp, 415, "unsupported_media_type",
                          "send Content-Type: application/json");
            return 1;
        }
    }
    if (web_body_parse((const char *)rq->body.data, rq->body.len, rt->body, &c->body, msg,
                       sizeof(msg))) {
        web_reply_err(c->resp, 400, "bad_request", "%s", msg);
        return 1;
    }
    return 0;
}

/* Runs the route: a read on the replica when it is usable (*rs: its connection, for the
 * caller to give back), else on the primary; timed and counted. */
static void run_route(struct web *w, const struct web_route *rt, struct web_call *c,
                      struct store **rs, struct tl_errinfo *ei)
{
    struct web_resp *r = c->resp;
    c->rs = c->s;
    if (web_route_reads(rt)) {
        if (web_replica_usable(&w->replica) && (*rs = web_pool_get(&w->rpool, ei))) {
            c->rs = *rs;
            c->on_replica = 1;
        }
        atomic_fetch_add(c->on_replica ? &w->metrics.reads_replica : &w->metrics.reads_primary, 1);
    }
    int64_t fn_from = web_metrics_now_us();
    if (rt->fn(c) != TL_OK && !r->status)
        web_reply_err(r, 500, "internal", "internal error");
    web_metrics_route(&w->metrics, rt->pattern, web_metrics_now_us() - fn_from);
    if (c->on_replica && r->status == 503)
        web_replica_failed(&w->replica);
}

void web_handle(struct web *w, struct MHD_Connection *conn, struct web_req *rq, const char *method,
                struct web_resp *r)
{
    struct web_path path = {0};
    struct web_query q = {0};
    struct web_call c;
    struct tl_errinfo ei;
    struct store *rs = NULL; /* a replica's connection, when the route reads from it */
    char client[64];
    unsigned bit = 0;
    memset(&c, 0, sizeof(c));
    tl_errinfo_clear(&ei);
    const char *qm = strchr(rq->uri, '?');
    char *pathpart = qm ? tl_strndup(rq->uri, (size_t)(qm - rq->uri)) : tl_strdup(rq->uri);
    const char *gm = strcmp(method, "HEAD") == 0 ? "GET" : method;
    if (!pathpart) {
        web_reply_err(r, 500, "internal", "out of memory");
        return;
    }
    if (request_refused(conn, rq, method, pathpart, &path, r) ||
        serve_outside_api(w, gm, &path, &c.s, r, &ei))
        goto out;
    const struct web_route *rt = route_of(method, gm, &path, qm ? qm + 1 : NULL, &q, r);
    if (!rt)
        goto out;
    call_init(w, conn, &path, &q, r, client, sizeof(client), &c);
    if (!(c.s = web_pool_get(&w->pool, &ei))) {
        web_reply_store_err(r, TL_EDBDOWN, &ei);
        goto out;
    }
    if (admit(w, conn, rt, gm, &c, &bit, &ei) || body_of(conn, gm, rq, rt, &c))
        goto out;
    c.who.account = c.who_p.account;
    c.who.round_decimals = decimals_for(w, bit);
    run_route(w, rt, &c, &rs, &ei);
out:
    json_object_put(c.body);
    web_pool_put(&w->rpool, rs);
    web_pool_put(&w->pool, c.s);
    web_query_release(&q);
    web_path_release(&path);
    free(pathpart);
}
