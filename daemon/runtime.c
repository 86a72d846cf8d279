/* daemon/runtime.c - the threads that execute decisions: one poller (intake into
 * the inbox), N workers (per-chat ordered handling: worker.c), one
 * sender (the outbox), the janitor (priority refresh, retention), the drafts' pass
 * (reminders, expiry), and the relay's thread (relay.c). Each thread owns its own
 * store and Bot API client. */
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bot/tg.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon_int.h"
#include "geo/geo.h"
#include "handlers/hdl.h"
#include "modpolicy.h"
#include "relay.h"
#include "seal.h"
#include "webhook.h"
#include "common/banned.h"

static void set_fatal(struct daemon *rt, int err, const struct tl_errinfo *ei)
{
    pthread_mutex_lock(&rt->mu);
    if (!rt->fatal) {
        rt->fatal = err;
        if (ei)
            rt->fatal_ei = *ei;
    }
    pthread_mutex_unlock(&rt->mu);
    *rt->o.stop = 1;
}

int daemon_stopping(struct daemon *rt)
{
    return *rt->o.stop != 0;
}

/* Opens a store, retrying while the database is down, until stop. */
struct store *daemon_open_store(struct daemon *rt, const char *who)
{
    for (int attempt = 0; !daemon_stopping(rt); attempt++) {
        struct store *s = NULL;
        struct tl_errinfo ei;
        int rc = store_open(rt->o.cfg->database_url, &s, &ei);
        if (rc == TL_OK)
            return s;
        long wait = tl_backoff_ms(attempt, 200, 5000);
        log_warn("database connect failed thread=%s err=\"%s\" detail=\"%s\" retry_in_ms=%ld", who,
                 tl_strerror(rc), ei.msg, wait);
        if (tl_sleep_ms(wait, rt->o.stop))
            break;
    }
    return NULL;
}

struct tg_client *daemon_open_client(struct daemon *rt, long timeout_ms)
{
    struct tg_client_opts co = {
        .api_base = rt->api_base,
        .token = rt->token,
        .timeout_ms = timeout_ms,
    };
    struct tg_client *c = NULL;
    if (tg_client_new(&co, &c) != TL_OK)
        return NULL;
    return c;
}

/* ---- poller ---- */

struct poll_ctx {
    struct daemon *rt;
    struct store *s;
    struct idkeys_cipher *cc;
    struct seal_chat_cache *chats; /* each chat hashed and sealed once per key */
};

/* chats the poller keeps the hash and sealed id of (about 80 bytes each) */
#define POLL_CHAT_CACHE 4096

static int poll_store_batch(void *ud, struct json_object *updates, long long new_offset,
                            struct tl_errinfo *ei)
{
    struct poll_ctx *pc = ud;
    size_t n = json_object_array_length(updates);
    struct store_inbox_row *rows = calloc(n ? n : 1, sizeof(*rows));
    struct seal_bufs *bufs = calloc(n ? n : 1, sizeof(*bufs));
    int rc = TL_OK;
    if (!rows || !bufs) {
        free(rows);
        free(bufs);
        return TL_ENOMEM;
    }
    size_t k = 0;
    const struct idkeys *keys = daemon_keys(pc->rt->keys);
    /* sealed here, before anything is written: no clear identity reaches the inbox, the
     * WAL or a replica */
    for (size_t i = 0; i < n && rc == TL_OK; i++) {
        struct json_object *u = json_object_array_get_idx(updates, i);
        if (!json_object_object_get_ex(u, "update_id", NULL))
            continue; /* not an update: nothing to keep, the offset still moves past it */
        if ((rc = seal_inbox_row(keys, pc->cc, pc->chats, u, &rows[k], &bufs[k])) == TL_OK)
            k++;
    }
    size_t inserted = 0;
    if (rc == TL_OK)
        rc = store_inbox_put(pc->s, rows, k, new_offset, &inserted, ei);
    for (size_t i = 0; i < k; i++)
        seal_bufs_release(&bufs[i]);
    free(bufs);
    free(rows);
    if (rc == TL_OK) {
        atomic_fetch_add(&pc->rt->st.received, (long long)k);
        atomic_fetch_add(&pc->rt->st.batches, 1);
        atomic_fetch_add(&pc->rt->st.stored, (long long)inserted);
        log_debug("inbox batch committed updates=%zu new=%zu offset=%lld", k, inserted, new_offset);
    }
    return rc;
}

