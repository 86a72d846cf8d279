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

void web_handle(struct web *w, struct MHD_Connection *conn, struct req *rq, const char *method,
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
        c.s = ops == WEB_OPS_HEALTHZ ? NULL : web_pool_get(&w->pool, &ei);
        web_ops_serve(ops, gm, c.s, &w->metrics, *w->cfg->webhook_listen != 0, r);
        goto out;
    }
    if (path.n == 0 || strcmp(path.segs[0], "api") != 0) {
        if (!web_serve_static(gm, &path, r))
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
    web_client_addr(w, conn, client, sizeof(client));
    c.client = client;
    c.last_event_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    c.range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    c.prefer_minimal =
        web_prefer_minimal(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Prefer"));
    if (!(c.s = web_pool_get(&w->pool, &ei))) {
        web_reply_store_err(r, TL_EDBDOWN, &ei);
        goto out;
    }
    if (rt->roles) {
        int rc = authenticate(&c, conn, key, sizeof(key), &ei);
        if (rc) {
            /* Failed credentials count against the client's address, so that guessing
             * (or a flood of bad tokens, each a database query) is slowed too. */
            snprintf(key, sizeof(key), "ip:%s", client);
            long wait = rc == TL_EAUTH ? web_rate_take(w, key) : 0;
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
    long wait = web_rate_take(w, key);
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
        if (web_replica_usable(&w->replica) && (rs = web_pool_get(&w->rpool, &ei))) {
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
    web_pool_put(&w->rpool, rs);
    web_pool_put(&w->pool, c.s);
    web_query_release(&q);
    web_path_release(&path);
    free(pathpart);
}
