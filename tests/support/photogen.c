/* tests/support/photogen.c - synthetic photos and their channel-worn variants (see
 * photogen.h). The scenes are built from what gives real photos their coarse structure
 * (a horizon, large shapes of different brightness), since that is what a perceptual
 * hash sees; the grain makes each encode of them a real-world-sized JPEG. */
#include "photogen.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "common/banned.h"

const char *const pg_variant_name[PG_NVARIANTS] = {"recompressed q50", "half size", "cropped 5%",
                                                   "screenshot"};

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int rnd_in(uint32_t *s, int lo, int hi)
{
    return lo + (int)(rnd(s) % (uint32_t)(hi - lo + 1));
}

static unsigned char clamp(int v)
{
    return (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int image_new(int w, int h, struct pg_image *out)
{
    out->w = w;
    out->h = h;
    out->px = malloc((size_t)w * (size_t)h * 3);
    return out->px ? 0 : -1;
}

void pg_image_release(struct pg_image *im)
{
    free(im->px);
    im->px = NULL;
}

static void put(struct pg_image *im, int x, int y, const int c[3])
{
    if (x < 0 || y < 0 || x >= im->w || y >= im->h)
        return;
    unsigned char *p = im->px + ((size_t)y * (size_t)im->w + (size_t)x) * 3;
    for (int i = 0; i < 3; i++)
        p[i] = clamp(c[i]);
}

static void rect(struct pg_image *im, int x0, int y0, int x1, int y1, const int c[3])
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            put(im, x, y, c);
}

static void random_colour(uint32_t *s, int c[3], int lo, int hi)
{
    for (int i = 0; i < 3; i++)
        c[i] = rnd_in(s, lo, hi);
}

int pg_scene(unsigned seed, int w, int h, struct pg_image *out)
{
    uint32_t s = seed * 2654435761u + 0x9e3779b9u;
    if (!s)
        s = 1;
    if (image_new(w, h, out))
        return -1;
    int top[3], bottom[3], ground[3];
    random_colour(&s, top, 40, 220);
    random_colour(&s, bottom, 60, 250);
    random_colour(&s, ground, 20, 160);
    int horizon = h * rnd_in(&s, 30, 75) / 100;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int c[3];
            for (int i = 0; i < 3; i++)
                c[i] = y < horizon ? top[i] + (bottom[i] - top[i]) * y / horizon
                                   : ground[i] - (y - horizon) * 40 / h;
            put(out, x, y, c);
        }
    /* buildings standing on the horizon, with windows */
    int nb = rnd_in(&s, 3, 9);
    for (int b = 0; b < nb; b++) {
        int c[3], win[3];
        int bw = w * rnd_in(&s, 5, 22) / 100, bh = h * rnd_in(&s, 8, 45) / 100;
        int x0 = rnd_in(&s, -bw / 2, w - bw / 2);
        random_colour(&s, c, 10, 240);
        random_colour(&s, win, 0, 255);
        rect(out, x0, horizon - bh, x0 + bw, horizon + h / 50, c);
        int step = w / 60 + 2;
        if (rnd(&s) & 1)
            for (int y = horizon - bh + step; y < horizon - step; y += 2 * step)
                for (int x = x0 + step; x < x0 + bw - step; x += 2 * step)
                    rect(out, x, y, x + step, y + step, win);
    }
    /* trees, craters, smoke: ellipses anywhere */
    int ne = rnd_in(&s, 2, 7);
    for (int e = 0; e < ne; e++) {
        int c[3];
        random_colour(&s, c, 0, 255);
        int cx = rnd_in(&s, 0, w - 1), cy = rnd_in(&s, 0, h - 1);
        int rx = w * rnd_in(&s, 3, 18) / 100 + 1, ry = h * rnd_in(&s, 3, 18) / 100 + 1;
        for (int y = cy - ry; y <= cy + ry; y++)
            for (int x = cx - rx; x <= cx + rx; x++) {
                long dx = x - cx, dy = y - cy;
                if (dx * dx * ry * ry + dy * dy * rx * rx <= (long)rx * rx * ry * ry)
                    put(out, x, y, c);
            }
    }
    /* texture at every scale a camera sees (grass, gravel, leaves), fainter in the sky,
     * and grain */
    double fx = rnd_in(&s, 3, 40) / (double)w, fy = rnd_in(&s, 3, 40) / (double)h;
    int amp = rnd_in(&s, 6, 20);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int a = y < horizon ? amp / 4 : amp;
            int t = (int)(a * sin(6.2832 * (fx * x + fy * y)) * cos(6.2832 * fy * 0.7 * x));
            uint32_t blk = (uint32_t)(x / 12) * 7919u + (uint32_t)(y / 12) * 104729u + seed;
            blk ^= blk >> 13;
            blk *= 0x5bd1e995u;
            t += (int)((blk >> 8) % (uint32_t)(2 * a + 1)) - a;
            unsigned char *p = out->px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            for (int i = 0; i < 3; i++)
                p[i] = clamp(p[i] + t + (int)(rnd(&s) % 17) - 8);
        }
    return 0;
}

