/* tests/test_standby.c - the standby poller proven on real processes: three `tipline
 * bot` processes share one database and the fake Bot API; exactly one holds the
 * poller's advisory lock; kill -9 of that one during a burst hands the poller to
 * another within 5 s, and every update is processed once and every reply sent once
 * (a reply the dead process had in flight may go out once more: Telegram cannot be
 * asked whether it arrived, so the outbox is at-least-once by design). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/idkey.h"
#include "common/util.h"
#include "fakebot/fakebot.h"
#include "support/botproc.h"
#include "support/testsupport.h"

#define N_BOTS 3
#define N_REPORTS 1000 /* each a text and its "Send now" press: 2,000 updates */
#define N_UPDATES (2 * N_REPORTS)
#define N_CHUNKS                                                                                   \
    10 /* (the text check below says 10 too) the burst arrives in chunks, one every CHUNK_MS */
#define CHUNK_MS 300

static pid_t g_bots[N_BOTS];

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < N_BOTS; i++)
        bp_kill(&g_bots[i]);
    return 0;
}

static long long count(const char *ci, const char *sql)
{
    return ts_db_count(ci, sql);
}

/* The bot whose backend holds the poller's advisory lock (key 'tipl', 1), by the
 * application name each child sets: its index, or -1 when nobody holds it. */
static const char *HOLDER_SQL =
    "SELECT coalesce((SELECT substring(a.application_name from '[0-9]+$')::int "
    "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.classid = 1953067116 AND l.objid = 1 "
    "AND l.objsubid = 2 AND l.granted AND a.datname = current_database()), -1)";

struct feeder {
    struct fakebot *fb;
    atomic_int chunks; /* pushed so far */
};

#define STANDBY_KEY "standby-test-secret-standby-test-secret" /* the bots' pseudonym key */

/* Telegram's side of the burst: chunks of reports (each a text and its "Send now")
 * keep arriving while the poller's holder dies. */
static void *feed(void *arg)
{
    struct feeder *f = arg;
    for (int i = 0; i < N_CHUNKS; i++) {
        if (fakebot_push_synthetic_sent(f->fb, N_REPORTS / N_CHUNKS, 100) != TL_OK)
            break;
        atomic_fetch_add(&f->chunks, 1);
        tl_sleep_ms(CHUNK_MS, NULL);
    }
    return NULL;
}

/* Loads the fake Bot API's record of calls into a table of the test's database, keyed
 * like the outbox, so that SQL compares what was queued with what Telegram received. */
static void load_calls(const char *ci, struct fakebot *fb)
{
    /* Telegram got clear chat ids; the outbox names chats by their keyed hash (the
     * bots' pseudonym key, STANDBY_KEY): the fake's record is keyed the same way */
    struct idkeys k = {0};
    assert_int_equal(idkeys_set_lookup(&k, (const unsigned char *)STANDBY_KEY, strlen(STANDBY_KEY)),
                     TL_OK);
    struct tl_buf map;
    tl_buf_init(&map, 0);
    for (long long id = 1000001; id <= 1000100; id++)
        assert_int_equal(
            tl_buf_printf(&map, "%s(%lld,%lld)", id > 1000001 ? "," : "", id, idkeys_chat(&k, id)),
            TL_OK);
    idkeys_clear(&k);
    char *calls = fakebot_calls_json(fb, NULL);
    assert_non_null(calls);
    assert_null(strstr(calls, "$calls$"));
    char *sql = tl_asprintf("CREATE TABLE t_calls AS SELECT e->>'method' AS method, "
                            "CASE WHEN e->'params' ? 'chat_id' THEN jsonb_set(e->'params',"
                            " '{chat_id}', to_jsonb(m.h)) ELSE e->'params' END AS params"
                            " FROM jsonb_array_elements($calls$%s$calls$) e LEFT JOIN (VALUES %s)"
                            " m(c, h) ON m.c = (e->'params'->>'chat_id')::bigint; "
                            "SELECT count(*) FROM t_calls",
                            calls, (const char *)map.data);
    free(ts_db_scalar(ci, sql));
    free(sql);
    free(calls);
    tl_buf_release(&map);
}

/* What identifies one message: the same chat, method and content. */
#define MSG_KEY(p)                                                                                 \
    "concat_ws('|', " p "->>'chat_id', " p "->>'message_id', " p "->>'callback_query_id', " p      \
    "->>'text')"

