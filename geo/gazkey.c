/* geo/gazkey.c - the key a settlement's name is matched by, shared by the gazetteer's
 * lookup (gaz.c), its builders (gazbuild.c, gazimport.c) and the homonym rules: a word
 * transliterated from Cyrillic (the Ukrainian national system or the Russian BGN/PCGN
 * one) or lower-cased from Latin, folded so that transliteration variants coincide; the
 * hash of a key's consonants and the prefilter bit of its first letters; the names of
 * Ukraine's oblasts by GeoNames admin1 code. Pure functions of their arguments. */
#include <stdint.h>
#include <string.h>

#include "common/hash.h"
#include "geo/gaz_int.h"
#include "geo/geo_int.h"
#include "common/banned.h"

#define PRE_BITS GZ_PRE_BITS

static int is_vowel(char c)
{
    return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

/* The filter bit of a key's first letter and its first m consonants (m <= 3), or -1
 * when the key has fewer than m consonants. Vowel edits, dropped case endings and the
 * choice of transliteration leave these letters alone. */
long gz_pre_index(const char *key, size_t n, int m)
{
    uint32_t h = (uint32_t)(unsigned char)key[0] * 31u + (uint32_t)m;
    int got = 0;
    for (size_t i = 0; i < n && got < m; i++)
        if (!is_vowel(key[i])) {
            h = h * 131u + (unsigned char)key[i];
            got++;
        }
    if (got < m || n == 0)
        return -1;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (long)(h & (PRE_BITS - 1));
}

/* GeoNames admin1 codes of Ukraine. */
static const char *const ua_oblast[28] = {
    "",
    "Cherkasy Oblast",
    "Chernihiv Oblast",
    "Chernivtsi Oblast",
    "Dnipropetrovsk Oblast",
    "Donetsk Oblast",
    "Ivano-Frankivsk Oblast",
    "Kharkiv Oblast",
    "Kherson Oblast",
    "Khmelnytskyi Oblast",
    "Kirovohrad Oblast",
    "Autonomous Republic of Crimea",
    "Kyiv",
    "Kyiv Oblast",
    "Luhansk Oblast",
    "Lviv Oblast",
    "Mykolaiv Oblast",
    "Odesa Oblast",
    "Poltava Oblast",
    "Rivne Oblast",
    "Sevastopol",
    "Sumy Oblast",
    "Ternopil Oblast",
    "Vinnytsia Oblast",
    "Volyn Oblast",
    "Zakarpattia Oblast",
    "Zaporizhzhia Oblast",
    "Zhytomyr Oblast",
};

const char *gz_ua_oblast(unsigned v)
{
    return v >= 1 && v <= 27 ? ua_oblast[v] : "";
}

static const char *tr_common(uint32_t c)
{
    switch (c) {
    case 0x430:
        return "a";
    case 0x431:
        return "b";
    case 0x432:
        return "v";
    case 0x434:
        return "d";
    case 0x436:
        return "zh";
    case 0x437:
        return "z";
    case 0x43A:
        return "k";
    case 0x43B:
        return "l";
    case 0x43C:
        return "m";
    case 0x43D:
        return "n";
    case 0x43E:
        return "o";
    case 0x43F:
        return "p";
    case 0x440:
        return "r";
    case 0x441:
        return "s";
    case 0x442:
        return "t";
    case 0x443:
        return "u";
    case 0x444:
        return "f";
    case 0x445:
        return "kh";
    case 0x446:
        return "ts";
    case 0x447:
        return "ch";
    case 0x448:
        return "sh";
    case 0x449:
        return "shch";
    case 0x44B:
        return "y";
    case 0x44D:
        return "e";
    case 0x451:
        return "yo";
    case 0x456:
        return "i";
    case 0x491:
        return "g";
    default:
        return "";
    }
}

/* Ukrainian national transliteration (2010) of one lower-case Cyrillic letter;
 * initial selects the word-initial forms (є -> ye, ї -> yi, й -> y, ю -> yu, я -> ya). */
static const char *tr_uk(uint32_t c, int initial)
{
    switch (c) {
    case 0x433:
        return "h";
    case 0x435:
        return "e";
    case 0x438:
        return "y";
    case 0x439:
        return initial ? "y" : "i";
    case 0x44E:
        return initial ? "yu" : "iu";
    case 0x44F:
        return initial ? "ya" : "ia";
    case 0x454:
        return initial ? "ye" : "ie";
    case 0x457:
        return initial ? "yi" : "i";
    default:
        return tr_common(c);
    }
}

/* Russian transliteration (BGN/PCGN, as GeoNames mostly spells Russian names). */
static const char *tr_ru(uint32_t c, int initial)
{
    switch (c) {
    case 0x433:
        return "g";
    case 0x435:
        return initial ? "ye" : "e";
    case 0x438:
        return "i";
    case 0x439:
        return "y";
    case 0x44E:
        return "yu";
    case 0x44F:
        return "ya";
    case 0x454:
        return "ye";
    case 0x457:
        return "yi";
    default:
        return tr_common(c);
    }
}

const char *gz_translit(uint32_t c, int ukr, int initial)
{
    return ukr ? tr_uk(c, initial) : tr_ru(c, initial);
}

/* Folds a lower-case ASCII Latin spelling to the matching key. */
size_t gz_fold(const char *lat, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 < cap;) {
        char c = lat[i], c1 = i + 1 < n ? lat[i + 1] : 0, o;
        size_t adv = 1;
        switch (c) {
        case 's': /* shch, sch, sh -> s */
            if (c1 == 'h')
                adv = (i + 3 < n && lat[i + 2] == 'c' && lat[i + 3] == 'h') ? 4 : 2;
            else if (c1 == 'c' && i + 2 < n && lat[i + 2] == 'h')
                adv = 3;
            o = 's';
            break;
        case 'k': /* kh -> h */
            adv = c1 == 'h' ? 2 : 1;
            o = c1 == 'h' ? 'h' : 'k';
            break;
        case 'c': /* ch -> c */
        case 'z': /* zh -> z */
            adv = c1 == 'h' ? 2 : 1;
            o = c;
            break;
        case 't': /* ts, tz -> c */
            adv = (c1 == 's' || c1 == 'z') ? 2 : 1;
            o = adv == 2 ? 'c' : 't';
            break;
        case 'g':
            o = 'h';
            break;
        case 'y':
        case 'j':
            o = 'i';
            break;
        case 'w':
            o = 'v';
            break;
        case 'q':
            o = 'k';
            break;
        case 'x':
            if (k == 0 || out[k - 1] != 'k')
                out[k++] = 'k';
            o = 's';
            break;
        default:
            o = (c >= 'a' && c <= 'z') ? c : 0;
        }
        i += adv;
        if (!o || (k > 0 && out[k - 1] == o))
            continue;
        out[k++] = o;
    }
    out[k] = '\0';
    return k;
}

