/* tests/test_bot_update.c - tg_update_parse and tg_update_chat_key: on every real
 * payload in ../shared/telegram (skipped when absent) and on this file's own
 * fixtures, which cover every field the handlers read. Run from test_bot.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tg.h"
#include "common/util.h"
#include "tests/support/testsupport.h"
#include "common/banned.h"

#include "tests/test_bot.h"

/* Parses text as an Update and checks chat_key agrees with the parsed model. */
static int parse(const char *text, struct tg_update *u)
{
    int rc = tg_update_parse(text, strlen(text), u);
    if (rc == TL_OK) {
        struct json_object *o = json_tokener_parse(text);
        long long key = tg_update_chat_key(o);
        long long want = 0;
        switch (u->kind) {
        case TG_UPD_MESSAGE:
        case TG_UPD_EDITED_MESSAGE:
            want = u->msg.chat_id;
            break;
        case TG_UPD_CALLBACK_QUERY:
            want = u->cb.chat_id ? u->cb.chat_id : u->cb.from_id;
            break;
        case TG_UPD_MY_CHAT_MEMBER:
            want = u->member.chat_id;
            break;
        default:
            break;
        }
        assert_int_equal(key, want);
        json_object_put(o);
    }
    return rc;
}

/* ---- shared fixtures ---- */

/* Wraps a bare Message fixture into an Update. */
static char *as_update(const char *text)
{
    return tl_asprintf("{\"update_id\":1,\"message\":%s}", text);
}

static void check_01(const struct tg_update *u)
{
    assert_int_equal(u->update_id, 934522166);
    assert_int_equal(u->kind, TG_UPD_MESSAGE);
    assert_int_equal(u->msg.chat_id, 927266710);
    assert_int_equal(u->msg.chat_type, TG_CHAT_PRIVATE);
    assert_int_equal(u->msg.from_id, 927266710);
    assert_string_equal(u->msg.language_code, "en");
    assert_string_equal(u->msg.text, "b b b");
    assert_false(u->msg.is_command);
    assert_int_equal(u->msg.date, 1682179716);
}

static void check_01b(const struct tg_update *u)
{
    assert_string_equal(u->msg.text, "just text");
    assert_int_equal(u->msg.chat_id, 86815320);
    assert_int_equal(u->msg.message_id, 8);
}

static void check_01c(const struct tg_update *u)
{
    assert_true(u->msg.is_command);
    assert_string_equal(u->msg.text, "/start YnZiMTIzbWlzY0BnbWFpbC5jb20=");
}

static void check_01d(const struct tg_update *u)
{
    assert_int_equal(u->update_id, 306197398);
    assert_string_equal(u->msg.text, "4");
    assert_int_equal(u->msg.from_is_bot, 0);
}

static void check_02(const struct tg_update *u)
{
    assert_null(u->msg.text);
    assert_string_equal(u->msg.photo.file_unique_id, "AQADBcgxGyyoSEl-");
    assert_int_equal(u->msg.photo.width, 721);
    assert_int_equal(u->msg.photo.height, 1280);
    assert_int_equal(u->msg.photo.file_size, 132533);
    assert_string_equal(u->msg.media_group_id, "13443011608618786");
    assert_null(u->msg.document.file_id);
}

static void check_02b(const struct tg_update *u)
{
    assert_int_equal(u->msg.photo.width, 962);
    assert_int_equal(u->msg.photo.file_size, 75245);
    assert_string_equal(u->msg.photo.file_id,
                        "AgADAgAD36sxG-PX0UvQSXIn9rccdw-ACA4ABAEAAwIAA3kAAyTcBAABFgQ");
}

static void check_02c(const struct tg_update *u)
{
    assert_true(u->msg.has_video);
    assert_null(u->msg.photo.file_id);
    assert_string_equal(u->msg.media_group_id, "12543417770506682");
}

