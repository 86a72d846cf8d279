/* tests/test_media_phash.c - test_media: the perceptual hash (near duplicates close,
 * others far; the upright orientation) and the in-memory band index that searches it. */
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

/* ---- the in-memory band index (media_mih) ---- */

static uint64_t mih_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* h with bits distinct bits flipped */
static uint64_t mih_flip(uint64_t h, int bits, uint64_t *rs)
{
    uint64_t mask = 0;
    while (__builtin_popcountll(mask) < bits)
        mask |= 1ull << (mih_rand(rs) % 64);
    return h ^ mask;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* The index against a brute-force scan for k = 0..14: around each query, hashes at
 * every distance 0..16 (so every band split of the differing bits occurs), among 30,000
 * random ones, some added after a compaction (buckets moved); the ids returned must be
 * exactly those within k bits, each once, with its distance. */
static void test_media_mih_matches_brute_force(void **state)
{
    (void)state;
    enum { N_RANDOM = 30000, N_QUERY = 40, PER_D = 6, MAX = 4096 };
    size_t cap = N_RANDOM + N_QUERY * 17 * PER_D;
    uint64_t *hs = malloc(cap * sizeof(*hs)), rs = 7, q[N_QUERY];
    struct media_mih_hit *hit = malloc(MAX * sizeof(*hit));
    long long *got = malloc(MAX * sizeof(*got)), *want = malloc(cap * sizeof(*want));
    struct media_mih *m = NULL;
    size_t n = 0;
    assert_non_null(hs);
    assert_non_null(hit);
    assert_non_null(got);
    assert_non_null(want);
    assert_int_equal(media_mih_new(&m), TL_OK);
    /* empty: nothing found, before and after a compaction */
    assert_int_equal(media_mih_query(m, 42, 14, hit, MAX), 0);
    assert_int_equal(media_mih_compact(m), TL_OK);
    assert_int_equal(media_mih_query(m, 42, 14, hit, MAX), 0);
    for (int i = 0; i < N_QUERY; i++)
        q[i] = mih_rand(&rs);
    for (int i = 0; i < N_RANDOM; i++)
        hs[n++] = mih_rand(&rs);
    for (int i = 0; i < N_QUERY; i++)
        for (int d = 0; d <= 16; d++)
            for (int j = 0; j < PER_D; j++)
                hs[n++] = mih_flip(q[i], d, &rs);
    /* half, compacted, then the rest: the second half moves grown buckets */
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal(media_mih_add(m, hs[i], (long long)i + 1), TL_OK);
    assert_int_equal(media_mih_compact(m), TL_OK);
    assert_int_equal(media_mih_spare_bytes(m), 0);
    for (size_t i = 1; i < n; i += 2)
        assert_int_equal(media_mih_add(m, hs[i], (long long)i + 1), TL_OK);
    assert_int_equal(media_mih_count(m), n);
    /* the grown buckets' old room: counted in the memory held, given back by a compact */
    size_t spare = media_mih_spare_bytes(m), held = media_mih_bytes(m);
    assert_true(spare > 0 && spare < held);
    assert_int_equal(media_mih_compact(m), TL_OK);
    assert_int_equal(media_mih_spare_bytes(m), 0);
    assert_true(media_mih_bytes(m) <= held - spare);
    size_t matches = 0;
    for (int k = 0; k <= MEDIA_MIH_MAX_K; k++) {
        for (int i = 0; i < N_QUERY; i++) {
            size_t nw = 0;
            for (size_t j = 0; j < n; j++)
                if (__builtin_popcountll(hs[j] ^ q[i]) <= k)
                    want[nw++] = (long long)j + 1;
            size_t ng = media_mih_query(m, q[i], k, hit, MAX);
            assert_int_equal(ng, nw);
            for (size_t j = 0; j < ng; j++) {
                got[j] = hit[j].id;
                assert_int_equal(hit[j].distance, __builtin_popcountll(hs[hit[j].id - 1] ^ q[i]));
            }
            qsort(got, ng, sizeof(*got), cmp_ll);
            assert_memory_equal(got, want, nw * sizeof(*got));
            matches += nw;
        }
    }
    assert_true(matches > (size_t)N_QUERY * PER_D * 15); /* every k found its planted ones */
    /* out of range, and a full out[]: the count, only max written */
    assert_int_equal(media_mih_query(m, q[0], 15, hit, MAX), 0);
    assert_int_equal(media_mih_query(m, q[0], -1, hit, MAX), 0);
    assert_int_equal(media_mih_query(m, q[0], 16, hit, 1), 0);
    assert_true(media_mih_query(m, q[0], 14, hit, 1) > 1);
    media_mih_free(m);
    media_mih_free(NULL);
    free(hs);
    free(hit);
    free(got);
    free(want);
}

const struct CMUnitTest tmed_phash_tests[] = {
    cmocka_unit_test(test_media_phash_near_duplicates),
    cmocka_unit_test(test_media_mih_matches_brute_force),
    cmocka_unit_test(test_media_phash_upright),
};
const size_t tmed_phash_ntests = TS_NTESTS(tmed_phash_tests);
