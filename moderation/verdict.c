/* moderation/verdict.c - what becomes of a message: bans, rate limits, Telegram's
 * length, rules, campaigns and reputation, in that order, with reasons. */
#include <stdio.h>
#include <string.h>

#include "moderation/mod.h"
#include "common/banned.h"

_Static_assert((int)MOD_RULE_FLAG == (int)MOD_FLAG && (int)MOD_RULE_HOLD == (int)MOD_HOLD &&
                   (int)MOD_RULE_DROP == (int)MOD_DROP && (int)MOD_RULE_REFUSE == (int)MOD_REFUSE,
               "a rule's action is the verdict it leads to");

static const char *const verdict_names[] = {
    "accept", "flag", "hold", "drop", "refuse", "rate_limited", "banned", "shadow_banned",
};

const char *mod_verdict_name(enum mod_verdict_kind k)
{
    return k <= MOD_SHADOW_BANNED ? verdict_names[k] : "?";
}

static void reason(struct mod_verdict *v, const char *prefix, const char *what)
{
    if (v->nreasons == MOD_REASONS_MAX)
        return;
    snprintf(v->reasons[v->nreasons++], MOD_REASON_MAX, "%s%s", prefix, what);
}

static void raise_to(struct mod_verdict *v, enum mod_verdict_kind k)
{
    if (k > v->kind)
        v->kind = k;
}

int mod_decide(const struct mod_policy *p, struct mod_scratch *s, const struct mod_message *m,
               const struct mod_standing *st, const struct mod_history *hist,
               struct mod_verdict *out)
{
    memset(out, 0, sizeof(*out));
    out->kind = MOD_ACCEPT;
    if (st->ban == MOD_BAN_OPEN) {
        out->kind = MOD_BANNED;
        reason(out, "", "ban");
        return TL_OK;
    }
    if (st->ban == MOD_BAN_SHADOW) {
        out->kind = MOD_SHADOW_BANNED;
        reason(out, "", "shadow_ban");
        return TL_OK;
    }
    out->is_new = st->first_seen_us == 0 ||
                  m->at_us - st->first_seen_us < p->rate.new_for_s * 1000000 ||
                  st->reputation < p->rate.new_below_reputation;
    if (hist && hist->rate) {
        int64_t wait = mod_rate_take(&p->rate, hist->rate, out->is_new, m->category, m->at_us);
        if (wait > 0) {
            out->kind = MOD_RATE_LIMITED;
            out->retry_after_us = wait;
            reason(out, "", "rate_limit");
            return TL_OK;
        }
    }
    size_t len = m->text ? m->len : 0;
    if (mod_text_utf16_len(m->text, len) >
        (m->is_caption ? MOD_CAPTION_MAX_UTF16 : MOD_TEXT_MAX_UTF16)) {
        raise_to(out, MOD_REFUSE);
        reason(out, "", "too_long");
    }
    if (p->rules && s) {
        struct mod_hit hits[MOD_REASONS_MAX];
        size_t n = mod_rules_match(p->rules, s, m->text, len, hits, MOD_REASONS_MAX);
        for (size_t k = 0; k < n && k < MOD_REASONS_MAX; k++) {
            /* the rule actions share their values with the verdicts they lead to */
            raise_to(out, (enum mod_verdict_kind)hits[k].action);
            reason(out, "rule:", hits[k].reason);
        }
    }
    if (out->is_new) {
        int rc = mod_sig_make(m->text, len, m->has_photo, m->phash, &out->sig);
        if (rc != TL_OK)
            return rc;
        if (out->kind <= MOD_HOLD && hist && hist->window) {
            mod_campaign_check(&p->campaign, &out->sig, m->reporter, m->at_us, hist->window,
                               hist->nwindow, out->matched, MOD_MATCHED_MAX, &out->campaign);
            if (out->campaign.joins) {
                raise_to(out, MOD_HOLD);
                reason(out, "", "campaign");
            }
        }
    }
    if (out->kind == MOD_ACCEPT && st->reputation < p->flag_below_reputation) {
        out->kind = MOD_FLAG;
        reason(out, "", "low_reputation");
    }
    return TL_OK;
}
