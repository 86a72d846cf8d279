/* storage/store_near.c - the rows of the bot's near-duplicate index in memory
 * (daemon/near.c): every stored hash with the snapshot it was read in, the rows a later
 * snapshot adds (media_bands.ins_xid, migration 0035), and the hashes of a draft's photos
 * about to be searched. Band 0's rows only: one per stored hash. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "common/banned.h"

/* Rows of one FETCH: the index is built page by page, never the whole table in a result. */
#define NEAR_FETCH_SQL "FETCH 50000 FROM tl_near"

static int near_rows(PGresult *r, int col0, store_near_fn fn, void *arg)
{
    int n = PQntuples(r), rc = TL_OK;
    for (int i = 0; i < n && rc == TL_OK; i++)
        if (!PQgetisnull(r, i, col0))
            rc = fn(arg, st_getll(r, i, col0), st_getll(r, i, col0 + 1));
    return rc;
}

int store_near_load(struct store *s, store_near_fn fn, void *arg, char **snapshot,
                    struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *snapshot = NULL;
    int rc = st_ready(s, ei);
    if (rc ||
        (rc = st_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, ei)))
        return rc;
    /* the transaction's one snapshot: the cursor reads in it */
    if ((rc = st_exec(s, "SELECT pg_current_snapshot()::text", 0, NULL, &r, ei)))
        goto out;
    if (!(*snapshot = st_str(r, 0, 0))) {
        rc = TL_ENOMEM;
        goto out;
    }
    PQclear(r);
    r = NULL;
    if ((rc = st_exec(s,
                      "DECLARE tl_near NO SCROLL CURSOR FOR SELECT hash, media_id FROM media_bands"
                      " WHERE band < 4294967296",
                      0, NULL, NULL, ei)))
        goto out;
    for (;;) {
        if ((rc = st_exec(s, NEAR_FETCH_SQL, 0, NULL, &r, ei)))
            goto out;
        if (PQntuples(r) == 0)
            break;
        if ((rc = near_rows(r, 0, fn, arg)) != TL_OK)
            goto out;
        PQclear(r);
        r = NULL;
    }
    rc = st_commit(s, ei);
out:
    PQclear(r);
    if (rc != TL_OK) {
        st_rollback(s);
        free(*snapshot);
        *snapshot = NULL;
    }
    return rc;
}

int store_near_since(struct store *s, const char *snapshot, store_near_fn fn, void *arg,
                     char **snapshot_new, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    const char *v[1] = {snapshot};
    *snapshot_new = NULL;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_exec(s,
                            "SELECT pg_current_snapshot()::text, b.hash, b.media_id"
                            " FROM (SELECT 1) one LEFT JOIN media_bands b"
                            "   ON b.ins_xid >= pg_snapshot_xmin($1::pg_snapshot)"
                            "  AND b.band < 4294967296"
                            "  AND NOT pg_visible_in_snapshot(b.ins_xid, $1::pg_snapshot)",
                            1, v, &r, ei)))
        return rc;
    if (!(*snapshot_new = st_str(r, 0, 0)))
        rc = TL_ENOMEM;
    else
        rc = near_rows(r, 1, fn, arg);
    PQclear(r);
    if (rc != TL_OK) {
        free(*snapshot_new);
        *snapshot_new = NULL;
    }
    return rc;
}

int store_conv_draft_phashes(struct store *s, long long chat_id, long long draft_id,
                             long long **hashes, size_t *n, struct tl_errinfo *ei)
{
    char cb[32], db[32];
    const char *v[2] = {st_ll(cb, chat_id), st_ll(db, draft_id)};
    PGresult *r = NULL;
    *hashes = NULL;
    *n = 0;
    int rc = st_plan_write(s, &s->plan, 0, NULL, ei); /* the held updates' photos too */
    if (rc || (rc = st_exec(s,
                            "SELECT h FROM draft_media d,"
                            " LATERAL (VALUES (d.phash), (d.phash_inner)) x(h)"
                            " WHERE d.chat_id = $1::bigint AND d.draft_id = $2::bigint"
                            "   AND d.phash IS NOT NULL AND x.h IS NOT NULL",
                            2, v, &r, ei)))
        return rc;
    int m = PQntuples(r);
    if (m > 0 && !(*hashes = malloc((size_t)m * sizeof(**hashes))))
        rc = TL_ENOMEM;
    for (int i = 0; i < m && rc == TL_OK; i++)
        (*hashes)[(*n)++] = st_getll(r, i, 0);
    PQclear(r);
    return rc;
}
