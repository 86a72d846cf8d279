/* tests/test_conv.c - the citizen conversation played whole: the runtime threads
 * against the fake Bot API (a real HTTP server on loopback) and a throwaway PostgreSQL.
 * Each test sends updates as a citizen would, waits until the bot has handled them and
 * delivered its replies, and checks the exact requests the bot made (method and key
 * parameters, from the fake's call record) and the rows written. The real payloads in
 * ../shared/telegram are played too when present; the generated ones cover every
 * feature without them. */
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

/* One conversation's world: a database, the fake Bot API, the configuration. */
struct world {
    char name[48];
    char *ci;
    struct fakebot *fb;
    struct cfg c;
    long long next_mid; /* the citizen's next message id */
};

/* Conversations: workers that poll fast and a drafts pass every 100 ms. */
static void start_runtime(const struct cfg *c, struct fakebot *fb)
{
    tb_start(c, fb, 5, 100);
}

static void world_open(struct world *w, const char *name)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "t_conv_%s", name);
    w->ci = ts_db_create(w->name);
    assert_non_null(w->ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &w->fb), TL_OK);
    tb_cfg(&w->c, w->ci);
    w->c.http_timeout_ms = 3000;
    w->next_mid = 100;
    start_runtime(&w->c, w->fb);
}

static void world_close(struct world *w)
{
    if (tb_running())
        tb_stop();
    cfg_release(&w->c);
    fakebot_stop(w->fb);
    ts_db_drop(w->name);
    free(w->ci);
}

#define count(w, ...) ts_db_countf((w)->ci, __VA_ARGS__)

/* Waits until every update is handled and every reply delivered. */
static void settle(struct world *w)
{
    tb_settle(w->fb, w->ci, 20000);
}

static void wait_sql(struct world *w, const char *sql, long long want)
{
    int64_t end = tl_now_ms() + 20000;
    long long n = -1;
    while (tl_now_ms() < end) {
        if ((n = ts_db_count(w->ci, sql)) >= want)
            return;
        tl_sleep_ms(20, NULL);
    }
    fail_msg("timed out: %s = %lld, want %lld", sql, n, want);
}

/* ---- what the citizen sends ---- */

/* A private message from chat (the user is the chat) with body (JSON members). Returns
 * its update_id. */
static long long say(struct world *w, long long chat, const char *lang, const char *body)
{
    long long id = tb_say(w->fb, w->next_mid++, chat, lang, body);
    settle(w);
    return id;
}

static long long say_text(struct world *w, long long chat, const char *lang, const char *text)
{
    struct json_object *t = json_object_new_string(text);
    char *body = tl_asprintf("\"text\":%s", json_object_to_json_string(t));
    json_object_put(t);
    long long id = say(w, chat, lang, body);
    free(body);
    return id;
}

static long long command(struct world *w, long long chat, const char *lang, const char *cmd)
{
    char *body = tl_asprintf("\"text\":\"%s\",\"entities\":[{\"type\":\"bot_command\","
                             "\"offset\":0,\"length\":%zu}]",
                             cmd, strlen(cmd));
    long long id = say(w, chat, lang, body);
    free(body);
    return id;
}

/* The Telegram id of the chat's current keyboard message (the draft's prompt). */
static long long prompt_mid(struct world *w, long long chat)
{
    char *sql = tl_asprintf("SELECT o.tg_message_id FROM drafts d JOIN outbox o ON o.id = "
                            "(d.state->>'po')::bigint WHERE d.chat_id = %lld",
                            tb_chat(chat));
    char *v = ts_db_scalar(w->ci, sql);
    free(sql);
    assert_non_null(v);
    long long mid = strtoll(v, NULL, 10);
    free(v);
    return mid;
}

static long long draft_id(struct world *w, long long chat)
{
    return count(w, "SELECT (state->>'id')::bigint FROM drafts WHERE chat_id = %lld",
                 tb_chat(chat));
}

/* Presses a button with data on message mid. */
static void press(struct world *w, long long chat, long long mid, const char *data)
{
    tb_press(w->fb, w->next_mid++, chat, mid, data);
    settle(w);
}

/* Presses the button act of the chat's current draft keyboard. */
static void press_draft(struct world *w, long long chat, const char *act)
{
    char data[64];
    snprintf(data, sizeof(data), "%lld:%s", draft_id(w, chat), act);
    press(w, chat, prompt_mid(w, chat), data);
}

/* ---- what the bot sent ---- */

/* The calls since the last check, as "method method ..." and the array (put it). */
static struct json_object *calls(struct world *w, char *methods, size_t cap)
{
    char *j = fakebot_calls_json(w->fb, NULL);
    struct json_object *arr = json_tokener_parse(j);
    free(j);
    assert_non_null(arr);
    methods[0] = 0;
    size_t used = 0;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        struct json_object *c = json_object_array_get_idx(arr, i), *m;
        json_object_object_get_ex(c, "method", &m);
        const char *name = json_object_get_string(m);
        if (strcmp(name, "getUpdates") == 0) {
            json_object_array_del_idx(arr, i, 1);
            i--;
            continue;
        }
        used += (size_t)snprintf(methods + used, cap - used, "%s%s", used ? " " : "", name);
    }
    fakebot_reset_calls(w->fb);
    return arr;
}

