/* tests/test_conv_media.c - the citizen conversation with media, played whole on the
 * fake Bot API and a throwaway PostgreSQL: a quick photo, albums of photos and videos,
 * a video through the wizard, HEIC files and video notes; what is stored carries no
 * identifying metadata. Part of the test_conv program (world: test_conv.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "handlers/hdl.h"
#include "support/botrun.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "fakebot/fakebot.h"
#include "tests/test_conv.h"

/* A photo with a caption: a quick draft asks only for the place, Send now sends it. */
static void test_conv_quick_photo(void **state)
{
    struct world w;
    cw_open(&w, "quick");
    cw_add_photo(&w, "q1", 5);
    char *body = cw_photo_body("q1", ",\"caption\":\"smoke over the depot\"");
    long long id = cw_say(&w, 7201, "en", body);
    free(body);
    struct json_object *a = cw_expect(&w, "getFile file sendMessage");
    cw_expect_has(a, 2, "text", "📷 photos: 1");
    cw_expect_has(a, 2, "text", "Still missing: the place");
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:send\"", id);
    cw_expect_has(a, 2, "reply_markup", want);
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7201)), 1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 0);

    cw_press_draft(&w, 7201, "send");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_has(a, 1, "text", "Reference: TL-");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports r JOIN media m ON m.report_id = "
                                  "r.id WHERE r.text = 'smoke over the depot' AND "
                                  "m.tg_file_unique_id = 'u-q1' AND m.mime = 'image/jpeg'"),
                     1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM draft_media"), 0);
    cw_close(&w);
}

/* An album of three photos: one draft, one answer, one report with three media. */
static void test_conv_album_one_report(void **state)
{
    struct world w;
    cw_open(&w, "album");
    static const char *const ids[] = {"a1", "a2", "a3"};
    for (int i = 0; i < 3; i++)
        cw_add_photo(&w, ids[i], 10 + (uint32_t)i);
    /* the three updates arrive together, as Telegram delivers an album */
    for (int i = 0; i < 3; i++) {
        char *body =
            cw_photo_body(ids[i], i == 0 ? ",\"media_group_id\":\"135\",\"caption\":\"column\""
                                         : ",\"media_group_id\":\"135\"");
        char *j = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":7301,"
                              "\"type\":\"private\"},\"from\":{\"id\":7301,\"is_bot\":false,"
                              "\"first_name\":\"A\"},%s}}",
                              50 + i, body);
        assert_true(fakebot_push_update(w.fb, j) > 0);
        free(j);
        free(body);
    }
    cw_settle(&w);
    struct json_object *a = cw_expect(&w, "getFile file getFile file getFile file sendMessage");
    cw_expect_has(a, 6, "text", "фото: 1"); /* no language_code: Ukrainian; answered once */
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7301)), 3);
    cw_press_draft(&w, 7301, "send");
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '135'"), 1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                                  "m.report_id WHERE r.media_group_id = '135'"),
                     3);
    cw_close(&w);
}

/* A short MP4 made by the ffmpeg command (H.264 and AAC through FFmpeg's own encoders),
 * with a position in udta (c)xyz; served by the fake as file_id. Returns 0 when ffmpeg is
 * not installed (the test is skipped). */
static int add_video(struct world *w, const char *file_id)
{
    if (access("/usr/bin/ffmpeg", X_OK) != 0)
        return 0;
    char *path = tl_asprintf("/tmp/tl_conv_video_%ld.mp4", (long)getpid());
    char *cmd = tl_asprintf(
        "/usr/bin/ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=10:duration=1 "
        "-f lavfi -i sine=frequency=440:duration=1 -c:v libx264 -pix_fmt yuv420p -c:a aac "
        "-metadata location=+50.4501+030.5234/ -metadata creation_time=2026-03-01T08:15:00Z "
        "'%s'",
        path);
    assert_int_equal(ts_run(cmd, NULL), 0);
    size_t len;
    char *v = ts_read_file(path, &len);
    assert_non_null(v);
    assert_int_equal(fakebot_add_file(w->fb, file_id, v, len), TL_OK);
    unlink(path);
    free(v);
    free(cmd);
    free(path);
    return 1;
}

/* An album of two photos and a video: one answer, one report with three media, the
 * video's position the report's point; a video over the Bot API's 20 MB is refused with
 * the limit in the reporter's language and the draft keeps what came before. */
