/* storage/store_ops.c - what the operators' endpoints (/metrics, /readyz) read from the
 * database: one call of ops_metrics(); and how far a streaming replica is behind. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

void store_metrics_free(struct store_metric *m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].labels);
    }
    free(m);
}

int store_ops_metrics(struct store *s, struct store_metric **out, size_t *n, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    struct store_metric *m = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT name, labels, value FROM ops_metrics()", 0, NULL, &r, ei);
    if (rc)
        return rc;
    int nr = PQntuples(r);
    m = calloc(nr > 0 ? (size_t)nr : 1, sizeof(*m));
    if (!m) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (k = 0; k < (size_t)nr; k++) {
        int i = (int)k;
        m[k].name = tl_strdup(PQgetvalue(r, i, 0));
        m[k].labels = tl_strdup(PQgetvalue(r, i, 1));
        m[k].value = strtod(PQgetvalue(r, i, 2), NULL);
        if (!m[k].name || !m[k].labels) {
            k++;
            rc = TL_ENOMEM;
            goto out;
        }
    }
    *out = m;
    *n = k;
    m = NULL;
out:
    store_metrics_free(m, k);
    PQclear(r);
    return rc;
}

/* A WAL position (and a second number, when asked) of a one-row answer. */
static int one_ll(struct store *s, const char *sql, long long *v, double *d, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *v = 0;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_exec(s, sql, 0, NULL, &r, ei)))
        return rc;
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0))
        rc = tl_errf(ei, TL_EINVAL, "no WAL position: not a streaming replica");
    else
        *v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (d)
        *d = rc == TL_OK && !PQgetisnull(r, 0, 1) ? strtod(PQgetvalue(r, 0, 1), NULL) : -1;
    PQclear(r);
    return rc;
}

int store_wal_position(struct store *primary, long long *lsn, struct tl_errinfo *ei)
{
    return one_ll(primary, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", lsn, NULL, ei);
}

int store_replica_replayed(struct store *replica, long long *lsn, double *age_s,
                           struct tl_errinfo *ei)
{
    /* NULL outside recovery: a primary, or a replica promoted since */
    return one_ll(replica,
                  "SELECT CASE WHEN pg_is_in_recovery()"
                  " THEN (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint END,"
                  " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
                  lsn, age_s, ei);
}

int store_retention_run(struct store *s, struct store_retention *rt, int dry_run, const char *actor,
                        struct tl_errinfo *ei)
{
    char b1[32], b2[32], b3[32];
    const char *v[4] = {st_ll(b1, rt->chat_days), st_ll(b2, rt->inbox_days),
                        st_ll(b3, rt->photo_days), actor};
    long long *const dst[] = {&rt->inbox,  &rt->chats,  &rt->outbox,
                              &rt->drafts, &rt->events, &rt->photos};
    static const char *const kinds[] = {"inbox", "chats", "outbox", "drafts", "events", "photos"};
    PGresult *r = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if ((rc = st_begin(s, ei)) != TL_OK)
        return rc;
    rc = st_exec(s, "SELECT kind, n FROM ops_purge($1::bigint, $2::bigint, $3::bigint, $4::text)",
                 4, v, &r, ei);
    if (rc)
        goto out;
    for (int i = 0; i < PQntuples(r); i++)
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strcmp(PQgetvalue(r, i, 0), kinds[k]) == 0)
                *dst[k] = st_getll(r, i, 1);
    if (!dry_run)
        rc = st_commit(s, ei);
out:
    PQclear(r);
    if (rc || dry_run)
        st_rollback(s);
    return rc;
}
