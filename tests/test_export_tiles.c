/* tests/test_export_tiles.c - test_export: vector tiles that decode with the expected
 * features, the tile grid (built live too), and tiles audited per account and zoom. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/hmac.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/webhook.h"
#include "storage/store.h"
#include "storage/store_export.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_export_int.h"
#include "common/banned.h"

/* ---- vector tiles ---- */

/* The sum of the counts in tile z/x/y as account as sees it (0: an empty tile). */
static long tile_sum(struct fx *f, const char *as, int z, long x, long y)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *sum = NULL;
    struct hres r = texp_get(f, as, path, NULL);
    long n = -1;
    if (r.status == 204)
        n = 0;
    else if (r.status == 200 &&
             texp_run(NULL, "mkdir -p '%s/s/%s/%d/%ld' && cp '%s' '%s/s/%s/%d/%ld/%ld.mvt'", f->dir,
                      as, z, x, r.body_path, f->dir, as, z, x, y) == 0 &&
             texp_run(&sum,
                      "ogrinfo -ro -al -q '%s/s/%s/%d/%ld/%ld.mvt' | grep 'count (Integer) =' | "
                      "awk '{s+=$4} END {print s+0}'",
                      f->dir, as, z, x, y) == 0)
        n = strtol(sum, NULL, 10);
    free(sum);
    free(path);
    texp_hres_release(&r);
    return n;
}

/* The one point of tile z/x/y as as sees it, in EPSG:3857 metres (ogrinfo's reading of
 * an MVT file named z/x/y.mvt). */
static void tile_point(struct fx *f, const char *as, int z, long x, long y, double *px, double *py)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *pt = NULL;
    struct hres r = texp_get(f, as, path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "mkdir -p '%s/p/%s/%d/%ld' && cp '%s' '%s/p/%s/%d/%ld/%ld.mvt'",
                              f->dir, as, z, x, r.body_path, f->dir, as, z, x, y),
                     0);
    texp_run(&pt,
             "ogrinfo -ro -al -q '%s/p/%s/%d/%ld/%ld.mvt' | grep -c 'POINT (' ; "
             "ogrinfo -ro -al -q '%s/p/%s/%d/%ld/%ld.mvt' | grep -m1 -o 'POINT ([^)]*)'",
             f->dir, as, z, x, y, f->dir, as, z, x, y);
    assert_non_null(pt);
    assert_int_equal(strtol(pt, NULL, 10), 1);
    const char *p = strstr(pt, "POINT (");
    assert_non_null(p);
    char *end = NULL;
    *px = strtod(p + 7, &end);
    *py = strtod(end, NULL);
    free(pt);
    free(path);
    texp_hres_release(&r);
}

/* A point's EPSG:3857 coordinates, by PostGIS. */
static void merc(struct fx *f, const char *lonlat, double *mx, double *my)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT ST_X(g) || ' ' || ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s),"
             " 4326), 3857) g",
             lonlat);
    char *v = ts_db_scalar(f->ci, q), *end = NULL;
    assert_non_null(v);
    *mx = strtod(v, &end);
    *my = strtod(end, NULL);
    free(v);
}

/* Zooms 0-8 are summed from the grid of cells (migration 0027): kept by decisions
 * (pending, then folded), per queue (a restricted one stays hidden) and per precision
 * (an exporter's lone report is where its rounded point is, not its exact one). */
