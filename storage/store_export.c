/* storage/store_export.c - the exporters' reads: a server-side cursor over
 * export_reports (storage/schema/export_reports.sql) handed out row by row, the audit
 * row every export leaves, the newest decision a feed's ETag is made of, and vector
 * tiles from PostGIS's ST_AsMVT (storage/schema/export_tile.sql). */
#include "store_int.h"
#include "store_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define EXPORT_NPARAM 15

struct media_n {
    long long id, n;
};

struct store_export {
    struct store *s;
    struct store *audit; /* where the audit row goes: NULL, s */
    PGresult *batch;
    int at, n;
    struct media_n *media; /* the batch's reports that have media, by id */
    size_t n_media;
    char times[3][32]; /* the current row's times, ISO 8601 */
    char ints[3][24];  /* its id, corroborations and incident */
    char media_count[24];
    int done, open;
    int pending; /* the next batch's FETCH is sent and its rows not yet all read */
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
                         "DECLARE tl_export NO SCROLL CURSOR FOR SELECT id, ref, category,"
                         " status, observed_at, received_at, decided_at, point_source,"
                         " accuracy_m::text, corroborations, incident_id, lon, lat, body"
                         " FROM export_reports("
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

/* The rows come in binary: integers and times are not printed by the backend and
 * parsed again here; text columns are their bytes (libpq ends each value with a NUL). */
static long long be_int(const PGresult *r, int row, int c)
{
    const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, c);
    int len = PQgetlength(r, row, c);
    unsigned long long v = 0;
    for (int i = 0; i < len; i++)
        v = v << 8 | p[i];
    if (len == 4) /* int4: sign-extend */
        return (long long)(int)(unsigned)v;
    return (long long)v;
}

static const char *int_text(const PGresult *r, int row, int c, char out[24])
{
    if (PQgetisnull(r, row, c))
        return NULL;
    tl_lltoa(be_int(r, row, c), out);
    return out;
}

/* Year, month, day of a count of days from 1970-01-01 (proleptic Gregorian; H. Hinnant's
 * civil_from_days). */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

