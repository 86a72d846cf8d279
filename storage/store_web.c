/* storage/store_web.c - what the analysts' web API (web/) asks of the database about
 * reports and incidents: the report list and documents (built as JSON by the SQL
 * functions of storage/schema/), claims and leases, decisions, follow-ups, media, bans,
 * the GeoJSON export and the audit log. Queue visibility (restricted queues) is checked
 * in every statement that reads or changes a report. Accounts, tokens and sessions are
 * store_accounts.c's; the live events' poll is store_events.c's. */
#include "store_int.h"
#include "store_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* A NULL parameter when the who's points are exact, else the decimals. */
static const char *decimals_param(const struct store_who *who, char *buf)
{
    return who->round_decimals < 0 ? NULL : st_ll(buf, who->round_decimals);
}

/* $a = id when id_or_ref is all digits (else NULL), $b = the text as a public ref. */
static void ref_params(const char *id_or_ref, char *buf, const char **v)
{
    long long id;
    v[0] = tl_parse_ll(id_or_ref, &id) == TL_OK && id > 0 ? st_ll(buf, id) : NULL;
    v[1] = id_or_ref;
}

/* ---- reports ---- */

int store_web_reports(struct store *s, const struct store_who *who,
                      const struct store_web_filter *f, char **json, struct tl_errinfo *ei)
{
    char db[32], b[4][32], mc[32], au[32], ai[32], lb[32];
    struct tl_buf out;
    PGresult *r = NULL;
    long limit = f->limit > 0 ? f->limit : 50;
    const char *v[15] = {
        who->account,
        f->status,
        f->category,
        f->since,
        f->until,
        f->has_bbox ? st_dbl(b[0], f->bbox[0]) : NULL,
        f->has_bbox ? st_dbl(b[1], f->bbox[1]) : NULL,
        f->has_bbox ? st_dbl(b[2], f->bbox[2]) : NULL,
        f->has_bbox ? st_dbl(b[3], f->bbox[3]) : NULL,
        f->has_photo < 0 ? NULL
        : f->has_photo   ? "true"
                         : "false",
        f->min_corroborations < 0 ? NULL : st_ll(mc, f->min_corroborations),
        f->has_after ? st_ll(au, f->after_us) : NULL,
        f->has_after ? st_ll(ai, f->after_id) : NULL,
        st_ll(lb, limit + 1),
        decimals_param(who, db),
    };
    *json = NULL;
    tl_buf_init(&out, 0);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* One more row than asked tells whether there is a next page. Planned per call: the
     * best plan depends on which filters are set. */
    rc = st_exec_planned(
        s,
        "SELECT web_report_summary(r, $15::int,"
        "   ARRAY(SELECT unnest(web_queues_for($1::text))))::text,"
        " (extract(epoch FROM r.received_at) * 1000000)::bigint, r.id"
        " FROM reports r WHERE r.queue = ANY (ARRAY(SELECT unnest(web_queues_for($1::text))))"
        " AND (CASE WHEN $2::text IS NULL THEN r.status <> 'held' ELSE CASE $2::text"
        "   WHEN 'claimed' THEN r.status = 'new' AND r.lease_until > now()"
        "   WHEN 'unclaimed' THEN r.status = 'new'"
        "     AND (r.lease_until IS NULL OR r.lease_until <= now())"
        "   ELSE r.status = $2::text END END)"
        " AND ($3::text IS NULL OR r.category = $3::text)"
        " AND ($4::timestamptz IS NULL OR r.received_at >= $4::timestamptz)"
        " AND ($5::timestamptz IS NULL OR r.received_at < $5::timestamptz)"
        " AND ($6::float8 IS NULL OR r.point::geometry"
        "   && ST_MakeEnvelope($6::float8, $7::float8, $8::float8, $9::float8, 4326))"
        " AND ($10::boolean IS NULL"
        "   OR EXISTS (SELECT 1 FROM media m WHERE m.report_id = r.id) = $10::boolean)"
        " AND ($11::int IS NULL OR (r.corroborations >= $11::int AND (web_report_seen(r,"
        "   ARRAY(SELECT unnest(web_queues_for($1::text))))).c >= $11::int))"
        " AND ($12::bigint IS NULL OR (r.received_at, r.id) <"
        "   ('epoch'::timestamptz + $12::bigint * interval '1 microsecond', $13::bigint))"
        " ORDER BY r.received_at DESC, r.id DESC LIMIT $14::bigint",
        15, v, &r, ei);
    if (rc)
        return rc;
    int n = PQntuples(r), shown = n > limit ? (int)limit : n;
    int e = tl_buf_append(&out, "{\"items\":[", 10);
    for (int i = 0; i < shown && !e; i++) {
        if (i)
            e = tl_buf_append(&out, ",", 1);
        if (!e)
            e = tl_buf_append(&out, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0));
    }
    if (!e && n > limit)
        e = tl_buf_printf(&out, "],\"next\":\"%s_%s\"}", PQgetvalue(r, shown - 1, 1),
                          PQgetvalue(r, shown - 1, 2));
    else if (!e)
        e = tl_buf_append(&out, "],\"next\":null}", 14);
    PQclear(r);
    if (e) {
        tl_buf_release(&out);
        return TL_ENOMEM;
    }
    *json = (char *)tl_buf_steal(&out, NULL);
    return TL_OK;
}

