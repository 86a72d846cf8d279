/* tests/test_conv.c - the citizen conversation played whole: the runtime threads
 * against the fake Bot API (a real HTTP server on loopback) and a throwaway PostgreSQL.
 * Each test sends updates as a citizen would, waits until the bot has handled them and
 * delivered its replies, and checks the exact requests the bot made (method and key
 * parameters, from the fake's call record) and the rows written. The real payloads in
 * ../shared/telegram are played too when present; the generated ones cover every
 * feature without them. This file holds the conversation's flow and the world the
 * program's files share (test_conv.h); the media conversations are in test_conv_media.c. */
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

/* Conversations: workers that poll fast and a drafts pass every 100 ms. */
void cw_start_runtime(const struct cfg *c, struct fakebot *fb)
{
    tb_start(c, fb, 5, 100);
}

void cw_open(struct world *w, const char *name)
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
    cw_start_runtime(&w->c, w->fb);
}

void cw_close(struct world *w)
{
    if (tb_running())
        tb_stop();
    cfg_release(&w->c);
    fakebot_stop(w->fb);
    ts_db_drop(w->name);
    free(w->ci);
}

/* Waits until every update is handled and every reply delivered. */
void cw_settle(struct world *w)
{
    tb_settle(w->fb, w->ci, 20000);
}

void cw_wait_sql(struct world *w, const char *sql, long long want)
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
long long cw_say(struct world *w, long long chat, const char *lang, const char *body)
{
    long long id = tb_say(w->fb, w->next_mid++, chat, lang, body);
    cw_settle(w);
    return id;
}

long long cw_say_text(struct world *w, long long chat, const char *lang, const char *text)
{
    struct json_object *t = json_object_new_string(text);
    char *body = tl_asprintf("\"text\":%s", json_object_to_json_string(t));
    json_object_put(t);
    long long id = cw_say(w, chat, lang, body);
    free(body);
    return id;
}

long long cw_command(struct world *w, long long chat, const char *lang, const char *cmd)
{
    char *body = tl_asprintf("\"text\":\"%s\",\"entities\":[{\"type\":\"bot_command\","
                             "\"offset\":0,\"length\":%zu}]",
                             cmd, strlen(cmd));
    long long id = cw_say(w, chat, lang, body);
    free(body);
    return id;
}

/* The Telegram id of the chat's current keyboard message (the draft's prompt). */
long long cw_prompt_mid(struct world *w, long long chat)
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

long long cw_draft_id(struct world *w, long long chat)
{
    return cw_count(w, "SELECT (state->>'id')::bigint FROM drafts WHERE chat_id = %lld",
                    tb_chat(chat));
}

/* Presses a button with data on message mid. */
void cw_press(struct world *w, long long chat, long long mid, const char *data)
{
    tb_press(w->fb, w->next_mid++, chat, mid, data);
    cw_settle(w);
}

/* Presses the button act of the chat's current draft keyboard. */
void cw_press_draft(struct world *w, long long chat, const char *act)
{
    char data[64];
    snprintf(data, sizeof(data), "%lld:%s", cw_draft_id(w, chat), act);
    cw_press(w, chat, cw_prompt_mid(w, chat), data);
}

/* ---- what the bot sent ---- */

/* The calls since the last check, as "method method ..." and the array (put it). */
struct json_object *cw_calls(struct world *w, char *methods, size_t cap)
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
struct json_object *cw_expect(struct world *w, const char *want)
{
    char got[2048];
    struct json_object *arr = cw_calls(w, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("calls: got \"%s\", want \"%s\"", got, want);
    return arr;
}

/* params.key of call i as a string ("" when absent; objects as JSON text). */
const char *cw_param(struct json_object *arr, size_t i, const char *key)
{
    struct json_object *c = json_object_array_get_idx(arr, i), *p, *v;
    assert_true(json_object_object_get_ex(c, "params", &p));
    if (!json_object_object_get_ex(p, key, &v))
        return "";
    if (json_object_is_type(v, json_type_object))
        return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    return json_object_get_string(v);
}

void cw_expect_has(struct json_object *arr, size_t i, const char *key, const char *needle)
{
    const char *v = cw_param(arr, i, key);
    if (!strstr(v, needle))
        fail_msg("call %zu %s = \"%s\" lacks \"%s\"", i, key, v, needle);
}

char *cw_catalog(const char *lang, const char *key)
{
    return hdl_text(lang, key, (char *)NULL);
}

void cw_expect_text(struct json_object *arr, size_t i, const char *lang, const char *key)
{
    char *t = cw_catalog(lang, key);
    const char *v = cw_param(arr, i, "text");
    if (strcmp(v, t) != 0)
        fail_msg("call %zu text = \"%s\", want %s.%s = \"%s\"", i, v, lang, key, t);
    free(t);
}

/* A clean JPEG served by the fake as file_id. */
void cw_add_photo(struct world *w, const char *file_id, uint32_t seed)
{
    size_t len;
    unsigned char *rgb = fx_photo_rgb(160, 120, seed);
    unsigned char *j = fx_jpeg_encode(rgb, 160, 120, 85, &len);
    free(rgb);
    assert_int_equal(fakebot_add_file(w->fb, file_id, j, len), TL_OK);
    free(j);
}

char *cw_photo_body(const char *file_id, const char *extra)
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
    cw_open(&w, title);
    cw_add_photo(&w, "g1", 3);
    struct json_object *a;

