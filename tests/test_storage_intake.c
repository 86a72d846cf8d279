/* tests/test_storage_intake.c - test_storage: the inbox (redelivery, a monotonic offset,
 * sealed bytes kept exactly) and per-chat claims (exclusive, workers keeping each chat's
 * order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "test_storage_int.h"
#include "common/banned.h"

/* Applies "processed, nothing else" for an update. */
static void mark_done(struct store *s, long long update_id)
{
    struct store_effects fx = {.update_id = update_id, .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
}

/* ---- intake ---- */

static void test_storage_inbox_redelivery(void **state)
{
    char *ci = tsto_db_new("t_storage_inbox");
    struct store *s = tsto_open_store(ci);
    struct store_inbox_row rows[3] = {
        ts_inbox_row(101, 7,
                     "{\"update_id\":101,\"message\":{\"text\":\"a \\\"quoted\\\" \\\\ x\"}}"),
        ts_inbox_row(102, 8, "{\"update_id\":102}"),
        ts_inbox_row(103, 7, "{\"update_id\":103}"),
    };
    size_t ins = 99;
    CHECK(store_inbox_put(s, rows, 3, 104, &ins, EI));
    assert_int_equal(ins, 3);
    /* Redelivered 102 and 103 with a new 104: only 104 is new. */
    struct store_inbox_row again[3] = {rows[1], rows[2],
                                       ts_inbox_row(104, 9, "{\"update_id\":104}")};
    CHECK(store_inbox_put(s, again, 3, 105, &ins, EI));
    assert_int_equal(ins, 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox"), 4);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 102"), 1);
    tsto_assert_scalar(ci, "SELECT convert_from(sealed, 'UTF8') FROM inbox WHERE update_id = 101",
                       "{\"update_id\":101,\"message\":{\"text\":\"a \\\"quoted\\\" \\\\ x\"}}");
    assert_int_equal(ts_db_count(ci, "SELECT chat_key FROM inbox WHERE update_id = 104"), 9);
    long long off = 0;
    CHECK(store_offset_get(s, &off, EI));
    assert_int_equal(off, 105);
    struct store_stats st;
    CHECK(store_stats_get(s, &st, EI));
    assert_int_equal(st.inbox_total, 4);
    assert_int_equal(st.inbox_pending, 4);
    assert_int_equal(st.offset, 105);
    store_free(s);
    ts_db_drop("t_storage_inbox");
    free(ci);
}

static void test_storage_inbox_offset_monotonic(void **state)
{
    char *ci = tsto_db_new("t_storage_offset");
    struct store *s = tsto_open_store(ci);
    long long off = -1;
    CHECK(store_offset_get(s, &off, EI));
    assert_int_equal(off, 0);
    CHECK(store_inbox_put(s, NULL, 0, 500, NULL, EI));
    struct store_inbox_row row = ts_inbox_row(10, 1, "{}");
    CHECK(store_inbox_put(s, &row, 1, 50, NULL, EI));
    CHECK(store_offset_get(s, &off, EI));
    assert_int_equal(off, 500);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 10"), 1);
    store_free(s);
    ts_db_drop("t_storage_offset");
    free(ci);
}

/* The inbox keeps sealed bytes as they come, whatever they hold (NUL, bytes that are no
 * UTF-8, no JSON): nothing of an update is refused or read by the database. */
