/* handlers/moderate.c - moderation at the moment a draft becomes a report: the text
 * as it is displayed and the links in it (kept beside the raw text), the verdict
 * of moderation/ (mod_decide) on the report's words and first photo, the reporter's
 * standing, rate state and the window of recent messages from new reporters (read by
 * storage in the chat's transaction, store_conv_lookup), put into the plan: the report's
 * status and verdict (written with it by the one write path) and what the citizen is
 * told. Pure: no I/O. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "hdl_int.h"
#include "moderation/mod.h"
#include "common/banned.h"

_Static_assert(sizeof(((struct hdl_plan *)0)->mod_hits) / sizeof(const char *) == MOD_REASONS_MAX,
               "one kept reason per verdict reason");

/* A pseudonym's first 60 bits as the number moderation/ tells reporters apart by. */
static int64_t reporter_num(const char *pseudonym)
{
    uint64_t v = 0;
    for (int i = 0; i < 15 && pseudonym && pseudonym[i]; i++) {
        int d = tl_hexval(pseudonym[i]);
        v = v << 4 | (uint64_t)(d < 0 ? 0 : d);
    }
    return (int64_t)v;
}

/* The minhash slots kept as hex (4 bytes each, in memory order). 0 when it does not fit. */
static int minhash_from_hex(const char *hex, uint32_t mh[MOD_SIG_K])
{
    unsigned char *b = (unsigned char *)mh;
    if (!hex || strlen(hex) != 2 * sizeof(uint32_t) * MOD_SIG_K)
        return 0;
    for (size_t i = 0; i < sizeof(uint32_t) * MOD_SIG_K; i++) {
        int h = tl_hexval(hex[2 * i]), l = tl_hexval(hex[2 * i + 1]);
        if (h < 0 || l < 0)
            return 0;
        b[i] = (unsigned char)(h << 4 | l);
    }
    return 1;
}

static void bucket_from_json(struct json_object *a, struct tl_tbucket *b)
{
    if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) != 4)
        return;
    b->rate = json_object_get_double(json_object_array_get_idx(a, 0));
    b->burst = json_object_get_double(json_object_array_get_idx(a, 1));
    b->tokens = json_object_get_double(json_object_array_get_idx(a, 2));
    b->last_us = json_object_get_int64(json_object_array_get_idx(a, 3));
}

/* reporter_rate.state: {"a": bucket, "c": [bucket per category]}, a bucket being
 * [rate, burst, tokens, last_us]. Anything else is a fresh state. */
static void rate_from_json(const char *json, struct mod_rate_state *st)
{
    memset(st, 0, sizeof(*st));
    struct json_object *o = json ? json_tokener_parse(json) : NULL, *a, *c;
    if (o && json_object_object_get_ex(o, "a", &a)) {
        bucket_from_json(a, &st->all);
        st->initialised = st->all.burst >= 1 && st->all.rate > 0;
        if (json_object_object_get_ex(o, "c", &c) && json_object_is_type(c, json_type_array))
            for (size_t k = 0; k < json_object_array_length(c) && k < MOD_RATE_CATEGORIES; k++)
                bucket_from_json(json_object_array_get_idx(c, k), &st->cat[k]);
    }
    json_object_put(o);
}

static char *rate_to_json(const struct mod_rate_state *st, size_t ncat)
{
    struct tl_buf b;
    int e;
    tl_buf_init(&b, 0);
    e = tl_buf_printf(&b, "{\"a\":[%.17g,%.17g,%.17g,%lld],\"c\":[", st->all.rate, st->all.burst,
                      st->all.tokens, (long long)st->all.last_us);
    for (size_t k = 0; k < ncat && k < MOD_RATE_CATEGORIES && !e; k++)
        e = tl_buf_printf(&b, "%s[%.17g,%.17g,%.17g,%lld]", k ? "," : "", st->cat[k].rate,
                          st->cat[k].burst, st->cat[k].tokens, (long long)st->cat[k].last_us);
    if (!e)
        e = tl_buf_append(&b, "]}", 2);
    if (e) {
        tl_buf_release(&b);
        return NULL;
    }
    return (char *)tl_buf_steal(&b, NULL);
}

