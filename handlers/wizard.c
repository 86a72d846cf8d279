/* handlers/wizard.c - what one update means for a chat's conversation: pure
 * decisions, no I/O (state + update -> new state + effects).
 *
 * A report is built in a draft, kept in PostgreSQL per chat. Quick report: any photo,
 * location or text outside a wizard starts a draft and the bot says what is still
 * missing, with "Send now". Guided report (/report): category, place, photos, time,
 * direction (moving targets), description, summary with Send / Edit. Buttons carry
 * "<draft id>:<action>": a button of another draft or step is stale and only
 * answered. Every photo, and every file (whatever it claims to be), passes through
 * media/ before anything is kept: only the stripped copy and the facts persist; a
 * file that cannot be cleaned is refused with a reason. Groups and channels get one
 * polite pointer to the private chat; my_chat_member records blocks.
 *
 * What it decides with lives beside it: absorb.c (what a message adds to the draft,
 * the report it becomes), prompts.c (what the bot says at each step), keyboards.c,
 * plan.c (the replies queued) and identity.c (the pseudonym, the reference). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "hdl_int.h"
#include "geo/geo.h"
#include "moderation/mod.h"
#include "common/banned.h"

/* ---- the decision ---- */

struct turn {
    const struct hdl_ctx *ctx;
    const struct hdl_conv *cv;
    const struct tg_update *u;
    struct hdl_plan *p;
    struct hdl_draft *d; /* p->draft when the chat has (or gets) a draft, else NULL */
    const char *lang;
    long long chat_id;
};

/* Starts a new draft in p->draft. */
static struct hdl_draft *draft_start(struct turn *t, int guided, double date)
{
    struct hdl_draft *d = &t->p->draft;
    hdl_draft_release(d);
    d->id = t->u->update_id;
    d->guided = guided;
    d->step = guided ? HDL_STEP_CATEGORY : HDL_STEP_QUICK;
    tl_strlcpy(d->lang, t->lang, sizeof(d->lang));
    d->sent_at = date;
    t->p->has_draft = 1;
    t->d = d;
    return d;
}

static void draft_keep(struct turn *t)
{
    t->p->cx.draft_op = STORE_DRAFT_PUT;
    t->p->cx.draft_id = t->d->id;
}

static void draft_drop(struct turn *t)
{
    t->p->cx.draft_op = STORE_DRAFT_DELETE;
    t->p->has_draft = 0;
}

/* /cancel, "Cancel": the draft and its photos go; the reply keyboard too. */
static int cancel(struct turn *t, long long edit_id)
{
    struct hdl_plan *p = t->p;
    if (!t->d)
        return hdl_send_key(p, t->chat_id, t->lang, "nothing_to_cancel", NULL, 0, 0);
    draft_drop(t);
    if (edit_id)
        return hdl_edit_text(p, t->chat_id, edit_id, hdl_tr(p, t->lang, "cancelled"), NULL);
    int rc = TL_OK;
    if (t->cv && t->cv->prompt_msg_id && t->d->step != HDL_STEP_LOCATION)
        rc = hdl_drop_keyboard(p, t->chat_id, t->cv->prompt_msg_id);
    struct json_object *rm = json_object_new_object();
    if (rm)
        json_object_object_add(rm, "remove_keyboard", json_object_new_boolean(1));
    return rc ? rc : hdl_send_key(p, t->chat_id, t->lang, "cancelled", rm, 0, 0);
}

/* The acknowledgement of a sent report: catalog text key quoting ref, with the "Clear
 * this chat" button unless the chat was cleared already; in place of the keyboard
 * message (edit_id) or as a new message. */
static int send_ack(struct turn *t, long long edit_id, const char *key, const char *ref,
                    int cleared)
{
    struct hdl_plan *p = t->p;
    const char *sent = hdl_keep(p, hdl_text(t->lang, key, "ref", ref, (char *)NULL));
    if (cleared)
        return hdl_send_text(p, t->chat_id, sent, NULL, 0, 0);
    struct json_object *kb = hdl_kb_new();
    char act[32];
    snprintf(act, sizeof(act), "x:%s", ref);
    hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, t->lang, "btn_clear"), 0, act);
    if (edit_id)
        return hdl_edit_text(p, t->chat_id, edit_id, sent, kb);
    return hdl_send_text(p, t->chat_id, sent, kb, 0, 1);
}

