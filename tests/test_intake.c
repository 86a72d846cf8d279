/* tests/test_intake.c - the whole intake on real parts: the fake Bot API (a real HTTP
 * server on loopback), the runtime threads or the real `tipline bot` process, and a
 * throwaway PostgreSQL. Proves the durability contract: nothing lost, nothing doubled,
 * per-chat order, faults survived, a database outage and kill -9 survived, the token
 * never logged. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "geo/geo.h"
#include "handlers/hdl.h"
#include "support/botrun.h"
#include "support/testsupport.h"
#include "fakebot/fakebot.h"
#include "support/botproc.h"

/* What a failed assertion (a longjmp out of the test) would leave running: the teardown
 * stops it, so one failure does not cascade into the next test. */
static pid_t g_child;

static int teardown(void **state)
{
    tb_teardown(state);
    log_set_stream(NULL);
    bp_kill(&g_child);
    return 0;
}

static long long count(const char *ci, const char *sql)
{
    return ts_db_count(ci, sql);
}

/* Waits until sql counts want (or more); fails the test after timeout_ms. */
/* No report text appears out of its chat's order: per reporter, the sequence number at
 * the end of the synthetic text grows with the report id. */
static const char *ORDER_SQL =
    "SELECT count(*) FROM (SELECT n, lag(n) OVER (PARTITION BY reporter ORDER BY id) prev "
    "FROM (SELECT id, reporter, substring(text from '[0-9]+$')::int n FROM reports) x) y "
    "WHERE prev > n";

static void test_intake_burst_in_chat_order(void **state)
{
    char *ci = ts_db_create("t_intake_burst");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    /* each text is a quick draft that its citizen sends with "Send now" */
    assert_int_equal(fakebot_push_synthetic_sent(fb, 600, 40), TL_OK);
    /* a reply path unused for longer than the retention: the janitor purges it */
    free(ts_db_scalar(ci, "INSERT INTO chats (chat_id, last_seen) VALUES (77, now() - "
                          "interval '100 days') RETURNING 1"));
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);
    /* per report: the draft's status, the answered button, the status edited */
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'", 1800, 60000);
    tb_stop();

    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), 1200);
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 0);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 600);
    assert_int_equal(count(ci, "SELECT count(DISTINCT text) FROM reports"), 600);
    assert_int_equal(count(ci, "SELECT count(DISTINCT reporter) FROM reports"), 40);
    assert_int_equal(count(ci, "SELECT count(*) FROM chats"), 40);
    assert_int_equal(count(ci, "SELECT count(*) FROM chats WHERE chat_id = 77"), 0);
    assert_int_equal(count(ci, ORDER_SQL), 0);
    assert_int_equal(fakebot_count(fb, "sendMessage"), 600);
    assert_int_equal(fakebot_count(fb, "answerCallbackQuery"), 600);
    assert_int_equal(count(ci, "SELECT count(*) FROM drafts"), 0);
    /* the reply quotes a reference that exists, in the chat that reported */
    char *calls = fakebot_calls_json(fb, "editMessageText");
    struct json_object *arr = json_tokener_parse(calls), *params, *text, *chat;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "params", &params));
    assert_true(json_object_object_get_ex(params, "text", &text));
    assert_true(json_object_object_get_ex(params, "chat_id", &chat));
    const char *t = json_object_get_string(text);
    const char *ref = strstr(t, "TL-");
    assert_non_null(ref);
    char *sql = tl_asprintf("SELECT count(*) FROM reports WHERE public_ref = '%.9s'", ref);
    assert_int_equal(count(ci, sql), 1);
    free(sql);
    long long chat_id = json_object_get_int64(chat);
    assert_true(chat_id > 1000000 && chat_id <= 1000040);
    json_object_put(arr);
    free(calls);
    /* the offset acknowledged everything */
    assert_int_equal(count(ci, "SELECT max(update_id) FROM inbox") + 1,
                     count(ci, "SELECT update_offset FROM bot_state"));
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_intake_burst");
    free(ci);
}

