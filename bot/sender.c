/* bot/sender.c - delivers the outbox. Several Bot API calls are in flight at once
 * (tg_multi: one connection pool), paced by a token bucket (one token every 1/rate s,
 * at most two held: rate sends a second in the long run, never more than rate + 1 in
 * any one second), never two for the same chat: a chat's next message goes only once
 * the outcome of the one before it is recorded. Storage's claim keeps to ~1 message/s
 * per chat. Every Bot API answer becomes an outcome the sink records: sent, retry
 * later, failed, blocked. */
#include "tg.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/tbucket.h"
#include "common/util.h"
#include "common/banned.h"

/* Classifies one Bot API answer. The error text points into ei (kept alive by the
 * caller until done() returns). */
static void classify(int rc, const struct tl_errinfo *ei, const struct tg_outmsg *m,
                     int max_attempts, struct tg_send_result *r)
{
    r->error = ei->msg[0] ? ei->msg : tl_strerror(rc);
    r->rate_limited = rc == TL_ERATE;
    switch (rc) {
    case TL_OK:
        r->outcome = TG_SENT;
        r->error = NULL;
        return;
    case TL_EFORBIDDEN:
        r->outcome = TG_SEND_BLOCKED;
        return;
    case TL_ERATE:
        r->outcome = TG_SEND_RETRY;
        r->retry_ms = (ei->retry_after > 0 ? ei->retry_after : 1) * 1000L;
        break;
    case TL_ETG:
        if (ei->tg_code >= 500) {
            r->outcome = TG_SEND_RETRY;
            r->retry_ms = tl_backoff_ms(m->attempts, 1000, 60000);
        } else {
            r->outcome = TG_SEND_FAILED;
            return;
        }
        break;
    case TL_EAUTH: /* the token, not the message: keep it for when the token is fixed */
        r->outcome = TG_SEND_RETRY;
        r->retry_ms = 60000;
        return;
    default:
        if (tg_err_retryable(rc)) {
            r->outcome = TG_SEND_RETRY;
            r->retry_ms = tl_backoff_ms(m->attempts, 1000, 60000);
        } else {
            r->outcome = TG_SEND_FAILED;
            return;
        }
    }
    if (m->attempts + 1 >= max_attempts)
        r->outcome = TG_SEND_FAILED;
}

static const char *outcome_name(enum tg_send_outcome o)
{
    switch (o) {
    case TG_SENT:
        return "sent";
    case TG_SEND_RETRY:
        return "retry";
    case TG_SEND_FAILED:
        return "failed";
    case TG_SEND_BLOCKED:
        return "blocked";
    }
    return "?";
}

/* One claim: released once every message of it was recorded or left. */
struct batch {
    struct tg_outmsg *msgs;
    size_t n, open;
};

/* A claimed message waiting for its turn or in flight. */
struct job {
    struct tg_outmsg *m;
    struct batch *b;
    int inflight;
};

struct sender {
    struct tg_multi *mx;
    const struct tg_send_sink *sink;
    int max_attempts;
    /* cap each: a claim asks for no more than the queue has room for, and every batch
     * holds at least one queued message */
    struct job *jobs; /* in claim order; a chat's messages keep their order */
    size_t n_jobs;
    struct batch **batches;
    size_t n_batches;
    size_t inflight, max_inflight, cap;
    struct finished *fin;            /* max_inflight: one pass of answers */
    const struct tg_outmsg **sent_m; /* max_inflight: the delivered ones of a pass */
    struct tg_send_result *sent_r;
    int n429;
    int recorded; /* an outcome was recorded since the last claim: new heads may be due */
    int claim_fails;
    int64_t next_claim_ms; /* no claim before, unless an outcome was recorded */
};

/* One message of b is finished with (recorded, or left claimed): the last one releases
 * the claim. */
static void batch_put(struct sender *sd, struct batch *b)
{
    if (--b->open > 0)
        return;
    sd->sink->release(sd->sink->ud, b->msgs, b->n);
    for (size_t i = 0; i < sd->n_batches; i++)
        if (sd->batches[i] == b) {
            sd->batches[i] = sd->batches[--sd->n_batches];
            break;
        }
    free(b);
}

static void job_remove(struct sender *sd, size_t i)
{
    memmove(&sd->jobs[i], &sd->jobs[i + 1], (sd->n_jobs - i - 1) * sizeof(*sd->jobs));
    sd->n_jobs--;
}

