/* geo/parse_link.c - map links and geo: URIs in text (Google, Apple, OSM, Yandex,
 * Waze, 2GIS, ...): the pin or the viewport's centre, its accuracy from the zoom; their
 * spans are marked so that the numbers inside are not read again. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/parse_text.h"
#include "common/banned.h"

/* ---------- links and geo: URIs ---------- */

static int hexv(unsigned char c)
{
    if (gp_is_digit(c))
        return c - '0';
    c = gp_lc(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Percent-decodes u into out (cap), '+' to space. Returns the length. */
static size_t url_decode(const unsigned char *u, size_t n, unsigned char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        if (u[i] == '%' && i + 2 < n && hexv(u[i + 1]) >= 0 && hexv(u[i + 2]) >= 0) {
            out[k++] = (unsigned char)(hexv(u[i + 1]) * 16 + hexv(u[i + 2]));
            i += 2;
        } else if (u[i] == '+') {
            out[k++] = ' ';
        } else {
            out[k++] = u[i];
        }
    }
    out[k] = '\0';
    return k;
}

/* Finds "name" as a parameter (at the start or after ? & # ; / !). Returns the offset
 * of its value or -1. */
static long find_param(const struct txt *u, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i + nl <= u->n; i++) {
        if (i > 0) {
            unsigned char p = u->s[i - 1];
            if (p != '?' && p != '&' && p != '#' && p != ';' && p != '/' && p != '!')
                continue;
        }
        if (gp_lc(u->s[i]) != (unsigned char)name[0])
            continue;
        size_t k = 0;
        while (k < nl && gp_lc(u->s[i + k]) == (unsigned char)name[k])
            k++;
        if (k == nl)
            return (long)(i + nl);
    }
    return -1;
}

/* "num sep num" at i (signed decimals, optional spaces). */
static size_t read_two(const struct txt *u, size_t i, char sep, double *a, double *b, int *fd)
{
    double v[2];
    int f = 99;
    for (int q = 0; q < 2; q++) {
        i = gp_skip_spaces(u, i);
        int neg = 0;
        if (i < u->n && (u->s[i] == '-' || u->s[i] == '+')) {
            neg = u->s[i] == '-';
            i++;
        }
        struct num n;
        if (!gp_read_num(u, i, 0, &n) || n.int_digits > 3)
            return 0;
        v[q] = neg ? -n.v : n.v;
        if (n.frac_digits < f)
            f = n.frac_digits;
        i = gp_skip_spaces(u, n.end);
        if (q == 0) {
            if (i >= u->n || u->s[i] != (unsigned char)sep)
                return 0;
            i++;
        }
    }
    *a = v[0];
    *b = v[1];
    if (fd)
        *fd = f;
    return i;
}

static double zoom_accuracy(double lat, double z)
{
    if (!(z >= 1 && z <= 22))
        z = 15;
    double mpp = 156543.03 * cos(lat * M_PI / 180.0) / pow(2.0, z);
    double acc = mpp * 64.0;
    return acc < 10.0 ? 10.0 : acc;
}

static int has_sub(const struct txt *u, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= u->n; i++) {
        size_t k = 0;
        while (k < nl && gp_lc(u->s[i + k]) == (unsigned char)needle[k])
            k++;
        if (k == nl)
            return 1;
    }
    return 0;
}

/* A pin read as text from the link's bytes [i, end) ("48.5,37.9", DMS), spanning the
 * whole link: 1 when placed. */
static int segment_pin(struct ps *ps, const struct txt *u, size_t i, size_t end, size_t off,
                       size_t len)
{
    struct txt seg = {u->s + i, end - i};
    size_t before = ps->nc;
    if (gp_try_pair(ps, &seg, 0, 0, "link", 0) && ps->nc > before) {
        ps->c[ps->nc - 1].p.off = off;
        ps->c[ps->nc - 1].p.len = len;
        return 1;
    }
    return 0;
}

/* A pin given as a parameter value: "lat,lon", "loc:lat,lon", or DMS text. */
static int param_pin(struct ps *ps, const struct txt *u, const char *name, int lonfirst, size_t off,
                     size_t len)
{
    long v = find_param(u, name);
    if (v < 0)
        return 0;
    size_t i = (size_t)v;
    if (i + 4 <= u->n && memcmp(u->s + i, "loc:", 4) == 0)
        i += 4;
    double a, b;
    if (read_two(u, i, ',', &a, &b, NULL)) {
        if (lonfirst)
            gp_add_pair(ps, b, a, AX_LAT, 10.0, "link", 0, off, len);
        else
            gp_add_pair(ps, a, b, AX_LAT, 10.0, "link", 0, off, len);
        return 1;
    }
    if (lonfirst)
        return 0;
    size_t end = i;
    while (end < u->n && u->s[end] != '&' && u->s[end] != '#' && u->s[end] != '/')
        end++;
    return segment_pin(ps, u, i, end, off, len);
}

