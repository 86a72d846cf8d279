/* tests/test_media_video.c - media/'s videos and HEIC photos, made here: MP4/MOV encoded
 * by FFmpeg's own encoders (the ffmpeg command), then given a position, a device and
 * times by exiftool in every place a phone writes them (udta (c)xyz, Apple's Keys, XMP,
 * the creation times of mvhd/tkhd/mdhd), a GPMF-like data track, chapters and a cover
 * image; HEIC encoded by libheif (x265) with a rotation and Exif GPS. Proves: after
 * media_strip, exiftool -ee finds no position, device, serial or creation time, and none
 * of the planted bytes are left; the packets are byte-identical (ffmpeg's framemd5 of
 * the copied streams); ffprobe reads the copy and the first decoded frames match; the
 * rotation is kept; the limits refuse before any work; the keyframe hash matches the
 * original's; HEIC becomes an upright JPEG with the position read and no metadata;
 * `tipline strip` batch mode (-o DIR, --in-place, --info one JSON line per file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <json-c/json.h>
#include <libheif/heif.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media/media.h"
#include "common/util.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "common/banned.h"

static char tmpdir[] = "/tmp/tl-media-video.XXXXXX";

static char *tmp_path(const char *name)
{
    char *p = tl_asprintf("%s/%s", tmpdir, name);
    assert_non_null(p);
    return p;
}

static int have_tools(void)
{
    return access("/usr/bin/ffmpeg", X_OK) == 0 && access("/usr/bin/ffprobe", X_OK) == 0 &&
           access("/usr/bin/exiftool", X_OK) == 0;
}

static void sh(const char *cmd)
{
    char *out = NULL;
    int st = ts_run(cmd, &out);
    if (st != 0)
        fail_msg("command failed (%d): %s\n%s", st, cmd, out ? out : "");
    free(out);
}

static char *sh_out(const char *cmd)
{
    char *out = NULL;
    if (ts_run(cmd, &out) != 0)
        fail_msg("command failed: %s", cmd);
    return out;
}

static int count_sub(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* The dirty video: H.264 + AAC, a gpmd data track whose samples carry a position, two
 * chapters with a street name, a cover image, a position in (c)xyz, then exiftool's
 * Keys (GPS, make, model, creation date), XMP (creator, serial), rotation 90 and the
 * creation times. */
static const char *const planted[] = {"GPS5 +50.4501", "SERIAL=C3441325", "Khreshchatyk 22",
                                      "iPhone 13 Pro", "Ivan Petrenko",   "+50.4501+030.5234"};

static char *make_dirty(const char *name, const char *container)
{
    char *gpmd = tmp_path("gpmd.bin"), *chap = tmp_path("chapters.txt"),
         *cover = tmp_path("cover.jpg"), *out = tmp_path(name);
    unsigned char blob[4096];
    for (size_t i = 0; i < sizeof(blob); i++)
        blob[i] = (unsigned char)(i * 7 + 3);
    memcpy(blob + 100, "GPS5 +50.4501+030.5234 SERIAL=C3441325", 38);
    write_file(gpmd, blob, sizeof(blob));
    const char *meta = ";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\n"
                       "title=Khreshchatyk 22\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\n"
                       "END=2000\ntitle=home\n";
    write_file(chap, meta, strlen(meta));
    size_t jl;
    unsigned char *rgb = fx_photo_rgb(64, 48, 5);
    unsigned char *j = fx_jpeg_encode(rgb, 64, 48, 80, &jl);
    write_file(cover, j, jl);
    free(j);
    free(rgb);
    char *cmd = tl_asprintf(
        "ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 "
        "-f lavfi -i sine=frequency=440:duration=2 -f data -i '%s' -i '%s' -i '%s' "
        "-map 0:v -map 1:a -map 2:d -map 4:v -map_chapters 3 -c:v:0 libx264 -pix_fmt yuv420p "
        "-g 10 -c:a aac -c:d copy -tag:d gpmd -c:v:1 copy -disposition:v:1 attached_pic "
        "-metadata location=+50.4501+030.5234/ -metadata creation_time=2026-03-01T08:15:00Z "
        "-metadata title='Khreshchatyk 22' -f %s '%s' 2>&1",
        gpmd, chap, cover, container, out);
    sh(cmd);
    free(cmd);
    cmd = tl_asprintf("exiftool -q -q -m -overwrite_original -Keys:GPSCoordinates='50.4501, "
                      "30.5234, 180' -Keys:Make=Apple -Keys:Model='iPhone 13 Pro' "
                      "-Keys:CreationDate='2026:03:01 10:15:00+02:00' -XMP-dc:Creator='Ivan "
                      "Petrenko' -XMP-exifEX:SerialNumber=C3441325 -Rotation=90 '%s' 2>&1",
                      out);
    sh(cmd);
    free(cmd);
    free(gpmd);
    free(chap);
    free(cover);
    return out;
}

