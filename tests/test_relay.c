/* tests/test_relay.c - the relay between analysts and citizens on real parts: the
 * runtime threads against the fake Bot API and a throwaway PostgreSQL. Reports are
 * made through the bot; the analysts' side is played in SQL, as web/ writes it
 * (followups rows, reports.status and decided_at). Each test asserts the requests the
 * bot sent and the rows written. */
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

#include "common/util.h"
#include "handlers/hdl.h"
#include "support/botrun.h"
#include "support/testsupport.h"
#include "fakebot/fakebot.h"

struct env {
    char *ci;
    const char *db;
    struct fakebot *fb;
    struct cfg c;
};

static void env_open(struct env *e, const char *db, int notify_reviewed)
{
    e->db = db;
    e->ci = ts_db_create(db);
    assert_non_null(e->ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &e->fb), TL_OK);
    tb_cfg(&e->c, e->ci);
    e->c.notify_reviewed = notify_reviewed;
}

static void env_close(struct env *e)
{
    cfg_release(&e->c);
    fakebot_stop(e->fb);
    ts_db_drop(e->db);
    free(e->ci);
}

static long long count(const struct env *e, const char *sql)
{
    return ts_db_count(e->ci, sql);
}

/* Runs a statement for its effect (it must return a row: add RETURNING or SELECT). */
static void exec(const struct env *e, const char *sql)
{
    free(ts_db_scalar(e->ci, sql));
}

/* Waits until sql counts want or more; fails after timeout_ms. */
static void wait_count(const struct env *e, const char *sql, long long want, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    long long n = -1;
    while (tl_now_ms() < end) {
        if ((n = count(e, sql)) >= want)
            return;
        tl_sleep_ms(50, NULL);
    }
    fail_msg("timed out: %s = %lld, want %lld", sql, n, want);
}

static void wait_sends(const struct env *e, size_t n)
{
    if (fakebot_wait_count(e->fb, "sendMessage", n, 20000) != TL_OK)
        fail_msg("sendMessage calls: %zu, want %zu", fakebot_count(e->fb, "sendMessage"), n);
}

/* A private message from user = chat id; reply_to 0: not a reply; lang NULL: none.
 * Returns its update id. */
static long long push_msg(const struct env *e, long long chat, int message_id, const char *lang,
                          const char *text, long long reply_to)
{
    char from_lang[48] = "", reply[96] = "";
    if (lang)
        snprintf(from_lang, sizeof(from_lang), ",\"language_code\":\"%s\"", lang);
    if (reply_to)
        snprintf(reply, sizeof(reply),
                 ",\"reply_to_message\":{\"message_id\":%lld,\"date\":1,\"text\":\"q\"}", reply_to);
    char *u = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1700000000,\"chat\":{\"id\":"
                          "%lld,\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"C\"%s},\"text\":\"%s\"%s}}",
                          message_id, chat, chat, from_lang, text, reply);
    long long uid = fakebot_push_update(e->fb, u);
    assert_true(uid > 0);
    free(u);
    return uid;
}

/* A report through the bot the quick way: the text starts a draft (the bot's one
 * sendMessage, its keyboard), and the citizen presses "Send now" on it (answered and
 * the keyboard message edited: no further sendMessage). */
static void report_msg(const struct env *e, long long chat, int message_id, const char *lang,
                       const char *text)
{
    long long uid = push_msg(e, chat, message_id, lang, text, 0);
    char from_lang[48] = "";
    if (lang)
        snprintf(from_lang, sizeof(from_lang), ",\"language_code\":\"%s\"", lang);
    char *c = tl_asprintf("{\"callback_query\":{\"id\":\"cb%lld\",\"from\":{\"id\":%lld,"
                          "\"is_bot\":false,\"first_name\":\"C\"%s},\"chat_instance\":\"1\","
                          "\"data\":\"%lld:send\",\"message\":{\"message_id\":%d,\"date\":1,"
                          "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":\"draft\"}}}",
                          uid, chat, from_lang, uid, message_id + 1000, chat);
    assert_true(fakebot_push_update(e->fb, c) > 0);
    free(c);
}

