/* storage/store_priority.c - the queue's priority score: its weights (read, set with a
 * re-score of the queue), the bounded periodic refresh the janitor calls, and a bulk
 * seed of synthetic queued reports for benchmarks. The score itself is computed by
 * migration 0007's triggers and functions; docs/priority.md has the formula. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

void store_priority_weights_free(struct store_priority_weight *w, size_t n)
{
    if (!w)
        return;
    for (size_t i = 0; i < n; i++) {
        free(w[i].key);
        free(w[i].description);
    }
    free(w);
}

int store_priority_weights(struct store *s, struct store_priority_weight **out, size_t *n,
                           struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    struct store_priority_weight *w = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT key, value, description FROM priority_weights ORDER BY key", 0, NULL,
                 &r, ei);
    if (rc)
        return rc;
    int nr = PQntuples(r);
    if (nr > 0 && !(w = calloc((size_t)nr, sizeof(*w)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (k = 0; k < (size_t)nr; k++) {
        w[k].key = st_str(r, (int)k, 0);
        w[k].value = st_getdbl(r, (int)k, 1);
        w[k].description = st_str(r, (int)k, 2);
        if (!w[k].key || !w[k].description) {
            k++;
            rc = TL_ENOMEM;
            goto out;
        }
    }
    *out = w;
    *n = k;
    w = NULL;
out:
    store_priority_weights_free(w, k);
    PQclear(r);
    return rc;
}

/* Keys whose change moves the corroboration counts themselves, not only their weight. */
static int recount_key(const char *key)
{
    return strcmp(key, "corroboration.radius_m") == 0 ||
           strcmp(key, "corroboration.window_s") == 0 ||
           strcmp(key, "corroboration.same_category") == 0;
}

int store_priority_set(struct store *s, const char *actor, const char *key, double value,
                       long long *changed, struct tl_errinfo *ei)
{
    char vb[32];
    struct tl_errinfo local;
    PGresult *r = NULL;
    if (changed)
        *changed = 0;
    if (!ei) /* the SQLSTATE tells a refused value from a database failure */
        ei = &local;
    tl_errinfo_clear(ei);
    if (!key || !*key)
        return tl_errf(ei, TL_EINVAL, "a weight key is required");
    const char *v[4] = {key, st_dbl(vb, value), actor && *actor ? actor : "system",
                        recount_key(key) ? "true" : "false"};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if ((rc = st_begin(s, ei)) != TL_OK)
        return rc;
    /* The table's CHECKs know the keys and each one's range: one place for the rules. */
    rc = st_exec(s,
                 "WITH old AS (SELECT value FROM priority_weights WHERE key = $1::text),"
                 " up AS (INSERT INTO priority_weights (key, value, description)"
                 "   VALUES ($1::text, $2::float8, 'added by tipline priority set')"
                 "   ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()"
                 "   RETURNING key, value)"
                 " INSERT INTO audit_log (actor, action, object, before, after)"
                 " SELECT $3::text, 'priority_set', 'priority_weight:' || up.key,"
                 "   (SELECT jsonb_build_object('value', old.value) FROM old),"
                 "   jsonb_build_object('value', up.value) FROM up",
                 3, v, NULL, ei);
    if (rc == TL_EDB && strcmp(ei->sqlstate, "23514") == 0) {
        rc = tl_errf(ei, TL_EINVAL,
                     "weight %s = %g refused: not a known key (nor category.NAME, flag.NAME) "
                     "or outside the key's range (docs/priority.md)",
                     key, value);
        goto out;
    }
    if (rc)
        goto out;
    rc = st_exec(s, "SELECT priority_rescore_queue($1::boolean)", 1, v + 3, &r, ei);
    if (rc)
        goto out;
    if (changed)
        *changed = st_getll(r, 0, 0);
    rc = st_commit(s, ei);
    if (!rc)
        log_info("priority weight set key=%s value=%g rescored=%lld", key, value,
                 st_getll(r, 0, 0));
out:
    PQclear(r);
    if (rc)
        st_rollback(s);
    return rc;
}

int store_priority_refresh(struct store *s, struct store_priority_refresh *out,
                           struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    if (out)
        memset(out, 0, sizeof(*out));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* First the rejections decided since the last call (0010), then the refresh, whose
     * recount of the newest reports then sees them. One statement, one transaction
     * each. Planned per call: the bounded sets' sizes swing. */
    rc = st_exec_planned(s, "SELECT priority_propagate_pending()", 0, NULL, &r, ei);
    if (rc)
        return rc;
    long long propagated = st_getll(r, 0, 0);
    PQclear(r);
    rc = st_exec_planned(s, "SELECT scored, changed, recounted FROM priority_refresh()", 0, NULL,
                         &r, ei);
    if (rc)
        return rc;
    if (out) {
        out->propagated = propagated;
        out->scored = st_getll(r, 0, 0);
        out->changed = st_getll(r, 0, 1);
        out->recounted = st_getll(r, 0, 2);
    }
    log_debug("priority refresh propagated=%lld scored=%lld changed=%lld recounted=%lld",
              propagated, st_getll(r, 0, 0), st_getll(r, 0, 1), st_getll(r, 0, 2));
    PQclear(r);
    return TL_OK;
}

