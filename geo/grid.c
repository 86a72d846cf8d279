/* geo/grid.c - the numeric side of geo/: UTM and MGRS on WGS84, Open Location Code,
 * geohash, haversine, bounding boxes.
 *
 * UTM inverse: Krüger's series in n = f/(2-f) to the fourth order, as written by
 * Karney (2011, "Transverse Mercator with an accuracy of a few nanometers"): the
 * grid is scaled to the rectifying sphere, the beta series undoes the conformal
 * mapping, and the delta series turns conformal latitude into geodetic latitude. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "geo/geo.h"
#include "geo/geo_int.h"
#include "common/banned.h"

#define WGS84_A 6378137.0
#define WGS84_F (1.0 / 298.257223563)
#define UTM_K0 0.9996
#define DEG (M_PI / 180.0)

int geo_utm_to_latlon(int zone, int north, double easting, double northing, double *lat,
                      double *lon)
{
    if (zone < 1 || zone > 60 || !isfinite(easting) || !isfinite(northing))
        return TL_EINVAL;
    if (easting < 100000.0 || easting > 900000.0 || northing < 0.0 || northing > 10000000.0)
        return TL_EINVAL;
    const double n = WGS84_F / (2.0 - WGS84_F);
    const double n2 = n * n, n3 = n2 * n, n4 = n3 * n;
    const double A = WGS84_A / (1.0 + n) * (1.0 + n2 / 4.0 + n4 / 64.0);
    const double beta[4] = {
        n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0 - n4 / 360.0,
        n2 / 48.0 + n3 / 15.0 - 437.0 * n4 / 1440.0,
        17.0 * n3 / 480.0 - 37.0 * n4 / 840.0,
        4397.0 * n4 / 161280.0,
    };
    const double delta[4] = {
        2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3 + 116.0 * n4 / 45.0,
        7.0 * n2 / 3.0 - 8.0 * n3 / 5.0 - 227.0 * n4 / 45.0,
        56.0 * n3 / 15.0 - 136.0 * n4 / 35.0,
        4279.0 * n4 / 630.0,
    };
    double y = north ? northing : northing - 10000000.0;
    double xi0 = y / (UTM_K0 * A);
    double eta0 = (easting - 500000.0) / (UTM_K0 * A);
    double xi = xi0, eta = eta0;
    for (int j = 1; j <= 4; j++) {
        xi -= beta[j - 1] * sin(2.0 * j * xi0) * cosh(2.0 * j * eta0);
        eta -= beta[j - 1] * cos(2.0 * j * xi0) * sinh(2.0 * j * eta0);
    }
    double chi = asin(sin(xi) / cosh(eta));
    double phi = chi;
    for (int j = 1; j <= 4; j++)
        phi += delta[j - 1] * sin(2.0 * j * chi);
    double lon0 = (zone - 1) * 6.0 - 180.0 + 3.0;
    double lam = atan2(sinh(eta), cos(xi));
    *lat = phi / DEG;
    *lon = lon0 + lam / DEG;
    if (*lon > 180.0)
        *lon -= 360.0;
    if (*lon < -180.0)
        *lon += 360.0;
    return TL_OK;
}

/* Latitude bands C..X (no I, O), 8 degrees each from -80; X is 12 degrees. */
static int band_index(char b)
{
    static const char bands[] = "CDEFGHJKLMNPQRSTUVWX";
    const char *p = strchr(bands, toupper((unsigned char)b));
    return (p && b) ? (int)(p - bands) : -1;
}

int geo_band_lat_range(char band, double *lo, double *hi)
{
    int i = band_index(band);
    if (i < 0)
        return TL_EINVAL;
    *lo = -80.0 + 8.0 * i;
    *hi = (i == 19) ? 84.0 : *lo + 8.0;
    return TL_OK;
}

