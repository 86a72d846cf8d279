/* geo/geo_int.h - what the files of geo/ share; not for other folders. */
#ifndef TL_GEO_INT_H
#define TL_GEO_INT_H

#include <stddef.h>
#include <stdint.h>

#include "geo/geo.h"

/* A string literal with its length, for word lists searched per word. */
struct lit {
    const char *s;
    size_t n;
};
#define L(x)                                                                                       \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
#define NLITS(a) (sizeof(a) / sizeof *(a))

/* Decodes one UTF-8 sequence at s[i] (i < n); *adv gets its length (>= 1).
 * Invalid or truncated bytes decode as U+FFFD, one byte each. */
static inline uint32_t geo_u8(const unsigned char *s, size_t n, size_t i, size_t *adv)
{
    unsigned c = s[i];
    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    size_t need;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
        need = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        need = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        need = 4;
        cp = c & 0x07;
    } else {
        *adv = 1;
        return 0xFFFD;
    }
    if (i + need > n) {
        *adv = 1;
        return 0xFFFD;
    }
    for (size_t k = 1; k < need; k++) {
        unsigned cc = s[i + k];
        if ((cc & 0xC0) != 0x80) {
            *adv = 1;
            return 0xFFFD;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    *adv = need;
    return cp;
}

/* Lower-cases Latin and Cyrillic letters (the rest unchanged). */
static inline uint32_t geo_lower(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    if (c == 0x490)
        return 0x491;
    return c;
}

static inline int geo_is_upper(uint32_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 0x400 && c <= 0x42F) || c == 0x490;
}

static inline int geo_is_cyr(uint32_t c)
{
    return (c >= 0x400 && c <= 0x45F) || c == 0x490 || c == 0x491;
}

static inline int geo_is_letter(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || geo_is_cyr(c) ||
           (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}

/* The latitude range of an MGRS/UTM band letter. TL_EINVAL if not a band. */
int geo_band_lat_range(char band, double *lo, double *hi);

/* --- gazetteer (gaz.c) --- */
struct geo_gaz;

struct geo_place {
    double lat, lon;
    double accuracy_m;
    const char *name;     /* borrowed from the gazetteer */
    const char *oblast;   /* borrowed, "" if unknown */
    const char *district; /* borrowed: the admin2 name ("Izium Raion"), "" if unknown */
    const char *country;
    unsigned ua_adm; /* Ukraine's GeoNames admin1 (oblast) code, 0 elsewhere */
    unsigned long population;
};

int geo_gaz_load(const char *path, struct geo_gaz **out, struct tl_errinfo *ei);
void geo_gaz_free(struct geo_gaz *g);
size_t geo_gaz_count(const struct geo_gaz *g);

/* Looks up one word (or two words given as one span with a space), UTF-8, in any
 * script. maxd: the largest edit distance allowed on the folded key (0 = exact; 2 for a
 * word after a place cue such as "біля", "near"). flags: GEO_GAZ_LOWER: the word was
 * typed in lower case, so it needs a longer stem and matches Ukrainian places only;
 * GEO_GAZ_ASIS: no case endings are tried (a capitalised word opening a sentence).
 * Fills up to max places that tie for the best match, most populous first; returns
 * how many. */
enum { GEO_GAZ_LOWER = 1, GEO_GAZ_ASIS = 2 };
size_t geo_gaz_lookup(const struct geo_gaz *g, const char *w, size_t wlen, int maxd, int flags,
                      struct geo_place *out, size_t max);
/* geo_gaz_lookup restricted to the places of one Ukrainian oblast (ua_adm 1..27; 0: all). */
size_t geo_gaz_lookup_in(const struct geo_gaz *g, const char *w, size_t wlen, int maxd, int flags,
                         unsigned ua_adm, struct geo_place *out, size_t max);
/* Maps the gazetteer's file again (SIGHUP). Lookups in flight finish on the old index,
 * which stays mapped until geo_gaz_free(). On error the old index stays. */
int geo_gaz_reload(struct geo_gaz *g, struct tl_errinfo *ei) TL_WUR;

/* Normalised Latin key of a word for matching (exposed for the tests): transliterates
 * Cyrillic (Ukrainian national system if ukr, else the Russian one), folds
 * transliteration variants. Returns the key length written to out (size n). */
size_t geo_gaz_key(const char *w, size_t wlen, int ukr, char *out, size_t n);

/* Homonyms (homonym.c). Narrows the np places pl[] that the word at s[off..off+len)
 * (of text s[0..n)) matched: to the district and/or the Ukrainian oblast named right
 * after it ("Новоселівка Ізюмського району Харківської області", "Novoselivka, Kharkiv
 * oblast"; the oblast's places looked up again with maxd and flags), then to the one
 * nearest an accepted point of near[] within 150 km. Returns how many are left (np when
 * nothing decides). */
size_t geo_places_settle(const struct geo_gaz *gaz, const unsigned char *s, size_t n, size_t off,
                         size_t len, int maxd, int flags, const struct geo_point *near,
                         size_t n_near, struct geo_place *pl, size_t np);
/* 1 when a district or an oblast is named right after byte from. */
int geo_region_after(const unsigned char *s, size_t n, size_t from);
/* 1 when the lower-cased word low[0..n) puts an event near a place, not in it
 * ("біля", "під", "околиці", "near", "outside"): the place's radius grows by
 * GEO_NEAR_EXTRA_M. */
int geo_distance_cue(const char *low, size_t n);
#define GEO_NEAR_EXTRA_M 5000.0
/* Most candidates one shared name yields (there are Novoselivkas in most oblasts). */
#define GEO_PLACES_MAX 64

/* Short Plus Codes (olcshort.c): the length of a short code ("8Q7X+FQ") written just
 * before or after the name at s[off..off+len), its start in *code_off; 0 when none. */
size_t geo_olc_short_near(const unsigned char *s, size_t n, size_t off, size_t len,
                          size_t *code_off);

/* --- area (ctx.c) --- */
struct geo_area;
int geo_area_load(const char *path, struct geo_area **out, struct tl_errinfo *ei);
void geo_area_free(struct geo_area *a);
int geo_area_contains(const struct geo_area *a, double lat, double lon);

/* The parser's word lists (words.c: place cues, weak cues, words that are no place)
 * as one hash set, built once per context so that each word is classed in one probe. */
#define GEO_WSET 512
struct geo_wordset {
    uint16_t idx[GEO_WSET]; /* 1 + index into the parser's word table, 0 empty */
    uint8_t cls[GEO_WSET];  /* GEO_W_* bits */
};
enum { GEO_W_CUE = 1, GEO_W_WEAK = 2, GEO_W_NOPLACE = 4 };
void geo_wordset_build(struct geo_wordset *ws);
/* GEO_W_* bits of a lower-case word, 0 if in no list. */
unsigned geo_word_class(const struct geo_wordset *ws, const char *w, size_t n);

struct geo_ctx {
    struct geo_area *area;
    struct geo_gaz *gaz;
    struct geo_wordset words;
};

#endif
