/* common/utf8.c - the check of outside text as well-formed UTF-8 (RFC 3629, table 3-7
 * of the Unicode standard), byte by byte: each lead byte admits one range for the
 * byte after it, which is what refuses overlongs, surrogates and code points above
 * U+10FFFF without decoding. */
#include "utf8.h"

#include "banned.h"

int tl_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        unsigned c = *p;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* below: overlong */
            else if (c == 0xED)
                hi = 0x9F; /* above: surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90; /* below: overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* above: beyond U+10FFFF */
        } else {
            return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
        }
        if ((size_t)(e - p) < len || p[1] < lo || p[1] > hi)
            return 0;
        for (size_t i = 2; i < len; i++)
            if ((p[i] & 0xC0) != 0x80)
                return 0;
        p += len;
    }
    return 1;
}