static void test_conv_album_photos_and_video(void **state)
{
    struct world w;
    cw_open(&w, "album_video");
    cw_add_photo(&w, "p1", 21);
    cw_add_photo(&w, "p2", 22);
    if (!add_video(&w, "v1")) {
        cw_close(&w);
        skip();
        return;
    }
    static const char *const bodies[] = {
        "\"photo\":[{\"file_id\":\"p1\",\"file_unique_id\":\"u-p1\",\"width\":160,"
        "\"height\":120}],\"caption\":\"column of trucks\"",
        "\"photo\":[{\"file_id\":\"p2\",\"file_unique_id\":\"u-p2\",\"width\":160,"
        "\"height\":120}]",
        "\"video\":{\"file_id\":\"v1\",\"file_unique_id\":\"u-v1\",\"width\":160,"
        "\"height\":120,\"duration\":1,\"mime_type\":\"video/mp4\"}"};
    for (int i = 0; i < 3; i++) {
        char *j = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":7311,"
                              "\"type\":\"private\"},\"from\":{\"id\":7311,\"is_bot\":false,"
                              "\"first_name\":\"A\"},\"media_group_id\":\"246\",%s}}",
                              60 + i, bodies[i]);
        assert_true(fakebot_push_update(w.fb, j) > 0);
        free(j);
    }
    cw_settle(&w);
    struct json_object *a = cw_expect(&w, "getFile file getFile file getFile file sendMessage");
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7311)), 3);

    /* a 30 MB video: Telegram says its size, so it is not fetched; refused in Ukrainian */
    assert_true(fakebot_push_update(
                    w.fb, "{\"message\":{\"message_id\":70,\"date\":2,\"chat\":{\"id\":7311,"
                          "\"type\":\"private\"},\"from\":{\"id\":7311,\"is_bot\":false,"
                          "\"first_name\":\"A\"},\"video\":{\"file_id\":\"big\","
                          "\"file_unique_id\":\"u-big\",\"width\":1920,\"height\":1080,"
                          "\"duration\":300,\"file_size\":31457280}}}") > 0);
    cw_settle(&w);
    a = cw_expect(&w, "sendMessage");
    cw_expect_has(a, 0, "text", "Це відео не можна прийняти");
    cw_expect_has(a, 0, "text", "щонайбільше 20 МБ");
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7311)), 3);

    cw_press_draft(&w, 7311, "send");
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '246'"), 1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                                  "m.report_id WHERE r.media_group_id = '246'"),
                     3);
    /* the video: stored as an MP4 without its position, which became the report's point */
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM media m JOIN reports r ON r.id = m.report_id "
                              "WHERE r.media_group_id = '246' AND m.kind = 'video' AND "
                              "m.mime = 'video/mp4' AND m.phash IS NOT NULL AND "
                              "position('\\xa978797a'::bytea in m.bytes) = 0 AND "
                              "position('+50.4501'::bytea in m.bytes) = 0 AND "
                              "abs(ST_Y(m.gps::geometry) - 50.4501) < 1e-6 AND "
                              "m.taken_local = '2026-03-01 08:15:00'"),
                     1);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '246' AND "
                     "point_source = 'photo_exif' AND abs(ST_Y(point::geometry) - 50.4501) < 1e-6 "
                     "AND abs(ST_X(point::geometry) - 30.5234) < 1e-6"),
        1);
    cw_close(&w);
}

/* The stored bytes of a media row (SQL giving its bytes as hex) written to path. */
static void stored_to_file(struct world *w, const char *sql_hex, const char *path)
{
    char *hex = ts_db_scalar(w->ci, sql_hex);
    assert_non_null(hex);
    size_t n = strlen(hex) / 2;
    unsigned char *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(tl_hexval(hex[2 * i]) << 4 | tl_hexval(hex[2 * i + 1]));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(b);
    free(hex);
}

/* exiftool's tags (every track and embedded item, group-qualified) of path that give
 * a position, a device or a creation time other than zero, one per line. */
static char *identifying(const char *path)
{
    char *cmd = tl_asprintf("/usr/bin/exiftool -ee -a -G1 -s -m '%s' | grep -Ei "
                            "'gps|location|make|model|serial|creationdate|"
                            "(create|creation).*: [1-9]' || true",
                            path);
    char *out = NULL;
    assert_int_equal(ts_run(cmd, &out), 0);
    free(cmd);
    return out;
}

/* A clip as a phone writes it, made by ffmpeg (H.264 + AAC, size WxH, secs long) with a
 * position in udta (c)xyz and, by exiftool, in Apple's Keys with the device and a
 * creation date; served by the fake as file_id. Checks that identifying() finds them in
 * it, and returns its duration in ms as ffprobe reads it. */