static char *minhash_to_hex(const uint32_t mh[MOD_SIG_K])
{
    char *out = malloc(2 * sizeof(uint32_t) * MOD_SIG_K + 1);
    if (out)
        tl_hex((const unsigned char *)mh, sizeof(uint32_t) * MOD_SIG_K, out);
    return out;
}

/* The category's slot among those with a rate limit of their own, -1 none. */
static int category_slot(const struct hdl_ctx *ctx, const char *cat)
{
    const char *list = ctx->mod_categories;
    size_t n = cat ? strlen(cat) : 0;
    int slot = 0;
    for (const char *s = list; n && s && *s; slot++) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && memcmp(s, cat, n) == 0)
            return slot < MOD_RATE_CATEGORIES ? slot : -1;
        s = e ? e + 1 : NULL;
    }
    return -1;
}

/* The 8 bands of a text signature: slots 2i and 2i+1 as one number. */
static void sig_bands(const struct mod_sig *sig, long long out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (long long)((uint64_t)sig->minhash[2 * i] << 32 | sig->minhash[2 * i + 1]);
}

/* Long enough to be matched as a campaign's text (or a photo): kept in the window. */
static int matchable(const struct hdl_ctx *ctx, const struct mod_sig *sig)
{
    return sig->has_photo || (sig->text_len && sig->text_len >= ctx->mod->campaign.min_text_len);
}

int hdl_text_hygiene(struct hdl_plan *p, struct store_report_new *r)
{
    char *display = NULL;
    size_t neutralised = 0;
    struct mod_link l[MOD_LINKS_MAX];
    r->text_display = NULL;
    r->links = NULL;
    r->n_links = 0;
    if (!r->text)
        return TL_OK;
    int rc = mod_text_display(r->text, strlen(r->text), &display, &neutralised);
    if (rc != TL_OK)
        return rc;
    /* links as they display: no override can turn one around */
    size_t dl = strlen(display), n = mod_links_find(display, dl, l, MOD_LINKS_MAX), bytes = 0;
    n = n < MOD_LINKS_MAX ? n : MOD_LINKS_MAX;
    for (size_t i = 0; i < n; i++)
        bytes += l[i].len + 1;
    if (n) { /* one block: the pointers, then the strings they point at */
        char **list = malloc(n * sizeof(char *) + bytes);
        if (!list || !hdl_keep(p, (char *)list)) {
            free(display);
            return TL_ENOMEM;
        }
        char *at = (char *)(list + n);
        for (size_t i = 0; i < n; i++) {
            memcpy(at, display + l[i].off, l[i].len);
            at[l[i].len] = 0;
            list[i] = at;
            at += l[i].len + 1;
        }
        r->links = (const char *const *)list;
        r->n_links = n;
    }
    if (!neutralised) {
        free(display);
        return TL_OK;
    }
    if (!(r->text_display = hdl_keep(p, display)))
        return TL_ENOMEM;
    return TL_OK;
}

void hdl_mod_lookup(const struct hdl_ctx *ctx, const struct hdl_draft *d,
                    struct store_conv_lookup *lk)
{
    struct mod_sig sig;
    char *words = NULL;
    lk->mod_nbands = 0;
    lk->mod_photo = d->n_media > 0;
    if (hdl_draft_words(d, &words) != TL_OK || !words)
        return;
    size_t len = mod_text_bound(words, strlen(words), MOD_TEXT_MAX_UTF16);
    if (mod_sig_make(words, len, 0, 0, &sig) == TL_OK && matchable(ctx, &sig)) {
        sig_bands(&sig, lk->mod_bands);
        lk->mod_nbands = 8;
    }
    free(words);
}

/* The window of recent messages as moderation/ reads it: win[k] from in->window[src[k]],
 * those whose kept signature cannot be read left out. Returns how many. */
