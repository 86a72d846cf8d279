/* geo/parse_text.h - what the files of the text parser share (parse.c, which runs the
 * passes and builds the result; parse_text.c; parse_grid.c; parse_link.c;
 * parse_words.c): the text, the candidates, the parser's state, the small text helpers
 * (inline: they run on nearly every byte) and what each file gives the others.
 * Internal to geo/. */
#ifndef TL_GEO_PARSE_TEXT_H
#define TL_GEO_PARSE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "geo/geo_int.h"

#define MAX_CAND 64
/* candidates of one shared name kept in a result */
#define MAX_HOMONYMS 32
#define MAX_SPANS 16

struct txt {
    const unsigned char *s;
    size_t n;
};

struct cand {
    struct geo_point p;
    int rank; /* 0 exact coordinates, 1 a map's viewport, 2 a settlement */
};

struct ps {
    const struct geo_ctx *ctx;
    struct txt t;
    struct cand c[MAX_CAND];
    size_t nc;
    size_t span_lo[MAX_SPANS], span_hi[MAX_SPANS];
    size_t nspans;
    int has_bearing;
    double bearing;
    unsigned groups;
    const struct geo_point *near; /* points the reporter sent: settle shared names */
    size_t n_near;
};

/* the axis a label or hemisphere names */
enum { AX_NONE = 0, AX_LAT = 1, AX_LON = 2 };

struct num {
    double v;
    int int_digits, frac_digits;
    size_t end;
};

/* ---------- small text helpers ---------- */

static inline int gp_in_lits(const struct lit *list, size_t n, const char *w, size_t wl)
{
    for (size_t k = 0; k < n; k++)
        if (list[k].n == wl && list[k].s[wl - 1] == w[wl - 1] && memcmp(list[k].s, w, wl) == 0)
            return 1;
    return 0;
}

static inline int gp_prefix_in_lits(const struct lit *list, size_t n, const char *w, size_t wl)
{
    for (size_t k = 0; k < n; k++)
        if (wl >= list[k].n && w[0] == list[k].s[0] && memcmp(list[k].s, w, list[k].n) == 0)
            return 1;
    return 0;
}

static inline int gp_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline int gp_is_alpha_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline unsigned char gp_lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The letter (any script) starting at i, or 0. */
static inline uint32_t gp_letter_at(const struct txt *t, size_t i)
{
    if (i >= t->n)
        return 0;
    size_t adv;
    uint32_t c = geo_u8(t->s, t->n, i, &adv);
    return geo_is_letter(c) ? c : 0;
}

/* Is i at the start of a token (nothing word-like glued before it)? */
static inline int gp_at_boundary(const struct txt *t, size_t i)
{
    if (i == 0)
        return 1;
    unsigned char p = t->s[i - 1];
    if (gp_is_digit(p) || gp_is_alpha_ascii(p) || p == '.' || p == '_' || p == '/')
        return 0;
    if (p >= 0x80) {
        size_t k = i - 1;
        while (k > 0 && (t->s[k] & 0xC0) == 0x80)
            k--;
        return !gp_letter_at(t, k);
    }
    return 1;
}

static inline size_t gp_skip_spaces(const struct txt *t, size_t i)
{
    while (i < t->n && (t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\n' || t->s[i] == '\r'))
        i++;
    if (i + 1 < t->n && t->s[i] == 0xC2 && t->s[i + 1] == 0xA0) /* no-break space */
        return gp_skip_spaces(t, i + 2);
    return i;
}

/* ---------- parse_text.c: numbers, coordinate pairs, the candidate list ---------- */

/* Matches pattern pat (lower-case UTF-8) at i, case-insensitively (' ' any run of
 * spaces, '.' an optional dot), ending at a word boundary: the end, or 0. */
size_t gp_match_pat(const struct txt *t, size_t i, const char *pat);
int gp_read_num(const struct txt *t, size_t i, int allow_comma, struct num *out);
struct cand *gp_add_cand(struct ps *ps, const char *kind, int rank, size_t off, size_t len);
void gp_add_span(struct ps *ps, size_t lo, size_t hi);
size_t gp_past_spans(const struct ps *ps, size_t i);
int gp_add_pair(struct ps *ps, double a, double b, int order, double acc, const char *kind,
                int rank, size_t off, size_t len);
size_t gp_try_pair(struct ps *ps, const struct txt *t, size_t i, int rank, const char *kind,
                   size_t base);

/* ---------- the other passes: the end of what was read at i, 0 for none ---------- */

/* parse_grid.c: an MGRS or UTM reference, a Plus Code. */
size_t gp_try_mgrs(struct ps *ps, size_t i);
size_t gp_try_utm(struct ps *ps, size_t i);
size_t gp_try_olc(struct ps *ps, size_t i);
/* parse_link.c: every map link and geo: URI, their spans marked. */
void gp_scan_links(struct ps *ps);
/* parse_words.c: a bearing of movement and settlement names. */
void gp_scan_words(struct ps *ps);

#endif
