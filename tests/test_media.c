/* tests/test_media.c - media/: detection, facts, the lossless strip of each format
 * (checked by our own walk and by exiftool as an independent reader), pixel identity of
 * stripped JPEGs, orientation, limits, hostile input, the perceptual hash, and the
 * `tipline strip` front. Fixtures are generated here; ../shared/testdata/media adds
 * real phone and camera files when present. */
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "media/media.h"
#include "common/util.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "common/banned.h"

#define EXIFTOOL "/usr/bin/exiftool"

static char tmpdir[] = "/tmp/tl-media-test.XXXXXX";

static void write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static char *tmp_path(const char *name)
{
    char *p = tl_asprintf("%s/%s", tmpdir, name);
    assert_non_null(p);
    return p;
}

static const struct fx_exif std_exif = {
    .lat = 50.4501234,
    .lon = -30.5234567,
    .alt_cm = 17950,
    .below_sea = 0,
    .hpe_cm = 470,
    .dto = "2026:02:24 05:41:07",
    .offset = "+02:00",
    .orientation = 6,
};

/* A generated dirty JPEG (with trailer) and its clean source. */
struct gen_jpeg {
    unsigned char *clean, *dirty, *thumb;
    size_t clean_len, dirty_len, thumb_len;
};

static void gen_jpeg_make(struct gen_jpeg *g, int w, int h, const struct fx_exif *x)
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

static void gen_jpeg_free(struct gen_jpeg *g)
{
    free(g->clean);
    free(g->dirty);
    free(g->thumb);
}

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

static uint32_t media_le32_test(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int contains(const unsigned char *p, size_t n, const char *needle)
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

/* Runs exiftool once on paths and fails on anything that could identify a reporter:
 * only file facts, JFIF density, Adobe colour transform, PNG/RIFF/GIF image structure
 * and IFD0:Orientation may remain. */
static void exiftool_assert_clean(char **paths, int n)
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

/* exiftool -n -j on one file, as a parsed object (json_object_put). */
static json_object *exiftool_read(const char *path)
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

/* ---- JPEG ---- */

static void test_media_jpeg_facts(void **state)
{
    struct gen_jpeg g;
    struct media_facts f;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    gen_jpeg_make(&g, 320, 240, &std_exif);
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
    struct fx_exif x = std_exif;
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
    gen_jpeg_free(&g);
}

static void test_media_jpeg_strip_segments(void **state)
{
    struct gen_jpeg g;
    struct tl_errinfo ei;
    unsigned char *out = NULL;
    size_t out_len;
    unsigned m[64], mc[64];
    int n, nc;
    gen_jpeg_make(&g, 320, 240, &std_exif);
    assert_true(contains(g.dirty, g.dirty_len, "Olena Reporter"));
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
        if (contains(out, out_len, leaks[i]))
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
    char *dp = tmp_path("gen_dirty.jpg"), *sp = tmp_path("gen_stripped.jpg");
    write_file(dp, g.dirty, g.dirty_len);
    write_file(sp, out, out_len);
    json_object *before = exiftool_read(dp), *v;
    /* the fixture really carries what we claim to remove */
    assert_true(json_object_object_get_ex(before, "GPS:GPSLatitude", &v));
    assert_true(json_object_object_get_ex(before, "IFD1:ThumbnailLength", &v));
    assert_true(json_object_object_get_ex(before, "ExifIFD:SerialNumber", &v));
    assert_true(json_object_object_get_ex(before, "File:Comment", &v));
    assert_true(json_object_object_get_ex(before, "ICC_Profile:DeviceModelDesc", &v));
    json_object_put(before);
    json_object *after = exiftool_read(sp);
    assert_true(json_object_object_get_ex(after, "IFD0:Orientation", &v));
    assert_int_equal(json_object_get_int(v), 6);
    json_object_put(after);
    exiftool_assert_clean(&sp, 1);
    free(dp);
    free(sp);
    free(out);
    gen_jpeg_free(&g);
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
        gen_jpeg_make(&g, sizes[i][0], sizes[i][1], &std_exif);
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
        gen_jpeg_free(&g);
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
        struct fx_exif x = std_exif;
        x.orientation = o;
        gen_jpeg_make(&g, 64, 48, &x);
        assert_int_equal(media_strip(g.dirty, g.dirty_len, NULL, &out, &out_len, NULL, &ei), TL_OK);
        assert_int_equal(media_facts_read(out, out_len, NULL, &f, &ei), TL_OK);
        assert_int_equal(f.orientation, o == 1 ? 0 : o);
        assert_int_equal(f.has_gps, 0);
        assert_int_equal(f.has_time, 0);
        assert_int_equal(contains(out, out_len, "Exif"), o != 1);
        free(out);
        gen_jpeg_free(&g);
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
    gen_jpeg_make(&g, 32, 32, &std_exif);
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
            assert_false(contains(out, out_len, "FXPH"));
        } else {
            assert_null(at);
        }
        free(out);
        free(icc);
        free(b.p);
        free(seg.p);
    }
    gen_jpeg_free(&g);
}

/* A profile cut over several APP2 segments (as cameras do past 64 KiB) is kept whole:
 * reassembled in sequence order whatever the file's order, sanitized as one, and cut
 * again where it was cut; a missing or repeated part drops it all. */