/* Checks the methods called since the last check, in order; returns them (put). */
static struct json_object *expect(struct world *w, const char *want)
{
    char got[2048];
    struct json_object *arr = calls(w, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("calls: got \"%s\", want \"%s\"", got, want);
    return arr;
}

/* params.key of call i as a string ("" when absent; objects as JSON text). */
static const char *param(struct json_object *arr, size_t i, const char *key)
{
    struct json_object *c = json_object_array_get_idx(arr, i), *p, *v;
    assert_true(json_object_object_get_ex(c, "params", &p));
    if (!json_object_object_get_ex(p, key, &v))
        return "";
    if (json_object_is_type(v, json_type_object))
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    return json_object_get_string(v);
}

static void expect_has(struct json_object *arr, size_t i, const char *key, const char *needle)
{
    const char *v = param(arr, i, key);
    if (!strstr(v, needle))
        fail_msg("call %zu %s = \"%s\" lacks \"%s\"", i, key, v, needle);
}

static char *catalog(const char *lang, const char *key)
{
    return hdl_text(lang, key, (char *)NULL);
}

static void expect_text(struct json_object *arr, size_t i, const char *lang, const char *key)
{
    char *t = catalog(lang, key);
    const char *v = param(arr, i, "text");
    if (strcmp(v, t) != 0)
        fail_msg("call %zu text = \"%s\", want %s.%s = \"%s\"", i, v, lang, key, t);
    free(t);
}

/* A clean JPEG served by the fake as file_id. */
static void add_photo(struct world *w, const char *file_id, uint32_t seed)
{
    size_t len;
    unsigned char *rgb = fx_photo_rgb(160, 120, seed);
    unsigned char *j = fx_jpeg_encode(rgb, 160, 120, 85, &len);
    free(rgb);
    assert_int_equal(fakebot_add_file(w->fb, file_id, j, len), TL_OK);
    free(j);
}

static char *photo_body(const char *file_id, const char *extra)
{
    return tl_asprintf("\"photo\":[{\"file_id\":\"%s\",\"file_unique_id\":\"u-%s\",\"width\":160,"
                       "\"height\":120}]%s",
                       file_id, file_id, extra);
}

/* ---- tests ---- */

/* /report to the summary and Send, in Ukrainian and in English: every step's request
 * and the report's columns. */
static void guided(const char *lang, const char *title)
{
    struct world w;
    long long chat = strcmp(lang, "uk") == 0 ? 7101 : 7102;
    world_open(&w, title);
    add_photo(&w, "g1", 3);
    struct json_object *a;

    command(&w, chat, lang, "/report");
    a = expect(&w, "sendMessage");
    expect_text(a, 0, lang, "ask_category");
    long long id = draft_id(&w, chat);
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:c:troops\"", id);
    expect_has(a, 0, "reply_markup", want);
    json_object_put(a);

    long long kb = prompt_mid(&w, chat);
    press_draft(&w, chat, "c:troops");
    a = expect(&w, "answerCallbackQuery editMessageText sendMessage");
    expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "Рух військ" : "Troop movement");
    assert_int_equal(atoll(param(a, 1, "message_id")), kb); /* the keyboard edited in place */
    expect_text(a, 2, lang, "ask_location");
    expect_has(a, 2, "reply_markup", "\"request_location\":true");
    json_object_put(a);

    say(&w, chat, lang, "\"location\":{\"latitude\":49.9935,\"longitude\":36.2304}");
    a = expect(&w, "sendMessage sendMessage");
    expect_text(a, 0, lang, "location_saved");
    expect_has(a, 0, "reply_markup", "\"remove_keyboard\":true");
    expect_text(a, 1, lang, "ask_media");
    json_object_put(a);

    kb = prompt_mid(&w, chat);
    char *body = photo_body("g1", "");
    say(&w, chat, lang, body);
    free(body);
    a = expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(param(a, 2, "message_id")), kb); /* the old keyboard taken off */
    expect_has(a, 3, "text", "1");
    json_object_put(a);

    press_draft(&w, chat, "m");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_text(a, 1, lang, "ask_when");
    json_object_put(a);

    press_draft(&w, chat, "w:30");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_text(a, 1, lang, "ask_direction"); /* troops move: the direction is asked */
    json_object_put(a);

    press_draft(&w, chat, "d:315");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_text(a, 1, lang, "ask_description");
    json_object_put(a);

    kb = prompt_mid(&w, chat);
    say_text(&w, chat, lang, "BTR-82 x3, white V markings");
    a = expect(&w, "editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(param(a, 0, "message_id")), kb);
    expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "Перевірте" : "Check your report");
    expect_has(a, 1, "text", "BTR-82 x3");
    expect_has(a, 1, "text", "49.99350, 36.23040");
    json_object_put(a);

    press_draft(&w, chat, "send");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "надіслано" : "Report sent");
    expect_has(a, 1, "reply_markup", "\"callback_data\":\"x:TL-");
    json_object_put(a);

    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE category = 'troops' AND "
                               "bearing = 315 AND point_source = 'telegram_location' AND "
                               "text = 'BTR-82 x3, white V markings' AND NOT forwarded AND "
                               "observed_at BETWEEN now() - interval '32 minutes' AND "
                               "now() - interval '28 minutes'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                               "m.report_id WHERE m.tg_file_id = 'g1'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM chats WHERE chat_id = %lld AND lang = '%s'",
                           tb_chat(chat), lang),
                     1);
    /* the citizen's messages and the bot's belong to the report now */
    assert_true(count(&w, "SELECT count(*) FROM conv_messages WHERE report_id IS NOT NULL") >= 8);
    world_close(&w);
}