static void parse_geo_uri(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    size_t i = 4; /* after "geo:" */
    size_t e = read_two(u, i, ',', &a, &b, NULL);
    if (!e)
        return;
    if (fabs(a) < 1e-12 && fabs(b) < 1e-12) {
        /* Android's geo:0,0?q=lat,lon(label) */
        long q = find_param(u, "q=");
        if (q >= 0 && read_two(u, (size_t)q, ',', &a, &b, NULL)) {
            gp_add_pair(ps, a, b, AX_LAT, 30.0, "geo_uri", 0, off, len);
            return;
        }
    }
    double acc = 30.0;
    long up = find_param(u, "u=");
    if (up >= 0) {
        struct num n;
        if (gp_read_num(u, (size_t)up, 0, &n) && n.v > 0)
            acc = n.v < 1.0 ? 1.0 : n.v;
    }
    long crs = find_param(u, "crs=");
    if (crs >= 0 && !(u->n - (size_t)crs >= 5 && memcmp(u->s + crs, "wgs84", 5) == 0))
        return; /* another reference system: not ours to read */
    gp_add_pair(ps, a, b, AX_LAT, acc, "geo_uri", 0, off, len);
}

/* The link's host: after "//" (if any), up to the first '/', '?' or '#'. */
static struct txt link_host(const struct txt *u)
{
    size_t h0 = 0, h1;
    for (size_t i = 0; i + 1 < u->n && i < 12; i++)
        if (u->s[i] == '/' && u->s[i + 1] == '/') {
            h0 = i + 2;
            break;
        }
    for (h1 = h0; h1 < u->n && u->s[h1] != '/' && u->s[h1] != '?' && u->s[h1] != '#'; h1++)
        ;
    return (struct txt){u->s + h0, h1 - h0};
}

/* A pin from two parameters' values found at pa and pb (signed decimals, latitude
 * first), 10 m: 1 when placed. */
static int signed_pair_pin(struct ps *ps, const struct txt *u, long pa, long pb, size_t off,
                           size_t len)
{
    if (pa < 0 || pb < 0)
        return 0;
    struct num x, y;
    int na = pa < (long)u->n && u->s[pa] == '-', nb = pb < (long)u->n && u->s[pb] == '-';
    if (!gp_read_num(u, (size_t)pa + (size_t)na, 0, &x) ||
        !gp_read_num(u, (size_t)pb + (size_t)nb, 0, &y))
        return 0;
    gp_add_pair(ps, na ? -x.v : x.v, nb ? -y.v : y.v, AX_LAT, 10.0, "link", 0, off, len);
    return 1;
}

/* Yandex: a pin ("pt=", "whatshere[point]=", longitude first), else the viewport. */
static void link_yandex(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    if (param_pin(ps, u, "pt=", 1, off, len) || param_pin(ps, u, "whatshere[point]=", 1, off, len))
        return;
    long ll = find_param(u, "ll=");
    if (ll >= 0 && read_two(u, (size_t)ll, ',', &a, &b, NULL)) {
        long z = find_param(u, "z=");
        struct num zn = {.v = 15};
        if (z >= 0)
            (void)gp_read_num(u, (size_t)z, 0, &zn);
        gp_add_pair(ps, b, a, AX_LAT, zoom_accuracy(b, zn.v), "link", 1, off, len);
    }
}

/* OpenStreetMap: the marker ("mlat=", "mlon="), else the map's centre ("map=z/lat/lon"). */
static int link_osm(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    if (signed_pair_pin(ps, u, find_param(u, "mlat="), find_param(u, "mlon="), off, len))
        return 1;
    long m = find_param(u, "map=");
    struct num z;
    if (m < 0 || !gp_read_num(u, (size_t)m, 0, &z) || z.end >= u->n || u->s[z.end] != '/' ||
        !read_two(u, z.end + 1, '/', &a, &b, NULL))
        return 0;
    gp_add_pair(ps, a, b, AX_LAT, zoom_accuracy(a, z.v), "link", 1, off, len);
    return 1;
}

/* Google's place or search path: ".../place/48.5,37.9/...". */
static int link_google_place(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    long pl = find_param(u, "place/");
    if (pl < 0)
        pl = find_param(u, "search/");
    if (pl < 0)
        return 0;
    size_t end = (size_t)pl;
    while (end < u->n && u->s[end] != '/' && u->s[end] != '?')
        end++;
    return segment_pin(ps, u, (size_t)pl, end, off, len);
}

/* A viewport's centre ("ll=", "sll=", zoom "z="); Apple's is a dropped pin, 30 m. */
static int link_viewport(struct ps *ps, const struct txt *u, int apple, size_t off, size_t len)
{
    double a, b;
    long ll = find_param(u, "ll=");
    if (ll < 0)
        ll = find_param(u, "sll=");
    if (ll < 0 || !read_two(u, (size_t)ll, ',', &a, &b, NULL))
        return 0;
    long z = find_param(u, "z=");
    struct num zn = {.v = apple ? 17 : 15};
    if (z >= 0)
        (void)gp_read_num(u, (size_t)z, 0, &zn);
    gp_add_pair(ps, a, b, AX_LAT, apple ? 30.0 : zoom_accuracy(a, zn.v), "link", apple ? 0 : 1, off,
                len);
    return 1;
}

