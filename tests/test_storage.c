/* tests/test_storage.c - storage/ against a real PostgreSQL: migrations, intake,
 * per-chat claims, store_apply, the outbox, triage, reconnects. Every test makes its
 * own database from the migrated template (ts_db_create). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "common/banned.h"

/* ---- helpers ---- */

static char *db_new(const char *name)
{
    char *ci = ts_db_create(name);
    if (!ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    return ci;
}

static struct store *open_store(const char *ci)
{
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    int rc = store_open(ci, &s, &ei);
    if (rc)
        fail_msg("store_open: %s: %s", tl_strerror(rc), ei.msg);
    return s;
}

/* Runs sql on a separate connection; returns the SQLSTATE of a failure ("" on success)
 * as a new string. */
static char *sql_state(const char *ci, const char *sql)
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

static void sql_ok(const char *ci, const char *sql)
{
    char *st = sql_state(ci, sql);
    if (*st)
        fail_msg("%s: SQLSTATE %s", sql, st);
    free(st);
}

static void assert_scalar(const char *ci, const char *sql, const char *want)
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

static void put_updates(struct store *s, const long long *ids, const long long *chats, size_t n,
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

/* Applies "processed, nothing else" for an update. */
static void mark_done(struct store *s, long long update_id)
{
    struct store_effects fx = {.update_id = update_id, .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    assert_true(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL));
    tl_hex(md, 32, out);
}

/* ---- migrations ---- */

/* An empty database (no template) on the same cluster. */
static char *db_empty(const char *name)
{
    char *tmpl = db_new("t_storage_scratch");
    char *drop = tl_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    char *create = tl_asprintf("CREATE DATABASE %s TEMPLATE template0", name);
    sql_ok(tmpl, drop);
    sql_ok(tmpl, create);
    free(drop);
    free(create);
    char *p = strstr(tmpl, "dbname=");
    assert_non_null(p);
    *p = 0;
    char *ci = tl_asprintf("%sdbname=%s", tmpl, name);
    free(tmpl);
    ts_db_drop("t_storage_scratch");
    return ci;
}

static void test_storage_migrate_idempotent(void **state)
{
    char *ci = db_empty("t_storage_mig");
    struct store *s = open_store(ci);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    int applied = -1;
    CHECK(store_migrate(s, &applied, EI));
    assert_true(store_n_migrations >= 1 && store_n_schema >= 1);
    assert_int_equal(applied, (int)(store_n_migrations + store_n_schema));
    CHECK(store_schema_check(s, EI));
    CHECK(store_migrate(s, &applied, EI));
    assert_int_equal(applied, 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM schema_migrations"),
                     (long long)store_n_migrations);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM schema_files"),
                     (long long)store_n_schema);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM bot_state"), 1);
    assert_scalar(ci,
                  "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension"
                  " WHERE extname IN ('postgis', 'pg_trgm')",
                  "pg_trgm,postgis");
    store_free(s);
    ts_db_drop("t_storage_mig");
    free(ci);
}

/* Compares an embedded file with the one in the source tree. */
static void assert_embedded(const char *path, const char *sql)
{
    size_t len;
    char *text = ts_read_file(path, &len);
    assert_non_null(text);
    assert_int_equal(strlen(sql), len);
    assert_memory_equal(sql, text, len);
    free(text);
}

/* The embedded lists are exactly the files in storage/migrations/ and, in the order
 * storage/schema/order.txt gives, storage/schema/. */
static void test_storage_migrate_embedded(void **state)
{
    const char *src = getenv("TL_SOURCE_DIR");
    if (!src)
        skip();
    for (size_t i = 0; i < store_n_migrations; i++) {
        const struct store_migration *m = &store_migrations[i];
        if (i > 0)
            assert_true(m->version > store_migrations[i - 1].version);
        assert_int_equal(strlen(m->sha256), 64);
        char *path = tl_asprintf("%s/storage/migrations/%04d_%s.sql", src, m->version, m->name);
        assert_embedded(path, m->sql);
        free(path);
    }
    char *order_path = tl_asprintf("%s/storage/schema/order.txt", src);
    size_t len;
    char *order = ts_read_file(order_path, &len);
    assert_non_null(order);
    size_t i = 0;
    for (char *line = order, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = 0;
        if (*line == '#' || !*line)
            continue;
        assert_true(i < store_n_schema);
        assert_string_equal(store_schema[i].name, line);
        char *path = tl_asprintf("%s/storage/schema/%s", src, line);
        assert_embedded(path, store_schema[i].sql);
        free(path);
        i++;
    }
    assert_int_equal(i, store_n_schema);
    free(order);
    free(order_path);
}

/* An applied migration whose file changed is refused, naming the file; nothing runs. */
static void test_storage_migrate_edited_refused(void **state)
{
    char *ci = db_new("t_storage_edited");
    struct store *s = open_store(ci);
    struct tl_errinfo ei = {0};
    const struct store_migration *last = &store_migrations[store_n_migrations - 1];
    char *sql = tl_asprintf("UPDATE schema_migrations SET sha256 = repeat('0', 64)"
                            " WHERE version = %d",
                            last->version);
    sql_ok(ci, sql);
    free(sql);
    sql_ok(ci, "UPDATE schema_files SET sha256 = 'stale' WHERE name = 'web_iso.sql'");
    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, &ei), TL_ESCHEMA);
    char *want = tl_asprintf("migration %04d_%s.sql was edited", last->version, last->name);
    if (!strstr(ei.msg, want))
        fail_msg("want \"%s\" in \"%s\"", want, ei.msg);
    free(want);
    assert_int_equal(applied, 0);
    /* refused before the schema files: the stale one is still stale */
    assert_scalar(ci, "SELECT sha256 FROM schema_files WHERE name = 'web_iso.sql'", "stale");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    store_free(s);
    ts_db_drop("t_storage_edited");
    free(ci);
}

/* A schema file whose content differs from what the database recorded is re-applied
 * (its function is the file's again) and recorded; the next migrate does nothing. */
static void test_storage_schema_file_reapplied(void **state)
{
    char *ci = db_new("t_storage_reapply");
    struct store *s = open_store(ci);
    struct tl_errinfo ei = {0};
    const struct store_schema_file *f = NULL;
    for (size_t i = 0; i < store_n_schema; i++)
        if (strcmp(store_schema[i].name, "web_iso.sql") == 0)
            f = &store_schema[i];
    assert_non_null(f);
    /* what an older binary's file put there, and its hash */
    sql_ok(ci, "CREATE OR REPLACE FUNCTION web_iso(t timestamptz) RETURNS text"
               " LANGUAGE sql STABLE AS $$ SELECT 'old'::text $$");
    sql_ok(ci, "UPDATE schema_files SET sha256 = repeat('1', 64) WHERE name = 'web_iso.sql'");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "schema files not applied [web_iso.sql]"));
    int applied = -1;
    CHECK(store_migrate(s, &applied, EI));
    assert_int_equal(applied, 1);
    assert_scalar(ci, "SELECT web_iso('2026-07-01T11:30:00Z')", "2026-07-01T11:30:00.000Z");
    char *q =
        tl_asprintf("SELECT sha256 = '%s' FROM schema_files WHERE name = 'web_iso.sql'", f->sha256);
    assert_scalar(ci, q, "t");
    free(q);
    CHECK(store_schema_check(s, EI));
    CHECK(store_migrate(s, &applied, EI));
    assert_int_equal(applied, 0);
    store_free(s);
    ts_db_drop("t_storage_reapply");
    free(ci);
}