static void test_conv_guided_uk(void **state)
{
    guided("uk", "guided_uk");
}

static void test_conv_guided_en(void **state)
{
    guided("en", "guided_en");
}

/* A photo with a caption: a quick draft asks only for the place, Send now sends it. */
static void test_conv_quick_photo(void **state)
{
    struct world w;
    world_open(&w, "quick");
    add_photo(&w, "q1", 5);
    char *body = photo_body("q1", ",\"caption\":\"smoke over the depot\"");
    long long id = say(&w, 7201, "en", body);
    free(body);
    struct json_object *a = expect(&w, "getFile file sendMessage");
    expect_has(a, 2, "text", "📷 photos: 1");
    expect_has(a, 2, "text", "Still missing: the place");
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:send\"", id);
    expect_has(a, 2, "reply_markup", want);
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7201)), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 0);

    press_draft(&w, 7201, "send");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_has(a, 1, "text", "Reference: TL-");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN media m ON m.report_id = "
                               "r.id WHERE r.text = 'smoke over the depot' AND "
                               "m.tg_file_unique_id = 'u-q1' AND m.mime = 'image/jpeg'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM draft_media"), 0);
    world_close(&w);
}

/* An album of three photos: one draft, one answer, one report with three media. */
static void test_conv_album_one_report(void **state)
{
    struct world w;
    world_open(&w, "album");
    static const char *const ids[] = {"a1", "a2", "a3"};
    for (int i = 0; i < 3; i++)
        add_photo(&w, ids[i], 10 + (uint32_t)i);
    /* the three updates arrive together, as Telegram delivers an album */
    for (int i = 0; i < 3; i++) {
        char *body =
            photo_body(ids[i], i == 0 ? ",\"media_group_id\":\"135\",\"caption\":\"column\""
                                      : ",\"media_group_id\":\"135\"");
        char *j = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":7301,"
                              "\"type\":\"private\"},\"from\":{\"id\":7301,\"is_bot\":false,"
                              "\"first_name\":\"A\"},%s}}",
                              50 + i, body);
        assert_true(fakebot_push_update(w.fb, j) > 0);
        free(j);
        free(body);
    }
    settle(&w);
    struct json_object *a = expect(&w, "getFile file getFile file getFile file sendMessage");
    expect_has(a, 6, "text", "фото: 1"); /* no language_code: Ukrainian; answered once */
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7301)), 3);
    press_draft(&w, 7301, "send");
    json_object_put(expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '135'"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                               "m.report_id WHERE r.media_group_id = '135'"),
                     3);
    world_close(&w);
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
    world_open(&w, "album_video");
    add_photo(&w, "p1", 21);
    add_photo(&w, "p2", 22);
    if (!add_video(&w, "v1")) {
        world_close(&w);
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
    settle(&w);
    struct json_object *a = expect(&w, "getFile file getFile file getFile file sendMessage");
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7311)), 3);

    /* a 30 MB video: Telegram says its size, so it is not fetched; refused in Ukrainian */
    assert_true(fakebot_push_update(
                    w.fb, "{\"message\":{\"message_id\":70,\"date\":2,\"chat\":{\"id\":7311,"
                          "\"type\":\"private\"},\"from\":{\"id\":7311,\"is_bot\":false,"
                          "\"first_name\":\"A\"},\"video\":{\"file_id\":\"big\","
                          "\"file_unique_id\":\"u-big\",\"width\":1920,\"height\":1080,"
                          "\"duration\":300,\"file_size\":31457280}}}") > 0);
    settle(&w);
    a = expect(&w, "sendMessage");
    expect_has(a, 0, "text", "Це відео не можна прийняти");
    expect_has(a, 0, "text", "щонайбільше 20 МБ");
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(7311)), 3);

    press_draft(&w, 7311, "send");
    json_object_put(expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '246'"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                               "m.report_id WHERE r.media_group_id = '246'"),
                     3);
    /* the video: stored as an MP4 without its position, which became the report's point */
    assert_int_equal(count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = m.report_id "
                               "WHERE r.media_group_id = '246' AND m.kind = 'video' AND "
                               "m.mime = 'video/mp4' AND m.phash IS NOT NULL AND "
                               "position('\\xa978797a'::bytea in m.bytes) = 0 AND "
                               "position('+50.4501'::bytea in m.bytes) = 0 AND "
                               "abs(ST_Y(m.gps::geometry) - 50.4501) < 1e-6 AND "
                               "m.taken_local = '2026-03-01 08:15:00'"),
                     1);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM reports WHERE media_group_id = '246' AND "
                  "point_source = 'photo_exif' AND abs(ST_Y(point::geometry) - 50.4501) < 1e-6 "
                  "AND abs(ST_X(point::geometry) - 30.5234) < 1e-6"),
        1);
    world_close(&w);
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
    world_open(&w, "wizard_video");
    long long chat = 7321;
    char *kept = tl_asprintf("/tmp/tl_conv_wvideo_%ld_kept.mp4", (long)getpid());
    long long want_ms = add_phone_clip(&w, "wv", "160x120", "2.5");
    assert_true(want_ms > 2000);

    command(&w, chat, "en", "/report");
    press_draft(&w, chat, "c:troops");
    say(&w, chat, "en", "\"location\":{\"latitude\":49.9935,\"longitude\":36.2304}");
    struct json_object *a = expect(&w, "sendMessage answerCallbackQuery editMessageText "
                                       "sendMessage sendMessage sendMessage");
    expect_text(a, 5, "en", "ask_media");
    json_object_put(a);

    long long kb = prompt_mid(&w, chat);
    say(&w, chat, "en",
        "\"video\":{\"file_id\":\"wv\",\"file_unique_id\":\"u-wv\",\"width\":160,"
        "\"height\":120,\"duration\":3,\"mime_type\":\"video/mp4\",\"file_size\":100000}");
    a = expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(param(a, 2, "message_id")), kb);
    expect_has(a, 3, "text", "1");
    json_object_put(a);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                           "kind = 'video' AND duration_ms = %lld",
                           tb_chat(chat), want_ms),
                     1);

    /* the conversation goes on as after a photo */
    press_draft(&w, chat, "m");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_text(a, 1, "en", "ask_when");
    json_object_put(a);
    press_draft(&w, chat, "w:30");
    press_draft(&w, chat, "d:90");
    say_text(&w, chat, "en", "three trucks filmed from a window");
    json_object_put(expect(&w, "answerCallbackQuery editMessageText answerCallbackQuery "
                               "editMessageText editMessageReplyMarkup sendMessage"));
    press_draft(&w, chat, "send");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_has(a, 1, "text", "Report sent");
    json_object_put(a);

    assert_int_equal(count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                           "m.report_id WHERE r.text = 'three trucks filmed from a window' "
                           "AND m.kind = 'video' AND m.mime = 'video/mp4' AND "
                           "m.duration_ms = %lld AND abs(ST_Y(m.gps::geometry) - 50.4501) "
                           "< 1e-6 AND m.taken_local IS NOT NULL",
                           want_ms),
                     1);
    /* the shared location stays the point; the video's own is kept as a fact */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE point_source = "
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
    world_close(&w);
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
    world_open(&w, "heic_note");
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
    say(&w, chat, "en", body);
    free(body);
    struct json_object *a = expect(&w, "getFile file sendMessage");
    expect_has(a, 2, "text", "📷 photos: 1");
    json_object_put(a);

    long long want_ms = add_phone_clip(&w, "n1", "240x240", "1.5");
    say(&w, chat, "en",
        "\"video_note\":{\"file_id\":\"n1\",\"file_unique_id\":\"u-n1\",\"length\":240,"
        "\"duration\":2,\"file_size\":200000}");
    a = expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    expect_has(a, 3, "text", "📷 photos: 2");
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM draft_media WHERE chat_id = %lld", tb_chat(chat)), 2);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                           "kind = 'photo' AND mime = 'image/jpeg' AND "
                           "abs(ST_Y(gps::geometry) - 39.05134) < 1e-4 AND "
                           "abs(ST_X(gps::geometry) + 94.28877) < 1e-4 AND "
                           "taken_local = '2021-04-11 15:47:53' AND duration_ms IS NULL",
                           tb_chat(chat)),
                     1);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM draft_media WHERE chat_id = %lld AND "
                           "kind = 'video' AND mime = 'video/mp4' AND duration_ms = %lld",
                           tb_chat(chat), want_ms),
                     1);

    press_draft(&w, chat, "send");
    a = expect(&w, "answerCallbackQuery editMessageText");
    expect_has(a, 1, "text", "Reference: TL-");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM media"), 2);
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
    world_close(&w);
}

