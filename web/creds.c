/* web/creds.c - the credentials a web server checked lately (struct web_creds, web.h).
 *
 * A request's bearer token or session cookie was checked against PostgreSQL on every
 * request: a round trip of its own before the route's own call, about 13 % of the CPU of
 * an analyst's claim -> decide pair (bench/README.md). Here a successful check
 * is kept for a few seconds (web_auth_cache_seconds), keyed by the SHA-256 of the
 * credential, in a fixed table of slots (a key lands in one slot; a newer key takes
 * it): no allocation per request, bounded memory, and only credentials that passed
 * the database's check ever get in.
 *
 * What may change a credential's answer is announced by the database (migration 0015:
 * triggers on accounts, api_tokens and web_sessions append an "auth" event to
 * web_events), which the server's event reader reads every 100 ms (events.c) and
 * answers with web_creds_flush. So a kept answer is trusted only while that reader
 * keeps reading: web_creds_read marks each successful read, and an answer older than
 * WEB_CREDS_FRESH_MS of reading is not used (a reader that lost its connection, or
 * hangs on it, turns the cache off until it reads again). A check that raced a flush
 * is not kept: web_creds_get hands out the generation it saw, web_creds_put keeps the
 * answer only if no flush came in between. */
#include "web/web.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/util.h"
#include "storage/store_web.h"
#include "common/banned.h"

#define SLOTS 1024

struct slot {
    char key[WEB_CREDS_KEY];
    struct store_principal p;
    int64_t until_ms;
};

struct web_creds {
    pthread_mutex_t mu;
    struct slot *slot;
    uint64_t gen;    /* flushes so far */
    int64_t read_ms; /* the reader's last successful read; 0: none */
    long ttl_ms;
};

int web_creds_new(long ttl_seconds, struct web_creds **out)
{
    *out = NULL;
    struct web_creds *c = calloc(1, sizeof(*c));
    if (!c)
        return TL_ENOMEM;
    c->slot = calloc(SLOTS, sizeof(*c->slot));
    if (!c->slot) {
        free(c);
        return TL_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->ttl_ms = ttl_seconds > 0 ? ttl_seconds * 1000 : 0;
    *out = c;
    return TL_OK;
}

void web_creds_free(struct web_creds *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    /* the principals hold CSRF tokens: not left in freed memory */
    memset(c->slot, 0, SLOTS * sizeof(*c->slot));
    free(c->slot);
    free(c);
}

/* The slot of a key (a kind letter and 64 hex digits), by its FNV-1a hash. */
static struct slot *slot_of(struct web_creds *c, const char *key)
{
    return &c->slot[tl_fnv1a_str(key) % SLOTS];
}

static int fresh(const struct web_creds *c, int64_t now)
{
    return c->ttl_ms > 0 && c->read_ms > 0 && now - c->read_ms <= WEB_CREDS_FRESH_MS;
}

int web_creds_get(struct web_creds *c, const char *key, struct store_principal *p, uint64_t *gen)
{
    int hit = 0;
    int64_t now = tl_now_ms();
    pthread_mutex_lock(&c->mu);
    *gen = c->gen;
    struct slot *s = slot_of(c, key);
    if (fresh(c, now) && s->until_ms > now && strcmp(s->key, key) == 0) {
        *p = s->p;
        hit = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void web_creds_put(struct web_creds *c, const char *key, const struct store_principal *p,
                   uint64_t gen)
{
    if (strlen(key) >= WEB_CREDS_KEY)
        return;
    int64_t now = tl_now_ms();
    long ttl = c->ttl_ms;
    if (p->valid_ms >= 0 && p->valid_ms < ttl)
        ttl = (long)p->valid_ms;
    pthread_mutex_lock(&c->mu);
    if (gen == c->gen && fresh(c, now) && ttl > 0) {
        struct slot *s = slot_of(c, key);
        tl_strlcpy(s->key, key, sizeof(s->key));
        s->p = *p;
        s->until_ms = now + ttl;
    }
    pthread_mutex_unlock(&c->mu);
}

void web_creds_flush(struct web_creds *c)
{
    pthread_mutex_lock(&c->mu);
    c->gen++;
    memset(c->slot, 0, SLOTS * sizeof(*c->slot));
    pthread_mutex_unlock(&c->mu);
}

void web_creds_read(struct web_creds *c, int ok)
{
    int64_t now = tl_now_ms();
    pthread_mutex_lock(&c->mu);
    /* A failed read, and the first good one after it (what changed between the two
     * was never announced to this reader), end every answer kept or being checked. */
    if (!ok || c->read_ms == 0) {
        c->gen++;
        memset(c->slot, 0, SLOTS * sizeof(*c->slot));
    }
    c->read_ms = ok ? now : 0;
    pthread_mutex_unlock(&c->mu);
}

int web_creds_event(struct web_creds *c, const char *event)
{
    if (strcmp(event, "auth") != 0)
        return 0;
    web_creds_flush(c);
    return 1;
}
