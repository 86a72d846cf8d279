/* tests/test_export_feeds.c - test_export: `tipline export` and the HTTP feeds in every
 * format (the expected feature counts and a known point in longitude/latitude order, the
 * filters, the "after" cursor, 304 on an unchanged poll by ETag and Last-Modified, gzip,
 * roles, rounding, an audit row per export), and OGC API - Features (paging by "next"
 * links), read by ogrinfo and curl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/webhook.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_export_int.h"
#include "common/banned.h"

/* `tipline export ARGS` on the fixture's database; its exit code. */
static int cli(struct fx *f, const char *args)
{
    const char *bin = getenv("TL_TIPLINE_BIN");
    assert_non_null(bin);
    return texp_run(NULL, "TIPLINE_DATABASE_URL='%s' '%s' export %s 2>&1", f->ci, bin, args);
}

/* ---- tipline export ---- */

static void test_export_cli_formats(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_cli", 100);
    char *gj = texp_path_in(f, "all.geojson"), *csv = texp_path_in(f, "all.csv"),
         *kml = texp_path_in(f, "all.kml"), *seq = texp_path_in(f, "all.geojsonseq"), *args;
    args = tl_asprintf("-o '%s'", gj);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format csv --hxl -o '%s'", csv);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format kml -o '%s'", kml);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format geojsonseq --output '%s'", seq);
    assert_int_equal(cli(f, args), 0);
    free(args);

    /* GDAL reads every format: 90 confirmed, R-7 at lon 30.507, lat 50.4007 */
    assert_int_equal(texp_ogr_count("", gj), 90);
    assert_int_equal(texp_ogr_count("", seq), 90);
    assert_int_equal(texp_ogr_count("", kml), 90);
    /* the CSV's HXL row is a row to a reader that knows nothing of HXL */
    assert_int_equal(texp_ogr_count("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv), 91);
    char *p = texp_ogr_point("", gj, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    /* the properties, media counted; R-8's count is 0 */
    char *props = NULL;
    texp_run(&props,
             "ogrinfo -ro -al -q -where \"ref IN ('R-7', 'R-8')\" '%s' | grep -E "
             "'(media_count|location_source|observed_at|category) \\(' | tr -s ' '",
             gj);
    assert_string_equal(props, " category (String) = shelling\n"
                               " observed_at (DateTime) = 2026/03/01 10:07:00+00\n"
                               " location_source (String) = telegram_location\n"
                               " media_count (Integer) = 2\n"
                               " category (String) = shelling\n"
                               " observed_at (DateTime) = 2026/03/01 10:08:00+00\n"
                               " location_source (String) = telegram_location\n"
                               " media_count (Integer) = 0\n");
    free(props);
    p = texp_ogr_point("", seq, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = texp_ogr_point("", kml, "Name", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = texp_ogr_point("-oo GEOM_POSSIBLE_NAMES=wkt -oo KEEP_GEOM_COLUMNS=NO", csv, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = texp_ogr_point("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    /* RFC 4180: CRLF; the HXL row under the header; RFC 8142: RS before each record */
    size_t len;
    char *text = ts_read_file(csv, &len);
    assert_non_null(strstr(text, ",lon,lat,wkt\r\n#meta+id,#meta+ref,"));
    assert_non_null(strstr(text, "#geo+lon,#geo+lat,#geo+wkt\r\n"));
    free(text);
    text = ts_read_file(seq, &len);
    assert_int_equal(text[0], 0x1e);
    assert_int_equal(text[len - 1], '\n');
    free(text);

    /* filters: status, category, bbox, the cursor, precision */
    char *one = texp_path_in(f, "one.geojson");
    args = tl_asprintf("--status rejected -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(texp_ogr_count("", one), 10);
    args = tl_asprintf("--category drone -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(texp_ogr_count("", one), 30); /* g % 3 == 0, minus 30, 60, 90 */
    args = tl_asprintf("--bbox 30.5,50.4,30.5205,50.5 -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(texp_ogr_count("", one), 18); /* R-1..R-20 less R-10, R-20 */
    /* R-50's cursor: what was decided after it */
    char *cur = NULL;
    texp_run(
        &cur,
        "grep -o '\"ref\":\"R-49\".*\"cursor\":\"[0-9_]*\"' '%s' | grep -o '[0-9]\\+_[0-9]\\+'",
        gj);
    assert_non_null(cur);
    cur[strcspn(cur, "\n")] = 0;
    assert_true(strlen(cur) > 3);
    args = tl_asprintf("--after %s -o '%s'", cur, one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(texp_ogr_count("", one), 45); /* R-50..R-100 less 50, 60, ..., 100 */
    args = tl_asprintf("--precision 2 -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    p = texp_ogr_point("", one, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    /* -o onto a pipe (or a device) writes into it, never renames a file over it */
    char *fifo = texp_path_in(f, "pipe");
    assert_int_equal(texp_run(NULL, "mkfifo '%s'", fifo), 0);
    args = tl_asprintf("--format geojsonseq -o '%s' & cat '%s' > '%s/piped.geojsonseq'; wait $!",
                       fifo, fifo, f->dir);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(texp_run(NULL, "test -p '%s'", fifo), 0);
    char *piped = texp_path_in(f, "piped.geojsonseq");
    assert_int_equal(texp_ogr_count("", piped), 90);
    free(piped);
    free(fifo);
    /* text only where the configuration allows it; bad arguments are usage errors */
    assert_int_equal(cli(f, "--text"), 2);
    char *with_text = NULL;
    assert_int_equal(texp_run(&with_text,
                              "TIPLINE_EXPORT_TEXT=1 TIPLINE_DATABASE_URL='%s' '%s' export"
                              " --text --format csv --category drone",
                              f->ci, getenv("TL_TIPLINE_BIN")),
                     0);
    assert_non_null(strstr(with_text, ",text\r\n"));
    assert_non_null(strstr(with_text, SECRET_TEXT));
    free(with_text);
    assert_int_equal(cli(f, "--format shp"), 2);
    assert_int_equal(cli(f, "--bbox 1,2,3"), 2);
    assert_int_equal(cli(f, "--after nope"), 2);

    /* every export audited: who, which filter, how many rows */
    assert_int_equal(texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                                   " AND object = 'tipline export'"),
                     11);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                                   " AND actor LIKE 'cli:%' AND after->>'rows' = '30'"
                                   " AND after->'filter'->>'category' = 'drone'"
                                   " AND after->>'format' = 'geojson'"),
                     1);
    texp_no_identity(f);
    free(cur);
    free(one);
    free(gj);
    free(csv);
    free(kml);
    free(seq);
    texp_fx_free(f);
}

/* ---- the HTTP feeds ---- */

static void test_export_feed_http(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_feed", 100);
    struct hres r = texp_get(f, "exa", "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 200);
    char *ct = texp_header(&r, "Content-Type"), *etag = texp_header(&r, "ETag"),
         *lm = texp_header(&r, "Last-Modified"), *te = texp_header(&r, "Transfer-Encoding");
    assert_string_equal(ct, "application/geo+json");
    assert_string_equal(te, "chunked"); /* streamed */
    assert_non_null(etag);
    assert_string_equal(lm, "Mon, 02 Mar 2026 00:01:40 GMT"); /* R-100's decision */
    assert_int_equal(texp_ogr_count("", r.body_path), 90);
    /* an exporter sees points rounded to round_decimals, longitude first */
    char *p = texp_ogr_point("", r.body_path, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    texp_hres_release(&r);

    /* an unchanged poll costs a 304, by ETag or by date */
    char *h = tl_asprintf("If-None-Match: %s", etag);
    r = texp_get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 304);
    texp_hres_release(&r);
    free(h);
    h = tl_asprintf("If-Modified-Since: %s", lm);
    r = texp_get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 304);
    texp_hres_release(&r);
    free(h);
    /* another query is another tag */
    h = tl_asprintf("If-None-Match: %s", etag);
    r = texp_get(f, "exa", "/api/export/reports.geojson?category=drone", h);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 30);
    texp_hres_release(&r);

    /* a new decision: the same poll gets it, and after= only it */
    texp_sql(f,
             "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
             " RETURNING 1");
    r = texp_get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 91);
    char *cur = NULL;
    texp_run(
        &cur,
        "grep -o '\"ref\":\"R-99\".*\"cursor\":\"[0-9_]*\"' '%s' | grep -o '[0-9]\\+_[0-9]\\+'",
        r.body_path);
    assert_non_null(cur);
    cur[strcspn(cur, "\n")] = 0;
    texp_hres_release(&r);
    free(h);
    char *q = tl_asprintf("/api/export/reports.geojsonseq?after=%s", cur);
    r = texp_get(f, "exa", q, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 1);
    p = texp_ogr_point("", r.body_path, "ref", "R-10");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    texp_hres_release(&r);
    free(q);

    /* gzip when asked: the same bytes, compressed */
    r = texp_get(f, "exa", "/api/export/reports.csv?hxl=1", NULL);
    assert_int_equal(r.status, 200);
    struct hres z = texp_get(f, "exa", "/api/export/reports.csv?hxl=1", "Accept-Encoding: gzip");
    assert_int_equal(z.status, 200);
    char *ce = texp_header(&z, "Content-Encoding");
    assert_string_equal(ce, "gzip");
    free(ce);
    assert_null(texp_header(&r, "Content-Encoding"));
    assert_int_equal(texp_run(NULL, "gzip -t < '%s' && zcat < '%s' | cmp -s - '%s'", z.body_path,
                              z.body_path, r.body_path),
                     0);
    assert_int_equal(texp_run(NULL, "cp '%s' '%s/feed.csv.gz'", z.body_path, f->dir), 0);
    char *csv = texp_path_in(f, "feed.csv");
    assert_int_equal(texp_run(NULL, "cp '%s' '%s'", r.body_path, csv), 0);
    assert_int_equal(texp_ogr_count("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv), 92);
    free(csv);
    texp_hres_release(&z);
    texp_hres_release(&r);
    /* KML */
    r = texp_get(f, "exa", "/api/export/reports.kml?bbox=30.5,50.4,30.5205,50.5", NULL);
    assert_int_equal(r.status, 200);
    char *kml = texp_path_in(f, "feed.kml");
    assert_int_equal(texp_run(NULL, "cp '%s' '%s'", r.body_path, kml), 0);
    assert_int_equal(texp_ogr_count("", kml), 19); /* R-10 is confirmed now */
    free(kml);
    texp_hres_release(&r);

    /* roles, bad queries, free text refused by default */
    r = texp_get(f, "alice", "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 403);
    texp_hres_release(&r);
    r = texp_get(f, NULL, "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 401);
    texp_hres_release(&r);
    static const char *const bad[] = {
        "/api/export/reports.geojson?bbox=1,2",   "/api/export/reports.geojson?after=x",
        "/api/export/reports.geojson?status=new", "/api/export/reports.geojson?text=1",
        "/api/export/reports.geojson?since=soon", "/api/export/reports.geojson?color=red",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = texp_get(f, "exa", bad[i], NULL);
        if (r.status != 400)
            fail_msg("%s: want 400, got %ld", bad[i], r.status);
        texp_hres_release(&r);
    }
    r = texp_get(f, "exa", "/api/export/reports.shp", NULL);
    assert_int_equal(r.status, 404);
    texp_hres_release(&r);

    /* a report of a restricted queue is not in an exporter's feed; an admin's has it */
    texp_sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    r = texp_get(f, "exa", "/api/export/reports.geojsonseq", NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 90);
    assert_int_equal(texp_run(NULL, "grep -q '\"ref\":\"R-2\"' '%s'", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(f, "root", "/api/export/reports.geojsonseq", NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 91);
    texp_hres_release(&r);

    /* audited: the exporter, the filter, the rows (a 304 sends nothing and is not) */
    assert_int_equal(texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                                   " AND actor = 'exa'"),
                     8);
    assert_int_equal(texp_count(f,
                                "SELECT count(*) FROM audit_log WHERE action = 'export'"
                                " AND actor = 'exa' AND object = 'GET /api/export/reports.geojson'"
                                " AND after->>'rows' = '30'"
                                " AND after->'filter'->>'category' = 'drone'"),
                     1);
    texp_no_identity(f);
    free(cur);
    free(ct);
    free(etag);
    free(lm);
    free(te);
    texp_fx_free(f);
}

/* ---- OGC API - Features ---- */

/* The incidents collection: A (R-1, R-2) and D (R-5, a fused position) are the
 * exporter's; B (R-3) was merged into A; C's one member (R-4) is in a queue the exporter
 * may not see. */
static void ogc_incidents(struct fx *f)
{
    texp_sql(f, "WITH u AS (UPDATE reports SET incident_id = NULL RETURNING 1) SELECT 1");
    texp_sql(f, "WITH d AS (DELETE FROM incidents RETURNING 1) SELECT 1");
    texp_sql(f, "INSERT INTO incidents (id, centroid, categories, corroborations, n_reports,"
                " first_seen, last_seen, merged_into, fused, fused_uncertainty_m) VALUES"
                " (9001, 'SRID=4326;POINT(30.5123 50.4567)', '{drone}', 2, 2,"
                "  '2026-03-01T12:00:00Z', '2026-03-01T12:05:00Z', NULL, NULL, NULL),"
                " (9004, 'SRID=4326;POINT(30.7 50.6)', '{shelling}', 1, 1,"
                "  '2026-03-01T13:00:00Z', '2026-03-01T13:30:00Z', NULL,"
                "  'SRID=4326;POINT(30.7071 50.6032)', 850),"
                " (9003, 'SRID=4326;POINT(31 51)', '{drone}', 1, 1,"
                "  '2026-03-01T12:00:00Z', '2026-03-01T12:00:00Z', NULL, NULL, NULL)"
                " RETURNING 1");
    texp_sql(f,
             "INSERT INTO incidents (id, centroid, categories, corroborations, n_reports,"
             " first_seen, last_seen, merged_into) VALUES (9002, 'SRID=4326;POINT(30.6 50.5)',"
             " '{drone}', 1, 1, '2026-03-01T12:02:00Z', '2026-03-01T12:02:00Z', 9001) RETURNING 1");
    texp_sql(f, "UPDATE reports SET incident_id = CASE public_ref WHEN 'R-1' THEN 9001"
                " WHEN 'R-2' THEN 9001 WHEN 'R-3' THEN 9002 WHEN 'R-4' THEN 9003 ELSE 9004 END,"
                " queue = CASE public_ref WHEN 'R-4' THEN 'restricted' ELSE queue END"
                " WHERE public_ref IN ('R-1', 'R-2', 'R-3', 'R-4', 'R-5') RETURNING 1");
    long audits = texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                                " AND after->>'collection' = 'incidents'");

    /* GDAL's OAPIF driver lists the layer; the centroid is rounded, longitude first */
    char *hf = texp_path_in(f, "gdal-headers-inc.txt");
    assert_int_equal(ts_write_file(hf, "Authorization: Bearer tok-exa-0123456789abcdef\n"), 0);
    char *src = tl_asprintf("OAPIF:http://127.0.0.1:%u/api/ogc", f->port);
    char *opts = tl_asprintf("--config GDAL_HTTP_HEADER_FILE '%s' -oo PAGE_SIZE=1", hf);
    char *out = NULL;
    texp_run(&out, "ogrinfo -ro -so %s '%s' incidents 2>/dev/null | grep -m1 '^Feature Count:'",
             opts, src);
    assert_string_equal(out, "Feature Count: 2\n");
    free(out);
    out = NULL;
    texp_run(&out,
             "ogrinfo -ro -q %s -where 'id = 9001' '%s' incidents 2>/dev/null"
             " | grep -m1 -o 'POINT ([^)]*)'",
             opts, src);
    assert_non_null(out);
    assert_string_equal(out, "POINT (30.51 50.46)\n");
    free(out);
    out = NULL;
    texp_run(&out,
             "ogrinfo -ro -q %s '%s' incidents 2>/dev/null | grep -c 'id (Integer[0-9]*) = 900'",
             opts, src);
    assert_int_equal(strtol(out, NULL, 10), 2);
    free(out);
    free(opts);
    free(src);
    free(hf);

    /* items: the merged B and the hidden C are absent; the fused position of D */
    struct hres r = texp_get(f, "exa", "/api/ogc/collections/incidents/items", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 2);
    assert_int_equal(texp_run(NULL, "grep -q '\"id\":9002' '%s'", r.body_path), 1);
    assert_int_equal(texp_run(NULL, "grep -q '\"id\":9003' '%s'", r.body_path), 1);
    assert_int_equal(
        texp_run(NULL, "grep -q '\"fused_lon\":30.71,\"fused_lat\":50.60' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    r = texp_get(f, "root", "/api/ogc/collections/incidents/items", NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 3); /* an admin sees C, never B */
    assert_int_equal(texp_run(NULL, "grep -q '\"id\":9002' '%s'", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items?limit=1", NULL);
    assert_int_equal(texp_run(NULL,
                              "grep -q 'incidents/items?limit=1&after=9001\",\"rel\":\"next' '%s'",
                              r.body_path),
                     0);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items?limit=1&after=9001", NULL);
    assert_int_equal(texp_run(NULL, "grep -q '\"id\":9004' '%s'", r.body_path), 0);
    assert_int_equal(texp_run(NULL, "grep -q '\"rel\":\"next\"' '%s'", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items?bbox=30.6,50.5,31,51", NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(f, "exa",
                 "/api/ogc/collections/incidents/items?datetime=2026-03-01T12:03:00Z/"
                 "2026-03-01T12:30:00Z",
                 NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 1); /* A's span meets it, D's does not */
    assert_int_equal(texp_run(NULL, "grep -q '\"id\":9001' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items/9004", NULL);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items/9002", NULL);
    assert_int_equal(r.status, 404);
    texp_hres_release(&r);
    assert_true(
        texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export' AND actor = 'exa'"
                      " AND after->>'collection' = 'incidents'") > audits);
    assert_int_equal(
        texp_count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                      " AND actor = 'exa' AND after->>'collection' = 'incidents'"
                      " AND after->>'rows' = '1' AND after->'filter'->'bbox' IS NOT NULL"),
        1);
    /* R-2 in a restricted queue: the exporter sees A counted over R-1 alone, an admin A
     * as stored */
    texp_sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    r = texp_get(f, "exa", "/api/ogc/collections/incidents/items/9001", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        texp_run(NULL, "grep -q '\"corroboration\":1,\"n_reports\":1' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    r = texp_get(f, "root", "/api/ogc/collections/incidents/items/9001", NULL);
    assert_int_equal(
        texp_run(NULL, "grep -q '\"corroboration\":2,\"n_reports\":2' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    texp_sql(f, "UPDATE reports SET queue = 'general' WHERE public_ref = 'R-2' RETURNING 1");
}

static void test_export_ogc_api(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_ogc", 100);
    struct hres r = texp_get(f, "exa", "/api/ogc", NULL);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/api", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "python3 -m json.tool '%s' >/dev/null", r.body_path), 0);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/conformance", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        texp_run(NULL, "grep -q 'ogcapi-features-1/1.0/conf/geojson' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections", NULL);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/reports", NULL);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/incidents", NULL);
    assert_int_equal(r.status, 200);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/unknown", NULL);
    assert_int_equal(r.status, 404);
    texp_hres_release(&r);

    /* GDAL's OAPIF driver adds the layer and pages through it by the next links */
    char *hf = texp_path_in(f, "gdal-headers.txt");
    assert_int_equal(ts_write_file(hf, "Authorization: Bearer tok-exa-0123456789abcdef\n"), 0);
    char *src = tl_asprintf("OAPIF:http://127.0.0.1:%u/api/ogc", f->port);
    char *opts = tl_asprintf("--config GDAL_HTTP_HEADER_FILE '%s' -oo PAGE_SIZE=7", hf);
    assert_int_equal(texp_ogr_count(opts, src), 90);
    char *errs = NULL; /* every document the driver asks for is there */
    texp_run(&errs, "ogrinfo -ro -so -al %s '%s' 2>&1 >/dev/null", opts, src);
    if (strstr(errs, "ERROR"))
        fail_msg("ogrinfo (OAPIF): %s", errs);
    free(errs);
    char *p = texp_ogr_point(opts, src, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    char *all = NULL;
    texp_run(&all, "ogrinfo -ro -al -q %s '%s' 2>/dev/null | grep -c 'ref (String) = R-'", opts,
             src);
    assert_int_equal(strtol(all, NULL, 10), 90);
    free(all);
    texp_run(NULL, "ogr2ogr -f GeoJSON '%s/oapif.geojson' %s '%s' 2>/dev/null", f->dir, opts, src);
    free(opts);
    free(src);
    free(hf);

    /* items: limit and a next link that carries on; bbox; datetime */
    r = texp_get(f, "exa", "/api/ogc/collections/reports/items?limit=5", NULL);
    assert_int_equal(r.status, 200);
    char *next = NULL;
    texp_run(&next, "grep -o '\"href\":\"[^\"]*\",\"rel\":\"next\"' '%s' | cut -d'\"' -f4",
             r.body_path);
    assert_non_null(strstr(next, "/api/ogc/collections/reports/items?limit=5&after="));
    assert_int_equal(texp_run(NULL, "grep -q '\"numberReturned\":5,' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    const char *rel = strstr(next, "/api/");
    rel = rel ? rel : "";
    char *relp = tl_strndup(rel, strcspn(rel, "\n"));
    r = texp_get(f, "exa", relp, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "grep -q '\"ref\":\"R-6\"' '%s'", r.body_path), 0);
    assert_int_equal(texp_run(NULL, "grep -q '\"ref\":\"R-5\"' '%s'", r.body_path), 1);
    texp_hres_release(&r);
    free(relp);
    free(next);
    r = texp_get(f, "exa",
                 "/api/ogc/collections/reports/items?bbox=30.5,50.4,30.5205,50.5&limit=1000", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 18);
    assert_int_equal(texp_run(NULL, "grep -q '\"rel\":\"next\"' '%s'", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(
        f, "exa",
        "/api/ogc/collections/reports/items?datetime=2026-03-01T12:01:00Z/2026-03-01T12:11:00Z",
        NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_ogr_count("", r.body_path), 9); /* received R-1..R-10, R-10 rejected */
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/reports/items?datetime=2026-03-01T12:07:00Z",
                 NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 1);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/reports/items?datetime=../2026-03-01T12:03:00Z",
                 NULL);
    assert_int_equal(texp_ogr_count("", r.body_path), 2);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/ogc/collections/reports/items?datetime=tomorrow", NULL);
    assert_int_equal(r.status, 400);
    texp_hres_release(&r);

    /* one item; a rejected one is not in the collection */
    char *id7 = ts_db_scalar(f->ci, "SELECT id FROM reports WHERE public_ref = 'R-7'");
    char *q = tl_asprintf("/api/ogc/collections/reports/items/%s", id7);
    r = texp_get(f, "exa", q, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        texp_run(NULL, "grep -q '\"coordinates\":\\[30.51,50.40\\]' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    free(q);
    free(id7);
    char *id10 = ts_db_scalar(f->ci, "SELECT id FROM reports WHERE public_ref = 'R-10'");
    q = tl_asprintf("/api/ogc/collections/reports/items/%s", id10);
    r = texp_get(f, "exa", q, NULL);
    assert_int_equal(r.status, 404);
    texp_hres_release(&r);
    free(q);
    free(id10);
    r = texp_get(f, "alice", "/api/ogc/collections/reports/items", NULL);
    assert_int_equal(r.status, 403);
    texp_hres_release(&r);
    ogc_incidents(f);
    texp_no_identity(f);
    texp_fx_free(f);
}

const struct CMUnitTest texp_feeds_tests[] = {
    cmocka_unit_test_teardown(test_export_cli_formats, texp_teardown),
    cmocka_unit_test_teardown(test_export_feed_http, texp_teardown),
    cmocka_unit_test_teardown(test_export_ogc_api, texp_teardown),
};
const size_t texp_feeds_ntests = TS_NTESTS(texp_feeds_tests);
