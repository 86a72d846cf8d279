/* storage/store_intake.c - the inbox (poller batches with the offset), per-chat
 * claims for workers, and store_apply: a handler's effects through the one write path. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

static long u_escape(const char *p)
{
    if (p[0] != '\\' || p[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = tl_hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* jsonb refuses \u0000 and unpaired UTF-16 surrogates, which valid JSON may carry
 * (a user can type them). One such update must not stop the whole intake, so they
 * become U+FFFD: same length, so it is done on a copy in place. Returns a new
 * string when something changed (free()), NULL when json is fine as it is. */
static char *json_for_jsonb(const char *json, int *err)
{
    char *copy = NULL;
    *err = TL_OK;
    for (size_t i = 0; json[i]; i++) {
        if (json[i] != '\\')
            continue;
        if (!json[i + 1])
            break;
        long cp = u_escape(json + i);
        if (cp < 0) {
            i++; /* a two-character escape such as \" or \\ */
            continue;
        }
        int bad = 0;
        if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) {
            bad = 1;
        } else if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = u_escape(json + i + 6);
            if (lo >= 0xDC00 && lo <= 0xDFFF)
                i += 6; /* a proper pair: skip the low half too */
            else
                bad = 1;
        }
        if (bad) {
            if (!copy && !(copy = tl_strdup(json))) {
                *err = TL_ENOMEM;
                return NULL;
            }
            memcpy(copy + i, "\\ufffd", 6);
        }
        i += 5;
    }
    return copy;
}

static const char inbox_put_sql[] =
    "WITH ins AS (INSERT INTO inbox (update_id, chat_key, payload)"
    "   SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::jsonb[])"
    "   ON CONFLICT (update_id) DO NOTHING RETURNING 1),"
    " off AS (UPDATE bot_state SET update_offset = GREATEST(update_offset, $4::bigint),"
    "   updated_at = now() RETURNING update_offset)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM off)";

/* The payload array. With probe set, each payload is first tried on its own, and one
 * PostgreSQL refuses as jsonb is replaced by a placeholder naming the update: one bad update
 * must not stop the intake for good (the placeholder is what the worker sees). */
static int inbox_docs(struct store *s, const struct store_inbox_row *rows, size_t n, int probe,
                      struct st_arr *docs, struct tl_errinfo *ei)
{
    st_arr_init(docs);
    for (size_t i = 0; i < n; i++) {
        int rc;
        char *fixed = json_for_jsonb(rows[i].json, &rc);
        if (rc)
            return rc;
        if (fixed)
            log_warn("inbox payload had characters jsonb refuses, replaced update_id=%lld",
                     rows[i].update_id);
        const char *doc = fixed ? fixed : rows[i].json;
        char *placeholder = NULL;
        if (probe) {
            struct tl_errinfo pe = {0};
            rc = st_exec(s, "SELECT $1::text::jsonb IS NOT NULL", 1, &doc, NULL, &pe);
            if (rc == TL_EDB && strncmp(pe.sqlstate, "22", 2) == 0) {
                log_warn("inbox payload is not storable json, kept a placeholder update_id=%lld "
                         "sqlstate=%s",
                         rows[i].update_id, pe.sqlstate);
                placeholder = tl_asprintf("{\"update_id\":%lld,\"tipline_unstorable\":\"%s\"}",
                                          rows[i].update_id, pe.sqlstate);
                if (!placeholder)
                    rc = TL_ENOMEM;
                else
                    rc = TL_OK;
            } else if (rc && ei) {
                *ei = pe;
            }
            if (rc) {
                free(fixed);
                return rc;
            }
        }
        st_arr_str(docs, placeholder ? placeholder : doc);
        free(placeholder);
        free(fixed);
    }
    return st_arr_end(docs) ? TL_OK : TL_ENOMEM;
}

int store_inbox_put(struct store *s, const struct store_inbox_row *rows, size_t n,
                    long long new_offset, size_t *inserted, struct tl_errinfo *ei)
{
    struct st_arr ids, keys, docs;
    struct tl_errinfo local;
    char ob[32];
    PGresult *r = NULL;
    if (inserted)
        *inserted = 0;
    if (!ei) /* the SQLSTATE decides whether to retry with placeholders */
        ei = &local;
    tl_errinfo_clear(ei);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    st_arr_init(&ids);
    st_arr_init(&keys);
    st_arr_init(&docs);
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].json) {
            rc = tl_errf(ei, TL_EINVAL, "inbox row %zu has no json", i);
            goto out;
        }
        st_arr_ll(&ids, rows[i].update_id);
        st_arr_ll(&keys, rows[i].chat_key);
    }
    const char *v[4] = {st_arr_end(&ids), st_arr_end(&keys), NULL, st_ll(ob, new_offset)};
    if (!v[0] || !v[1]) {
        rc = TL_ENOMEM;
        goto out;
    }
    /* One statement is one transaction and one round trip: the rows and the offset
     * commit together, and the offset never goes backwards. */
    for (int probe = 0; probe < 2; probe++) {
        st_arr_release(&docs);
        rc = inbox_docs(s, rows, n, probe, &docs, ei);
        if (rc)
            goto out;
        v[2] = (const char *)docs.b.data;
        rc = st_exec(s, inbox_put_sql, 4, v, &r, ei);
        if (rc != TL_EDB || strncmp(ei->sqlstate, "22", 2) != 0)
            break;
    }
    if (rc)
        goto out;
    if (st_getll(r, 0, 1) != 1) {
        rc = tl_errf(ei, TL_ESCHEMA, "bot_state must hold exactly one row");
        goto out;
    }
    if (inserted)
        *inserted = (size_t)st_getll(r, 0, 0);