    cw_command(&w, chat, lang, "/report");
    a = cw_expect(&w, "sendMessage");
    cw_expect_text(a, 0, lang, "ask_category");
    long long id = cw_draft_id(&w, chat);
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:c:troops\"", id);
    cw_expect_has(a, 0, "reply_markup", want);
    json_object_put(a);

    long long kb = cw_prompt_mid(&w, chat);
    cw_press_draft(&w, chat, "c:troops");
    a = cw_expect(&w, "answerCallbackQuery editMessageText sendMessage");
    cw_expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "Рух військ" : "Troop movement");
    assert_int_equal(atoll(cw_param(a, 1, "message_id")), kb); /* the keyboard edited in place */
    cw_expect_text(a, 2, lang, "ask_location");
    cw_expect_has(a, 2, "reply_markup", "\"request_location\":true");
    json_object_put(a);

    cw_say(&w, chat, lang, "\"location\":{\"latitude\":49.9935,\"longitude\":36.2304}");
    a = cw_expect(&w, "sendMessage sendMessage");
    cw_expect_text(a, 0, lang, "location_saved");
    cw_expect_has(a, 0, "reply_markup", "\"remove_keyboard\":true");
    cw_expect_text(a, 1, lang, "ask_media");
    json_object_put(a);

    kb = cw_prompt_mid(&w, chat);
    char *body = cw_photo_body("g1", "");
    cw_say(&w, chat, lang, body);
    free(body);
    a = cw_expect(&w, "getFile file editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(cw_param(a, 2, "message_id")), kb); /* the old keyboard taken off */
    cw_expect_has(a, 3, "text", "1");
    json_object_put(a);

    cw_press_draft(&w, chat, "m");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_text(a, 1, lang, "ask_when");
    json_object_put(a);

    cw_press_draft(&w, chat, "w:30");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_text(a, 1, lang, "ask_direction"); /* troops move: the direction is asked */
    json_object_put(a);

    cw_press_draft(&w, chat, "d:315");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_text(a, 1, lang, "ask_description");
    json_object_put(a);

    kb = cw_prompt_mid(&w, chat);
    cw_say_text(&w, chat, lang, "BTR-82 x3, white V markings");
    a = cw_expect(&w, "editMessageReplyMarkup sendMessage");
    assert_int_equal(atoll(cw_param(a, 0, "message_id")), kb);
    cw_expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "Перевірте" : "Check your report");
    cw_expect_has(a, 1, "text", "BTR-82 x3");
    cw_expect_has(a, 1, "text", "49.99350, 36.23040");
    json_object_put(a);

    cw_press_draft(&w, chat, "send");
    a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_has(a, 1, "text", strcmp(lang, "uk") == 0 ? "надіслано" : "Report sent");
    cw_expect_has(a, 1, "reply_markup", "\"callback_data\":\"x:TL-");
    json_object_put(a);

    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE category = 'troops' AND "
                                  "bearing = 315 AND point_source = 'telegram_location' AND "
                                  "text = 'BTR-82 x3, white V markings' AND NOT forwarded AND "
                                  "observed_at BETWEEN now() - interval '32 minutes' AND "
                                  "now() - interval '28 minutes'"),
                     1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                                  "m.report_id WHERE m.tg_file_id = 'g1'"),
                     1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM chats WHERE chat_id = %lld AND lang = '%s'",
                              tb_chat(chat), lang),
                     1);
    /* the citizen's messages and the bot's belong to the report now */
    assert_true(cw_count(&w, "SELECT count(*) FROM conv_messages WHERE report_id IS NOT NULL") >=
                8);
    cw_close(&w);
}

