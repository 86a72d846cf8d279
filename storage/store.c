/* storage/store.c - the connection (open, reset on loss, error mapping), array
 * parameter encoding, migrations, the poller lock, counters and retention. */
#include "store_int.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

/* PostgreSQL's NOTICEs (e.g. "relation already exists, skipping") are not errors;
 * keep them out of stderr unless debugging. */
static void notice_sink(void *arg, const char *message)
{
    (void)arg;
    log_debug("postgres notice text=\"%.*s\"", (int)strcspn(message, "\n"), message);
}

static void conn_msg(struct store *s, struct tl_errinfo *ei)
{
    if (!ei)
        return;
    const char *m = s && s->conn ? PQerrorMessage(s->conn) : "no connection";
    tl_strlcpy(ei->msg, m, sizeof(ei->msg));
    size_t n = strlen(ei->msg);
    while (n && (ei->msg[n - 1] == '\n' || ei->msg[n - 1] == ' '))
        ei->msg[--n] = 0;
}

/* Every connection runs without JIT: tipline's statements touch few rows, but some
 * functions disable scans they must still use (enable_seqscan = off), which makes their
 * estimates pass JIT's cost thresholds, and compiling then took 50-750 ms a call against
 * well under a millisecond to run. Set in the startup packet, ahead of the operator's
 * own options (which may turn it back on), so PQreset keeps it with no round trip. */
static PGconn *connect_nojit(const char *conninfo)
{
    static const char nojit[] = "-c jit=off";
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    if (!opts) /* malformed: libpq reports why, as it always did */
        return PQconnectdb(conninfo);
    PGconn *c = NULL;
    size_t n = 0;
    while (opts[n].keyword)
        n++;
    const char **kw = calloc(n + 1, sizeof(*kw)), **val = calloc(n + 1, sizeof(*val));
    char *options = NULL;
    if (!kw || !val)
        goto out;
    for (size_t i = 0; i < n; i++) {
        kw[i] = opts[i].keyword;
        val[i] = opts[i].val;
        if (strcmp(kw[i], "options") != 0)
            continue;
        if (!val[i] || !*val[i]) {
            val[i] = nojit;
            continue;
        }
        size_t len = sizeof(nojit) + 1 + strlen(val[i]);
        if (!(options = malloc(len)))
            goto out;
        snprintf(options, len, "%s %s", nojit, val[i]);
        val[i] = options;
    }
    c = PQconnectdbParams(kw, val, 0);
out:
    free(options);
    free(kw);
    free(val);
    PQconninfoFree(opts);
    return c;
}

int store_open(const char *conninfo, struct store **out, struct tl_errinfo *ei)
{
    int rc = TL_OK;
    *out = NULL;
    if (!conninfo)
        return tl_errf(ei, TL_EINVAL, "no database conninfo");
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return TL_ENOMEM;
    s->conn = connect_nojit(conninfo);
    if (!s->conn) {
        rc = TL_ENOMEM;
        goto out;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        conn_msg(s, ei);
        rc = TL_EDBDOWN;
        goto out;
    }
    PQsetNoticeProcessor(s->conn, notice_sink, NULL);
    *out = s;
    s = NULL;
out:
    store_free(s);
    return rc;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    if (s->conn)
        PQfinish(s->conn);
    st_plan_release(&s->plan);
    free(s->prep);
    free(s->held);
    free(s);
}

unsigned long store_generation(const struct store *s)
{
    return s->generation;
}

int store_setting(struct store *s, const char *name, char **out, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *out = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    const char *v[1] = {name};
    if ((rc = st_exec(s, "SELECT current_setting($1)", 1, v, &r, ei)))
        goto out;
    if (!(*out = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
out:
    PQclear(r);
    return rc;
}

int st_ready(struct store *s, struct tl_errinfo *ei)
{
    if (PQstatus(s->conn) == CONNECTION_BAD) {
        /* Session state (advisory locks) died with the old backend. */
        s->poller_held = 0;
        s->n_held = 0;
        s->n_prep = 0;
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK) {
            conn_msg(s, ei);
            return TL_EDBDOWN;
        }
        s->generation++;
        log_warn("database reconnected generation=%lu", s->generation);
    }
    if (PQtransactionStatus(s->conn) != PQTRANS_IDLE)
        st_rollback(s);
    return TL_OK;
}

int st_fail(struct store *s, const PGresult *r, struct tl_errinfo *ei)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (ei) {
        tl_strlcpy(ei->sqlstate, state ? state : "", sizeof(ei->sqlstate));
        const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (m)
            tl_strlcpy(ei->msg, m, sizeof(ei->msg));
        else
            conn_msg(s, ei);
    }
    if (PQstatus(s->conn) == CONNECTION_BAD)
        return TL_EDBDOWN;
    /* 08: connection exception; 57P01-57P03: shutdown, crash, cannot connect now. */
    if (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                  strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0))
        return TL_EDBDOWN;
    return TL_EDB;
}

