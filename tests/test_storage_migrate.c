/* tests/test_storage_migrate.c - test_storage: migrations (idempotent, embedded, an
 * edited or partial history refused, one migrator at a time) and the schema files
 * (re-applied when changed, checked at open). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
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

/* ---- migrations ---- */

/* An empty database (no template) on the same cluster. */
static char *db_empty(const char *name)
{
    char *tmpl = tsto_db_new("t_storage_scratch");
    char *drop = tl_asprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    char *create = tl_asprintf("CREATE DATABASE %s TEMPLATE template0", name);
    tsto_sql_ok(tmpl, drop);
    tsto_sql_ok(tmpl, create);
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
    struct store *s = tsto_open_store(ci);
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
    tsto_assert_scalar(ci,
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
    char *ci = tsto_db_new("t_storage_edited");
    struct store *s = tsto_open_store(ci);
    struct tl_errinfo ei = {0};
    const struct store_migration *last = &store_migrations[store_n_migrations - 1];
    char *sql = tl_asprintf("UPDATE schema_migrations SET sha256 = repeat('0', 64)"
                            " WHERE version = %d",
                            last->version);
    tsto_sql_ok(ci, sql);
    free(sql);
    tsto_sql_ok(ci, "UPDATE schema_files SET sha256 = 'stale' WHERE name = 'web_iso.sql'");
    int applied = -1;
    assert_int_equal(store_migrate(s, &applied, &ei), TL_ESCHEMA);
    char *want = tl_asprintf("migration %04d_%s.sql was edited", last->version, last->name);
    if (!strstr(ei.msg, want))
        fail_msg("want \"%s\" in \"%s\"", want, ei.msg);
    free(want);
    assert_int_equal(applied, 0);
    /* refused before the schema files: the stale one is still stale */
    tsto_assert_scalar(ci, "SELECT sha256 FROM schema_files WHERE name = 'web_iso.sql'", "stale");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    store_free(s);
    ts_db_drop("t_storage_edited");
    free(ci);
}

/* A schema file whose content differs from what the database recorded is re-applied
 * (its function is the file's again) and recorded; the next migrate does nothing. */
static void test_storage_schema_file_reapplied(void **state)
{
    char *ci = tsto_db_new("t_storage_reapply");
    struct store *s = tsto_open_store(ci);
    struct tl_errinfo ei = {0};
    const struct store_schema_file *f = NULL;
    for (size_t i = 0; i < store_n_schema; i++)
        if (strcmp(store_schema[i].name, "web_iso.sql") == 0)
            f = &store_schema[i];
    assert_non_null(f);
    /* what an older binary's file put there, and its hash */
    tsto_sql_ok(ci, "CREATE OR REPLACE FUNCTION web_iso(t timestamptz) RETURNS text"
                    " LANGUAGE sql STABLE AS $$ SELECT 'old'::text $$");
    tsto_sql_ok(ci, "UPDATE schema_files SET sha256 = repeat('1', 64) WHERE name = 'web_iso.sql'");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "schema files not applied [web_iso.sql]"));
    int applied = -1;
    CHECK(store_migrate(s, &applied, EI));
    assert_int_equal(applied, 1);
    tsto_assert_scalar(ci, "SELECT web_iso('2026-07-01T11:30:00Z')", "2026-07-01T11:30:00.000Z");
    char *q =
        tl_asprintf("SELECT sha256 = '%s' FROM schema_files WHERE name = 'web_iso.sql'", f->sha256);
    tsto_assert_scalar(ci, q, "t");
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
    struct store *s = tsto_open_store(ci);
    struct tl_errinfo ei = {0};
    tsto_sql_ok(ci,
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
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
    struct store *s = tsto_open_store(j->ci);
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
    char *ci = tsto_db_new("t_storage_schema");
    struct store *s = tsto_open_store(ci);
    struct tl_errinfo ei = {0};
    CHECK(store_schema_check(s, EI));
    tsto_sql_ok(ci, "DELETE FROM schema_migrations WHERE version = 17");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "missing or changed migrations [17]"));
    tsto_sql_ok(
        ci, "INSERT INTO schema_migrations (version, name, sha256) VALUES (17, 'baseline', 'x'),"
            " (9999, 'x', 'y')");
    assert_int_equal(store_schema_check(s, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "missing or changed migrations [17]"));
    assert_non_null(strstr(ei.msg, "unknown migrations [9999]"));
    store_free(s);
    ts_db_drop("t_storage_schema");
    free(ci);
}

const struct CMUnitTest tsto_migrate_tests[] = {
    cmocka_unit_test(test_storage_migrate_idempotent),
    cmocka_unit_test(test_storage_migrate_embedded),
    cmocka_unit_test(test_storage_migrate_lock),
    cmocka_unit_test(test_storage_migrate_edited_refused),
    cmocka_unit_test(test_storage_schema_file_reapplied),
    cmocka_unit_test(test_storage_migrate_partial_history_refused),
    cmocka_unit_test(test_storage_schema_check),
};
const size_t tsto_migrate_ntests = TS_NTESTS(tsto_migrate_tests);
