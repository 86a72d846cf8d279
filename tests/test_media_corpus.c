/* tests/test_media_corpus.c - test_media: the shared corpus of real phone and camera
 * files (../shared/testdata/media, when present) and the `tipline strip` command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/media.h"
#include "common/util.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "test_media_int.h"
#include "common/banned.h"

/* ---- the shared corpus (real phone and camera files) ---- */

struct manifest_row {
    char file[128], format[64], has_gps[4], lat[32], lon[32], dto[64], orient[8];
};

static int manifest_read(const char *path, struct manifest_row **rows)
{
    size_t n;
    char *text = ts_read_file(path, &n);
    int count = 0;
    *rows = NULL;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "file\t", 5) == 0)
            continue;
        char *col[12] = {0};
        int c = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, "\t", &s2); t && c < 12; t = strtok_r(NULL, "\t", &s2))
            col[c++] = t;
        assert_true(c >= 11);
        *rows = realloc(*rows, sizeof(**rows) * (size_t)(count + 1));
        struct manifest_row *r = &(*rows)[count++];
        tl_strlcpy(r->file, col[0], sizeof(r->file));
        tl_strlcpy(r->format, col[4], sizeof(r->format));
        tl_strlcpy(r->has_gps, col[6], sizeof(r->has_gps));
        tl_strlcpy(r->lat, col[7], sizeof(r->lat));
        tl_strlcpy(r->lon, col[8], sizeof(r->lon));
        tl_strlcpy(r->dto, col[9], sizeof(r->dto));
        tl_strlcpy(r->orient, col[10], sizeof(r->orient));
    }
    free(text);
    return count;
}

