/* storage/store_mod.c - moderation's rows: the inputs a report's verdict is decided
 * with (the reporter's standing, rate state and the campaign window, read in the chat's
 * transaction), and the moderators' reads and actions (held reports, campaigns, bans),
 * each action audited. The verdict itself is written by the one write path
 * (store_apply_plan -> mod_apply_verdict). */
#include "store_int.h"
#include "store_mod.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

void store_conv_lookup_release(struct store_conv_lookup *lk)
{
    free(lk->del_ids);
    lk->del_ids = NULL;
    lk->n_del = 0;
    free(lk->mod.rate_json);
    for (size_t i = 0; i < lk->mod.n_window; i++) {
        free(lk->mod.window[i].reporter);
        free(lk->mod.window[i].minhash_hex);
    }
    free(lk->mod.window);
    memset(&lk->mod, 0, sizeof(lk->mod));
    lk->mod_loaded = 0;
}

int st_mod_load(struct store *s, long long chat_id, struct store_conv_lookup *lk,
                struct tl_errinfo *ei)
{
    char wb[32], mb[32], cb[32], db[32];
    PGresult *r = NULL;
    struct store_mod_inputs *in = &lk->mod;
    const char *v[3] = {lk->mod_reporter, st_ll(cb, chat_id), st_ll(db, lk->mod_draft_id)};
    struct st_arr bands;
    st_arr_init(&bands);
    for (size_t i = 0; i < lk->mod_nbands && i < 8; i++)
        st_arr_ll(&bands, lk->mod_bands[i]);
    const char *w4[4] = {st_ll(wb, lk->mod_window_s > 0 ? lk->mod_window_s : 600),
                         st_ll(mb, lk->mod_window_max > 0 ? (long long)lk->mod_window_max : 2000),
                         lk->mod_nbands ? st_arr_end(&bands) : NULL,
                         lk->mod_photo ? "true" : "false"};
    memset(in, 0, sizeof(*in));
    int rc = st_exec(s,
                     "SELECT p.reputation, p.banned, p.shadow_banned, p.ban_notice_at IS NOT NULL,"
                     " extract(epoch FROM p.first_seen)::float8, p.n_reports, p.n_confirmed,"
                     " p.n_rejected, x.state::text, extract(epoch FROM clock_timestamp())::float8,"
                     " (SELECT d.phash FROM draft_media d WHERE d.chat_id = $2::bigint"
                     "   AND d.draft_id = $3::bigint AND d.phash IS NOT NULL ORDER BY d.id LIMIT 1)"
                     " FROM (SELECT 1) one"
                     " LEFT JOIN reporters p ON p.pseudonym = $1::text"
                     " LEFT JOIN reporter_rate x ON x.reporter = $1::text",
                     3, v, &r, ei);
    if (rc)
        return rc;
    in->known = !PQgetisnull(r, 0, 0);
    if (in->known) {
        in->reputation = st_getdbl(r, 0, 0);
        in->banned = PQgetvalue(r, 0, 1)[0] == 't';
        in->shadow_banned = PQgetvalue(r, 0, 2)[0] == 't';
        in->ban_notice_sent = PQgetvalue(r, 0, 3)[0] == 't';
        in->first_seen = st_getdbl(r, 0, 4);
        in->n_reports = (long)st_getll(r, 0, 5);
        in->n_confirmed = (long)st_getll(r, 0, 6);
        in->n_rejected = (long)st_getll(r, 0, 7);
    }
    in->rate_json = st_str(r, 0, 8);
    in->now = st_getdbl(r, 0, 9);
    in->has_phash = !PQgetisnull(r, 0, 10);
    in->phash = in->has_phash ? st_getll(r, 0, 10) : 0;
    PQclear(r);
    r = NULL;
    lk->mod_loaded = 1;
    if (in->banned || in->shadow_banned || (!lk->mod_nbands && !lk->mod_photo)) {
        st_arr_release(&bands); /* a ban is final; nothing to match: no window needed */
        return TL_OK;
    }
    if (lk->mod_nbands && !w4[2]) {
        st_arr_release(&bands);
        return TL_ENOMEM;
    }
    rc = st_exec(s,
                 "SELECT m.id, COALESCE(c.id, 0), m.reporter, extract(epoch FROM m.at)::float8,"
                 " m.text_len, m.has_photo, COALESCE(m.phash, 0), encode(m.minhash, 'hex')"
                 " FROM mod_recent m LEFT JOIN mod_campaigns c ON c.id = m.campaign_id"
                 "   AND c.status = 'held'"
                 " WHERE m.at > now() - make_interval(secs => $1::bigint)"
                 "   AND (m.bands && $3::bigint[] OR ($4::boolean AND m.has_photo))"
                 " ORDER BY m.at DESC LIMIT $2::bigint",
                 4, w4, &r, ei);
    st_arr_release(&bands);
    if (rc)
        return rc;
    int n = PQntuples(r);
    if (n > 0 && !(in->window = calloc((size_t)n, sizeof(*in->window)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct store_mod_recent *w = &in->window[i];
        w->id = st_getll(r, i, 0);
        w->campaign = st_getll(r, i, 1);
        w->reporter = st_str(r, i, 2);
        w->at = st_getdbl(r, i, 3);
        w->text_len = (unsigned)st_getll(r, i, 4);
        w->has_photo = PQgetvalue(r, i, 5)[0] == 't';
        w->phash = st_getll(r, i, 6);
        w->minhash_hex = st_str(r, i, 7);
        in->n_window++;
        if (!w->reporter) {
            rc = TL_ENOMEM;
            goto out;
        }
    }
out:
    PQclear(r);
    return rc;
}

/* ---- the moderators' reads and actions ---- */

int store_mod_held(struct store *s, const struct store_mod_filter *f, char **json,
                   struct tl_errinfo *ei)
{
    char cb[32], lb[32];
    long limit = f->limit > 0 && f->limit <= 500 ? f->limit : 100;
    const char *v[3] = {f->verdict, f->campaign > 0 ? st_ll(cb, f->campaign) : NULL,
                        st_ll(lb, limit)};
    return st_one_text(
        s,
        "SELECT json_build_object('items', COALESCE(json_agg(x ORDER BY x.at DESC, x.id DESC),"
        " '[]'))::text FROM (SELECT r.id, r.public_ref AS ref, left(r.reporter, 16) AS reporter,"
        "   r.category, left(r.text, 2000) AS text,"
        "   left(COALESCE(r.text_display, r.text), 2000) AS text_display,"
        "   COALESCE(r.links, '{}') AS links, r.status, v.verdict, v.reasons,"
        "   v.campaign_id, web_iso(v.at) AS at"
        "   FROM mod_verdicts v JOIN reports r ON r.id = v.report_id"
        "   WHERE v.resolution IS NULL AND ($1::text IS NULL OR v.verdict = $1::text)"
        "     AND ($2::bigint IS NULL OR v.campaign_id = $2::bigint)"
        "   ORDER BY v.at DESC, r.id DESC LIMIT $3::bigint) x",
        3, v, json, "held reports", ei);
}

int store_mod_campaigns(struct store *s, const char *status, long limit, char **json,
                        struct tl_errinfo *ei)
{
    char lb[32];
    const char *v[2] = {status, st_ll(lb, limit > 0 && limit <= 500 ? limit : 100)};
    return st_one_text(
        s,
        "SELECT json_build_object('items', COALESCE(json_agg(x ORDER BY x.last_at DESC, x.id DESC),"
        " '[]'))::text FROM (SELECT c.id, c.status, c.kind, c.sample, web_iso(c.created_at)"
        "   AS created_at, web_iso(c.last_at) AS last_at,"
        "   (SELECT count(*) FROM mod_verdicts v WHERE v.campaign_id = c.id) AS reports,"
        "   (SELECT count(DISTINCT r.reporter) FROM mod_verdicts v JOIN reports r"
        "     ON r.id = v.report_id WHERE v.campaign_id = c.id) AS reporters,"
        "   c.decided_by, web_iso(c.decided_at) AS decided_at"
        "   FROM mod_campaigns c WHERE $1::text IS NULL OR c.status = $1::text"
        "   ORDER BY c.last_at DESC, c.id DESC LIMIT $2::bigint) x",
        2, v, json, "campaigns", ei);
}

int store_mod_resolve(struct store *s, const char *actor, const char *what, long long id,
                      const char *action, char **json, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[4] = {actor, what, st_ll(ib, id), action};
    *json = NULL;
    if (!what || (strcmp(what, "campaign") != 0 && strcmp(what, "report") != 0))
        return tl_errf(ei, TL_EINVAL, "campaign or report");
    return st_fn_err(
        st_one_text(s, "SELECT mod_resolve($1::text, $2::text, $3::bigint, $4::text)::text", 4, v,
                    json, "resolution", ei),
        ei);
}

int store_mod_ban(struct store *s, const char *actor, const char *prefix, const char *mode,
                  const char *reason, int sweep, char **json, struct tl_errinfo *ei)
{
    const char *v[5] = {actor, prefix, mode, reason, sweep ? "true" : "false"};
    *json = NULL;
    return st_fn_err(st_one_text(s,
                                 "SELECT mod_ban($1::text, $2::text, $3::text, $4::text,"
                                 " $5::boolean)::text",
                                 5, v, json, "ban", ei),
                     ei);
}

int store_mod_rule_hits(struct store *s, char **json, struct tl_errinfo *ei)
{
    return st_one_text(s,
                       "SELECT COALESCE(json_object_agg(reason, hits ORDER BY reason),"
                       " '{}')::text FROM mod_rule_hits",
                       0, NULL, json, "rule hits", ei);
}

/* ---- rules reloads asked for through the database ---- */

int store_mod_rules_request(struct store *s, const char *actor, long long *id,
                            struct tl_errinfo *ei)
{
    char *txt = NULL;
    const char *v[1] = {actor};
    *id = 0;
    int rc = st_one_text(
        s,
        "WITH q AS (INSERT INTO mod_rules_reloads (requested_by) VALUES ($1::text) RETURNING id),"
        " a AS (INSERT INTO audit_log (actor, action, object, after)"
        "   SELECT $1::text, 'mod_rules_reload', 'mod_rules_reload:' || q.id,"
        "   jsonb_build_object('id', q.id) FROM q)"
        " SELECT q.id::text FROM q, pg_notify('tipline_mod_rules', (SELECT id::text FROM q))",
        1, v, &txt, "reload request", ei);
    if (rc == TL_OK && tl_parse_ll(txt, id) != TL_OK)
        rc = tl_errf(ei, TL_EDB, "reload request: not an id");
    free(txt);
    return rc;
}

/* One load attempt as JSON (the columns of mod_rules_loads l). */
#define RULES_LOAD_JSON                                                                            \
    "json_build_object('process', l.process, 'reload_id', l.reload_id, 'at', web_iso(l.at),"       \
    " 'ok', l.ok, 'file', l.file, 'rules', l.rules, 'loaded_at', web_iso(l.loaded_at),"            \
    " 'error', l.error, 'line', l.error_line, 'column', l.error_column)"

int store_mod_rules_reload_doc(struct store *s, long long id, char **json, int *answered,
                               struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[1] = {st_ll(ib, id)};
    PGresult *r = NULL;
    *json = NULL;
    *answered = 0;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_exec(s,
                            "SELECT json_build_object('id', q.id, 'requested_by', q.requested_by,"
                            " 'requested_at', web_iso(q.requested_at), 'answered', n.n,"
                            " 'outcomes', COALESCE((SELECT json_agg(" RULES_LOAD_JSON
                            " ORDER BY l.id) FROM mod_rules_loads l WHERE l.reload_id >= q.id),"
                            " '[]'))::text, n.n"
                            " FROM mod_rules_reloads q CROSS JOIN LATERAL (SELECT count(DISTINCT"
                            "   l.process)::int AS n FROM mod_rules_loads l"
                            "   WHERE l.reload_id >= q.id) n WHERE q.id = $1::bigint",
                            1, v, &r, ei)))
        return rc;
    if (PQntuples(r) == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no reload request %lld", id);
    else if (!(*json = st_str(r, 0, 0)))
        rc = TL_ENOMEM;
    else
        *answered = (int)st_getll(r, 0, 1);
    PQclear(r);
    return rc;
}

int store_mod_rules_status(struct store *s, char **json, struct tl_errinfo *ei)
{
    return st_one_text(s,
                       "SELECT json_build_object('processes', COALESCE(json_agg(" RULES_LOAD_JSON
                       " ORDER BY l.id DESC), '[]'))::text FROM (SELECT DISTINCT ON (process) *"
                       "   FROM mod_rules_loads ORDER BY process, id DESC) l"
                       " WHERE l.at > now() - interval '30 days'",
                       0, NULL, json, "rules status", ei);
}

int store_mod_rules_record(struct store *s, const struct store_mod_rules_load *l,
                           struct tl_errinfo *ei)
{
    char rb[32], nb[32], lb[32], lnb[32], cb[32];
    const char *v[9] = {l->process,
                        l->reload_id > 0 ? st_ll(rb, l->reload_id) : NULL,
                        l->ok ? "true" : "false",
                        l->file,
                        st_ll(nb, (long long)l->rules),
                        l->loaded_at > 0 ? st_dbl(lb, l->loaded_at) : NULL,
                        l->ok ? NULL : l->error,
                        l->ok ? NULL : st_ll(lnb, l->line),
                        l->ok ? NULL : st_ll(cb, l->column)};
    int rc = st_ready(s, ei);
    if (rc == TL_OK)
        rc = st_exec(s,
                     "INSERT INTO mod_rules_loads (process, reload_id, ok, file, rules, loaded_at,"
                     " error, error_line, error_column) VALUES ($1::text, $2::bigint, $3::boolean,"
                     " $4::text, $5::int, to_timestamp($6::float8), $7::text, $8::int, $9::int)",
                     9, v, NULL, ei);
    return rc;
}

int store_mod_rules_wait(struct store *s, unsigned long *listening, long timeout_ms,
                         long long *latest, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    int notified = 0, rc;
    *latest = -1;
    if ((rc = st_ready(s, ei)) != TL_OK)
        return rc;
    if (*listening != s->generation + 1) { /* a new connection: LISTEN, then read */
        if ((rc = st_exec_planned(s, "LISTEN tipline_mod_rules", 0, NULL, NULL, ei)) != TL_OK)
            return rc;
        *listening = s->generation + 1;
        notified = 1;
    } else {
        struct pollfd pfd = {.fd = PQsocket(s->conn), .events = POLLIN};
        if (pfd.fd < 0)
            return tl_errf(ei, TL_EDBDOWN, "no database socket");
        if (poll(&pfd, 1, (int)timeout_ms) > 0 && !PQconsumeInput(s->conn))
            return tl_errf(ei, TL_EDBDOWN, "%s", PQerrorMessage(s->conn));
        for (PGnotify *n; (n = PQnotifies(s->conn)) != NULL; PQfreemem(n))
            notified = 1;
    }
    if (!notified)
        return TL_OK;
    rc = st_exec(s, "SELECT COALESCE(max(id), 0) FROM mod_rules_reloads", 0, NULL, &r, ei);
    if (rc == TL_OK)
        *latest = st_getll(r, 0, 0);
    PQclear(r);
    return rc;
}
