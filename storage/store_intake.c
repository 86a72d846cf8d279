/* storage/store_intake.c - the inbox (poller batches with the offset), per-chat
 * claims for workers, and store_apply: a handler's effects in one statement. */
#include "store_int.h"

#include <openssl/evp.h>
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

/* ---- store_apply ---- */

/* One statement with data-modifying CTEs: one round trip, one implicit transaction.
 * inb locks the inbox row FOR UPDATE only while it is unprocessed; every write hangs
 * off `go`, which is empty for an update that was processed already, so a
 * redelivered or re-run update writes nothing. update_id 0 means no inbox row. The
 * foreign keys (reports/chats -> reporters) are checked at the end of the statement,
 * after the reporters upsert. The chats and reporters rows are rewritten only when
 * something changes or last_seen is a minute old: most updates of a conversation
 * then write no new row versions there. Two variants: with a report (34 parameters)
 * and without (8), as most updates carry no report and a smaller plan runs faster. */
#define APPLY_HEAD                                                                                 \
    "WITH inb AS (SELECT update_id FROM inbox"                                                     \
    "   WHERE update_id = $1::bigint AND processed_at IS NULL FOR UPDATE),"                        \
    " go AS (SELECT true AS ok WHERE $1::bigint = 0 OR EXISTS (SELECT 1 FROM inb)),"
#define APPLY_REPORTERS(values)                                                                    \
    " rp AS (INSERT INTO reporters AS r (pseudonym, n_reports)"                                    \
    "   SELECT v.p, sum(v.k)::int FROM go, (VALUES " values ") AS v(p, k)"                         \
    "   WHERE v.p IS NOT NULL GROUP BY v.p"                                                        \
    "   ON CONFLICT (pseudonym) DO UPDATE SET last_seen = now(),"                                  \
    "     n_reports = r.n_reports + excluded.n_reports"                                            \
    "   WHERE excluded.n_reports > 0 OR r.last_seen < now() - interval '1 minute'),"
#define APPLY_CHATS                                                                                \
    " ch AS (INSERT INTO chats AS c (chat_id, reporter, lang, blocked)"                            \
    "   SELECT $2::bigint, $3::text, $4::text, $5::int = 1 FROM go WHERE $2::bigint <> 0"          \
    "   ON CONFLICT (chat_id) DO UPDATE SET reporter = COALESCE(excluded.reporter, c.reporter),"   \
    "     lang = COALESCE(excluded.lang, c.lang),"                                                 \
    "     blocked = CASE WHEN $5::int < 0 THEN c.blocked ELSE excluded.blocked END,"               \
    "     last_seen = now()"                                                                       \
    "   WHERE c.last_seen < now() - interval '1 minute'"                                           \
    "     OR c.reporter IS DISTINCT FROM COALESCE(excluded.reporter, c.reporter)"                  \
    "     OR c.lang IS DISTINCT FROM COALESCE(excluded.lang, c.lang)"                              \
    "     OR ($5::int >= 0 AND c.blocked <> excluded.blocked)),"
#define APPLY_OUTBOX(chat, method, params)                                                         \
    " outb AS (INSERT INTO outbox (chat_id, method, params)"                                       \
    "   SELECT o.* FROM go, unnest(" chat "::bigint[], " method "::text[], " params                \
    "::jsonb[]) AS o),"
#define APPLY_TAIL(report_id)                                                                      \
    " done AS (UPDATE inbox SET processed_at = now() FROM inb"                                     \
    "   WHERE inbox.update_id = inb.update_id RETURNING 1)"                                        \
    " SELECT (SELECT count(*) FROM go), " report_id ","                                            \
    "   EXISTS (SELECT 1 FROM inbox WHERE update_id = $1::bigint)"