static void test_export_tiles_grid(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_tiles_grid", 100);
    /* the seed's decisions are pending: a tile adds them to the (empty) cells */
    assert_int_equal(texp_count(f, "SELECT count(*) FROM tile_grid_pending"), 90);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM tile_cells"), 0);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 90); /* scanned: no rounded cells yet */
    /* the exporters' background thread builds the cells of rounded points (the
     * exporters' precision) and folds what is pending */
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {.cfg = &f->cfg, .stop = &stop, .interval_ms = 100};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    for (int i = 0; i < 100 && (texp_count(f, "SELECT count(*) FROM tile_grid_precisions") < 2 ||
                                texp_count(f, "SELECT count(*) FROM tile_grid_pending") > 0);
         i++)
        tl_sleep_ms(100, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM tile_grid_pending"), 0);
    assert_int_equal(texp_count(f, "SELECT count(DISTINCT prec) FROM tile_cells"), 2); /* -1, 2 */
    assert_int_equal(texp_count(f, "SELECT sum(n) FROM tile_cells WHERE zoom = 5"), 180);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    assert_int_equal(tile_sum(f, "root", 0, 0, 0), 90);
    assert_int_equal(tile_sum(f, "root", 8, 149, 86), 90);
    /* the tile is read from the cells: without them it is empty, rebuilt it is whole */
    texp_sql(f, "DELETE FROM tile_cells WHERE prec = -1 AND zoom = 5 RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 0);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 90);
    texp_sql(f, "DELETE FROM tile_grid_precisions WHERE prec = -1 RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90); /* unregistered: scanned */
    int built = 0;
    CHECK(store_tile_grid_ensure(f->s, -1, &built, EI));
    assert_int_equal(built, 1);
    CHECK(store_tile_grid_ensure(f->s, -1, &built, EI));
    assert_int_equal(built, 0);
    assert_int_equal(texp_count(f, "SELECT sum(n) FROM tile_cells WHERE prec = -1 AND zoom = 5"),
                     90);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    /* a report rejected counts no more, before the fold and after */
    texp_sql(f, "UPDATE reports SET status = 'rejected' WHERE public_ref = 'R-1' RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(texp_count(f, "SELECT tile_grid_fold()"), 1);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 89);
    /* one moved to the restricted queue: the exporter (no member) no longer sees it */
    texp_sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 88);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(texp_count(f, "SELECT tile_grid_fold()"), 2);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 88);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    /* a lone report: an admin's cell is at its exact point, an exporter's at its
     * rounded one (35.12, 47.65: 390 m west and 700 m north of the exact point) */
    texp_sql(f, "INSERT INTO reports (public_ref, reporter, category, point, point_source, status,"
                " decided_by, decided_at) VALUES ('R-lone', '" PSEUDO "', 'drone',"
                " ST_SetSRID(ST_MakePoint(35.123456, 47.654321), 4326)::geography,"
                " 'telegram_location', 'confirmed', 'alice', now()) RETURNING 1");
    char *t = ts_db_scalar(f->ci, "SELECT tx || ' ' || ty FROM tile_grid_cells(ST_SetSRID("
                                  "ST_MakePoint(35.123456, 47.654321), 4326)::geography, -1)"
                                  " WHERE zoom = 8");
    char *end = NULL;
    long tx = strtol(t, &end, 10), ty = strtol(end, NULL, 10);
    free(t);
    double ax, ay, ex, ey, wx, wy;
    for (int folded = 0; folded < 2; folded++) {
        tile_point(f, "root", 8, tx, ty, &ax, &ay);
        tile_point(f, "exa", 8, tx, ty, &ex, &ey);
        merc(f, "35.123456, 47.654321", &wx, &wy); /* a pixel at zoom 8 is 38 m */
        if (fabs(ax - wx) > 60 || fabs(ay - wy) > 60)
            fail_msg("admin's point %.0f %.0f, want %.0f %.0f", ax, ay, wx, wy);
        merc(f, "35.12, 47.65", &wx, &wy);
        if (fabs(ex - wx) > 60 || fabs(ey - wy) > 60)
            fail_msg("exporter's point %.0f %.0f, want %.0f %.0f (rounded)", ex, ey, wx, wy);
        assert_int_equal(texp_count(f, "SELECT tile_grid_fold()"), folded ? 0 : 1);
    }
    texp_no_identity(f);
    texp_fx_free(f);
}

static void test_export_tiles(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_tiles", 100);
    f->cfg.round_decimals = 2;
    /* R-7 (30.507, 50.4007) is in tile 12/2395/1382 and 5/18/10 */
    assert_int_equal(
        texp_run(NULL, "mkdir -p '%s/12/2395' '%s/5/18' '%s/14/9581'", f->dir, f->dir, f->dir), 0);
    struct hres r = texp_get(f, "root", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    char *ct = texp_header(&r, "Content-Type"), *cc = texp_header(&r, "Cache-Control"),
         *etag = texp_header(&r, "ETag");
    assert_string_equal(ct, "application/vnd.mapbox-vector-tile");
    assert_string_equal(cc, "private, max-age=60");
    assert_int_equal(texp_run(NULL, "cp '%s' '%s/12/2395/1382.mvt'", r.body_path, f->dir), 0);
    texp_hres_release(&r);
    char *t12 = tl_asprintf("%s/12/2395/1382.mvt", f->dir);
    /* exact points for an admin: at zoom 12 one feature per report, with its ref */
    char *refs = NULL;
    texp_run(&refs, "ogrinfo -ro -al -q '%s' | grep -c '^OGRFeature'", t12);
    assert_int_equal(strtol(refs, NULL, 10), 14); /* R-1..R-15 less R-10 reach 50.4015 N */
    free(refs);
    texp_run(&refs, "ogrinfo -ro -al -q '%s' | grep -c 'ref (String) = R-'", t12);
    assert_int_equal(strtol(refs, NULL, 10), 14);
    free(refs);
    assert_int_equal(texp_run(NULL, "ogrinfo -ro -al -q '%s' | grep -q 'ref (String) = R-7$'", t12),
                     0);
    /* zoom 5: the pixel's reports as one point with their count: all 90 */
    r = texp_get(f, "root", "/api/tiles/5/18/10.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "cp '%s' '%s/5/18/10.mvt'", r.body_path, f->dir), 0);
    texp_hres_release(&r);
    char *sum = NULL;
    texp_run(&sum,
             "ogrinfo -ro -al -q '%s/5/18/10.mvt' | grep 'count (Integer) =' | awk '{s+=$4} END "
             "{print s}'",
             f->dir);
    assert_int_equal(strtol(sum, NULL, 10), 90);
    free(sum);
    assert_int_equal(
        texp_run(NULL, "ogrinfo -ro -al -q '%s/5/18/10.mvt' | grep -q 'ref (String)'", f->dir), 1);
    /* an empty tile: 204 */
    r = texp_get(f, "root", "/api/tiles/14/0/0.mvt", NULL);
    assert_int_equal(r.status, 204);
    texp_hres_release(&r);
    /* revalidation: 304 while no decision changed */
    char *h = tl_asprintf("If-None-Match: %s", etag);
    r = texp_get(f, "root", "/api/tiles/12/2395/1382.mvt", h);
    assert_int_equal(r.status, 304);
    texp_hres_release(&r);
    texp_sql(f, "UPDATE reports SET decided_at = now() WHERE public_ref = 'R-8' RETURNING 1");
    r = texp_get(f, "root", "/api/tiles/12/2395/1382.mvt", h);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    free(h);
    /* an exporter's tile is of rounded points */
    r = texp_get(f, "exa", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "mkdir -p '%s/e/12/2395' && cp '%s' '%s/e/12/2395/1382.mvt'",
                              f->dir, r.body_path, f->dir),
                     0);
    texp_hres_release(&r);
    char *e12 = tl_asprintf("%s/e/12/2395/1382.mvt", f->dir);
    assert_true(texp_ogr_count("", e12) > 0);
    free(e12);
    static const char *const bad[] = {"/api/tiles/23/0/0.mvt", "/api/tiles/2/4/0.mvt",
                                      "/api/tiles/2/0/0.png", "/api/tiles/x/0/0.mvt"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = texp_get(f, "root", bad[i], NULL);
        if (r.status != 404)
            fail_msg("%s: want 404, got %ld", bad[i], r.status);
        texp_hres_release(&r);
    }
    /* the console's map reads them too: an analyst's tile holds exact points */
    r = texp_get(f, "alice", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "mkdir -p '%s/a/12/2395' && cp '%s' '%s/a/12/2395/1382.mvt'",
                              f->dir, r.body_path, f->dir),
                     0);
    texp_hres_release(&r);
    char *a12 = tl_asprintf("%s/a/12/2395/1382.mvt", f->dir),
         *e12p = tl_asprintf("%s/e/12/2395/1382.mvt", f->dir);
    char *pa = texp_ogr_point("", a12, "ref", "R-7"), *pr = texp_ogr_point("", t12, "ref", "R-7"),
         *pe = texp_ogr_point("", e12p, "ref", "R-7");
    assert_true(pa && pr && pe && strncmp(pr, "POINT (", 7) == 0);
    assert_string_equal(pa, pr);     /* exact, as the admin's */
    assert_string_not_equal(pe, pr); /* the exporter's is rounded */
    free(pa);
    free(pr);
    free(pe);
    free(a12);
    free(e12p);
    texp_no_identity(f);
    free(t12);
    free(ct);
    free(cc);
    free(etag);
    texp_fx_free(f);
}

/* Decisions made while the cells of a new precision are built: each is counted once
 * (pending and folded in, or read from the reports by the build, never both). */
struct churn {
    const char *ci;
    volatile int stop;
    int n;
    pthread_t th;
};

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    PGconn *conn = PQconnectdb(c->ci);
    for (int i = 0; !c->stop && PQstatus(conn) == CONNECTION_OK; i++) {
        char q[256];
        snprintf(q, sizeof(q),
                 "UPDATE reports SET status = CASE WHEN status = 'confirmed' THEN 'rejected'"
                 " ELSE 'confirmed' END, decided_at = now() WHERE public_ref = 'R-%d'",
                 1 + (i * 7919) % 30000);
        PGresult *r = PQexec(conn, q);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            c->n++;
        PQclear(r);
    }
    PQfinish(conn);
    return NULL;
}

static void test_export_tiles_grid_build_live(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_tiles_live", 30000);
    assert_int_equal(texp_count(f, "SELECT tile_grid_fold()"), 27000);
    struct churn c = {.ci = f->ci};
    assert_int_equal(pthread_create(&c.th, NULL, churn_main, &c), 0);
    tl_sleep_ms(200, NULL);
    int built = 0, tries = 0, rc;
    struct tl_errinfo ei;
    do { /* a fold or build that got in the way: again */
        tl_errinfo_clear(&ei);
        rc = store_tile_grid_ensure(f->s, 3, &built, &ei);
    } while (rc && ++tries < 20);
    if (rc)
        fail_msg("tile_grid_ensure(3): %s", ei.msg);
    tl_sleep_ms(200, NULL);
    c.stop = 1;
    pthread_join(c.th, NULL);
    assert_true(c.n > 50);
    assert_int_equal(built, 1);
    texp_count(f, "SELECT tile_grid_fold()");
    long long want = texp_count(f, "SELECT count(*) FROM reports WHERE status = 'confirmed'");
    static const int precs[] = {-1, 3}; /* the exact cells kept by folds, the new ones */
    for (size_t i = 0; i < sizeof(precs) / sizeof(precs[0]); i++) {
        char q[160];
        snprintf(q, sizeof(q),
                 "SELECT COALESCE(sum(n), 0) FROM tile_cells WHERE prec = %d AND zoom = 0",
                 precs[i]);
        long long got = texp_count(f, q);
        if (got != want)
            fail_msg("precision %d counts %lld reports, %lld are confirmed (%d decisions made "
                     "during the build)",
                     precs[i], got, want, c.n);
    }
    /* and cell by cell, as a build from scratch would count them */
    assert_int_equal(
        texp_count(f,
                   "SELECT count(*) FROM ((SELECT zoom, tx, ty, cell, queue, n FROM tile_cells"
                   " WHERE prec = 3 AND n <> 0) EXCEPT (SELECT g.zoom, g.tx, g.ty, g.cell, r.queue,"
                   " count(*)::int FROM reports r, LATERAL tile_grid_cells(r.point, 3) g"
                   " WHERE r.status = 'confirmed' GROUP BY 1, 2, 3, 4, 5)) d"),
        0);
    texp_fx_free(f);
}

/* The features of the tile z/x/y that account as is served, decoded by ogrinfo (the
 * tile's buffer too: not clipped to its extent). */
static long tile_features(struct fx *f, const char *as, int z, long x, long y)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *n = NULL;
    struct hres r = texp_get(f, as, path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "mkdir -p '%s/a/%d/%ld' && cp '%s' '%s/a/%d/%ld/%ld.mvt'",
                              f->dir, z, x, r.body_path, f->dir, z, x, y),
                     0);
    texp_run(&n, "ogrinfo -ro -al -q -oo CLIP=NO '%s/a/%d/%ld/%ld.mvt' | grep -c '^OGRFeature'",
             f->dir, z, x, y);
    long k = strtol(n, NULL, 10);
    free(n);
    free(path);
    texp_hres_release(&r);
    return k;
}