static void test_intake_faults_nothing_lost(void **state)
{
    char *ci = ts_db_create("t_intake_faults");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    fakebot_inject(fb, "getUpdates", FB_429, 1, 1);
    fakebot_inject(fb, "getUpdates", FB_500, 2, 0);
    fakebot_inject(fb, "getUpdates", FB_BAD_JSON, 1, 0);
    fakebot_inject(fb, "getUpdates", FB_DROP, 1, 0);
    fakebot_inject(fb, "getUpdates", FB_SLOW, 1, 4000); /* past the client's timeout */
    fakebot_inject(fb, "sendMessage", FB_429, 1, 1);
    fakebot_inject(fb, "sendMessage", FB_500, 1, 0);
    fakebot_inject(fb, "sendMessage", FB_BAD_JSON, 1, 0);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 120, 12), TL_OK);

    /* the log goes to a file that stays behind when the test fails, for a post-mortem */
    char *logpath = ts_build_path("test_intake_faults.log");
    FILE *logf = fopen(logpath, "w");
    assert_non_null(logf);
    log_set_stream(logf);
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'", 360, 90000);
    tb_stop();
    log_set_stream(NULL);
    fclose(logf);
    char *logbuf = ts_read_file(logpath, NULL);
    free(logpath);

    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), 240);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 120);
    assert_int_equal(count(ci, "SELECT count(*) FROM outbox"), 360);
    assert_int_equal(count(ci, ORDER_SQL), 0);
    /* the backoff is visible in the log, and the token never is */
    assert_non_null(strstr(logbuf, "getUpdates"));
    assert_non_null(strstr(logbuf, "retry"));
    assert_null(strstr(logbuf, fakebot_token(fb)));
    assert_null(strstr(logbuf, strchr(fakebot_token(fb), ':') + 1));
    free(logbuf);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_intake_faults");
    free(ci);
}

/* An update the database refuses for good (here a constraint the test adds on the
 * draft it would write) is marked processed, its raw copy kept in the inbox, and the
 * chat's later updates go on: each text is sent with "Send now". */
static void test_intake_refused_update_does_not_block_chat(void **state)
{
    char *ci = ts_db_create("t_intake_poison");
    free(ts_db_scalar(ci, "ALTER TABLE drafts ADD CONSTRAINT no_poison CHECK (state::text "
                          "NOT LIKE '%poison%') NOT VALID; SELECT 1"));
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    static const char *const texts[] = {"first", "poison", "third"};
    for (int i = 0; i < 3; i++) {
        char *u =
            tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":5150,\"type\":"
                        "\"private\"},\"from\":{\"id\":5150,\"is_bot\":false,\"first_name\":\"P\"},"
                        "\"text\":\"%s\"}}",
                        i + 1, texts[i]);
        int id = fakebot_push_update(fb, u);
        assert_true(id > 0);
        free(u);
        u = tl_asprintf("{\"callback_query\":{\"id\":\"c%d\",\"from\":{\"id\":5150,\"is_bot\":"
                        "false,\"first_name\":\"P\"},\"chat_instance\":\"1\",\"data\":\"%d:send\","
                        "\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":5150,\"type\":"
                        "\"private\"}}}}",
                        i, id, 10 + i);
        assert_true(fakebot_push_update(fb, u) > 0);
        free(u);
    }
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 6, 30000);
    /* first and third: status, answer, edit; the poison's button: a stale answer */
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'", 7, 30000);
    tb_stop();
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 2);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports WHERE text IN ('first', 'third')"), 2);
    /* the refused update keeps its raw copy, sealed; the others keep none */
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox WHERE sealed IS NOT NULL"), 1);
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox WHERE refused AND payload IS NULL"), 1);
    char *hex = ts_db_scalar(ci, "SELECT update_id || ' ' || encode(sealed, 'hex') FROM inbox"
                                 " WHERE refused");
    struct idkeys k;
    tb_idkeys(&k);
    long long uid = strtoll(hex, NULL, 10);
    const char *h = strchr(hex, ' ') + 1;
    size_t n = 0, len = 0;
    unsigned char *ct = ts_unhex(h, &n), *pt = NULL;
    assert_int_equal(idkeys_open(&k, "update", uid, ct, n, &pt, &len), TL_OK);
    assert_non_null(strstr((const char *)pt, "\"text\":\"poison\""));
    idkeys_clear(&k);
    free(pt);
    free(ct);
    free(hex);
    assert_int_equal(count(ci, "SELECT count(*) FROM outbox"), 7);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_intake_poison");
    free(ci);
}

/* A citizen who blocked the bot: Telegram answers 403, the reply is recorded as failed
 * for good (never retried), and the chat is marked blocked. */
