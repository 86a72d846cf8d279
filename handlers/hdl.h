/* handlers/hdl.h - what an update means, with no I/O.
 *
 * hdl_decide() is pure: given a parsed update (and the bytes of a file the daemon
 * fetched for it) it returns a plan: the rows to write and the replies to send, which
 * the caller commits in ONE transaction (store_apply). The daemon (daemon/daemon.h)
 * does the I/O. The plan's types come from storage/store.h (whole: the plan holds them
 * by value); the update is only pointed to here, so bot/tg.h is included by the files of
 * handlers/ that read it (hdl_int.h), not by this header's users. handlers/ links
 * neither. */
#ifndef TL_HDL_H
#define TL_HDL_H

#include <stddef.h>

#include "common/cfg.h"
#include "common/err.h"
#include "storage/store.h"

struct tg_update;

/* ---- i18n: message catalogs (handlers/i18n/<lang>.txt, embedded) ---- */

/* "uk" (the default) or "en", from Telegram's language_code. Static string. */
const char *hdl_lang_pick(const char *language_code);
/* The catalog text for key with {name} placeholders filled from NULL-terminated
 * name, value pairs. Returns a new string (free()); falls back to "en", then to the key. */
char *hdl_text(const char *lang, const char *key, ...) __attribute__((sentinel));
/* Checks every catalog has the same keys and placeholders as "en"; TL_EINVAL with the
 * first difference in ei->msg. */
int hdl_i18n_check(struct tl_errinfo *ei) TL_WUR;

/* ---- identity ---- */

/* The reporter's pseudonym: hex HMAC-SHA256(secret, decimal user id), 64 chars + NUL. */
int hdl_pseudonym(const unsigned char *secret, size_t secret_len, long long user_id,
                  char out[65]) TL_WUR;
/* A fresh public reference: "TL-" and six Crockford base32 characters (30 random bits). */
int hdl_new_ref(char out[16]) TL_WUR;

/* ---- decisions ---- */

struct geo_ctx;
struct tl_tz;
struct mod_policy;
struct mod_scratch;

struct hdl_ctx {
    const unsigned char *secret;
    size_t secret_len;
    size_t max_photo_bytes;
    const struct geo_ctx *geo; /* area of interest + gazetteer; NULL: no checks, no names */
    /* the conversation; NULL/0: the defaults named in deploy/tipline.conf.sample */
    const char *categories;        /* comma-separated category ids, in keyboard order */
    const char *moving_categories; /* those that ask for a direction of movement */
    long draft_idle_minutes;       /* a draft untouched this long is discarded */
    int auto_clear_chat;           /* delete the report's messages on "Send" */
    const struct tl_tz *tz;        /* the citizens' clock (common/tz.h); NULL: UTC */
    struct store_dedup dedup;      /* duplicates: .on 0 none folded, no photo linked */
    /* moderation (moderation/mod.h) of each report as it is sent; NULL: none */
    const struct mod_policy *mod;
    struct mod_scratch *mod_scratch; /* the calling thread's working memory */
    const char *mod_categories;      /* the categories of mod->rate.cat[], in slot order (CSV) */
};

enum hdl_file_state { HDL_FILE_NONE = 0, HDL_FILE_OK, HDL_FILE_TOOBIG, HDL_FILE_FAILED };

struct hdl_file {
    enum hdl_file_state state;
    const unsigned char *bytes; /* borrowed, valid during hdl_decide */
    size_t len;
};

/* The file the daemon should fetch before deciding (the photo's file_id, or a
 * document's when Telegram does not say it is over max_photo_bytes), borrowed from u;
 * NULL when none. */
const char *hdl_wanted_file(const struct hdl_ctx *ctx, const struct tg_update *u);

/* ---- the conversation: a draft per chat, built over several messages ---- */

enum hdl_step {
    HDL_STEP_QUICK = 0, /* a quick report: whatever comes is added, "Send now" any time */
    HDL_STEP_CATEGORY,
    HDL_STEP_LOCATION,
    HDL_STEP_MEDIA,
    HDL_STEP_WHEN,
    HDL_STEP_DIRECTION,
    HDL_STEP_DESCRIPTION,
    HDL_STEP_SUMMARY,
    HDL_STEP_EDIT, /* the summary's "Edit" menu */
};