out:
    PQclear(r);
    st_arr_release(&ids);
    st_arr_release(&keys);
    st_arr_release(&docs);
    return rc;
}

/* ---- per-chat claims ----
 *
 * A worker holds a chat through a SESSION-level advisory lock on the chat key, not a
 * transaction-level one: while it holds the chat it reads the pending updates and runs
 * one store_apply transaction per update, and the chat must stay held across all of
 * those commits, or a second worker could take the chat between two updates and
 * handle a later update before an earlier one. */

int store_chat_claim(struct store *s, long long *chat_key, int *got, struct tl_errinfo *ei)
{
    struct st_arr held;
    PGresult *r = NULL;
    char kb[32];
    *got = 0;
    *chat_key = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Chats this session holds already are not candidates (advisory locks stack). */
    st_arr_init(&held);
    for (size_t i = 0; i < s->n_held; i++)
        st_arr_ll(&held, s->held[i]);
    const char *v[1] = {st_arr_end(&held)};
    if (!v[0]) {
        rc = TL_ENOMEM;
        goto out;
    }
    /* inbox_claim_chat() (migration 0001) picks and locks in one round trip. */
    rc = st_exec(s, "SELECT inbox_claim_chat($1::bigint[])", 1, v, &r, ei);
    if (rc || PQgetisnull(r, 0, 0))
        goto out;
    long long key = st_getll(r, 0, 0);
    rc = st_held_add(s, key);
    if (rc) {
        const char *lv[1] = {st_ll(kb, key)};
        (void)st_exec(s, "SELECT pg_advisory_unlock($1::bigint)", 1, lv, NULL, NULL);
        goto out;
    }
    *chat_key = key;
    *got = 1;
out:
    PQclear(r);
    st_arr_release(&held);
    return rc;
}

int store_chat_release(struct store *s, long long chat_key, struct tl_errinfo *ei)
{
    char kb[32];
    const char *v[1] = {st_ll(kb, chat_key)};
    PGresult *r = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (!st_held_has(s, chat_key))
        return TL_OK; /* never taken here, or lost with a connection that was reset */
    rc = st_exec(s, "SELECT pg_advisory_unlock($1::bigint)", 1, v, &r, ei);
    if (rc)
        return rc;
    st_held_del(s, chat_key);
    if (PQgetvalue(r, 0, 0)[0] != 't')
        log_warn("chat lock was not held at release");
    PQclear(r);
    return TL_OK;
}

int store_inbox_pending(struct store *s, long long chat_key, size_t max, struct store_update **out,
                        size_t *n, struct tl_errinfo *ei)
{
    char kb[32], mb[32];
    const char *v[2] = {st_ll(kb, chat_key), st_ll(mb, (long long)max)};
    PGresult *r = NULL;
    struct store_update *u = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "SELECT update_id, payload::text FROM inbox"
                 " WHERE chat_key = $1::bigint AND processed_at IS NULL"
                 " ORDER BY update_id LIMIT $2::bigint",
                 2, v, &r, ei);
    if (rc)
        return rc;
    int nr = PQntuples(r);
    if (nr > 0) {
        u = calloc((size_t)nr, sizeof(*u));
        if (!u) {
            rc = TL_ENOMEM;
            goto out;
        }
        for (k = 0; k < (size_t)nr; k++) {
            u[k].update_id = st_getll(r, (int)k, 0);
            u[k].json = tl_strdup(PQgetvalue(r, (int)k, 1));
            if (!u[k].json) {
                rc = TL_ENOMEM;
                goto out;
            }
        }
    }
    *out = u;
    *n = k;
    u = NULL;
out:
    store_updates_free(u, k);
    PQclear(r);
    return rc;
}

void store_updates_free(struct store_update *u, size_t n)
{
    if (!u)
        return;
    for (size_t i = 0; i < n; i++)
        free(u[i].json);
    free(u);
}

/* ---- store_apply: the one write path (store_plan.c) ---- */

int store_apply(struct store *s, const struct store_effects *fx, long long *report_id,
                struct tl_errinfo *ei)
{
    return store_apply_batch(s, &fx, 1, report_id, ei);
}

/* One statement, so one transaction: the batch commits as a whole or not at all. */
int store_apply_batch(struct store *s, const struct store_effects *const *fx, size_t n,
                      long long *report_ids, struct tl_errinfo *ei)
{
    struct st_plan p;
    if (report_ids)
        memset(report_ids, 0, n * sizeof(*report_ids));
    tl_errinfo_clear(ei);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    st_plan_init(&p);
    for (size_t i = 0; i < n && rc == TL_OK; i++)
        rc = st_plan_add(&p, fx[i], NULL, ei);
    if (rc == TL_OK)
        rc = st_plan_write(s, &p, 0, report_ids, ei);
    st_plan_release(&p);
    return rc;
}
