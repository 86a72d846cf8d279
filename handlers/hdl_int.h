/* handlers/hdl_int.h - what the files of handlers/ share; not for other folders.
 * wizard.c decides; the others build what it decides with. */
#ifndef TL_HDL_INT_H
#define TL_HDL_INT_H

#include <json-c/json.h>

#include "hdl.h"

/* ---- the plan (plan.c) ---- */

/* Keeps s (a malloc'd string, may be NULL) in the plan, which frees it. Returns s, or
 * NULL when s was NULL or could not be kept (then s is freed). */
char *hdl_keep(struct hdl_plan *p, char *s);
/* The catalog text for key in lang, kept in the plan; NULL on allocation failure. */
const char *hdl_tr(struct hdl_plan *p, const char *lang, const char *key);
/* sendMessage of text (NULL: TL_ENOMEM), split at Telegram's 4096 UTF-16 units; the
 * keyboard markup (consumed, may be NULL) goes with the last part. prompt: carries
 * the draft's keyboard; track: one of the draft's messages. */
int hdl_send_text(struct hdl_plan *p, long long chat_id, const char *text,
                  struct json_object *markup, int prompt, int track) TL_WUR;
/* hdl_send_text of the catalog text for key. */
int hdl_send_key(struct hdl_plan *p, long long chat_id, const char *lang, const char *key,
                 struct json_object *markup, int prompt, int track) TL_WUR;
/* editMessageText of msg_id with a new keyboard (consumed) or none. */
int hdl_edit_text(struct hdl_plan *p, long long chat_id, long long msg_id, const char *text,
                  struct json_object *markup) TL_WUR;
/* Takes the inline keyboard off msg_id. */
int hdl_drop_keyboard(struct hdl_plan *p, long long chat_id, long long msg_id) TL_WUR;
/* answerCallbackQuery, with a short text or none. */
int hdl_answer_cb(struct hdl_plan *p, const struct tg_callback *cb, const char *text) TL_WUR;
int hdl_delete_msg(struct hdl_plan *p, long long chat_id, long long msg_id) TL_WUR;

#endif
