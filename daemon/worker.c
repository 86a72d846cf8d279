/* daemon/worker.c - the workers: each claims a chat with pending updates and handles
 * them in order, in batches (parse, fetch the file, decide, write), one transaction per
 * batch, falling back to one update at a time when a batch fails. Each worker owns its
 * own store, Bot API client and cipher; the daemon (runtime.c) starts them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/tg.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon_int.h"
#include "handlers/hdl.h"
#include "modpolicy.h"
#include "relay.h"
#include "seal.h"
#include "common/banned.h"

#define HDL_BATCH 32               /* updates of one chat written in one transaction */
#define HDL_BATCH_BYTES (8u << 20) /* ... unless their photos add up to this much */

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
    for (size_t start = 0; start < n && rc == TL_OK && !daemon_stopping(w->rt);) {
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
    w->s = daemon_open_store(rt, name);
    w->c = daemon_open_client(rt, rt->o.cfg->http_timeout_ms);
    w->cc = idkeys_cipher_new();
    if (!w->s || !w->c || !w->cc)
        goto out;
    if (rt->mod && !(w->ctx.mod_scratch = mod_scratch_new()))
        goto out;
    long idle = rt->o.idle_ms > 0 ? rt->o.idle_ms : 20;
    while (!daemon_stopping(rt)) {
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
        while (!broken && !daemon_stopping(rt)) {
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

/* A worker for rt's chats, its decisions configured from rt's config; NULL: no memory. */
static struct worker *worker_new(struct daemon *rt, int id)
{
    const struct cfg *c = rt->o.cfg;
    struct worker *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->rt = rt;
    w->id = id;
    w->ctx = (struct hdl_ctx){.secret = c->secret,
                              .secret_len = c->secret_len,
                              .max_photo_bytes = (size_t)c->max_photo_bytes,
                              .geo = rt->geo,
                              .categories = c->categories,
                              .moving_categories = c->moving_categories,
                              .draft_idle_minutes = c->draft_idle_minutes,
                              .auto_clear_chat = c->auto_clear_chat != 0,
                              .tz = c->tz,
                              .dedup = {
                                  .on = 1,
                                  .window_s = c->dedup_window_minutes * 60,
                                  .max_distance = (int)c->dedup_max_distance,
                                  .seen_before_s = c->dedup_seen_before_days * 86400,
                              }};
    if (rt->mod) {
        daemon_mod_policy(rt->mod, &w->policy);
        w->ctx.mod = &w->policy;
        w->ctx.mod_categories = daemon_mod_categories(rt->mod);
    }
    return w;
}

void daemon_workers_start(struct daemon *rt)
{
    for (int i = 0; i < rt->n_workers; i++) {
        struct worker *w = worker_new(rt, i);
        if (!w)
            break;
        if (pthread_create(&rt->workers[rt->n_started], NULL, worker_main, w) != 0) {
            free(w);
            break;
        }
        rt->n_started++;
    }
}