static void test_media_shared_corpus(void **state)
{
    char *dir = ts_shared_path("testdata/media");
    char *man = ts_shared_path("testdata/media/MANIFEST.tsv");
    if (!dir || !man) {
        print_message("shared testdata/media absent: skipped (generated fixtures cover it)\n");
        free(dir);
        free(man);
        skip();
        return;
    }
    struct manifest_row *rows;
    int n = manifest_read(man, &rows);
    assert_true(n >= 30);
    char **stripped = calloc((size_t)n, sizeof(char *));
    int ns = 0, jpeg_compared = 0;
    for (int i = 0; i < n; i++) {
        struct manifest_row *r = &rows[i];
        char *path = tl_asprintf("%s/%s", dir, r->file);
        size_t len;
        unsigned char *in = (unsigned char *)ts_read_file(path, &len);
        struct media_facts f, sf;
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        int frc = media_facts_read(in, len, NULL, &f, &ei);
        unsigned char *out = NULL;
        size_t out_len = 0;
        int rc = media_strip(in, len, NULL, &out, &out_len, &sf, &ei);
        int is_malformed = strncmp(r->file, "malformed_", 10) == 0;

        if (strcmp(r->format, "HEIC") == 0 || strcmp(r->format, "MOV") == 0) {
            /* cleaned: a JPEG and an MP4 (test_media_video checks them in depth) */
            if (rc != TL_OK)
                fail_msg("%s: refused: %s", r->file, ei.msg);
            assert_int_equal(media_detect(out, out_len),
                             r->format[0] == 'H' ? MEDIA_JPEG : MEDIA_VIDEO);
        } else if (strcmp(r->file, "malformed_empty_0_bytes.jpg") == 0 ||
                   strcmp(r->file, "libexif_canon_makernote_variant_1.jpg") == 0) {
            /* an empty file, and an EXIF stub without image data */
            assert_int_equal(rc, TL_EPARSE);
        } else if (!is_malformed) {
            if (rc != TL_OK)
                fail_msg("%s: refused: %s", r->file, ei.msg);
        }
        if (rc != TL_OK)
            assert_null(out);

        /* facts as exiftool read them (from the EXIF even when the image is damaged) */
        if (strcmp(r->has_gps, "y") == 0 && strcmp(r->lat, "-") != 0) {
            double lat = strtod(r->lat, NULL), lon = strtod(r->lon, NULL);
            if (lat == 0 && lon == 0) {
                assert_int_equal(f.has_gps, 0); /* no-fix marker, not a position */
            } else {
                if (!f.has_gps || fabs(f.lat - lat) > 1e-6 || fabs(f.lon - lon) > 1e-6)
                    fail_msg("%s: GPS %d %.9f %.9f, manifest %s %s", r->file, f.has_gps, f.lat,
                             f.lon, r->lat, r->lon);
                assert_true(sf.has_gps && sf.lat == f.lat && sf.lon == f.lon);
            }
        } else if (frc == TL_OK) {
            assert_int_equal(f.has_gps, 0);
        }
        if (rc == TL_EUNSUPPORTED) {
            /* refused formats: facts are not read either */
        } else if (r->dto[0] >= '0' && r->dto[0] <= '9') {
            char want[20];
            snprintf(want, sizeof(want), "%.4s-%.2s-%.2sT%.8s", r->dto, r->dto + 5, r->dto + 8,
                     r->dto + 11);
            if (!f.has_time || strcmp(f.time_local, want) != 0)
                fail_msg("%s: time %s, manifest %s", r->file, f.time_local, r->dto);
        } else if (strcmp(r->format, "JPEG") == 0 && frc == TL_OK) {
            assert_int_equal(f.has_time, 0);
        }
        if (rc != TL_EUNSUPPORTED && r->orient[0] >= '1' && r->orient[0] <= '8') {
            if (f.orientation != r->orient[0] - '0')
                fail_msg("%s: orientation %d, manifest %s", r->file, f.orientation, r->orient);
        }

        if (rc == TL_OK && media_detect(out, out_len) != MEDIA_VIDEO) {
            char *sp = tmed_tmp_path(r->file);
            tmed_write_file(sp, out, out_len);
            stripped[ns++] = sp;
            /* decoded pixels identical; the DNL original is one libjpeg cannot decode */
            if (media_detect(in, len) == MEDIA_JPEG) {
                int w1, h1, w2, h2;
                unsigned char *a = fx_jpeg_decode(in, len, &w1, &h1);
                unsigned char *b = fx_jpeg_decode(out, out_len, &w2, &h2);
                if (!b)
                    fail_msg("%s: stripped JPEG does not decode", r->file);
                if (a && w1 == w2 && h1 == h2 && h1 > 0) {
                    if (memcmp(a, b, (size_t)w1 * h1 * 3) != 0)
                        fail_msg("%s: stripped pixels differ", r->file);
                    jpeg_compared++;
                } else {
                    assert_string_equal(r->file, "noexif_plain.jpg");
                    assert_int_equal(h2, 200); /* decodes now: DNL height moved into SOF */
                }
                free(a);
                free(b);
                /* upright: same orientation as the original in the stripped file */
                struct media_facts of;
                assert_int_equal(media_facts_read(out, out_len, NULL, &of, &ei), TL_OK);
                assert_int_equal(of.orientation, f.orientation >= 2 ? f.orientation : 0);
            }
        }
        free(out);
        free(in);
        free(path);
    }
    assert_true(jpeg_compared >= 20);
    tmed_exiftool_assert_clean(stripped, ns);

    /* Landscape_1..8 (the same scene stored eight ways) hash alike once upright */
    uint64_t h1 = 0, h;
    for (int o = 1; o <= 8; o++) {
        char name[64];
        snprintf(name, sizeof(name), "orientation_Landscape_%d.jpg", o);
        char *sp = tmed_tmp_path(name);
        size_t len;
        unsigned char *b = (unsigned char *)ts_read_file(sp, &len);
        struct tl_errinfo ei;
        assert_int_equal(media_phash(b, len, NULL, &h, &ei), TL_OK);
        if (o == 1)
            h1 = h;
        else if (media_hamming(h1, h) > 8)
            fail_msg("Landscape_%d stripped is %d bits from Landscape_1", o, media_hamming(h1, h));
        free(b);
        free(sp);
    }

    /* distinct real photos stay apart; their recompressions and halves stay close */
    static const char *const photos[] = {
        "gps_Apple_iPhone_4.jpg",        "gps_HTC_Desire.jpg",
        "gps_Sony_DSC-HX5V.jpg",         "gps_Nikon_COOLPIX_P6000_DSCN0010.jpg",
        "gps_FujiFilm_FinePixS1Pro.jpg", "orientation_Landscape_1.jpg",
        "xmp_iptc_Nikon_E4600.jpg",      "gps_zero_Samsung_GT-I9000.jpg"};
    enum { NP = sizeof(photos) / sizeof(photos[0]) };
    uint64_t hv[NP][3];
    for (int i = 0; i < NP; i++) {
        char *p = tl_asprintf("%s/%s", dir, photos[i]);
        size_t len;
        unsigned char *b = (unsigned char *)ts_read_file(p, &len);
        tmed_phash_variants(b, len, hv[i]);
        free(b);
        free(p);
    }
    tmed_phash_check_set(hv, NP, "shared photo");

    for (int i = 0; i < ns; i++)
        free(stripped[i]);
    free(stripped);
    free(rows);
    free(dir);
    free(man);
}