/* A database an older tipline left part-way before the baseline is refused, untouched. */
static void test_storage_migrate_partial_history_refused(void **state)
{
    char *ci = db_empty("t_storage_partial");
    struct store *s = open_store(ci);
    struct tl_errinfo ei = {0};
    sql_ok(ci, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
               " applied_at timestamptz NOT NULL DEFAULT now());"
               "INSERT INTO schema_migrations (version, name)"
               " SELECT g, 'm' || g FROM generate_series(1, 5) g");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_int_equal(store_migrate(s, NULL, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "to version 5 only"));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM schema_migrations"), 5);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM pg_tables WHERE tablename = 'inbox'"),
                     0);
    store_free(s);
    ts_db_drop("t_storage_partial");
    free(ci);
}

struct migrate_job {
    const char *ci;
    atomic_int done;
    int rc, applied;
};

static void *migrate_thread(void *arg)
{
    struct migrate_job *j = arg;
    struct store *s = open_store(j->ci);
    j->rc = store_migrate(s, &j->applied, NULL);
    store_free(s);
    atomic_store(&j->done, 1);
    return NULL;
}

static void test_storage_migrate_lock(void **state)
{
    char *ci = db_empty("t_storage_miglock");
    PGconn *holder = PQconnectdb(ci);
    assert_int_equal(PQstatus(holder), CONNECTION_OK);
    PGresult *r = PQexec(holder, "SELECT pg_advisory_lock(1953067116, 2)");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);

    struct migrate_job j = {.ci = ci};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, migrate_thread, &j), 0);
    /* The migrator must be waiting on the lock, having done nothing. */
    long long waiting = 0;
    for (int i = 0; i < 100 && waiting == 0; i++) {
        tl_sleep_ms(50, NULL);
        waiting =
            ts_db_count(ci, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                            " AND NOT granted AND classid = 1953067116 AND objid = 2 AND database ="
                            " (SELECT oid FROM pg_database WHERE datname = current_database())");
    }
    assert_int_equal(waiting, 1);
    assert_int_equal(atomic_load(&j.done), 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM pg_tables WHERE tablename = 'inbox'"),
                     0);
    r = PQexec(holder, "SELECT pg_advisory_unlock(1953067116, 2)");
    PQclear(r);
    pthread_join(t, NULL);
    assert_int_equal(j.rc, TL_OK);
    assert_int_equal(j.applied, (int)(store_n_migrations + store_n_schema));
    PQfinish(holder);
    ts_db_drop("t_storage_miglock");
    free(ci);
}

static void test_storage_schema_check(void **state)
{
    char *ci = db_new("t_storage_schema");
    struct store *s = open_store(ci);
    struct tl_errinfo ei = {0};
    CHECK(store_schema_check(s, EI));
    sql_ok(ci, "DELETE FROM schema_migrations WHERE version = 17");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "missing or changed migrations [17]"));
    sql_ok(ci, "INSERT INTO schema_migrations (version, name, sha256) VALUES (17, 'baseline', 'x'),"
               " (9999, 'x', 'y')");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "missing or changed migrations [17]"));
    assert_non_null(strstr(ei.msg, "unknown migrations [9999]"));
    store_free(s);
    ts_db_drop("t_storage_schema");
    free(ci);
}

/* ---- intake ---- */

