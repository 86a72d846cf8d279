/* media/phash.c - a 64-bit DCT perceptual hash. The JPEG is decoded by libjpeg-turbo
 * with DCT-domain scaling (1/8 for photos, so the inverse DCT is almost free and the
 * entropy decoding is the cost), in greyscale (chroma is entropy-decoded but never
 * transformed), box-averaged to 32x32, turned upright by its EXIF Orientation, and the
 * 8x8 lowest frequencies of its 2-D DCT are compared with their median.
 *
 * The framed hash: a photo forwarded as a phone screenshot sits between flat bands (the
 * viewer's background, a status bar, a toolbar), and hashed whole it is another picture
 * (16 to 34 bits from the photo, bench/README.md "Dedup"). When two opposite sides are
 * framed so, the picture inside is hashed too. Trimming every photo instead would cut
 * a clear sky by amounts that vary with each copy's compression: the whole-image hash
 * stays as it was and the framed one is a second, for the pictures that have a frame. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "internal.h"
#include "common/banned.h"

#define N 32

/* cos((2x+1) u pi / 64) for u < 8: only the low frequencies are ever needed. Computed
 * per call: 256 cos() calls are noise beside the decode and keep the code reentrant. */
static void dct_table(double c[8][N])
{
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < N; x++)
            c[u][x] = cos((2.0 * x + 1.0) * u * M_PI / (2.0 * N));
}

static void upright(const double src[N][N], double dst[N][N], int orientation)
{
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            int sy = y, sx = x;
            switch (orientation) {
            case 2:
                sx = N - 1 - x;
                break;
            case 3:
                sy = N - 1 - y;
                sx = N - 1 - x;
                break;
            case 4:
                sy = N - 1 - y;
                break;
            case 5:
                sy = x;
                sx = y;
                break;
            case 6:
                sy = N - 1 - x;
                sx = y;
                break;
            case 7:
                sy = N - 1 - x;
                sx = N - 1 - y;
                break;
            case 8:
                sy = x;
                sx = N - 1 - y;
                break;
            default:
                break;
            }
            dst[y][x] = src[sy][sx];
        }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t hash_grid(const double g[N][N])
{
    double c[8][N], tmp[N][8], d[64], sorted[63];
    dct_table(c);
    for (int y = 0; y < N; y++)
        for (int u = 0; u < 8; u++) {
            double s = 0;
            for (int x = 0; x < N; x++)
                s += g[y][x] * c[u][x];
            tmp[y][u] = s;
        }
    for (int v = 0; v < 8; v++)
        for (int u = 0; u < 8; u++) {
            double s = 0;
            for (int y = 0; y < N; y++)
                s += c[v][y] * tmp[y][u];
            d[v * 8 + u] = s;
        }
    memcpy(sorted, d + 1, sizeof(sorted)); /* the DC term says only "how bright" */
    qsort(sorted, 63, sizeof(double), cmp_double);
    double median = sorted[31];
    uint64_t h = 0;
    for (int i = 0; i < 64; i++)
        if (d[i] > median)
            h |= (uint64_t)1 << i;
    return h;
}

/* A band of a frame: at least FLAT_SHARE % of its pixels within FLAT_TOL of its most
 * common value (a status bar's clock and icons, a toolbar's buttons are the rest). */
#define FLAT_TOL 3
#define FLAT_SHARE 60

/* The most common value (give or take FLAT_TOL) of a flat band of n pixels at p, step
 * apart; -1 when the band is not flat. */
static int band_mode(const unsigned char *p, int n, size_t step)
{
    unsigned hist[256] = {0}, win = 0, best = 0;
    int mode = 0;
    for (int i = 0; i < n; i++)
        hist[p[(size_t)i * step]]++;
    for (int v = 0; v < 256 + FLAT_TOL; v++) {
        if (v < 256)
            win += hist[v];
        if (v >= 2 * FLAT_TOL + 1)
            win -= hist[v - 2 * FLAT_TOL - 1];
        if (win > best) {
            best = win;
            mode = v - FLAT_TOL;
        }
    }
    return best * 100 >= (unsigned)n * FLAT_SHARE ? mode : -1;
}