int pg_decode(const unsigned char *jpeg, size_t len, struct pg_image *out)
{
    tjhandle tj = tjInitDecompress();
    int w, h, ss, cs, rc = -1;
    out->px = NULL;
    if (!tj)
        return -1;
    if (tjDecompressHeader3(tj, jpeg, (unsigned long)len, &w, &h, &ss, &cs) == 0 &&
        image_new(w, h, out) == 0) {
        rc = tjDecompress2(tj, jpeg, (unsigned long)len, out->px, w, 0, h, TJPF_RGB, 0) == 0 ? 0
                                                                                             : -1;
        if (rc)
            pg_image_release(out);
    }
    tjDestroy(tj);
    return rc;
}

int pg_encode(const struct pg_image *im, int quality, unsigned char **jpeg, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned long n = 0;
    *jpeg = NULL;
    if (!tj)
        return -1;
    int rc =
        tjCompress2(tj, im->px, im->w, 0, im->h, TJPF_RGB, jpeg, &n, TJSAMP_420, quality, 0) == 0
            ? 0
            : -1;
    tjDestroy(tj);
    *len = n;
    return rc;
}

/* Box-filtered resize of src into dst (already sized). */
static void resize(const struct pg_image *src, struct pg_image *dst)
{
    for (int y = 0; y < dst->h; y++) {
        int y0 = y * src->h / dst->h, y1 = (y + 1) * src->h / dst->h;
        if (y1 <= y0)
            y1 = y0 + 1;
        for (int x = 0; x < dst->w; x++) {
            int x0 = x * src->w / dst->w, x1 = (x + 1) * src->w / dst->w;
            if (x1 <= x0)
                x1 = x0 + 1;
            unsigned long sum[3] = {0, 0, 0};
            for (int yy = y0; yy < y1; yy++)
                for (int xx = x0; xx < x1; xx++)
                    for (int i = 0; i < 3; i++)
                        sum[i] += src->px[((size_t)yy * (size_t)src->w + (size_t)xx) * 3 + i];
            unsigned long n = (unsigned long)(y1 - y0) * (unsigned long)(x1 - x0);
            for (int i = 0; i < 3; i++)
                dst->px[((size_t)y * (size_t)dst->w + (size_t)x) * 3 + i] =
                    (unsigned char)(sum[i] / n);
        }
    }
}

static void blit(const struct pg_image *src, struct pg_image *dst, int dx, int dy)
{
    for (int y = 0; y < src->h; y++)
        if (y + dy >= 0 && y + dy < dst->h)
            for (int x = 0; x < src->w; x++)
                if (x + dx >= 0 && x + dx < dst->w)
                    memcpy(dst->px + ((size_t)(y + dy) * (size_t)dst->w + (size_t)(x + dx)) * 3,
                           src->px + ((size_t)y * (size_t)src->w + (size_t)x) * 3, 3);
}

/* A portrait phone screenshot of im: a dark frame, a status bar (clock, signal and
 * battery icons), the photo fitted to the width in the middle, a toolbar of icons. */
