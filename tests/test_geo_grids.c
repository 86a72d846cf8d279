/* tests/test_geo_grids.c - test_geo: MGRS and UTM cross-checked against GeographicLib's
 * GeoConvert (invalid references refused), Plus Codes against the reference decoding
 * data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geo/geo.h"
#include "geo/geo_int.h"
#include "common/util.h"
#include "tests/support/testsupport.h"
#include "test_geo_int.h"

/* ---------------- MGRS and UTM against GeoConvert ---------------- */

/* Runs GeoConvert with args on the lines of in; returns its output lines (one per
 * input line; "ERROR..." lines kept). */
static char **geoconvert(const char *args, char **in, size_t n)
{
    char *inpath = tl_asprintf("%s/gc.in", tgeo_g_dir);
    FILE *f = fopen(inpath, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", in[i]);
    fclose(f);
    char *cmd = tl_asprintf("GeoConvert %s < %s 2>&1", args, inpath);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char **out = calloc(n, sizeof *out);
    char line[256];
    size_t k = 0;
    while (k < n && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        out[k++] = tl_strdup(line);
    }
    int st = pclose(p);
    unlink(inpath);
    if (k != n || st != 0)
        fail_msg("GeoConvert %s: %zu of %zu lines, status %d. GeoConvert comes with Debian's "
                 "geographiclib-tools (apt-get install geographiclib-tools; the setup script "
                 "installs it)",
                 args, k, n, st);
    free(cmd);
    free(inpath);
    return out;
}

static void free_lines(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static char band_of(double lat)
{
    static const char bands[] = "CDEFGHJKLMNPQRSTUVWX";
    int i = (int)floor((lat + 80.0) / 8.0);
    if (i > 19)
        i = 19;
    if (i < 0)
        i = 0;
    return bands[i];
}

#define NPTS 40

/* Points: Ukraine and its front line densely, then the world (south, zone edges,
 * Norway's and Svalbard's odd zones, high north). */
static void make_points(double *lat, double *lon)
{
    static const double fixed[][2] = {
        {49.3574, 37.7929},   {48.5953, 38.0004}, {46.6354, 32.6169}, {51.4982, 31.2893},
        {-33.8688, 151.2093}, {-54.8, -68.3},     {60.39, 5.32},      {78.22, 15.65},
        {0.5, 36.0},          {-0.5, -78.5},      {47.9999, 35.9999}, {56.0001, 24.0001},
    };
    size_t k = 0;
    for (; k < sizeof fixed / sizeof *fixed; k++) {
        lat[k] = fixed[k][0];
        lon[k] = fixed[k][1];
    }
    uint32_t s = 12345;
    for (; k < NPTS; k++) {
        s = s * 1103515245u + 12345u;
        double u = (s >> 8) / 16777216.0;
        s = s * 1103515245u + 12345u;
        double v = (s >> 8) / 16777216.0;
        if (k < 30) { /* Ukraine */
            lat[k] = 44.5 + u * 8.0;
            lon[k] = 22.5 + v * 17.5;
        } else {
            lat[k] = -79.0 + u * 161.0;
            lon[k] = -179.0 + v * 358.0;
        }
    }
}

static void test_geo_mgrs_geoconvert(void **state)
{
    double lat[NPTS], lon[NPTS];
    make_points(lat, lon);
    char *in[NPTS];
    for (size_t i = 0; i < NPTS; i++)
        in[i] = tl_asprintf("%.8f %.8f", lat[i], lon[i]);
    size_t checked = 0, parsed_text = 0;
    /* every precision from 100 km (0 digits) to 1 m (5 digits per coordinate) */
    for (int digits = 0; digits <= 5; digits++) {
        char args[32];
        snprintf(args, sizeof args, "-m -p %d", digits - 5);
        char **mgrs = geoconvert(args, in, NPTS);
        char **ref = geoconvert("-g -p 4", mgrs, NPTS);
        for (size_t i = 0; i < NPTS; i++) {
            double rlat = 0, rlon = 0, mlat = 0, mlon = 0, size = 0;
            if (strncmp(ref[i], "ERROR", 5) == 0 || sscanf(ref[i], "%lf %lf", &rlat, &rlon) != 2)
                fail_msg("GeoConvert cannot read back %s: %s", mgrs[i], ref[i]);
            if (geo_mgrs_to_latlon(mgrs[i], &mlat, &mlon, &size) != TL_OK)
                fail_msg("geo_mgrs_to_latlon refused %s", mgrs[i]);
            double d = geo_haversine_m(mlat, mlon, rlat, rlon);
            if (d > 1.0)
                fail_msg("%s: ours %.8f,%.8f GeoConvert %.8f,%.8f: %.3f m", mgrs[i], mlat, mlon,
                         rlat, rlon, d);
            assert_true(fabs(size - pow(10.0, 5 - digits)) < 1e-6);
            checked++;
            /* the same reference in a message, spaced the way spotters write it:
             * "37U DQ 12345 67890" (with the area where the point lies inside it) */
            const struct geo_ctx *ctx = geo_in_area(tgeo_g_ctx, rlat, rlon) ? tgeo_g_ctx : NULL;
            const char *m = mgrs[i];
            size_t zl = strspn(m, "0123456789");
            size_t nd = strlen(m) - zl - 3;
            char *text =
                tl_asprintf("ціль: %.*s %.*s %.*s %.*s, підтверджую", (int)zl + 1, m, 2, m + zl + 1,
                            (int)nd / 2, m + zl + 3, (int)nd / 2, m + zl + 3 + nd / 2);
            struct geo_result r;
            assert_int_equal(geo_parse_text(ctx, text, strlen(text), &r, NULL), TL_OK);
            if (r.n < 1 || strcmp(r.cand[0].kind, "mgrs") != 0)
                fail_msg("no MGRS found in \"%s\"", text);
            d = geo_haversine_m(r.cand[0].lat, r.cand[0].lon, rlat, rlon);
            if (d > 1.0)
                fail_msg("\"%s\": %.3f m off", text, d);
            assert_true(r.cand[0].accuracy_m == size);
            parsed_text++;
            geo_result_release(&r);
            free(text);
        }
        free_lines(mgrs, NPTS);
        free_lines(ref, NPTS);
    }
    for (size_t i = 0; i < NPTS; i++)
        free(in[i]);
    fprintf(stderr, "mgrs: %zu references and %zu messages agree with GeoConvert within 1 m\n",
            checked, parsed_text);
    assert_int_equal(checked, 6 * NPTS);
    assert_int_equal(parsed_text, 6 * NPTS);
}

static void test_geo_utm_geoconvert(void **state)
{
    double lat[NPTS], lon[NPTS];
    make_points(lat, lon);
    char *in[NPTS];
    for (size_t i = 0; i < NPTS; i++)
        in[i] = tl_asprintf("%.8f %.8f", lat[i], lon[i]);
    char **utm = geoconvert("-u -p 1", in, NPTS);
    char **ref = geoconvert("-g -p 4", utm, NPTS);
    size_t checked = 0;
    for (size_t i = 0; i < NPTS; i++) {
        int zone = 0;
        char hemi = 0;
        double e = 0, n = 0, rlat = 0, rlon = 0, ulat = 0, ulon = 0;
        if (sscanf(utm[i], "%d%c %lf %lf", &zone, &hemi, &e, &n) != 4)
            fail_msg("GeoConvert UTM: %s", utm[i]);
        assert_int_equal(sscanf(ref[i], "%lf %lf", &rlat, &rlon), 2);
        assert_int_equal(geo_utm_to_latlon(zone, hemi == 'n', e, n, &ulat, &ulon), TL_OK);
        double d = geo_haversine_m(ulat, ulon, rlat, rlon);
        if (d > 1.0)
            fail_msg("%s: ours %.8f,%.8f GeoConvert %.8f,%.8f: %.3f m", utm[i], ulat, ulon, rlat,
                     rlon, d);
        /* in text, GeoConvert's own spelling and the band-letter one */
        char *t1 = tl_asprintf("UTM %s", utm[i]);
        char *t2 = tl_asprintf("точка %d%c %.0f %.0f", zone, band_of(rlat), floor(e), floor(n));
        char *texts[2] = {t1, t2};
        for (int k = 0; k < 2; k++) {
            struct geo_result r;
            assert_int_equal(geo_parse_text(NULL, texts[k], strlen(texts[k]), &r, NULL), TL_OK);
            if (r.n != 1 || strcmp(r.cand[0].kind, "utm") != 0)
                fail_msg("no UTM found in \"%s\"", texts[k]);
            double tol = k == 0 ? 1.0 : 2.0; /* the band form drops the decimetres */
            d = geo_haversine_m(r.cand[0].lat, r.cand[0].lon, rlat, rlon);
            if (d > tol)
                fail_msg("\"%s\": %.3f m off", texts[k], d);
            geo_result_release(&r);
        }
        free(t1);
        free(t2);
        checked++;
    }
    free_lines(utm, NPTS);
    free_lines(ref, NPTS);
    for (size_t i = 0; i < NPTS; i++)
        free(in[i]);
    fprintf(stderr, "utm: %zu points agree with GeoConvert within 1 m\n", checked);
    assert_int_equal(checked, NPTS);
}

static void test_geo_mgrs_invalid(void **state)
{
    double la, lo, sz;
    static const char *const bad[] = {
        "",        "37",      "37U",       "61UDQ12",
        "0UDQ12",  "37IDQ12", "37UDQ123",  "37UDQ12345678901",
        "37UIQ12", "37UDZ12", "37UDQ12a4", "37U DQ 12 345",
        "37AQQ12",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (geo_mgrs_to_latlon(bad[i], &la, &lo, &sz) != TL_EINVAL)
            fail_msg("accepted %s", bad[i]);
    /* a square whose row letter does not fit its band */
    assert_int_equal(geo_mgrs_to_latlon("37UDF12345678", &la, &lo, &sz), TL_EINVAL);
    assert_int_equal(geo_utm_to_latlon(0, 1, 500000, 5000000, &la, &lo), TL_EINVAL);
    assert_int_equal(geo_utm_to_latlon(37, 1, 50000, 5000000, &la, &lo), TL_EINVAL);
    assert_int_equal(geo_utm_to_latlon(37, 1, 500000, 5000000, &la, &lo), TL_OK);
    assert_true(fabs(lo - 39.0) < 1e-9); /* the central meridian of zone 37 */
}

/* ---------------- Plus Codes ---------------- */

static void test_geo_olc_reference(void **state)
{
    /* from the Open Location Code project's decoding test data: code, latLo, lngLo,
     * latHi, lngHi */
    static const struct {
        const char *code;
        double la0, lo0, la1, lo1;
    } t[] = {
        {"7FG49Q00+", 20.35, 2.75, 20.4, 2.8},
        {"7FG49QCJ+2V", 20.37, 2.782125, 20.370125, 2.78225},
        {"7FG49QCJ+2VX", 20.3701, 2.78221875, 20.370125, 2.78225},
        {"7FG49QCJ+2VXGJ", 20.370113, 2.782234375, 20.370114, 2.78223632813},
        {"8FVC2222+22", 47.0, 8.0, 47.000125, 8.000125},
        {"4VCPPQGP+Q9", -41.273125, 174.785875, -41.273, 174.786},
        {"62G20000+", 0.0, -180.0, 1, -179},
        {"22220000+", -90, -180, -89, -179},
        {"22222222+22", -90.0, -180.0, -89.999875, -179.999875},
        {"6FH32222+222", 1, 1, 1.000025, 1.00003125},
        {"CFX30000+", 89, 1, 90, 2},
        {"84000000+", 30, -140, 50, -120},
        {"849VGJQF+VX7QR3J", 37.5396691200, -122.3750698242, 37.5396691600, -122.3750697021},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        double la, lo, sz;
        assert_int_equal(geo_olc_decode(t[i].code, &la, &lo, &sz), TL_OK);
        double cla = (t[i].la0 + t[i].la1) / 2, clo = (t[i].lo0 + t[i].lo1) / 2;
        if (fabs(la - cla) > 1e-9 || fabs(lo - clo) > 1e-9)
            fail_msg("%s: %.10f,%.10f expected %.10f,%.10f", t[i].code, la, lo, cla, clo);
        assert_true(sz > 0);
    }
    static const char *const bad[] = {"FG2F+2V",   "9G2GFG2F",    "9G2GFG2F+2V+", "9G2GFG2F+2",
                                      "9G2GF000+", "XG2GFG2F+2V", "9G2GFG2F+2A",  "9G2G0000+22"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double la, lo;
        if (geo_olc_decode(bad[i], &la, &lo, NULL) == TL_OK)
            fail_msg("accepted %s", bad[i]);
    }
}

const struct CMUnitTest tgeo_grids_tests[] = {
    cmocka_unit_test(test_geo_mgrs_geoconvert),
    cmocka_unit_test(test_geo_utm_geoconvert),
    cmocka_unit_test(test_geo_mgrs_invalid),
    cmocka_unit_test(test_geo_olc_reference),
};
const size_t tgeo_grids_ntests = TS_NTESTS(tgeo_grids_tests);