static unsigned char *strip_file(const char *in, const char *out, const struct media_limits *lim,
                                 struct media_facts *f, size_t *out_len)
{
    size_t len;
    unsigned char *b = (unsigned char *)ts_read_file(in, &len), *o = NULL;
    struct tl_errinfo ei;
    assert_non_null(b);
    tl_errinfo_clear(&ei);
    int rc = media_strip(b, len, lim, &o, out_len, f, &ei);
    if (rc != TL_OK)
        fail_msg("%s: %s: %s", in, tl_strerror(rc), ei.msg);
    write_file(out, o, *out_len);
    free(b);
    return o;
}

/* exiftool -ee -a -G1 -j over the file: counts what identifies (position, device, serial,
 * creation time other than zero); *seen_gps says whether any GPS tag was found. */
static int identifying_tags(const char *path, int *seen_gps, char *first, size_t first_cap)
{
    char *cmd = tl_asprintf("exiftool -j -ee -a -G1 -api LargeFileSupport=1 '%s'", path);
    char *js = sh_out(cmd);
    free(cmd);
    json_object *arr = json_tokener_parse(js), *o;
    assert_non_null(arr);
    o = json_object_array_get_idx(arr, 0);
    int bad = 0;
    *seen_gps = 0;
    first[0] = 0;
    static const char *const words[] = {"GPS",     "Make",     "Model",    "Serial",
                                        "Creator", "Author",   "Artist",   "Title",
                                        "Chapter", "Software", "Location", "Encoder"};
    json_object_object_foreach(o, key, val)
    {
        const char *tag = strchr(key, ':');
        if (!tag || strncmp(key, "System:", 7) == 0 || strncmp(key, "File:", 5) == 0 ||
            strncmp(key, "ExifTool:", 9) == 0)
            continue;
        tag++;
        int hit = 0;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strstr(tag, words[i]))
                hit = 1;
        if (strstr(tag, "GPS"))
            *seen_gps = 1;
        const char *v = json_object_get_string(val);
        if ((strstr(tag, "Date") || strstr(tag, "Time")) && strstr(tag, "Create") && v &&
            strcmp(v, "0000:00:00 00:00:00") != 0)
            hit = 1;
        if (strstr(tag, "CreationDate"))
            hit = 1;
        if (hit) {
            if (!bad)
                snprintf(first, first_cap, "%s=%s", key, v ? v : "");
            bad++;
        }
    }
    json_object_put(arr);
    free(js);
    return bad;
}

/* ffmpeg's framemd5 of the copied (not decoded) video and audio packets: size and hash
 * per packet, timestamps left out (the muxer may pick its own time scale). */
static char *packet_hashes(const char *path)
{
    char *cmd = tl_asprintf("ffmpeg -v error -i '%s' -map 0:v:0 -map 0:a? -c copy -f framemd5 - "
                            "| grep -v '^#' | awk -F', *' '{print $1, $5, $6}'",
                            path);
    char *out = sh_out(cmd);
    free(cmd);
    return out;
}

/* the first five decoded frames, as framemd5 lines */
static char *frame_hashes(const char *path)
{
    char *cmd = tl_asprintf(
        "ffmpeg -v error -i '%s' -map 0:v:0 -frames:v 5 -f framemd5 - | grep -v '^#'", path);
    char *out = sh_out(cmd);
    free(cmd);
    return out;
}

