/* daemon/relay.c - the bot's relay between analysts and citizens (migration 0004).
 *
 * Analysts (web/) ask a follow-up question by inserting a followups row and decide a
 * report by setting its status; they never learn the chat. A thread here queues the
 * question in the reporter's chat, in the chat's language, as a force_reply message,
 * so that the citizen's answer arrives as a reply; the worker hook then attaches the
 * answer to the question instead of handing the message to the conversation. Once a
 * report is decided, the citizen may be told, neutrally, that it was reviewed. Every
 * message goes through the outbox in the transaction that records it. */
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "relay.h"
#include "common/banned.h"

#define RELAY_BATCH 50
#define TG_TEXT_MAX_UTF16 4096 /* Telegram's limit for one message, in UTF-16 code units */

struct daemon_relay {
    struct daemon_relay_opts o;
    pthread_t thread;
};

/* The length Telegram measures: UTF-16 code units (4-byte UTF-8 sequences count 2). */
static size_t utf16_len(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n += *p >= 0xF0 ? 2 : 1;
    return n;
}

/* sendMessage parameters; with a placeholder, a force_reply keyboard so that the
 * citizen's answer is a reply to this message. Returns a new string (free()). */
static char *send_params(long long chat_id, const char *text, const char *placeholder)
{
    struct json_object *o = json_object_new_object(), *kb = NULL;
    char *out = NULL;
    if (!o)
        return NULL;
    json_object_object_add(o, "chat_id", json_object_new_int64(chat_id));
    json_object_object_add(o, "text", json_object_new_string(text));
    if (placeholder) {
        if (!(kb = json_object_new_object()))
            goto out;
        json_object_object_add(kb, "force_reply", json_object_new_boolean(1));
        json_object_object_add(kb, "input_field_placeholder", json_object_new_string(placeholder));
        json_object_object_add(o, "reply_markup", kb);
    }
    out = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
    json_object_put(o);
    return out;
}

static const char *chat_lang(const char *lang)
{
    return lang && *lang ? lang : hdl_lang_pick(NULL);
}

/* store_relay_compose_fn for a follow-up question. */
static int compose_question(void *ud, const struct store_relay_item *it, char **params,
                            const char **refusal)
{
    (void)ud;
    const char *lang = chat_lang(it->lang);
    int rc = TL_OK;
    char *text = hdl_text(lang, "relay_question", "ref", it->public_ref, "question",
                          it->question ? it->question : "", (char *)NULL);
    char *ph = hdl_text(lang, "relay_placeholder", (char *)NULL);
    if (!text || !ph)
        rc = TL_ENOMEM;
    else if (utf16_len(text) > TG_TEXT_MAX_UTF16)
        *refusal = "question too long for one Telegram message";
    else if (!(*params = send_params(it->chat_id, text, ph)))
        rc = TL_ENOMEM;
    free(text);
    free(ph);
    return rc;
}

/* store_relay_compose_fn for a reviewed notice: the reference and nothing of the
 * decision. */
static int compose_reviewed(void *ud, const struct store_relay_item *it, char **params,
                            const char **refusal)
{
    (void)ud;
    (void)refusal;
    char *text =
        hdl_text(chat_lang(it->lang), "relay_reviewed", "ref", it->public_ref, (char *)NULL);
    if (text)
        *params = send_params(it->chat_id, text, NULL);
    free(text);
    return *params ? TL_OK : TL_ENOMEM;
}

/* One round: questions, then reviewed notices. *busy when a batch was full (more may
 * be waiting: no pause before the next round). */
static int relay_round(struct daemon_relay *r, struct store *s, int *busy, struct tl_errinfo *ei)
{
    struct store_relay_counts q, rv;
    int rc = store_relay_followups(s, RELAY_BATCH, compose_question, NULL, &q, ei);
    if (rc == TL_OK)
        rc = store_relay_reviewed(s, RELAY_BATCH, r->o.cfg->notify_reviewed != 0, compose_reviewed,
                                  NULL, &rv, ei);
    if (rc != TL_OK)
        return rc;
    if (q.queued || q.refused)
        log_info("follow-ups relayed queued=%lld not_relayed=%lld", q.queued, q.refused);
    if (rv.queued || rv.refused)
        log_info("reviewed notices queued=%lld marked_only=%lld", rv.queued, rv.refused);
    *busy = q.queued + q.refused >= RELAY_BATCH || rv.queued + rv.refused >= RELAY_BATCH;
    return TL_OK;
}