#define HDL_REPLIED 1000 /* moderated_reply: the reply is made, the usual one is not */

/* What a moderated report's sender is told: a refusal, a rate limit or an open ban
 * (once) get their own polite words; a drop and a ban already told get nothing but
 * the keyboard taken off; a flag, a hold, a campaign and a shadow-ban get the usual
 * thanks (TL_OK: the caller goes on), so nothing tells them apart. */
static int moderated_reply(struct turn *t, long long edit_id)
{
    struct hdl_plan *p = t->p;
    const char *text = NULL;
    switch ((enum mod_verdict_kind)p->mod_kind) {
    case MOD_REFUSE:
        text = hdl_tr(p, t->lang, "mod_refused");
        break;
    case MOD_RATE_LIMITED: {
        char mins[24];
        snprintf(mins, sizeof(mins), "%ld", p->mod_retry_s > 60 ? (p->mod_retry_s + 59) / 60 : 1);
        text = hdl_keep(p, hdl_text(t->lang, "mod_slow_down", "minutes", mins, (char *)NULL));
        break;
    }
    case MOD_BANNED:
        if (p->modv.ban_notice)
            text = hdl_tr(p, t->lang, "mod_banned");
        break;
    case MOD_DROP:
        break;
    default:
        return TL_OK;
    }
    int rc = TL_OK;
    if (text && edit_id)
        rc = hdl_edit_text(p, t->chat_id, edit_id, text, NULL);
    else if (text)
        rc = hdl_send_text(p, t->chat_id, text, NULL, 0, 0);
    else if (edit_id)
        rc = hdl_drop_keyboard(p, t->chat_id, edit_id);
    return rc ? rc : HDL_REPLIED;
}

static int send_report(struct turn *t, long long edit_id)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    int rc = hdl_report_from_draft(t->ctx, p, t->d);
    if (rc || (lk && (rc = hdl_moderate(t->ctx, lk, p)) != TL_OK))
        return rc;
    p->cx.draft_id = t->d->id;
    draft_drop(t);
    if (p->mod_kind && (rc = moderated_reply(t, edit_id)) != TL_OK)
        return rc == HDL_REPLIED ? TL_OK : rc;
    int cleared = t->ctx->auto_clear_chat && lk && lk->clear_draft_id == t->d->id;
    if (cleared) {
        for (size_t i = 0; i < lk->n_del && rc == TL_OK; i++)
            rc = hdl_delete_msg(p, t->chat_id, lk->del_ids[i]);
        if (edit_id && rc == TL_OK)
            rc = hdl_delete_msg(p, t->chat_id, edit_id);
        edit_id = 0;
    } else if (!edit_id && t->cv && t->cv->prompt_msg_id && t->d->step != HDL_STEP_LOCATION) {
        rc = hdl_drop_keyboard(p, t->chat_id, t->cv->prompt_msg_id);
    }
    if (rc)
        return rc;
    if (!t->ctx->dedup.on || t->ctx->dedup.window_s <= 0)
        return send_ack(t, edit_id, "sent", p->ref, cleared);
    /* storage folds the report into the reporter's earlier one when it repeats its text
     * or a photo (store_apply_plan): one of the two acknowledgements is sent */
    p->out_when = STORE_OUT_NEW;
    rc = send_ack(t, edit_id, "sent", p->ref, cleared);
    p->out_when = STORE_OUT_FOLDED;
    if (rc == TL_OK)
        rc = send_ack(t, edit_id, "folded", STORE_FOLD_REF, cleared);
    p->out_when = 0;
    return rc;
}