static void check_03(const struct tg_update *u)
{
    assert_true(u->msg.location.present);
    assert_float_equal(u->msg.location.latitude, 26.090577, 1e-9);
    assert_float_equal(u->msg.location.longitude, 127.479471, 1e-9);
    assert_int_equal(u->msg.location.live_period, 0);
    assert_true(u->msg.from_is_bot);
}

static void check_04b(const struct tg_update *u)
{
    assert_string_equal(u->msg.document.file_id, "BQADBQADMwIAAsYifgZ_CEh0u682xwI");
    assert_string_equal(u->msg.document.file_name, "Text File");
    assert_null(u->msg.document.mime_type);
    assert_int_equal(u->msg.document.file_size, 446);
}

static void check_04(const struct tg_update *u)
{
    assert_string_equal(u->msg.document.file_id, "SYNTH-doc-file-id");
    assert_string_equal(u->msg.document.mime_type, "image/jpeg");
    assert_string_equal(u->msg.document.file_name, "IMG_1234.jpg");
    assert_string_equal(u->msg.text, "pothole, Main St");
    assert_null(u->msg.photo.file_id);
}

static void check_05(const struct tg_update *u)
{
    assert_string_equal(u->msg.venue_title, "Title");
    assert_string_equal(u->msg.venue_address, "Address");
    assert_true(u->msg.location.present);
}

static void check_05b(const struct tg_update *u)
{
    assert_int_equal(u->kind, TG_UPD_EDITED_MESSAGE);
    assert_int_equal(u->msg.edit_date, 1680380160);
    assert_int_equal(u->msg.location.live_period, 900);
    assert_int_equal(u->msg.location.heading, 90);
    assert_float_equal(u->msg.location.horizontal_accuracy, 14.2, 1e-9);
    assert_float_equal(u->msg.location.latitude, 55.755826, 1e-9);
}

static void check_06(const struct tg_update *u)
{
    assert_int_equal(u->kind, TG_UPD_CALLBACK_QUERY);
    assert_string_equal(u->cb.id, "4278655576057498272");
    assert_string_equal(u->cb.data, "button2_bijoy");
    assert_int_equal(u->cb.chat_id, 996202131);
    assert_int_equal(u->cb.message_id, 60);
    assert_int_equal(u->cb.from_id, 996202131);
    assert_string_equal(u->cb.language_code, "en");
}

static void check_07(const struct tg_update *u)
{
    assert_true(u->msg.forwarded);
    assert_int_equal(u->msg.chat_type, TG_CHAT_SUPERGROUP);
    assert_int_equal(u->msg.chat_id, -1001160242915LL);
}

static void check_08(const struct tg_update *u)
{
    assert_int_equal(u->kind, TG_UPD_MY_CHAT_MEMBER);
    assert_string_equal(u->member.old_status, "member");
    assert_string_equal(u->member.new_status, "kicked");
    assert_int_equal(u->member.chat_type, TG_CHAT_PRIVATE);
}

static void check_09(const struct tg_update *u)
{
    assert_int_equal(u->kind, TG_UPD_MY_CHAT_MEMBER);
    assert_int_equal(u->member.chat_id, -1002025237232LL);
    assert_int_equal(u->member.chat_type, TG_CHAT_CHANNEL);
    assert_int_equal(u->member.from_id, 399749369);
    assert_string_equal(u->member.old_status, "left");
    assert_string_equal(u->member.new_status, "administrator");
}

static void check_10(const struct tg_update *u)
{
    if (u->kind == TG_UPD_MESSAGE)
        assert_true(u->msg.text != NULL || u->msg.photo.file_id != NULL);
    else
        assert_int_equal(u->kind, TG_UPD_CALLBACK_QUERY);
    if (u->kind == TG_UPD_CALLBACK_QUERY)
        assert_string_equal(u->cb.data, "button2_bijoy");
}

static void check_02d(const struct tg_update *u)
{
    assert_string_equal(u->msg.media_group_id, "13443011608618786");
    assert_non_null(u->msg.photo.file_id);
}

