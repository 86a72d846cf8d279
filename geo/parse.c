/* geo/parse.c - finds places in a citizen's free text.
 *
 * One pass finds links and geo: URIs (their numbers are not read again), a second
 * walks the text for grid references (MGRS, UTM), Plus Codes and coordinate pairs
 * (decimal, DMS, DDM with hemisphere letters, Cyrillic hemisphere words and lat/lon
 * labels), a third reads words: a bearing of movement and settlement names. Every
 * candidate is checked (range, zero, area); the accepted ones come best first. No
 * allocation happens until the result is built, so the common message costs a few
 * microseconds. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/geo_int.h"
#include "common/banned.h"

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

/* ---------- small text helpers ---------- */

static int in_lits(const struct lit *list, size_t n, const char *w, size_t wl)
{
    for (size_t k = 0; k < n; k++)
        if (list[k].n == wl && list[k].s[wl - 1] == w[wl - 1] && memcmp(list[k].s, w, wl) == 0)
            return 1;
    return 0;
}

static int prefix_in_lits(const struct lit *list, size_t n, const char *w, size_t wl)
{
    for (size_t k = 0; k < n; k++)
        if (wl >= list[k].n && w[0] == list[k].s[0] && memcmp(list[k].s, w, list[k].n) == 0)
            return 1;
    return 0;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha_ascii(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* The letter (any script) starting at i, or 0. */
static uint32_t letter_at(const struct txt *t, size_t i)
{
    if (i >= t->n)
        return 0;
    size_t adv;
    uint32_t c = geo_u8(t->s, t->n, i, &adv);
    return geo_is_letter(c) ? c : 0;
}

/* Is i at the start of a token (nothing word-like glued before it)? */
static int at_boundary(const struct txt *t, size_t i)
{
    if (i == 0)
        return 1;
    unsigned char p = t->s[i - 1];
    if (is_digit(p) || is_alpha_ascii(p) || p == '.' || p == '_' || p == '/')
        return 0;
    if (p >= 0x80) {
        size_t k = i - 1;
        while (k > 0 && (t->s[k] & 0xC0) == 0x80)
            k--;
        return !letter_at(t, k);
    }
    return 1;
}

static size_t skip_spaces(const struct txt *t, size_t i)
{
    while (i < t->n && (t->s[i] == ' ' || t->s[i] == '\t' || t->s[i] == '\n' || t->s[i] == '\r'))
        i++;
    if (i + 1 < t->n && t->s[i] == 0xC2 && t->s[i + 1] == 0xA0) /* no-break space */
        return skip_spaces(t, i + 2);
    return i;
}

/* Matches pattern pat (lower-case UTF-8) at i, case-insensitively. In pat, ' ' matches
 * any run of spaces (or none) and '.' an optional dot. The match must end at a word
 * boundary. Returns the end, or 0. */
static size_t match_pat(const struct txt *t, size_t i, const char *pat)
{
    const unsigned char *p = (const unsigned char *)pat;
    size_t pn = strlen(pat), pi = 0;
    while (pi < pn) {
        if (p[pi] == ' ') {
            while (i < t->n && t->s[i] == ' ')
                i++;
            pi++;
            continue;
        }
        if (p[pi] == '.') {
            if (i < t->n && t->s[i] == '.')
                i++;
            pi++;
            continue;
        }
        if (i >= t->n)
            return 0;
        size_t a1, a2;
        uint32_t c1 = geo_lower(geo_u8(t->s, t->n, i, &a1));
        uint32_t c2 = geo_u8(p, pn, pi, &a2);
        if (c1 != c2)
            return 0;
        i += a1;
        pi += a2;
    }
    if (letter_at(t, i))
        return 0;
    return i;
}

/* ---------- numbers ---------- */

struct num {
    double v;
    int int_digits, frac_digits;
    size_t end;
};

/* Reads digits [ (.|,) digits ] at i. A second decimal separator followed by a digit
 * (a date 12.05.2024, a thousands group 1,234,567) makes it no number at all. */
static int read_num(const struct txt *t, size_t i, int allow_comma, struct num *out)
{
    size_t j = i;
    double v = 0;
    int id = 0, fd = 0;
    while (j < t->n && is_digit(t->s[j]) && id < 12) {
        v = v * 10 + (t->s[j] - '0');
        j++;
        id++;
    }
    if (id == 0 || (j < t->n && is_digit(t->s[j])))
        return 0;
    if (j + 1 < t->n && (t->s[j] == '.' || (allow_comma && t->s[j] == ',')) &&
        is_digit(t->s[j + 1])) {
        char sep = (char)t->s[j];
        j++;
        double scale = 0.1;
        while (j < t->n && is_digit(t->s[j])) {
            if (fd < 15) {
                v += (t->s[j] - '0') * scale;
                scale /= 10;
            }
            fd++;
            j++;
        }
        if (j + 1 < t->n && t->s[j] == sep && is_digit(t->s[j + 1]))
            return 0;
        if (sep == ',' && j + 1 < t->n && t->s[j] == '.' && is_digit(t->s[j + 1]))
            return 0;
    }
    int metres = j + 1 < t->n && t->s[j] == 'm' && (t->s[j + 1] == 'E' || t->s[j + 1] == 'N');
    if (j < t->n && !metres && is_alpha_ascii(t->s[j]) && t->s[j] != 'N' && t->s[j] != 'S' &&
        t->s[j] != 'E' && t->s[j] != 'W' && t->s[j] != 'n' && t->s[j] != 's' && t->s[j] != 'e' &&
        t->s[j] != 'w')
        return 0; /* 12km, 3rd: a quantity, not a coordinate */
    out->v = v;
    out->int_digits = id;
    out->frac_digits = fd;
    out->end = j;
    return 1;
}

/* ---------- hemispheres, labels, degree marks ---------- */

enum { AX_NONE = 0, AX_LAT = 1, AX_LON = 2 };

struct hemi_word {
    const char *pat;
    int axis, neg;
};

static const struct hemi_word hemi_words[] = {
    {"пн. ш.", AX_LAT, 0},
    {"півн. ш.", AX_LAT, 0},
    {"північної широти", AX_LAT, 0},
    {"с. ш.", AX_LAT, 0},
    {"северной широты", AX_LAT, 0},
    {"пд. ш.", AX_LAT, 1},
    {"півд. ш.", AX_LAT, 1},
    {"південної широти", AX_LAT, 1},
    {"ю. ш.", AX_LAT, 1},
    {"южной широты", AX_LAT, 1},
    {"сх. д.", AX_LON, 0},
    {"східної довготи", AX_LON, 0},
    {"в. д.", AX_LON, 0},
    {"восточной долготы", AX_LON, 0},
    {"зх. д.", AX_LON, 1},
    {"зах. д.", AX_LON, 1},
    {"західної довготи", AX_LON, 1},
    {"з. д.", AX_LON, 1},
    {"западной долготы", AX_LON, 1},
    {"north", AX_LAT, 0},
    {"south", AX_LAT, 1},
    {"east", AX_LON, 0},
    {"west", AX_LON, 1},
};

/* A hemisphere at i: a letter N/S/E/W (upper case, or lower case glued to the
 * number when glued is set) or a word. Returns its end or 0. */
static size_t read_hemi(const struct txt *t, size_t i, int glued, int *axis, int *neg)
{
    if (i >= t->n)
        return 0;
    unsigned char c = t->s[i];
    unsigned char u = (unsigned char)(c & ~0x20);
    if ((u == 'N' || u == 'S' || u == 'E' || u == 'W') && (c == u || glued) &&
        !letter_at(t, i + 1)) {
        *axis = (u == 'N' || u == 'S') ? AX_LAT : AX_LON;
        *neg = (u == 'S' || u == 'W');
        return i + 1;
    }
    if (!(c >= 0x80 || is_alpha_ascii(c)))
        return 0;
    size_t a1, a2;
    uint32_t first = geo_lower(geo_u8(t->s, t->n, i, &a1));
    /* п с ю в з, n s e w: the first letters of hemi_words[] */
    if (!(first == 0x43F || first == 0x441 || first == 0x44E || first == 0x432 || first == 0x437 ||
          first == 'n' || first == 's' || first == 'e' || first == 'w'))
        return 0;
    for (size_t k = 0; k < sizeof hemi_words / sizeof *hemi_words; k++) {
        const char *pat = hemi_words[k].pat;
        if (geo_u8((const unsigned char *)pat, 8, 0, &a2) != first)
            continue;
        size_t e = match_pat(t, i, pat);
        if (e) {
            *axis = hemi_words[k].axis;
            *neg = hemi_words[k].neg;
            return e;
        }
    }
    return 0;
}

static const struct hemi_word labels[] = {
    {"latitude", AX_LAT, 0},  {"lat", AX_LAT, 0},     {"широта", AX_LAT, 0}, {"шир.", AX_LAT, 0},
    {"longitude", AX_LON, 0}, {"long", AX_LON, 0},    {"lon", AX_LON, 0},    {"lng", AX_LON, 0},
    {"довгота", AX_LON, 0},   {"долгота", AX_LON, 0}, {"довг.", AX_LON, 0},  {"дол.", AX_LON, 0},
};

/* A label "lat:", "довгота =" ... at i: returns where the number may start, or 0. */
static size_t read_label(const struct txt *t, size_t i, int *axis)
{
    if (i >= t->n || !(t->s[i] >= 0x80 || is_alpha_ascii(t->s[i])))
        return 0;
    size_t a1, a2;
    uint32_t first = geo_lower(geo_u8(t->s, t->n, i, &a1));
    if (!(first == 'l' || first == 0x448 || first == 0x434)) /* l ш д */
        return 0;
    for (size_t k = 0; k < sizeof labels / sizeof *labels; k++) {
        const char *pat = labels[k].pat;
        if (geo_u8((const unsigned char *)pat, 8, 0, &a2) != first)
            continue;
        size_t e = match_pat(t, i, pat);
        if (!e)
            continue;
        /* "lon, lat:", "lat/lon =": a pair of labels gives the order of two numbers */
        size_t e2 = skip_spaces(t, e);
        if (e2 < t->n && (t->s[e2] == ',' || t->s[e2] == '/' || t->s[e2] == ';'))
            e2 = skip_spaces(t, e2 + 1);
        for (size_t q = 0; q < sizeof labels / sizeof *labels; q++) {
            size_t e3;
            if (labels[q].axis != labels[k].axis && (e3 = match_pat(t, e2, labels[q].pat))) {
                e = e3;
                break;
            }
        }
        e = skip_spaces(t, e);
        if (e < t->n && (t->s[e] == ':' || t->s[e] == '='))
            e = skip_spaces(t, e + 1);
        *axis = labels[k].axis;
        return e;
    }
    return 0;
}

/* Degree, minute, second marks. Returns the end or 0. */
static size_t read_mark_at(const struct txt *t, size_t i, int which, int words_only)
{
    static const char *const deg[] = {"\xC2\xB0", "\xC2\xBA", "\xCB\x9A", "deg", "град", "гр."};
    static const char *const min[] = {
        "'", "\xE2\x80\xB2", "\xE2\x80\x99", "\xC2\xB4", "\xE2\x80\x98", "хв", "мин", "min"};
    static const char *const sec[] = {"\"",
                                      "\xE2\x80\xB3",
                                      "''",
                                      "\xE2\x80\x9D",
                                      "\xE2\x80\x9C",
                                      "\xE2\x80\x99\xE2\x80\x99",
                                      "\xE2\x80\xB2\xE2\x80\xB2",
                                      "сек",
                                      "sec"};
    const char *const *set = which == 0 ? deg : which == 1 ? min : sec;
    size_t n = which == 0 ? 6 : which == 1 ? 8 : 9;
    /* longest first among the seconds' doubled marks */
    if (which == 2 && !words_only) {
        for (size_t k = 5; k <= 6; k++) {
            size_t l = strlen(set[k]);
            if (i + l <= t->n && memcmp(t->s + i, set[k], l) == 0)
                return i + l;
        }
        if (i + 2 <= t->n && t->s[i] == '\'' && t->s[i + 1] == '\'')
            return i + 2;
    }
    for (size_t k = 0; k < n; k++) {
        size_t l = strlen(set[k]);
        if (i + l > t->n || memcmp(t->s + i, set[k], l) != 0)
            continue;
        int word = is_alpha_ascii((unsigned char)set[k][0]) || (unsigned char)set[k][0] == 0xD0 ||
                   (unsigned char)set[k][0] == 0xD1;
        if (words_only && !word)
            continue;
        if (word) {
            size_t e = i + l;
            while (e < t->n && t->s[e] == '.')
                e++;
            if (letter_at(t, e))
                continue;
            return e;
        }
        /* a lone ' before another ' is a seconds mark, not minutes */
        if (which == 1 && set[k][0] == '\'' && i + 1 < t->n && t->s[i + 1] == '\'')
            return 0;
        return i + l;
    }
    return 0;
}

/* A mark at i, or a word mark after one space ("48 град 35 мин"). */
static size_t read_mark(const struct txt *t, size_t i, int which)
{
    size_t e = read_mark_at(t, i, which, 0);
    if (!e && i + 1 < t->n && t->s[i] == ' ' &&
        (is_alpha_ascii(t->s[i + 1]) || t->s[i + 1] >= 0xD0))
        e = read_mark_at(t, i + 1, which, 1);
    return e;
}

/* ---------- one coordinate component ---------- */

struct comp {
    size_t start, end;
    double val;  /* signed degrees */
    double step; /* resolution in degrees */
    int axis;    /* AX_* from a hemisphere or a label */
    int hemi, label, marked, sexa;
    int int_digits, frac_digits;
};

static int read_comp(const struct txt *t, size_t i, int allow_spaced, struct comp *c)
{
    memset(c, 0, sizeof *c);
    c->start = i;
    size_t j = i;
    int ax = AX_NONE, neg = 0, hax = AX_NONE, hneg = 0;
    size_t e = read_label(t, j, &ax);
    if (e) {
        c->label = 1;
        c->axis = ax;
        j = e;
    }
    e = read_hemi(t, j, 0, &hax, &hneg);
    if (e) {
        size_t k = skip_spaces(t, e);
        if (k < t->n && (t->s[k] == ':'))
            k = skip_spaces(t, k + 1);
        if (k < t->n && (is_digit(t->s[k]) || t->s[k] == '-' || t->s[k] == '+')) {
            c->hemi = 1;
            j = k;
        } else {
            hax = AX_NONE;
        }
    }
    if (j < t->n && (t->s[j] == '-' || t->s[j] == '+')) {
        neg = t->s[j] == '-';
        j++;
    } else if (j + 2 < t->n && t->s[j] == 0xE2 && t->s[j + 1] == 0x88 && t->s[j + 2] == 0x92) {
        neg = 1; /* U+2212 minus */
        j += 3;
    }
    struct num d;
    if (!read_num(t, j, 1, &d) || d.int_digits > 3)
        return 0;
    c->int_digits = d.int_digits;
    c->frac_digits = d.frac_digits;
    double val = d.v, step = pow(10.0, -d.frac_digits);
    j = d.end;
    size_t k = j;
    while (k < t->n && t->s[k] == ' ')
        k++;
    size_t m = read_mark(t, k, 0);
    int spaced = 0;
    if (m) {
        c->marked = 1;
        j = m;
    }
    if (d.frac_digits == 0) {
        /* minutes: after a degree mark, or (spaced) after one space */
        size_t k2 = skip_spaces(t, j);
        struct num mn;
        int ok_pos = c->marked || (allow_spaced && k2 == j + 1 && t->s[j] == ' ');
        if (ok_pos && read_num(t, k2, 1, &mn) && mn.int_digits <= 2 && mn.v < 60.0) {
            size_t mm = read_mark(t, mn.end, 1);
            if (!mm && !c->marked)
                spaced = 1;
            if (mm || spaced) {
                val += mn.v / 60.0;
                step = pow(10.0, -mn.frac_digits) / 60.0;
                j = mm ? mm : mn.end;
                c->sexa = 1;
                if (mn.frac_digits == 0) {
                    size_t k3 = skip_spaces(t, j);
                    struct num sc;
                    int sec_pos = mm || (k3 == j + 1 && t->s[j] == ' ');
                    if (sec_pos && read_num(t, k3, 1, &sc) && sc.int_digits <= 2 && sc.v < 60.0) {
                        size_t ms = read_mark(t, sc.end, 2);
                        if (ms || spaced) {
                            val += sc.v / 3600.0;
                            step = pow(10.0, -sc.frac_digits) / 3600.0;
                            j = ms ? ms : sc.end;
                            c->sexa = 2;
                        }
                    }
                }
            }
        }
    }
    /* a hemisphere after the number */
    if (!c->hemi) {
        size_t k4 = j;
        while (k4 < t->n && t->s[k4] == ' ')
            k4++;
        e = read_hemi(t, k4, k4 == j, &hax, &hneg);
        if (e) {
            c->hemi = 1;
            j = e;
        }
    }
    if (spaced && !c->hemi)
        return read_comp(t, i, 0, c); /* "50 27 00" without a hemisphere is no DMS */
    if (c->hemi) {
        if (c->label && c->axis != hax)
            return 0;
        c->axis = hax;
        if (hneg)
            neg = !neg;
    }
    if (c->sexa)
        c->marked = 1;
    c->val = neg ? -val : val;
    c->step = step;
    c->end = j;
    return 1;
}

/* ---------- candidates ---------- */

static struct cand *add_cand(struct ps *ps, const char *kind, int rank, size_t off, size_t len)
{
    if (ps->nc >= MAX_CAND)
        return NULL;
    struct cand *c = &ps->c[ps->nc++];
    memset(&c->p, 0, sizeof c->p);
    c->rank = rank;
    c->p.source = GEO_SRC_TEXT;
    tl_strlcpy(c->p.kind, kind, sizeof c->p.kind);
    c->p.off = off;
    c->p.len = len;
    return c;
}

static void add_span(struct ps *ps, size_t lo, size_t hi)
{
    if (ps->nspans < MAX_SPANS) {
        ps->span_lo[ps->nspans] = lo;
        ps->span_hi[ps->nspans] = hi;
        ps->nspans++;
    }
}

/* If i lies in a consumed span, returns the span's end, else i. */
static size_t past_spans(const struct ps *ps, size_t i)
{
    for (size_t k = 0; k < ps->nspans; k++)
        if (i >= ps->span_lo[k] && i < ps->span_hi[k])
            return ps->span_hi[k];
    return i;
}

/* Decides the order of two numbers (a first) and adds the pair. Returns 1 if added. */
static int add_pair(struct ps *ps, double a, double b, int order, double acc, const char *kind,
                    int rank, size_t off, size_t len)
{
    double lat = a, lon = b;
    int swapped = 0, possible = 0;
    if (order == AX_LON) {
        lat = b;
        lon = a;
    } else if (order == AX_NONE) {
        if (fabs(a) > 90.0 && fabs(b) <= 90.0) {
            lat = b;
            lon = a;
            swapped = 1;
        } else if (fabs(a) <= 90.0 && fabs(b) <= 90.0 && fabs(a - b) > 1e-9) {
            possible = 1;
            if (!geo_in_area(ps->ctx, a, b) && geo_in_area(ps->ctx, b, a)) {
                lat = b;
                lon = a;
                swapped = 1;
            }
        }
    }
    struct cand *c = add_cand(ps, kind, rank + (swapped ? 1 : 0), off, len);
    if (!c)
        return 0;
    c->p.lat = lat;
    c->p.lon = lon;
    c->p.accuracy_m = acc;
    c->p.swapped = swapped;
    c->p.swapped_possible = possible;
    return 1;
}

static double step_to_m(double step_deg)
{
    double m = step_deg * 111320.0 / 2.0;
    return m < 1.0 ? 1.0 : m;
}

/* Looks back from off for an ordering cue: "lon, lat", "lng/lat", "довгота, широта". */
static int order_cue(const struct txt *t, size_t off)
{
    size_t lo = off > 40 ? off - 40 : 0;
    long lat_at = -1, lon_at = -1;
    for (size_t i = lo; i < off; i++) {
        unsigned char c = lc(t->s[i]);
        if (i + 3 <= off && c == 'l') {
            if (lc(t->s[i + 1]) == 'a' && lc(t->s[i + 2]) == 't')
                lat_at = (long)i;
            if ((lc(t->s[i + 1]) == 'o' && lc(t->s[i + 2]) == 'n') ||
                (lc(t->s[i + 1]) == 'n' && lc(t->s[i + 2]) == 'g'))
                lon_at = (long)i;
        }
        if (c == 0xD1 || c == 0xD0) {
            struct txt w = {t->s + i, off - i};
            if (match_pat(&w, 0, "широт") || (w.n >= 10 && memcmp(w.s, "широт", 10) == 0))
                lat_at = (long)i;
            if ((w.n >= 12 && memcmp(w.s, "довгот", 12) == 0) ||
                (w.n >= 12 && memcmp(w.s, "долгот", 12) == 0))
                lon_at = (long)i;
        }
    }
    if (lat_at >= 0 && lon_at >= 0)
        return lon_at < lat_at ? AX_LON : AX_LAT;
    return AX_NONE;
}

/* Two components in a row at i: a coordinate pair. Returns its end, or 0. */
static size_t try_pair(struct ps *ps, const struct txt *t, size_t i, int rank, const char *kind,
                       size_t base)
{
    struct comp a, b;
    if (!read_comp(t, i, 1, &a))
        return 0;
    size_t j = a.end;
    size_t lim = j + 12;
    while (j < t->n && j < lim &&
           (t->s[j] == ' ' || t->s[j] == ',' || t->s[j] == ';' || t->s[j] == '/' ||
            t->s[j] == '|' || t->s[j] == '\n' || t->s[j] == '\t' || t->s[j] == '\r'))
        j++;
    if (j < t->n && j + 4 <= lim + 4 && match_pat(t, j, "and"))
        j = skip_spaces(t, j + 3);
    else if (j < t->n && match_pat(t, j, "та"))
        j = skip_spaces(t, j + 4);
    if (j == a.end && !a.hemi)
        return 0;
    if (!read_comp(t, j, 1, &b))
        return 0;
    int strong_a = a.hemi || a.label || a.marked, strong_b = b.hemi || b.label || b.marked;
    if (!strong_a && !strong_b) {
        if (a.frac_digits < 2 || b.frac_digits < 2)
            return 0;
    }
    if (a.axis != AX_NONE && a.axis == b.axis)
        return 0;
    int order = AX_NONE;
    if (a.axis == AX_LAT || b.axis == AX_LON)
        order = AX_LAT;
    else if (a.axis == AX_LON || b.axis == AX_LAT)
        order = AX_LON;
    else if (kind)
        order = AX_LAT; /* map links write latitude first */
    else
        order = order_cue(t, i);
    double step = a.step > b.step ? a.step : b.step;
    const char *k = kind ? kind : ((a.sexa || b.sexa) ? "dms" : "decimal");
    double acc = step_to_m(step);
    if (kind && rank == 0 && acc < 10.0)
        acc = 10.0; /* a pin on a map */
    add_pair(ps, a.val, b.val, order, acc, k, rank, base + i, b.end - i);
    return b.end;
}

/* ---------- grid references ---------- */

static int is_band(unsigned char c)
{
    c = (unsigned char)(c & ~0x20);
    return c >= 'C' && c <= 'X' && c != 'I' && c != 'O';
}

/* MGRS at i: "37U DQ 12345 67890", "37UDQ1234567890", "37U DQ". Returns end or 0. */
static size_t try_mgrs(struct ps *ps, size_t i)
{
    const struct txt *t = &ps->t;
    char ref[24];
    size_t k = 0, j = i;
    while (j < t->n && is_digit(t->s[j]) && j - i < 2)
        ref[k++] = (char)t->s[j++];
    if (k == 0 || (j < t->n && is_digit(t->s[j])))
        return 0;
    if (j < t->n && t->s[j] == ' ')
        j++;
    if (j >= t->n || !is_band(t->s[j]))
        return 0;
    ref[k++] = (char)t->s[j++];
    if (j < t->n && t->s[j] == ' ')
        j++;
    if (j + 2 > t->n || !is_alpha_ascii(t->s[j]) || !is_alpha_ascii(t->s[j + 1]))
        return 0;
    ref[k++] = (char)t->s[j++];
    ref[k++] = (char)t->s[j++];
    /* upper case letters, or the whole reference in lower case */
    int up = 0, low = 0;
    for (size_t q = 0; q < k; q++) {
        up += ref[q] >= 'A' && ref[q] <= 'Z';
        low += ref[q] >= 'a' && ref[q] <= 'z';
    }
    if (up && low)
        return 0;
    size_t dstart = k;
    size_t g1 = 0, g2 = 0;
    size_t jj = j;
    if (jj < t->n && t->s[jj] == ' ')
        jj++;
    while (jj < t->n && is_digit(t->s[jj]) && k < sizeof ref - 1) {
        ref[k++] = (char)t->s[jj++];
        g1++;
    }
    if (g1 > 0 && g1 <= 5 && jj + 1 < t->n && t->s[jj] == ' ' && is_digit(t->s[jj + 1])) {
        size_t j2 = jj + 1;
        while (j2 < t->n && is_digit(t->s[j2]) && k < sizeof ref - 1) {
            ref[k++] = (char)t->s[j2++];
            g2++;
        }
        if (g2 != g1)
            return 0; /* "12 345": not one reference */
        jj = j2;
    }
    if (g1 > 0)
        j = jj;
    if (j < t->n && (is_digit(t->s[j]) || letter_at(t, j)))
        return 0;
    ref[k] = '\0';
    size_t nd = k - dstart;
    if (nd % 2 || nd > 10)
        return 0;
    if (nd == 0 && !up)
        return 0; /* "37udq" alone is too likely a word */
    double lat, lon, size;
    if (geo_mgrs_to_latlon(ref, &lat, &lon, &size) != TL_OK)
        return 0;
    struct cand *c = add_cand(ps, "mgrs", 0, i, j - i);
    if (!c)
        return j;
    c->p.lat = lat;
    c->p.lon = lon;
    c->p.accuracy_m = size;
    return j;
}

/* Reads an integer of min..max digits with an optional decimal part. */
static size_t read_metres(const struct txt *t, size_t i, int min, int max, double *v, int *fd)
{
    struct num n;
    if (!read_num(t, i, 0, &n) || n.int_digits < min || n.int_digits > max)
        return 0;
    *v = n.v;
    *fd = n.frac_digits;
    size_t j = n.end;
    if (j + 1 < t->n && t->s[j] == 'm' && (t->s[j + 1] == 'E' || t->s[j + 1] == 'N'))
        j += 2;
    else if (j < t->n && (t->s[j] == 'E' || t->s[j] == 'N' || t->s[j] == 'm'))
        j++;
    return j;
}

/* UTM at i: "36U 712345 5593456", "37n 285016 5542944", "36N 712345E 5593456N". */
static size_t try_utm(struct ps *ps, size_t i)
{
    const struct txt *t = &ps->t;
    size_t j = i;
    int zone = 0;
    while (j < t->n && is_digit(t->s[j]) && j - i < 2)
        zone = zone * 10 + (t->s[j++] - '0');
    if (j == i || zone < 1 || zone > 60 || (j < t->n && is_digit(t->s[j])))
        return 0;
    if (j < t->n && t->s[j] == ' ')
        j++;
    if (j >= t->n)
        return 0;
    unsigned char bl = t->s[j];
    int hemi_only = 0;
    if (bl == 'n' || bl == 's')
        hemi_only = 1;
    else if (!is_band(bl) || bl != (bl & ~0x20))
        return 0;
    j++;
    if (j < t->n && !hemi_only && match_pat(t, j - 1, "north"))
        return 0;
    if (j >= t->n || t->s[j] != ' ')
        return 0;
    j = skip_spaces(t, j);
    double e, n;
    int fe, fn;
    size_t k = read_metres(t, j, 6, 6, &e, &fe);
    if (!k)
        return 0;
    j = k;
    if (j < t->n && t->s[j] == ',')
        j++;
    j = skip_spaces(t, j);
    k = read_metres(t, j, 4, 7, &n, &fn); /* near the equator a northing is short */
    if (!k)
        return 0;
    j = k;
    if (j < t->n && (is_digit(t->s[j]) || letter_at(t, j)))
        return 0;
    double lat, lon, blo = 0, bhi = 0;
    int north;
    if (hemi_only) {
        north = bl == 'n';
    } else if (bl == 'S') {
        /* band S (32..40 N) or the southern hemisphere: whichever fits */
        north = geo_utm_to_latlon(zone, 1, e, n, &lat, &lon) == TL_OK && lat >= 31.5 && lat <= 40.5;
    } else {
        north = bl >= 'N';
    }
    if (geo_utm_to_latlon(zone, north, e, n, &lat, &lon) != TL_OK)
        return 0;
    if (!hemi_only && geo_band_lat_range((char)bl, &blo, &bhi) == TL_OK && bl != 'S' && bl != 'N' &&
        (lat < blo - 0.5 || lat > bhi + 0.5))
        return 0;
    struct cand *c = add_cand(ps, "utm", 0, i, j - i);
    if (!c)
        return j;
    c->p.lat = lat;
    c->p.lon = lon;
    c->p.accuracy_m = 1.0; /* eastings and northings are written to the metre */
    return j;
}

static int olc_char(unsigned char c)
{
    static const char a[] = "23456789CFGHJMPQRVWXcfghjmpqrvwx";
    return c && strchr(a, c) != NULL;
}

static size_t try_olc(struct ps *ps, size_t i)
{
    const struct txt *t = &ps->t;
    if (i + 9 > t->n || t->s[i + 8] != '+')
        return 0;
    char code[24];
    size_t j = 0;
    for (; j < 8; j++) {
        if (!olc_char(t->s[i + j]) && t->s[i + j] != '0')
            return 0;
        code[j] = (char)t->s[i + j];
    }
    code[8] = '+';
    size_t k = i + 9, m = 9;
    while (k < t->n && olc_char(t->s[k]) && m < 20)
        code[m++] = (char)t->s[k++];
    if (k < t->n && (is_digit(t->s[k]) || letter_at(t, k)))
        return 0;
    code[m] = '\0';
    double lat, lon, size;
    if (geo_olc_decode(code, &lat, &lon, &size) != TL_OK)
        return 0;
    struct cand *c = add_cand(ps, "olc", 0, i, k - i);
    if (c) {
        c->p.lat = lat;
        c->p.lon = lon;
        c->p.accuracy_m = size;
    }
    return k;
}

/* ---------- links and geo: URIs ---------- */

static int hexv(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    c = lc(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Percent-decodes u into out (cap), '+' to space. Returns the length. */
static size_t url_decode(const unsigned char *u, size_t n, unsigned char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (u[i] == '%' && i + 2 < n && hexv(u[i + 1]) >= 0 && hexv(u[i + 2]) >= 0) {
            out[k++] = (unsigned char)(hexv(u[i + 1]) * 16 + hexv(u[i + 2]));
            i += 2;
        } else if (u[i] == '+') {
            out[k++] = ' ';
        } else {
            out[k++] = u[i];
        }
    }
    out[k] = '\0';
    return k;
}

/* Finds "name" as a parameter (at the start or after ? & # ; / !). Returns the offset
 * of its value or -1. */
static long find_param(const struct txt *u, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl <= u->n; i++) {
        if (i > 0) {
            unsigned char p = u->s[i - 1];
            if (p != '?' && p != '&' && p != '#' && p != ';' && p != '/' && p != '!')
                continue;
        }
        if (lc(u->s[i]) != (unsigned char)name[0])
            continue;
        size_t k = 0;
        while (k < nl && lc(u->s[i + k]) == (unsigned char)name[k])
            k++;
        if (k == nl)
            return (long)(i + nl);
    }
    return -1;
}

/* "num sep num" at i (signed decimals, optional spaces). */
static size_t read_two(const struct txt *u, size_t i, char sep, double *a, double *b, int *fd)
{
    double v[2];
    int f = 99;
    for (int q = 0; q < 2; q++) {
        i = skip_spaces(u, i);
        int neg = 0;
        if (i < u->n && (u->s[i] == '-' || u->s[i] == '+')) {
            neg = u->s[i] == '-';
            i++;
        }
        struct num n;
        if (!read_num(u, i, 0, &n) || n.int_digits > 3)
            return 0;
        v[q] = neg ? -n.v : n.v;
        if (n.frac_digits < f)
            f = n.frac_digits;
        i = skip_spaces(u, n.end);
        if (q == 0) {
            if (i >= u->n || u->s[i] != (unsigned char)sep)
                return 0;
            i++;
        }
    }
    *a = v[0];
    *b = v[1];
    if (fd)
        *fd = f;
    return i;
}

static double zoom_accuracy(double lat, double z)
{
    if (!(z >= 1 && z <= 22))
        z = 15;
    double mpp = 156543.03 * cos(lat * M_PI / 180.0) / pow(2.0, z);
    double acc = mpp * 64.0;
    return acc < 10.0 ? 10.0 : acc;
}

static int has_sub(const struct txt *u, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= u->n; i++) {
        size_t k = 0;
        while (k < nl && lc(u->s[i + k]) == (unsigned char)needle[k])
            k++;
        if (k == nl)
            return 1;
    }
    return 0;
}

/* A pin given as a parameter value: "lat,lon", "loc:lat,lon", or DMS text. */
static int param_pin(struct ps *ps, const struct txt *u, const char *name, int lonfirst, size_t off,
                     size_t len)
{
    long v = find_param(u, name);
    if (v < 0)
        return 0;
    size_t i = (size_t)v;
    if (i + 4 <= u->n && memcmp(u->s + i, "loc:", 4) == 0)
        i += 4;
    double a, b;
    if (read_two(u, i, ',', &a, &b, NULL)) {
        if (lonfirst)
            add_pair(ps, b, a, AX_LAT, 10.0, "link", 0, off, len);
        else
            add_pair(ps, a, b, AX_LAT, 10.0, "link", 0, off, len);
        return 1;
    }
    if (lonfirst)
        return 0;
    size_t end = i;
    while (end < u->n && u->s[end] != '&' && u->s[end] != '#' && u->s[end] != '/')
        end++;
    struct txt seg = {u->s + i, end - i};
    size_t before = ps->nc;
    if (try_pair(ps, &seg, 0, 0, "link", 0) && ps->nc > before) {
        ps->c[ps->nc - 1].p.off = off;
        ps->c[ps->nc - 1].p.len = len;
        return 1;
    }
    return 0;
}

static void parse_geo_uri(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    size_t i = 4; /* after "geo:" */
    size_t e = read_two(u, i, ',', &a, &b, NULL);
    if (!e)
        return;
    if (fabs(a) < 1e-12 && fabs(b) < 1e-12) {
        /* Android's geo:0,0?q=lat,lon(label) */
        long q = find_param(u, "q=");
        if (q >= 0 && read_two(u, (size_t)q, ',', &a, &b, NULL)) {
            add_pair(ps, a, b, AX_LAT, 30.0, "geo_uri", 0, off, len);
            return;
        }
    }
    double acc = 30.0;
    long up = find_param(u, "u=");
    if (up >= 0) {
        struct num n;
        if (read_num(u, (size_t)up, 0, &n) && n.v > 0)
            acc = n.v < 1.0 ? 1.0 : n.v;
    }
    long crs = find_param(u, "crs=");
    if (crs >= 0 && !(u->n - (size_t)crs >= 5 && memcmp(u->s + crs, "wgs84", 5) == 0))
        return; /* another reference system: not ours to read */
    add_pair(ps, a, b, AX_LAT, acc, "geo_uri", 0, off, len);
}

static void parse_link(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    /* the host: after "//" (if any), up to the first '/', '?' or '#' */
    size_t h0 = 0, h1;
    for (size_t i = 0; i + 1 < u->n && i < 12; i++)
        if (u->s[i] == '/' && u->s[i + 1] == '/') {
            h0 = i + 2;
            break;
        }
    for (h1 = h0; h1 < u->n && u->s[h1] != '/' && u->s[h1] != '?' && u->s[h1] != '#'; h1++)
        ;
    struct txt host = {u->s + h0, h1 - h0};
    int google = has_sub(&host, "google.") || has_sub(&host, "goo.gl");
    int osm = has_sub(&host, "openstreetmap.") || has_sub(&host, "osm.org");
    int apple = has_sub(&host, "apple.com");
    int yandex = has_sub(&host, "yandex.");
    if (yandex) {
        if (param_pin(ps, u, "pt=", 1, off, len) ||
            param_pin(ps, u, "whatshere[point]=", 1, off, len))
            return;
        long ll = find_param(u, "ll=");
        if (ll >= 0 && read_two(u, (size_t)ll, ',', &a, &b, NULL)) {
            long z = find_param(u, "z=");
            struct num zn = {.v = 15};
            if (z >= 0)
                (void)read_num(u, (size_t)z, 0, &zn);
            add_pair(ps, b, a, AX_LAT, zoom_accuracy(b, zn.v), "link", 1, off, len);
        }
        return;
    }
    if (google) {
        long d3 = find_param(u, "3d");
        long d4 = find_param(u, "4d");
        if (d3 >= 0 && d4 >= 0) {
            struct num x, y;
            int n3 = d3 < (long)u->n && u->s[d3] == '-', n4 = d4 < (long)u->n && u->s[d4] == '-';
            if (read_num(u, (size_t)d3 + (size_t)n3, 0, &x) &&
                read_num(u, (size_t)d4 + (size_t)n4, 0, &y)) {
                add_pair(ps, n3 ? -x.v : x.v, n4 ? -y.v : y.v, AX_LAT, 10.0, "link", 0, off, len);
                return;
            }
        }
    }
    if (osm) {
        long ml = find_param(u, "mlat="), mo = find_param(u, "mlon=");
        if (ml >= 0 && mo >= 0) {
            struct num x, y;
            int nx = u->s[ml] == '-', ny = u->s[mo] == '-';
            if (read_num(u, (size_t)ml + (size_t)nx, 0, &x) &&
                read_num(u, (size_t)mo + (size_t)ny, 0, &y)) {
                add_pair(ps, nx ? -x.v : x.v, ny ? -y.v : y.v, AX_LAT, 10.0, "link", 0, off, len);
                return;
            }
        }
        long m = find_param(u, "map=");
        if (m >= 0) {
            struct num z;
            if (read_num(u, (size_t)m, 0, &z) && z.end < u->n && u->s[z.end] == '/' &&
                read_two(u, z.end + 1, '/', &a, &b, NULL)) {
                add_pair(ps, a, b, AX_LAT, zoom_accuracy(a, z.v), "link", 1, off, len);
                return;
            }
        }
    }
    if (param_pin(ps, u, "q=", 0, off, len) || param_pin(ps, u, "query=", 0, off, len) ||
        param_pin(ps, u, "daddr=", 0, off, len) || param_pin(ps, u, "destination=", 0, off, len) ||
        param_pin(ps, u, "coordinate=", 0, off, len))
        return;
    if (google) {
        long pl = find_param(u, "place/");
        if (pl < 0)
            pl = find_param(u, "search/");
        if (pl >= 0) {
            size_t end = (size_t)pl;
            while (end < u->n && u->s[end] != '/' && u->s[end] != '?')
                end++;
            struct txt seg = {u->s + pl, end - (size_t)pl};
            size_t before = ps->nc;
            if (try_pair(ps, &seg, 0, 0, "link", 0) && ps->nc > before) {
                ps->c[ps->nc - 1].p.off = off;
                ps->c[ps->nc - 1].p.len = len;
                return;
            }
        }
    }
    long ll = find_param(u, "ll=");
    if (ll < 0)
        ll = find_param(u, "sll=");
    if (ll >= 0 && read_two(u, (size_t)ll, ',', &a, &b, NULL)) {
        long z = find_param(u, "z=");
        struct num zn = {.v = apple ? 17 : 15};
        if (z >= 0)
            (void)read_num(u, (size_t)z, 0, &zn);
        add_pair(ps, a, b, AX_LAT, apple ? 30.0 : zoom_accuracy(a, zn.v), "link", apple ? 0 : 1,
                 off, len);
        return;
    }
    for (size_t i = 0; i < u->n; i++) {
        if (u->s[i] != '@')
            continue;
        size_t e = read_two(u, i + 1, ',', &a, &b, NULL);
        if (!e)
            continue;
        double acc = zoom_accuracy(a, 15);
        if (e < u->n && u->s[e] == ',') {
            struct num z;
            if (read_num(u, e + 1, 0, &z)) {
                if (z.end < u->n && u->s[z.end] == 'z')
                    acc = zoom_accuracy(a, z.v);
                else if (z.end < u->n && u->s[z.end] == 'm')
                    acc = z.v / 4.0 < 10.0 ? 10.0 : z.v / 4.0;
            }
        }
        add_pair(ps, a, b, AX_LAT, acc, "link", 1, off, len);
        return;
    }
    long la = find_param(u, "lat="), lo = find_param(u, "lon=");
    if (lo < 0)
        lo = find_param(u, "lng=");
    if (la >= 0 && lo >= 0) {
        struct num x, y;
        int nx = u->s[la] == '-', ny = u->s[lo] == '-';
        if (read_num(u, (size_t)la + (size_t)nx, 0, &x) &&
            read_num(u, (size_t)lo + (size_t)ny, 0, &y))
            add_pair(ps, nx ? -x.v : x.v, ny ? -y.v : y.v, AX_LAT, 10.0, "link", 0, off, len);
    }
}

static int prefix_ci(const struct txt *t, size_t i, const char *p)
{
    size_t n = strlen(p);
    if (i + n > t->n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (lc(t->s[i + k]) != (unsigned char)p[k])
            return 0;
    return 1;
}

static void scan_links(struct ps *ps)
{
    const struct txt *t = &ps->t;
    /* every link has "://", "geo:", "www." or "maps." */
    if (!memchr(t->s, ':', t->n)) {
        int dotted = 0;
        for (const unsigned char *d = t->s;
             !dotted && (d = memchr(d, '.', t->n - (size_t)(d - t->s))); d++)
            dotted = (d - t->s >= 3 && prefix_ci(t, (size_t)(d - t->s) - 3, "www.")) ||
                     (d - t->s >= 4 && prefix_ci(t, (size_t)(d - t->s) - 4, "maps."));
        if (!dotted)
            return;
    }
    for (size_t i = 0; i < t->n; i++) {
        unsigned char c = lc(t->s[i]);
        if (c != 'h' && c != 'g' && c != 'w' && c != 'm' && c != 'o')
            continue;
        if (!at_boundary(t, i))
            continue;
        int geo = prefix_ci(t, i, "geo:");
        if (!geo && !prefix_ci(t, i, "http://") && !prefix_ci(t, i, "https://") &&
            !prefix_ci(t, i, "www.") && !prefix_ci(t, i, "maps.") &&
            !prefix_ci(t, i, "openstreetmap.") && !prefix_ci(t, i, "google."))
            continue;
        size_t e = i;
        while (e < t->n && t->s[e] > ' ' && t->s[e] != '<' && t->s[e] != '>' && t->s[e] != '"')
            e++;
        while (e > i && (t->s[e - 1] == '.' || t->s[e - 1] == ',' || t->s[e - 1] == ')'))
            e--;
        unsigned char buf[2048];
        struct txt u = {buf, url_decode(t->s + i, e - i, buf, sizeof buf)};
        if (geo)
            parse_geo_uri(ps, &u, i, e - i);
        else
            parse_link(ps, &u, i, e - i);
        add_span(ps, i, e);
        i = e;
    }
}

/* ---------- bearing ---------- */

struct dir {
    struct lit stem;
    double deg;
    int whole; /* only as a whole word: "пн", "сх", "сев" */
};

/* Stems of direction words (lower case): Ukrainian, Russian, English. */
static const struct dir dirs[] = {
    {L("півн"), 0, 0},  {L("пн"), 0, 1},      {L("север"), 0, 0},   {L("сев"), 0, 1},
    {L("north"), 0, 0}, {L("півд"), 180, 0},  {L("пд"), 180, 1},    {L("юг"), 180, 0},
    {L("юж"), 180, 0},  {L("south"), 180, 0}, {L("схі"), 90, 0},    {L("схо"), 90, 0},
    {L("сх"), 90, 1},   {L("восто"), 90, 0},  {L("вост"), 90, 1},   {L("east"), 90, 0},
    {L("зах"), 270, 0}, {L("зх"), 270, 1},    {L("запад"), 270, 0}, {L("west"), 270, 0},
};

/* Bearing of a single direction word, or -1. */
static double dir_word(const char *w, size_t n)
{
    if (n == 0)
        return -1;
    for (size_t k = 0; k < NLITS(dirs); k++) {
        const struct lit *st = &dirs[k].stem;
        if (n < st->n || w[0] != st->s[0] || w[1] != st->s[1] || memcmp(w, st->s, st->n) != 0)
            continue;
        if (dirs[k].whole && n > st->n)
            continue;
        return dirs[k].deg;
    }
    return -1;
}

/* Upper-case compass points N, NE, ENE ... */
static double compass_abbrev(const char *w, size_t n)
{
    static const char *const pts[16] = {"N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
                                        "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"};
    for (int k = 0; k < 16; k++)
        if (pts[k][0] == w[0] && strlen(pts[k]) == n && memcmp(pts[k], w, n) == 0)
            return k * 22.5;
    return -1;
}

static double combine(double a, double b)
{
    double x = cos(a * M_PI / 180) + cos(b * M_PI / 180);
    double y = sin(a * M_PI / 180) + sin(b * M_PI / 180);
    double d = atan2(y, x) * 180 / M_PI;
    if (d < 0)
        d += 360;
    return round(d * 10) / 10;
}

/* A compound such as "північно-східному", "пн-сх", "north-east", "северо-восток",
 * "northeast" (w is lower-case). Returns -1 if none. */
static double dir_compound(const char *w, size_t n)
{
    const char *h = memchr(w, '-', n);
    if (h) {
        double a = dir_word(w, (size_t)(h - w));
        double b = dir_word(h + 1, n - (size_t)(h - w) - 1);
        if (a >= 0 && b >= 0 && a != b)
            return combine(a, b);
        return -1;
    }
    static const char *const en[] = {"northeast", "northwest", "southeast", "southwest"};
    static const double ed[] = {45, 315, 135, 225};
    for (int k = 0; k < 4; k++)
        if (n >= 9 && memcmp(w, en[k], 9) == 0)
            return ed[k];
    return dir_word(w, n);
}

static const struct lit move_cues[] = {
    L("рух"),       L("їд"),      L("їха"),     L("йд"),     L("іде"),    L("ідуть"),   L("прям"),
    L("летит"),     L("летя"),    L("летів"),   L("летіл"),  L("пролет"), L("полет"),   L("напрям"),
    L("бік"),       L("курс"),    L("сторон"),  L("направ"), L("двига"),  L("движ"),    L("едут"),
    L("едет"),      L("coming"),  L("came"),    L("comes"),  L("идут"),   L("ехал"),    L("пошл"),
    L("пішл"),      L("heading"), L("headed"),  L("moving"), L("going"),  L("flying"),  L("travel"),
    L("direction"), L("toward"),  L("driving"), L("course"), L("bound"),  L("proceed"), L("moves"),
    L("move"),      L("flew"),    L("drove"),   L("летят"),  L("тягнут"), L("зайшл"),
};

static int is_move_cue(const char *w, size_t n)
{
    return n > 0 && prefix_in_lits(move_cues, NLITS(move_cues), w, n);
}

static const struct lit bearing_labels[] = {
    L("азимут"), L("курс"), L("bearing"),  L("heading"),     L("azimuth"),
    L("пеленг"), L("az"),   L("напрямок"), L("направление"),
};

/* ---------- words: bearing and settlements ---------- */

#define WMAX 32

struct word {
    size_t off, len; /* in the text */
    char low[WMAX];  /* lower-cased UTF-8 (truncated) */
    size_t lowlen;
    int upper; /* first letter upper case */
    int all_upper;
    int cls;        /* GEO_W_* bits, -1 until asked */
    size_t letters; /* letters stored in low */
};

static int ascii_letter(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static size_t next_word(const struct txt *t, size_t i, struct word *w)
{
    const unsigned char *s = t->s;
    size_t n = t->n, adv;
    /* skip to a letter */
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if (ascii_letter(b))
                break;
            i++;
            continue;
        }
        if (geo_is_letter(geo_u8(s, n, i, &adv)))
            break;
        i += adv;
    }
    w->off = i;
    w->lowlen = 0;
    w->len = 0;
    w->upper = 0;
    w->all_upper = 1;
    w->cls = -1;
    w->letters = 0;
    if (i >= n) {
        w->low[0] = '\0';
        return n;
    }
    int first = 1;
    char *lo = w->low;
    size_t ll = 0, nl = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            if (ascii_letter(b)) {
                int up = b < 'a';
                if (first)
                    w->upper = up;
                else if (!up)
                    w->all_upper = 0;
                if (ll + 1 < WMAX)
                    lo[ll++] = (char)(b | 0x20);
                i++;
                nl++;
                first = 0;
                continue;
            }
            /* apostrophes and hyphens inside a word */
            if ((b == '\'' || b == '-') && letter_at(t, i + 1) && !first) {
                if (ll + 1 < WMAX)
                    lo[ll++] = (char)b;
                i++;
                continue;
            }
            break;
        }
        if ((b == 0xD0 || b == 0xD1) && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            /* Cyrillic U+0400..U+047F, the common case, lower-cased on the bytes:
             * D1 80..9F and D0 B0..BF are lower case already; D0 90..9F (А-П) gain
             * 0x20, D0 A0..AF (Р-Я) become D1 80..8F, D0 80..8F (Ѐ-Џ) D1 90..9F */
            unsigned char c1 = s[i + 1];
            if (b == 0xD0 || c1 <= 0x9F) {
                int up = b == 0xD0 && c1 < 0xB0;
                if (first)
                    w->upper = up;
                else if (!up)
                    w->all_upper = 0;
                first = 0;
                if (ll + 2 < WMAX) {
                    if (!up) {
                        lo[ll++] = (char)b;
                        lo[ll++] = (char)c1;
                    } else if (c1 >= 0x90 && c1 <= 0x9F) {
                        lo[ll++] = (char)0xD0;
                        lo[ll++] = (char)(c1 + 0x20);
                    } else {
                        lo[ll++] = (char)0xD1;
                        lo[ll++] = (char)(c1 >= 0xA0 ? c1 - 0x20 : c1 + 0x10);
                    }
                }
                i += 2;
                nl++;
                continue;
            }
        }
        uint32_t c = geo_u8(s, n, i, &adv);
        if (!geo_is_letter(c)) {
            if ((c == 0x2019 || c == 0x2BC) && letter_at(t, i + adv) && !first) {
                if (ll + 1 < WMAX)
                    lo[ll++] = '\'';
                i += adv;
                continue;
            }
            break;
        }
        int up = geo_is_upper(c);
        if (first)
            w->upper = up;
        else if (!up)
            w->all_upper = 0;
        first = 0;
        uint32_t l = geo_lower(c);
        if (ll + 2 < WMAX) { /* letters are below U+0800: two bytes */
            lo[ll++] = (char)(0xC0 | (l >> 6));
            lo[ll++] = (char)(0x80 | (l & 0x3F));
        }
        i += adv;
        nl++;
    }
    lo[ll] = '\0';
    w->lowlen = ll;
    w->letters = nl;
    w->len = i - w->off;
    return i;
}

