/* web/tiles.c - GET /api/tiles/{z}/{x}/{y}.mvt: Mapbox vector tiles of the confirmed
 * reports (PostGIS ST_AsMVT, storage/schema/export_tile.sql), so that a map of a million
 * reports stays fast in the console and in dashboards. A tile changes only when a
 * decision does: it carries the feeds' ETag and Last-Modified and answers 304 to a
 * revalidation, and clients may keep it a minute. */
#include "web_export.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define TILE_MAX_ZOOM 22

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
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    free(c->resp->body);
    c->resp->status = len ? 200 : 204;
    c->resp->body = (char *)mvt;
    c->resp->len = len;
    c->resp->ctype = "application/vnd.mapbox-vector-tile";
    return TL_OK;
}
