/* tests/test_backup.c - backup and restore of a running system: `tipline bot` takes a
 * burst from the fake Bot API while pg_dump copies its database; the dump is restored
 * into a fresh, empty database, and a bot started on the restored copy resumes from the
 * restored offset: Telegram's redelivery of everything it still holds (here: a fresh
 * fake serving all the updates again) makes the ones below that offset no-ops, and each
 * update ends up in the inbox once, each report once. */
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

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "support/botproc.h"
#include "support/testsupport.h"

#define PGBIN "/usr/lib/postgresql/15/bin"

static pid_t g_bot;
static const char *const LOG_WARN[] = {"TIPLINE_LOG_LEVEL=warn", NULL};

static int teardown(void **state)
{
    (void)state;
    bp_kill(&g_bot);
    return 0;
}

static long long count(const char *ci, const char *sql)
{
    return ts_db_count(ci, sql);
}

/* Report k as Telegram sends it: a text (update 2k-1) and its "Send now" (update 2k). */
static void push_report(struct fakebot *fb, int k)
{
    int chat = 8000000 + k % 20;
    char *u = tl_asprintf("{\"update_id\":%d,\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{"
                          "\"id\":%d,\"type\":\"private\"},\"from\":{\"id\":%d,\"is_bot\":false,"
                          "\"first_name\":\"B\"},\"text\":\"backup report %d\"}}",
                          2 * k - 1, 2 * k - 1, chat, chat, k);
    assert_int_equal(fakebot_push_update(fb, u), 2 * k - 1);
    free(u);
    u = tl_asprintf("{\"update_id\":%d,\"callback_query\":{\"id\":\"q%d\",\"from\":{\"id\":%d,"
                    "\"is_bot\":false,\"first_name\":\"B\"},\"chat_instance\":\"1\",\"data\":\"%d:"
                    "send\",\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{\"id\":%d,"
                    "\"type\":\"private\"}}}}",
                    2 * k, k, chat, 2 * k - 1, 2 * k, chat);
    assert_int_equal(fakebot_push_update(fb, u), 2 * k);
    free(u);
}

/* CREATE and DROP DATABASE refuse a transaction block: one psql -c each. */
static void psql(const char *ci, const char *sql)
{
    char *cmd = tl_asprintf("psql -X -q '%s' -c '%s' >/dev/null", ci, sql);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* The cluster's admin conninfo (dbname=postgres) with dbname replaced. */
static char *conninfo_for(const char *dbname)
{
    char *admin = ts_read_file(getenv("TL_PG_STATE"), NULL);
    admin[strcspn(admin, "\n")] = 0;
    char *at = strstr(admin, "dbname=");
    assert_non_null(at);
    *at = 0;
    char *ci = tl_asprintf("%sdbname=%s", admin, dbname);
    free(admin);
    return ci;
}

static void test_backup_restore_resumes_from_offset(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_backup");
    assert_non_null(ci);
    char key[] = "/tmp/tipline-key-XXXXXX", dump[] = "/tmp/tipline-dump-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(dump));
    assert_int_equal(ts_write_file(key, "backup-test-secret-backup-test-secret"), 0);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    for (int k = 1; k <= 100; k++)
        push_report(fb, k);
    g_bot = bp_spawn(ci, fb, key, NULL, LOG_WARN);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 200, 60000);

    /* the dump is taken from the running bot's database; the next burst comes after it */
    char *cmd = tl_asprintf(PGBIN "/pg_dump -Fc -f %s '%s'", dump, ci);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    for (int k = 101; k <= 150; k++)
        push_report(fb, k);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 300, 60000);
    bp_term(&g_bot);
    fakebot_stop(fb);

    /* into a fresh, empty database */
    char *admin = conninfo_for("postgres");
    psql(admin, "DROP DATABASE IF EXISTS t_restored");
    psql(admin, "CREATE DATABASE t_restored TEMPLATE template0");
    char *rci = conninfo_for("t_restored");
    cmd = tl_asprintf(PGBIN "/pg_restore --exit-on-error -d '%s' %s", rci, dump);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    long long offset = count(rci, "SELECT update_offset FROM bot_state");
    long long inbox = count(rci, "SELECT count(*) FROM inbox");
    fprintf(stderr, "restored: offset %lld, %lld updates in the inbox (of 300 at the end)\n",
            offset, inbox);
    assert_true(offset >= 201 && offset <= 301);
    assert_int_equal(count(rci, "SELECT max(update_id) + 1 FROM inbox"), offset);
    /* replies the backup holds as not yet sent go out from the restored copy */
    long long unsent = count(rci, "SELECT count(*) FROM outbox WHERE method = "
                                  "'answerCallbackQuery' AND state IN ('pending', 'sending')");
    /* the restored schema passes `tipline migrate` (checksums and schema files) */
    cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s migrate >/dev/null 2>&1", rci,
                      getenv("TL_TIPLINE_BIN"));
    assert_int_equal(system(cmd), 0);
    free(cmd);

    /* Telegram hands out again everything it holds, and 10 reports more */
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    for (int k = 1; k <= 160; k++)
        push_report(fb, k);
    g_bot = bp_spawn(rci, fb, key, NULL, LOG_WARN);
    bp_wait_count(rci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 320, 60000);
    bp_wait_count(rci, "SELECT update_offset FROM bot_state", 321, 30000);
    /* the first poll resumed from the restored offset */
    char *calls = fakebot_calls_json(fb, "getUpdates");
    struct json_object *arr = json_tokener_parse(calls), *params, *off;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "params", &params));
    assert_true(json_object_object_get_ex(params, "offset", &off));
    assert_int_equal(atoll(json_object_get_string(off)), offset);
    json_object_put(arr);
    free(calls);
    /* every reply out: those the dump caught 'sending' wait for their claim to expire
     * (60 s after it was taken), as after any crash */
    bp_wait_count(rci,
                  "SELECT (count(*) = 0)::int FROM outbox WHERE state IN ('pending', 'sending')", 1,
                  90000);
    bp_term(&g_bot);

    /* each update once, each report once; replies only for what the restored copy had not
     * sent and for the updates it had not seen */
    assert_int_equal(count(rci, "SELECT count(*) FROM inbox"), 320);
    assert_int_equal(count(rci, "SELECT count(DISTINCT update_id) FROM inbox"), 320);
    assert_int_equal(count(rci, "SELECT count(*) FROM reports"), 160);
    assert_int_equal(count(rci, "SELECT count(DISTINCT text) FROM reports"), 160);
    long long fresh = (321 - offset) / 2; /* reports the restored copy had not seen */
    fprintf(stderr, "after the restore: %lld unsent answers and %lld new reports answered\n",
            unsent, fresh);
    assert_int_equal(fakebot_count(fb, "answerCallbackQuery"), unsent + fresh);

    fakebot_stop(fb);
    psql(admin, "DROP DATABASE t_restored");
    unlink(key);
    unlink(dump);
    free(rci);
    free(admin);
    ts_db_drop("t_backup");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_backup_restore_resumes_from_offset, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