static const char apply_sql[] =
    APPLY_HEAD APPLY_REPORTERS("($3::text, 0), ($8::text, 1)") APPLY_CHATS
    " rep AS (INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
    "     accuracy_m, bearing, observed_at, sent_at, forwarded, media_group_id, priority, flags,"
    "     place_candidates)"
    "   SELECT $7::text, $8::text, $9::text, $10::text,"
    "     CASE WHEN $11::float8 IS NOT NULL"
    "       THEN ST_SetSRID(ST_MakePoint($12::float8, $11::float8), 4326)::geography END,"
    "     $13::text, $14::float8, $15::float8, to_timestamp($16::float8),"
    "     to_timestamp($17::float8), $18::boolean, $19::text, $20::int,"
    "     COALESCE(string_to_array($21::text, ','), '{}'), $40::jsonb"
    "   FROM go WHERE $6::boolean RETURNING id),"
    " med AS (INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id, mime, bytes,"
    "     size, width, height, phash, sha256, gps, gps_accuracy_m, taken_local, taken_offset_min)"
    "   SELECT rep.id, m.kind, m.fid, m.fuid, m.mime, m.bytes, m.size, m.w, m.h, m.phash, m.sha,"
    "     CASE WHEN m.lat IS NOT NULL"
    "       THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,"
    "     m.acc, m.taken, m.off"
    "   FROM rep, unnest($22::text[], $23::text[], $24::text[], $25::text[], $26::bytea[],"
    "     $27::bigint[], $28::int[], $29::int[], $30::bigint[], $31::text[], $35::float8[],"
    "     $36::float8[], $37::float8[], $38::timestamp[], $39::int[])"
    "     AS m(kind, fid, fuid, mime, bytes, size, w, h, phash, sha, lat, lon, acc, taken, "
    "off))," APPLY_OUTBOX("$32", "$33", "$34") APPLY_TAIL("(SELECT id FROM rep)");

static const char apply_plain_sql[] = APPLY_HEAD APPLY_REPORTERS("($3::text, 0)")
    APPLY_CHATS APPLY_OUTBOX("$6", "$7", "$8") APPLY_TAIL("NULL::bigint");

#define APPLY_NPARAMS 40
#define APPLY_NMEDIA 15 /* media arrays: $22..$31, then $35..$39 */

static int sha256_hex(const unsigned char *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != 32)
        return TL_EIO;
    tl_hex(md, 32, out);
    return TL_OK;
}

/* Appends one media row to the 15 arrays of the media insert (kind, file id, unique id,
 * mime, bytes, size, width, height, phash, sha256, gps lat, lon, accuracy, taken_local,
 * offset): the one place both apply statements build it. */
static int media_row(struct st_arr *ma, const struct store_media_new *m, size_t i,
                     struct tl_errinfo *ei)
{
    char sha[65], num[7][32];
    if (!m->kind || (!m->bytes && m->len))
        return tl_errf(ei, TL_EINVAL, "media %zu needs a kind and its bytes", i);
    int rc = sha256_hex(m->bytes ? m->bytes : (const unsigned char *)"", m->len, sha);
    if (rc)
        return rc;
    st_arr_str(&ma[0], m->kind);
    st_arr_str(&ma[1], m->tg_file_id);
    st_arr_str(&ma[2], m->tg_file_unique_id);
    st_arr_str(&ma[3], m->mime);
    if (m->bytes)
        st_arr_bytea(&ma[4], m->bytes, m->len);
    else
        st_arr_str(&ma[4], NULL);
    st_arr_ll(&ma[5], (long long)m->len);
    st_arr_str(&ma[6], m->width > 0 ? st_ll(num[0], m->width) : NULL);
    st_arr_str(&ma[7], m->height > 0 ? st_ll(num[1], m->height) : NULL);
    /* the 64 bits as a signed bigint */
    st_arr_str(&ma[8], m->has_phash ? st_ll(num[2], (long long)m->phash) : NULL);
    st_arr_str(&ma[9], sha);
    st_arr_str(&ma[10], m->has_gps ? st_dbl(num[3], m->gps_lat) : NULL);
    st_arr_str(&ma[11], m->has_gps ? st_dbl(num[4], m->gps_lon) : NULL);
    st_arr_str(&ma[12],
               m->has_gps && m->gps_accuracy_m > 0 ? st_dbl(num[5], m->gps_accuracy_m) : NULL);
    st_arr_str(&ma[13], m->taken_local);
    st_arr_str(&ma[14], m->has_taken_offset ? st_ll(num[6], m->taken_offset_min) : NULL);
    return TL_OK;
}