static void test_intake_blocked_chat_recorded(void **state)
{
    char *ci = ts_db_create("t_intake_blocked");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    fakebot_set_blocked_chat(fb, 6160);
    assert_true(
        fakebot_push_update(fb, "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":6160,"
                                "\"type\":\"private\"},\"from\":{\"id\":6160,\"is_bot\":false,"
                                "\"first_name\":\"B\"},\"text\":\"tanks on the ring road\"}}") > 0);
    assert_true(fakebot_push_update(fb, "{\"update_id\":2,\"callback_query\":{\"id\":\"b\","
                                        "\"from\":{\"id\":6160,\"is_bot\":false,\"first_name\":"
                                        "\"B\"},\"chat_instance\":\"1\",\"data\":\"1:send\","
                                        "\"message\":{\"message_id\":2,\"date\":1,\"chat\":{"
                                        "\"id\":6160,\"type\":\"private\"}}}}") > 0);
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'failed'", 1, 30000);
    tl_sleep_ms(500, NULL); /* a retry, if any, would show now */
    tb_stop();
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 1); /* the report stays */
    char *sql =
        tl_asprintf("SELECT count(*) FROM chats WHERE chat_id = %lld AND blocked", tb_chat(6160));
    assert_int_equal(count(ci, sql), 1);
    free(sql);
    assert_int_equal(fakebot_count(fb, "sendMessage"), 1); /* tried once, never again */
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_intake_blocked");
    free(ci);
}

static char *pg_state2(void)
{
    return ts_build_path("pgtmp-outage.conninfo");
}

static void pgtmp(const char *verb, const char *state)
{
    const char *src = getenv("TL_SOURCE_DIR"), *bin = getenv("TL_TIPLINE_BIN");
    char *cmd =
        tl_asprintf("%s/tests/pgtmp.sh %s %s %s >/dev/null", src, verb, state, bin ? bin : "");
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* PostgreSQL stops for a few seconds during intake: the bot retries, the offset does
 * not move, and everything arrives once the database is back. Own cluster: the outage
 * must not hit the other tests. */
static void test_intake_database_outage(void **state)
{
    char *st = pg_state2();
    pgtmp("start", st);
    char *admin = ts_read_file(st, NULL);
    admin[strcspn(admin, "\n")] = 0;
    *strstr(admin, "dbname=") = 0;
    char *ci = tl_asprintf("%sdbname=tipline_template", admin);

    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 50, 5), TL_OK);
    struct cfg c;
    tb_cfg(&c, ci);
    c.moderation = 0; /* 5 citizens sending 10 reports each: far over a new reporter's rate */
    tb_start(&c, fb, 0, 0);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 100, 30000);
    tl_sleep_ms(1500, NULL); /* let the poller acknowledge the first batch */
    long long acked = fakebot_acked_offset(fb);

    pgtmp("pause", st);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 50, 5), TL_OK);
    tl_sleep_ms(4000, NULL);
    /* nothing stored, so nothing acknowledged: Telegram still holds the new updates */
    assert_true(fakebot_acked_offset(fb) == acked);
    assert_true(fakebot_pending(fb) == 100);
    pgtmp("resume", st);

    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 200, 60000);
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'", 300, 60000);
    tb_stop();
    char *diag = ts_db_scalar(ci, "SELECT format('inbox=%s processed=%s reports=%s outbox=%s "
                                  "sent=%s', (SELECT count(*) FROM inbox), (SELECT count(*) FROM "
                                  "inbox WHERE processed_at IS NOT NULL), (SELECT count(*) FROM "
                                  "reports), (SELECT count(*) FROM outbox), (SELECT count(*) "
                                  "FROM outbox WHERE state = 'sent'))");
    fprintf(stderr, "after the outage: %s\n", diag);
    free(diag);
    /* the two batches carry the same 50 texts from the same 5 citizens: each second one
     * is folded into its first (dedup_window_minutes), so each report exactly once and
     * folded exactly once: none lost or doubled */
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 50);
    assert_int_equal(count(ci, "SELECT count(*) FROM (SELECT text FROM reports GROUP BY text "
                               "HAVING count(*) <> 1) x"),
                     0);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports WHERE folds <> 1"), 0);
    assert_true(fakebot_pending(fb) == 0);
    cfg_release(&c);
    fakebot_stop(fb);
    pgtmp("stop", st);
    free(ci);
    free(admin);
    free(st);
}

