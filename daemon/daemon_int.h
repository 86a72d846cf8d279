/* daemon/daemon_int.h - what the daemon's files share beside daemon.h: the counters its
 * threads add to and its metrics listener (metrics.c) writes, and the listen address. */
#ifndef TL_DAEMON_INT_H
#define TL_DAEMON_INT_H

#include <netinet/in.h>
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
    struct tl_hist handle;        /* one chat's batch of updates: fetch, decide, commit */
};

struct daemon_stats *daemon_stats_of(struct daemon *d);

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