/* ---- bulk seed for benchmarks ---- */

/* Reporters: md5 hex pseudonyms like the real HMAC ones; 1 % banned, a track record for
 * some. $1 = how many. */
static const char seed_reporters_sql[] =
    "INSERT INTO reporters (pseudonym, reputation, banned, n_confirmed, n_rejected, first_seen)"
    " SELECT md5('seed' || g), floor(random() * 4)::int - 1, random() < 0.01,"
    "   floor(random() * random() * 12)::int, floor(random() * random() * 6)::int,"
    "   now() - interval '30 days'"
    " FROM generate_series(0, $1::bigint - 1) AS g ON CONFLICT (pseudonym) DO NOTHING";

/* Reports $1..$2 from $3 reporters (the square of a uniform draw: a few prolific ones),
 * received over $4 hours, $5 of them with a photo. Categories: drones 20 %, aircraft 8,
 * shelling 12, troops 12, equipment 15, suspicious 10, collaborators 3, damage 10,
 * other 10. 90 % have a point within about 20 km of one of 16 cities; 15 % of those have
 * 1-3 corroborations; 6 % carry a flag. The score is the formula's. */
static const char seed_reports_sql[] =
    "WITH w AS (SELECT priority_params() AS w),"
    " g AS (SELECT i, random() AS rc, random() AS rr, random() AS rp, random() AS rx,"
    "   random() AS ry, random() AS rt, random() AS rf, random() AS rb, random() AS rm,"
    "   random() AS rk FROM generate_series($1::bigint, $2::bigint) AS i),"
    " v AS (SELECT g.*, CASE WHEN rc < .20 THEN 'drones' WHEN rc < .28 THEN 'aircraft'"
    "     WHEN rc < .40 THEN 'shelling' WHEN rc < .52 THEN 'troops' WHEN rc < .67 THEN"
    "     'equipment' WHEN rc < .77 THEN 'suspicious' WHEN rc < .80 THEN 'collaborators'"
    "     WHEN rc < .90 THEN 'damage' ELSE 'other' END AS cat,"
    "   md5('seed' || floor($3::bigint * rr * rr)::bigint) AS rep,"
    "   floor(rp * 16)::int + 1 AS city, now() - rt * $4::float8 * interval '1 hour' AS at,"
    "   CASE WHEN rf < .03 THEN '{outside_area}'::text[] WHEN rf < .05"
    "     THEN '{location_disagrees}'::text[] WHEN rf < .06 THEN '{place_ambiguous}'::text[]"
    "     ELSE '{}'::text[] END AS flags,"
    "   rm < $5::float8 AS photo, rb < .9 AS located,"
    "   CASE WHEN rb < .9 AND rk < .15 THEN 1 + floor(rk * 20)::int ELSE 0 END AS corr"
    "   FROM g),"
    " ins AS (INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
    "     received_at, priority_base, priority, corroborations, flags, queue)"
    "   SELECT 'S-' || v.i, v.rep, v.cat, 'seeded ' || v.cat || ' report ' || v.i,"
    "     CASE WHEN v.located THEN ST_SetSRID(ST_MakePoint(c.lon + (v.rx - .5) * .6,"
    "       c.lat + (v.ry - .5) * .4), 4326)::geography END,"
    "     CASE WHEN v.located THEN 'telegram_location' END, v.at, b.base,"
    "     priority_formula(w.w, b.base, v.cat, v.flags, v.corr,"
    "       extract(epoch FROM now() - v.at)::float8, rp.banned, rp.reputation,"
    "       rp.n_confirmed, rp.n_rejected), v.corr, v.flags,"
    "     COALESCE((SELECT q.queue FROM category_queue q WHERE q.category = v.cat), 'general')"
    "   FROM v CROSS JOIN w JOIN reporters rp ON rp.pseudonym = v.rep"
    "   JOIN (VALUES (1, 30.52, 50.45), (2, 36.23, 49.99), (3, 30.73, 46.48),"
    "     (4, 35.05, 48.46), (5, 35.14, 47.84), (6, 24.03, 49.84), (7, 31.99, 46.97),"
    "     (8, 32.62, 46.64), (9, 34.80, 50.91), (10, 31.29, 51.50), (11, 34.55, 49.59),"
    "     (12, 37.56, 48.72), (13, 37.61, 49.71), (14, 37.18, 48.28), (15, 28.47, 49.23),"
    "     (16, 33.39, 47.91)) AS c(id, lon, lat) ON c.id = v.city"
    "   CROSS JOIN LATERAL (SELECT 10 + CASE WHEN v.located THEN 10 ELSE 0 END"
    "     + CASE WHEN v.photo THEN 10 ELSE 0 END AS base) AS b"
    "   RETURNING id, public_ref, point),"
    " med AS (INSERT INTO media (report_id, kind, sha256, mime, size, width, height, gps)"
    "   SELECT ins.id, 'photo', encode(sha256(ins.id::text::bytea), 'hex'), 'image/jpeg',"
    "     180000, 1280, 960, CASE WHEN v.rx < .3 THEN ins.point END"
    "   FROM ins JOIN v ON ins.public_ref = 'S-' || v.i WHERE v.photo RETURNING 1)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM med)";