static void test_media_jpeg_icc_multi_segment(void **state)
{
    static const char *const safe_tags[] = {"desc", "wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC"};
    struct gen_jpeg g;
    gen_jpeg_make(&g, 32, 32, &std_exif);
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
    gen_jpeg_free(&g);
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

/* A 2x2 RGB PNG with every kind of metadata chunk around the image. */
static struct fx_bytes png_dirty(void)
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
    unsigned char *exif = fx_exif_payload(&std_exif, EXIF_BYTE_ORDER_MOTOROLA, &exif_len);
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
    struct fx_bytes in = png_dirty();
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
    assert_false(contains(out, out_len, "Olena"));
    char *sp = tmp_path("gen_stripped.png");
    write_file(sp, out, out_len);
    exiftool_assert_clean(&sp, 1);
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
    unsigned char *exif = fx_exif_payload(&std_exif, EXIF_BYTE_ORDER_INTEL, &exif_len);
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
    assert_false(contains(out, out_len, "Olena"));
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
        assert_false(contains(out, out_len, "FXPH"));
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
    char *sp = tmp_path("gen_stripped.gif");
    write_file(sp, out, out_len);
    exiftool_assert_clean(&sp, 1);
    free(sp);
    free(out);
    free(in.p);
    free(want.p);
}

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
    gen_jpeg_make(&g, 64, 48, &std_exif);
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
    struct fx_bytes png = png_dirty();
    png.p[16] = 0x7F; /* width 2^30+ */
    assert_int_equal(media_strip(png.p, png.n, NULL, &out, &out_len, NULL, &ei), TL_ETOOBIG);
    static const unsigned char gif[] = {'G',  'I',  'F',  '8', '9', 'a', 0xFF,
                                        0xFF, 0xFF, 0xFF, 0,   0,   0,   0x3B};
    lim.max_bytes = 0;
    lim.max_pixels = 1000;
    assert_int_equal(media_strip(gif, sizeof(gif), &lim, &out, &out_len, NULL, &ei), TL_ETOOBIG);
    free(png.p);
    gen_jpeg_free(&g);
}

/* Every strict prefix of a well-formed file is refused (never a crash, never a partial
 * output), and random corruption never crashes. ASan/UBSan builds make this a bounds
 * check. */
static void test_media_truncated_and_corrupt(void **state)
{
    struct gen_jpeg g;
    gen_jpeg_make(&g, 48, 32, &std_exif);
    struct fx_bytes png = png_dirty();
    size_t png_end = (size_t)((unsigned char *)memmem(png.p, png.n, "IEND", 4) - png.p) + 8;
    /* the dirty JPEG without its trailer */
    struct fx_exif x = std_exif;
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
    gen_jpeg_free(&g);
}

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
    struct fx_exif x = std_exif;
    x.orientation = orientation;
    unsigned char *d = fx_jpeg_dirty(j, *l, &x, 0, l);
    free(j);
    return d;
}

/* Hash of a JPEG, its quality-50 recompression and its half-size version. */
static void phash_variants(const unsigned char *j, size_t n, uint64_t hv[3])
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

static void phash_check_set(uint64_t (*hv)[3], int n, const char *what)
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
        phash_variants(j, l, hv[i]);
        free(j);
        free(rgb);
    }
    phash_check_set(hv, NPH, "generated photo");
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
        struct fx_exif x = std_exif;
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
        gen_jpeg_free(&g);
    }
    free(up);
}

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
            char *sp = tmp_path(r->file);
            write_file(sp, out, out_len);
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
    exiftool_assert_clean(stripped, ns);

    /* Landscape_1..8 (the same scene stored eight ways) hash alike once upright */
    uint64_t h1 = 0, h;
    for (int o = 1; o <= 8; o++) {
        char name[64];
        snprintf(name, sizeof(name), "orientation_Landscape_%d.jpg", o);
        char *sp = tmp_path(name);
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
        phash_variants(b, len, hv[i]);
        free(b);
        free(p);
    }
    phash_check_set(hv, NP, "shared photo");

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
    gen_jpeg_make(&g, 64, 48, &std_exif);
    char *in = tmp_path("cli_in.jpg"), *outp = tmp_path("cli_out.jpg"),
         *heic = tmp_path("cli.heic");
    write_file(in, g.dirty, g.dirty_len);
    write_file(heic,
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
    struct fx_bytes png = png_dirty();
    char *fake = tmp_path("really_a_png.jpg");
    write_file(fake, png.p, png.n);
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
    gen_jpeg_free(&g);
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
    for (size_t i = 1; i < n; i += 2)
        assert_int_equal(media_mih_add(m, hs[i], (long long)i + 1), TL_OK);
    assert_int_equal(media_mih_count(m), n);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_detect_magic),
        cmocka_unit_test(test_media_jpeg_facts),
        cmocka_unit_test(test_media_jpeg_strip_segments),
        cmocka_unit_test(test_media_jpeg_pixels_identical),
        cmocka_unit_test(test_media_jpeg_orientation_kept),
        cmocka_unit_test(test_media_jpeg_icc_policy),
        cmocka_unit_test(test_media_jpeg_icc_multi_segment),
        cmocka_unit_test(test_media_png_strip),
        cmocka_unit_test(test_media_webp_strip),
        cmocka_unit_test(test_media_webp_long_vp8x),
        cmocka_unit_test(test_media_gif_strip),
        cmocka_unit_test(test_media_refuses_unsupported),
        cmocka_unit_test(test_media_pixel_limit),
        cmocka_unit_test(test_media_truncated_and_corrupt),
        cmocka_unit_test(test_media_phash_near_duplicates),
        cmocka_unit_test(test_media_mih_matches_brute_force),
        cmocka_unit_test(test_media_phash_upright),
        cmocka_unit_test(test_media_shared_corpus),
        cmocka_unit_test(test_media_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
