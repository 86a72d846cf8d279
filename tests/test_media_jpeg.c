/* tests/test_media_jpeg.c - test_media: JPEG facts, the lossless strip of its
 * segments, pixel identity of stripped JPEGs, orientation kept, the ICC profile policy
 * (one segment and several). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/util.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "test_media_int.h"
#include "common/banned.h"

/* Our own marker list of a JPEG up to EOI; returns the offset after EOI. */
static size_t jpeg_markers(const unsigned char *p, size_t n, unsigned *m, int *count, int max)
{
    size_t i = 2;
    *count = 0;
    assert_true(n >= 4 && p[0] == 0xFF && p[1] == 0xD8);
    while (i + 1 < n) {
        assert_int_equal(p[i], 0xFF);
        unsigned mk = p[i + 1];
        assert_true(*count < max);
        m[(*count)++] = mk;
        if (mk == 0xD9)
            return i + 2;
        size_t L = (size_t)p[i + 2] << 8 | p[i + 3];
        i += 2 + L;
        if (mk == 0xDA) {
            while (i + 1 < n &&
                   !(p[i] == 0xFF && p[i + 1] != 0 && (p[i + 1] < 0xD0 || p[i + 1] > 0xD7)))
                i++;
        }
    }
    fail_msg("no EOI");
    return 0;
}

/* ---- JPEG ---- */

static void test_media_jpeg_facts(void **state)
{
    struct gen_jpeg g;
    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    tmed_gen_jpeg_make(&g, 320, 240, &tmed_std_exif);
    assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, &f, &ei), TL_OK);
    assert_int_equal(f.format, MEDIA_JPEG);
    assert_int_equal(f.has_gps, 1);
    assert_true(fabs(f.lat - 50.4501234) < 1e-7);
    assert_true(fabs(f.lon - -30.5234567) < 1e-7);
    assert_int_equal(f.has_alt, 1);
    assert_true(fabs(f.alt - 179.5) < 1e-9);
    assert_int_equal(f.has_hpe, 1);
    assert_true(fabs(f.hpe_m - 4.7) < 1e-9);
    assert_int_equal(f.has_time, 1);
    assert_string_equal(f.time_local, "2026-02-24T05:41:07");
    assert_int_equal(f.has_offset, 1);
    assert_int_equal(f.offset_min, 120);
    assert_int_equal(f.orientation, 6);
    assert_int_equal(f.width, 320);
    assert_int_equal(f.height, 240);
    free(out);

    /* facts only, big-endian EXIF, southern/eastern, below sea level, negative offset */
    struct fx_exif x = tmed_std_exif;
    x.lat = -33.8567844;
    x.lon = 151.2152967;
    x.below_sea = 1;
    x.offset = "-05:30";
    x.orientation = 1;
    size_t pl_len;
    unsigned char *pl = fx_exif_payload(&x, EXIF_BYTE_ORDER_MOTOROLA, &pl_len);
    struct fx_bytes b = {0};
    fx_put(&b, g.clean, 2);
    fx_segment(&b, 0xE1, pl, pl_len);
    fx_put(&b, g.clean + 2, g.clean_len - 2);
    assert_int_equal(media_facts_read(b.p, b.n, NULL, &f, &ei), TL_OK);
    assert_true(fabs(f.lat - -33.8567844) < 1e-7);
    assert_true(fabs(f.lon - 151.2152967) < 1e-7);
    assert_true(fabs(f.alt - -179.5) < 1e-9);
    assert_int_equal(f.offset_min, -330);
    assert_int_equal(f.orientation, 1);

    /* JSON of the facts */
    char *json = NULL;
    assert_int_equal(media_facts_json(&f, &json), TL_OK);
    char *want = tl_asprintf("{\"format\":\"jpeg\",\"mime\":\"image/jpeg\",\"width\":320,"
                             "\"height\":240,\"orientation\":1,\"gps\":{\"lat\":%.9f,"
                             "\"lon\":%.9f,\"alt\":-179.500,\"hpe_m\":4.700},"
                             "\"time_local\":\"2026-02-24T05:41:07\",\"offset_min\":-330}",
                             f.lat, f.lon);
    assert_string_equal(json, want);
    free(want);
    free(json);
    memset(&f, 0, sizeof(f));
    assert_int_equal(media_facts_json(&f, &json), TL_OK);
    assert_string_equal(json, "{\"format\":\"unknown\",\"mime\":\"application/octet-stream\","
                              "\"width\":0,\"height\":0,\"orientation\":0,\"gps\":null,"
                              "\"time_local\":null,\"offset_min\":null}");
    free(json);
    free(pl);
    free(b.p);
    tmed_gen_jpeg_free(&g);
}

