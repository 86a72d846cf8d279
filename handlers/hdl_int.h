/* handlers/hdl_int.h - what the files of handlers/ share; not for other folders.
 * wizard.c decides; the others build what it decides with. */
#ifndef TL_HDL_INT_H
#define TL_HDL_INT_H

#include <json-c/json.h>

#include "bot/tg.h"
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

/* ---- what a message adds to a draft (absorb.c) ---- */

/* *dst becomes a copy of v (NULL: none); the old string is freed. */
int hdl_set_str(char **dst, const char *v) TL_WUR;
/* Does the draft hold any words? */
int hdl_has_text(const struct hdl_draft *d);
/* The draft's point, and where it came from (GEO_SRC_*). */
void hdl_set_point(struct hdl_draft *d, double lat, double lon, double acc, const char *src);
/* A place read from words: the best candidate; flags when it fits several places or
 * none inside the area. Returns 1 when a point was found; *rc an error or TL_OK. */
int hdl_point_from_text(const struct hdl_ctx *ctx, struct hdl_draft *d, const char *text, int *rc);
/* What hdl_absorb found in a message (*what). */
enum {
    HDL_ABS_TEXT = 1,
    HDL_ABS_POINT = 2,
    HDL_ABS_PHOTO = 4,
    HDL_ABS_REFUSED = 8,
    HDL_ABS_ALBUM_MORE = 16,
};
/* Adds what message m carries to the draft: its photo (sanitized into p->media, kept
 * with the draft), its location, its words. A file that cannot be cleaned is refused
 * with a reason (HDL_ABS_REFUSED, the reply queued). words: whether the text is part
 * of the description (not when it answered a step such as the time). */
int hdl_absorb(const struct hdl_ctx *ctx, const struct tg_message *m, const struct hdl_file *f,
               struct hdl_plan *p, struct hdl_draft *d, const char *lang, int words,
               int *what) TL_WUR;
/* The draft's words: its messages' texts joined by newlines, as the report holds them.
 * *out: a new string (free()), NULL when the draft has none. */
int hdl_draft_words(const struct hdl_draft *d, char **out) TL_WUR;
/* The report the draft becomes (p->report, a new public reference in p->ref). */
int hdl_report_from_draft(const struct hdl_ctx *ctx, struct hdl_plan *p,
                          const struct hdl_draft *d) TL_WUR;

/* ---- moderation (moderate.c) ---- */

/* Text hygiene of the report r in p: r->text_display (controls and bidi overrides
 * neutralised; NULL when the raw text needs nothing) and r->links (the links and
 * @channel mentions it displays), kept in p. The raw r->text stays as evidence. */
int hdl_text_hygiene(struct hdl_plan *p, struct store_report_new *r) TL_WUR;

/* Runs moderation on the report in p (p->report, made from the draft) with the inputs
 * storage read into lk: sets the report's status and verdict (p->modv), p->mod_kind and
 * p->mod_retry_s for the reply. Nothing when ctx->mod is NULL or lk holds no inputs. */
int hdl_moderate(const struct hdl_ctx *ctx, const struct store_conv_lookup *lk,
                 struct hdl_plan *p) TL_WUR;
/* What the campaign window is read by (lk's mod_bands, mod_photo) for draft d: the
 * bands of its words' signature, when they are long enough to match, and whether it
 * holds a photo. */
void hdl_mod_lookup(const struct hdl_ctx *ctx, const struct hdl_draft *d,
                    struct store_conv_lookup *lk);

/* ---- prompts (prompts.c) ---- */

/* n as text, kept in p. */
const char *hdl_count_label(struct hdl_plan *p, int n);
/* Shows d's current step: in place of the keyboard message edit_id when the step has
 * an inline keyboard, else as a new message (the older keyboard taken off). */
int hdl_show_step(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                  const struct hdl_draft *d, long long chat_id, long long edit_id,
                  enum hdl_step old_step) TL_WUR;
/* The next step of a guided draft; steps already answered are passed over. */
enum hdl_step hdl_next_step(const struct hdl_ctx *ctx, const struct hdl_draft *d);
/* Moves a guided draft on (an edit returns to the summary). */
int hdl_advance(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                struct hdl_draft *d, long long chat_id, long long edit_id) TL_WUR;

#endif
