/* tests/test_mod_intake_tools.c - test_mod_intake: the moderators' tools (tipline mod,
 * reputation from outcomes, audited) and text hygiene (raw text kept, displayed
 * neutralised, links listed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "handlers/hdl.h"
#include "storage/store.h"
#include "support/botproc.h"
#include "support/botrun.h"
#include "support/photogen.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_mod_intake_int.h"

/* ---- the moderators' tools: tipline mod, reputation from outcomes, audited ---- */

int tmi_mod_cli(struct world *w, const char *args, char **out)
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
    tmi_world_open(&w, "tools");
    tmi_world_start(&w);
    /* two floods of 4 new reporters each, and one ordinary report */
    for (int r = 0; r < 4; r++) {
        char text[160];
        snprintf(text, sizeof(text), "Free crypto for everyone, send %d to the wallet now!!", r);
        tmi_send_report(w.fb, &w.next_mid, 7500000 + r, "en", text);
    }
    tmi_settle(&w, 20000);
    for (int r = 0; r < 4; r++) {
        char text[160];
        snprintf(text, sizeof(text), "They are lying, the city has already surrendered %d", r);
        tmi_send_report(w.fb, &w.next_mid, 7600000 + r, "en", text);
    }
    tmi_send_report(w.fb, &w.next_mid, 7700000, "en", "Smoke over the northern district now");
    tmi_settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns WHERE status = 'held'"), 2);
    char refs[16][16];
    assert_int_equal(tmi_queue_refs(&w, refs, 16), 1);

    char *out = NULL;
    assert_int_equal(tmi_mod_cli(&w, "campaigns --status held", &out), 0);
    assert_non_null(strstr(out, "Free crypto"));
    assert_non_null(strstr(out, "surrendered"));
    free(out);
    assert_int_equal(tmi_mod_cli(&w, "held --verdict hold", &out), 0);
    size_t lines = 0;
    for (char *p = out; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 1 + 8); /* the header and the eight held reports */
    free(out);

    /* reject the scam: its reports decided, each reporter's reputation down by one */
    char *crypto = ts_db_scalar(w.ci, "SELECT id FROM mod_campaigns WHERE sample LIKE 'Free%'");
    char *args = tl_asprintf("reject campaign %s", crypto);
    assert_int_equal(tmi_mod_cli(&w, args, NULL), 0);
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
    assert_int_equal(tmi_mod_cli(&w, args, NULL), 0);
    free(args);
    /* the list: the ordinary report, the 4 released, the 4 rejected (decided) */
    assert_int_equal(tmi_queue_refs(&w, refs, 16), 9);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'new'"), 5);
    for (int r = 0; r < 4; r++)
        assert_int_equal(reputation_of(&w, 7600000 + r), 0);
    /* a campaign decided once is not decided again */
    args = tl_asprintf("release campaign %s", crypto);
    assert_int_equal(tmi_mod_cli(&w, args, &out), 1);
    assert_non_null(strstr(out, "already"));
    free(out);
    free(args);

    /* a ban with a sweep takes the reporter's open report out of the queue */
    char *ps = ts_db_scalarf(w.ci, "SELECT left(reporter, 12) FROM chats WHERE chat_id = %lld",
                             tb_chat(7700000));
    args = tl_asprintf("ban %s --sweep --reason spam", ps);
    assert_int_equal(tmi_mod_cli(&w, args, &out), 0);
    assert_non_null(strstr(out, "\"swept\": 1"));
    free(out);
    free(args);
    assert_int_equal(tmi_queue_refs(&w, refs, 16), 8);
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
    char *good = tmi_write_rules("hold spam.crypto free\\s+crypto\n");
    args = tl_asprintf("rules %s", good);
    assert_int_equal(tmi_mod_cli(&w, args, &out), 0);
    assert_non_null(strstr(out, "spam.crypto"));
    free(out);
    free(args);
    assert_int_equal(ts_write_file(good, "# x\nhold spam.crypto (free\n"), 0);
    args = tl_asprintf("rules %s", good);
    assert_int_equal(tmi_mod_cli(&w, args, &out), 1);
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
    tmi_world_close(&w);
}

/* ---- text hygiene: raw text kept, displayed neutralised, links listed ---- */

static void test_mod_intake_text_hygiene_stored(void **state)
{
    (void)state;
    struct world w;
    tmi_world_open(&w, "hygiene");
    tmi_world_start(&w);
    /* a right-to-left override turning a place name around, a bell, an isolate, links */
    const char *raw = "Column near \xE2\x80\xAEtsop\xE2\x80\xAC bridge\x07, see "
                      "https://t.me/fake_news_ua and @kyiv_watch \xE2\x81\xA6x\xE2\x81\xA9";
    tmi_send_report(w.fb, &w.next_mid, 7600001, "en", raw);
    /* a message longer than Telegram allows is kept to its 4096 characters */
    char *lng = malloc(5001);
    assert_non_null(lng);
    for (int i = 0; i < 5000; i++)
        lng[i] = (char)('a' + i % 26);
    lng[5000] = 0;
    tmi_send_report(w.fb, &w.next_mid, 7600002, "en", lng);
    free(lng);
    tmi_settle(&w, 20000);
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
    struct ts_hres r = tmi_http(&w, TOKEN_ANA, path, NULL);
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
    tmi_world_close(&w);
}

const struct CMUnitTest tmi_tools_tests[] = {
    cmocka_unit_test_teardown(test_mod_intake_moderator_tools, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_text_hygiene_stored, tmi_teardown),
};
const size_t tmi_tools_ntests = TS_NTESTS(tmi_tools_tests);
