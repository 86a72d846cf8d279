/* media/out.c - what the format walkers share: the effective limits and the pixel
 * check, the output assembler (pieces of the input and rewritten segments, joined once
 * at the end), and CRC-32. Below the walkers: it calls none of them. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/banned.h"

/* ---- limits ---- */

void media_limits_resolve(const struct media_limits *in, struct media_limits *lim)
{
    lim->max_bytes = in && in->max_bytes ? in->max_bytes : MEDIA_DEFAULT_MAX_BYTES;
    lim->max_pixels = in && in->max_pixels ? in->max_pixels : MEDIA_DEFAULT_MAX_PIXELS;
    lim->max_duration_s =
        in && in->max_duration_s ? in->max_duration_s : MEDIA_DEFAULT_MAX_DURATION_S;
    lim->max_streams = in && in->max_streams ? in->max_streams : MEDIA_DEFAULT_MAX_STREAMS;
    lim->drop_audio = in ? in->drop_audio : 0;
}

int media_check_pixels(uint64_t w, uint64_t h, const struct media_limits *lim,
                       struct tl_errinfo *ei)
{
    if (w == 0 || h == 0)
        return tl_errf(ei, TL_EPARSE, "image header gives a zero width or height");
    if (w * h > lim->max_pixels)
        return tl_errf(ei, TL_ETOOBIG, "image of %llux%llu pixels is over the limit of %llu pixels",
                       (unsigned long long)w, (unsigned long long)h,
                       (unsigned long long)lim->max_pixels);
    return TL_OK;
}

/* ---- output assembler ---- */

void media_out_init(struct media_out *o, size_t max_total)
{
    memset(o, 0, sizeof(*o));
    o->max_total = max_total;
}

void media_out_release(struct media_out *o)
{
    for (size_t i = 0; i < o->nv; i++)
        free(o->v[i].owned);
    free(o->v);
    memset(o, 0, sizeof(*o));
}

static int out_push(struct media_out *o, const unsigned char *p, size_t n, unsigned char *owned)
{
    if (n > o->max_total - o->total)
        return TL_ETOOBIG;
    if (!owned && o->nv && !o->v[o->nv - 1].owned && o->v[o->nv - 1].p + o->v[o->nv - 1].n == p) {
        o->v[o->nv - 1].n += n;
        o->total += n;
        return TL_OK;
    }
    if (o->nv == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        struct media_piece *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return TL_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->nv++] = (struct media_piece){p, n, owned};
    o->total += n;
    return TL_OK;
}

int media_out_ref(struct media_out *o, const unsigned char *p, size_t n)
{
    if (n == 0)
        return TL_OK;
    return out_push(o, p, n, NULL);
}

int media_out_copy(struct media_out *o, const void *p, size_t n)
{
    unsigned char *c = malloc(n ? n : 1);
    if (!c)
        return TL_ENOMEM;
    memcpy(c, p, n);
    int rc = out_push(o, c, n, c);
    if (rc)
        free(c);
    return rc;
}

int media_out_take(struct media_out *o, unsigned char *p, size_t n)
{
    int rc = out_push(o, p, n, p);
    if (rc)
        free(p);
    return rc;
}

int media_out_finish(struct media_out *o, unsigned char **out, size_t *out_len)
{
    if (o->nv == 1 && o->v[0].owned && o->v[0].p == o->v[0].owned) {
        /* one buffer of our own (a remuxed video): handed over, not copied */
        *out = o->v[0].owned;
        *out_len = o->v[0].n;
        o->v[0].owned = NULL;
        return TL_OK;
    }
    unsigned char *b = malloc(o->total ? o->total : 1);
    if (!b)
        return TL_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < o->nv; i++) {
        memcpy(b + at, o->v[i].p, o->v[i].n);
        at += o->v[i].n;
    }
    *out = b;
    *out_len = at;
    return TL_OK;
}

/* ---- CRC-32, slicing by 8 ---- */

static uint32_t crc_tab[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t media_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    /* Racing initialisers write identical values, so a double init is harmless. */
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
        crc_init();
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = crc ^ media_le32(p);
        uint32_t b = media_le32(p + 4);
        crc = crc_tab[7][a & 0xFF] ^ crc_tab[6][(a >> 8) & 0xFF] ^ crc_tab[5][(a >> 16) & 0xFF] ^
              crc_tab[4][a >> 24] ^ crc_tab[3][b & 0xFF] ^ crc_tab[2][(b >> 8) & 0xFF] ^
              crc_tab[1][(b >> 16) & 0xFF] ^ crc_tab[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_tab[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
