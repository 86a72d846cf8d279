/* storage/store_outbox.c - the sender's side of the transactional outbox:
 * claim with a timed lease (at-least-once), then sent, retry or failed. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* Per chat only the head of line (its oldest pending or sending row) may go, so a
 * chat's messages leave in order and one at a time, even when an earlier one waits
 * for a retry. The heads are found by a loose scan of outbox_chat_active, one index
 * probe per chat with messages waiting (the next chat_id after the last one found),
 * so a claim costs the number of such chats, not the number of rows waiting: a burst
 * of 20,000 rows over 200 chats is claimed as fast as 200 rows would be. The head is
 * claimed when it is due, or when it is 'sending' but its claim expired (a sender
 * died), and once the chat's latest delivery (outbox_chat_sent) is older than the
 * per-chat interval. The chats served longest ago go first (then the oldest message):
 * during a burst every chat moves one message at a time, rather than the first chats
 * finishing while the last ones, each held to its one message a second, trail behind
 * at a fraction of the rate. FOR UPDATE SKIP LOCKED lets senders claim side by side; the state test
 * on the locked row itself (re-checked by PostgreSQL after the lock) keeps a row another sender
 * just claimed from being claimed twice. Planned per call: a plan cached while the outbox was empty
 * would not use the index. */
static const char claim_sql[] =
    "WITH RECURSIVE heads(chat_id, id) AS ("
    "   (SELECT chat_id, id FROM outbox WHERE state IN ('pending', 'sending')"
    "     ORDER BY chat_id, id LIMIT 1)"
    "   UNION ALL"
    "   SELECT n.chat_id, n.id FROM heads h CROSS JOIN LATERAL"
    "     (SELECT chat_id, id FROM outbox WHERE state IN ('pending', 'sending')"
    "       AND chat_id > h.chat_id ORDER BY chat_id, id LIMIT 1) n),"
    " pick AS (SELECT o.id FROM outbox o JOIN heads h ON h.id = o.id"
    "   LEFT JOIN LATERAL (SELECT p.sent_at FROM outbox p"
    "     WHERE p.chat_id = o.chat_id AND p.state = 'sent'"
    "     ORDER BY p.sent_at DESC LIMIT 1) last ON true"
    "   WHERE ((o.state = 'pending' AND o.not_before <= now())"
    "       OR (o.state = 'sending' AND o.claimed_until < now()))"
    "     AND (last.sent_at IS NULL"
    "       OR last.sent_at <= now() - $2::bigint * interval '1 millisecond')"
    "   ORDER BY last.sent_at NULLS FIRST, o.id LIMIT $1::bigint FOR UPDATE OF o SKIP LOCKED)"
    " UPDATE outbox o SET state = 'sending', claimed_until = now() + interval '60 seconds'"
    " FROM pick WHERE o.id = pick.id"
    " RETURNING o.id, o.chat_id, o.method, o.params::text, o.attempts,"
    "   (SELECT encode(c.chat_sealed, 'hex') FROM chats c WHERE c.chat_id = o.chat_id)";

static int outmsg_cmp(const void *a, const void *b)
{
    const struct store_outmsg *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int store_outbox_claim(struct store *s, size_t max, long chat_interval_ms,
                       struct store_outmsg **out, size_t *n, struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *v[2] = {st_ll(b1, (long long)max), st_ll(b2, chat_interval_ms)};
    PGresult *r = NULL;
    struct store_outmsg *m = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (max == 0)
        return TL_OK;
    rc = st_exec_planned(s, claim_sql, 2, v, &r, ei);
    if (rc)
        return rc;
    int nr = PQntuples(r);
    if (nr > 0) {
        m = calloc((size_t)nr, sizeof(*m));
        if (!m) {
            rc = TL_ENOMEM;
            goto out;
        }
        for (k = 0; k < (size_t)nr; k++) {
            int i = (int)k;
            m[k].id = st_getll(r, i, 0);
            m[k].chat_id = st_getll(r, i, 1);
            m[k].method = tl_strdup(PQgetvalue(r, i, 2));
            m[k].params_json = tl_strdup(PQgetvalue(r, i, 3));
            m[k].attempts = (int)st_getll(r, i, 4);
            m[k].chat_sealed = st_unhex(PQgetvalue(r, i, 5), &m[k].chat_sealed_len);
            if (!m[k].method || !m[k].params_json) {
                k++;
                rc = TL_ENOMEM;
                goto out;
            }
        }
        qsort(m, k, sizeof(*m), outmsg_cmp);
    }
    *out = m;
    *n = k;
    m = NULL;
out:
    /* On ENOMEM the claimed rows stay 'sending' and come back when the claim expires. */
    store_outmsgs_free(m, k);
    PQclear(r);
    return rc;
}

void store_outmsgs_free(struct store_outmsg *m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].method);
        free(m[i].params_json);
        free(m[i].chat_sealed);
    }
    free(m);
}

