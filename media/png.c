/* media/png.c - the PNG chunk walker: keeps the critical chunks and those needed to
 * render correctly (PLTE, tRNS, gAMA, cHRM, sRGB, cICP, sBIT, pHYs, and the APNG chunks
 * acTL/fcTL/fdAT), byte for byte with their CRC checked; drops text (tEXt, zTXt,
 * iTXt), eXIf (read for facts first; an Orientation of 2..8 comes back as an eXIf holding
 * only it, right after IHDR), tIME, iCCP, every unknown ancillary chunk and anything
 * after IEND. */
#include <string.h>

#include "internal.h"
#include "common/banned.h"

static const char keep[][5] = {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM",
                               "sRGB", "cICP", "sBIT", "pHYs", "acTL", "fcTL", "fdAT"};

static int kept(const unsigned char *type)
{
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
        if (memcmp(type, keep[i], 4) == 0)
            return 1;
    return 0;
}

static int letters(const unsigned char *t)
{
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return 0;
    return 1;
}

static int png_chunks(const unsigned char *in, size_t len, const struct media_limits *lim,
                      struct media_out *out, struct media_facts *f, struct tl_errinfo *ei,
                      int *idat_seen);

int media_png_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                   struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    int rc, idat = 0;
    /* after the signature and IHDR (written last, when the orientation is known) */
    struct media_out body;
    media_out_init(&body, out ? out->max_total : 0);
    rc = png_chunks(in, len, lim, out ? &body : NULL, f, ei, &idat);
    if (rc == TL_OK && !idat)
        rc = tl_errf(ei, TL_EPARSE, "PNG has no image data");
    if (rc == TL_OK && out) {
        rc = media_out_ref(out, in, 8 + 25); /* signature, IHDR */
        if (rc == TL_OK && f->orientation >= 2 && f->orientation <= 8) {
            unsigned char app1[MEDIA_ORIENT_APP1_LEN], c[12 + MEDIA_ORIENT_TIFF_LEN];
            media_exif_orientation_app1(f->orientation, app1);
            memcpy(c,
                   "\0\0\0\x1a"
                   "eXIf",
                   8);
            memcpy(c + 8, app1 + MEDIA_ORIENT_APP1_LEN - MEDIA_ORIENT_TIFF_LEN,
                   MEDIA_ORIENT_TIFF_LEN);
            uint32_t crc = media_crc32(0, c + 4, 4 + MEDIA_ORIENT_TIFF_LEN);
            for (int i = 0; i < 4; i++)
                c[8 + MEDIA_ORIENT_TIFF_LEN + i] = (unsigned char)(crc >> (24 - 8 * i));
            rc = media_out_copy(out, c, sizeof(c));
        }
        for (size_t i = 0; rc == TL_OK && i < body.nv; i++)
            rc = media_out_ref(out, body.v[i].p, body.v[i].n);
    }
    media_out_release(&body);
    return rc;
}

/* The chunks after the signature: facts into f, the kept ones after IHDR into out. */
static int png_chunks(const unsigned char *in, size_t len, const struct media_limits *lim,
                      struct media_out *out, struct media_facts *f, struct tl_errinfo *ei,
                      int *idat_seen)
{
    size_t p = 8;
    int rc, idat = 0, exif_seen = 0;
    for (int first = 1;; first = 0) {
        if (len - p < 12)
            return tl_errf(ei, TL_EPARSE, "PNG is truncated (no IEND chunk)");
        uint32_t n = media_be32(in + p);
        const unsigned char *type = in + p + 4, *data = in + p + 8;
        if (n > 0x7FFFFFFFu || n > len - p - 12)
            return tl_errf(ei, TL_EPARSE, "PNG chunk length %u runs past the data", n);
        if (!letters(type))
            return tl_errf(ei, TL_EPARSE, "PNG chunk type is not four letters");
        if (first) {
            if (memcmp(type, "IHDR", 4) != 0 || n != 13)
                return tl_errf(ei, TL_EPARSE, "PNG does not start with a valid IHDR chunk");
            uint32_t w = media_be32(data), h = media_be32(data + 4);
            if (w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
                return tl_errf(ei, TL_EPARSE, "PNG size out of range");
            f->width = (int)w;
            f->height = (int)h;
            if ((rc = media_check_pixels(w, h, lim, ei)) != TL_OK)
                return rc;
        } else if (memcmp(type, "IHDR", 4) == 0) {
            return tl_errf(ei, TL_EPARSE, "PNG has a second IHDR chunk");
        }
        size_t whole = (size_t)n + 12;
        if (memcmp(type, "eXIf", 4) == 0 && !exif_seen) {
            exif_seen = 1;
            media_exif_read(data, n, f);
        }
        if (kept(type)) {
            if (out) {
                uint32_t crc = media_crc32(0, type, (size_t)n + 4);
                if (crc != media_be32(data + n))
                    return tl_errf(ei, TL_EPARSE, "PNG chunk %.4s has a bad CRC", type);
                if (!first && (rc = media_out_ref(out, in + p, whole)) != TL_OK)
                    return rc;
            }
            if (memcmp(type, "IDAT", 4) == 0)
                idat = 1;
        } else if (!(type[0] & 0x20)) {
            /* An unknown critical chunk (e.g. Apple's CgBI): not a standard PNG. */
            return tl_errf(ei, TL_EPARSE, "PNG has an unknown critical chunk %.4s", type);
        }
        p += whole;
        if (memcmp(type, "IEND", 4) == 0)
            break; /* anything after IEND is dropped */
    }
    *idat_seen = idat;
    return TL_OK;
}
