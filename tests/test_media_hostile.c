/* tests/test_media_hostile.c - test_media: refusals of unsupported formats, the pixel
 * limit, truncated and corrupt input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/util.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "test_media_int.h"
#include "common/banned.h"

/* ---- refusals, limits, hostile input ---- */

static void test_media_refuses_unsupported(void **state)
{
    static const struct {
        const char *bytes;
        size_t n;
        const char *reason;
    } cases[] = {
        {"II*\0\x08\0\0\0\0\0", 10, "TIFF and RAW files cannot be cleaned"},
        {"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", 13, "only MP4 and MOV videos"},
        {"RIFF\0\0\0\0AVI LIST", 16, "only MP4 and MOV videos"},
        {"FUJIFILMCCD-RAW 0201", 20, "RAW files cannot be cleaned"},
        {"%PDF-1.7 trailer", 16, "not a JPEG, PNG, WebP, GIF or HEIC"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl_errinfo ei;
        unsigned char *out = (unsigned char *)"x";
        size_t out_len = 1;
        tl_errinfo_clear(&ei);
        assert_int_equal(media_strip((const unsigned char *)cases[i].bytes, cases[i].n, NULL, &out,
                                     &out_len, NULL, &ei),
                         TL_EUNSUPPORTED);
        assert_null(out);
        assert_int_equal(out_len, 0);
        if (!strstr(ei.msg, cases[i].reason) || !strstr(ei.msg, "send"))
            fail_msg("case %zu: reason '%s'", i, ei.msg);
    }
}

static void test_media_pixel_limit(void **state)
{
    struct gen_jpeg g;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    uint64_t h;
    tmed_gen_jpeg_make(&g, 64, 48, &tmed_std_exif);
    /* a 60000x60000 frame header over a tiny file: refused from the header */
    unsigned char *sof = memmem(g.clean, g.clean_len, "\xFF\xC0", 2);
    assert_non_null(sof);
    sof[5] = 0xEA, sof[6] = 0x60, sof[7] = 0xEA, sof[8] = 0x60;
    assert_int_equal(media_strip(g.clean, g.clean_len, NULL, &out, &out_len, NULL, &ei),
                     TL_ETOOBIG);
    assert_int_equal(media_phash(g.clean, g.clean_len, NULL, &h, &ei), TL_ETOOBIG);
    /* a caller's tighter limit */
    struct media_limits lim = {.max_pixels = 64 * 47};
    assert_int_equal(media_strip(g.dirty, g.dirty_len, &lim, &out, &out_len, NULL, &ei),
                     TL_ETOOBIG);
    lim.max_pixels = 64 * 48;
    assert_int_equal(media_strip(g.dirty, g.dirty_len, &lim, &out, &out_len, NULL, &ei), TL_OK);
    free(out);
    lim.max_bytes = g.dirty_len - 1;
    assert_int_equal(media_strip(g.dirty, g.dirty_len, &lim, &out, &out_len, NULL, &ei),
                     TL_ETOOBIG);
    /* PNG and GIF headers too */
    struct fx_bytes png = tmed_png_dirty();
    png.p[16] = 0x7F; /* width 2^30+ */
    assert_int_equal(media_strip(png.p, png.n, NULL, &out, &out_len, NULL, &ei), TL_ETOOBIG);
    static const unsigned char gif[] = {'G',  'I',  'F',  '8', '9', 'a', 0xFF,
                                        0xFF, 0xFF, 0xFF, 0,   0,   0,   0x3B};
    lim.max_bytes = 0;
    lim.max_pixels = 1000;
    assert_int_equal(media_strip(gif, sizeof(gif), &lim, &out, &out_len, NULL, &ei), TL_ETOOBIG);
    free(png.p);
    tmed_gen_jpeg_free(&g);
}

/* Every strict prefix of a well-formed file is refused (never a crash, never a partial
 * output), and random corruption never crashes. ASan/UBSan builds make this a bounds
 * check. */
static void test_media_truncated_and_corrupt(void **state)
{
    struct gen_jpeg g;
    tmed_gen_jpeg_make(&g, 48, 32, &tmed_std_exif);
    struct fx_bytes png = tmed_png_dirty();
    size_t png_end = (size_t)((unsigned char *)memmem(png.p, png.n, "IEND", 4) - png.p) + 8;
    /* the dirty JPEG without its trailer */
    struct fx_exif x = tmed_std_exif;
    x.thumb = g.thumb;
    x.thumb_len = g.thumb_len;
    size_t jpeg_end;
    unsigned char *notrail = fx_jpeg_dirty(g.clean, g.clean_len, &x, 0, &jpeg_end);
    assert_int_equal(notrail[jpeg_end - 1], 0xD9);
    /* a GIF (trailer last) and an extended WebP (RIFF size covers all) */
    static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a',  1,    0,   1,    0,    0x80,
                                        0,   0,   0,   0,   0,   255,  255,  255, 0x21, 0xF9, 4,
                                        0,   10,  0,   0,   0,   0x2C, 0,    0,   0,    0,    1,
                                        0,   1,   0,   0,   2,   2,    0x44, 1,   0,    0x3B};
    struct fx_bytes webp = {0};
    static const unsigned char webp_body[] = {
        'V', 'P', '8', 'X', 10,  0,   0,    0, 0x10, 0, 0, 0,   3,   0, 0,   3,
        0,   0,   'A', 'L', 'P', 'H', 3,    0, 0,    0, 0, 'a', 'b', 0, 'V', 'P',
        '8', 'L', 9,   0,   0,   0,   0x2F, 3, 0xC0, 0, 0, 1,   2,   3, 4,   0};
    fx_put(&webp, "RIFF", 4);
    fx_le32(&webp, sizeof(webp_body) + 4);
    fx_put(&webp, "WEBP", 4);
    fx_put(&webp, webp_body, sizeof(webp_body));
    struct {
        const unsigned char *p;
        size_t n;
    } files[] = {{notrail, jpeg_end}, {png.p, png_end}, {gif, sizeof(gif)}, {webp.p, webp.n}};
    for (size_t k = 0; k < 4; k++) {
        struct tl_errinfo ei;
        unsigned char *out = NULL;
        size_t out_len;
        /* the whole file is accepted, and returned unchanged (nothing to remove) but for
         * the JPEG's metadata */
        assert_int_equal(media_strip(files[k].p, files[k].n, NULL, &out, &out_len, NULL, &ei),
                         TL_OK);
        if (k >= 2) {
            assert_int_equal(out_len, files[k].n);
            assert_memory_equal(out, files[k].p, out_len);
        }
        free(out);
        for (size_t n = 0; n < files[k].n; n++) {
            out = NULL;
            int rc = media_strip(files[k].p, n, NULL, &out, &out_len, NULL, &ei);
            if (rc == TL_OK)
                fail_msg("file %zu: prefix of %zu bytes accepted", k, n);
            assert_null(out);
        }
    }
    uint32_t seed = 99;
    unsigned char *buf = malloc(g.dirty_len);
    for (int it = 0; it < 3000; it++) {
        const unsigned char *src = it & 1 ? png.p : g.dirty;
        size_t n = it & 1 ? png.n : g.dirty_len;
        memcpy(buf, src, n);
        int flips = 1 + (int)(fx_rng(&seed) % 8);
        for (int i = 0; i < flips; i++)
            buf[fx_rng(&seed) % n] = (unsigned char)fx_rng(&seed);
        struct tl_errinfo ei;
        unsigned char *out = NULL;
        size_t out_len;
        uint64_t h;
        struct media_facts f;
        if (media_strip(buf, n, NULL, &out, &out_len, NULL, &ei) == TL_OK)
            assert_true(out_len <= n + 64);
        free(out);
        int frc = media_facts_read(buf, n, NULL, &f, &ei);
        assert_true(frc == TL_OK || frc == TL_EPARSE || frc == TL_ETOOBIG ||
                    frc == TL_EUNSUPPORTED);
        if (!(it & 1) && it % 10 == 0) {
            int hrc = media_phash(buf, n, NULL, &h, &ei);
            assert_true(hrc == TL_OK || hrc == TL_EPARSE || hrc == TL_ETOOBIG ||
                        hrc == TL_EUNSUPPORTED);
        }
    }
    free(buf);
    free(webp.p);
    free(notrail);
    free(png.p);
    tmed_gen_jpeg_free(&g);
}

const struct CMUnitTest tmed_hostile_tests[] = {
    cmocka_unit_test(test_media_refuses_unsupported),
    cmocka_unit_test(test_media_pixel_limit),
    cmocka_unit_test(test_media_truncated_and_corrupt),
};
const size_t tmed_hostile_ntests = TS_NTESTS(tmed_hostile_tests);
