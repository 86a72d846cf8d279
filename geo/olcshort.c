/* geo/olcshort.c - short Plus Codes ("8Q7X+FQ Харків"): the code without its first
 * digits, made whole again from a nearby reference point as the Open Location Code
 * specification's recoverNearest does, and found next to a place name in text. */
#include <math.h>
#include <string.h>

#include "geo/geo_int.h"
#include "common/banned.h"

static const char olc_alpha[] = "23456789CFGHJMPQRVWX";

static int olc_digit(unsigned char c)
{
    if (c >= 'a' && c <= 'z')
        c = (unsigned char)(c - 32);
    const char *p = c ? strchr(olc_alpha, c) : NULL;
    return p ? (int)(p - olc_alpha) : -1;
}

int geo_olc_recover(const char *code, double ref_lat, double ref_lon, double *lat, double *lon,
                    double *size_m)
{
    if (!code || !(fabs(ref_lat) <= 90.0) || !(fabs(ref_lon) <= 360.0))
        return TL_EINVAL;
    const char *pp = strchr(code, '+');
    if (!pp)
        return TL_EINVAL;
    size_t before = (size_t)(pp - code), len = strlen(code);
    if (before == 8)
        return geo_olc_decode(code, lat, lon, size_m); /* already whole */
    if (before < 2 || before > 6 || before % 2 || len - before - 1 < 2 || len > 20)
        return TL_EINVAL;
    for (size_t i = 0; i < len; i++)
        if (i != before && olc_digit((unsigned char)code[i]) < 0)
            return TL_EINVAL;
    size_t pad = 8 - before; /* digits taken from the reference */
    double rlat = fmin(fmax(ref_lat, -90.0), 90.0 - 1e-9);
    double rlon = fmod(ref_lon + 180.0, 360.0);
    if (rlon < 0)
        rlon += 360.0;
    double la = rlat + 90.0, lo = rlon, res = 20.0;
    char full[24];
    for (size_t i = 0; i < pad; i += 2) {
        int dl = (int)floor(la / res), dn = (int)floor(lo / res);
        dl = dl > 19 ? 19 : dl;
        dn = dn > 19 ? 19 : dn;
        full[i] = olc_alpha[dl];
        full[i + 1] = olc_alpha[dn];
        la -= dl * res;
        lo -= dn * res;
        res /= 20.0;
    }
    memcpy(full + pad, code, len + 1);
    double clat, clon;
    int rc = geo_olc_decode(full, &clat, &clon, size_m);
    if (rc != TL_OK)
        return rc;
    /* the reference may sit near the edge of its cell: the nearest match may lie in
     * the neighbouring one */
    double area = pow(20.0, 2.0 - (double)pad / 2.0), half = area / 2.0;
    if (ref_lat + half < clat && clat - area >= -90.0)
        clat -= area;
    else if (ref_lat - half > clat && clat + area <= 90.0)
        clat += area;
    if (ref_lon + half < clon)
        clon -= area;
    else if (ref_lon - half > clon)
        clon += area;
    if (clon > 180.0)
        clon -= 360.0;
    else if (clon < -180.0)
        clon += 360.0;
    *lat = clat;
    *lon = clon;
    return TL_OK;
}

/* Is s[a..b) a short code (2, 4 or 6 digits, '+', 2 or 3 digits)? */
static int short_code(const unsigned char *s, size_t a, size_t b)
{
    size_t plus = SIZE_MAX;
    for (size_t i = a; i < b; i++) {
        if (s[i] == '+') {
            if (plus != SIZE_MAX)
                return 0;
            plus = i;
        } else if (olc_digit(s[i]) < 0) {
            return 0;
        }
    }
    if (plus == SIZE_MAX)
        return 0;
    size_t pre = plus - a, post = b - plus - 1;
    return pre >= 2 && pre <= 6 && pre % 2 == 0 && post >= 2 && post <= 3;
}

static int code_char(unsigned char c)
{
    return c == '+' || olc_digit(c) >= 0;
}

static int alnum_ascii(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

size_t geo_olc_short_near(const unsigned char *s, size_t n, size_t off, size_t len,
                          size_t *code_off)
{
    /* before the name: "8Q7X+FQ Харків", "8Q7X+FQ, Харків" */
    size_t e = off;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == ','))
        e--;
    if (e < off && e > 0) {
        size_t a = e;
        while (a > 0 && code_char(s[a - 1]))
            a--;
        if ((a == 0 || !alnum_ascii(s[a - 1])) && short_code(s, a, e)) {
            *code_off = a;
            return e - a;
        }
    }
    /* after it: "Харків 8Q7X+FQ" */
    size_t a = off + len;
    while (a < n && (s[a] == ' ' || s[a] == ','))
        a++;
    if (a > off + len) {
        size_t b = a;
        while (b < n && code_char(s[b]))
            b++;
        if ((b == n || !alnum_ascii(s[b])) && short_code(s, a, b)) {
            *code_off = a;
            return b - a;
        }
    }
    return 0;
}