/* The SQL functions (storage/schema/) say what went wrong by SQLSTATE. */
static int fn_err(int rc, struct tl_errinfo *ei)
{
    if (rc != TL_EDB || !ei)
        return rc;
    if (strcmp(ei->sqlstate, "P0002") == 0)
        return TL_ENOTFOUND;
    if (strcmp(ei->sqlstate, "TL409") == 0)
        return TL_ECONFLICT;
    if (strcmp(ei->sqlstate, "22023") == 0)
        return TL_EINVAL;
    if (strcmp(ei->sqlstate, "42501") == 0)
        return TL_EFORBIDDEN;
    return rc;
}

int st_fn_err(int rc, struct tl_errinfo *ei)
{
    return fn_err(rc, ei);
}

int store_web_report(struct store *s, const struct store_who *who, const char *id_or_ref,
                     int audit_view, char **json, struct tl_errinfo *ei)
{
    char ib[32], db[32];
    const char *v[5];
    *json = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    v[3] = decimals_param(who, db);
    v[4] = audit_view ? "true" : "false";
    /* The view of a report shows its reporter's history (counters, and the reporter's
     * latest other reports the caller may see): audited in the same call. */
    return st_one_text(
        s, "SELECT web_report_doc($1::bigint, $2::text, $3::text, $4::int, $5::boolean)", 5, v,
        json, "no such report", ei);
}

int store_web_report_reporter(struct store *s, const struct store_who *who, const char *id_or_ref,
                              char **json, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[3];
    *json = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    return st_one_text(s, "SELECT web_report_reporter($1::bigint, $2::text, $3::text)", 3, v, json,
                       "no such report", ei);
}

int store_web_claim(struct store *s, const struct store_who *who, const char *queue, long lease_s,
                    long long *id, char **json, struct tl_errinfo *ei)
{
    char lb[32], db[32];
    const char *v[4] = {who->account, st_ll(lb, lease_s > 0 ? lease_s : 1), queue,
                        decimals_param(who, db)};
    PGresult *r = NULL;
    *id = 0;
    *json = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Pick (the best of each of the caller's queues' first claimable rows, skipping rows
     * another analyst is locking right now), lease, audit the claim and the view,
     * render: one call of web_claim. */
    rc = fn_err(
        st_exec(s, "SELECT report_id, doc FROM web_claim($1::text, $2::bigint, $3::text, $4::int)",
                4, v, &r, ei),
        ei);
    if (rc)
        return rc;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        *id = st_getll(r, 0, 0);
        if (!PQgetisnull(r, 0, 1) && !(*json = tl_strdup(PQgetvalue(r, 0, 1))))
            rc = TL_ENOMEM;
    }
    PQclear(r);
    return rc;
}