static void test_conv_guided_uk(void **state)
{
    guided("uk", "guided_uk");
}

static void test_conv_guided_en(void **state)
{
    guided("en", "guided_en");
}

static void test_conv_cancel_every_step(void **state)
{
    struct world w;
    cw_open(&w, "cancel");
    cw_add_photo(&w, "c1", 21);
    static const char *const steps[] = {"quick", "category",  "location",    "media",
                                        "when",  "direction", "description", "summary"};
    for (int k = 0; k < 8; k++) {
        long long chat = 7400 + k;
        if (k == 0) {
            cw_say_text(&w, chat, "en", "something odd");
        } else {
            cw_command(&w, chat, "en", "/report");
            if (k >= 2)
                cw_press_draft(&w, chat, "c:drones");
            if (k >= 3)
                cw_say(&w, chat, "en", "\"location\":{\"latitude\":50.1,\"longitude\":30.2}");
            if (k >= 4) {
                char *body = cw_photo_body("c1", "");
                cw_say(&w, chat, "en", body);
                free(body);
                cw_press_draft(&w, chat, "m");
            }
            if (k >= 5)
                cw_press_draft(&w, chat, "w:0");
            if (k >= 6)
                cw_press_draft(&w, chat, "d:90");
            if (k >= 7)
                cw_press_draft(&w, chat, "t");
        }
        char got[2048];
        json_object_put(cw_calls(&w, got, sizeof(got)));
        char *sql = tl_asprintf("SELECT count(*) FROM drafts WHERE chat_id = %lld AND "
                                "state->>'step' = '%s'",
                                tb_chat(chat), steps[k]);
        assert_int_equal(ts_db_count(w.ci, sql), 1);
        free(sql);
        struct json_object *a;
        if (k == 2) { /* the location step's reply keyboard */
            char *label = cw_catalog("en", "btn_cancel");
            cw_say_text(&w, chat, "en", label);
            free(label);
            a = cw_expect(&w, "sendMessage");
            cw_expect_has(a, 0, "reply_markup", "\"remove_keyboard\":true");
        } else if (k % 2) {
            cw_command(&w, chat, "en", "/cancel");
            a = cw_expect(&w, "editMessageReplyMarkup sendMessage");
        } else {
            cw_press_draft(&w, chat, "cancel");
            a = cw_expect(&w, "answerCallbackQuery editMessageText");
        }
        cw_expect_text(a, json_object_array_length(a) - 1, "en", "cancelled");
        json_object_put(a);
        assert_int_equal(
            cw_count(&w, "SELECT count(*) FROM drafts WHERE chat_id = %lld", tb_chat(chat)), 0);
    }
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 0);
    cw_command(&w, 7400, "en", "/cancel");
    struct json_object *a = cw_expect(&w, "sendMessage");
    cw_expect_text(a, 0, "en", "nothing_to_cancel");
    json_object_put(a);
    cw_close(&w);
}

/* An idle draft is reminded once, then discarded, and the citizen told each time. */
static void test_conv_expired_draft(void **state)
{
    struct world w;
    cw_open(&w, "expired");
    cw_add_photo(&w, "e1", 31);
    char *body = cw_photo_body("e1", "");
    long long id = cw_say(&w, 7501, "en", body);
    free(body);
    json_object_put(cw_expect(&w, "getFile file sendMessage"));
    free(ts_db_scalar(w.ci, "UPDATE drafts SET updated_at = now() - interval '25 minutes' "
                            "RETURNING 1"));
    cw_wait_sql(&w, "SELECT count(*) FROM drafts WHERE reminded_at IS NOT NULL", 1);
    cw_settle(&w);
    struct json_object *a = cw_expect(&w, "sendMessage");
    cw_expect_text(a, 0, "en", "draft_reminder");
    char want[64];
    snprintf(want, sizeof(want), "\"callback_data\":\"%lld:send\"", id);
    cw_expect_has(a, 0, "reply_markup", want);
    json_object_put(a);
    tl_sleep_ms(400, NULL); /* a second pass: no second reminder */
    assert_int_equal(fakebot_count(w.fb, "sendMessage"), 0);

    free(ts_db_scalar(w.ci, "UPDATE drafts SET expires_at = now() - interval '1 second' "
                            "RETURNING 1"));
    cw_wait_sql(&w, "SELECT (count(*) = 0)::int FROM drafts", 1);
    cw_settle(&w);
    a = cw_expect(&w, "sendMessage");
    cw_expect_text(a, 0, "en", "draft_expired");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM draft_media"), 0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 0);
    /* the expired draft's buttons are stale now */
    char data[32];
    snprintf(data, sizeof(data), "%lld:send", id);
    cw_press(&w, 7501, 1, data);
    a = cw_expect(&w, "answerCallbackQuery");
    cw_expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    cw_close(&w);
}