/* Appends one outbox row to the 3 arrays of the outbox insert (chat, method, params). */
static int outbox_row(struct st_arr *oa, const struct store_outbox_new *o, size_t i,
                      struct tl_errinfo *ei)
{
    if (!o->method || !o->params_json || !o->chat_id)
        return tl_errf(ei, TL_EINVAL, "outbox row %zu needs chat_id, method and params", i);
    st_arr_ll(&oa[0], o->chat_id);
    st_arr_str(&oa[1], o->method);
    st_arr_str(&oa[2], o->params_json);
    return TL_OK;
}

/* One update's effects in one statement. in_tx: inside a transaction store_apply_batch
 * opened (st_ready would roll it back). */
static int apply_one(struct store *s, const struct store_effects *fx, long long *report_id,
                     struct tl_errinfo *ei, int in_tx)
{
    const struct store_report_new *rp = fx->report;
    struct tl_errinfo local;
    const char *v[APPLY_NPARAMS] = {0};
    char nb[20][32];
    struct st_arr ma[APPLY_NMEDIA], oa[3];
    PGresult *r = NULL;
    int rc;
    if (report_id)
        *report_id = 0;
    if (!ei) /* the SQLSTATE decides between TL_ECONFLICT and TL_EDB */
        ei = &local;
    tl_errinfo_clear(ei);
    for (int i = 0; i < APPLY_NMEDIA; i++)
        st_arr_init(&ma[i]);
    for (int i = 0; i < 3; i++)
        st_arr_init(&oa[i]);
    if (rp && (!rp->public_ref || !rp->reporter)) {
        rc = tl_errf(ei, TL_EINVAL, "a report needs public_ref and reporter");
        goto out;
    }
    if (rp && rp->has_point &&
        (!rp->point_source || rp->lat < -90 || rp->lat > 90 || rp->lon < -180 || rp->lon > 180)) {
        rc = tl_errf(ei, TL_EINVAL, "a report point needs a source and a valid lat/lon");
        goto out;
    }
    rc = in_tx ? TL_OK : st_ready(s, ei);
    if (rc)
        goto out;
    v[0] = st_ll(nb[0], fx->update_id);
    v[1] = st_ll(nb[1], fx->chat_id);
    v[2] = fx->pseudonym;
    v[3] = fx->lang;
    v[4] = st_ll(nb[2], fx->set_blocked < 0 ? -1 : fx->set_blocked ? 1 : 0);
    v[5] = rp ? "true" : "false";
    if (rp) {
        v[6] = rp->public_ref;
        v[7] = rp->reporter;
        v[8] = rp->category;
        v[9] = rp->text;
        if (rp->has_point) {
            v[10] = st_dbl(nb[3], rp->lat);
            v[11] = st_dbl(nb[4], rp->lon);
            v[12] = rp->point_source;
        }
        v[13] = rp->accuracy_m > 0 ? st_dbl(nb[5], rp->accuracy_m) : NULL;
        v[14] = rp->has_bearing ? st_dbl(nb[6], rp->bearing) : NULL;
        v[15] = rp->observed_at > 0 ? st_dbl(nb[7], rp->observed_at) : NULL;
        v[16] = rp->sent_at > 0 ? st_dbl(nb[8], rp->sent_at) : NULL;
        v[17] = rp->forwarded ? "true" : "false";
        v[18] = rp->media_group_id;
        v[19] = st_ll(nb[9], rp->priority);
        v[20] = rp->flags && *rp->flags ? rp->flags : NULL;
        v[39] = rp->place_candidates;
        for (size_t i = 0; i < rp->n_media; i++)
            if ((rc = media_row(ma, &rp->media[i], i, ei)) != TL_OK)
                goto out;
    }
    for (int i = 0; i < APPLY_NMEDIA; i++)
        if (!(v[i < 10 ? 21 + i : 34 + (i - 10)] = st_arr_end(&ma[i]))) {
            rc = TL_ENOMEM;
            goto out;
        }
    for (size_t i = 0; i < fx->n_outbox; i++)
        if ((rc = outbox_row(oa, &fx->outbox[i], i, ei)) != TL_OK)
            goto out;
    for (int i = 0; i < 3; i++)
        if (!(v[31 + i] = st_arr_end(&oa[i]))) {
            rc = TL_ENOMEM;
            goto out;
        }
    if (rp) {
        rc = st_exec(s, apply_sql, APPLY_NPARAMS, v, &r, ei);
    } else {
        const char *pv[8] = {v[0], v[1], v[2], v[3], v[4], v[31], v[32], v[33]};
        rc = st_exec(s, apply_plain_sql, 8, pv, &r, ei);
    }
    if (rc == TL_EDB && strcmp(ei->sqlstate, "23505") == 0 &&
        strstr(ei->msg, "reports_public_ref_key")) {
        /* The statement failed as a whole: nothing was written. */
        rc = TL_ECONFLICT;
        goto out;
    }
    if (rc)
        goto out;
    if (st_getll(r, 0, 0) == 0 && PQgetvalue(r, 0, 2)[0] != 't') {
        rc = tl_errf(ei, TL_ENOTFOUND, "no inbox row for update_id %lld", fx->update_id);
        goto out;
    }
    if (report_id)
        *report_id = st_getll(r, 0, 1);
out:
    PQclear(r);
    for (int i = 0; i < APPLY_NMEDIA; i++)
        st_arr_release(&ma[i]);
    for (int i = 0; i < 3; i++)
        st_arr_release(&oa[i]);
    return rc;
}