static void test_storage_inbox_redelivery(void **state)
{
    char *ci = db_new("t_storage_inbox");
    struct store *s = open_store(ci);
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
    assert_scalar(ci, "SELECT convert_from(sealed, 'UTF8') FROM inbox WHERE update_id = 101",
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
    char *ci = db_new("t_storage_offset");
    struct store *s = open_store(ci);
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
    char *ci = db_new("t_storage_nul");
    struct store *s = open_store(ci);
    static const unsigned char raw[] = {1, 0, 0xff, 0xfe, '{', 'n', 'o', 't', 0, 0x80};
    struct store_inbox_row rows[2] = {ts_inbox_row(1, 1, "x"),
                                      ts_inbox_row(2, 1, "{\"t\":\"ok\"}")};
    rows[0].sealed = raw;
    rows[0].sealed_len = sizeof(raw);
    rows[0].kind = "message";
    size_t ins = 0;
    CHECK(store_inbox_put(s, rows, 2, 3, &ins, EI));
    assert_int_equal(ins, 2);
    assert_scalar(ci, "SELECT encode(sealed, 'hex') || ' ' || kind FROM inbox WHERE update_id = 1",
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
    char *ci = db_new("t_storage_claim");
    struct store *a = open_store(ci), *b = open_store(ci), *c = open_store(ci);
    long long ids[] = {1, 2, 3, 4, 5, 6};
    long long chats[] = {100, 200, 100, 300, 200, 100};
    put_updates(a, ids, chats, 6, 7);
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
    put_updates(b, &more_id, &more_chat, 1, 8);
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
    struct store *s = open_store(w->ci);
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
    char *ci = db_new("t_storage_workers");
    struct store *s = open_store(ci);
    long long id = 1;
    for (int round = 0; round < W_PER_CHAT; round++) {
        long long ids[W_CHATS], chats[W_CHATS];
        for (int c = 0; c < W_CHATS; c++) {
            ids[c] = id++;
            chats[c] = (c * 7 + round) % W_CHATS + 1;
        }
        put_updates(s, ids, chats, W_CHATS, id);
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

/* ---- store_apply ---- */

static const unsigned char photo1[] = {0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x5c, 0x22};
static const unsigned char photo2[] = "abc";

static struct store_media_new media2[2] = {
    {.kind = "photo",
     .tg_file_id = "FILEID1",
     .tg_file_unique_id = "UNIQ1",
     .mime = "image/jpeg",
     .bytes = photo1,
     .len = sizeof(photo1),
     .width = 640,
     .height = 480,
     .has_phash = 1,
     .phash = 0xfedcba9876543210ull,
     .has_gps = 1,
     .gps_lat = 49.98765,
     .gps_lon = 36.23456,
     .gps_accuracy_m = 5,
     .taken_local = "2026-11-20T14:05:09",
     .has_taken_offset = 1,
     .taken_offset_min = 120},
    {.kind = "photo",
     .tg_file_id = "FILEID\"2",
     .tg_file_unique_id = "UNIQ2",
     .mime = "image/jpeg",
     .bytes = photo2,
     .len = 3},
};

static struct store_outbox_new out2[2] = {
    {555001, "sendMessage", "{\"chat_id\":555001,\"text\":\"Report R-1 received \\\"ok\\\"\"}"},
    {555001, "setMessageReaction", "{\"chat_id\":555001,\"message_id\":9}"},
};

static struct store_report_new report_of(const char *ref)
{
    return (struct store_report_new){
        .public_ref = ref,
        .reporter = "ps_abc",
        .category = "drone",
        .text = "two drones heading north",
        .has_point = 1,
        .lat = 50.4501,
        .lon = 30.5234,
        .point_source = "telegram_location",
        .accuracy_m = 25,
        .has_bearing = 1,
        .bearing = 350,
        .observed_at = 1764100000,
        .sent_at = 1764100060,
        .forwarded = 0,
        .media_group_id = "mg1",
        .priority = 5,
        .flags = "night,low_altitude",
        .media = media2,
        .n_media = 2,
    };
}

static void test_storage_apply_rows(void **state)
{
    char *ci = db_new("t_storage_apply");
    struct store *s = open_store(ci);
    long long ids[] = {41}, chats[] = {555001};
    put_updates(s, ids, chats, 1, 42);
    struct store_report_new rep = report_of("R-1");
    struct store_effects fx = {.update_id = 41,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .lang = "uk",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    long long rid = 0;
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_true(rid > 0);
    char *want_id = tl_asprintf("%lld", rid);
    assert_scalar(ci, "SELECT id FROM reports", want_id);
    free(want_id);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    assert_scalar(
        ci,
        "SELECT concat_ws('|', public_ref, reporter, category, text, status, priority,"
        " round(ST_Y(point::geometry)::numeric, 4), round(ST_X(point::geometry)::numeric, 4),"
        " point_source, accuracy_m, bearing, extract(epoch FROM observed_at)::bigint,"
        " extract(epoch FROM sent_at)::bigint, forwarded, media_group_id,"
        " array_to_string(flags, ';'), claimed_by IS NULL) FROM reports",
        "R-1|ps_abc|drone|two drones heading north|new|5|50.4501|30.5234|"
        "telegram_location|25|350|1764100000|1764100060|f|mg1|night;low_altitude|t");
    /* media: sha256 of the given bytes, the bytes themselves, the facts */
    char h1[65], h2[65];
    sha256_hex(photo1, sizeof(photo1), h1);
    sha256_hex(photo2, 3, h2);
    assert_string_equal(h2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char *want = tl_asprintf("%s,%s", h1, h2);
    assert_scalar(ci, "SELECT string_agg(sha256, ',' ORDER BY id) FROM media", want);
    free(want);
    assert_scalar(ci, "SELECT encode(bytes, 'hex') FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                  "ffd8ffdb00430001"
                  "5c22");
    assert_scalar(ci,
                  "SELECT concat_ws('|', kind, tg_file_id, mime, size, width, height, phash)"
                  " FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                  "photo|FILEID1|image/jpeg|10|640|480|-81985529216486896");
    assert_scalar(ci,
                  "SELECT concat_ws('|', tg_file_id, size, width IS NULL, phash IS NULL,"
                  " convert_from(bytes, 'UTF8')) FROM media WHERE tg_file_unique_id = 'UNIQ2'",
                  "FILEID\"2|3|t|t|abc");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media m JOIN reports r"
                                     " ON r.id = m.report_id"),
                     2);
    /* the facts read before the strip: on the media row, and shown to the analyst */
    assert_scalar(ci,
                  "SELECT concat_ws('|', round(ST_Y(gps::geometry)::numeric, 5),"
                  " round(ST_X(gps::geometry)::numeric, 5), gps_accuracy_m, taken_local,"
                  " taken_offset_min) FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                  "49.98765|36.23456|5|2026-11-20 14:05:09|120");
    assert_scalar(ci,
                  "SELECT concat_ws('|', gps IS NULL, gps_accuracy_m IS NULL, taken_local IS NULL,"
                  " taken_offset_min IS NULL) FROM media WHERE tg_file_unique_id = 'UNIQ2'",
                  "t|t|t|t");
    struct store_report *shown = NULL;
    CHECK(store_triage_get(s, "R-1", &shown, EI));
    assert_int_equal(shown->has_photo_point, 1);
    assert_true(fabs(shown->photo_lat - 49.98765) < 1e-9 &&
                fabs(shown->photo_lon - 36.23456) < 1e-9);
    store_report_free(shown);
    /* outbox rows in order, pending, params as JSON */
    assert_scalar(ci, "SELECT string_agg(method || ':' || state, ',' ORDER BY id) FROM outbox",
                  "sendMessage:pending,setMessageReaction:pending");
    assert_scalar(ci, "SELECT params->>'text' FROM outbox WHERE method = 'sendMessage'",
                  "Report R-1 received \"ok\"");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE chat_id = 555001"), 2);
    /* the reply path and the reporter */
    assert_scalar(ci,
                  "SELECT concat_ws('|', reporter, lang, blocked) FROM chats"
                  " WHERE chat_id = 555001",
                  "ps_abc|uk|f");
    assert_scalar(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_abc'", "1");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 41"
                                     " AND processed_at IS NOT NULL"),
                     1);
    store_free(s);
    ts_db_drop("t_storage_apply");
    free(ci);
}

static void test_storage_apply_redelivered_noop(void **state)
{
    char *ci = db_new("t_storage_noop");
    struct store *s = open_store(ci);
    long long ids[] = {41}, chats[] = {555001};
    put_updates(s, ids, chats, 1, 42);
    struct store_report_new rep = report_of("R-1");
    struct store_effects fx = {.update_id = 41,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    long long rid = 0;
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_true(rid > 0);
    /* The same update again (a crash after commit, a redelivery): nothing new. */
    struct store_report_new rep2 = report_of("R-2");
    fx.report = &rep2;
    fx.lang = "en";
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_int_equal(rid, 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 2);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 2);
    assert_scalar(ci, "SELECT n_reports FROM reporters", "1");
    assert_scalar(ci, "SELECT lang FROM chats", NULL);
    /* The inbox row never came in: TL_ENOTFOUND, nothing written. */
    struct tl_errinfo ei = {0};
    fx.update_id = 77;
    assert_int_equal(store_apply(s, &fx, &rid, &ei), TL_ENOTFOUND);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    /* update_id 0: effects without an inbox row (e.g. an analyst's follow-up). */
    struct store_effects fu = {.update_id = 0, .set_blocked = -1, .outbox = out2, .n_outbox = 1};
    CHECK(store_apply(s, &fu, &rid, EI));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 3);
    store_free(s);
    ts_db_drop("t_storage_noop");
    free(ci);
}

#define RACE_UPDATES 30

struct race {
    const char *ci;
    int no;
    int reports;
};

static void *race_thread(void *p)
{
    struct race *r = p;
    struct store *s = open_store(r->ci);
    for (int i = 1; i <= RACE_UPDATES; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "RACE-%d-%d", r->no, i);
        struct store_report_new rep = {.public_ref = ref, .reporter = "ps_r", .text = "x"};
        struct store_outbox_new o = {555001, "sendMessage", "{\"text\":\"ok\"}"};
        struct store_effects fx = {.update_id = i,
                                   .chat_id = 555001,
                                   .pseudonym = "ps_r",
                                   .set_blocked = -1,
                                   .report = &rep,
                                   .outbox = &o,
                                   .n_outbox = 1};
        long long rid = 0;
        if (store_apply(s, &fx, &rid, NULL) == TL_OK && rid > 0)
            r->reports++;
    }
    store_free(s);
    return NULL;
}

/* Two workers that both run the same updates at the same moment (a lost chat lock,
 * a redelivery): the inbox row lock and the processed check make exactly one win. */
static void test_storage_apply_same_update_racing(void **state)
{
    char *ci = db_new("t_storage_race");
    struct store *s = open_store(ci);
    long long ids[RACE_UPDATES], chats[RACE_UPDATES];
    for (int i = 0; i < RACE_UPDATES; i++) {
        ids[i] = i + 1;
        chats[i] = 555001;
    }
    put_updates(s, ids, chats, RACE_UPDATES, RACE_UPDATES + 1);
    struct race a = {ci, 1, 0}, b = {ci, 2, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, race_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, race_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.reports + b.reports, RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT n_reports FROM reporters"), RACE_UPDATES);
    store_free(s);
    ts_db_drop("t_storage_race");
    free(ci);
}

static void test_storage_apply_public_ref_conflict(void **state)
{
    char *ci = db_new("t_storage_ref");
    struct store *s = open_store(ci);
    long long ids[] = {1, 2}, chats[] = {555001, 555001};
    put_updates(s, ids, chats, 2, 3);
    struct store_report_new rep = report_of("R-SAME");
    struct store_effects fx = {.update_id = 1,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .lang = "uk",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    CHECK(store_apply(s, &fx, NULL, EI));
    struct store_effects fx2 = fx;
    fx2.update_id = 2;
    fx2.lang = "en";
    fx2.set_blocked = 1;
    struct tl_errinfo ei = {0};
    long long rid = 99;
    assert_int_equal(store_apply(s, &fx2, &rid, &ei), TL_ECONFLICT);
    assert_string_equal(ei.sqlstate, "23505");
    assert_int_equal(rid, 0);
    /* nothing of update 2 was written */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 2);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 2);
    assert_scalar(ci, "SELECT lang || blocked::text FROM chats", "ukfalse");
    assert_scalar(ci, "SELECT n_reports FROM reporters", "1");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 2"
                                     " AND processed_at IS NULL"),
                     1);
    /* the caller draws another ref and it goes through, also with a NULL ei */
    struct store_report_new rep3 = report_of("R-OTHER");
    fx2.report = &rep3;
    CHECK(store_apply(s, &fx2, &rid, EI));
    assert_true(rid > 0);
    assert_int_equal(store_apply(s, &fx, NULL, NULL), TL_OK); /* processed: no-op */
    long long ids3[] = {3}, chats3[] = {555001};
    put_updates(s, ids3, chats3, 1, 4);
    fx.update_id = 3;
    assert_int_equal(store_apply(s, &fx, NULL, NULL), TL_ECONFLICT);
    store_free(s);
    ts_db_drop("t_storage_ref");
    free(ci);
}

/* The settlements a shared place name may mean are kept with the report, by the single
 * and the batch path, and shown in the API's report document. */
static void test_storage_apply_place_candidates(void **state)
{
    char *ci = db_new("t_storage_places");
    struct store *s = open_store(ci);
    long long ids[] = {1, 2, 3}, chats[] = {555001, 555001, 555001};
    put_updates(s, ids, chats, 3, 4);
    static const char cands[] =
        "[{\"name\":\"Novoselivka\",\"oblast\":\"Kharkiv Oblast\",\"country\":\"UA\","
        "\"lat\":49.7801,\"lon\":37.0402,\"accuracy_m\":2000},{\"name\":\"Novoselivka\","
        "\"oblast\":\"Donetsk Oblast\",\"country\":\"UA\",\"lat\":48.315,\"lon\":37.842,"
        "\"accuracy_m\":2000}]";
    struct store_report_new r1 = report_of("P-1"), r2 = report_of("P-2"), r3 = report_of("P-3");
    r1.place_candidates = cands;
    r3.place_candidates = cands;
    struct store_effects fx[3];
    for (int i = 0; i < 3; i++)
        fx[i] = (struct store_effects){
            .update_id = i + 1, .chat_id = 555001, .pseudonym = "ps_abc", .set_blocked = -1};
    fx[0].report = &r1;
    fx[1].report = &r2;
    fx[2].report = &r3;
    CHECK(store_apply(s, &fx[0], NULL, EI));
    const struct store_effects *batch[2] = {&fx[1], &fx[2]};
    CHECK(store_apply_batch(s, batch, 2, NULL, EI));
    assert_scalar(ci,
                  "SELECT string_agg(public_ref || ':' || COALESCE(jsonb_array_length("
                  "place_candidates)::text, '-'), ',' ORDER BY id) FROM reports",
                  "P-1:2,P-2:-,P-3:2");
    assert_scalar(ci,
                  "SELECT string_agg(c->>'oblast', ';' ORDER BY o) FROM reports,"
                  " jsonb_array_elements(place_candidates) WITH ORDINALITY AS x(c, o)"
                  " WHERE public_ref = 'P-3'",
                  "Kharkiv Oblast;Donetsk Oblast");
    assert_scalar(ci,
                  "SELECT concat_ws('|', d->'place_candidates'->1->>'lat',"
                  " d->'place_candidates'->0->>'name', (d2->'place_candidates')::text)"
                  " FROM (SELECT web_report_doc(id, NULL, 'a', 5, false, ARRAY[queue])::json AS d"
                  " FROM reports WHERE public_ref = 'P-1') x,"
                  " (SELECT web_report_doc(id, NULL, 'a', 5, false, ARRAY[queue])::json AS d2"
                  " FROM reports WHERE public_ref = 'P-2') y",
                  "48.315|Novoselivka|null");
    store_free(s);
    ts_db_drop("t_storage_places");
    free(ci);
}

/* A chat's batch commits as one transaction; any failure writes none of it. */
static void test_storage_apply_batch(void **state)
{
    char *ci = db_new("t_storage_batch");
    struct store *s = open_store(ci);
    long long ids[] = {1, 2, 3, 4, 5}, chats[] = {555001, 555001, 555001, 555001, 555001};
    put_updates(s, ids, chats, 5, 6);
    struct store_report_new r1 = report_of("B-1"), r2 = report_of("B-2"), r3 = report_of("B-1");
    struct store_effects fx[3];
    for (int i = 0; i < 3; i++)
        fx[i] = (struct store_effects){.update_id = i + 1,
                                       .chat_id = 555001,
                                       .pseudonym = "ps_abc",
                                       .set_blocked = -1,
                                       .outbox = out2,
                                       .n_outbox = 1};
    fx[0].report = &r1;
    fx[2].report = &r2; /* update 2 has no report: a command, say */
    const struct store_effects *batch[3] = {&fx[0], &fx[1], &fx[2]};
    long long rids[3] = {-1, -1, -1};
    fx[0].lang = "uk";
    fx[2].lang = "en"; /* the chat keeps the batch's last language */
    fx[2].n_outbox = 2;
    CHECK(store_apply_batch(s, batch, 3, rids, EI));
    assert_true(rids[0] > 0 && rids[1] == 0 && rids[2] > rids[0]);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 2);
    /* the same rows as one store_apply each: reports, media with facts, outbox in order */
    assert_scalar(ci,
                  "SELECT string_agg(public_ref || ':' || point_source, ',' ORDER BY id)"
                  " FROM reports",
                  "B-1:telegram_location,B-2:telegram_location");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 4);
    assert_scalar(ci,
                  "SELECT string_agg(r.public_ref || '/' || m.tg_file_unique_id || '/' ||"
                  " COALESCE(round(ST_Y(m.gps::geometry)::numeric, 5)::text, '-'), ','"
                  " ORDER BY m.id) FROM media m JOIN reports r ON r.id = m.report_id",
                  "B-1/UNIQ1/49.98765,B-1/UNIQ2/-,B-2/UNIQ1/49.98765,B-2/UNIQ2/-");
    assert_scalar(ci, "SELECT string_agg(method, ',' ORDER BY id) FROM outbox",
                  "sendMessage,sendMessage,sendMessage,setMessageReaction");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 4);
    assert_scalar(ci, "SELECT lang FROM chats WHERE chat_id = 555001", "en");
    assert_scalar(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_abc'", "2");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"),
                     3);
    /* update 4 is fine, update 5 clashes on its public_ref: neither is written */
    struct store_effects f4 = fx[1], f5 = fx[0];
    f4.update_id = 4;
    f5.update_id = 5;
    f5.report = &r3;
    const struct store_effects *bad[2] = {&f4, &f5};
    struct tl_errinfo ei = {0};
    assert_int_equal(store_apply_batch(s, bad, 2, rids, &ei), TL_ECONFLICT);
    assert_true(rids[0] == 0 && rids[1] == 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 4);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 2);
    /* the store is usable right after the rolled-back batch */
    CHECK(store_apply(s, &f4, NULL, EI));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 1);
    store_free(s);
    ts_db_drop("t_storage_batch");
    free(ci);
}

