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

/* ---- held updates (intake throughput): one statement for a chat's common updates ----
 * conv_sql for n updates at once: the inbox rows locked and marked, the replies'
 * outbox rows (ids from the sequence in order), the tracked messages in the order the
 * per-update statements would insert them (an update's replies, then its citizen's
 * message), the draft once, and the chat's reporter and chat rows as store_apply
 * upserts them when an update of the batch still has to ($14 pseudonym, $15 chat, $16
 * language; no blocked flag or report comes this way). `go` needs every held inbox row
 * unprocessed: otherwise nothing is written and the caller goes update by update, where
 * a re-run is a no-op. */
static const char defer_sql[] =
    "WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::boolean[])"
    "   WITH ORDINALITY AS u(update_id, draft_id, user_msg, put, k)),"
    " inb AS (SELECT update_id FROM inbox WHERE update_id = ANY ($1::bigint[])"
    "   AND processed_at IS NULL FOR UPDATE),"
    " go AS (SELECT true AS ok WHERE (SELECT count(*) FROM inb) = cardinality($1::bigint[])),"
    " o AS (SELECT * FROM unnest($5::bigint[], $6::bigint[], $7::text[], $8::jsonb[],"
    "   $9::boolean[], $10::boolean[])"
    "   WITH ORDINALITY AS o(k, chat_id, method, params, prompt, track, ord)),"
    " ids AS (SELECT nextval('outbox_id_seq') AS id, o.* FROM go, o ORDER BY o.ord),"
    " ob AS (INSERT INTO outbox (id, chat_id, method, params)"
    "   SELECT id, chat_id, method, params FROM ids ORDER BY ord),"
    " cm AS (INSERT INTO conv_messages (chat_id, draft_id, outbox_id, message_id)"
    "   SELECT x.chat_id, x.draft_id, x.outbox_id, x.message_id FROM ("
    "     SELECT ids.k, ids.ord, ids.chat_id, u.draft_id, ids.id AS outbox_id,"
    "       NULL::bigint AS message_id FROM ids JOIN u ON u.k = ids.k"
    "     WHERE ids.track AND u.draft_id <> 0"
    "     UNION ALL SELECT u.k, NULL::bigint, $11::bigint, u.draft_id, NULL::bigint, u.user_msg"
    "     FROM go, u WHERE u.user_msg IS NOT NULL AND u.draft_id <> 0) x"
    "   ORDER BY x.k, x.message_id IS NOT NULL, x.ord),"
    " pr AS (SELECT (SELECT ids.id FROM ids JOIN u ON u.k = ids.k WHERE ids.prompt AND u.put"
    "   ORDER BY ids.ord DESC LIMIT 1) AS po),"
    " dr AS (INSERT INTO drafts AS d (chat_id, state, updated_at, expires_at)"
    "   SELECT $11::bigint, $12::jsonb || CASE WHEN pr.po IS NULL THEN '{}'::jsonb"
    "       ELSE jsonb_build_object('po', pr.po) END,"
    "     now(), now() + make_interval(mins => $13::int)"
    "   FROM go, pr WHERE $12::jsonb IS NOT NULL"
    "   ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state ||"
    "     CASE WHEN NOT excluded.state ? 'po' AND d.state ? 'po'"
    "       THEN jsonb_build_object('po', d.state->'po') ELSE '{}'::jsonb END,"
    "     updated_at = now(), expires_at = excluded.expires_at, reminded_at = NULL),"
    " rp AS (INSERT INTO reporters AS r (pseudonym, n_reports)"
    "   SELECT $14::text, 0 FROM go WHERE $14::text IS NOT NULL"
    "   ON CONFLICT (pseudonym) DO UPDATE SET last_seen = now()"
    "   WHERE r.last_seen < now() - interval '1 minute'),"
    " ch AS (INSERT INTO chats AS c (chat_id, reporter, lang, blocked)"
    "   SELECT $15::bigint, $14::text, $16::text, false FROM go WHERE $15::bigint <> 0"
    "   ON CONFLICT (chat_id) DO UPDATE SET reporter = COALESCE(excluded.reporter, c.reporter),"
    "     lang = COALESCE(excluded.lang, c.lang), last_seen = now()"
    "   WHERE c.last_seen < now() - interval '1 minute'"
    "     OR c.reporter IS DISTINCT FROM COALESCE(excluded.reporter, c.reporter)"
    "     OR c.lang IS DISTINCT FROM COALESCE(excluded.lang, c.lang)),"
    " done AS (UPDATE inbox SET processed_at = now() FROM inb, go"
    "   WHERE inbox.update_id = inb.update_id)"
    " SELECT EXISTS (SELECT 1 FROM go)";

