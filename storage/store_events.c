/* storage/store_events.c - the poll of the live events (web_events, 0013) the web
 * server streams to the consoles (Server-Sent Events): where a reader stands, what it has
 * not read yet, and the events no reader needs any more. */
#include "store_int.h"
#include "store_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* ---- live events (0013) ---- */

void store_events_reset(struct store_events *pos)
{
    free(pos->pending);
    memset(pos, 0, sizeof(*pos));
}

/* The transactions in flight at the statement's snapshot, as an xid8[] literal. */
#define EV_XIP                                                                                     \
    "COALESCE((SELECT array_agg(x)::text FROM pg_snapshot_xip(pg_current_snapshot()) x),"          \
    " '{}')"

static int events_pending(struct store_events *pos, const char *xip)
{
    char *p = tl_strdup(xip);
    if (!p)
        return TL_ENOMEM;
    free(pos->pending);
    pos->pending = p;
    return TL_OK;
}

/* Reads from after the newest event committed, and rereads the events of the
 * transactions still in flight (one snapshot: both, or neither, see a commit). */
static int events_head(struct store *s, struct store_events *pos, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    int rc = st_exec(s, "SELECT COALESCE((SELECT max(id) FROM web_events), 0), " EV_XIP, 0, NULL,
                     &r, ei);
    if (rc)
        return rc;
    pos->cursor = st_getll(r, 0, 0);
    rc = events_pending(pos, PQgetvalue(r, 0, 1));
    PQclear(r);
    return rc;
}

int store_events_attach(struct store *s, struct store_events *pos, struct tl_errinfo *ei)
{
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Registered first: a transaction whose trigger sees the registration writes its
     * event, and the head read after it finds that event committed or in flight. */
    rc = st_exec(s,
                 "WITH d AS (DELETE FROM web_listeners WHERE pid NOT IN"
                 "   (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL))"
                 " INSERT INTO web_listeners (pid) VALUES (pg_backend_pid())"
                 " ON CONFLICT (pid) DO UPDATE SET since = now()",
                 0, NULL, NULL, ei);
    if (rc)
        return rc;
    pos->purged_ms = tl_now_ms();
    return events_head(s, pos, ei);
}

int store_events_detach(struct store *s, struct tl_errinfo *ei)
{
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    return st_exec(s, "DELETE FROM web_listeners WHERE pid = pg_backend_pid()", 0, NULL, NULL, ei);
}

/* Once a minute: events older than 10 minutes go. Ids follow time, so the first event
 * younger than that bounds them (all of them when none is younger). */
static int events_purge(struct store *s, struct store_events *pos, struct tl_errinfo *ei)
{
    int64_t now = tl_now_ms();
    if (now - pos->purged_ms < 60000)
        return TL_OK;
    pos->purged_ms = now;
    return st_exec(s,
                   "DELETE FROM web_events WHERE id < COALESCE("
                   " (SELECT id FROM web_events WHERE at >= now() - interval '10 minutes'"
                   "  ORDER BY id LIMIT 1), (SELECT max(id) + 1 FROM web_events))",
                   0, NULL, NULL, ei);
}

int store_events_poll(struct store *s, struct store_events *pos, long max_events,
                      void (*fn)(void *arg, const char *body), void *arg, int *resync,
                      struct tl_errinfo *ei)
{
    char cb[32], lb[32];
    PGresult *r = NULL;
    *resync = 0;
    if (PQstatus(s->conn) != CONNECTION_OK)
        return tl_errf(ei, TL_EDBDOWN, "the events connection is closed");
    int rc = events_purge(s, pos, ei);
    if (rc)
        return rc;
    /* The events after the cursor, and those of the transactions that were in flight at
     * the last poll (their ids may be lower: taken before commit); then this snapshot's
     * transactions in flight, for the next poll. */
    const char *v[3] = {st_ll(cb, pos->cursor), pos->pending ? pos->pending : "{}",
                        st_ll(lb, max_events + 1)};
    rc = st_exec(s,
                 "SELECT 0 AS k, e.id, e.body FROM (SELECT id, body FROM web_events"
                 "   WHERE id > $1::bigint OR xid = ANY ($2::xid8[])"
                 "   ORDER BY id LIMIT $3::bigint) e"
                 " UNION ALL SELECT 1, NULL, " EV_XIP " ORDER BY 1, 2",
                 3, v, &r, ei);
    if (rc)
        return rc;
    int n = PQntuples(r), events = n - 1;
    if (n < 1 || strcmp(PQgetvalue(r, n - 1, 0), "1") != 0) {
        PQclear(r);
        return tl_errf(ei, TL_EDB, "events: no snapshot row");
    }
    if (events > max_events) {
        /* Too far behind to hand on: start again from now. */
        PQclear(r);
        *resync = 1;
        return events_head(s, pos, ei);
    }
    for (int i = 0; i < events; i++) {
        long long id = st_getll(r, i, 1);
        fn(arg, PQgetvalue(r, i, 2));
        if (id > pos->cursor)
            pos->cursor = id;
    }
    rc = events_pending(pos, PQgetvalue(r, n - 1, 2));
    PQclear(r);
    return rc;
}
