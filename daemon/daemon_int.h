/* daemon/daemon_int.h - what the daemon's files share beside daemon.h: the daemon itself
 * (runtime.c starts its threads, worker.c runs the workers), the counters its threads add
 * to and its metrics listener (metrics.c) writes, and the listen address. */
#ifndef TL_DAEMON_INT_H
#define TL_DAEMON_INT_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/err.h"
#include "common/idkey.h"
#include "common/prom.h"
#include "daemon.h"

/* Since the process started; monotonic (Prometheus counters). */
struct daemon_stats {
    atomic_llong batches;         /* getUpdates batches stored */
    atomic_llong received;        /* updates getUpdates returned, or the webhook stored */
    atomic_llong stored;          /* ... of them new to the inbox */
    atomic_llong webhook_refused; /* webhook POSTs without the right secret (401) */
    atomic_llong handled;         /* updates handled, their effects committed */
    atomic_llong poisoned;        /* unreadable, or refused by the database: kept raw, skipped */
    atomic_llong reports;         /* reports written */
    atomic_llong media_kept;      /* photos and videos stripped and kept */
    atomic_llong media_refused;   /* files refused: too big, not fetched, not cleanable */
    atomic_llong sent;            /* replies Telegram took */
    atomic_llong send_failed;     /* replies given up (400s, too many tries) */
    atomic_llong send_blocked;    /* replies to a chat that blocked the bot (403) */
    atomic_llong send_retried;    /* tries to be repeated (429, 5xx, network) */
    atomic_llong rate_limited;    /* of them, Telegram's 429 */
    atomic_int poller_held;       /* this process holds the poller's lock */
    _Atomic(struct daemon_near *) near; /* the photo index /metrics describes (NULL: none) */
    struct tl_hist handle;              /* one chat's batch of updates: fetch, decide, commit */
};

struct daemon_stats *daemon_stats_of(struct daemon *d);

#define DAEMON_MAX_WORKERS 64

struct geo_ctx;
struct daemon_relay;
struct daemon_webhooks;
struct daemon_mod;
struct daemon_keyring;
struct daemon_metrics;
struct store;
struct tg_client;

struct daemon {
    struct daemon_opts o;
    const char *api_base;
    const char *token;
    int n_workers;
    struct geo_ctx *geo;
    struct daemon_relay *relay;       /* follow-ups and reviewed notices (relay.c) */
    struct daemon_webhooks *webhooks; /* outgoing webhooks (webhook.c) */
    struct daemon_mod *mod;           /* moderation's policy and rules; NULL: off */
    struct daemon_keyring *keys;      /* the identity keys in force (keyring.c) */
    struct daemon_near *near;         /* the photo hashes in memory (near.c); NULL: none */
    pthread_t poller, sender, janitor, drafts, workers[DAEMON_MAX_WORKERS];
    int have_poller, have_sender, have_janitor, have_drafts, n_started;
    pthread_mutex_t mu;
    int fatal;
    struct tl_errinfo fatal_ei;
    struct daemon_stats st;         /* counters (metrics.c serves them) */
    struct daemon_metrics *metrics; /* the listener on cfg->metrics_listen, or NULL */
};

/* ---- what the threads share (runtime.c) ---- */
/* Whether the daemon is stopping (its stop flag is set). */
int daemon_stopping(struct daemon *rt);
/* Opens a store, retrying while the database is down, until stop; NULL: stopped. The
 * caller owns it (store_free). */
struct store *daemon_open_store(struct daemon *rt, const char *who);
/* A Bot API client for rt's address and token; NULL: no memory. Free with
 * tg_client_free(). */
struct tg_client *daemon_open_client(struct daemon *rt, long timeout_ms);

/* ---- the workers (worker.c) ---- */
/* Starts rt->n_workers worker threads (fewer if memory or threads run out), counted in
 * rt->n_started; daemon_join joins them. */
void daemon_workers_start(struct daemon *rt);

/* "host:port" (IPv4) into sa; what names the key in the error: "webhook_listen". */
int daemon_parse_listen(const char *s, const char *what, struct sockaddr_in *sa,
                        struct tl_errinfo *ei) TL_WUR;

/* ---- the near-duplicate index in memory (near.c) ---- */
/* For rep about to be stored in the chat's open transaction on s: searches its photos
 * (draft_id's, read after the held updates are written, 0 none; and its own) in the
 * index; *copy is rep, with near pointing at r's answer when there is one. Release r (whatever is
 * returned) once the plan is written or held. */
int daemon_near_plan(struct daemon_near *nr, struct store *s, long long chat_id, long long draft_id,
                     const struct store_report_new *rep, struct store_report_new *copy,
                     struct daemon_near_result *r, struct tl_errinfo *ei) TL_WUR;

/* ---- the metrics listener (metrics.c) ---- */
struct daemon_metrics;
/* Serves GET /metrics of st on listen (cfg->metrics_listen) in a thread of its own. */
int daemon_metrics_start(const char *listen, struct daemon_stats *st, struct daemon_metrics **out,
                         struct tl_errinfo *ei) TL_WUR;
unsigned daemon_metrics_port_of(const struct daemon_metrics *m);
void daemon_metrics_free(struct daemon_metrics *m);

/* ---- the identity keys in force (keyring.c) ---- */
struct daemon_keyring;
/* Starts with c->idkeys (borrowed; c outlives the ring) and a thread that reloads when
 * c->identity_key_file changes, until *stop. */
int daemon_keyring_new(const struct cfg *c, volatile sig_atomic_t *stop,
                       struct daemon_keyring **out) TL_WUR;
/* The key set to seal and open with now: valid for a batch (a reload replaces it; the
 * replaced set stays readable for many reloads more). */
const struct idkeys *daemon_keys(struct daemon_keyring *kr);
/* Reads identity_key_file again; a set the database's check values refuse (a wrong
 * key, a key that sealed values missing) is TL_ECONFIG and the keys in force stay. */
int daemon_keyring_reload(struct daemon_keyring *kr, struct tl_errinfo *ei) TL_WUR;
/* Stops and joins the watcher, frees every set the ring made. NULL is a no-op. */
void daemon_keyring_free(struct daemon_keyring *kr);
struct daemon_keyring *daemon_keyring_of(struct daemon *d);

#endif
