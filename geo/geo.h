/* geo/geo.h - coordinates for tipline: every way a citizen gives a place, parsed,
 * checked against an area of interest, and carried with its source and accuracy.
 *
 * A pure library: strings and numbers in, points out. No database, no network.
 * What it reads from free text (Ukrainian, Russian and English messages):
 *   decimal degrees (dot or comma decimals, hemisphere letters or Cyrillic words,
 *   signs, lat/lon cues), DMS and DDM, map links (Google, OpenStreetMap, Apple,
 *   Yandex), geo: URIs (RFC 5870), MGRS and UTM grid references, full Plus Codes
 *   and short ones beside a place name, settlement names through an offline
 *   gazetteer (in any case ending, letter case and transliteration; homonyms settled
 *   by a named oblast or a point the reporter sent), and a bearing of movement.
 *
 * Thread safety: a struct geo_ctx is immutable after geo_ctx_new() (but for
 * geo_ctx_reload(), which swaps the gazetteer atomically) and may be shared by any
 * number of threads. Results belong to the caller. */
#ifndef TL_GEO_H
#define TL_GEO_H

#include <stddef.h>

#include "common/err.h"

/* Source names, spelled as the storage column stores them. */
#define GEO_SRC_TELEGRAM_LOCATION "telegram_location"
#define GEO_SRC_VENUE "venue"
#define GEO_SRC_LIVE_LOCATION "live_location"
#define GEO_SRC_PHOTO_EXIF "photo_exif"
#define GEO_SRC_TEXT "text"

/* Reason codes of geo_check() and of rejected candidates (static strings). */
#define GEO_REASON_OUT_OF_RANGE "out_of_range" /* |lat| > 90, |lon| > 180, NaN */
#define GEO_REASON_ZERO "zero"                 /* (0,0): a GPS fix that never was */
#define GEO_REASON_OUTSIDE_AREA "outside_area" /* valid, but outside the area of interest */

/* One point. Plain data: copy it freely. */
struct geo_point {
    double lat, lon;    /* WGS84 degrees */
    double accuracy_m;  /* radius in metres within which the place is believed to be */
    const char *source; /* one of GEO_SRC_* (static) */
    const char *reject; /* NULL when accepted, else a GEO_REASON_* code (static) */
    char kind[16];      /* text only: "decimal","dms","mgrs","utm","olc","link","geo_uri","place" */
    char name[64];      /* kind "place": the gazetteer's name (Latin); else "" */
    char oblast[64];    /* kind "place": oblast name (Ukraine only), else "" */
    char district[48];  /* kind "place": district (raion) name when the index has it */
    char country[3];    /* kind "place": ISO 3166 alpha-2; else "" */
    int swapped;        /* 1: read as "lon lat" because only that order fits the area */
    int swapped_possible; /* 1: no hemisphere or cue fixed the order and both orders are
                             valid coordinates; with an area, swapped says which won */
    unsigned alt_group;   /* nonzero: one of several readings of the same words (a name
                             shared by several settlements, most populous first); ask
                             the reporter which. Coordinates in the same message that
                             fall in one of them settle it (alt_group 0, the rest go) */
    size_t off, len;      /* byte span in the text where it was found */
};

/* What one text held. cand: accepted candidates, best first (exact coordinates, grid
 * references, codes and map pins; then map viewports and order-swapped pairs; then
 * settlements; each group in the order of the text). rej: candidates that were
 * recognised but failed geo_check(), each with its reject reason, so the bot can ask
 * ("the point you sent is outside Ukraine - is it correct?"). Settlements outside the
 * area are dropped, not rejected. */
struct geo_result {
    struct geo_point *cand;
    size_t n;
    struct geo_point *rej;
    size_t n_rej;
    int has_bearing;    /* a direction of movement was given */
    double bearing_deg; /* 0 = north, clockwise, [0, 360) */
    int ambiguous;      /* some candidates share an alt_group: ask which one */
};
/* Ownership: cand and rej are one allocation of the library's; free them only with
 * geo_result_release(). Copy a struct geo_point out to keep it. */

/* Area of interest + gazetteer. Immutable once built. */
struct geo_ctx;

