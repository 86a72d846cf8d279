/* geo/homonym.c - what the words around a place name say about it: which of several
 * villages sharing a name the reporter meant (the one in the oblast the message
 * names, "Новоселівка Харківської області", "Novoselivka, Kharkiv oblast"; else the
 * one nearest a point the reporter sent: shared location, photo GPS; when neither
 * decides, all stay, as one alt_group), and whether a preposition puts the event
 * near the place rather than in it ("біля", "під", "на околиці", "near", "outside"). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "common/util.h"
#include "geo/geo_int.h"
#include "common/banned.h"

/* A point further than this from every candidate decides nothing: a reporter in Lviv
 * who names a village near the front is not telling which of them. */
#define NEAR_MAX_M 150000.0

/* How each oblast's name begins as an adjective (Ukrainian, Russian, Latin), by
 * GeoNames admin1 code; lower case. */
static const struct {
    unsigned code;
    const char *stem[4];
} oblasts[] = {
    {1, {"черкаськ", "черкасск", "cherkas", NULL}},
    {2, {"чернігівськ", "черниговск", "chernihiv", "chernigov"}},
    {3, {"чернівецьк", "черновицк", "chernivts", "chernovts"}},
    {4, {"дніпропетровськ", "днепропетровск", "dnipropetrovs", "dnepropetrovs"}},
    {5, {"донецьк", "донецк", "donets", NULL}},
    {6, {"івано-франківськ", "ивано-франковск", "ivano-frankivs", NULL}},
    {7, {"харківськ", "харьковск", "kharkiv", "kharkov"}},
    {8, {"херсонськ", "херсонск", "kherson", NULL}},
    {9, {"хмельницьк", "хмельницк", "khmelnyts", "khmelnits"}},
    {10, {"кіровоградськ", "кировоградск", "kirovohrad", "kirovograd"}},
    {13, {"київськ", "киевск", "kyiv", "kiev"}},
    {14, {"луганськ", "луганск", "luhans", "lugans"}},
    {15, {"львівськ", "львовск", "lviv", "lvov"}},
    {16, {"миколаївськ", "николаевск", "mykolaiv", "nikolaev"}},
    {17, {"одеськ", "одесск", "odes", NULL}},
    {18, {"полтавськ", "полтавск", "poltav", NULL}},
    {19, {"рівненськ", "ровенск", "rivne", "rovno"}},
    {21, {"сумськ", "сумск", "sumy", "sumsk"}},
    {22, {"тернопільськ", "тернопольск", "ternopil", NULL}},
    {23, {"вінницьк", "винницк", "vinnyts", "vinnits"}},
    {24, {"волинськ", "волынск", "volyn", NULL}},
    {25, {"закарпатськ", "закарпатск", "zakarpat", "transcarpath"}},
    {26, {"запорізьк", "запорожск", "zaporizh", "zaporozh"}},
    {27, {"житомирськ", "житомирск", "zhytomyr", "zhitomir"}},
};

/* The words that say "oblast", lower case: how they begin. */
static const char *const oblast_words[] = {"обл", "oblast", "region", "reg."};

static size_t put_u8(uint32_t c, char *o)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | (c >> 6));
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    o[0] = (char)(0xE0 | (c >> 12));
    o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

/* The word at s[i] (letters, hyphens, dots) lower-cased into w (NUL-terminated);
 * returns the index after it. */
static size_t read_word(const unsigned char *s, size_t n, size_t i, char *w, size_t cap)
{
    size_t k = 0;
    while (i < n) {
        size_t adv;
        uint32_t c = geo_u8(s, n, i, &adv);
        if (!geo_is_letter(c) && c != '-' && c != '.')
            break;
        if (k + 4 < cap)
            k += put_u8(geo_lower(c), w + k);
        i += adv;
    }
    w[k] = '\0';
    return i;
}

static size_t skip_seps(const unsigned char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == ',' || s[i] == '(' || s[i] == '\t'))
        i++;
    return i;
}

static int starts(const char *w, const char *p)
{
    return strncmp(w, p, strlen(p)) == 0;
}

/* The Ukrainian oblast named right after byte from ("Харківської області", "Kharkiv
 * oblast", "(Запорожская обл.)"): its GeoNames admin1 code, *end past the words; 0 when
 * none is named. */
