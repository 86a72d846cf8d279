/* media/phash.c - a 64-bit DCT perceptual hash. The JPEG is decoded by libjpeg-turbo
 * with DCT-domain scaling (1/8 for photos, so the inverse DCT is almost free and the
 * entropy decoding is the cost), in greyscale (chroma is entropy-decoded but never
 * transformed), box-averaged to 32x32, turned upright by its EXIF Orientation, and the
 * 8x8 lowest frequencies of its 2-D DCT are compared with their median. */
#include <math.h>
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

/* Box-averages a w x h greyscale image into N x N (nearest sample when smaller). */
static void shrink(const unsigned char *px, int w, int h, double g[N][N])
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
                const unsigned char *row = px + (size_t)y * (size_t)w;
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
    struct media_facts f;
    tjhandle tj = NULL;
    unsigned char *px = NULL;
    int rc, w, h, subsamp, cs;
    *hash = 0;
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
        shrink(grey, N, N, g);
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
    shrink(px, sw, sh, g);
    upright(g, u, f.orientation);
    *hash = hash_grid(u);
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
