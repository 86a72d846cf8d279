/* storage/store_accounts.c - the web API's accounts (roles, queues and their members,
 * categories routed to queues), bearer tokens and console sessions: who may call, as
 * what, and what each queue holds. */
#include "store_int.h"
#include "store_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* ---- accounts, tokens, sessions ---- */

static const char *const roles[] = {"analyst", "moderator", "exporter", "admin"};

int store_role_known(const char *role)
{
    for (size_t i = 0; role && i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

int store_account_add(struct store *s, const char *actor, const char *name, const char *role,
                      const char *token_sha256, struct tl_errinfo *ei)
{
    const char *v[4] = {actor, name, role, token_sha256};
    if (!store_role_known(role))
        return tl_errf(ei, TL_EINVAL, "unknown role '%s'", role ? role : "");
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "WITH a AS (INSERT INTO accounts (name, role) VALUES ($2::text, $3::text)"
                 "   RETURNING name, role),"
                 " t AS (INSERT INTO api_tokens (account, token_sha256, label)"
                 "   SELECT name, $4::text, 'cli' FROM a)"
                 " INSERT INTO audit_log (actor, action, object, after)"
                 " SELECT $1::text, 'account_add', 'account:' || a.name,"
                 "   jsonb_build_object('role', a.role) FROM a",
                 4, v, NULL, ei);
    if (rc == TL_EDB && ei && strcmp(ei->sqlstate, "23505") == 0)
        return tl_errf(ei, TL_ECONFLICT, "account %s exists", name);
    if (rc == TL_EDB && ei && strncmp(ei->sqlstate, "23", 2) == 0)
        return tl_errf(ei, TL_EINVAL, "account %s refused: %s", name, ei->msg);
    return rc;
}

int store_account_list(struct store *s, char **json, struct tl_errinfo *ei)
{
    return st_one_text(
        s,
        "SELECT jsonb_build_object('accounts', COALESCE(jsonb_agg(jsonb_build_object("
        "   'name', a.name, 'role', a.role, 'disabled', a.disabled,"
        "   'created_at', web_iso(a.created_at),"
        "   'queues', (SELECT COALESCE(jsonb_agg(m.queue ORDER BY m.queue), '[]')"
        "     FROM queue_members m WHERE m.account = a.name),"
        "   'last_used_at', (SELECT web_iso(max(t.last_used_at)) FROM api_tokens t"
        "     WHERE t.account = a.name)) ORDER BY a.name), '[]'))::text"
        " FROM accounts a",
        0, NULL, json, "no accounts", ei);
}

int store_account_disable(struct store *s, const char *actor, const char *name,
                          struct tl_errinfo *ei)
{
    const char *v[2] = {actor, name};
    PGresult *r = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "WITH a AS (UPDATE accounts SET disabled = true WHERE name = $2::text"
                 "   RETURNING name),"
                 " d AS (DELETE FROM web_sessions w USING a WHERE w.account = a.name),"
                 " l AS (INSERT INTO audit_log (actor, action, object, before, after)"
                 "   SELECT $1::text, 'account_disable', 'account:' || a.name,"
                 "     jsonb_build_object('disabled', false), jsonb_build_object('disabled', true)"
                 "   FROM a)"
                 " SELECT count(*) FROM a",
                 2, v, &r, ei);
    if (rc)
        return rc;
    if (st_getll(r, 0, 0) == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no account %s", name);
    PQclear(r);
    return rc;
}

int store_queue_member_add(struct store *s, const char *actor, const char *queue,
                           const char *account, struct tl_errinfo *ei)
{
    const char *v[3] = {actor, queue, account};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "WITH m AS (INSERT INTO queue_members (queue, account)"
                 "   VALUES ($2::text, $3::text) ON CONFLICT DO NOTHING RETURNING queue, account)"
                 " INSERT INTO audit_log (actor, action, object, after)"
                 " SELECT $1::text, 'queue_member_add', 'queue:' || m.queue,"
                 "   jsonb_build_object('account', m.account) FROM m",
                 3, v, NULL, ei);
    if (rc == TL_EDB && ei && strcmp(ei->sqlstate, "23503") == 0)
        return tl_errf(ei, TL_ENOTFOUND, "no queue %s or no account %s", queue, account);
    return rc;
}