static void test_storage_apply_chat_flags(void **state)
{
    char *ci = db_new("t_storage_chatflags");
    struct store *s = open_store(ci);
    long long ids[] = {1, 2, 3, 4}, chats[] = {9, 9, 9, 9};
    put_updates(s, ids, chats, 4, 5);
    struct store_effects fx = {
        .update_id = 1, .chat_id = 9, .pseudonym = "ps_9", .lang = "en", .set_blocked = 1};
    CHECK(store_apply(s, &fx, NULL, EI));
    assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "entrue");
    fx = (struct store_effects){
        .update_id = 2, .chat_id = 9, .pseudonym = "ps_9", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "entrue");
    fx = (struct store_effects){
        .update_id = 3, .chat_id = 9, .pseudonym = "ps_9", .lang = "uk", .set_blocked = 0};
    CHECK(store_apply(s, &fx, NULL, EI));
    assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "ukfalse");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(ts_db_count(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_9'"),
                     0);
    store_free(s);
    ts_db_drop("t_storage_chatflags");
    free(ci);
}

/* ---- outbox ---- */

static void queue(struct store *s, long long chat, const char *text)
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
    char *ci = db_new("t_storage_outbox");
    struct store *s = open_store(ci), *s2 = open_store(ci);
    queue(s, 1, "m1");
    queue(s, 1, "m2");
    queue(s, 2, "m3");
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
    assert_scalar(ci, "SELECT state || tg_message_id FROM outbox WHERE text(params) LIKE '%m1%'",
                  "sent777");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"), 2);
    CHECK(store_outbox_claim(s2, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_non_null(strstr(m[0].params_json, "m2"));
    store_outmsgs_free(m, n);
    /* max limits the batch */
    queue(s, 3, "m4");
    queue(s, 4, "m5");
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
    char *ci = db_new("t_storage_interval");
    struct store *s = open_store(ci);
    queue(s, 1, "m1");
    queue(s, 1, "m2");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 1000, &m, &n, EI));
    assert_int_equal(n, 1);
    CHECK(store_outbox_sent(s, m[0].id, 1, EI));
    store_outmsgs_free(m, n);
    /* sent just now: m2 must wait for the interval */
    CHECK(store_outbox_claim(s, 10, 60000, &m, &n, EI));
    assert_int_equal(n, 0);
    sql_ok(ci, "UPDATE outbox SET sent_at = now() - interval '2 seconds' WHERE state = 'sent'");
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
    char *ci = db_new("t_storage_retry");
    struct store *s = open_store(ci);
    queue(s, 1, "m1");
    queue(s, 1, "m2");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    long long id = m[0].id;
    assert_int_equal(m[0].attempts, 0);
    store_outmsgs_free(m, n);
    CHECK(store_outbox_retry(s, id, 60000, "429 Too Many Requests", EI));
    assert_scalar(ci,
                  "SELECT concat_ws('|', state, attempts, last_error, claimed_until IS NULL,"
                  " not_before > now() + interval '50 seconds') FROM outbox WHERE id = (SELECT "
                  "min(id) FROM outbox)",
                  "pending|1|429 Too Many Requests|t|t");
    /* m1 waits, and m2 waits behind it: order holds across retries */
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    sql_ok(ci, "UPDATE outbox SET not_before = now() - interval '1 second'");
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 1);
    assert_int_equal(m[0].id, id);
    assert_int_equal(m[0].attempts, 1);
    store_outmsgs_free(m, n);
    /* a sender that died: its claim expires and the message comes back */
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 0);
    sql_ok(ci, "UPDATE outbox SET claimed_until = now() - interval '1 second'"
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
    char *ci = db_new("t_storage_failed");
    struct store *s = open_store(ci);
    queue(s, 1, "m1");
    queue(s, 1, "m2");
    queue(s, 2, "m3");
    struct store_outmsg *m = NULL;
    size_t n = 0;
    CHECK(store_outbox_claim(s, 10, 0, &m, &n, EI));
    assert_int_equal(n, 2);
    /* chat 2: a permanent error that is not a block */
    CHECK(store_outbox_failed(s, m[1].id, "400 Bad Request: message is too long", 0, EI));
    /* chat 1: the user blocked the bot */
    CHECK(store_outbox_failed(s, m[0].id, "403 Forbidden: bot was blocked by the user", 1, EI));
    store_outmsgs_free(m, n);
    assert_scalar(ci,
                  "SELECT string_agg(chat_id || ':' || blocked, ',' ORDER BY chat_id)"
                  " FROM chats",
                  "1:true,2:false");
    assert_scalar(ci, "SELECT string_agg(state || ':' || last_error, ',' ORDER BY id) FROM outbox",
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
    struct store *s = open_store(w->ci);
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
    char *ci = db_new("t_storage_senders");
    struct store *s = open_store(ci);
    for (int i = 0; i < S_PER_CHAT; i++)
        for (int c = 1; c <= S_CHATS; c++)
            queue(s, c, "m");
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

/* ---- triage ---- */

static void add_reports(struct store *s, int n)
{
    for (int i = 0; i < n; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "T-%03d", i);
        struct store_report_new rep = {.public_ref = ref,
                                       .reporter = "ps_t",
                                       .category = i % 2 ? "drone" : "missile",
                                       .text = "seen",
                                       .priority = i % 3};
        if (i == 0) {
            rep.has_point = 1;
            rep.lat = 48.5;
            rep.lon = 35.25;
            rep.point_source = "text";
        }
        struct store_effects fx = {.pseudonym = "ps_t", .set_blocked = -1, .report = &rep};
        CHECK(store_apply(s, &fx, NULL, EI));
    }
}

#define T_REPORTS 40

struct triage_job {
    const char *ci;
    const char *analyst;
    long long ids[T_REPORTS];
    int n;
    int order_ok;
};

static void *triage_thread(void *p)
{
    struct triage_job *j = p;
    struct store *s = open_store(j->ci);
    int last_prio = 1 << 30;
    j->order_ok = 1;
    for (;;) {
        struct store_report *r = NULL;
        if (store_triage_next(s, j->analyst, 300, &r, NULL) != TL_OK || !r)
            break;
        if (j->n < T_REPORTS)
            j->ids[j->n++] = r->id;
        if (r->priority > last_prio || strcmp(r->claimed_by, j->analyst) != 0 ||
            strcmp(r->status, "claimed") != 0)
            j->order_ok = 0;
        last_prio = r->priority;
        store_report_free(r);
    }
    store_free(s);
    return NULL;
}

static void test_storage_triage_next_concurrent(void **state)
{
    char *ci = db_new("t_storage_next");
    struct store *s = open_store(ci);
    add_reports(s, T_REPORTS);
    struct triage_job a = {.ci = ci, .analyst = "anna"}, b = {.ci = ci, .analyst = "bohdan"};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, triage_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, triage_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.n + b.n, T_REPORTS);
    assert_true(a.order_ok);
    assert_true(b.order_ok);
    for (int i = 0; i < a.n; i++)
        for (int k = 0; k < b.n; k++)
            assert_true(a.ids[i] != b.ids[k]);
    assert_int_equal(ts_db_count(ci, "SELECT count(DISTINCT id) FROM reports"
                                     " WHERE lease_until > now()"),
                     T_REPORTS);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'claim'"),
                     T_REPORTS);
    store_free(s);
    ts_db_drop("t_storage_next");
    free(ci);
}