/* Does the word open a sentence: nothing but spaces back to the start of the text or to
 * . ! ? : or a newline? */
static int sentence_start(const struct txt *t, const struct word *w)
{
    size_t k = w->off;
    const unsigned char *s = t->s;
    while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '"' || s[k - 1] == '(' ||
                     s[k - 1] == '*'))
        k--;
    unsigned char pc = k ? s[k - 1] : 0;
    return k == 0 || pc == '.' || pc == '!' || pc == '?' || pc == '\n' || pc == ':';
}

static void try_bearing_number(struct ps *ps, const struct word *w)
{
    const struct txt *t = &ps->t;
    if (!in_lits(bearing_labels, NLITS(bearing_labels), w->low, w->lowlen) &&
        !(w->lowlen >= 12 && memcmp(w->low, "азимут", 12) == 0) &&
        !(w->lowlen >= 8 && memcmp(w->low, "курс", 8) == 0))
        return;
    size_t j = skip_spaces(t, w->off + w->len);
    if (j < t->n && (t->s[j] == ':' || t->s[j] == '='))
        j = skip_spaces(t, j + 1);
    struct num n;
    if (!read_num(t, j, 1, &n) || n.int_digits > 3 || n.v > 360.0)
        return;
    if (n.end < t->n && (t->s[n.end] == ',' || t->s[n.end] == '.') && n.end + 1 < t->n &&
        is_digit(t->s[n.end + 1]))
        return;
    ps->has_bearing = 2; /* a number outranks a compass word */
    ps->bearing = n.v >= 360.0 ? 0.0 : n.v;
}

