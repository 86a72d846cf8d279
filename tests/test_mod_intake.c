/* tests/test_mod_intake.c - moderation at intake, played whole: the runtime threads (or
 * the real `tipline bot` process, for SIGHUP) against the fake Bot API on loopback and a
 * throwaway PostgreSQL, with the analysts' API (web/) on top. Citizens send texts and
 * press "Send now"; the tests check the rows written (reports, verdicts, campaigns,
 * rate state), what the bot said to each citizen (the fake's call record), and what the
 * analysts' queue shows through the HTTP API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "handlers/hdl.h"
#include "storage/store.h"
#include "support/botproc.h"
#include "support/botrun.h"
#include "support/photogen.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"

static const char TOKEN_ANA[] = "tok-ana-moderation-0123456789";
static const char TOKEN_MOD[] = "tok-mod-moderation-0123456789";

struct world {
    char name[48];
    char *ci;
    struct fakebot *fb;
    struct cfg c;
    struct web *web;
    long long next_mid;
};

static pid_t g_bot;

static int teardown(void **state)
{
    (void)state;
    bp_kill(&g_bot);
    return tb_teardown(state);
}

static void add_account(const char *ci, const char *name, const char *role, const char *token)
{
    struct store *s = NULL;
    struct tl_errinfo ei;
    unsigned char md[32];
    unsigned int mdn = 0;
    char sha[65];
    assert_int_equal(store_open(ci, &s, &ei), TL_OK);
    assert_true(EVP_Digest(token, strlen(token), md, &mdn, EVP_sha256(), NULL));
    tl_hex(md, 32, sha);
    assert_int_equal(store_account_add(s, "test", name, role, sha, &ei), TL_OK);
    store_free(s);
}

/* A database, the fake Bot API and the configuration (moderation on, its limits as the
 * test sets them before world_start). */
static void world_open(struct world *w, const char *name)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "t_modi_%s", name);
    w->ci = ts_db_create(w->name);
    assert_non_null(w->ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &w->fb), TL_OK);
    tb_cfg(&w->c, w->ci);
    w->c.http_timeout_ms = 3000;
    w->c.moderation = 1;
    w->next_mid = 100;
    add_account(w->ci, "ana", "analyst", TOKEN_ANA);
    add_account(w->ci, "mo", "moderator", TOKEN_MOD);
}

static void world_start(struct world *w)
{
    tb_start(&w->c, w->fb, 5, 0);
    struct tl_errinfo ei;
    struct web_opts o = {.cfg = &w->c, .listen = "127.0.0.1:0"};
    assert_int_equal(web_start(&o, &w->web, &ei), TL_OK);
}

static void world_close(struct world *w)
{
    web_free(w->web);
    if (tb_running())
        tb_stop();
    cfg_release(&w->c);
    fakebot_stop(w->fb);
    ts_db_drop(w->name);
    free(w->ci);
}

#define count(w, ...) ts_db_countf((w)->ci, __VA_ARGS__)

/* Waits until every update is handled and every reply delivered. */
static void settle(struct world *w, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    while (tl_now_ms() < end) {
        if (fakebot_pending(w->fb) == 0 &&
            count(w, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0 &&
            count(w, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')") == 0)
            return;
        tl_sleep_ms(20, NULL);
    }
    fail_msg("the bot did not settle");
}

/* A citizen (user = chat) sends text and presses "Send now" on the draft it started;
 * pushed without waiting. */
static void send_report(struct fakebot *fb, long long *next_mid, long long chat, const char *lang,
                        const char *text)
{
    struct json_object *t = json_object_new_string(text);
    long long mid = (*next_mid)++;
    char *j = tl_asprintf("{\"message\":{\"message_id\":%lld,\"date\":%lld,\"chat\":{\"id\":%lld,"
                          "\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"C\",\"language_code\":\"%s\"},\"text\":%s}}",
                          mid, (long long)(tl_now_ms() / 1000), chat, chat, lang,
                          json_object_to_json_string(t));
    json_object_put(t);
    int id = fakebot_push_update(fb, j);
    free(j);
    assert_true(id > 0);
    j = tl_asprintf("{\"callback_query\":{\"id\":\"q%lld\",\"from\":{\"id\":%lld,"
                    "\"is_bot\":false,\"first_name\":\"C\",\"language_code\":\"%s\"},"
                    "\"chat_instance\":\"7\",\"data\":\"%d:send\",\"message\":{\"message_id\":"
                    "%lld,\"date\":1,\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":\"k\"}}}",
                    mid, chat, lang, id, 100000 + mid, chat);
    assert_true(fakebot_push_update(fb, j) > 0);
    free(j);
}

/* How many texts the bot sent or put in place (sendMessage, editMessageText) to chat
 * that contain needle. */
static size_t told(struct fakebot *fb, long long chat, const char *needle)
{
    size_t n = 0;
    const char *methods[] = {"sendMessage", "editMessageText"};
    for (size_t m = 0; m < 2; m++) {
        char *js = fakebot_calls_json(fb, methods[m]);
        struct json_object *arr = json_tokener_parse(js);
        free(js);
        assert_non_null(arr);
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *c = json_object_array_get_idx(arr, i), *p, *v;
            if (!json_object_object_get_ex(c, "params", &p))
                continue;
            long long to = 0;
            if (json_object_object_get_ex(p, "chat_id", &v))
                to = json_object_is_type(v, json_type_string)
                         ? strtoll(json_object_get_string(v), NULL, 10)
                         : json_object_get_int64(v);
            if (to == chat && json_object_object_get_ex(p, "text", &v) &&
                strstr(json_object_get_string(v), needle))
                n++;
        }
        json_object_put(arr);
    }
    return n;
}

/* The catalog's text for key up to its first placeholder or line end (what every reply
 * made from it starts with). */
static char *catalog_head(const char *lang, const char *key)
{
    char *t = hdl_text(lang, key, (char *)NULL);
    assert_non_null(t);
    t[strcspn(t, "{\n")] = 0;
    return t;
}

static struct ts_hres http(struct world *w, const char *token, const char *path, const char *body)
{
    return ts_http(web_port(w->web), path, token, body);
}

/* The public refs the analysts' list (GET /api/reports, every page) shows. */
static size_t queue_refs(struct world *w, char refs[][16], size_t max)
{
    struct ts_hres r = http(w, TOKEN_ANA, "/api/reports?limit=200", NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *items;
    tl_buf_release(&r.body);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "items", &items));
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n && i < max; i++) {
        struct json_object *ref;
        assert_true(json_object_object_get_ex(json_object_array_get_idx(items, i), "ref", &ref));
        tl_strlcpy(refs[i], json_object_get_string(ref), 16);
    }
    json_object_put(o);
    return n;
}

