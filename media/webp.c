/* media/webp.c - the WebP RIFF walker: keeps VP8/VP8L/ALPH/ANIM, animation frames
 * (ANMF, with only their image sub-chunks) and a safe ICC profile; drops EXIF (read for
 * facts first; an Orientation of 2..8 comes back as an EXIF chunk holding only it, last,
 * where the container puts EXIF), XMP and unknown chunks; rewrites the VP8X flags and
 * the RIFF size. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/banned.h"

#define VP8X_ICC 0x20
#define VP8X_EXIF 0x08
#define VP8X_XMP 0x04

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static int image_dims(const unsigned char *type, const unsigned char *d, uint32_t n, uint32_t *w,
                      uint32_t *h)
{
    if (memcmp(type, "VP8 ", 4) == 0) {
        if (n < 10 || d[3] != 0x9D || d[4] != 0x01 || d[5] != 0x2A)
            return 0;
        *w = media_le16(d + 6) & 0x3FFF;
        *h = media_le16(d + 8) & 0x3FFF;
        return 1;
    }
    if (memcmp(type, "VP8L", 4) == 0) {
        if (n < 5 || d[0] != 0x2F)
            return 0;
        uint32_t bits = media_le32(d + 1);
        *w = (bits & 0x3FFF) + 1;
        *h = ((bits >> 14) & 0x3FFF) + 1;
        return 1;
    }
    return 0;
}

/* The frame payload of ANMF: a 16-byte header, then sub-chunks; only ALPH, VP8 and
 * VP8L are kept. Appends the rewritten chunk to out. */
static int anmf(const unsigned char *d, uint32_t n, const struct media_limits *lim,
                struct media_out *out, struct tl_errinfo *ei)
{
    int rc;
    if (n < 16)
        return tl_errf(ei, TL_EPARSE, "WebP animation frame is too short");
    uint32_t fw = media_le24(d + 6) + 1, fh = media_le24(d + 9) + 1;
    if ((rc = media_check_pixels(fw, fh, lim, ei)) != TL_OK)
        return rc;
    struct media_out sub;
    media_out_init(&sub, n);
    size_t p = 16, frame_len = 16;
    while (n - p >= 8) {
        uint32_t cn = media_le32(d + p + 4);
        if (cn > n - p - 8)
            return media_out_release(&sub), tl_errf(ei, TL_EPARSE, "WebP frame chunk too long");
        size_t whole = 8 + (size_t)cn + (cn & 1);
        if (whole > n - p)
            whole = n - p;
        if (memcmp(d + p, "ALPH", 4) == 0 || memcmp(d + p, "VP8 ", 4) == 0 ||
            memcmp(d + p, "VP8L", 4) == 0) {
            if ((rc = media_out_ref(&sub, d + p, whole)) != TL_OK)
                return media_out_release(&sub), rc;
            frame_len += whole;
        }
        p += whole;
    }
    unsigned char hdr[24];
    memcpy(hdr, "ANMF", 4);
    put_le32(hdr + 4, (uint32_t)frame_len);
    memcpy(hdr + 8, d, 16);
    rc = media_out_copy(out, hdr, sizeof(hdr));
    for (size_t i = 0; rc == TL_OK && i < sub.nv; i++)
        rc = media_out_ref(out, sub.v[i].p, sub.v[i].n);
    if (rc == TL_OK && (frame_len & 1))
        rc = media_out_copy(out, "", 1);
    media_out_release(&sub);
    return rc;
}

/* The first chunk: a VP8X header or a simple WebP's image chunk gives the canvas, which
 * must be within the limits; the VP8X's flags into *flags. */
static int first_chunk(const unsigned char *type, const unsigned char *d, uint32_t n,
                       const struct media_limits *lim, struct media_facts *f, unsigned *flags,
                       struct tl_errinfo *ei)
{
    uint32_t w, h;
    if (memcmp(type, "VP8X", 4) == 0) {
        if (n < 10)
            return tl_errf(ei, TL_EPARSE, "WebP VP8X chunk is too short");
        w = media_le24(d + 4) + 1;
        h = media_le24(d + 7) + 1;
        *flags = d[0];
    } else if (!image_dims(type, d, n, &w, &h)) {
        return tl_errf(ei, TL_EPARSE, "WebP does not start with an image chunk");
    }
    f->width = (int)w;
    f->height = (int)h;
    return media_check_pixels(w, h, lim, ei);
}

/* An ICCP chunk (header at type, n bytes of profile at d) into out when the profile is
 * safe to keep (*kept set then), written with its pad byte even when the input lacked
 * it at the end. */
static int iccp_chunk(struct media_out *out, const unsigned char *type, const unsigned char *d,
                      uint32_t n, int *kept)
{
    size_t clen = 8 + (size_t)n + (n & 1);
    unsigned char *c = malloc(clen);
    if (!c)
        return TL_ENOMEM;
    memcpy(c, type, 8);
    if (!media_icc_sanitize(d, n, c + 8)) {
        free(c);
        return TL_OK;
    }
    if (n & 1)
        c[8 + n] = 0;
    *kept = 1;
    return media_out_take(out, c, clen);
}

/* What the output needs once every chunk is walked: the orientation as a minimal EXIF
 * chunk (an extended WebP only), the VP8X flags of what is kept (vp8x_at: its piece in
 * out, +1; 0 = none), the RIFF size. */
