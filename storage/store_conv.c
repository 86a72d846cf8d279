/* storage/store_conv.c - the citizen conversation's rows (migration 0005): a chat's
 * draft read and written in the transaction that handles its updates, the draft's
 * sanitized photos, the messages of a draft and of its report (for "Clear this chat"
 * and addenda), and the janitor's reminders and expiry. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

void store_conv_state_release(struct store_conv_state *st)
{
    if (!st)
        return;
    free(st->draft_json);
    free(st->chat_lang);
    memset(st, 0, sizeof(*st));
}

/* ---- the chat's writes: its updates' plans go through the one write path ----
 * store_conv_defer holds an update's plan back, reports included; the held plans are
 * written in one call of store_apply_plan with the next store_conv_write (which returns
 * that update's report id), store_conv_lookup (whose reads must see them) or
 * store_conv_commit. One call for a chat's batch rather than one per report: each call
 * of the function pays its entry, its statements' executor start and a round trip. */

/* At most this many updates wait in one plan (the worker's batches are smaller). */
#define CONV_HOLD_MAX 256

static int conv_flush(struct store *s, struct tl_errinfo *ei)
{
    return st_plan_write(s, &s->plan, 0, NULL, ei);
}

int store_conv_defer(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, int *deferred, struct tl_errinfo *ei)
{
    *deferred = 0;
    if (s->plan.n >= CONV_HOLD_MAX)
        return TL_OK;
    int rc = st_plan_add(&s->plan, fx, cx, ei);
    if (rc == TL_OK)
        *deferred = 1;
    return rc;
}

int store_conv_begin(struct store *s, long long chat_id, struct store_conv_state *st,
                     struct tl_errinfo *ei)
{
    char cb[32];
    const char *v[1] = {st_ll(cb, chat_id)};
    PGresult *r = NULL;
    memset(st, 0, sizeof(*st));
    st_plan_clear(&s->plan); /* held by a transaction that never ended */
    s->conv_reports = 0;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_begin(s, ei)))
        return rc;
    /* the draft row stays locked until the commit: the janitor skips it meanwhile */
    rc = st_exec(s,
                 "SELECT d.state::text, (SELECT o.tg_message_id FROM outbox o"
                 "   WHERE o.id = (d.state->>'po')::bigint),"
                 " (SELECT lang FROM chats WHERE chat_id = $1::bigint),"
                 " EXISTS (SELECT 1 FROM conv_notices WHERE chat_id = $1::bigint)"
                 " FROM (SELECT 1) one LEFT JOIN"
                 "   (SELECT state FROM drafts WHERE chat_id = $1::bigint FOR UPDATE) d ON true",
                 1, v, &r, ei);
    if (rc)
        goto out;
    if (!PQgetisnull(r, 0, 0)) {
        st->draft_json = st_str(r, 0, 0);
        st->prompt_msg_id = st_getll(r, 0, 1);
        if (!st->draft_json) {
            rc = TL_ENOMEM;
            goto out;
        }
    }
    st->chat_lang = st_str(r, 0, 2);
    st->notice_sent = PQgetvalue(r, 0, 3)[0] == 't';
out:
    PQclear(r);
    if (rc) {
        st_rollback(s);
        store_conv_state_release(st);
    }
    return rc;
}

