/* tests/test_media_formats.c - test_media: the lossless strip of PNG, WebP (a long
 * VP8X too) and GIF, checked by our own walk and by exiftool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/util.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "test_media_int.h"
#include "common/banned.h"

static uint32_t media_le32_test(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- PNG ---- */

static void png_chunk(struct fx_bytes *b, const char *type, const void *data, size_t n)
{
    fx_be32(b, (uint32_t)n);
    size_t at = b->n;
    fx_put(b, type, 4);
    fx_put(b, data, n);
    /* CRC over type and data, computed here independently of media/ */
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = at; i < b->n; i++) {
        c ^= b->p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    fx_be32(b, ~c);
}

struct fx_bytes tmed_png_dirty(void)
{
    struct fx_bytes b = {0};
    fx_put(&b, "\x89PNG\r\n\x1a\n", 8);
    static const unsigned char ihdr[13] = {0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    png_chunk(&b, "gAMA", "\0\0\xb1\x8f", 4);
    png_chunk(&b, "tEXt", "Author\0Olena Reporter", 21);
    png_chunk(&b, "iCCP", "Phone\0\0xxxx", 11);
    png_chunk(&b, "tIME", "\x07\xea\x02\x18\x05\x29\x07", 7);
    png_chunk(&b, "pHYs", "\0\0\x0b\x13\0\0\x0b\x13\1", 9);
    /* zlib stream, one stored block: 2 rows of filter byte + 6 bytes */
    unsigned char raw[14] = {0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255};
    struct fx_bytes z = {0};
    fx_u8(&z, 0x78), fx_u8(&z, 0x01), fx_u8(&z, 0x01);
    fx_le16(&z, 14), fx_le16(&z, (unsigned)~14u & 0xFFFF);
    fx_put(&z, raw, 14);
    uint32_t s1 = 1, s2 = 0;
    for (int i = 0; i < 14; i++)
        s1 = (s1 + raw[i]) % 65521, s2 = (s2 + s1) % 65521;
    fx_be32(&z, s2 << 16 | s1);
    png_chunk(&b, "IDAT", z.p, z.n);
    free(z.p);
    size_t exif_len;
    unsigned char *exif = fx_exif_payload(&tmed_std_exif, EXIF_BYTE_ORDER_MOTOROLA, &exif_len);
    png_chunk(&b, "eXIf", exif + 6, exif_len - 6); /* PNG stores bare TIFF */
    free(exif);
    png_chunk(&b, "zTXt", "Comment\0\0x", 10);
    png_chunk(&b, "iTXt", "XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>Olena</x:xmpmeta>", 50);
    png_chunk(&b, "prVt", "SERIAL-0123456789", 17);
    png_chunk(&b, "IEND", "", 0);
    fx_put(&b, "appended by Olena Reporter", 26);
    return b;
}

/* The TIFF of an EXIF holding only IFD0 Orientation 6 (big-endian, no IFD1). */
#define ORIENT6_TIFF "MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0"

static void png_types(const unsigned char *p, size_t n, char *types, size_t cap)
{
    size_t i = 8;
    types[0] = 0;
    assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
    while (i + 12 <= n) {
        uint32_t len = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 | p[i + 2] << 8 | p[i + 3];
        size_t l = strlen(types);
        assert_true(l + 6 < cap);
        memcpy(types + l, p + i + 4, 4);
        types[l + 4] = ' ';
        types[l + 5] = 0;
        i += 12 + len;
    }
    assert_int_equal(i, n);
}

static void test_media_png_strip(void **state)
{
    struct fx_bytes in = tmed_png_dirty();
    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    char types[256];
    assert_int_equal(media_strip(in.p, in.n, NULL, &out, &out_len, &f, &ei), TL_OK);
    png_types(out, out_len, types, sizeof(types));
    /* the eXIf comes back holding the Orientation alone, so viewers keep it upright */
    assert_string_equal(types, "IHDR eXIf gAMA pHYs IDAT IEND ");
    assert_memory_equal(out + 33,
                        "\0\0\0\x1a"
                        "eXIf" ORIENT6_TIFF,
                        8 + 26);
    struct media_facts of;
    assert_int_equal(media_facts_read(out, out_len, NULL, &of, &ei), TL_OK);
    assert_int_equal(of.orientation, 6);
    assert_false(of.has_gps);
    assert_false(of.has_time);
    assert_int_equal(f.format, MEDIA_PNG);
    assert_int_equal(f.width, 2);
    assert_int_equal(f.height, 2);
    assert_int_equal(f.has_gps, 1); /* read from eXIf before dropping it */
    assert_true(fabs(f.lat - 50.4501234) < 1e-7);
    assert_string_equal(f.time_local, "2026-02-24T05:41:07");
    assert_false(tmed_contains(out, out_len, "Olena"));
    char *sp = tmed_tmp_path("gen_stripped.png");
    tmed_write_file(sp, out, out_len);
    tmed_exiftool_assert_clean(&sp, 1);
    free(sp);
    free(out);

    /* a kept chunk with a bad CRC, an unknown critical chunk, truncation: refused */
    size_t idat = (size_t)((unsigned char *)memmem(in.p, in.n, "IDAT", 4) - in.p);
    in.p[idat + 6] ^= 1;
    assert_int_equal(media_strip(in.p, in.n, NULL, &out, &out_len, NULL, &ei), TL_EPARSE);
    assert_null(out);
    in.p[idat + 6] ^= 1;
    struct fx_bytes crit = {0};
    fx_put(&crit, in.p, 33); /* signature + IHDR */
    png_chunk(&crit, "CgBI", "\0\0\0\0", 4);
    fx_put(&crit, in.p + 33, in.n - 33);
    assert_int_equal(media_strip(crit.p, crit.n, NULL, &out, &out_len, NULL, &ei), TL_EPARSE);
    free(crit.p);
    free(in.p);
}

/* ---- WebP ---- */

static void riff_chunk(struct fx_bytes *b, const char *type, const void *d, size_t n)
{
    fx_put(b, type, 4);
    fx_le32(b, (uint32_t)n);
    fx_put(b, d, n);
    if (n & 1)
        fx_u8(b, 0);
}

/* A VP8X chunk longer than its 10 defined bytes (found by fuzz_media_strip_webp): the
 * copy keeps 10 bytes and must say so, or the output does not parse again. */
static void test_media_webp_long_vp8x(void **state)
{
    (void)state;
    static const unsigned char in[] = {
        'R',  'I',  'F',  'F', 0x56, 0,   0,   0,   'W',  'E', 'B',  'P',  'V',  'P',  '8',  'X',
        0x10, 0,    0,    0,   0x02, 0,   0,   0,   0x03, 0,   0,    0x03, 0,    0,    'A',  'N',
        'I',  'M',  0x06, 0,   0,    0,   0,   0,   0,    0,   0,    0,    'A',  'N',  'M',  'F',
        0x2a, 0,    0,    0,   0,    0,   0,   0,   0,    0,   0x03, 0,    0,    0x03, 0,    0,
        0x64, 0xf9, 0xff, 0,   'V',  'P', '8', 'L', 0x08, 0,   0,    0,    0x2f, 0x03, 0xc0, 0,
        0,    0,    0,    0,   'Z',  'Z', 'Z', 'Z', 0x01, 0,   0,    0,    'x',  0};
    unsigned char *out = NULL, *again = NULL;
    size_t out_len, again_len;
    struct tl_errinfo ei;
    assert_int_equal(media_strip(in, sizeof(in), NULL, &out, &out_len, NULL, &ei), TL_OK);
    assert_memory_equal(out + 12, "VP8X\x0a\0\0\0", 8);
    assert_int_equal(media_strip(out, out_len, NULL, &again, &again_len, NULL, &ei), TL_OK);
    assert_int_equal(again_len, out_len);
    assert_memory_equal(again, out, out_len);
    free(out);
    free(again);
}

static void test_media_webp_strip(void **state)
{
    struct fx_bytes body = {0}, in = {0};
    /* VP8X: ICC | EXIF | XMP | alpha, canvas 64x48 */
    unsigned char vp8x[10] = {0x20 | 0x10 | 0x08 | 0x04, 0, 0, 0, 63, 0, 0, 47, 0, 0};
    riff_chunk(&body, "VP8X", vp8x, 10);
    size_t icc_len;
    static const char *const dev_tags[] = {"desc", "dmnd"};
    unsigned char *icc = fx_icc(dev_tags, 2, &icc_len);
    riff_chunk(&body, "ICCP", icc, icc_len);
    riff_chunk(&body, "ALPH", "\0abc", 4);
    /* VP8L header: signature, 14-bit width-1, 14-bit height-1 */
    uint32_t bits = 63 | 47u << 14;
    unsigned char vp8l[9] = {
        0x2F, bits & 0xFF, bits >> 8 & 0xFF, bits >> 16 & 0xFF, bits >> 24, 1, 2, 3, 4};
    riff_chunk(&body, "VP8L", vp8l, 9);
    size_t exif_len;
    unsigned char *exif = fx_exif_payload(&tmed_std_exif, EXIF_BYTE_ORDER_INTEL, &exif_len);
    riff_chunk(&body, "EXIF", exif + 6, exif_len - 6);
    riff_chunk(&body, "XMP ", "<x:xmpmeta>Olena</x:xmpmeta>", 28);
    riff_chunk(&body, "ZZZZ", "SERIAL-0123456789", 17);
    fx_put(&in, "RIFF", 4);
    fx_le32(&in, (uint32_t)body.n + 4);
    fx_put(&in, "WEBP", 4);
    fx_put(&in, body.p, body.n);
    fx_put(&in, "trailing Olena", 14);

    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    assert_int_equal(media_strip(in.p, in.n, NULL, &out, &out_len, &f, &ei), TL_OK);
    struct fx_bytes want = {0}, wb = {0};
    /* alpha, and EXIF: the Orientation alone, last, so viewers keep it upright */
    unsigned char vp8x_clean[10] = {0x18, 0, 0, 0, 63, 0, 0, 47, 0, 0};
    riff_chunk(&wb, "VP8X", vp8x_clean, 10);
    riff_chunk(&wb, "ALPH", "\0abc", 4);
    riff_chunk(&wb, "VP8L", vp8l, 9);
    riff_chunk(&wb, "EXIF", ORIENT6_TIFF, 26);
    fx_put(&want, "RIFF", 4);
    fx_le32(&want, (uint32_t)wb.n + 4);
    fx_put(&want, "WEBP", 4);
    fx_put(&want, wb.p, wb.n);
    assert_int_equal(out_len, want.n);
    assert_memory_equal(out, want.p, want.n);
    assert_int_equal(f.width, 64);
    assert_int_equal(f.height, 48);
    assert_int_equal(f.has_gps, 1);
    assert_true(fabs(f.lon - -30.5234567) < 1e-7);
    assert_int_equal(f.orientation, 6);
    free(out);

    /* animated: ANMF frames keep only their image sub-chunks */
    struct fx_bytes anim = {0}, frame = {0}, ab = {0};
    unsigned char vp8x_anim[10] = {0x02, 0, 0, 0, 63, 0, 0, 47, 0, 0};
    riff_chunk(&ab, "VP8X", vp8x_anim, 10);
    riff_chunk(&ab, "ANIM", "\0\0\0\0\0\0", 6);
    unsigned char fh[16] = {0, 0, 0, 0, 0, 0, 63, 0, 0, 47, 0, 0, 100, 0, 0, 0};
    fx_put(&frame, fh, 16);
    riff_chunk(&frame, "ZZZZ", "Olena", 5);
    riff_chunk(&frame, "VP8L", vp8l, 9);
    riff_chunk(&ab, "ANMF", frame.p, frame.n);
    fx_put(&anim, "RIFF", 4);
    fx_le32(&anim, (uint32_t)ab.n + 4);
    fx_put(&anim, "WEBP", 4);
    fx_put(&anim, ab.p, ab.n);
    assert_int_equal(media_strip(anim.p, anim.n, NULL, &out, &out_len, NULL, &ei), TL_OK);
    assert_false(tmed_contains(out, out_len, "Olena"));
    assert_int_equal(out_len, anim.n - 14);
    assert_int_equal(media_le32_test(out + 4), out_len - 8);
    unsigned char *anmf = memmem(out, out_len, "ANMF", 4);
    assert_non_null(anmf);
    assert_int_equal(media_le32_test(anmf + 4), 16 + 8 + 10);
    free(out);

    /* a colorimetric ICC profile is kept (device fields blanked) with its VP8X flag */
    {
        static const char *const safe_tags[] = {"desc", "wtpt", "rXYZ"};
        size_t sl;
        unsigned char *sicc = fx_icc(safe_tags, 3, &sl);
        struct fx_bytes sb = {0}, sin = {0};
        unsigned char x2[10] = {0x20, 0, 0, 0, 63, 0, 0, 47, 0, 0};
        riff_chunk(&sb, "VP8X", x2, 10);
        riff_chunk(&sb, "ICCP", sicc, sl);
        riff_chunk(&sb, "VP8L", vp8l, 9);
        fx_put(&sin, "RIFF", 4);
        fx_le32(&sin, (uint32_t)sb.n + 4);
        fx_put(&sin, "WEBP", 4);
        fx_put(&sin, sb.p, sb.n);
        assert_int_equal(media_strip(sin.p, sin.n, NULL, &out, &out_len, NULL, &ei), TL_OK);
        assert_int_equal(out_len, sin.n);
        assert_int_equal(out[20], 0x20);
        unsigned char *ic = memmem(out, out_len, "ICCP", 4);
        assert_non_null(ic);
        assert_memory_equal(ic + 8, sicc, 48);
        assert_false(tmed_contains(out, out_len, "FXPH"));
        free(out);
        free(sicc), free(sb.p), free(sin.p);
    }

    /* RIFF size past the end: refused */
    in.p[4] = 0xFF;
    in.p[5] = 0xFF;
    assert_int_equal(media_strip(in.p, in.n, NULL, &out, &out_len, NULL, &ei), TL_EPARSE);
    free(anim.p), free(frame.p), free(ab.p);
    free(want.p), free(wb.p), free(exif), free(icc), free(in.p), free(body.p);
}

/* ---- GIF ---- */

static void test_media_gif_strip(void **state)
{
    struct fx_bytes in = {0}, want = {0};
    static const unsigned char head[] = {'G',  'I', 'F', '8', '9', 'a', 1,   0,   1,  0,
                                         0x80, 0,   0,   0,   0,   0,   255, 255, 255};
    static const unsigned char loop[] = {0x21, 0xFF, 11,  'N', 'E', 'T', 'S', 'C', 'A', 'P',
                                         'E',  '2',  '.', '0', 3,   1,   0,   0,   0};
    static const unsigned char com[] = {0x21, 0xFE, 5, 'O', 'l', 'e', 'n', 'a', 0};
    static const unsigned char xmp[] = {0x21, 0xFF, 11,  'X', 'M', 'P', ' ', 'D', 'a', 't', 'a',
                                        'X',  'M',  'P', 5,   'O', 'l', 'e', 'n', 'a', 0};
    static const unsigned char gce[] = {0x21, 0xF9, 4, 0, 10, 0, 0, 0};
    static const unsigned char img[] = {0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0};
    fx_put(&in, head, sizeof(head));
    fx_put(&in, loop, sizeof(loop));
    fx_put(&in, com, sizeof(com));
    fx_put(&in, xmp, sizeof(xmp));
    fx_put(&in, gce, sizeof(gce));
    fx_put(&in, img, sizeof(img));
    fx_put(&in, com, sizeof(com));
    fx_u8(&in, 0x3B);
    fx_put(&in, "Olena", 5);
    fx_put(&want, head, sizeof(head));
    fx_put(&want, loop, sizeof(loop));
    fx_put(&want, gce, sizeof(gce));
    fx_put(&want, img, sizeof(img));
    fx_u8(&want, 0x3B);
    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    assert_int_equal(media_strip(in.p, in.n, NULL, &out, &out_len, &f, &ei), TL_OK);
    assert_int_equal(out_len, want.n);
    assert_memory_equal(out, want.p, want.n);
    assert_int_equal(f.format, MEDIA_GIF);
    char *sp = tmed_tmp_path("gen_stripped.gif");
    tmed_write_file(sp, out, out_len);
    tmed_exiftool_assert_clean(&sp, 1);
    free(sp);
    free(out);
    free(in.p);
    free(want.p);
}

const struct CMUnitTest tmed_formats_tests[] = {
    cmocka_unit_test(test_media_png_strip),
    cmocka_unit_test(test_media_webp_strip),
    cmocka_unit_test(test_media_webp_long_vp8x),
    cmocka_unit_test(test_media_gif_strip),
};
const size_t tmed_formats_ntests = TS_NTESTS(tmed_formats_tests);