static void check_clean_copy(const char *in, const char *name)
{
    struct media_facts f;
    size_t n;
    char *out = tmp_path(name), first[256];
    int gps;
    assert_true(identifying_tags(in, &gps, first, sizeof(first)) >= 5);
    assert_true(gps); /* the test plants what it looks for */
    unsigned char *o = strip_file(in, out, NULL, &f, &n);

    /* facts read before the strip: Apple's Keys win over (c)xyz, with their offset */
    assert_int_equal(f.format, MEDIA_VIDEO);
    assert_true(f.has_gps && fabs(f.lat - 50.4501) < 1e-9 && fabs(f.lon - 30.5234) < 1e-9);
    assert_true(f.has_alt && fabs(f.alt - 180) < 1e-9);
    assert_true(f.has_time && strcmp(f.time_local, "2026-03-01T10:15:00") == 0);
    assert_true(f.has_offset && f.offset_min == 120);
    assert_int_equal(f.rotation, 90);
    assert_int_equal(f.orientation, 6);
    assert_int_equal(f.width, 320);
    assert_int_equal(f.height, 240);
    assert_true(f.duration_ms >= 1900 && f.duration_ms <= 2100);

    /* nothing identifying left, for exiftool nor in the bytes */
    int left = identifying_tags(out, &gps, first, sizeof(first));
    if (left)
        fail_msg("%s: %d identifying tags left, first %s", out, left, first);
    for (size_t i = 0; i < sizeof(planted) / sizeof(planted[0]); i++)
        if (memmem(o, n, planted[i], strlen(planted[i])))
            fail_msg("%s: '%s' left in the bytes", out, planted[i]);
    assert_null(memmem(o, n, "Lavf", 4)); /* no encoder string either */

    /* the packets byte for byte; only the video and audio tracks; rotation kept */
    char *a = packet_hashes(in), *b = packet_hashes(out);
    assert_true(strlen(a) > 100);
    assert_string_equal(a, b);
    free(a);
    free(b);
    char *cmd = tl_asprintf("ffprobe -v error -show_entries stream=codec_type:stream_side_data="
                            "rotation -of csv=p=0 '%s'",
                            out);
    char *probe = sh_out(cmd);
    free(cmd);
    /* one video track (the cover image gone), turned by -90 (clockwise 90), one audio */
    if (count_sub(probe, "video") != 1 || !strstr(probe, "-90") || !strstr(probe, "audio") ||
        strstr(probe, "data") || strstr(probe, "subtitle"))
        fail_msg("ffprobe: %s", probe);
    free(probe);
    a = frame_hashes(in);
    b = frame_hashes(out);
    assert_true(strlen(a) > 50);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* the copy read again: no facts but its size, duration and rotation */
    struct media_facts g;
    assert_int_equal(media_facts_read(o, n, NULL, &g, NULL), TL_OK);
    assert_false(g.has_gps);
    assert_false(g.has_time);
    assert_int_equal(g.rotation, 90);
    assert_true(llabs(g.duration_ms - f.duration_ms) < 100);

    /* the keyframe's hash: the same picture in the original and the copy */
    size_t il;
    unsigned char *ib = (unsigned char *)ts_read_file(in, &il);
    uint64_t h1, h2;
    assert_int_equal(media_phash(ib, il, NULL, &h1, NULL), TL_OK);
    assert_int_equal(media_phash(o, n, NULL, &h2, NULL), TL_OK);
    assert_int_equal(h1, h2);
    free(ib);
    free(o);
    free(out);
}

static int maps_has(const char *lib)
{
    size_t n;
    char *maps = ts_read_file("/proc/self/maps", &n);
    assert_non_null(maps);
    int has = strstr(maps, lib) != NULL;
    free(maps);
    return has;
}

/* FFmpeg's libraries are opened when the first video comes, not at start: a process
 * that cleans photos never loads them (nor the hundred libraries they bring). */