static void add_places(struct ps *ps, const struct geo_place *all, size_t nall, size_t off,
                       size_t len)
{
    /* settlements outside the area are not what the reporter meant: drop them */
    struct geo_place pl[MAX_HOMONYMS];
    size_t n = 0;
    for (size_t k = 0; k < nall && n < MAX_HOMONYMS; k++)
        if (geo_in_area(ps->ctx, all[k].lat, all[k].lon))
            pl[n++] = all[k];
    unsigned grp = n > 1 ? ++ps->groups : 0;
    for (size_t k = 0; k < n; k++) {
        struct cand *c = add_cand(ps, "place", 2, off, len);
        if (!c)
            return;
        c->p.lat = pl[k].lat;
        c->p.lon = pl[k].lon;
        c->p.accuracy_m = pl[k].accuracy_m;
        c->p.alt_group = grp;
        tl_strlcpy(c->p.name, pl[k].name, sizeof c->p.name);
        tl_strlcpy(c->p.oblast, pl[k].oblast, sizeof c->p.oblast);
        tl_strlcpy(c->p.district, pl[k].district ? pl[k].district : "", sizeof c->p.district);
        tl_strlcpy(c->p.country, pl[k].country, sizeof c->p.country);
    }
}

/* A short Plus Code beside a place name, made whole with that place. */
static int add_short_code(struct ps *ps, size_t off, size_t len, const struct geo_place *near)
{
    char code[24];
    double lat, lon, size;
    if (len >= sizeof code)
        return 0;
    memcpy(code, ps->t.s + off, len);
    code[len] = '\0';
    if (geo_olc_recover(code, near->lat, near->lon, &lat, &lon, &size) != TL_OK)
        return 0;
    struct cand *c = add_cand(ps, "olc", 0, off, len);
    if (!c)
        return 0;
    c->p.lat = lat;
    c->p.lon = lon;
    c->p.accuracy_m = size;
    return 1;
}