/* The bot stops mid-flow and starts again: the same draft goes on where it was. */
static void test_conv_restart_resumes(void **state)
{
    struct world w;
    cw_open(&w, "restart");
    cw_command(&w, 7601, "en", "/report");
    cw_press_draft(&w, 7601, "c:shelling");
    long long id = cw_draft_id(&w, 7601);
    tb_stop();
    json_object_put(cw_calls(&w, (char[2048]){0}, 2048));
    cw_start_runtime(&w.c, w.fb);
    cw_say_text(&w, 7601, "en", "50.4501, 30.5234");
    struct json_object *a = cw_expect(&w, "sendMessage sendMessage");
    cw_expect_text(a, 0, "en", "location_saved");
    cw_expect_text(a, 1, "en", "ask_media");
    json_object_put(a);
    assert_int_equal(cw_draft_id(&w, 7601), id);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM drafts WHERE state->>'cat' = 'shelling' AND "
                              "state->>'step' = 'media' AND state->'pt'->>'src' = 'text'"),
                     1);
    cw_close(&w);
}

/* A button of a draft already sent, or of an earlier step: a polite answer, nothing
 * else sent, nothing written. */
static void test_conv_stale_callback(void **state)
{
    struct world w;
    cw_open(&w, "stale");
    long long id = cw_say_text(&w, 7701, "en", "helicopter low over the river");
    long long kb = cw_prompt_mid(&w, 7701);
    json_object_put(cw_expect(&w, "sendMessage"));
    char data[64];
    snprintf(data, sizeof(data), "%lld:send", id);
    cw_press(&w, 7701, kb, data);
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText"));
    cw_press(&w, 7701, kb, data); /* pressed again */
    struct json_object *a = cw_expect(&w, "answerCallbackQuery");
    cw_expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 1);

    /* a category button while the draft waits for the place */
    cw_command(&w, 7701, "en", "/report");
    long long cat_kb = cw_prompt_mid(&w, 7701);
    cw_press_draft(&w, 7701, "c:other");
    json_object_put(cw_calls(&w, (char[2048]){0}, 2048));
    snprintf(data, sizeof(data), "%lld:c:drones", cw_draft_id(&w, 7701));
    cw_press(&w, 7701, cat_kb, data);
    a = cw_expect(&w, "answerCallbackQuery");
    cw_expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM drafts WHERE state->>'cat' = 'other'"), 1);
    /* someone else's data on the bot's message */
    cw_press(&w, 7701, cat_kb, "button2_bijoy");
    a = cw_expect(&w, "answerCallbackQuery");
    cw_expect_text(a, 0, "en", "stale_button");
    json_object_put(a);
    cw_close(&w);
}

/* Edits: before sending they change the draft; after sending they become an addendum.
 * A live location's updates move the draft's point until it is sent. */
