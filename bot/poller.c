/* bot/poller.c - the long-poll loop and its durability contract: a batch is handed
 * to the sink (one transaction: raw updates + new offset) and only once that
 * committed does the next getUpdates carry the new offset, which is what tells
 * Telegram to forget the batch. Every failure waits (429: retry_after; the rest:
 * backoff with jitter) and says so in the log; 401 and 409 end the loop. */
#include "tg.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

/* 1 when u is an object with an integer update_id (into *id). */
static int update_id_of(struct json_object *u, long long *id)
{
    struct json_object *v;
    if (!json_object_is_type(u, json_type_object) ||
        !json_object_object_get_ex(u, "update_id", &v) || !json_object_is_type(v, json_type_int))
        return 0;
    *id = json_object_get_int64(v);
    return 1;
}

/* Highest update_id in the batch + 1, or -1 when no element carries one. */
static long long next_offset(struct json_object *arr, size_t *n_bad)
{
    long long best = -1, id;
    size_t n = json_object_array_length(arr);
    *n_bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!update_id_of(json_object_array_get_idx(arr, i), &id))
            (*n_bad)++;
        else if (id >= best)
            best = id + 1;
    }
    return best;
}

/* A new array of the updates in arr that carry an update_id (NULL when out of memory):
 * the others can be neither stored nor acknowledged. */
static struct json_object *with_update_id(struct json_object *arr)
{
    struct json_object *good = json_object_new_array();
    long long id;
    for (size_t i = 0; good && i < json_object_array_length(arr); i++) {
        struct json_object *u = json_object_array_get_idx(arr, i);
        if (update_id_of(u, &id))
            json_object_array_add(good, json_object_get(u));
    }
    return good;
}

/* Logs a getUpdates failure no retry can mend (a wrong or revoked token, an unusable API
 * base URL, another poller or a webhook on the token); 1 when rc is one of them. */
static int poll_fatal(int rc, const struct tl_errinfo *gei)
{
    switch (rc) {
    case TL_EAUTH:
        log_error("getUpdates unauthorized: the bot token is wrong or was revoked, poller "
                  "stops err=\"%s\" http=%ld tg_code=%d detail=\"%s\"",
                  tl_strerror(rc), gei->http_status, gei->tg_code, gei->msg);
        return 1;
    case TL_ECONFIG:
    case TL_EINVAL:
        log_error("getUpdates cannot be sent: check the API base URL, poller stops "
                  "err=\"%s\" detail=\"%s\"",
                  tl_strerror(rc), gei->msg);
        return 1;
    case TL_ECONFLICT:
        log_error("getUpdates conflict: another poller or a webhook uses this bot token, "
                  "poller stops err=\"%s\" http=%ld tg_code=%d detail=\"%s\"",
                  tl_strerror(rc), gei->http_status, gei->tg_code, gei->msg);
        return 1;
    default:
        return 0;
    }
}

int tg_poller_run(struct tg_client *c, const struct tg_poller_opts *o, long long start_offset,
                  const struct tg_poll_sink *sink, volatile sig_atomic_t *stop,
                  struct tl_errinfo *ei)
{
    struct tg_poller_opts d = {0};
    if (!o)
        o = &d;
    int timeout_s = o->timeout_s < 0 ? 0 : o->timeout_s > 50 ? 50 : o->timeout_s;
    int limit = o->limit < 1 || o->limit > 100 ? 100 : o->limit;
    long base = o->base_backoff_ms > 0 ? o->base_backoff_ms : 500;
    long cap = o->max_backoff_ms > 0 ? o->max_backoff_ms : 30000;
    if (cap < base)
        cap = base;
    long long offset = start_offset;
    int fails = 0, store_fails = 0, rc;
    tl_errinfo_clear(ei);
    tg_client_set_abort(c, stop);
    log_info("poller started offset=%lld timeout_s=%d limit=%d", offset, timeout_s, limit);
    while (!(stop && *stop)) {
        struct json_object *updates = NULL;
        struct tl_errinfo gei;
        rc = tg_get_updates(c, offset, timeout_s, limit, &updates, &gei);
        if (rc == TL_ESTOP)
            break;
        if (poll_fatal(rc, &gei)) {
            if (ei)
                *ei = gei;
            goto out;
        }
        if (rc != TL_OK) {
            long wait;
            if (rc == TL_ERATE) {
                wait = (gei.retry_after > 0 ? gei.retry_after : 1) * 1000L;
            } else {
                wait = tl_backoff_ms(fails, base, cap);
            }
            fails++;
            log_warn("getUpdates failed err=\"%s\" http=%ld tg_code=%d retry_after=%d "
                     "attempt=%d retry_in_ms=%ld offset=%lld detail=\"%s\"",
                     tl_strerror(rc), gei.http_status, gei.tg_code, gei.retry_after, fails, wait,
                     offset, gei.msg);
            if (tl_sleep_ms(wait, stop) == TL_ESTOP)
                break;
            continue;
        }
        fails = 0;
        size_t n = json_object_array_length(updates), n_bad = 0;
        long long next = next_offset(updates, &n_bad);
        if (n_bad) {
            /* an element without update_id cannot be stored or acknowledged: drop it */
            log_warn("getUpdates returned updates without update_id count=%zu", n_bad);
            struct json_object *good = with_update_id(updates);
            json_object_put(updates);
            if (!good) {
                tl_sleep_ms(base, stop);
                continue;
            }
            updates = good;
            n = json_object_array_length(updates);
        }
        if (n == 0 || next < 0) {
            json_object_put(updates);
            /* without a long poll an empty answer comes back at once: do not spin */
            if (timeout_s == 0 && tl_sleep_ms(base, stop) == TL_ESTOP)
                break;
            continue;
        }
        if (next < offset) /* never move backwards: the server already forgot those */
            next = offset;
        struct tl_errinfo sei;
        tl_errinfo_clear(&sei);
        int src = sink->store_batch(sink->ud, updates, next, &sei);
        json_object_put(updates);
        if (src != TL_OK) {
            if (src == TL_ECONFLICT || src == TL_ESTOP) {
                log_error("poller stops: the sink refused the batch err=\"%s\" detail=\"%s\"",
                          tl_strerror(src), sei.msg);
                if (ei)
                    *ei = sei;
                rc = src;
                goto out;
            }
            long wait = tl_backoff_ms(store_fails++, base, cap);
            log_warn("store batch failed, will fetch it again err=\"%s\" updates=%zu "
                     "attempt=%d retry_in_ms=%ld detail=\"%s\"",
                     tl_strerror(src), n, store_fails, wait, sei.msg);
            if (tl_sleep_ms(wait, stop) == TL_ESTOP)
                break;
            continue;
        }
        store_fails = 0;
        log_debug("poll ok updates=%zu offset=%lld", n, next);
        offset = next;
    }
    rc = TL_ESTOP;
    log_info("poller stopped offset=%lld", offset);
out:
    tg_client_set_abort(c, NULL);
    return rc;
}
