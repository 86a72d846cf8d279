/* tests/test_conv_parse.c - the conversation's pure parts on plain data: callback
 * data, typed times and directions, Telegram's UTF-16 lengths, the draft's JSON, and
 * decisions that the integration test does not reach (the Edit menu, auto-clear on
 * Send, a message longer than Telegram allows, a configured category list). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tz.h"
#include "common/util.h"
#include "bot/tg.h"
#include "handlers/hdl.h"

static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef";

static void test_conv_parse_callback_data(void **state)
{
    static const struct {
        const char *data;
        int ok;
        enum hdl_cb_act act;
        long long draft;
        const char *arg;
    } cases[] = {
        {"123:c:troops", 1, HDL_CB_CATEGORY, 123, "troops"},
        {"9:send", 1, HDL_CB_SEND, 9, ""},
        {"9:w:30", 1, HDL_CB_WHEN, 9, "30"},
        {"9:d:skip", 1, HDL_CB_DIRECTION, 9, "skip"},
        {"9:e:4", 1, HDL_CB_EDIT_STEP, 9, "4"},
        {"L:en", 1, HDL_CB_LANG, 0, "en"},
        {"x:TL-ABC123", 1, HDL_CB_CLEAR, 0, "TL-ABC123"},
        {"L:ru", 0, 0, 0, ""},
        {"9:send:now", 0, 0, 0, ""}, /* no argument expected */
        {"9:c", 0, 0, 0, ""},        /* argument missing */
        {"0:send", 0, 0, 0, ""},     /* no draft 0 */
        {"-1:send", 0, 0, 0, ""},
        {"9:c:a b", 0, 0, 0, ""}, /* spaces are not ours */
        {"9:c:x:y", 0, 0, 0, ""},
        {"button2_bijoy", 0, 0, 0, ""}, /* another bot's data (shared payload 06) */
        {"", 0, 0, 0, ""},
        {"1234567890123456789:send", 0, 0, 0, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hdl_cb c;
        int rc = hdl_cb_parse(cases[i].data, &c);
        if (!cases[i].ok) {
            assert_int_equal(rc, TL_EPARSE);
            continue;
        }
        assert_int_equal(rc, TL_OK);
        assert_int_equal(c.act, cases[i].act);
        assert_true(c.draft_id == cases[i].draft);
        assert_string_equal(c.arg, cases[i].arg);
    }
    struct hdl_cb c;
    assert_int_equal(hdl_cb_parse(NULL, &c), TL_EPARSE);
}

static struct tl_tz *kyiv_zone(void)
{
    struct tl_tz *tz = NULL;
    struct tl_errinfo ei;
    if (tl_tz_load("Europe/Kyiv", &tz, &ei) != TL_OK)
        fail_msg("Europe/Kyiv: %s (tzdata)", ei.msg);
    return tz;
}