static void test_media_video_libs_on_first_use(void **state)
{
    (void)state;
    size_t jl, n;
    unsigned char *rgb = fx_photo_rgb(64, 48, 3);
    unsigned char *j = fx_jpeg_encode(rgb, 64, 48, 80, &jl), *o = NULL;
    assert_int_equal(media_strip(j, jl, NULL, &o, &n, NULL, NULL), TL_OK);
    free(o);
    assert_false(maps_has("libavcodec"));
    assert_false(maps_has("libavformat"));
    if (!have_tools()) {
        free(j);
        free(rgb);
        skip();
        return;
    }
    char *v = tmp_path("first.mp4");
    char *cmd =
        tl_asprintf("ffmpeg -v error -y -f lavfi -i testsrc=size=64x48:rate=10:duration=0.5 "
                    "-c:v libx264 -pix_fmt yuv420p '%s'",
                    v);
    sh(cmd);
    struct media_facts f;
    free(strip_file(v, v, NULL, &f, &n));
    assert_true(maps_has("libavcodec"));
    assert_true(maps_has("libavformat"));
    free(cmd);
    free(v);
    free(j);
    free(rgb);
}

static void test_media_video_mp4_clean(void **state)
{
    (void)state;
    if (!have_tools()) {
        skip();
        return;
    }
    char *in = make_dirty("dirty.mp4", "mov -brand mp42");
    check_clean_copy(in, "clean_from_mp4.mp4");
    free(in);
}

static void test_media_video_mov_clean(void **state)
{
    (void)state;
    if (!have_tools()) {
        skip();
        return;
    }
    char *in = make_dirty("dirty.mov", "mov");
    check_clean_copy(in, "clean_from_mov.mp4");
    free(in);
}