static void test_storage_triage_lease_expiry(void **state)
{
    char *ci = db_new("t_storage_lease");
    struct store *s = open_store(ci);
    add_reports(s, 3);
    struct store_report *r = NULL, *r2 = NULL;
    /* highest priority first: T-002 (2), then T-001 (1), then T-000 (0) */
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    assert_non_null(r);
    assert_string_equal(r->public_ref, "T-002");
    assert_string_equal(r->claimed_by, "anna");
    assert_true(r->lease_until > tl_wall_time() + 500);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_string_equal(r2->public_ref, "T-001");
    store_report_free(r2);
    /* anna walks away; her lease runs out and T-002 is back at the head */
    sql_ok(ci, "UPDATE reports SET lease_until = now() - interval '1 second'"
               " WHERE public_ref = 'T-002'");
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_non_null(r2);
    assert_int_equal(r2->id, r->id);
    assert_string_equal(r2->claimed_by, "bohdan");
    store_report_free(r2);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_string_equal(r2->public_ref, "T-000");
    assert_true(r2->has_point);
    assert_true(r2->lat == 48.5 && r2->lon == 35.25);
    store_report_free(r2);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_null(r2);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_lease");
    free(ci);
}

static void test_storage_triage_decide(void **state)
{
    char *ci = db_new("t_storage_decide");
    struct store *s = open_store(ci);
    add_reports(s, 2);
    struct store_report *r = NULL;
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    char idtxt[32];
    snprintf(idtxt, sizeof(idtxt), "%lld", r->id);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_triage_decide(s, idtxt, "bohdan", "rejected", "spam", &ei),
                     TL_ECONFLICT);
    assert_non_null(strstr(ei.msg, "anna"));
    assert_int_equal(store_triage_decide(s, idtxt, "anna", "approved", NULL, &ei), TL_EINVAL);
    assert_int_equal(store_triage_decide(s, "NOPE", "anna", "confirmed", NULL, &ei), TL_ENOTFOUND);
    CHECK(store_triage_decide(s, r->public_ref, "anna", "confirmed", "matches radar", EI));
    char *sql = tl_asprintf("SELECT concat_ws('|', status, claimed_by IS NULL, lease_until IS NULL,"
                            " decided_by) FROM reports WHERE id = %lld",
                            r->id);
    assert_scalar(ci, sql, "confirmed|t|t|anna");
    free(sql);
    assert_scalar(ci, "SELECT n_confirmed FROM reporters WHERE pseudonym = 'ps_t'", "1");
    sql = tl_asprintf("SELECT concat_ws('|', actor, before->>'status', before->>'claimed_by',"
                      " after->>'status', after->>'note') FROM audit_log WHERE action = 'decide'"
                      " AND object = 'report:%lld'",
                      r->id);
    assert_scalar(ci, sql, "anna|new|anna|confirmed|matches radar");
    free(sql);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log"), 3); /* claim, view */
    /* decided: nobody decides again before the decider (or an admin) reopens it, and the
     * counters follow */
    assert_int_equal(store_triage_decide(s, idtxt, "bohdan", "rejected", NULL, &ei), TL_ECONFLICT);
    char *json = NULL;
    struct store_who bohdan = {.account = "bohdan", .round_decimals = -1};
    assert_int_equal(store_web_reopen(s, &bohdan, idtxt, 60, &json, &ei), TL_EFORBIDDEN);
    struct store_who anna = {.account = "anna", .round_decimals = -1};
    CHECK(store_web_reopen(s, &anna, idtxt, 60, &json, EI));
    free(json);
    assert_scalar(ci, "SELECT n_confirmed || '/' || n_rejected FROM reporters", "0/0");
    CHECK(store_triage_decide(s, idtxt, "anna", "rejected", NULL, EI));
    assert_scalar(ci, "SELECT n_confirmed || '/' || n_rejected FROM reporters", "0/1");
    /* get by id and by ref; never a chat id */
    struct store_report *g = NULL;
    CHECK(store_triage_get(s, idtxt, &g, EI));
    assert_string_equal(g->status, "rejected");
    assert_null(g->claimed_by);
    store_report_free(g);
    CHECK(store_triage_get(s, "T-000", &g, EI));
    assert_string_equal(g->reporter, "ps_t");
    assert_string_equal(g->category, "missile");
    store_report_free(g);
    assert_int_equal(store_triage_get(s, "T-404", &g, &ei), TL_ENOTFOUND);
    assert_null(g);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_decide");
    free(ci);
}

