/* geo/parse_grid.c - grid references in text: MGRS ("37U DQ 12345 67890"), UTM
 * ("37U 412345 5567890") and full Plus Codes, read at a position the numeric scan
 * gives (the maths is grid.c's and olcshort.c's). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/parse_text.h"
#include "common/banned.h"

/* ---------- grid references ---------- */

static int is_band(unsigned char c)
{
    c = (unsigned char)(c & ~0x20);
    return c >= 'C' && c <= 'X' && c != 'I' && c != 'O';
}

/* MGRS at i: "37U DQ 12345 67890", "37UDQ1234567890", "37U DQ". Returns end or 0. */
size_t gp_try_mgrs(struct ps *ps, size_t i)
{
    const struct txt *t = &ps->t;
    char ref[24];
    size_t k = 0, j = i;
    while (j < t->n && gp_is_digit(t->s[j]) && j - i < 2)
        ref[k++] = (char)t->s[j++];
    if (k == 0 || (j < t->n && gp_is_digit(t->s[j])))
        return 0;
    if (j < t->n && t->s[j] == ' ')
        j++;
    if (j >= t->n || !is_band(t->s[j]))
        return 0;
    ref[k++] = (char)t->s[j++];
    if (j < t->n && t->s[j] == ' ')
        j++;
    if (j + 2 > t->n || !gp_is_alpha_ascii(t->s[j]) || !gp_is_alpha_ascii(t->s[j + 1]))
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
    while (jj < t->n && gp_is_digit(t->s[jj]) && k < sizeof ref - 1) {
        ref[k++] = (char)t->s[jj++];
        g1++;
    }
    if (g1 > 0 && g1 <= 5 && jj + 1 < t->n && t->s[jj] == ' ' && gp_is_digit(t->s[jj + 1])) {
        size_t j2 = jj + 1;
        while (j2 < t->n && gp_is_digit(t->s[j2]) && k < sizeof ref - 1) {
            ref[k++] = (char)t->s[j2++];
            g2++;
        }
        if (g2 != g1)
            return 0; /* "12 345": not one reference */
        jj = j2;
    }
    if (g1 > 0)
        j = jj;
    if (j < t->n && (gp_is_digit(t->s[j]) || gp_letter_at(t, j)))
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
    struct cand *c = gp_add_cand(ps, "mgrs", 0, i, j - i);
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
    if (!gp_read_num(t, i, 0, &n) || n.int_digits < min || n.int_digits > max)
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
size_t gp_try_utm(struct ps *ps, size_t i)
{
    const struct txt *t = &ps->t;
    size_t j = i;
    int zone = 0;
    while (j < t->n && gp_is_digit(t->s[j]) && j - i < 2)
        zone = zone * 10 + (t->s[j++] - '0');
    if (j == i || zone < 1 || zone > 60 || (j < t->n && gp_is_digit(t->s[j])))
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
    if (j < t->n && !hemi_only && gp_match_pat(t, j - 1, "north"))
        return 0;
    if (j >= t->n || t->s[j] != ' ')
        return 0;
    j = gp_skip_spaces(t, j);
    double e, n;
    int fe, fn;
    size_t k = read_metres(t, j, 6, 6, &e, &fe);
    if (!k)
        return 0;
    j = k;
    if (j < t->n && t->s[j] == ',')
        j++;
    j = gp_skip_spaces(t, j);
    k = read_metres(t, j, 4, 7, &n, &fn); /* near the equator a northing is short */
    if (!k)
        return 0;
    j = k;
    if (j < t->n && (gp_is_digit(t->s[j]) || gp_letter_at(t, j)))
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
    struct cand *c = gp_add_cand(ps, "utm", 0, i, j - i);
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

size_t gp_try_olc(struct ps *ps, size_t i)
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
    if (k < t->n && (gp_is_digit(t->s[k]) || gp_letter_at(t, k)))
        return 0;
    code[m] = '\0';
    double lat, lon, size;
    if (geo_olc_decode(code, &lat, &lon, &size) != TL_OK)
        return 0;
    struct cand *c = gp_add_cand(ps, "olc", 0, i, k - i);
    if (c) {
        c->p.lat = lat;
        c->p.lon = lon;
        c->p.accuracy_m = size;
    }
    return k;
}
