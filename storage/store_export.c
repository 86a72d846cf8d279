/* storage/store_export.c - the exporters' reads: a server-side cursor over
 * export_reports (storage/schema/export_reports.sql) handed out row by row, the audit
 * row every export leaves, the newest decision a feed's ETag is made of, and vector
 * tiles from PostGIS's ST_AsMVT (storage/schema/export_tile.sql). */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define EXPORT_NPARAM 15

struct store_export {
    struct store *s;
    PGresult *batch;
    int at, n;
    int done, open;
    long long rows;
    /* the filter's text form, kept for the audit row */
    char pb[EXPORT_NPARAM][32];
    const char *pv[EXPORT_NPARAM];
    char *status, *category, *since, *until;
};

static const char *dup_or_null(const char *s, char **keep)
{
    *keep = s ? tl_strdup(s) : NULL;
    return *keep;
}

int store_export_open(struct store *s, const struct store_export_filter *f,
                      struct store_export **out, struct tl_errinfo *ei)
{
    *out = NULL;
    struct store_export *x = calloc(1, sizeof(*x));
    if (!x)
        return TL_ENOMEM;
    x->s = s;
    const char **v = x->pv;
    v[0] = f->account;
    v[1] = dup_or_null(f->status, &x->status);
    v[2] = dup_or_null(f->category, &x->category);
    v[3] = dup_or_null(f->since, &x->since);
    v[4] = dup_or_null(f->until, &x->until);
    v[5] = f->has_after ? st_ll(x->pb[5], f->after_us) : NULL;
    v[6] = f->has_after ? st_ll(x->pb[6], f->after_id) : NULL;
    for (int i = 0; i < 4; i++)
        v[7 + i] = f->has_bbox ? st_dbl(x->pb[7 + i], f->bbox[i]) : NULL;
    v[11] = f->decimals >= 0 ? st_ll(x->pb[11], f->decimals) : NULL;
    v[12] = f->with_text ? "true" : "false";
    v[13] = f->limit > 0 ? st_ll(x->pb[13], f->limit) : NULL;
    v[14] = f->id > 0 ? st_ll(x->pb[14], f->id) : NULL;
    int rc = st_ready(s, ei);
    if (rc)
        goto out;
    /* One snapshot for the whole file: a report decided meanwhile is in the next one. */
    if ((rc = st_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, ei)))
        goto out;
    x->open = 1;
    /* planned for these values: most filters are NULL, and a generic plan would not know */
    rc = st_exec_planned(s,
                         "DECLARE tl_export NO SCROLL CURSOR FOR SELECT * FROM export_reports("
                         "$1::text, $2::text, $3::text, $4::timestamptz, $5::timestamptz,"
                         " $6::bigint, $7::bigint, $8::float8, $9::float8, $10::float8,"
                         " $11::float8, $12::int, $13::boolean, $14::bigint, $15::bigint)",
                         EXPORT_NPARAM, v, NULL, ei);
out:
    if (rc) {
        store_export_free(x);
        return rc;
    }
    *out = x;
    return TL_OK;
}