/* The i-th sendMessage's parameters: a new reference (json_object_put). */
static struct json_object *sent(const struct env *e, size_t i)
{
    char *calls = fakebot_calls_json(e->fb, "sendMessage");
    struct json_object *arr = json_tokener_parse(calls), *params = NULL;
    free(calls);
    assert_non_null(arr);
    assert_true(i < json_object_array_length(arr));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, i), "params", &params));
    json_object_get(params);
    json_object_put(arr);
    return params;
}

static const char *field(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static long long chat_of(struct json_object *params)
{
    struct json_object *v;
    assert_true(json_object_object_get_ex(params, "chat_id", &v));
    return json_object_get_int64(v);
}

/* The i-th sendMessage went to chat, and its text holds each of the NULL-terminated
 * strings. Returns its parameters (json_object_put). */
static struct json_object *expect_sent(const struct env *e, size_t i, long long chat, ...)
    __attribute__((sentinel));
static struct json_object *expect_sent(const struct env *e, size_t i, long long chat, ...)
{
    struct json_object *p = sent(e, i);
    const char *text = field(p, "text");
    va_list ap;
    assert_int_equal(chat_of(p), chat);
    assert_non_null(text);
    va_start(ap, chat);
    for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
        if (!strstr(text, want))
            fail_msg("message %zu lacks \"%s\": %s", i, want, text);
    va_end(ap);
    return p;
}

static long long scalar_ll(const struct env *e, const char *sql)
{
    return count(e, sql);
}

/* Rows of every table an analyst or exporter can reach (all but the reply path: chats,
 * outbox, drafts and the conversation's draft_media, conv_messages (kept two days for
 * "Clear this chat") and conv_notices; and the raw updates) whose text holds needle. */
static long long tables_mentioning(const struct env *e, const char *needle)
{
    char *sql = tl_asprintf(
        "SELECT count(*) FROM information_schema.tables t WHERE t.table_schema = 'public'"
        " AND t.table_type = 'BASE TABLE' AND t.table_name NOT IN ('chats', 'outbox', 'inbox',"
        " 'drafts', 'draft_media', 'conv_messages', 'conv_notices', 'spatial_ref_sys')"
        " AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %%I x"
        " WHERE x::text LIKE %%L', t.table_name, '%%%s%%'), false, true, '')))[1]::text::int > 0",
        needle);
    long long n = count(e, sql);
    free(sql);
    return n;
}

#define CHAT_A 987654321LL /* long enough never to appear in a pseudonym's hex by chance */

/* The whole round trip: a report through the bot, an analyst's question relayed once, in
 * the chat's language, with force_reply; two replies appended to the answer, each
 * thanked; replies that answer no question (another message, another chat) stay in the
 * conversation; the chat id stays in the reply path. */
static void test_relay_question_answer_round_trip(void **state)
{
    struct env e;
    env_open(&e, "t_relay_round_trip", 1);
    report_msg(&e, CHAT_A, 1, "en", "two trucks near the bridge");
    tb_start(&e.c, e.fb, 0, 0);
    wait_sends(&e, 1);
    wait_count(&e, "SELECT count(*) FROM reports", 1, 20000);
    wait_count(&e, "SELECT count(*) FROM outbox WHERE state = 'sent'", 3, 20000);
    char *ref = ts_db_scalar(e.ci, "SELECT public_ref FROM reports");
    assert_non_null(ref);

    /* the analyst asks (as web/ does) */
    exec(&e, "INSERT INTO followups (report_id, asked_by, question) SELECT id, 'alice', "
             "'Which direction were they moving?' FROM reports RETURNING id");
    wait_sends(&e, 2);
    wait_count(&e, "SELECT count(*) FROM outbox WHERE followup_id IS NOT NULL AND state = 'sent'",
               1, 20000);
    struct json_object *q =
        expect_sent(&e, 1, CHAT_A, "An analyst has a question about your report", ref,
                    "Which direction were they moving?", (char *)NULL);
    struct json_object *kb, *fr, *ph;
    assert_true(json_object_object_get_ex(q, "reply_markup", &kb));
    assert_true(json_object_object_get_ex(kb, "force_reply", &fr));
    assert_true(json_object_get_boolean(fr));
    assert_true(json_object_object_get_ex(kb, "input_field_placeholder", &ph));
    assert_string_equal(json_object_get_string(ph), "Your answer");
    json_object_put(q);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups WHERE relayed_at IS NOT NULL AND "
                               "relay_error IS NULL AND answer IS NULL"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox WHERE followup_id IS NOT NULL"), 1);
    tl_sleep_ms(1200, NULL); /* two relay rounds: relayed once, not again */
    assert_int_equal(fakebot_count(e.fb, "sendMessage"), 2);

    /* the citizen replies to the question */
    long long qmid =
        scalar_ll(&e, "SELECT tg_message_id FROM outbox WHERE followup_id IS NOT NULL");
    long long ackmid = scalar_ll(&e, "SELECT tg_message_id FROM outbox WHERE followup_id IS NULL "
                                     "AND method = 'sendMessage'");
    assert_true(qmid > 0 && ackmid > 0 && qmid != ackmid);
    push_msg(&e, CHAT_A, 3, "en", "north, towards Kharkiv", qmid);
    wait_sends(&e, 3);
    wait_count(&e, "SELECT count(*) FROM followups WHERE answer IS NOT NULL", 1, 20000);
    char *answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "north, towards Kharkiv");
    free(answer);
    struct json_object *t = expect_sent(&e, 2, CHAT_A, "Thank you", ref, (char *)NULL);
    assert_false(json_object_object_get_ex(t, "reply_markup", &kb));
    json_object_put(t);
    assert_int_equal(count(&e, "SELECT count(*) FROM reports"), 1); /* no report of it */

    /* a second reply is appended, not lost */
    push_msg(&e, CHAT_A, 4, "en", "about 20 km/h", qmid);
    wait_sends(&e, 4);
    wait_count(&e, "SELECT count(*) FROM followups WHERE answer LIKE '%20 km/h'", 1, 20000);
    answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "north, towards Kharkiv\n---\nabout 20 km/h");
    free(answer);
    assert_int_equal(count(&e, "SELECT count(*) FROM reports"), 1);

    /* a photo with a caption: the caption answers, the photo is not fetched, and the
     * thanks says so */
    char *photo = tl_asprintf(
        "{\"message\":{\"message_id\":6,\"date\":1700000000,\"chat\":{\"id\":%lld,\"type\":"
        "\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"C\","
        "\"language_code\":\"en\"},\"photo\":[{\"file_id\":\"PH1\",\"file_unique_id\":\"ph1\","
        "\"width\":90,\"height\":60}],\"caption\":\"this one\",\"reply_to_message\":{"
        "\"message_id\":%lld,\"date\":1}}}",
        CHAT_A, CHAT_A, qmid);
    assert_true(fakebot_push_update(e.fb, photo) > 0);
    free(photo);
    wait_sends(&e, 5);
    wait_count(&e, "SELECT count(*) FROM followups WHERE answer LIKE '%this one'", 1, 20000);
    answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "north, towards Kharkiv\n---\nabout 20 km/h\n---\nthis one");
    free(answer);
    json_object_put(
        expect_sent(&e, 4, CHAT_A, "Photos and locations cannot be attached", (char *)NULL));
    assert_int_equal(fakebot_count(e.fb, "getFile"), 0);
    assert_int_equal(count(&e, "SELECT count(*) FROM reports"), 1);

    /* a reply to the bot's acknowledgement, and a reply from another chat quoting the
     * question's message id, answer nothing: the conversation has them (new drafts) */
    push_msg(&e, CHAT_A, 5, "en", "a third truck", ackmid);
    push_msg(&e, CHAT_A + 1, 1, "en", "I saw them too", qmid);
    wait_count(&e, "SELECT count(*) FROM drafts", 2, 20000);
    wait_count(&e, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 7, 20000);
    answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "north, towards Kharkiv\n---\nabout 20 km/h\n---\nthis one");
    free(answer);
    assert_int_equal(count(&e, "SELECT count(*) FROM drafts WHERE state::text LIKE '%a third "
                               "truck%' OR state::text LIKE '%I saw them too%'"),
                     2);
    assert_int_equal(count(&e, "SELECT count(*) FROM reports"), 1);
    tb_stop();

    /* what the analyst reads: the report and the answer, never the chat */
    assert_int_equal(count(&e, "SELECT count(*) FROM followups f JOIN reports r ON r.id = "
                               "f.report_id WHERE f.answered_at IS NOT NULL AND r.public_ref = "
                               "(SELECT public_ref FROM reports ORDER BY id LIMIT 1)"),
                     1);
    assert_int_equal(tables_mentioning(&e, "987654321"), 0);
    assert_true(tables_mentioning(&e, "Kharkiv") >= 1); /* the probe finds what is there */
    assert_int_equal(count(&e, "SELECT count(*) FROM chats WHERE chat_id = 987654321"), 1);
    free(ref);
    env_close(&e);
}

