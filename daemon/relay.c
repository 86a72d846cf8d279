/* daemon/relay.c - the bot's relay between analysts and citizens (migration 0004).
 *
 * Analysts (web/) ask a follow-up question by inserting a followups row and decide a
 * report by setting its status; they never learn the chat. A thread here queues the
 * question in the reporter's chat, in the chat's language, as a force_reply message,
 * so that the citizen's answer arrives as a reply; the worker hook then attaches the
 * answer to the question instead of handing the message to the conversation. Once a
 * report is decided, the citizen may be told, neutrally, that it was reviewed. Every
 * message goes through the outbox in the transaction that records it. What is said,
 * and the answer's plan, is decided in handlers/relay.c; this file runs it: the thread
 * and the database. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tg.h"
#include "common/log.h"
#include "common/util.h"
#include "relay.h"
#include "common/banned.h"

#define RELAY_BATCH 50

struct daemon_relay {
    struct daemon_relay_opts o;
    pthread_t thread;
};

/* One round: questions, then reviewed notices. *busy when a batch was full (more may
 * be waiting: no pause before the next round). */
static int relay_round(struct daemon_relay *r, struct store *s, int *busy, struct tl_errinfo *ei)
{
    struct store_relay_counts q, rv;
    int rc = store_relay_followups(s, RELAY_BATCH, hdl_relay_question, NULL, &q, ei);
    if (rc == TL_OK)
        rc = store_relay_reviewed(s, RELAY_BATCH, r->o.cfg->notify_reviewed != 0,
                                  hdl_relay_reviewed, NULL, &rv, ei);
    if (rc != TL_OK)
        return rc;
    if (q.queued || q.refused)
        log_info("follow-ups relayed queued=%lld not_relayed=%lld", q.queued, q.refused);
    if (rv.queued || rv.refused)
        log_info("reviewed notices queued=%lld marked_only=%lld", rv.queued, rv.refused);
    *busy = q.queued + q.refused >= RELAY_BATCH || rv.queued + rv.refused >= RELAY_BATCH;
    return TL_OK;
}

static void *relay_main(void *arg)
{
    struct daemon_relay *r = arg;
    struct store *s = NULL;
    long idle = r->o.interval_ms > 0 ? r->o.interval_ms : 500;
    for (int failures = 0; !*r->o.stop;) {
        struct tl_errinfo ei;
        int busy = 0, rc;
        tl_errinfo_clear(&ei);
        rc = s ? TL_OK : store_open(r->o.cfg->database_url, &s, &ei);
        if (rc == TL_OK)
            rc = relay_round(r, s, &busy, &ei);
        if (rc == TL_OK) {
            failures = 0;
            if (!busy)
                tl_sleep_ms(idle, r->o.stop);
            continue;
        }
        long wait = tl_backoff_ms(failures++, 200, 5000);
        log_warn("relay round failed err=\"%s\" detail=\"%s\" retry_in_ms=%ld", tl_strerror(rc),
                 ei.msg, wait);
        tl_sleep_ms(wait, r->o.stop);
    }
    store_free(s);
    return NULL;
}

int daemon_relay_start(const struct daemon_relay_opts *o, struct daemon_relay **out)
{
    struct daemon_relay *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (!r)
        return TL_ENOMEM;
    r->o = *o;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        free(r);
        return TL_EIO;
    }
    *out = r;
    return TL_OK;
}

void daemon_relay_join(struct daemon_relay *r)
{
    if (!r)
        return;
    pthread_join(r->thread, NULL);
    free(r);
}

/* ---- the answer: a worker's hook before the conversation ---- */

int daemon_relay_reply(struct store *s, const struct hdl_ctx *ctx, const struct tg_update *u,
                       struct hdl_plan *p, int *taken, struct tl_errinfo *ei)
{
    long long followup = 0;
    char *ref = NULL, *lang = NULL;
    *taken = 0;
    if (!hdl_relay_may_answer(u))
        return TL_OK;
    if (ei)
        tl_errinfo_clear(ei);
    int rc =
        store_followup_by_reply(s, u->msg.chat_id, u->msg.reply_to_id, &followup, &ref, &lang, ei);
    if (rc != TL_OK || !followup)
        goto out;
    if ((rc = hdl_relay_answer(ctx, u, followup, ref, lang, p)) != TL_OK)
        goto out;
    *taken = 1;
    log_info("follow-up answer received followup=%lld update_id=%lld", followup, u->update_id);
out:
    if (rc != TL_OK)
        log_warn("follow-up reply not handled yet update_id=%lld err=\"%s\" detail=\"%s\"",
                 u->update_id, tl_strerror(rc), ei ? ei->msg : "");
    free(ref);
    free(lang);
    return rc;
}