static void defer_drop(struct st_defer *d)
{
    if (d->n)
        for (int i = 0; i < ST_DEFER_U + ST_DEFER_O; i++)
            st_arr_release(i < ST_DEFER_U ? &d->u[i] : &d->o[i - ST_DEFER_U]);
    free(d->draft_json);
    free(d->up_pseudonym);
    free(d->up_lang);
    memset(d, 0, sizeof(*d));
}

/* Writes the held updates (none: nothing to do). Always leaves nothing held. */
static int defer_flush(struct store *s, struct tl_errinfo *ei)
{
    struct st_defer *d = &s->defer;
    char cb[32], ib[32], ub[32];
    const char *v[16];
    PGresult *r = NULL;
    int rc = TL_OK;
    if (!d->n)
        return TL_OK;
    for (int i = 0; i < ST_DEFER_U + ST_DEFER_O; i++)
        if (!(v[i] = st_arr_end(i < ST_DEFER_U ? &d->u[i] : &d->o[i - ST_DEFER_U]))) {
            rc = TL_ENOMEM;
            goto out;
        }
    v[10] = st_ll(cb, d->chat_id);
    v[11] = d->draft_json;
    v[12] = st_ll(ib, d->idle_minutes > 0 ? d->idle_minutes : 30);
    v[13] = d->up_pseudonym;
    v[14] = st_ll(ub, d->up_chat);
    v[15] = d->up_lang;
    if ((rc = st_exec(s, defer_sql, 16, v, &r, ei)) != TL_OK)
        goto out;
    if (PQgetvalue(r, 0, 0)[0] != 't')
        rc = tl_errf(ei, TL_ECONFLICT, "%zu held updates: one was processed already", d->n);
out:
    PQclear(r);
    defer_drop(d);
    return rc;
}

int store_conv_defer(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, int *deferred, struct tl_errinfo *ei)
{
    struct st_defer *d = &s->defer;
    *deferred = 0;
    if (!cx || !fx->update_id || fx->n_outbox || fx->followup_id || fx->report ||
        fx->set_blocked >= 0 || cx->draft_op == STORE_DRAFT_DELETE ||
        (cx->draft_op == STORE_DRAFT_PUT && !cx->draft_json) || cx->n_media || cx->notice ||
        cx->addendum_ref || cx->addendum_text || (d->n && d->chat_id != cx->chat_id) || d->n >= 256)
        return TL_OK;
    for (size_t i = 0; i < cx->n_out; i++)
        if (!cx->out[i].method || !cx->out[i].params_json || !cx->out[i].chat_id)
            return tl_errf(ei, TL_EINVAL, "an outbox row needs chat_id, method and params");
    /* the chat's rows: one update of the held ones may still need them written */
    int upsert = (!cx->only_mark || fx->lang) && (fx->chat_id || fx->pseudonym);
    if (upsert && (d->upsert || (fx->chat_id && fx->chat_id != cx->chat_id)))
        return TL_OK;
    if (fx->lang && (!upsert || !fx->chat_id))
        return TL_OK;
    char *draft = NULL, *pseud = NULL, *lang = NULL;
    if ((cx->draft_op == STORE_DRAFT_PUT && !(draft = tl_strdup(cx->draft_json))) ||
        (upsert && fx->pseudonym && !(pseud = tl_strdup(fx->pseudonym))) ||
        (fx->lang && !(lang = tl_strdup(fx->lang)))) {
        free(draft);
        free(pseud);
        return TL_ENOMEM;
    }
    if (!d->n) {
        for (int i = 0; i < ST_DEFER_U; i++)
            st_arr_init(&d->u[i]);
        for (int i = 0; i < ST_DEFER_O; i++)
            st_arr_init(&d->o[i]);
        d->chat_id = cx->chat_id;
    }
    d->n++;
    st_arr_ll(&d->u[0], fx->update_id);
    st_arr_ll(&d->u[1], cx->draft_id);
    if (cx->user_msg_id)
        st_arr_ll(&d->u[2], cx->user_msg_id);
    else
        st_arr_str(&d->u[2], NULL);
    st_arr_str(&d->u[3], draft ? "t" : "f");
    for (size_t i = 0; i < cx->n_out; i++) {
        const struct store_conv_out *o = &cx->out[i];
        st_arr_ll(&d->o[0], (long long)d->n);
        st_arr_ll(&d->o[1], o->chat_id);
        st_arr_str(&d->o[2], o->method);
        st_arr_str(&d->o[3], o->params_json);
        st_arr_str(&d->o[4], o->prompt ? "t" : "f");
        st_arr_str(&d->o[5], o->track ? "t" : "f");
    }
    if (upsert) {
        d->upsert = 1;
        d->up_pseudonym = pseud;
        d->up_chat = fx->chat_id;
        d->up_lang = lang;
    }
    if (draft) {
        free(d->draft_json);
        d->draft_json = draft;
        d->idle_minutes = cx->idle_minutes;
    }
    for (int i = 0; i < ST_DEFER_U + ST_DEFER_O; i++)
        if ((i < ST_DEFER_U ? d->u[i] : d->o[i - ST_DEFER_U]).err) {
            defer_drop(d);
            return TL_ENOMEM;
        }
    *deferred = 1;
    return TL_OK;
}