static void test_conv_parse_when(void **state)
{
    /* 2026-11-26 10:00:00 UTC = 12:00 in Kyiv (EET, +2) */
    const double now = 1795687200;
    struct tl_tz *kyiv = kyiv_zone();
    static const struct {
        const char *text;
        int ok;
        double ago_s;
    } cases[] = {
        {"now", 1, 0},
        {"щойно", 1, 0},
        {"45", 1, 45 * 60},
        {"45 min", 1, 45 * 60},
        {"45 хв", 1, 45 * 60},
        {"2 h", 1, 2 * 3600},
        {"2 год", 1, 2 * 3600},
        {"11:30", 1, 30 * 60},    /* today, local clock */
        {"12:03", 1, 0 - 3 * 60}, /* a moment just ahead is today (clock skew) */
        {"13:00", 1, 23 * 3600},  /* later than now: yesterday */
        {"11.15", 1, 45 * 60},
        {"24:00", 0, 0},
        {"11:7", 0, 0},
        {"yesterday", 0, 0},
        {"99999", 0, 0},
        {"20000 min", 0, 0}, /* more than a week */
        {"", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double at = -1;
        int rc = hdl_parse_when(cases[i].text, now, kyiv, &at);
        if (!cases[i].ok) {
            assert_int_equal(rc, TL_EPARSE);
            continue;
        }
        assert_int_equal(rc, TL_OK);
        if (fabs(now - at - cases[i].ago_s) > 1e-6)
            fail_msg("\"%s\": %.0f s ago, want %.0f", cases[i].text, now - at, cases[i].ago_s);
    }
    tl_tz_free(kyiv);
}

/* "14:30" typed in Kyiv: summer time (EEST, UTC+3) and winter time (EET, UTC+2), the
 * hour the clocks go back (shown twice: the first), the hour they skip (read with the
 * winter offset), a year past the zone file's transitions (its footer rule), and the
 * day before when the time is still ahead. */
static void test_conv_parse_when_time_zone(void **state)
{
    static const struct {
        const char *now, *text, *want;
    } cases[] = {
        {"2026-07-15T15:00:00Z", "14:30", "2026-07-15T11:30:00Z"},
        {"2026-01-15T15:00:00Z", "14:30", "2026-01-15T12:30:00Z"},
        {"2026-07-15T10:00:00Z", "14:30", "2026-07-14T11:30:00Z"}, /* 13:00 there: yesterday */
        /* 25 Oct 2026: 04:00 EEST (01:00Z) becomes 03:00 EET; 03:30 happens at 00:30Z and
         * again at 01:30Z */
        {"2026-10-25T02:00:00Z", "03:30", "2026-10-25T00:30:00Z"},
        {"2026-10-25T02:00:00Z", "02:59", "2026-10-24T23:59:00Z"},
        {"2026-10-25T02:00:00Z", "04:00", "2026-10-25T02:00:00Z"},
        /* 29 Mar 2026: 03:00 EET (01:00Z) becomes 04:00 EEST; 03:30 never shows */
        {"2026-03-29T03:00:00Z", "03:30", "2026-03-29T01:30:00Z"},
        {"2026-03-29T03:00:00Z", "02:59", "2026-03-29T00:59:00Z"},
        {"2026-03-29T03:00:00Z", "04:00", "2026-03-29T01:00:00Z"},
        {"2040-07-15T15:00:00Z", "14:30", "2040-07-15T11:30:00Z"},
        {"2040-12-15T15:00:00Z", "14:30", "2040-12-15T12:30:00Z"},
    };
    struct tl_tz *kyiv = kyiv_zone();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm tm = {0};
        assert_non_null(strptime(cases[i].now, "%Y-%m-%dT%H:%M:%SZ", &tm));
        double now = (double)timegm(&tm), at = 0;
        assert_int_equal(hdl_parse_when(cases[i].text, now, kyiv, &at), TL_OK);
        time_t t = (time_t)at;
        char got[32];
        strftime(got, sizeof(got), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("\"%s\" at %s: %s, want %s", cases[i].text, cases[i].now, got, cases[i].want);
    }
    tl_tz_free(kyiv);
}

static void test_conv_parse_bearing(void **state)
{
    static const struct {
        const char *text;
        int ok;
        double deg;
    } cases[] = {
        {"N", 1, 0},       {"nw", 1, 315},  {"North-East", 1, 45},
        {"пн-зх", 1, 315}, {"схід", 1, 90}, {"південний захід", 1, 225},
        {"↘", 1, 135},     {"300", 1, 300}, {"300°", 1, 300},
        {"360", 1, 0},     {"361", 0, 0},   {"up", 0, 0},
        {"", 0, 0},        {"12abc", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double d = -1;
        int rc = hdl_parse_bearing(cases[i].text, &d);
        assert_int_equal(rc, cases[i].ok ? TL_OK : TL_EPARSE);
        if (cases[i].ok && d != cases[i].deg)
            fail_msg("\"%s\": %g, want %g", cases[i].text, d, cases[i].deg);
    }
}

/* Telegram counts UTF-16 code units: Cyrillic 1, an emoji outside the BMP 2. */
static void test_conv_parse_utf16(void **state)
{
    assert_int_equal(hdl_utf16_len("abc"), 3);
    assert_int_equal(hdl_utf16_len("Київ"), 4); /* 8 bytes */
    assert_int_equal(hdl_utf16_len("🚜"), 2);    /* 4 bytes */
    assert_int_equal(hdl_utf16_len("a🚜b"), 4);
    assert_int_equal(hdl_utf16_len("\xff"), 1); /* a stray byte counts once */
    /* a prefix never cuts a code point, nor an emoji's surrogate pair */
    assert_int_equal(hdl_utf16_prefix("a🚜b", 1), 1);
    assert_int_equal(hdl_utf16_prefix("a🚜b", 2), 1);
    assert_int_equal(hdl_utf16_prefix("a🚜b", 3), 5);
    assert_int_equal(hdl_utf16_prefix("Київ", 2), 4);
    assert_int_equal(hdl_utf16_prefix("abc", 10), 3);
}

static void test_conv_parse_draft_json(void **state)
{
    struct hdl_draft d = {.id = 77,
                          .step = HDL_STEP_DIRECTION,
                          .guided = 1,
                          .lang = "en",
                          .has_point = 1,
                          .lat = 50.5,
                          .lon = 30.25,
                          .accuracy_m = 12,
                          .live_msg_id = 9,
                          .has_bearing = 1,
                          .bearing = 270,
                          .observed_at = 1700000000,
                          .sent_at = 1700000100,
                          .forwarded = 1,
                          .n_media = 3,
                          .has_photo_gps = 1,
                          .photo_lat = 49,
                          .photo_lon = 36,
                          .po = 1234};
    tl_strlcpy(d.point_source, "text", sizeof(d.point_source));
    d.category = tl_strdup("drones");
    d.media_group_id = tl_strdup("135");
    d.flags = tl_strdup("place_ambiguous");
    d.places = tl_strdup("[{\"name\":\"Lyman\",\"lat\":48.98616}]");
    d.msgs[0] = (struct hdl_draft_msg){5, tl_strdup("два дрони 🛸")};
    d.msgs[1] = (struct hdl_draft_msg){6, NULL};
    d.n_msgs = 2;
    char *j = hdl_draft_to_json(&d);
    assert_non_null(j);
    struct hdl_draft b;
    assert_int_equal(hdl_draft_from_json(j, &b), TL_OK);
    assert_true(b.id == 77 && b.step == HDL_STEP_DIRECTION && b.guided && !b.editing);
    assert_string_equal(b.lang, "en");
    assert_string_equal(b.category, "drones");
    assert_true(b.has_point && b.lat == 50.5 && b.lon == 30.25 && b.accuracy_m == 12);
    assert_string_equal(b.point_source, "text");
    assert_true(b.live_msg_id == 9 && b.has_bearing && b.bearing == 270);
    assert_true(b.observed_at == 1700000000 && b.sent_at == 1700000100 && b.forwarded);
    assert_string_equal(b.media_group_id, "135");
    assert_true(b.n_media == 3 && b.has_photo_gps && b.photo_lat == 49);
    assert_true(b.po == 0); /* storage's to write, never the decision's */
    assert_null(strstr(j, "\"po\""));
    assert_string_equal(b.flags, "place_ambiguous");
    assert_string_equal(b.places, "[{\"name\":\"Lyman\",\"lat\":48.98616}]");
    struct hdl_draft c;
    assert_int_equal(hdl_draft_copy(&b, &c), TL_OK);
    assert_string_equal(c.places, b.places);
    assert_true(c.places != b.places);
    hdl_draft_release(&c);
    assert_int_equal(b.n_msgs, 2);
    assert_string_equal(b.msgs[0].text, "два дрони 🛸");
    assert_null(b.msgs[1].text);
    hdl_draft_release(&b);
    hdl_draft_release(&d);
    free(j);
    assert_int_equal(hdl_draft_from_json("[1]", &b), TL_EPARSE);
    assert_int_equal(hdl_draft_from_json("{", &b), TL_EPARSE);
}

static void parse(const char *json, struct tg_update *u)
{
    assert_int_equal(tg_update_parse(json, strlen(json), u), TL_OK);
}

static void callback(long long draft, const char *act, struct tg_update *u)
{
    char *j = tl_asprintf("{\"update_id\":50,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":"
                          "4242,\"is_bot\":false,\"first_name\":\"A\"},\"chat_instance\":\"1\","
                          "\"data\":\"%lld:%s\",\"message\":{\"message_id\":77,\"date\":1,"
                          "\"chat\":{\"id\":4242,\"type\":\"private\"}}}}",
                          draft, act);
    parse(j, u);
    free(j);
}

static const char *param(const struct hdl_plan *p, size_t i, const char *key, char *buf, size_t cap)
{
    assert_true(i < p->n_out);
    struct json_object *o = json_tokener_parse(p->out[i].params_json), *v;
    buf[0] = 0;
    if (json_object_object_get_ex(o, key, &v))
        tl_strlcpy(buf, json_object_get_string(v), cap);
    json_object_put(o);
    return buf;
}

/* The summary's Edit: the menu in place, a field chosen, answered, back to the summary. */
static void test_conv_parse_edit_menu(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    struct hdl_draft d = {.id = 9, .step = HDL_STEP_SUMMARY, .guided = 1, .lang = "en"};
    d.category = tl_strdup("other");
    struct hdl_conv cv = {.draft = &d, .now = 1700000000};
    struct tg_update u;
    struct hdl_plan p;
    char buf[4096];
    callback(9, "edit", &u);
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 2);
    assert_string_equal(p.out[1].method, "editMessageText");
    assert_non_null(strstr(p.out[1].params_json, "\"9:e:4\"")); /* Time */
    assert_int_equal(p.draft.step, HDL_STEP_EDIT);
    struct hdl_draft d2;
    assert_int_equal(hdl_draft_copy(&p.draft, &d2), TL_OK);
    hdl_plan_release(&p);
    tg_update_release(&u);

    cv.draft = &d2;
    callback(9, "e:4", &u);
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.draft.step, HDL_STEP_WHEN);
    assert_int_equal(p.draft.editing, 1);
    char *want = hdl_text("en", "ask_when", (char *)NULL);
    assert_string_equal(param(&p, 1, "text", buf, sizeof(buf)), want);
    free(want);
    struct hdl_draft d3;
    assert_int_equal(hdl_draft_copy(&p.draft, &d3), TL_OK);
    hdl_plan_release(&p);
    tg_update_release(&u);

    /* answering an edited step returns to the summary (not to the next step) */
    cv.draft = &d3;
    callback(9, "w:60", &u);
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.draft.step, HDL_STEP_SUMMARY);
    assert_true(fabs(p.draft.observed_at - (1700000000 - 3600)) < 1e-6);
    assert_non_null(strstr(param(&p, 1, "text", buf, sizeof(buf)), "Check your report"));
    hdl_plan_release(&p);
    tg_update_release(&u);
    hdl_draft_release(&d);
    hdl_draft_release(&d2);
    hdl_draft_release(&d3);
}