/* Claims up to max messages into the queue. */
static int claim(struct sender *sd, size_t max, size_t *got, struct tl_errinfo *ei)
{
    struct tg_outmsg *msgs = NULL;
    size_t n = 0;
    struct batch *b = NULL;
    *got = 0;
    int rc = sd->sink->claim(sd->sink->ud, max, &msgs, &n, ei);
    if (rc != TL_OK)
        return rc;
    if (n == 0) {
        if (msgs)
            sd->sink->release(sd->sink->ud, msgs, 0);
        return TL_OK;
    }
    /* on an error the rows stay claimed in storage and come back when their claim
     * expires */
    if (n > max) {
        sd->sink->release(sd->sink->ud, msgs, n);
        return tl_errf(ei, TL_EINVAL, "the sink claimed %zu messages, %zu asked", n, max);
    }
    if (!(b = calloc(1, sizeof(*b)))) {
        sd->sink->release(sd->sink->ud, msgs, n);
        return TL_ENOMEM;
    }
    *b = (struct batch){msgs, n, n};
    sd->batches[sd->n_batches++] = b;
    for (size_t i = 0; i < n; i++)
        sd->jobs[sd->n_jobs++] = (struct job){&msgs[i], b, 0};
    *got = n;
    return TL_OK;
}

static int chat_busy(const struct sender *sd, size_t upto, long long chat)
{
    for (size_t i = 0; i < upto; i++)
        if (sd->jobs[i].m->chat_id == chat)
            return 1;
    return 0;
}

/* Starts queued messages while the bucket has tokens and calls may be added: the
 * oldest first, none for a chat that has an earlier message queued or in flight.
 * *wait_us: when the bucket has its next token (0: not waiting for one). */
static void dispatch(struct sender *sd, struct tl_tbucket *tb, size_t max_inflight,
                     int64_t *wait_us)
{
    *wait_us = 0;
    for (size_t i = 0; i < sd->n_jobs && sd->inflight < max_inflight; i++) {
        struct job *j = &sd->jobs[i];
        if (j->inflight || chat_busy(sd, i, j->m->chat_id))
            continue;
        int64_t w = tl_tbucket_take(tb, tl_now_us());
        if (w > 0) {
            *wait_us = w;
            return;
        }
        struct tl_errinfo ei;
        int rc = tg_multi_add(sd->mx, j->m->method, j->m->params_json, j->m, &ei);
        if (rc != TL_OK) {
            /* left claimed: it comes back when its claim expires */
            log_warn("outbox send not started outbox_id=%lld err=\"%s\" detail=\"%s\"", j->m->id,
                     tl_strerror(rc), ei.msg);
            struct batch *b = j->b;
            job_remove(sd, i--);
            batch_put(sd, b);
            continue;
        }
        j->inflight = 1;
        sd->inflight++;
    }
}

/* A call that came back, waiting to be recorded with the others of its pass. */
struct finished {
    const struct tg_outmsg *m;
    struct tg_send_result r;
    int rc, drc;
    struct tl_errinfo ei; /* r.error points into it */
};

/* Classifies one answer and logs it. */
static void finish(struct sender *sd, struct finished *f, struct json_object *res)
{
    const struct tg_outmsg *m = f->m;
    struct json_object *v;
    memset(&f->r, 0, sizeof(f->r));
    if (f->rc == TL_OK && json_object_is_type(res, json_type_object) &&
        json_object_object_get_ex(res, "message_id", &v) && json_object_is_type(v, json_type_int))
        f->r.message_id = json_object_get_int64(v);
    classify(f->rc, &f->ei, m, sd->max_attempts, &f->r);
    if (f->r.outcome == TG_SENT)
        log_debug("outbox sent outbox_id=%lld method=%s message_id=%lld", m->id, m->method,
                  f->r.message_id);
    else
        log_warn("outbox send failed outbox_id=%lld method=%s outcome=%s err=\"%s\" http=%ld "
                 "tg_code=%d attempts=%d retry_in_ms=%ld detail=\"%s\"",
                 m->id, m->method, outcome_name(f->r.outcome), tl_strerror(f->rc),
                 f->ei.http_status, f->ei.tg_code, m->attempts + 1, f->r.retry_ms,
                 f->r.error ? f->r.error : "");
}

static void record_one(struct sender *sd, struct finished *f)
{
    struct tl_errinfo dei;
    tl_errinfo_clear(&dei);
    f->drc = sd->sink->done(sd->sink->ud, f->m, &f->r, &dei);
    if (f->drc != TL_OK)
        log_warn("outbox record failed, the message will be claimed again outbox_id=%lld "
                 "err=\"%s\" detail=\"%s\"",
                 f->m->id, tl_strerror(f->drc), dei.msg);
}