/* Planning the bigger statements (store_apply's) costs several times their execution;
 * a prepared statement is planned once per connection. Returns the statement name, or
 * NULL with ei filled. */
static const char *prepared(struct store *s, const char *sql, int n, struct tl_errinfo *ei, int *rc)
{
    *rc = TL_OK;
    for (size_t i = 0; i < s->n_prep; i++)
        if (s->prep[i].sql == sql && strcmp(s->prep[i].sql, sql) == 0)
            return s->prep[i].name;
    if (s->n_prep == s->cap_prep) {
        size_t cap = s->cap_prep ? s->cap_prep * 2 : 32;
        struct st_prep *p = realloc(s->prep, cap * sizeof(*p));
        if (!p) {
            *rc = TL_ENOMEM;
            return NULL;
        }
        s->prep = p;
        s->cap_prep = cap;
    }
    struct st_prep *p = &s->prep[s->n_prep];
    snprintf(p->name, sizeof(p->name), "tl%zu", s->n_prep);
    PGresult *r = PQprepare(s->conn, p->name, sql, n, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        *rc = st_fail(s, r, ei);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    p->sql = sql;
    s->n_prep++;
    return p->name;
}

/* The result of one statement: *out keeps a result set, errors go to ei. */
static int exec_result(struct store *s, PGresult *r, PGresult **out, struct tl_errinfo *ei)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = st_fail(s, r, ei);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return TL_OK;
}

int st_exec(struct store *s, const char *sql, int n, const char *const *vals, PGresult **out,
            struct tl_errinfo *ei)
{
    int rc;
    if (out)
        *out = NULL;
    const char *name = prepared(s, sql, n, ei, &rc);
    if (!name)
        return rc;
    return exec_result(s, PQexecPrepared(s->conn, name, n, vals, NULL, NULL, 0), out, ei);
}

int st_exec_bin(struct store *s, const char *sql, int n, const char *const *vals, const int *lens,
                const int *fmts, int bin_result, PGresult **out, struct tl_errinfo *ei)
{
    int rc;
    if (out)
        *out = NULL;
    const char *name = prepared(s, sql, n, ei, &rc);
    if (!name)
        return rc;
    return exec_result(s, PQexecPrepared(s->conn, name, n, vals, lens, fmts, bin_result ? 1 : 0),
                       out, ei);
}

int st_exec_planned(struct store *s, const char *sql, int n, const char *const *vals,
                    PGresult **out, struct tl_errinfo *ei)
{
    if (out)
        *out = NULL;
    return exec_result(s, PQexecParams(s->conn, sql, n, NULL, vals, NULL, NULL, 0), out, ei);
}

int st_begin(struct store *s, struct tl_errinfo *ei)
{
    return st_exec(s, "BEGIN", 0, NULL, NULL, ei);
}

int st_commit(struct store *s, struct tl_errinfo *ei)
{
    return st_exec(s, "COMMIT", 0, NULL, NULL, ei);
}