/* The summary shows the time on the citizens' clock: 11:30Z is 14:30 in July (EEST),
 * 12:30Z is 14:30 in January (EET). */
static void test_conv_parse_summary_time_zone(void **state)
{
    static const struct {
        double now;
        const char *shown;
    } cases[] = {{1784115000, "14:30 15.07"}, {1768480200, "14:30 15.01"}};
    struct tl_tz *kyiv = kyiv_zone();
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    ctx.tz = kyiv;
    char buf[4096];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hdl_draft d = {
            .id = 9, .step = HDL_STEP_WHEN, .guided = 1, .editing = 1, .lang = "en"};
        d.category = tl_strdup("other");
        struct hdl_conv cv = {.draft = &d, .now = cases[i].now};
        struct tg_update u;
        struct hdl_plan p;
        callback(9, "w:0", &u);
        assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
        assert_int_equal(p.draft.step, HDL_STEP_SUMMARY);
        const char *text = param(&p, 1, "text", buf, sizeof(buf));
        if (!strstr(text, cases[i].shown))
            fail_msg("summary without \"%s\": %s", cases[i].shown, text);
        hdl_plan_release(&p);
        tg_update_release(&u);
        hdl_draft_release(&d);
    }
    tl_tz_free(kyiv);
}

/* auto_clear_chat: Send deletes the draft's messages the runtime looked up and leaves
 * only the reference. */