static void test_storage_triage_list(void **state)
{
    char *ci = db_new("t_storage_list");
    struct store *s = open_store(ci);
    add_reports(s, 6); /* priorities 0,1,2,0,1,2; categories missile,drone,... */
    struct store_report *r = NULL, *l = NULL;
    size_t n = 0;
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    sql_ok(ci, "UPDATE reports SET claimed_by = 'anna', lease_until = now() + interval '1 minute'"
               " WHERE public_ref IN ('T-000', 'T-003')");
    CHECK(store_triage_decide(s, "T-000", "anna", "needs_info", "where?", EI));
    CHECK(store_triage_decide(s, "T-003", "anna", "duplicate", NULL, EI));
    CHECK(store_triage_list(s, NULL, &l, &n, EI));
    assert_int_equal(n, 5); /* open queue: new (incl. claimed) + needs_info */
    assert_int_equal(l[0].priority, 2);
    assert_string_equal(l[0].status, "claimed");
    assert_string_equal(l[0].claimed_by, "anna");
    for (size_t i = 1; i < n; i++)
        assert_true(l[i].priority <= l[i - 1].priority);
    store_reports_free(l, n);
    struct store_triage_filter f = {.status = "new", .category = "drone"};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 2); /* T-001, T-005; T-003 is a duplicate now */
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l[i].category, "drone");
        assert_string_equal(l[i].status, "new");
    }
    store_reports_free(l, n);
    f = (struct store_triage_filter){.status = "claimed"};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 1);
    assert_int_equal(l[0].id, r->id);
    store_reports_free(l, n);
    f = (struct store_triage_filter){.status = "duplicate", .limit = 5};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 1);
    assert_string_equal(l[0].public_ref, "T-003");
    store_reports_free(l, n);
    f = (struct store_triage_filter){.limit = 2};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 2);
    store_reports_free(l, n);
    struct tl_errinfo ei = {0};
    f = (struct store_triage_filter){.status = "bogus"};
    assert_int_equal(store_triage_list(s, &f, &l, &n, &ei), TL_EINVAL);
    sql_ok(ci, "UPDATE reports SET claimed_by = 'anna', lease_until = now() + interval '1 minute'"
               " WHERE public_ref = 'T-004'");
    CHECK(store_triage_decide(s, "T-004", "anna", "escalated", NULL, EI));
    sql_ok(ci, "UPDATE reports SET received_at = now() - interval '1 hour'"
               " WHERE public_ref = 'T-001'");
    struct store_triage_stats ts;
    CHECK(store_triage_stats(s, &ts, EI));
    assert_int_equal(ts.new_, 2); /* T-001, T-005 */
    assert_int_equal(ts.claimed, 1);
    assert_int_equal(ts.needs_info, 1);
    assert_int_equal(ts.duplicate, 1);
    assert_int_equal(ts.escalated, 1);
    assert_int_equal(ts.confirmed + ts.rejected, 0);
    assert_true(ts.oldest_new_age_s > 3590 && ts.oldest_new_age_s < 3700);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_list");
    free(ci);
}