static const char *command_of(const char *text)
{
    static const char *const cmds[] = {"/start",  "/help",   "/privacy", "/lang",
                                       "/cancel", "/report", "/send"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        size_t l = strlen(cmds[i]);
        if (strncmp(text, cmds[i], l) == 0 && (text[l] == 0 || text[l] == ' ' || text[l] == '@'))
            return cmds[i];
    }
    return "/help";
}

static int lang_keyboard(struct turn *t)
{
    struct json_object *kb = hdl_kb_new(), *row = hdl_kb_row(kb);
    hdl_kb_btn(row, "🇺🇦 Українська", 0, "L:uk");
    hdl_kb_btn(row, "🇬🇧 English", 0, "L:en");
    return hdl_send_key(t->p, t->chat_id, t->lang, "lang_choose", kb, 0, 0);
}

static int on_command(struct turn *t, const struct tg_message *m)
{
    struct hdl_plan *p = t->p;
    const char *cmd = command_of(m->text);
    if (strcmp(cmd, "/cancel") == 0)
        return cancel(t, 0);
    if (strcmp(cmd, "/lang") == 0)
        return lang_keyboard(t);
    if (strcmp(cmd, "/report") == 0) {
        enum hdl_step old = t->d ? t->d->step : HDL_STEP_QUICK;
        if (!t->d)
            draft_start(t, 1, (double)m->date);
        if (!t->d->guided) { /* a quick draft goes on step by step; a guided one stays */
            t->d->guided = 1;
            t->d->step = t->d->category ? hdl_next_step(t->ctx, t->d) : HDL_STEP_CATEGORY;
        }
        draft_keep(t);
        p->cx.user_msg_id = m->message_id;
        return hdl_show_step(p, t->ctx, t->cv, t->d, t->chat_id, 0, old);
    }
    if (strcmp(cmd, "/send") == 0 && t->d)
        return send_report(t, 0);
    const char *key = strcmp(cmd, "/start") == 0     ? "conv_start"
                      : strcmp(cmd, "/privacy") == 0 ? "privacy"
                                                     : "conv_help";
    int rc = hdl_send_key(p, t->chat_id, t->lang, key, NULL, 0, 0);
    if (rc == TL_OK && t->d) { /* a draft in progress: show where it stands */
        draft_keep(t);
        rc = hdl_show_step(p, t->ctx, t->cv, t->d, t->chat_id, 0, t->d->step);
    }
    return rc;
}

/* Does text equal the label key in either language (a reply-keyboard button)? */
static int is_label(const char *text, const char *key)
{
    int hit = 0;
    static const char *const langs[] = {"uk", "en"};
    for (size_t i = 0; i < 2 && !hit; i++) {
        char *l = hdl_text(langs[i], key, (char *)NULL);
        hit = l && strcmp(l, text) == 0;
        free(l);
    }
    return hit;
}

/* A short acknowledgement that also takes the reply keyboard away. */
static int ack_removing_keyboard(struct turn *t, const char *key)
{
    struct json_object *rm = json_object_new_object();
    if (rm)
        json_object_object_add(rm, "remove_keyboard", json_object_new_boolean(1));
    return hdl_send_key(t->p, t->chat_id, t->lang, key, rm, 0, 1);
}

/* The location step answered: the reply keyboard goes with the acknowledgement, then
 * the next step. */
static int place_answered(struct turn *t, const char *key)
{
    int rc = ack_removing_keyboard(t, key);
    return rc ? rc : hdl_advance(t->p, t->ctx, t->cv, t->d, t->chat_id, 0);
}

/* A video sent as a video (not as a file): the bot asks for it again as a photo, with
 * the reason. reply: as a reply to the citizen's message. */
static int resend_as_photo(struct turn *t, int reply)
{
    struct hdl_plan *p = t->p;
    char *reason = hdl_keep(p, hdl_text(t->lang, "reason_video", (char *)NULL));
    return hdl_send_text(p, t->chat_id,
                         hdl_keep(p, hdl_text(t->lang, "resend_as_photo", "reason",
                                              reason ? reason : "", (char *)NULL)),
                         NULL, 0, reply);
}