/* /cancel (or the Cancel button, or the location keyboard's Cancel) at every step:
 * the draft and its photos go, nothing is reported, the citizen is told. */
static void test_conv_cancel_every_step(void **state)
{
    struct world w;
    world_open(&w, "cancel");
    add_photo(&w, "c1", 21);
    static const char *const steps[] = {"quick", "category",  "location",    "media",
                                        "when",  "direction", "description", "summary"};
    for (int k = 0; k < 8; k++) {
        long long chat = 7400 + k;
        if (k == 0) {
            say_text(&w, chat, "en", "something odd");
        } else {
            command(&w, chat, "en", "/report");
            if (k >= 2)
                press_draft(&w, chat, "c:drones");
            if (k >= 3)
                say(&w, chat, "en", "\"location\":{\"latitude\":50.1,\"longitude\":30.2}");
            if (k >= 4) {
                char *body = photo_body("c1", "");
                say(&w, chat, "en", body);
                free(body);
                press_draft(&w, chat, "m");
            }
            if (k >= 5)
                press_draft(&w, chat, "w:0");
            if (k >= 6)
                press_draft(&w, chat, "d:90");
            if (k >= 7)
                press_draft(&w, chat, "t");
        }
        char got[2048];
        json_object_put(calls(&w, got, sizeof(got)));
        char *sql = tl_asprintf("SELECT count(*) FROM drafts WHERE chat_id = %lld AND "
                                "state->>'step' = '%s'",
                                tb_chat(chat), steps[k]);
        assert_int_equal(ts_db_count(w.ci, sql), 1);
        free(sql);
        struct json_object *a;
        if (k == 2) { /* the location step's reply keyboard */
            char *label = catalog("en", "btn_cancel");
            say_text(&w, chat, "en", label);
            free(label);
            a = expect(&w, "sendMessage");
            expect_has(a, 0, "reply_markup", "\"remove_keyboard\":true");
        } else if (k % 2) {
            command(&w, chat, "en", "/cancel");
            a = expect(&w, "editMessageReplyMarkup sendMessage");
        } else {
            press_draft(&w, chat, "cancel");
            a = expect(&w, "answerCallbackQuery editMessageText");
        }
        expect_text(a, json_object_array_length(a) - 1, "en", "cancelled");
        json_object_put(a);
        assert_int_equal(
            count(&w, "SELECT count(*) FROM drafts WHERE chat_id = %lld", tb_chat(chat)), 0);
    }
    assert_int_equal(count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 0);
    command(&w, 7400, "en", "/cancel");
    struct json_object *a = expect(&w, "sendMessage");
    expect_text(a, 0, "en", "nothing_to_cancel");
    json_object_put(a);
    world_close(&w);
}