/* ---- the command ---- */

static int run_cli(const char *args, char **out_text)
{
    const char *cli = getenv("TL_MEDIA_CLI");
    assert_non_null(cli);
    char *cmd = tl_asprintf("%s 2>&1 %s", cli, args);
    int st = ts_run(cmd, out_text);
    free(cmd);
    return st;
}

static void test_media_cli(void **state)
{
    struct gen_jpeg g;
    char *text;
    tmed_gen_jpeg_make(&g, 64, 48, &tmed_std_exif);
    char *in = tmed_tmp_path("cli_in.jpg"), *outp = tmed_tmp_path("cli_out.jpg"),
         *heic = tmed_tmp_path("cli.heic");
    tmed_write_file(in, g.dirty, g.dirty_len);
    tmed_write_file(heic,
                    (const unsigned char *)"\0\0\0\x18"
                                           "ftypheic\0\0\0\0mif1heic",
                    24);

    char *args = tl_asprintf("strip '%s' '%s'", in, outp);
    assert_int_equal(run_cli(args, &text), 0);
    free(text);
    free(args);
    size_t n;
    unsigned char *o = (unsigned char *)ts_read_file(outp, &n);
    unsigned char *want = NULL;
    size_t want_len;
    struct tl_errinfo ei;
    assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &want, &want_len, NULL, &ei), TL_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(o, want, n);
    free(o);
    free(want);

    args = tl_asprintf("strip --info '%s'", in);
    assert_int_equal(run_cli(args, &text), 0);
    json_object *j = json_tokener_parse(text), *gps, *v;
    assert_non_null(j);
    assert_true(json_object_object_get_ex(j, "gps", &gps));
    assert_true(json_object_object_get_ex(gps, "lat", &v));
    assert_true(fabs(json_object_get_double(v) - 50.4501234) < 1e-7);
    assert_true(json_object_object_get_ex(j, "time_local", &v));
    assert_string_equal(json_object_get_string(v), "2026-02-24T05:41:07");
    json_object_put(j);
    free(text);
    free(args);

    unlink(outp);
    args = tl_asprintf("strip '%s' '%s'", heic, outp);
    assert_int_equal(run_cli(args, &text), 1);
    assert_non_null(strstr(text, "HEIF container cannot be read"));
    assert_int_equal(access(outp, F_OK), -1); /* nothing written */
    free(text);
    free(args);

    /* the name says JPEG, the bytes say PNG: the bytes win */
    struct fx_bytes png = tmed_png_dirty();
    char *fake = tmed_tmp_path("really_a_png.jpg");
    tmed_write_file(fake, png.p, png.n);
    args = tl_asprintf("strip --info '%s'", fake);
    assert_int_equal(run_cli(args, &text), 0);
    assert_non_null(strstr(text, "\"format\":\"png\",\"mime\":\"image/png\""));
    free(text);
    free(args);
    /* stdin to stdout */
    args = tl_asprintf("strip - - < '%s' > '%s'", fake, outp);
    assert_int_equal(run_cli(args, &text), 0);
    free(text);
    free(args);
    o = (unsigned char *)ts_read_file(outp, &n);
    assert_int_equal(media_strip(png.p, png.n, NULL, &want, &want_len, NULL, &ei), TL_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(o, want, n);
    free(o);
    free(want);
    free(fake);
    free(png.p);

    assert_int_equal(run_cli("strip", &text), 2);
    free(text);
    assert_int_equal(run_cli("strip --bogus a b", &text), 2);
    free(text);
    assert_int_equal(run_cli("strip --help", &text), 0);
    assert_non_null(strstr(text, "usage: tipline strip"));
    free(text);
    args = tl_asprintf("strip --max-pixels 100 '%s' '%s'", in, outp);
    assert_int_equal(run_cli(args, &text), 1);
    assert_non_null(strstr(text, "over the limit"));
    free(text);
    free(args);

    free(in);
    free(outp);
    free(heic);
    tmed_gen_jpeg_free(&g);
}

const struct CMUnitTest tmed_corpus_tests[] = {
    cmocka_unit_test(test_media_shared_corpus),
    cmocka_unit_test(test_media_cli),
};
const size_t tmed_corpus_ntests = TS_NTESTS(tmed_corpus_tests);