static void *poller_main(void *arg)
{
    struct daemon *rt = arg;
    struct store *s = daemon_open_store(rt, "poller");
    struct tg_client *c = NULL;
    struct idkeys_cipher *cc = NULL;
    struct seal_chat_cache *chats = NULL;
    if (!s)
        return NULL;
    /* One poller per deployment: the others stand by on the advisory lock. */
    for (int logged = 0; !daemon_stopping(rt);) {
        int got = 0;
        struct tl_errinfo ei;
        int rc = store_poller_lock(s, &got, &ei);
        if (rc == TL_OK && got) {
            atomic_store(&rt->st.poller_held, 1);
            break;
        }
        if (!logged++)
            log_info("poller standing by: another process holds the poller lock");
        if (tl_sleep_ms(1000, rt->o.stop))
            goto out;
    }
    long long offset = 0;
    for (int attempt = 0; !daemon_stopping(rt); attempt++) {
        struct tl_errinfo ei;
        if (store_offset_get(s, &offset, &ei) == TL_OK)
            break;
        if (tl_sleep_ms(tl_backoff_ms(attempt, 200, 5000), rt->o.stop))
            goto out;
    }
    if (daemon_stopping(rt))
        goto out;
    c = daemon_open_client(rt, rt->o.cfg->http_timeout_ms);
    if (!c || !(cc = idkeys_cipher_new()) || !(chats = seal_chat_cache_new(POLL_CHAT_CACHE))) {
        set_fatal(rt, TL_ENOMEM, NULL);
        goto out;
    }
    struct poll_ctx pc = {rt, s, cc, chats};
    struct tg_poll_sink sink = {&pc, poll_store_batch};
    struct tg_poller_opts po = {
        .timeout_s = (int)rt->o.cfg->poll_timeout,
        .limit = 100,
    };
    struct tl_errinfo ei;
    int rc = tg_poller_run(c, &po, offset, &sink, rt->o.stop, &ei);
    if (rc != TL_OK && rc != TL_ESTOP) {
        log_error("poller stopped err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        set_fatal(rt, rc, &ei);
    }
out:
    atomic_store(&rt->st.poller_held, 0);
    seal_chat_cache_free(chats);
    idkeys_cipher_free(cc);
    tg_client_free(c);
    store_free(s);
    return NULL;
}

/* ---- sender ---- */

/* A reply whose chat was sealed under a key not loaded yet waits this long, this many
 * times (a minute), before it is given up. */
#define SEND_KEY_WAIT_MS 2000
#define SEND_KEY_TRIES 30

struct send_ctx {
    struct daemon *rt;
    struct store *s;
    struct idkeys_cipher *cc;
};

static int send_claim(void *ud, size_t max, struct tg_outmsg **msgs, size_t *n,
                      struct tl_errinfo *ei)
{
    struct send_ctx *sc = ud;
    struct store_outmsg *sm = NULL;
    size_t k = 0;
    *msgs = NULL;
    *n = 0;
    int rc = store_outbox_claim(sc->s, max, sc->rt->o.cfg->send_chat_interval_ms, &sm, &k, ei);
    if (rc != TL_OK || k == 0)
        return rc;
    /* same layout, different folders: move the owned strings over */
    struct tg_outmsg *out = calloc(k, sizeof(*out));
    if (!out) {
        store_outmsgs_free(sm, k);
        return TL_ENOMEM;
    }
    size_t j = 0;
    const struct idkeys *keys = daemon_keys(sc->rt->keys);
    for (size_t i = 0; i < k; i++) {
        /* the Bot API wants the clear chat id: opened here, in memory only */
        char *params = NULL;
        int prc = seal_params_for_send(keys, sc->cc, sm[i].chat_id, sm[i].chat_sealed,
                                       sm[i].chat_sealed_len, sm[i].params_json, &params);
        if (prc == TL_ECONFIG && sm[i].attempts < SEND_KEY_TRIES) {
            /* sealed under a key this process has not taken up yet (a rotation started
             * before the key file reached it): it comes within a second */
            struct tl_errinfo fei;
            log_warn("outbox message sealed under a key not loaded, will retry id=%lld", sm[i].id);
            if (store_outbox_retry(sc->s, sm[i].id, SEND_KEY_WAIT_MS, "identity key not loaded",
                                   &fei) != TL_OK)
                log_warn("outbox retry not recorded id=%lld detail=\"%s\"", sm[i].id, fei.msg);
            continue;
        }
        if (prc != TL_OK) {
            struct tl_errinfo fei;
            log_warn("outbox message has no reply path, failed id=%lld err=\"%s\"", sm[i].id,
                     tl_strerror(prc));
            if (store_outbox_failed(sc->s, sm[i].id,
                                    "no reply path: the chat's id cannot be opened", 0,
                                    &fei) != TL_OK)
                log_warn("outbox failure not recorded id=%lld detail=\"%s\"", sm[i].id, fei.msg);
            continue;
        }
        out[j++] =
            (struct tg_outmsg){sm[i].id, sm[i].chat_id, sm[i].method, params, sm[i].attempts};
        sm[i].method = NULL;
    }
    store_outmsgs_free(sm, k);
    if (!j) {
        free(out);
        return TL_OK;
    }
    *msgs = out;
    *n = j;
    return TL_OK;
}

static int send_done(void *ud, const struct tg_outmsg *m, const struct tg_send_result *r,
                     struct tl_errinfo *ei)
{
    struct send_ctx *sc = ud;
    switch (r->outcome) {
    case TG_SENT:
        atomic_fetch_add(&sc->rt->st.sent, 1);
        return store_outbox_sent(sc->s, m->id, r->message_id, ei);
    case TG_SEND_RETRY:
        atomic_fetch_add(&sc->rt->st.send_retried, 1);
        if (r->rate_limited)
            atomic_fetch_add(&sc->rt->st.rate_limited, 1);
        return store_outbox_retry(sc->s, m->id, r->retry_ms, r->error, ei);
    case TG_SEND_FAILED:
    case TG_SEND_BLOCKED:
        if (r->rate_limited) /* the last of its tries */
            atomic_fetch_add(&sc->rt->st.rate_limited, 1);
        atomic_fetch_add(
            r->outcome == TG_SEND_BLOCKED ? &sc->rt->st.send_blocked : &sc->rt->st.send_failed, 1);
        return store_outbox_failed(sc->s, m->id, r->error, r->outcome == TG_SEND_BLOCKED, ei);
    }
    return TL_EINVAL;
}

static int send_done_sent(void *ud, const struct tg_outmsg *const *m,
                          const struct tg_send_result *r, size_t n, struct tl_errinfo *ei)
{
    struct send_ctx *sc = ud;
    long long *ids = calloc(n, sizeof(*ids)), *mids = calloc(n, sizeof(*mids));
    int rc = TL_ENOMEM;
    if (ids && mids) {
        for (size_t i = 0; i < n; i++) {
            ids[i] = m[i]->id;
            mids[i] = r[i].message_id;
        }
        rc = store_outbox_sent_many(sc->s, ids, mids, n, ei);
    }
    if (rc == TL_OK)
        atomic_fetch_add(&sc->rt->st.sent, (long long)n);
    free(ids);
    free(mids);
    return rc;
}

static void send_release(void *ud, struct tg_outmsg *msgs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].method);
        free(msgs[i].params_json);
    }
    free(msgs);
}