static unsigned oblast_after(const unsigned char *s, size_t n, size_t from, size_t *end)
{
    char w1[96], w2[48];
    size_t i = skip_seps(s, n, from);
    if (i == from && i < n)
        return 0; /* glued to the name */
    size_t e1 = read_word(s, n, i, w1, sizeof w1);
    if (e1 == i)
        return 0;
    size_t j = skip_seps(s, n, e1);
    size_t e2 = read_word(s, n, j, w2, sizeof w2);
    int marker = 0;
    for (size_t k = 0; k < sizeof oblast_words / sizeof *oblast_words && !marker; k++)
        marker = starts(w2, oblast_words[k]);
    if (!marker || j == e1)
        return 0;
    for (size_t k = 0; k < sizeof oblasts / sizeof *oblasts; k++)
        for (size_t m = 0; m < 4 && oblasts[k].stem[m]; m++)
            if (starts(w1, oblasts[k].stem[m])) {
                *end = e2;
                return oblasts[k].code;
            }
    return 0;
}

/* Adjectival endings of a district's name ("Ізюмського району", "Лозовского района"),
 * longest first; a leading ц or з is part of the name ("Хмельницького"). */
static const char *const district_adj[] = {
    "ського", "ському", "ській", "ської", "ський",  "ська",   "ське",  "ского",
    "ском",   "ский",   "ская",  "ское",  "цького", "цькому", "цький", "цька",
    "зького", "зькому", "зький", "цкого", "цком",   "цкий",
};

/* The words that say "district", lower case: how they begin. */
static const char *const district_words[] = {"район", "р-н",   "р-на",    "р-ну",
                                             "raion", "rayon", "district"};

/* The district named right after byte from ("Ізюмського району", "Izium raion"): the
 * key (geo_gaz_key) of its name's stem into key, its length returned, *end past the
 * words; 0 when none is named. */
static size_t district_after(const unsigned char *s, size_t n, size_t from, char *key, size_t cap,
                             size_t *end)
{
    char w1[96], w2[48];
    size_t i = skip_seps(s, n, from);
    if (i == from && i < n)
        return 0;
    size_t e1 = read_word(s, n, i, w1, sizeof w1);
    size_t j = skip_seps(s, n, e1);
    size_t e2 = read_word(s, n, j, w2, sizeof w2);
    int marker = 0;
    for (size_t k = 0; k < sizeof district_words / sizeof *district_words && !marker; k++)
        marker = starts(w2, district_words[k]);
    if (e1 == i || j == e1 || !marker)
        return 0;
    size_t l1 = strlen(w1);
    for (size_t k = 0; k < sizeof district_adj / sizeof *district_adj; k++) {
        size_t el = strlen(district_adj[k]);
        if (l1 > el + 4 && memcmp(w1 + l1 - el, district_adj[k], el) == 0) {
            int keep = starts(district_adj[k], "ц") || starts(district_adj[k], "з");
            l1 -= el - (keep ? 2 : 0);
            break;
        }
    }
    size_t kl = geo_gaz_key(w1, l1, 1, key, cap);
    if (kl < 3)
        return 0;
    *end = e2;
    return kl;
}

/* Keeps the places whose district's name begins like key (one letter may differ);
 * n (all kept) when none does. */
static size_t in_district(struct geo_place *pl, size_t n, const char *key, size_t kl)
{
    size_t m = 0;
    struct geo_place keep[GEO_PLACES_MAX];
    for (size_t k = 0; k < n && k < GEO_PLACES_MAX; k++) {
        const char *d = pl[k].district ? pl[k].district : "";
        char dk[48];
        size_t dl = geo_gaz_key(d, strcspn(d, " "), 0, dk, sizeof dk);
        if (dl < kl)
            continue;
        /* the stem against as much of the district's name: one letter may differ
         * (Лозівського / Lozova) */
        int diff = 0;
        for (size_t q = 0; q < kl; q++)
            diff += key[q] != dk[q];
        if (diff == 0 || (diff == 1 && kl >= 5 && key[0] == dk[0]))
            keep[m++] = pl[k];
    }
    if (m == 0)
        return n; /* a district none of them lies in decides nothing */
    memcpy(pl, keep, m * sizeof *pl);
    return m;
}