int geo_mgrs_to_latlon(const char *ref, double *lat, double *lon, double *size_m)
{
    char s[40];
    size_t k = 0;
    if (!ref)
        return TL_EINVAL;
    for (const char *p = ref; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '-')
            continue;
        if (k + 1 >= sizeof s)
            return TL_EINVAL;
        s[k++] = (char)toupper((unsigned char)*p);
    }
    s[k] = '\0';
    size_t i = 0;
    int zone = 0;
    while (i < k && i < 2 && isdigit((unsigned char)s[i]))
        zone = zone * 10 + (s[i++] - '0');
    if (i == 0 || zone < 1 || zone > 60 || i + 3 > k)
        return TL_EINVAL;
    char band = s[i++];
    double blo, bhi;
    if (geo_band_lat_range(band, &blo, &bhi) != TL_OK)
        return TL_EINVAL;
    char col = s[i++], row = s[i++];
    size_t ndig = k - i;
    if (ndig % 2 || ndig > 10)
        return TL_EINVAL;
    for (size_t j = i; j < k; j++)
        if (!isdigit((unsigned char)s[j]))
            return TL_EINVAL;
    static const char *colsets[3] = {"ABCDEFGH", "JKLMNPQR", "STUVWXYZ"};
    const char *cp = strchr(colsets[(zone - 1) % 3], col);
    if (!cp || !col)
        return TL_EINVAL;
    double e100 = (double)(cp - colsets[(zone - 1) % 3] + 1) * 100000.0;
    static const char rows[] = "ABCDEFGHJKLMNPQRSTUV";
    const char *rp = strchr(rows, row);
    if (!rp || !row)
        return TL_EINVAL;
    int ri = (int)(rp - rows);
    if (zone % 2 == 0)
        ri = (ri + 15) % 20; /* even zones start their rows at F */
    double n100 = ri * 100000.0;
    size_t half = ndig / 2;
    double sq = 100000.0;
    double de = 0.0, dn = 0.0;
    for (size_t j = 0; j < half; j++) {
        sq /= 10.0;
        de += (s[i + j] - '0') * sq;
        dn += (s[i + half + j] - '0') * sq;
    }
    double east = e100 + de + sq / 2.0;
    int north = blo >= 0.0;
    /* The row letters repeat every 2000 km: pick the cycle that lands in the band. */
    double best_lat = 0, best_lon = 0, best_miss = 1e9;
    for (int cyc = 0; cyc < 5; cyc++) {
        double nn = n100 + dn + sq / 2.0 + cyc * 2000000.0;
        double la, lo;
        if (geo_utm_to_latlon(zone, north, east, nn, &la, &lo) != TL_OK)
            continue;
        double miss = la < blo ? blo - la : (la > bhi ? la - bhi : 0.0);
        if (miss < best_miss) {
            best_miss = miss;
            best_lat = la;
            best_lon = lo;
        }
    }
    /* A square may straddle a band edge by a little; more is a wrong letter. */
    if (best_miss > 0.5)
        return TL_EINVAL;
    *lat = best_lat;
    *lon = best_lon;
    if (size_m)
        *size_m = sq;
    return TL_OK;
}

static const char olc_alpha[] = "23456789CFGHJMPQRVWX";

static int olc_val(char c)
{
    const char *p = strchr(olc_alpha, toupper((unsigned char)c));
    return (p && c) ? (int)(p - olc_alpha) : -1;
}

int geo_olc_decode(const char *code, double *lat, double *lon, double *size_m)
{
    char d[20];
    size_t nd = 0, plus = 0, i;
    int pad = 0;
    if (!code)
        return TL_EINVAL;
    size_t len = strlen(code);
    const char *pp = strchr(code, '+');
    if (!pp || strchr(pp + 1, '+'))
        return TL_EINVAL;
    plus = (size_t)(pp - code);
    if (plus != 8) /* full codes only: eight digits before the separator */
        return TL_EINVAL;
    for (i = 0; i < len; i++) {
        char c = code[i];
        if (c == '+')
            continue;
        if (c == '0') {
            if (i >= plus || (!pad && i % 2))
                return TL_EINVAL; /* padding: from an even position up to the '+' */
            pad = 1;
            continue;
        }
        if (pad || olc_val(c) < 0)
            return TL_EINVAL;
        if (nd < 15) /* digits past the fifteenth are below any use: ignored */
            d[nd++] = c;
    }
    if (pad && len != plus + 1)
        return TL_EINVAL;
    if (nd < 2 || (nd > 8 && nd < 10) || (nd < 8 && !pad))
        return TL_EINVAL;
    if (olc_val(d[0]) > 8 || olc_val(d[1]) > 17)
        return TL_EINVAL;
    double la = -90.0, lo = -180.0, res = 20.0, used = 20.0;
    size_t j;
    for (j = 0; j + 1 < nd && j < 10; j += 2) {
        la += olc_val(d[j]) * res;
        lo += olc_val(d[j + 1]) * res;
        used = res;
        res /= 20.0;
    }
    double hla = used, hlo = used;
    for (; j < nd; j++) {
        hla /= 5.0;
        hlo /= 4.0;
        int v = olc_val(d[j]);
        la += (v / 4) * hla;
        lo += (v % 4) * hlo;
    }
    *lat = la + hla / 2.0;
    *lon = lo + hlo / 2.0;
    if (*lat > 90.0)
        *lat = 90.0;
    if (size_m) {
        double mla = hla * 111320.0, mlo = hlo * 111320.0 * cos(*lat * DEG);
        *size_m = mla > mlo ? mla : mlo;
    }
    return TL_OK;
}

