/* web/streams.c - how many event streams each account has open, so a few accounts (or
 * one console reloaded in a loop) cannot hold every server thread: at sse_per_account
 * streams the account's oldest is ended. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "web_int.h"
#include "common/banned.h"

/* An account's open event streams, oldest first; the entry goes when the last one ends. */
struct stream_count {
    struct web_streams *st;
    char *account;
    long live;   /* streams not told to end */
    long ending; /* told to end, not yet freed (their threads finish a read or a send) */
    struct web_stream_hold *head;
    struct stream_count *next;
};

struct web_stream_hold {
    struct stream_count *acct;
    struct web_sse *sse;
    int ending;
    struct web_stream_hold *next;
};

struct web_streams {
    pthread_mutex_t mu;
    long cap;
    struct stream_count *head;
};

struct web_streams *web_streams_new(long cap)
{
    struct web_streams *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    pthread_mutex_init(&st->mu, NULL);
    st->cap = cap;
    return st;
}

void web_streams_free(struct web_streams *st)
{
    if (!st)
        return;
    /* every stream has ended (web_free stops the daemon first), so no entry is left */
    pthread_mutex_destroy(&st->mu);
    free(st);
}

struct web_stream_hold *web_streams_begin(struct web_streams *st, const char *account,
                                          struct web_sse *sse)
{
    struct stream_count *e;
    struct web_stream_hold *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    pthread_mutex_lock(&st->mu);
    for (e = st->head; e && strcmp(e->account, account) != 0; e = e->next)
        ;
    if (!e && (e = calloc(1, sizeof(*e))) != NULL) {
        e->st = st;
        if ((e->account = tl_strdup(account)) == NULL) {
            free(e);
            e = NULL;
        } else {
            e->next = st->head;
            st->head = e;
        }
    }
    if (!e || e->ending >= 2 * st->cap) {
        free(h);
        h = NULL;
        goto out;
    }
    for (struct web_stream_hold *o = e->head; o && e->live >= st->cap; o = o->next)
        if (!o->ending) {
            o->ending = 1;
            e->live--;
            e->ending++;
            web_sse_end(o->sse);
        }
    h->acct = e;
    h->sse = sse;
    struct web_stream_hold **tail = &e->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = h;
    e->live++;
out:
    pthread_mutex_unlock(&st->mu);
    return h;
}

void web_streams_end(void *hold)
{
    struct web_stream_hold *h = hold;
    struct stream_count *e = h->acct;
    struct web_streams *st = e->st;
    pthread_mutex_lock(&st->mu);
    struct web_stream_hold **hp = &e->head;
    while (*hp != h)
        hp = &(*hp)->next;
    *hp = h->next;
    if (h->ending)
        e->ending--;
    else
        e->live--;
    if (!e->head) {
        struct stream_count **pp = &st->head;
        while (*pp != e)
            pp = &(*pp)->next;
        *pp = e->next;
        free(e->account);
        free(e);
    }
    pthread_mutex_unlock(&st->mu);
    free(h);
}