/* POST /api/queue/claim: 1 when the analyst got a report. */
static int claim(struct world *w)
{
    struct ts_hres r = http(w, TOKEN_ANA, "/api/queue/claim", "{}");
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *rep;
    tl_buf_release(&r.body);
    assert_non_null(o);
    int got = json_object_object_get_ex(o, "report", &rep) && rep != NULL;
    json_object_put(o);
    return got;
}

/* ---- a flood: 500 near-identical texts from 100 new reporters ---- */

static void test_mod_intake_flood_is_one_held_campaign(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "flood");
    w.c.mod_new_rate_burst = 10; /* the flood is caught as a campaign, not by the rate */
    w.c.mod_new_rate_per_hour = 100;
    world_start(&w);
    static const char *const tails[] = {"", " терміново!!!", " 🔥🔥", " ПОШИРТЕ", " всім"};
    char text[256];
    int64_t t0 = tl_now_ms();
    for (int round = 0; round < 5; round++)
        for (int r = 0; r < 100; r++) {
            /* small variations: digits, case, emoji, a word added; the count differs
             * in each of a reporter's rounds, so none folds into that reporter's own
             * earlier report */
            snprintf(text, sizeof(text),
                     "%s колона ворожої техніки %d одиниць рухається на Харків, евакуюйтесь "
                     "негайно%s",
                     (r + round) % 2 ? "Увага!" : "УВАГА", 10 + (r + round) % 37,
                     tails[(r + round) % 5]);
            send_report(w.fb, &w.next_mid, 5000000 + r, "uk", text);
        }
    settle(&w, 240000);
    long long took = tl_now_ms() - t0;
    fprintf(stderr, "flood: 1000 updates handled in %lld ms\n", took);

    /* nothing lost: every report recorded, every one held in one campaign */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 500);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'held'"), 500);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts v JOIN mod_campaigns c"
                               " ON c.id = v.campaign_id AND c.status = 'held'"
                               " WHERE v.verdict = 'hold' AND 'campaign' = ANY (v.reasons)"),
                     500);
    assert_int_equal(count(&w, "SELECT count(DISTINCT r.reporter) FROM reports r"
                               " JOIN mod_verdicts v ON v.report_id = r.id"),
                     100);
    /* the analysts see none of it, through the API */
    char refs[8][16];
    assert_int_equal(queue_refs(&w, refs, 8), 0);
    assert_int_equal(claim(&w), 0);
    /* each citizen got the usual thanks (a hold says nothing), never a refusal */
    char *sent = catalog_head("uk", "sent");
    for (int r = 0; r < 100; r += 33)
        assert_int_equal(told(w.fb, 5000000 + r, sent), 5);
    free(sent);
    world_close(&w);
}

/* ---- bans: an open ban is told once, a shadow-ban gets the usual thanks ---- */

static void test_mod_intake_bans_hold_at_intake(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "bans");
    world_start(&w);
    const long long open_chat = 7100001, shadow_chat = 7100002;
    send_report(w.fb, &w.next_mid, open_chat, "en", "Two tanks near the bridge in the north");
    send_report(w.fb, &w.next_mid, shadow_chat, "uk", "Дрон над заводом, летить на схід");
    settle(&w, 20000);
    char refs[8][16];
    assert_int_equal(queue_refs(&w, refs, 8), 2);

    /* the moderator bans one through the API; the other is shadow-banned */
    char *open_ps =
        ts_db_scalarf(w.ci, "SELECT reporter FROM chats WHERE chat_id = %lld", tb_chat(7100001));
    char *path = tl_asprintf("/api/reporters/%.16s/ban", open_ps);
    struct ts_hres r = http(&w, TOKEN_MOD, path, "{\"reason\":\"abuse\"}");
    assert_int_equal(r.status, 200);
    tl_buf_release(&r.body);
    free(path);
    assert_int_equal(count(&w,
                           "WITH s AS (UPDATE reporters SET shadow_banned = true WHERE pseudonym ="
                           " (SELECT reporter FROM chats WHERE chat_id = %lld) RETURNING 1)"
                           " SELECT count(*) FROM s",
                           tb_chat(shadow_chat)),
                     1);
    fakebot_reset_calls(w.fb);

    /* each time other words: the same words again would be folded into the first */
    for (int i = 0; i < 3; i++) {
        char en[96], uk[96];
        snprintf(en, sizeof(en), "More tanks near the bridge, %d of them", 10 + i);
        snprintf(uk, sizeof(uk), "Ще дрони над заводом, %d штуки", 3 + i);
        send_report(w.fb, &w.next_mid, open_chat, "en", en);
        send_report(w.fb, &w.next_mid, shadow_chat, "uk", uk);
    }
    settle(&w, 20000);

    /* recorded for the moderators, never in the analysts' queue */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'banned'"),
                     3);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'shadow_banned'"),
                     3);
    assert_int_equal(queue_refs(&w, refs, 8), 2); /* the two from before the bans */
    assert_int_equal(claim(&w), 1);
    assert_int_equal(claim(&w), 1);
    assert_int_equal(claim(&w), 0);

    /* the open ban is told once, in the reporter's language; nothing else after it */
    char *banned = catalog_head("en", "mod_banned"), *sent_en = catalog_head("en", "sent");
    assert_int_equal(told(w.fb, open_chat, banned), 1);
    assert_int_equal(told(w.fb, open_chat, sent_en), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM reporters WHERE ban_notice_at IS NOT NULL"),
                     1);
    /* the shadow-banned one sees no difference: the usual thanks, every time */
    char *sent_uk = catalog_head("uk", "sent"), *banned_uk = catalog_head("uk", "mod_banned");
    assert_int_equal(told(w.fb, shadow_chat, sent_uk), 3);
    assert_int_equal(told(w.fb, shadow_chat, banned_uk), 0);
    free(banned);
    free(sent_en);
    free(sent_uk);
    free(banned_uk);
    free(open_ps);
    world_close(&w);
}