/* The flat bands running in from one side: at most count bands of n pixels, the first
 * at p, band_step apart, pixel_step between their pixels; their values into modes[],
 * their number returned. */
static int frame_run(const unsigned char *p, int count, ptrdiff_t band_step, int n,
                     size_t pixel_step, int *modes)
{
    int i = 0;
    while (i < count && (modes[i] = band_mode(p + band_step * i, n, pixel_step)) >= 0)
        i++;
    return i;
}

/* Two opposite sides' runs of flat bands (a, b long): cut back to the frame's own
 * colour, the value most of their bands share (a viewer's background), so that a flat
 * sky or floor of the photo next to the frame stays in the picture. 1 when both sides
 * keep more than min bands. */
static int frame_sides(const int *ma, int *a, const int *mb, int *b, int min)
{
    unsigned hist[256] = {0}, best = 0;
    int c = 0;
    for (int i = 0; i < *a; i++)
        hist[ma[i]]++;
    for (int i = 0; i < *b; i++)
        hist[mb[i]]++;
    for (int v = 0; v < 256; v++) {
        unsigned win = 0;
        for (int d = -FLAT_TOL; d <= FLAT_TOL; d++)
            win += v + d >= 0 && v + d < 256 ? hist[v + d] : 0;
        if (win > best) {
            best = win;
            c = v;
        }
    }
    while (*a > 0 && abs(ma[*a - 1] - c) > 2 * FLAT_TOL)
        (*a)--;
    while (*b > 0 && abs(mb[*b - 1] - c) > 2 * FLAT_TOL)
        (*b)--;
    return *a > min && *b > min;
}

/* The picture inside its frame (*x0, *y0, *tw, *th): 1 when two opposite sides have a
 * frame of more than 2 % of the side and at least a quarter of it is left; 0 else, and
 * -1 when out of memory. */
static int frame_inside(const unsigned char *px, int w, int h, int *x0, int *y0, int *tw, int *th)
{
    size_t W = (size_t)w;
    int framed = 0, *m = malloc(sizeof(int) * 2 * (size_t)(w > h ? w : h));
    if (!m)
        return -1;
    int *m2 = m + (w > h ? w : h);
    *x0 = *y0 = 0;
    *tw = w;
    *th = h;
    int top = frame_run(px, h, (ptrdiff_t)W, w, 1, m);
    int bottom = frame_run(px + W * (size_t)(h - 1), h, -(ptrdiff_t)W, w, 1, m2);
    if (frame_sides(m, &top, m2, &bottom, h / 50) && h - top - bottom >= h / 4) {
        *y0 = top;
        *th = h - top - bottom;
        framed = 1;
    }
    const unsigned char *p = px + W * (size_t)*y0;
    int left = frame_run(p, w, 1, *th, W, m);
    int right = frame_run(p + w - 1, w, -1, *th, W, m2);
    if (frame_sides(m, &left, m2, &right, w / 50) && w - left - right >= w / 4) {
        *x0 = left;
        *tw = w - left - right;
        framed = 1;
    }
    free(m);
    return framed;
}

/* Box-averages the w x h region at px (rows stride bytes apart) of a greyscale image
 * into N x N (nearest sample when smaller). */
static void shrink(const unsigned char *px, int w, int h, size_t stride, double g[N][N])
{
    for (int gy = 0; gy < N; gy++) {
        int y0 = gy * h / N, y1 = (gy + 1) * h / N;
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int gx = 0; gx < N; gx++) {
            int x0 = gx * w / N, x1 = (gx + 1) * w / N;
            if (x1 <= x0)
                x1 = x0 + 1;
            unsigned long s = 0;
            for (int y = y0; y < y1; y++) {
                const unsigned char *row = px + (size_t)y * stride;
                for (int x = x0; x < x1; x++)
                    s += row[x];
            }
            g[gy][gx] = (double)s / (double)((y1 - y0) * (x1 - x0));
        }
    }
}

