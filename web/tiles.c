/* web/tiles.c - GET /api/tiles/{z}/{x}/{y}.mvt: Mapbox vector tiles of the confirmed
 * reports (PostGIS ST_AsMVT, storage/schema/export_tile.sql), so that a map of a million
 * reports stays fast in the console and in dashboards. A tile changes only when a
 * decision does: it carries the feeds' ETag and Last-Modified and answers 304 to a
 * revalidation, and clients may keep it a minute. Each tile served is audited, summed
 * per account, zoom and minute (store_tile_audit): a map fetches dozens per pan. */
#include "web_export.h"
#include "storage/store_export.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define TILE_MAX_ZOOM 22

/* A protobuf varint at *p (below end) into *v; 0, or -1 when truncated. */
static int varint(const unsigned char **p, const unsigned char *end, unsigned long long *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char b = *(*p)++;
        *v |= (unsigned long long)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

/* The count of the fields number field in the protobuf message [p, end) (each one's
 * body handed to inner when set, which adds its own count instead); -1 when malformed. */
static long long pb_count(const unsigned char *p, const unsigned char *end, unsigned field,
                          long long (*inner)(const unsigned char *, const unsigned char *))
{
    long long n = 0;
    while (p < end) {
        unsigned long long key, len;
        if (varint(&p, end, &key))
            return -1;
        switch (key & 7) {
        case 0:
            if (varint(&p, end, &len))
                return -1;
            break;
        case 1:
            if (end - p < 8)
                return -1;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return -1;
            p += 4;
            break;
        case 2:
            if (varint(&p, end, &len) || len > (unsigned long long)(end - p))
                return -1;
            if ((key >> 3) == field) {
                long long k = inner ? inner(p, p + len) : 1;
                if (k < 0)
                    return -1;
                n += k;
            }
            p += len;
            break;
        default:
            return -1;
        }
    }
    return n;
}

/* A layer's features (Layer.features = 2). */
static long long layer_features(const unsigned char *p, const unsigned char *end)
{
    return pb_count(p, end, 2, NULL);
}

int web_h_tile(struct web_call *c)
{
    struct tl_errinfo ei;
    long z, x, y;
    const char *ys = c->path->n > 4 ? c->path->segs[4] : "";
    size_t n = strlen(ys);
    char yb[16];
    if (n < 5 || n - 4 >= sizeof(yb) || strcmp(ys + n - 4, ".mvt") != 0)
        return web_reply_err(c->resp, 404, "not_found", "a tile is /api/tiles/{z}/{x}/{y}.mvt");
    memcpy(yb, ys, n - 4);
    yb[n - 4] = 0;
    if (web_long_parse(c->path->segs[2], 0, TILE_MAX_ZOOM, &z) ||
        web_long_parse(c->path->segs[3], 0, (1L << z) - 1, &x) ||
        web_long_parse(yb, 0, (1L << z) - 1, &y))
        return web_reply_err(c->resp, 404, "not_found",
                             "no such tile: z is 0..22, x and y 0..2^z-1");
    int cached = web_export_cache(c, "tile", "private, max-age=60");
    if (cached)
        return cached > 0 ? TL_OK : TL_ENOMEM;
    unsigned char *mvt = NULL;
    size_t len = 0;
    tl_errinfo_clear(&ei);
    int rc = store_export_tile(c->rs, c->who.account, c->who.round_decimals, (int)z, x, y, &mvt,
                               &len, &ei);
    /* the features of every layer (Tile.layers = 3) */
    long long features = len ? pb_count(mvt, mvt + len, 3, layer_features) : 0;
    if (!rc &&
        (rc = store_tile_audit(c->s, c->who.account, (int)z, features < 0 ? 0 : features, &ei)))
        free(mvt);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    free(c->resp->body);
    c->resp->status = len ? 200 : 204;
    c->resp->body = (char *)mvt;
    c->resp->len = len;
    c->resp->ctype = "application/vnd.mapbox-vector-tile";
    return TL_OK;
}
