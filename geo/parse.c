/* geo/parse.c - finds places in a citizen's free text.
 *
 * One pass finds links and geo: URIs (their numbers are not read again), a second
 * walks the text for grid references (MGRS, UTM), Plus Codes and coordinate pairs
 * (decimal, DMS, DDM with hemisphere letters, Cyrillic hemisphere words and lat/lon
 * labels), a third reads words: a bearing of movement and settlement names. Every
 * candidate is checked (range, zero, area); the accepted ones come best first. No
 * allocation happens until the result is built, so the common message costs a few
 * microseconds.
 *
 * This file runs the passes and builds the result; the passes live in parse_link.c,
 * parse_grid.c and parse_words.c, what they share in parse_text.c (parse_text.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/parse_text.h"
#include "common/banned.h"

/* ---------- the numeric scan ---------- */

/* The first ASCII digit at or after i, or t->n. Eight bytes at a time: a byte can be a
 * digit only if its high nibble is 3. */
static size_t find_digit(const struct txt *t, size_t i)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (i + 8 <= t->n) {
        uint64_t x;
        memcpy(&x, t->s + i, 8);
        uint64_t y = (x & 0xF0F0F0F0F0F0F0F0ull) ^ 0x3030303030303030ull;
        if (((y - ones) & ~y & highs) == 0) { /* no byte 0x3? here */
            i += 8;
            continue;
        }
        for (size_t k = 0; k < 8; k++)
            if (gp_is_digit(t->s[i + k]))
                return i + k;
        i += 8;
    }
    while (i < t->n && !gp_is_digit(t->s[i]))
        i++;
    return i;
}

static void scan_numbers(struct ps *ps)
{
    const struct txt *t = &ps->t;
    size_t i = 0, next_digit = 0;
    while (i < t->n) {
        size_t sp = gp_past_spans(ps, i);
        if (sp != i) {
            i = sp;
            continue;
        }
        /* every coordinate holds a digit within a few dozen bytes of its start (a label
         * or a hemisphere word comes first at most): skip what has none */
        if (next_digit < i)
            next_digit = find_digit(t, i);
        if (next_digit >= t->n)
            return;
        if (next_digit > i + 48) {
            i = next_digit - 48;
            continue;
        }
        unsigned char c = t->s[i];
        int start = gp_is_digit(c) || c == '-' || c == '+' || c == 'N' || c == 'S' || c == 'E' ||
                    c == 'W' || c == 'l' || c == 'L';
        if (!start && (c == 0xD0 || c == 0xD1 || c == 0xE2) && i + 1 < t->n) {
            /* a Cyrillic label or hemisphere (ш д п с ю в з, either case), or U+2212 */
            unsigned char c1 = t->s[i + 1];
            start = c == 0xE2   ? c1 == 0x88
                    : c == 0xD1 ? (c1 == 0x88 || c1 == 0x81 || c1 == 0x8E)
                                : (c1 == 0xB4 || c1 == 0x94 || c1 == 0xBF || c1 == 0x9F ||
                                   c1 == 0xA1 || c1 == 0xAE || c1 == 0xB2 || c1 == 0x92 ||
                                   c1 == 0xB7 || c1 == 0x97 || c1 == 0xA8);
        }
        if (!start || !gp_at_boundary(t, i)) {
            i++;
            continue;
        }
        size_t e = 0;
        if (gp_is_digit(c)) {
            e = gp_try_mgrs(ps, i);
            if (!e)
                e = gp_try_utm(ps, i);
            if (!e)
                e = gp_try_olc(ps, i);
        }
        if (!e)
            e = gp_try_pair(ps, t, i, 0, NULL, 0);
        if (e) {
            gp_add_span(ps, i, e);
            i = e;
            continue;
        }
        /* skip the rest of this token */
        if (gp_is_digit(c)) {
            while (i < t->n && (gp_is_digit(t->s[i]) || t->s[i] == '.' || t->s[i] == ','))
                i++;
        } else {
            size_t adv;
            (void)geo_u8(t->s, t->n, i, &adv);
            i += adv;
        }
    }
}

/* ---------- result ---------- */

void geo_result_release(struct geo_result *res)
{
    if (!res)
        return;
    free(res->cand); /* rej lies in the same block */
    memset(res, 0, sizeof *res);
}

int geo_parse_text(const struct geo_ctx *ctx, const char *text, size_t len, struct geo_result *out,
                   struct tl_errinfo *ei)
{
    return geo_parse_text_near(ctx, text, len, NULL, 0, out, ei);
}

/* The candidates in a stable order: rank, then position (insertion sort keeps equal
 * keys in place). */
