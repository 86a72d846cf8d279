/* tests/test_mod_intake_rules.c - test_mod_intake: rules (a catastrophic pattern costs
 * a bounded time), their reload by SIGHUP in the real process (a broken file keeps the
 * old set) and through the API and the database. */
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

/* ---- rules: a catastrophic pattern costs a bounded time; the next message is handled ---- */

char *tmi_write_rules(const char *text)
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
    tmi_world_open(&w, "rules");
    char *rules = tmi_write_rules("hold   spam.aaa  (a+)+$\n"
                                  "refuse abuse.fruit \\bforbidden apple\\b\n");
    free(w.c.moderation_rules);
    w.c.moderation_rules = tl_strdup(rules);
    tmi_world_start(&w);
    char run[4001];
    memset(run, 'a', 3999);
    run[3999] = '!';
    run[4000] = 0;
    int64_t t0 = tl_now_ms();
    tmi_send_report(w.fb, &w.next_mid, 7300001, "en", run);
    tmi_send_report(w.fb, &w.next_mid, 7300002, "en", "a forbidden apple over the square");
    /* the rule is off now: fast (another citizen: the same words twice would be folded) */
    tmi_send_report(w.fb, &w.next_mid, 7300003, "en", run);
    tmi_settle(&w, 20000);
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
    char *refused = tmi_catalog_head("en", "mod_refused");
    assert_int_equal(tmi_told(w.fb, 7300002, refused), 1);
    free(refused);
    unlink(rules);
    free(rules);
    tmi_world_close(&w);
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
    b->rules = tmi_write_rules(text);
    b->env = tl_asprintf("TIPLINE_MODERATION_RULES=%s", b->rules);
    const char *const extra[] = {b->env, "TIPLINE_LOG_LEVEL=info", NULL};
    tmi_g_bot = bp_spawn(ci, fb, b->key, b->logf, extra);
}

static void rbot_stop(struct rbot *b)
{
    bp_term(&tmi_g_bot);
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

    tmi_send_report(fb, &mid, 7400001, "en", "an apple cart near the station");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 1, 15000);
    assert_int_equal(verdicts_for(ci, "an apple cart near the station", "refuse"), 1);

    /* a new set on SIGHUP */
    assert_int_equal(ts_write_file(rules, "refuse fruit.banana \\bbanana\\b\n"), 0);
    assert_int_equal(kill(tmi_g_bot, SIGHUP), 0);
    wait_log(logf, "moderation rules reloaded");
    tmi_send_report(fb, &mid, 7400002, "en", "an apple cart again");
    tmi_send_report(fb, &mid, 7400003, "en", "a banana truck on the bridge");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 3, 15000);
    assert_int_equal(verdicts_for(ci, "an apple cart again", "refuse"), 0);
    assert_int_equal(verdicts_for(ci, "a banana truck on the bridge", "refuse"), 1);

    /* a broken file: refused with its line and column, the rules in force stay */
    assert_int_equal(ts_write_file(rules, "# fruit\nrefuse fruit.cherry (cherry\n"), 0);
    assert_int_equal(kill(tmi_g_bot, SIGHUP), 0);
    wait_log(logf, "moderation rules refused");
    assert_true(log_has(logf, "line=2 column="));
    /* ...and recorded where the moderators read it: the one rule still in force */
    bp_wait_count(ci,
                  "SELECT count(*) FROM mod_rules_loads WHERE NOT ok AND error_line = 2"
                  " AND rules = 1 AND reload_id IS NULL",
                  1, 15000);
    tmi_send_report(fb, &mid, 7400004, "en", "a banana truck once more");
    tmi_send_report(fb, &mid, 7400005, "en", "a cherry tree fell");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 5, 15000);
    assert_int_equal(verdicts_for(ci, "a banana truck once more", "refuse"), 1);
    assert_int_equal(verdicts_for(ci, "a cherry tree fell", "refuse"), 0);

    rbot_stop(&b);
    fakebot_stop(fb);
    ts_db_drop("t_modi_hup");
    free(ci);
}