/* The first "@lat,lon" of the link, with its zoom ("15z") or metres ("600m") after. */
static int link_at(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    double a, b;
    for (size_t i = 0; i < u->n; i++) {
        if (u->s[i] != '@')
            continue;
        size_t e = read_two(u, i + 1, ',', &a, &b, NULL);
        if (!e)
            continue;
        double acc = zoom_accuracy(a, 15);
        if (e < u->n && u->s[e] == ',') {
            struct num z;
            if (gp_read_num(u, e + 1, 0, &z)) {
                if (z.end < u->n && u->s[z.end] == 'z')
                    acc = zoom_accuracy(a, z.v);
                else if (z.end < u->n && u->s[z.end] == 'm')
                    acc = z.v / 4.0 < 10.0 ? 10.0 : z.v / 4.0;
            }
        }
        gp_add_pair(ps, a, b, AX_LAT, acc, "link", 1, off, len);
        return 1;
    }
    return 0;
}

/* A map link: by its host's conventions first, then the parameters and paths any map
 * uses, the most exact reading first (a pin before a viewport's centre). */
static void parse_link(struct ps *ps, const struct txt *u, size_t off, size_t len)
{
    struct txt host = link_host(u);
    int google = has_sub(&host, "google.") || has_sub(&host, "goo.gl");
    int osm = has_sub(&host, "openstreetmap.") || has_sub(&host, "osm.org");
    int apple = has_sub(&host, "apple.com");
    if (has_sub(&host, "yandex.")) {
        link_yandex(ps, u, off, len);
        return;
    }
    if (google && signed_pair_pin(ps, u, find_param(u, "3d"), find_param(u, "4d"), off, len))
        return;
    if (osm && link_osm(ps, u, off, len))
        return;
    if (param_pin(ps, u, "q=", 0, off, len) || param_pin(ps, u, "query=", 0, off, len) ||
        param_pin(ps, u, "daddr=", 0, off, len) || param_pin(ps, u, "destination=", 0, off, len) ||
        param_pin(ps, u, "coordinate=", 0, off, len))
        return;
    if (google && link_google_place(ps, u, off, len))
        return;
    if (link_viewport(ps, u, apple, off, len) || link_at(ps, u, off, len))
        return;
    long lo = find_param(u, "lon=");
    if (lo < 0)
        lo = find_param(u, "lng=");
    (void)signed_pair_pin(ps, u, find_param(u, "lat="), lo, off, len);
}

static int prefix_ci(const struct txt *t, size_t i, const char *p)
{
    size_t n = strlen(p);
    if (i + n > t->n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (gp_lc(t->s[i + k]) != (unsigned char)p[k])
            return 0;
    return 1;
}

void gp_scan_links(struct ps *ps)
{
    const struct txt *t = &ps->t;
    /* every link has "://", "geo:", "www." or "maps." */
    if (!memchr(t->s, ':', t->n)) {
        int dotted = 0;
        for (const unsigned char *d = t->s;
             !dotted && (d = memchr(d, '.', t->n - (size_t)(d - t->s))); d++)
            dotted = (d - t->s >= 3 && prefix_ci(t, (size_t)(d - t->s) - 3, "www.")) ||
                     (d - t->s >= 4 && prefix_ci(t, (size_t)(d - t->s) - 4, "maps."));
        if (!dotted)
            return;
    }
    for (size_t i = 0; i < t->n; i++) {
        unsigned char c = gp_lc(t->s[i]);
        if (c != 'h' && c != 'g' && c != 'w' && c != 'm' && c != 'o')
            continue;
        if (!gp_at_boundary(t, i))
            continue;
        int geo = prefix_ci(t, i, "geo:");
        if (!geo && !prefix_ci(t, i, "http://") && !prefix_ci(t, i, "https://") &&
            !prefix_ci(t, i, "www.") && !prefix_ci(t, i, "maps.") &&
            !prefix_ci(t, i, "openstreetmap.") && !prefix_ci(t, i, "google."))
            continue;
        size_t e = i;
        while (e < t->n && t->s[e] > ' ' && t->s[e] != '<' && t->s[e] != '>' && t->s[e] != '"')
            e++;
        while (e > i && (t->s[e - 1] == '.' || t->s[e - 1] == ',' || t->s[e - 1] == ')'))
            e--;
        unsigned char buf[2048];
        struct txt u = {buf, url_decode(t->s + i, e - i, buf, sizeof buf)};
        if (geo)
            parse_geo_uri(ps, &u, i, e - i);
        else
            parse_link(ps, &u, i, e - i);
        gp_add_span(ps, i, e);
        i = e;
    }
}