/* ---- rate limits: told to slow down, nothing lost, the state survives a restart ---- */

static void test_mod_intake_rate_limited_told_and_kept(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "rate");
    w.c.mod_new_rate_burst = 2;
    w.c.mod_new_rate_per_hour = 1;
    world_start(&w);
    const long long chat = 7200001;
    for (int i = 0; i < 4; i++) {
        char text[96];
        snprintf(text, sizeof(text), "Report number %d: a convoy on the ring road", i);
        send_report(w.fb, &w.next_mid, chat, "en", text);
    }
    settle(&w, 20000);
    char *slow = catalog_head("en", "mod_slow_down"), *sent = catalog_head("en", "sent");
    assert_int_equal(told(w.fb, chat, sent), 2);
    assert_int_equal(told(w.fb, chat, slow), 2);
    /* nothing lost: the refused reports are recorded, words and all, for the moderators */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text LIKE 'Report number %%'"),
                     4);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'rate_limited' AND r.text LIKE 'Report number%%'"),
                     2);
    char refs[8][16];
    assert_int_equal(queue_refs(&w, refs, 8), 2);

    /* a restart forgets nothing: the bucket is still empty */
    web_free(w.web);
    w.web = NULL;
    tb_stop();
    world_start(&w);
    fakebot_reset_calls(w.fb);
    send_report(w.fb, &w.next_mid, chat, "en", "Report number 5: the convoy turned west");
    settle(&w, 20000);
    assert_int_equal(told(w.fb, chat, slow), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE verdict = 'rate_limited'"),
                     3);

    /* the same words again fold into that held report: still one report, still its one
     * verdict, and the update is handled, not refused */
    send_report(w.fb, &w.next_mid, chat, "en", "Report number 5: the convoy turned west");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text LIKE 'Report number 5%%'"
                               " AND folds = 1 AND status = 'held'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE verdict = 'rate_limited'"),
                     3);
    free(slow);
    free(sent);
    world_close(&w);
}

/* A press of data on the draft keyboard of chat (pushed without waiting). */
static void press_data(struct fakebot *fb, long long *next_mid, long long chat, const char *data)
{
    long long mid = (*next_mid)++;
    char *j = tl_asprintf("{\"callback_query\":{\"id\":\"q%lld\",\"from\":{\"id\":%lld,"
                          "\"is_bot\":false,\"first_name\":\"C\",\"language_code\":\"en\"},"
                          "\"chat_instance\":\"7\",\"data\":\"%s\",\"message\":{\"message_id\":"
                          "%lld,\"date\":1,\"chat\":{\"id\":%lld,\"type\":\"private\"},"
                          "\"text\":\"k\"}}}",
                          mid, chat, data, 100000 + mid, chat);
    assert_true(fakebot_push_update(fb, j) > 0);
    free(j);
}

/* A text, then "step by step", the category, "Send now": a report of that category. */
static void send_categorised(struct world *w, long long chat, const char *cat, const char *text)
{
    struct json_object *t = json_object_new_string(text);
    char *j = tl_asprintf("{\"message\":{\"message_id\":%lld,\"date\":%lld,\"chat\":{\"id\":"
                          "%lld,\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"C\",\"language_code\":\"en\"},\"text\":%s}}",
                          w->next_mid++, (long long)(tl_now_ms() / 1000), chat, chat,
                          json_object_to_json_string(t));
    json_object_put(t);
    int id = fakebot_push_update(w->fb, j);
    free(j);
    assert_true(id > 0);
    char data[64];
    snprintf(data, sizeof(data), "%d:g", id);
    press_data(w->fb, &w->next_mid, chat, data);
    snprintf(data, sizeof(data), "%d:c:%s", id, cat);
    press_data(w->fb, &w->next_mid, chat, data);
    snprintf(data, sizeof(data), "%d:send", id);
    press_data(w->fb, &w->next_mid, chat, data);
}

/* ---- rate limits per category, on top of the reporter's own ---- */

static void test_mod_intake_category_rate_limit(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "catrate");
    w.c.mod_new_rate_burst = 10;
    w.c.mod_new_rate_per_hour = 100;
    free(w.c.mod_category_rates);
    w.c.mod_category_rates = tl_strdup("shelling:1:1,drones:1:2");
    world_start(&w);
    const long long chat = 7800001;
    send_categorised(&w, chat, "drones", "Two drones over the river");
    send_categorised(&w, chat, "drones", "A third drone over the river");
    send_categorised(&w, chat, "drones", "A fourth drone over the river");
    send_categorised(&w, chat, "shelling", "Explosions in the east");
    send_report(w.fb, &w.next_mid, chat, "en", "No category: smoke in the park");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 5);
    /* drones: a burst of 2, the third refused; shelling and no category untouched */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v ON v.report_id"
                               " = r.id WHERE v.verdict = 'rate_limited' AND r.category = 'drones'"
                               " AND r.text LIKE 'A fourth%%'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"), 4);
    char *slow = catalog_head("en", "mod_slow_down");
    assert_int_equal(told(w.fb, chat, slow), 1);
    free(slow);
    world_close(&w);
}

/* ---- rules: a catastrophic pattern costs a bounded time; the next message is handled ---- */