static void *sender_main(void *arg)
{
    struct daemon *rt = arg;
    struct send_ctx sc = {rt, daemon_open_store(rt, "sender"), idkeys_cipher_new()};
    struct tg_client *c = daemon_open_client(rt, rt->o.cfg->http_timeout_ms);
    if (sc.s && c && sc.cc) {
        struct tg_send_sink sink = {&sc, send_claim, send_done, send_release, send_done_sent};
        struct tg_sender_opts so = {.rate_per_s = rt->o.cfg->send_rate};
        int rc = tg_sender_run(c, &so, &sink, rt->o.stop, NULL);
        if (rc != TL_OK && rc != TL_ESTOP)
            log_error("sender stopped err=\"%s\"", tl_strerror(rc));
    }
    idkeys_cipher_free(sc.cc);
    tg_client_free(c);
    store_free(sc.s);
    return NULL;
}

/* ---- janitor: retention ---- */

/* Purges what the retention settings say may go (the raw chat ids of chats not seen
 * for chat_retention_days, processed raw updates), at start and then hourly. Safe to
 * run in every process at once: each purge is one idempotent transaction. */
static void *janitor_main(void *arg)
{
    struct daemon *rt = arg;
    struct store *s = daemon_open_store(rt, "janitor");
    /* every minute: the queue's priority refresh (recency decay, corroborations a
     * concurrent insert missed: docs/priority.md); every hour: retention */
    int64_t next_purge = 0;
    while (s && !daemon_stopping(rt)) {
        struct tl_errinfo ei;
        struct store_priority_refresh pr;
        int rc = store_priority_refresh(s, &pr, &ei);
        if (rc != TL_OK)
            log_warn("priority refresh failed err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        else if (pr.changed || pr.recounted || pr.propagated)
            log_info("priority refresh done scored=%lld changed=%lld recounted=%lld "
                     "propagated=%lld",
                     pr.scored, pr.changed, pr.recounted, pr.propagated);
        if (tl_now_ms() >= next_purge) {
            struct store_purged pg;
            rc = store_purge(s, rt->o.cfg->chat_retention_days, rt->o.cfg->inbox_retention_days,
                             &pg, &ei);
            if (rc == TL_OK)
                log_info("retention purge done inbox=%lld chats=%lld outbox=%lld drafts=%lld "
                         "events=%lld",
                         pg.inbox, pg.chats, pg.outbox, pg.drafts, pg.events);
            else
                log_warn("retention purge failed err=\"%s\" detail=\"%s\"", tl_strerror(rc),
                         ei.msg);
            next_purge = tl_now_ms() + 3600 * 1000LL;
        }
        tl_sleep_ms(60 * 1000L, rt->o.stop);
    }
    store_free(s);
    return NULL;
}

/* ---- drafts: reminders and expiry (conversation) ---- */

/* Reminds the citizens whose draft has been idle for draft_reminder_minutes, and
 * discards (telling them) those idle for draft_idle_minutes, every drafts_every_ms. */
static void *drafts_main(void *arg)
{
    struct daemon *rt = arg;
    struct store *s = daemon_open_store(rt, "drafts");
    char *ru = hdl_reminder_params("uk"), *re = hdl_reminder_params("en");
    char *xu = hdl_expired_params("uk"), *xe = hdl_expired_params("en");
    long every = rt->o.drafts_every_ms > 0 ? rt->o.drafts_every_ms : 30000;
    while (s && ru && re && xu && xe && !daemon_stopping(rt)) {
        struct store_conv_janitor j = {
            .remind_after_s = rt->o.cfg->draft_reminder_minutes * 60,
            .remind_params_uk = ru,
            .remind_params_en = re,
            .expired_params_uk = xu,
            .expired_params_en = xe,
        };
        struct tl_errinfo ei;
        int rc = store_conv_janitor(s, &j, &ei);
        if (rc != TL_OK)
            log_warn("draft pass failed err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        else if (j.reminded || j.expired)
            log_info("draft pass done reminded=%lld expired=%lld", j.reminded, j.expired);
        tl_sleep_ms(every, rt->o.stop);
    }
    free(ru);
    free(re);
    free(xu);
    free(xe);
    store_free(s);
    return NULL;
}

/* ---- lifecycle ---- */

/* The keys must be the database's own: refused here, before any thread writes a hash
 * no one can join or a value no one can open. */
static int check_keys(const struct cfg *c, struct tl_errinfo *ei)
{
    struct store *s = NULL;
    if (!c->idkeys.n || !c->idkeys.has_lookup)
        return tl_errf(ei, TL_ECONFIG, "the identity keys are not loaded (identity_key_file %s)",
                       c->identity_key_file);
    int rc = store_open(c->database_url, &s, ei);
    if (rc == TL_OK)
        rc = store_idkeys_verify(s, &c->idkeys, c->identity_key_file, ei);
    store_free(s);
    if (rc != TL_OK)
        log_error("refusing to start err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei ? ei->msg : "");
    return rc;
}

/* Takes o over: the Bot API's address and token (o's own, or the config's) and the number
 * of workers (0: one per core). */
static int daemon_resolve_opts(struct daemon *rt, const struct daemon_opts *o,
                               struct tl_errinfo *ei)
{
    rt->o = *o;
    rt->api_base = o->api_base ? o->api_base : o->cfg->telegram_api_base;
    rt->token = o->token ? o->token : o->cfg->bot_token;
    rt->n_workers = o->workers > 0 ? o->workers : (int)o->cfg->workers;
    if (rt->n_workers <= 0) { /* 0: one per core (measured best: bench/README.md, intake) */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        rt->n_workers = cores > 0 ? (int)cores : 2;
    }
    if (rt->n_workers > DAEMON_MAX_WORKERS)
        rt->n_workers = DAEMON_MAX_WORKERS;
    if (!rt->token || !*rt->token)
        return tl_errf(ei, TL_ECONFIG, "no bot token");
    return TL_OK;
}

/* What the threads share, loaded before any of them starts: the identity keys (checked
 * against the database, then the key ring), the places, moderation's policy and the
 * metrics listener. On error nothing loaded is left behind. */
static int daemon_load_shared(struct daemon *rt, struct tl_errinfo *ei)
{
    const struct cfg *c = rt->o.cfg;
    int rc = check_keys(c, ei);
    if (rc != TL_OK)
        return rc;
    rc = geo_ctx_new(c->area_file && *c->area_file ? c->area_file : NULL,
                     c->gazetteer_file && *c->gazetteer_file ? c->gazetteer_file : NULL, &rt->geo,
                     ei);
    if (rc != TL_OK)
        return rc;
    log_info("places loaded area=%s settlements=%zu", c->area_file && *c->area_file ? "yes" : "no",
             geo_ctx_places(rt->geo));
    if ((rc = daemon_mod_new(c, &rt->mod, ei)) != TL_OK ||
        (rc = daemon_keyring_new(c, rt->o.stop, &rt->keys)) != TL_OK)
        goto out;
    if (c->metrics_listen && *c->metrics_listen)
        rc = daemon_metrics_start(c->metrics_listen, &rt->st, &rt->metrics, ei);
out:
    if (rc != TL_OK) {
        daemon_keyring_free(rt->keys);
        daemon_mod_free(rt->mod);
        geo_ctx_free(rt->geo);
    }
    return rc;
}

/* Starts the threads: the poller, the workers, the sender, the janitor and the drafts'
 * pass, then the relay, the outgoing webhooks and the rules' watcher. A thread that does
 * not start is logged or left out (the counts say so), never fatal. */
static void daemon_start_threads(struct daemon *rt)
{
    const struct daemon_opts *o = &rt->o;
    /* loads in the background: until then the store path searches alone */
    if (o->cfg->dedup_index_refresh_ms > 0 &&
        daemon_near_start(o->cfg->database_url, o->cfg->dedup_index_refresh_ms, &rt->near) != TL_OK)
        log_error("near-duplicate index not started: the database searches alone");
    atomic_store(&rt->st.near, rt->near);
    if (!o->no_poller && pthread_create(&rt->poller, NULL, poller_main, rt) == 0)
        rt->have_poller = 1;
    daemon_workers_start(rt);
    if (!o->no_sender && pthread_create(&rt->sender, NULL, sender_main, rt) == 0)
        rt->have_sender = 1;
    if (pthread_create(&rt->janitor, NULL, janitor_main, rt) == 0)
        rt->have_janitor = 1;
    if (pthread_create(&rt->drafts, NULL, drafts_main, rt) == 0)
        rt->have_drafts = 1;
    struct daemon_relay_opts ro = {.cfg = o->cfg, .stop = o->stop};
    if (daemon_relay_start(&ro, &rt->relay) != TL_OK)
        log_error("relay thread not started: follow-ups wait for a restart");
    struct daemon_webhooks_opts wo = {.cfg = o->cfg, .stop = o->stop};
    if (daemon_webhooks_start(&wo, &rt->webhooks) != TL_OK)
        log_error("webhook thread not started: deliveries wait for a restart");
    if (daemon_mod_watch(rt->mod, o->cfg->database_url, o->stop) != TL_OK)
        log_error("moderation rules thread not started: reloads through the API wait for a "
                  "restart");
}

int daemon_start(const struct daemon_opts *o, struct daemon **out, struct tl_errinfo *ei)
{
    *out = NULL;
    struct daemon *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return TL_ENOMEM;
    int rc = daemon_resolve_opts(rt, o, ei);
    if (rc == TL_OK)
        rc = daemon_load_shared(rt, ei);
    if (rc != TL_OK) {
        free(rt);
        return rc;
    }
    pthread_mutex_init(&rt->mu, NULL);
    daemon_start_threads(rt);
    log_info("runtime started workers=%d poller=%d sender=%d", rt->n_started, rt->have_poller,
             rt->have_sender);
    *out = rt;
    return TL_OK;
}

int daemon_join(struct daemon *rt, struct tl_errinfo *ei)
{
    if (!rt)
        return TL_OK;
    if (rt->have_poller)
        pthread_join(rt->poller, NULL);
    for (int i = 0; i < rt->n_started; i++)
        pthread_join(rt->workers[i], NULL);
    if (rt->have_sender)
        pthread_join(rt->sender, NULL);
    if (rt->have_janitor)
        pthread_join(rt->janitor, NULL);
    if (rt->have_drafts)
        pthread_join(rt->drafts, NULL);
    daemon_metrics_free(rt->metrics); /* it reads the photo index */
    daemon_near_free(rt->near);
    daemon_relay_join(rt->relay);
    daemon_webhooks_join(rt->webhooks);
    daemon_keyring_free(rt->keys);
    int rc = rt->fatal;
    if (ei && rc)
        *ei = rt->fatal_ei;
    pthread_mutex_destroy(&rt->mu);
    geo_ctx_free(rt->geo);
    daemon_mod_free(rt->mod);
    free(rt);
    return rc;
}

int daemon_reload_rules(struct daemon *rt, struct tl_errinfo *ei)
{
    return daemon_mod_reload(rt->mod, ei);
}

int daemon_reload_keys(struct daemon *rt, struct tl_errinfo *ei)
{
    return daemon_keyring_reload(rt->keys, ei);
}

struct daemon_keyring *daemon_keyring_of(struct daemon *d)
{
    return d->keys;
}

int daemon_reload_geo(struct daemon *rt, struct tl_errinfo *ei)
{
    int rc = geo_ctx_reload(rt->geo, ei);
    if (rc == TL_OK)
        log_info("gazetteer reloaded settlements=%zu", geo_ctx_places(rt->geo));
    return rc;
}

void daemon_counts(struct daemon *rt, struct daemon_counts *c)
{
    c->batches = atomic_load(&rt->st.batches);
    c->updates_stored = atomic_load(&rt->st.stored);
    c->updates_handled = atomic_load(&rt->st.handled);
    c->reports = atomic_load(&rt->st.reports);
    c->sent = atomic_load(&rt->st.sent);
    c->send_failed = atomic_load(&rt->st.send_failed);
}

struct daemon_stats *daemon_stats_of(struct daemon *rt)
{
    return &rt->st;
}

struct daemon_near *daemon_near_of(struct daemon *rt)
{
    return rt->near;
}

unsigned daemon_metrics_port(const struct daemon *rt)
{
    return daemon_metrics_port_of(rt->metrics);
}
