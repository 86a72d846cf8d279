/* storage/store_migrate.c - `tipline migrate` and the schema check at start-up.
 *
 * Two kinds of SQL, kept apart as PostgreSQL keeps its functions apart from its
 * catalogs: numbered migrations (storage/migrations/: tables, indexes, data) run once
 * each and are recorded with their SHA-256, so an edited applied file is refused; the
 * schema files (storage/schema/: functions, triggers, views, one current definition
 * each) are re-applied, all in one transaction, whenever a file's SHA-256 differs from
 * the one recorded in schema_files. A database an earlier tipline migrated through
 * 0001-0017 adopts the baseline (0017_baseline.sql) in place of those files. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "storage/migrations.h"
#include "common/banned.h"

static const char *const sql_tables[] = {
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now(), sha256 text)",
    /* a database an earlier tipline migrated has the table without the checksum */
    "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS sha256 text",
    "CREATE TABLE IF NOT EXISTS schema_files ("
    " name text PRIMARY KEY, sha256 text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())",
};

/* Runs a file of many statements of fixed text (no values) with the simple query
 * protocol; on failure ei names the file. */
static int run_file(struct store *s, const char *what, const char *sql, struct tl_errinfo *ei)
{
    PGresult *r = PQexec(s->conn, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = TL_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        rc = st_fail(s, r, ei);
        if (ei) {
            char *detail = tl_asprintf("%s: %s", what, ei->msg);
            if (detail)
                tl_strlcpy(ei->msg, detail, sizeof(ei->msg));
            free(detail);
        }
    }
    PQclear(r);
    return rc;
}

/* A database whose history predates the baseline records 1..STORE_BASELINE_VERSION
 * without checksums: those rows become the baseline's one row, as a fresh database
 * has it. A partial history (an older tipline stopped short of the baseline) is
 * refused: its tables are not what the baseline describes. */
static int adopt_baseline(struct store *s, struct tl_errinfo *ei)
{
    const struct store_migration *base = NULL;
    for (size_t i = 0; i < store_n_migrations; i++)
        if (store_migrations[i].version == STORE_BASELINE_VERSION)
            base = &store_migrations[i];
    PGresult *r = NULL;
    char bb[32];
    const char *bv[1] = {st_ll(bb, STORE_BASELINE_VERSION)};
    int rc = st_begin(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "SELECT count(*) FILTER (WHERE version < $1::int),"
                 " count(DISTINCT version) FILTER (WHERE version BETWEEN 1 AND $1::int"
                 "  AND sha256 IS NULL),"
                 " COALESCE(max(version) FILTER (WHERE version <= $1::int), 0)"
                 " FROM schema_migrations",
                 1, bv, &r, ei);
    if (rc)
        goto out;
    long long old = st_getll(r, 0, 0), legacy = st_getll(r, 0, 1), top = st_getll(r, 0, 2);
    PQclear(r);
    r = NULL;
    if (old == 0 || !base)
        goto out; /* fresh, or already on the baseline */
    if (legacy != STORE_BASELINE_VERSION) {
        rc = tl_errf(ei, TL_ESCHEMA,
                     "database migrated by an earlier tipline to version %lld only: migrate it "
                     "to version %d with that release first, then run this one",
                     top, STORE_BASELINE_VERSION);
        goto out;
    }
    char vb[32];
    const char *v[3] = {st_ll(vb, base->version), base->name, base->sha256};
    rc = st_exec(s, "DELETE FROM schema_migrations WHERE version < $1::int", 1, v, NULL, ei);
    if (!rc)
        rc = st_exec(s,
                     "UPDATE schema_migrations SET name = $2::text, sha256 = $3::text"
                     " WHERE version = $1::int",
                     3, v, NULL, ei);
    if (!rc)
        log_info("baseline adopted version=%d replaces=%d", base->version, (int)old + 1);
out:
    PQclear(r);
    if (!rc)
        rc = st_commit(s, ei);
    if (rc)
        st_rollback(s);
    return rc;
}

/* Runs one migration file in its own transaction unless it is recorded already; a
 * recorded one must still have the SHA-256 it had when it ran. *ran = 1 when it was
 * applied now. */