static int finish_out(struct media_out *out, const struct media_facts *f, size_t vp8x_at,
                      unsigned flags, int icc_kept, struct tl_errinfo *ei)
{
    int rc, orient = vp8x_at && f->orientation >= 2 && f->orientation <= 8;
    if (orient) {
        unsigned char app1[MEDIA_ORIENT_APP1_LEN], chunk[8 + MEDIA_ORIENT_TIFF_LEN];
        media_exif_orientation_app1(f->orientation, app1);
        memcpy(chunk, "EXIF", 4);
        put_le32(chunk + 4, MEDIA_ORIENT_TIFF_LEN); /* even: no pad byte */
        memcpy(chunk + 8, app1 + MEDIA_ORIENT_APP1_LEN - MEDIA_ORIENT_TIFF_LEN,
               MEDIA_ORIENT_TIFF_LEN);
        if ((rc = media_out_copy(out, chunk, sizeof(chunk))) != TL_OK)
            return rc;
    }
    if (vp8x_at) {
        unsigned char *x = out->v[vp8x_at - 1].owned;
        if (!icc_kept)
            flags &= ~(unsigned)VP8X_ICC;
        flags &= ~(unsigned)(VP8X_EXIF | VP8X_XMP);
        x[8] = (unsigned char)((flags | (orient ? VP8X_EXIF : 0)) & 0x3E);
    }
    if (out->total - 8 > 0xFFFFFFFFu)
        return tl_errf(ei, TL_ETOOBIG, "WebP output too large");
    put_le32(out->v[0].owned + 4, (uint32_t)(out->total - 8));
    return TL_OK;
}

int media_webp_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    int rc, have_image = 0, exif_seen = 0, extended = 0, icc_kept = 0;
    unsigned char head[12], vp8x[18];
    size_t vp8x_at = 0; /* index of the VP8X piece in out, +1; 0 = none */
    unsigned flags = 0;
    if (len < 20)
        return tl_errf(ei, TL_EPARSE, "WebP is truncated in its header");
    uint32_t riff = media_le32(in + 4);
    if (riff < 12 || riff > len - 8)
        return tl_errf(ei, TL_EPARSE, "WebP is truncated (RIFF size %u, file %zu bytes)", riff,
                       len);
    size_t end = 8 + (size_t)riff; /* anything after the RIFF is dropped */
    memcpy(head, in, 12);
    if (out && (rc = media_out_copy(out, head, 12)) != TL_OK)
        return rc;
    size_t p = 12;
    for (int first = 1; end - p >= 8; first = 0) {
        const unsigned char *type = in + p, *d = in + p + 8;
        uint32_t n = media_le32(in + p + 4);
        if (n > end - p - 8)
            return tl_errf(ei, TL_EPARSE, "WebP chunk %.4s runs past the data", type);
        size_t whole = 8 + (size_t)n + (n & 1);
        if (whole > end - p)
            whole = end - p; /* a missing final pad byte */
        uint32_t w, h;
        if (first && (rc = first_chunk(type, d, n, lim, f, &flags, ei)) != TL_OK)
            return rc;
        if (memcmp(type, "VP8X", 4) == 0) {
            if (!first)
                return tl_errf(ei, TL_EPARSE, "WebP has a misplaced VP8X chunk");
            memcpy(vp8x, type, 18);
            put_le32(vp8x + 4, 10); /* kept: its 10 defined bytes; a longer chunk's rest
                                     * is dropped, so the size must say 10 */
            extended = 1;
            if (out) {
                if ((rc = media_out_copy(out, vp8x, 18)) != TL_OK)
                    return rc;
                vp8x_at = out->nv;
            }
        } else if (memcmp(type, "VP8 ", 4) == 0 || memcmp(type, "VP8L", 4) == 0) {
            if (!image_dims(type, d, n, &w, &h))
                return tl_errf(ei, TL_EPARSE, "WebP image chunk header is invalid");
            if ((rc = media_check_pixels(w, h, lim, ei)) != TL_OK)
                return rc;
            have_image = 1;
            if (out && (rc = media_out_ref(out, type, whole)) != TL_OK)
                return rc;
            if (!extended)
                break; /* a simple WebP is one image chunk; trailing chunks are dropped */
        } else if (memcmp(type, "ALPH", 4) == 0 || memcmp(type, "ANIM", 4) == 0) {
            if (out && (rc = media_out_ref(out, type, whole)) != TL_OK)
                return rc;
        } else if (memcmp(type, "ANMF", 4) == 0) {
            have_image = 1;
            if (out && (rc = anmf(d, n, lim, out, ei)) != TL_OK)
                return rc;
        } else if (memcmp(type, "ICCP", 4) == 0) {
            if (out && n > 0 && (rc = iccp_chunk(out, type, d, n, &icc_kept)) != TL_OK)
                return rc;
        } else if (memcmp(type, "EXIF", 4) == 0) {
            if (!exif_seen) {
                exif_seen = 1;
                media_exif_read(d, n, f);
            }
        }
        /* XMP and unknown chunks: dropped */
        p += whole;
    }
    if (!have_image)
        return tl_errf(ei, TL_EPARSE, "WebP has no image data");
    return out ? finish_out(out, f, vp8x_at, flags, icc_kept, ei) : TL_OK;
}