static void sort_cands(struct ps *ps)
{
    for (size_t i = 1; i < ps->nc; i++) {
        struct cand tmp = ps->c[i];
        size_t j = i;
        while (j > 0 && (ps->c[j - 1].rank > tmp.rank ||
                         (ps->c[j - 1].rank == tmp.rank && ps->c[j - 1].p.off > tmp.p.off))) {
            ps->c[j] = ps->c[j - 1];
            j--;
        }
        ps->c[j] = tmp;
    }
}

/* p into out's accepted points unless one of them is the same point (a link and its
 * numbers): the first is kept, with the finer accuracy of the two. */
static void add_unless_dup(struct geo_result *out, const struct geo_point *p)
{
    int dup = 0;
    for (size_t k = 0; k < out->n && !dup; k++) {
        const struct geo_point *q = &out->cand[k];
        if (strcmp(q->kind, "place") == 0 || strcmp(p->kind, "place") == 0)
            continue;
        double lim = q->accuracy_m < p->accuracy_m ? q->accuracy_m : p->accuracy_m;
        lim = lim > 1.0 ? lim : 1.0;
        if (fabs(q->lat - p->lat) * 111000.0 > lim)
            continue; /* a degree of latitude is at least 110.5 km */
        if (geo_haversine_m(q->lat, q->lon, p->lat, p->lon) <= lim) {
            dup = 1;
            if (p->accuracy_m < q->accuracy_m)
                out->cand[k].accuracy_m = p->accuracy_m;
        }
    }
    if (!dup)
        out->cand[out->n++] = *p;
}

/* The first reading of the first group of alternatives (a shared name) that a point of
 * out which is not a place falls in, with the index of its group's first reading in
 * *at: "біля Лиману, 48.98 37.80" keeps the Lyman those numbers fall in. SIZE_MAX when
 * none does. */
static size_t settled_reading(const struct geo_result *out, size_t *at)
{
    for (size_t i = 0; i < out->n; i++) {
        unsigned grp = out->cand[i].alt_group;
        for (size_t k = i; grp && k < out->n; k++) {
            const struct geo_point *q = &out->cand[k];
            for (size_t j = 0; q->alt_group == grp && j < out->n; j++)
                if (strcmp(out->cand[j].kind, "place") != 0 &&
                    geo_haversine_m(q->lat, q->lon, out->cand[j].lat, out->cand[j].lon) <=
                        q->accuracy_m + out->cand[j].accuracy_m) {
                    *at = i;
                    return k;
                }
        }
    }
    return SIZE_MAX;
}

/* Each group of alternatives some point settles keeps only the reading it falls in. */
static void settle_groups(struct geo_result *out)
{
    size_t at, hit;
    while ((hit = settled_reading(out, &at)) != SIZE_MAX) {
        unsigned grp = out->cand[at].alt_group;
        size_t m = 0;
        for (size_t k = 0; k < out->n; k++) {
            if (out->cand[k].alt_group == grp && k != hit)
                continue;
            out->cand[m] = out->cand[k];
            if (k == hit)
                out->cand[m].alt_group = 0;
            m++;
        }
        out->n = m;
    }
}

int geo_parse_text_near(const struct geo_ctx *ctx, const char *text, size_t len,
                        const struct geo_point *near, size_t n_near, struct geo_result *out,
                        struct tl_errinfo *ei)
{
    if (!out)
        return TL_EINVAL;
    memset(out, 0, sizeof *out);
    if (!text && len)
        return tl_errf(ei, TL_EINVAL, "geo_parse_text: NULL text");
    if (len == 0)
        return TL_OK;
    struct ps pss, *ps = &pss; /* about 8 KiB of stack */
    ps->ctx = ctx;
    ps->t.s = (const unsigned char *)text;
    ps->t.n = len;
    ps->nc = 0;
    ps->nspans = 0;
    ps->has_bearing = 0;
    ps->bearing = 0;
    ps->groups = 0;
    ps->near = near;
    ps->n_near = near ? n_near : 0;
    gp_scan_links(ps);
    scan_numbers(ps);
    gp_scan_words(ps);
    out->has_bearing = ps->has_bearing != 0;
    out->bearing_deg = ps->bearing;
    if (ps->nc == 0)
        return TL_OK;
    sort_cands(ps);
    /* one block: accepted points first, rejected ones from its middle */
    out->cand = malloc(2 * ps->nc * sizeof *out->cand);
    if (!out->cand)
        return TL_ENOMEM;
    out->rej = out->cand + ps->nc;
    for (size_t i = 0; i < ps->nc; i++) {
        struct geo_point *p = &ps->c[i].p;
        if (geo_check(ctx, p->lat, p->lon, &p->reject) != TL_OK)
            out->rej[out->n_rej++] = *p;
        else
            add_unless_dup(out, p);
    }
    settle_groups(out);
    for (size_t i = 0; i < out->n; i++)
        if (out->cand[i].alt_group)
            out->ambiguous = 1;
    return TL_OK;
}
