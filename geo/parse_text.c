/* geo/parse_text.c - the text parser's reading of numbers: decimal numbers, hemisphere
 * letters and words, lat/lon labels, degree marks, one coordinate component (decimal,
 * DMS, DDM), a pair of them with its order cues; and the candidate list every pass
 * adds to (with the spans a pass has read, which the others skip). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/parse_text.h"
#include "common/banned.h"

/* Matches pattern pat (lower-case UTF-8) at i, case-insensitively. In pat, ' ' matches
 * any run of spaces (or none) and '.' an optional dot. The match must end at a word
 * boundary. Returns the end, or 0. */
size_t gp_match_pat(const struct txt *t, size_t i, const char *pat)
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
    if (gp_letter_at(t, i))
        return 0;
    return i;
}

/* ---------- numbers ---------- */

/* Reads digits [ (.|,) digits ] at i. A second decimal separator followed by a digit
 * (a date 12.05.2024, a thousands group 1,234,567) makes it no number at all. */
int gp_read_num(const struct txt *t, size_t i, int allow_comma, struct num *out)
{
    size_t j = i;
    double v = 0;
    int id = 0, fd = 0;
    while (j < t->n && gp_is_digit(t->s[j]) && id < 12) {
        v = v * 10 + (t->s[j] - '0');
        j++;
        id++;
    }
    if (id == 0 || (j < t->n && gp_is_digit(t->s[j])))
        return 0;
    if (j + 1 < t->n && (t->s[j] == '.' || (allow_comma && t->s[j] == ',')) &&
        gp_is_digit(t->s[j + 1])) {
        char sep = (char)t->s[j];
        j++;
        double scale = 0.1;
        while (j < t->n && gp_is_digit(t->s[j])) {
            if (fd < 15) {
                v += (t->s[j] - '0') * scale;
                scale /= 10;
            }
            fd++;
            j++;
        }
        if (j + 1 < t->n && t->s[j] == sep && gp_is_digit(t->s[j + 1]))
            return 0;
        if (sep == ',' && j + 1 < t->n && t->s[j] == '.' && gp_is_digit(t->s[j + 1]))
            return 0;
    }
    int metres = j + 1 < t->n && t->s[j] == 'm' && (t->s[j + 1] == 'E' || t->s[j + 1] == 'N');
    if (j < t->n && !metres && gp_is_alpha_ascii(t->s[j]) && t->s[j] != 'N' && t->s[j] != 'S' &&
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
        !gp_letter_at(t, i + 1)) {
        *axis = (u == 'N' || u == 'S') ? AX_LAT : AX_LON;
        *neg = (u == 'S' || u == 'W');
        return i + 1;
    }
    if (!(c >= 0x80 || gp_is_alpha_ascii(c)))
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
        size_t e = gp_match_pat(t, i, pat);
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
    if (i >= t->n || !(t->s[i] >= 0x80 || gp_is_alpha_ascii(t->s[i])))
        return 0;
    size_t a1, a2;
    uint32_t first = geo_lower(geo_u8(t->s, t->n, i, &a1));
    if (!(first == 'l' || first == 0x448 || first == 0x434)) /* l ш д */
        return 0;
    for (size_t k = 0; k < sizeof labels / sizeof *labels; k++) {
        const char *pat = labels[k].pat;
        if (geo_u8((const unsigned char *)pat, 8, 0, &a2) != first)
            continue;
        size_t e = gp_match_pat(t, i, pat);
        if (!e)
            continue;
        /* "lon, lat:", "lat/lon =": a pair of labels gives the order of two numbers */
        size_t e2 = gp_skip_spaces(t, e);
        if (e2 < t->n && (t->s[e2] == ',' || t->s[e2] == '/' || t->s[e2] == ';'))
            e2 = gp_skip_spaces(t, e2 + 1);
        for (size_t q = 0; q < sizeof labels / sizeof *labels; q++) {
            size_t e3;
            if (labels[q].axis != labels[k].axis && (e3 = gp_match_pat(t, e2, labels[q].pat))) {
                e = e3;
                break;
            }
        }
        e = gp_skip_spaces(t, e);
        if (e < t->n && (t->s[e] == ':' || t->s[e] == '='))
            e = gp_skip_spaces(t, e + 1);
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
        int word = gp_is_alpha_ascii((unsigned char)set[k][0]) ||
                   (unsigned char)set[k][0] == 0xD0 || (unsigned char)set[k][0] == 0xD1;
        if (words_only && !word)
            continue;
        if (word) {
            size_t e = i + l;
            while (e < t->n && t->s[e] == '.')
                e++;
            if (gp_letter_at(t, e))
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
        (gp_is_alpha_ascii(t->s[i + 1]) || t->s[i + 1] >= 0xD0))
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

/* A label ("lat", "широта") and a hemisphere before the number ("N 50.4", "S: -3"):
 * into c, the hemisphere's axis and sign into *hax and *hneg. Returns where the number
 * may start. */
static size_t comp_lead(const struct txt *t, size_t j, struct comp *c, int *hax, int *hneg)
{
    int ax = AX_NONE;
    size_t e = read_label(t, j, &ax);
    if (e) {
        c->label = 1;
        c->axis = ax;
        j = e;
    }
    e = read_hemi(t, j, 0, hax, hneg);
    if (e) {
        size_t k = gp_skip_spaces(t, e);
        if (k < t->n && (t->s[k] == ':'))
            k = gp_skip_spaces(t, k + 1);
        if (k < t->n && (gp_is_digit(t->s[k]) || t->s[k] == '-' || t->s[k] == '+')) {
            c->hemi = 1;
            j = k;
        } else {
            *hax = AX_NONE;
        }
    }
    return j;
}

/* A sign at *j ('-', '+' or U+2212 minus), skipped: 1 when negative. */
static int read_sign(const struct txt *t, size_t *j)
{
    size_t i = *j;
    if (i < t->n && (t->s[i] == '-' || t->s[i] == '+')) {
        *j = i + 1;
        return t->s[i] == '-';
    }
    if (i + 2 < t->n && t->s[i] == 0xE2 && t->s[i + 1] == 0x88 && t->s[i + 2] == 0x92) {
        *j = i + 3;
        return 1;
    }
    return 0;
}

/* Minutes, then seconds, after whole degrees at *j: after a degree mark (c->marked) or,
 * when allow_spaced, after one space. Adds them to *val with the step of their last
 * digit, sets c->sexa and moves *j past them. Returns 1 when the minutes were read
 * spaced (without marks). */
static int comp_sexa(const struct txt *t, size_t *j, int allow_spaced, struct comp *c, double *val,
                     double *step)
{
    size_t k2 = gp_skip_spaces(t, *j);
    struct num mn;
    int ok_pos = c->marked || (allow_spaced && k2 == *j + 1 && t->s[*j] == ' ');
    if (!ok_pos || !gp_read_num(t, k2, 1, &mn) || mn.int_digits > 2 || !(mn.v < 60.0))
        return 0;
    size_t mm = read_mark(t, mn.end, 1);
    int spaced = !mm && !c->marked;
    if (!mm && !spaced)
        return 0;
    *val += mn.v / 60.0;
    *step = pow(10.0, -mn.frac_digits) / 60.0;
    *j = mm ? mm : mn.end;
    c->sexa = 1;
    if (mn.frac_digits != 0)
        return spaced;
    size_t k3 = gp_skip_spaces(t, *j);
    struct num sc;
    int sec_pos = mm || (k3 == *j + 1 && t->s[*j] == ' ');
    if (sec_pos && gp_read_num(t, k3, 1, &sc) && sc.int_digits <= 2 && sc.v < 60.0) {
        size_t ms = read_mark(t, sc.end, 2);
        if (ms || spaced) {
            *val += sc.v / 3600.0;
            *step = pow(10.0, -sc.frac_digits) / 3600.0;
            *j = ms ? ms : sc.end;
            c->sexa = 2;
        }
    }
    return spaced;
}

/* One coordinate component at i into c: decimal degrees, or degrees, minutes and
 * seconds (marked, or spaced when allow_spaced and a hemisphere follows), with a
 * label or hemisphere before or after. 0 when there is none. */
static int read_comp(const struct txt *t, size_t i, int allow_spaced, struct comp *c)
{
    memset(c, 0, sizeof *c);
    c->start = i;
    int hax = AX_NONE, hneg = 0;
    size_t j = comp_lead(t, i, c, &hax, &hneg);
    int neg = read_sign(t, &j);
    struct num d;
    if (!gp_read_num(t, j, 1, &d) || d.int_digits > 3)
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
    if (d.frac_digits == 0) /* minutes and seconds follow whole degrees only */
        spaced = comp_sexa(t, &j, allow_spaced, c, &val, &step);
    /* a hemisphere after the number */
    if (!c->hemi) {
        size_t k4 = j;
        while (k4 < t->n && t->s[k4] == ' ')
            k4++;
        size_t e = read_hemi(t, k4, k4 == j, &hax, &hneg);
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

struct cand *gp_add_cand(struct ps *ps, const char *kind, int rank, size_t off, size_t len)
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

void gp_add_span(struct ps *ps, size_t lo, size_t hi)
{
    if (ps->nspans < MAX_SPANS) {
        ps->span_lo[ps->nspans] = lo;
        ps->span_hi[ps->nspans] = hi;
        ps->nspans++;
    }
}

/* If i lies in a consumed span, returns the span's end, else i. */
size_t gp_past_spans(const struct ps *ps, size_t i)
{
    for (size_t k = 0; k < ps->nspans; k++)
        if (i >= ps->span_lo[k] && i < ps->span_hi[k])
            return ps->span_hi[k];
    return i;
}

/* Decides the order of two numbers (a first) and adds the pair. Returns 1 if added. */
int gp_add_pair(struct ps *ps, double a, double b, int order, double acc, const char *kind,
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
    struct cand *c = gp_add_cand(ps, kind, rank + (swapped ? 1 : 0), off, len);
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
        unsigned char c = gp_lc(t->s[i]);
        if (i + 3 <= off && c == 'l') {
            if (gp_lc(t->s[i + 1]) == 'a' && gp_lc(t->s[i + 2]) == 't')
                lat_at = (long)i;
            if ((gp_lc(t->s[i + 1]) == 'o' && gp_lc(t->s[i + 2]) == 'n') ||
                (gp_lc(t->s[i + 1]) == 'n' && gp_lc(t->s[i + 2]) == 'g'))
                lon_at = (long)i;
        }
        if (c == 0xD1 || c == 0xD0) {
            struct txt w = {t->s + i, off - i};
            if (gp_match_pat(&w, 0, "широт") || (w.n >= 10 && memcmp(w.s, "широт", 10) == 0))
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
size_t gp_try_pair(struct ps *ps, const struct txt *t, size_t i, int rank, const char *kind,
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
    if (j < t->n && j + 4 <= lim + 4 && gp_match_pat(t, j, "and"))
        j = gp_skip_spaces(t, j + 3);
    else if (j < t->n && gp_match_pat(t, j, "та"))
        j = gp_skip_spaces(t, j + 4);
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
    gp_add_pair(ps, a.val, b.val, order, acc, k, rank, base + i, b.end - i);
    return b.end;
}