/* ---- a reload asked through the API reaches the real process through the database ---- */

/* POST /api/mod/rules/reload as the moderator (waiting for the bot); the answer parsed. */
static struct json_object *api_reload(struct world *w, long long *id)
{
    struct ts_hres r = tmi_http(w, TOKEN_MOD, "/api/mod/rules/reload", "{\"wait\":10}");
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
    tmi_world_open(&w, "reload");
    struct tl_errinfo ei;
    struct web_opts o = {.cfg = &w.c, .listen = "127.0.0.1:0"};
    assert_int_equal(web_start(&o, &w.web, &ei), TL_OK);
    /* asked while no bot runs: no answer yet; the bot answers it when it starts */
    struct ts_hres r = tmi_http(&w, TOKEN_MOD, "/api/mod/rules/reload", "{\"wait\":0}");
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
        r = tmi_http(&w, TOKEN_MOD, path, NULL);
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
    tmi_send_report(w.fb, &w.next_mid, 7500001, "en", "an apple cart near the depot");
    tmi_send_report(w.fb, &w.next_mid, 7500002, "en", "a banana truck on the ring road");
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
    tmi_send_report(w.fb, &w.next_mid, 7500003, "en", "a banana truck once again");
    tmi_send_report(w.fb, &w.next_mid, 7500004, "en", "a cherry tree across the lane");
    bp_wait_count(w.ci, "SELECT count(*) FROM reports", 4, 15000);
    assert_int_equal(verdicts_for(w.ci, "a banana truck once again", "refuse"), 1);
    assert_int_equal(verdicts_for(w.ci, "a cherry tree across the lane", "refuse"), 0);

    /* what the process holds, as the moderators' page and the request read it */
    r = tmi_http(&w, TOKEN_MOD, "/api/mod/rules", NULL);
    assert_int_equal(r.status, 200);
    a = json_tokener_parse((char *)r.body.data);
    tl_buf_release(&r.body);
    x = first_of(a, "processes");
    assert_true(json_object_object_get_ex(x, "ok", &v) && !json_object_get_boolean(v));
    assert_int_equal(jint(x, "rules"), 2);
    assert_int_equal(jint(x, "line"), 2);
    json_object_put(a);
    snprintf(path, sizeof(path), "/api/mod/rules/reloads/%lld", id);
    r = tmi_http(&w, TOKEN_MOD, path, NULL);
    assert_int_equal(r.status, 200);
    tl_buf_release(&r.body);
    r = tmi_http(&w, TOKEN_ANA, "/api/mod/rules/reload", "{\"wait\":0}");
    assert_int_equal(r.status, 403);
    tl_buf_release(&r.body);

    /* `tipline mod reload` asks the same way; a refusal is exit 1 */
    char *out = NULL;
    assert_int_equal(tmi_mod_cli(&w, "reload", &out), 1);
    assert_non_null(strstr(out, "\tfalse\t2\t"));
    assert_non_null(strstr(out, "missing closing parenthesis"));
    free(out);
    assert_int_equal(ts_write_file(rules, "flag fruit.plum \\bplum\\b\n"), 0);
    assert_int_equal(tmi_mod_cli(&w, "reload", &out), 0);
    free(out);
    char *args = tl_asprintf("rules %s", rules);
    assert_int_equal(tmi_mod_cli(&w, args, &out), 0); /* the file, then what the bot holds */
    assert_non_null(strstr(out, "in force:"));
    assert_non_null(strstr(out, "\ttrue\t1\t"));
    free(out);
    free(args);
    assert_int_equal(count(&w, "SELECT count(*) FROM audit_log WHERE action = 'mod_rules_reload'"),
                     5);

    rbot_stop(&b);
    tmi_world_close(&w);
}

const struct CMUnitTest tmi_rules_tests[] = {
    cmocka_unit_test_teardown(test_mod_intake_catastrophic_rule_bounded, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_sighup_reload_keeps_old_on_error, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_reload_through_api, tmi_teardown),
};
const size_t tmi_rules_ntests = TS_NTESTS(tmi_rules_tests);
