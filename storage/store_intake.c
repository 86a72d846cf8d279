/* storage/store_intake.c - the inbox (poller batches with the offset), per-chat
 * claims for workers, and store_apply: a handler's effects through the one write path. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

/* The rows, then the chats of the batch that have no row yet, each with its sealed
 * chat id (the reply path: written once, at intake, by the only process that saw the
 * clear id), then the offset. A chat row that exists is skipped by a plain read first:
 * ON CONFLICT alone would wait for the worker whose open transaction rewrote that row
 * (its new index entry is not yet committed), and the intake would queue behind the
 * workers. The sealed bytes travel as binary bytea[] parameters. */
static const char inbox_put_sql[] =
    "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[],"
    "   $5::bytea[]) AS r(id, ck, kind, sealed, cs)),"
    " ins AS (INSERT INTO inbox (update_id, chat_key, kind, sealed)"
    "   SELECT r.id, r.ck, r.kind, r.sealed FROM r"
    "   ON CONFLICT (update_id) DO NOTHING RETURNING 1),"
    " ch AS (INSERT INTO chats (chat_id, chat_sealed)"
    "   SELECT DISTINCT ON (r.ck) r.ck, r.cs FROM r"
    "   WHERE r.ck <> 0 AND r.cs IS NOT NULL"
    "     AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.chat_id = r.ck) ORDER BY r.ck"
    "   ON CONFLICT (chat_id) DO NOTHING),"
    " off AS (UPDATE bot_state SET update_offset = GREATEST(update_offset, $6::bigint),"
    "   updated_at = now() RETURNING update_offset)"
    " SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM off)";

int store_inbox_put(struct store *s, const struct store_inbox_row *rows, size_t n,
                    long long new_offset, size_t *inserted, struct tl_errinfo *ei)
{
    struct st_arr ids, keys, kinds;
    struct st_barr sealed, cs;
    char ob[32];
    PGresult *r = NULL;
    if (inserted)
        *inserted = 0;
    tl_errinfo_clear(ei);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    st_arr_init(&ids);
    st_arr_init(&keys);
    st_arr_init(&kinds);
    st_barr_init(&sealed);
    st_barr_init(&cs);
    for (size_t i = 0; i < n; i++) {
        if (!rows[i].sealed || !rows[i].sealed_len) {
            rc = tl_errf(ei, TL_EINVAL, "inbox row %zu is not sealed", i);
            goto out;
        }
        st_arr_ll(&ids, rows[i].update_id);
        st_arr_ll(&keys, rows[i].chat_key);
        st_arr_str(&kinds, rows[i].kind);
        st_barr_add(&sealed, rows[i].sealed, rows[i].sealed_len);
        st_barr_add(&cs, rows[i].chat_sealed, rows[i].chat_sealed_len);
    }
    int len[6] = {0};
    const int fmt[6] = {0, 0, 0, 1, 1, 0};
    const char *v[6] = {st_arr_end(&ids),          st_arr_end(&keys),
                        st_arr_end(&kinds),        st_barr_end(&sealed, &len[3]),
                        st_barr_end(&cs, &len[4]), st_ll(ob, new_offset)};
    if (!v[0] || !v[1] || !v[2] || !v[3] || !v[4]) {
        rc = TL_ENOMEM;
        goto out;
    }
    /* One statement is one transaction and one round trip: the rows and the offset
     * commit together, and the offset never goes backwards. */
    if ((rc = st_exec_bin(s, inbox_put_sql, 6, v, len, fmt, 0, &r, ei)) != TL_OK)
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
    st_arr_release(&kinds);
    st_barr_release(&sealed);
    st_barr_release(&cs);
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
    /* in binary: the sealed bytes as they are (the id as text, read as text; named apart,
     * or ORDER BY would sort by that text) */
    rc = st_exec_bin(s,
                     "SELECT update_id::text AS id_text, sealed FROM inbox"
                     " WHERE chat_key = $1::bigint AND processed_at IS NULL"
                     " ORDER BY update_id LIMIT $2::bigint",
                     2, v, NULL, NULL, 1, &r, ei);
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
            u[k].chat_key = chat_key;
            /* an empty copy (never sealed: none since 0025) opens to nothing: unreadable */
            size_t len = (size_t)PQgetlength(r, (int)k, 1);
            if (len && (u[k].sealed = malloc(len + 1))) {
                memcpy(u[k].sealed, PQgetvalue(r, (int)k, 1), len);
                u[k].sealed[len] = 0;
                u[k].sealed_len = len;
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
        free(u[i].sealed);
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