struct shared_case {
    const char *file;
    int shape; /* 0 Update, 1 Message, 2 envelope, 3 error envelope (must not parse) */
    size_t n;  /* updates expected in an envelope */
    void (*check)(const struct tg_update *u);
};

static const struct shared_case shared_cases[] = {
    {"01_update_text_message.json", 0, 1, check_01},
    {"01b_update_text_plain.json", 0, 1, check_01b},
    {"01c_update_start_command.json", 0, 1, check_01c},
    {"01d_update_text_teloxide.json", 0, 1, check_01d},
    {"02_update_photo_in_media_group.json", 0, 1, check_02},
    {"02b_message_photo_sizes_teloxide.json", 1, 1, check_02b},
    {"02c_message_media_group_video_teloxide.json", 1, 1, check_02c},
    {"SYNTH_02d_getUpdates_media_group_two_photos.json", 2, 2, check_02d},
    {"03_message_location.json", 1, 1, check_03},
    {"04b_message_document_textfile.json", 1, 1, check_04b},
    {"SYNTH_04_update_document_jpeg.json", 0, 1, check_04},
    {"05_message_venue_live_location.json", 1, 1, check_05},
    {"SYNTH_05b_update_edited_live_location.json", 0, 1, check_05b},
    {"06_update_callback_query.json", 0, 1, check_06},
    {"07_message_forward_origin_chat.json", 1, 1, check_07},
    {"08_update_my_chat_member_kicked.json", 0, 1, check_08},
    {"09_getUpdates_envelope_my_chat_member_channel_admin.json", 2, 1, check_09},
    {"10_getUpdates_envelope_assembled.json", 2, 3, check_10},
    {"10b_getUpdates_envelope_empty.json", 2, 0, NULL},
    {"11_error_401_unauthorized.json", 3, 0, NULL},
    {"12_error_409_conflict_getupdates.json", 3, 0, NULL},
    {"12b_error_409_conflict_webhook_active.json", 3, 0, NULL},
    {"13_error_429_retry_after.json", 3, 0, NULL},
    {"14_error_400_file_too_big.json", 3, 0, NULL},
};

static void test_bot_update_parse_shared_payloads(void **state)
{
    char *dir = ts_shared_path("telegram");
    if (!dir) {
        print_message("skipped: no shared fixtures (TL_SHARED_DIR/telegram absent)\n");
        skip();
    }
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(shared_cases) / sizeof(shared_cases[0]); i++) {
        const struct shared_case *sc = &shared_cases[i];
        char *path = tl_asprintf("%s/%s", dir, sc->file);
        char *text = ts_read_file(path, NULL);
        print_message("fixture %s\n", sc->file);
        struct tg_update u;
        if (sc->check == check_06) {
            struct json_object *o = json_tokener_parse(text);
            assert_string_equal(tg_update_callback_message_text(o),
                                "Hello! Please choose an option:");
            json_object_put(o);
        }
        if (sc->shape == 0 || sc->shape == 1) {
            char *wrapped = sc->shape == 1 ? as_update(text) : NULL;
            assert_int_equal(parse(wrapped ? wrapped : text, &u), TL_OK);
            sc->check(&u);
            tg_update_release(&u);
            free(wrapped);
        } else if (sc->shape == 3) {
            assert_int_equal(parse(text, &u), TL_EPARSE);
            tg_update_release(&u);
        } else {
            struct json_object *env = json_tokener_parse(text), *res;
            assert_true(json_object_object_get_ex(env, "result", &res));
            assert_int_equal(json_object_array_length(res), sc->n);
            for (size_t k = 0; k < sc->n; k++) {
                const char *one = json_object_to_json_string(json_object_array_get_idx(res, k));
                assert_int_equal(parse(one, &u), TL_OK);
                sc->check(&u);
                tg_update_release(&u);
                /* the poller's path: from the parsed object */
                assert_int_equal(tg_update_from_json(json_object_array_get_idx(res, k), &u), TL_OK);
                sc->check(&u);
                tg_update_release(&u);
            }
            json_object_put(env);
        }
        checked++;
        free(text);
        free(path);
    }
    /* every .json in the folder parses without error or is refused cleanly */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t seen = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char *path = tl_asprintf("%s/%s", dir, e->d_name);
        size_t len;
        char *text = ts_read_file(path, &len);
        struct tg_update u;
        int rc = tg_update_parse(text, len, &u);
        assert_true(rc == TL_OK || rc == TL_EPARSE);
        tg_update_release(&u);
        free(text);
        free(path);
        seen++;
    }
    closedir(d);
    assert_true(seen >= checked);
    free(dir);
}