/* Records the outcomes of a pass: the delivered ones together when the sink can, the
 * rest one by one. */
static void record(struct sender *sd, struct finished *fin, size_t n)
{
    size_t n_sent = 0;
    for (size_t i = 0; i < n; i++)
        if (fin[i].r.outcome == TG_SENT) {
            sd->sent_m[n_sent] = fin[i].m;
            sd->sent_r[n_sent++] = fin[i].r;
        }
    int together = 0;
    if (n_sent > 1 && sd->sink->done_sent) {
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        int rc = sd->sink->done_sent(sd->sink->ud, sd->sent_m, sd->sent_r, n_sent, &ei);
        together = rc == TL_OK;
        if (!together)
            log_warn("outbox record of %zu sent failed, recording them one by one err=\"%s\" "
                     "detail=\"%s\"",
                     n_sent, tl_strerror(rc), ei.msg);
    }
    for (size_t i = 0; i < n; i++)
        if (!together || fin[i].r.outcome != TG_SENT)
            record_one(sd, &fin[i]);
}

/* Takes back every finished call, records them, then frees their chats: a chat whose
 * message was not recorded as final keeps its later queued messages from going (they
 * are left claimed, to come back in order). */
static void collect(struct sender *sd, struct tl_tbucket *tb)
{
    void *tag;
    struct json_object *res;
    size_t n = 0;
    struct finished *fin = sd->fin;
    while (n < sd->max_inflight && tg_multi_next(sd->mx, &tag, &fin[n].rc, &res, &fin[n].ei)) {
        fin[n].m = tag; /* the message stays put while the queue moves */
        fin[n].drc = TL_OK;
        finish(sd, &fin[n], res);
        json_object_put(res);
        n++;
    }
    if (n == 0)
        return;
    record(sd, fin, n);
    sd->recorded = 1;
    for (size_t k = 0; k < n; k++) {
        size_t at = 0;
        while (at < sd->n_jobs && sd->jobs[at].m != fin[k].m)
            at++;
        if (at == sd->n_jobs)
            continue;
        long long chat = fin[k].m->chat_id;
        struct batch *b = sd->jobs[at].b;
        job_remove(sd, at);
        sd->inflight--;
        if (fin[k].drc != TL_OK || fin[k].r.outcome == TG_SEND_RETRY) {
            for (size_t i = at; i < sd->n_jobs; i++) {
                if (sd->jobs[i].m->chat_id != chat || sd->jobs[i].inflight)
                    continue;
                struct batch *lb = sd->jobs[i].b;
                job_remove(sd, i--);
                batch_put(sd, lb);
            }
        }
        /* One 429 may be one chat's flood limit; two in a row to different
         * messages mean the bot as a whole is over the limit: everyone waits. */
        int ra =
            fin[k].rc == TL_ERATE ? (fin[k].ei.retry_after > 0 ? fin[k].ei.retry_after : 1) : 0;
        sd->n429 = ra ? sd->n429 + 1 : 0;
        if (sd->n429 >= 2) {
            log_warn("sender paused: repeated 429 from Telegram retry_in_ms=%ld", ra * 1000L);
            tl_tbucket_pause(tb, tl_now_us() + (int64_t)ra * 1000000);
            sd->n429 = 0;
        }
        batch_put(sd, b); /* last: it may free the message fin[k].m points to */
    }
}

/* Claims up to want more messages; a failed claim backs off, a short one waits idle ms
 * (unless an outcome frees a chat first). Returns 1 when drain is asked and nothing is
 * left: nothing claimed now, nothing held. */
static int claim_more(struct sender *sd, size_t want, int64_t now, long idle,
                      volatile sig_atomic_t *drain)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    size_t got = 0;
    sd->recorded = 0;
    int crc = claim(sd, want, &got, &ei);
    if (crc != TL_OK) {
        long wait = tl_backoff_ms(sd->claim_fails++, 500, 30000);
        log_warn("outbox claim failed err=\"%s\" retry_in_ms=%ld detail=\"%s\"", tl_strerror(crc),
                 wait, ei.msg);
        sd->next_claim_ms = now + wait;
        return 0;
    }
    sd->claim_fails = 0;
    sd->next_claim_ms = got < want ? now + idle : now;
    return got == 0 && sd->n_jobs == 0 && drain && *drain;
}

/* Stopping: nothing new starts; what is in flight finishes (within the call timeout) and
 * is recorded, so no message is sent twice. The rest, left claimed, comes back when its
 * claim expires. */