static int push_id(struct store_conv_lookup *lk, size_t *cap, long long id)
{
    if (lk->n_del == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        long long *p = realloc(lk->del_ids, nc * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        lk->del_ids = p;
        *cap = nc;
    }
    lk->del_ids[lk->n_del++] = id;
    return TL_OK;
}

/* The messages of a report (by ref, checked against the reporter) or of a draft, in
 * the chat: the id each can be deleted by, and whether Telegram still allows it. The
 * last column says whether the report was found at all. */
static const char clear_sql[] =
    "WITH rep AS (SELECT id FROM reports WHERE $2::text IS NOT NULL AND public_ref = $2::text"
    "   AND reporter = $3::text),"
    " msgs AS (SELECT m.id, COALESCE(m.message_id, o.tg_message_id) AS mid,"
    "     CASE WHEN m.message_id IS NOT NULL THEN m.at ELSE o.sent_at END AS at"
    "   FROM conv_messages m LEFT JOIN outbox o ON o.id = m.outbox_id"
    "   WHERE m.chat_id = $1::bigint AND (m.report_id IN (SELECT id FROM rep)"
    "     OR ($4::bigint <> 0 AND m.draft_id = $4::bigint)))"
    " SELECT mid, mid IS NOT NULL AND at > now() - make_interval(secs => $5::float8)"
    " FROM msgs WHERE mid IS NULL OR id = (SELECT min(x.id) FROM msgs x WHERE x.mid = msgs.mid)"
    " ORDER BY id";

int store_conv_lookup(struct store *s, long long chat_id, struct store_conv_lookup *lk,
                      struct tl_errinfo *ei)
{
    char cb[32], mb[32], db[32], ab[32];
    PGresult *r = NULL;
    int rc = TL_OK;
    lk->edit_ref[0] = 0;
    lk->del_ids = NULL;
    lk->n_del = lk->n_undeletable = 0;
    lk->clear_found = 0;
    if ((rc = conv_flush(s, ei)) != TL_OK) /* the held updates' messages count too */
        return rc;
    if (lk->edit_msg_id) {
        const char *v[2] = {st_ll(cb, chat_id), st_ll(mb, lk->edit_msg_id)};
        rc = st_exec(s,
                     "SELECT r.public_ref FROM conv_messages m JOIN reports r ON r.id = m.report_id"
                     " WHERE m.chat_id = $1::bigint AND m.message_id = $2::bigint"
                     " ORDER BY m.id DESC LIMIT 1",
                     2, v, &r, ei);
        if (rc)
            return rc;
        if (PQntuples(r) == 1)
            tl_strlcpy(lk->edit_ref, PQgetvalue(r, 0, 0), sizeof(lk->edit_ref));
        PQclear(r);
        r = NULL;
    }
    if (lk->mod_reporter && (rc = st_mod_load(s, chat_id, lk, ei)) != TL_OK)
        return rc;
    if (!lk->clear_ref && !lk->clear_draft_id)
        return TL_OK;
    if (lk->clear_ref) {
        const char *v[2] = {lk->clear_ref, lk->pseudonym};
        rc = st_exec(s, "SELECT 1 FROM reports WHERE public_ref = $1 AND reporter = $2", 2, v, &r,
                     ei);
        if (rc)
            return rc;
        lk->clear_found = PQntuples(r) == 1;
        PQclear(r);
        r = NULL;
    }
    const char *v[5] = {st_ll(cb, chat_id), lk->clear_ref, lk->pseudonym,
                        st_ll(db, lk->clear_draft_id),
                        st_ll(ab, lk->max_age_s > 0 ? lk->max_age_s : 47 * 3600)};
    rc = st_exec(s, clear_sql, 5, v, &r, ei);
    if (rc)
        return rc;
    size_t cap = 0;
    int n = PQntuples(r);
    for (int i = 0; i < n && rc == TL_OK; i++) {
        if (PQgetvalue(r, i, 1)[0] == 't')
            rc = push_id(lk, &cap, st_getll(r, i, 0));
        else
            lk->n_undeletable++;
    }
    PQclear(r);
    if (rc) {
        free(lk->del_ids);
        lk->del_ids = NULL;
        lk->n_del = 0;
    }
    return rc;
}

int store_conv_write(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, long long *report_id,
                     struct tl_errinfo *ei)
{
    long long rid = 0;
    if (report_id)
        *report_id = 0;
    tl_errinfo_clear(ei);
    if (fx->n_outbox)
        return tl_errf(ei, TL_EINVAL, "conversation replies go in cx->out");
    int rc = st_plan_add(&s->plan, fx, cx, ei);
    if (rc != TL_OK) {
        st_plan_clear(&s->plan); /* the held updates go with the failed transaction */
        return rc;
    }
    /* with the held updates, in order, in one call */
    rc = st_plan_write(s, &s->plan, s->plan.n - 1, &rid, ei);
    if (rc == TL_OK && report_id)
        *report_id = rid;
    return rc;
}

int store_conv_commit(struct store *s, struct tl_errinfo *ei)
{
    unsigned long gen = s->generation;
    int rc = conv_flush(s, ei);
    if (rc == TL_OK)
        rc = st_commit(s, ei);
    if (rc != TL_OK)
        st_rollback(s);
    else if (s->generation != gen)
        rc = tl_errf(ei, TL_EDBDOWN, "connection reset during a conversation transaction");
    return rc;
}

long long store_conv_reports(const struct store *s)
{
    return s->conv_reports;
}

void store_conv_rollback(struct store *s)
{
    st_plan_clear(&s->plan);
    s->conv_reports = 0;
    st_rollback(s);
}

static const char janitor_sql[] =
    "WITH rem AS (SELECT chat_id FROM drafts WHERE reminded_at IS NULL AND expires_at > now()"
    "   AND updated_at < now() - make_interval(secs => $1::float8) FOR UPDATE SKIP LOCKED),"
    " upd AS (UPDATE drafts d SET reminded_at = now() FROM rem WHERE d.chat_id = rem.chat_id"
    "   RETURNING d.chat_id, d.state),"
    " ro AS (INSERT INTO outbox (chat_id, method, params)"
    "   SELECT chat_id, 'sendMessage', jsonb_build_object('chat_id', chat_id) ||"
    "     replace(CASE WHEN state->>'lang' = 'en' THEN $3 ELSE $2 END, '__DRAFT__',"
    "       COALESCE(state->>'id', '0'))::jsonb"
    "   FROM upd RETURNING id, chat_id),"
    " rt AS (INSERT INTO conv_messages (chat_id, draft_id, outbox_id)"
    "   SELECT ro.chat_id, COALESCE((upd.state->>'id')::bigint, 0), ro.id"
    "   FROM ro JOIN upd USING (chat_id)),"
    " exp AS (SELECT chat_id FROM drafts WHERE expires_at <= now() FOR UPDATE SKIP LOCKED),"
    " del AS (DELETE FROM drafts d USING exp WHERE d.chat_id = exp.chat_id"
    "   RETURNING d.chat_id, d.state),"
    " dm AS (DELETE FROM draft_media m USING del WHERE m.chat_id = del.chat_id),"
    " eo AS (INSERT INTO outbox (chat_id, method, params)"
    "   SELECT chat_id, 'sendMessage', jsonb_build_object('chat_id', chat_id) ||"
    "     (CASE WHEN state->>'lang' = 'en' THEN $5 ELSE $4 END)::jsonb FROM del),"
    " old AS (DELETE FROM conv_messages WHERE at < now() - interval '2 days'),"
    /* photos of drafts that retention's purge (store_purge) removed without them */
    " orphans AS (DELETE FROM draft_media m WHERE m.created_at < now() - interval '1 hour'"
    "   AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.chat_id = m.chat_id"
    "     AND (d.state->>'id')::bigint = m.draft_id))"
    " SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM del)";

int store_conv_janitor(struct store *s, struct store_conv_janitor *j, struct tl_errinfo *ei)
{
    char ab[32];
    PGresult *r = NULL;
    j->reminded = j->expired = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    const char *v[5] = {st_dbl(ab, (double)j->remind_after_s), j->remind_params_uk,
                        j->remind_params_en, j->expired_params_uk, j->expired_params_en};
    if ((rc = st_exec(s, janitor_sql, 5, v, &r, ei)) != TL_OK)
        return rc;
    j->reminded = st_getll(r, 0, 0);
    j->expired = st_getll(r, 0, 1);
    PQclear(r);
    return TL_OK;
}