void st_rollback(struct store *s)
{
    if (PQstatus(s->conn) != CONNECTION_OK || PQtransactionStatus(s->conn) == PQTRANS_IDLE)
        return;
    PGresult *r = PQexecParams(s->conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
    PQclear(r);
}

/* ---- array literals ---- */

/* ---- binary bytea[] parameters ---- */

#define BYTEAOID 17

static void barr_int(struct st_barr *a, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    if (!a->err)
        a->err = tl_buf_append(&a->b, b, 4);
}

void st_barr_init(struct st_barr *a)
{
    tl_buf_init(&a->b, 0);
    a->n = a->nulls = a->err = 0;
    /* ndim, has-nulls, element type, then the one dimension's size and lower bound,
     * filled in by st_barr_end */
    for (int i = 0; i < 5; i++)
        barr_int(a, 0);
}

void st_barr_add(struct st_barr *a, const void *p, size_t len)
{
    a->n++;
    if (!p) {
        a->nulls = 1;
        barr_int(a, 0xffffffffu); /* -1: NULL */
        return;
    }
    barr_int(a, (uint32_t)len);
    if (!a->err && len)
        a->err = tl_buf_append(&a->b, p, len);
}

const char *st_barr_end(struct st_barr *a, int *len)
{
    *len = 0;
    if (a->err || a->b.len > INT_MAX)
        return NULL;
    unsigned char *h = a->b.data;
    uint32_t hdr[5] = {a->n ? 1 : 0, (uint32_t)a->nulls, BYTEAOID, (uint32_t)a->n, 1};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            h[4 * i + j] = (unsigned char)(hdr[i] >> (24 - 8 * j));
    /* an empty array has no dimension */
    *len = a->n ? (int)a->b.len : 12;
    return (const char *)h;
}

void st_barr_release(struct st_barr *a)
{
    tl_buf_release(&a->b);
}

void st_arr_init(struct st_arr *a)
{
    tl_buf_init(&a->b, 0);
    a->n = 0;
    a->err = tl_buf_append(&a->b, "{", 1);
}

static void arr_sep(struct st_arr *a)
{
    if (!a->err && a->n++ > 0)
        a->err = tl_buf_append(&a->b, ",", 1);
}

void st_arr_str(struct st_arr *a, const char *v)
{
    arr_sep(a);
    if (a->err)
        return;
    if (!v) {
        a->err = tl_buf_append(&a->b, "NULL", 4);
        return;
    }
    a->err = tl_buf_append(&a->b, "\"", 1);
    for (const char *p = v; *p && !a->err; p++) {
        size_t run = strcspn(p, "\"\\");
        if (run) {
            a->err = tl_buf_append(&a->b, p, run);
            p += run;
            if (!*p)
                break;
        }
        if (!a->err) {
            char esc[2] = {'\\', *p};
            a->err = tl_buf_append(&a->b, esc, 2);
        }
    }
    if (!a->err)
        a->err = tl_buf_append(&a->b, "\"", 1);
}

void st_arr_ll(struct st_arr *a, long long v)
{
    arr_sep(a);
    if (!a->err)
        a->err = tl_buf_printf(&a->b, "%lld", v);
}

const char *st_arr_end(struct st_arr *a)
{
    if (!a->err)
        a->err = tl_buf_append(&a->b, "}", 1);
    return a->err ? NULL : (const char *)a->b.data;
}

void st_arr_release(struct st_arr *a)
{
    tl_buf_release(&a->b);
}

const char *st_ll(char *buf, long long v)
{
    snprintf(buf, 32, "%lld", v);
    return buf;
}

const char *st_dbl(char *buf, double v)
{
    snprintf(buf, 32, "%.17g", v);
    return buf;
}

char *st_str(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return tl_strdup(PQgetvalue(r, row, col));
}

long long st_getll(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double st_getdbl(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtod(PQgetvalue(r, row, col), NULL);
}

/* ---- held chat keys ---- */

int st_held_add(struct store *s, long long key)
{
    if (s->n_held == s->cap_held) {
        size_t cap = s->cap_held ? s->cap_held * 2 : 8;
        long long *p = realloc(s->held, cap * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        s->held = p;
        s->cap_held = cap;
    }
    s->held[s->n_held++] = key;
    return TL_OK;
}

void st_held_del(struct store *s, long long key)
{
    for (size_t i = 0; i < s->n_held; i++) {
        if (s->held[i] == key) {
            s->held[i] = s->held[--s->n_held];
            return;
        }
    }
}

int st_held_has(const struct store *s, long long key)
{
    for (size_t i = 0; i < s->n_held; i++)
        if (s->held[i] == key)
            return 1;
    return 0;
}

/* ---- advisory locks ---- */

static int lock_params(char *b1, char *b2, int which, const char **v)
{
    v[0] = st_ll(b1, ST_LOCK_CLASS);
    v[1] = st_ll(b2, which);
    return 2;
}

/* ---- poller ---- */

int store_poller_lock(struct store *s, int *got, struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *v[2];
    PGresult *r = NULL;
    *got = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (s->poller_held) {
        /* Advisory locks stack; taking it twice would need two unlocks. */
        *got = 1;
        return TL_OK;
    }
    lock_params(b1, b2, ST_LOCK_POLLER, v);
    rc = st_exec(s, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, v, &r, ei);
    if (rc)
        return rc;
    s->poller_held = PQgetvalue(r, 0, 0)[0] == 't';
    *got = s->poller_held;
    PQclear(r);
    return TL_OK;
}

int store_offset_get(struct store *s, long long *offset, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *offset = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT update_offset FROM bot_state", 0, NULL, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) != 1)
        rc = tl_errf(ei, TL_ESCHEMA, "bot_state must hold exactly one row");
    else
        *offset = st_getll(r, 0, 0);
    PQclear(r);
    return rc;
}

/* ---- counters, retention ---- */

int store_stats_get(struct store *s, struct store_stats *st, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    memset(st, 0, sizeof(*st));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "SELECT (SELECT count(*) FROM inbox),"
                 " (SELECT count(*) FROM inbox WHERE processed_at IS NULL),"
                 " (SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')),"
                 " (SELECT count(*) FROM outbox WHERE state = 'sent'),"
                 " (SELECT count(*) FROM outbox WHERE state = 'failed'),"
                 " (SELECT count(*) FROM reports),"
                 " (SELECT update_offset FROM bot_state)",
                 0, NULL, &r, ei);
    if (rc)
        return rc;
    st->inbox_total = st_getll(r, 0, 0);
    st->inbox_pending = st_getll(r, 0, 1);
    st->outbox_pending = st_getll(r, 0, 2);
    st->outbox_sent = st_getll(r, 0, 3);
    st->outbox_failed = st_getll(r, 0, 4);
    st->reports = st_getll(r, 0, 5);
    st->offset = st_getll(r, 0, 6);
    PQclear(r);
    return TL_OK;
}

int store_purge(struct store *s, long chat_retention_days, long inbox_retention_days,
                struct store_purged *out, struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *v[2] = {st_ll(b1, chat_retention_days), st_ll(b2, inbox_retention_days)};
    PGresult *r = NULL;
    if (out)
        memset(out, 0, sizeof(*out));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* One transaction (storage/schema/ops_purge.sql); no photos, no audit row: the
     * janitor's hourly pass. `tipline purge` adds them. */
    rc = st_exec(s,
                 "WITH p AS (SELECT * FROM ops_purge($1::bigint, $2::bigint, 0, NULL))"
                 " SELECT (SELECT n FROM p WHERE kind = 'inbox'), (SELECT n FROM p WHERE kind ="
                 " 'chats'), (SELECT n FROM p WHERE kind = 'outbox'), (SELECT n FROM p WHERE"
                 " kind = 'drafts'), (SELECT n FROM p WHERE kind = 'events')",
                 2, v, &r, ei);
    if (rc)
        return rc;
    if (out) {
        out->inbox = st_getll(r, 0, 0);
        out->chats = st_getll(r, 0, 1);
        out->outbox = st_getll(r, 0, 2);
        out->drafts = st_getll(r, 0, 3);
        out->events = st_getll(r, 0, 4);
    }
    log_info("retention purge inbox=%lld chats=%lld outbox=%lld drafts=%lld events=%lld",
             st_getll(r, 0, 0), st_getll(r, 0, 1), st_getll(r, 0, 2), st_getll(r, 0, 3),
             st_getll(r, 0, 4));
    PQclear(r);
    return TL_OK;
}

int st_one_text(struct store *s, const char *sql, int n, const char *const *v, char **out,
                const char *what, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *out = NULL;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_exec(s, sql, n, v, &r, ei)))
        return rc;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0))
        rc = tl_errf(ei, TL_ENOTFOUND, "%s", what);
    else if (!(*out = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

unsigned char *st_unhex(const char *h, size_t *n)
{
    size_t hl = strlen(h);
    unsigned char *b = hl >= 2 ? malloc(hl / 2 + 1) : NULL;
    *n = 0;
    if (!b)
        return NULL;
    for (size_t j = 0; j + 1 < hl; j += 2)
        b[j / 2] = (unsigned char)(tl_hexval(h[j]) << 4 | tl_hexval(h[j + 1]));
    b[hl / 2] = 0;
    *n = hl / 2;
    return b;
}
