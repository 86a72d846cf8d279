/* web/metrics.c - the operators' endpoints, public and outside /api: /healthz (the
 * process answers), /readyz (the database answers, a poller holds the lock, replies are
 * not stuck) and /metrics in the Prometheus text format (0.0.4): the database's samples
 * from ops_metrics() beside this process's own counters and latency histograms. */
#include "web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/prom.h"
#include "common/banned.h"

enum web_ops web_ops_path(const struct web_path *p)
{
    if (p->n != 1)
        return WEB_OPS_NONE;
    if (strcmp(p->segs[0], "healthz") == 0)
        return WEB_OPS_HEALTHZ;
    if (strcmp(p->segs[0], "readyz") == 0)
        return WEB_OPS_READYZ;
    if (strcmp(p->segs[0], "metrics") == 0)
        return WEB_OPS_METRICS;
    return WEB_OPS_NONE;
}

int64_t web_metrics_now_us(void)
{
    return tl_prom_now_us();
}

void web_metrics_route(struct web_metrics *m, const char *pattern, int64_t us)
{
    if (strcmp(pattern, "api/queue/claim") == 0)
        tl_hist_observe(&m->claim, us);
    else if (strcmp(pattern, "api/reports/*/decide") == 0)
        tl_hist_observe(&m->decide, us);
}

void web_metrics_response(struct web_metrics *m, unsigned status)
{
    unsigned c = status / 100;
    atomic_fetch_add(&m->responses[c >= 1 && c <= 5 ? c : 0], 1);
}

/* HELP and TYPE of the database's samples, by name (all gauges). */
static const char *const DB_HELP[][2] = {
    {"tipline_inbox_updates", "Updates kept in the inbox, by state (processed ones until purged)."},
    {"tipline_inbox_lag_seconds", "Age of the oldest update not yet processed."},
    {"tipline_update_offset", "The Bot API offset acknowledged (the next update_id expected)."},
    {"tipline_outbox_messages", "Replies in the outbox, by state."},
    {"tipline_outbox_failed_attempts", "Failed tries of the replies kept in the outbox."},
    {"tipline_outbox_rate_limited", "Replies waiting because Telegram answered 429 (Too Many "
                                    "Requests) to their last try."},
    {"tipline_outbox_lag_seconds", "How long the oldest due reply has waited."},
    {"tipline_reports", "Reports by status."},
    {"tipline_media_stored", "Photos stored (each one stripped of its metadata)."},
    {"tipline_moderation_verdicts", "Moderation's verdicts on the reports kept, by verdict."},
    {"tipline_moderation_open", "Moderation verdicts no moderator has resolved yet."},
    {"tipline_moderation_campaigns_held", "Flood campaigns held for a moderator."},
    {"tipline_poller_held", "1 when a bot process holds the poller's lock."},
};

static const char *db_help(const char *name)
{
    for (size_t i = 0; i < sizeof(DB_HELP) / sizeof(DB_HELP[0]); i++)
        if (strcmp(DB_HELP[i][0], name) == 0)
            return DB_HELP[i][1];
    return "A sample of the database (ops_metrics).";
}

static int put_db(struct tl_buf *b, const struct store_metric *sm, size_t n)
{
    int e = 0;
    for (size_t i = 0; i < n && !e; i++) {
        /* samples of one name come together: one HELP/TYPE for the group */
        if (i == 0 || strcmp(sm[i].name, sm[i - 1].name) != 0)
            e = tl_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", sm[i].name, db_help(sm[i].name),
                              sm[i].name);
        if (!e)
            e = tl_buf_printf(b, "%s%s%s%s %.17g\n", sm[i].name, *sm[i].labels ? "{" : "",
                              sm[i].labels, *sm[i].labels ? "}" : "", sm[i].value);
    }
    return e;
}