/* The lease statements: 1 row = done; none = not the holder (or no such report). */
static int lease_op(struct store *s, const struct store_who *who, const char *id_or_ref,
                    const char *sql, long lease_s, char **json, struct tl_errinfo *ei)
{
    char ib[32], lb[32];
    const char *v[4];
    PGresult *r = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    v[3] = st_ll(lb, lease_s > 0 ? lease_s : 1);
    if (json)
        *json = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, sql, 4, v, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no such report");
    else if (PQgetisnull(r, 0, 0))
        rc = tl_errf(ei, TL_ECONFLICT, "the lease of report %s is not held by %s", id_or_ref,
                     who->account);
    else if (json && !(*json = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

/* x: the report if visible; u: the change if the caller holds its lease (an expired
 * lease nobody took since still counts as held). */
#define LEASE_TARGET                                                                               \
    "WITH x AS (SELECT r.id, r.claimed_by, r.lease_until FROM reports r"                           \
    "   WHERE (r.id = $1::bigint OR r.public_ref = $2::text)"                                      \
    "     AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for($3::text))))"                      \
    "   ORDER BY (r.id = $1::bigint) DESC LIMIT 1 FOR UPDATE),"

int store_web_renew(struct store *s, const struct store_who *who, const char *id_or_ref,
                    long lease_s, char **json, struct tl_errinfo *ei)
{
    return lease_op(
        s, who, id_or_ref,
        LEASE_TARGET
        " u AS (UPDATE reports r SET lease_until = now() + $4::bigint * interval"
        "   '1 second' FROM x WHERE r.id = x.id AND r.status = 'new'"
        "   AND r.claimed_by = $3::text RETURNING r.id, r.lease_until),"
        " a AS (INSERT INTO audit_log (actor, action, object, before, after)"
        "   SELECT $3::text, 'renew', 'report:' || u.id,"
        "     jsonb_build_object('lease_until', x.lease_until),"
        "     jsonb_build_object('lease_until', u.lease_until) FROM u JOIN x USING (id))"
        " SELECT (SELECT json_build_object('lease_until', web_iso(u.lease_until))::text"
        "   FROM u) FROM x",
        lease_s, json, ei);
}

int store_web_release(struct store *s, const struct store_who *who, const char *id_or_ref,
                      struct tl_errinfo *ei)
{
    return lease_op(s, who, id_or_ref,
                    LEASE_TARGET
                    " u AS (UPDATE reports r SET claimed_by = NULL, lease_until = NULL FROM x"
                    "   WHERE r.id = x.id AND r.claimed_by = $3::text AND $4::bigint > 0"
                    "   RETURNING r.id),"
                    " a AS (INSERT INTO audit_log (actor, action, object, before, after)"
                    "   SELECT $3::text, 'release', 'report:' || u.id,"
                    "     jsonb_build_object('claimed_by', x.claimed_by, 'lease_until',"
                    "       x.lease_until), jsonb_build_object('claimed_by', NULL)"
                    "   FROM u JOIN x USING (id))"
                    " SELECT (SELECT 'ok' FROM u) FROM x",
                    1, NULL, ei);
}

static int decision_known(const char *d)
{
    static const char *const decisions[] = {"confirmed", "rejected", "duplicate", "needs_info",
                                            "escalated"};
    for (size_t i = 0; d && i < sizeof(decisions) / sizeof(decisions[0]); i++)
        if (strcmp(d, decisions[i]) == 0)
            return 1;
    return 0;
}

/* The parameters of web_decide and web_decide_next: $1 id, $2 ref, $3 account,
 * $4 decision, $5 note, $6 duplicate_of, $7 override, $8 decimals; then the connection
 * made ready. */
#define DECIDE_PARAMS 8

static int decide_params(struct store *s, const struct store_decision *d,
                         const struct store_who *who, char bufs[3][32], const char **v,
                         struct tl_errinfo *ei)
{
    if (!decision_known(d->decision))
        return tl_errf(ei, TL_EINVAL, "unknown decision '%s'", d->decision ? d->decision : "");
    if (!d->analyst || !*d->analyst || !d->id_or_ref || !*d->id_or_ref)
        return tl_errf(ei, TL_EINVAL, "a report and an analyst are required");
    if (d->duplicate_of > 0 && strcmp(d->decision, "duplicate") != 0)
        return tl_errf(ei, TL_EINVAL, "duplicate_of goes with 'duplicate' only");
    ref_params(d->id_or_ref, bufs[0], v);
    v[2] = d->analyst;
    v[3] = d->decision;
    v[4] = d->note;
    v[5] = d->duplicate_of > 0 ? st_ll(bufs[1], d->duplicate_of) : NULL;
    v[6] = d->override ? "true" : "false";
    v[7] = who ? decimals_param(who, bufs[2]) : NULL;
    return st_ready(s, ei);
}

/* store_report_decide and store_web_decide: one call of web_decide. */
static int decide(struct store *s, const struct store_decision *d, const struct store_who *who,
                  long long *id, char **json, struct tl_errinfo *ei)
{
    char bufs[3][32];
    const char *v[DECIDE_PARAMS + 1];
    PGresult *r = NULL;
    if (id)
        *id = 0;
    if (json)
        *json = NULL;
    int rc = decide_params(s, d, who, bufs, v, ei);
    if (rc)
        return rc;
    v[DECIDE_PARAMS] = !json ? NULL : d->minimal ? "decision" : "report";
    rc = fn_err(st_exec(s,
                        "SELECT report_id, doc FROM web_decide($1::bigint, $2::text, $3::text,"
                        " $4::text, $5::text, $6::bigint, $7::boolean, $8::int, $9::text)",
                        DECIDE_PARAMS + 1, v, &r, ei),
                ei);
    if (rc)
        return rc;
    if (id)
        *id = st_getll(r, 0, 0);
    if (json && PQgetisnull(r, 0, 1))
        rc = tl_errf(ei, TL_ENOTFOUND, "no such report");
    else if (json && !(*json = tl_strdup(PQgetvalue(r, 0, 1))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_report_decide(struct store *s, const struct store_decision *d, long long *id,
                        struct tl_errinfo *ei)
{
    return decide(s, d, NULL, id, NULL, ei);
}

int store_web_decide(struct store *s, const struct store_who *who, const struct store_decision *d,
                     char **json, struct tl_errinfo *ei)
{
    return decide(s, d, who, NULL, json, ei);
}

int store_web_place_pick(struct store *s, const struct store_who *who, const char *id_or_ref,
                         long idx, char **json, struct tl_errinfo *ei)
{
    char ib[32], xb[32], db[32];
    const char *v[5];
    PGresult *r = NULL;
    *json = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    v[3] = st_ll(xb, idx);
    v[4] = decimals_param(who, db);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc =
        fn_err(st_exec(s, "SELECT web_place_pick($1::bigint, $2::text, $3::text, $4::int, $5::int)",
                       5, v, &r, ei),
               ei);
    if (rc == TL_OK && !(*json = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_web_decide_next(struct store *s, const struct store_who *who,
                          const struct store_decision *d, const char *queue, long lease_s,
                          long long *next_id, char **json, struct tl_errinfo *ei)
{
    char bufs[3][32], lb[32];
    const char *v[DECIDE_PARAMS + 2];
    PGresult *r = NULL;
    *next_id = 0;
    *json = NULL;
    int rc = decide_params(s, d, who, bufs, v, ei);
    if (rc)
        return rc;
    v[DECIDE_PARAMS] = st_ll(lb, lease_s > 0 ? lease_s : 1);
    v[DECIDE_PARAMS + 1] = queue;
    rc = fn_err(st_exec(s,
                        "SELECT doc, next_id, next_doc FROM web_decide_next($1::bigint, $2::text,"
                        " $3::text, $4::text, $5::text, $6::bigint, $7::boolean, $8::int,"
                        " $9::bigint, $10::text)",
                        DECIDE_PARAMS + 2, v, &r, ei),
                ei);
    if (rc)
        return rc;
    if (!PQgetisnull(r, 0, 1))
        *next_id = st_getll(r, 0, 1);
    /* Two documents web_decide_next rendered, side by side. */
    *json = tl_asprintf("{\"decision\":%s,\"next\":%s}", PQgetvalue(r, 0, 0),
                        PQgetisnull(r, 0, 2) ? "null" : PQgetvalue(r, 0, 2));
    if (!*json)
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_web_reopen(struct store *s, const struct store_who *who, const char *id_or_ref,
                     long lease_s, char **json, struct tl_errinfo *ei)
{
    char ib[32], lb[32], db[32];
    const char *v[5];
    PGresult *r = NULL;
    *json = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    v[3] = st_ll(lb, lease_s > 0 ? lease_s : 1);
    v[4] = decimals_param(who, db);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = fn_err(st_exec(s,
                        "SELECT doc FROM web_reopen($1::bigint, $2::text, $3::text, $4::bigint,"
                        " $5::int)",
                        5, v, &r, ei),
                ei);
    if (rc)
        return rc;
    if (PQgetisnull(r, 0, 0))
        rc = tl_errf(ei, TL_ENOTFOUND, "no such report");
    else if (!(*json = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_web_followup(struct store *s, const struct store_who *who, const char *id_or_ref,
                       const char *question, char **json, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[4];
    PGresult *r = NULL;
    ref_params(id_or_ref, ib, v);
    v[2] = who->account;
    v[3] = question;
    *json = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* Refused (NULL) while another analyst holds a live lease on the report. */
    rc = st_exec(s,
                 "WITH x AS (SELECT r.id, r.claimed_by, r.lease_until FROM reports r"
                 "   WHERE (r.id = $1::bigint OR r.public_ref = $2::text)"
                 "     AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for($3::text))))"
                 "   ORDER BY (r.id = $1::bigint) DESC LIMIT 1),"
                 " f AS (INSERT INTO followups (report_id, asked_by, question)"
                 "   SELECT x.id, $3::text, $4::text FROM x"
                 "   WHERE x.claimed_by IS NULL OR x.claimed_by = $3::text"
                 "     OR x.lease_until IS NULL OR x.lease_until <= now() RETURNING *),"
                 " a AS (INSERT INTO audit_log (actor, action, object, after)"
                 "   SELECT $3::text, 'followup', 'report:' || f.report_id,"
                 "     jsonb_build_object('followup', f.id, 'question', f.question) FROM f)"
                 " SELECT (SELECT json_build_object('followup', web_followup_doc(f::followups))"
                 "   ::text FROM f) FROM x",
                 4, v, &r, ei);
    if (rc == TL_EDB && ei && strcmp(ei->sqlstate, "23514") == 0)
        return tl_errf(ei, TL_EINVAL, "a question is 1 to 2000 characters");
    if (rc)
        return rc;
    if (PQntuples(r) == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no such report");
    else if (PQgetisnull(r, 0, 0))
        rc = tl_errf(ei, TL_ECONFLICT, "report %s is leased to another analyst", id_or_ref);
    else if (!(*json = tl_strdup(PQgetvalue(r, 0, 0))))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_web_media(struct store *s, const struct store_who *who, long long media_id, char **mime,
                    unsigned char **bytes, size_t *len, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[2] = {st_ll(ib, media_id), who->account};
    PGresult *r = NULL;
    *mime = NULL;
    *bytes = NULL;
    *len = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "WITH m AS (SELECT m.id, m.report_id, m.mime, m.bytes FROM media m"
                 "   JOIN reports r ON r.id = m.report_id"
                 "   WHERE m.id = $1::bigint AND m.bytes IS NOT NULL"
                 "     AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for($2::text))))),"
                 " a AS (INSERT INTO audit_log (actor, action, object, after)"
                 "   SELECT $2::text, 'view_media', 'media:' || m.id,"
                 "     jsonb_build_object('report', m.report_id) FROM m)"
                 " SELECT COALESCE(mime, 'application/octet-stream'), bytes FROM m",
                 2, v, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 0) {
        rc = tl_errf(ei, TL_ENOTFOUND, "no such media");
        goto out;
    }
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 1), &n);
    if (!raw) {
        rc = TL_ENOMEM;
        goto out;
    }
    *bytes = malloc(n ? n : 1);
    *mime = tl_strdup(PQgetvalue(r, 0, 0));
    if (!*bytes || !*mime) {
        PQfreemem(raw);
        free(*bytes);
        free(*mime);
        *bytes = NULL;
        *mime = NULL;
        rc = TL_ENOMEM;
        goto out;
    }
    memcpy(*bytes, raw, n);
    *len = n;
    PQfreemem(raw);
out:
    PQclear(r);
    return rc;
}

int store_web_ban(struct store *s, const char *actor, const char *pseudonym_prefix, int ban,
                  const char *reason, char **json, struct tl_errinfo *ei)
{
    const char *v[4] = {actor, pseudonym_prefix, ban ? "true" : "false", reason};
    PGresult *r = NULL;
    *json = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* A prefix that names more than one reporter changes nobody. */
    rc = st_exec(s,
                 "WITH p AS (SELECT pseudonym, banned, ban_reason FROM reporters"
                 "   WHERE pseudonym LIKE $2::text || '%' LIMIT 2),"
                 " one AS (SELECT * FROM p WHERE (SELECT count(*) FROM p) = 1),"
                 " u AS (UPDATE reporters r SET banned = $3::boolean,"
                 "   banned_at = CASE WHEN $3::boolean THEN now() END,"
                 "   ban_reason = CASE WHEN $3::boolean THEN $4::text END"
                 "   FROM one WHERE r.pseudonym = one.pseudonym RETURNING r.*),"
                 " a AS (INSERT INTO audit_log (actor, action, object, before, after)"
                 "   SELECT $1::text, CASE WHEN $3::boolean THEN 'ban' ELSE 'unban' END,"
                 "     'reporter:' || left(u.pseudonym, 12),"
                 "     jsonb_build_object('banned', one.banned, 'reason', one.ban_reason),"
                 "     jsonb_build_object('banned', u.banned, 'reason', u.ban_reason)"
                 "   FROM u JOIN one USING (pseudonym))"
                 " SELECT (SELECT count(*) FROM p), (SELECT json_build_object('reporter',"
                 "   web_reporter_doc(u::reporters, web_queues_for($1::text), false))::text"
                 "   FROM u)",
                 4, v, &r, ei);
    if (rc)
        return rc;
    long long n = st_getll(r, 0, 0);
    if (n == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no reporter %s", pseudonym_prefix);
    else if (n > 1)
        rc = tl_errf(ei, TL_ECONFLICT, "%s names more than one reporter", pseudonym_prefix);
    else if (!(*json = st_str(r, 0, 1)))
        rc = TL_ENOMEM;
    PQclear(r);
    return rc;
}

int store_web_export(struct store *s, const struct store_who *who, const struct store_web_filter *f,
                     char **json, struct tl_errinfo *ei)
{
    char db[32], b[4][32], lb[32];
    const char *v[9] = {
        who->account,
        f->since,
        f->until,
        f->has_bbox ? st_dbl(b[0], f->bbox[0]) : NULL,
        f->has_bbox ? st_dbl(b[1], f->bbox[1]) : NULL,
        f->has_bbox ? st_dbl(b[2], f->bbox[2]) : NULL,
        f->has_bbox ? st_dbl(b[3], f->bbox[3]) : NULL,
        st_ll(lb, f->limit > 0 ? f->limit : 10000),
        decimals_param(who, db),
    };
    *json = NULL;
    /* No reporter and no text: a feed for map tools. */
    return st_one_text(
        s,
        "SELECT json_build_object('type', 'FeatureCollection', 'features',"
        " COALESCE(json_agg(json_build_object('type', 'Feature', 'id', x.id,"
        "   'geometry', json_build_object('type', 'Point', 'coordinates',"
        "     json_build_array((x.p->>'lon')::numeric, (x.p->>'lat')::numeric)),"
        "   'properties', json_build_object('ref', x.public_ref, 'category', x.category,"
        "     'received_at', web_iso(x.received_at), 'observed_at', web_iso(x.observed_at),"
        "     'point_source', x.point_source, 'accuracy_m', x.accuracy_m,"
        "     'corroborations', x.corroborations, 'rounded', (x.p->>'rounded')::boolean))"
        "   ORDER BY x.received_at DESC, x.id DESC), '[]'))::text"
        " FROM (SELECT r.*, web_point(r.point, $9::int) AS p FROM reports r"
        "   WHERE r.status = 'confirmed' AND r.point IS NOT NULL"
        "   AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for($1::text))))"
        "   AND ($2::timestamptz IS NULL OR r.received_at >= $2::timestamptz)"
        "   AND ($3::timestamptz IS NULL OR r.received_at < $3::timestamptz)"
        "   AND ($4::float8 IS NULL OR r.point::geometry"
        "     && ST_MakeEnvelope($4::float8, $5::float8, $6::float8, $7::float8, 4326))"
        "   ORDER BY r.received_at DESC, r.id DESC LIMIT $8::bigint) x",
        9, v, json, "", ei);
}

int store_web_audit(struct store *s, const char *object, const char *actor, long long before_id,
                    long limit, char **json, struct tl_errinfo *ei)
{
    char bb[32], lb[32];
    const char *v[4] = {object, actor, before_id > 0 ? st_ll(bb, before_id) : NULL,
                        st_ll(lb, limit > 0 ? limit : 100)};
    *json = NULL;
    return st_one_text(s,
                       "SELECT json_build_object('items', COALESCE(json_agg(json_build_object("
                       "   'id', l.id, 'at', web_iso(l.at), 'actor', l.actor, 'action', l.action,"
                       "   'object', l.object, 'before', l.before, 'after', l.after)"
                       "   ORDER BY l.id DESC), '[]'),"
                       " 'next', CASE WHEN count(*) = $4::bigint THEN min(l.id)::text END)::text"
                       " FROM (SELECT * FROM audit_log"
                       "   WHERE ($1::text IS NULL OR object = $1::text)"
                       "   AND ($2::text IS NULL OR actor = $2::text)"
                       "   AND ($3::bigint IS NULL OR id < $3::bigint)"
                       "   ORDER BY id DESC LIMIT $4::bigint) l",
                       4, v, json, "", ei);
}

int store_web_categories(struct store *s, char **json, struct tl_errinfo *ei)
{
    return st_one_text(s,
                       "SELECT json_build_object('categories', COALESCE(json_agg(json_build_object("
                       "   'id', category, 'queue', queue, 'moving', moving) ORDER BY category),"
                       "   '[]'))::text FROM category_queue",
                       0, NULL, json, "", ei);
}

int store_web_queues_for(struct store *s, const char *account, char **csv, struct tl_errinfo *ei)
{
    const char *v[1] = {account};
    return st_one_text(s, "SELECT array_to_string(web_queues_for($1::text), ',')", 1, v, csv, "",
                       ei);
}
/* ---- incidents ---- */

int store_web_incidents(struct store *s, const struct store_who *who, long min_corroboration,
                        long limit, char **json, struct tl_errinfo *ei)
{
    char db[32], mb[32], lb[32];
    const char *v[4] = {who->account, decimals_param(who, db), st_ll(mb, min_corroboration),
                        st_ll(lb, limit)};
    *json = NULL;
    return fn_err(st_one_text(s, "SELECT web_incidents_list($1::text, $2::int, $3::int, $4::int)",
                              4, v, json, "no incidents", ei),
                  ei);
}

int store_web_incident(struct store *s, const struct store_who *who, long long id, char **json,
                       struct tl_errinfo *ei)
{
    char ib[32], db[32];
    const char *v[3] = {st_ll(ib, id), who->account, decimals_param(who, db)};
    *json = NULL;
    return fn_err(st_one_text(s, "SELECT web_incident_doc($1::bigint, $2::text, $3::int)", 3, v,
                              json, "no such incident", ei),
                  ei);
}

int store_web_incident_merge(struct store *s, const struct store_who *who, long long id,
                             long long other, char **json, struct tl_errinfo *ei)
{
    char ib[32], ob[32], db[32];
    const char *v[4] = {who->account, st_ll(ib, id), st_ll(ob, other), decimals_param(who, db)};
    *json = NULL;
    return fn_err(
        st_one_text(s, "SELECT web_incident_merge($1::text, $2::bigint, $3::bigint, $4::int)", 4, v,
                    json, "no such incident", ei),
        ei);
}

int store_web_incident_split(struct store *s, const struct store_who *who, const char *id_or_ref,
                             char **json, struct tl_errinfo *ei)
{
    char ib[32], db[32];
    const char *v[4];
    *json = NULL;
    v[0] = who->account;
    ref_params(id_or_ref, ib, v + 1);
    v[3] = decimals_param(who, db);
    return fn_err(st_one_text(s,
                              "SELECT web_incident_split($1::text, $2::bigint, $3::text, $4::int)",
                              4, v, json, "no such report", ei),
                  ei);
}
