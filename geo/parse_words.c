/* geo/parse_words.c - the words of a message: a bearing of movement ("рухається на
 * північ", "курс 270") and settlement names looked up in the gazetteer, a shared name
 * settled by a named district or oblast or the points the reporter sent. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/parse_text.h"
#include "common/banned.h"

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
    return n > 0 && gp_prefix_in_lits(move_cues, NLITS(move_cues), w, n);
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

/* The offset of the first letter at or after i; t->n when there is none. */
static size_t skip_to_letter(const struct txt *t, size_t i)
{
    const unsigned char *s = t->s;
    size_t n = t->n, adv;
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
    return i;
}

/* One more letter of case up in w: the first letter's case, and whether all are upper. */
static inline void word_case(struct word *w, int up, int *first)
{
    if (*first)
        w->upper = up;
    else if (!up)
        w->all_upper = 0;
    *first = 0;
}

/* A Cyrillic letter of U+0400..U+047F (D0 xx, or D1 80..9F) lower-cased on its bytes into
 * lo at *ll when it fits: D1 80..9F and D0 B0..BF are lower case already; D0 90..9F (А-П)
 * gain 0x20, D0 A0..AF (Р-Я) become D1 80..8F, D0 80..8F (Ѐ-Џ) D1 90..9F. Returns 1 when
 * it was upper case. */
static inline int cyr2_lower(unsigned char b, unsigned char c1, char *lo, size_t *ll)
{
    int up = b == 0xD0 && c1 < 0xB0;
    if (*ll + 2 < WMAX) {
        if (!up) {
            lo[(*ll)++] = (char)b;
            lo[(*ll)++] = (char)c1;
        } else if (c1 >= 0x90 && c1 <= 0x9F) {
            lo[(*ll)++] = (char)0xD0;
            lo[(*ll)++] = (char)(c1 + 0x20);
        } else {
            lo[(*ll)++] = (char)0xD1;
            lo[(*ll)++] = (char)(c1 >= 0xA0 ? c1 - 0x20 : c1 + 0x10);
        }
    }
    return up;
}

/* The word at or after i into w (its lower-cased form truncated to WMAX); returns where
 * it ends, t->n and an empty word when there is none. */
static size_t next_word(const struct txt *t, size_t i, struct word *w)
{
    const unsigned char *s = t->s;
    size_t n = t->n, adv;
    i = skip_to_letter(t, i);
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
                word_case(w, b < 'a', &first);
                if (ll + 1 < WMAX)
                    lo[ll++] = (char)(b | 0x20);
                i++;
                nl++;
                continue;
            }
            /* apostrophes and hyphens inside a word */
            if ((b == '\'' || b == '-') && gp_letter_at(t, i + 1) && !first) {
                if (ll + 1 < WMAX)
                    lo[ll++] = (char)b;
                i++;
                continue;
            }
            break;
        }
        if ((b == 0xD0 || b == 0xD1) && i + 1 < n && (s[i + 1] & 0xC0) == 0x80 &&
            (b == 0xD0 || s[i + 1] <= 0x9F)) { /* Cyrillic, the common case */
            word_case(w, cyr2_lower(b, s[i + 1], lo, &ll), &first);
            i += 2;
            nl++;
            continue;
        }
        uint32_t c = geo_u8(s, n, i, &adv);
        if (!geo_is_letter(c)) {
            if ((c == 0x2019 || c == 0x2BC) && gp_letter_at(t, i + adv) && !first) {
                if (ll + 1 < WMAX)
                    lo[ll++] = '\'';
                i += adv;
                continue;
            }
            break;
        }
        word_case(w, geo_is_upper(c), &first);
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
    if (!gp_in_lits(bearing_labels, NLITS(bearing_labels), w->low, w->lowlen) &&
        !(w->lowlen >= 12 && memcmp(w->low, "азимут", 12) == 0) &&
        !(w->lowlen >= 8 && memcmp(w->low, "курс", 8) == 0))
        return;
    size_t j = gp_skip_spaces(t, w->off + w->len);
    if (j < t->n && (t->s[j] == ':' || t->s[j] == '='))
        j = gp_skip_spaces(t, j + 1);
    struct num n;
    if (!gp_read_num(t, j, 1, &n) || n.int_digits > 3 || n.v > 360.0)
        return;
    if (n.end < t->n && (t->s[n.end] == ',' || t->s[n.end] == '.') && n.end + 1 < t->n &&
        gp_is_digit(t->s[n.end + 1]))
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
        struct cand *c = gp_add_cand(ps, "place", 2, off, len);
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
    struct cand *c = gp_add_cand(ps, "olc", 0, off, len);
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