static void *relay_main(void *arg)
{
    struct daemon_relay *r = arg;
    struct store *s = NULL;
    long idle = r->o.interval_ms > 0 ? r->o.interval_ms : 500;
    for (int failures = 0; !*r->o.stop;) {
        struct tl_errinfo ei;
        int busy = 0, rc;
        tl_errinfo_clear(&ei);
        rc = s ? TL_OK : store_open(r->o.cfg->database_url, &s, &ei);
        if (rc == TL_OK)
            rc = relay_round(r, s, &busy, &ei);
        if (rc == TL_OK) {
            failures = 0;
            if (!busy)
                tl_sleep_ms(idle, r->o.stop);
            continue;
        }
        long wait = tl_backoff_ms(failures++, 200, 5000);
        log_warn("relay round failed err=\"%s\" detail=\"%s\" retry_in_ms=%ld", tl_strerror(rc),
                 ei.msg, wait);
        tl_sleep_ms(wait, r->o.stop);
    }
    store_free(s);
    return NULL;
}

int daemon_relay_start(const struct daemon_relay_opts *o, struct daemon_relay **out)
{
    struct daemon_relay *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (!r)
        return TL_ENOMEM;
    r->o = *o;
    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        free(r);
        return TL_EIO;
    }
    *out = r;
    return TL_OK;
}

void daemon_relay_join(struct daemon_relay *r)
{
    if (!r)
        return;
    pthread_join(r->thread, NULL);
    free(r);
}

/* ---- the answer: a worker's hook before the conversation ---- */

int daemon_relay_reply(struct store *s, const struct hdl_ctx *ctx, const struct tg_update *u,
                       struct hdl_plan *p, int *taken, struct tl_errinfo *ei)
{
    const struct tg_message *m = &u->msg;
    long long followup = 0;
    char *ref = NULL, *lang = NULL;
    *taken = 0;
    /* Only words answer a question: a photo or a location alone starts a report as
     * usual; a command is a command. */
    if (u->kind != TG_UPD_MESSAGE || m->chat_type != TG_CHAT_PRIVATE || !m->reply_to_id ||
        m->from_is_bot || !m->from_id || m->is_command || !m->text || !*m->text)
        return TL_OK;
    if (ei)
        tl_errinfo_clear(ei);
    int rc = store_followup_by_reply(s, m->chat_id, m->reply_to_id, &followup, &ref, &lang, ei);
    if (rc != TL_OK || !followup)
        goto out;
    memset(p, 0, sizeof(*p));
    p->fx.update_id = u->update_id;
    p->fx.set_blocked = -1;
    if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, m->from_id, p->pseudonym)) != TL_OK)
        goto out;
    /* fx.lang stays NULL: the chat's language is the citizen's choice, kept as it is */
    p->fx.chat_id = m->chat_id;
    p->fx.pseudonym = p->pseudonym;
    p->fx.followup_id = followup;
    p->fx.answer = m->text; /* borrowed from u, which outlives the plan's write */
    int extra = m->photo.file_id || m->document.file_id || m->location.present;
    char *text =
        hdl_text(lang ? lang : hdl_lang_pick(m->language_code),
                 extra ? "relay_thanks_text_only" : "relay_thanks", "ref", ref, (char *)NULL);
    if (!text) {
        rc = TL_ENOMEM;
        goto out;
    }
    char *params = send_params(m->chat_id, text, NULL);
    free(text);
    if (!params || (rc = hdl_plan_reply(p, m->chat_id, "sendMessage", params)) != TL_OK) {
        rc = params ? rc : TL_ENOMEM;
        goto out;
    }
    *taken = 1;
    log_info("follow-up answer received followup=%lld update_id=%lld", followup, u->update_id);
out:
    if (rc != TL_OK)
        log_warn("follow-up reply not handled yet update_id=%lld err=\"%s\" detail=\"%s\"",
                 u->update_id, tl_strerror(rc), ei ? ei->msg : "");
    free(ref);
    free(lang);
    return rc;
}