double geo_haversine_m(double lat1, double lon1, double lat2, double lon2)
{
    const double R = 6371008.8;
    double dphi = (lat2 - lat1) * DEG, dlam = (lon2 - lon1) * DEG;
    double s1 = sin(dphi / 2.0), s2 = sin(dlam / 2.0);
    double h = s1 * s1 + cos(lat1 * DEG) * cos(lat2 * DEG) * s2 * s2;
    if (h > 1.0)
        h = 1.0;
    return 2.0 * R * asin(sqrt(h));
}

struct geo_bbox geo_bbox_around(double lat, double lon, double radius_m)
{
    const double R = 6371008.8;
    struct geo_bbox b;
    double dlat = radius_m / R / DEG;
    b.min_lat = lat - dlat;
    b.max_lat = lat + dlat;
    if (b.min_lat <= -90.0 || b.max_lat >= 90.0) {
        b.min_lat = b.min_lat < -90.0 ? -90.0 : b.min_lat;
        b.max_lat = b.max_lat > 90.0 ? 90.0 : b.max_lat;
        b.min_lon = -180.0;
        b.max_lon = 180.0;
        return b;
    }
    /* The widest longitude span is at the latitude where the circle touches its
     * tangent meridians: asin(sin(r)/cos(lat)). */
    double r = radius_m / R;
    double s = sin(r) / cos(lat * DEG);
    if (s >= 1.0) {
        b.min_lon = -180.0;
        b.max_lon = 180.0;
        return b;
    }
    double dlon = asin(s) / DEG;
    b.min_lon = lon - dlon;
    b.max_lon = lon + dlon;
    if (b.min_lon < -180.0)
        b.min_lon += 360.0;
    if (b.max_lon > 180.0)
        b.max_lon -= 360.0;
    return b;
}

int geo_bbox_contains(const struct geo_bbox *b, double lat, double lon)
{
    if (lat < b->min_lat || lat > b->max_lat)
        return 0;
    if (b->min_lon <= b->max_lon)
        return lon >= b->min_lon && lon <= b->max_lon;
    return lon >= b->min_lon || lon <= b->max_lon;
}

static const char gh_alpha[] = "0123456789bcdefghjkmnpqrstuvwxyz";

int geo_geohash_encode(double lat, double lon, int precision, char *out)
{
    if (precision < 1 || precision > 12 || !out || !(lat >= -90.0 && lat <= 90.0) ||
        !(lon >= -180.0 && lon <= 180.0))
        return TL_EINVAL;
    double la0 = -90, la1 = 90, lo0 = -180, lo1 = 180;
    int even = 1, bit = 0, ch = 0, k = 0;
    while (k < precision) {
        if (even) {
            double mid = (lo0 + lo1) / 2;
            if (lon >= mid) {
                ch = ch * 2 + 1;
                lo0 = mid;
            } else {
                ch = ch * 2;
                lo1 = mid;
            }
        } else {
            double mid = (la0 + la1) / 2;
            if (lat >= mid) {
                ch = ch * 2 + 1;
                la0 = mid;
            } else {
                ch = ch * 2;
                la1 = mid;
            }
        }
        even = !even;
        if (++bit == 5) {
            out[k++] = gh_alpha[ch];
            bit = 0;
            ch = 0;
        }
    }
    out[k] = '\0';
    return TL_OK;
}

int geo_geohash_decode(const char *hash, double *lat, double *lon, double *err_lat, double *err_lon)
{
    if (!hash)
        return TL_EINVAL;
    size_t n = strlen(hash);
    if (n < 1 || n > 12)
        return TL_EINVAL;
    double la0 = -90, la1 = 90, lo0 = -180, lo1 = 180;
    int even = 1;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(gh_alpha, tolower((unsigned char)hash[i]));
        if (!p || !hash[i])
            return TL_EINVAL;
        int v = (int)(p - gh_alpha);
        for (int b = 4; b >= 0; b--) {
            int bitv = (v >> b) & 1;
            if (even) {
                double mid = (lo0 + lo1) / 2;
                if (bitv)
                    lo0 = mid;
                else
                    lo1 = mid;
            } else {
                double mid = (la0 + la1) / 2;
                if (bitv)
                    la0 = mid;
                else
                    la1 = mid;
            }
            even = !even;
        }
    }
    *lat = (la0 + la1) / 2;
    *lon = (lo0 + lo1) / 2;
    if (err_lat)
        *err_lat = (la1 - la0) / 2;
    if (err_lon)
        *err_lon = (lo1 - lo0) / 2;
    return TL_OK;
}

int geo_point_ewkt(double lat, double lon, char *out, size_t n)
{
    return snprintf(out, n, "SRID=4326;POINT(%.7f %.7f)", lon, lat);
}