/* The draft this message started is not kept after all (nothing in it was usable). */
static void unstart(struct hdl_plan *p)
{
    p->cx.draft_op = STORE_DRAFT_KEEP;
    p->has_draft = 0;
    p->cx.user_msg_id = 0;
}

/* The message (text, NULL if none; what hdl_absorb took from it) answers the draft's
 * current step: on to the next step, or the step asked again when it was not understood. */
static int step_answered(struct turn *t, const struct tg_message *m, const char *text, int what)
{
    struct hdl_plan *p = t->p;
    struct hdl_draft *d = t->d;
    enum hdl_step step = d->step;
    int rc;
    switch (step) {
    case HDL_STEP_LOCATION:
        if (what & HDL_ABS_POINT)
            return place_answered(t, "location_saved");
        if (text && is_label(text, "btn_unknown"))
            return place_answered(t, "location_unknown");
        if (text) {
            int found = hdl_point_from_text(t->ctx, d, text, &rc);
            if (rc)
                return rc;
            if (found)
                return place_answered(t, "location_saved");
            return hdl_send_key(p, t->chat_id, t->lang, "location_unreadable", NULL, 0, 1);
        }
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_WHEN:
        if (text) {
            double at;
            double now = m->date > 0 ? (double)m->date : 0;
            if (hdl_parse_when(text, now, t->ctx->tz, &at) != TL_OK)
                return hdl_send_key(p, t->chat_id, t->lang, "when_unreadable", NULL, 0, 1);
            d->observed_at = at;
            return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        }
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_DIRECTION:
        if (text) {
            double deg;
            if (hdl_parse_bearing(text, &deg) != TL_OK)
                return hdl_send_key(p, t->chat_id, t->lang, "direction_unreadable", NULL, 0, 1);
            d->has_bearing = 1;
            d->bearing = deg;
            return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        }
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_DESCRIPTION:
        if (what & HDL_ABS_TEXT)
            return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_SUMMARY:
    case HDL_STEP_EDIT:
        d->step = HDL_STEP_SUMMARY;
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_QUICK:
    case HDL_STEP_CATEGORY:
    case HDL_STEP_MEDIA:
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    }
    return TL_OK;
}

/* A message in a private chat. */
static int on_message(struct turn *t, const struct tg_message *m, const struct hdl_file *f)
{
    struct hdl_plan *p = t->p;
    int rc;
    if (m->is_command && m->text)
        return on_command(t, m);
    const char *text = m->text && *m->text ? m->text : NULL;
    if (!t->d && !text && !m->photo.file_id && !m->document.file_id && !m->video.file_id &&
        !m->location.present) {
        if (m->has_video)
            return resend_as_photo(t, 0);
        return hdl_send_key(p, t->chat_id, t->lang, "unsupported", NULL, 0, 0);
    }
    int fresh = !t->d;
    if (fresh)
        draft_start(t, 0, (double)m->date);
    struct hdl_draft *d = t->d;
    enum hdl_step step = d->step;
    /* the reply keyboard of the location step */
    if (step == HDL_STEP_LOCATION && text && is_label(text, "btn_cancel"))
        return cancel(t, 0);
    p->cx.user_msg_id = m->message_id;
    draft_keep(t);
    int words = !(
        text && (step == HDL_STEP_LOCATION || step == HDL_STEP_WHEN || step == HDL_STEP_DIRECTION));
    int what = 0;
    if ((rc = hdl_absorb(t->ctx, m, f, p, d, t->lang, words, &what)) != TL_OK)
        return rc;
    if (what & HDL_ABS_REFUSED) {
        if (fresh)
            unstart(p);
        return TL_OK;
    }
    if (!what && !text && m->has_video) {
        rc = resend_as_photo(t, 1);
        if (fresh)
            unstart(p);
        return rc;
    }
    if (!what && !text && m->location.present && fresh) {
        unstart(p);
        return hdl_send_key(p, t->chat_id, t->lang, "location_invalid", NULL, 0, 0);
    }
    if ((what & HDL_ABS_ALBUM_MORE) && !(what & ~(HDL_ABS_PHOTO | HDL_ABS_ALBUM_MORE)))
        return TL_OK; /* the rest of an album: one answer for the set */
    return step_answered(t, m, text, what);
}