#define HDL_DRAFT_MAX_MSGS 48

struct hdl_draft_msg {
    long long id; /* the citizen's message id */
    char *text;   /* what it said (text or caption), NULL none */
};

/* A draft report, as kept in drafts.state (JSON). Owns its strings. */
struct hdl_draft {
    long long id; /* the update_id that started it: callback data names it */
    enum hdl_step step;
    int guided;  /* /report: the steps in order; 0: a quick report */
    int editing; /* a step reached from the summary's Edit menu returns to the summary */
    char lang[4];
    char *category;
    int has_point;
    double lat, lon, accuracy_m;
    char point_source[24];
    long long live_msg_id; /* the live location message whose edits move the point */
    int has_bearing;
    double bearing;
    double observed_at; /* epoch seconds, 0 unknown */
    double sent_at;     /* the first message's date */
    int forwarded;
    char *media_group_id;
    int n_media;
    int has_photo_gps;
    double photo_lat, photo_lon;
    char *flags; /* comma-separated, NULL none */
    /* a shared place name's candidates (JSON array), NULL none */
    char *places;
    struct hdl_draft_msg msgs[HDL_DRAFT_MAX_MSGS];
    size_t n_msgs;
    long long po; /* outbox id of the keyboard message: read from drafts.state, written
                   * there by storage only (hdl_draft_to_json leaves it out) */
};

/* JSON <-> draft. from_json: TL_EPARSE for anything that is not a draft object. */
int hdl_draft_from_json(const char *json, struct hdl_draft *d) TL_WUR;
char *hdl_draft_to_json(const struct hdl_draft *d); /* new string, free(); NULL on ENOMEM */
int hdl_draft_copy(const struct hdl_draft *src, struct hdl_draft *dst) TL_WUR;
void hdl_draft_release(struct hdl_draft *d);

/* Callback data the bot puts on its buttons: "<draft id>:<action>[:<arg>]", and
 * "L:<lang>" (language), "x:<ref>" (clear a sent report's messages). Outside bytes:
 * TL_EPARSE for anything else. */
enum hdl_cb_act {
    HDL_CB_NONE = 0,
    HDL_CB_CATEGORY,   /* c:<id> */
    HDL_CB_MEDIA_DONE, /* m */
    HDL_CB_WHEN,       /* w:<minutes ago> */
    HDL_CB_DIRECTION,  /* d:<degrees> | d:skip */
    HDL_CB_SKIP_TEXT,  /* t */
    HDL_CB_SEND,       /* send */
    HDL_CB_EDIT,       /* edit */
    HDL_CB_EDIT_STEP,  /* e:<step number> */
    HDL_CB_BACK,       /* back */
    HDL_CB_CANCEL,     /* cancel */
    HDL_CB_GUIDED,     /* g: a quick draft continues step by step */
    HDL_CB_LANG,       /* L:uk | L:en */
    HDL_CB_CLEAR,      /* x:<ref> */
};
struct hdl_cb {
    enum hdl_cb_act act;
    long long draft_id;
    char arg[48];
};
int hdl_cb_parse(const char *data, struct hdl_cb *out) TL_WUR;

/* A typed time: "now", "14:30" (on the wall clock of tz, NULL: UTC; the last such moment
 * not in the future; see tl_tz_from_local for the hours the clocks skip or repeat),
 * "45", "45 min", "2 h" (ago; uk words too). *out epoch seconds. TL_EPARSE else. */
int hdl_parse_when(const char *text, double now, const struct tl_tz *tz, double *out) TL_WUR;
/* A typed direction: N, NE, ..., NW (en, uk: пн, пн-сх, ...), their words, an arrow,
 * or degrees 0..359. TL_EPARSE else. */
int hdl_parse_bearing(const char *text, double *deg) TL_WUR;

/* UTF-16 code units of a UTF-8 string, as Telegram measures its limits (4096 per
 * message, 1024 per caption): an emoji outside the BMP counts 2. */
size_t hdl_utf16_len(const char *s);
/* Bytes of the longest prefix of s that is at most max_units UTF-16 units and ends
 * on a code point boundary. */
size_t hdl_utf16_prefix(const char *s, size_t max_units);
#define HDL_TG_TEXT_MAX 4096
#define HDL_TG_CAPTION_MAX 1024