/* Keeps the one of n places nearest an accepted point of near (within NEAR_MAX_M) in
 * pl[0] and returns 1; n when no point decides. */
static size_t nearest(struct geo_place *pl, size_t n, const struct geo_point *near, size_t n_near)
{
    if (n < 2)
        return n;
    size_t best = SIZE_MAX;
    double bd = NEAR_MAX_M;
    for (size_t q = 0; q < n_near; q++) {
        if (near[q].reject)
            continue;
        for (size_t k = 0; k < n; k++) {
            double d = geo_haversine_m(near[q].lat, near[q].lon, pl[k].lat, pl[k].lon);
            if (d < bd) {
                bd = d;
                best = k;
            }
        }
    }
    if (best == SIZE_MAX)
        return n;
    pl[0] = pl[best];
    return 1;
}

int geo_region_after(const unsigned char *s, size_t n, size_t from)
{
    size_t end;
    char key[48];
    return oblast_after(s, n, from, &end) || district_after(s, n, from, key, sizeof key, &end);
}

size_t geo_places_settle(const struct geo_gaz *gaz, const unsigned char *s, size_t n, size_t off,
                         size_t len, int maxd, int flags, const struct geo_point *near,
                         size_t n_near, struct geo_place *pl, size_t np)
{
    char dkey[48];
    size_t end = off + len, ob_end;
    if (np < 2)
        return np;
    /* "Новоселівка Ізюмського району Харківської області": district, then oblast */
    size_t dkl = district_after(s, n, end, dkey, sizeof dkey, &end);
    unsigned adm = oblast_after(s, n, end, &ob_end);
    if (adm) { /* that oblast's, looked up again: the first answer may be cut short */
        size_t m = geo_gaz_lookup_in(gaz, (const char *)s + off, len, maxd, flags, adm, pl,
                                     GEO_PLACES_MAX);
        np = m ? m : np;
    }
    if (np > 1 && dkl)
        np = in_district(pl, np, dkey, dkl);
    if (np > 1 && n_near)
        np = nearest(pl, np, near, n_near);
    return np;
}

/* Prepositions that put the event around the place, not in it (lower case). */
static const char *const distance_cues[] = {
    "біля",  "під", "поблизу", "неподалік", "околиці", "околицях", "поруч",  "возле",
    "около", "под", "рядом",   "окраине",   "near",    "outside",  "around", "nearby",
};

int geo_distance_cue(const char *low, size_t n)
{
    for (size_t k = 0; k < sizeof distance_cues / sizeof *distance_cues; k++)
        if (strlen(distance_cues[k]) == n && memcmp(distance_cues[k], low, n) == 0)
            return 1;
    return 0;
}

/* A coordinate as written with six decimals (a tenth of a metre), not as the nearest
 * double prints. */
static struct json_object *deg6(double v)
{
    char b[32];
    snprintf(b, sizeof b, "%.6f", v);
    return json_object_new_double_s(v, b);
}

char *geo_alternatives_json(const struct geo_result *r)
{
    unsigned grp = 0;
    for (size_t i = 0; r && i < r->n && !grp; i++)
        grp = r->cand[i].alt_group;
    if (!grp)
        return NULL;
    struct json_object *a = json_object_new_array();
    char *out = NULL;
    if (!a)
        return NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct geo_point *p = &r->cand[i];
        if (p->alt_group != grp)
            continue;
        struct json_object *o = json_object_new_object();
        if (!o || json_object_array_add(a, o) != 0) {
            json_object_put(o);
            goto out;
        }
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "oblast", json_object_new_string(p->oblast));
        if (p->district[0])
            json_object_object_add(o, "district", json_object_new_string(p->district));
        json_object_object_add(o, "country", json_object_new_string(p->country));
        json_object_object_add(o, "lat", deg6(p->lat));
        json_object_object_add(o, "lon", deg6(p->lon));
        json_object_object_add(o, "accuracy_m", json_object_new_double(p->accuracy_m));
    }
    const char *s = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
    out = s ? tl_strdup(s) : NULL;
out:
    json_object_put(a);
    return out;
}
