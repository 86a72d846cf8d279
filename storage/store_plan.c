/* storage/store_plan.c - the one write path: what the handlers decided for a batch of
 * updates (struct store_effects, with the conversation's struct store_conv_effects)
 * encoded into one jsonb document with named fields, and written by one call of
 * store_apply_plan() (storage/schema/store_apply_plan.sql), which documents the fields.
 * store_apply, store_apply_batch, the conversation's writes, the relay's answers and
 * the dead-letter mark all come this way.
 *
 * Why jsonb and not array parameters: one parameter instead of 39 positional ones
 * ($1..$39 in the statements this replaced), a field added to a report is one key here
 * and one column in the SQL, and PostgreSQL decodes a 10-update document faster than the
 * same rows as array literals (bench/README.md, "One write path"). */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/banned.h"

/* Which statements of store_apply_plan a segment needs (its "ops"). */
enum {
    OP_OUTBOX = 1,
    OP_TRACK = 2,
    OP_DRAFT_PUT = 4,
    OP_DRAFT_DELETE = 8,
    OP_NOTICE = 16,
    OP_ADDENDUM = 32,
    OP_DRAFT_MEDIA = 64,
    OP_CHAT = 128,
    OP_REPORT = 256,
    OP_ANSWER = 512,
    OP_BLOCKED = 1024,
    OP_REPORT_MEDIA = 2048,
    OP_RELAYED = 1 << 16, /* high bits: the next rare statements added take 4096 on */
    OP_REVIEWED = 1 << 17,
};

void st_plan_init(struct st_plan *p)
{
    memset(p, 0, sizeof(*p));
    tl_buf_init(&p->u, 0);
    tl_buf_init(&p->o, 0);
    tl_buf_init(&p->m, 0);
    tl_buf_init(&p->d, 0);
    tl_buf_init(&p->seg, 0);
}

void st_plan_clear(struct st_plan *p)
{
    st_plan_release(p);
    st_plan_init(p);
}

/* ---- JSON text: members are appended as ,"key":value (the caller opens the object
 * with its first member); errors stick in *err ---- */

static void js_raw(struct tl_buf *b, int *err, const char *s, size_t n)
{
    if (!*err)
        *err = tl_buf_append(b, s, n);
}

static void js_key(struct tl_buf *b, int *err, const char *key)
{
    if (!*err)
        *err = tl_buf_printf(b, ",\"%s\":", key);
}

/* A JSON string: quotes, backslashes and control characters escaped; other bytes (UTF-8)
 * as they are (PostgreSQL refuses invalid UTF-8 as it refused the text parameter). */
static void js_quote(struct tl_buf *b, int *err, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    js_raw(b, err, "\"", 1);
    while (*v && !*err) {
        size_t run = 0;
        while (v[run] && v[run] != '"' && v[run] != '\\' && (unsigned char)v[run] >= 0x20)
            run++;
        js_raw(b, err, v, run);
        v += run;
        if (!*v)
            break;
        unsigned char c = (unsigned char)*v++;
        char esc[6] = {'\\', (char)c};
        if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            js_raw(b, err, esc, 6);
        } else {
            js_raw(b, err, esc, 2);
        }
    }
    js_raw(b, err, "\"", 1);
}

static void js_str(struct tl_buf *b, int *err, const char *key, const char *v)
{
    if (!v)
        return;
    js_key(b, err, key);
    js_quote(b, err, v);
}

/* Whether s is one JSON object as far as its brackets and strings go (its content is
 * checked by PostgreSQL): then it can be embedded as it is, and cannot close the member
 * it sits in. */
static int js_is_object(const char *s)
{
    int depth = 0, in_str = 0;
    s += strspn(s, " \t\r\n");
    if (*s != '{')
        return 0;
    for (; *s; s++) {
        if (in_str) {
            if (*s == '\\' && s[1])
                s++;
            else if (*s == '"')
                in_str = 0;
            continue;
        }
        if (*s == '"') {
            in_str = 1;
        } else if (*s == '{' || *s == '[') {
            depth++;
        } else if ((*s == '}' || *s == ']') && --depth == 0) {
            s++;
            break;
        }
    }
    if (in_str || depth)
        return 0;
    return s[strspn(s, " \t\r\n")] == 0;
}

