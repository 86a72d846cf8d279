/* geo/ctx.c - the context (area of interest + gazetteer), the area's GeoJSON
 * polygons, the checks every point goes through, and points that come as numbers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/util.h"
#include "geo/geo_int.h"
#include "common/banned.h"

struct ring {
    double *xy; /* lon, lat pairs */
    size_t n;
};

struct poly {
    struct ring *r; /* r[0] outer, the rest holes */
    size_t nr;
    double min_lat, min_lon, max_lat, max_lon;
};

#define GRID 128

/* A coarse grid over the area's box: each cell is known to be inside, outside, or
 * crossed by an edge (only those run the polygon test). */
enum { CELL_OUT = 0, CELL_IN = 1, CELL_EDGE = 2 };

struct geo_area {
    struct poly *p;
    size_t np;
    double min_lat, min_lon, max_lat, max_lon;
    double cell_lat, cell_lon;
    unsigned char cell[GRID * GRID];
};

void geo_area_free(struct geo_area *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->np; i++) {
        for (size_t j = 0; j < a->p[i].nr; j++)
            free(a->p[i].r[j].xy);
        free(a->p[i].r);
    }
    free(a->p);
    free(a);
}

static int ring_contains(const struct ring *r, double lat, double lon)
{
    int in = 0;
    for (size_t i = 0, j = r->n - 1; i < r->n; j = i++) {
        double xi = r->xy[2 * i], yi = r->xy[2 * i + 1];
        double xj = r->xy[2 * j], yj = r->xy[2 * j + 1];
        if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static int polys_contain(const struct geo_area *a, double lat, double lon);

static int cell_of(const struct geo_area *a, double lat, double lon, int *r, int *c)
{
    double fr = (lat - a->min_lat) / a->cell_lat, fc = (lon - a->min_lon) / a->cell_lon;
    if (!(fr >= 0 && fc >= 0 && fr < GRID && fc < GRID))
        return 0;
    *r = (int)fr;
    *c = (int)fc;
    return 1;
}

/* Marks the cells every edge passes through (and their neighbours) as CELL_EDGE and
 * classes the others by their centre. */
static void build_grid(struct geo_area *a)
{
    a->min_lat = a->min_lon = 1e9;
    a->max_lat = a->max_lon = -1e9;
    for (size_t i = 0; i < a->np; i++) {
        a->min_lat = fmin(a->min_lat, a->p[i].min_lat);
        a->max_lat = fmax(a->max_lat, a->p[i].max_lat);
        a->min_lon = fmin(a->min_lon, a->p[i].min_lon);
        a->max_lon = fmax(a->max_lon, a->p[i].max_lon);
    }
    a->cell_lat = (a->max_lat - a->min_lat) / GRID + 1e-12;
    a->cell_lon = (a->max_lon - a->min_lon) / GRID + 1e-12;
    memset(a->cell, 0xFF, sizeof a->cell);
    double step = fmin(a->cell_lat, a->cell_lon) / 4.0;
    for (size_t i = 0; i < a->np; i++)
        for (size_t j = 0; j < a->p[i].nr; j++) {
            const struct ring *rg = &a->p[i].r[j];
            for (size_t k = 0; k + 1 < rg->n; k++) {
                double x0 = rg->xy[2 * k], y0 = rg->xy[2 * k + 1];
                double x1 = rg->xy[2 * k + 2], y1 = rg->xy[2 * k + 3];
                double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
                int steps = (int)(len / step) + 1;
                for (int q = 0; q <= steps; q++) {
                    double t = (double)q / steps;
                    int r, c;
                    double la = y0 + (y1 - y0) * t, lo = x0 + (x1 - x0) * t;
                    la = fmin(fmax(la, a->min_lat), a->max_lat - a->cell_lat / 2);
                    lo = fmin(fmax(lo, a->min_lon), a->max_lon - a->cell_lon / 2);
                    if (!cell_of(a, la, lo, &r, &c))
                        continue;
                    for (int dr = -1; dr <= 1; dr++)
                        for (int dc = -1; dc <= 1; dc++)
                            if (r + dr >= 0 && r + dr < GRID && c + dc >= 0 && c + dc < GRID)
                                a->cell[(r + dr) * GRID + c + dc] = CELL_EDGE;
                }
            }
        }
    for (int r = 0; r < GRID; r++)
        for (int c = 0; c < GRID; c++) {
            unsigned char *cl = &a->cell[r * GRID + c];
            if (*cl == CELL_EDGE)
                continue;
            double la = a->min_lat + (r + 0.5) * a->cell_lat;
            double lo = a->min_lon + (c + 0.5) * a->cell_lon;
            *cl = polys_contain(a, la, lo) ? CELL_IN : CELL_OUT;
        }
}

int geo_area_contains(const struct geo_area *a, double lat, double lon)
{
    int r, c;
    if (!cell_of(a, lat, lon, &r, &c))
        return 0;
    unsigned char cl = a->cell[r * GRID + c];
    if (cl != CELL_EDGE)
        return cl == CELL_IN;
    return polys_contain(a, lat, lon);
}

static int polys_contain(const struct geo_area *a, double lat, double lon)
{
    for (size_t i = 0; i < a->np; i++) {
        const struct poly *p = &a->p[i];
        if (lat < p->min_lat || lat > p->max_lat || lon < p->min_lon || lon > p->max_lon)
            continue;
        if (!ring_contains(&p->r[0], lat, lon))
            continue;
        int hole = 0;
        for (size_t j = 1; j < p->nr && !hole; j++)
            hole = ring_contains(&p->r[j], lat, lon);
        if (!hole)
            return 1;
    }
    return 0;
}

/* Appends one Polygon's coordinates (array of rings) to a. */
static int add_polygon(struct geo_area *a, struct json_object *rings, struct tl_errinfo *ei)
{
    if (!json_object_is_type(rings, json_type_array) || json_object_array_length(rings) < 1)
        return tl_errf(ei, TL_EPARSE, "area: a Polygon needs at least one ring");
    struct poly *np = realloc(a->p, (a->np + 1) * sizeof *np);
    if (!np)
        return TL_ENOMEM;
    a->p = np;
    struct poly *p = &a->p[a->np++];
    memset(p, 0, sizeof *p);
    p->min_lat = p->min_lon = 1e9;
    p->max_lat = p->max_lon = -1e9;
    size_t nr = json_object_array_length(rings);
    p->r = calloc(nr, sizeof *p->r);
    if (!p->r)
        return TL_ENOMEM;
    for (size_t i = 0; i < nr; i++) {
        struct json_object *ring = json_object_array_get_idx(rings, i);
        if (!json_object_is_type(ring, json_type_array) || json_object_array_length(ring) < 4)
            return tl_errf(ei, TL_EPARSE, "area: a ring needs at least 4 positions");
        size_t n = json_object_array_length(ring);
        p->r[i].xy = malloc(n * 2 * sizeof(double));
        if (!p->r[i].xy)
            return TL_ENOMEM;
        p->nr = i + 1;
        p->r[i].n = n;
        for (size_t k = 0; k < n; k++) {
            struct json_object *pos = json_object_array_get_idx(ring, k);
            if (!json_object_is_type(pos, json_type_array) || json_object_array_length(pos) < 2)
                return tl_errf(ei, TL_EPARSE, "area: a position needs [lon, lat]");
            struct json_object *x = json_object_array_get_idx(pos, 0);
            struct json_object *y = json_object_array_get_idx(pos, 1);
            if (!(json_object_is_type(x, json_type_double) ||
                  json_object_is_type(x, json_type_int)) ||
                !(json_object_is_type(y, json_type_double) ||
                  json_object_is_type(y, json_type_int)))
                return tl_errf(ei, TL_EPARSE, "area: coordinates must be numbers");
            double lon = json_object_get_double(x), lat = json_object_get_double(y);
            if (!(fabs(lat) <= 90.0 && fabs(lon) <= 180.0))
                return tl_errf(ei, TL_EPARSE, "area: position out of range");
            p->r[i].xy[2 * k] = lon;
            p->r[i].xy[2 * k + 1] = lat;
            if (i == 0) {
                p->min_lat = fmin(p->min_lat, lat);
                p->max_lat = fmax(p->max_lat, lat);
                p->min_lon = fmin(p->min_lon, lon);
                p->max_lon = fmax(p->max_lon, lon);
            }
        }
    }
    return TL_OK;
}

static int add_geometry(struct geo_area *a, struct json_object *o, int depth, struct tl_errinfo *ei)
{
    struct json_object *type, *v;
    if (depth > 4 || !json_object_object_get_ex(o, "type", &type) ||
        !json_object_is_type(type, json_type_string))
        return tl_errf(ei, TL_EPARSE, "area: GeoJSON object without a type");
    const char *t = json_object_get_string(type);
    if (strcmp(t, "FeatureCollection") == 0) {
        if (!json_object_object_get_ex(o, "features", &v) ||
            !json_object_is_type(v, json_type_array))
            return tl_errf(ei, TL_EPARSE, "area: FeatureCollection without features");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            int rc = add_geometry(a, json_object_array_get_idx(v, i), depth + 1, ei);
            if (rc != TL_OK)
                return rc;
        }
        return TL_OK;
    }
    if (strcmp(t, "Feature") == 0) {
        if (!json_object_object_get_ex(o, "geometry", &v) || !v)
            return tl_errf(ei, TL_EPARSE, "area: Feature without geometry");
        return add_geometry(a, v, depth + 1, ei);
    }
    if (!json_object_object_get_ex(o, "coordinates", &v))
        return tl_errf(ei, TL_EPARSE, "area: geometry without coordinates");
    if (strcmp(t, "Polygon") == 0)
        return add_polygon(a, v, ei);
    if (strcmp(t, "MultiPolygon") == 0) {
        if (!json_object_is_type(v, json_type_array))
            return tl_errf(ei, TL_EPARSE, "area: MultiPolygon coordinates must be an array");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            int rc = add_polygon(a, json_object_array_get_idx(v, i), ei);
            if (rc != TL_OK)
                return rc;
        }
        return TL_OK;
    }
    return tl_errf(ei, TL_EUNSUPPORTED, "area: geometry type %s is not a (Multi)Polygon", t);
}

