/* bot/tg.h - the Telegram Bot API: client (libcurl + json-c), update model,
 * long-poll poller and outbox sender. bot/ knows Telegram and nothing of reports:
 * the poller and the sender reach storage through the sink structs below.
 *
 * Errors from Telegram map to the tl_err codes:
 *   429 -> TL_ERATE (ei->retry_after)   401 -> TL_EAUTH   409 -> TL_ECONFLICT
 *   403 -> TL_EFORBIDDEN   other ok:false -> TL_ETG (ei->tg_code, ei->msg = description)
 *   5xx without envelope -> TL_EHTTP   curl failure -> TL_ENET / TL_ETIMEOUT
 *   a body that is not a Bot API envelope -> TL_EPARSE
 * ei->msg never holds the token: URLs and curl messages are masked. */
#ifndef TL_TG_H
#define TL_TG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct json_object;
struct tg_client;

struct tg_client_opts {
    const char *api_base;    /* "https://api.telegram.org" or a local/fake server; copied */
    const char *token;       /* copied; never logged */
    long connect_timeout_ms; /* 0: 10000 */
    long timeout_ms;     /* total per ordinary call; 0: 30000. getUpdates adds its poll timeout */
    size_t max_response; /* cap on a JSON response body; 0: 16 MiB */
};

/* One client per thread (it owns one curl easy handle, reused). *out is NULL on error. */
int tg_client_new(const struct tg_client_opts *o, struct tg_client **out) TL_WUR;
void tg_client_free(struct tg_client *c);

/* POSTs params (a JSON object text, may be NULL) to method. On ok:true *result (may be
 * NULL to discard) is a new json_object of the "result" field; put it with json_object_put. */
int tg_call(struct tg_client *c, const char *method, const char *params_json,
            struct json_object **result, struct tl_errinfo *ei) TL_WUR;

/* getMe: *username_out is a new string (free()). */
int tg_get_me(struct tg_client *c, char **username_out, struct tl_errinfo *ei) TL_WUR;

/* getUpdates with offset, long-poll timeout_s, limit (1..100) and allowed_updates
 * (message, edited_message, callback_query, my_chat_member). *updates is a new json array. */
int tg_get_updates(struct tg_client *c, long long offset, int timeout_s, int limit,
                   struct json_object **updates, struct tl_errinfo *ei) TL_WUR;

/* sendMessage; reply_markup_json may be NULL; *message_id_out may be NULL. */
int tg_send_message(struct tg_client *c, long long chat_id, const char *text,
                    const char *reply_markup_json, long long *message_id_out,
                    struct tl_errinfo *ei) TL_WUR;

int tg_answer_callback_query(struct tg_client *c, const char *callback_query_id, const char *text,
                             struct tl_errinfo *ei) TL_WUR;

/* deleteMessage (e.g. the keyboard of a finished wizard step). */
int tg_delete_message(struct tg_client *c, long long chat_id, long long message_id,
                      struct tl_errinfo *ei) TL_WUR;

/* getFile: *file_path is a new string (free()); *file_size -1 when not given. */
int tg_get_file(struct tg_client *c, const char *file_id, char **file_path, long long *file_size,
                struct tl_errinfo *ei) TL_WUR;

/* Downloads <api_base>/file/bot<token>/<file_path>, at most max bytes (else TL_ETOOBIG,
 * checked against Content-Length first and while reading). *buf is new (free()).
 * Its total timeout is timeout_ms + 60 s. */
int tg_download_file(struct tg_client *c, const char *file_path, size_t max, unsigned char **buf,
                     size_t *len, struct tl_errinfo *ei) TL_WUR;

/* Is err worth retrying later (network, 5xx, 429, timeout)? */
int tg_err_retryable(int err);

/* When *flag becomes non-zero, a transfer in flight is abandoned and the call
 * returns TL_ESTOP (the poller sets it so a stop does not wait out a long poll).
 * flag may be NULL (the default: transfers always run to the end). */
void tg_client_set_abort(struct tg_client *c, volatile sig_atomic_t *flag);

/* The API base in use (opts, else $TELEGRAM_API_BASE, else the public API). */
const char *tg_client_base(const struct tg_client *c);

/* A copy of s with the client's token (raw and URL-encoded) replaced by "***";
 * free with free(). NULL on allocation failure. */
char *tg_client_mask(const struct tg_client *c, const char *s);

/* ---- several calls in flight ---- */

struct tg_multi;

/* Up to max_inflight calls of client c at once over one connection pool (libcurl's
 * multi interface, one thread): connections are reused from call to call, and HTTP/2
 * carries them all on one connection where the server speaks it. c is borrowed and
 * must outlive the pool; its abort flag is not consulted. *out is NULL on error. */
int tg_multi_new(struct tg_client *c, size_t max_inflight, struct tg_multi **out) TL_WUR;
/* Abandons the calls still in flight. NULL is a no-op. */
void tg_multi_free(struct tg_multi *m);

