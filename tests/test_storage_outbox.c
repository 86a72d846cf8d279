/* tests/test_storage_outbox.c - test_storage: the outbox (one message in flight per
 * chat, the chat interval, retries and expiry, failed and blocked chats, concurrent
 * senders). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "test_storage_int.h"
#include "common/banned.h"

/* ---- outbox ---- */

void tsto_queue(struct store *s, long long chat, const char *text)
{
    char params[128];
    snprintf(params, sizeof(params), "{\"chat_id\":%lld,\"text\":\"%s\"}", chat, text);
    struct store_outbox_new o = {chat, "sendMessage", params};
    struct store_effects fx = {.update_id = 0,
                               .chat_id = chat,
                               .pseudonym = "ps_o",
                               .set_blocked = -1,
                               .outbox = &o,
                               .n_outbox = 1};
    CHECK(store_apply(s, &fx, NULL, EI));
}

static void test_storage_outbox_one_per_chat(void **state)
{
    char *ci = tsto_db_new("t_storage_outbox");
    struct store *s = tsto_open_store(ci), *s2 = tsto_open_store(ci);
    tsto_queue(s, 1, "m1");
    tsto_queue(s, 1, "m2");
    tsto_queue(s, 2, "m3");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 2);
    assert_int_equal(m[0].chat_id, 1);
    assert_non_null(strstr(m[0].params_json, "m1"));
    assert_string_equal(m[0].method, "sendMessage");
    assert_int_equal(m[1].chat_id, 2);
    assert_non_null(strstr(m[1].params_json, "m3"));
    long long id1 = m[0].id, id3 = m[1].id;
    store_outmsgs_free(m, n);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sending'"
                                     " AND claimed_until > now() + interval '50 seconds'"),
                     2);
    /* m2 waits behind m1, which is in flight; nobody else gets anything */
    CHECK(store_outbox_claim(s2, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    CHECK(store_outbox_sent(s, id1, 777, EI));
    CHECK(store_outbox_sent(s, id3, 778, EI));
    tsto_assert_scalar(
        ci, "SELECT state || tg_message_id FROM outbox WHERE text(params) LIKE '%m1%'", "sent777");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 2);
    CHECK(store_outbox_claim(s2, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_non_null(strstr(m[0].params_json, "m2"));
    store_outmsgs_free(m, n);
    /* max limits the batch */
    tsto_queue(s, 3, "m4");
    tsto_queue(s, 4, "m5");
    CHECK(store_outbox_claim(s, 1, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_non_null(strstr(m[0].params_json, "m4"));
    store_outmsgs_free(m, n);
    struct store_stats st;
    CHECK(store_stats_get(s, &st, EI));
    assert_int_equal(st.outbox_sent, 2);
    assert_int_equal(st.outbox_pending, 3);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_outbox_sent(s, 987654, 1, &ei), TL_ENOTFOUND);
    store_free(s);
    store_free(s2);
    ts_db_drop("t_storage_outbox");
    free(ci);
}

static void test_storage_outbox_chat_interval(void **state)
{
    char *ci = tsto_db_new("t_storage_interval");
    struct store *s = tsto_open_store(ci);
    tsto_queue(s, 1, "m1");
    tsto_queue(s, 1, "m2");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 1000, &m, &n, EI));
    assert_int_equal(n, 1);
    CHECK(store_outbox_sent(s, m[0].id, 1, EI));
    store_outmsgs_free(m, n);
    /* sent just now: m2 must wait for the interval */
    CHECK(store_outbox_claim(s, 10, 60000, &m, &n, EI));
    assert_int_equal(n, 0);
    tsto_sql_ok(ci,
                "UPDATE outbox SET sent_at = now() - interval '2 seconds' WHERE state = 'sent'");
    CHECK(store_outbox_claim(s, 10, 60000, &m, &n, EI));
    assert_int_equal(n, 0);
    CHECK(store_outbox_claim(s, 10, 1000, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_non_null(strstr(m[0].params_json, "m2"));
    store_outmsgs_free(m, n);
    store_free(s);
    ts_db_drop("t_storage_interval");
    free(ci);
}

static void test_storage_outbox_retry_and_expiry(void **state)
{
    char *ci = tsto_db_new("t_storage_retry");
    struct store *s = tsto_open_store(ci);
    tsto_queue(s, 1, "m1");
    tsto_queue(s, 1, "m2");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    long long id = m[0].id;
    assert_int_equal(m[0].attempts, 0);
    store_outmsgs_free(m, n);
    CHECK(store_outbox_retry(s, id, 60000, "429 Too Many Requests", EI));
    tsto_assert_scalar(
        ci,
        "SELECT concat_ws('|', state, attempts, last_error, claimed_until IS NULL,"
        " not_before > now() + interval '50 seconds') FROM outbox WHERE id = (SELECT "
        "min(id) FROM outbox)",
        "pending|1|429 Too Many Requests|t|t");
    /* m1 waits, and m2 waits behind it: order holds across retries */
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    tsto_sql_ok(ci, "UPDATE outbox SET not_before = now() - interval '1 second'");
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_int_equal(m[0].id, id);
    assert_int_equal(m[0].attempts, 1);
    store_outmsgs_free(m, n);
    /* a sender that died: its claim expires and the message comes back */
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    tsto_sql_ok(ci, "UPDATE outbox SET claimed_until = now() - interval '1 second'"
                    " WHERE state = 'sending'");
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_int_equal(m[0].id, id);
    store_outmsgs_free(m, n);
    store_free(s);
    ts_db_drop("t_storage_retry");
    free(ci);
}

static void test_storage_outbox_failed_blocked(void **state)
{
    char *ci = tsto_db_new("t_storage_failed");
    struct store *s = tsto_open_store(ci);
    tsto_queue(s, 1, "m1");
    tsto_queue(s, 1, "m2");
    tsto_queue(s, 2, "m3");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 2);
    /* chat 2: a permanent error that is not a block */
    CHECK(store_outbox_failed(s, m[1].id, "400 Bad Request: message is too long", 0, EI));
    /* chat 1: the user blocked the bot */
    CHECK(store_outbox_failed(s, m[0].id, "403 Forbidden: bot was blocked by the user", 1, EI));
    store_outmsgs_free(m, n);
    tsto_assert_scalar(ci,
                       "SELECT string_agg(chat_id || ':' || blocked, ',' ORDER BY chat_id)"
                       " FROM chats",
                       "1:true,2:false");
    tsto_assert_scalar(ci,
                       "SELECT string_agg(state || ':' || last_error, ',' ORDER BY id) FROM outbox",
                       "failed:403 Forbidden: bot was blocked by the user,"
                       "failed:chat blocked the bot,"
                       "failed:400 Bad Request: message is too long");
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    store_free(s);
    ts_db_drop("t_storage_failed");
    free(ci);
}

#define S_CHATS 8
#define S_PER_CHAT 12

struct senders {
    const char *ci;
    long long first_id;
    atomic_int seen[S_CHATS * S_PER_CHAT + 1];
    atomic_llong last[S_CHATS + 1]; /* last message id sent per chat */
    atomic_int sent, violations;
};

static void *sender_thread(void *p)
{
    struct senders *w = p;
    struct store *s = tsto_open_store(w->ci);
    int idle = 0;
    while (idle < 20) {
        struct store_outmsg *m = NULL;
        size_t n = 0;
        if (store_outbox_claim(s, 10, 0, &m, &n, NULL) != TL_OK)
            break;
        idle = n ? 0 : idle + 1;
        for (size_t i = 0; i < n; i++) {
            long long k = m[i].id - w->first_id;
            if (k < 0 || k >= S_CHATS * S_PER_CHAT || atomic_fetch_add(&w->seen[k], 1) != 0)
                atomic_fetch_add(&w->violations, 1);
            long long chat = m[i].chat_id;
            if (chat < 1 || chat > S_CHATS || atomic_exchange(&w->last[chat], m[i].id) > m[i].id)
                atomic_fetch_add(&w->violations, 1);
            for (size_t j = 0; j < n; j++)
                if (j != i && m[j].chat_id == chat)
                    atomic_fetch_add(&w->violations, 1);
            if (store_outbox_sent(s, m[i].id, m[i].id, NULL) == TL_OK)
                atomic_fetch_add(&w->sent, 1);
        }
        store_outmsgs_free(m, n);
        if (!n)
            tl_sleep_ms(2, NULL);
    }
    store_free(s);
    return NULL;
}

/* Two senders side by side: no message is claimed twice, each claim has at most one
 * message per chat, and each chat's messages go out in the order they were queued. */
static void test_storage_outbox_concurrent_senders(void **state)
{
    char *ci = tsto_db_new("t_storage_senders");
    struct store *s = tsto_open_store(ci);
    for (int i = 0; i < S_PER_CHAT; i++)
        for (int c = 1; c <= S_CHATS; c++)
            tsto_queue(s, c, "m");
    static struct senders w;
    memset(&w, 0, sizeof(w));
    w.ci = ci;
    w.first_id = ts_db_count(ci, "SELECT min(id) FROM outbox");
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sender_thread, &w), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&w.violations), 0);
    assert_int_equal(atomic_load(&w.sent), S_CHATS * S_PER_CHAT);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'"
                                     " AND tg_message_id = id"),
                     S_CHATS * S_PER_CHAT);
    store_free(s);
    ts_db_drop("t_storage_senders");
    free(ci);
}

const struct CMUnitTest tsto_outbox_tests[] = {
    cmocka_unit_test(test_storage_outbox_one_per_chat),
    cmocka_unit_test(test_storage_outbox_chat_interval),
    cmocka_unit_test(test_storage_outbox_retry_and_expiry),
    cmocka_unit_test(test_storage_outbox_failed_blocked),
    cmocka_unit_test(test_storage_outbox_concurrent_senders),
};
const size_t tsto_outbox_ntests = TS_NTESTS(tsto_outbox_tests);