#define SEED_BATCH 50000

/* One batch in one transaction, with this session's triggers off (replica role: a bulk
 * load; the rows are scored and routed to their queue by the statement itself, and no
 * notification goes out per row). */
static int seed_batch(struct store *s, const char *const *v, const char *setseed, long long *got,
                      struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    int rc = st_begin(s, ei);
    if (rc)
        return rc;
    if ((rc = st_exec(s, "SET LOCAL session_replication_role = replica", 0, NULL, NULL, ei)) ||
        (rc = st_exec(s, "SELECT setseed($1::float8)", 1, &setseed, NULL, ei)) ||
        (rc = st_exec(s, seed_reporters_sql, 1, v + 2, NULL, ei)) ||
        (rc = st_exec(s, seed_reports_sql, 5, v, &r, ei)))
        goto out;
    *got = st_getll(r, 0, 0);
    rc = st_commit(s, ei);
out:
    PQclear(r);
    if (rc)
        st_rollback(s);
    return rc;
}

int store_queue_seed(struct store *s, const struct store_seed_opts *o, long long *inserted,
                     struct tl_errinfo *ei)
{
    char b[6][32];
    long long total = 0;
    if (inserted)
        *inserted = 0;
    if (!o || o->n <= 0 || o->photo_share < 0 || o->photo_share > 1 || o->hours < 0)
        return tl_errf(ei, TL_EINVAL, "seed: n > 0, hours >= 0 and photo_share in 0..1");
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Continue after what is there: a second seed adds rows instead of clashing. */
    PGresult *r = NULL;
    rc = st_exec(s,
                 "SELECT COALESCE(max(substr(public_ref, 3)::bigint), -1) + 1 FROM reports"
                 " WHERE public_ref ~ '^S-[0-9]+$'",
                 0, NULL, &r, ei);
    if (rc)
        return rc;
    long long first = st_getll(r, 0, 0);
    PQclear(r);
    long long nrep = o->n / 10 > 0 ? o->n / 10 : 1;
    for (long long at = 0; at < o->n; at += SEED_BATCH) {
        long long end = at + SEED_BATCH < o->n ? at + SEED_BATCH : o->n;
        const char *v[5] = {st_ll(b[0], first + at), st_ll(b[1], first + end - 1),
                            st_ll(b[2], nrep), st_dbl(b[3], o->hours > 0 ? o->hours : 48),
                            st_dbl(b[4], o->photo_share)};
        /* setseed takes -1..1: the seed and the batch, folded in. */
        long long mix = ((long long)o->seed * 7919 + at / SEED_BATCH) % 1999;
        const char *ss = st_dbl(b[5], (double)mix / 1999.0);
        long long got = 0;
        if ((rc = seed_batch(s, v, ss, &got, ei)) != TL_OK)
            return rc;
        total += got;
        log_info("seed batch reports=%lld total=%lld", got, total);
    }
    if (inserted)
        *inserted = total;
    /* The seeded counts are the data set's: the refresh need not recount the load. The
     * reporters' queues, which the triggers the load ran without keep (reports_route),
     * are filled from the rows, as migration 0037 filled them. */
    if ((rc = st_exec(s, "UPDATE priority_refresh_state SET last_at = now()", 0, NULL, NULL, ei)) !=
            TL_OK ||
        (rc = st_exec(s,
                      "UPDATE reporters p SET queues = q.queues FROM (SELECT r.reporter,"
                      " array_agg(DISTINCT r.queue ORDER BY r.queue) AS queues FROM reports r"
                      " WHERE r.reporter IS NOT NULL GROUP BY r.reporter) q"
                      " WHERE q.reporter = p.pseudonym AND p.queues IS DISTINCT FROM q.queues",
                      0, NULL, NULL, ei)) != TL_OK)
        return rc;
    /* Fresh statistics and visibility map, and the load's pages written out, as a
     * database that has run a while has them (else the checkpoint that writes the load's
     * gigabyte runs during whatever is measured next). */
    static const char *const after[] = {"VACUUM (ANALYZE) reports, media, reporters", "CHECKPOINT"};
    for (size_t i = 0; rc == TL_OK && i < sizeof(after) / sizeof(after[0]); i++) {
        r = PQexec(s->conn, after[i]);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = st_fail(s, r, ei);
        PQclear(r);
    }
    return rc;
}
