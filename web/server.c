/* web/server.c - the HTTP server: libmicrohttpd (a thread per connection), its start
 * and stop, a request's framing and body read in, and the response sent with the
 * security headers every response carries. A request's way to its route is request.c's;
 * the database pools are pool.c's, the rate limit rate.c's, peers and clients peer.c's,
 * the static files files.c's. Route handlers live in api.c. */
#include "server_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/banned.h"

long long web_events_read(struct web *w)
{
    return atomic_load(&w->ev.read_upto);
}

unsigned web_port(const struct web *w)
{
    return w->port;
}

/* ---- responses ---- */

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

static void log_request(const char *method, const struct web_req *rq, unsigned status, int64_t t0)
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
    struct web_req *rq = calloc(1, sizeof(*rq));
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
    struct web_req *rq = *con_cls;
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
    web_handle(w, conn, rq, method, &r);
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
    struct web_req *rq = *con_cls;
    if (!rq)
        return;
    free(rq->uri);
    tl_buf_release(&rq->body);
    free(rq);
    *con_cls = NULL;
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
    int pools = web_pool_init(&w->pool, cfg->database_url, conns, &w->metrics) |
                web_pool_init(&w->rpool, cfg->database_replica_url, conns, &w->metrics);
    w->rate = calloc(WEB_RATE_SLOTS, sizeof(*w->rate));
    w->rounded = rounded_roles(cfg->rounded_roles);
    pthread_mutex_init(&w->rate_mu, NULL);
    pthread_mutex_init(&w->conns_mu, NULL);
    w->conns = calloc(WEB_MAX_CONNS, sizeof(*w->conns));
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
    struct store *first = web_pool_get(&w->pool, ei);
    if (!first) {
        rc = TL_EDBDOWN;
        goto out;
    }
    web_pool_put(&w->pool, first);
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
        flags, 0, web_on_accept, w, on_request, w, MHD_OPTION_SOCK_ADDR,
        (const struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, w,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION,
        web_on_connection, w, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)WEB_MAX_CONNS, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
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
    web_pool_release(&w->pool);
    web_pool_release(&w->rpool);
    free(w->rate);
    free(w->csp);
    pthread_mutex_destroy(&w->rate_mu);
    web_streams_free(w->streams);
    pthread_mutex_destroy(&w->conns_mu);
    free(w->conns);
    free(w);
}
