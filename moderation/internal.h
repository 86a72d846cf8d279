/* moderation/internal.h - helpers shared inside moderation/ only: UTF-8 decoding,
 * the case fold the prefilter and the normaliser agree on, and the literals of a
 * pattern the prefilter is built from. */
#ifndef TL_MOD_INTERNAL_H
#define TL_MOD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s[*i] (advancing *i); returns -1 for an invalid or
 * truncated sequence (then *i advances by one byte). */
static inline int32_t mod_utf8_next(const unsigned char *s, size_t n, size_t *i)
{
    size_t p = *i;
    unsigned c = s[p];
    if (c < 0x80) {
        *i = p + 1;
        return (int32_t)c;
    }
    int need;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        need = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3, cp = c & 0x07, min = 0x10000;
    } else {
        *i = p + 1;
        return -1;
    }
    if (p + (size_t)need >= n) {
        *i = p + 1;
        return -1;
    }
    for (int k = 1; k <= need; k++) {
        unsigned d = s[p + (size_t)k];
        if ((d & 0xC0) != 0x80) {
            *i = p + 1;
            return -1;
        }
        cp = cp << 6 | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i = p + 1;
        return -1;
    }
    *i = p + 1 + (size_t)need;
    return (int32_t)cp;
}

/* Appends cp as UTF-8 at d (room for 4 bytes); returns the bytes written. */
static inline size_t mod_utf8_put(char *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The simple case fold of the scripts the prefilter trusts: ASCII, Latin-1 letters,
 * Cyrillic U+0400-U+045F and U+0490/U+0491, plus the few code points pcre2's caseless
 * matching makes equal to them (KELVIN SIGN, LONG S, the old Cyrillic variants
 * U+1C80-U+1C86). Others are returned unchanged. */
static inline uint32_t mod_fold(uint32_t c)
{
    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    if (c == 0x490)
        return 0x491;
    if (c == 0x212A)
        return 'k';
    if (c == 0x17F)
        return 's';
    if (c >= 0x1C80 && c <= 0x1C86) {
        static const uint16_t old[] = {0x432, 0x434, 0x43E, 0x441, 0x442, 0x442, 0x44A};
        return old[c - 0x1C80];
    }
    return c;
}

/* 1 when the prefilter may take c as a literal of a caseless pattern: everything
 * pcre2 would match it with caselessly folds to the same code point under mod_fold. */
static inline int mod_fold_trusted(uint32_t c)
{
    if (c < 0x80)
        return 1;
    /* Latin-1 letters have partners outside (e.g. U+00E5 and ANGSTROM SIGN, U+00DF and
     * U+1E9E, U+00B5 and Greek mu): not trusted. Cyrillic base letters are. */
    return (c >= 0x400 && c <= 0x45F) || c == 0x490 || c == 0x491;
}

/* ---- the literals of a pattern (literals.c), for the rules' prefilter ---- */
#define MOD_LIT_N 16
#define MOD_LIT_LEN 64

struct mod_litset {
    int ok;
    int n;
    uint8_t len[MOD_LIT_N];
    unsigned char s[MOD_LIT_N][MOD_LIT_LEN];
};

/* The literals one of which every match of pattern contains, folded; ok=0 if unknown. */
void mod_literals_of(const char *pattern, size_t len, struct mod_litset *out);

#endif