static long long add_phone_clip(struct world *w, const char *file_id, const char *size,
                                const char *secs)
{
    char *src = tl_asprintf("/tmp/tl_conv_clip_%ld_%s.mp4", (long)getpid(), file_id);
    char *cmd = tl_asprintf(
        "/usr/bin/ffmpeg -v error -y -f lavfi -i testsrc=size=%s:rate=10:duration=%s "
        "-f lavfi -i sine=frequency=440:duration=%s -c:v libx264 -pix_fmt yuv420p -c:a aac "
        "-metadata location=+50.4501+030.5234/ -metadata creation_time=2026-03-01T08:15:00Z "
        "'%s' && /usr/bin/exiftool -q -q -m -overwrite_original "
        "-Keys:GPSCoordinates='50.4501, 30.5234, 180' -Keys:Make=Apple "
        "-Keys:Model='iPhone 13 Pro' -Keys:CreationDate='2026:03:01 10:15:00+02:00' '%s'",
        size, secs, secs, src, src);
    assert_int_equal(ts_run(cmd, NULL), 0);
    free(cmd);
    char *dirty = identifying(src); /* what the checks of the stored copy look for */
    assert_non_null(strstr(dirty, "GPSCoordinates"));
    assert_non_null(strstr(dirty, "iPhone 13 Pro"));
    free(dirty);
    cmd = tl_asprintf("/usr/bin/ffprobe -v error -show_entries format=duration -of csv=p=0 '%s'",
                      src);
    char *dur = NULL;
    assert_int_equal(ts_run(cmd, &dur), 0);
    free(cmd);
    long long ms = (long long)(strtod(dur, NULL) * 1000 + 0.5);
    free(dur);
    size_t len;
    char *v = ts_read_file(src, &len);
    assert_int_equal(fakebot_add_file(w->fb, file_id, v, len), TL_OK);
    free(v);
    unlink(src);
    free(src);
    return ms;
}

/* A video sent at the wizard's media step, as a phone sends it (a position in udta
 * (c)xyz and in Apple's Keys, the device, a creation date): taken like a photo, the
 * wizard goes on to the time, the description and Send, and the report's video is a
 * copy with none of that left, stored with its duration (the draft's, then the
 * report's). */
static void test_conv_wizard_video(void **state)
{
    if (access("/usr/bin/ffmpeg", X_OK) != 0 || access("/usr/bin/exiftool", X_OK) != 0)
        skip();
    struct world w;
    cw_open(&w, "wizard_video");
    long long chat = 7321;
    char *kept = tl_asprintf("/tmp/tl_conv_wvideo_%ld_kept.mp4", (long)getpid());
    long long want_ms = add_phone_clip(&w, "wv", "160x120", "2.5");
    assert_true(want_ms > 2000);

    cw_command(&w, chat, "en", "/report");
    cw_press_draft(&w, chat, "c:troops");
    cw_say(&w, chat, "en", "\"location\":{\"latitude\":49.9935,\"longitude\":36.2304}");
    struct json_object *a = cw_expect(&w, "sendMessage answerCallbackQuery editMessageText "
                                          "sendMessage sendMessage sendMessage");
    cw_expect_text(a, 5, "en", "ask_media");
    json_object_put(a);

    long long kb = cw_prompt_mid(&w, chat);
    cw_say(&w, chat, "en",
           "\"video\":{\"file_id\":\"wv\",\"file_unique_id\":\"u-wv\",\"width\":160,"
           "\"height\":120,\"duration\":3,\"mime_type\":\"video/mp4\",\"file_size\":100000}");
    a = cw_expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(cw_param(a, 2, "message_id")), kb);
    cw_expect_has(a, 3, "text", "1");
    json_object_put(a);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                              "kind = 'video' AND duration_ms = %lld",
                              tb_chat(chat), want_ms),
                     1);

    /* the conversation goes on as after a photo */
    cw_press_draft(&w, chat, "m");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_text(a, 1, "en", "ask_when");
    json_object_put(a);
    cw_press_draft(&w, chat, "w:30");
    cw_press_draft(&w, chat, "d:90");
    cw_say_text(&w, chat, "en", "three trucks filmed from a window");
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText answerCallbackQuery "
                                  "editMessageText editMessageReplyMarkup sendMessage"));
    cw_press_draft(&w, chat, "send");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_has(a, 1, "text", "Report sent");
    json_object_put(a);

    assert_int_equal(cw_count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                              "m.report_id WHERE r.text = 'three trucks filmed from a window' "
                              "AND m.kind = 'video' AND m.mime = 'video/mp4' AND "
                              "m.duration_ms = %lld AND abs(ST_Y(m.gps::geometry) - 50.4501) "
                              "< 1e-6 AND m.taken_local IS NOT NULL",
                              want_ms),
                     1);
    /* the shared location stays the point; the video's own is kept as a fact */
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE point_source = "
                                  "'telegram_location'"),
                     1);
    stored_to_file(&w, "SELECT encode(bytes, 'hex') FROM media WHERE kind = 'video'", kept);
    char *left = identifying(kept);
    if (left[0])
        fail_msg("the stored video still says: %s", left);
    free(left);
    char *cmd = tl_asprintf("/usr/bin/ffprobe -v error -count_packets -select_streams v:0 "
                            "-show_entries stream=nb_read_packets -of csv=p=0 '%s'",
                            kept);
    char *np = NULL;
    assert_int_equal(ts_run(cmd, &np), 0); /* it plays: every frame of the clip is there */
    assert_int_equal(strtol(np, NULL, 10), 25);
    free(np);
    free(cmd);
    unlink(kept);
    free(kept);
    cw_close(&w);
}