static void test_media_jpeg_strip_segments(void **state)
{
    struct gen_jpeg g;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    unsigned m[64], mc[64];
    int n, nc;
    tmed_gen_jpeg_make(&g, 320, 240, &tmed_std_exif);
    assert_true(tmed_contains(g.dirty, g.dirty_len, "Olena Reporter"));
    assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, NULL, &ei), TL_OK);

    /* exactly: SOI, JFIF, Orientation EXIF, Adobe, then the clean JPEG's tables, frame,
     * scan, EOI, and not one byte more */
    size_t end = jpeg_markers(out, out_len, m, &n, 64);
    assert_int_equal(end, out_len);
    jpeg_markers(g.clean, g.clean_len, mc, &nc, 64);
    assert_int_equal(n, nc + 2);
    assert_int_equal(m[0], 0xE0);
    assert_int_equal(m[1], 0xE1);
    assert_int_equal(m[2], 0xEE);
    for (int i = 1; i < nc; i++)
        assert_int_equal(m[i + 2], mc[i]);

    /* JFIF kept without its thumbnail; the APP1 is the 34-byte orientation-only EXIF */
    static const unsigned char jfif[] = {0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0,
                                         1,    2,    1, 0,  72,  0,   72,  0,   0};
    assert_memory_equal(out + 2, jfif, sizeof(jfif));
    static const unsigned char app1[] = {0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,    'M', 'M',
                                         0,    42,   0, 0,  0,   8,   0,   1,   1, 0x12, 0,   3,
                                         0,    0,    0, 1,  0,   6,   0,   0,   0, 0,    0,   0};
    assert_memory_equal(out + 20, app1, sizeof(app1));
    static const unsigned char adobe[] = {0xFF, 0xEE, 0,   14, 'A', 'd', 'o', 'b',
                                          'e',  0,    100, 0,  0,   0,   0,   1};
    assert_memory_equal(out + 56, adobe, sizeof(adobe));
    /* the rest is the clean JPEG after its APP0, byte for byte */
    size_t skip0 = 4 + ((size_t)g.clean[4] << 8 | g.clean[5]);
    assert_int_equal(out_len - 72, g.clean_len - skip0);
    assert_memory_equal(out + 72, g.clean + skip0, g.clean_len - skip0);

    static const char *const leaks[] = {"Olena",   "SERIAL",      "FxPhone",   "FX-1000",
                                        "xmpmeta", "ICC_PROFILE", "MPF",       "Photoshop",
                                        "Ducky",   "FPXR",        "second MPO"};
    for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
        if (tmed_contains(out, out_len, leaks[i]))
            fail_msg("'%s' left in the stripped JPEG", leaks[i]);

    /* libexif finds nothing but Orientation in what we wrote */
    ExifData *ed = exif_data_new();
    assert_non_null(ed);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(ed, out, (unsigned)out_len);
    for (int i = 0; i < EXIF_IFD_COUNT; i++)
        assert_int_equal(ed->ifd[i]->count, i == EXIF_IFD_0 ? 1 : 0);
    assert_non_null(exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION));
    assert_int_equal(ed->size, 0); /* no thumbnail */
    exif_data_unref(ed);

    /* exiftool, independently */
    char *dp = tmed_tmp_path("gen_dirty.jpg"), *sp = tmed_tmp_path("gen_stripped.jpg");
    tmed_write_file(dp, g.dirty, g.dirty_len);
    tmed_write_file(sp, out, out_len);
    json_object *before = tmed_exiftool_read(dp), *v;
    /* the fixture really carries what we claim to remove */
    assert_true(json_object_object_get_ex(before, "GPS:GPSLatitude", &v));
    assert_true(json_object_object_get_ex(before, "IFD1:ThumbnailLength", &v));
    assert_true(json_object_object_get_ex(before, "ExifIFD:SerialNumber", &v));
    assert_true(json_object_object_get_ex(before, "File:Comment", &v));
    assert_true(json_object_object_get_ex(before, "ICC_Profile:DeviceModelDesc", &v));
    json_object_put(before);
    json_object *after = tmed_exiftool_read(sp);
    assert_true(json_object_object_get_ex(after, "IFD0:Orientation", &v));
    assert_int_equal(json_object_get_int(v), 6);
    json_object_put(after);
    tmed_exiftool_assert_clean(&sp, 1);
    free(dp);
    free(sp);
    free(out);
    tmed_gen_jpeg_free(&g);
}

