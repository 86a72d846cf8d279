/* web/events.c - live updates: one connection polls web_events every WEB_EV_POLL_MS
 * (the triggers of storage/schema/ append new reports, claims, releases, decisions and
 * follow-up changes while a web server is registered) and writes each event as an SSE
 * frame into a ring (an "auth" event goes to the server's kept credentials instead:
 * web/creds.c); every open event stream reads
 * the ring from where it joined, keeps the frames of the queues its account may see,
 * and sends a comment heartbeat every 15 s. A stream that falls more than the ring
 * behind skips ahead (the console refetches on "resync"). Each frame carries the id
 * "epoch-seq"; a stream ends after sse_max_seconds, and the client's reconnect (with
 * Last-Event-ID) is authenticated and reads its account's queues again, then resumes
 * after that id: an account disabled or taken off a queue stops getting its events.
 * Each account holds at most sse_per_account streams (the oldest is ended). */
#include "web_int.h"

#include <errno.h>
#include <pthread.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "storage/store_web.h"
#include "common/banned.h"

#define HEARTBEAT_MS 15000

struct web_sse {
    struct web_events *ev;
    unsigned long long next; /* the ring position this stream reads next */
    char *queues;            /* ",general,restricted," */
    int64_t end_ms;          /* tl_now_ms() at which the stream ends */
    int hello_sent;
    struct tl_buf out; /* frames not yet handed to libmicrohttpd */
    size_t off;
    void (*on_free)(void *arg); /* told when the stream ends (web_sse_on_free) */
    void *on_free_arg;
    int ended; /* web_sse_end: the next read ends the stream (under ev->mu) */
};

static void ring_put(struct web_events *ev, char *frame, char *queue)
{
    pthread_mutex_lock(&ev->mu);
    size_t i = (size_t)(ev->seq % WEB_EV_RING);
    free(ev->ring[i]);
    free(ev->queue[i]);
    ev->ring[i] = frame;
    ev->queue[i] = queue;
    ev->seq++;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

void web_events_push(struct web_events *ev, const char *payload)
{
    struct json_object *o = json_tokener_parse(payload), *e = NULL, *q = NULL;
    char *frame = NULL, *queue = NULL;
    if (!o || !json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, "event", &e) || !json_object_is_type(e, json_type_string))
        goto out;
    if (web_creds_event(ev->creds, json_object_get_string(e))) /* not for the consoles */
        goto out;
    if (json_object_object_get_ex(o, "queue", &q) && json_object_is_type(q, json_type_string))
        queue = tl_strdup(json_object_get_string(q));
    char *event = tl_strdup(json_object_get_string(e));
    json_object_object_del(o, "event");
    if (event)
        frame = tl_asprintf("event: %s\ndata: %s\n\n", event,
                            json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    free(event);
    if (!frame || (!queue && q)) {
        free(frame);
        free(queue);
        goto out;
    }
    ring_put(ev, frame, queue);
    frame = NULL;
out:
    json_object_put(o);
}

/* A frame that tells every stream to refetch (events may have been missed). */
static void put_resync(struct web_events *ev)
{
    char *f = tl_strdup("event: resync\ndata: {}\n\n");
    if (f)
        ring_put(ev, f, NULL);
}

static void deliver(void *arg, const char *body)
{
    web_events_push(arg, body);
}

/* Waits up to ms, or until stopping; 1 when stopping. */
static int wait_or_stop(struct web_events *ev, long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ev->mu);
    while (!ev->stopping && pthread_cond_timedwait(&ev->cv, &ev->mu, &t) == 0)
        ;
    int stop = ev->stopping;
    pthread_mutex_unlock(&ev->mu);
    return stop;
}

