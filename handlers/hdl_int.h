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

/* ---- keyboards and categories (keyboards.c) ---- */

/* {"inline_keyboard": []}; NULL on ENOMEM. */
struct json_object *hdl_kb_new(void);
/* A new row at the end of kb (borrowed from kb); NULL when kb is NULL or on ENOMEM. */
struct json_object *hdl_kb_row(struct json_object *kb);
/* A button whose callback data is "<draft>:<act>" (draft 0: act alone); row or label
 * NULL: nothing. */
void hdl_kb_btn(struct json_object *row, const char *label, long long draft, const char *act);
/* The comma-separated category ids, in keyboard order (the configured ones or the
 * defaults). Borrowed. */
const char *hdl_categories(const struct hdl_ctx *ctx);
/* Is id one of the comma-separated list's items? */
int hdl_in_list(const char *list, const char *id);
/* Does the category ask for a direction of movement? */
int hdl_is_moving(const struct hdl_ctx *ctx, const char *cat);
/* The category's label in lang (the catalog's "cat_<id>", else the id), kept in p. */
const char *hdl_cat_label(struct hdl_plan *p, const char *lang, const char *id);

#endif