static char *write_rules(const char *text)
{
    char path[] = "/tmp/tipline-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ts_write_file(path, text), 0);
    return tl_strdup(path);
}

static void test_mod_intake_catastrophic_rule_bounded(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "rules");
    char *rules = write_rules("hold   spam.aaa  (a+)+$\n"
                              "refuse abuse.fruit \\bforbidden apple\\b\n");
    free(w.c.moderation_rules);
    w.c.moderation_rules = tl_strdup(rules);
    world_start(&w);
    char run[4001];
    memset(run, 'a', 3999);
    run[3999] = '!';
    run[4000] = 0;
    int64_t t0 = tl_now_ms();
    send_report(w.fb, &w.next_mid, 7300001, "en", run);
    send_report(w.fb, &w.next_mid, 7300002, "en", "a forbidden apple over the square");
    /* the rule is off now: fast (another citizen: the same words twice would be folded) */
    send_report(w.fb, &w.next_mid, 7300003, "en", run);
    settle(&w, 20000);
    long long took = tl_now_ms() - t0;
    fprintf(stderr, "catastrophic pattern: 6 updates handled in %lld ms\n", took);
    assert_true(took < 5000);
    /* over its limits the rule counts as no match: the run of a's is not held */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"
                               " AND text LIKE 'aaaa%%'"),
                     2);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE 'rule:spam.aaa' ="
                               " ANY (reasons)"),
                     0);
    /* the next message was judged by the rules still in force */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE v.verdict = 'refuse'"
                               " AND 'rule:abuse.fruit' = ANY (v.reasons) AND r.status = 'held'"),
                     1);
    assert_int_equal(count(&w, "SELECT hits FROM mod_rule_hits WHERE reason = 'abuse.fruit'"), 1);
    char *refused = catalog_head("en", "mod_refused");
    assert_int_equal(told(w.fb, 7300002, refused), 1);
    free(refused);
    unlink(rules);
    free(rules);
    world_close(&w);
}

/* ---- SIGHUP: the real process reloads its rules; a broken file keeps the old set ---- */

static int log_has(const char *path, const char *needle)
{
    char *t = ts_read_file(path, NULL);
    int has = t && strstr(t, needle) != NULL;
    free(t);
    return has;
}

static void wait_log(const char *path, const char *needle)
{
    int64_t end = tl_now_ms() + 15000;
    while (tl_now_ms() < end && !log_has(path, needle))
        tl_sleep_ms(50, NULL);
    if (!log_has(path, needle))
        fail_msg("no \"%s\" in %s", needle, path);
}

static long long verdicts_for(const char *ci, const char *text, const char *verdict)
{
    char *sql = tl_asprintf("SELECT count(*) FROM reports r JOIN mod_verdicts v ON v.report_id ="
                            " r.id WHERE r.text = '%s' AND v.verdict = '%s'",
                            text, verdict);
    long long n = ts_db_count(ci, sql);
    free(sql);
    return n;
}

/* The real `tipline bot` (in g_bot) with a rules file holding text, logging to logf. */
struct rbot {
    char key[32], logf[40];
    char *rules, *env;
};

static void rbot_start(struct rbot *b, const char *ci, struct fakebot *fb, const char *text)
{
    tl_strlcpy(b->key, "/tmp/tipline-key-XXXXXX", sizeof(b->key));
    close(mkstemp(b->key));
    assert_int_equal(ts_write_file(b->key, "modi-test-secret-modi-test-secret-01"), 0);
    tl_strlcpy(b->logf, "/tmp/tipline-modi-log-XXXXXX", sizeof(b->logf));
    close(mkstemp(b->logf));
    b->rules = write_rules(text);
    b->env = tl_asprintf("TIPLINE_MODERATION_RULES=%s", b->rules);
    const char *const extra[] = {b->env, "TIPLINE_LOG_LEVEL=info", NULL};
    g_bot = bp_spawn(ci, fb, b->key, b->logf, extra);
}

static void rbot_stop(struct rbot *b)
{
    bp_term(&g_bot);
    unlink(b->rules);
    unlink(b->key);
    unlink(b->logf);
    free(b->rules);
    free(b->env);
}

static void test_mod_intake_sighup_reload_keeps_old_on_error(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_modi_hup");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    struct rbot b;
    rbot_start(&b, ci, fb, "refuse fruit.apple \\bapple\\b\n");
    const char *rules = b.rules, *logf = b.logf;
    wait_log(logf, "moderation rules loaded");
    long long mid = 100;

    send_report(fb, &mid, 7400001, "en", "an apple cart near the station");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 1, 15000);
    assert_int_equal(verdicts_for(ci, "an apple cart near the station", "refuse"), 1);

    /* a new set on SIGHUP */
    assert_int_equal(ts_write_file(rules, "refuse fruit.banana \\bbanana\\b\n"), 0);
    assert_int_equal(kill(g_bot, SIGHUP), 0);
    wait_log(logf, "moderation rules reloaded");
    send_report(fb, &mid, 7400002, "en", "an apple cart again");
    send_report(fb, &mid, 7400003, "en", "a banana truck on the bridge");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 3, 15000);
    assert_int_equal(verdicts_for(ci, "an apple cart again", "refuse"), 0);
    assert_int_equal(verdicts_for(ci, "a banana truck on the bridge", "refuse"), 1);

    /* a broken file: refused with its line and column, the rules in force stay */
    assert_int_equal(ts_write_file(rules, "# fruit\nrefuse fruit.cherry (cherry\n"), 0);
    assert_int_equal(kill(g_bot, SIGHUP), 0);
    wait_log(logf, "moderation rules refused");
    assert_true(log_has(logf, "line=2 column="));
    /* ...and recorded where the moderators read it: the one rule still in force */
    bp_wait_count(ci,
                  "SELECT count(*) FROM mod_rules_loads WHERE NOT ok AND error_line = 2"
                  " AND rules = 1 AND reload_id IS NULL",
                  1, 15000);
    send_report(fb, &mid, 7400004, "en", "a banana truck once more");
    send_report(fb, &mid, 7400005, "en", "a cherry tree fell");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 5, 15000);
    assert_int_equal(verdicts_for(ci, "a banana truck once more", "refuse"), 1);
    assert_int_equal(verdicts_for(ci, "a cherry tree fell", "refuse"), 0);

    rbot_stop(&b);
    fakebot_stop(fb);
    ts_db_drop("t_modi_hup");
    free(ci);
}