static void test_storage_inbox_sealed_bytes_kept_exactly(void **state)
{
    char *ci = tsto_db_new("t_storage_nul");
    struct store *s = tsto_open_store(ci);
    static const unsigned char raw[] = {1, 0, 0xff, 0xfe, '{', 'n', 'o', 't', 0, 0x80};
    struct store_inbox_row rows[2] = {ts_inbox_row(1, 1, "x"),
                                      ts_inbox_row(2, 1, "{\"t\":\"ok\"}")};
    rows[0].sealed = raw;
    rows[0].sealed_len = sizeof(raw);
    rows[0].kind = "message";
    size_t ins = 0;
    CHECK(store_inbox_put(s, rows, 2, 3, &ins, EI));
    assert_int_equal(ins, 2);
    tsto_assert_scalar(ci,
                       "SELECT encode(sealed, 'hex') || ' ' || kind FROM inbox WHERE update_id = 1",
                       "0100fffe7b6e6f740080 message");
    struct store_update *u = NULL;
    size_t n = 0;
    CHECK(store_inbox_pending(s, 1, 10, &u, &n, EI));
    assert_int_equal(n, 2);
    assert_int_equal(u[0].sealed_len, sizeof(raw));
    assert_memory_equal(u[0].sealed, raw, sizeof(raw));
    assert_string_equal((const char *)u[1].sealed, "{\"t\":\"ok\"}");
    store_updates_free(u, n);
    long long off = 0;
    CHECK(store_offset_get(s, &off, EI));
    assert_int_equal(off, 3);
    store_free(s);
    ts_db_drop("t_storage_nul");
    free(ci);
}

/* ---- per-chat claims ---- */

static void test_storage_chat_claim_exclusive(void **state)
{
    char *ci = tsto_db_new("t_storage_claim");
    struct store *a = tsto_open_store(ci), *b = tsto_open_store(ci), *c = tsto_open_store(ci);
    long long ids[] = {1, 2, 3, 4, 5, 6};
    long long chats[] = {100, 200, 100, 300, 200, 100};
    tsto_put_updates(a, ids, chats, 6, 7);
    long long k1, k2, k3, k4;
    int got;
    CHECK(store_chat_claim(a, &k1, &got, EI));
    assert_int_equal(got, 1);
    assert_int_equal(k1, 100); /* the chat of the oldest pending update */
    CHECK(store_chat_claim(b, &k2, &got, EI));
    assert_int_equal(got, 1);
    assert_int_equal(k2, 200);
    CHECK(store_chat_claim(c, &k3, &got, EI));
    assert_int_equal(got, 1);
    assert_int_equal(k3, 300);
    /* Everything is held: by others, and by itself (no stacking). */
    CHECK(store_chat_claim(a, &k4, &got, EI));
    assert_int_equal(got, 0);
    CHECK(store_chat_claim(b, &k4, &got, EI));
    assert_int_equal(got, 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                     " AND objsubid = 1 AND granted AND database = (SELECT oid"
                                     " FROM pg_database WHERE datname = current_database())"),
                     3);

    struct store_update *u = NULL;
    size_t n = 0;
    CHECK(store_inbox_pending(a, 100, 10, &u, &n, EI));
    assert_int_equal(n, 3);
    assert_int_equal(u[0].update_id, 1);
    assert_int_equal(u[1].update_id, 3);
    assert_int_equal(u[2].update_id, 6);
    assert_non_null(strstr((const char *)u[2].sealed, "\"update_id\": 6"));
    store_updates_free(u, n);
    CHECK(store_inbox_pending(a, 100, 2, &u, &n, EI));
    assert_int_equal(n, 2);
    store_updates_free(u, n);

    /* b finishes chat 200 and lets go; a may take it; c's chat stays c's. */
    mark_done(b, 2);
    mark_done(b, 5);
    CHECK(store_chat_release(b, 200, EI));
    CHECK(store_chat_claim(a, &k4, &got, EI));
    assert_int_equal(got, 0); /* 200 has nothing pending now */
    long long more_id = 7, more_chat = 200;
    tsto_put_updates(b, &more_id, &more_chat, 1, 8);
    CHECK(store_chat_claim(a, &k4, &got, EI));
    assert_int_equal(got, 1);
    assert_int_equal(k4, 200);
    CHECK(store_chat_release(a, 200, EI));
    CHECK(store_chat_release(a, 100, EI));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                     " AND objsubid = 1 AND granted AND database = (SELECT oid"
                                     " FROM pg_database WHERE datname = current_database())"),
                     1);
    store_free(a);
    store_free(b);
    store_free(c);
    ts_db_drop("t_storage_claim");
    free(ci);
}