/* The reports' value checks (migration 0016: a trigger in place of six CHECK
 * constraints): each rule refuses with check_violation on INSERT and on an UPDATE that
 * sets its column, and an UPDATE setting none of them (a claim) does not run them. */
static void test_storage_report_checks(void **state)
{
    (void)state;
    char *ci = db_new("t_storage_checks");
    sql_ok(ci, "INSERT INTO reporters (pseudonym) VALUES ('p1')");
    sql_ok(ci, "INSERT INTO reports (public_ref, reporter, point, point_source, bearing)"
               " VALUES ('TL-CHK001', 'p1', 'SRID=4326;POINT(30.5 50.4)', 'venue', 359.5)");
    static const char *const bad[] = {
        "INSERT INTO reports (public_ref, reporter, bearing) VALUES ('TL-CHK002', 'p1', 360)",
        "INSERT INTO reports (public_ref, reporter, status) VALUES ('TL-CHK003', 'p1', 'done')",
        ("INSERT INTO reports (public_ref, reporter, point) VALUES ('TL-CHK004', 'p1',"
         " 'SRID=4326;POINT(30.5 50.4)')"),
        "UPDATE reports SET status = 'bogus'",
        "UPDATE reports SET point_source = 'gps'",
        "UPDATE reports SET accuracy_m = -1",
        "UPDATE reports SET bearing = -0.5",
        "UPDATE reports SET point_source = NULL",
        "UPDATE reports SET corroborations = -1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *st = sql_state(ci, bad[i]);
        if (strcmp(st, "23514") != 0)
            fail_msg("%s: SQLSTATE '%s', want 23514", bad[i], st);
        free(st);
    }
    sql_ok(ci, "UPDATE reports SET status = 'confirmed', bearing = 0, accuracy_m = NULL");
    /* a row written with triggers off keeps its bad bearing through a claim's UPDATE,
     * and is refused as soon as an UPDATE sets a checked column */
    sql_ok(ci, "SET session_replication_role = replica;"
               " UPDATE reports SET bearing = 500 WHERE public_ref = 'TL-CHK001'");
    sql_ok(ci, "UPDATE reports SET claimed_by = 'anna', lease_until = now()");
    char *st = sql_state(ci, "UPDATE reports SET status = 'rejected'");
    assert_string_equal(st, "23514");
    free(st);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports WHERE status = 'confirmed'"
                                     " AND claimed_by = 'anna' AND bearing = 500"),
                     1);
    ts_db_drop("t_storage_checks");
    free(ci);
}