/* An edited message: before sending it changes the draft; after, it is an addendum. */
static int on_edit(struct turn *t, const struct tg_message *m)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    if (t->d) {
        int changed = 0, rc;
        if (m->location.present && m->message_id == t->d->live_msg_id) {
            const char *why = NULL;
            if (geo_check(NULL, m->location.latitude, m->location.longitude, &why) == TL_OK) {
                hdl_set_point(t->d, m->location.latitude, m->location.longitude,
                              m->location.horizontal_accuracy, GEO_SRC_LIVE_LOCATION);
                if (m->location.heading > 0) {
                    t->d->has_bearing = 1;
                    t->d->bearing = m->location.heading % 360;
                }
                changed = 1;
            }
        }
        for (size_t i = 0; i < t->d->n_msgs && m->text; i++)
            if (t->d->msgs[i].id == m->message_id) {
                if ((rc = hdl_set_str(&t->d->msgs[i].text, m->text)) != TL_OK)
                    return rc;
                changed = 1;
            }
        if (changed) {
            draft_keep(t);
            return TL_OK;
        }
    }
    if (lk && lk->edit_ref[0] && m->text && *m->text) {
        p->cx.addendum_ref = hdl_keep(p, tl_strdup(lk->edit_ref));
        p->cx.addendum_text = m->text;
        p->cx.addendum_reporter = p->pseudonym;
        return hdl_send_text(
            p, t->chat_id,
            hdl_keep(p, hdl_text(t->lang, "edit_added", "ref", lk->edit_ref, (char *)NULL)), NULL,
            0, 0);
    }
    if (t->d) /* a draft message edited to the same thing, or another's: nothing changes */
        hdl_draft_release(&p->draft), p->has_draft = 0;
    return TL_OK;
}

static int on_clear(struct turn *t, const struct tg_callback *cb, const struct hdl_cb *c)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    if (!lk || !lk->clear_found)
        return hdl_answer_cb(p, cb, hdl_tr(p, t->lang, "clear_unknown"));
    int rc = hdl_answer_cb(p, cb, NULL);
    size_t n = 0;
    for (size_t i = 0; i < lk->n_del && rc == TL_OK; i++, n++)
        rc = hdl_delete_msg(p, t->chat_id, lk->del_ids[i]);
    if (rc)
        return rc;
    const char *nn = hdl_count_label(p, (int)n), *mm = hdl_count_label(p, (int)lk->n_undeletable);
    return hdl_send_text(
        p, t->chat_id,
        hdl_keep(p, lk->n_undeletable
                        ? hdl_text(t->lang, "cleared_partly", "n", nn, "ref", c->arg, "m", mm,
                                   (char *)NULL)
                        : hdl_text(t->lang, "cleared", "n", nn, "ref", c->arg, (char *)NULL)),
        NULL, 0, 0);
}

/* Is the button's action one the draft's step can take? */
static int cb_fits(const struct hdl_draft *d, enum hdl_cb_act a)
{
    switch (a) {
    case HDL_CB_CATEGORY:
        return d->step == HDL_STEP_CATEGORY;
    case HDL_CB_MEDIA_DONE:
        return d->step == HDL_STEP_MEDIA;
    case HDL_CB_WHEN:
        return d->step == HDL_STEP_WHEN;
    case HDL_CB_DIRECTION:
        return d->step == HDL_STEP_DIRECTION;
    case HDL_CB_SKIP_TEXT:
        return d->step == HDL_STEP_DESCRIPTION;
    case HDL_CB_EDIT:
        return d->step == HDL_STEP_SUMMARY;
    case HDL_CB_EDIT_STEP:
    case HDL_CB_BACK:
        return d->step == HDL_STEP_EDIT;
    case HDL_CB_GUIDED:
        return d->step == HDL_STEP_QUICK;
    case HDL_CB_SEND: /* "Send now" of a reminder works at any step */
    case HDL_CB_CANCEL:
        return 1;
    default:
        return 0;
    }
}