static void test_standby_takeover_during_burst(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_standby");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    char key[] = "/tmp/tipline-key-XXXXXX";
    close(mkstemp(key));
    assert_int_equal(ts_write_file(key, STANDBY_KEY), 0);
    char *logs[N_BOTS];
    for (int i = 0; i < N_BOTS; i++) {
        char name[64];
        snprintf(name, sizeof(name), "test_standby_bot%d.log", i);
        logs[i] = ts_build_path(name);
        assert_int_equal(ts_write_file(logs[i], ""), 0);
        char *app = tl_asprintf("PGAPPNAME=standby-bot-%d", i);
        /* the burst's 100 chats send far over a new reporter's rate, with repeated texts:
         * every report is counted here, none held or folded (their own tests) */
        const char *const extra[] = {app, "TIPLINE_MODERATION=0", "TIPLINE_DEDUP_WINDOW_MINUTES=0",
                                     NULL};
        g_bots[i] = bp_spawn(ci, fb, key, logs[i], extra);
        free(app);
    }
    /* one of them takes the poller; the others stand by */
    int64_t end = tl_now_ms() + 15000;
    long long holder = -1;
    while (holder < 0 && tl_now_ms() < end) {
        holder = count(ci, HOLDER_SQL);
        tl_sleep_ms(50, NULL);
    }
    assert_true(holder >= 0 && holder < N_BOTS);
    tl_sleep_ms(1500, NULL); /* every standby has tried the lock once */
    int standing_by = 0;
    for (int i = 0; i < N_BOTS; i++) {
        char *log = ts_read_file(logs[i], NULL);
        if (strstr(log, "poller standing by"))
            standing_by++;
        free(log);
    }
    assert_int_equal(standing_by, N_BOTS - 1);

    /* the burst; the holder dies in the middle of it */
    struct feeder fd = {.fb = fb};
    pthread_t feeder;
    assert_int_equal(pthread_create(&feeder, NULL, feed, &fd), 0);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", 400, 60000);
    assert_int_equal(kill(g_bots[holder], SIGKILL), 0);
    int64_t killed_at = tl_now_ms();
    int status;
    assert_int_equal(waitpid(g_bots[holder], &status, 0), g_bots[holder]);
    g_bots[holder] = 0;
    assert_true(WIFSIGNALED(status));
    int chunks_at_kill = atomic_load(&fd.chunks);
    long long stored_at_kill = count(ci, "SELECT count(*) FROM inbox");
    assert_true(chunks_at_kill < N_CHUNKS); /* it really died mid-burst */

    long long next = -1;
    while (tl_now_ms() - killed_at < 5000) {
        next = count(ci, HOLDER_SQL);
        if (next >= 0 && next != holder)
            break;
        tl_sleep_ms(20, NULL);
    }
    int64_t takeover_ms = tl_now_ms() - killed_at;
    fprintf(stderr,
            "takeover: bot %lld -> bot %lld in %lld ms (%lld of %d updates stored at kill)\n",
            holder, next, (long long)takeover_ms, stored_at_kill, N_UPDATES);
    assert_true(next >= 0 && next != holder);
    assert_true(takeover_ms <= 5000);

    /* Replies the dead process had claimed (state 'sending') come back when their lease
     * expires (60 s): those are the only ones that may go out twice. */
    tl_sleep_ms(2000, NULL);
    long long orphans = count(ci, "SELECT count(*) FROM outbox WHERE state = 'sending' AND "
                                  "claimed_until > now() + interval '40 seconds'");
    assert_int_equal(pthread_join(feeder, NULL), 0);
    assert_int_equal(atomic_load(&fd.chunks), N_CHUNKS);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", N_UPDATES,
                  120000);
    bp_wait_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'", 3 * N_REPORTS, 150000);
    tl_sleep_ms(1000, NULL); /* a send still in flight would show now */
    for (int i = 0; i < N_BOTS; i++) {
        if (g_bots[i] > 0)
            bp_term(&g_bots[i]);
    }

    /* every update stored and processed once, every report made once */
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), N_UPDATES);
    assert_int_equal(count(ci, "SELECT count(DISTINCT update_id) FROM inbox"), N_UPDATES);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), N_REPORTS);
    /* each chunk carries the same texts: each exactly once per chunk */
    assert_int_equal(count(ci, "SELECT count(*) FROM (SELECT text FROM reports GROUP BY text "
                               "HAVING count(*) <> 10) x"),
                     0);
    assert_int_equal(count(ci, "SELECT count(DISTINCT text) FROM reports"), N_REPORTS / N_CHUNKS);
    assert_int_equal(count(ci, "SELECT count(*) FROM outbox"), 3 * N_REPORTS);
    assert_int_equal(count(ci, "SELECT count(*) FROM drafts"), 0);
    assert_int_equal(count(ci, "SELECT update_offset FROM bot_state"), N_UPDATES + 1);
    assert_true(fakebot_pending(fb) == 0);

    /* every reply reached Telegram: none missing, and none twice beyond the orphans */
    load_calls(ci, fb);
    long long missing =
        count(ci, "SELECT coalesce(sum(greatest(q.n - coalesce(c.n, 0), 0)), 0) FROM "
                  "(SELECT method, " MSG_KEY(
                      "params") " k, count(*) n FROM outbox GROUP BY 1, "
                                "2) q LEFT JOIN (SELECT method, " MSG_KEY(
                                    "params") " k, count(*) n FROM "
                                              "t_calls GROUP BY 1, 2) c USING (method, k)");
    long long doubled =
        count(ci, "SELECT coalesce(sum(greatest(c.n - coalesce(q.n, 0), 0)), 0) FROM "
                  "(SELECT method, " MSG_KEY(
                      "params") " k, count(*) n FROM t_calls WHERE "
                                "method <> 'getUpdates' GROUP BY 1, 2) c LEFT JOIN (SELECT method, "
                                "" MSG_KEY("params") " k, count(*) n FROM outbox GROUP BY 1, 2) q "
                                                     "USING (method, k)");
    fprintf(stderr, "replies: missing=%lld sent_twice=%lld in_flight_at_kill=%lld\n", missing,
            doubled, orphans);
    assert_int_equal(missing, 0);
    assert_true(doubled <= orphans);
    assert_int_equal(fakebot_count(fb, "sendMessage") + fakebot_count(fb, "editMessageText") +
                         fakebot_count(fb, "answerCallbackQuery"),
                     3 * N_REPORTS + doubled);

    for (int i = 0; i < N_BOTS; i++) {
        char *log = ts_read_file(logs[i], NULL);
        assert_null(strstr(log, fakebot_token(fb)));
        free(log);
        free(logs[i]);
    }
    unlink(key);
    fakebot_stop(fb);
    ts_db_drop("t_standby");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_standby_takeover_during_burst, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