static void test_media_jpeg_pixels_identical(void **state)
{
    static const int sizes[][2] = {{320, 240}, {333, 97}, {17, 9}};
    for (size_t i = 0; i < 3; i++) {
        struct gen_jpeg g;
        struct tl_errinfo ei;
        unsigned char *out = NULL;
        size_t out_len;
        int w1, h1, w2, h2;
        tmed_gen_jpeg_make(&g, sizes[i][0], sizes[i][1], &tmed_std_exif);
        assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, NULL, &ei), TL_OK);
        unsigned char *a = fx_jpeg_decode(g.dirty, g.dirty_len, &w1, &h1);
        unsigned char *b = fx_jpeg_decode(out, out_len, &w2, &h2);
        assert_non_null(a);
        assert_non_null(b);
        assert_int_equal(w1, w2);
        assert_int_equal(h1, h2);
        assert_memory_equal(a, b, (size_t)w1 * h1 * 3);
        free(a);
        free(b);
        free(out);
        tmed_gen_jpeg_free(&g);
    }
}

/* Upright: orientation 1 needs no EXIF at all; 2..8 keep their tag. */
static void test_media_jpeg_orientation_kept(void **state)
{
    for (int o = 1; o <= 8; o++) {
        struct gen_jpeg g;
        struct tl_errinfo ei;
        struct media_facts f;
        unsigned char *out = NULL;
        size_t out_len;
        struct fx_exif x = tmed_std_exif;
        x.orientation = o;
        tmed_gen_jpeg_make(&g, 64, 48, &x);
        assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, NULL, &ei), TL_OK);
        assert_int_equal(media_facts_read(out, out_len, NULL, &f, &ei), TL_OK);
        assert_int_equal(f.orientation, o == 1 ? 0 : o);
        assert_int_equal(f.has_gps, 0);
        assert_int_equal(f.has_time, 0);
        assert_int_equal(tmed_contains(out, out_len, "Exif"), o != 1);
        free(out);
        tmed_gen_jpeg_free(&g);
    }
}

/* A display profile with only colorimetric tags is kept, its device fields blanked; one
 * with a device description is dropped. */
/* prof is icc with its device and creator fields zeroed, nothing else changed. */
static void assert_icc_sanitized(const unsigned char *prof, const unsigned char *icc,
                                 size_t icc_len)
{
    static const unsigned char zero[20] = {0};
    assert_memory_equal(prof, icc, 48);       /* size .. date .. 'acsp' .. platform */
    assert_memory_equal(prof + 48, zero, 8);  /* manufacturer, model */
    assert_memory_equal(prof + 80, zero, 20); /* creator, profile ID */
    assert_memory_equal(prof + 100, icc + 100, icc_len - 100);
}

static void test_media_jpeg_icc_policy(void **state)
{
    static const char *const safe_tags[] = {"desc", "wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC"};
    static const char *const dev_tags[] = {"desc", "wtpt", "rXYZ", "dmdd"};
    struct gen_jpeg g;
    tmed_gen_jpeg_make(&g, 32, 32, &tmed_std_exif);
    for (int k = 0; k < 2; k++) {
        size_t icc_len;
        unsigned char *icc =
            k == 0 ? fx_icc(safe_tags, 6, &icc_len) : fx_icc(dev_tags, 4, &icc_len);
        struct fx_bytes b = {0}, seg = {0};
        fx_put(&b, g.clean, 2);
        fx_put(&seg, "ICC_PROFILE\0\1\1", 14);
        fx_put(&seg, icc, icc_len);
        fx_segment(&b, 0xE2, seg.p, seg.n);
        fx_put(&b, g.clean + 2, g.clean_len - 2);
        unsigned char *out = NULL;
        size_t out_len;
        struct tl_errinfo ei;
        assert_int_equal(media_strip(b.p, b.n, NULL, &out, &out_len, NULL, &ei), TL_OK);
        unsigned char *at = memmem(out, out_len, "ICC_PROFILE", 11);
        if (k == 0) {
            assert_non_null(at);
            assert_icc_sanitized(at + 14, icc, icc_len);
            assert_false(tmed_contains(out, out_len, "FXPH"));
        } else {
            assert_null(at);
        }
        free(out);
        free(icc);
        free(b.p);
        free(seg.p);
    }
    tmed_gen_jpeg_free(&g);
}