/* A JSON document the caller made (a reply's params, a draft's state): as it is under
 * key, or, when it is not object-shaped, as a string under skey, for PostgreSQL to parse
 * (and refuse) as it parsed the text parameter before: one parse instead of two. */
static void js_doc(struct tl_buf *b, int *err, const char *key, const char *skey, const char *v)
{
    if (!js_is_object(v)) {
        js_str(b, err, skey, v);
        return;
    }
    js_key(b, err, key);
    js_raw(b, err, v, strlen(v));
}

static void js_ll(struct tl_buf *b, int *err, const char *key, long long v)
{
    if (!*err)
        *err = tl_buf_printf(b, ",\"%s\":%lld", key, v);
}

/* has 0 or a value JSON cannot carry (NaN, infinity): left out, i.e. NULL */
static void js_dbl(struct tl_buf *b, int *err, const char *key, int has, double v)
{
    if (has && isfinite(v) && !*err)
        *err = tl_buf_printf(b, ",\"%s\":%.17g", key, v);
}

static void js_bool(struct tl_buf *b, int *err, const char *key, int v)
{
    if (!*err)
        *err = tl_buf_printf(b, ",\"%s\":%s", key, v ? "true" : "false");
}

static void js_hex(struct tl_buf *b, int *err, const char *key, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char chunk[256];
    size_t k = 0;
    js_key(b, err, key);
    js_raw(b, err, "\"", 1);
    for (size_t i = 0; i < n && !*err; i++) {
        chunk[k++] = hex[p[i] >> 4];
        chunk[k++] = hex[p[i] & 15];
        if (k == sizeof(chunk)) {
            js_raw(b, err, chunk, k);
            k = 0;
        }
    }
    js_raw(b, err, chunk, k);
    js_raw(b, err, "\"", 1);
}

/* Opens the next member of an array: {"k":update[,"n":row]. */
static void js_open(struct tl_buf *b, int *err, size_t k, size_t n)
{
    if (!*err)
        *err = tl_buf_printf(b, "%s{\"k\":%zu", b->len ? "," : "", k);
    if (n)
        js_ll(b, err, "n", (long long)n);
}

static int sha256_hex(const unsigned char *p, size_t n, char out[65])
{
    unsigned char md[32];
    if (tl_sha256(p, n, md) != TL_OK)
        return TL_EIO;
    tl_hex(md, 32, out);
    return TL_OK;
}

/* A photo of update k: the report's (into "m", with the sha256 of the sanitized bytes)
 * or the draft's (into "d"). */
static int plan_media(struct st_plan *p, int report, size_t k, const struct store_media_new *m,
                      size_t i, struct tl_errinfo *ei)
{
    struct tl_buf *b = report ? &p->m : &p->d;
    const unsigned char *bytes = m->bytes ? m->bytes : (const unsigned char *)"";
    char sha[65];
    int err = 0;
    if (!m->kind || (!m->bytes && m->len))
        return tl_errf(ei, TL_EINVAL, "media %zu needs a kind and its bytes", i);
    if (m->duration_ms < 0 || m->duration_ms > INT32_MAX)
        return tl_errf(ei, TL_EINVAL, "media %zu: duration %lld ms", i, m->duration_ms);
    if (report && (err = sha256_hex(bytes, m->len, sha)) != TL_OK)
        return err;
    js_open(b, &err, k, report ? ++p->n_m : ++p->n_d);
    js_str(b, &err, "kind", m->kind);
    js_str(b, &err, "fid", m->tg_file_id);
    js_str(b, &err, "fuid", m->tg_file_unique_id);
    js_str(b, &err, "mime", m->mime);
    if (m->bytes || !report) /* a draft's photo always has bytes, empty at worst */
        js_hex(b, &err, "b", bytes, m->len);
    js_ll(b, &err, "size", (long long)m->len);
    if (m->width > 0)
        js_ll(b, &err, "w", m->width);
    if (m->height > 0)
        js_ll(b, &err, "h", m->height);
    if (m->has_phash) /* the 64 bits as a signed bigint */
        js_ll(b, &err, "ph", (long long)m->phash);
    if (m->has_phash && m->has_phash_inner)
        js_ll(b, &err, "pi", (long long)m->phash_inner);
    if (report)
        js_str(b, &err, "sha", sha);
    js_dbl(b, &err, "lat", m->has_gps, m->gps_lat);
    js_dbl(b, &err, "lon", m->has_gps, m->gps_lon);
    js_dbl(b, &err, "acc", m->has_gps && m->gps_accuracy_m > 0, m->gps_accuracy_m);
    js_str(b, &err, "tl", m->taken_local);
    if (m->has_taken_offset)
        js_ll(b, &err, "toff", m->taken_offset_min);
    if (m->duration_ms > 0)
        js_ll(b, &err, "dur", m->duration_ms);
    js_raw(b, &err, "}", 1);
    return err;
}