static void test_conv_edits(void **state)
{
    struct world w;
    cw_open(&w, "edits");
    long long mid = w.next_mid;
    cw_say_text(&w, 7801, "en", "two tanks");
    char *j = tl_asprintf("{\"edited_message\":{\"message_id\":%lld,\"date\":1,\"edit_date\":2,"
                          "\"chat\":{\"id\":7801,\"type\":\"private\"},\"from\":{\"id\":7801,"
                          "\"is_bot\":false,\"first_name\":\"E\"},\"text\":\"three tanks\"}}",
                          mid);
    assert_true(fakebot_push_update(w.fb, j) > 0);
    free(j);
    cw_settle(&w);
    long long live = w.next_mid;
    cw_say(&w, 7801, "en",
           "\"location\":{\"latitude\":49.1,\"longitude\":37.1,\"live_period\":900}");
    j = tl_asprintf("{\"edited_message\":{\"message_id\":%lld,\"date\":1,\"edit_date\":3,\"chat\":"
                    "{\"id\":7801,\"type\":\"private\"},\"from\":{\"id\":7801,\"is_bot\":false,"
                    "\"first_name\":\"E\"},\"location\":{\"latitude\":49.2,\"longitude\":37.3,"
                    "\"live_period\":900,\"heading\":180}}}",
                    live);
    assert_true(fakebot_push_update(w.fb, j) > 0);
    free(j);
    cw_settle(&w);
    json_object_put(cw_calls(&w, (char[2048]){0}, 2048));
    cw_press_draft(&w, 7801, "send");
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE text = 'three tanks' AND "
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
    cw_settle(&w);
    struct json_object *a = cw_expect(&w, "sendMessage");
    cw_expect_has(a, 0, "text", "correction was added to report TL-");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM report_addenda a JOIN reports r ON r.id = "
                                  "a.report_id WHERE a.text = 'three tanks, one burning' AND "
                                  "r.text = 'three tanks'"),
                     1);
    cw_close(&w);
}

/* A forwarded message: the report says the source is not the citizen. The forward_origin
 * comes from the real payload 07 when ../shared is there. */
static void test_conv_forwarded(void **state)
{
    struct world w;
    cw_open(&w, "forwarded");
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
    long long id = cw_say(&w, 7901, "en", body);
    free(body);
    free(origin);
    struct json_object *a = cw_expect(&w, "sendMessage");
    cw_expect_has(a, 0, "text", "Still missing: the place");
    json_object_put(a);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM drafts WHERE (state->>'fwd')::boolean AND "
                              "(state->>'id')::bigint = %lld",
                              id),
                     1);
    cw_press_draft(&w, 7901, "send");
    json_object_put(cw_expect(&w, "answerCallbackQuery editMessageText"));
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports WHERE forwarded AND text = 'convoy "
                                  "on the M03'"),
                     1);
    cw_close(&w);
}

/* Groups: one polite pointer to the private chat, once, and nothing kept of them. */
static void test_conv_group(void **state)
{
    struct world w;
    cw_open(&w, "group");
    for (int i = 0; i < 2; i++) {
        char *j = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":-100777,"
                              "\"type\":\"supergroup\",\"title\":\"G\"},\"from\":{\"id\":55,"
                              "\"is_bot\":false,\"first_name\":\"G\",\"language_code\":\"en\"},"
                              "\"text\":\"tanks here\"}}",
                              i + 1);
        assert_true(fakebot_push_update(w.fb, j) > 0);
        free(j);
        cw_settle(&w);
    }
    struct json_object *a = cw_expect(&w, "sendMessage");
    cw_expect_text(a, 0, "en", "private_only");
    assert_int_equal(atoll(cw_param(a, 0, "chat_id")), -100777);
    json_object_put(a);
    assert_int_equal(
        cw_count(&w, "SELECT count(*) FROM conv_notices WHERE chat_id = %lld", tb_chat(-100777)),
        1);
    /* the group's reply path (its id sealed, for the notice), and no reporter */
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM chats WHERE reporter IS NULL AND "
                                  "chat_sealed IS NOT NULL"),
                     1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM chats"), 1);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 0);
    cw_close(&w);
}

/* "Clear this chat": the citizen's message and the bot's are deleted; what cannot be
 * (older than Telegram allows) is counted and said. */