/* The moment a button was pressed (callbacks carry no date): the runtime's clock. */
static double cb_now(const struct turn *t)
{
    return t->cv && t->cv->now > 0 ? t->cv->now : (double)time(NULL);
}

static int on_callback(struct turn *t, const struct tg_callback *cb)
{
    struct hdl_plan *p = t->p;
    struct hdl_cb c;
    long long mid = cb->message_id;
    if (hdl_cb_parse(cb->data, &c) != TL_OK)
        return hdl_answer_cb(p, cb, hdl_tr(p, t->lang, "stale_button"));
    if (c.act == HDL_CB_LANG) {
        t->lang = hdl_lang_pick(c.arg);
        p->fx.lang = t->lang;
        if (t->d) {
            tl_strlcpy(t->d->lang, t->lang, sizeof(t->d->lang));
            draft_keep(t);
        }
        int rc = hdl_answer_cb(p, cb, NULL);
        return rc ? rc
                  : hdl_edit_text(p, t->chat_id, mid, hdl_tr(p, t->lang, "lang_switched"), NULL);
    }
    if (c.act == HDL_CB_CLEAR)
        return on_clear(t, cb, &c);
    struct hdl_draft *d = t->d;
    if (!d || d->id != c.draft_id || !cb_fits(d, c.act)) {
        /* a keyboard of a draft sent, cancelled or expired, or of an earlier step */
        if (t->d)
            hdl_draft_release(&p->draft), p->has_draft = 0, t->d = NULL;
        return hdl_answer_cb(p, cb, hdl_tr(p, t->lang, "stale_button"));
    }
    int rc = hdl_answer_cb(p, cb, NULL);
    if (rc)
        return rc;
    draft_keep(t);
    switch (c.act) {
    case HDL_CB_CANCEL:
        return cancel(t, mid);
    case HDL_CB_SEND:
        return send_report(t, mid);
    case HDL_CB_GUIDED:
        d->guided = 1;
        d->step = HDL_STEP_CATEGORY;
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_QUICK);
    case HDL_CB_CATEGORY:
        if (!hdl_in_list(hdl_categories(t->ctx), c.arg))
            return TL_OK;
        if ((rc = hdl_set_str(&d->category, c.arg)) != TL_OK)
            return rc;
        if (hdl_next_step(t->ctx, d) != HDL_STEP_LOCATION) /* an inline step: in place */
            return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, mid);
        rc = hdl_edit_text(p, t->chat_id, mid,
                           hdl_keep(p, hdl_text(t->lang, "chosen_category", "category",
                                                hdl_cat_label(p, t->lang, c.arg), (char *)NULL)),
                           NULL);
        return rc ? rc : hdl_advance(p, t->ctx, NULL, d, t->chat_id, 0);
    case HDL_CB_MEDIA_DONE:
        return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    case HDL_CB_WHEN: {
        long long mins = 0;
        if (tl_parse_ll(c.arg, &mins) != TL_OK || mins < 0 || mins > 7 * 24 * 60)
            return TL_OK;
        d->observed_at = (cb_now(t) - mins * 60.0);
        return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    }
    case HDL_CB_DIRECTION:
        if (strcmp(c.arg, "skip") != 0) {
            long long deg = 0;
            if (tl_parse_ll(c.arg, &deg) != TL_OK || deg < 0 || deg >= 360)
                return TL_OK;
            d->has_bearing = 1;
            d->bearing = (double)deg;
        }
        return hdl_advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    case HDL_CB_SKIP_TEXT:
        d->editing = 0;
        d->step = HDL_STEP_SUMMARY;
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_DESCRIPTION);
    case HDL_CB_EDIT:
        d->step = HDL_STEP_EDIT;
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_SUMMARY);
    case HDL_CB_BACK:
        d->step = HDL_STEP_SUMMARY;
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_EDIT);
    case HDL_CB_EDIT_STEP: {
        long long st = 0;
        if (tl_parse_ll(c.arg, &st) != TL_OK || st < HDL_STEP_CATEGORY || st > HDL_STEP_DESCRIPTION)
            return TL_OK;
        d->step = (enum hdl_step)st;
        d->editing = 1;
        if (d->step == HDL_STEP_DESCRIPTION) { /* the new words replace the old */
            for (size_t i = 0; i < d->n_msgs; i++) {
                free(d->msgs[i].text);
                d->msgs[i].text = NULL;
            }
        }
        if (d->step == HDL_STEP_LOCATION) { /* a reply keyboard: a new message */
            rc = hdl_edit_text(p, t->chat_id, mid, hdl_tr(p, t->lang, "edit_which"), NULL);
            return rc ? rc : hdl_show_step(p, t->ctx, NULL, d, t->chat_id, 0, HDL_STEP_EDIT);
        }
        return hdl_show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_EDIT);
    }
    default:
        return TL_OK;
    }
}