int media_phash(const unsigned char *jpeg, size_t len, const struct media_limits *limits,
                uint64_t *hash, struct tl_errinfo *ei)
{
    return media_phash_framed(jpeg, len, limits, hash, NULL, NULL, ei);
}

int media_phash_framed(const unsigned char *jpeg, size_t len, const struct media_limits *limits,
                       uint64_t *hash, uint64_t *inner, int *has_inner, struct tl_errinfo *ei)
{
    struct media_facts f;
    tjhandle tj = NULL;
    unsigned char *px = NULL;
    int rc, w, h, subsamp, cs;
    *hash = 0;
    if (inner)
        *inner = 0;
    if (has_inner)
        *has_inner = 0;
    /* Header walk first: the size limit is checked before any decoding. */
    if ((rc = media_facts_read(jpeg, len, limits, &f, ei)) != TL_OK)
        return rc;
    if (f.format == MEDIA_VIDEO) {
        struct media_limits vl;
        unsigned char grey[N * N];
        int orientation = 1;
        media_limits_resolve(limits, &vl);
        if ((rc = media_video_keyframe_grey(jpeg, len, &vl, N, grey, &orientation, ei)) != TL_OK)
            return rc;
        double g[N][N], u[N][N];
        shrink(grey, N, N, N, g);
        upright(g, u, orientation);
        *hash = hash_grid(u);
        return TL_OK;
    }
    if (f.format != MEDIA_JPEG)
        return tl_errf(ei, TL_EUNSUPPORTED, "perceptual hash needs a JPEG, got %s",
                       media_format_name(f.format));
    tj = tjInitDecompress();
    if (!tj)
        return tl_errf(ei, TL_ENOMEM, "cannot create a JPEG decoder");
    if (tjDecompressHeader3(tj, jpeg, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        rc = tl_errf(ei, TL_EPARSE, "JPEG header: %s", tjGetErrorStr2(tj));
        goto out;
    }
    struct media_limits lim;
    media_limits_resolve(limits, &lim);
    if ((rc = media_check_pixels((uint64_t)w, (uint64_t)h, &lim, ei)) != TL_OK)
        goto out;
    /* The smallest DCT scaling that still leaves at least N x N pixels (1/8 for photos). */
    int nsf = 0;
    tjscalingfactor *sf = tjGetScalingFactors(&nsf), best = {1, 1};
    for (int i = 0; sf && i < nsf; i++) {
        int sw = TJSCALED(w, sf[i]), sh = TJSCALED(h, sf[i]);
        if (sf[i].num * best.denom < best.num * sf[i].denom && sf[i].num * 8 >= sf[i].denom &&
            sw >= N && sh >= N)
            best = sf[i];
    }
    int sw = TJSCALED(w, best), sh = TJSCALED(h, best);
    px = malloc((size_t)sw * (size_t)sh);
    if (!px) {
        rc = tl_errf(ei, TL_ENOMEM, "out of memory for a %dx%d decode", sw, sh);
        goto out;
    }
    if (tjDecompress2(tj, jpeg, (unsigned long)len, px, sw, 0, sh, TJPF_GRAY,
                      TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_FASTDCT) != 0) {
        rc = tl_errf(ei, TL_EPARSE, "JPEG decode: %s", tjGetErrorStr2(tj));
        goto out;
    }
    double g[N][N], u[N][N];
    shrink(px, sw, sh, (size_t)sw, g);
    upright(g, u, f.orientation);
    *hash = hash_grid(u);
    int x0, y0, tw, th;
    int framed = inner && has_inner ? frame_inside(px, sw, sh, &x0, &y0, &tw, &th) : 0;
    if (framed < 0) {
        rc = tl_errf(ei, TL_ENOMEM, "out of memory for a %dx%d frame", sw, sh);
        goto out;
    }
    if (framed) {
        shrink(px + (size_t)y0 * (size_t)sw + (size_t)x0, tw, th, (size_t)sw, g);
        upright(g, u, f.orientation);
        *inner = hash_grid(u);
        *has_inner = 1;
    }
    rc = TL_OK;
out:
    free(px);
    tjDestroy(tj);
    return rc;
}

int media_hamming(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}