int store_queue_add(struct store *s, const char *actor, const char *name, int restricted,
                    struct tl_errinfo *ei)
{
    const char *v[3] = {actor, name, restricted ? "true" : "false"};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "WITH o AS (SELECT restricted FROM queues WHERE name = $2::text),"
                 " q AS (INSERT INTO queues (name, restricted) VALUES ($2::text, $3::boolean)"
                 "   ON CONFLICT (name) DO UPDATE SET restricted = excluded.restricted"
                 "   RETURNING name, restricted)"
                 " INSERT INTO audit_log (actor, action, object, before, after)"
                 " SELECT $1::text, 'queue_set', 'queue:' || q.name,"
                 "   (SELECT jsonb_build_object('restricted', o.restricted) FROM o),"
                 "   jsonb_build_object('restricted', q.restricted) FROM q",
                 3, v, NULL, ei);
    if (rc == TL_EDB && ei && strcmp(ei->sqlstate, "23514") == 0)
        return tl_errf(ei, TL_EINVAL, "a queue name is 1 to 32 of a-z, 0-9, _ and -");
    return rc;
}

int store_category_route(struct store *s, const char *actor, const char *category,
                         const char *queue, int moving, struct tl_errinfo *ei)
{
    const char *v[4] = {actor, category, queue, moving ? "true" : "false"};
    PGresult *r = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Open reports of the category follow it to the new queue; decided ones stay. */
    rc = st_exec(s,
                 "WITH o AS (SELECT queue, moving FROM category_queue WHERE category = $2::text),"
                 " c AS (INSERT INTO category_queue (category, queue, moving)"
                 "   VALUES ($2::text, $3::text, $4::boolean) ON CONFLICT (category) DO UPDATE"
                 "   SET queue = excluded.queue, moving = excluded.moving RETURNING *),"
                 " m AS (UPDATE reports r SET queue = c.queue FROM c"
                 "   WHERE r.category = c.category AND r.status IN ('new', 'needs_info')"
                 "   AND r.queue <> c.queue RETURNING r.id),"
                 " a AS (INSERT INTO audit_log (actor, action, object, before, after)"
                 "   SELECT $1::text, 'route', 'category:' || c.category,"
                 "     (SELECT to_jsonb(o) FROM o),"
                 "     jsonb_build_object('queue', c.queue, 'moving', c.moving,"
                 "       'moved', (SELECT count(*) FROM m)) FROM c)"
                 " SELECT count(*) FROM m",
                 4, v, &r, ei);
    if (rc == TL_EDB && ei && strcmp(ei->sqlstate, "23503") == 0)
        return tl_errf(ei, TL_ENOTFOUND, "no queue %s (tipline queue add %s)", queue, queue);
    if (rc)
        return rc;
    PQclear(r);
    return TL_OK;
}

int store_queue_list(struct store *s, char **json, struct tl_errinfo *ei)
{
    return st_one_text(
        s,
        "SELECT json_build_object('queues', COALESCE(json_agg(json_build_object("
        "   'name', q.name, 'restricted', q.restricted,"
        "   'members', (SELECT COALESCE(json_agg(m.account ORDER BY m.account), '[]')"
        "     FROM queue_members m WHERE m.queue = q.name),"
        "   'categories', (SELECT COALESCE(json_agg(c.category ORDER BY c.category),"
        "     '[]') FROM category_queue c WHERE c.queue = q.name),"
        "   'open', (SELECT count(*) FROM reports r WHERE r.queue = q.name"
        "     AND r.status = 'new')) ORDER BY q.name), '[]'))::text FROM queues q",
        0, NULL, json, "", ei);
}

static int principal_from(PGresult *r, struct store_principal *p, struct tl_errinfo *ei)
{
    memset(p, 0, sizeof(*p));
    if (PQntuples(r) == 0)
        return tl_errf(ei, TL_EAUTH, "unknown or expired credentials");
    tl_strlcpy(p->account, PQgetvalue(r, 0, 0), sizeof(p->account));
    tl_strlcpy(p->role, PQgetvalue(r, 0, 1), sizeof(p->role));
    tl_strlcpy(p->csrf, PQgetvalue(r, 0, 2), sizeof(p->csrf));
    p->valid_ms = PQgetisnull(r, 0, 5) ? -1 : strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    return TL_OK;
}

/* The credential checks answer (name, role, csrf, key, stale, valid_ms): when stale, sql ($1 =
 * key) records the use. */