/* ---- entry points ---- */

void hdl_lookup_wanted(const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                       const struct tg_update *u, struct store_conv_lookup *lk, char pseudonym[65])
{
    memset(lk, 0, sizeof(*lk));
    lk->max_age_s = 47 * 3600; /* Telegram: 48 h, less a margin for the queue */
    if (u->kind == TG_UPD_EDITED_MESSAGE && u->msg.chat_type == TG_CHAT_PRIVATE && u->msg.text)
        lk->edit_msg_id = u->msg.message_id;
    if (u->kind != TG_UPD_CALLBACK_QUERY)
        return;
    struct hdl_cb c;
    if (hdl_cb_parse(u->cb.data, &c) != TL_OK)
        return;
    if (c.act == HDL_CB_CLEAR &&
        hdl_pseudonym(ctx->secret, ctx->secret_len, u->cb.from_id, pseudonym) == TL_OK) {
        lk->clear_ref = u->cb.data + 2; /* borrowed from u: the arg, checked by the parse */
        lk->pseudonym = pseudonym;
    } else if (c.act == HDL_CB_SEND && cv && cv->draft && cv->draft->id == c.draft_id) {
        if (ctx->auto_clear_chat)
            lk->clear_draft_id = c.draft_id;
        /* the draft becomes a report: moderation decides with the reporter's standing */
        if (ctx->mod &&
            hdl_pseudonym(ctx->secret, ctx->secret_len, u->cb.from_id, pseudonym) == TL_OK) {
            lk->mod_reporter = pseudonym;
            lk->mod_draft_id = c.draft_id;
            lk->mod_window_s = (long)(ctx->mod->campaign.window_us / 1000000);
            lk->mod_window_max = 2000;
            hdl_mod_lookup(ctx, cv->draft, lk);
        }
    }
}

/* Where the update comes from: a message in a group or a channel gets one polite
 * pointer to the private chat, once per chat, and nothing else. */
static int not_private(struct turn *t, const struct tg_message *m)
{
    if (t->cv && t->cv->notice_sent)
        return TL_OK;
    t->p->cx.chat_id = m->chat_id;
    t->p->cx.notice = 1;
    return hdl_send_key(t->p, m->chat_id, t->lang, "private_only", NULL, 0, 0);
}