/* Starts method with params_json (copied; NULL = {}); tag comes back with the answer
 * from tg_multi_next. TL_ETOOBIG when max_inflight calls are already in flight. */
int tg_multi_add(struct tg_multi *m, const char *method, const char *params_json, void *tag,
                 struct tl_errinfo *ei) TL_WUR;

/* Calls started and not yet taken back by tg_multi_next. */
size_t tg_multi_inflight(const struct tg_multi *m);

/* Moves the transfers on, waiting up to timeout_ms for one of them to make progress
 * (at once when nothing is in flight). TL_OK, or TL_ENOMEM / TL_EIO from libcurl. */
int tg_multi_wait(struct tg_multi *m, long timeout_ms) TL_WUR;

/* Takes back one finished call: returns 1 with *tag, *rc (what tg_call would have
 * returned), *result (a new json_object of "result" on success; result may be NULL to
 * discard) and ei filled as tg_call fills them; returns 0 when none has finished. */
int tg_multi_next(struct tg_multi *m, void **tag, int *rc, struct json_object **result,
                  struct tl_errinfo *ei);

/* ---- the update model: what handlers read ---- */

enum tg_update_kind {
    TG_UPD_OTHER = 0, /* anything we do not handle (still stored, marked processed) */
    TG_UPD_MESSAGE,
    TG_UPD_EDITED_MESSAGE,
    TG_UPD_CALLBACK_QUERY,
    TG_UPD_MY_CHAT_MEMBER,
};

enum tg_chat_type {
    TG_CHAT_UNKNOWN = 0,
    TG_CHAT_PRIVATE,
    TG_CHAT_GROUP,
    TG_CHAT_SUPERGROUP,
    TG_CHAT_CHANNEL
};

struct tg_file_ref {
    char *file_id; /* NULL when absent */
    char *file_unique_id;
    long long file_size; /* -1 unknown */
    int width, height;   /* photos; 0 unknown */
    char *mime_type;     /* documents */
    char *file_name;     /* documents */
};

struct tg_location {
    int present;
    double latitude, longitude;
    double horizontal_accuracy; /* metres, 0 unknown */
    int live_period;            /* seconds, 0 not live */
    int heading;                /* degrees 1..360, 0 unknown */
};

struct tg_message {
    long long message_id;
    long long chat_id;
    enum tg_chat_type chat_type;
    long long from_id; /* 0 when absent (channel posts) */
    int from_is_bot;
    char *language_code;         /* from.language_code, NULL if absent */
    long long date, edit_date;   /* unix seconds; edit_date 0 if not edited */
    char *text;                  /* text or caption, NULL if none */
    int is_command;              /* text starts with a bot_command entity at offset 0 */
    struct tg_file_ref photo;    /* the largest PhotoSize; file_id NULL if no photo */
    struct tg_file_ref document; /* file_id NULL if no document */
    int has_video;               /* video / animation / video_note present */
    struct tg_file_ref video;    /* that video (the first of the three); file_id NULL if none */
    struct tg_location location;
    char *venue_title; /* venue: title and address, location in .location */
    char *venue_address;
    int forwarded; /* forward_origin / forward_from / forward_from_chat present */
    char *media_group_id;
    long long reply_to_id; /* relay: reply_to_message.message_id; 0 when not a reply */
};

struct tg_callback {
    char *id;
    long long from_id;
    char *language_code;
    char *data;        /* NULL if absent */
    long long chat_id; /* of the message with the keyboard; 0 if inline */
    long long message_id;
};

struct tg_member_change {
    long long chat_id;
    enum tg_chat_type chat_type;
    long long from_id;
    char *old_status, *new_status; /* "member", "kicked", "administrator", ... */
};

struct tg_update {
    long long update_id;
    enum tg_update_kind kind;
    struct tg_message msg;          /* MESSAGE and EDITED_MESSAGE */
    struct tg_callback cb;          /* CALLBACK_QUERY */
    struct tg_member_change member; /* MY_CHAT_MEMBER */
};

/* Parses one Update object from outside bytes (bounded: len <= 1 MiB, else TL_ETOOBIG;
 * not an object or no update_id -> TL_EPARSE). Unknown fields are ignored; wrong types
 * are treated as absent. Release with tg_update_release (also after an error). */
int tg_update_parse(const char *json, size_t len, struct tg_update *out) TL_WUR;
void tg_update_release(struct tg_update *u);

/* tg_update_parse from an already parsed Update object (borrowed); the poller, the
 * inbox and the handlers hold json objects. Release with tg_update_release. */
int tg_update_from_json(struct json_object *obj, struct tg_update *out) TL_WUR;

/* The chat an update belongs to, for per-chat ordering: message/edited chat id, the
 * callback's message chat (else from id), my_chat_member chat; 0 when none.
 * Works on a parsed json object (the poller has one). */
long long tg_update_chat_key(struct json_object *update);

/* The text of the message a callback_query's keyboard is attached to
 * (callback_query.message.text, else its caption); borrowed from update, NULL if none. */
