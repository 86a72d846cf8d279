/* handlers/plan.c - the plan a decision returns: the strings it owns and the Bot
 * API calls it queues in the outbox (sendMessage split at Telegram's limit,
 * editMessageText, a keyboard taken off, answerCallbackQuery, deleteMessage), each
 * as the JSON parameters storage writes with the rows in one transaction. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "hdl_int.h"
#include "common/banned.h"

char *hdl_keep(struct hdl_plan *p, char *s)
{
    if (!s)
        return NULL;
    if (p->n_owned == p->cap_owned) {
        size_t nc = p->cap_owned ? p->cap_owned * 2 : 16;
        char **o = realloc(p->owned, nc * sizeof(*o));
        if (!o) {
            free(s);
            return NULL;
        }
        p->owned = o;
        p->cap_owned = nc;
    }
    p->owned[p->n_owned++] = s;
    return s;
}

/* A catalog text kept in the plan ("" on allocation failure is caught by callers
 * through the NULL check of hdl_keep). */
const char *hdl_tr(struct hdl_plan *p, const char *lang, const char *key)
{
    return hdl_keep(p, hdl_text(lang, key, (char *)NULL));
}

/* Queues method with params_json (already kept in the plan). */
static int out_add_kept(struct hdl_plan *p, long long chat_id, const char *method,
                        const char *params_json, int prompt, int track)
{
    if (p->n_out == p->cap_out) {
        size_t nc = p->cap_out ? p->cap_out * 2 : 8;
        struct store_conv_out *o = realloc(p->out, nc * sizeof(*o));
        if (!o)
            return TL_ENOMEM;
        p->out = o;
        p->cap_out = nc;
    }
    p->out[p->n_out++] =
        (struct store_conv_out){chat_id, method, params_json, prompt, track, p->out_when};
    p->cx.out = p->out;
    p->cx.n_out = p->n_out;
    return TL_OK;
}

/* Queues method with params (consumed). prompt: carries the draft's keyboard; track:
 * one of the draft's messages. */
static int out_add(struct hdl_plan *p, long long chat_id, const char *method,
                   struct json_object *params, int prompt, int track)
{
    if (!params)
        return TL_ENOMEM;
    char *text =
        hdl_keep(p, tl_strdup(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)));
    json_object_put(params);
    if (!text)
        return TL_ENOMEM;
    return out_add_kept(p, chat_id, method, text, prompt, track);
}

int hdl_plan_reply(struct hdl_plan *p, long long chat_id, const char *method, char *params_json)
{
    const char *kept = hdl_keep(p, params_json);
    if (!kept)
        return TL_ENOMEM;
    p->cx.chat_id = chat_id;
    return out_add_kept(p, chat_id, method, kept, 0, 0);
}

static struct json_object *params_for(long long chat_id)
{
    struct json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "chat_id", json_object_new_int64(chat_id));
    return o;
}

/* sendMessage of text, split at Telegram's 4096 UTF-16 units on code point
 * boundaries (the keyboard goes with the last part). markup is consumed. */
int hdl_send_text(struct hdl_plan *p, long long chat_id, const char *text,
                  struct json_object *markup, int prompt, int track)
{
    int rc = TL_OK;
    if (!text) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    do {
        size_t cut = hdl_utf16_prefix(text, HDL_TG_TEXT_MAX);
        int last = text[cut] == 0;
        if (cut == 0)
            break;
        struct json_object *o = params_for(chat_id);
        if (!o) {
            rc = TL_ENOMEM;
            break;
        }
        json_object_object_add(o, "text", json_object_new_string_len(text, (int)cut));
        if (last && markup) {
            json_object_object_add(o, "reply_markup", markup);
            markup = NULL;
        }
        rc = out_add(p, chat_id, "sendMessage", o, last && prompt, track);
        text += cut;
    } while (rc == TL_OK && *text);
    json_object_put(markup);
    return rc;
}

int hdl_send_key(struct hdl_plan *p, long long chat_id, const char *lang, const char *key,
                 struct json_object *markup, int prompt, int track)
{
    return hdl_send_text(p, chat_id, hdl_tr(p, lang, key), markup, prompt, track);
}

/* editMessageText of the keyboard message, with a new keyboard or none. */
int hdl_edit_text(struct hdl_plan *p, long long chat_id, long long msg_id, const char *text,
                  struct json_object *markup)
{
    if (!text) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    struct json_object *o = params_for(chat_id);
    if (!o) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    size_t cut = hdl_utf16_prefix(text, HDL_TG_TEXT_MAX);
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    json_object_object_add(o, "text", json_object_new_string_len(text, (int)cut));
    if (markup)
        json_object_object_add(o, "reply_markup", markup);
    return out_add(p, chat_id, "editMessageText", o, 0, 0);
}

/* Takes the inline keyboard off an older message (the chat keeps one live keyboard). */
int hdl_drop_keyboard(struct hdl_plan *p, long long chat_id, long long msg_id)
{
    struct json_object *o = params_for(chat_id), *kb = json_object_new_object();
    if (!o || !kb) {
        json_object_put(o);
        json_object_put(kb);
        return TL_ENOMEM;
    }
    json_object_object_add(kb, "inline_keyboard", json_object_new_array());
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    json_object_object_add(o, "reply_markup", kb);
    return out_add(p, chat_id, "editMessageReplyMarkup", o, 0, 0);
}

int hdl_answer_cb(struct hdl_plan *p, const struct tg_callback *cb, const char *text)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "callback_query_id", json_object_new_string(cb->id ? cb->id : ""));
    if (text)
        json_object_object_add(o, "text", json_object_new_string(text));
    return out_add(p, cb->chat_id ? cb->chat_id : cb->from_id, "answerCallbackQuery", o, 0, 0);
}

int hdl_delete_msg(struct hdl_plan *p, long long chat_id, long long msg_id)
{
    struct json_object *o = params_for(chat_id);
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    return out_add(p, chat_id, "deleteMessage", o, 0, 0);
}

int hdl_plan_reref(struct hdl_plan *p)
{
    char old[16];
    tl_strlcpy(old, p->ref, sizeof(old));
    int rc = hdl_new_ref(p->ref);
    if (rc)
        return rc;
    /* the acknowledgement (text and params, both owned) quotes the reference:
     * rewrite it in place, same length */
    for (size_t i = 0; i < p->n_owned; i++) {
        char *hit = p->owned[i];
        while ((hit = strstr(hit, old)) != NULL)
            memcpy(hit, p->ref, strlen(p->ref));
    }
    return TL_OK;
}

void hdl_plan_release(struct hdl_plan *p)
{
    for (size_t i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    free(p->owned);
    p->owned = NULL;
    p->n_owned = p->cap_owned = 0;
    free(p->out);
    p->out = NULL;
    p->n_out = p->cap_out = 0;
    free(p->media_bytes);
    p->media_bytes = NULL;
    free(p->mod_members);
    p->mod_members = NULL;
    hdl_draft_release(&p->draft);
}
