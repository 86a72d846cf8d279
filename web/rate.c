/* web/rate.c - the per-token rate limit: a token bucket per credential (or client, for
 * login and public routes), api_rate_per_min requests a minute, kept in a fixed table. */
#include "server_int.h"

#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "common/banned.h"

long web_rate_take(struct web *w, const char *key)
{
    double per_s = (double)w->cfg->api_rate_per_min / 60.0, cap = (double)w->cfg->api_rate_per_min;
    uint32_t h = tl_fnv1a_str(key);
    /* the clock is read under the lock: a request timed before the one that took the
     * lock first would find the bucket's last time ahead of it and be refused */
    pthread_mutex_lock(&w->rate_mu);
    int64_t now = tl_now_us();
    struct web_rate_slot *slot = NULL, *oldest = NULL;
    for (int i = 0; i < WEB_RATE_PROBE && !slot; i++) {
        struct web_rate_slot *c = &w->rate[(h + (uint32_t)i) % WEB_RATE_SLOTS];
        if (strcmp(c->key, key) == 0)
            slot = c;
        else if (!oldest || c->b.last_us < oldest->b.last_us)
            oldest = c;
    }
    if (!slot) { /* a new key takes the stalest slot of its probe run */
        slot = oldest;
        tl_strlcpy(slot->key, key, sizeof(slot->key));
        tl_tbucket_init(&slot->b, per_s, cap, now);
    }
    int64_t wait_us = tl_tbucket_take(&slot->b, now);
    pthread_mutex_unlock(&w->rate_mu);
    return wait_us ? (long)(wait_us / 1000000) + 1 : 0;
}