const char *tg_update_callback_message_text(struct json_object *update);

/* ---- poller ---- */

struct tg_poll_sink {
    void *ud;
    /* Stores every update of the batch (a json array, borrowed) and new_offset in ONE
     * transaction. Returns TL_OK only once it is committed. */
    int (*store_batch)(void *ud, struct json_object *updates, long long new_offset,
                       struct tl_errinfo *ei);
    /* Any other error is retried after a backoff with the same updates;
     * TL_ECONFLICT (the poller lock was lost) and TL_ESTOP end tg_poller_run with it. */
};

struct tg_poller_opts {
    int timeout_s;        /* long-poll seconds (0..50) */
    int limit;            /* 1..100 */
    long base_backoff_ms; /* 0: 500 */
    long max_backoff_ms;  /* 0: 30000 */
};

/* Long-polls from start_offset until *stop is set (returns TL_ESTOP) or a fatal error:
 * 401 (TL_EAUTH), 409 (TL_ECONFLICT: another poller or a webhook). The offset advances
 * only after store_batch committed; a failed store re-fetches the same updates after a
 * backoff. 429 waits retry_after; 5xx, network errors and malformed bodies back off with
 * jitter. Every wait is logged (without the token). An unusable API base (unsupported
 * scheme, malformed URL) ends it too, with TL_ECONFIG. */
int tg_poller_run(struct tg_client *c, const struct tg_poller_opts *o, long long start_offset,
                  const struct tg_poll_sink *sink, volatile sig_atomic_t *stop,
                  struct tl_errinfo *ei) TL_WUR;

/* ---- sender ---- */

struct tg_outmsg {
    long long id; /* the outbox row */
    long long chat_id;
    char *method;      /* "sendMessage", "editMessageText", "answerCallbackQuery", ... */
    char *params_json; /* complete params object, chat_id included */
    int attempts;      /* previous attempts */
};

enum tg_send_outcome {
    TG_SENT = 0,         /* delivered; message_id set when Telegram returned one */
    TG_SEND_RETRY = 1,   /* try again after retry_ms (429, 5xx, network) */
    TG_SEND_FAILED = 2,  /* permanent (400 and the like): record, never retry */
    TG_SEND_BLOCKED = 3, /* 403: the user blocked the bot; record and mark the chat */
};

struct tg_send_result {
    enum tg_send_outcome outcome;
    long long message_id; /* 0 when none */
    long retry_ms;
    const char *error; /* Telegram's description or the network error (masked) */
    int rate_limited;  /* Telegram answered 429 (Too Many Requests) */
};

struct tg_send_sink {
    void *ud;
    /* Claims up to max messages that are due; *msgs new array (the sink frees it in done
     * or via release). Returns TL_OK with *n = 0 when nothing is due. */
    int (*claim)(void *ud, size_t max, struct tg_outmsg **msgs, size_t *n, struct tl_errinfo *ei);
    /* Records the outcome of one message. */
    int (*done)(void *ud, const struct tg_outmsg *m, const struct tg_send_result *r,
                struct tl_errinfo *ei);
    /* Frees a claimed array. The sender calls it exactly once per claim,
     * after done() ran for every message it sent; messages left undone because of a
     * stop stay claimed in storage and come back when their claim expires. */
    void (*release)(void *ud, struct tg_outmsg *msgs, size_t n);
    /* Optional (NULL: done() for each): records n delivered messages (every r[i].outcome
     * TG_SENT) at once, all or nothing. On an error the sender records them with done(). */
    int (*done_sent)(void *ud, const struct tg_outmsg *const *m, const struct tg_send_result *r,
                     size_t n, struct tl_errinfo *ei);
};

struct tg_sender_opts {
    long rate_per_s;   /* global messages per second (Telegram: ~30) */
    long idle_wait_ms; /* sleep when nothing is due; 0: 200 */
    int max_attempts;  /* after this many retries a message is FAILED; 0: 20 */
    int max_inflight;  /* Bot API calls in flight at once; 0: 32 */
};

/* Delivers until *stop (returns TL_ESTOP once the calls in flight are answered and
 * recorded) or until drain is set and nothing is due (returns TL_OK). drain may be NULL.
 * rate_per_s is kept in the long run, and no second holds more than rate_per_s + 1 calls
 * (a call started late is made up by the next one). Up to max_inflight calls are in
 * flight (one connection pool), never two for one chat:
 * a chat's next message starts only after the previous one's outcome was recorded, and
 * after a RETRY its later messages of the same claim are left claimed (back in order
 * when the claim expires; storage's claim hands out one message per chat anyway).
 * A 429 makes that message RETRY after retry_after; two 429s in a row
 * also pause all sending for retry_after (the bot as a whole is over the limit). */
int tg_sender_run(struct tg_client *c, const struct tg_sender_opts *o,
                  const struct tg_send_sink *sink, volatile sig_atomic_t *stop,
                  volatile sig_atomic_t *drain) TL_WUR;

#endif
