/* handlers/hdl.h - what an update means, and the runtime that executes it.
 *
 * Two halves. hdl_decide() is pure: given a parsed update (and the bytes of a file the
 * runtime fetched for it) it returns a plan: the rows to write and the replies to send,
 * which the caller commits in ONE transaction (store_apply). The runtime (poller,
 * workers, sender threads) does the I/O: it ties bot/ and storage/ together. */
#ifndef TL_HDL_H
#define TL_HDL_H

#include <signal.h>
#include <stddef.h>

#include "bot/tg.h"
#include "common/cfg.h"
#include "common/err.h"
#include "storage/store.h"

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

struct hdl_ctx {
    const unsigned char *secret;
    size_t secret_len;
    size_t max_photo_bytes;
    const struct geo_ctx *geo; /* area of interest + gazetteer; NULL: no checks, no names */
};

enum hdl_file_state { HDL_FILE_NONE = 0, HDL_FILE_OK, HDL_FILE_TOOBIG, HDL_FILE_FAILED };

struct hdl_file {
    enum hdl_file_state state;
    const unsigned char *bytes; /* borrowed, valid during hdl_decide */
    size_t len;
};

/* The file the runtime should fetch before deciding (the photo's file_id, or a
 * document's when Telegram does not say it is over max_photo_bytes), borrowed from u;
 * NULL when none. */
const char *hdl_wanted_file(const struct hdl_ctx *ctx, const struct tg_update *u);

/* A plan owns every string and buffer its store_effects point to. */
struct hdl_plan {
    struct store_effects fx;
    struct store_report_new report;
    struct store_media_new media;
    struct store_outbox_new out[2];
    char pseudonym[65];
    char ref[16];
    char *owned[8];
    size_t n_owned;
    unsigned char *media_bytes;
};

/* Decides what u means. Pure: no I/O. f may be NULL. Release the plan with
 * hdl_plan_release (also after an error). */
int hdl_decide(const struct hdl_ctx *ctx, const struct tg_update *u, const struct hdl_file *f,
               struct hdl_plan *plan) TL_WUR;
/* Draws a new public reference into an existing plan (after TL_ECONFLICT). */
int hdl_plan_reref(struct hdl_plan *plan) TL_WUR;
void hdl_plan_release(struct hdl_plan *plan);

/* ---- runtime ---- */

struct hdl_runtime;

struct hdl_runtime_opts {
    const struct cfg *cfg; /* database_url, workers, poll_timeout, send_rate, ... */
    const char *api_base;  /* overrides cfg->telegram_api_base when set (demo, bench) */
    const char *token;     /* overrides cfg->bot_token when set */
    int workers;           /* overrides cfg->workers when > 0 */
    int no_poller;         /* 1: workers and sender only (webhook mode, tests) */
    int no_sender;
    long idle_ms;                /* worker sleep when the inbox is empty; 0: 20 */
    volatile sig_atomic_t *stop; /* set by a signal or the caller; also set on a fatal error */
};

/* Starts the poller, the workers and the sender as threads. *out NULL on error. */
int hdl_runtime_start(const struct hdl_runtime_opts *o, struct hdl_runtime **out,
                      struct tl_errinfo *ei) TL_WUR;
/* Joins the threads (after *stop was set) and frees rt. Returns the first fatal error
 * (TL_EAUTH, TL_ECONFLICT, ...) or TL_OK; ei gets its message. */
int hdl_runtime_join(struct hdl_runtime *rt, struct tl_errinfo *ei) TL_WUR;

/* Counters since start, for logs, the demo and the bench. */
struct hdl_runtime_counts {
    long long batches, updates_stored, updates_handled, reports, sent, send_failed;
};
void hdl_runtime_counts(struct hdl_runtime *rt, struct hdl_runtime_counts *c);

#endif