static void digits(char *out, long long v, int n)
{
    while (n--) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* A binary timestamptz (microseconds since 2000-01-01 UTC) as the API writes times
 * ("2026-03-01T10:00:00.123Z") into out, and its microseconds since the epoch into *us
 * (may be NULL). NULL when SQL NULL, infinite or outside years 1-9999. */
static const char *iso_of(const PGresult *r, int row, int c, char out[32], long long *us)
{
    if (us)
        *us = 0;
    if (PQgetisnull(r, row, c) || PQgetlength(r, row, c) != 8)
        return NULL;
    long long t = be_int(r, row, c);
    const long long day = 86400000000LL, pg_epoch = 946684800000000LL;
    if (t < -pg_epoch - 719162 * day || t >= 2932897 * day - pg_epoch) /* 0001-01-01 to 9999 */
        return NULL;
    long long unix_us = t + pg_epoch;
    long long days = unix_us >= 0 ? unix_us / day : -((-unix_us + day - 1) / day);
    long long in_day = unix_us - days * day, y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    memcpy(out, "0000-00-00T00:00:00.000Z", 25);
    digits(out, y, 4);
    digits(out + 5, mo, 2);
    digits(out + 8, d, 2);
    digits(out + 11, in_day / 3600000000LL, 2);
    digits(out + 14, in_day / 60000000LL % 60, 2);
    digits(out + 17, in_day / 1000000 % 60, 2);
    digits(out + 20, in_day / 1000 % 1000, 3);
    if (us)
        *us = unix_us;
    return out;
}

static int media_cmp(const void *a, const void *b)
{
    long long x = ((const struct media_n *)a)->id, y = ((const struct media_n *)b)->id;
    return (x > y) - (x < y);
}

/* The media counts of the batch's reports, in one query (only reports with media come
 * back). */
static int batch_media(struct store_export *x, struct tl_errinfo *ei)
{
    struct st_arr ids;
    PGresult *r = NULL;
    free(x->media);
    x->media = NULL;
    x->n_media = 0;
    st_arr_init(&ids);
    for (int i = 0; i < x->n; i++)
        st_arr_ll(&ids, be_int(x->batch, i, 0));
    const char *v[1] = {st_arr_end(&ids)};
    int rc = v[0] ? st_exec(x->s,
                            "SELECT report_id, count(*) FROM media"
                            " WHERE report_id = ANY ($1::bigint[]) GROUP BY report_id",
                            1, v, &r, ei)
                  : TL_ENOMEM;
    st_arr_release(&ids);
    if (rc)
        return rc;
    int n = PQntuples(r);
    if (n && !(x->media = calloc((size_t)n, sizeof(*x->media))))
        rc = TL_ENOMEM;
    for (int i = 0; i < n && !rc; i++) {
        x->media[i].id = st_getll(r, i, 0);
        x->media[i].n = st_getll(r, i, 1);
    }
    PQclear(r);
    if (rc)
        return rc;
    x->n_media = (size_t)n;
    if (x->n_media > 1)
        qsort(x->media, x->n_media, sizeof(*x->media), media_cmp);
    return TL_OK;
}

/* The next batch is asked for before the current one is handed out, so that the
 * backend reads and formats it while the caller writes this one (the two run on
 * different cores); simple protocol: FETCH takes no parameter, the count is a literal. */
#define FETCH_SQL "FETCH 10000 FROM tl_export"
_Static_assert(STORE_EXPORT_BATCH == 10000, "FETCH_SQL's count is STORE_EXPORT_BATCH");

static int fetch_send(struct store_export *x, struct tl_errinfo *ei)
{
    if (!PQsendQueryParams(x->s->conn, FETCH_SQL, 0, NULL, NULL, NULL, NULL, 1))
        return st_fail(x->s, NULL, ei);
    x->pending = 1;
    return TL_OK;
}

/* The sent FETCH's result into x->batch (the connection is idle again after). */
static int fetch_recv(struct store_export *x, struct tl_errinfo *ei)
{
    PGresult *r = PQgetResult(x->s->conn), *extra;
    x->pending = 0;
    while ((extra = PQgetResult(x->s->conn)))
        PQclear(extra);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        int rc = st_fail(x->s, r, ei);
        PQclear(r);
        return rc;
    }
    /* the binary forms read below: bigint, text, timestamptz, integer */
    static const Oid types[] = {20, 25, 25, 25, 1184, 1184, 1184, 25, 25, 23, 20, 25, 25, 25};
    for (int c = 0; c < (int)(sizeof(types) / sizeof(types[0])); c++)
        if (PQnfields(r) != (int)(sizeof(types) / sizeof(types[0])) || PQftype(r, c) != types[c]) {
            PQclear(r);
            return tl_errf(ei, TL_EDB, "export: unexpected column %d", c);
        }
    x->batch = r;
    return TL_OK;
}