int hdl_decide(const struct hdl_ctx *ctx, const struct hdl_conv *cv, const struct tg_update *u,
               const struct hdl_file *f, struct hdl_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->fx.update_id = u->update_id;
    p->fx.set_blocked = -1;
    struct turn t = {.ctx = ctx, .cv = cv, .u = u, .p = p};
    int rc = TL_OK;
    long long from = 0;
    const char *code = NULL;
    switch (u->kind) {
    case TG_UPD_MESSAGE:
    case TG_UPD_EDITED_MESSAGE:
        t.chat_id = u->msg.chat_id;
        from = u->msg.from_is_bot ? 0 : u->msg.from_id;
        code = u->msg.language_code;
        break;
    case TG_UPD_CALLBACK_QUERY:
        t.chat_id = u->cb.chat_id ? u->cb.chat_id : u->cb.from_id;
        from = u->cb.from_id;
        code = u->cb.language_code;
        break;
    case TG_UPD_MY_CHAT_MEMBER:
        if (u->member.chat_type == TG_CHAT_GROUP || u->member.chat_type == TG_CHAT_SUPERGROUP) {
            /* added to a group: the one pointer to the private chat, said at once */
            const char *st = u->member.new_status ? u->member.new_status : "";
            t.chat_id = u->member.chat_id;
            t.lang = "uk";
            if (t.chat_id && (strcmp(st, "member") == 0 || strcmp(st, "administrator") == 0) &&
                !(cv && cv->notice_sent)) {
                p->cx.chat_id = t.chat_id;
                p->cx.notice = 1;
                return hdl_send_key(p, t.chat_id, t.lang, "private_only", NULL, 0, 0);
            }
            return TL_OK;
        }
        if (u->member.chat_type == TG_CHAT_PRIVATE && u->member.from_id) {
            if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, u->member.from_id,
                                    p->pseudonym)) != TL_OK)
                return rc;
            p->fx.chat_id = u->member.chat_id;
            p->fx.pseudonym = p->pseudonym;
            const char *st = u->member.new_status ? u->member.new_status : "";
            p->fx.set_blocked = strcmp(st, "kicked") == 0 ? 1 : strcmp(st, "member") == 0 ? 0 : -1;
        }
        return TL_OK;
    case TG_UPD_OTHER:
        return TL_OK; /* recorded in the inbox, nothing else to do */
    }
    if (!t.chat_id)
        return TL_OK; /* no chat to answer in (a malformed update): nothing to do */
    t.lang = cv && cv->chat_lang ? hdl_lang_pick(cv->chat_lang) : hdl_lang_pick(code);
    if (u->kind != TG_UPD_CALLBACK_QUERY && u->msg.chat_type != TG_CHAT_PRIVATE) {
        if (u->kind == TG_UPD_MESSAGE && !u->msg.from_is_bot)
            return not_private(&t, &u->msg);
        return TL_OK;
    }
    if (!from)
        return TL_OK; /* other bots, channel posts: never a reporter */
    /* the chat's type when Telegram gave it: the chat id may be a keyed hash, never equal
     * to the sender's id */
    if (u->kind == TG_UPD_CALLBACK_QUERY && u->cb.chat_id &&
        (u->cb.chat_type ? u->cb.chat_type != TG_CHAT_PRIVATE : u->cb.chat_id != u->cb.from_id))
        return hdl_answer_cb(p, &u->cb, NULL); /* a keyboard in a group: answered, nothing else */
    if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, from, p->pseudonym)) != TL_OK)
        return rc;
    p->fx.chat_id = t.chat_id;
    p->fx.pseudonym = p->pseudonym;
    p->fx.lang = cv && cv->chat_lang ? NULL : t.lang; /* /lang's choice is kept */
    p->cx.chat_id = t.chat_id;
    if (cv && cv->draft) {
        if ((rc = hdl_draft_copy(cv->draft, &p->draft)) != TL_OK)
            return rc;
        p->has_draft = 1;
        t.d = &p->draft;
        t.lang = t.d->lang[0] ? t.d->lang : t.lang;
    }
    switch (u->kind) {
    case TG_UPD_MESSAGE:
        rc = on_message(&t, &u->msg, f);
        break;
    case TG_UPD_EDITED_MESSAGE:
        rc = on_edit(&t, &u->msg);
        break;
    default:
        rc = on_callback(&t, &u->cb);
        break;
    }
    if (rc == TL_OK && p->cx.draft_op == STORE_DRAFT_PUT) {
        char *json = hdl_keep(p, hdl_draft_to_json(&p->draft));
        if (!json)
            return TL_ENOMEM;
        p->cx.draft_json = json;
        p->cx.draft_id = p->draft.id;
        p->cx.idle_minutes = ctx->draft_idle_minutes > 0 ? ctx->draft_idle_minutes : 30;
    }
    return rc;
}