static void *poll_main(void *arg)
{
    struct web_events *ev = arg;
    int attempt = 0, attached = 1;
    while (!wait_or_stop(ev, attached ? WEB_EV_POLL_MS : tl_backoff_ms(attempt++, 200, 5000))) {
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        if (!attached) {
            if (store_events_attach(ev->db, &ev->pos, &ei) != TL_OK)
                continue;
            /* Whatever happened meanwhile is unknown: consoles refetch. */
            attached = 1;
            attempt = 0;
            put_resync(ev);
            log_info("events: reading again");
            continue;
        }
        int resync = 0;
        if (store_events_poll(ev->db, &ev->pos, WEB_EV_BATCH, deliver, ev, &resync, &ei) != TL_OK) {
            log_warn("events: poll failed detail=\"%s\"", ei.msg);
            web_creds_read(ev->creds, 0);
            attached = 0;
            continue;
        }
        if (resync) {
            log_warn("events: more than %d events waiting; the consoles refetch", WEB_EV_BATCH);
            web_creds_flush(ev->creds); /* what was skipped may have been about credentials */
            put_resync(ev);
        }
        web_creds_read(ev->creds, 1);
        atomic_store(&ev->read_upto, ev->pos.cursor);
    }
    return NULL;
}

int web_events_start(struct web_events *ev, const char *database_url, struct web_creds *creds,
                     struct tl_errinfo *ei)
{
    memset(ev, 0, sizeof(*ev));
    ev->creds = creds;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ev->epoch = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    pthread_mutex_init(&ev->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ev->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = store_open(database_url, &ev->db, ei);
    if (rc == TL_OK)
        rc = store_events_attach(ev->db, &ev->pos, ei);
    if (rc == TL_OK && pthread_create(&ev->th, NULL, poll_main, ev) != 0)
        rc = tl_errf(ei, TL_ENOMEM, "cannot start the events thread");
    if (rc == TL_OK)
        ev->started = 1;
    return rc;
}

void web_events_stop(struct web_events *ev)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    pthread_mutex_lock(&ev->mu);
    ev->stopping = 1;
    pthread_cond_broadcast(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    if (ev->started)
        pthread_join(ev->th, NULL);
    ev->started = 0;
    if (ev->db && store_events_detach(ev->db, &ei) != TL_OK)
        log_warn("events: unregistering the reader failed detail=\"%s\"", ei.msg);
    store_free(ev->db);
    ev->db = NULL;
    store_events_reset(&ev->pos);
    for (size_t i = 0; i < WEB_EV_RING; i++) {
        free(ev->ring[i]);
        free(ev->queue[i]);
        ev->ring[i] = ev->queue[i] = NULL;
    }
}

int web_sse_parse_id(const char *s, long long *epoch, unsigned long long *seq)
{
    char *end;
    if (!s || !(*s >= '0' && *s <= '9') || strlen(s) > 41)
        return 0;
    errno = 0;
    *epoch = strtoll(s, &end, 10);
    if (errno || *end != '-' || !(end[1] >= '0' && end[1] <= '9'))
        return 0;
    *seq = strtoull(end + 1, &end, 10);
    return !errno && *end == '\0';
}

struct web_sse *web_sse_new(struct web_events *ev, const char *queues_csv, const char *last_id,
                            long long max_ms)
{
    struct web_sse *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->ev = ev;
    x->queues = tl_asprintf(",%s,", queues_csv ? queues_csv : "");
    if (!x->queues) {
        free(x);
        return NULL;
    }
    tl_buf_init(&x->out, 0);
    x->end_ms = tl_now_ms() + max_ms;
    long long epoch = 0;
    unsigned long long seq = 0;
    int ours = web_sse_parse_id(last_id, &epoch, &seq);
    pthread_mutex_lock(&ev->mu);
    ours = ours && epoch == ev->epoch && seq < ev->seq;
    x->next = ours ? seq + 1 : ev->seq;
    pthread_mutex_unlock(&ev->mu);
    /* a client that saw frames of another run (or sent nonsense) may have missed some */
    if (last_id && !ours && tl_buf_append(&x->out, "event: resync\ndata: {}\n\n", 24)) {
        web_sse_free(x);
        return NULL;
    }
    return x;
}

void web_sse_end(struct web_sse *x)
{
    pthread_mutex_lock(&x->ev->mu);
    x->ended = 1;
    pthread_cond_broadcast(&x->ev->cv);
    pthread_mutex_unlock(&x->ev->mu);
}

void web_sse_on_free(struct web_sse *x, void (*fn)(void *arg), void *arg)
{
    x->on_free = fn;
    x->on_free_arg = arg;
}

void web_sse_free(void *p)
{
    struct web_sse *x = p;
    if (!x)
        return;
    if (x->on_free)
        x->on_free(x->on_free_arg);
    free(x->queues);
    tl_buf_release(&x->out);
    free(x);
}

static int visible(const struct web_sse *x, const char *queue)
{
    if (!queue)
        return 1;
    size_t n = strlen(queue);
    for (const char *p = strstr(x->queues, queue); p; p = strstr(p + 1, queue))
        if (p[-1] == ',' && p[n] == ',')
            return 1;
    return 0;
}

/* Under ev->mu: appends the frames this stream has not seen and may see. */
static int collect(struct web_sse *x)
{
    struct web_events *ev = x->ev;
    if (ev->seq - x->next > WEB_EV_RING) {
        x->next = ev->seq - WEB_EV_RING;
        if (tl_buf_append(&x->out, "event: resync\ndata: {}\n\n", 24))
            return TL_ENOMEM;
    }
    for (; x->next < ev->seq; x->next++) {
        size_t i = (size_t)(x->next % WEB_EV_RING);
        char id[64];
        int n = snprintf(id, sizeof(id), "id: %lld-%llu\n", ev->epoch, x->next);
        if (ev->ring[i] && visible(x, ev->queue[i]) &&
            (tl_buf_append(&x->out, id, (size_t)n) ||
             tl_buf_append(&x->out, ev->ring[i], strlen(ev->ring[i]))))
            return TL_ENOMEM;
    }
    return TL_OK;
}

ssize_t web_sse_read(void *p, uint64_t pos, char *buf, size_t max)
{
    struct web_sse *x = p;
    struct web_events *ev = x->ev;
    (void)pos;
    if (!x->hello_sent) {
        x->hello_sent = 1;
        if (tl_buf_append(&x->out, "retry: 3000\n: connected\n\n", 25))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (x->off >= x->out.len) {
        tl_buf_clear(&x->out);
        x->off = 0;
        int64_t now = tl_now_ms();
        if (now >= x->end_ms)
            return MHD_CONTENT_READER_END_OF_STREAM; /* the client reconnects */
        int64_t wait = x->end_ms - now < HEARTBEAT_MS ? x->end_ms - now : HEARTBEAT_MS;
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += (time_t)(wait / 1000);
        dl.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&ev->mu);
        int rc = 0;
        while (!ev->stopping && !x->ended && x->out.len == 0 && rc != ETIMEDOUT) {
            if (x->next == ev->seq)
                rc = pthread_cond_timedwait(&ev->cv, &ev->mu, &dl);
            if (collect(x)) {
                pthread_mutex_unlock(&ev->mu);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
        }
        int stopping = ev->stopping || x->ended;
        pthread_mutex_unlock(&ev->mu);
        if (stopping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (x->out.len == 0 && tl_buf_append(&x->out, ": heartbeat\n\n", 13))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = x->out.len - x->off;
    if (n > max)
        n = max;
    memcpy(buf, x->out.data + x->off, n);
    x->off += n;
    return (ssize_t)n;
}

int web_events_open(struct web_call *c)
{
    struct tl_errinfo ei;
    char *csv = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_web_queues_for(c->s, c->who.account, &csv, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    struct web_sse *sse =
        web_sse_new(c->ev, csv, c->last_event_id, c->cfg->sse_max_seconds * 1000LL);
    free(csv);
    if (!sse)
        return TL_ENOMEM;
    /* Each stream holds a connection and its thread for up to sse_max_seconds. */
    struct web_stream_hold *held = web_streams_begin(c->streams, c->who.account, sse);
    if (!held) {
        web_sse_free(sse);
        c->resp->retry_after = 10;
        return web_reply_err(c->resp, 429, "rate_limited",
                             "this account's event streams are still closing; retry soon");
    }
    web_sse_on_free(sse, web_streams_end, held);
    c->resp->sse = sse;
    c->resp->status = 200;
    c->resp->ctype = "text/event-stream";
    return TL_OK;
}

/* ---- open event streams per account: at sse_per_account streams the account's
 * oldest is ended, so a few accounts (or one console reloaded in a loop) cannot hold
 * every server thread ---- */

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
