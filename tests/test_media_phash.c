/* tests/test_media_phash.c - test_media: the perceptual hash (near duplicates close,
 * others far; the upright orientation). */
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

/* ---- perceptual hash ---- */

static unsigned char *half_size(const unsigned char *rgb, int w, int h)
{
    unsigned char *o = malloc((size_t)(w / 2) * (h / 2) * 3);
    for (int y = 0; y < h / 2; y++)
        for (int x = 0; x < w / 2; x++)
            for (int c = 0; c < 3; c++) {
                int s = rgb[((2 * y) * w + 2 * x) * 3 + c] +
                        rgb[((2 * y) * w + 2 * x + 1) * 3 + c] +
                        rgb[((2 * y + 1) * w + 2 * x) * 3 + c] +
                        rgb[((2 * y + 1) * w + 2 * x + 1) * 3 + c];
                o[(y * (w / 2) + x) * 3 + c] = (unsigned char)((s + 2) / 4);
            }
    return o;
}

/* Keeps the original's Orientation on a re-encoded copy (as Telegram's recompression
 * keeps the picture upright). Returns a new buffer. */
static unsigned char *with_orientation(unsigned char *j, size_t *l, int orientation)
{
    if (orientation < 2)
        return j;
    struct fx_exif x = tmed_std_exif;
    x.orientation = orientation;
    unsigned char *d = fx_jpeg_dirty(j, *l, &x, 0, l);
    free(j);
    return d;
}

void tmed_phash_variants(const unsigned char *j, size_t n, uint64_t hv[3])
{
    struct tl_errinfo ei;
    struct media_facts f;
    int w, h;
    size_t l;
    assert_int_equal(media_phash(j, n, NULL, &hv[0], &ei), TL_OK);
    assert_int_equal(media_facts_read(j, n, NULL, &f, &ei), TL_OK);
    unsigned char *rgb = fx_jpeg_decode(j, n, &w, &h);
    assert_non_null(rgb);
    unsigned char *q50 = with_orientation(fx_jpeg_encode(rgb, w, h, 50, &l), &l, f.orientation);
    assert_int_equal(media_phash(q50, l, NULL, &hv[1], &ei), TL_OK);
    free(q50);
    unsigned char *half = half_size(rgb, w, h);
    unsigned char *hj =
        with_orientation(fx_jpeg_encode(half, w / 2, h / 2, 85, &l), &l, f.orientation);
    assert_int_equal(media_phash(hj, l, NULL, &hv[2], &ei), TL_OK);
    free(hj);
    free(half);
    free(rgb);
}

void tmed_phash_check_set(uint64_t (*hv)[3], int n, const char *what)
{
    int worst_near = 0, closest = 64;
    for (int i = 0; i < n; i++) {
        int dq = media_hamming(hv[i][0], hv[i][1]), dh = media_hamming(hv[i][0], hv[i][2]);
        if (dq > 8 || dh > 8)
            fail_msg("%s %d: q50 distance %d, half distance %d", what, i, dq, dh);
        worst_near = dq > worst_near ? dq : worst_near;
        worst_near = dh > worst_near ? dh : worst_near;
        for (int k = 0; k < i; k++) {
            int d = media_hamming(hv[i][0], hv[k][0]);
            if (d <= 16)
                fail_msg("%s %d and %d: distance %d", what, i, k, d);
            closest = d < closest ? d : closest;
        }
    }
    print_message("phash %s set of %d: near-duplicates within %d bits, distinct >= %d bits\n", what,
                  n, worst_near, closest);
}

static void test_media_phash_near_duplicates(void **state)
{
    enum { NPH = 12 };
    uint64_t hv[NPH][3];
    for (int i = 0; i < NPH; i++) {
        unsigned char *rgb = fx_photo_rgb(1280, 960, (uint32_t)(100 + i));
        size_t l;
        unsigned char *j = fx_jpeg_encode(rgb, 1280, 960, 90, &l);
        tmed_phash_variants(j, l, hv[i]);
        free(j);
        free(rgb);
    }
    tmed_phash_check_set(hv, NPH, "generated photo");
    assert_int_equal(media_hamming(0, ~0ull), 64);
    assert_int_equal(media_hamming(0x5, 0x3), 2);
}

/* The hash sees the picture upright: a photo stored rotated/mirrored with the matching
 * Orientation tag hashes like the upright original, and so does its stripped copy. */
static void test_media_phash_upright(void **state)
{
    int w = 640, h = 480;
    unsigned char *up = fx_photo_rgb(w, h, 5);
    size_t l;
    unsigned char *j = fx_jpeg_encode(up, w, h, 90, &l);
    uint64_t base, other;
    struct tl_errinfo ei;
    assert_int_equal(media_phash(j, l, NULL, &base, &ei), TL_OK);
    free(j);
    for (int o = 2; o <= 8; o++) {
        /* the stored image whose upright view is `up` */
        struct pg_image st = {w, h, malloc((size_t)w * h * 3)};
        assert_non_null(st.px);
        memcpy(st.px, up, (size_t)w * h * 3);
        assert_int_equal(pg_disorient(&st, o), 0);
        struct gen_jpeg g;
        struct fx_exif x = tmed_std_exif;
        x.orientation = o;
        g.clean = fx_jpeg_encode(st.px, st.w, st.h, 90, &g.clean_len);
        g.thumb = NULL;
        g.dirty = fx_jpeg_dirty(g.clean, g.clean_len, &x, 0, &g.dirty_len);
        unsigned char *out = NULL;
        size_t out_len;
        assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, NULL, &ei), TL_OK);
        assert_int_equal(media_phash(out, out_len, NULL, &other, &ei), TL_OK);
        if (media_hamming(base, other) > 8)
            fail_msg("orientation %d: distance %d from upright", o, media_hamming(base, other));
        /* without the tag the same pixels are not upright: the tag is what we rely on */
        assert_int_equal(media_phash(g.clean, g.clean_len, NULL, &other, &ei), TL_OK);
        if (o != 2 && o != 4 && media_hamming(base, other) <= 8)
            fail_msg("orientation %d: untagged copy hashes as upright", o);
        free(out);
        pg_image_release(&st);
        tmed_gen_jpeg_free(&g);
    }
    free(up);
}

const struct CMUnitTest tmed_phash_tests[] = {
    cmocka_unit_test(test_media_phash_near_duplicates),
    cmocka_unit_test(test_media_phash_upright),
};
const size_t tmed_phash_ntests = TS_NTESTS(tmed_phash_tests);
