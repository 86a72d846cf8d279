/* moderation/text.c - text hygiene at intake (display form, links, Telegram's length)
 * and the normalised form campaign matching compares. */
#include <stdlib.h>
#include <string.h>

#include "moderation/mod.h"
#include "moderation/internal.h"
#include "common/banned.h"

static int is_bidi(uint32_t c)
{
    return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

int mod_text_display(const char *text, size_t len, char **out, size_t *neutralised)
{
    size_t nn = 0, o = 0;
    /* the worst case: every byte an invalid one, three bytes of U+FFFD each */
    char *d = malloc(len * 3 + 1);
    *out = NULL;
    if (neutralised)
        *neutralised = 0;
    if (!d)
        return TL_ENOMEM;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    for (size_t i = 0; i < len;) {
        int32_t c = mod_utf8_next(s, len, &i);
        if (c < 0 || (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c < 0xA0)) {
            o += mod_utf8_put(d + o, 0xFFFD);
            nn++;
        } else if (is_bidi((uint32_t)c)) {
            nn++;
        } else if (c == 0x2028 || c == 0x2029) {
            d[o++] = '\n';
            nn++;
        } else {
            o += mod_utf8_put(d + o, (uint32_t)c);
        }
    }
    d[o] = '\0';
    *out = d;
    if (neutralised)
        *neutralised = nn;
    return TL_OK;
}

size_t mod_text_utf16_len(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) != 0x80)
            n += c >= 0xF0 ? 2 : 1;
    }
    return n;
}

size_t mod_text_bound(const char *text, size_t len, size_t max_units)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t u = c >= 0xF0 ? 2 : 1;
        if (n + u > max_units)
            return i;
        n += u;
    }
    return len;
}

static int starts_ci(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    if (n < l)
        return 0;
    for (size_t k = 0; k < l; k++) {
        char c = s[k];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[k])
            return 0;
    }
    return 1;
}

/* A link ends at a blank, a control, or an ASCII character no URL holds unescaped. */
static int link_byte(unsigned char c)
{
    return c > 0x20 && c != 0x7F && !strchr("<>\"`{}|\\^", c);
}

static int ascii_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "@name" where name is a Telegram username (a letter, then letters, digits and
 * underscores, 5 to 32 in all), not followed by more of a word or an address ("@name."
 * ending a sentence counts; "a@b.c", "@name@host" do not): its length in bytes, or 0. */
