/* media/internal.h - shared between the files of media/ only (not a public header):
 * the output assembler, byte readers, and the per-format walkers. */
#ifndef TL_MEDIA_INTERNAL_H
#define TL_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "media.h"

/* The sanitized output is assembled as a list of pieces, most of them pointing into
 * the input (copied once, at the end), a few owned by the list (rewritten segments). */
struct media_piece {
    const unsigned char *p;
    size_t n;
    unsigned char *owned; /* freed by media_out_release; NULL if p points into the input */
};

struct media_out {
    struct media_piece *v;
    size_t nv, cap;
    size_t total;
    size_t max_total; /* refuse growth past this (output is never much larger than input) */
};

void media_out_init(struct media_out *o, size_t max_total);
void media_out_release(struct media_out *o);
/* Appends n bytes at p (not copied: p must outlive o). Merges with the previous
 * piece when contiguous. */
int media_out_ref(struct media_out *o, const unsigned char *p, size_t n) TL_WUR;
/* Appends a copy of n bytes. */
int media_out_copy(struct media_out *o, const void *p, size_t n) TL_WUR;
/* Appends n bytes of heap memory p, taking ownership (freed on failure too). */
int media_out_take(struct media_out *o, unsigned char *p, size_t n) TL_WUR;
/* Assembles into a new buffer (free()). */
int media_out_finish(struct media_out *o, unsigned char **out, size_t *out_len) TL_WUR;

static inline uint32_t media_be16(const unsigned char *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t media_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t media_le16(const unsigned char *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}
static inline uint32_t media_le24(const unsigned char *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint32_t media_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* Fills lim with the effective limits (defaults for NULL or 0 fields). */
void media_limits_resolve(const struct media_limits *in, struct media_limits *lim);
/* TL_ETOOBIG with a message when w*h exceeds the limit; TL_EPARSE when 0. */
int media_check_pixels(uint64_t w, uint64_t h, const struct media_limits *lim,
                       struct tl_errinfo *ei) TL_WUR;

/* Reads EXIF (data starting with "Exif\0\0" or a TIFF header) into facts with libexif:
 * GPS, DateTimeOriginal, OffsetTimeOriginal, Orientation. Unreadable EXIF leaves
 * facts untouched (it is metadata we drop anyway). */
void media_exif_read(const unsigned char *p, size_t n, struct media_facts *f);

/* The minimal EXIF APP1 segment (marker included) holding only IFD0 Orientation. */
#define MEDIA_ORIENT_APP1_LEN 36
#define MEDIA_ORIENT_TIFF_LEN 26 /* its TIFF part, the last bytes (PNG eXIf, WebP EXIF) */
void media_exif_orientation_app1(int orientation, unsigned char out[MEDIA_ORIENT_APP1_LEN]);

/* Decides whether an ICC profile is safe to keep: a well-formed RGB/grey profile whose
 * tags are all colorimetric (no device or measurement descriptions, no private tags).
 * When safe returns 1 and writes into out (n bytes) a copy with the device
 * manufacturer, model, creator and profile ID zeroed; else returns 0. */
int media_icc_sanitize(const unsigned char *p, size_t n, unsigned char *out);
#define MEDIA_ICC_MAX (4u << 20) /* a larger profile is dropped */

/* CRC-32 (ISO-HDLC, as PNG uses). */
uint32_t media_crc32(uint32_t crc, const unsigned char *p, size_t n);

/* The walkers. out NULL = read facts only (stop early where possible). facts is never
 * NULL here. */
int media_jpeg_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;
int media_png_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                   struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;
int media_webp_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;
/* The copy of a video is built whole by libavformat and handed to out. */
int media_video_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                     struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;
int media_heif_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;
/* Decodes the first keyframe of an MP4/MOV into side x side grey pixels (scaled, not
 * turned); *orientation gets the EXIF equivalent of its display matrix. */
int media_video_keyframe_grey(const unsigned char *in, size_t len, const struct media_limits *lim,
                              int side, unsigned char *grey, int *orientation,
                              struct tl_errinfo *ei) TL_WUR;
/* Whether a buffer detected as MEDIA_VIDEO is ISO-BMFF/QuickTime (not Matroska or AVI). */
int media_is_bmff(const unsigned char *buf, size_t len);
int media_gif_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                   struct media_out *out, struct media_facts *f, struct tl_errinfo *ei) TL_WUR;

#endif