/* ---- own fixtures ---- */

#define PRIV_CHAT "\"chat\":{\"id\":501,\"type\":\"private\",\"first_name\":\"A\"}"
#define FROM "\"from\":{\"id\":501,\"is_bot\":false,\"first_name\":\"A\",\"language_code\":\"uk\"}"

static void test_bot_update_text_and_command(void **state)
{
    struct tg_update u;
    assert_int_equal(parse("{\"update_id\":10,\"message\":{\"message_id\":3," FROM "," PRIV_CHAT
                           ",\"date\":1700000000,\"text\":\"танк на мосту\"}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.update_id, 10);
    assert_int_equal(u.kind, TG_UPD_MESSAGE);
    assert_int_equal(u.msg.message_id, 3);
    assert_int_equal(u.msg.chat_id, 501);
    assert_int_equal(u.msg.chat_type, TG_CHAT_PRIVATE);
    assert_int_equal(u.msg.from_id, 501);
    assert_string_equal(u.msg.language_code, "uk");
    assert_int_equal(u.msg.date, 1700000000);
    assert_int_equal(u.msg.edit_date, 0);
    assert_string_equal(u.msg.text, "танк на мосту");
    assert_false(u.msg.is_command);
    assert_false(u.msg.location.present);
    assert_int_equal(u.msg.photo.file_size, -1);
    tg_update_release(&u);

    assert_int_equal(parse("{\"update_id\":11,\"message\":{\"message_id\":4," PRIV_CHAT
                           ",\"text\":\"/report@tipline_bot now\",\"entities\":[{\"type\":"
                           "\"bot_command\",\"offset\":0,\"length\":19}]}}",
                           &u),
                     TL_OK);
    assert_true(u.msg.is_command);
    tg_update_release(&u);
    /* a slash without the entity, or the entity later in the text, is not a command */
    assert_int_equal(parse("{\"update_id\":12,\"message\":{\"message_id\":5," PRIV_CHAT
                           ",\"text\":\"/etc is a path\"}}",
                           &u),
                     TL_OK);
    assert_false(u.msg.is_command);
    tg_update_release(&u);
    assert_int_equal(parse("{\"update_id\":13,\"message\":{\"message_id\":6," PRIV_CHAT
                           ",\"text\":\"/x say /help\",\"entities\":[{\"type\":\"bot_command\","
                           "\"offset\":7,\"length\":5}]}}",
                           &u),
                     TL_OK);
    assert_false(u.msg.is_command);
    tg_update_release(&u);
    /* a caption with a command entity counts too */
    assert_int_equal(parse("{\"update_id\":14,\"message\":{\"message_id\":7," PRIV_CHAT
                           ",\"caption\":\"/report\",\"caption_entities\":[{\"type\":"
                           "\"bot_command\",\"offset\":0,\"length\":7}]}}",
                           &u),
                     TL_OK);
    assert_string_equal(u.msg.text, "/report");
    assert_true(u.msg.is_command);
    tg_update_release(&u);
}

static void test_bot_update_photo_largest_and_document(void **state)
{
    struct tg_update u;
    /* the largest size is listed first here: chosen by pixels, not by position */
    assert_int_equal(
        parse("{\"update_id\":20,\"message\":{\"message_id\":1," PRIV_CHAT ",\"caption\":\"c\","
              "\"media_group_id\":\"777\",\"photo\":["
              "{\"file_id\":\"BIG\",\"file_unique_id\":\"ub\",\"file_size\":90000,\"width\":1280,"
              "\"height\":960},"
              "{\"file_id\":\"SMALL\",\"file_unique_id\":\"us\",\"file_size\":900,\"width\":90,"
              "\"height\":67},"
              "{\"file_unique_id\":\"noid\",\"width\":5000,\"height\":5000},"
              "\"junk\"]}}",
              &u),
        TL_OK);
    assert_string_equal(u.msg.photo.file_id, "BIG");
    assert_string_equal(u.msg.photo.file_unique_id, "ub");
    assert_int_equal(u.msg.photo.file_size, 90000);
    assert_int_equal(u.msg.photo.width, 1280);
    assert_int_equal(u.msg.photo.height, 960);
    assert_string_equal(u.msg.text, "c");
    assert_string_equal(u.msg.media_group_id, "777");
    tg_update_release(&u);

    assert_int_equal(parse("{\"update_id\":21,\"message\":{\"message_id\":2," PRIV_CHAT
                           ",\"document\":{\"file_id\":\"DOC\",\"file_unique_id\":\"ud\","
                           "\"file_name\":\"IMG_1.jpg\",\"mime_type\":\"image/jpeg\","
                           "\"file_size\":2345678}}}",
                           &u),
                     TL_OK);
    assert_string_equal(u.msg.document.file_id, "DOC");
    assert_string_equal(u.msg.document.file_unique_id, "ud");
    assert_string_equal(u.msg.document.file_name, "IMG_1.jpg");
    assert_string_equal(u.msg.document.mime_type, "image/jpeg");
    assert_int_equal(u.msg.document.file_size, 2345678);
    assert_null(u.msg.photo.file_id);
    assert_false(u.msg.has_video);
    tg_update_release(&u);

    assert_int_equal(parse("{\"update_id\":22,\"message\":{\"message_id\":3," PRIV_CHAT
                           ",\"video_note\":{\"file_id\":\"V\"}}}",
                           &u),
                     TL_OK);
    assert_true(u.msg.has_video);
    tg_update_release(&u);
}

static void test_bot_update_location_venue_live(void **state)
{
    struct tg_update u;
    assert_int_equal(parse("{\"update_id\":30,\"message\":{\"message_id\":1," PRIV_CHAT
                           ",\"location\":{\"latitude\":50.4501,\"longitude\":30.5234,"
                           "\"horizontal_accuracy\":25}}}",
                           &u),
                     TL_OK);
    assert_true(u.msg.location.present);
    assert_float_equal(u.msg.location.latitude, 50.4501, 1e-9);
    assert_float_equal(u.msg.location.longitude, 30.5234, 1e-9);
    assert_float_equal(u.msg.location.horizontal_accuracy, 25, 1e-9);
    assert_int_equal(u.msg.location.live_period, 0);
    assert_int_equal(u.msg.location.heading, 0);
    tg_update_release(&u);

    /* a venue: the location may come only inside the venue */
    assert_int_equal(parse("{\"update_id\":31,\"message\":{\"message_id\":2," PRIV_CHAT
                           ",\"venue\":{\"location\":{\"latitude\":49.84,\"longitude\":24.03},"
                           "\"title\":\"Rynok Square\",\"address\":\"Lviv\"}}}",
                           &u),
                     TL_OK);
    assert_string_equal(u.msg.venue_title, "Rynok Square");
    assert_string_equal(u.msg.venue_address, "Lviv");
    assert_true(u.msg.location.present);
    assert_float_equal(u.msg.location.latitude, 49.84, 1e-9);
    tg_update_release(&u);

    assert_int_equal(parse("{\"update_id\":32,\"edited_message\":{\"message_id\":3," PRIV_CHAT
                           ",\"date\":100,\"edit_date\":160,\"location\":{\"latitude\":46.48,"
                           "\"longitude\":30.72,\"live_period\":900,\"heading\":270,"
                           "\"horizontal_accuracy\":8.5}}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.kind, TG_UPD_EDITED_MESSAGE);
    assert_int_equal(u.msg.edit_date, 160);
    assert_int_equal(u.msg.location.live_period, 900);
    assert_int_equal(u.msg.location.heading, 270);
    assert_float_equal(u.msg.location.horizontal_accuracy, 8.5, 1e-9);
    tg_update_release(&u);

    /* out-of-range coordinates and heading are absent, not trusted */
    assert_int_equal(parse("{\"update_id\":33,\"message\":{\"message_id\":4," PRIV_CHAT
                           ",\"location\":{\"latitude\":91,\"longitude\":30}}}",
                           &u),
                     TL_OK);
    assert_false(u.msg.location.present);
    tg_update_release(&u);
    assert_int_equal(parse("{\"update_id\":34,\"message\":{\"message_id\":4," PRIV_CHAT
                           ",\"location\":{\"latitude\":1,\"longitude\":2,\"heading\":400}}}",
                           &u),
                     TL_OK);
    assert_true(u.msg.location.present);
    assert_int_equal(u.msg.location.heading, 0);
    tg_update_release(&u);
}

static void test_bot_update_forward_flags(void **state)
{
    static const char *const fwd[] = {
        "\"forward_origin\":{\"type\":\"user\",\"date\":1,\"sender_user\":{\"id\":9}}",
        "\"forward_from\":{\"id\":9,\"is_bot\":false,\"first_name\":\"F\"}",
        "\"forward_from_chat\":{\"id\":-1009,\"type\":\"channel\"}",
        "\"forward_sender_name\":\"Hidden\"",
        "\"forward_date\":1700000000",
    };
    for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++) {
        char *j = tl_asprintf("{\"update_id\":40,\"message\":{\"message_id\":1," PRIV_CHAT
                              ",\"text\":\"t\",%s}}",
                              fwd[i]);
        struct tg_update u;
        assert_int_equal(parse(j, &u), TL_OK);
        assert_true(u.msg.forwarded);
        tg_update_release(&u);
        free(j);
    }
    struct tg_update u;
    assert_int_equal(
        parse("{\"update_id\":41,\"message\":{\"message_id\":1," PRIV_CHAT ",\"text\":\"t\"}}", &u),
        TL_OK);
    assert_false(u.msg.forwarded);
    tg_update_release(&u);
}

/* relay: the message a reply answers; a reply_to_message that is no message, or whose
 * id is not a positive integer, is no reply (bounded like the rest: nothing deeper is
 * read). */
static void test_bot_update_reply_to(void **state)
{
    static const struct {
        const char *field;
        long long want;
    } cases[] = {
        {",\"reply_to_message\":{\"message_id\":4242," PRIV_CHAT ",\"text\":\"Q?\"}", 4242},
        {",\"reply_to_message\":{\"message_id\":9007199254740993}", 9007199254740993LL},
        {"", 0},
        {",\"reply_to_message\":{\"message_id\":\"4242\"}", 0},
        {",\"reply_to_message\":{\"message_id\":-5}", 0},
        {",\"reply_to_message\":{\"message_id\":0}", 0},
        {",\"reply_to_message\":{\"message_id\":1.5}", 0},
        {",\"reply_to_message\":4242", 0},
        {",\"reply_to_message\":[{\"message_id\":4242}]", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *j = tl_asprintf("{\"update_id\":45,\"message\":{\"message_id\":7," PRIV_CHAT
                              ",\"caption\":\"the answer\"%s}}",
                              cases[i].field);
        struct tg_update u;
        assert_int_equal(parse(j, &u), TL_OK);
        if (u.msg.reply_to_id != cases[i].want)
            fail_msg("case %zu: reply_to_id %lld, want %lld", i, u.msg.reply_to_id, cases[i].want);
        assert_string_equal(u.msg.text, "the answer"); /* a caption is the text */
        assert_int_equal(u.msg.message_id, 7);         /* the quoted message is not this one */
        tg_update_release(&u);
        assert_int_equal(u.msg.reply_to_id, 0);
        free(j);
    }
}

static void test_bot_update_callback_and_member(void **state)
{
    struct tg_update u;
    assert_int_equal(parse("{\"update_id\":50,\"callback_query\":{\"id\":\"cbq1\"," FROM
                           ",\"message\":{\"message_id\":77," PRIV_CHAT
                           ",\"text\":\"pick\"},\"chat_instance\":\"-1\",\"data\":\"cat:armor\"}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.kind, TG_UPD_CALLBACK_QUERY);
    assert_string_equal(u.cb.id, "cbq1");
    assert_int_equal(u.cb.from_id, 501);
    assert_string_equal(u.cb.language_code, "uk");
    assert_string_equal(u.cb.data, "cat:armor");
    assert_int_equal(u.cb.chat_id, 501);
    assert_int_equal(u.cb.message_id, 77);
    tg_update_release(&u);
    struct json_object *cbo = json_tokener_parse(
        "{\"update_id\":50,\"callback_query\":{\"id\":\"q\",\"message\":{\"message_id\":7,"
        "\"caption\":\"photo caption\"}}}");
    assert_string_equal(tg_update_callback_message_text(cbo), "photo caption");
    json_object_put(cbo);
    cbo = json_tokener_parse("{\"update_id\":50,\"message\":{\"text\":\"not a callback\"}}");
    assert_null(tg_update_callback_message_text(cbo));
    json_object_put(cbo);
    /* an inline-mode callback has no message: the chat key falls back to the user */
    assert_int_equal(parse("{\"update_id\":51,\"callback_query\":{\"id\":\"cbq2\",\"from\":"
                           "{\"id\":808},\"inline_message_id\":\"im\",\"chat_instance\":\"1\"}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.cb.chat_id, 0);
    assert_int_equal(u.cb.from_id, 808);
    assert_null(u.cb.data);
    tg_update_release(&u);
    struct json_object *o = json_tokener_parse("{\"update_id\":51,\"callback_query\":{\"id\":"
                                               "\"x\",\"from\":{\"id\":808}}}");
    assert_int_equal(tg_update_chat_key(o), 808);
    json_object_put(o);

    assert_int_equal(parse("{\"update_id\":52,\"my_chat_member\":{\"chat\":{\"id\":-100777,"
                           "\"type\":\"supergroup\",\"title\":\"g\"},\"from\":{\"id\":42},"
                           "\"date\":1,\"old_chat_member\":{\"status\":\"left\",\"user\":{\"id\":"
                           "1}},\"new_chat_member\":{\"status\":\"member\",\"user\":{\"id\":1}}}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.kind, TG_UPD_MY_CHAT_MEMBER);
    assert_int_equal(u.member.chat_id, -100777);
    assert_int_equal(u.member.chat_type, TG_CHAT_SUPERGROUP);
    assert_int_equal(u.member.from_id, 42);
    assert_string_equal(u.member.old_status, "left");
    assert_string_equal(u.member.new_status, "member");
    tg_update_release(&u);
}

static void test_bot_update_group_chat(void **state)
{
    struct tg_update u;
    assert_int_equal(parse("{\"update_id\":60,\"message\":{\"message_id\":9,\"from\":{\"id\":31,"
                           "\"is_bot\":false},\"chat\":{\"id\":-4012,\"type\":\"group\","
                           "\"title\":\"Watchers\"},\"text\":\"hi all\"}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.msg.chat_id, -4012);
    assert_int_equal(u.msg.chat_type, TG_CHAT_GROUP);
    assert_int_equal(u.msg.from_id, 31);
    assert_null(u.msg.language_code);
    tg_update_release(&u);
    /* a channel post has no from and is an update kind we do not handle */
    assert_int_equal(parse("{\"update_id\":61,\"channel_post\":{\"message_id\":1,\"chat\":{\"id\":"
                           "-1001,\"type\":\"channel\"},\"text\":\"x\"}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.kind, TG_UPD_OTHER);
    tg_update_release(&u);
}

static void test_bot_update_wrong_types_are_absent(void **state)
{
    struct tg_update u;
    assert_int_equal(parse("{\"update_id\":70,\"message\":{\"message_id\":\"1\",\"chat\":\"501\","
                           "\"from\":[1],\"text\":5,\"caption\":{},\"photo\":{\"file_id\":\"x\"},"
                           "\"document\":\"d\",\"location\":{\"latitude\":\"50\",\"longitude\":30},"
                           "\"venue\":[],\"media_group_id\":7,\"entities\":{}}}",
                           &u),
                     TL_OK);
    assert_int_equal(u.kind, TG_UPD_MESSAGE);
    assert_int_equal(u.msg.message_id, 0);
    assert_int_equal(u.msg.chat_id, 0);
    assert_int_equal(u.msg.chat_type, TG_CHAT_UNKNOWN);
    assert_int_equal(u.msg.from_id, 0);
    assert_null(u.msg.text);
    assert_null(u.msg.photo.file_id);
    assert_null(u.msg.document.file_id);
    assert_false(u.msg.location.present);
    assert_null(u.msg.venue_title);
    assert_null(u.msg.media_group_id);
    tg_update_release(&u);
    /* "message" of the wrong type is not a message */
    assert_int_equal(parse("{\"update_id\":71,\"message\":\"hi\"}", &u), TL_OK);
    assert_int_equal(u.kind, TG_UPD_OTHER);
    tg_update_release(&u);
}

static void test_bot_update_refuses_bad_input(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "42",
        "{}",
        "{\"update_id\":\"1\"}",
        "{\"update_id\":1.5}",
        "{\"update_id\":1,\"message\":{}",
        "{\"update_id\":1} trailing",
        "{\"update_id\":1,}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tg_update u;
        int rc = tg_update_parse(bad[i], strlen(bad[i]), &u);
        if (rc != TL_EPARSE)
            fail_msg("\"%s\" gave %s", bad[i], tl_strerror(rc));
        tg_update_release(&u);
    }
    struct tg_update u;
    assert_int_equal(tg_update_parse("{\"update_id\":1}  \n", 18, &u), TL_OK);
    tg_update_release(&u);
    /* bounded: over 1 MiB is refused before parsing */
    size_t big = (1u << 20) + 10;
    char *s = malloc(big + 1);
    memset(s, ' ', big);
    memcpy(s, "{\"update_id\":1}", 15);
    s[big] = 0;
    assert_int_equal(tg_update_parse(s, big, &u), TL_ETOOBIG);
    tg_update_release(&u);
    /* deep nesting is refused, not recursed into */
    struct tl_buf b;
    tl_buf_init(&b, 0);
    assert_int_equal(tl_buf_printf(&b, "{\"update_id\":1,\"x\":"), TL_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(tl_buf_append(&b, "[", 1), TL_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(tl_buf_append(&b, "]", 1), TL_OK);
    assert_int_equal(tl_buf_append(&b, "}", 1), TL_OK);
    assert_int_equal(tg_update_parse((char *)b.data, b.len, &u), TL_EPARSE);
    tg_update_release(&u);
    tl_buf_release(&b);
    free(s);
    assert_int_equal(tg_update_chat_key(NULL), 0);
}

int test_bot_update_group(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bot_update_parse_shared_payloads),
        cmocka_unit_test(test_bot_update_text_and_command),
        cmocka_unit_test(test_bot_update_photo_largest_and_document),
        cmocka_unit_test(test_bot_update_location_venue_live),
        cmocka_unit_test(test_bot_update_forward_flags),
        cmocka_unit_test(test_bot_update_reply_to),
        cmocka_unit_test(test_bot_update_callback_and_member),
        cmocka_unit_test(test_bot_update_group_chat),
        cmocka_unit_test(test_bot_update_wrong_types_are_absent),
        cmocka_unit_test(test_bot_update_refuses_bad_input),
    };
    return cmocka_run_group_tests_name("bot_update", tests, NULL, NULL);
}
