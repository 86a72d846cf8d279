/* tests/test_media.c - media/: detection, facts, the lossless strip of each format
 * (checked by our own walk and by exiftool as an independent reader), pixel identity of
 * stripped JPEGs, orientation, limits, hostile input, the perceptual hash, and the
 * `tipline strip` front. Fixtures are generated here; ../shared/testdata/media adds
 * real phone and camera files when present. This file holds the shared fixtures,
 * exiftool as the reader, the detection test, and main, which runs it with the tests of
 * test_media_jpeg.c, test_media_formats.c (PNG, WebP, GIF), test_media_hostile.c
 * (refusals, limits, hostile input), test_media_phash.c and test_media_corpus.c (the
 * shared corpus, the command) as one group in one temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
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

#define EXIFTOOL "/usr/bin/exiftool"

static char tmpdir[] = "/tmp/tl-media-test.XXXXXX";

void tmed_write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

char *tmed_tmp_path(const char *name)
{
    char *p = tl_asprintf("%s/%s", tmpdir, name);
    assert_non_null(p);
    return p;
}

const struct fx_exif tmed_std_exif = {
    .lat = 50.4501234,
    .lon = -30.5234567,
    .alt_cm = 17950,
    .below_sea = 0,
    .hpe_cm = 470,
    .dto = "2026:02:24 05:41:07",
    .offset = "+02:00",
    .orientation = 6,
};

void tmed_gen_jpeg_make(struct gen_jpeg *g, int w, int h, const struct fx_exif *x)
{
    unsigned char *rgb = fx_photo_rgb(w, h, 7);
    unsigned char *trgb = fx_photo_rgb(16, 12, 7);
    struct fx_exif e = *x;
    g->clean = fx_jpeg_encode(rgb, w, h, 90, &g->clean_len);
    g->thumb = fx_jpeg_encode(trgb, 16, 12, 60, &g->thumb_len);
    e.thumb = g->thumb;
    e.thumb_len = g->thumb_len;
    g->dirty = fx_jpeg_dirty(g->clean, g->clean_len, &e, 1, &g->dirty_len);
    free(rgb);
    free(trgb);
}

void tmed_gen_jpeg_free(struct gen_jpeg *g)
{
    free(g->clean);
    free(g->dirty);
    free(g->thumb);
}

int tmed_contains(const unsigned char *p, size_t n, const char *needle)
{
    return memmem(p, n, needle, strlen(needle)) != NULL;
}

/* ---- exiftool, the independent reader ---- */

/* exiftool -j -a -G1 -n on the files args names (quoted, each after a space): its
 * array of objects, one a file (json_object_put). */
static json_object *exiftool_json(const char *args)
{
    char *cmd = tl_asprintf("%s -j -a -G1 -n%s", EXIFTOOL, args), *out = NULL;
    ts_run(cmd, &out);
    json_object *arr = json_tokener_parse(out);
    if (!json_object_is_type(arr, json_type_array))
        fail_msg("%s: not a JSON array: %.200s", cmd, out);
    free(out);
    free(cmd);
    return arr;
}

void tmed_exiftool_assert_clean(char **paths, int n)
{
    if (access(EXIFTOOL, X_OK) != 0) {
        skip(); /* the test setup installs libimage-exiftool-perl */
        return;
    }
    struct tl_buf args;
    tl_buf_init(&args, 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(tl_buf_printf(&args, " '%s'", paths[i]), 0);
    assert_int_equal(tl_buf_append(&args, "", 0), 0);
    json_object *arr = exiftool_json((char *)args.data);
    tl_buf_release(&args);
    assert_int_equal(json_object_array_length(arr), n);
    static const char *const ok_groups[] = {"ExifTool",  "System",     "File",       "JFIF",
                                            "Adobe",     "PNG",        "RIFF",       "GIF",
                                            "Composite", "ICC-header", "ICC_Profile"};
    static const char *const bad_words[] = {
        "GPS",      "Thumbnail", "Comment", "Serial", "Make",      "Model",
        "Artist",   "Owner",     "Creator", "Author", "Copyright", "Software",
        "DateTime", "Warning",   "Mfg",     "XMP",    "IPTC"};
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, (size_t)i);
        json_object_object_foreach(o, key, val)
        {
            if (strcmp(key, "SourceFile") == 0)
                continue;
            const char *colon = strchr(key, ':');
            assert_non_null(colon);
            size_t gl = (size_t)(colon - key);
            const char *tag = colon + 1;
            if (gl == 4 && strncmp(key, "IFD0", 4) == 0 && strcmp(tag, "Orientation") == 0)
                continue;
            int group_ok = strncmp(key, "PNG-", 4) == 0; /* PNG-pHYs, PNG-sRGB... */
            for (size_t k = 0; k < sizeof(ok_groups) / sizeof(ok_groups[0]); k++)
                if (strlen(ok_groups[k]) == gl && strncmp(key, ok_groups[k], gl) == 0)
                    group_ok = 1;
            if (!group_ok)
                fail_msg("%s: group of %s left after strip", paths[i], key);
            if (strncmp(key, "File", gl) == 0 || strncmp(key, "System", gl) == 0) {
                if (strstr(tag, "Comment"))
                    fail_msg("%s: %s left after strip", paths[i], key);
                continue; /* file names and dates of our own temp file */
            }
            if (strstr(tag, "ProfileDateTime") || strcmp(tag, "ProfileCreator") == 0 ||
                strcmp(tag, "DeviceManufacturer") == 0 || strcmp(tag, "DeviceModel") == 0) {
                /* ICC header fields must be blanked */
                const char *v = json_object_get_string(val);
                if (strstr(tag, "DateTime"))
                    continue; /* the profile's build date, not the photo's */
                if (v && *v && strcmp(v, "0") != 0)
                    fail_msg("%s: %s=%s left after strip", paths[i], key, v);
                continue;
            }
            for (size_t k = 0; k < sizeof(bad_words) / sizeof(bad_words[0]); k++)
                if (strstr(tag, bad_words[k]))
                    fail_msg("%s: %s left after strip", paths[i], key);
        }
    }
    json_object_put(arr);
}