/* next_word with a one-word memory: the look-aheads and the main loop ask for the
 * same word, and it is read once. */
struct wcache {
    struct word w;
    size_t from, end;
    int valid;
};

static size_t cached_word(struct wcache *c, const struct txt *t, size_t from, struct word *w)
{
    if (!c->valid || c->from != from) {
        c->end = next_word(t, from, &c->w);
        c->from = from;
        c->valid = 1;
    }
    *w = c->w;
    return c->end;
}

/* Could this lower-case word name a direction, or be a bearing label? Its first two
 * letters must begin one of the stems in dirs[] or bearing_labels[]. */
enum { MAYBE_DIR = 1, MAYBE_LABEL = 2 };

static int maybe_dir(const struct word *w)
{
    const unsigned char *s = (const unsigned char *)w->low;
    if (w->lowlen < 2)
        return 0;
    switch (s[0]) {
    case 'n':
    case 's':
        return s[1] == 'o' ? MAYBE_DIR : 0;
    case 'e':
        return s[1] == 'a' ? MAYBE_DIR : 0;
    case 'w':
        return s[1] == 'e' ? MAYBE_DIR : 0;
    case 'b':
    case 'h':
        return s[1] == 'e' ? MAYBE_LABEL : 0;
    case 'a':
        return s[1] == 'z' ? MAYBE_LABEL : 0;
    case 0xD0:
    case 0xD1:
        break;
    default:
        return 0;
    }
    if (w->lowlen < 4)
        return 0;
    /* the second letter, by first letter (lower-case UTF-8) */
    uint32_t a = ((uint32_t)s[0] << 8) | s[1], b = ((uint32_t)s[2] << 8) | s[3];
    switch (a) {
    case 0xD0BF: /* п: пі пн пд (directions), пе (пеленг) */
        return (b == 0xD196 || b == 0xD0BD || b == 0xD0B4) ? MAYBE_DIR
               : b == 0xD0B5                               ? MAYBE_LABEL
                                                           : 0;
    case 0xD0B2: /* в: во */
        return b == 0xD0BE ? MAYBE_DIR : 0;
    case 0xD0B7: /* з: за зх */
        return (b == 0xD0B0 || b == 0xD185) ? MAYBE_DIR : 0;
    case 0xD181: /* с: се сх */
        return (b == 0xD0B5 || b == 0xD185) ? MAYBE_DIR : 0;
    case 0xD18E: /* ю: юг юж */
        return (b == 0xD0B3 || b == 0xD0B6) ? MAYBE_DIR : 0;
    case 0xD0B0: /* а: аз (азимут) */
        return b == 0xD0B7 ? MAYBE_LABEL : 0;
    case 0xD0BA: /* к: ку (курс) */
        return b == 0xD183 ? MAYBE_LABEL : 0;
    case 0xD0BD: /* н: на (напрямок) */
        return b == 0xD0B0 ? MAYBE_LABEL : 0;
    default:
        return 0;
    }
}

