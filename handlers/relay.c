/* handlers/relay.c - what the relay between analysts and citizens says, with no I/O:
 * an analyst's follow-up question as a force_reply message in the chat's language
 * (or why it cannot be sent), the neutral "reviewed" notice, and the plan for a
 * citizen's answer (the followups row and a short thanks). daemon/relay.c runs it. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tg.h"
#include "common/util.h"
#include "hdl.h"
#include "common/banned.h"

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

int hdl_relay_question(void *ud, const struct store_relay_item *it, char **params,
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
    else if (hdl_utf16_len(text) > HDL_TG_TEXT_MAX)
        *refusal = "question too long for one Telegram message";
    else if (!(*params = send_params(it->chat_id, text, ph)))
        rc = TL_ENOMEM;
    free(text);
    free(ph);
    return rc;
}

int hdl_relay_reviewed(void *ud, const struct store_relay_item *it, char **params,
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

int hdl_relay_may_answer(const struct tg_update *u)
{
    const struct tg_message *m = &u->msg;
    /* Only words answer a question: a photo or a location alone starts a report as
     * usual; a command is a command. */
    return u->kind == TG_UPD_MESSAGE && m->chat_type == TG_CHAT_PRIVATE && m->reply_to_id &&
           !m->from_is_bot && m->from_id && !m->is_command && m->text && *m->text;
}

int hdl_relay_answer(const struct hdl_ctx *ctx, const struct tg_update *u, long long followup,
                     const char *ref, const char *lang, struct hdl_plan *p)
{
    const struct tg_message *m = &u->msg;
    int rc;
    memset(p, 0, sizeof(*p));
    p->fx.update_id = u->update_id;
    p->fx.set_blocked = -1;
    if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, m->from_id, p->pseudonym)) != TL_OK)
        return rc;
    /* fx.lang stays NULL: the chat's language is the citizen's choice, kept as it is */
    p->fx.chat_id = m->chat_id;
    p->fx.pseudonym = p->pseudonym;
    p->fx.followup_id = followup;
    p->fx.answer = m->text; /* borrowed from u, which outlives the plan's write */
    int extra = m->photo.file_id || m->document.file_id || m->location.present;
    char *text =
        hdl_text(lang ? lang : hdl_lang_pick(m->language_code),
                 extra ? "relay_thanks_text_only" : "relay_thanks", "ref", ref, (char *)NULL);
    if (!text)
        return TL_ENOMEM;
    char *params = send_params(m->chat_id, text, NULL);
    free(text);
    if (!params)
        return TL_ENOMEM;
    return hdl_plan_reply(p, m->chat_id, "sendMessage", params);
}