/* A citizen's text and its Send button, in chat. */
static void push_sent_text(struct fakebot *fb, long long chat, const char *text)
{
    char *u = tl_asprintf("{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":%lld,"
                          "\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"P\"},\"text\":\"%s\"}}",
                          chat, chat, text);
    int id = fakebot_push_update(fb, u);
    assert_true(id > 0);
    free(u);
    u = tl_asprintf("{\"callback_query\":{\"id\":\"c%lld\",\"from\":{\"id\":%lld,\"is_bot\":"
                    "false,\"first_name\":\"P\"},\"chat_instance\":\"1\",\"data\":\"%d:send\","
                    "\"message\":{\"message_id\":10,\"date\":1,\"chat\":{\"id\":%lld,\"type\":"
                    "\"private\"}}}}",
                    chat, chat, id, chat);
    assert_true(fakebot_push_update(fb, u) > 0);
    free(u);
}

/* One GeoNames line (the dump `tipline gazetteer import` reads). */
static void gn_line(FILE *f, int id, const char *name, const char *alts, double lat, double lon)
{
    fprintf(f, "%d\t%s\t%s\t%s\t%.5f\t%.5f\tP\tPPL\tUA\t\t05\t\t\t\t1000\t\t1\tE\t2024\n", id, name,
            name, alts, lat, lon);
}

/* The running bot maps a new gazetteer on SIGHUP: a village the first index lacked is
 * found in the next message, with no restart. */
static void test_intake_gazetteer_reload_on_sighup(void **state)
{
    char *ci = ts_db_create("t_intake_gaz");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    char key[] = "/tmp/tipline-key-XXXXXX", logfile[] = "/tmp/tipline-log-XXXXXX";
    char dump[] = "/tmp/tipline-dump-XXXXXX", idx[] = "/tmp/tipline-gaz-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(logfile));
    close(mkstemp(dump));
    close(mkstemp(idx));
    assert_int_equal(ts_write_file(key, "gazetteer-test-secret-gazetteer-test"), 0);
    struct geo_import_stats st;
    FILE *f = fopen(dump, "w");
    assert_non_null(f);
    gn_line(f, 1, "Izium", "Ізюм,Изюм", 49.20875, 37.24849);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(geo_gazetteer_import(dump, NULL, "UA", idx, &st, NULL), TL_OK);

    setenv("TIPLINE_GAZETTEER", idx, 1);
    pid_t pid = g_child = bp_spawn(ci, fb, key, logfile, NULL);
    unsetenv("TIPLINE_GAZETTEER");
    push_sent_text(fb, 7001, "вибухи у Вугледарі");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 1, 30000);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports WHERE point IS NULL"), 1);

    f = fopen(dump, "a");
    assert_non_null(f);
    gn_line(f, 2, "Vuhledar", "Вугледар,Угледар", 47.7797, 37.2486);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(geo_gazetteer_import(dump, NULL, "UA", idx, &st, NULL), TL_OK);
    assert_int_equal(kill(pid, SIGHUP), 0);
    int64_t end = tl_now_ms() + 20000;
    char *log = NULL;
    while (tl_now_ms() < end) {
        free(log);
        log = ts_read_file(logfile, NULL);
        if (log && strstr(log, "msg=\"gazetteer reloaded\" settlements=2"))
            break;
        tl_sleep_ms(50, NULL);
    }
    assert_non_null(log);
    assert_non_null(strstr(log, "msg=\"gazetteer reloaded\" settlements=2"));
    free(log);
    push_sent_text(fb, 7002, "вибухи у Вугледарі");
    bp_wait_count(ci, "SELECT count(*) FROM reports", 2, 30000);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports WHERE point_source = 'text' AND"
                               " abs(ST_Y(point::geometry) - 47.7797) < 1e-4"),
                     1);
    bp_term(&g_child);
    fakebot_stop(fb);
    unlink(key);
    unlink(logfile);
    unlink(dump);
    unlink(idx);
    ts_db_drop("t_intake_gaz");
    free(ci);
}

/* kill -9 in the middle of a burst of 2,000 updates, restart: every update became exactly
 * one processed inbox row and one report; the offset resumes. Then SIGTERM exits 0. */