/* An idle draft is reminded once, then discarded, and the citizen told each time. */
static void test_conv_expired_draft(void **state)
{
    struct world w;
    world_open(&w, "expired");
    add_photo(&w, "e1", 31);
    char *body = photo_body("e1", "");
    long long id = say(&w, 7501, "en", body);
    free(body);
    json_object_put(expect(&w, "getFile file sendMessage"));
    free(ts_db_scalar(w.ci, "UPDATE drafts SET updated_at = now() - interval '25 minutes' "
                            "RETURNING 1"));
    wait_sql(&w, "SELECT count(*) FROM drafts WHERE reminded_at IS NOT NULL", 1);
    settle(&w);
    struct json_object *a = expect(&w, "sendMessage");
    expect_text(a, 0, "en", "draft_reminder");
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:send\"", id);
    expect_has(a, 0, "reply_markup", want);
    json_object_put(a);
    tl_sleep_ms(400, NULL); /* a second pass: no second reminder */
    assert_int_equal(fakebot_count(w.fb, "sendMessage"), 0);

    free(ts_db_scalar(w.ci, "UPDATE drafts SET expires_at = now() - interval '1 second' "
                            "RETURNING 1"));
    wait_sql(&w, "SELECT (count(*) = 0)::int FROM drafts", 1);
    settle(&w);
    a = expect(&w, "sendMessage");
    expect_text(a, 0, "en", "draft_expired");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 0);
    /* the expired draft's buttons are stale now */
    char data[32];
    snprintf(data, sizeof(data), "%lld:send", id);
    press(&w, 7501, 1, data);
    a = expect(&w, "answerCallbackQuery");
    expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    world_close(&w);
}

/* The bot stops mid-flow and starts again: the same draft goes on where it was. */
static void test_conv_restart_resumes(void **state)
{
    struct world w;
    world_open(&w, "restart");
    command(&w, 7601, "en", "/report");
    press_draft(&w, 7601, "c:shelling");
    long long id = draft_id(&w, 7601);
    tb_stop();
    json_object_put(calls(&w, (char[2048]){0}, 2048));
    start_runtime(&w.c, w.fb);
    say_text(&w, 7601, "en", "50.4501, 30.5234");
    struct json_object *a = expect(&w, "sendMessage sendMessage");
    expect_text(a, 0, "en", "location_saved");
    expect_text(a, 1, "en", "ask_media");
    json_object_put(a);
    assert_int_equal(draft_id(&w, 7601), id);
    assert_int_equal(count(&w, "SELECT count(*) FROM drafts WHERE state->>'cat' = 'shelling' AND "
                               "state->>'step' = 'media' AND state->'pt'->>'src' = 'text'"),
                     1);
    world_close(&w);
}

/* A button of a draft already sent, or of an earlier step: a polite answer, nothing
 * else sent, nothing written. */