/* Latin letters with diacritics (Polish, Romanian, Hungarian, Slovak names of the
 * neighbours) to their base letters, lower case; 0 if none. */
static char latin_base(uint32_t c)
{
    static const char l1[] = "aaaaaaaceeeeiiiidnooooo-ouuuuytsaaaaaaaceeeeiiiidnooooo-ouuuuyty";
    static const char ea[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiijjjjkkklllllllll"
                             "lnnnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
    if (c >= 0xC0 && c <= 0xFF)
        return l1[c - 0xC0] == '-' ? 0 : l1[c - 0xC0];
    if (c >= 0x100 && c <= 0x17F)
        return ea[c - 0x100];
    if (c >= 0x218 && c <= 0x21B)
        return c < 0x21A ? 's' : 't';
    return 0;
}

/* Transliterates (Cyrillic) or lower-cases (Latin) a UTF-8 word into ASCII,
 * dropping apostrophes, soft signs, spaces, hyphens and other marks. */
static size_t to_latin(const char *w, size_t wlen, int ukr, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)w;
    size_t k = 0;
    int initial = 1;
    for (size_t i = 0; i < wlen;) {
        if (s[i] < 0x80 && ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z')) {
            if (k + 1 < cap)
                out[k++] = (char)(s[i] | 0x20);
            i++;
            initial = 0;
            continue;
        }
        size_t adv;
        uint32_t c = geo_lower(geo_u8(s, wlen, i, &adv));
        i += adv;
        const char *t = NULL;
        char one[2] = {0, 0};
        if (c >= 'a' && c <= 'z') {
            one[0] = (char)c;
            t = one;
        } else if (geo_is_cyr(c)) {
            t = gz_translit(c, ukr, initial);
        } else if ((one[0] = latin_base(c)) != 0) {
            t = one;
        } else if (c == ' ' || c == '-') {
            initial = 1;
            continue;
        } else {
            continue; /* apostrophes, accents, other marks */
        }
        for (; *t && k + 1 < cap; t++)
            out[k++] = *t;
        initial = 0;
    }
    out[k] = '\0';
    return k;
}

size_t geo_gaz_key(const char *w, size_t wlen, int ukr, char *out, size_t n)
{
    char lat[128];
    size_t l = to_latin(w, wlen, ukr, lat, sizeof lat);
    return gz_fold(lat, l, out, n);
}

uint32_t gz_skel_hash(const char *key, size_t n, size_t *skel_len)
{
    uint32_t h = TL_FNV1A_INIT;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u')
            continue;
        h = tl_fnv1a_step(h, (unsigned char)c);
        m++;
    }
    *skel_len = m;
    return h ? h : 1;
}

/* to_latin that also records, for each input byte offset, the output length so far
 * (map has wl + 1 entries): the Latin of a prefix is a prefix of the Latin. */
size_t gz_to_latin_map(const char *w, size_t wl, int ukr, char *out, size_t cap, unsigned char *map)
{
    const unsigned char *s = (const unsigned char *)w;
    size_t k = 0;
    int initial = 1;
    for (size_t i = 0; i < wl;) {
        map[i] = (unsigned char)k;
        size_t adv;
        uint32_t c = geo_lower(geo_u8(s, wl, i, &adv));
        for (size_t q = 1; q < adv && i + q < wl; q++)
            map[i + q] = (unsigned char)k;
        i += adv;
        const char *t;
        char one[2] = {0, 0};
        if (c < 0x80 && c >= 'a' && c <= 'z') {
            one[0] = (char)c;
            t = one;
        } else if (geo_is_cyr(c)) {
            t = gz_translit(c, ukr, initial);
        } else if ((one[0] = latin_base(c)) != 0) {
            t = one;
        } else {
            continue;
        }
        for (; *t && k + 1 < cap; t++)
            out[k++] = *t;
        initial = 0;
    }
    map[wl] = (unsigned char)k;
    out[k] = '\0';
    return k;
}