static void scan_words(struct ps *ps)
{
    const struct txt *t = &ps->t;
    const struct geo_gaz *gaz = ps->ctx ? ps->ctx->gaz : NULL;
    struct word ring[4];
    struct wcache wc = {.valid = 0};
    size_t nw = 0;
    size_t i = 0;
    while (i < t->n) {
        struct word *w = &ring[nw % 4];
        size_t e = cached_word(&wc, t, i, w);
        if (w->len == 0)
            break;
        size_t sp = past_spans(ps, w->off);
        if (sp != w->off) {
            i = sp;
            continue;
        }
        const struct word *p1 = nw >= 1 ? &ring[(nw - 1) % 4] : NULL;
        const struct word *p2 = nw >= 2 ? &ring[(nw - 2) % 4] : NULL;
        const struct word *p3 = nw >= 3 ? &ring[(nw - 3) % 4] : NULL;
        nw++;
        i = e;
        /* bearing */
        int mk = maybe_dir(w);
        int md = (mk & MAYBE_DIR) || (w->all_upper && w->len <= 3);
        if (ps->has_bearing < 2 && mk)
            try_bearing_number(ps, w);
        if (!ps->has_bearing && md) {
            double d = -1;
            if (w->all_upper && w->len <= 3)
                d = compass_abbrev((const char *)t->s + w->off, w->len);
            if (d < 0 && w->lowlen >= 8 && w->low[0] < 0x7F &&
                (strstr(w->low, "bound") || strstr(w->low, "ward")) &&
                !(w->lowlen >= 6 && memcmp(w->low, "toward", 6) == 0)) {
                d = dir_word(w->low, w->lowlen);
            } else if (d < 0) {
                d = dir_compound(w->low, w->lowlen);
                if (d >= 0 && d != 45 && d != 135 && d != 225 && d != 315 &&
                    memchr(w->low, '-', w->lowlen) == NULL) {
                    /* "північний схід", "north east": two words */
                    struct word nx;
                    (void)cached_word(&wc, t, e, &nx);
                    if (nx.off < t->n && nx.off <= e + 2 && nx.len > 0) {
                        double d2 = dir_word(nx.low, nx.lowlen);
                        if (d2 >= 0 && ((d == 0 || d == 180) && (d2 == 90 || d2 == 270)))
                            d = combine(d, d2);
                    }
                }
                int cue = d >= 0 && ((p1 && is_move_cue(p1->low, p1->lowlen)) ||
                                     (p2 && is_move_cue(p2->low, p2->lowlen)) ||
                                     (p3 && is_move_cue(p3->low, p3->lowlen)));
                if (!cue)
                    d = -1;
            } else {
                int cue = d >= 0 && ((p1 && is_move_cue(p1->low, p1->lowlen)) ||
                                     (p2 && is_move_cue(p2->low, p2->lowlen)));
                if (!cue)
                    d = -1;
            }
            if (d >= 0) {
                /* "летять з півдня", "coming from the north": heading the other way */
                static const struct lit from[] = {L("з"), L("із"), L("зі"),
                                                  L("с"), L("со"), L("from")};
                const struct word *fw = p1 && strcmp(p1->low, "the") == 0 ? p2 : p1;
                if (fw && in_lits(from, NLITS(from), fw->low, fw->lowlen))
                    d = fmod(d + 180.0, 360.0);
                ps->has_bearing = 1;
                ps->bearing = d;
            }
        }
        /* settlements */
        if (!gaz)
            continue;
        size_t letters = w->letters;
        if (letters < 3)
            continue;
        const struct geo_wordset *ws = &ps->ctx->words;
        int cue = 0;
        if (p1 && p1->off + p1->len + 3 >= w->off) { /* the cue sits right before the word */
            struct word *pw = &ring[(nw - 2) % 4];
            if (pw->cls < 0)
                pw->cls = (int)geo_word_class(ws, pw->low, pw->lowlen);
            if (pw->cls & GEO_W_CUE)
                cue = 2;
            else if (w->upper && (pw->cls & GEO_W_WEAK))
                cue = 1;
        }
        if (!w->upper && !cue)
            continue;
        if (w->cls < 0)
            w->cls = (int)geo_word_class(ws, w->low, w->lowlen);
        if (w->cls)
            continue; /* a cue or a common word itself */
        if (w->all_upper && letters <= 4 && !cue)
            continue; /* acronyms: ЗСУ, БПЛА, HQ */
        int maxd = cue ? (w->upper ? 2 : 1) : 0;
        unsigned long min_pop = (!cue && sentence_start(t, w)) ? 10000 : 0;
        struct geo_place pl[GEO_PLACES_MAX];
        size_t n = 0;
        /* two capitalised words in a row may be one name: "Нова Каховка", "Kryvyi Rih" */
        struct word nx;
        size_t e2 = cached_word(&wc, t, e, &nx);
        int used_two = 0;
        if (w->upper && nx.off < t->n && nx.upper && nx.len > 0 && nx.off == e + 1 &&
            t->s[e] == ' ') {
            n = geo_gaz_lookup(gaz, (const char *)t->s + w->off, nx.off + nx.len - w->off, maxd, 0,
                               pl, GEO_PLACES_MAX);
            used_two = n > 0;
        }
        int gflags = (w->upper ? 0 : GEO_GAZ_LOWER) | (min_pop ? GEO_GAZ_ASIS : 0);
        if (!n)
            n = geo_gaz_lookup(gaz, (const char *)t->s + w->off, w->len, maxd, gflags, pl,
                               GEO_PLACES_MAX);
        if (n && min_pop && !used_two && geo_region_after(t->s, t->n, e))
            min_pop = 0; /* "Новоселівка Харківської області, ..." opens a sentence */
        if (n && min_pop) {
            size_t m = 0;
            for (size_t k = 0; k < n; k++)
                if (pl[k].population >= min_pop)
                    pl[m++] = pl[k];
            n = m;
        }
        if (!n)
            continue;
        size_t len = used_two ? nx.off + nx.len - w->off : w->len;
        n = geo_places_settle(gaz, t->s, t->n, w->off, len, maxd, used_two ? 0 : gflags, ps->near,
                              ps->n_near, pl, n);
        size_t code_off, code_len = geo_olc_short_near(t->s, t->n, w->off, len, &code_off);
        if (code_len && add_short_code(ps, code_off, code_len, &pl[0])) {
            add_span(ps, code_off, code_off + code_len);
            continue; /* "8Q7X+FQ Харків": the code says where, the name only helped */
        }
        if (p1 && geo_distance_cue(p1->low, p1->lowlen))
            for (size_t k = 0; k < n; k++)
                pl[k].accuracy_m += GEO_NEAR_EXTRA_M;
        add_places(ps, pl, n, w->off, len);
        if (used_two) {
            i = e2;
            ring[nw % 4] = nx;
            nw++;
        }
    }
}

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
            if (is_digit(t->s[i + k]))
                return i + k;
        i += 8;
    }
    while (i < t->n && !is_digit(t->s[i]))
        i++;
    return i;
}