/* Builds a context. area_file: GeoJSON Polygon/MultiPolygon (bare geometry, Feature or
 * FeatureCollection; holes honoured), NULL for no area check. gazetteer_file: an index
 * written by geo_gazetteer_import() (mapped), or the TSV written by
 * deploy/gazetteer/build.sh (name, lat, lon, population, admin1, country; indexed in
 * memory), NULL for no place names. *out is NULL on error; free with geo_ctx_free(). */
int geo_ctx_new(const char *area_file, const char *gazetteer_file, struct geo_ctx **out,
                struct tl_errinfo *ei) TL_WUR;
void geo_ctx_free(struct geo_ctx *ctx);
/* Number of settlements loaded (0 without a gazetteer). */
size_t geo_ctx_places(const struct geo_ctx *ctx);
/* SIGHUP: maps the gazetteer file again (a new import). Safe while other threads
 * parse: they finish on the old index, which stays mapped until geo_ctx_free(). On
 * error the old index stays. TL_OK without a gazetteer. */
int geo_ctx_reload(struct geo_ctx *ctx, struct tl_errinfo *ei) TL_WUR;

/* What an import read and wrote. */
struct geo_import_stats {
    size_t lines;     /* place lines read (blank and # lines not counted) */
    size_t places;    /* populated places of the countries asked for, kept */
    size_t names;     /* spellings indexed (distinct keys of a place) */
    size_t malformed; /* lines skipped because they do not parse */
    size_t filtered;  /* well-formed lines of other feature classes or countries */
    size_t alt_lines; /* alternate-names lines read */
    size_t alt_used;  /* of them, names of kept places in uk, ru, be, en */
    size_t alt_malformed;
    size_t index_bytes; /* size of the index written */
    size_t districts;   /* admin2 (raion) names read, of the countries asked for */
};

/* Reads a GeoNames dump (UA.txt, allCountries.txt: 19 tab-separated fields) and,
 * when alt_path is not NULL, alternateNamesV2.txt; keeps the populated places of
 * countries ("UA,MD", NULL or "" for all) and writes the index geo_ctx_new() maps to
 * out_path (a temporary file renamed over it). Malformed lines are counted in *st and
 * skipped. TL_ENOTFOUND when no place is kept; TL_EIO; TL_ENOMEM. */
int geo_gazetteer_import(const char *dump_path, const char *alt_path, const char *countries,
                         const char *out_path, struct geo_import_stats *st,
                         struct tl_errinfo *ei) TL_WUR;
/* The same with every file: admin2: admin2Codes.txt (district names, so that "Новоселівка
 * Ізюмського району" settles a shared name), NULL without. */
struct geo_import_opts {
    const char *dump, *alternate_names, *admin2, *countries, *out;
};
int geo_gazetteer_import_opts(const struct geo_import_opts *o, struct geo_import_stats *st,
                              struct tl_errinfo *ei) TL_WUR;
/* The same on a dump in memory; *img gets the index (free with free()). */
int geo_gazetteer_import_mem(const char *dump, size_t len, const char *countries,
                             unsigned char **img, size_t *img_len, struct geo_import_stats *st,
                             struct tl_errinfo *ei) TL_WUR;

/* Checks one point: TL_OK, or TL_EINVAL with *reason (may be NULL) set to a
 * GEO_REASON_* code. ctx may be NULL (range and zero checks only). */
int geo_check(const struct geo_ctx *ctx, double lat, double lon, const char **reason) TL_WUR;

/* Is the point inside the area? 1 if so or if ctx has no area, else 0. */
int geo_in_area(const struct geo_ctx *ctx, double lat, double lon);

/* Finds every place in text[0..len) (UTF-8, need not be NUL-terminated). ctx may be
 * NULL. out is initialised here; release it with geo_result_release() whatever the
 * return. TL_OK even when nothing was found (out->n == 0); TL_ENOMEM; TL_EINVAL on a
 * NULL argument. */
int geo_parse_text(const struct geo_ctx *ctx, const char *text, size_t len, struct geo_result *out,
                   struct tl_errinfo *ei) TL_WUR;