static int plan_out(struct st_plan *p, size_t k, long long chat_id, const char *method,
                    const char *params, int prompt, int track, int when, long long followup_id,
                    struct tl_errinfo *ei)
{
    int err = 0;
    if (!method || !params || !chat_id)
        return tl_errf(ei, TL_EINVAL, "an outbox row needs chat_id, method and params");
    js_open(&p->o, &err, k, ++p->n_o);
    js_ll(&p->o, &err, "chat", chat_id);
    js_str(&p->o, &err, "method", method);
    js_doc(&p->o, &err, "pj", "params", params);
    if (followup_id)
        js_ll(&p->o, &err, "fu", followup_id);
    if (prompt)
        js_bool(&p->o, &err, "pr", 1);
    if (track)
        js_bool(&p->o, &err, "tr", 1);
    if (when)
        js_ll(&p->o, &err, "w", when);
    js_raw(&p->o, &err, "}", 1);
    return err;
}

/* The report's near-duplicate search done in memory: "nx":{"s":snapshot,"h":{"<hash>":
 * [ids], ...}} (media_near_seen.sql). */
static void plan_near(struct tl_buf *b, int *err, const struct store_near *nx)
{
    js_key(b, err, "nx");
    js_raw(b, err, "{\"s\":", 5);
    js_quote(b, err, nx->snapshot);
    js_raw(b, err, ",\"h\":{", 6);
    for (size_t i = 0; i < nx->n && !*err; i++) {
        *err = tl_buf_printf(b, "%s\"%lld\":[", i ? "," : "", nx->h[i].hash);
        for (size_t j = 0; j < nx->h[i].n_ids && !*err; j++)
            *err = tl_buf_printf(b, "%s%lld", j ? "," : "", nx->h[i].ids[j]);
        js_raw(b, err, "]", 1);
    }
    js_raw(b, err, "}}", 2);
}

/* The moderation verdict as mod_apply_verdict (storage/schema/) reads it. */
static void plan_mod(struct tl_buf *b, int *err, const struct store_mod_verdict *v)
{
    js_key(b, err, "mod");
    js_raw(b, err, "{\"v\":", 5);
    js_quote(b, err, v->verdict ? v->verdict : "accept");
    js_str(b, err, "r", v->reasons && *v->reasons ? v->reasons : NULL);
    if (v->campaign) {
        js_ll(b, err, "c", 1);
        js_ll(b, err, "ci", v->campaign_id);
        js_key(b, err, "cm");
        js_raw(b, err, "[", 1);
        for (size_t i = 0; i < v->n_members && !*err; i++)
            *err = tl_buf_printf(b, "%s%lld", i ? "," : "", v->members[i]);
        js_raw(b, err, "]", 1);
        js_str(b, err, "ck", v->campaign_kind);
        js_str(b, err, "cs", v->sample);
    }
    if (v->keep_sig) {
        js_key(b, err, "sig");
        if (!*err)
            *err = tl_buf_printf(b, "{\"tl\":%u", v->text_len);
        js_bool(b, err, "hp", v->has_photo);
        if (v->has_photo)
            js_ll(b, err, "ph", v->phash);
        js_str(b, err, "mh", v->minhash_hex);
        if (v->n_bands) {
            js_key(b, err, "bd");
            js_raw(b, err, "[", 1);
            for (size_t i = 0; i < v->n_bands && !*err; i++)
                *err = tl_buf_printf(b, "%s%lld", i ? "," : "", v->bands[i]);
            js_raw(b, err, "]", 1);
        }
        js_raw(b, err, "}", 1);
        js_ll(b, err, "ws", v->window_s);
        js_dbl(b, err, "wt", v->window_read > 0, v->window_read);
        js_dbl(b, err, "sim", 1, v->min_similarity);
        js_ll(b, err, "ml", v->min_text_len);
        js_ll(b, err, "pd", v->max_phash_distance);
    }
    if (v->rate_json && js_is_object(v->rate_json))
        js_doc(b, err, "rs", "rss", v->rate_json);
    if (v->ban_notice)
        js_bool(b, err, "bn", 1);
    if (v->n_rule_hits) {
        js_key(b, err, "rh");
        js_raw(b, err, "[", 1);
        for (size_t i = 0; i < v->n_rule_hits; i++) {
            if (i)
                js_raw(b, err, ",", 1);
            js_quote(b, err, v->rule_hits[i]);
        }
        js_raw(b, err, "]", 1);
    }
    js_raw(b, err, "}", 1);
}