static int screenshot(const struct pg_image *im, struct pg_image *out)
{
    int W = im->w < im->h ? im->w * 5 / 4 : im->w, H = W * 19 / 9;
    int pw = W, ph = im->h * W / im->w;
    if (ph > H * 3 / 4) {
        ph = H * 3 / 4;
        pw = im->w * ph / im->h;
    }
    struct pg_image fit = {0};
    if (image_new(W, H, out) || image_new(pw, ph, &fit)) {
        pg_image_release(out);
        return -1;
    }
    static const int bg[3] = {16, 18, 20}, fg[3] = {235, 235, 235}, bar[3] = {33, 36, 40};
    rect(out, 0, 0, W, H, bg);
    int sb = H * 3 / 100, u = sb / 3 + 1;
    /* status bar: a clock "12:45" of blocks at the left, signal, wifi, battery right */
    for (int i = 0; i < 5; i++)
        if (i != 2)
            rect(out, W / 20 + i * u * 2, u, W / 20 + i * u * 2 + u + u / 2, 2 * u, fg);
    for (int i = 0; i < 4; i++)
        rect(out, W - W / 4 + i * u * 2, 2 * u - i * u / 3, W - W / 4 + i * u * 2 + u, 2 * u, fg);
    rect(out, W - W / 10, u, W - W / 40, 2 * u, fg);
    /* toolbar: a bar with five icons */
    rect(out, 0, H - H / 12, W, H, bar);
    for (int i = 0; i < 5; i++)
        rect(out, W * (2 * i + 1) / 10 - u, H - H / 24 - u, W * (2 * i + 1) / 10 + u,
             H - H / 24 + u, fg);
    resize(im, &fit);
    blit(&fit, out, (W - pw) / 2, (H - ph) / 2);
    pg_image_release(&fit);
    return 0;
}

int pg_variant(const struct pg_image *im, enum pg_variant v, unsigned char **jpeg, size_t *len)
{
    struct pg_image t = {0};
    int rc = -1;
    *jpeg = NULL;
    switch (v) {
    case PG_RECOMPRESS_50:
        return pg_encode(im, 50, jpeg, len);
    case PG_HALF:
        if (image_new(im->w / 2, im->h / 2, &t))
            return -1;
        resize(im, &t);
        break;
    case PG_CROP_5: {
        /* 5 % of the width and of the height: 3 % left, 2 % right, 2 % top, 3 % bottom */
        int l = im->w * 3 / 100, r = im->w * 2 / 100, tp = im->h * 2 / 100, b = im->h * 3 / 100;
        if (image_new(im->w - l - r, im->h - tp - b, &t))
            return -1;
        blit(im, &t, -l, -tp);
        break;
    }
    case PG_SCREENSHOT:
        if (screenshot(im, &t))
            return -1;
        break;
    default:
        return -1;
    }
    rc = pg_encode(&t, 85, jpeg, len);
    pg_image_release(&t);
    return rc;
}

/* For EXIF Orientation o, the stored pixel (*sx, *sy) shown at (x, y) of the upright
 * W x H view: the same mapping as media/phash.c's upright(). */
static void orient_src(int o, int W, int H, int x, int y, int *sx, int *sy)
{
    *sx = x;
    *sy = y;
    switch (o) {
    case 2:
        *sx = W - 1 - x;
        break;
    case 3:
        *sx = W - 1 - x;
        *sy = H - 1 - y;
        break;
    case 4:
        *sy = H - 1 - y;
        break;
    case 5:
        *sx = y;
        *sy = x;
        break;
    case 6:
        *sx = y;
        *sy = W - 1 - x;
        break;
    case 7:
        *sx = H - 1 - y;
        *sy = W - 1 - x;
        break;
    case 8:
        *sx = H - 1 - y;
        *sy = x;
        break;
    }
}

/* Replaces *im by its upright view (upright = 1) or by the stored image whose upright
 * view it is (upright = 0): the image is W x H upright, its sides swapped when stored
 * for o >= 5. */
static int orient(struct pg_image *im, int o, int upright)
{
    if (o < 2 || o > 8)
        return 0;
    int swap = o >= 5;
    struct pg_image t;
    if (image_new(swap ? im->h : im->w, swap ? im->w : im->h, &t))
        return -1;
    const struct pg_image *up = upright ? &t : im, *st = upright ? im : &t;
    for (int y = 0; y < up->h; y++)
        for (int x = 0; x < up->w; x++) {
            int sx, sy;
            orient_src(o, up->w, up->h, x, y, &sx, &sy);
            unsigned char *u = up->px + ((size_t)y * (size_t)up->w + (size_t)x) * 3;
            unsigned char *s = st->px + ((size_t)sy * (size_t)st->w + (size_t)sx) * 3;
            if (upright)
                memcpy(u, s, 3);
            else
                memcpy(s, u, 3);
        }
    pg_image_release(im);
    *im = t;
    return 0;
}

int pg_orient(struct pg_image *im, int o)
{
    return orient(im, o, 1);
}

int pg_disorient(struct pg_image *im, int o)
{
    return orient(im, o, 0);
}