#define W_CHATS 12
#define W_PER_CHAT 25
#define W_THREADS 4

struct workers {
    const char *ci;
    atomic_int holder[W_CHATS + 1]; /* 0 free, else thread number */
    long long last[W_CHATS + 1];    /* last update_id handled per chat */
    atomic_int handled, violations;
};

struct worker_arg {
    struct workers *w;
    int no;
};

static void *worker_thread(void *p)
{
    struct worker_arg *wa = p;
    struct workers *w = wa->w;
    struct store *s = tsto_open_store(w->ci);
    int idle = 0;
    while (idle < 3) {
        long long key;
        int got;
        if (store_chat_claim(s, &key, &got, NULL) != TL_OK)
            break;
        if (!got) {
            idle++;
            tl_sleep_ms(5, NULL);
            continue;
        }
        idle = 0;
        int expect = 0;
        if (!atomic_compare_exchange_strong(&w->holder[key], &expect, wa->no))
            atomic_fetch_add(&w->violations, 1);
        struct store_update *u = NULL;
        size_t n = 0;
        if (store_inbox_pending(s, key, 4, &u, &n, NULL) == TL_OK) {
            for (size_t i = 0; i < n; i++) {
                if (u[i].update_id <= w->last[key])
                    atomic_fetch_add(&w->violations, 1);
                w->last[key] = u[i].update_id;
                struct store_effects fx = {.update_id = u[i].update_id, .set_blocked = -1};
                if (store_apply(s, &fx, NULL, NULL) == TL_OK)
                    atomic_fetch_add(&w->handled, 1);
            }
            store_updates_free(u, n);
        }
        atomic_store(&w->holder[key], 0);
        if (store_chat_release(s, key, NULL) != TL_OK)
            atomic_fetch_add(&w->violations, 1);
    }
    store_free(s);
    return NULL;
}

/* Four workers on separate connections: a chat is never held twice at once, and each
 * chat's updates are handled in update_id order, a few at a time. */
static void test_storage_chat_claim_workers_order(void **state)
{
    char *ci = tsto_db_new("t_storage_workers");
    struct store *s = tsto_open_store(ci);
    long long id = 1;
    for (int round = 0; round < W_PER_CHAT; round++) {
        long long ids[W_CHATS], chats[W_CHATS];
        for (int c = 0; c < W_CHATS; c++) {
            ids[c] = id++;
            chats[c] = (c * 7 + round) % W_CHATS + 1;
        }
        tsto_put_updates(s, ids, chats, W_CHATS, id);
    }
    static struct workers w;
    memset(&w, 0, sizeof(w));
    w.ci = ci;
    pthread_t t[W_THREADS];
    struct worker_arg wa[W_THREADS];
    for (int i = 0; i < W_THREADS; i++) {
        wa[i] = (struct worker_arg){&w, i + 1};
        assert_int_equal(pthread_create(&t[i], NULL, worker_thread, &wa[i]), 0);
    }
    for (int i = 0; i < W_THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&w.violations), 0);
    assert_int_equal(atomic_load(&w.handled), W_CHATS * W_PER_CHAT);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 0);
    store_free(s);
    ts_db_drop("t_storage_workers");
    free(ci);
}

const struct CMUnitTest tsto_intake_tests[] = {
    cmocka_unit_test(test_storage_inbox_redelivery),
    cmocka_unit_test(test_storage_inbox_offset_monotonic),
    cmocka_unit_test(test_storage_inbox_sealed_bytes_kept_exactly),
    cmocka_unit_test(test_storage_chat_claim_exclusive),
    cmocka_unit_test(test_storage_chat_claim_workers_order),
};
const size_t tsto_intake_ntests = TS_NTESTS(tsto_intake_tests);