static int plan_report(struct st_plan *p, const struct store_report_new *rp, int *err,
                       struct tl_errinfo *ei)
{
    struct tl_buf *b = &p->u;
    if (!rp->public_ref || !rp->reporter)
        return tl_errf(ei, TL_EINVAL, "a report needs public_ref and reporter");
    if (rp->has_point &&
        (!rp->point_source || rp->lat < -90 || rp->lat > 90 || rp->lon < -180 || rp->lon > 180))
        return tl_errf(ei, TL_EINVAL, "a report point needs a source and a valid lat/lon");
    js_str(b, err, "ref", rp->public_ref);
    js_str(b, err, "rep", rp->reporter);
    js_str(b, err, "cat", rp->category);
    js_str(b, err, "txt", rp->text);
    js_str(b, err, "td", rp->text_display);
    if (rp->n_links) {
        js_key(b, err, "ln");
        for (size_t i = 0; i < rp->n_links; i++) {
            js_raw(b, err, i ? "," : "[", 1);
            js_quote(b, err, rp->links[i]);
        }
        js_raw(b, err, "]", 1);
    }
    js_str(b, err, "tk", rp->text_key);
    if (rp->has_point) {
        js_dbl(b, err, "lat", 1, rp->lat);
        js_dbl(b, err, "lon", 1, rp->lon);
        js_str(b, err, "src", rp->point_source);
    }
    js_dbl(b, err, "acc", rp->accuracy_m > 0, rp->accuracy_m);
    js_dbl(b, err, "brg", rp->has_bearing, rp->bearing);
    js_dbl(b, err, "obs", rp->observed_at > 0, rp->observed_at);
    js_dbl(b, err, "sent", rp->sent_at > 0, rp->sent_at);
    js_bool(b, err, "fwd", rp->forwarded);
    js_str(b, err, "mg", rp->media_group_id);
    js_ll(b, err, "pri", rp->priority);
    js_str(b, err, "fl", rp->flags && *rp->flags ? rp->flags : NULL);
    js_str(b, err, "pc", rp->place_candidates); /* JSON text, parsed by the function */
    if (rp->dedup.on) {
        if (rp->dedup.max_distance < 0 || rp->dedup.max_distance > 14)
            return tl_errf(ei, TL_EINVAL, "dedup max_distance %d is not 0..14",
                           rp->dedup.max_distance);
        if (rp->dedup.window_s > 0)
            js_ll(b, err, "dw", rp->dedup.window_s);
        js_ll(b, err, "dk", rp->dedup.max_distance);
        js_ll(b, err, "sb", rp->dedup.seen_before_s);
        if (rp->near && rp->near->snapshot)
            plan_near(b, err, rp->near);
    }
    js_str(b, err, "st", rp->status);
    if (rp->mod)
        plan_mod(b, err, rp->mod);
    return TL_OK;
}

/* Ends the open segment (if any) at update hi. */
/* Drops what was appended after len. */
static void buf_cut(struct tl_buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = 0;
}