static int put_process(struct tl_buf *b, struct web_metrics *m)
{
    static const char *const cls[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    int e = tl_buf_printf(b, "# HELP tipline_http_responses_total Answers of this web server, by "
                             "status class.\n# TYPE tipline_http_responses_total counter\n");
    for (size_t i = 0; i < 6 && !e; i++)
        e = tl_buf_printf(b, "tipline_http_responses_total{class=\"%s\"} %lld\n", cls[i],
                          atomic_load(&m->responses[i]));
    if (!e)
        e = tl_buf_printf(
            b,
            "# HELP tipline_db_pool_waits_total Requests that waited for a free database "
            "connection.\n# TYPE tipline_db_pool_waits_total counter\n"
            "tipline_db_pool_waits_total %lld\n"
            "# HELP tipline_db_pool_wait_seconds_total Time requests spent waiting for one.\n"
            "# TYPE tipline_db_pool_wait_seconds_total counter\n"
            "tipline_db_pool_wait_seconds_total %.6f\n",
            atomic_load(&m->pool_waits), (double)atomic_load(&m->pool_wait_us) / 1e6);
    if (!e)
        e = tl_buf_printf(b,
                          "# HELP tipline_reads_total Requests of the read-only routes (list, "
                          "feeds, OGC items, tiles), by the database they read.\n"
                          "# TYPE tipline_reads_total counter\n"
                          "tipline_reads_total{database=\"replica\"} %lld\n"
                          "tipline_reads_total{database=\"primary\"} %lld\n",
                          atomic_load(&m->reads_replica), atomic_load(&m->reads_primary));
    if (!e && atomic_load(&m->replica_configured))
        e = tl_buf_printf(
            b,
            "# HELP tipline_replica_up 1 when the read replica answered its last check as a "
            "replica.\n# TYPE tipline_replica_up gauge\ntipline_replica_up %d\n"
            "# HELP tipline_replica_usable 1 when reads go to the replica (up, lag within "
            "replica_max_lag_seconds).\n# TYPE tipline_replica_usable gauge\n"
            "tipline_replica_usable %d\n"
            "# HELP tipline_replica_lag_seconds How far the replica's replay is behind the "
            "primary.\n# TYPE tipline_replica_lag_seconds gauge\n"
            "tipline_replica_lag_seconds %.3f\n"
            "# HELP tipline_replica_lag_bytes WAL the replica has still to replay.\n"
            "# TYPE tipline_replica_lag_bytes gauge\ntipline_replica_lag_bytes %lld\n",
            atomic_load(&m->replica_up), atomic_load(&m->replica_usable),
            (double)atomic_load(&m->replica_lag_ms) / 1e3, atomic_load(&m->replica_lag_bytes));
    if (!e)
        e = tl_prom_hist(b, "tipline_claim_seconds",
                         "Time to claim the next report (POST "
                         "/api/queue/claim).",
                         &m->claim);
    if (!e)
        e = tl_prom_hist(b, "tipline_decide_seconds",
                         "Time to decide a report (POST "
                         "/api/reports/{id}/decide).",
                         &m->decide);
    return e;
}

static void reply_text(struct web_resp *r, unsigned status, struct tl_buf *b)
{
    free(r->body);
    r->status = status;
    r->len = b->len;
    r->body = (char *)b->data; /* the response owns it now */
    r->ctype = "text/plain; version=0.0.4; charset=utf-8";
    tl_buf_init(b, 0);
}

static double sample(const struct store_metric *sm, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sm[i].name, name) == 0)
            return sm[i].value;
    return 0;
}

void web_ops_serve(enum web_ops which, const char *method, struct store *s, struct web_metrics *m,
                   int webhook, struct web_resp *r)
{
    struct store_metric *sm = NULL;
    size_t n = 0;
    struct tl_errinfo ei;
    struct tl_buf b;
    tl_buf_init(&b, 4u << 20);
    if (strcmp(method, "GET") != 0) {
        tl_strlcpy(r->allow, "GET, HEAD", sizeof(r->allow));
        web_reply_err(r, 405, "method_not_allowed", "%s is not allowed here", method);
        goto out;
    }
    int db_ok = 0;
    if (which != WEB_OPS_HEALTHZ && s) {
        int rc = store_ops_metrics(s, &sm, &n, &ei);
        db_ok = rc == TL_OK;
        if (!db_ok)
            log_warn("metrics query failed err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
    }
    int e = 0;
    unsigned status = 200;
    switch (which) {
    case WEB_OPS_HEALTHZ:
        e = tl_buf_printf(&b, "ok\n");
        break;
    case WEB_OPS_READYZ: {
        double lag = sample(sm, n, "tipline_outbox_lag_seconds");
        double in_lag = sample(sm, n, "tipline_inbox_lag_seconds");
        int intake = webhook ? in_lag < WEB_READY_LAG_S : sample(sm, n, "tipline_poller_held") > 0;
        int ready = db_ok && intake && lag < WEB_READY_LAG_S;
        status = ready ? 200 : 503;
        if (webhook)
            e = tl_buf_printf(&b, "%s\ndatabase %s\nwebhook inbox_lag_seconds %.0f (%s)\n",
                              ready ? "ready" : "not ready", db_ok ? "ok" : "unreachable", in_lag,
                              intake ? "ok" : "stuck");
        else
            e = tl_buf_printf(&b, "%s\ndatabase %s\npoller %s\n", ready ? "ready" : "not ready",
                              db_ok ? "ok" : "unreachable", intake ? "held" : "none");
        if (!e)
            e = tl_buf_printf(&b, "outbox_lag_seconds %.0f (bound %d)\n", lag, WEB_READY_LAG_S);
        break;
    }
    default:
        e = tl_buf_printf(&b,
                          "# HELP tipline_database_up 1 when the database answered.\n"
                          "# TYPE tipline_database_up gauge\ntipline_database_up %d\n",
                          db_ok);
        if (!e && db_ok)
            e = put_db(&b, sm, n);
        if (!e)
            e = put_process(&b, m);
    }
    if (e)
        web_reply_err(r, 500, "internal", "out of memory");
    else
        reply_text(r, status, &b);
out:
    tl_buf_release(&b);
    store_metrics_free(sm, n);
}