/* The option that drops the voice; the limits, checked from the header */
static void test_media_video_audio_and_limits(void **state)
{
    (void)state;
    if (!have_tools()) {
        skip();
        return;
    }
    char *in = make_dirty("limits.mp4", "mov -brand mp42"), *out = tmp_path("noaudio.mp4");
    struct media_facts f;
    size_t n, len;
    struct media_limits lim = {.drop_audio = 1};
    free(strip_file(in, out, &lim, &f, &n));
    char *cmd =
        tl_asprintf("ffprobe -v error -show_entries stream=codec_type -of csv=p=0 '%s'", out);
    char *probe = sh_out(cmd);
    if (count_sub(probe, "video") != 1 || strstr(probe, "audio"))
        fail_msg("--drop-audio kept: %s", probe);
    free(probe);
    free(cmd);

    unsigned char *b = (unsigned char *)ts_read_file(in, &len), *o = NULL;
    struct tl_errinfo ei;
    static const struct {
        struct media_limits lim;
        const char *why;
    } cases[] = {
        {{.max_duration_s = 1}, "over the limit of 1 s"},
        {{.max_streams = 3}, "tracks, over the limit of 3"},
        {{.max_pixels = 320 * 239}, "over the limit"},
        {{.max_bytes = 1000}, "over the limit of 1000 bytes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tl_errinfo_clear(&ei);
        assert_int_equal(media_strip(b, len, &cases[i].lim, &o, &n, NULL, &ei), TL_ETOOBIG);
        assert_null(o);
        if (!strstr(ei.msg, cases[i].why))
            fail_msg("case %zu: %s", i, ei.msg);
    }
    /* truncated: refused, nothing returned */
    tl_errinfo_clear(&ei);
    int rc = media_strip(b, len / 2, NULL, &o, &n, NULL, &ei);
    if (rc != TL_EPARSE)
        fail_msg("truncated: %s %s", tl_strerror(rc), ei.msg);
    assert_null(o);
    free(b);
    free(in);
    free(out);
}

static uint64_t hash_of(const char *path)
{
    size_t n;
    uint64_t h = 0;
    unsigned char *b = (unsigned char *)ts_read_file(path, &n);
    assert_non_null(b);
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (media_phash(b, n, NULL, &h, &ei) != TL_OK)
        fail_msg("%s: %s", path, ei.msg);
    free(b);
    return h;
}

/* Near-duplicate videos link like photos: the same clip re-encoded smaller and worse
 * hashes within 8 bits of the original's keyframe; another scene is far. */
static void test_media_video_phash_near_duplicates(void **state)
{
    (void)state;
    if (!have_tools()) {
        skip();
        return;
    }
    char *a = tmp_path("scene.mp4"), *b = tmp_path("scene_small.mp4"), *c = tmp_path("other.mp4");
    char *cmd = tl_asprintf(
        "ffmpeg -v error -y -f lavfi -i testsrc2=size=640x480:rate=25:duration=1 -c:v libx264 "
        "-pix_fmt yuv420p '%s' && ffmpeg -v error -y -i '%s' -vf scale=320:240 -c:v libx264 "
        "-crf 38 -pix_fmt yuv420p '%s' && ffmpeg -v error -y -f lavfi "
        "-i mandelbrot=size=640x480:rate=25 -t 1 -c:v libx264 -pix_fmt yuv420p '%s'",
        a, a, b, c);
    sh(cmd);
    uint64_t ha = hash_of(a), hb = hash_of(b), hc = hash_of(c);
    print_message("video pHash: re-encoded %d bits, other scene %d bits\n", media_hamming(ha, hb),
                  media_hamming(ha, hc));
    assert_true(media_hamming(ha, hb) <= 8);
    assert_true(media_hamming(ha, hc) > 16);
    free(cmd);
    free(a);
    free(b);
    free(c);
}

/* VP9 in MP4: the copy's vpcC describes the stream whole (the writer needs the pixel
 * format, which the container header does not give; an empty vpcC is a file Chromium
 * refuses to open), and the packets stay byte-identical. */
static void test_media_video_vp9_described(void **state)
{
    (void)state;
    if (!have_tools()) {
        skip();
        return;
    }
    char *in = tmp_path("vp9.mp4"), *out = tmp_path("vp9_clean.mp4");
    char *cmd =
        tl_asprintf("ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=10:duration=1 "
                    "-c:v libvpx-vp9 -b:v 200k -pix_fmt yuv420p -f mp4 '%s'",
                    in);
    sh(cmd);
    struct media_facts f;
    size_t n;
    unsigned char *o = strip_file(in, out, NULL, &f, &n);
    const unsigned char *v = memmem(o, n, "vpcC", 4);
    assert_non_null(v);
    uint32_t box = (uint32_t)v[-4] << 24 | (uint32_t)v[-3] << 16 | (uint32_t)v[-2] << 8 | v[-1];
    if (box < 20)
        fail_msg("vpcC of %u bytes", box);
    char *a = packet_hashes(in), *b = packet_hashes(out);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(o);
    free(cmd);
    free(in);
    free(out);
}

/* The shared iPhone MOV (Keys GPS): its position read, the copy clean */
static void test_media_video_shared_iphone(void **state)
{
    (void)state;
    const char *shared = getenv("TL_SHARED_DIR");
    char *path = tl_asprintf("%s/testdata/media/mov_gps_iPhone_6.mov", shared ? shared : ".");
    if (!have_tools() || access(path, R_OK) != 0) {
        free(path);
        skip();
        return;
    }
    char *out = tmp_path("iphone6.mp4"), first[256];
    struct media_facts f;
    size_t n;
    int gps;
    free(strip_file(path, out, NULL, &f, &n));
    assert_true(f.has_gps && fabs(f.lat - 32.0929) < 1e-4 && fabs(f.lon - 34.862) < 1e-4);
    int left = identifying_tags(out, &gps, first, sizeof(first));
    if (left)
        fail_msg("%s: %d identifying tags left, first %s", out, left, first);
    char *a = packet_hashes(path), *b = packet_hashes(out);
    assert_string_equal(a, b);
    free(a);
    free(b);
    free(out);
    free(path);
}

/* ---- HEIC ---- */

/* A 64x48 HEIC from libheif's encoder: left half red, right half blue, stored with
 * irot so viewers turn it 90 degrees clockwise, with Exif GPS. */
static char *make_heic(void)
{
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    struct heif_image_handle *h = NULL;
    char *path = tmp_path("dirty.heic");
    assert_int_equal(heif_context_get_encoder_for_format(ctx, heif_compression_HEVC, &enc).code,
                     heif_error_Ok);
    heif_encoder_set_lossy_quality(enc, 90);
    assert_int_equal(
        heif_image_create(64, 48, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img).code,
        heif_error_Ok);
    assert_int_equal(heif_image_add_plane(img, heif_channel_interleaved, 64, 48, 8).code,
                     heif_error_Ok);
    int stride;
    uint8_t *px = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = px + y * stride + x * 3;
            p[0] = x < 32 ? 230 : 20;
            p[1] = 20;
            p[2] = x < 32 ? 20 : 230;
        }
    struct heif_encoding_options *opt = heif_encoding_options_alloc();
    opt->image_orientation = heif_orientation_rotate_90_cw;
    assert_int_equal(heif_context_encode_image(ctx, img, enc, opt, &h).code, heif_error_Ok);
    struct fx_exif x = {.lat = 48.9226,
                        .lon = 24.7111,
                        .alt_cm = 25000,
                        .hpe_cm = 500,
                        .dto = "2026:03:02 07:30:00",
                        .offset = "+02:00",
                        .orientation = 6};
    size_t el;
    unsigned char *exif = fx_exif_payload(&x, EXIF_BYTE_ORDER_MOTOROLA, &el);
    assert_int_equal(heif_context_add_exif_metadata(ctx, h, exif, (int)el).code, heif_error_Ok);
    assert_int_equal(heif_context_write_to_file(ctx, path).code, heif_error_Ok);
    free(exif);
    heif_encoding_options_free(opt);
    heif_image_handle_release(h);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    return path;
}