/* Runs a statement whose first column counts the outbox rows it changed. */
static int outbox_exec(struct store *s, long long id, const char *sql, int n, const char **v,
                       struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, sql, n, v, &r, ei);
    if (rc)
        return rc;
    if (st_getll(r, 0, 0) == 0)
        rc = tl_errf(ei, TL_ENOTFOUND, "no outbox row %lld", id);
    PQclear(r);
    return rc;
}

int store_outbox_sent(struct store *s, long long id, long long tg_message_id, struct tl_errinfo *ei)
{
    return store_outbox_sent_many(s, &id, &tg_message_id, 1, ei);
}

int store_outbox_sent_many(struct store *s, const long long *ids, const long long *tg_message_ids,
                           size_t n, struct tl_errinfo *ei)
{
    struct st_arr a_id, a_mid;
    PGresult *r = NULL;
    if (n == 0)
        return TL_OK;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    st_arr_init(&a_id);
    st_arr_init(&a_mid);
    for (size_t i = 0; i < n; i++) {
        st_arr_ll(&a_id, ids[i]);
        if (tg_message_ids[i])
            st_arr_ll(&a_mid, tg_message_ids[i]);
        else
            st_arr_str(&a_mid, NULL);
    }
    const char *v[2] = {st_arr_end(&a_id), st_arr_end(&a_mid)};
    if (!v[0] || !v[1]) {
        rc = TL_ENOMEM;
        goto out;
    }
    /* Planned per call: a plan cached while the outbox was small joins the ids to a
     * sequential scan of it, 10 ms a call once a burst filled it (0.7 ms planned). */
    rc = st_exec_planned(
        s,
        "WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS v (id, mid)),"
        " o AS (UPDATE outbox SET state = 'sent', tg_message_id = v.mid,"
        "   sent_at = now(), claimed_until = NULL FROM v WHERE outbox.id = v.id"
        "   RETURNING 1)"
        " SELECT count(*) FROM o",
        2, v, &r, ei);
    if (rc)
        goto out;
    long long got = st_getll(r, 0, 0);
    if (got != (long long)n)
        rc = n == 1 ? tl_errf(ei, TL_ENOTFOUND, "no outbox row %lld", ids[0])
                    : tl_errf(ei, TL_ENOTFOUND, "%lld of %zu outbox rows found", got, n);
out:
    PQclear(r);
    st_arr_release(&a_id);
    st_arr_release(&a_mid);
    return rc;
}

int store_outbox_retry(struct store *s, long long id, long delay_ms, const char *error,
                       struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *v[3] = {st_ll(b1, id), st_ll(b2, delay_ms < 0 ? 0 : delay_ms), error};
    return outbox_exec(s, id,
                       "WITH o AS (UPDATE outbox SET state = 'pending', claimed_until = NULL,"
                       "   not_before = now() + $2::bigint * interval '1 millisecond',"
                       "   attempts = attempts + 1, last_error = $3::text"
                       "   WHERE id = $1::bigint RETURNING 1)"
                       " SELECT count(*) FROM o",
                       3, v, ei);
}

int store_outbox_failed(struct store *s, long long id, const char *error, int chat_blocked,
                        struct tl_errinfo *ei)
{
    char b1[32];
    const char *v[3] = {st_ll(b1, id), error, chat_blocked ? "true" : "false"};
    /* A chat that blocked the bot fails its other pending messages too: each would
     * only earn another 403. */
    return outbox_exec(s, id,
                       "WITH o AS (UPDATE outbox SET state = 'failed', claimed_until = NULL,"
                       "   attempts = attempts + 1, last_error = $2::text"
                       "   WHERE id = $1::bigint RETURNING chat_id),"
                       " c AS (UPDATE chats SET blocked = true FROM o"
                       "   WHERE $3::boolean AND chats.chat_id = o.chat_id),"
                       " rest AS (UPDATE outbox SET state = 'failed',"
                       "   last_error = 'chat blocked the bot' FROM o"
                       "   WHERE $3::boolean AND outbox.chat_id = o.chat_id"
                       "   AND outbox.state = 'pending' AND outbox.id <> $1::bigint)"
                       " SELECT count(*) FROM o",
                       3, v, ei);
}