/* ---- the moderators' tools: tipline mod, reputation from outcomes, audited ---- */

/* Runs `tipline mod ARGS` on w's database (stderr to stdout); returns its exit status. */
static int mod_cli(struct world *w, const char *args, char **out)
{
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' USER=mia %s mod %s 2>&1", w->ci,
                            getenv("TL_TIPLINE_BIN"), args);
    int st = ts_run(cmd, out);
    free(cmd);
    return st;
}

static long long reputation_of(struct world *w, long long chat)
{
    return count(w,
                 "SELECT p.reputation FROM reporters p JOIN chats c ON c.reporter ="
                 " p.pseudonym WHERE c.chat_id = %lld",
                 tb_chat(chat));
}

static void test_mod_intake_moderator_tools(void **state)
{
    (void)state;
    if (!getenv("TL_TIPLINE_BIN"))
        skip();
    struct world w;
    world_open(&w, "tools");
    world_start(&w);
    /* two floods of 4 new reporters each, and one ordinary report */
    for (int r = 0; r < 4; r++) {
        char text[160];
        snprintf(text, sizeof(text), "Free crypto for everyone, send %d to the wallet now!!", r);
        send_report(w.fb, &w.next_mid, 7500000 + r, "en", text);
    }
    settle(&w, 20000);
    for (int r = 0; r < 4; r++) {
        char text[160];
        snprintf(text, sizeof(text), "They are lying, the city has already surrendered %d", r);
        send_report(w.fb, &w.next_mid, 7600000 + r, "en", text);
    }
    send_report(w.fb, &w.next_mid, 7700000, "en", "Smoke over the northern district now");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns WHERE status = 'held'"), 2);
    char refs[16][16];
    assert_int_equal(queue_refs(&w, refs, 16), 1);

    char *out = NULL;
    assert_int_equal(mod_cli(&w, "campaigns --status held", &out), 0);
    assert_non_null(strstr(out, "Free crypto"));
    assert_non_null(strstr(out, "surrendered"));
    free(out);
    assert_int_equal(mod_cli(&w, "held --verdict hold", &out), 0);
    size_t lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 1 + 8); /* the header and the eight held reports */
    free(out);

    /* reject the scam: its reports decided, each reporter's reputation down by one */
    char *crypto = ts_db_scalar(w.ci, "SELECT id FROM mod_campaigns WHERE sample LIKE 'Free%'");
    char *args = tl_asprintf("reject campaign %s", crypto);
    assert_int_equal(mod_cli(&w, args, NULL), 0);
    free(args);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'rejected'"
                               " AND decided_by = 'cli:mia' AND text LIKE 'Free crypto%%'"),
                     4);
    for (int r = 0; r < 4; r++)
        assert_int_equal(reputation_of(&w, 7500000 + r), -1);
    /* a moderator's rejection is no analyst's decision: the reporters' decided counters
     * (n_confirmed / n_rejected, moved with the reputation only for web_decide and
     * web_reopen) stay as they were */
    assert_int_equal(count(&w, "SELECT count(*) FROM reporters WHERE n_rejected <> 0"
                               " OR n_confirmed <> 0"),
                     0);
    /* release the other: its reports enter the queue, reputations unchanged */
    char *other = ts_db_scalar(w.ci, "SELECT id FROM mod_campaigns WHERE sample LIKE 'They%'");
    args = tl_asprintf("release campaign %s", other);
    assert_int_equal(mod_cli(&w, args, NULL), 0);
    free(args);
    /* the list: the ordinary report, the 4 released, the 4 rejected (decided) */
    assert_int_equal(queue_refs(&w, refs, 16), 9);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"), 5);
    for (int r = 0; r < 4; r++)
        assert_int_equal(reputation_of(&w, 7600000 + r), 0);
    /* a campaign decided once is not decided again */
    args = tl_asprintf("release campaign %s", crypto);
    assert_int_equal(mod_cli(&w, args, &out), 1);
    assert_non_null(strstr(out, "already"));
    free(out);
    free(args);

    /* a ban with a sweep takes the reporter's open report out of the queue */
    char *ps = ts_db_scalarf(w.ci, "SELECT left(reporter, 12) FROM chats WHERE chat_id = %lld",
                             tb_chat(7700000));
    args = tl_asprintf("ban %s --sweep --reason spam", ps);
    assert_int_equal(mod_cli(&w, args, &out), 0);
    assert_non_null(strstr(out, "\"swept\": 1"));
    free(out);
    free(args);
    assert_int_equal(queue_refs(&w, refs, 16), 8);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"), 4);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE verdict = 'banned'"
                               " AND 'sweep' = ANY (reasons) AND resolution IS NULL"),
                     1);

    /* every action in the audit log, as who did it */
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE actor = 'cli:mia' AND ("
                               "(action = 'mod_reject' AND after->>'reports' = '4')"
                               " OR (action = 'mod_release' AND after->>'reports' = '4')"
                               " OR (action = 'ban' AND after->>'swept' = '1'))"),
                     3);

    /* rules: a file checked as the bot loads it; a broken one named by line and column */
    char *good = write_rules("hold spam.crypto free\\s+crypto\n");
    args = tl_asprintf("rules %s", good);
    assert_int_equal(mod_cli(&w, args, &out), 0);
    assert_non_null(strstr(out, "spam.crypto"));
    free(out);
    free(args);
    assert_int_equal(ts_write_file(good, "# x\nhold spam.crypto (free\n"), 0);
    args = tl_asprintf("rules %s", good);
    assert_int_equal(mod_cli(&w, args, &out), 1);
    char *where = tl_asprintf("%s:2:", good);
    assert_non_null(strstr(out, where));
    free(where);
    free(out);
    free(args);
    unlink(good);
    free(good);
    free(ps);
    free(crypto);
    free(other);
    world_close(&w);
}