/* Does one of the words before (p1, p2, p3: nearest first, NULL where there are fewer)
 * say that something moves? */
static int after_move_cue(const struct word *p1, const struct word *p2, const struct word *p3)
{
    return (p1 && is_move_cue(p1->low, p1->lowlen)) || (p2 && is_move_cue(p2->low, p2->lowlen)) ||
           (p3 && is_move_cue(p3->low, p3->lowlen));
}

/* The direction the word w (ending at e) names as a movement's, or -1: a compass
 * abbreviation, "...bound"/"...ward", a compound, or a direction word and the next one
 * ("північний схід"), each after a movement cue among the words before. */
static double word_direction(struct ps *ps, struct wcache *wc, const struct word *w, size_t e,
                             const struct word *p1, const struct word *p2, const struct word *p3)
{
    const struct txt *t = &ps->t;
    double d = -1;
    if (w->all_upper && w->len <= 3)
        d = compass_abbrev((const char *)t->s + w->off, w->len);
    if (d < 0 && w->lowlen >= 8 && w->low[0] < 0x7F &&
        (strstr(w->low, "bound") || strstr(w->low, "ward")) &&
        !(w->lowlen >= 6 && memcmp(w->low, "toward", 6) == 0))
        return dir_word(w->low, w->lowlen);
    if (d >= 0)
        return after_move_cue(p1, p2, NULL) ? d : -1;
    d = dir_compound(w->low, w->lowlen);
    if (d >= 0 && d != 45 && d != 135 && d != 225 && d != 315 &&
        memchr(w->low, '-', w->lowlen) == NULL) {
        /* "північний схід", "north east": two words */
        struct word nx;
        (void)cached_word(wc, t, e, &nx);
        if (nx.off < t->n && nx.off <= e + 2 && nx.len > 0) {
            double d2 = dir_word(nx.low, nx.lowlen);
            if (d2 >= 0 && ((d == 0 || d == 180) && (d2 == 90 || d2 == 270)))
                d = combine(d, d2);
        }
    }
    return d >= 0 && after_move_cue(p1, p2, p3) ? d : -1;
}

/* A bearing from the word w (ending at e): a labelled number ("азимут 250"), or a
 * direction it names, turned around after "from" ("летять з півдня"). */
static void scan_bearing(struct ps *ps, struct wcache *wc, const struct word *w, size_t e,
                         const struct word *p1, const struct word *p2, const struct word *p3)
{
    int mk = maybe_dir(w);
    int md = (mk & MAYBE_DIR) || (w->all_upper && w->len <= 3);
    if (ps->has_bearing < 2 && mk)
        try_bearing_number(ps, w);
    if (ps->has_bearing || !md)
        return;
    double d = word_direction(ps, wc, w, e, p1, p2, p3);
    if (d < 0)
        return;
    /* "летять з півдня", "coming from the north": heading the other way */
    static const struct lit from[] = {L("з"), L("із"), L("зі"), L("с"), L("со"), L("from")};
    const struct word *fw = p1 && strcmp(p1->low, "the") == 0 ? p2 : p1;
    if (fw && gp_in_lits(from, NLITS(from), fw->low, fw->lowlen))
        d = fmod(d + 180.0, 360.0);
    ps->has_bearing = 1;
    ps->bearing = d;
}

/* The settlements the word w (ending at e) may name, alone or with the next word: a
 * capitalised word, or any after a cue (p1, the word before, its class kept in it once
 * asked). Returns the end of the next word when the name took it too (the word copied
 * into *two), else 0. */