static int touch_if_stale(struct store *s, const PGresult *r, const char *sql,
                          struct tl_errinfo *ei)
{
    if (PQgetvalue(r, 0, 4)[0] != 't')
        return TL_OK;
    const char *kv[1] = {PQgetvalue(r, 0, 3)};
    return st_exec(s, sql, 1, kv, NULL, ei);
}

int store_auth_token(struct store *s, const char *token_sha256, struct store_principal *p,
                     struct tl_errinfo *ei)
{
    const char *v[1] = {token_sha256};
    PGresult *r = NULL;
    memset(p, 0, sizeof(*p));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* last_used_at is written at most once a minute per token, by a second statement:
     * the check itself writes nothing (a statement that may write opens the table and
     * its indexes for writing on every call). */
    rc = st_exec(s,
                 "SELECT a.name, a.role, '', t.id, t.last_used_at IS NULL"
                 "   OR t.last_used_at < now() - interval '1 minute',"
                 "   floor(extract(epoch FROM t.expires_at - now()) * 1000)::bigint"
                 " FROM api_tokens t JOIN accounts a ON a.name = t.account"
                 " WHERE t.token_sha256 = $1::text AND NOT a.disabled AND t.revoked_at IS NULL"
                 "   AND (t.expires_at IS NULL OR t.expires_at > now())",
                 1, v, &r, ei);
    if (rc)
        return rc;
    rc = principal_from(r, p, ei);
    if (rc == TL_OK)
        rc = touch_if_stale(s, r,
                            "UPDATE api_tokens SET last_used_at = now() WHERE id = $1::bigint"
                            " AND (last_used_at IS NULL OR last_used_at < now() - interval"
                            " '1 minute')",
                            ei);
    PQclear(r);
    return rc;
}

int store_session_create(struct store *s, const char *account, const char *sid_sha256,
                         const char *csrf, long idle_minutes, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[4] = {account, sid_sha256, csrf, st_ll(ib, idle_minutes)};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Expired sessions of everyone are swept here, at the rare write. */
    return st_exec(s,
                   "WITH d AS (DELETE FROM web_sessions"
                   "   WHERE last_seen < now() - $4::bigint * interval '1 minute'),"
                   " a AS (INSERT INTO audit_log (actor, action, object)"
                   "   VALUES ($1::text, 'login', 'account:' || $1::text))"
                   " INSERT INTO web_sessions (sid_sha256, account, csrf)"
                   " VALUES ($2::text, $1::text, $3::text)",
                   4, v, NULL, ei);
}

int store_auth_session(struct store *s, const char *sid_sha256, long idle_minutes,
                       struct store_principal *p, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[2] = {sid_sha256, st_ll(ib, idle_minutes)};
    PGresult *r = NULL;
    memset(p, 0, sizeof(*p));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* As for tokens: last_seen is written when it is 30 s old or more (an idle session
     * ends 30 s early at worst), not on every request of a working console. */
    rc = st_exec(s,
                 "SELECT a.name, a.role, w.csrf, w.sid_sha256,"
                 "   w.last_seen < now() - interval '30 seconds',"
                 "   floor(extract(epoch FROM w.created_at + interval '12 hours' - now())"
                 "     * 1000)::bigint"
                 " FROM web_sessions w JOIN accounts a ON a.name = w.account"
                 " WHERE w.sid_sha256 = $1::text AND NOT a.disabled"
                 "   AND w.last_seen > now() - $2::bigint * interval '1 minute'"
                 "   AND w.created_at > now() - interval '12 hours'",
                 2, v, &r, ei);
    if (rc)
        return rc;
    rc = principal_from(r, p, ei);
    if (rc == TL_OK)
        rc = touch_if_stale(
            s, r, "UPDATE web_sessions SET last_seen = now() WHERE sid_sha256 = $1::text", ei);
    PQclear(r);
    return rc;
}

int store_session_delete(struct store *s, const char *sid_sha256, struct tl_errinfo *ei)
{
    const char *v[1] = {sid_sha256};
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    return st_exec(s,
                   "WITH d AS (DELETE FROM web_sessions WHERE sid_sha256 = $1::text"
                   "   RETURNING account)"
                   " INSERT INTO audit_log (actor, action, object)"
                   " SELECT account, 'logout', 'account:' || account FROM d",
                   1, v, NULL, ei);
}
