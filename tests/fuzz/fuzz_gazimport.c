/* tests/fuzz/fuzz_gazimport.c - libFuzzer harness for the gazetteer import and index:
 * any bytes as a GeoNames dump (every line either kept, filtered or counted as
 * malformed; the index built from it must validate and answer lookups), and the same
 * bytes as an index file (a damaged file is refused, never read past its end). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo/gaz_int.h"
#include "geo/geo.h"
#include "geo/geo_int.h"

static const char *const words[] = {"Харкові",      "новоселівкою", "Kupiansk",
                                    "Кам'янського", "Нова Каховка", "Izyum"};

static void lookups(const struct geo_gaz *g)
{
    struct geo_place pl[GEO_PLACES_MAX];
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = geo_gaz_lookup(g, words[i], strlen(words[i]), 2, 0, pl, GEO_PLACES_MAX);
        for (size_t k = 0; k < n; k++)
            if (!(pl[k].lat >= -90 && pl[k].lat <= 90) || strlen(pl[k].name) > 1 << 20)
                abort();
        (void)geo_gaz_lookup_in(g, words[i], strlen(words[i]), 1, GEO_GAZ_LOWER, 7, pl, 4);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *img;
    size_t len;
    struct geo_import_stats st;
    if (geo_gazetteer_import_mem((const char *)data, size, size % 2 ? "UA" : "", &img, &len, &st,
                                 NULL) == TL_OK) {
        if (st.places + st.malformed + st.filtered != st.lines)
            abort();
        struct geo_gaz *g;
        if (geo_gaz_from_image(img, len, &g, NULL) != TL_OK)
            abort(); /* what the builder writes must validate */
        if (geo_gaz_count(g) != st.places)
            abort();
        lookups(g);
        geo_gaz_free(g);
    }
    /* the bytes as an index: aligned heap copy */
    if (size >= 8 && memcmp(data, GZ_MAGIC, 8) == 0) {
        unsigned char *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        struct geo_gaz *g;
        if (geo_gaz_from_image(copy, size, &g, NULL) == TL_OK) {
            lookups(g);
            geo_gaz_free(g);
        }
    }
    return 0;
}
