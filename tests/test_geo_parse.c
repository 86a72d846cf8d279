/* tests/test_geo_parse.c - test_geo: the text parser on real-looking messages
 * (table-driven), ambiguous place names, the gazetteer's keys on the generated fixture
 * and on the real built one when TL_GAZETTEER names it. */
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

#define DMS(d, m, s) ((d) + (m) / 60.0 + (s) / 3600.0)
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
    const struct geo_ctx *ctx = (c->flags & F_NOCTX) ? NULL : tgeo_g_ctx;
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
    assert_int_equal(geo_parse_text(tgeo_g_ctx, t, strlen(t), &r, NULL), TL_OK);
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
    assert_int_equal(geo_parse_text(tgeo_g_ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.cand[0].oblast, "Kharkiv Oblast");
    assert_true(r.cand[0].accuracy_m == 15000.0);
    assert_int_equal(r.cand[0].off, strlen("в "));
    assert_int_equal(r.cand[0].len, strlen("Харкові"));
    geo_result_release(&r);
    /* numbers in the same message pick which of the shared name was meant */
    t = "біля Лиману, 49.5977 36.4703";
    assert_int_equal(geo_parse_text(tgeo_g_ctx, t, strlen(t), &r, NULL), TL_OK);
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
    assert_int_equal(geo_ctx_new(tgeo_g_area, path, &ctx, &ei), TL_OK);
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

const struct CMUnitTest tgeo_parse_tests[] = {
    cmocka_unit_test(test_geo_parse_table),
    cmocka_unit_test(test_geo_place_ambiguous),
    cmocka_unit_test(test_geo_gazetteer_keys),
    cmocka_unit_test(test_geo_gazetteer_real),
};
const size_t tgeo_parse_ntests = TS_NTESTS(tgeo_parse_tests);