/* What the daemon read in the chat's transaction before deciding. */
struct hdl_conv {
    const struct hdl_draft *draft;      /* NULL: no draft */
    long long prompt_msg_id;            /* Telegram id of the draft's keyboard message, 0 unknown */
    const char *chat_lang;              /* the chat's language (chats.lang), NULL unknown */
    int notice_sent;                    /* this group was told already */
    const struct store_conv_lookup *lk; /* answers to hdl_lookup_wanted; NULL none */
    double now; /* the daemon's clock (epoch s) for buttons, which carry no date; 0: time() */
};

/* What the update needs looked up before deciding (an edited message's report, the
 * messages to delete): fills lk's inputs; pseudonym is a buffer it may fill. */
void hdl_lookup_wanted(const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                       const struct tg_update *u, struct store_conv_lookup *lk, char pseudonym[65]);

/* A plan owns every string and buffer its effects point to. */
struct hdl_plan {
    struct store_effects fx;
    struct store_report_new report;
    struct store_media_new media; /* this update's photo, added to the draft */
    struct store_conv_effects cx;
    struct store_conv_out *out; /* the replies, in order (cx.out) */
    size_t n_out, cap_out;
    struct hdl_draft draft; /* the draft after this update (cx.draft_op PUT) */
    int has_draft;
    char pseudonym[65];
    char ref[16];
    char **owned;
    size_t n_owned, cap_owned;
    unsigned char *media_bytes;
    int out_when; /* the replies queued now: store_conv_out.when */
    /* moderation's verdict on the report (report.mod points here) */
    struct store_mod_verdict modv;
    int mod_kind;            /* enum mod_verdict_kind; 0: accepted or not moderated */
    long mod_retry_s;        /* rate-limited: seconds until the next report is taken */
    long long *mod_members;  /* modv.members */
    const char *mod_hits[8]; /* modv.rule_hits: the matched rules' reasons (kept strings) */
    long long mod_bands[8];  /* modv.bands */
};

/* Decides what u means for the chat's conversation. Pure: no I/O. cv and f may be
 * NULL. Release the plan with hdl_plan_release (also after an error). */
int hdl_decide(const struct hdl_ctx *ctx, const struct hdl_conv *cv, const struct tg_update *u,
               const struct hdl_file *f, struct hdl_plan *plan) TL_WUR;
/* Draws a new public reference into an existing plan (after TL_ECONFLICT). */
int hdl_plan_reref(struct hdl_plan *plan) TL_WUR;
void hdl_plan_release(struct hdl_plan *plan);
/* Adds a plain reply (params_json consumed, also on error) to a plan built outside
 * hdl_decide (the relay's answer path): written by store_conv_write with the plan. */
int hdl_plan_reply(struct hdl_plan *plan, long long chat_id, const char *method,
                   char *params_json) TL_WUR;

/* The janitor's texts (sendMessage params without chat_id; "__DRAFT__" stands for the
 * draft id in callback data) for the reminder and the expiry notice, in lang. New
 * strings (free()). */
char *hdl_reminder_params(const char *lang);
char *hdl_expired_params(const char *lang);

/* ---- the relay between analysts and citizens (relay.c) ---- */

/* store_relay_compose_fn for a follow-up question: sendMessage params with a
 * force_reply keyboard in the chat's language, or *refusal when it cannot be sent. */
int hdl_relay_question(void *ud, const struct store_relay_item *it, char **params,
                       const char **refusal) TL_WUR;
/* store_relay_compose_fn for a reviewed notice: the reference, nothing of the decision. */
int hdl_relay_reviewed(void *ud, const struct store_relay_item *it, char **params,
                       const char **refusal) TL_WUR;
/* 1 when u could answer a relayed question: a private text message (or caption) that
 * replies to a message, from a person, not a command. */
int hdl_relay_may_answer(const struct tg_update *u);
/* The plan for u answering follow-up followup of report ref (the followups row, a
 * short thanks in lang or the sender's language). Release the plan as usual. */
int hdl_relay_answer(const struct hdl_ctx *ctx, const struct tg_update *u, long long followup,
                     const char *ref, const char *lang, struct hdl_plan *p) TL_WUR;

#endif