/* Drops a FETCH still under way: the connection takes nothing else until it ends. */
static void fetch_drain(struct store_export *x)
{
    PGresult *r;
    while (x->pending && (r = PQgetResult(x->s->conn)))
        PQclear(r);
    x->pending = 0;
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
        int rc = x->pending ? TL_OK : fetch_send(x, ei);
        if (!rc)
            rc = fetch_recv(x, ei);
        if (rc) {
            x->done = 1;
            return rc;
        }
        x->n = PQntuples(x->batch);
        if (x->n < STORE_EXPORT_BATCH)
            x->done = 1;
        if (x->n == 0)
            return TL_OK;
        if ((rc = batch_media(x, ei)) || (!x->done && (rc = fetch_send(x, ei)))) {
            x->done = 1;
            return rc;
        }
    } else if (x->pending && (x->at & 255) == 0) {
        /* take in what the backend has sent of the next batch: it would stop writing
         * once the socket's buffer is full */
        if (PQconsumeInput(x->s->conn))
            (void)PQisBusy(x->s->conn);
    }
    const PGresult *r = x->batch;
    int i = x->at++;
    row->id = int_text(r, i, 0, x->ints[0]);
    row->id_num = be_int(r, i, 0);
    row->ref = col(r, i, 1);
    row->category = col(r, i, 2);
    row->status = col(r, i, 3);
    row->observed_at = iso_of(r, i, 4, x->times[0], NULL);
    row->received_at = iso_of(r, i, 5, x->times[1], NULL);
    row->decided_at = iso_of(r, i, 6, x->times[2], &row->decided_us);
    row->point_source = col(r, i, 7);
    row->accuracy_m = col(r, i, 8);
    row->corroborations = int_text(r, i, 9, x->ints[1]);
    row->incident_id = int_text(r, i, 10, x->ints[2]);
    row->lon = col(r, i, 11);
    row->lat = col(r, i, 12);
    row->text = col(r, i, 13);
    struct media_n key = {.id = row->id_num};
    const struct media_n *m =
        x->n_media ? bsearch(&key, x->media, x->n_media, sizeof(key), media_cmp) : NULL;
    tl_lltoa(m ? m->n : 0, x->media_count);
    row->media_count = x->media_count;
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
    fetch_drain(x);
    PQclear(x->batch);
    x->batch = NULL;
    x->at = x->n = 0;
    int rc = st_commit(x->s, ei);
    if (rc)
        return rc;
    x->open = 0;
    struct store *a = x->audit ? x->audit : x->s;
    if (a != x->s && (rc = st_ready(a, ei)))
        return rc;
    const char *const *p = x->pv;
    const char *v[14] = {
        actor, what, format, st_ll(nb, x->rows), p[1], p[2], p[3], p[4], p[5], p[6], p[7],
        p[8],  p[9], p[10]};
    return st_exec(a,
                   "INSERT INTO audit_log (actor, action, object, after)"
                   " VALUES ($1::text, 'export', $2::text, jsonb_build_object('format', $3::text,"
                   "  'rows', $4::bigint, 'filter', jsonb_strip_nulls(jsonb_build_object("
                   "   'status', $5::text, 'category', $6::text, 'since', $7::text,"
                   "   'until', $8::text, 'after_us', $9::bigint, 'after_id', $10::bigint,"
                   "   'bbox', CASE WHEN $11::float8 IS NOT NULL THEN jsonb_build_array("
                   "     $11::float8, $12::float8, $13::float8, $14::float8) END))))",
                   14, v, NULL, ei);
}

void store_export_audit_to(struct store_export *x, struct store *primary)
{
    x->audit = primary;
}