static const char *col(const PGresult *r, int row, int c)
{
    return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

int store_export_next(struct store_export *x, struct store_export_row *row, int *have,
                      struct tl_errinfo *ei)
{
    *have = 0;
    if (x->at >= x->n) {
        PQclear(x->batch);
        x->batch = NULL;
        x->at = x->n = 0;
        if (x->done)
            return TL_OK;
        /* the count is a literal: FETCH takes no parameter */
        int rc = st_exec(x->s, "FETCH 2000 FROM tl_export", 0, NULL, &x->batch, ei);
        if (rc) {
            x->done = 1;
            return rc;
        }
        x->n = PQntuples(x->batch);
        if (x->n < STORE_EXPORT_BATCH)
            x->done = 1;
        if (x->n == 0)
            return TL_OK;
    }
    const PGresult *r = x->batch;
    int i = x->at++;
    row->id = col(r, i, 0);
    row->ref = col(r, i, 1);
    row->category = col(r, i, 2);
    row->status = col(r, i, 3);
    row->observed_at = col(r, i, 4);
    row->received_at = col(r, i, 5);
    row->decided_at = col(r, i, 6);
    row->decided_us = st_getll(r, i, 7);
    row->point_source = col(r, i, 8);
    row->accuracy_m = col(r, i, 9);
    row->corroborations = col(r, i, 10);
    row->incident_id = col(r, i, 11);
    row->media_count = col(r, i, 12);
    row->lon = col(r, i, 13);
    row->lat = col(r, i, 14);
    row->text = col(r, i, 15);
    row->id_num = st_getll(r, i, 0);
    x->rows++;
    *have = 1;
    return TL_OK;
}

long long store_export_rows(const struct store_export *x)
{
    return x->rows;
}

int store_export_finish(struct store_export *x, const char *actor, const char *what,
                        const char *format, struct tl_errinfo *ei)
{
    char nb[32];
    PQclear(x->batch);
    x->batch = NULL;
    x->at = x->n = 0;
    int rc = st_commit(x->s, ei);
    if (rc)
        return rc;
    x->open = 0;
    const char *const *p = x->pv;
    const char *v[14] = {
        actor, what, format, st_ll(nb, x->rows), p[1], p[2], p[3], p[4], p[5], p[6], p[7],
        p[8],  p[9], p[10]};
    return st_exec(x->s,
                   "INSERT INTO audit_log (actor, action, object, after)"
                   " VALUES ($1::text, 'export', $2::text, jsonb_build_object('format', $3::text,"
                   "  'rows', $4::bigint, 'filter', jsonb_strip_nulls(jsonb_build_object("
                   "   'status', $5::text, 'category', $6::text, 'since', $7::text,"
                   "   'until', $8::text, 'after_us', $9::bigint, 'after_id', $10::bigint,"
                   "   'bbox', CASE WHEN $11::float8 IS NOT NULL THEN jsonb_build_array("
                   "     $11::float8, $12::float8, $13::float8, $14::float8) END))))",
                   14, v, NULL, ei);
}

void store_export_free(struct store_export *x)
{
    if (!x)
        return;
    PQclear(x->batch);
    if (x->open)
        st_rollback(x->s);
    free(x->status);
    free(x->category);
    free(x->since);
    free(x->until);
    free(x);
}

int store_export_state(struct store *s, long long *us, long long *id, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *us = *id = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* one step down reports_decided (migration 0021) */
    rc = st_exec(s,
                 "SELECT (extract(epoch FROM decided_at) * 1000000)::bigint, id FROM reports"
                 " WHERE decided_at IS NOT NULL ORDER BY decided_at DESC, id DESC LIMIT 1",
                 0, NULL, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        *us = st_getll(r, 0, 0);
        *id = st_getll(r, 0, 1);
    }
    PQclear(r);
    return TL_OK;
}

int store_export_tile(struct store *s, const char *account, int decimals, int z, long x, long y,
                      unsigned char **mvt, size_t *len, struct tl_errinfo *ei)
{
    char zb[32], xb[32], yb[32], db[32];
    const char *v[5] = {account, decimals >= 0 ? st_ll(db, decimals) : NULL, st_ll(zb, z),
                        st_ll(xb, x), st_ll(yb, y)};
    PGresult *r = NULL;
    *mvt = NULL;
    *len = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT export_tile($1::text, $2::int, $3::int, $4::int, $5::int)", 5, v, &r,
                 ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
        if (!raw) {
            rc = TL_ENOMEM;
        } else if (n) {
            if (!(*mvt = malloc(n)))
                rc = TL_ENOMEM;
            else
                memcpy(*mvt, raw, n), *len = n;
        }
        PQfreemem(raw);
    }
    PQclear(r);
    return rc;
}