static size_t window_of(const struct store_mod_inputs *in, struct mod_recent *win, size_t *src)
{
    size_t nwin = 0;
    for (size_t i = 0; i < in->n_window; i++) {
        const struct store_mod_recent *w = &in->window[i];
        struct mod_recent *m = &win[nwin];
        if (w->text_len && !minhash_from_hex(w->minhash_hex, m->sig.minhash))
            continue;
        m->sig.text_len = w->text_len;
        m->sig.has_photo = (uint32_t)w->has_photo;
        m->sig.phash = (uint64_t)w->phash;
        m->reporter = reporter_num(w->reporter);
        m->at_us = (int64_t)llround(w->at * 1e6);
        m->campaign = w->campaign;
        src[nwin++] = i;
    }
    return nwin;
}

/* The reporter's standing as storage read it. */
static struct mod_standing standing_of(const struct store_mod_inputs *in)
{
    return (struct mod_standing){
        .reputation = in->reputation,
        .ban = in->banned          ? MOD_BAN_OPEN
               : in->shadow_banned ? MOD_BAN_SHADOW
                                   : MOD_BAN_NONE,
        .first_seen_us = in->known ? (int64_t)llround(in->first_seen * 1e6) : 0,
        .reports = (uint32_t)in->n_reports,
        .confirmed = (uint32_t)in->n_confirmed,
        .rejected = (uint32_t)in->n_rejected,
    };
}

/* The report as the message moderation/ judges (r->text borrowed). */
static struct mod_message message_of(const struct hdl_ctx *ctx, const struct store_mod_inputs *in,
                                     const struct store_report_new *r)
{
    size_t len = r->text ? strlen(r->text) : 0;
    /* a report joins several messages: each within Telegram's limit, the whole judged on
     * as much as one message holds */
    len = mod_text_bound(r->text, len, MOD_TEXT_MAX_UTF16);
    return (struct mod_message){
        .text = r->text,
        .len = len,
        .has_photo = in->has_phash,
        .phash = (uint64_t)in->phash,
        .category = category_slot(ctx, r->category),
        .reporter = reporter_num(r->reporter),
        .at_us = (int64_t)llround(in->now * 1e6),
    };
}

/* mv's reasons (comma-separated) and the names of the rules that hit (p->mod_hits),
 * kept by p. */
static int verdict_reasons(const struct mod_verdict *v, struct hdl_plan *p,
                           struct store_mod_verdict *mv)
{
    struct tl_buf reasons;
    tl_buf_init(&reasons, 0);
    int e = 0;
    size_t nh = 0;
    for (size_t i = 0; i < v->nreasons && !e; i++) {
        e = tl_buf_printf(&reasons, "%s%s", i ? "," : "", v->reasons[i]);
        if (strncmp(v->reasons[i], "rule:", 5) == 0 && nh < MOD_REASONS_MAX)
            p->mod_hits[nh++] = hdl_keep(p, tl_strdup(v->reasons[i] + 5));
    }
    if (e) {
        tl_buf_release(&reasons);
        return TL_ENOMEM;
    }
    memset(mv, 0, sizeof(*mv));
    mv->verdict = mod_verdict_name(v->kind);
    mv->reasons = reasons.len ? hdl_keep(p, (char *)tl_buf_steal(&reasons, NULL)) : NULL;
    tl_buf_release(&reasons);
    mv->rule_hits = p->mod_hits;
    mv->n_rule_hits = nh;
    return TL_OK;
}

/* A new message worth matching later keeps its signature in the window, with the
 * campaign settings storage matches it with. */
static void verdict_keep_sig(const struct hdl_ctx *ctx, const struct store_mod_inputs *in,
                             const struct mod_verdict *v, struct hdl_plan *p,
                             struct store_mod_verdict *mv)
{
    if (!v->is_new || !matchable(ctx, &v->sig) || v->kind == MOD_RATE_LIMITED)
        return;
    mv->keep_sig = 1;
    mv->text_len = v->sig.text_len;
    mv->has_photo = (int)v->sig.has_photo;
    mv->phash = (long long)v->sig.phash;
    mv->minhash_hex = v->sig.text_len ? hdl_keep(p, minhash_to_hex(v->sig.minhash)) : NULL;
    if (v->sig.text_len) {
        sig_bands(&v->sig, p->mod_bands);
        mv->bands = p->mod_bands;
        mv->n_bands = 8;
    }
    mv->window_s = (long)(ctx->mod->campaign.window_us / 1000000);
    mv->window_read = in->now;
    mv->min_similarity = ctx->mod->campaign.min_similarity;
    mv->min_text_len = ctx->mod->campaign.min_text_len;
    mv->max_phash_distance = ctx->mod->campaign.max_phash_distance;
}