int store_apply(struct store *s, const struct store_effects *fx, long long *report_id,
                struct tl_errinfo *ei)
{
    if (fx->followup_id) /* relay: the answer needs a transaction around the statement */
        return store_apply_batch(s, &fx, 1, report_id, ei);
    return apply_one(s, fx, report_id, ei, 0);
}

/* Several updates in ONE statement: the same effects as apply_one for each, with the
 * per-statement cost (executor start, locks on every table and index, the round trip)
 * paid once for the batch instead of once per update; measured on this schema, a 10-row
 * insert costs about 2x a 1-row one, not 10x. Rows are matched to their update by
 * ordinality. Batches that change a chat's blocked flag go through the per-update path
 * (a chat can be upserted only once in a statement, and the flag's "keep" is no column
 * value). */
static const char apply_many_sql[] =
    "WITH u AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],"
    "     $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[], $10::float8[],"
    "     $11::text[], $12::float8[], $13::float8[], $14::float8[], $15::float8[],"
    "     $16::boolean[], $17::text[], $18::int[], $19::text[], $40::jsonb[]) WITH ORDINALITY"
    "   AS u(update_id, chat_id, pseud, lang, ref, reporter, category, txt, lat, lon, src, acc,"
    "     bearing, observed, sent, fwd, mgid, prio, flags, pcand, ord)),"
    " inb AS (SELECT i.update_id FROM inbox i WHERE i.update_id = ANY ($1::bigint[])"
    "   AND i.processed_at IS NULL FOR UPDATE),"
    " go AS (SELECT u.* FROM u WHERE u.update_id = 0"
    "   OR u.update_id IN (SELECT update_id FROM inb)),"
    " rp AS (INSERT INTO reporters AS r (pseudonym, n_reports)"
    "   SELECT v.p, sum(v.k)::int FROM (SELECT pseud AS p, 0 AS k FROM go UNION ALL"
    "     SELECT reporter, 1 FROM go WHERE ref IS NOT NULL) v"
    "   WHERE v.p IS NOT NULL GROUP BY v.p"
    "   ON CONFLICT (pseudonym) DO UPDATE SET last_seen = now(),"
    "     n_reports = r.n_reports + excluded.n_reports"
    "   WHERE excluded.n_reports > 0 OR r.last_seen < now() - interval '1 minute'),"
    " ch AS (INSERT INTO chats AS c (chat_id, reporter, lang)"
    "   SELECT g.chat_id,"
    "     (array_agg(g.pseud ORDER BY g.ord DESC) FILTER (WHERE g.pseud IS NOT NULL))[1],"
    "     (array_agg(g.lang ORDER BY g.ord DESC) FILTER (WHERE g.lang IS NOT NULL))[1]"
    "   FROM go g WHERE g.chat_id <> 0 GROUP BY g.chat_id"
    "   ON CONFLICT (chat_id) DO UPDATE SET reporter = COALESCE(excluded.reporter, c.reporter),"
    "     lang = COALESCE(excluded.lang, c.lang), last_seen = now()"
    "   WHERE c.last_seen < now() - interval '1 minute'"
    "     OR c.reporter IS DISTINCT FROM COALESCE(excluded.reporter, c.reporter)"
    "     OR c.lang IS DISTINCT FROM COALESCE(excluded.lang, c.lang)),"
    " rep AS (INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
    "     accuracy_m, bearing, observed_at, sent_at, forwarded, media_group_id, priority, flags,"
    "     place_candidates)"
    "   SELECT g.ref, g.reporter, g.category, g.txt,"
    "     CASE WHEN g.lat IS NOT NULL"
    "       THEN ST_SetSRID(ST_MakePoint(g.lon, g.lat), 4326)::geography END,"
    "     g.src, g.acc, g.bearing, to_timestamp(g.observed), to_timestamp(g.sent), g.fwd, g.mgid,"
    "     g.prio, COALESCE(string_to_array(g.flags, ','), '{}'), g.pcand"
    "   FROM go g WHERE g.ref IS NOT NULL ORDER BY g.ord RETURNING id, public_ref),"
    " med AS (INSERT INTO media (report_id, kind, tg_file_id, tg_file_unique_id, mime, bytes,"
    "     size, width, height, phash, sha256, gps, gps_accuracy_m, taken_local, taken_offset_min)"
    "   SELECT rep.id, m.kind, m.fid, m.fuid, m.mime, m.bytes, m.size, m.w, m.h, m.phash, m.sha,"
    "     CASE WHEN m.lat IS NOT NULL"
    "       THEN ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326)::geography END,"
    "     m.acc, m.taken, m.off"
    "   FROM unnest($20::int[], $21::text[], $22::text[], $23::text[], $24::text[], $25::bytea[],"
    "     $26::bigint[], $27::int[], $28::int[], $29::bigint[], $30::text[], $31::float8[],"
    "     $32::float8[], $33::float8[], $34::timestamp[], $35::int[]) WITH ORDINALITY"
    "     AS m(ord, kind, fid, fuid, mime, bytes, size, w, h, phash, sha, lat, lon, acc, taken,"
    "       off, seq)"
    "   JOIN go ON go.ord = m.ord JOIN rep ON rep.public_ref = go.ref ORDER BY m.seq),"
    " outb AS (INSERT INTO outbox (chat_id, method, params)"
    "   SELECT o.chat_id, o.method, o.params FROM unnest($36::int[], $37::bigint[], $38::text[],"
    "     $39::jsonb[]) WITH ORDINALITY AS o(ord, chat_id, method, params, seq)"
    "   JOIN go ON go.ord = o.ord ORDER BY o.seq),"
    " done AS (UPDATE inbox SET processed_at = now() FROM inb"
    "   WHERE inbox.update_id = inb.update_id RETURNING 1)"
    " SELECT u.ord, (SELECT rep.id FROM rep WHERE rep.public_ref = u.ref),"
    "   u.update_id = 0 OR EXISTS (SELECT 1 FROM inbox WHERE inbox.update_id = u.update_id)"
    " FROM u ORDER BY u.ord";

