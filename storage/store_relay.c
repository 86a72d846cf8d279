/* storage/store_relay.c - the bot's side of the follow-up contract (migration 0004):
 * analysts' questions relayed to the reporter's chat through the outbox, the question a
 * citizen's reply answers, and the neutral "reviewed" notice. What the relay writes (the
 * messages queued, the questions and notices marked) and the answer itself go through
 * the one write path (store_apply_plan). The chat is found through the report's
 * pseudonym (reports.reporter = chats.reporter); its id is handed only to the composer
 * in handlers/. */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* The reporter's chat: the one seen last (a private chat's id is the user's, so there
 * is normally one). NULL columns when retention purged it. */
#define REPORTER_CHAT                                                                              \
    " LEFT JOIN LATERAL (SELECT c.chat_id, c.lang, c.blocked FROM chats c"                         \
    "   WHERE c.reporter = r.reporter ORDER BY c.last_seen DESC LIMIT 1) ch ON true"

/* Both claims return: id, public_ref, question, chat_id, lang, blocked. */
static const char followups_claim_sql[] =
    "SELECT f.id, r.public_ref, f.question, ch.chat_id, ch.lang, ch.blocked"
    " FROM followups f JOIN reports r ON r.id = f.report_id" REPORTER_CHAT
    " WHERE f.relayed_at IS NULL AND f.relay_error IS NULL"
    " ORDER BY f.asked_at, f.id LIMIT $1::bigint FOR UPDATE OF f SKIP LOCKED";

/* Only final decisions are told: needs_info is followed by a question, escalated is not
 * decided yet; both are told once they become final. */
static const char reviewed_claim_sql[] =
    "SELECT r.id, r.public_ref, NULL::text, ch.chat_id, ch.lang, ch.blocked"
    " FROM reports r" REPORTER_CHAT
    " WHERE r.decided_at IS NOT NULL AND r.reviewed_notified_at IS NULL"
    "   AND r.status IN ('confirmed', 'rejected', 'duplicate')"
    " ORDER BY r.decided_at, r.id LIMIT $1::bigint FOR UPDATE OF r SKIP LOCKED";

/* What one claimed row becomes: the composed message, or the reason there is none
 * (NULL reason and NULL params: marked without a message, e.g. notices switched off). */
static int relay_row(const PGresult *r, int row, int send, store_relay_compose_fn compose, void *ud,
                     char **params, const char **reason)
{
    struct store_relay_item it = {
        .id = st_getll(r, row, 0),
        .public_ref = PQgetvalue(r, row, 1),
        .question = PQgetisnull(r, row, 2) ? NULL : PQgetvalue(r, row, 2),
        .chat_id = PQgetisnull(r, row, 3) ? 0 : st_getll(r, row, 3),
        .lang = PQgetisnull(r, row, 4) ? NULL : PQgetvalue(r, row, 4),
        .blocked = !PQgetisnull(r, row, 5) && PQgetvalue(r, row, 5)[0] == 't',
    };
    *params = NULL;
    *reason = NULL;
    if (!it.chat_id)
        *reason = "chat gone";
    else if (it.blocked)
        *reason = "chat blocked";
    else if (send)
        return compose(ud, &it, params, reason);
    return TL_OK;
}

/* Claims up to max rows with claim_sql and writes what they become (questions relayed:
 * reviewed 0; reviewed notices: 1) through the one write path, in one call of
 * store_apply_plan, all in one transaction. */
static int relay_batch(struct store *s, size_t max, const char *claim_sql, int reviewed, int send,
                       store_relay_compose_fn compose, void *ud, struct store_relay_counts *c,
                       struct tl_errinfo *ei)
{
    char mb[32];
    const char *cv[1] = {st_ll(mb, (long long)max)};
    PGresult *r = NULL;
    struct store_relay_counts local = {0, 0};
    struct st_plan p;
    int rc = st_ready(s, ei);
    if (c)
        memset(c, 0, sizeof(*c));
    if (rc || max == 0)
        return rc;
    st_plan_init(&p);
    if ((rc = st_begin(s, ei)) != TL_OK)
        goto out;
    if ((rc = st_exec(s, claim_sql, 1, cv, &r, ei)) != TL_OK)
        goto out;
    for (int i = 0; i < PQntuples(r) && rc == TL_OK; i++) {
        char *params = NULL;
        const char *reason = NULL;
        if ((rc = relay_row(r, i, send, compose, ud, &params, &reason)) != TL_OK)
            break;
        long long id = st_getll(r, i, 0);
        struct st_relay_mark rm = {.followup_id = reviewed ? 0 : id,
                                   .report_id = reviewed ? id : 0,
                                   .chat_id = params ? st_getll(r, i, 3) : 0,
                                   .params = params,
                                   .reason = reason};
        rc = st_plan_add_relay(&p, &rm, ei);
        if (params)
            local.queued++;
        else
            local.refused++;
        free(params);
    }
    if (rc == TL_OK)
        rc = st_plan_write(s, &p, 0, NULL, ei);
    if (rc == TL_OK)
        rc = st_commit(s, ei);
out:
    if (rc != TL_OK)
        st_rollback(s);
    else if (c)
        *c = local;
    st_plan_release(&p);
    PQclear(r);
    return rc;
}

int store_relay_followups(struct store *s, size_t max, store_relay_compose_fn compose, void *ud,
                          struct store_relay_counts *c, struct tl_errinfo *ei)
{
    return relay_batch(s, max, followups_claim_sql, 0, 1, compose, ud, c, ei);
}

int store_relay_reviewed(struct store *s, size_t max, int send, store_relay_compose_fn compose,
                         void *ud, struct store_relay_counts *c, struct tl_errinfo *ei)
{
    return relay_batch(s, max, reviewed_claim_sql, 1, send, compose, ud, c, ei);
}

int store_followup_by_reply(struct store *s, long long chat_id, long long message_id,
                            long long *followup_id, char **public_ref, char **lang,
                            struct tl_errinfo *ei)
{
    char b1[32], b2[32];
    const char *v[2] = {st_ll(b1, chat_id), st_ll(b2, message_id)};
    PGresult *r = NULL;
    *followup_id = 0;
    *public_ref = *lang = NULL;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s,
                 "SELECT f.id, r.public_ref, c.lang FROM outbox o"
                 " JOIN followups f ON f.id = o.followup_id JOIN reports r ON r.id = f.report_id"
                 " LEFT JOIN chats c ON c.chat_id = o.chat_id"
                 " WHERE o.chat_id = $1::bigint AND o.tg_message_id = $2::bigint"
                 "   AND o.followup_id IS NOT NULL"
                 " LIMIT 1",
                 2, v, &r, ei);
    if (rc)
        return rc;
    if (PQntuples(r) == 1) {
        *public_ref = st_str(r, 0, 1);
        *lang = st_str(r, 0, 2);
        if (!*public_ref || (!*lang && !PQgetisnull(r, 0, 2))) {
            free(*public_ref);
            free(*lang);
            *public_ref = *lang = NULL;
            rc = TL_ENOMEM;
        } else {
            *followup_id = st_getll(r, 0, 0);
        }
    }
    PQclear(r);
    return rc;
}