static void test_storage_audit_append_only(void **state)
{
    char *ci = db_new("t_storage_audit");
    struct store *s = open_store(ci);
    add_reports(s, 1);
    struct store_report *r = NULL;
    CHECK(store_triage_next(s, "anna", 60, &r, EI));
    store_report_free(r);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log"), 2); /* claim, view */
    char *st = sql_state(ci, "UPDATE audit_log SET actor = 'mallory'");
    assert_string_equal(st, "42501");
    free(st);
    st = sql_state(ci, "DELETE FROM audit_log");
    assert_string_equal(st, "42501");
    free(st);
    st = sql_state(ci, "TRUNCATE audit_log");
    assert_string_equal(st, "42501");
    free(st);
    assert_scalar(ci, "SELECT actor FROM audit_log", "anna");
    store_free(s);
    ts_db_drop("t_storage_audit");
    free(ci);
}

/* ---- connection loss ---- */

static void test_storage_reconnect(void **state)
{
    char *ci = db_new("t_storage_down");
    struct store *s = open_store(ci);
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
    struct store *s2 = open_store(ci);
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
    char *ci = db_new("t_storage_jit");
    assert_scalar(ci, "SHOW jit", "on");
    struct store *s = open_store(ci);
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
    s = open_store(ci2);
    assert_setting(s, "jit", "off");
    assert_setting(s, "statement_timeout", "4321ms");
    store_free(s);
    free(ci2);

    ci2 = tl_asprintf("%s options='-c jit=on'", ci);
    s = open_store(ci2);
    assert_setting(s, "jit", "on");
    store_free(s);
    free(ci2);
    ts_db_drop("t_storage_jit");
    free(ci);
}

/* ---- retention ---- */

static void test_storage_purge(void **state)
{
    char *ci = db_new("t_storage_purge");
    struct store *s = open_store(ci);
    long long ids[] = {1, 2, 3}, chats[] = {11, 12, 11};
    put_updates(s, ids, chats, 3, 4);
    struct store_effects fx = {
        .update_id = 1, .chat_id = 11, .pseudonym = "ps_11", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    fx = (struct store_effects){
        .update_id = 2, .chat_id = 12, .pseudonym = "ps_12", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    queue(s, 12, "old");
    sql_ok(ci, "UPDATE inbox SET processed_at = now() - interval '40 days' WHERE update_id = 1");
    sql_ok(ci, "UPDATE chats SET last_seen = now() - interval '100 days' WHERE chat_id = 12");
    sql_ok(ci, "UPDATE outbox SET state = 'sent', created_at = now() - interval '100 days'");
    sql_ok(ci, "INSERT INTO drafts (chat_id, state, expires_at) VALUES"
               " (12, '{}', now() + interval '1 day'), (11, '{}', now() - interval '1 hour'),"
               " (13, '{}', now() + interval '1 day')");
    /* a dead web server's registration, an old live event and a fresh one */
    sql_ok(ci, "INSERT INTO web_listeners (pid) VALUES (1)");
    sql_ok(ci, "INSERT INTO web_events (body, at) VALUES ('old', now() - interval '11 minutes'),"
               " ('new', now())");
    struct store_purged p;
    CHECK(store_purge(s, 90, 30, &p, EI));
    assert_int_equal(p.events, 1);
    assert_scalar(ci, "SELECT string_agg(body, ',') FROM web_events", "new");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM web_listeners"), 0);
    assert_int_equal(p.inbox, 1);
    assert_int_equal(p.chats, 1);
    assert_int_equal(p.outbox, 1);
    assert_int_equal(p.drafts, 2);
    assert_scalar(ci, "SELECT string_agg(update_id::text, ',' ORDER BY update_id) FROM inbox",
                  "2,3");
    assert_scalar(ci, "SELECT string_agg(chat_id::text, ',') FROM chats", "11");
    assert_scalar(ci, "SELECT string_agg(chat_id::text, ',') FROM drafts", "13");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reporters"), 3);
    /* 0 keeps forever */
    sql_ok(ci, "UPDATE inbox SET processed_at = now() - interval '400 days' WHERE update_id = 2");
    CHECK(store_purge(s, 0, 0, &p, EI));
    assert_int_equal(p.inbox + p.chats + p.outbox, 0);
    store_free(s);
    ts_db_drop("t_storage_purge");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storage_migrate_idempotent),
        cmocka_unit_test(test_storage_migrate_embedded),
        cmocka_unit_test(test_storage_migrate_lock),
        cmocka_unit_test(test_storage_migrate_edited_refused),
        cmocka_unit_test(test_storage_schema_file_reapplied),
        cmocka_unit_test(test_storage_migrate_partial_history_refused),
        cmocka_unit_test(test_storage_schema_check),
        cmocka_unit_test(test_storage_connection_jit_off),
        cmocka_unit_test(test_storage_report_checks),
        cmocka_unit_test(test_storage_inbox_redelivery),
        cmocka_unit_test(test_storage_inbox_offset_monotonic),
        cmocka_unit_test(test_storage_inbox_sealed_bytes_kept_exactly),
        cmocka_unit_test(test_storage_chat_claim_exclusive),
        cmocka_unit_test(test_storage_chat_claim_workers_order),
        cmocka_unit_test(test_storage_apply_rows),
        cmocka_unit_test(test_storage_apply_redelivered_noop),
        cmocka_unit_test(test_storage_apply_same_update_racing),
        cmocka_unit_test(test_storage_apply_public_ref_conflict),
        cmocka_unit_test(test_storage_apply_batch),
        cmocka_unit_test(test_storage_apply_place_candidates),
        cmocka_unit_test(test_storage_apply_chat_flags),
        cmocka_unit_test(test_storage_outbox_one_per_chat),
        cmocka_unit_test(test_storage_outbox_chat_interval),
        cmocka_unit_test(test_storage_outbox_retry_and_expiry),
        cmocka_unit_test(test_storage_outbox_failed_blocked),
        cmocka_unit_test(test_storage_outbox_concurrent_senders),
        cmocka_unit_test(test_storage_triage_next_concurrent),
        cmocka_unit_test(test_storage_triage_lease_expiry),
        cmocka_unit_test(test_storage_triage_decide),
        cmocka_unit_test(test_storage_triage_list),
        cmocka_unit_test(test_storage_audit_append_only),
        cmocka_unit_test(test_storage_reconnect),
        cmocka_unit_test(test_storage_purge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
