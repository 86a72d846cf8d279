/* bot/sender.c - delivers the outbox. Storage's claim keeps to ~1 message/s per
 * chat; this loop keeps the global rate (a pacing token bucket: one token every
 * 1/rate s, so no second ever holds more than rate sends) and turns every Bot API
 * answer into an outcome the sink records: sent, retry later, failed, blocked. */
#include "tg.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

struct bucket {
    int64_t interval_us;
    int64_t next_us; /* earliest time the next send may start */
};

static int64_t now_us(void)
{
    return tl_now_ms() * 1000;
}

/* Waits for the next token; TL_ESTOP if *stop is set meanwhile. */
static int bucket_take(struct bucket *b, volatile sig_atomic_t *stop)
{
    int64_t now = now_us();
    if (b->next_us > now) {
        long ms = (long)((b->next_us - now + 999) / 1000);
        if (tl_sleep_ms(ms, stop) == TL_ESTOP)
            return TL_ESTOP;
        now = now_us();
    }
    b->next_us = (b->next_us > now ? b->next_us : now) + b->interval_us;
    return TL_OK;
}

/* Classifies one Bot API answer. The error text points into ei (kept alive by the
 * caller until done() returns). */
static void classify(int rc, const struct tl_errinfo *ei, const struct tg_outmsg *m,
                     int max_attempts, struct tg_send_result *r)
{
    r->error = ei->msg[0] ? ei->msg : tl_strerror(rc);
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

/* Sends one message and records its outcome; returns the 429 retry_after in seconds
 * (0 when the answer was not a 429). */
static int send_one(struct tg_client *c, const struct tg_send_sink *sink, const struct tg_outmsg *m,
                    int max_attempts)
{
    struct tl_errinfo ei;
    struct json_object *res = NULL, *v;
    struct tg_send_result r = {0};
    int rc = tg_call(c, m->method, m->params_json, &res, &ei);
    if (rc == TL_OK && json_object_is_type(res, json_type_object) &&
        json_object_object_get_ex(res, "message_id", &v) && json_object_is_type(v, json_type_int))
        r.message_id = json_object_get_int64(v);
    json_object_put(res);
    classify(rc, &ei, m, max_attempts, &r);
    if (r.outcome == TG_SENT)
        log_debug("outbox sent outbox_id=%lld method=%s message_id=%lld", m->id, m->method,
                  r.message_id);
    else
        log_warn("outbox send failed outbox_id=%lld method=%s outcome=%s err=\"%s\" http=%ld "
                 "tg_code=%d attempts=%d retry_in_ms=%ld detail=\"%s\"",
                 m->id, m->method, outcome_name(r.outcome), tl_strerror(rc), ei.http_status,
                 ei.tg_code, m->attempts + 1, r.retry_ms, r.error ? r.error : "");
    struct tl_errinfo dei;
    tl_errinfo_clear(&dei);
    int drc = sink->done(sink->ud, m, &r, &dei);
    if (drc != TL_OK)
        log_warn("outbox record failed, the message will be claimed again outbox_id=%lld "
                 "err=\"%s\" detail=\"%s\"",
                 m->id, tl_strerror(drc), dei.msg);
    return rc == TL_ERATE ? (ei.retry_after > 0 ? ei.retry_after : 1) : 0;
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
    int max_attempts = o->max_attempts > 0 ? o->max_attempts : 20;
    struct bucket b = {.interval_us = 1000000 / rate, .next_us = 0};
    size_t batch = rate > 100 ? 100 : (size_t)rate;
    int claim_fails = 0, n429 = 0;
    log_info("sender started rate_per_s=%ld", rate);
    for (;;) {
        if (stop && *stop)
            break;
        struct tg_outmsg *msgs = NULL;
        size_t n = 0;
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        int rc = sink->claim(sink->ud, batch, &msgs, &n, &ei);
        if (rc != TL_OK) {
            long wait = tl_backoff_ms(claim_fails++, 500, 30000);
            log_warn("outbox claim failed err=\"%s\" retry_in_ms=%ld detail=\"%s\"",
                     tl_strerror(rc), wait, ei.msg);
            if (tl_sleep_ms(wait, stop) == TL_ESTOP)
                break;
            continue;
        }
        claim_fails = 0;
        if (n == 0) {
            if (msgs)
                sink->release(sink->ud, msgs, 0);
            if (drain && *drain) {
                log_info("sender drained");
                return TL_OK;
            }
            if (tl_sleep_ms(idle, stop) == TL_ESTOP)
                break;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            if (bucket_take(&b, stop) == TL_ESTOP)
                break;
            int ra = send_one(c, sink, &msgs[i], max_attempts);
            /* One 429 may be one chat's flood limit; two in a row to different
             * messages mean the bot as a whole is over the limit: everyone waits. */
            n429 = ra ? n429 + 1 : 0;
            if (n429 >= 2) {
                log_warn("sender paused: repeated 429 from Telegram retry_in_ms=%ld", ra * 1000L);
                b.next_us = now_us() + (int64_t)ra * 1000000;
                n429 = 0;
            }
        }
        sink->release(sink->ud, msgs, n);
    }
    log_info("sender stopped");
    return TL_ESTOP;
}
