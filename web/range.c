/* web/range.c - the one HTTP Range form a browser's <video> sends for a stored media
 * file (RFC 9110 14.2): a single "bytes=" range, first-last, first- or -suffix. Several
 * ranges in one header are answered whole (200), as the RFC allows. */
#include <string.h>

#include "web_int.h"
#include "common/banned.h"

static int digits(const char **s, unsigned long long *v)
{
    const char *p = *s;
    unsigned long long x = 0;
    if (*p < '0' || *p > '9')
        return 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (x > (~0ull - 9) / 10)
            return 0;
        x = x * 10 + (unsigned long long)(*p - '0');
    }
    *v = x;
    *s = p;
    return 1;
}

int web_range_parse(const char *h, size_t total, size_t *first, size_t *last)
{
    unsigned long long a = 0, b = 0;
    if (!h)
        return WEB_RANGE_NONE;
    while (*h == ' ')
        h++;
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return WEB_RANGE_NONE; /* another unit, or several ranges: the whole body */
    const char *p = h + 6;
    int has_a = digits(&p, &a);
    if (*p++ != '-')
        return WEB_RANGE_NONE;
    int has_b = digits(&p, &b);
    while (*p == ' ')
        p++;
    if (*p || (!has_a && !has_b) || (has_a && has_b && b < a))
        return WEB_RANGE_NONE; /* not a valid range: ignored */
    if (!has_a) {              /* the last b bytes */
        if (b == 0 || total == 0)
            return WEB_RANGE_UNSATISFIABLE;
        *first = b >= total ? 0 : total - (size_t)b;
        *last = total - 1;
        return WEB_RANGE_OK;
    }
    if (a >= total)
        return WEB_RANGE_UNSATISFIABLE;
    *first = (size_t)a;
    *last = has_b && b < total ? (size_t)b : total - 1;
    return WEB_RANGE_OK;
}
