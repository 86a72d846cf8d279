/* tests/test_storage.c - storage/ against a real PostgreSQL. Every test makes its own
 * database from the migrated template (ts_db_create). This file holds the helpers, the
 * connection's tests (reconnects, settings), retention, and main, which runs them with
 * the tests of test_storage_migrate.c (migrations, schema files), test_storage_intake.c
 * (the inbox, per-chat claims), test_storage_apply.c (store_apply),
 * test_storage_outbox.c (the outbox) and test_storage_triage.c (triage, the audit) as
 * one group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "test_storage_int.h"
#include "common/banned.h"

/* ---- helpers ---- */

char *tsto_db_new(const char *name)
{
    char *ci = ts_db_create(name);
    if (!ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    return ci;
}

struct store *tsto_open_store(const char *ci)
{
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    int rc = store_open(ci, &s, &ei);
    if (rc)
        fail_msg("store_open: %s: %s", tl_strerror(rc), ei.msg);
    return s;
}

char *tsto_sql_state(const char *ci, const char *sql)
{
    PGconn *c = PQconnectdb(ci);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    char *out = tl_strdup(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? ""
                          : state                                         ? state
                                                                          : "?");
    PQclear(r);
    PQfinish(c);
    return out;
}

void tsto_sql_ok(const char *ci, const char *sql)
{
    char *st = tsto_sql_state(ci, sql);
    if (*st)
        fail_msg("%s: SQLSTATE %s", sql, st);
    free(st);
}

void tsto_assert_scalar(const char *ci, const char *sql, const char *want)
{
    char *v = ts_db_scalar(ci, sql);
    if (!want) {
        if (v)
            fail_msg("%s: want NULL, got %s", sql, v);
        return;
    }
    if (!v)
        fail_msg("%s: want %s, got NULL", sql, want);
    if (strcmp(v, want) != 0)
        fail_msg("%s: want %s, got %s", sql, want, v);
    free(v);
}

void tsto_put_updates(struct store *s, const long long *ids, const long long *chats, size_t n,
                      long long offset)
{
    struct store_inbox_row rows[64];
    char json[64][96];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        snprintf(json[i], sizeof(json[i]), "{\"update_id\": %lld, \"chat\": %lld}", ids[i],
                 chats[i]);
        rows[i] = ts_inbox_row(ids[i], chats[i], json[i]);
    }
    CHECK(store_inbox_put(s, rows, n, offset, NULL, EI));
}

/* ---- connection loss ---- */

static void test_storage_reconnect(void **state)
{
    char *ci = tsto_db_new("t_storage_down");
    struct store *s = tsto_open_store(ci);
    long long off;
    int got = 0;
    CHECK(store_poller_lock(s, &got, EI));
    assert_int_equal(got, 1);
    assert_int_equal(store_generation(s), 0);
    /* kill our backend from outside */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
                                     " FROM pg_stat_activity WHERE datname = 't_storage_down'"
                                     " AND pid <> pg_backend_pid()) t"),
                     1);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_offset_get(s, &off, &ei), TL_EDBDOWN);
    assert_true(ei.msg[0] != 0);
    /* the next call resets the connection and works; the poller lock was lost */
    CHECK(store_offset_get(s, &off, EI));
    assert_int_equal(store_generation(s), 1);
    /* pg_locks is cluster-wide and other tests run in parallel: this database only */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                     "AND database = (SELECT oid FROM pg_database "
                                     "WHERE datname = current_database())"),
                     0);
    CHECK(store_poller_lock(s, &got, EI));
    assert_int_equal(got, 1);
    /* a second store cannot take the poller while the first holds it */
    struct store *s2 = tsto_open_store(ci);
    CHECK(store_poller_lock(s2, &got, EI));
    assert_int_equal(got, 0);
    store_free(s2);
    store_free(s);
    /* a server that is not there at all */
    struct store *none = NULL;
    assert_int_equal(
        store_open("host=/nonexistent-dir port=1 dbname=x connect_timeout=2", &none, &ei),
        TL_EDBDOWN);
    assert_null(none);
    ts_db_drop("t_storage_down");
    free(ci);
}

/* The setting name has on s's own connection, compared with want. */
static void assert_setting(struct store *s, const char *name, const char *want)
{
    char *v = NULL;
    CHECK(store_setting(s, name, &v, EI));
    assert_non_null(v);
    if (strcmp(v, want) != 0)
        fail_msg("SHOW %s: want %s, got %s", name, want, v);
    free(v);
}

/* JIT is off on every connection tipline opens (the server's default is on), also after
 * a reconnect, with the operator's own options kept; an operator can turn it back on. */
