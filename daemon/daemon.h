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

/* SIGHUP: maps the gazetteer file again (workers go on with the old one meanwhile). */
int daemon_reload_geo(struct daemon *rt, struct tl_errinfo *ei) TL_WUR;

#endif