/* ---- a reload asked through the API reaches the real process through the database ---- */

/* POST /api/mod/rules/reload as the moderator (waiting for the bot); the answer parsed. */
static struct json_object *api_reload(struct world *w, long long *id)
{
    struct ts_hres r = http(w, TOKEN_MOD, "/api/mod/rules/reload", "{\"wait\":10}");
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *v;
    tl_buf_release(&r.body);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "id", &v));
    *id = json_object_get_int64(v);
    assert_true(json_object_object_get_ex(o, "answered", &v));
    assert_int_equal(json_object_get_int(v), 1);
    return o;
}

/* The only outcome of a reload answer, or processes[0] of GET /api/mod/rules. */
static struct json_object *first_of(struct json_object *o, const char *list)
{
    struct json_object *a;
    assert_true(json_object_object_get_ex(o, list, &a));
    assert_int_equal(json_object_array_length(a), 1);
    return json_object_array_get_idx(a, 0);
}

static long long jint(struct json_object *o, const char *key)
{
    struct json_object *v;
    assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_int64(v);
}

static void test_mod_intake_reload_through_api(void **state)
{
    (void)state;
    if (!getenv("TL_TIPLINE_BIN"))
        skip();
    struct world w;
    world_open(&w, "reload");
    struct tl_errinfo ei;
    struct web_opts o = {.cfg = &w.c, .listen = "127.0.0.1:0"};
    assert_int_equal(web_start(&o, &w.web, &ei), TL_OK);
    /* asked while no bot runs: no answer yet; the bot answers it when it starts */
    struct ts_hres r = http(&w, TOKEN_MOD, "/api/mod/rules/reload", "{\"wait\":0}");
    assert_int_equal(r.status, 202);
    struct json_object *a = json_tokener_parse((char *)r.body.data), *x, *v;
    tl_buf_release(&r.body);
    long long early = jint(a, "id");
    assert_int_equal(jint(a, "answered"), 0);
    json_object_put(a);
    struct rbot b;
    rbot_start(&b, w.ci, w.fb, "refuse fruit.apple \\bapple\\b\n");
    const char *rules = b.rules;
    char path[64];
    snprintf(path, sizeof(path), "/api/mod/rules/reloads/%lld", early);
    for (int64_t end = tl_now_ms() + 15000; r.status != 200 && tl_now_ms() < end;) {
        tl_sleep_ms(50, NULL);
        r = http(&w, TOKEN_MOD, path, NULL);
        tl_buf_release(&r.body);
    }
    assert_int_equal(r.status, 200);
    /* the load at start is recorded as the process's */
    bp_wait_count(w.ci, "SELECT count(*) FROM mod_rules_loads WHERE ok AND rules = 1", 1, 15000);

    /* a good file: reloaded at once, the answer says how many rules are in force */
    assert_int_equal(ts_write_file(rules, "refuse fruit.banana \\bbanana\\b\n"
                                          "hold fruit.kiwi \\bkiwi\\b\n"),
                     0);
    long long id = 0;
    a = api_reload(&w, &id);
    x = first_of(a, "outcomes");
    assert_true(json_object_object_get_ex(x, "ok", &v) && json_object_get_boolean(v));
    assert_int_equal(jint(x, "rules"), 2);
    assert_int_equal(jint(x, "reload_id"), id);
    json_object_put(a);
    send_report(w.fb, &w.next_mid, 7500001, "en", "an apple cart near the depot");
    send_report(w.fb, &w.next_mid, 7500002, "en", "a banana truck on the ring road");
    bp_wait_count(w.ci, "SELECT count(*) FROM reports", 2, 15000);
    assert_int_equal(verdicts_for(w.ci, "an apple cart near the depot", "refuse"), 0);
    assert_int_equal(verdicts_for(w.ci, "a banana truck on the ring road", "refuse"), 1);

    /* a broken file: refused with its line and column; the two rules stay in force */
    assert_int_equal(ts_write_file(rules, "# fruit\nrefuse fruit.cherry (cherry\n"), 0);
    a = api_reload(&w, &id);
    x = first_of(a, "outcomes");
    assert_true(json_object_object_get_ex(x, "ok", &v) && !json_object_get_boolean(v));
    assert_int_equal(jint(x, "rules"), 2);
    assert_int_equal(jint(x, "line"), 2);
    assert_true(jint(x, "column") >= 20);
    assert_true(json_object_object_get_ex(x, "error", &v) && json_object_get_string_len(v) > 0);
    json_object_put(a);
    send_report(w.fb, &w.next_mid, 7500003, "en", "a banana truck once again");
    send_report(w.fb, &w.next_mid, 7500004, "en", "a cherry tree across the lane");
    bp_wait_count(w.ci, "SELECT count(*) FROM reports", 4, 15000);
    assert_int_equal(verdicts_for(w.ci, "a banana truck once again", "refuse"), 1);
    assert_int_equal(verdicts_for(w.ci, "a cherry tree across the lane", "refuse"), 0);

    /* what the process holds, as the moderators' page and the request read it */
    r = http(&w, TOKEN_MOD, "/api/mod/rules", NULL);
    assert_int_equal(r.status, 200);
    a = json_tokener_parse((char *)r.body.data);
    tl_buf_release(&r.body);
    x = first_of(a, "processes");
    assert_true(json_object_object_get_ex(x, "ok", &v) && !json_object_get_boolean(v));
    assert_int_equal(jint(x, "rules"), 2);
    assert_int_equal(jint(x, "line"), 2);
    json_object_put(a);
    snprintf(path, sizeof(path), "/api/mod/rules/reloads/%lld", id);
    r = http(&w, TOKEN_MOD, path, NULL);
    assert_int_equal(r.status, 200);
    tl_buf_release(&r.body);
    r = http(&w, TOKEN_ANA, "/api/mod/rules/reload", "{\"wait\":0}");
    assert_int_equal(r.status, 403);
    tl_buf_release(&r.body);

    /* `tipline mod reload` asks the same way; a refusal is exit 1 */
    char *out = NULL;
    assert_int_equal(mod_cli(&w, "reload", &out), 1);
    assert_non_null(strstr(out, "\tfalse\t2\t"));
    assert_non_null(strstr(out, "missing closing parenthesis"));
    free(out);
    assert_int_equal(ts_write_file(rules, "flag fruit.plum \\bplum\\b\n"), 0);
    assert_int_equal(mod_cli(&w, "reload", &out), 0);
    free(out);
    char *args = tl_asprintf("rules %s", rules);
    assert_int_equal(mod_cli(&w, args, &out), 0); /* the file, then what the bot holds */
    assert_non_null(strstr(out, "in force:"));
    assert_non_null(strstr(out, "\ttrue\t1\t"));
    free(out);
    free(args);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE action = 'mod_rules_reload'"),
                     5);

    rbot_stop(&b);
    world_close(&w);
}