static size_t scan_settlement(struct ps *ps, struct wcache *wc, struct word *w, size_t e,
                              struct word *p1, struct word *two)
{
    const struct txt *t = &ps->t;
    const struct geo_gaz *gaz = ps->ctx ? ps->ctx->gaz : NULL;
    size_t letters = w->letters;
    if (!gaz || letters < 3)
        return 0;
    const struct geo_wordset *ws = &ps->ctx->words;
    int cue = 0;
    if (p1 && p1->off + p1->len + 3 >= w->off) { /* the cue sits right before the word */
        if (p1->cls < 0)
            p1->cls = (int)geo_word_class(ws, p1->low, p1->lowlen);
        if (p1->cls & GEO_W_CUE)
            cue = 2;
        else if (w->upper && (p1->cls & GEO_W_WEAK))
            cue = 1;
    }
    if (!w->upper && !cue)
        return 0;
    if (w->cls < 0)
        w->cls = (int)geo_word_class(ws, w->low, w->lowlen);
    if (w->cls)
        return 0; /* a cue or a common word itself */
    if (w->all_upper && letters <= 4 && !cue)
        return 0; /* acronyms: ЗСУ, БПЛА, HQ */
    int maxd = cue ? (w->upper ? 2 : 1) : 0;
    unsigned long min_pop = (!cue && sentence_start(t, w)) ? 10000 : 0;
    struct geo_place pl[GEO_PLACES_MAX];
    size_t n = 0;
    /* two capitalised words in a row may be one name: "Нова Каховка", "Kryvyi Rih" */
    struct word nx;
    size_t e2 = cached_word(wc, t, e, &nx);
    int used_two = 0;
    if (w->upper && nx.off < t->n && nx.upper && nx.len > 0 && nx.off == e + 1 && t->s[e] == ' ') {
        n = geo_gaz_lookup(gaz, (const char *)t->s + w->off, nx.off + nx.len - w->off, maxd, 0, pl,
                           GEO_PLACES_MAX);
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
        return 0;
    size_t len = used_two ? nx.off + nx.len - w->off : w->len;
    n = geo_places_settle(gaz, t->s, t->n, w->off, len, maxd, used_two ? 0 : gflags, ps->near,
                          ps->n_near, pl, n);
    size_t code_off, code_len = geo_olc_short_near(t->s, t->n, w->off, len, &code_off);
    if (code_len && add_short_code(ps, code_off, code_len, &pl[0])) {
        gp_add_span(ps, code_off, code_off + code_len);
        return 0; /* "8Q7X+FQ Харків": the code says where, the name only helped */
    }
    if (p1 && geo_distance_cue(p1->low, p1->lowlen))
        for (size_t k = 0; k < n; k++)
            pl[k].accuracy_m += GEO_NEAR_EXTRA_M;
    add_places(ps, pl, n, w->off, len);
    if (!used_two)
        return 0;
    *two = nx;
    return e2;
}

void gp_scan_words(struct ps *ps)
{
    const struct txt *t = &ps->t;
    struct word ring[4];
    struct wcache wc = {.valid = 0};
    size_t nw = 0;
    size_t i = 0;
    while (i < t->n) {
        struct word *w = &ring[nw % 4];
        size_t e = cached_word(&wc, t, i, w);
        if (w->len == 0)
            break;
        size_t sp = gp_past_spans(ps, w->off);
        if (sp != w->off) {
            i = sp;
            continue;
        }
        struct word *p1 = nw >= 1 ? &ring[(nw - 1) % 4] : NULL;
        const struct word *p2 = nw >= 2 ? &ring[(nw - 2) % 4] : NULL;
        const struct word *p3 = nw >= 3 ? &ring[(nw - 3) % 4] : NULL;
        nw++;
        i = e;
        scan_bearing(ps, &wc, w, e, p1, p2, p3);
        size_t e2 = scan_settlement(ps, &wc, w, e, p1, &ring[nw % 4]);
        if (e2) {
            i = e2;
            nw++;
        }
    }
}