#define MANY_NU 19 /* per-update arrays: $1..$19 */
#define MANY_NM 16 /* media arrays: $20..$35 */
#define MANY_NO 4  /* outbox arrays: $36..$39 */
#define MANY_NX 1  /* added later, after them: $40 place_candidates */

static const char *opt_dbl(char *buf, int has, double v)
{
    return has ? st_dbl(buf, v) : NULL;
}

static int apply_many(struct store *s, const struct store_effects *const *fx, size_t n,
                      long long *report_ids, struct tl_errinfo *ei)
{
    struct st_arr a[MANY_NU + MANY_NM + MANY_NO + MANY_NX];
    const char *v[MANY_NU + MANY_NM + MANY_NO + MANY_NX];
    const size_t na = sizeof(a) / sizeof(a[0]);
    struct st_arr *ua = a, *ma = a + MANY_NU, *oa = a + MANY_NU + MANY_NM;
    struct st_arr *xa = oa + MANY_NO;
    PGresult *r = NULL;
    int rc = TL_OK;
    char nb[8][32];
    for (size_t i = 0; i < na; i++)
        st_arr_init(&a[i]);
    for (size_t i = 0; i < n; i++) {
        const struct store_effects *f = fx[i];
        const struct store_report_new *rp = f->report;
        if (rp && (!rp->public_ref || !rp->reporter ||
                   (rp->has_point && (!rp->point_source || rp->lat < -90 || rp->lat > 90 ||
                                      rp->lon < -180 || rp->lon > 180)))) {
            rc = tl_errf(ei, TL_EINVAL,
                         "update %lld: a report needs public_ref, reporter and a "
                         "valid point",
                         f->update_id);
            goto out;
        }
        st_arr_ll(&ua[0], f->update_id);
        st_arr_ll(&ua[1], f->chat_id);
        st_arr_str(&ua[2], f->pseudonym);
        st_arr_str(&ua[3], f->lang);
        st_arr_str(&ua[4], rp ? rp->public_ref : NULL);
        st_arr_str(&ua[5], rp ? rp->reporter : NULL);
        st_arr_str(&ua[6], rp ? rp->category : NULL);
        st_arr_str(&ua[7], rp ? rp->text : NULL);
        st_arr_str(&ua[8], opt_dbl(nb[0], rp && rp->has_point, rp ? rp->lat : 0));
        st_arr_str(&ua[9], opt_dbl(nb[1], rp && rp->has_point, rp ? rp->lon : 0));
        st_arr_str(&ua[10], rp && rp->has_point ? rp->point_source : NULL);
        st_arr_str(&ua[11], opt_dbl(nb[2], rp && rp->accuracy_m > 0, rp ? rp->accuracy_m : 0));
        st_arr_str(&ua[12], opt_dbl(nb[3], rp && rp->has_bearing, rp ? rp->bearing : 0));
        st_arr_str(&ua[13], opt_dbl(nb[4], rp && rp->observed_at > 0, rp ? rp->observed_at : 0));
        st_arr_str(&ua[14], opt_dbl(nb[5], rp && rp->sent_at > 0, rp ? rp->sent_at : 0));
        st_arr_str(&ua[15], rp ? (rp->forwarded ? "t" : "f") : NULL);
        st_arr_str(&ua[16], rp ? rp->media_group_id : NULL);
        if (rp)
            st_arr_ll(&ua[17], rp->priority);
        else
            st_arr_str(&ua[17], NULL);
        st_arr_str(&ua[18], rp && rp->flags && *rp->flags ? rp->flags : NULL);
        st_arr_str(&xa[0], rp ? rp->place_candidates : NULL);
        for (size_t k = 0; rp && k < rp->n_media; k++) {
            st_arr_ll(&ma[0], (long long)i + 1);
            if ((rc = media_row(ma + 1, &rp->media[k], k, ei)) != TL_OK)
                goto out;
        }
        for (size_t k = 0; k < f->n_outbox; k++) {
            st_arr_ll(&oa[0], (long long)i + 1);
            if ((rc = outbox_row(oa + 1, &f->outbox[k], k, ei)) != TL_OK)
                goto out;
        }
    }
    for (size_t i = 0; i < na; i++)
        if (!(v[i] = st_arr_end(&a[i]))) {
            rc = TL_ENOMEM;
            goto out;
        }
    rc = st_exec(s, apply_many_sql, (int)na, v, &r, ei);
    if (rc == TL_EDB && strcmp(ei->sqlstate, "23505") == 0 &&
        strstr(ei->msg, "reports_public_ref_key")) {
        rc = TL_ECONFLICT; /* the statement failed as a whole: nothing was written */
        goto out;
    }
    if (rc)
        goto out;
    if ((size_t)PQntuples(r) != n) {
        rc = tl_errf(ei, TL_EDB, "batch apply returned %d rows for %zu updates", PQntuples(r), n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (PQgetvalue(r, (int)i, 2)[0] != 't') {
            rc = tl_errf(ei, TL_ENOTFOUND, "no inbox row for update_id %lld", fx[i]->update_id);
            goto out;
        }
        if (report_ids)
            report_ids[i] = PQgetisnull(r, (int)i, 1) ? 0 : st_getll(r, (int)i, 1);
    }
out:
    PQclear(r);
    for (size_t i = 0; i < na; i++)
        st_arr_release(&a[i]);
    return rc;
}

int store_apply_batch(struct store *s, const struct store_effects *const *fx, size_t n,
                      long long *report_ids, struct tl_errinfo *ei)
{
    struct tl_errinfo local;
    if (!ei) /* the SQLSTATE decides between TL_ECONFLICT and TL_EDB */
        ei = &local;
    tl_errinfo_clear(ei);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    int many = n > 1;
    for (size_t i = 0; i < n; i++)
        if (fx[i]->set_blocked >= 0 || fx[i]->followup_id)
            many = 0;
    if (many) {
        rc = apply_many(s, fx, n, report_ids, ei);
    } else {
        unsigned long gen = s->generation;
        if ((rc = st_begin(s, ei)) != TL_OK)
            return rc;
        for (size_t i = 0; i < n && rc == TL_OK; i++) {
            if (fx[i]->followup_id) /* relay: before apply_one marks the inbox row */
                rc = st_followup_answer(s, fx[i], ei);
            if (rc == TL_OK)
                rc = apply_one(s, fx[i], report_ids ? &report_ids[i] : NULL, ei, 1);
        }
        if (rc == TL_OK)
            rc = st_commit(s, ei);
        if (rc != TL_OK)
            st_rollback(s);
        if (rc == TL_OK && s->generation != gen)
            rc = tl_errf(ei, TL_EDBDOWN, "connection reset during a batch");
    }
    if (rc != TL_OK && report_ids)
        memset(report_ids, 0, n * sizeof(*report_ids));
    return rc;
}

/* ---- the conversation: store_apply's statement inside store_conv's transaction ---- */

int st_apply_in_tx(struct store *s, const struct store_effects *fx, long long *report_id,
                   struct tl_errinfo *ei)
{
    return apply_one(s, fx, report_id, ei, 1);
}