void store_export_free(struct store_export *x)
{
    if (!x)
        return;
    fetch_drain(x);
    PQclear(x->batch);
    free(x->media);
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

int store_export_incidents(struct store *s, const struct store_export_filter *f, const char *actor,
                           const char *what, char **json, struct tl_errinfo *ei)
{
    char ab[32], db[32], lb[32], ib[32], bb[4][32];
    const char *v[13] = {f->account,
                         f->since,
                         f->until,
                         f->has_after ? st_ll(ab, f->after_id) : NULL,
                         NULL,
                         NULL,
                         NULL,
                         NULL,
                         f->decimals >= 0 ? st_ll(db, f->decimals) : NULL,
                         f->limit > 0 ? st_ll(lb, f->limit) : NULL,
                         f->id > 0 ? st_ll(ib, f->id) : NULL,
                         actor,
                         what};
    if (f->has_bbox)
        for (int i = 0; i < 4; i++) {
            snprintf(bb[i], sizeof(bb[i]), "%.17g", f->bbox[i]);
            v[4 + i] = bb[i];
        }
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    return st_one_text(
        s,
        "WITH x AS (SELECT *, row_number() OVER (ORDER BY id) AS rn FROM export_incidents("
        "  $1::text, $2::timestamptz, $3::timestamptz, $4::bigint, $5::float8, $6::float8,"
        "  $7::float8, $8::float8, $9::int, $10::bigint + 1, $11::bigint)),"
        " p AS (SELECT * FROM x WHERE $10::bigint IS NULL OR rn <= $10::bigint),"
        " a AS (INSERT INTO audit_log (actor, action, object, after)"
        "  SELECT $12::text, 'export', $13::text, jsonb_build_object('format', 'ogc',"
        "   'collection', 'incidents', 'rows', (SELECT count(*) FROM p),"
        "   'filter', jsonb_strip_nulls(jsonb_build_object('since', $2::text, 'until', $3::text,"
        "    'after_id', $4::bigint, 'id', $11::bigint, 'bbox', CASE WHEN $5::float8 IS NOT NULL"
        "    THEN jsonb_build_array($5::float8, $6::float8, $7::float8, $8::float8) END))))"
        " SELECT json_build_object('features', COALESCE((SELECT json_agg(json_build_object("
        "   'type', 'Feature', 'id', p.id, 'geometry', json_build_object('type', 'Point',"
        "    'coordinates', json_build_array(p.lon::numeric, p.lat::numeric)),"
        "   'properties', json_build_object('id', p.id, 'categories', p.categories,"
        "    'corroboration', p.corroborations, 'n_reports', p.n_reports,"
        "    'first_seen', web_iso(p.first_seen), 'last_seen', web_iso(p.last_seen),"
        "    'fused_lon', p.fused_lon::numeric, 'fused_lat', p.fused_lat::numeric,"
        "    'fused_uncertainty_m', p.fused_uncertainty_m)) ORDER BY p.id) FROM p), '[]'),"
        "  'count', (SELECT count(*) FROM p),"
        "  'more', EXISTS (SELECT 1 FROM x WHERE rn > $10::bigint),"
        "  'last', (SELECT max(id) FROM p))::text",
        13, v, json, "no such incident", ei);
}

int store_tile_audit(struct store *s, const char *account, int z, long long features,
                     struct tl_errinfo *ei)
{
    char zb[32], fb[32];
    const char *v[3] = {account, st_ll(zb, z), st_ll(fb, features)};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    return st_exec(s,
                   "INSERT INTO tile_audit AS t (account, zoom, minute, tiles, features)"
                   " VALUES ($1::text, $2::smallint, date_trunc('minute', now()), 1, $3::bigint)"
                   " ON CONFLICT (account, zoom, minute) DO UPDATE"
                   " SET tiles = t.tiles + 1, features = t.features + EXCLUDED.features",
                   3, v, NULL, ei);
}

/* The tile grid (migration 0027): one call each, its count in *n (st_ready done: it
 * would roll back a transaction open for the call). */
static int tile_grid_call(struct store *s, const char *sql, int nv, const char *const *v,
                          long long *n, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *n = 0;
    int rc = st_exec(s, sql, nv, v, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 1)
        *n = st_getll(r, 0, 0);
    PQclear(r);
    return TL_OK;
}

int store_tile_grid_ensure(struct store *s, int decimals, int *built, struct tl_errinfo *ei)
{
    char db[32];
    long long n = 0;
    const char *v[1] = {st_ll(db, decimals)};
    *built = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* one snapshot for the pending changes and the reports (tile_grid_fill.sql) */
    if ((rc = st_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, NULL, ei)) ||
        (rc = tile_grid_call(s, "SELECT tile_grid_ensure($1::int)::int", 1, v, &n, ei)) ||
        (rc = st_commit(s, ei))) {
        st_rollback(s);
        return rc;
    }
    *built = n != 0;
    return TL_OK;
}

int store_tile_grid_fold(struct store *s, long long *folded, struct tl_errinfo *ei)
{
    *folded = 0;
    int rc = st_ready(s, ei);
    return rc ? rc : tile_grid_call(s, "SELECT tile_grid_fold()", 0, NULL, folded, ei);
}

int store_webhook_add(struct store *s, const char *account, const char *url, const char *secret,
                      const char *events, char **json, struct tl_errinfo *ei)
{
    const char *v[4] = {account, url, secret, events ? events : "reports"};
    return st_one_text(s,
                       "WITH w AS (INSERT INTO webhook_subscriptions (account, url, secret, events)"
                       "  VALUES ($1::text, $2::text, $3::text, string_to_array($4::text, ','))"
                       "  RETURNING id, url, events, created_at),"
                       " a AS (INSERT INTO audit_log (actor, action, object, after)"
                       "  SELECT $1::text, 'webhook_add', 'webhook:' || w.id,"
                       "   jsonb_build_object('url', w.url, 'events', w.events) FROM w)"
                       " SELECT json_build_object('id', id, 'url', url, 'events', events,"
                       "  'created_at', web_iso(created_at))::text FROM w",
                       4, v, json, "no such webhook", ei);
}

