/* web/pool.c - the server's pools of database connections: one to database_url, one to
 * the read replica's when one is configured. */
#include "server_int.h"

#include <stdlib.h>

#include "common/util.h"
#include "common/banned.h"

/* ---- the database pool ----
 * At most max_open connections (cfg_web_db_connections: two per core by default),
 * opened on demand and kept. A request that finds none free waits in line: a connection
 * given back goes to the longest waiter (a condition variable alone wakes whichever
 * thread it likes, and with more requests than connections the unlucky ones waited
 * many turns: claim p99 27-43 ms instead of 11-12 in bench/triage). */

struct web_pool_waiter {
    pthread_cond_t cv;
    int served; /* given a connection (s), or a free slot to open one (s NULL) */
    struct store *s;
    struct web_pool_waiter *next;
};

/* Hands s (NULL: a slot to open a connection in) to the longest waiter; 0: none waits.
 * Under p->mu. */
static int pool_handoff(struct web_pool *p, struct store *s)
{
    struct web_pool_waiter *x = p->wait_head;
    if (!x)
        return 0;
    p->wait_head = x->next;
    if (!p->wait_head)
        p->wait_tail = NULL;
    x->s = s;
    x->served = 1;
    pthread_cond_signal(&x->cv);
    return 1;
}

struct store *web_pool_get(struct web_pool *p, struct tl_errinfo *ei)
{
    struct store *s = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->epoch && atomic_load(p->epoch) != p->idle_epoch) {
        /* the server went away since they were used: each would fail once */
        for (size_t i = 0; i < p->n_idle; i++)
            store_free(p->idle[i]);
        p->n_open -= p->n_idle;
        p->n_idle = 0;
        p->idle_epoch = atomic_load(p->epoch);
    }
    if (p->n_idle) {
        s = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->mu);
        return s;
    }
    if (p->n_open < p->max_open) {
        p->n_open++;
    } else {
        struct web_pool_waiter x = {.served = 0, .s = NULL, .next = NULL};
        int64_t waited_from = tl_now_ms();
        atomic_fetch_add(p->waits, 1);
        pthread_cond_init(&x.cv, NULL);
        if (p->wait_tail)
            p->wait_tail->next = &x;
        else
            p->wait_head = &x;
        p->wait_tail = &x;
        while (!x.served)
            pthread_cond_wait(&x.cv, &p->mu);
        pthread_cond_destroy(&x.cv);
        atomic_fetch_add(p->wait_us, (long long)(tl_now_ms() - waited_from) * 1000);
        if (x.s) {
            pthread_mutex_unlock(&p->mu);
            return x.s;
        }
        /* a slot: n_open already counts it */
    }
    pthread_mutex_unlock(&p->mu);
    if (store_open(p->url, &s, ei) != TL_OK) {
        pthread_mutex_lock(&p->mu);
        if (!pool_handoff(p, NULL))
            p->n_open--;
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    return s;
}

void web_pool_put(struct web_pool *p, struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&p->mu);
    if (!pool_handoff(p, s))
        p->idle[p->n_idle++] = s;
    pthread_mutex_unlock(&p->mu);
}

int web_pool_init(struct web_pool *p, const char *url, size_t max_open, struct web_metrics *m)
{
    p->url = url;
    p->max_open = max_open;
    p->waits = &m->pool_waits;
    p->wait_us = &m->pool_wait_us;
    pthread_mutex_init(&p->mu, NULL);
    p->idle = calloc(max_open ? max_open : 1, sizeof(*p->idle));
    return p->idle ? TL_OK : TL_ENOMEM;
}

void web_pool_release(struct web_pool *p)
{
    for (size_t i = 0; i < p->n_idle; i++)
        store_free(p->idle[i]);
    free(p->idle);
    pthread_mutex_destroy(&p->mu);
}