/* An iPhone photo sent "as a file" (the shared HEIC, its GPS in Missouri) and a round
 * video note in a quick report: both taken like photos (one draft, two media), the HEIC
 * stored as a JPEG whose position was read first and which exiftool finds nothing in,
 * the note as an MP4 with its duration and nothing of the phone's. */
static void test_conv_heic_file_and_video_note(void **state)
{
    char *heic = ts_shared_path("testdata/media/heic_gps_iPhone_11_Pro_Max.heic");
    if (!heic || access("/usr/bin/ffmpeg", X_OK) != 0 || access("/usr/bin/exiftool", X_OK) != 0) {
        free(heic);
        skip();
    }
    struct world w;
    cw_open(&w, "heic_note");
    long long chat = 7331;
    size_t len;
    char *b = ts_read_file(heic, &len);
    assert_int_equal(fakebot_add_file(w.fb, "h1", b, len), TL_OK);
    free(b);
    free(heic);
    char *body = tl_asprintf("\"document\":{\"file_id\":\"h1\",\"file_unique_id\":\"u-h1\","
                             "\"file_name\":\"IMG_0001.HEIC\",\"mime_type\":\"image/heic\","
                             "\"file_size\":%zu}",
                             len);
    cw_say(&w, chat, "en", body);
    free(body);
    struct json_object *a = cw_expect(&w, "getFile file sendMessage");
    cw_expect_has(a, 2, "text", "📷 photos: 1");
    json_object_put(a);

    long long want_ms = add_phone_clip(&w, "n1", "240x240", "1.5");
    cw_say(&w, chat, "en",
           "\"video_note\":{\"file_id\":\"n1\",\"file_unique_id\":\"u-n1\",\"length\":240,"
           "\"duration\":2,\"file_size\":200000}");
    a = cw_expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    cw_expect_has(a, 3, "text", "📷 photos: 2");
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(chat)), 2);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                              "kind = 'photo' AND mime = 'image/jpeg' AND "
                              "abs(ST_Y(gps::geometry) - 39.05134) < 1e-4 AND "
                              "abs(ST_X(gps::geometry) + 94.28877) < 1e-4 AND "
                              "taken_local = '2021-04-11 15:47:53' AND duration_ms IS NULL",
                              tb_chat(chat)),
                     1);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                              "kind = 'video' AND mime = 'video/mp4' AND duration_ms = %lld",
                              tb_chat(chat), want_ms),
                     1);

    cw_press_draft(&w, chat, "send");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_has(a, 1, "text", "Reference: TL-");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM media"), 2);
    static const char *const kinds[] = {"photo", "video"};
    for (int i = 0; i < 2; i++) {
        char *sql =
            tl_asprintf("SELECT encode(bytes, 'hex') FROM media WHERE kind = '%s'", kinds[i]);
        char *path = tl_asprintf("/tmp/tl_conv_heic_note_%ld_%d", (long)getpid(), i);
        stored_to_file(&w, sql, path);
        char *left = identifying(path);
        if (left[0])
            fail_msg("the stored %s still says: %s", kinds[i], left);
        free(left);
        unlink(path);
        free(path);
        free(sql);
    }
    cw_close(&w);
}

/* /cancel (or the Cancel button, or the location keyboard's Cancel) at every step:
 * the draft and its photos go, nothing is reported, the citizen is told. */

int test_conv_media_group(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_quick_photo, tb_teardown),
        cmocka_unit_test_teardown(test_conv_album_one_report, tb_teardown),
        cmocka_unit_test_teardown(test_conv_album_photos_and_video, tb_teardown),
        cmocka_unit_test_teardown(test_conv_wizard_video, tb_teardown),
        cmocka_unit_test_teardown(test_conv_heic_file_and_video_note, tb_teardown),
    };
    return cmocka_run_group_tests_name("conv_media", tests, NULL, NULL);
}