static int migrate_one(struct store *s, const struct store_migration *m, int *ran,
                       struct tl_errinfo *ei)
{
    char vb[32];
    const char *v[3] = {st_ll(vb, m->version), m->name, m->sha256};
    PGresult *r = NULL;
    *ran = 0;
    int rc = st_begin(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT sha256 FROM schema_migrations WHERE version = $1::int", 1, v, &r, ei);
    if (rc)
        goto out;
    int done = PQntuples(r) > 0;
    if (done && (PQgetisnull(r, 0, 0) || strcmp(PQgetvalue(r, 0, 0), m->sha256) != 0)) {
        rc = tl_errf(ei, TL_ESCHEMA,
                     "migration %04d_%s.sql was edited after it was applied (recorded sha256 "
                     "%.12s, file %.12s): restore it and put the change in a new migration",
                     m->version, m->name, PQgetisnull(r, 0, 0) ? "none" : PQgetvalue(r, 0, 0),
                     m->sha256);
        goto out;
    }
    PQclear(r);
    r = NULL;
    if (!done) {
        char *what = tl_asprintf("migration %04d_%s", m->version, m->name);
        rc = what ? run_file(s, what, m->sql, ei) : tl_errf(ei, TL_ENOMEM, "out of memory");
        free(what);
        if (rc)
            goto out;
        rc = st_exec(s,
                     "INSERT INTO schema_migrations (version, name, sha256)"
                     " VALUES ($1::int, $2::text, $3::text)",
                     3, v, NULL, ei);
        if (rc)
            goto out;
    }
    rc = st_commit(s, ei);
    if (!rc && !done) {
        *ran = 1;
        log_info("migration applied version=%d name=%s", m->version, m->name);
    }
out:
    PQclear(r);
    if (rc)
        st_rollback(s);
    return rc;
}

/* Re-applies, in one transaction and in the declared order, every schema file whose
 * SHA-256 is not the one recorded; *n = how many. A row for a file no longer shipped is
 * dropped (its objects stay until a migration drops them) and logged. */
static int apply_schema(struct store *s, int *n, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *n = 0;
    int rc = st_begin(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT name, sha256 FROM schema_files", 0, NULL, &r, ei);
    if (rc)
        goto out;
    int nr = PQntuples(r);
    for (size_t i = 0; i < store_n_schema && !rc; i++) {
        const struct store_schema_file *f = &store_schema[i];
        int same = 0;
        for (int j = 0; j < nr && !same; j++)
            same = strcmp(PQgetvalue(r, j, 0), f->name) == 0 &&
                   strcmp(PQgetvalue(r, j, 1), f->sha256) == 0;
        if (same)
            continue;
        char *what = tl_asprintf("schema/%s", f->name);
        rc = what ? run_file(s, what, f->sql, ei) : tl_errf(ei, TL_ENOMEM, "out of memory");
        free(what);
        if (!rc)
            rc = st_exec(s,
                         "INSERT INTO schema_files (name, sha256) VALUES ($1::text, $2::text)"
                         " ON CONFLICT (name) DO UPDATE SET sha256 = EXCLUDED.sha256,"
                         " applied_at = now()",
                         2, (const char *[]){f->name, f->sha256}, NULL, ei);
        if (!rc) {
            ++*n;
            log_info("schema file applied name=%s", f->name);
        }
    }
    for (int j = 0; j < nr && !rc; j++) {
        const char *name = PQgetvalue(r, j, 0);
        int shipped = 0;
        for (size_t i = 0; i < store_n_schema && !shipped; i++)
            shipped = strcmp(store_schema[i].name, name) == 0;
        if (shipped)
            continue;
        log_warn("schema file no longer shipped name=%s", name);
        rc = st_exec(s, "DELETE FROM schema_files WHERE name = $1::text", 1, (const char *[]){name},
                     NULL, ei);
    }
    if (!rc)
        rc = st_commit(s, ei);
out:
    PQclear(r);
    if (rc) {
        *n = 0;
        st_rollback(s);
    }
    return rc;
}

int store_migrate(struct store *s, int *applied, struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *lk[2] = {st_ll(b1, ST_LOCK_CLASS), st_ll(b2, ST_LOCK_MIGRATE)};
    int n = 0, locked = 0;
    if (applied)
        *applied = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Session lock: blocks a second migrator (another process starting up) until the
     * first is done; each migration still commits on its own. */
    rc = st_exec(s, "SELECT pg_advisory_lock($1::int, $2::int)", 2, lk, NULL, ei);
    if (rc)
        return rc;
    locked = 1;
    for (size_t i = 0; i < sizeof sql_tables / sizeof *sql_tables && !rc; i++)
        rc = st_exec(s, sql_tables[i], 0, NULL, NULL, ei);
    if (!rc)
        rc = adopt_baseline(s, ei);
    for (size_t i = 0; i < store_n_migrations && !rc; i++) {
        int ran;
        rc = migrate_one(s, &store_migrations[i], &ran, ei);
        n += ran;
    }
    if (!rc) {
        int ns;
        rc = apply_schema(s, &ns, ei);
        n += ns;
    }
    if (locked && PQstatus(s->conn) == CONNECTION_OK)
        (void)st_exec(s, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, lk, NULL, NULL);
    if (applied)
        *applied = n;
    return rc;
}

/* Appends name to a comma-separated list; returns non-zero on allocation failure. */
static int list_add(struct tl_buf *b, const char *name)
{
    return tl_buf_printf(b, "%s%s", b->len ? "," : "", name);
}

int store_schema_check(struct store *s, struct tl_errinfo *ei)
{
    PGresult *r = NULL, *f = NULL;
    struct tl_errinfo local;
    struct tl_buf missing, unknown, stale;
    if (!ei) /* the SQLSTATE tells "not migrated at all" */
        ei = &local;
    tl_errinfo_clear(ei);
    tl_buf_init(&missing, 0);
    tl_buf_init(&unknown, 0);
    tl_buf_init(&stale, 0);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT version, COALESCE(sha256, '') FROM schema_migrations ORDER BY version",
                 0, NULL, &r, ei);
    if (!rc)
        rc = st_exec(s, "SELECT name, sha256 FROM schema_files", 0, NULL, &f, ei);
    if (rc == TL_EDB &&
        (strcmp(ei->sqlstate, "42P01") == 0 || strcmp(ei->sqlstate, "42703") == 0)) {
        rc =
            tl_errf(ei, TL_ESCHEMA, "database not migrated by this tipline: run `tipline migrate`");
        goto out;
    }
    if (rc)
        goto out;
    int nr = PQntuples(r), nf = PQntuples(f);
    char nb[32];
    for (size_t i = 0; i < store_n_migrations && !rc; i++) {
        const struct store_migration *m = &store_migrations[i];
        int found = 0;
        for (int j = 0; j < nr && !found; j++)
            found = st_getll(r, j, 0) == m->version && strcmp(PQgetvalue(r, j, 1), m->sha256) == 0;
        if (!found)
            rc = list_add(&missing, st_ll(nb, m->version));
    }
    for (int j = 0; j < nr && !rc; j++) {
        long long v = st_getll(r, j, 0);
        int found = 0;
        for (size_t i = 0; i < store_n_migrations && !found; i++)
            found = store_migrations[i].version == v;
        if (!found)
            rc = list_add(&unknown, st_ll(nb, v));
    }
    for (size_t i = 0; i < store_n_schema && !rc; i++) {
        int found = 0;
        for (int j = 0; j < nf && !found; j++)
            found = strcmp(PQgetvalue(f, j, 0), store_schema[i].name) == 0 &&
                    strcmp(PQgetvalue(f, j, 1), store_schema[i].sha256) == 0;
        if (!found)
            rc = list_add(&stale, store_schema[i].name);
    }
    if (rc) {
        rc = tl_errf(ei, TL_ENOMEM, "out of memory");
        goto out;
    }
    if (missing.len || unknown.len || stale.len) {
        tl_errinfo_clear(ei);
        rc = tl_errf(ei, TL_ESCHEMA,
                     "schema mismatch: missing or changed migrations [%s], schema files not "
                     "applied [%s] (run `tipline migrate`); unknown migrations [%s] (database "
                     "is newer than this binary)",
                     missing.len ? (char *)missing.data : "", stale.len ? (char *)stale.data : "",
                     unknown.len ? (char *)unknown.data : "");
    }
out:
    PQclear(r);
    PQclear(f);
    tl_buf_release(&missing);
    tl_buf_release(&unknown);
    tl_buf_release(&stale);
    return rc;
}