static void plan_segment_close(struct st_plan *p, size_t hi)
{
    if (!p->seg_lo)
        return;
    if (!p->err)
        p->err = tl_buf_printf(&p->seg, "%s[%zu,%zu,%d]", p->seg.len ? "," : "", p->seg_lo, hi,
                               p->seg_ops);
    p->seg_lo = 0;
    p->seg_ops = 0;
}

/* The conversation's rows of update k. dj_at, dj_len: where the draft's state was
 * written in u (a put), else left as they are. */
static int plan_conv(struct st_plan *p, size_t k, const struct store_conv_effects *cx, int *ops,
                     size_t *dj_at, size_t *dj_len, int *err, struct tl_errinfo *ei)
{
    struct tl_buf *b = &p->u;
    int rc;
    js_ll(b, err, "cc", cx->chat_id);
    js_ll(b, err, "did", cx->draft_id);
    if (cx->draft_op == STORE_DRAFT_PUT) {
        *ops |= OP_DRAFT_PUT;
        js_ll(b, err, "dop", 1);
        *dj_at = b->len;
        js_doc(b, err, "dj", "djs", cx->draft_json);
        *dj_len = b->len - *dj_at;
        js_ll(b, err, "idle", cx->idle_minutes > 0 ? cx->idle_minutes : 30);
    } else if (cx->draft_op == STORE_DRAFT_DELETE) {
        *ops |= OP_DRAFT_DELETE;
        js_ll(b, err, "dop", 2);
    }
    if (cx->user_msg_id && cx->draft_id) {
        *ops |= OP_TRACK;
        js_ll(b, err, "um", cx->user_msg_id);
    }
    if (cx->notice) {
        *ops |= OP_NOTICE;
        js_bool(b, err, "nt", 1);
    }
    if (cx->addendum_ref && cx->addendum_text) {
        *ops |= OP_ADDENDUM;
        js_str(b, err, "ar", cx->addendum_ref);
        js_str(b, err, "at", cx->addendum_text);
        js_str(b, err, "arp", cx->addendum_reporter);
    }
    for (size_t i = 0; i < cx->n_media; i++) {
        *ops |= OP_DRAFT_MEDIA;
        if ((rc = plan_media(p, 0, k, &cx->media[i], i, ei)) != TL_OK)
            return rc;
    }
    for (size_t i = 0; i < cx->n_out; i++) {
        const struct store_conv_out *o = &cx->out[i];
        *ops |= OP_OUTBOX | (o->track && cx->draft_id ? OP_TRACK : 0);
        if ((rc = plan_out(p, k, o->chat_id, o->method, o->params_json, o->prompt, o->track,
                           o->when, 0, ei)) != TL_OK)
            return rc;
    }
    return TL_OK;
}

/* Update k puts chat cc's draft, its state at u[at, at + len): the open segment's
 * earlier put of the same chat is superseded (the segment writes the last state of each
 * chat's draft), so its state is cut out of u: a conversation's batch then carries one
 * draft state, not one per update, each a little longer than the one before. */
static void plan_draft_put(struct st_plan *p, size_t k, long long cc, size_t at, size_t len)
{
    if (p->dj_len && p->dj_cc == cc && p->seg_lo && p->dj_k >= p->seg_lo) {
        memmove(p->u.data + p->dj_at, p->u.data + p->dj_at + p->dj_len,
                p->u.len - p->dj_at - p->dj_len + 1);
        p->u.len -= p->dj_len;
        at -= p->dj_len;
    }
    p->dj_k = k;
    p->dj_at = at;
    p->dj_len = len;
    p->dj_cc = cc;
}

