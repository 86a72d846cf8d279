/* media/gif.c - the GIF block walker: keeps the header, colour tables, images, graphic
 * control and plain-text extensions and the animation loop count (rewritten as a
 * canonical NETSCAPE2.0 block); drops comments, every other application extension
 * (XMP, ICC, vendor data), unknown extensions and anything after the trailer. */
#include <string.h>

#include "internal.h"
#include "common/banned.h"

/* Skips a sub-block chain starting at p; returns the offset after the terminator or 0
 * when it runs past the data. */
static size_t sub_blocks(const unsigned char *in, size_t p, size_t len)
{
    while (p < len) {
        size_t n = in[p];
        if (n == 0)
            return p + 1;
        if (n + 1 > len - p)
            return 0;
        p += n + 1;
    }
    return 0;
}

int media_gif_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                   struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    int rc, images = 0;
    if (len < 13)
        return tl_errf(ei, TL_EPARSE, "GIF is truncated in its header");
    uint32_t w = media_le16(in + 6), h = media_le16(in + 8);
    f->width = (int)w;
    f->height = (int)h;
    if ((rc = media_check_pixels(w, h, lim, ei)) != TL_OK)
        return rc;
    size_t p = 13;
    if (in[10] & 0x80)
        p += 3u << ((in[10] & 7) + 1);
    if (p > len)
        return tl_errf(ei, TL_EPARSE, "GIF is truncated in its colour table");
    if (out && (rc = media_out_ref(out, in, p)) != TL_OK)
        return rc;
    for (;;) {
        if (p >= len)
            return tl_errf(ei, TL_EPARSE, "GIF is truncated (no trailer)");
        if (in[p] == 0x3B) {
            if (!images)
                return tl_errf(ei, TL_EPARSE, "GIF has no image");
            return out ? media_out_ref(out, in + p, 1) : TL_OK;
        }
        if (in[p] == 0x2C) {
            if (len - p < 11)
                return tl_errf(ei, TL_EPARSE, "GIF is truncated in an image descriptor");
            uint32_t fw = media_le16(in + p + 5), fh = media_le16(in + p + 7);
            if ((rc = media_check_pixels(fw ? fw : 1, fh ? fh : 1, lim, ei)) != TL_OK)
                return rc;
            size_t q = p + 10;
            if (in[p + 9] & 0x80)
                q += 3u << ((in[p + 9] & 7) + 1);
            if (q >= len)
                return tl_errf(ei, TL_EPARSE, "GIF is truncated in a colour table");
            size_t end = sub_blocks(in, q + 1, len); /* after the LZW minimum code size */
            if (!end)
                return tl_errf(ei, TL_EPARSE, "GIF is truncated in image data");
            if (out && (rc = media_out_ref(out, in + p, end - p)) != TL_OK)
                return rc;
            images++;
            p = end;
            continue;
        }
        if (in[p] != 0x21 || len - p < 2)
            return tl_errf(ei, TL_EPARSE, "GIF has an unknown block 0x%02X", in[p]);
        unsigned label = in[p + 1];
        size_t end = sub_blocks(in, p + 2, len);
        if (!end)
            return tl_errf(ei, TL_EPARSE, "GIF is truncated in an extension");
        if (label == 0xF9 || label == 0x01) {
            if (out && (rc = media_out_ref(out, in + p, end - p)) != TL_OK)
                return rc;
        } else if (label == 0xFF && in[p + 2] == 11 && end - p >= 19 &&
                   (memcmp(in + p + 3, "NETSCAPE2.0", 11) == 0 ||
                    memcmp(in + p + 3, "ANIMEXTS1.0", 11) == 0) &&
                   in[p + 14] == 3 && in[p + 15] == 1) {
            unsigned char loop[19] = {0x21, 0xFF, 0x0B, 'N', 'E', 'T', 'S', 'C', 'A', 'P',
                                      'E',  '2',  '.',  '0', 3,   1,   0,   0,   0};
            loop[16] = in[p + 16];
            loop[17] = in[p + 17];
            if (out && (rc = media_out_copy(out, loop, sizeof(loop))) != TL_OK)
                return rc;
        }
        /* comments (0xFE), other application and unknown extensions: dropped */
        p = end;
    }
}