int geo_area_load(const char *path, struct geo_area **out, struct tl_errinfo *ei)
{
    char *buf = NULL;
    size_t len;
    struct json_object *root = NULL;
    struct geo_area *a = NULL;
    int rc;
    *out = NULL;
    rc = tl_read_file(path, (size_t)64 << 20, &buf, &len);
    if (rc != TL_OK) {
        rc = tl_errf(ei, rc, "area %s: cannot read", path);
        goto out;
    }
    enum json_tokener_error jerr;
    root = json_tokener_parse_verbose(buf, &jerr);
    if (!root) {
        rc = tl_errf(ei, TL_EPARSE, "area %s: %s", path, json_tokener_error_desc(jerr));
        goto out;
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        rc = TL_ENOMEM;
        goto out;
    }
    rc = add_geometry(a, root, 0, ei);
    if (rc != TL_OK)
        goto out;
    if (a->np == 0) {
        rc = tl_errf(ei, TL_EPARSE, "area %s: no polygon", path);
        goto out;
    }
    build_grid(a);
    *out = a;
    a = NULL;
out:
    geo_area_free(a);
    json_object_put(root);
    free(buf);
    return rc;
}

int geo_ctx_new(const char *area_file, const char *gazetteer_file, struct geo_ctx **out,
                struct tl_errinfo *ei)
{
    struct geo_ctx *c = NULL;
    int rc = TL_OK;
    if (!out)
        return TL_EINVAL;
    *out = NULL;
    c = calloc(1, sizeof *c);
    if (!c)
        return TL_ENOMEM;
    geo_wordset_build(&c->words);
    if (area_file && (rc = geo_area_load(area_file, &c->area, ei)) != TL_OK)
        goto out;
    if (gazetteer_file && (rc = geo_gaz_load(gazetteer_file, &c->gaz, ei)) != TL_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    geo_ctx_free(c);
    return rc;
}

void geo_ctx_free(struct geo_ctx *ctx)
{
    if (!ctx)
        return;
    geo_area_free(ctx->area);
    geo_gaz_free(ctx->gaz);
    free(ctx);
}

size_t geo_ctx_places(const struct geo_ctx *ctx)
{
    return ctx ? geo_gaz_count(ctx->gaz) : 0;
}

int geo_in_area(const struct geo_ctx *ctx, double lat, double lon)
{
    if (!ctx || !ctx->area)
        return 1;
    return geo_area_contains(ctx->area, lat, lon);
}

int geo_check(const struct geo_ctx *ctx, double lat, double lon, const char **reason)
{
    const char *r = NULL;
    if (!(fabs(lat) <= 90.0) || !(fabs(lon) <= 180.0))
        r = GEO_REASON_OUT_OF_RANGE;
    else if (fabs(lat) < 1e-9 && fabs(lon) < 1e-9)
        r = GEO_REASON_ZERO;
    else if (!geo_in_area(ctx, lat, lon))
        r = GEO_REASON_OUTSIDE_AREA;
    if (reason)
        *reason = r;
    return r ? TL_EINVAL : TL_OK;
}

/* Defaults when a source gives no accuracy: Telegram's own location sharing is a
 * phone fix; a venue is a building-to-block sized place; EXIF GPS is a fix too. */
static double default_accuracy(const char *source)
{
    if (!source)
        return 1000.0;
    if (strcmp(source, GEO_SRC_VENUE) == 0)
        return 100.0;
    if (strcmp(source, GEO_SRC_TEXT) == 0)
        return 1000.0;
    return 50.0;
}

static const char *canonical_source(const char *source)
{
    static const char *const all[] = {GEO_SRC_TELEGRAM_LOCATION, GEO_SRC_VENUE,
                                      GEO_SRC_LIVE_LOCATION, GEO_SRC_PHOTO_EXIF, GEO_SRC_TEXT};
    for (size_t i = 0; source && i < sizeof all / sizeof *all; i++)
        if (strcmp(source, all[i]) == 0)
            return all[i];
    return NULL;
}

int geo_point_make(const struct geo_ctx *ctx, double lat, double lon, double accuracy_m,
                   const char *source, struct geo_point *out)
{
    const char *src = canonical_source(source);
    if (!out)
        return TL_EINVAL;
    memset(out, 0, sizeof *out);
    if (!src)
        return TL_EINVAL;
    out->lat = lat;
    out->lon = lon;
    out->source = src;
    out->accuracy_m = accuracy_m > 0 && isfinite(accuracy_m) ? accuracy_m : default_accuracy(src);
    return geo_check(ctx, lat, lon, &out->reject);
}

int geo_disagree(const struct geo_point *a, const struct geo_point *b, double threshold_m)
{
    if (!a || !b)
        return 0;
    double d = geo_haversine_m(a->lat, a->lon, b->lat, b->lon);
    return d > threshold_m + a->accuracy_m + b->accuracy_m;
}