/* A profile cut over several APP2 segments (as cameras do past 64 KiB) is kept whole:
 * reassembled in sequence order whatever the file's order, sanitized as one, and cut
 * again where it was cut; a missing or repeated part drops it all. */
static void test_media_jpeg_icc_multi_segment(void **state)
{
    static const char *const safe_tags[] = {"desc", "wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC"};
    struct gen_jpeg g;
    tmed_gen_jpeg_make(&g, 32, 32, &tmed_std_exif);
    size_t icc_len;
    unsigned char *icc = fx_icc(safe_tags, 6, &icc_len);
    size_t cut[4] = {0, icc_len / 3, 2 * icc_len / 3, icc_len};
    static const int orders[][4] = {{2, 1, 3, 0}, {1, 2, 3, 0}, {1, 3, 0, 0}, {1, 2, 2, 3}};
    for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
        struct fx_bytes b = {0};
        fx_put(&b, g.clean, 2);
        for (int j = 0; j < 4 && orders[k][j]; j++) {
            int seq = orders[k][j];
            struct fx_bytes seg = {0};
            unsigned char head[14];
            memcpy(head, "ICC_PROFILE", 12);
            head[12] = (unsigned char)seq;
            head[13] = 3;
            fx_put(&seg, head, 14);
            fx_put(&seg, icc + cut[seq - 1], cut[seq] - cut[seq - 1]);
            fx_segment(&b, 0xE2, seg.p, seg.n);
            free(seg.p);
        }
        fx_put(&b, g.clean + 2, g.clean_len - 2);
        unsigned char *out = NULL;
        size_t out_len;
        struct tl_errinfo ei;
        assert_int_equal(media_strip(b.p, b.n, NULL, &out, &out_len, NULL, &ei), TL_OK);
        unsigned char *at = memmem(out, out_len, "ICC_PROFILE", 11);
        if (k >= 2) {
            assert_null(at); /* part 2 missing; part 2 twice */
        } else {
            unsigned char *whole = malloc(icc_len);
            size_t got = 0;
            for (int seq = 1; seq <= 3; seq++) {
                assert_non_null(at);
                assert_int_equal(at[-4], 0xFF);
                assert_int_equal(at[-3], 0xE2);
                size_t n = (size_t)(at[-2] << 8 | at[-1]) - 16;
                assert_int_equal(at[12], seq);
                assert_int_equal(at[13], 3);
                assert_int_equal(n, cut[seq] - cut[seq - 1]);
                memcpy(whole + got, at + 14, n);
                got += n;
                at = memmem(at + 14 + n, out_len - (size_t)(at + 14 + n - out), "ICC_PROFILE", 11);
            }
            assert_null(at);
            assert_int_equal(got, icc_len);
            assert_icc_sanitized(whole, icc, icc_len);
            free(whole);
        }
        free(out);
        free(b.p);
    }
    free(icc);
    tmed_gen_jpeg_free(&g);
}

const struct CMUnitTest tmed_jpeg_tests[] = {
    cmocka_unit_test(test_media_jpeg_facts),
    cmocka_unit_test(test_media_jpeg_strip_segments),
    cmocka_unit_test(test_media_jpeg_pixels_identical),
    cmocka_unit_test(test_media_jpeg_orientation_kept),
    cmocka_unit_test(test_media_jpeg_icc_policy),
    cmocka_unit_test(test_media_jpeg_icc_multi_segment),
};
const size_t tmed_jpeg_ntests = TS_NTESTS(tmed_jpeg_tests);