static void test_conv_stale_callback(void **state)
{
    struct world w;
    world_open(&w, "stale");
    long long id = say_text(&w, 7701, "en", "helicopter low over the river");
    long long kb = prompt_mid(&w, 7701);
    json_object_put(expect(&w, "sendMessage"));
    char data[64];
    snprintf(data, sizeof(data), "%lld:send", id);
    press(&w, 7701, kb, data);
    json_object_put(expect(&w, "answerCallbackQuery editMessageText"));
    press(&w, 7701, kb, data); /* pressed again */
    struct json_object *a = expect(&w, "answerCallbackQuery");
    expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 1);

    /* a category button while the draft waits for the place */
    command(&w, 7701, "en", "/report");
    long long cat_kb = prompt_mid(&w, 7701);
    press_draft(&w, 7701, "c:other");
    json_object_put(calls(&w, (char[2048]){0}, 2048));
    snprintf(data, sizeof(data), "%lld:c:drones", draft_id(&w, 7701));
    press(&w, 7701, cat_kb, data);
    a = expect(&w, "answerCallbackQuery");
    expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM drafts WHERE state->>'cat' = 'other'"), 1);
    /* someone else's data on the bot's message */
    press(&w, 7701, cat_kb, "button2_bijoy");
    a = expect(&w, "answerCallbackQuery");
    expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    world_close(&w);
}

/* Edits: before sending they change the draft; after sending they become an addendum.
 * A live location's updates move the draft's point until it is sent. */
static void test_conv_edits(void **state)
{
    struct world w;
    world_open(&w, "edits");
    long long mid = w.next_mid;
    say_text(&w, 7801, "en", "two tanks");
    char *j = tl_asprintf("{\"edited_message\":{\"message_id\":%lld,\"date\":1,\"edit_date\":2,"
                          "\"chat\":{\"id\":7801,\"type\":\"private\"},\"from\":{\"id\":7801,"
                          "\"is_bot\":false,\"first_name\":\"E\"},\"text\":\"three tanks\"}}",
                          mid);
    assert_true(fakebot_push_update(w.fb, j) > 0);
    free(j);
    settle(&w);
    long long live = w.next_mid;
    say(&w, 7801, "en", "\"location\":{\"latitude\":49.1,\"longitude\":37.1,\"live_period\":900}");
    j = tl_asprintf("{\"edited_message\":{\"message_id\":%lld,\"date\":1,\"edit_date\":3,\"chat\":"
                    "{\"id\":7801,\"type\":\"private\"},\"from\":{\"id\":7801,\"is_bot\":false,"
                    "\"first_name\":\"E\"},\"location\":{\"latitude\":49.2,\"longitude\":37.3,"
                    "\"live_period\":900,\"heading\":180}}}",
                    live);
    assert_true(fakebot_push_update(w.fb, j) > 0);
    free(j);
    settle(&w);
    json_object_put(calls(&w, (char[2048]){0}, 2048));
    press_draft(&w, 7801, "send");
    json_object_put(expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text = 'three tanks' AND "
                               "point_source = 'live_location' AND bearing = 180 AND "
                               "abs(ST_Y(point::geometry) - 49.2) < 1e-9"),
                     1);
    /* after sending: an addendum, and the citizen is told */
    j = tl_asprintf("{\"edited_message\":{\"message_id\":%lld,\"date\":1,\"edit_date\":9,"
                    "\"chat\":{\"id\":7801,\"type\":\"private\"},\"from\":{\"id\":7801,"
                    "\"is_bot\":false,\"first_name\":\"E\"},\"text\":\"three tanks, one "
                    "burning\"}}",
                    mid);
    assert_true(fakebot_push_update(w.fb, j) > 0);
    free(j);
    settle(&w);
    struct json_object *a = expect(&w, "sendMessage");
    expect_has(a, 0, "text", "correction was added to report TL-");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM report_addenda a JOIN reports r ON r.id = "
                               "a.report_id WHERE a.text = 'three tanks, one burning' AND "
                               "r.text = 'three tanks'"),
                     1);
    world_close(&w);
}

/* A forwarded message: the report says the source is not the citizen. The forward_origin
 * comes from the real payload 07 when ../shared is there. */
static void test_conv_forwarded(void **state)
{
    struct world w;
    world_open(&w, "forwarded");
    char *origin = tl_strdup("{\"type\":\"chat\",\"date\":1,\"sender_chat\":{\"id\":-100,"
                             "\"type\":\"channel\",\"title\":\"news\"}}");
    char *path = ts_shared_path("telegram/07_message_forward_origin_chat.json");
    if (path) {
        char *text = ts_read_file(path, NULL);
        struct json_object *m = json_tokener_parse(text), *fo;
        assert_true(json_object_object_get_ex(m, "forward_origin", &fo));
        free(origin);
        origin = tl_strdup(json_object_to_json_string_ext(fo, JSON_C_TO_STRING_PLAIN));
        json_object_put(m);
        free(text);
        free(path);
    }
    char *body = tl_asprintf("\"forward_origin\":%s,\"text\":\"convoy on the M03\"", origin);
    long long id = say(&w, 7901, "en", body);
    free(body);
    free(origin);
    struct json_object *a = expect(&w, "sendMessage");
    expect_has(a, 0, "text", "Still missing: the place");
    json_object_put(a);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM drafts WHERE (state->>'fwd')::boolean AND "
                           "(state->>'id')::bigint = %lld",
                           id),
                     1);
    press_draft(&w, 7901, "send");
    json_object_put(expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE forwarded AND text = 'convoy "
                               "on the M03'"),
                     1);
    world_close(&w);
}