static void test_conv_parse_auto_clear(void **state)
{
    struct hdl_ctx ctx = {
        .secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20, .auto_clear_chat = 1};
    struct hdl_draft d = {.id = 9, .step = HDL_STEP_QUICK, .lang = "en"};
    struct tg_update u;
    callback(9, "send", &u);
    struct hdl_conv cv = {.draft = &d};
    struct store_conv_lookup lk;
    char pseud[65];
    hdl_lookup_wanted(&ctx, &cv, &u, &lk, pseud);
    assert_true(lk.clear_draft_id == 9); /* the runtime is asked for the draft's messages */
    long long ids[2] = {11, 12};
    lk.del_ids = ids;
    lk.n_del = 2;
    cv.lk = &lk;
    struct hdl_plan p;
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_non_null(p.fx.report);
    assert_int_equal(p.n_out, 5);
    static const char *const want[] = {"answerCallbackQuery", "deleteMessage", "deleteMessage",
                                       "deleteMessage", "sendMessage"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(p.out[i].method, want[i]);
    char buf[256];
    assert_string_equal(param(&p, 1, "message_id", buf, sizeof(buf)), "11");
    assert_string_equal(param(&p, 3, "message_id", buf, sizeof(buf)), "77"); /* the keyboard */
    assert_non_null(strstr(param(&p, 4, "text", buf, sizeof(buf)), p.ref));
    assert_int_equal(p.out[4].track, 0); /* the reference stays */
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* A description longer than a Telegram message: the summary is cut on a code point
 * boundary within 4096 UTF-16 units; a long help text would be split, never cut. */
static void test_conv_parse_long_text(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    struct hdl_draft d = {.id = 9, .step = HDL_STEP_DESCRIPTION, .guided = 1, .lang = "uk"};
    struct tl_buf b;
    tl_buf_init(&b, 0);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(tl_buf_append(&b, "🚜ї", strlen("🚜ї")), TL_OK); /* 3 units each */
    struct json_object *t = json_object_new_string((const char *)b.data);
    char *j = tl_asprintf("{\"update_id\":60,\"message\":{\"message_id\":8,\"date\":1,\"chat\":{"
                          "\"id\":4242,\"type\":\"private\"},\"from\":{\"id\":4242,\"is_bot\":"
                          "false,\"first_name\":\"A\"},\"text\":%s}}",
                          json_object_to_json_string(t));
    json_object_put(t);
    tl_buf_release(&b);
    struct tg_update u;
    parse(j, &u);
    free(j);
    struct hdl_conv cv = {.draft = &d};
    struct hdl_plan p;
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.draft.step, HDL_STEP_SUMMARY);
    assert_int_equal(p.n_out, 1);
    static char buf[40000];
    param(&p, 0, "text", buf, sizeof(buf));
    assert_true(hdl_utf16_len(buf) <= HDL_TG_TEXT_MAX);
    assert_non_null(strstr(buf, "…"));
    assert_int_equal(hdl_utf16_prefix(buf, HDL_TG_TEXT_MAX), strlen(buf));
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* A configured category list is the keyboard; a button outside it changes nothing. */
static void test_conv_parse_categories_configured(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET,
                          .secret_len = 32,
                          .max_photo_bytes = 1 << 20,
                          .categories = "vehicles,fires",
                          .moving_categories = "vehicles"};
    struct tg_update u;
    parse("{\"update_id\":70,\"message\":{\"message_id\":8,\"date\":1,\"chat\":{\"id\":4242,"
          "\"type\":\"private\"},\"from\":{\"id\":4242,\"is_bot\":false,\"first_name\":\"A\","
          "\"language_code\":\"en\"},\"text\":\"/report\",\"entities\":[{\"type\":\"bot_command\","
          "\"offset\":0,\"length\":7}]}}",
          &u);
    struct hdl_plan p;
    assert_int_equal(hdl_decide(&ctx, NULL, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 1);
    assert_non_null(strstr(p.out[0].params_json, "\"70:c:vehicles\""));
    assert_non_null(strstr(p.out[0].params_json, "\"text\":\"fires\"")); /* no label: the id */
    assert_null(strstr(p.out[0].params_json, "troops"));
    hdl_plan_release(&p);
    tg_update_release(&u);

    struct hdl_draft d = {.id = 70, .step = HDL_STEP_CATEGORY, .guided = 1, .lang = "en"};
    struct hdl_conv cv = {.draft = &d};
    callback(70, "c:troops", &u);
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_null(p.draft.category);
    assert_int_equal(p.n_out, 1); /* answered, nothing else */
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* Added to a group: one pointer to the private chat, recorded so it is said once. */
static void test_conv_parse_added_to_group(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    struct tg_update u;
    parse("{\"update_id\":80,\"my_chat_member\":{\"chat\":{\"id\":-500,\"type\":\"group\","
          "\"title\":\"G\"},\"from\":{\"id\":7,\"is_bot\":false,\"first_name\":\"A\"},"
          "\"date\":1,\"old_chat_member\":{\"user\":{\"id\":1,\"is_bot\":true,\"first_name\":"
          "\"b\"},\"status\":\"left\"},\"new_chat_member\":{\"user\":{\"id\":1,\"is_bot\":"
          "true,\"first_name\":\"b\"},\"status\":\"member\"}}}",
          &u);
    struct hdl_plan p;
    assert_int_equal(hdl_decide(&ctx, NULL, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 1);
    assert_true(p.out[0].chat_id == -500);
    assert_int_equal(p.cx.notice, 1);
    assert_true(p.fx.chat_id == 0); /* a group is no reporter's reply path */
    hdl_plan_release(&p);
    struct hdl_conv told = {.notice_sent = 1};
    assert_int_equal(hdl_decide(&ctx, &told, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 0);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* /report in the middle of a guided draft shows the step it is at (nothing skipped);
 * in a quick draft it goes on step by step from what is missing. */
static void test_conv_parse_report_resumes(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    struct tg_update u;
    parse("{\"update_id\":90,\"message\":{\"message_id\":8,\"date\":1,\"chat\":{\"id\":4242,"
          "\"type\":\"private\"},\"from\":{\"id\":4242,\"is_bot\":false,\"first_name\":\"A\"},"
          "\"text\":\"/report\",\"entities\":[{\"type\":\"bot_command\",\"offset\":0,"
          "\"length\":7}]}}",
          &u);
    struct hdl_draft d = {.id = 5, .step = HDL_STEP_WHEN, .guided = 1, .lang = "en"};
    struct hdl_conv cv = {.draft = &d};
    struct hdl_plan p;
    char buf[512];
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.draft.step, HDL_STEP_WHEN);
    char *want = hdl_text("en", "ask_when", (char *)NULL);
    assert_string_equal(param(&p, 0, "text", buf, sizeof(buf)), want);
    free(want);
    hdl_plan_release(&p);
    struct hdl_draft q = {.id = 6, .step = HDL_STEP_QUICK, .lang = "en", .has_point = 1};
    tl_strlcpy(q.point_source, "text", sizeof(q.point_source));
    cv.draft = &q;
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.draft.guided, 1);
    assert_int_equal(p.draft.step, HDL_STEP_CATEGORY);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* /lang offers both languages; the choice is stored for the chat (chats.lang) and the
 * keyboard message says it in the new language. */
static void test_conv_parse_lang(void **state)
{
    struct hdl_ctx ctx = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};
    struct tg_update u;
    parse("{\"update_id\":95,\"message\":{\"message_id\":8,\"date\":1,\"chat\":{\"id\":4242,"
          "\"type\":\"private\"},\"from\":{\"id\":4242,\"is_bot\":false,\"first_name\":\"A\"},"
          "\"text\":\"/lang\",\"entities\":[{\"type\":\"bot_command\",\"offset\":0,"
          "\"length\":5}]}}",
          &u);
    struct hdl_conv cv = {.chat_lang = "uk"};
    struct hdl_plan p;
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 1);
    assert_non_null(strstr(p.out[0].params_json, "\"L:en\""));
    assert_non_null(strstr(p.out[0].params_json, "\"L:uk\""));
    assert_null(p.fx.lang); /* a known chat keeps its language until it chooses */
    hdl_plan_release(&p);
    tg_update_release(&u);
    parse("{\"update_id\":96,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":4242,"
          "\"is_bot\":false,\"first_name\":\"A\",\"language_code\":\"uk\"},\"chat_instance\":"
          "\"1\",\"data\":\"L:en\",\"message\":{\"message_id\":9,\"date\":1,\"chat\":{"
          "\"id\":4242,\"type\":\"private\"}}}}",
          &u);
    assert_int_equal(hdl_decide(&ctx, &cv, &u, NULL, &p), TL_OK);
    assert_string_equal(p.fx.lang, "en");
    assert_int_equal(p.n_out, 2);
    assert_string_equal(p.out[1].method, "editMessageText");
    char buf[256];
    char *want = hdl_text("en", "lang_switched", (char *)NULL);
    assert_string_equal(param(&p, 1, "text", buf, sizeof(buf)), want);
    free(want);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_parse_callback_data),
        cmocka_unit_test(test_conv_parse_when),
        cmocka_unit_test(test_conv_parse_when_time_zone),
        cmocka_unit_test(test_conv_parse_summary_time_zone),
        cmocka_unit_test(test_conv_parse_bearing),
        cmocka_unit_test(test_conv_parse_utf16),
        cmocka_unit_test(test_conv_parse_draft_json),
        cmocka_unit_test(test_conv_parse_edit_menu),
        cmocka_unit_test(test_conv_parse_auto_clear),
        cmocka_unit_test(test_conv_parse_long_text),
        cmocka_unit_test(test_conv_parse_categories_configured),
        cmocka_unit_test(test_conv_parse_added_to_group),
        cmocka_unit_test(test_conv_parse_report_resumes),
        cmocka_unit_test(test_conv_parse_lang),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