/* Tiles are audited as one row per account, zoom and minute with the tiles and their
 * features summed. */
static void test_export_tiles_audit(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_tiles_audit", 100);
    /* the fetches below stay within one minute */
    long sec = (long)texp_count(f, "SELECT extract(second FROM now())::int");
    if (sec >= 45)
        sleep((unsigned)(61 - sec));
    long n12 = tile_features(f, "root", 12, 2395, 1382);
    assert_true(n12 >= 14); /* R-1..R-15 less R-10, and the buffer's */
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    struct hres r = texp_get(f, "root", "/api/tiles/12/0/0.mvt", NULL); /* empty: 0 features */
    assert_int_equal(r.status, 204);
    texp_hres_release(&r);
    long n5 = tile_features(f, "root", 5, 18, 10);
    assert_true(n5 > 0);
    assert_int_equal(tile_features(f, "root", 5, 18, 10), n5);
    long ne = tile_features(f, "exa", 12, 2395, 1382); /* rounded points */
    assert_true(ne > 0);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM tile_audit"), 3);
    char *q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                          " AND tiles = 4 AND features = %ld"
                          " AND minute = date_trunc('minute', now())",
                          3 * n12);
    assert_int_equal(texp_count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 5"
                    " AND tiles = 2 AND features = %ld",
                    2 * n5);
    assert_int_equal(texp_count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'exa' AND zoom = 12"
                    " AND tiles = 1 AND features = %ld",
                    ne);
    assert_int_equal(texp_count(f, q), 1);
    free(q);
    /* a minute later, another row: the earlier one is left as it was */
    texp_sql(f,
             "WITH u AS (UPDATE tile_audit SET minute = minute - interval '1 minute' RETURNING 1)"
             " SELECT 1");
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM tile_audit WHERE account = 'root'"
                                   " AND zoom = 12"),
                     2);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                    " AND tiles = 1 AND features = %ld AND minute = date_trunc('minute', now())",
                    n12);
    assert_int_equal(texp_count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                    " AND tiles = 4 AND features = %ld",
                    3 * n12);
    assert_int_equal(texp_count(f, q), 1);
    free(q);
    texp_fx_free(f);
}

const struct CMUnitTest texp_tiles_tests[] = {
    cmocka_unit_test_teardown(test_export_tiles, texp_teardown),
    cmocka_unit_test_teardown(test_export_tiles_grid, texp_teardown),
    cmocka_unit_test_teardown(test_export_tiles_audit, texp_teardown),
    cmocka_unit_test_teardown(test_export_tiles_grid_build_live, texp_teardown),
};
const size_t texp_tiles_ntests = TS_NTESTS(texp_tiles_tests);
