/* daemon/daemon.h - the process that executes decisions: a poller (intake into the
 * inbox), N workers (per-chat ordered handling through handlers/, one transaction per
 * update), a sender (the outbox), the relay (follow-up questions and reviewed notices)
 * and the janitor (retention, draft reminders and expiry). It ties bot/, handlers/ and
 * storage/ together; each thread owns its own store and Bot API client. */
#ifndef TL_DAEMON_H
#define TL_DAEMON_H

#include <signal.h>

#include "common/cfg.h"
#include "common/err.h"
#include "storage/store.h"

struct daemon;

struct daemon_opts {
    const struct cfg *cfg; /* database_url, workers, poll_timeout, send_rate, ... */
    const char *api_base;  /* overrides cfg->telegram_api_base when set (demo, bench) */
    const char *token;     /* overrides cfg->bot_token when set */
    int workers;           /* overrides cfg->workers when > 0 */
    int no_poller;         /* 1: workers and sender only (webhook mode, tests) */
    int no_sender;
    long idle_ms;                /* worker sleep when the inbox is empty; 0: 20 */
    long drafts_every_ms;        /* the janitor's draft reminders/expiry pass; 0: 30000 */
    volatile sig_atomic_t *stop; /* set by a signal or the caller; also set on a fatal error */
};

/* Starts the poller, the workers and the sender as threads. *out NULL on error. */
int daemon_start(const struct daemon_opts *o, struct daemon **out, struct tl_errinfo *ei) TL_WUR;
/* Joins the threads (after *stop was set) and frees d. Returns the first fatal error
 * (TL_EAUTH, TL_ECONFLICT, ...) or TL_OK; ei gets its message. */
int daemon_join(struct daemon *d, struct tl_errinfo *ei) TL_WUR;

/* Counters since start, for logs, the demo and the bench. */
struct daemon_counts {
    long long batches, updates_stored, updates_handled, reports, sent, send_failed;
};
void daemon_counts(struct daemon *d, struct daemon_counts *c);

/* The port of this process's metrics listener (cfg->metrics_listen; useful with port
 * 0), 0 when none. */
unsigned daemon_metrics_port(const struct daemon *d);

/* SIGHUP (and, without it, a change of identity_key_file, seen within a second):
 * reads the identity keys again; new values are sealed with its last key, every key
 * opens. A key set the database refuses (a wrong key, a missing one that sealed values)
 * is TL_ECONFIG with the reason, and the keys in force stay. */
int daemon_reload_keys(struct daemon *rt, struct tl_errinfo *ei) TL_WUR;
/* SIGHUP: maps the gazetteer file again (workers go on with the old one meanwhile). */
int daemon_reload_geo(struct daemon *rt, struct tl_errinfo *ei) TL_WUR;
/* SIGHUP: loads the moderation rules file again; a broken file is refused (logged with
 * its line and column) and the rules in force stay. TL_OK when there is no rules file. */
int daemon_reload_rules(struct daemon *rt, struct tl_errinfo *ei) TL_WUR;

/* ---- the near-duplicate index in memory (near.c) ---- */

struct daemon_near;
/* Loads every stored photo hash into memory in a thread of its own (on its own
 * connection to conninfo, retried while the database is down), then reads the rows
 * stored since every refresh_ms (0: 500). *out NULL on error; free with daemon_near_free
 * (stops and joins the thread; NULL is a no-op). */
int daemon_near_start(const char *conninfo, long refresh_ms, struct daemon_near **out) TL_WUR;
void daemon_near_free(struct daemon_near *nr);
/* Reads the rows stored since the index's snapshot now (or loads it when not loaded). */
int daemon_near_refresh(struct daemon_near *nr, struct tl_errinfo *ei) TL_WUR;
struct daemon_near_info {
    int loaded;
    size_t hashes, bytes; /* hashes held, memory held */
    size_t spare_bytes;   /* of bytes, the room grown buckets left (media_mih_spare_bytes) */
    long long reloads;    /* loads that gave that room back */
    double load_ms;       /* the last load's time */
    long long age_ms;     /* since the snapshot was last moved on */
    long long answers;    /* searches answered since start */
};
void daemon_near_info(struct daemon_near *nr, struct daemon_near_info *info);
/* A search's answer for store_report_new.near: nx (its arrays owned here). */
struct daemon_near_result {
    struct store_near nx; /* nx.snapshot NULL: no answer, the store path searches */
    char *snapshot;
    struct store_near_hash *h;
    long long *ids;
};
/* The stored photos within k bits of each of the n hashes, for the store path: hashes
 * with more than 1,024 are left out (searched there). No answer (r->nx.snapshot NULL)
 * while the index is not loaded or stale, or with nr NULL. Release r with
 * daemon_near_result_release whatever is returned (TL_ENOMEM). */
int daemon_near_search(struct daemon_near *nr, const long long *hashes, size_t n, int k,
                       struct daemon_near_result *r) TL_WUR;
void daemon_near_result_release(struct daemon_near_result *r);
/* d's index (cfg->dedup_index_refresh_ms), NULL when it has none. */
struct daemon_near *daemon_near_of(struct daemon *d);

/* ---- the webhook receiver (intake_hook.c): intake over HTTP instead of getUpdates ---- */

struct daemon_intake_hook;
/* Listens on cfg->webhook_listen for POSTs to cfg->webhook_path carrying the secret of
 * cfg->webhook_secret_file; each update is stored in the inbox before 200 is answered.
 * *out NULL on error. */
int daemon_intake_hook_start(const struct cfg *cfg, struct daemon_intake_hook **out,
                             struct tl_errinfo *ei) TL_WUR;
unsigned daemon_intake_hook_port(const struct daemon_intake_hook *wh);
/* Counts what it receives into d's counters (its metrics listener), and seals with d's
 * identity keys (reloaded while it runs), from now on. */
void daemon_intake_hook_count_into(struct daemon_intake_hook *wh, struct daemon *d);
/* Stops accepting, waits for the requests in progress, frees. NULL is a no-op. */
void daemon_intake_hook_free(struct daemon_intake_hook *wh);
/* Reads the webhook secret file (a trailing newline dropped) and checks Telegram's rule
 * for it (1-256 of A-Z a-z 0-9 _ -). *out: a new string, free(). */
int daemon_intake_hook_secret(const char *path, char **out, struct tl_errinfo *ei) TL_WUR;

#endif