json_object *tmed_exiftool_read(const char *path)
{
    if (access(EXIFTOOL, X_OK) != 0)
        skip(); /* the test setup installs libimage-exiftool-perl */
    char *args = tl_asprintf(" '%s'", path);
    json_object *arr = exiftool_json(args);
    free(args);
    json_object *o = json_object_get(json_object_array_get_idx(arr, 0));
    json_object_put(arr);
    return o;
}

/* ---- detection ---- */

static void test_media_detect_magic(void **state)
{
    static const struct {
        const char *bytes;
        size_t n;
        enum media_format f;
    } cases[] = {
        {"\xFF\xD8\xFF\xE0\0\x10JFIF", 10, MEDIA_JPEG},
        {"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16, MEDIA_PNG},
        {"RIFF\0\0\0\0WEBPVP8 ", 16, MEDIA_WEBP},
        {"GIF89a\1\0\1\0", 10, MEDIA_GIF},
        {"GIF87a\1\0\1\0", 10, MEDIA_GIF},
        {"\0\0\0\x18"
         "ftypheic\0\0\0\0mif1heic",
         24, MEDIA_HEIF},
        {"\0\0\0\x1c"
         "ftypavif\0\0\0\0avifmif1miaf",
         28, MEDIA_HEIF},
        {"\0\0\0\x18"
         "ftypmif1\0\0\0\0mif1heic",
         24, MEDIA_HEIF},
        {"\0\0\0\x18"
         "ftypisom\0\0\0\0isomiso2",
         24, MEDIA_VIDEO},
        {"\0\0\0\x14"
         "ftypqt  \0\0\0\0qt  ",
         20, MEDIA_VIDEO},
        {"\0\0\0\x08wide\0\0\0\0mdat", 16, MEDIA_VIDEO},
        {"\x1a\x45\xdf\xa3\x01\0\0\0", 8, MEDIA_VIDEO},
        {"RIFF\0\0\0\0AVI LIST", 16, MEDIA_VIDEO},
        {"\0\0\0\x18"
         "ftypcrx \0\0\0\0crx isom",
         24, MEDIA_RAW},
        {"FUJIFILMCCD-RAW 0201", 20, MEDIA_RAW},
        {"IIRO\x08\0\0\0", 8, MEDIA_RAW},
        {"II*\0\x08\0\0\0", 8, MEDIA_TIFF},
        {"MM\0*\0\0\0\x08", 8, MEDIA_TIFF},
        {"BM\x36\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\1\0\0\0\1\0\0\0", 26, MEDIA_BMP},
        {"%PDF-1.7", 8, MEDIA_PDF},
        {"hello world", 11, MEDIA_UNKNOWN},
        {"\xFF\xD8", 2, MEDIA_UNKNOWN},
        {"", 0, MEDIA_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum media_format f = media_detect((const unsigned char *)cases[i].bytes, cases[i].n);
        if (f != cases[i].f)
            fail_msg("case %zu: got %s want %s", i, media_format_name(f),
                     media_format_name(cases[i].f));
    }
    assert_string_equal(media_format_mime(MEDIA_JPEG), "image/jpeg");
    assert_string_equal(media_format_mime(MEDIA_WEBP), "image/webp");
    assert_string_equal(media_format_name(MEDIA_HEIF), "heif");
    assert_int_equal(media_detect(NULL, 10), MEDIA_UNKNOWN);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char *cmd = tl_asprintf("rm -rf '%s'", tmpdir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static const struct CMUnitTest own_tests[] = {
    cmocka_unit_test(test_media_detect_magic),
};
static const size_t own_ntests = TS_NTESTS(own_tests);

int main(void)
{
    const struct ts_part parts[] = {
        {own_tests, &own_ntests},
        {tmed_jpeg_tests, &tmed_jpeg_ntests},
        {tmed_formats_tests, &tmed_formats_ntests},
        {tmed_hostile_tests, &tmed_hostile_ntests},
        {tmed_phash_tests, &tmed_phash_ntests},
        {tmed_corpus_tests, &tmed_corpus_ntests},
    };
    return ts_run_parts(parts, TS_NTESTS(parts), setup, teardown);
}