/* A chat that blocked the bot and a chat retention purged get relay_error and no
 * message; a question Telegram refuses (blocked after it was queued) is told back as
 * not delivered; one longer than a Telegram message (in UTF-16 units) is not sent. The
 * question goes in the chat's language (Ukrainian here). */
static void test_relay_blocked_gone_undelivered(void **state)
{
    struct env e;
    env_open(&e, "t_relay_blocked", 1);
    report_msg(&e, 5101, 1, "en", "report from a chat that blocks the bot");
    report_msg(&e, 5102, 1, "en", "report from a chat that retention purges");
    report_msg(&e, 5103, 1, "uk", "report from a chat that blocks the bot later");
    report_msg(&e, 5104, 1, "en", "report that gets a long question");
    assert_true(fakebot_push_update(
                    e.fb, "{\"my_chat_member\":{\"chat\":{\"id\":5101,\"type\":\"private\"},"
                          "\"from\":{\"id\":5101,\"is_bot\":false,\"first_name\":\"K\"},"
                          "\"date\":1,\"old_chat_member\":{\"status\":\"member\"},"
                          "\"new_chat_member\":{\"status\":\"kicked\"}}}") > 0);
    tb_start(&e.c, e.fb, 0, 0);
    wait_sends(&e, 4);
    wait_count(&e, "SELECT count(*) FROM reports", 4, 20000);
    wait_count(&e, "SELECT count(*) FROM chats WHERE chat_id = 5101 AND blocked", 1, 20000);
    wait_count(&e, "SELECT count(*) FROM outbox WHERE state = 'sent'", 12, 20000);
    exec(&e, "DELETE FROM chats WHERE chat_id = 5102 RETURNING 1"); /* as retention does */
    fakebot_set_blocked_chat(e.fb, 5103);
    exec(&e, "INSERT INTO followups (report_id, asked_by, question) SELECT id, 'bob', "
             "'Where exactly? ' || text FROM reports WHERE text NOT LIKE '%long question'"
             " ORDER BY id RETURNING id");
    /* 2,000 characters (the most web/ takes) outside the BMP: 4,000 UTF-16 units, and the
     * frame around the question takes it past 4,096 */
    exec(&e, "INSERT INTO followups (report_id, asked_by, question) SELECT id, 'bob', "
             "repeat(U&'\\+01F680', 2000) FROM reports WHERE text LIKE '%long question' "
             "RETURNING id");
    wait_count(&e, "SELECT count(*) FROM followups WHERE relay_error IS NOT NULL", 4, 20000);
    tb_stop();

    assert_int_equal(count(&e, "SELECT count(*) FROM followups f JOIN reports r ON r.id = "
                               "f.report_id WHERE r.text LIKE '%blocks the bot' AND "
                               "f.relay_error = 'chat blocked' AND f.relayed_at IS NULL"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups f JOIN reports r ON r.id = "
                               "f.report_id WHERE r.text LIKE '%retention purges' AND "
                               "f.relay_error = 'chat gone' AND f.relayed_at IS NULL"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups f JOIN reports r ON r.id = "
                               "f.report_id WHERE r.text LIKE '%blocks the bot later' AND "
                               "f.relay_error LIKE 'not delivered: %blocked%' AND "
                               "f.relayed_at IS NOT NULL"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups WHERE relay_error = 'question too "
                               "long for one Telegram message' AND relayed_at IS NULL"),
                     1);
    /* one question was tried (to 5103, in Ukrainian); none went to 5101, 5102 or 5104 */
    assert_int_equal(fakebot_count(e.fb, "sendMessage"), 5);
    json_object_put(expect_sent(&e, 4, 5103, "Аналітик має запитання",
                                "Where exactly? report from a chat that blocks", (char *)NULL));
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox WHERE followup_id IS NOT NULL"), 1);
    env_close(&e);
}