/* Groups: one polite pointer to the private chat, once, and nothing kept of them. */
static void test_conv_group(void **state)
{
    struct world w;
    world_open(&w, "group");
    for (int i = 0; i < 2; i++) {
        char *j = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":-100777,"
                              "\"type\":\"supergroup\",\"title\":\"G\"},\"from\":{\"id\":55,"
                              "\"is_bot\":false,\"first_name\":\"G\",\"language_code\":\"en\"},"
                              "\"text\":\"tanks here\"}}",
                              i + 1);
        assert_true(fakebot_push_update(w.fb, j) > 0);
        free(j);
        settle(&w);
    }
    struct json_object *a = expect(&w, "sendMessage");
    expect_text(a, 0, "en", "private_only");
    assert_int_equal(atoll(param(a, 0, "chat_id")), -100777);
    json_object_put(a);
    assert_int_equal(
        count(&w, "SELECT count(*) FROM conv_notices WHERE chat_id = %lld", tb_chat(-100777)), 1);
    /* the group's reply path (its id sealed, for the notice), and no reporter */
    assert_int_equal(count(&w, "SELECT count(*) FROM chats WHERE reporter IS NULL AND "
                               "chat_sealed IS NOT NULL"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM chats"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 0);
    world_close(&w);
}

/* "Clear this chat": the citizen's message and the bot's are deleted; what cannot be
 * (older than Telegram allows) is counted and said. */
static void test_conv_clear_chat(void **state)
{
    struct world w;
    world_open(&w, "clear");
    long long mid = w.next_mid;
    say_text(&w, 8001, "en", "artillery fire from the north");
    long long kb = prompt_mid(&w, 8001);
    press_draft(&w, 8001, "send");
    char *ref = ts_db_scalar(w.ci, "SELECT public_ref FROM reports");
    json_object_put(calls(&w, (char[2048]){0}, 2048));
    char data[32];
    snprintf(data, sizeof(data), "x:%s", ref);
    press(&w, 8001, kb, data);
    struct json_object *a =
        expect(&w, "answerCallbackQuery deleteMessage deleteMessage sendMessage");
    long long d1 = atoll(param(a, 1, "message_id")), d2 = atoll(param(a, 2, "message_id"));
    assert_true((d1 == mid && d2 == kb) || (d1 == kb && d2 == mid));
    expect_has(a, 3, "text", "2 messages");
    json_object_put(a);
    /* later the citizen's message is too old for Telegram (past the 47 hours the bot
     * still tries), yet younger than the 48 hours after which the drafts janitor, every
     * 100 ms here, forgets it: older, it is gone before the press and nothing is said */
    free(ts_db_scalar(w.ci, "UPDATE conv_messages SET at = now() - interval '47 hours 30 "
                            "minutes' WHERE message_id IS NOT NULL RETURNING 1"));
    press(&w, 8001, kb, data);
    a = expect(&w, "answerCallbackQuery deleteMessage sendMessage");
    expect_has(a, 2, "text", "could not be deleted");
    json_object_put(a);
    /* another reporter's reference clears nothing */
    press(&w, 8002, 1, data);
    a = expect(&w, "answerCallbackQuery");
    expect_text(a, 0, "uk", "clear_unknown"); /* a stranger: no language known, Ukrainian */
    json_object_put(a);
    free(ref);
    world_close(&w);
}

/* The real payloads: a plain text (01b) starts a draft, the real callback (06) with the
 * draft's data sends it, an album item (02) and an edited live location (05b) join a
 * draft of their own chat. */
static void test_conv_shared_payloads(void **state)
{
    char *p_text = ts_shared_path("telegram/01b_update_text_plain.json");
    char *p_cb = ts_shared_path("telegram/06_update_callback_query.json");
    char *p_photo = ts_shared_path("telegram/02_update_photo_in_media_group.json");
    if (!p_text || !p_cb || !p_photo) {
        free(p_text);
        free(p_cb);
        free(p_photo);
        skip(); /* no ../shared here: the generated payloads above cover each feature */
    }
    struct world w;
    world_open(&w, "shared");
    char *text = ts_read_file(p_text, NULL);
    struct json_object *u = json_tokener_parse(text), *msg, *chat, *id;
    free(text);
    assert_true(json_object_object_get_ex(u, "message", &msg));
    assert_true(json_object_object_get_ex(msg, "chat", &chat));
    assert_true(json_object_object_get_ex(chat, "id", &id));
    long long chat_id = json_object_get_int64(id);
    assert_true(fakebot_push_update(w.fb, json_object_to_json_string(u)) > 0);
    json_object_put(u);
    settle(&w);
    json_object_put(expect(&w, "sendMessage"));
    long long did = draft_id(&w, chat_id);

    /* the real callback, pointed at this chat's draft keyboard */
    text = ts_read_file(p_cb, NULL);
    u = json_tokener_parse(text);
    free(text);
    struct json_object *q, *from, *qm, *qc;
    assert_true(json_object_object_get_ex(u, "callback_query", &q));
    json_object_object_get_ex(q, "from", &from);
    json_object_object_add(from, "id", json_object_new_int64(chat_id));
    json_object_object_get_ex(q, "message", &qm);
    json_object_object_get_ex(qm, "chat", &qc);
    json_object_object_add(qc, "id", json_object_new_int64(chat_id));
    json_object_object_add(qm, "message_id", json_object_new_int64(prompt_mid(&w, chat_id)));
    char data[48];
    snprintf(data, sizeof(data), "%lld:send", did);
    json_object_object_add(q, "data", json_object_new_string(data));
    assert_true(fakebot_push_update(w.fb, json_object_to_json_string(u)) > 0);
    json_object_put(u);
    settle(&w);
    struct json_object *a = expect(&w, "answerCallbackQuery editMessageText");
    expect_has(a, 0, "callback_query_id", "4278655576057498272");
    json_object_put(a);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 1);

    /* the album photo: fetched, stripped, kept with a new draft of its chat */
    add_photo(&w,
              "AgACAgIAAxkBAAMEZCiCg7A1qAABECDXqbjnqtId777bAAIFyDEbLKhISVFwzRK8kZMNAQADAgADeQA"
              "DLwQ",
              41);
    text = ts_read_file(p_photo, NULL);
    assert_true(fakebot_push_update(w.fb, text) > 0);
    free(text);
    settle(&w);
    a = expect(&w, "getFile file sendMessage");
    expect_has(a, 2, "text", "photos: 1");
    json_object_put(a);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM drafts WHERE chat_id = %lld AND "
                           "state->>'mgid' = '13443011608618786'",
                           tb_chat(86815320)),
                     1);
    char *p_live = ts_shared_path("telegram/SYNTH_05b_update_edited_live_location.json");
    if (p_live) { /* a live-location tick for a message not in the draft changes nothing */
        text = ts_read_file(p_live, NULL);
        assert_true(fakebot_push_update(w.fb, text) > 0);
        free(text);
        settle(&w);
        json_object_put(expect(&w, ""));
        assert_int_equal(count(&w, "SELECT count(*) FROM drafts WHERE state ? 'pt'"), 0);
        free(p_live);
    }
    /* messages from bots (03: a bot in a private chat; 07: a group's anonymous admin):
     * never a reporter, never answered */
    static const char *const bots[] = {"telegram/03_message_location.json",
                                       "telegram/07_message_forward_origin_chat.json"};
    for (size_t i = 0; i < 2; i++) {
        char *pb = ts_shared_path(bots[i]);
        if (!pb)
            continue;
        text = ts_read_file(pb, NULL);
        char *upd = tl_asprintf("{\"message\":%s}", text);
        assert_true(fakebot_push_update(w.fb, upd) > 0);
        free(upd);
        free(text);
        free(pb);
        settle(&w);
        json_object_put(expect(&w, ""));
    }
    assert_int_equal(count(&w, "SELECT count(*) FROM drafts WHERE chat_id IN (%lld, %lld)",
                           tb_chat(1089734), tb_chat(-1001160242915)),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM conv_notices"), 0);
    free(p_text);
    free(p_cb);
    free(p_photo);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_guided_uk, tb_teardown),
        cmocka_unit_test_teardown(test_conv_guided_en, tb_teardown),
        cmocka_unit_test_teardown(test_conv_quick_photo, tb_teardown),
        cmocka_unit_test_teardown(test_conv_album_one_report, tb_teardown),
        cmocka_unit_test_teardown(test_conv_album_photos_and_video, tb_teardown),
        cmocka_unit_test_teardown(test_conv_wizard_video, tb_teardown),
        cmocka_unit_test_teardown(test_conv_heic_file_and_video_note, tb_teardown),
        cmocka_unit_test_teardown(test_conv_cancel_every_step, tb_teardown),
        cmocka_unit_test_teardown(test_conv_expired_draft, tb_teardown),
        cmocka_unit_test_teardown(test_conv_restart_resumes, tb_teardown),
        cmocka_unit_test_teardown(test_conv_stale_callback, tb_teardown),
        cmocka_unit_test_teardown(test_conv_edits, tb_teardown),
        cmocka_unit_test_teardown(test_conv_forwarded, tb_teardown),
        cmocka_unit_test_teardown(test_conv_group, tb_teardown),
        cmocka_unit_test_teardown(test_conv_clear_chat, tb_teardown),
        cmocka_unit_test_teardown(test_conv_shared_payloads, tb_teardown),
    };
    log_level = LOG_WARN;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