static void test_media_heic_upright_jpeg(void **state)
{
    (void)state;
    char *in = make_heic(), *out = tmp_path("heic.jpg"), first[256];
    size_t len, n;
    unsigned char *b = (unsigned char *)ts_read_file(in, &len);
    assert_int_equal(media_detect(b, len), MEDIA_HEIF);
    free(b);
    struct media_facts f;
    unsigned char *o = strip_file(in, out, NULL, &f, &n);
    assert_int_equal(f.format, MEDIA_HEIF);
    assert_true(f.has_gps && fabs(f.lat - 48.9226) < 1e-6 && fabs(f.lon - 24.7111) < 1e-6);
    assert_true(f.has_time && strcmp(f.time_local, "2026-03-02T07:30:00") == 0);
    assert_true(f.has_offset && f.offset_min == 120);
    /* upright: 48 wide, 64 high, the red half on top (turned clockwise) */
    assert_int_equal(media_detect(o, n), MEDIA_JPEG);
    int w, h;
    unsigned char *rgb = fx_jpeg_decode(o, n, &w, &h);
    assert_non_null(rgb);
    assert_int_equal(w, 48);
    assert_int_equal(h, 64);
    const unsigned char *top = rgb + (8 * 48 + 24) * 3, *bottom = rgb + (56 * 48 + 24) * 3;
    assert_true(top[0] > 150 && top[2] < 100);
    assert_true(bottom[2] > 150 && bottom[0] < 100);
    free(rgb);
    /* the JPEG's bytes: JFIF and pixels only */
    assert_null(memmem(o, n, "Exif", 4));
    struct media_facts g;
    assert_int_equal(media_facts_read(o, n, NULL, &g, NULL), TL_OK);
    assert_false(g.has_gps);
    assert_int_equal(g.orientation, 0);
    if (access("/usr/bin/exiftool", X_OK) == 0) {
        int gps;
        int left = identifying_tags(out, &gps, first, sizeof(first));
        if (left || gps)
            fail_msg("%s: %d identifying tags left, first %s", out, left, first);
        char *cmd = tl_asprintf("exiftool -s -s -s -G1 -a '%s' | grep -vc "
                                "'^\\(ExifTool\\|System\\|File\\|JFIF\\|Composite\\) '",
                                out);
        char *cnt = NULL;
        ts_run(cmd, &cnt);
        assert_string_equal(cnt, "0\n");
        free(cnt);
        free(cmd);
    }
    free(o);
    free(in);
    free(out);
}