/* The campaign the report joins, with the window's messages it matched (their ids, by
 * src: see window_of). */
static int verdict_campaign(const struct store_mod_inputs *in, const struct mod_verdict *v,
                            const size_t *src, size_t nwin, const struct store_report_new *r,
                            struct hdl_plan *p, struct store_mod_verdict *mv)
{
    if (!v->campaign.joins)
        return TL_OK;
    size_t n = v->campaign.nmatched < MOD_MATCHED_MAX ? v->campaign.nmatched : MOD_MATCHED_MAX;
    mv->campaign = 1;
    mv->campaign_id = v->campaign.campaign;
    if (n && !(p->mod_members = calloc(n, sizeof(*p->mod_members))))
        return TL_ENOMEM;
    for (size_t j = 0; j < n; j++)
        if (v->matched[j] < nwin)
            p->mod_members[mv->n_members++] = in->window[src[v->matched[j]]].id;
    mv->members = p->mod_members;
    mv->campaign_kind = v->sig.text_len ? "text" : "photo";
    mv->sample = r->text;
    return TL_OK;
}

/* What the verdict does to the report: flagged, or held, or accepted as it is; and what
 * the citizen is to be told. */
static int verdict_apply(const struct store_mod_inputs *in, const struct mod_verdict *v,
                         struct hdl_plan *p, struct store_mod_verdict *mv)
{
    struct store_report_new *r = &p->report;
    mv->ban_notice = v->kind == MOD_BANNED && !in->ban_notice_sent;
    p->mod_kind = (int)v->kind;
    p->mod_retry_s = (long)((v->retry_after_us + 999999) / 1000000);
    if (v->kind == MOD_FLAG) {
        const char *fl = r->flags && *r->flags ? hdl_keep(p, tl_asprintf("%s,moderation", r->flags))
                                               : "moderation";
        if (!fl)
            return TL_ENOMEM;
        r->flags = fl;
    } else if (v->kind != MOD_ACCEPT) {
        r->status = "held";
    }
    r->mod = mv;
    return TL_OK;
}

int hdl_moderate(const struct hdl_ctx *ctx, const struct store_conv_lookup *lk, struct hdl_plan *p)
{
    const struct store_mod_inputs *in = &lk->mod;
    struct store_report_new *r = &p->report;
    struct mod_recent *win = NULL;
    size_t *src = NULL; /* win[k] came from in->window[src[k]] */
    struct mod_verdict *v = NULL;
    struct mod_rate_state rate;
    int rc = TL_OK;
    if (!ctx->mod || !lk->mod_loaded)
        return TL_OK;
    if (!(v = malloc(sizeof(*v))) ||
        (in->n_window && (!(win = calloc(in->n_window, sizeof(*win))) ||
                          !(src = calloc(in->n_window, sizeof(*src)))))) {
        rc = TL_ENOMEM;
        goto out;
    }
    size_t nwin = window_of(in, win, src);
    rate_from_json(in->rate_json, &rate);
    struct mod_standing st = standing_of(in);
    struct mod_message m = message_of(ctx, in, r);
    struct mod_history hist = {.rate = &rate, .window = win, .nwindow = nwin};
    if ((rc = mod_decide(ctx->mod, ctx->mod_scratch, &m, &st, &hist, v)) != TL_OK)
        goto out;

    struct store_mod_verdict *mv = &p->modv;
    if ((rc = verdict_reasons(v, p, mv)) != TL_OK)
        goto out;
    if (v->kind != MOD_BANNED && v->kind != MOD_SHADOW_BANNED) /* the buckets ran */
        mv->rate_json = hdl_keep(p, rate_to_json(&rate, ctx->mod->rate.ncat));
    verdict_keep_sig(ctx, in, v, p, mv);
    if ((rc = verdict_campaign(in, v, src, nwin, r, p, mv)) != TL_OK)
        goto out;
    rc = verdict_apply(in, v, p, mv);
out:
    free(src);
    free(win);
    free(v);
    return rc;
}
