/* tests/test_geo_checks.c - test_geo: area checks and their reasons, area files, point
 * sources, and the numeric helpers (haversine, bbox, geohash, argument parsing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include <json-c/json.h>

#include "geo/geo.h"
#include "geo/geo_int.h"
#include "common/util.h"
#include "tests/support/testsupport.h"
#include "test_geo_int.h"

/* ---------------- checks, sources, helpers ---------------- */

static void test_geo_check_reasons(void **state)
{
    const char *why = "x";
    assert_int_equal(geo_check(tgeo_g_ctx, 50.45, 30.52, &why), TL_OK);
    assert_null(why);
    assert_int_equal(geo_check(tgeo_g_ctx, 0, 0, &why), TL_EINVAL);
    assert_string_equal(why, GEO_REASON_ZERO);
    assert_int_equal(geo_check(NULL, 0, 0, &why), TL_EINVAL);
    assert_string_equal(why, "zero");
    assert_int_equal(geo_check(tgeo_g_ctx, 91, 30, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(NULL, 50, -181, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(NULL, NAN, 30, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(tgeo_g_ctx, 55.7558, 37.6173, &why), TL_EINVAL); /* Moscow */
    assert_string_equal(why, "outside_area");
    assert_int_equal(geo_check(NULL, 55.7558, 37.6173, &why), TL_OK);
    /* the default area: Ukraine's corners and cities in, far neighbours out */
    static const double in[][2] = {{50.4501, 30.5234}, {49.9935, 36.2304}, {49.8397, 24.0297},
                                   {46.4825, 30.7233}, {44.3870, 33.7780}, {52.3790, 33.2000},
                                   {48.2208, 22.1500}, {49.2400, 40.2200}, {45.3500, 28.8400},
                                   {50.5950, 36.5870}};
    static const double out[][2] = {{55.7558, 37.6173}, {52.2297, 21.0122}, {53.9006, 27.5590},
                                    {44.4268, 26.1025}, {41.0082, 28.9784}, {47.4979, 19.0402},
                                    {45.0355, 38.9753}, {30.5234, 50.4501}};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        if (geo_check(tgeo_g_ctx, in[i][0], in[i][1], NULL) != TL_OK)
            fail_msg("%.4f,%.4f should be inside", in[i][0], in[i][1]);
    for (size_t i = 0; i < sizeof out / sizeof *out; i++)
        if (geo_check(tgeo_g_ctx, out[i][0], out[i][1], NULL) == TL_OK)
            fail_msg("%.4f,%.4f should be outside", out[i][0], out[i][1]);
}

static void test_geo_area_file(void **state)
{
    struct geo_ctx *ctx = NULL;
    struct tl_errinfo ei = {0};
    assert_int_equal(geo_ctx_new(tgeo_g_small_area, NULL, &ctx, &ei), TL_OK);
    assert_int_equal(geo_in_area(ctx, 50.9, 30.1), 1);
    assert_int_equal(geo_in_area(ctx, 50.45, 30.52), 0); /* the hole */
    assert_int_equal(geo_in_area(ctx, 50.0, 36.25), 1);  /* the second polygon */
    assert_int_equal(geo_in_area(ctx, 49.0, 33.0), 0);
    assert_int_equal(geo_ctx_places(ctx), 0);
    /* the answer for random points, against the shapes themselves (the grid that
     * speeds up the test must never change it) */
    uint32_t seed = 99;
    for (int k = 0; k < 200000; k++) {
        seed = seed * 1103515245u + 12345u;
        double la = 49.7 + (seed >> 8) / 16777216.0 * 1.4;
        seed = seed * 1103515245u + 12345u;
        double lo = 29.9 + (seed >> 8) / 16777216.0 * 6.7;
        int want = (la > 50.0 && la < 51.0 && lo > 30.0 && lo < 31.0 &&
                    !(la > 50.40 && la < 50.50 && lo > 30.45 && lo < 30.60)) ||
                   (la > 49.8 && la < 50.2 && lo > 36.0 && lo < 36.5);
        if (geo_in_area(ctx, la, lo) != want)
            fail_msg("%.6f,%.6f: in_area %d, expected %d", la, lo, !want, want);
    }
    geo_ctx_free(ctx);
    static const char *const bad[] = {
        "not json",
        "{\"type\":\"Point\",\"coordinates\":[30,50]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,50],[31,50],[30,50]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,50],[31,50],[31,\"x\"],[30,50]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[30,500],[31,50],[31,51],[30,500]]]}",
        "{\"type\":\"FeatureCollection\",\"features\":[]}",
        "{\"coordinates\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *p = tgeo_write_tmp("bad.geojson", bad[i]);
        ctx = (struct geo_ctx *)1;
        int rc = geo_ctx_new(p, NULL, &ctx, &ei);
        if (rc == TL_OK)
            fail_msg("accepted %s", bad[i]);
        assert_null(ctx);
        assert_true(ei.msg[0] != '\0');
        unlink(p);
        free(p);
    }
    assert_int_equal(geo_ctx_new("/nonexistent/area.geojson", NULL, &ctx, &ei), TL_ENOTFOUND);
    assert_int_equal(geo_ctx_new(NULL, "/nonexistent/gaz.tsv", &ctx, &ei) != TL_OK, 1);
    char *p = tgeo_write_tmp("bad.tsv", "Kyiv\t50.45\n");
    assert_int_equal(geo_ctx_new(NULL, p, &ctx, &ei), TL_EPARSE);
    unlink(p);
    free(p);
    p = tgeo_write_tmp("bad.tsv", "Kyiv\t50.45\tx\t1\t12\tUA\n");
    assert_int_equal(geo_ctx_new(NULL, p, &ctx, &ei), TL_EPARSE);
    unlink(p);
    free(p);
}

/* The default area against a plain even-odd test of its own ring, read with json-c,
 * on points all over and around Ukraine. */
static void test_geo_area_default_exact(void **state)
{
    size_t len;
    char *buf = ts_read_file(tgeo_g_area, &len);
    struct json_object *root = json_tokener_parse(buf), *geom, *coords;
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "geometry", &geom));
    assert_true(json_object_object_get_ex(geom, "coordinates", &coords));
    struct json_object *ring = json_object_array_get_idx(coords, 0);
    size_t n = json_object_array_length(ring);
    assert_true(n >= 4);
    uint32_t seed = 7;
    size_t inside = 0;
    for (int k = 0; k < 100000; k++) {
        seed = seed * 1103515245u + 12345u;
        double la = 42.0 + (seed >> 8) / 16777216.0 * 13.0;
        seed = seed * 1103515245u + 12345u;
        double lo = 19.0 + (seed >> 8) / 16777216.0 * 24.0;
        int in = 0;
        for (size_t i = 0, j = n - 1; i < n; j = i++) {
            struct json_object *pi = json_object_array_get_idx(ring, i);
            struct json_object *pj = json_object_array_get_idx(ring, j);
            double xi = json_object_get_double(json_object_array_get_idx(pi, 0));
            double yi = json_object_get_double(json_object_array_get_idx(pi, 1));
            double xj = json_object_get_double(json_object_array_get_idx(pj, 0));
            double yj = json_object_get_double(json_object_array_get_idx(pj, 1));
            if ((yi > la) != (yj > la) && lo < (xj - xi) * (la - yi) / (yj - yi) + xi)
                in = !in;
        }
        inside += (size_t)in;
        if (geo_in_area(tgeo_g_ctx, la, lo) != in)
            fail_msg("%.6f,%.6f: in_area %d, the ring says %d", la, lo, !in, in);
    }
    assert_true(inside > 20000 && inside < 80000);
    json_object_put(root);
    free(buf);
}

static void test_geo_point_sources(void **state)
{
    struct geo_point loc, exif, venue;
    assert_int_equal(
        geo_point_make(tgeo_g_ctx, 50.4501, 30.5234, 0, GEO_SRC_TELEGRAM_LOCATION, &loc), TL_OK);
    assert_string_equal(loc.source, "telegram_location");
    assert_true(loc.accuracy_m == 50.0);
    assert_null(loc.reject);
    assert_int_equal(geo_point_make(tgeo_g_ctx, 50.4501, 30.5234, 12.5, "live_location", &loc),
                     TL_OK);
    assert_string_equal(loc.source, GEO_SRC_LIVE_LOCATION);
    assert_true(loc.accuracy_m == 12.5);
    assert_int_equal(geo_point_make(tgeo_g_ctx, 50.45, 30.52, -1, "venue", &venue), TL_OK);
    assert_true(venue.accuracy_m == 100.0);
    assert_int_equal(geo_point_make(tgeo_g_ctx, 0, 0, 10, "photo_exif", &exif), TL_EINVAL);
    assert_string_equal(exif.reject, "zero");
    assert_int_equal(geo_point_make(tgeo_g_ctx, 50.45, 30.52, 10, "carrier_pigeon", &exif),
                     TL_EINVAL);
    assert_int_equal(geo_point_make(tgeo_g_ctx, 49.9935, 36.2304, 20, GEO_SRC_PHOTO_EXIF, &exif),
                     TL_OK);
    assert_string_equal(exif.source, "photo_exif");
    /* Kyiv vs Kharkiv: far apart, flagged; the same block: not */
    assert_int_equal(geo_disagree(&loc, &exif, 1000), 1);
    struct geo_point near = loc;
    near.lat += 0.002; /* ~222 m */
    assert_int_equal(geo_disagree(&loc, &near, 1000), 0);
    assert_int_equal(geo_disagree(&loc, &near, 100), 1);
    near.accuracy_m = 500; /* within the accuracy radii: agree */
    assert_int_equal(geo_disagree(&loc, &near, 100), 0);
}

static void test_geo_haversine_bbox(void **state)
{
    /* Kyiv - Kharkiv: 409 km by great circle */
    double d = geo_haversine_m(50.4501, 30.5234, 49.9935, 36.2304);
    assert_true(fabs(d - 409.4e3) < 1.5e3);
    assert_true(geo_haversine_m(10, 20, 10, 20) == 0.0);
    /* a quarter of the equator */
    assert_true(fabs(geo_haversine_m(0, 0, 0, 90) - 6371008.8 * M_PI / 2) < 1e-3);
    struct geo_bbox b = geo_bbox_around(50.4501, 30.5234, 5000);
    assert_true(geo_bbox_contains(&b, 50.4501, 30.5234));
    assert_true(geo_bbox_contains(&b, 50.4501 + 0.044, 30.5234));
    assert_false(geo_bbox_contains(&b, 50.4501 + 0.046, 30.5234));
    assert_true(geo_bbox_contains(&b, 50.4501, 30.5234 + 0.069));
    assert_false(geo_bbox_contains(&b, 50.4501, 30.5234 + 0.072));
    /* every point on the circle lies in the box */
    for (int k = 0; k < 360; k += 5) {
        double br = k * M_PI / 180, r = 5000 / 6371008.8, la = 50.4501 * M_PI / 180;
        double la2 = asin(sin(la) * cos(r) + cos(la) * sin(r) * cos(br));
        double lo2 =
            30.5234 * M_PI / 180 + atan2(sin(br) * sin(r) * cos(la), cos(r) - sin(la) * sin(la2));
        assert_true(geo_bbox_contains(&b, la2 * 180 / M_PI, lo2 * 180 / M_PI));
    }
    b = geo_bbox_around(0, 179.99, 5000); /* across the antimeridian */
    assert_true(b.min_lon > b.max_lon);
    assert_true(geo_bbox_contains(&b, 0, -179.99));
    assert_false(geo_bbox_contains(&b, 0, 0));
    b = geo_bbox_around(89.99, 0, 5000);
    assert_true(b.max_lat == 90.0 && b.min_lon == -180.0);
}

static void test_geo_geohash(void **state)
{
    char h[13];
    /* the classic example from the geohash description */
    assert_int_equal(geo_geohash_encode(57.64911, 10.40744, 11, h), TL_OK);
    assert_string_equal(h, "u4pruydqqvj");
    assert_int_equal(geo_geohash_encode(50.4501, 30.5234, 9, h), TL_OK);
    assert_string_equal(h, "u8vxn84mn");
    assert_int_equal(geo_geohash_encode(50.4501, 30.5234, 0, h), TL_EINVAL);
    assert_int_equal(geo_geohash_encode(50.4501, 30.5234, 13, h), TL_EINVAL);
    assert_int_equal(geo_geohash_encode(91, 30, 5, h), TL_EINVAL);
    double la, lo, ela, elo;
    assert_int_equal(geo_geohash_decode("u4pruydqqvj", &la, &lo, &ela, &elo), TL_OK);
    assert_true(fabs(la - 57.64911) <= ela && fabs(lo - 10.40744) <= elo);
    assert_true(ela < 1e-5);
    assert_int_equal(geo_geohash_decode("u4pa", &la, &lo, NULL, NULL), TL_EINVAL);
    assert_int_equal(geo_geohash_decode("", &la, &lo, NULL, NULL), TL_EINVAL);
    char w[48];
    assert_int_equal(geo_point_ewkt(50.4501, 30.5234, w, sizeof w), 38);
    assert_string_equal(w, "SRID=4326;POINT(30.5234000 50.4501000)");
}

static void test_geo_parse_args(void **state)
{
    struct geo_result r;
    assert_int_equal(geo_parse_text(NULL, NULL, 5, &r, NULL), TL_EINVAL);
    assert_int_equal(geo_parse_text(NULL, "x", 1, NULL, NULL), TL_EINVAL);
    /* not NUL-terminated: only len bytes are read */
    char buf[] = {'5', '0', '.', '4', '5', ',', ' ', '3', '0', '.', '5', '2', '9', '9'};
    assert_int_equal(geo_parse_text(NULL, buf, 12, &r, NULL), TL_OK);
    assert_int_equal(r.n, 1);
    assert_true(fabs(r.cand[0].lon - 30.52) < 1e-9);
    geo_result_release(&r);
    geo_result_release(&r); /* twice is harmless */
    /* many candidates: bounded, no overflow */
    struct tl_buf b;
    tl_buf_init(&b, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tl_buf_printf(&b, "%d.%04d, 30.%04d; ", 45 + i % 7, i, i), TL_OK);
    assert_int_equal(geo_parse_text(tgeo_g_ctx, (char *)b.data, b.len, &r, NULL), TL_OK);
    assert_true(r.n >= 20 && r.n <= 64);
    geo_result_release(&r);
    tl_buf_release(&b);
}

const struct CMUnitTest tgeo_checks_tests[] = {
    cmocka_unit_test(test_geo_check_reasons),      cmocka_unit_test(test_geo_area_file),
    cmocka_unit_test(test_geo_area_default_exact), cmocka_unit_test(test_geo_point_sources),
    cmocka_unit_test(test_geo_haversine_bbox),     cmocka_unit_test(test_geo_geohash),
    cmocka_unit_test(test_geo_parse_args),
};
const size_t tgeo_checks_ntests = TS_NTESTS(tgeo_checks_tests);