static void test_intake_kill9_exactly_once(void **state)
{
    char *ci = ts_db_create("t_intake_kill9");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 2000, 200), TL_OK);
    char key[] = "/tmp/tipline-key-XXXXXX", logfile[] = "/tmp/tipline-log-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(logfile));
    assert_int_equal(ts_write_file(key, "kill9-test-secret-kill9-test-secret"), 0);

    pid_t pid = g_child = bp_spawn(ci, fb, key, logfile, NULL);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 150, 60000);
    assert_int_equal(kill(pid, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    g_child = 0;
    assert_true(WIFSIGNALED(status));
    long long done_at_kill = count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL");
    assert_true(done_at_kill < 4000); /* it really died mid-burst */

    pid = g_child = bp_spawn(ci, fb, key, logfile, NULL);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 4000, 120000);
    /* SIGHUP reloads the configuration without a restart */
    assert_int_equal(kill(pid, SIGHUP), 0);
    tl_sleep_ms(1500, NULL);
    bp_term(&g_child);

    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), 4000);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 2000);
    assert_int_equal(count(ci, "SELECT count(DISTINCT text) FROM reports"), 2000);
    assert_int_equal(count(ci, "SELECT count(*) FROM outbox"), 6000);
    assert_int_equal(count(ci, ORDER_SQL), 0);
    assert_int_equal(count(ci, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(count(ci, "SELECT update_offset FROM bot_state"), 4001);
    assert_true(fakebot_pending(fb) == 0);

    /* the token never reached the bot's log */
    char *log = ts_read_file(logfile, NULL);
    assert_non_null(strstr(log, "level=info"));
    assert_non_null(strstr(log, "msg=\"reload done\""));
    assert_null(strstr(log, fakebot_token(fb)));
    free(log);

    /* two analysts calling `triage next` at once never get the same report */
    const char *bin = getenv("TL_TIPLINE_BIN");
    char *cmd = tl_asprintf("export TIPLINE_DATABASE_URL='%s'; for i in $(seq 15); do "
                            "%s triage next --as a | head -2 | tail -1 & "
                            "%s triage next --as b | head -2 | tail -1 & wait; done",
                            ci, bin, bin);
    FILE *p = popen(cmd, "r");
    char line[256], refs[30][32];
    size_t n = 0;
    while (n < 30 && fgets(line, sizeof(line), p))
        if (sscanf(line, "ref %31s", refs[n]) == 1)
            n++;
    assert_int_equal(pclose(p), 0);
    assert_int_equal(n, 30);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_string_not_equal(refs[i], refs[j]);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports WHERE claimed_by IS NOT NULL"), 30);
    free(cmd);

    /* decide from a shell: the lease holder may, another analyst may not; audited */
    char *who = ts_db_scalar(ci, "SELECT claimed_by FROM reports WHERE claimed_by IS NOT NULL "
                                 "ORDER BY id LIMIT 1");
    char *ref = ts_db_scalar(ci, "SELECT public_ref FROM reports WHERE claimed_by IS NOT NULL "
                                 "ORDER BY id LIMIT 1");
    const char *other = strcmp(who, "a") == 0 ? "b" : "a";
    cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s triage decide %s rejected --as %s "
                      ">/dev/null 2>&1",
                      ci, bin, ref, other);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1); /* refused: leased to the other */
    free(cmd);
    cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s triage decide %s confirmed --note 'two "
                      "reporters' --as %s >/dev/null && TIPLINE_DATABASE_URL='%s' %s triage "
                      "show %s | grep -q '^status *confirmed'",
                      ci, bin, ref, who, ci, bin, ref);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *sql = tl_asprintf("SELECT count(*) FROM audit_log WHERE actor = '%s' AND "
                            "action = 'decide'",
                            who);
    assert_int_equal(count(ci, sql), 1);
    free(sql);
    free(who);
    free(ref);
    unlink(key);
    unlink(logfile);
    fakebot_stop(fb);
    ts_db_drop("t_intake_kill9");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_intake_burst_in_chat_order, teardown),
        cmocka_unit_test_teardown(test_intake_faults_nothing_lost, teardown),
        cmocka_unit_test_teardown(test_intake_refused_update_does_not_block_chat, teardown),
        cmocka_unit_test_teardown(test_intake_blocked_chat_recorded, teardown),
        cmocka_unit_test_teardown(test_intake_database_outage, teardown),
        cmocka_unit_test_teardown(test_intake_kill9_exactly_once, teardown),
        cmocka_unit_test_teardown(test_intake_gazetteer_reload_on_sighup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