int store_conv_begin(struct store *s, long long chat_id, struct store_conv_state *st,
                     struct tl_errinfo *ei)
{
    char cb[32];
    const char *v[1] = {st_ll(cb, chat_id)};
    PGresult *r = NULL;
    memset(st, 0, sizeof(*st));
    defer_drop(&s->defer); /* held by a transaction that never ended */
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
    if ((rc = defer_flush(s, ei)) != TL_OK) /* the held updates' messages count too */
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

/* bytea in text form: \x and hex. Returns a new string. */
static char *bytea_text(const unsigned char *p, size_t n)
{
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    tl_hex(p, n, out + 2);
    return out;
}

static int put_media(struct store *s, const struct store_conv_effects *cx,
                     const struct store_media_new *m, struct tl_errinfo *ei)
{
    char nb[12][32];
    if (!m->kind || (!m->bytes && m->len))
        return tl_errf(ei, TL_EINVAL, "draft media needs a kind and its bytes");
    char *hex = bytea_text(m->bytes ? m->bytes : (const unsigned char *)"", m->len);
    if (!hex)
        return TL_ENOMEM;
    const char *v[16] = {
        st_ll(nb[0], cx->chat_id),
        st_ll(nb[1], cx->draft_id),
        m->kind,
        m->tg_file_id,
        m->tg_file_unique_id,
        m->mime,
        hex,
        st_ll(nb[2], (long long)m->len),
        m->width > 0 ? st_ll(nb[3], m->width) : NULL,
        m->height > 0 ? st_ll(nb[4], m->height) : NULL,
        m->has_phash ? st_ll(nb[5], (long long)m->phash) : NULL,
        m->has_gps ? st_dbl(nb[6], m->gps_lat) : NULL,
        m->has_gps ? st_dbl(nb[7], m->gps_lon) : NULL,
        m->has_gps && m->gps_accuracy_m > 0 ? st_dbl(nb[8], m->gps_accuracy_m) : NULL,
        m->taken_local,
        m->has_taken_offset ? st_ll(nb[9], m->taken_offset_min) : NULL,
    };
    int rc = st_exec(
        s,
        "INSERT INTO draft_media (chat_id, draft_id, kind, tg_file_id, tg_file_unique_id, mime,"
        " bytes, size, width, height, phash, gps, gps_accuracy_m, taken_local, taken_offset_min)"
        " VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6, $7::bytea, $8::bigint, $9::int,"
        " $10::int, $11::bigint, CASE WHEN $12::float8 IS NOT NULL"
        "   THEN ST_SetSRID(ST_MakePoint($13::float8, $12::float8), 4326)::geography END,"
        " $14::float8, $15::timestamp, $16::int)",
        16, v, NULL, ei);
    free(hex);
    return rc;
}

/* A sent draft: its photos become the report's media (sha256 of the sanitized bytes),
 * its messages the report's. */
static int move_to_report(struct store *s, const struct store_conv_effects *cx, long long report_id,
                          struct tl_errinfo *ei)
{
    char cb[32], db[32], rb[32];
    const char *v[3] = {st_ll(cb, cx->chat_id), st_ll(db, cx->draft_id), st_ll(rb, report_id)};
    int rc = st_exec(
        s,
        "WITH dm AS (DELETE FROM draft_media WHERE chat_id = $1::bigint AND draft_id = $2::bigint"
        "   RETURNING *),"
        " med AS (INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id, mime, bytes,"
        "   size, width, height, phash, sha256, gps, gps_accuracy_m, taken_local,"
        "   taken_offset_min)"
        "   SELECT $3::bigint, kind, tg_file_id, tg_file_unique_id, mime, bytes, size, width,"
        "     height, phash, encode(sha256(COALESCE(bytes, ''::bytea)), 'hex'), gps,"
        "     gps_accuracy_m, taken_local, taken_offset_min FROM dm ORDER BY id)"
        " UPDATE conv_messages SET report_id = $3::bigint"
        " WHERE chat_id = $1::bigint AND draft_id = $2::bigint",
        3, v, NULL, ei);
    return rc;
}

/* One update's conversation rows in one statement, ahead of store_apply's (which marks
 * the inbox row processed): `go` is empty for an update handled before, so a re-run
 * writes nothing (with only_mark it also marks the inbox row, and store_apply's statement
 * is skipped). The replies get their outbox ids from the sequence first, so the
 * draft's messages and its keyboard message ("po", kept by storage: the decision never
 * writes it) can name them in the same statement. */
static const char conv_sql[] =
    "WITH inb AS (SELECT update_id FROM inbox"
    "   WHERE update_id = $1::bigint AND processed_at IS NULL FOR UPDATE),"
    " go AS (SELECT true AS ok WHERE $1::bigint = 0 OR EXISTS (SELECT 1 FROM inb)),"
    " o AS (SELECT * FROM unnest($7::bigint[], $8::text[], $9::jsonb[], $10::boolean[],"
    "   $11::boolean[]) WITH ORDINALITY AS o(chat_id, method, params, prompt, track, ord)),"
    " ids AS (SELECT nextval('outbox_id_seq') AS id, o.* FROM go, o ORDER BY o.ord),"
    " ob AS (INSERT INTO outbox (id, chat_id, method, params)"
    "   SELECT id, chat_id, method, params FROM ids ORDER BY ord),"
    " cm AS (INSERT INTO conv_messages (chat_id, draft_id, outbox_id, message_id)"
    "   SELECT chat_id, $3::bigint, id, NULL::bigint FROM ids WHERE track AND $3::bigint <> 0"
    "   UNION ALL SELECT $2::bigint, $3::bigint, NULL, $12::bigint FROM go"
    "   WHERE $12::bigint IS NOT NULL AND $3::bigint <> 0),"
    " pr AS (SELECT (SELECT id FROM ids WHERE prompt ORDER BY ord DESC LIMIT 1) AS po),"
    " dr AS (INSERT INTO drafts AS d (chat_id, state, updated_at, expires_at)"
    "   SELECT $2::bigint, $5::jsonb || CASE WHEN pr.po IS NULL THEN '{}'::jsonb"
    "       ELSE jsonb_build_object('po', pr.po) END,"
    "     now(), now() + make_interval(mins => $6::int)"
    "   FROM go, pr WHERE $4::int = 1"
    "   ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state ||"
    "     CASE WHEN NOT excluded.state ? 'po' AND d.state ? 'po'"
    "       THEN jsonb_build_object('po', d.state->'po') ELSE '{}'::jsonb END,"
    "     updated_at = now(), expires_at = excluded.expires_at, reminded_at = NULL),"
    " done AS (UPDATE inbox SET processed_at = now() FROM inb"
    "   WHERE $13::boolean AND inbox.update_id = inb.update_id)"
    " SELECT EXISTS (SELECT 1 FROM go), EXISTS (SELECT 1 FROM inbox WHERE update_id = $1::bigint)";

/* What few updates do, kept out of conv_sql so that the common statement locks and
 * plans fewer tables: a draft deleted (cancel, send: a sent draft's photos stay for
 * move_to_report), a group told, an addendum. */
static int conv_rare(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, struct tl_errinfo *ei)
{
    char cb[32];
    int rc = TL_OK;
    const char *c[1] = {st_ll(cb, cx->chat_id)};
    if (cx->draft_op == STORE_DRAFT_DELETE)
        rc = st_exec(s,
                     fx->report ? "DELETE FROM drafts WHERE chat_id = $1::bigint"
                                : "WITH d AS (DELETE FROM drafts WHERE chat_id = $1::bigint)"
                                  " DELETE FROM draft_media WHERE chat_id = $1::bigint",
                     1, c, NULL, ei);
    if (rc == TL_OK && cx->notice)
        rc = st_exec(s,
                     "INSERT INTO conv_notices (chat_id) VALUES ($1::bigint)"
                     " ON CONFLICT (chat_id) DO NOTHING",
                     1, c, NULL, ei);
    if (rc == TL_OK && cx->addendum_ref && cx->addendum_text) {
        const char *v[3] = {cx->addendum_ref, cx->addendum_text, cx->addendum_reporter};
        rc = st_exec(s,
                     "INSERT INTO report_addenda (report_id, text)"
                     " SELECT id, $2 FROM reports WHERE public_ref = $1 AND reporter = $3",
                     3, v, NULL, ei);
    }
    return rc;
}

int store_conv_write(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, long long *report_id,
                     struct tl_errinfo *ei)
{
    char nb[8][32];
    struct st_arr oa[5];
    PGresult *r = NULL;
    long long rid = 0;
    struct tl_errinfo local;
    int rc = TL_OK;
    if (report_id)
        *report_id = 0;
    if (!ei) /* the SQLSTATE decides between TL_ECONFLICT and TL_EDB */
        ei = &local;
    tl_errinfo_clear(ei);
    if ((rc = defer_flush(s, ei)) != TL_OK) /* the held updates come first */
        return rc;
    if (fx->n_outbox)
        return tl_errf(ei, TL_EINVAL, "conversation replies go in cx->out");
    if (!cx) /* nothing of the conversation: store_apply's statement alone */
        return st_apply_in_tx(s, fx, report_id, ei);
    /* relay: an answer to an analyst's question, appended while the inbox row is still
     * unprocessed (a re-run update appends nothing) */
    if (fx->followup_id && (rc = st_followup_answer(s, fx, ei)) != TL_OK)
        return rc;
    if (cx->draft_op == STORE_DRAFT_PUT && !cx->draft_json)
        return tl_errf(ei, TL_EINVAL, "a draft to write needs its state");
    for (int i = 0; i < 5; i++)
        st_arr_init(&oa[i]);
    for (size_t i = 0; i < cx->n_out; i++) {
        const struct store_conv_out *o = &cx->out[i];
        if (!o->method || !o->params_json || !o->chat_id) {
            rc = tl_errf(ei, TL_EINVAL, "an outbox row needs chat_id, method and params");
            goto out;
        }
        st_arr_ll(&oa[0], o->chat_id);
        st_arr_str(&oa[1], o->method);
        st_arr_str(&oa[2], o->params_json);
        st_arr_str(&oa[3], o->prompt ? "t" : "f");
        st_arr_str(&oa[4], o->track ? "t" : "f");
    }
    int only_mark = cx->only_mark && !fx->report && fx->set_blocked < 0 && !fx->lang;
    const char *v[13] = {
        st_ll(nb[0], fx->update_id),
        st_ll(nb[1], cx->chat_id),
        st_ll(nb[2], cx->draft_id),
        st_ll(nb[3], (long long)cx->draft_op),
        cx->draft_op == STORE_DRAFT_PUT ? cx->draft_json : "{}",
        st_ll(nb[4], cx->idle_minutes > 0 ? cx->idle_minutes : 30),
        st_arr_end(&oa[0]),
        st_arr_end(&oa[1]),
        st_arr_end(&oa[2]),
        st_arr_end(&oa[3]),
        st_arr_end(&oa[4]),
        cx->user_msg_id ? st_ll(nb[5], cx->user_msg_id) : NULL,
        only_mark ? "true" : "false",
    };
    for (int i = 6; i < 11; i++)
        if (!v[i]) {
            rc = TL_ENOMEM;
            goto out;
        }
    if ((rc = st_exec(s, conv_sql, 13, v, &r, ei)) != TL_OK)
        goto out;
    int fresh = PQgetvalue(r, 0, 0)[0] == 't', known = PQgetvalue(r, 0, 1)[0] == 't';
    if (!fresh) {
        if (fx->update_id && !known)
            rc = tl_errf(ei, TL_ENOTFOUND, "no inbox row for update_id %lld", fx->update_id);
        goto out; /* handled before: a re-run writes nothing */
    }
    if ((rc = conv_rare(s, fx, cx, ei)) != TL_OK)
        goto out;
    for (size_t i = 0; i < cx->n_media; i++)
        if ((rc = put_media(s, cx, &cx->media[i], ei)) != TL_OK)
            goto out;
    if (!only_mark && (rc = st_apply_in_tx(s, fx, &rid, ei)) != TL_OK)
        goto out;
    if (rid && cx->draft_id && (rc = move_to_report(s, cx, rid, ei)) != TL_OK)
        goto out;
    if (report_id)
        *report_id = rid;
out:
    PQclear(r);
    for (int i = 0; i < 5; i++)
        st_arr_release(&oa[i]);
    return rc;
}

int store_conv_commit(struct store *s, struct tl_errinfo *ei)
{
    unsigned long gen = s->generation;
    int rc = defer_flush(s, ei);
    if (rc == TL_OK)
        rc = st_commit(s, ei);
    if (rc != TL_OK)
        st_rollback(s);
    else if (s->generation != gen)
        rc = tl_errf(ei, TL_EDBDOWN, "connection reset during a conversation transaction");
    return rc;
}

void store_conv_rollback(struct store *s)
{
    defer_drop(&s->defer);
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