static void wind_down(struct sender *sd, struct tl_tbucket *tb)
{
    while (sd->inflight > 0) {
        if (tg_multi_wait(sd->mx, 100) != TL_OK)
            tl_sleep_ms(10, NULL);
        collect(sd, tb);
    }
    while (sd->n_jobs > 0) {
        struct batch *b = sd->jobs[sd->n_jobs - 1].b;
        sd->n_jobs--;
        batch_put(sd, b);
    }
}

int tg_sender_run(struct tg_client *c, const struct tg_sender_opts *o,
                  const struct tg_send_sink *sink, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *drain)
{
    struct tg_sender_opts d = {0};
    if (!o)
        o = &d;
    long rate = o->rate_per_s > 0 ? o->rate_per_s : 30;
    long idle = o->idle_wait_ms > 0 ? o->idle_wait_ms : 200;
    size_t max_inflight = o->max_inflight > 0 ? (size_t)o->max_inflight : 32;
    struct sender sd = {.sink = sink,
                        .max_attempts = o->max_attempts > 0 ? o->max_attempts : 20,
                        .max_inflight = max_inflight,
                        .cap = 8 * max_inflight};
    struct tl_tbucket tb;
    /* Room for one token more than the pace: a call started late (the thread was
     * recording an outcome when its token came) is made up by the next one instead of
     * lost, so the long-run rate is the configured one; a second then holds at most
     * rate + 1 calls. */
    tl_tbucket_init(&tb, (double)rate, 2, tl_now_us());
    tb.tokens = 1; /* the spare is for catching up, not for a burst at the start */
    int rc = TL_ESTOP;
    sd.jobs = calloc(sd.cap, sizeof(*sd.jobs));
    sd.batches = calloc(sd.cap, sizeof(*sd.batches));
    sd.fin = calloc(max_inflight, sizeof(*sd.fin));
    sd.sent_m = calloc(max_inflight, sizeof(*sd.sent_m));
    sd.sent_r = calloc(max_inflight, sizeof(*sd.sent_r));
    rc = sd.jobs && sd.batches && sd.fin && sd.sent_m && sd.sent_r
             ? tg_multi_new(c, max_inflight, &sd.mx)
             : TL_ENOMEM;
    if (rc != TL_OK) {
        log_error("sender not started err=\"%s\"", tl_strerror(rc));
        goto out;
    }
    /* Keep about 100 ms of tokens claimed and waiting (low to high), no more: a claimed
     * message holds its chat, whose next one may not be claimed before it went, so a
     * longer queue would slow the chats down, not the sending up. Unpaced (the rate
     * above what the calls in flight can carry), claim as much as the queue holds: a
     * claim costs a probe per chat waiting, whatever it returns. */
    size_t ahead = rate / 10 > 2 ? (size_t)rate / 10 : 2;
    size_t low = ahead < max_inflight ? ahead : max_inflight;
    size_t high = ahead < sd.cap / 2 ? 2 * ahead : sd.cap;
    log_info("sender started rate_per_s=%ld max_inflight=%zu", rate, max_inflight);
    for (;;) {
        if (stop && *stop) {
            rc = TL_ESTOP;
            break;
        }
        int64_t now = tl_now_ms();
        /* Claim again at once after an outcome freed a chat, else after the idle wait. */
        size_t queued = sd.n_jobs - sd.inflight, room = sd.cap - sd.n_jobs;
        size_t want = high > queued ? high - queued : 0;
        if (want > room)
            want = room;
        if (queued < low && want >= (low + 1) / 2 && (sd.recorded || now >= sd.next_claim_ms) &&
            claim_more(&sd, want, now, idle, drain)) {
            log_info("sender drained");
            rc = TL_OK;
            break;
        }
        int64_t wait_us = 0;
        dispatch(&sd, &tb, max_inflight, &wait_us);
        long wait_ms = sd.next_claim_ms > now ? (long)(sd.next_claim_ms - now) : 1;
        if (wait_us > 0 && wait_us / 1000 < wait_ms)
            wait_ms = (long)(wait_us / 1000);
        if (sd.inflight == 0) {
            if (wait_ms > 0 && tl_sleep_ms(wait_ms, stop) == TL_ESTOP)
                continue;
        } else if (tg_multi_wait(sd.mx, wait_ms > 100 ? 100 : wait_ms) != TL_OK) {
            tl_sleep_ms(10, stop);
        }
        collect(&sd, &tb);
    }
    wind_down(&sd, &tb);
    log_info(rc == TL_OK ? "sender stopped, drained" : "sender stopped");
out:
    tg_multi_free(sd.mx);
    free(sd.jobs);
    free(sd.batches);
    free(sd.fin);
    free(sd.sent_m);
    free(sd.sent_r);
    return rc;
}