int store_webhook_list(struct store *s, const char *account, char **json, struct tl_errinfo *ei)
{
    const char *v[1] = {account};
    return st_one_text(
        s,
        "SELECT json_build_object('items', COALESCE(json_agg(json_build_object("
        "  'id', w.id, 'account', w.account, 'url', w.url, 'events', w.events,"
        "  'created_at', web_iso(w.created_at), 'disabled_at', web_iso(w.disabled_at),"
        "  'pending', (SELECT count(*) FROM webhook_deliveries d WHERE"
        "    d.subscription_id = w.id AND d.delivered_at IS NULL AND d.gave_up_at IS NULL),"
        "  'delivered', (SELECT count(*) FROM webhook_deliveries d WHERE"
        "    d.subscription_id = w.id AND d.delivered_at IS NOT NULL),"
        "  'gave_up', (SELECT count(*) FROM webhook_deliveries d WHERE"
        "    d.subscription_id = w.id AND d.gave_up_at IS NOT NULL))"
        "  ORDER BY w.id), '[]'))::text"
        " FROM webhook_subscriptions w WHERE $1::text IS NULL OR w.account = $1::text",
        1, v, json, "no such webhook", ei);
}

int store_webhook_disable(struct store *s, const char *actor, const char *account, long long id,
                          struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[3] = {actor, account, st_ll(ib, id)};
    char *out = NULL;
    int rc = st_one_text(s,
                         "WITH w AS (UPDATE webhook_subscriptions SET disabled_at = now()"
                         "  WHERE id = $3::bigint AND disabled_at IS NULL"
                         "  AND ($2::text IS NULL OR account = $2::text) RETURNING id),"
                         " a AS (INSERT INTO audit_log (actor, action, object)"
                         "  SELECT $1::text, 'webhook_disable', 'webhook:' || id FROM w)"
                         " SELECT id::text FROM w",
                         3, v, &out, "no such webhook", ei);
    free(out);
    return rc;
}

int store_webhook_deliveries(struct store *s, long limit, char **json, struct tl_errinfo *ei)
{
    char lb[32];
    const char *v[1] = {st_ll(lb, limit > 0 ? limit : 100)};
    return st_one_text(
        s,
        "SELECT json_build_object('items', COALESCE(json_agg(json_build_object("
        "  'id', d.id, 'subscription', d.subscription_id, 'account', w.account, 'url', w.url,"
        "  'event', d.event, 'report', d.report_id, 'incident', d.incident_id,"
        "  'changes', d.changes, 'created_at', web_iso(d.created_at),"
        "  'attempts', d.attempts, 'delivered_at', web_iso(d.delivered_at),"
        "  'gave_up_at', web_iso(d.gave_up_at), 'next_at', CASE WHEN d.delivered_at IS NULL"
        "   AND d.gave_up_at IS NULL THEN web_iso(d.next_at) END,"
        "  'last_status', d.last_status, 'last_error', d.last_error,"
        "  'tries', (SELECT COALESCE(json_agg(json_build_object('at', web_iso(t.at),"
        "    'status', t.status, 'error', t.error, 'ms', t.ms) ORDER BY t.id), '[]')"
        "    FROM webhook_attempts t WHERE t.delivery_id = d.id))"
        "  ORDER BY d.created_at DESC, d.id DESC), '[]'))::text"
        " FROM (SELECT * FROM webhook_deliveries ORDER BY created_at DESC, id DESC"
        "  LIMIT $1::bigint) d JOIN webhook_subscriptions w ON w.id = d.subscription_id",
        1, v, json, "no such webhook", ei);
}