/* Decide like web/ does. */
static void decide(const struct env *e, const char *text, const char *status)
{
    char *sql = tl_asprintf("UPDATE reports SET status = '%s', decided_by = 'alice', "
                            "decided_at = now() WHERE text = '%s' RETURNING id",
                            status, text);
    exec(e, sql);
    free(sql);
}

/* The reviewed notice: once per decided report, in the chat's language, with the
 * reference and nothing of the verdict; none for needs_info until it is decided; none
 * again after a restart. */
static void test_relay_reviewed_notice_once(void **state)
{
    struct env e;
    env_open(&e, "t_relay_reviewed", 1);
    report_msg(&e, 6101, 1, NULL, "column of tanks"); /* no language: Ukrainian */
    report_msg(&e, 6102, 1, "en", "helicopter low");
    report_msg(&e, 6102, 2, "en", "smoke at the depot");
    tb_start(&e.c, e.fb, 0, 0);
    wait_sends(&e, 3);
    wait_count(&e, "SELECT count(*) FROM reports", 3, 20000);
    wait_count(&e, "SELECT count(*) FROM outbox WHERE state = 'sent'", 9, 20000);
    decide(&e, "column of tanks", "confirmed");
    decide(&e, "helicopter low", "rejected");
    decide(&e, "smoke at the depot", "needs_info");
    wait_sends(&e, 5);
    wait_count(&e, "SELECT count(*) FROM reports WHERE reviewed_notified_at IS NOT NULL", 2, 20000);
    tb_stop();

    for (size_t i = 3; i < 5; i++) {
        struct json_object *n = sent(&e, i);
        long long chat = chat_of(n);
        const char *t = field(n, "text");
        const char *text = chat == 6101 ? "column of tanks" : "helicopter low";
        char *sql = tl_asprintf("SELECT public_ref FROM reports WHERE text = '%s'", text);
        char *ref = ts_db_scalar(e.ci, sql);
        assert_non_null(strstr(t, ref));
        if (chat == 6101)
            assert_non_null(strstr(t, "розглянув аналітик"));
        else
            assert_non_null(strstr(t, "was reviewed by an analyst"));
        static const char *const verdicts[] = {"confirm",   "reject", "duplicate", "needs",
                                               "підтвердж", "відхил", "дублік"};
        for (size_t k = 0; k < sizeof(verdicts) / sizeof(verdicts[0]); k++)
            if (strcasestr(t, verdicts[k]))
                fail_msg("the notice tells the verdict (%s): %s", verdicts[k], t);
        free(sql);
        free(ref);
        json_object_put(n);
    }
    assert_int_equal(count(&e, "SELECT count(*) FROM reports WHERE status = 'needs_info' AND "
                               "reviewed_notified_at IS NULL"),
                     1);
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox WHERE params->>'text' LIKE "
                               "'%reviewed%' OR params->>'text' LIKE '%розглянув%'"),
                     2);

    /* a restart sends nothing again; the report that needed information is told once
     * the analyst decides it */
    fakebot_reset_calls(e.fb);
    tb_start(&e.c, e.fb, 0, 0);
    tl_sleep_ms(1500, NULL);
    assert_int_equal(fakebot_count(e.fb, "sendMessage"), 0);
    decide(&e, "smoke at the depot", "duplicate");
    wait_sends(&e, 1);
    tl_sleep_ms(1200, NULL);
    tb_stop();
    assert_int_equal(fakebot_count(e.fb, "sendMessage"), 1);
    struct json_object *n = expect_sent(&e, 0, 6102, "was reviewed by an analyst", (char *)NULL);
    assert_null(strcasestr(field(n, "text"), "duplicate"));
    json_object_put(n);
    assert_int_equal(count(&e, "SELECT count(*) FROM reports WHERE reviewed_notified_at IS NULL"),
                     0);
    env_close(&e);
}

