/* fakebot/photos.h - photos made in code, as the fake Bot API's citizens send them (the
 * demo) and as the media tests and the strip benchmark need them: JPEGs encoded with
 * TurboJPEG, EXIF written with libexif, and the metadata segments/chunks a phone or an
 * editor would add. Header-only (static functions) so the demo, the tests and the bench
 * share it without a library. An allocation that fails aborts: a demo or a test has no
 * photo to fall back on. */
#ifndef TL_FAKEBOT_PHOTOS_H
#define TL_FAKEBOT_PHOTOS_H

#include <libexif/exif-data.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

/* A growable byte string; fx_* abort on allocation failure. */
struct fx_bytes {
    unsigned char *p;
    size_t n, cap;
};

__attribute__((unused)) static void fx_put(struct fx_bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

__attribute__((unused)) static void fx_u8(struct fx_bytes *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    fx_put(b, &c, 1);
}

__attribute__((unused)) static void fx_be16(struct fx_bytes *b, unsigned v)
{
    fx_u8(b, v >> 8);
    fx_u8(b, v);
}

__attribute__((unused)) static void fx_be32(struct fx_bytes *b, uint32_t v)
{
    fx_be16(b, v >> 16);
    fx_be16(b, v & 0xFFFF);
}

__attribute__((unused)) static void fx_le16(struct fx_bytes *b, unsigned v)
{
    fx_u8(b, v);
    fx_u8(b, v >> 8);
}

__attribute__((unused)) static void fx_le32(struct fx_bytes *b, uint32_t v)
{
    fx_le16(b, v & 0xFFFF);
    fx_le16(b, v >> 16);
}

__attribute__((unused)) static uint32_t fx_rng(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* A photo-like RGB image: a few smooth coloured blobs on a gradient, different per
 * seed, so perceptual hashes of different seeds differ. Returns malloc()ed w*h*3. */
__attribute__((unused)) static unsigned char *fx_photo_rgb(int w, int h, uint32_t seed)
{
    unsigned char *px = malloc((size_t)w * h * 3);
    if (!px)
        abort();
    double bx[6], by[6], br[6], bc[6][3];
    uint32_t s = seed * 2654435761u + 12345;
    for (int i = 0; i < 6; i++) {
        bx[i] = (fx_rng(&s) % 1000) / 1000.0;
        by[i] = (fx_rng(&s) % 1000) / 1000.0;
        br[i] = 0.08 + (fx_rng(&s) % 1000) / 4000.0;
        for (int c = 0; c < 3; c++)
            bc[i][c] = (double)(fx_rng(&s) % 256) - 128;
    }
    double gx = (fx_rng(&s) % 200) / 100.0 - 1, gy = (fx_rng(&s) % 200) / 100.0 - 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (double)x / w, v = (double)y / h;
            for (int c = 0; c < 3; c++) {
                double val = 128 + 60 * (gx * u + gy * v);
                for (int i = 0; i < 6; i++) {
                    double dx = u - bx[i], dy = v - by[i];
                    val += bc[i][c] * exp(-(dx * dx + dy * dy) / (br[i] * br[i]));
                }
                px[((size_t)y * w + x) * 3 + c] = (unsigned char)(val < 0     ? 0
                                                                  : val > 255 ? 255
                                                                              : val);
            }
        }
    return px;
}

/* Encodes RGB pixels to a JFIF JPEG (TurboJPEG writes SOI, APP0 JFIF, tables, EOI). */
__attribute__((unused)) static unsigned char *fx_jpeg_encode(const unsigned char *rgb, int w, int h,
                                                             int quality, size_t *len)
{
    tjhandle tj = tjInitCompress();
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (!tj || tjCompress2(tj, rgb, w, 0, h, TJPF_RGB, &out, &n, TJSAMP_420, quality, 0) != 0)
        abort();
    tjDestroy(tj);
    unsigned char *copy = malloc(n);
    if (!copy)
        abort();
    memcpy(copy, out, n);
    tjFree(out);
    *len = n;
    return copy;
}

/* Decodes to RGB (malloc()ed); NULL when libjpeg-turbo refuses the file. */
__attribute__((unused)) static unsigned char *fx_jpeg_decode(const unsigned char *j, size_t len,
                                                             int *w, int *h)
{
    tjhandle tj = tjInitDecompress();
    int ss, cs;
    unsigned char *px = NULL;
    if (!tj)
        abort();
    *w = *h = 0;
    int hrc = tjDecompressHeader3(tj, j, (unsigned long)len, w, h, &ss, &cs);
    if ((hrc == 0 || tjGetErrorCode(tj) == TJERR_WARNING) && *w > 0 && *h > 0) {
        px = malloc((size_t)*w * *h * 3);
        if (!px)
            abort();
        if (tjDecompress2(tj, j, (unsigned long)len, px, *w, 0, *h, TJPF_RGB, 0) != 0 &&
            tjGetErrorCode(tj) != TJERR_WARNING) {
            free(px);
            px = NULL;
        }
    }
    tjDestroy(tj);
    return px;
}

__attribute__((unused)) static ExifEntry *fx_entry(ExifData *ed, ExifIfd ifd, unsigned tag,
                                                   ExifFormat fmt, unsigned components)
{
    ExifEntry *e = exif_entry_new();
    unsigned size = exif_format_get_size(fmt) * components;
    e->tag = (ExifTag)tag;
    e->format = fmt;
    e->components = components;
    e->size = size;
    e->data = calloc(1, size ? size : 1);
    exif_content_add_entry(ed->ifd[ifd], e);
    exif_entry_unref(e);
    return e;
}

__attribute__((unused)) static void fx_ascii(ExifData *ed, ExifIfd ifd, unsigned tag, const char *s)
{
    ExifEntry *e = fx_entry(ed, ifd, tag, EXIF_FORMAT_ASCII, (unsigned)strlen(s) + 1);
    memcpy(e->data, s, strlen(s) + 1);
}

__attribute__((unused)) static void fx_rational(ExifData *ed, ExifIfd ifd, unsigned tag,
                                                const uint32_t *num, const uint32_t *den,
                                                unsigned n)
{
    ExifEntry *e = fx_entry(ed, ifd, tag, EXIF_FORMAT_RATIONAL, n);
    for (unsigned i = 0; i < n; i++)
        exif_set_rational(e->data + 8 * i, exif_data_get_byte_order(ed),
                          (ExifRational){num[i], den[i]});
}

/* What a phone writes: position, altitude, accuracy, capture time and offset,
 * orientation, make/model/serial/owner, and a thumbnail. */
struct fx_exif {
    double lat, lon; /* written as deg/min/sec rationals with 1e-4 s precision */
    uint32_t alt_cm;
    int below_sea;
    uint32_t hpe_cm;
    const char *dto;    /* "YYYY:MM:DD HH:MM:SS" */
    const char *offset; /* "+03:00", NULL for none */
    int orientation;
    const unsigned char *thumb;
    size_t thumb_len;
};

__attribute__((unused)) static void fx_dms(double deg, uint32_t num[3], uint32_t den[3])
{
    deg = fabs(deg);
    uint32_t d = (uint32_t)deg;
    double m = (deg - d) * 60;
    uint32_t mi = (uint32_t)m;
    double s = (m - mi) * 60;
    num[0] = d, den[0] = 1;
    num[1] = mi, den[1] = 1;
    num[2] = (uint32_t)llround(s * 10000), den[2] = 10000;
}

/* The EXIF APP1 payload ("Exif\0\0" + TIFF), malloc()ed. */
__attribute__((unused)) static unsigned char *fx_exif_payload(const struct fx_exif *x,
                                                              ExifByteOrder bo, size_t *len)
{
    ExifData *ed = exif_data_new();
    uint32_t num[3], den[3];
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_byte_order(ed, bo);
    ExifEntry *o = fx_entry(ed, EXIF_IFD_0, 0x0112, EXIF_FORMAT_SHORT, 1);
    exif_set_short(o->data, bo, (ExifShort)x->orientation);
    fx_ascii(ed, EXIF_IFD_0, 0x010F, "FxPhone Inc");
    fx_ascii(ed, EXIF_IFD_0, 0x0110, "FX-1000 Pro");
    fx_ascii(ed, EXIF_IFD_0, 0x013B, "Olena Reporter");
    fx_ascii(ed, EXIF_IFD_EXIF, 0xA431, "SERIAL-0123456789");
    fx_ascii(ed, EXIF_IFD_EXIF, 0x9003, x->dto);
    if (x->offset)
        fx_ascii(ed, EXIF_IFD_EXIF, 0x9011, x->offset);
    fx_ascii(ed, EXIF_IFD_GPS, 0x0001, x->lat < 0 ? "S" : "N");
    fx_dms(x->lat, num, den);
    fx_rational(ed, EXIF_IFD_GPS, 0x0002, num, den, 3);
    fx_ascii(ed, EXIF_IFD_GPS, 0x0003, x->lon < 0 ? "W" : "E");
    fx_dms(x->lon, num, den);
    fx_rational(ed, EXIF_IFD_GPS, 0x0004, num, den, 3);
    ExifEntry *ar = fx_entry(ed, EXIF_IFD_GPS, 0x0005, EXIF_FORMAT_BYTE, 1);
    ar->data[0] = (unsigned char)x->below_sea;
    num[0] = x->alt_cm, den[0] = 100;
    fx_rational(ed, EXIF_IFD_GPS, 0x0006, num, den, 1);
    num[0] = x->hpe_cm, den[0] = 100;
    fx_rational(ed, EXIF_IFD_GPS, 0x001F, num, den, 1);
    if (x->thumb) {
        ed->data = malloc(x->thumb_len);
        memcpy(ed->data, x->thumb, x->thumb_len);
        ed->size = (unsigned)x->thumb_len;
    }
    unsigned char *d = NULL;
    unsigned int n = 0;
    exif_data_save_data(ed, &d, &n);
    exif_data_unref(ed);
    if (!d)
        abort();
    *len = n;
    return d;
}

__attribute__((unused)) static void fx_segment(struct fx_bytes *b, unsigned marker, const void *p,
                                               size_t n)
{
    fx_u8(b, 0xFF);
    fx_u8(b, marker);
    fx_be16(b, (unsigned)n + 2);
    fx_put(b, p, n);
}

/* A minimal well-formed ICC display profile: the given tags, each pointing at a small
 * XYZ/text body. With "dmdd" among them it carries a device description. */
__attribute__((unused)) static unsigned char *fx_icc(const char *const *tags, int ntags,
                                                     size_t *len)
{
    struct fx_bytes b = {0};
    size_t body = 132 + 12 * (size_t)ntags;
    size_t total = body + 20 * (size_t)ntags;
    fx_be32(&b, (uint32_t)total);
    fx_put(&b, "lcms", 4);
    fx_be32(&b, 0x02100000);
    fx_put(&b, "mntrRGB XYZ ", 12);
    for (int i = 0; i < 12; i++)
        fx_u8(&b, 0); /* date */
    fx_put(&b, "acspAPPL", 8);
    fx_be32(&b, 0);
    fx_put(&b, "FXPHFX10", 8); /* device manufacturer and model */
    for (int i = 0; i < 8; i++)
        fx_u8(&b, 0);
    fx_be32(&b, 0);
    fx_be32(&b, 0xF6D6), fx_be32(&b, 0x10000), fx_be32(&b, 0xD32D);
    fx_put(&b, "FXPH", 4); /* creator */
    while (b.n < 128)
        fx_u8(&b, 0);
    fx_be32(&b, (uint32_t)ntags);
    for (int i = 0; i < ntags; i++) {
        fx_put(&b, tags[i], 4);
        fx_be32(&b, (uint32_t)(body + 20 * (size_t)i));
        fx_be32(&b, 20);
    }
    for (int i = 0; i < ntags; i++) {
        fx_put(&b, "XYZ ", 4);
        fx_be32(&b, 0);
        fx_be32(&b, 0xF6D6), fx_be32(&b, 0x10000), fx_be32(&b, 0xD32D);
    }
    *len = b.n;
    return b.p;
}

/* A JPEG as a phone or an editor leaves it: JFIF with a thumbnail, EXIF (position,
 * serial, owner, thumbnail), XMP, extended XMP, an ICC profile with device data, MPF,
 * Photoshop IRB/IPTC, Ducky, a comment, the Adobe segment, and data after EOI.
 * clean is a TurboJPEG output (SOI APP0 ... EOI). */
__attribute__((unused)) static unsigned char *fx_jpeg_dirty(const unsigned char *clean,
                                                            size_t clean_len,
                                                            const struct fx_exif *x,
                                                            int with_trailer, size_t *len)
{
    struct fx_bytes b = {0};
    size_t exif_len, icc_len;
    unsigned char *exif = fx_exif_payload(x, EXIF_BYTE_ORDER_INTEL, &exif_len);
    static const char *const dev_tags[] = {"desc", "wtpt", "dmdd", "dmnd"};
    unsigned char *icc = fx_icc(dev_tags, 4, &icc_len);
    fx_u8(&b, 0xFF), fx_u8(&b, 0xD8);
    /* JFIF 1.02 with a 2x1 RGB thumbnail */
    static const unsigned char jfif[] = {'J', 'F', 'I', 'F', 0, 1, 2, 1, 0, 72,
                                         0,   72,  2,   1,   9, 9, 9, 8, 8, 8};
    fx_segment(&b, 0xE0, jfif, sizeof(jfif));
    fx_segment(&b, 0xE1, exif, exif_len);
    static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><rdf:Description "
                              "exif:GPSLatitude=\"50,27.0N\" dc:creator=\"Olena Reporter\"/>"
                              "</x:xmpmeta>";
    fx_segment(&b, 0xE1, xmp, sizeof(xmp));
    static const char xmpext[] = "http://ns.adobe.com/xmp/extension/\0"
                                 "0123456789ABCDEF0123456789ABCDEF\0\0\0\x10\0\0\0\0"
                                 "Olena Reporter";
    fx_segment(&b, 0xE1, xmpext, sizeof(xmpext));
    struct fx_bytes ic = {0};
    fx_put(&ic, "ICC_PROFILE\0\1\1", 14);
    fx_put(&ic, icc, icc_len);
    fx_segment(&b, 0xE2, ic.p, ic.n);
    static const char mpf[] = "MPF\0II*\0\x08\0\0\0SERIAL-0123456789";
    fx_segment(&b, 0xE2, mpf, sizeof(mpf));
    static const char fpx[] = "FPXR\0\0\0Olena Reporter";
    fx_segment(&b, 0xE2, fpx, sizeof(fpx));
    static const char ducky[] = "Ducky\0\1\0\4\0\0\0\x50Olena Reporter";
    fx_segment(&b, 0xEC, ducky, sizeof(ducky));
    static const char irb[] = "Photoshop 3.0\0008BIM\x04\x04\0\0\0\0\0\x12\x1c\x02\x50\0\x0e"
                              "Olena Reporter";
    fx_segment(&b, 0xED, irb, sizeof(irb));
    static const char com[] = "shot by Olena Reporter, SERIAL-0123456789";
    fx_segment(&b, 0xFE, com, sizeof(com) - 1);
    static const unsigned char adobe[] = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 1};
    fx_segment(&b, 0xEE, adobe, sizeof(adobe));
    /* the rest of the clean JPEG after SOI and its own APP0 */
    size_t p = 2;
    if (clean[2] == 0xFF && clean[3] == 0xE0)
        p = 4 + ((size_t)clean[4] << 8 | clean[5]);
    fx_put(&b, clean + p, clean_len - p);
    if (with_trailer) {
        static const char tail[] = "\xFF\xD8\xFF\xE1 second MPO image of Olena Reporter";
        fx_put(&b, tail, sizeof(tail) - 1);
    }
    free(exif);
    free(icc);
    free(ic.p);
    *len = b.n;
    return b.p;
}

#endif
