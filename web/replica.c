/* web/replica.c - the read replica's watcher: a thread of the web server that asks the
 * primary for its WAL position and the replica for what it has replayed, every second,
 * and says whether the read-only routes may read from the replica (it answers, and its
 * replay lags at most replica_max_lag_seconds). The lag is measured against the
 * primary's own positions: the replica has everything the primary had written when it
 * stood at the newest position the replica has replayed, so its lag is the time since
 * then (exact to the second for the last RING busy seconds, a lower bound beyond).
 * pg_last_xact_replay_timestamp() alone would not do: on a primary idle for an hour it
 * reads an hour behind a replica that lacks nothing; it only bounds a replica that is
 * behind every position the watcher has seen (just started). */
#include "web_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

#define CHECK_MS 1000
#define FRESH_MS (3 * CHECK_MS) /* a watcher that has not checked for this long: not usable */

static void *watch(void *arg)
{
    struct web_replica *rp = arg;
    struct web_metrics *m = rp->m;
    struct store *p = NULL, *r = NULL;
    int was_usable = -1;
    while (!rp->stop) {
        struct tl_errinfo ei;
        long long plsn = 0, rlsn = 0;
        tl_errinfo_clear(&ei);
        if (!p && store_open(rp->cfg->database_url, &p, &ei) != TL_OK) /* the requests say so */
            log_debug("replica watcher: primary unreachable detail=\"%s\"", ei.msg);
        int ok_p = p && store_wal_position(p, &plsn, &ei) == TL_OK;
        int64_t t = tl_now_ms();
        if (ok_p) { /* the newest entry holds the last moment its position was current */
            struct web_replica_pos *top =
                rp->n ? &rp->ring[(rp->head + rp->n - 1) % WEB_REPLICA_RING] : NULL;
            if (top && top->lsn == plsn) {
                top->t_ms = t;
            } else if (rp->n < WEB_REPLICA_RING) {
                rp->ring[(rp->head + rp->n++) % WEB_REPLICA_RING] =
                    (struct web_replica_pos){plsn, t};
            } else {
                rp->ring[rp->head] = (struct web_replica_pos){plsn, t};
                rp->head = (rp->head + 1) % WEB_REPLICA_RING;
            }
        }
        tl_errinfo_clear(&ei);
        if (!r && store_open(rp->cfg->database_replica_url, &r, &ei) != TL_OK)
            r = NULL;
        double age_s = -1;
        int up = r && store_replica_replayed(r, &rlsn, &age_s, &ei) == TL_OK;
        long long lag_ms = 0, lag_bytes = 0;
        if (up && rp->n) {
            const struct web_replica_pos *newest =
                &rp->ring[(rp->head + rp->n - 1) % WEB_REPLICA_RING];
            lag_bytes = newest->lsn > rlsn ? newest->lsn - rlsn : 0;
            int64_t caught = -1;
            for (size_t i = rp->n; i-- > 0;) {
                const struct web_replica_pos *e = &rp->ring[(rp->head + i) % WEB_REPLICA_RING];
                if (e->lsn <= rlsn) {
                    caught = e->t_ms;
                    break;
                }
            }
            if (caught >= 0) {
                lag_ms = tl_now_ms() - caught;
            } else {
                /* behind every position seen (a watcher just started, or a long lag): at
                 * least since the oldest, and the age of its last replayed commit says
                 * more on a primary that was busy (unknown: past the bound) */
                lag_ms = tl_now_ms() - rp->ring[rp->head].t_ms;
                long long by_commit = age_s >= 0 ? (long long)(age_s * 1000)
                                                 : rp->cfg->replica_max_lag_seconds * 1000 + 1;
                if (by_commit > lag_ms)
                    lag_ms = by_commit;
            }
        }
        int usable = up && lag_ms <= rp->cfg->replica_max_lag_seconds * 1000;
        if (!up)
            atomic_fetch_add(&rp->down_epoch, 1);
        atomic_store(&m->replica_up, up);
        atomic_store(&m->replica_lag_ms, lag_ms);
        atomic_store(&m->replica_lag_bytes, lag_bytes);
        atomic_store(&m->replica_usable, usable);
        atomic_store(&rp->checked_ms, tl_now_ms());
        if (usable != was_usable) {
            if (usable)
                log_info("replica: reads go to the replica lag_ms=%lld", lag_ms);
            else
                log_warn(
                    "replica: reads go to the primary up=%d lag_ms=%lld bound_s=%ld detail=\"%s\"",
                    up, lag_ms, rp->cfg->replica_max_lag_seconds, up ? "" : ei.msg);
            was_usable = usable;
        }
        tl_sleep_ms(CHECK_MS, &rp->stop);
    }
    store_free(p);
    store_free(r);
    return NULL;
}

/* What reads from the replica: the console's list, the export feeds, OGC API items and
 * the tiles. Not a report opened (its view is audited, and an analyst who just decided
 * it must see the decision), claims and decisions, the audit log, accounts. The feeds'
 * audit rows go to the primary (export.c). */
static const char *const READS[] = {
    "api/reports",
    "api/export/*",
    "api/ogc/collections/*/items",
    "api/tiles/*/*/*",
};

int web_route_reads(const struct web_route *rt)
{
    if (strcmp(rt->method, "GET") != 0)
        return 0;
    for (size_t i = 0; i < sizeof(READS) / sizeof(READS[0]); i++)
        if (strcmp(rt->pattern, READS[i]) == 0)
            return 1;
    return 0;
}

int web_replica_start(struct web_replica *rp, const struct cfg *cfg, struct web_metrics *m,
                      struct tl_errinfo *ei)
{
    rp->cfg = cfg;
    rp->m = m;
    if (!*cfg->database_replica_url)
        return TL_OK;
    atomic_store(&m->replica_configured, 1);
    if (pthread_create(&rp->th, NULL, watch, rp) != 0)
        return tl_errf(ei, TL_ENOMEM, "cannot start the replica watcher");
    rp->started = 1;
    return TL_OK;
}

void web_replica_stop(struct web_replica *rp)
{
    if (!rp->started)
        return;
    rp->stop = 1;
    pthread_join(rp->th, NULL);
    rp->started = 0;
}

int web_replica_usable(struct web_replica *rp)
{
    return rp->started && atomic_load(&rp->m->replica_usable) &&
           tl_now_ms() - atomic_load(&rp->checked_ms) < FRESH_MS;
}

void web_replica_failed(struct web_replica *rp)
{
    atomic_store(&rp->m->replica_usable, 0);
    atomic_fetch_add(&rp->down_epoch, 1);
}
