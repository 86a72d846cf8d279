/* tests/support/geonames_gen.h - GeoNames dump lines written by the tests, the
 * benchmark and the fuzzer's seeds: hand-picked places and synthetic villages. */
#ifndef TL_GEONAMES_GEN_H
#define TL_GEONAMES_GEN_H

#include <stddef.h>
#include <stdio.h>

/* One line of a GeoNames dump (19 tab-separated fields) for a place. alts: the
 * alternatenames field (comma-separated). */
void tl_gn_line(FILE *f, unsigned id, const char *name, const char *ascii, const char *alts,
                double lat, double lon, const char *fclass, const char *fcode, const char *cc,
                const char *admin1, unsigned long pop);

/* The same with a second-level (district) code, as admin2Codes.txt keys it. */
void tl_gn_line_a2(FILE *f, unsigned id, const char *name, const char *alts, double lat, double lon,
                   const char *admin1, const char *admin2, unsigned long pop);

/* n synthetic Ukrainian villages, ids from first_id, the same for the same seed:
 * Ukrainian names made of syllables (Новоберезівка, Зеленодубове...), with their
 * Russian form and two Latin transliterations as alternate names, in random oblasts
 * of Ukraine's box; many names occur several times, as in the real country. When
 * names is not NULL, the first min(n, max_names) Ukrainian names are copied there
 * (each of size 64). */
void tl_gn_villages(FILE *f, size_t n, unsigned first_id, unsigned seed, char (*names)[64],
                    size_t max_names);

#endif