/* ---- text hygiene: raw text kept, displayed neutralised, links listed ---- */

static void test_mod_intake_text_hygiene_stored(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "hygiene");
    world_start(&w);
    /* a right-to-left override turning a place name around, a bell, an isolate, links */
    const char *raw = "Column near \xE2\x80\xAEtsop\xE2\x80\xAC bridge\x07, see "
                      "https://t.me/fake_news_ua and @kyiv_watch \xE2\x81\xA6x\xE2\x81\xA9";
    send_report(w.fb, &w.next_mid, 7600001, "en", raw);
    /* a message longer than Telegram allows is kept to its 4096 characters */
    char *lng = malloc(5001);
    assert_non_null(lng);
    for (int i = 0; i < 5000; i++)
        lng[i] = (char)('a' + i % 26);
    lng[5000] = 0;
    send_report(w.fb, &w.next_mid, 7600002, "en", lng);
    free(lng);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 2);
    char *id = ts_db_scalarf(w.ci,
                             "SELECT r.id FROM reports r JOIN chats c ON c.reporter ="
                             " r.reporter WHERE c.chat_id = %lld",
                             tb_chat(7600001));
    assert_non_null(id);
    /* the raw text is the evidence, byte for byte */
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM reports WHERE id = %s AND text = convert_from("
                           "'\\x%s'::bytea, 'UTF8')",
                           id,
                           "436f6c756d6e206e65617220e280ae74736f70e280ac20627269646765072c20"
                           "7365652068747470733a2f2f742e6d652f66616b655f6e6577735f756120616e"
                           "6420406b7969765f776174636820e281a678e281a9"),
                     1);
    /* what is shown has neither the overrides nor the bell */
    char *disp = ts_db_scalarf(w.ci, "SELECT text_display FROM reports WHERE id = %s", id);
    assert_non_null(disp);
    assert_string_equal(disp, "Column near tsop bridge\xEF\xBF\xBD, see https://t.me/fake_news_ua"
                              " and @kyiv_watch x");
    free(disp);
    char *links = ts_db_scalarf(w.ci, "SELECT links::text FROM reports WHERE id = %s", id);
    assert_string_equal(links, "{https://t.me/fake_news_ua,@kyiv_watch}");
    free(links);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text_display IS NULL"
                               " AND links IS NULL AND length(text) = 4096"),
                     1);

    /* the analysts' API: the text as displayed, the links, and the raw text */
    char path[64];
    snprintf(path, sizeof(path), "/api/reports/%s", id);
    struct ts_hres r = http(&w, TOKEN_ANA, path, NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *v;
    tl_buf_release(&r.body);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "text_display", &v));
    assert_null(strstr(json_object_get_string(v), "\xE2\x80\xAE"));
    assert_non_null(strstr(json_object_get_string(v), "tsop bridge"));
    assert_true(json_object_object_get_ex(o, "text", &v));
    assert_non_null(strstr(json_object_get_string(v), "\xE2\x80\xAEtsop"));
    assert_true(json_object_object_get_ex(o, "links", &v));
    assert_int_equal(json_object_array_length(v), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "@kyiv_watch");
    json_object_put(o);
    free(id);
    world_close(&w);
}

/* ---- a photo campaign: the same picture from several new reporters ---- */

/* A citizen sends photo file_id (served by the fake) with no words and presses "Send
 * now"; pushed without waiting. */
static void send_photo(struct world *w, long long chat, const char *file_id)
{
    char *body = tl_asprintf("\"photo\":[{\"file_id\":\"%s\",\"file_unique_id\":\"u-%s\","
                             "\"width\":640,\"height\":480}]",
                             file_id, file_id);
    long long id = tb_say(w->fb, w->next_mid++, chat, "uk", body);
    free(body);
    char data[32];
    snprintf(data, sizeof(data), "%lld:send", id);
    tb_press(w->fb, w->next_mid, chat, w->next_mid, data);
    w->next_mid++;
}

