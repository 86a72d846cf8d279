/* daemon/runtime.c - the threads that execute decisions: one poller (intake into
 * the inbox), N workers (per-chat ordered handling, one transaction per update), one
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

#define MAX_WORKERS 64
#define HDL_BATCH 32               /* updates of one chat written in one transaction */
#define HDL_BATCH_BYTES (8u << 20) /* ... unless their photos add up to this much */

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
    pthread_t poller, sender, janitor, drafts, workers[MAX_WORKERS];
    int have_poller, have_sender, have_janitor, have_drafts, n_started;
    pthread_mutex_t mu;
    int fatal;
    struct tl_errinfo fatal_ei;
    struct daemon_stats st;         /* counters (metrics.c serves them) */
    struct daemon_metrics *metrics; /* the listener on cfg->metrics_listen, or NULL */
};

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

static int stopping(struct daemon *rt)
{
    return *rt->o.stop != 0;
}

/* Opens a store, retrying while the database is down, until stop. */
static struct store *open_store(struct daemon *rt, const char *who)
{
    for (int attempt = 0; !stopping(rt); attempt++) {
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

static struct tg_client *open_client(struct daemon *rt, long timeout_ms)
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
    struct store *s = open_store(rt, "poller");
    struct tg_client *c = NULL;
    struct idkeys_cipher *cc = NULL;
    struct seal_chat_cache *chats = NULL;
    if (!s)
        return NULL;
    /* One poller per deployment: the others stand by on the advisory lock. */
    for (int logged = 0; !stopping(rt);) {
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
    for (int attempt = 0; !stopping(rt); attempt++) {
        struct tl_errinfo ei;
        if (store_offset_get(s, &offset, &ei) == TL_OK)
            break;
        if (tl_sleep_ms(tl_backoff_ms(attempt, 200, 5000), rt->o.stop))
            goto out;
    }
    if (stopping(rt))
        goto out;
    c = open_client(rt, rt->o.cfg->http_timeout_ms);
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

/* ---- workers ---- */

struct worker {
    struct daemon *rt;
    struct store *s;
    struct tg_client *c;
    struct idkeys_cipher *cc;
    struct hdl_ctx ctx;
    struct mod_policy policy; /* ctx.mod: refreshed with the rules in force per batch */
    int id;
    long long chat; /* the chat this worker holds */
};

/* Fetches the file an update needs. Transient failures return an error (the update is
 * retried later, nothing is committed); permanent ones are told to the handler. */
static int fetch_file(struct worker *w, const char *file_id, struct hdl_file *f,
                      unsigned char **owned)
{
    char *path = NULL;
    long long size = -1;
    struct tl_errinfo ei;
    int rc = tg_get_file(w->c, file_id, &path, &size, &ei);
    if (rc == TL_OK && size > (long long)w->ctx.max_photo_bytes)
        rc = TL_ETOOBIG;
    size_t len = 0;
    if (rc == TL_OK)
        rc = tg_download_file(w->c, path, w->ctx.max_photo_bytes, owned, &len, &ei);
    free(path);
    if (rc == TL_OK) {
        *f = (struct hdl_file){HDL_FILE_OK, *owned, len};
        return TL_OK;
    }
    if (tg_err_retryable(rc)) {
        log_warn("file fetch failed, will retry err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        return rc;
    }
    log_warn("file fetch refused err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
    f->state = rc == TL_ETOOBIG ? HDL_FILE_TOOBIG : HDL_FILE_FAILED;
    return TL_OK;
}

/* One update on its way: the parsed update and the bytes of the file fetched for it.
 * The decision waits for the chat's transaction, which holds the draft. */
struct pending {
    long long update_id;
    int parsed;
    int relayed;           /* an answer to an analyst's question (relay.c), not a step */
    struct hdl_plan relay; /* its plan */
    struct tg_update u;
    struct hdl_file f;
    unsigned char *file;
    unsigned char *orig; /* the full text, sealed, when the update's was masked */
    size_t orig_len;
};

static void pending_release(struct pending *p)
{
    hdl_plan_release(&p->relay);
    tg_update_release(&p->u);
    free(p->file);
    free(p->orig);
    memset(p, 0, sizeof(*p));
}

/* Parse and fetch: everything but the decision and the write. A transient failure (the
 * file could not be fetched yet) returns an error and the update waits for the next
 * round. */
static int prepare_update(struct worker *w, const struct store_update *su, struct pending *p)
{
    memset(p, 0, sizeof(*p));
    p->update_id = su->update_id;
    int rc = seal_open_update(daemon_keys(w->rt->keys), w->cc, su, &p->u, &p->orig, &p->orig_len);
    if (rc == TL_ECONFIG || rc == TL_ENOMEM) {
        /* sealed under a key this process does not hold: wait for one that does */
        log_warn("update cannot be opened, will retry update_id=%lld err=\"%s\"", su->update_id,
                 tl_strerror(rc));
        return rc;
    }
    if (rc != TL_OK) {
        /* Unreadable: keep the raw row, mark it processed so the chat is not stuck. */
        log_warn("update unreadable update_id=%lld err=\"%s\"", su->update_id, tl_strerror(rc));
        atomic_fetch_add(&w->rt->st.poisoned, 1);
        return TL_OK;
    }
    p->parsed = 1;
    /* relay: a reply to an analyst's question is an answer, not a conversation step */
    struct tl_errinfo rei;
    if ((rc = daemon_relay_reply(w->s, &w->ctx, &p->u, &p->relay, &p->relayed, &rei)) != TL_OK ||
        p->relayed)
        return rc;
    const char *file_id = hdl_wanted_file(&w->ctx, &p->u);
    if (file_id && (rc = fetch_file(w, file_id, &p->f, &p->file)) != TL_OK)
        return rc;
    return TL_OK;
}

/* The chat's conversation while its transaction is open: the draft evolves update by
 * update, in memory. With hold (a batch of several updates) the common updates are held
 * by storage and written together, the draft once (store_conv_defer); alone, or in the
 * one-by-one fallback, each update is written as it is decided. */
struct conv_run {
    struct store_conv_state st;
    struct hdl_draft draft;
    int has_draft;
    const char *lang;  /* static (hdl_lang_pick) or st.chat_lang */
    char upserted[65]; /* the pseudonym whose chats/reporters rows this transaction wrote */
    int hold;
    long long media_kept, media_refused; /* counted when the transaction commits */
};

static void conv_run_release(struct conv_run *cr)
{
    store_conv_state_release(&cr->st);
    hdl_draft_release(&cr->draft);
}

/* What a written plan leaves behind for the chat's next update. */
static void conv_run_after(struct conv_run *cr, struct hdl_plan *plan)
{
    const struct store_conv_effects *cx = &plan->cx;
    if (cx->draft_op == STORE_DRAFT_PUT) {
        hdl_draft_release(&cr->draft);
        cr->draft = plan->draft; /* moved out of the plan */
        memset(&plan->draft, 0, sizeof(plan->draft));
        cr->has_draft = 1;
    } else if (cx->draft_op == STORE_DRAFT_DELETE) {
        hdl_draft_release(&cr->draft);
        cr->has_draft = 0;
        cr->st.prompt_msg_id = 0;
    }
    for (size_t i = 0; i < cx->n_out; i++)
        if (cx->out[i].prompt) /* its Telegram id is not known until it is sent */
            cr->st.prompt_msg_id = 0;
    if (plan->fx.lang)
        cr->lang = plan->fx.lang;
    if (cx->notice)
        cr->st.notice_sent = 1;
}

/* Decides and writes one update inside the chat's open transaction. */
static int conv_step(struct worker *w, struct conv_run *cr, struct pending *pd,
                     struct tl_errinfo *ei)
{
    struct hdl_plan plan;
    struct store_conv_lookup lk;
    struct daemon_near_result nres = {0};
    char pseud[65];
    int rc;
    if (!pd->parsed) {
        struct store_effects only = {.update_id = pd->update_id, .set_blocked = -1};
        return store_conv_write(w->s, &only, NULL, NULL, ei);
    }
    /* the full text of a masked message, for the record, in the chat's transaction */
    if (pd->orig && (rc = store_sealed_text_put(w->s, w->chat, pd->u.msg.message_id, pd->orig,
                                                pd->orig_len, ei)) != TL_OK)
        return rc;
    if (pd->relayed) /* the answer and the thanks; the draft, if any, stays as it is */
        return store_conv_write(w->s, &pd->relay.fx, &pd->relay.cx, NULL, ei);
    struct hdl_conv cv = {
        .draft = cr->has_draft ? &cr->draft : NULL,
        .prompt_msg_id = cr->st.prompt_msg_id,
        .chat_lang = cr->lang,
        .notice_sent = cr->st.notice_sent,
        .lk = &lk,
        .now = (double)time(NULL),
    };
    hdl_lookup_wanted(&w->ctx, &cv, &pd->u, &lk, pseud);
    if ((lk.edit_msg_id || lk.clear_ref || lk.clear_draft_id || lk.mod_reporter) &&
        (rc = store_conv_lookup(w->s, w->chat, &lk, ei)) != TL_OK)
        return rc;
    rc = hdl_decide(&w->ctx, &cv, &pd->u, &pd->f, &plan);
    if (rc != TL_OK) {
        log_error("decide failed update_id=%lld err=\"%s\"", pd->update_id, tl_strerror(rc));
    } else {
        /* a report's photos searched in the index in memory, the database checking; the
         * draft's photos are read unless the draft is known to have none */
        struct store_report_new rep;
        int none = cr->has_draft && cr->draft.id == plan.cx.draft_id && !cr->draft.n_media;
        if (plan.fx.report &&
            (rc = daemon_near_plan(w->rt->near, w->s, w->chat, none ? 0 : plan.cx.draft_id,
                                   plan.fx.report, &rep, &nres, ei)) == TL_OK)
            plan.fx.report = &rep;
        /* the chat's rows were written by an earlier update of this transaction: this one
         * only needs its inbox row marked (the upserts' one-minute guard agrees) */
        const struct store_effects *fx = &plan.fx;
        plan.cx.only_mark = (!fx->pseudonym && !fx->chat_id) ||
                            (fx->pseudonym && strcmp(fx->pseudonym, cr->upserted) == 0);
        int held = 0;
        if (rc == TL_OK && cr->hold)
            rc = store_conv_defer(w->s, fx, &plan.cx, &held, ei);
        if (rc == TL_OK && !held)
            rc = store_conv_write(w->s, fx, &plan.cx, NULL, ei);
        if (rc == TL_OK) {
            if (plan.media.bytes)
                cr->media_kept++;
            else if (pd->f.state != HDL_FILE_NONE)
                cr->media_refused++; /* fetched but not cleanable, or not fetched at all */
            conv_run_after(cr, &plan);
            if (fx->pseudonym)
                tl_strlcpy(cr->upserted, fx->pseudonym, sizeof(cr->upserted));
        }
    }
    hdl_plan_release(&plan);
    daemon_near_result_release(&nres);
    store_conv_lookup_release(&lk);
    return rc;
}

/* Handles n prepared updates of the worker's chat in ONE transaction (one commit for
 * the batch). Any error rolls it all back. *reports counts the reports written. */
static int conv_batch(struct worker *w, struct pending *ps, size_t n, long long *reports,
                      struct tl_errinfo *ei)
{
    struct conv_run cr;
    memset(&cr, 0, sizeof(cr));
    *reports = 0;
    int rc = store_conv_begin(w->s, w->chat, &cr.st, ei);
    if (rc)
        return rc;
    if (w->rt->mod) /* a reload between batches takes effect at the next one */
        daemon_mod_policy(w->rt->mod, &w->policy);
    cr.lang = cr.st.chat_lang;
    cr.hold = n > 1;
    if (cr.st.draft_json) {
        if (hdl_draft_from_json(cr.st.draft_json, &cr.draft) == TL_OK)
            cr.has_draft = 1;
        else
            log_warn("draft unreadable, the chat starts afresh");
    }
    for (size_t i = 0; i < n && rc == TL_OK; i++)
        rc = conv_step(w, &cr, &ps[i], ei);
    if (rc == TL_OK)
        rc = store_conv_commit(w->s, ei);
    else
        store_conv_rollback(w->s);
    if (rc == TL_OK) {
        atomic_fetch_add(&w->rt->st.media_kept, cr.media_kept);
        atomic_fetch_add(&w->rt->st.media_refused, cr.media_refused);
    }
    conv_run_release(&cr);
    *reports = rc == TL_OK ? store_conv_reports(w->s) : 0;
    return rc;
}

/* Writes n prepared updates of one chat: together in one transaction, or, when the
 * batch fails, one by one in order (a public reference clash draws another). Returns
 * how many were written; the rest wait for the next round. */
static size_t apply_pending(struct worker *w, struct pending *ps, size_t n)
{
    struct tl_errinfo ei;
    size_t done = 0;
    long long reports = 0, r1;
    tl_errinfo_clear(&ei);
    if (n > 1 && conv_batch(w, ps, n, &reports, &ei) == TL_OK) {
        done = n;
    } else {
        for (; done < n; done++) {
            int rc;
            for (int tries = 0;; tries++) {
                rc = conv_batch(w, &ps[done], 1, &r1, &ei);
                if (rc != TL_ECONFLICT || tries >= 5)
                    break;
            }
            if (rc == TL_EINVAL || (rc == TL_EDB && (strncmp(ei.sqlstate, "22", 2) == 0 ||
                                                     strncmp(ei.sqlstate, "23", 2) == 0))) {
                /* The database refused the plan itself (invalid data, a constraint), not
                 * the moment: retrying cannot help and would hold the chat's later updates
                 * forever. The raw update stays in the inbox for an operator; it is marked
                 * processed. */
                log_error("update refused, kept sealed in the inbox update_id=%lld detail=\"%s\"",
                          ps[done].update_id, ei.msg);
                r1 = 0;
                struct store_effects refused = {
                    .update_id = ps[done].update_id, .set_blocked = -1, .refused = 1};
                rc = store_apply(w->s, &refused, NULL, &ei);
                if (rc == TL_OK)
                    atomic_fetch_add(&w->rt->st.poisoned, 1);
            }
            if (rc != TL_OK) {
                log_warn("update not applied update_id=%lld err=\"%s\" sqlstate=%s detail=\"%s\"",
                         ps[done].update_id, tl_strerror(rc), ei.sqlstate, ei.msg);
                break;
            }
            reports += r1;
        }
    }
    atomic_fetch_add(&w->rt->st.reports, reports);
    atomic_fetch_add(&w->rt->st.handled, (long long)done);
    return done;
}

/* Handles a chat's pending updates in order, in batches. Returns TL_OK when every one
 * was written; otherwise the chat is left for a later round (order is kept: nothing
 * after a failed update is written). */
static int handle_updates(struct worker *w, const struct store_update *ups, size_t n)
{
    struct pending *ps = calloc(HDL_BATCH, sizeof(*ps));
    int rc = TL_OK;
    if (!ps)
        return TL_ENOMEM;
    for (size_t start = 0; start < n && rc == TL_OK && !stopping(w->rt);) {
        size_t k = 0, bytes = 0;
        int64_t from = tl_prom_now_us();
        while (start + k < n && k < HDL_BATCH && bytes < HDL_BATCH_BYTES) {
            if ((rc = prepare_update(w, &ups[start + k], &ps[k])) != TL_OK) {
                pending_release(&ps[k]);
                break;
            }
            bytes += ps[k].f.len;
            k++;
        }
        size_t done = apply_pending(w, ps, k);
        if (done)
            tl_hist_observe(&w->rt->st.handle, tl_prom_now_us() - from);
        if (done < k)
            rc = TL_EDB;
        for (size_t i = 0; i < k; i++)
            pending_release(&ps[i]);
        start += k;
    }
    free(ps);
    return rc;
}

/* A chat's pending updates read at a time by a worker. */
#define WORKER_FETCH 32

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct daemon *rt = w->rt;
    char name[16];
    int failures = 0;
    snprintf(name, sizeof(name), "worker%d", w->id);
    w->s = open_store(rt, name);
    w->c = open_client(rt, rt->o.cfg->http_timeout_ms);
    w->cc = idkeys_cipher_new();
    if (!w->s || !w->c || !w->cc)
        goto out;
    if (rt->mod && !(w->ctx.mod_scratch = mod_scratch_new()))
        goto out;
    long idle = rt->o.idle_ms > 0 ? rt->o.idle_ms : 20;
    while (!stopping(rt)) {
        long long chat = 0;
        int got = 0;
        struct tl_errinfo ei;
        int rc = store_chat_claim(w->s, &chat, &got, &ei);
        if (rc != TL_OK) {
            long wait = tl_backoff_ms(failures++, 200, 5000);
            log_warn("inbox claim failed err=\"%s\" detail=\"%s\" retry_in_ms=%ld", tl_strerror(rc),
                     ei.msg, wait);
            tl_sleep_ms(wait, rt->o.stop);
            continue;
        }
        if (!got) {
            tl_sleep_ms(idle, rt->o.stop);
            continue;
        }
        int broken = 0;
        w->chat = chat;
        while (!broken && !stopping(rt)) {
            struct store_update *ups = NULL;
            size_t n = 0;
            if ((rc = store_inbox_pending(w->s, chat, WORKER_FETCH, &ups, &n, &ei)) != TL_OK ||
                n == 0) {
                broken = rc != TL_OK;
                break;
            }
            /* on a failure the chat stops here and is retried later: per-chat order */
            broken = handle_updates(w, ups, n) != TL_OK;
            store_updates_free(ups, n);
            /* fewer than asked for: that was all the chat had; what arrived since is
             * found by the next claim, without a read here that finds nothing most of
             * the time (one statement per chat handled) */
            if (n < WORKER_FETCH)
                break;
        }
        if (store_chat_release(w->s, chat, &ei) != TL_OK)
            broken = 1;
        if (broken) {
            long wait = tl_backoff_ms(failures++, 200, 5000);
            tl_sleep_ms(wait, rt->o.stop);
        } else {
            failures = 0;
        }
    }
out:
    mod_scratch_free(w->ctx.mod_scratch);
    idkeys_cipher_free(w->cc);
    tg_client_free(w->c);
    store_free(w->s);
    free(w);
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
    struct send_ctx sc = {rt, open_store(rt, "sender"), idkeys_cipher_new()};
    struct tg_client *c = open_client(rt, rt->o.cfg->http_timeout_ms);
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
    struct store *s = open_store(rt, "janitor");
    /* every minute: the queue's priority refresh (recency decay, corroborations a
     * concurrent insert missed: docs/priority.md); every hour: retention */
    int64_t next_purge = 0;
    while (s && !stopping(rt)) {
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
    struct store *s = open_store(rt, "drafts");
    char *ru = hdl_reminder_params("uk"), *re = hdl_reminder_params("en");
    char *xu = hdl_expired_params("uk"), *xe = hdl_expired_params("en");
    long every = rt->o.drafts_every_ms > 0 ? rt->o.drafts_every_ms : 30000;
    while (s && ru && re && xu && xe && !stopping(rt)) {
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

int daemon_start(const struct daemon_opts *o, struct daemon **out, struct tl_errinfo *ei)
{
    *out = NULL;
    struct daemon *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return TL_ENOMEM;
    rt->o = *o;
    rt->api_base = o->api_base ? o->api_base : o->cfg->telegram_api_base;
    rt->token = o->token ? o->token : o->cfg->bot_token;
    rt->n_workers = o->workers > 0 ? o->workers : (int)o->cfg->workers;
    if (rt->n_workers <= 0) { /* 0: one per core (measured best: bench/README.md, intake) */
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        rt->n_workers = cores > 0 ? (int)cores : 2;
    }
    if (rt->n_workers > MAX_WORKERS)
        rt->n_workers = MAX_WORKERS;
    if (!rt->token || !*rt->token) {
        free(rt);
        return tl_errf(ei, TL_ECONFIG, "no bot token");
    }
    const struct cfg *c = o->cfg;
    int rc = check_keys(c, ei);
    if (rc != TL_OK) {
        free(rt);
        return rc;
    }
    rc = geo_ctx_new(c->area_file && *c->area_file ? c->area_file : NULL,
                     c->gazetteer_file && *c->gazetteer_file ? c->gazetteer_file : NULL, &rt->geo,
                     ei);
    if (rc != TL_OK) {
        free(rt);
        return rc;
    }
    log_info("places loaded area=%s settlements=%zu", c->area_file && *c->area_file ? "yes" : "no",
             geo_ctx_places(rt->geo));
    if ((rc = daemon_mod_new(c, &rt->mod, ei)) != TL_OK ||
        (rc = daemon_keyring_new(c, o->stop, &rt->keys)) != TL_OK) {
        daemon_mod_free(rt->mod);
        geo_ctx_free(rt->geo);
        free(rt);
        return rc;
    }
    if (c->metrics_listen && *c->metrics_listen &&
        (rc = daemon_metrics_start(c->metrics_listen, &rt->st, &rt->metrics, ei)) != TL_OK) {
        daemon_keyring_free(rt->keys);
        daemon_mod_free(rt->mod);
        geo_ctx_free(rt->geo);
        free(rt);
        return rc;
    }
    pthread_mutex_init(&rt->mu, NULL);
    /* loads in the background: until then the store path searches alone */
    if (c->dedup_index_refresh_ms > 0 &&
        daemon_near_start(c->database_url, c->dedup_index_refresh_ms, &rt->near) != TL_OK)
        log_error("near-duplicate index not started: the database searches alone");
    if (!o->no_poller && pthread_create(&rt->poller, NULL, poller_main, rt) == 0)
        rt->have_poller = 1;
    for (int i = 0; i < rt->n_workers; i++) {
        struct worker *w = calloc(1, sizeof(*w));
        if (!w)
            break;
        w->rt = rt;
        w->id = i;
        w->ctx = (struct hdl_ctx){.secret = o->cfg->secret,
                                  .secret_len = o->cfg->secret_len,
                                  .max_photo_bytes = (size_t)o->cfg->max_photo_bytes,
                                  .geo = rt->geo,
                                  .categories = o->cfg->categories,
                                  .moving_categories = o->cfg->moving_categories,
                                  .draft_idle_minutes = o->cfg->draft_idle_minutes,
                                  .auto_clear_chat = o->cfg->auto_clear_chat != 0,
                                  .tz = o->cfg->tz,
                                  .dedup = {
                                      .on = 1,
                                      .window_s = o->cfg->dedup_window_minutes * 60,
                                      .max_distance = (int)o->cfg->dedup_max_distance,
                                      .seen_before_s = o->cfg->dedup_seen_before_days * 86400,
                                  }};
        if (rt->mod) {
            daemon_mod_policy(rt->mod, &w->policy);
            w->ctx.mod = &w->policy;
            w->ctx.mod_categories = daemon_mod_categories(rt->mod);
        }
        if (pthread_create(&rt->workers[rt->n_started], NULL, worker_main, w) != 0) {
            free(w);
            break;
        }
        rt->n_started++;
    }
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
    if (daemon_mod_watch(rt->mod, c->database_url, o->stop) != TL_OK)
        log_error("moderation rules thread not started: reloads through the API wait for a "
                  "restart");
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
    daemon_near_free(rt->near);
    daemon_relay_join(rt->relay);
    daemon_webhooks_join(rt->webhooks);
    daemon_metrics_free(rt->metrics);
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