static void test_storage_connection_jit_off(void **state)
{
    char *ci = tsto_db_new("t_storage_jit");
    tsto_assert_scalar(ci, "SHOW jit", "on");
    struct store *s = tsto_open_store(ci);
    assert_setting(s, "jit", "off");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
                                     " FROM pg_stat_activity WHERE datname = 't_storage_jit'"
                                     " AND pid <> pg_backend_pid()) t"),
                     1);
    char *v = NULL;
    struct tl_errinfo ei = {0};
    assert_int_equal(store_setting(s, "jit", &v, &ei), TL_EDBDOWN);
    assert_null(v);
    assert_setting(s, "jit", "off");
    assert_int_equal(store_generation(s), 1);
    store_free(s);

    char *ci2 = tl_asprintf("%s options='-c statement_timeout=4321'", ci);
    s = tsto_open_store(ci2);
    assert_setting(s, "jit", "off");
    assert_setting(s, "statement_timeout", "4321ms");
    store_free(s);
    free(ci2);

    ci2 = tl_asprintf("%s options='-c jit=on'", ci);
    s = tsto_open_store(ci2);
    assert_setting(s, "jit", "on");
    store_free(s);
    free(ci2);
    ts_db_drop("t_storage_jit");
    free(ci);
}

/* ---- retention ---- */

static void test_storage_purge(void **state)
{
    char *ci = tsto_db_new("t_storage_purge");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {1, 2, 3}, chats[] = {11, 12, 11};
    tsto_put_updates(s, ids, chats, 3, 4);
    struct store_effects fx = {
        .update_id = 1, .chat_id = 11, .pseudonym = "ps_11", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    fx = (struct store_effects){
        .update_id = 2, .chat_id = 12, .pseudonym = "ps_12", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    tsto_queue(s, 12, "old");
    tsto_sql_ok(ci,
                "UPDATE inbox SET processed_at = now() - interval '40 days' WHERE update_id = 1");
    tsto_sql_ok(ci, "UPDATE chats SET last_seen = now() - interval '100 days' WHERE chat_id = 12");
    tsto_sql_ok(ci, "UPDATE outbox SET state = 'sent', created_at = now() - interval '100 days'");
    tsto_sql_ok(ci, "INSERT INTO drafts (chat_id, state, expires_at) VALUES"
                    " (12, '{}', now() + interval '1 day'), (11, '{}', now() - interval '1 hour'),"
                    " (13, '{}', now() + interval '1 day')");
    /* a dead web server's registration, an old live event and a fresh one */
    tsto_sql_ok(ci, "INSERT INTO web_listeners (pid) VALUES (1)");
    tsto_sql_ok(ci,
                "INSERT INTO web_events (body, at) VALUES ('old', now() - interval '11 minutes'),"
                " ('new', now())");
    struct store_purged p;
    CHECK(store_purge(s, 90, 30, &p, EI));
    assert_int_equal(p.events, 1);
    tsto_assert_scalar(ci, "SELECT string_agg(body, ',') FROM web_events", "new");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM web_listeners"), 0);
    assert_int_equal(p.inbox, 1);
    assert_int_equal(p.chats, 1);
    assert_int_equal(p.outbox, 1);
    assert_int_equal(p.drafts, 2);
    tsto_assert_scalar(ci, "SELECT string_agg(update_id::text, ',' ORDER BY update_id) FROM inbox",
                       "2,3");
    tsto_assert_scalar(ci, "SELECT string_agg(chat_id::text, ',') FROM chats", "11");
    tsto_assert_scalar(ci, "SELECT string_agg(chat_id::text, ',') FROM drafts", "13");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reporters"), 3);
    /* 0 keeps forever */
    tsto_sql_ok(ci,
                "UPDATE inbox SET processed_at = now() - interval '400 days' WHERE update_id = 2");
    CHECK(store_purge(s, 0, 0, &p, EI));
    assert_int_equal(p.inbox + p.chats + p.outbox, 0);
    store_free(s);
    ts_db_drop("t_storage_purge");
    free(ci);
}

static const struct CMUnitTest own_tests[] = {
    cmocka_unit_test(test_storage_connection_jit_off),
    cmocka_unit_test(test_storage_reconnect),
    cmocka_unit_test(test_storage_purge),
};
static const size_t own_ntests = TS_NTESTS(own_tests);

int main(void)
{
    const struct ts_part parts[] = {
        {tsto_migrate_tests, &tsto_migrate_ntests}, {own_tests, &own_ntests},
        {tsto_triage_tests, &tsto_triage_ntests},   {tsto_intake_tests, &tsto_intake_ntests},
        {tsto_apply_tests, &tsto_apply_ntests},     {tsto_outbox_tests, &tsto_outbox_ntests},
    };
    return ts_run_parts(parts, TS_NTESTS(parts), NULL, NULL);
}