static size_t mention_len(const char *s, size_t n)
{
    size_t k = 1;
    if (n < 6 || s[0] != '@' || !((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z'))
        return 0;
    while (k < n && (ascii_alnum((unsigned char)s[k]) || s[k] == '_'))
        k++;
    if (k - 1 < 5 || k - 1 > 32 || s[k - 1] == '_')
        return 0;
    if (k < n && ((unsigned char)s[k] >= 0x80 || s[k] == '@' ||
                  (s[k] == '.' && k + 1 < n && ascii_alnum((unsigned char)s[k + 1]))))
        return 0;
    return k;
}

size_t mod_links_find(const char *text, size_t len, struct mod_link *links, size_t max)
{
    static const char *const starts[] = {"https://", "http://", "tg://", "www.", "t.me/"};
    size_t found = 0;
    if (!text)
        return 0;
    for (size_t i = 0; i < len;) {
        /* a link starts at the beginning of a word */
        int word_start = i == 0 || !link_byte((unsigned char)text[i - 1]) ||
                         strchr("([«„'", text[i - 1]) != NULL;
        size_t sl = 0, ml = word_start ? mention_len(text + i, len - i) : 0;
        if (ml) {
            if (found < max) {
                links[found].off = i;
                links[found].len = ml;
            }
            found++;
            i += ml;
            continue;
        }
        for (size_t k = 0; word_start && !sl && k < sizeof(starts) / sizeof(*starts); k++)
            if (starts_ci(text + i, len - i, starts[k]))
                sl = strlen(starts[k]);
        if (!sl) {
            i++;
            continue;
        }
        size_t e = i + sl;
        while (e < len && link_byte((unsigned char)text[e]))
            e++;
        /* trailing punctuation belongs to the sentence; a closing bracket too unless
         * the link opened one */
        while (e > i + sl) {
            unsigned char c = (unsigned char)text[e - 1];
            if (strchr(".,;:!?'*", c)) {
                e--;
            } else if (c == ')' && !memchr(text + i, '(', e - i)) {
                e--;
            } else if (e - i - sl >= 2 && (unsigned char)text[e - 2] == 0xC2 &&
                       (c == 0xBB || c == 0xAB)) { /* » « */
                e -= 2;
            } else {
                break;
            }
        }
        if (e > i + sl) {
            if (found < max) {
                links[found].off = i;
                links[found].len = e - i;
            }
            found++;
        }
        i = e > i + sl ? e : i + sl;
    }
    return found;
}

/* Cyrillic letters that look like Latin ones, folded to those (after mod_fold). */
static uint32_t lookalike(uint32_t c)
{
    switch (c) {
    case 0x430:
        return 'a';
    case 0x432:
        return 'b';
    case 0x435:
        return 'e';
    case 0x456:
        return 'i';
    case 0x458:
        return 'j';
    case 0x43A:
        return 'k';
    case 0x43C:
        return 'm';
    case 0x43D:
        return 'h';
    case 0x43E:
        return 'o';
    case 0x440:
        return 'p';
    case 0x441:
        return 'c';
    case 0x442:
        return 't';
    case 0x443:
        return 'y';
    case 0x445:
        return 'x';
    case 0x455:
        return 's';
    default:
        return c;
    }
}

/* Letters of the scripts tipline's traffic is written in; everything else but digits
 * and blanks (punctuation, symbols, emoji, marks) is dropped. */
static int is_letter(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0x24F && c != 0xF7) ||
           (c >= 0x370 && c <= 0x3FF) || (c >= 0x400 && c <= 0x52F) || (c >= 0x531 && c <= 0x58F) ||
           (c >= 0x5D0 && c <= 0x5EA) || (c >= 0x620 && c <= 0x64A) ||
           (c >= 0x10A0 && c <= 0x10FF) || (c >= 0x1E00 && c <= 0x1EFF) ||
           (c >= 0x3040 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7A3);
}

/* Blanks, which separate words; everything else that is not a letter, digit or mark is
 * punctuation, a symbol or emoji. */
static int is_blank(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x3000;
}

int mod_text_normalise(const char *text, size_t len, char **out)
{
    char *d = malloc(len * 2 + 1);
    size_t o = 0;
    int space = 0, digit = 0;
    *out = NULL;
    if (!d)
        return TL_ENOMEM;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    for (size_t i = 0; i < len;) {
        int32_t c = mod_utf8_next(s, len, &i);
        if (c < 0)
            continue;
        uint32_t f = lookalike(mod_fold((uint32_t)c));
        if (f == 0x451) /* ё */
            f = 'e';
        if (f >= '0' && f <= '9') {
            if (!digit) {
                if (space && o > 0)
                    d[o++] = ' ';
                d[o++] = '0';
            }
            digit = 1, space = 0;
        } else if (is_letter(f)) {
            if (space && o > 0)
                d[o++] = ' ';
            o += mod_utf8_put(d + o, f);
            digit = 0, space = 0;
        } else if (is_blank(f)) {
            space = 1, digit = 0;
        } else if (f == 0x200D || f == 0xFE0F || (f >= 0x300 && f <= 0x36F) ||
                   (f >= 0x1F3FB && f <= 0x1F3FF)) {
            /* joiners, variation selectors, combining marks, skin tones: nothing */
        } else {
            /* punctuation, symbols, emoji: a word break, so "a.b" and "a b" agree */
            space = 1, digit = 0;
        }
    }
    d[o] = '\0';
    *out = d;
    return TL_OK;
}

int mod_text_fold_key(const char *text, size_t len, char **out)
{
    *out = NULL;
    if (!text)
        return TL_OK;
    char *d = malloc(len + 1);
    if (!d)
        return TL_ENOMEM;
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0, keep = 0;
    int space = 0;
    for (size_t i = 0; i < len;) {
        int32_t c = mod_utf8_next(s, len, &i);
        if (c < 0)
            continue;
        uint32_t f = mod_fold((uint32_t)c);
        if (is_blank(f)) {
            space = 1;
            continue;
        }
        if (space && o > 0)
            d[o++] = ' ';
        space = 0;
        o += mod_utf8_put(d + o, f);
        /* a letter, a digit, or a mark on one: the words end after it */
        if (is_letter(f) || (f >= '0' && f <= '9') || (f >= 0x300 && f <= 0x36F))
            keep = o;
    }
    /* nothing but punctuation or emoji: those are the words */
    d[keep ? keep : o] = '\0';
    if (!d[0]) {
        free(d);
        return TL_OK;
    }
    *out = d;
    return TL_OK;
}