void geo_result_release(struct geo_result *res);
/* The settlements of the first group of readings left open (alt_group) as a JSON
 * array, [{"name","oblast","country","lat","lon","accuracy_m"}, ...], for the
 * analyst to pick from; a new string (free()), NULL when nothing is ambiguous or on
 * ENOMEM. */
char *geo_alternatives_json(const struct geo_result *r);
/* geo_parse_text for a reporter who also sent points (shared location, photo GPS;
 * near may be NULL when n_near is 0): of several settlements sharing a name, the one
 * nearest such a point (within 150 km) is kept alone. */
int geo_parse_text_near(const struct geo_ctx *ctx, const char *text, size_t len,
                        const struct geo_point *near, size_t n_near, struct geo_result *out,
                        struct tl_errinfo *ei) TL_WUR;

/* A point that came as numbers (Telegram location, venue, live location, photo EXIF).
 * accuracy_m <= 0 picks the source's default. Fills *out (kind ""), runs geo_check()
 * and sets out->reject; returns its result. */
int geo_point_make(const struct geo_ctx *ctx, double lat, double lon, double accuracy_m,
                   const char *source, struct geo_point *out) TL_WUR;

/* 1 when two points of one report disagree: their distance exceeds threshold_m plus
 * both accuracy radii (photo EXIF far from the shared location). Keep both and flag. */
int geo_disagree(const struct geo_point *a, const struct geo_point *b, double threshold_m);

/* Great-circle distance in metres (haversine, mean Earth radius 6371008.8 m). */
double geo_haversine_m(double lat1, double lon1, double lat2, double lon2);

struct geo_bbox {
    double min_lat, min_lon, max_lat, max_lon;
};
/* The box enclosing a circle of radius_m around (lat, lon); clamps at the poles and
 * widens to all longitudes there. min_lon > max_lon when it crosses the antimeridian. */
struct geo_bbox geo_bbox_around(double lat, double lon, double radius_m);
/* 1 if the point lies in the box (antimeridian-aware). */
int geo_bbox_contains(const struct geo_bbox *b, double lat, double lon);

/* Geohash of precision 1..12 characters into out (size >= precision + 1).
 * TL_EINVAL on a bad precision or coordinate. */
int geo_geohash_encode(double lat, double lon, int precision, char *out) TL_WUR;
/* Decodes a geohash to the centre of its cell; err_lat and err_lon (may be NULL) get
 * the half-sizes in degrees. TL_EINVAL on a bad character or length. */
int geo_geohash_decode(const char *hash, double *lat, double *lon, double *err_lat,
                       double *err_lon) TL_WUR;

/* "SRID=4326;POINT(lon lat)" for a geography(Point, 4326) column; out of size n
 * (48 is enough). Returns the length written, like snprintf. */
int geo_point_ewkt(double lat, double lon, char *out, size_t n);

/* UTM on WGS84 (Krüger series to n^4; well under a millimetre inside a zone).
 * zone 1..60, north 1/0; easting/northing in metres. TL_EINVAL when out of range. */
int geo_utm_to_latlon(int zone, int north, double easting, double northing, double *lat,
                      double *lon) TL_WUR;
/* One MGRS reference ("37U DQ 12345 67890", "37UDQ1234567890", 0..5 digit pairs,
 * spaces anywhere) to the centre of its square; *size_m (may be NULL) gets the
 * square's side (100000 .. 1 m). TL_EINVAL when it does not parse or fit its band. */
int geo_mgrs_to_latlon(const char *ref, double *lat, double *lon, double *size_m) TL_WUR;
/* A full Open Location Code ("8GVC2G4F+2V") to the centre of its area; *size_m (may be
 * NULL) gets the larger side in metres. TL_EINVAL for short or invalid codes. */
int geo_olc_decode(const char *code, double *lat, double *lon, double *size_m) TL_WUR;
/* A short Plus Code ("8Q7X+FQ": 2, 4 or 6 digits before the '+') made whole with the
 * reference point nearby (the specification's recoverNearest); a full code is decoded
 * as it is. Centre and *size_m (may be NULL) as geo_olc_decode. TL_EINVAL when it does
 * not parse. */
int geo_olc_recover(const char *code, double ref_lat, double ref_lon, double *lat, double *lon,
                    double *size_m) TL_WUR;

#endif