/* ---- tipline strip: many files in one process ---- */

static void test_media_video_cli_batch(void **state)
{
    (void)state;
    const char *cli = getenv("TL_MEDIA_CLI");
    assert_non_null(cli);
    if (!have_tools()) {
        skip();
        return;
    }
    char *v = make_dirty("batch.mov", "mov"), *hc = make_heic(), *dir = tmp_path("outdir");
    char *jpg = tmp_path("batch.jpg"), *bad = tmp_path("bad.jpg");
    size_t jl;
    unsigned char *rgb = fx_photo_rgb(64, 48, 9);
    unsigned char *j = fx_jpeg_encode(rgb, 64, 48, 80, &jl);
    write_file(jpg, j, jl);
    write_file(bad, "\xFF\xD8\xFF\xE1", 4);
    free(j);
    free(rgb);

    /* --info: one JSON line per file, the failed one too */
    char *cmd = tl_asprintf("%s strip --info '%s' '%s' '%s' '%s'", cli, v, hc, jpg, bad);
    char *out = NULL;
    assert_int_equal(ts_run(cmd, &out), 1); /* one failed */
    free(cmd);
    char *line = out, *nl;
    int nlines = 0;
    while ((nl = strchr(line, '\n'))) {
        *nl = 0;
        json_object *o = json_tokener_parse(line), *x;
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "file", &x));
        if (nlines == 0) {
            assert_true(json_object_object_get_ex(o, "duration_ms", &x));
            assert_true(json_object_object_get_ex(o, "rotation", &x));
            assert_int_equal(json_object_get_int(x), 90);
        }
        if (nlines == 3)
            assert_true(json_object_object_get_ex(o, "error", &x));
        else
            assert_true(json_object_object_get_ex(o, "gps", &x));
        json_object_put(o);
        nlines++;
        line = nl + 1;
    }
    assert_int_equal(nlines, 4);
    free(out);

    /* -o DIR: the copies under their names (a MOV becomes .mp4, a HEIC .jpg) */
    cmd =
        tl_asprintf("mkdir -p '%s' && %s strip -o '%s' '%s' '%s' '%s'", dir, cli, dir, v, hc, jpg);
    sh(cmd);
    free(cmd);
    static const char *const names[] = {"batch.mp4", "dirty.jpg", "batch.jpg"};
    static const enum media_format kinds[] = {MEDIA_VIDEO, MEDIA_JPEG, MEDIA_JPEG};
    for (int i = 0; i < 3; i++) {
        char *p = tl_asprintf("%s/%s", dir, names[i]);
        size_t n;
        unsigned char *b = (unsigned char *)ts_read_file(p, &n);
        if (!b)
            fail_msg("%s not written", p);
        assert_int_equal(media_detect(b, n), kinds[i]);
        free(b);
        free(p);
    }

    /* --in-place: the file itself, cleaned (its name kept) */
    cmd = tl_asprintf("%s strip --in-place '%s'", cli, v);
    sh(cmd);
    free(cmd);
    int gps;
    char first[256];
    assert_int_equal(identifying_tags(v, &gps, first, sizeof(first)), 0);
    free(v);
    free(hc);
    free(dir);
    free(jpg);
    free(bad);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char *cmd = tl_asprintf("rm -rf '%s'", tmpdir);
    int st = ts_run(cmd, NULL);
    free(cmd);
    return st == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_video_libs_on_first_use), /* first: nothing loaded yet */
        cmocka_unit_test(test_media_video_mp4_clean),
        cmocka_unit_test(test_media_video_mov_clean),
        cmocka_unit_test(test_media_video_audio_and_limits),
        cmocka_unit_test(test_media_video_phash_near_duplicates),
        cmocka_unit_test(test_media_video_vp9_described),
        cmocka_unit_test(test_media_video_shared_iphone),
        cmocka_unit_test(test_media_heic_upright_jpeg),
        cmocka_unit_test(test_media_video_cli_batch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
