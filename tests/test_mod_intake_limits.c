/* tests/test_mod_intake_limits.c - test_mod_intake: bans (an open ban told once, a
 * shadow-ban thanked as usual) and rate limits (told to slow down, nothing lost, the
 * state kept over a restart; per category on top of the reporter's own). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

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
#include "test_mod_intake_int.h"

/* ---- bans: an open ban is told once, a shadow-ban gets the usual thanks ---- */

static void test_mod_intake_bans_hold_at_intake(void **state)
{
    (void)state;
    struct world w;
    tmi_world_open(&w, "bans");
    tmi_world_start(&w);
    const long long open_chat = 7100001, shadow_chat = 7100002;
    tmi_send_report(w.fb, &w.next_mid, open_chat, "en", "Two tanks near the bridge in the north");
    tmi_send_report(w.fb, &w.next_mid, shadow_chat, "uk", "Дрон над заводом, летить на схід");
    tmi_settle(&w, 20000);
    char refs[8][16];
    assert_int_equal(tmi_queue_refs(&w, refs, 8), 2);

    /* the moderator bans one through the API; the other is shadow-banned */
    char *open_ps =
        ts_db_scalarf(w.ci, "SELECT reporter FROM chats WHERE chat_id = %lld", tb_chat(7100001));
    char *path = tl_asprintf("/api/reporters/%.16s/ban", open_ps);
    struct ts_hres r = tmi_http(&w, TOKEN_MOD, path, "{\"reason\":\"abuse\"}");
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
        tmi_send_report(w.fb, &w.next_mid, open_chat, "en", en);
        tmi_send_report(w.fb, &w.next_mid, shadow_chat, "uk", uk);
    }
    tmi_settle(&w, 20000);

    /* recorded for the moderators, never in the analysts' queue */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'banned'"),
                     3);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'shadow_banned'"),
                     3);
    assert_int_equal(tmi_queue_refs(&w, refs, 8), 2); /* the two from before the bans */
    assert_int_equal(tmi_claim(&w), 1);
    assert_int_equal(tmi_claim(&w), 1);
    assert_int_equal(tmi_claim(&w), 0);

    /* the open ban is told once, in the reporter's language; nothing else after it */
    char *banned = tmi_catalog_head("en", "mod_banned"), *sent_en = tmi_catalog_head("en", "sent");
    assert_int_equal(tmi_told(w.fb, open_chat, banned), 1);
    assert_int_equal(tmi_told(w.fb, open_chat, sent_en), 0);
    assert_int_equal(count(&w, "SELECT count(*) FROM reporters WHERE ban_notice_at IS NOT NULL"),
                     1);
    /* the shadow-banned one sees no difference: the usual thanks, every time */
    char *sent_uk = tmi_catalog_head("uk", "sent"),
         *banned_uk = tmi_catalog_head("uk", "mod_banned");
    assert_int_equal(tmi_told(w.fb, shadow_chat, sent_uk), 3);
    assert_int_equal(tmi_told(w.fb, shadow_chat, banned_uk), 0);
    free(banned);
    free(sent_en);
    free(sent_uk);
    free(banned_uk);
    free(open_ps);
    tmi_world_close(&w);
}

/* ---- rate limits: told to slow down, nothing lost, the state survives a restart ---- */

static void test_mod_intake_rate_limited_told_and_kept(void **state)
{
    (void)state;
    struct world w;
    tmi_world_open(&w, "rate");
    w.c.mod_new_rate_burst = 2;
    w.c.mod_new_rate_per_hour = 1;
    tmi_world_start(&w);
    const long long chat = 7200001;
    for (int i = 0; i < 4; i++) {
        char text[96];
        snprintf(text, sizeof(text), "Report number %d: a convoy on the ring road", i);
        tmi_send_report(w.fb, &w.next_mid, chat, "en", text);
    }
    tmi_settle(&w, 20000);
    char *slow = tmi_catalog_head("en", "mod_slow_down"), *sent = tmi_catalog_head("en", "sent");
    assert_int_equal(tmi_told(w.fb, chat, sent), 2);
    assert_int_equal(tmi_told(w.fb, chat, slow), 2);
    /* nothing lost: the refused reports are recorded, words and all, for the moderators */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text LIKE 'Report number %%'"),
                     4);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v"
                               " ON v.report_id = r.id WHERE r.status = 'held'"
                               " AND v.verdict = 'rate_limited' AND r.text LIKE 'Report number%%'"),
                     2);
    char refs[8][16];
    assert_int_equal(tmi_queue_refs(&w, refs, 8), 2);

    /* a restart forgets nothing: the bucket is still empty */
    web_free(w.web);
    w.web = NULL;
    tb_stop();
    tmi_world_start(&w);
    fakebot_reset_calls(w.fb);
    tmi_send_report(w.fb, &w.next_mid, chat, "en", "Report number 5: the convoy turned west");
    tmi_settle(&w, 20000);
    assert_int_equal(tmi_told(w.fb, chat, slow), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE verdict = 'rate_limited'"),
                     3);

    /* the same words again fold into that held report: still one report, still its one
     * verdict, and the update is handled, not refused */
    tmi_send_report(w.fb, &w.next_mid, chat, "en", "Report number 5: the convoy turned west");
    tmi_settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE text LIKE 'Report number 5%%'"
                               " AND folds = 1 AND status = 'held'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts WHERE verdict = 'rate_limited'"),
                     3);
    free(slow);
    free(sent);
    tmi_world_close(&w);
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
    tmi_world_open(&w, "catrate");
    w.c.mod_new_rate_burst = 10;
    w.c.mod_new_rate_per_hour = 100;
    free(w.c.mod_category_rates);
    w.c.mod_category_rates = tl_strdup("shelling:1:1,drones:1:2");
    tmi_world_start(&w);
    const long long chat = 7800001;
    send_categorised(&w, chat, "drones", "Two drones over the river");
    send_categorised(&w, chat, "drones", "A third drone over the river");
    send_categorised(&w, chat, "drones", "A fourth drone over the river");
    send_categorised(&w, chat, "shelling", "Explosions in the east");
    tmi_send_report(w.fb, &w.next_mid, chat, "en", "No category: smoke in the park");
    tmi_settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 5);
    /* drones: a burst of 2, the third refused; shelling and no category untouched */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports r JOIN mod_verdicts v ON v.report_id"
                               " = r.id WHERE v.verdict = 'rate_limited' AND r.category = 'drones'"
                               " AND r.text LIKE 'A fourth%%'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"), 4);
    char *slow = tmi_catalog_head("en", "mod_slow_down");
    assert_int_equal(tmi_told(w.fb, chat, slow), 1);
    free(slow);
    tmi_world_close(&w);
}

const struct CMUnitTest tmi_limits_tests[] = {
    cmocka_unit_test_teardown(test_mod_intake_bans_hold_at_intake, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_rate_limited_told_and_kept, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_category_rate_limit, tmi_teardown),
};
const size_t tmi_limits_ntests = TS_NTESTS(tmi_limits_tests);