/* notify_reviewed = 0: decided reports are marked as told, and nothing is sent. */
static void test_relay_reviewed_disabled(void **state)
{
    struct env e;
    env_open(&e, "t_relay_quiet", 0);
    report_msg(&e, 7101, 1, "en", "artillery fire");
    tb_start(&e.c, e.fb, 0, 0);
    wait_sends(&e, 1);
    wait_count(&e, "SELECT count(*) FROM reports", 1, 20000);
    wait_count(&e, "SELECT count(*) FROM outbox WHERE state = 'sent'", 3, 20000);
    decide(&e, "artillery fire", "confirmed");
    wait_count(&e, "SELECT count(*) FROM reports WHERE reviewed_notified_at IS NOT NULL", 1, 20000);
    tl_sleep_ms(800, NULL);
    tb_stop();
    assert_int_equal(fakebot_count(e.fb, "sendMessage"), 1); /* the acknowledgement only */
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox WHERE method = 'sendMessage'"), 1);
    env_close(&e);
}

/* storage alone: the reply lookup is keyed by chat and message; an answer is attached
 * in the transaction that marks its update processed, so a re-run appends nothing; a
 * batch appends its answers in order. */
static void test_relay_answer_applied_once(void **state)
{
    struct env e = {.db = "t_relay_store"};
    struct store *s = NULL;
    struct tl_errinfo ei;
    long long fid = 0, other = 0;
    char *ref = NULL, *lang = NULL;
    e.ci = ts_db_create(e.db);
    assert_non_null(e.ci);
    exec(&e, "INSERT INTO reporters (pseudonym) VALUES ('p1');"
             "INSERT INTO reports (public_ref, reporter) VALUES ('TL-AAAAAA', 'p1');"
             "INSERT INTO followups (report_id, asked_by, question) SELECT id, 'alice', 'q?'"
             "  FROM reports;"
             "INSERT INTO chats (chat_id, reporter, lang) VALUES (4401, 'p1', 'en');"
             "INSERT INTO outbox (chat_id, method, params, state, tg_message_id, followup_id)"
             "  SELECT 4401, 'sendMessage', '{}', 'sent', 77, id FROM followups;"
             "INSERT INTO outbox (chat_id, method, params, state, tg_message_id)"
             "  VALUES (4401, 'sendMessage', '{}', 'sent', 78);"
             "INSERT INTO inbox (update_id, chat_key, payload) VALUES (501, 4401, '{}'),"
             "  (502, 4401, '{}'), (503, 4401, '{}') RETURNING 1");
    assert_int_equal(store_open(e.ci, &s, &ei), TL_OK);
    assert_int_equal(store_followup_by_reply(s, 4401, 77, &fid, &ref, &lang, &ei), TL_OK);
    assert_true(fid > 0);
    assert_string_equal(ref, "TL-AAAAAA");
    assert_string_equal(lang, "en");
    free(ref);
    free(lang);
    /* another chat quoting the same message id, or a message that asked nothing */
    assert_int_equal(store_followup_by_reply(s, 4402, 77, &other, &ref, &lang, &ei), TL_OK);
    assert_true(other == 0 && !ref && !lang);
    assert_int_equal(store_followup_by_reply(s, 4401, 78, &other, &ref, &lang, &ei), TL_OK);
    assert_true(other == 0 && !ref && !lang);

    struct store_effects a = {
        .update_id = 501, .set_blocked = -1, .followup_id = fid, .answer = "first"};
    assert_int_equal(store_apply(s, &a, NULL, &ei), TL_OK);
    assert_int_equal(store_apply(s, &a, NULL, &ei), TL_OK); /* re-run: a no-op */
    char *answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "first");
    free(answer);
    struct store_effects b = a, c = a;
    b.update_id = 502;
    b.answer = "second";
    c.update_id = 503;
    c.answer = "third";
    const struct store_effects *batch[2] = {&b, &c};
    for (int i = 0; i < 2; i++)
        assert_int_equal(store_apply_batch(s, batch, 2, NULL, &ei), TL_OK);
    answer = ts_db_scalar(e.ci, "SELECT answer FROM followups");
    assert_string_equal(answer, "first\n---\nsecond\n---\nthird");
    free(answer);
    assert_int_equal(count(&e, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 0);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups WHERE answered_at IS NOT NULL"), 1);
    store_free(s);
    ts_db_drop(e.db);
    free(e.ci);
}

