/* tests/fuzz/fuzz_geo_text.c - libFuzzer harness for geo_parse_text: any bytes, with
 * and without a gazetteer and an area. Every accepted point must be a valid coordinate
 * with a positive accuracy and a span inside the input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geo/geo.h"

static struct geo_ctx *ctx;

static const char gaz[] = "Izyum\t49.20875\t37.24849\t53778\t07\tUA\n"
                          "Kharkiv\t49.98081\t36.25272\t1430885\t07\tUA\n"
                          "Kupjansk\t49.71055\t37.61517\t32449\t07\tUA\n"
                          "Kyiv\t50.45466\t30.52380\t2797553\t12\tUA\n"
                          "Nova Kakhovka\t46.75451\t33.34864\t50672\t08\tUA\n"
                          "Lyman\t48.98616\t37.80307\t28200\t05\tUA\n"
                          "Lyman\t49.59769\t36.47030\t4008\t07\tUA\n";
static const char area[] = "{\"type\":\"Polygon\",\"coordinates\":[[[22,44],[41,44],[41,53],"
                           "[22,53],[22,44]]]}";

static void make_ctx(void)
{
    char gp[] = "/tmp/fuzz-geo-gaz-XXXXXX", ap[] = "/tmp/fuzz-geo-area-XXXXXX";
    int g = mkstemp(gp), a = mkstemp(ap);
    if (g < 0 || a < 0 || write(g, gaz, sizeof gaz - 1) < 0 || write(a, area, sizeof area - 1) < 0)
        abort();
    close(g);
    close(a);
    if (geo_ctx_new(ap, gp, &ctx, NULL) != TL_OK)
        abort();
    unlink(gp);
    unlink(ap);
}

static void check(const struct geo_result *r, size_t size)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct geo_point *p = &r->cand[i];
        if (!(fabs(p->lat) <= 90.0) || !(fabs(p->lon) <= 180.0) || !(p->accuracy_m > 0) ||
            p->reject || p->off + p->len > size || !p->source)
            abort();
    }
    for (size_t i = 0; i < r->n_rej; i++)
        if (!r->rej[i].reject)
            abort();
    if (r->has_bearing && !(r->bearing_deg >= 0.0 && r->bearing_deg < 360.0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx)
        make_ctx();
    /* a copy of exactly size bytes on the heap, so ASan sees any read past the end */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    if (size)
        memcpy(buf, data, size);
    struct geo_result r;
    if (geo_parse_text(ctx, buf, size, &r, NULL) == TL_OK)
        check(&r, size);
    geo_result_release(&r);
    if (geo_parse_text(NULL, buf, size, &r, NULL) == TL_OK)
        check(&r, size);
    geo_result_release(&r);
    /* the single-string decoders too */
    if (size < 64) {
        char s[64];
        memcpy(s, buf, size);
        s[size] = '\0';
        double la, lo, sz;
        if (geo_mgrs_to_latlon(s, &la, &lo, &sz) == TL_OK && !(fabs(la) <= 90.0))
            abort();
        if (geo_olc_decode(s, &la, &lo, &sz) == TL_OK && !(fabs(la) <= 90.0))
            abort();
        if (geo_geohash_decode(s, &la, &lo, NULL, NULL) == TL_OK && !(fabs(la) <= 90.0))
            abort();
    }
    free(buf);
    return 0;
}