int st_plan_add(struct st_plan *p, const struct store_effects *fx,
                const struct store_conv_effects *cx, struct tl_errinfo *ei)
{
    const struct store_report_new *rp = fx->report;
    struct tl_buf *b = &p->u;
    size_t k = p->n + 1, ulen = p->u.len, olen = p->o.len, mlen = p->m.len, dlen = p->d.len;
    size_t n_o = p->n_o, n_m = p->n_m, n_d = p->n_d;
    size_t dj_at = 0, dj_len = 0;
    int ops = 0, err = 0, rc = TL_OK;
    if (p->err)
        return p->err;
    if (cx && fx->n_outbox)
        return tl_errf(ei, TL_EINVAL, "conversation replies go in cx->out");
    if (cx && cx->draft_op == STORE_DRAFT_PUT && !cx->draft_json)
        return tl_errf(ei, TL_EINVAL, "a draft to write needs its state");
    if (fx->followup_id && (!fx->answer || !*fx->answer))
        return tl_errf(ei, TL_EINVAL, "an answer to follow-up %lld needs text", fx->followup_id);
    if (fx->refused && (cx || rp || fx->n_outbox || fx->chat_id || fx->pseudonym ||
                        fx->followup_id || !fx->update_id))
        return tl_errf(ei, TL_EINVAL, "a refused update only marks its inbox row");
    /* the chat's rows: only_mark says an earlier update of the transaction wrote them */
    int upsert = !(cx && cx->only_mark && !rp && fx->set_blocked < 0 && !fx->lang);
    js_open(b, &err, k, 0);
    js_ll(b, &err, "id", fx->update_id);
    if (fx->refused)
        js_bool(b, &err, "rf", 1);
    if (upsert && (fx->chat_id || fx->pseudonym || rp)) {
        ops |= OP_CHAT;
        js_ll(b, &err, "chat", fx->chat_id);
        js_str(b, &err, "ps", fx->pseudonym);
        js_str(b, &err, "lang", fx->lang);
    }
    if (fx->set_blocked >= 0 && fx->chat_id) {
        ops |= OP_BLOCKED;
        js_bool(b, &err, "bl", fx->set_blocked);
    }
    if (rp) {
        ops |= OP_REPORT;
        if ((rc = plan_report(p, rp, &err, ei)) != TL_OK)
            goto out;
        for (size_t i = 0; i < rp->n_media; i++) {
            ops |= OP_REPORT_MEDIA;
            if ((rc = plan_media(p, 1, k, &rp->media[i], i, ei)) != TL_OK)
                goto out;
        }
    }
    if (fx->followup_id) {
        ops |= OP_ANSWER;
        js_ll(b, &err, "fu", fx->followup_id);
        js_str(b, &err, "ans", fx->answer);
    }
    for (size_t i = 0; i < fx->n_outbox; i++) {
        const struct store_outbox_new *o = &fx->outbox[i];
        ops |= OP_OUTBOX;
        if ((rc = plan_out(p, k, o->chat_id, o->method, o->params_json, 0, 0, 0, 0, ei)) != TL_OK)
            goto out;
    }
    if (cx && (rc = plan_conv(p, k, cx, &ops, &dj_at, &dj_len, &err, ei)) != TL_OK)
        goto out;
    js_raw(b, &err, "}", 1);
    if ((rc = err) != TL_OK)
        goto out;
    p->n = k;
    if (fx->update_id)
        p->n_id++;
    /* an update that creates a report or deletes the draft is a segment of its own: the
     * updates after it must see it done */
    if ((ops & OP_DRAFT_PUT) && !(ops & OP_REPORT))
        plan_draft_put(p, k, cx->chat_id, dj_at, dj_len);
    if (ops & (OP_REPORT | OP_DRAFT_DELETE)) {
        plan_segment_close(p, k - 1);
        p->seg_lo = k;
        p->seg_ops = ops;
        plan_segment_close(p, k);
    } else {
        if (!p->seg_lo)
            p->seg_lo = k;
        p->seg_ops |= ops;
    }
    rc = p->err;
out:
    if (rc != TL_OK && !p->err) { /* the update leaves no trace in the plan */
        buf_cut(&p->u, ulen);
        buf_cut(&p->o, olen);
        buf_cut(&p->m, mlen);
        buf_cut(&p->d, dlen);
        p->n_o = n_o;
        p->n_m = n_m;
        p->n_d = n_d;
    }
    return rc;
}