/* A composer that asks for one message per item: its text names the item. */
static int compose_named(void *ud, const struct store_relay_item *it, char **params,
                         const char **reason)
{
    (void)ud;
    *reason = NULL;
    *params = tl_asprintf("{\"text\":\"%s %s\"}", it->question ? "q" : "reviewed", it->public_ref);
    return *params ? TL_OK : TL_ENOMEM;
}

/* storage alone: the relay's writes go through the one write path (store_apply_plan):
 * with the function gone, the relay fails and nothing is marked or queued; with it, the
 * questions are queued with their follow-up, a blocked chat's question gets the reason,
 * the reviewed notice marks its report; a second pass finds nothing. */
static void test_relay_writes_through_the_plan(void **state)
{
    (void)state;
    struct env e = {.db = "t_relay_plan"};
    struct store *s = NULL;
    struct tl_errinfo ei;
    struct store_relay_counts c;
    e.ci = ts_db_create(e.db);
    assert_non_null(e.ci);
    exec(&e,
         "INSERT INTO reporters (pseudonym) VALUES ('p1'), ('p2');"
         "INSERT INTO reports (public_ref, reporter, status, decided_at) VALUES"
         "  ('TL-AAAAAA', 'p1', 'confirmed', now()), ('TL-BBBBBB', 'p2', 'new', NULL);"
         "INSERT INTO followups (report_id, asked_by, question)"
         "  SELECT id, 'alice', 'q?' FROM reports ORDER BY id;"
         "INSERT INTO chats (chat_id, reporter, lang, blocked) VALUES (4501, 'p1', 'en', false),"
         "  (4502, 'p2', 'en', true) RETURNING 1");
    assert_int_equal(store_open(e.ci, &s, &ei), TL_OK);
    exec(&e, "ALTER FUNCTION store_apply_plan(jsonb) RENAME TO store_apply_plan_away; SELECT 1");
    assert_int_equal(store_relay_followups(s, 10, compose_named, NULL, &c, &ei), TL_EDB);
    assert_int_equal(store_relay_reviewed(s, 10, 1, compose_named, NULL, &c, &ei), TL_EDB);
    exec(&e, "ALTER FUNCTION store_apply_plan_away(jsonb) RENAME TO store_apply_plan; SELECT 1");
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(count(&e, "SELECT count(*) FROM followups WHERE relayed_at IS NOT NULL"
                               " OR relay_error IS NOT NULL"),
                     0);

    assert_int_equal(store_relay_followups(s, 10, compose_named, NULL, &c, &ei), TL_OK);
    assert_int_equal(c.queued, 1);
    assert_int_equal(c.refused, 1);
    assert_int_equal(store_relay_reviewed(s, 10, 1, compose_named, NULL, &c, &ei), TL_OK);
    assert_int_equal(c.queued, 1);
    char *got = ts_db_scalar(
        e.ci,
        "SELECT string_agg(o.chat_id || ':' || (o.params->>'text') || ':' ||"
        " COALESCE(r.public_ref, '-'), ',' ORDER BY o.id) FROM outbox o"
        " LEFT JOIN followups f ON f.id = o.followup_id LEFT JOIN reports r ON r.id = f.report_id");
    assert_string_equal(got, "4501:q TL-AAAAAA:TL-AAAAAA,4501:reviewed TL-AAAAAA:-");
    free(got);
    got = ts_db_scalar(e.ci, "SELECT string_agg(r.public_ref || ':' || (f.relayed_at IS NOT NULL)"
                             " || ':' || COALESCE(f.relay_error, '-'), ',' ORDER BY f.id)"
                             " FROM followups f JOIN reports r ON r.id = f.report_id");
    assert_string_equal(got, "TL-AAAAAA:true:-,TL-BBBBBB:false:chat blocked");
    free(got);
    assert_int_equal(
        count(&e, "SELECT count(*) FROM reports WHERE reviewed_notified_at IS NOT NULL"), 1);
    assert_int_equal(store_relay_followups(s, 10, compose_named, NULL, &c, &ei), TL_OK);
    assert_int_equal(c.queued + c.refused, 0);
    assert_int_equal(store_relay_reviewed(s, 10, 1, compose_named, NULL, &c, &ei), TL_OK);
    assert_int_equal(c.queued + c.refused, 0);
    assert_int_equal(count(&e, "SELECT count(*) FROM outbox"), 2);
    store_free(s);
    ts_db_drop(e.db);
    free(e.ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_relay_question_answer_round_trip, tb_teardown),
        cmocka_unit_test_teardown(test_relay_blocked_gone_undelivered, tb_teardown),
        cmocka_unit_test_teardown(test_relay_reviewed_notice_once, tb_teardown),
        cmocka_unit_test_teardown(test_relay_reviewed_disabled, tb_teardown),
        cmocka_unit_test(test_relay_answer_applied_once),
        cmocka_unit_test(test_relay_writes_through_the_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