static void test_conv_clear_chat(void **state)
{
    struct world w;
    cw_open(&w, "clear");
    long long mid = w.next_mid;
    cw_say_text(&w, 8001, "en", "artillery fire from the north");
    long long kb = cw_prompt_mid(&w, 8001);
    cw_press_draft(&w, 8001, "send");
    char *ref = ts_db_scalar(w.ci, "SELECT public_ref FROM reports");
    json_object_put(cw_calls(&w, (char[2048]){0}, 2048));
    char data[32];
    snprintf(data, sizeof(data), "x:%s", ref);
    cw_press(&w, 8001, kb, data);
    struct json_object *a =
        cw_expect(&w, "answerCallbackQuery deleteMessage deleteMessage sendMessage");
    long long d1 = atoll(cw_param(a, 1, "message_id")), d2 = atoll(cw_param(a, 2, "message_id"));
    assert_true((d1 == mid && d2 == kb) || (d1 == kb && d2 == mid));
    cw_expect_has(a, 3, "text", "2 messages");
    json_object_put(a);
    /* later the citizen's message is too old for Telegram (past the 47 hours the bot
     * still tries), yet younger than the 48 hours after which the drafts janitor, every
     * 100 ms here, forgets it: older, it is gone before the press and nothing is said */
    free(ts_db_scalar(w.ci, "UPDATE conv_messages SET at = now() - interval '47 hours 30 "
                            "minutes' WHERE message_id IS NOT NULL RETURNING 1"));
    cw_press(&w, 8001, kb, data);
    a = cw_expect(&w, "answerCallbackQuery deleteMessage sendMessage");
    cw_expect_has(a, 2, "text", "could not be deleted");
    json_object_put(a);
    /* another reporter's reference clears nothing */
    cw_press(&w, 8002, 1, data);
    a = cw_expect(&w, "answerCallbackQuery");
    cw_expect_text(a, 0, "uk", "clear_unknown"); /* a stranger: no language known, Ukrainian */
    json_object_put(a);
    free(ref);
    cw_close(&w);
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
    cw_open(&w, "shared");
    char *text = ts_read_file(p_text, NULL);
    struct json_object *u = json_tokener_parse(text), *msg, *chat, *id;
    free(text);
    assert_true(json_object_object_get_ex(u, "message", &msg));
    assert_true(json_object_object_get_ex(msg, "chat", &chat));
    assert_true(json_object_object_get_ex(chat, "id", &id));
    long long chat_id = json_object_get_int64(id);
    assert_true(fakebot_push_update(w.fb, json_object_to_json_string(u)) > 0);
    json_object_put(u);
    cw_settle(&w);
    json_object_put(cw_expect(&w, "sendMessage"));
    long long did = cw_draft_id(&w, chat_id);

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
    json_object_object_add(qm, "message_id", json_object_new_int64(cw_prompt_mid(&w, chat_id)));
    char data[48];
    snprintf(data, sizeof(data), "%lld:send", did);
    json_object_object_add(q, "data", json_object_new_string(data));
    assert_true(fakebot_push_update(w.fb, json_object_to_json_string(u)) > 0);
    json_object_put(u);
    cw_settle(&w);
    struct json_object *a = cw_expect(&w, "answerCallbackQuery editMessageText");
    cw_expect_has(a, 0, "callback_query_id", "4278655576057498272");
    json_object_put(a);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM reports"), 1);

    /* the album photo: fetched, stripped, kept with a new draft of its chat */
    cw_add_photo(&w,
                 "AgACAgIAAxkBAAMEZCiCg7A1qAABECDXqbjnqtId777bAAIFyDEbLKhISVFwzRK8kZMNAQADAgADeQA"
                 "DLwQ",
                 41);
    text = ts_read_file(p_photo, NULL);
    assert_true(fakebot_push_update(w.fb, text) > 0);
    free(text);
    cw_settle(&w);
    a = cw_expect(&w, "getFile file sendMessage");
    cw_expect_has(a, 2, "text", "photos: 1");
    json_object_put(a);
    assert_int_equal(cw_count(&w,
                              "SELECT count(*) FROM drafts WHERE chat_id = %lld AND "
                              "state->>'mgid' = '13443011608618786'",
                              tb_chat(86815320)),
                     1);
    char *p_live = ts_shared_path("telegram/SYNTH_05b_update_edited_live_location.json");
    if (p_live) { /* a live-location tick for a message not in the draft changes nothing */
        text = ts_read_file(p_live, NULL);
        assert_true(fakebot_push_update(w.fb, text) > 0);
        free(text);
        cw_settle(&w);
        json_object_put(cw_expect(&w, ""));
        assert_int_equal(cw_count(&w, "SELECT count(*) FROM drafts WHERE state ? 'pt'"), 0);
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
        cw_settle(&w);
        json_object_put(cw_expect(&w, ""));
    }
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM drafts WHERE chat_id IN (%lld, %lld)",
                              tb_chat(1089734), tb_chat(-1001160242915)),
                     0);
    assert_int_equal(cw_count(&w, "SELECT count(*) FROM conv_notices"), 0);
    free(p_text);
    free(p_cb);
    free(p_photo);
    cw_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_guided_uk, tb_teardown),
        cmocka_unit_test_teardown(test_conv_guided_en, tb_teardown),
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
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    failed += test_conv_media_group();
    return failed ? 1 : 0;
}