static void scan_numbers(struct ps *ps)
{
    const struct txt *t = &ps->t;
    size_t i = 0, next_digit = 0;
    while (i < t->n) {
        size_t sp = past_spans(ps, i);
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
        int start = is_digit(c) || c == '-' || c == '+' || c == 'N' || c == 'S' || c == 'E' ||
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
        if (!start || !at_boundary(t, i)) {
            i++;
            continue;
        }
        size_t e = 0;
        if (is_digit(c)) {
            e = try_mgrs(ps, i);
            if (!e)
                e = try_utm(ps, i);
            if (!e)
                e = try_olc(ps, i);
        }
        if (!e)
            e = try_pair(ps, t, i, 0, NULL, 0);
        if (e) {
            add_span(ps, i, e);
            i = e;
            continue;
        }
        /* skip the rest of this token */
        if (is_digit(c)) {
            while (i < t->n && (is_digit(t->s[i]) || t->s[i] == '.' || t->s[i] == ','))
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
    scan_links(ps);
    scan_numbers(ps);
    scan_words(ps);
    out->has_bearing = ps->has_bearing != 0;
    out->bearing_deg = ps->bearing;
    int rc = TL_OK;
    if (ps->nc == 0)
        goto done;
    /* stable order: rank, then position (insertion sort keeps equal keys in place) */
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
    /* one block: accepted points first, rejected ones from its middle */
    out->cand = malloc(2 * ps->nc * sizeof *out->cand);
    if (!out->cand) {
        rc = TL_ENOMEM;
        goto done;
    }
    out->rej = out->cand + ps->nc;
    for (size_t i = 0; i < ps->nc; i++) {
        struct geo_point *p = &ps->c[i].p;
        if (geo_check(ctx, p->lat, p->lon, &p->reject) != TL_OK) {
            out->rej[out->n_rej++] = *p;
            continue;
        }
        /* the same point twice (a link and its numbers): keep the first, finer one */
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
    /* a shared name settled by numbers in the same message: "біля Лиману, 48.98 37.80"
     * keeps the Lyman those numbers fall in */
    for (int again = 1; again;) {
        again = 0;
        for (size_t i = 0; i < out->n && !again; i++) {
            unsigned grp = out->cand[i].alt_group;
            size_t hit = SIZE_MAX;
            for (size_t k = i; grp && k < out->n && hit == SIZE_MAX; k++) {
                const struct geo_point *q = &out->cand[k];
                for (size_t j = 0; q->alt_group == grp && j < out->n && hit == SIZE_MAX; j++)
                    if (strcmp(out->cand[j].kind, "place") != 0 &&
                        geo_haversine_m(q->lat, q->lon, out->cand[j].lat, out->cand[j].lon) <=
                            q->accuracy_m + out->cand[j].accuracy_m)
                        hit = k;
            }
            if (hit == SIZE_MAX)
                continue;
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
            again = 1;
        }
    }
    for (size_t i = 0; i < out->n; i++)
        if (out->cand[i].alt_group)
            out->ambiguous = 1;
done:
    return rc;
}
