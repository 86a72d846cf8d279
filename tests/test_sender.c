/* tests/test_sender.c - the bot's sender whole (daemon/runtime.c's outbox sink,
 * storage's claim and outcomes, bot/sender.c's calls in flight) against the fake Bot
 * API answering after a delay, with 429s sprinkled in, on a throwaway PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "common/cfg.h"
#include "common/util.h"
#include "fakebot/fakebot.h"
#include "tests/support/botrun.h"
#include "tests/support/testsupport.h"

#define CHATS 40     /* chat ids 7000..7039 */
#define PER_CHAT 3   /* messages queued per chat, texts "c<chat>-<seq>" */
#define BLOCKED 7039 /* this one blocked the bot: its first call gets 403 */
#define RATE 20      /* the sender's configured rate, messages/s */
#define DELAY_MS 150 /* the fake's answer delay */
#define EVERY_429 7  /* every 7th sending call gets 429, retry_after 1 s */
#define CHAT_GAP_MS 1000

struct answer {
    long long chat, in_us, out_us;
    int status, seq;
};

static void sql_ok(const char *ci, const char *sql)
{
    PGconn *c = PQconnectdb(ci);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static int by_arrival(const void *a, const void *b)
{
    const struct answer *x = a, *y = b;
    return (x->in_us > y->in_us) - (x->in_us < y->in_us);
}

/* The fake's record of what it answered, sorted by arrival. */
static struct answer *answers(struct fakebot *fb, size_t *n)
{
    char *txt = fakebot_answers_json(fb);
    struct json_object *arr = json_tokener_parse(txt), *v, *p;
    free(txt);
    assert_non_null(arr);
    *n = json_object_array_length(arr);
    struct answer *a = calloc(*n ? *n : 1, sizeof(*a));
    for (size_t i = 0; i < *n; i++) {
        struct json_object *o = json_object_array_get_idx(arr, i);
        assert_true(json_object_object_get_ex(o, "params", &p));
        assert_true(json_object_object_get_ex(p, "chat_id", &v));
        a[i].chat = json_object_get_int64(v);
        assert_true(json_object_object_get_ex(p, "text", &v));
        long long chat = 0;
        assert_int_equal(sscanf(json_object_get_string(v), "c%lld-%d", &chat, &a[i].seq), 2);
        assert_int_equal(chat, a[i].chat);
        assert_true(json_object_object_get_ex(o, "status", &v));
        a[i].status = json_object_get_int(v);
        assert_true(json_object_object_get_ex(o, "in_us", &v));
        a[i].in_us = json_object_get_int64(v);
        assert_true(json_object_object_get_ex(o, "out_us", &v));
        a[i].out_us = json_object_get_int64(v);
    }
    json_object_put(arr);
    qsort(a, *n, sizeof(*a), by_arrival);
    return a;
}

static void test_sender_delay_and_429_rate_order_once(void **state)
{
    char *ci = ts_db_create("t_sender");
    assert_non_null(ci);
    tb_seal_chats(ci, 7000, 40);
    sql_ok(ci, "INSERT INTO outbox (chat_id, method, params)"
               " SELECT c, 'sendMessage', jsonb_build_object('chat_id', c, 'text',"
               "   'c' || c || '-' || s)"
               " FROM generate_series(0, 2) s, generate_series(7000, 7039) c ORDER BY s, c");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {
        .quiet = 1, .delay_ms = DELAY_MS, .every_429 = EVERY_429, .retry_after = 1};
    assert_int_equal(fakebot_start(&fo, &fb), 0);
    fakebot_set_blocked_chat(fb, BLOCKED);
    struct cfg c;
    tb_cfg(&c, ci);
    c.send_rate = RATE;
    c.send_chat_interval_ms = CHAT_GAP_MS;
    int64_t t0 = tl_now_ms();
    tb_start(&c, fb, 0, 0);
    /* done when no row is left pending or in flight */
    while (ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')") &&
           tl_now_ms() - t0 < 60000)
        tl_sleep_ms(100, NULL);
    int64_t took = tl_now_ms() - t0;
    tb_stop();

    /* nothing lost: every row of the open chats sent, the blocked chat's all failed */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'"),
                     (CHATS - 1) * PER_CHAT);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'failed'"
                                     " AND chat_id = 7039"),
                     PER_CHAT);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM chats WHERE blocked"), 1);

    size_t n;
    struct answer *a = answers(fb, &n);
    size_t n200 = 0, n429 = 0, n403 = 0, max_inflight = 0;
    for (size_t i = 0; i < n; i++) {
        n200 += a[i].status == 200;
        n429 += a[i].status == 429;
        n403 += a[i].status == 403;
        assert_true(a[i].status == 200 || a[i].status == 429 || a[i].status == 403);
    }
    /* the fake's sprinkle, exactly; and every 429 is one retry recorded in the outbox */
    assert_int_equal(n429, n / EVERY_429);
    assert_int_equal(n403, 1);
    assert_int_equal(n, n200 + n429 + n403);
    assert_int_equal(ts_db_count(ci, "SELECT sum(attempts) FROM outbox"), (long long)n429 + 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'"
                                     " AND attempts > 0 AND last_error LIKE 'Too Many Requests%'"),
                     ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'"
                                     " AND attempts > 0"));
    /* nothing sent twice: one 200 per sent row, each (chat, seq) once */
    assert_int_equal(n200, (CHATS - 1) * PER_CHAT);
    int seen[CHATS][PER_CHAT] = {{0}};
    for (size_t i = 0; i < n; i++)
        if (a[i].status == 200)
            assert_int_equal(seen[a[i].chat - 7000][a[i].seq]++, 0);

    /* per chat: in order, never two in flight, and a second between deliveries */
    for (long long chat = 7000; chat < 7000 + CHATS; chat++) {
        long long prev_out = -1, prev_sent_out = -1;
        int next_seq = 0;
        for (size_t i = 0; i < n; i++) {
            if (a[i].chat != chat)
                continue;
            assert_true(a[i].in_us >= prev_out); /* the one before had been answered */
            if (a[i].status == 200) {
                assert_int_equal(a[i].seq, next_seq++);
                if (prev_sent_out >= 0)
                    assert_true(a[i].in_us - prev_sent_out >= (CHAT_GAP_MS - 50) * 1000LL);
                prev_sent_out = a[i].out_us;
            } else if (a[i].status == 429) {
                assert_int_equal(a[i].seq, next_seq); /* the head, retried later */
            }
            prev_out = a[i].out_us;
        }
        assert_int_equal(next_seq, chat == BLOCKED ? 0 : PER_CHAT);
    }

    /* the global rate: the bucket holds one token beyond the pace, so no RATE + 2 calls
     * within one second (50 ms allowed for the jitter between the sender's start and
     * the fake's arrival), and the calls of any two seconds are at most 2 * RATE + 1 */
    for (size_t i = RATE + 1; i < n; i++)
        assert_true(a[i].in_us - a[i - RATE - 1].in_us >= 950000);
    for (size_t i = 2 * RATE + 1; i < n; i++)
        assert_true(a[i].in_us - a[i - 2 * RATE - 1].in_us >= 1950000);
    /* several in flight at once: one call at a time with a 150 ms answer would take
     * n * 150 ms */
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            k += a[j].in_us <= a[i].in_us && a[j].out_us > a[i].in_us;
        if (k > max_inflight)
            max_inflight = k;
    }
    print_message("%zu calls (%zu 429) in %lld ms, at most %zu in flight\n", n, n429,
                  (long long)took, max_inflight);
    assert_true(max_inflight >= 2);
    assert_true(took < (int64_t)n * DELAY_MS);
    free(a);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_sender");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sender_delay_and_429_rate_order_once, tb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
