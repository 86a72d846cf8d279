/* daemon/metrics.c - tipline bot's own /metrics, on metrics_listen (loopback): the
 * counters of this process (updates received and handled, replies sent, failed and
 * rate-limited, media kept and refused, the handling time). They live here, not in the
 * database: they are per process and monotonic, Prometheus scrapes each bot as a target
 * of its own and rate() absorbs a restart; a tick writing them into PostgreSQL would add
 * writes to the primary the intake competes with, and lose what happened since the last
 * tick when the process dies. The database's side (inbox, outbox depth, reports) is
 * tipline web's /metrics. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon_int.h"
#include "common/banned.h"

struct daemon_metrics {
    struct MHD_Daemon *d;
    struct daemon_stats *st;
    unsigned port;
};

static int put(struct tl_buf *b, struct daemon_stats *st)
{
#define C(name, help, field) (e = e ? e : tl_prom_counter(b, name, help, atomic_load(&st->field)))
    int e = 0;
    C("tipline_bot_updates_received_total",
      "Updates this process received (getUpdates, or webhook POSTs stored).", received);
    C("tipline_bot_updates_stored_total", "Updates this process stored new in the inbox.", stored);
    C("tipline_bot_update_batches_total", "getUpdates batches stored.", batches);
    C("tipline_bot_webhook_refused_total",
      "Webhook POSTs refused for a missing or wrong secret token (401).", webhook_refused);
    C("tipline_bot_updates_handled_total", "Updates this process handled (effects committed).",
      handled);
    C("tipline_bot_updates_poisoned_total",
      "Updates unreadable or refused by the database: kept raw in the inbox, skipped.", poisoned);
    C("tipline_bot_reports_total", "Reports this process wrote.", reports);
    C("tipline_bot_media_kept_total", "Photos and videos stripped of metadata and kept.",
      media_kept);
    C("tipline_bot_media_refused_total",
      "Files refused: over the size limit, not fetched, or not cleanable.", media_refused);
    C("tipline_bot_replies_sent_total", "Replies Telegram accepted.", sent);
    C("tipline_bot_replies_failed_total", "Replies given up (refused by Telegram, too many tries).",
      send_failed);
    C("tipline_bot_replies_blocked_total", "Replies to chats that blocked the bot (403).",
      send_blocked);
    C("tipline_bot_replies_retried_total", "Tries to repeat later (429, 5xx, network errors).",
      send_retried);
    C("tipline_bot_telegram_429_total", "Answers 429 (Too Many Requests) from Telegram.",
      rate_limited);
#undef C
    if (!e)
        e = tl_buf_printf(b,
                          "# HELP tipline_bot_poller_held 1 while this process holds the poller's "
                          "lock (long polling).\n# TYPE tipline_bot_poller_held gauge\n"
                          "tipline_bot_poller_held %d\n",
                          atomic_load(&st->poller_held));
    struct daemon_near *nr = atomic_load(&st->near);
    if (!e && nr) {
        struct daemon_near_info ni;
        daemon_near_info(nr, &ni);
        e = tl_prom_gauge(b, "tipline_bot_near_index_loaded",
                          "1 once the photo index in memory is loaded and searched.", ni.loaded);
        if (!e)
            e = tl_prom_gauge(b, "tipline_bot_near_index_hashes", "Photo hashes in the index.",
                              (double)ni.hashes);
        if (!e)
            e = tl_prom_gauge(b, "tipline_bot_near_index_bytes", "Memory the index holds.",
                              (double)ni.bytes);
        if (!e)
            e = tl_prom_gauge(b, "tipline_bot_near_index_spare_bytes",
                              "Of that, the room grown buckets left (given back by a reload).",
                              (double)ni.spare_bytes);
        if (!e)
            e = tl_prom_gauge(b, "tipline_bot_near_index_age_seconds",
                              "Since the index last read the photos stored.",
                              ni.loaded ? (double)ni.age_ms / 1000 : 0);
        if (!e)
            e = tl_prom_counter(b, "tipline_bot_near_index_reloads_total",
                                "Loads that gave the grown buckets' room back.", ni.reloads);
    }
    if (!e)
        e = tl_prom_hist(b, "tipline_bot_handle_seconds",
                         "Time to handle one chat's batch of updates (files fetched, decided, "
                         "committed).",
                         &st->handle);
    return e;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req)
{
    struct daemon_metrics *m = cls;
    (void)version;
    (void)upload;
    if (!*req) { /* the headers: answer once the (empty) body is in */
        *req = m;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status = 200;
    struct tl_buf b;
    tl_buf_init(&b, 1u << 20);
    const char *ctype = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(url, "/metrics") != 0) {
        status = 404;
        ctype = "text/plain; charset=utf-8";
    } else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = 405;
        ctype = "text/plain; charset=utf-8";
    }
    int e = status == 200 ? put(&b, m->st)
                          : tl_buf_printf(&b, "%s\n", status == 404 ? "not found" : "GET only");
    if (e) {
        tl_buf_release(&b);
        return MHD_NO;
    }
    size_t len = 0;
    unsigned char *body = tl_buf_steal(&b, &len);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body ? body : (unsigned char *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    if (status == 405)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

int daemon_metrics_start(const char *listen, struct daemon_stats *st, struct daemon_metrics **out,
                         struct tl_errinfo *ei)
{
    struct sockaddr_in sa;
    *out = NULL;
    int rc = daemon_parse_listen(listen, "metrics_listen", &sa, ei);
    if (rc)
        return rc;
    struct daemon_metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return TL_ENOMEM;
    m->st = st;
    /* one thread polls every connection: a scrape is a few KiB from memory */
    m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL,
                            on_request, m, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT, 16u,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!m->d) {
        free(m);
        return tl_errf(ei, TL_EIO, "cannot listen on %s (metrics_listen)", listen);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    m->port = di ? di->port : ntohs(sa.sin_port);
    log_info("metrics listening addr=%s port=%u", listen, m->port);
    *out = m;
    return TL_OK;
}

unsigned daemon_metrics_port_of(const struct daemon_metrics *m)
{
    return m ? m->port : 0;
}

void daemon_metrics_free(struct daemon_metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    free(m);
}