static void test_mod_intake_photo_campaign_held(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "photo");
    world_start(&w);
    /* one picture, recompressed on its way through channels at a different quality for
     * each of 8 new reporters, and an unrelated picture from a ninth */
    struct pg_image scene, other;
    assert_int_equal(pg_scene(4242, 640, 480, &scene), 0);
    assert_int_equal(pg_scene(777, 640, 480, &other), 0);
    for (int r = 0; r < 9; r++) {
        unsigned char *jpeg = NULL;
        size_t len = 0;
        char id[32];
        assert_int_equal(pg_encode(r < 8 ? &scene : &other, 60 + 4 * r, &jpeg, &len), 0);
        snprintf(id, sizeof(id), "pc-%d", r);
        assert_int_equal(fakebot_add_file(w.fb, id, jpeg, len), TL_OK);
        free(jpeg);
        send_photo(&w, 7700000 + r, id);
    }
    pg_image_release(&scene);
    pg_image_release(&other);
    settle(&w, 60000);

    /* every report recorded; the eight are one held photo campaign */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 9);
    assert_int_equal(count(&w, "SELECT count(DISTINCT sha256) FROM media"), 9);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns WHERE kind = 'photo'"
                               " AND status = 'held'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'held'"), 8);
    assert_int_equal(count(&w, "SELECT count(DISTINCT r.reporter) FROM reports r JOIN"
                               " mod_verdicts v ON v.report_id = r.id WHERE v.campaign_id ="
                               " (SELECT id FROM mod_campaigns)"),
                     8);
    char *other_ref = ts_db_scalarf(w.ci,
                                    "SELECT r.public_ref FROM reports r JOIN chats c"
                                    " ON c.reporter = r.reporter WHERE c.chat_id = %lld"
                                    " AND r.status = 'new'",
                                    tb_chat(7700008));
    assert_non_null(other_ref);
    /* the analysts' queue, through the API, holds only the unrelated picture */
    char refs[8][16];
    assert_int_equal(queue_refs(&w, refs, 8), 1);
    assert_string_equal(refs[0], other_ref);
    free(other_ref);
    /* the moderators see the campaign and its members */
    struct ts_hres r = http(&w, TOKEN_MOD, "/api/mod/campaigns?status=held", NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *items, *v;
    tl_buf_release(&r.body);
    assert_true(json_object_object_get_ex(o, "items", &items));
    assert_int_equal(json_object_array_length(items), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(items, 0), "reporters", &v));
    assert_int_equal(json_object_get_int(v), 8);
    json_object_put(o);
    world_close(&w);
}

/* Two workers decided at once: a photo accepted while a campaign of the same picture
 * formed joins it when its verdict is written (mod_apply_verdict, under the campaign
 * lock), as a text does; an unrelated picture does not. */
static void test_mod_intake_photo_race_joins_campaign(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_modi_prace");
    assert_non_null(ci);
    char *cid = ts_db_scalar(
        ci, "WITH p AS (INSERT INTO reporters (pseudonym) VALUES ('a1'), ('b2'), ('c3')"
            "   RETURNING 1),"
            " r AS (INSERT INTO reports (public_ref, reporter, status) VALUES"
            "   ('PR-1', 'a1', 'held'), ('PR-2', 'b2', 'new'), ('PR-3', 'c3', 'new') RETURNING 1),"
            " c AS (INSERT INTO mod_campaigns (kind) VALUES ('photo') RETURNING id)"
            " SELECT id::text FROM c WHERE (SELECT count(*) FROM p) = 3"
            " AND (SELECT count(*) FROM r) = 3");
    assert_non_null(cid);
    char *sql = tl_asprintf("INSERT INTO mod_recent (reporter, report_id, text_len, has_photo,"
                            " phash, campaign_id) SELECT 'a1', id, 0, true, 1234567890123, %s"
                            " FROM reports WHERE public_ref = 'PR-1' RETURNING 1",
                            cid);
    free(ts_db_scalar(ci, sql));
    free(sql);
    /* both read their window before the campaign formed; 3 bits apart, and 40 */
    static const struct {
        const char *ref, *rep;
        long long phash;
    } late[] = {{"PR-2", "b2", 1234567890123LL ^ 0x10101}, {"PR-3", "c3", 0x5A5A5A5A5A5ALL}};
    for (size_t i = 0; i < 2; i++) {
        sql = tl_asprintf(
            "SELECT mod_apply_verdict(id, '%s', jsonb_build_object('v', 'accept', 'sig',"
            " jsonb_build_object('tl', 0, 'hp', true, 'ph', %lld), 'ws', 900, 'wt',"
            " extract(epoch FROM now()) - 1, 'sim', 0.5, 'ml', 20, 'pd', 6))::text"
            " FROM reports WHERE public_ref = '%s'",
            late[i].rep, late[i].phash, late[i].ref);
        free(ts_db_scalar(ci, sql));
        free(sql);
    }
    assert_int_equal(ts_db_countf(ci,
                                  "SELECT count(*) FROM reports r JOIN mod_verdicts v ON"
                                  " v.report_id = r.id WHERE r.public_ref = 'PR-2' AND"
                                  " r.status = 'held' AND v.campaign_id = %s AND"
                                  " 'campaign' = ANY (v.reasons)",
                                  cid),
                     1);
    assert_int_equal(ts_db_countf(ci, "SELECT count(*) FROM reports WHERE public_ref = 'PR-3'"
                                      " AND status = 'new' AND NOT EXISTS (SELECT 1 FROM"
                                      " mod_verdicts v WHERE v.report_id = reports.id)"),
                     1);
    free(cid);
    ts_db_drop("t_modi_prace");
    free(ci);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_mod_intake_flood_is_one_held_campaign, teardown),
        cmocka_unit_test_teardown(test_mod_intake_bans_hold_at_intake, teardown),
        cmocka_unit_test_teardown(test_mod_intake_rate_limited_told_and_kept, teardown),
        cmocka_unit_test_teardown(test_mod_intake_category_rate_limit, teardown),
        cmocka_unit_test_teardown(test_mod_intake_catastrophic_rule_bounded, teardown),
        cmocka_unit_test_teardown(test_mod_intake_sighup_reload_keeps_old_on_error, teardown),
        cmocka_unit_test_teardown(test_mod_intake_moderator_tools, teardown),
        cmocka_unit_test_teardown(test_mod_intake_reload_through_api, teardown),
        cmocka_unit_test_teardown(test_mod_intake_text_hygiene_stored, teardown),
        cmocka_unit_test_teardown(test_mod_intake_photo_campaign_held, teardown),
        cmocka_unit_test_teardown(test_mod_intake_photo_race_joins_campaign, teardown),
    };
    if (getenv("TL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("TL_TEST_FILTER"));
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