int st_plan_add_relay(struct st_plan *p, const struct st_relay_mark *rm, struct tl_errinfo *ei)
{
    size_t k = p->n + 1, ulen = p->u.len, olen = p->o.len, n_o = p->n_o;
    int ops = rm->followup_id ? OP_RELAYED : OP_REVIEWED, err = 0, rc = TL_OK;
    if (p->err)
        return p->err;
    if (!rm->followup_id == !rm->report_id)
        return tl_errf(ei, TL_EINVAL, "a relay mark names a follow-up or a report");
    js_open(&p->u, &err, k, 0);
    js_ll(&p->u, &err, "id", 0);
    if (rm->followup_id) {
        js_ll(&p->u, &err, "rq", rm->followup_id);
        js_bool(&p->u, &err, "rqs", rm->params != NULL);
        js_str(&p->u, &err, "rqe", rm->reason);
    } else {
        js_ll(&p->u, &err, "rv", rm->report_id);
    }
    js_raw(&p->u, &err, "}", 1);
    if (rm->params) {
        ops |= OP_OUTBOX;
        rc = plan_out(p, k, rm->chat_id, "sendMessage", rm->params, 0, 0, 0, rm->followup_id, ei);
    }
    if (rc == TL_OK && (rc = err) == TL_OK) {
        p->n = k;
        if (!p->seg_lo) /* marks of distinct rows: they commute with the segment's writes */
            p->seg_lo = k;
        p->seg_ops |= ops;
        return p->err;
    }
    buf_cut(&p->u, ulen);
    buf_cut(&p->o, olen);
    p->n_o = n_o;
    return rc;
}

static void js_array(struct tl_buf *doc, int *err, const char *key, const struct tl_buf *members)
{
    if (!*err)
        *err = tl_buf_printf(doc, "%s\"%s\":[", doc->len > 1 ? "," : "", key);
    if (members->len)
        js_raw(doc, err, (const char *)members->data, members->len);
    js_raw(doc, err, "]", 1);
}

int st_plan_write(struct store *s, struct st_plan *p, size_t first, long long *report_ids,
                  struct tl_errinfo *ei)
{
    struct tl_buf doc;
    struct tl_errinfo local;
    PGresult *r = NULL;
    size_t n = p->n;
    int rc = TL_OK;
    if (!ei) /* the SQLSTATE decides between TL_ECONFLICT, TL_ENOTFOUND and TL_EDB */
        ei = &local;
    tl_buf_init(&doc, 0);
    if (report_ids && n > first)
        memset(report_ids, 0, (n - first) * sizeof(*report_ids));
    if (!n)
        goto out;
    plan_segment_close(p, n);
    rc = p->err ? p->err : tl_buf_append(&doc, "{", 1);
    js_array(&doc, &rc, "u", &p->u);
    js_array(&doc, &rc, "o", &p->o);
    js_array(&doc, &rc, "m", &p->m);
    js_array(&doc, &rc, "d", &p->d);
    js_array(&doc, &rc, "s", &p->seg);
    js_ll(&doc, &rc, "nid", (long long)p->n_id);
    js_raw(&doc, &rc, "}", 1);
    if (rc != TL_OK)
        goto out;
    const char *v[1] = {(const char *)doc.data};
    rc = st_exec(s, "SELECT out_k, out_report, out_unattached FROM store_apply_plan($1::jsonb)", 1,
                 v, &r, ei);
    if (rc == TL_EDB && strcmp(ei->sqlstate, "23505") == 0 &&
        strstr(ei->msg, "reports_public_ref_key")) {
        rc = TL_ECONFLICT; /* the statement failed as a whole: nothing was written */
        goto out;
    }
    if (rc == TL_EDB && strcmp(ei->sqlstate, "P0002") == 0) {
        rc = TL_ENOTFOUND;
        goto out;
    }
    if (rc)
        goto out;
    if ((size_t)PQntuples(r) != n) {
        rc = tl_errf(ei, TL_EDB, "store_apply_plan returned %d rows for %zu updates", PQntuples(r),
                     n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (PQgetvalue(r, (int)i, 2)[0] == 't')
            log_info("follow-up answer not attached (full, or question gone) k=%zu", i + 1);
        if (PQgetisnull(r, (int)i, 1))
            continue;
        s->conv_reports++;
        if (report_ids && i >= first)
            report_ids[i - first] = st_getll(r, (int)i, 1);
    }
out:
    PQclear(r);
    tl_buf_release(&doc);
    st_plan_clear(p);
    return rc;
}