int store_webhook_due(struct store *s, const char *rounded_roles, long round_decimals, int max,
                      long lease_s, struct store_webhook_job **jobs, size_t *n,
                      struct tl_errinfo *ei)
{
    char mb[32], lb[32], db[32];
    const char *v[4] = {rounded_roles ? rounded_roles : "", st_ll(db, round_decimals),
                        st_ll(mb, max), st_ll(lb, lease_s)};
    PGresult *r = NULL;
    *jobs = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* leased, not locked: the post happens outside any transaction */
    rc = st_exec(s,
                 "WITH due AS (SELECT id FROM webhook_deliveries"
                 "  WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_at <= now()"
                 "  ORDER BY next_at, id LIMIT $3::int FOR UPDATE SKIP LOCKED),"
                 " l AS (UPDATE webhook_deliveries d SET next_at = now() + $4::int * interval '1 s'"
                 "  FROM due WHERE d.id = due.id RETURNING d.*)"
                 " SELECT l.id, l.report_id, w.url, w.secret, l.event, w.account,"
                 "  CASE WHEN a.role = ANY (string_to_array($1::text, ',')) THEN $2::int END,"
                 "  l.attempts, CASE WHEN l.report_id IS NOT NULL THEN substr(l.event, 8)"
                 "  ELSE '' END, l.incident_id, i.merged_into,"
                 "  COALESCE(to_json(l.changes), '[]')::text"
                 " FROM l JOIN webhook_subscriptions w ON w.id = l.subscription_id"
                 " JOIN accounts a ON a.name = w.account"
                 " LEFT JOIN incidents i ON i.id = l.incident_id ORDER BY l.next_at, l.id",
                 4, v, &r, ei);
    if (rc)
        return rc;
    int rows = PQntuples(r);
    struct store_webhook_job *j = rows ? calloc((size_t)rows, sizeof(*j)) : NULL;
    if (rows && !j)
        rc = TL_ENOMEM;
    for (int i = 0; i < rows && !rc; i++) {
        j[i].id = st_getll(r, i, 0);
        j[i].report_id = st_getll(r, i, 1);
        j[i].url = st_str(r, i, 2);
        j[i].secret = st_str(r, i, 3);
        j[i].event = st_str(r, i, 4);
        j[i].account = st_str(r, i, 5);
        j[i].decimals = PQgetisnull(r, i, 6) ? -1 : (int)st_getll(r, i, 6);
        j[i].attempts = (int)st_getll(r, i, 7);
        j[i].status = st_str(r, i, 8);
        j[i].incident_id = st_getll(r, i, 9);
        j[i].merged_into = st_getll(r, i, 10);
        j[i].changes = st_str(r, i, 11);
        if (!j[i].url || !j[i].secret || !j[i].event || !j[i].account || !j[i].status ||
            !j[i].changes)
            rc = TL_ENOMEM;
    }
    PQclear(r);
    if (rc) {
        store_webhook_jobs_free(j, (size_t)rows);
        return rc;
    }
    *jobs = j;
    *n = (size_t)rows;
    return TL_OK;
}

void store_webhook_jobs_free(struct store_webhook_job *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++) {
        free(jobs[i].url);
        free(jobs[i].secret);
        free(jobs[i].event);
        free(jobs[i].account);
        free(jobs[i].status);
        free(jobs[i].changes);
    }
    free(jobs);
}

int store_webhook_attempt(struct store *s, long long id, int delivered, int status,
                          const char *error, long ms, long retry_s, int give_up,
                          struct tl_errinfo *ei)
{
    char ib[32], sb[32], mb[32], rb[32];
    const char *v[7] = {
        st_ll(ib, id), delivered ? "true" : "false", status ? st_ll(sb, status) : NULL, error,
        st_ll(mb, ms), st_ll(rb, retry_s),           give_up ? "true" : "false"};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    return st_exec(s,
                   "WITH t AS (INSERT INTO webhook_attempts (delivery_id, status, error, ms)"
                   "  VALUES ($1::bigint, $3::int, $4::text, $5::int))"
                   " UPDATE webhook_deliveries SET attempts = attempts + 1,"
                   "  last_status = $3::int, last_error = $4::text,"
                   "  delivered_at = CASE WHEN $2::boolean THEN now() END,"
                   "  gave_up_at = CASE WHEN NOT $2::boolean AND $7::boolean THEN now() END,"
                   "  next_at = now() + $6::int * interval '1 s'"
                   " WHERE id = $1::bigint",
                   7, v, NULL, ei);
}
