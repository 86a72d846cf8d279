/* fakebot/fakebot.h - a fake Telegram Bot API server on loopback
 * (libmicrohttpd, one thread per connection). It serves scripted updates with real
 * getUpdates semantics (offset acknowledges, long poll, limit, allowed_updates drops
 * the kinds not asked for, a second concurrent poller makes the first one get 409), answers the
 * sending methods like the real server, serves files for getFile, records every call (method +
 * params as JSON) and injects faults. Used by the tests, `tipline demo` and the benches. Every
 * function is thread-safe. */
#ifndef TL_FAKEBOT_H
#define TL_FAKEBOT_H

/* The id of the first message the bot sends: the fake numbers the bot's messages from
 * here, above the small ids tests give the citizens' messages (Telegram numbers a private
 * chat's messages, both sides', in one sequence, so the two never share an id). */
#define FAKEBOT_FIRST_BOT_MESSAGE 1000000LL

#include <stddef.h>

struct fakebot;

struct fakebot_opts {
    const char *token;   /* NULL: FAKEBOT_DEFAULT_TOKEN; copied */
    unsigned short port; /* 0 = ephemeral */
    int quiet;           /* 1: no log lines (else one debug line per call) */
    /* The sending methods (send*, edit*, deleteMessage, answerCallbackQuery) as a far
     * server answers them: each after delay_ms, without holding up other connections;
     * and every every_429-th of them (0: none) gets 429 with retry_after seconds. */
    long delay_ms;
    int every_429;
    int retry_after;
};

#define FAKEBOT_DEFAULT_TOKEN "123456789:AAFakeBotTokenForTestsOnly-0000000000"

/* Starts the server on 127.0.0.1. *out is NULL on error (TL_EIO when it cannot bind). */
int fakebot_start(const struct fakebot_opts *o, struct fakebot **out);
/* Wakes every long poll, stops the server and frees everything. NULL is a no-op. */
void fakebot_stop(struct fakebot *fb);

/* "http://127.0.0.1:PORT" (valid until fakebot_stop). */
const char *fakebot_base_url(struct fakebot *fb);
/* The token the server accepts (valid until fakebot_stop). */
const char *fakebot_token(struct fakebot *fb);

/* Queues an Update object (JSON text). Without an update_id it gets the next one
 * (monotonic); an explicit update_id is kept and raises the counter past it.
 * Returns the update_id, or -TL_EINVAL (not a JSON object, id out of int range),
 * -TL_ECONFLICT (that update_id is already queued), -TL_ENOMEM. Wakes long polls. */
int fakebot_push_update(struct fakebot *fb, const char *update_json);

/* Queues n_updates private text messages spread round-robin over n_chats chats
 * (chat ids 1000001..1000000+n_chats, text "synthetic report <i>"). Returns TL_OK. */
int fakebot_push_synthetic(struct fakebot *fb, size_t n_updates, size_t n_chats);

/* n_reports synthetic texts as above, each followed by the
 * citizen's "Send now" press (a callback_query with data "<text's update_id>:send"),
 * so that each text becomes one report: 2 * n_reports updates. Returns TL_OK. */
int fakebot_push_synthetic_sent(struct fakebot *fb, size_t n_reports, size_t n_chats);

/* Registers a file: getFile(file_id) answers file_path "photos/<file_id>.jpg" and
 * file_size len; GET /file/bot<token>/photos/<file_id>.jpg serves the bytes (copied). */
int fakebot_add_file(struct fakebot *fb, const char *file_id, const void *bytes, size_t len);

enum fakebot_fault {
    FB_OK,       /* no fault (removes nothing; useful as a no-op) */
    FB_429,      /* 429 envelope with parameters.retry_after = arg seconds */
    FB_500,      /* 500 with the envelope {"ok":false,"error_code":500,...} */
    FB_BAD_JSON, /* 200 with a truncated JSON body */
    FB_SLOW,     /* waits arg ms, then answers normally */
    FB_DROP,     /* cuts the connection mid-answer (a partial body, then close) */
    FB_401,      /* Unauthorized */
    FB_403,      /* Forbidden: bot was blocked by the user */
    FB_409,      /* Conflict: terminated by other getUpdates request */
    FB_400,      /* Bad Request: chat not found */
    FB_502,      /* 502 with an HTML body (a proxy in front of the API), no envelope */
    FB_MIGRATE,  /* 400 with parameters.migrate_to_chat_id = -1000000000000 - arg */
    FB_RAW,      /* the status and body given to fakebot_inject_raw */
};

/* The next `count` calls of method (NULL = any; "file" = file downloads) get the
 * fault. Faults queue in order; a faulted getUpdates acknowledges nothing. */
void fakebot_inject(struct fakebot *fb, const char *method, enum fakebot_fault f, int count,
                    int arg);

/* The next `count` calls of method (NULL = any) are answered with HTTP status and
 * exactly body (Content-Type application/json): odd payloads the real API might send. */
void fakebot_inject_raw(struct fakebot *fb, const char *method, int count, int status,
                        const char *body);

/* Calls received so far of method (NULL = all; "file" = downloads), faulted ones too. */
size_t fakebot_count(struct fakebot *fb, const char *method);

/* A new string (free()): JSON array of {"method":..,"params":{..}} in arrival order,
 * only method's calls (NULL = all). Form and query params are recorded as strings,
 * JSON bodies as sent. Only the first FAKEBOT_MAX_RECORDED calls are kept (a long
 * demo stays bounded); counts stay exact. NULL on allocation failure. */
#define FAKEBOT_MAX_RECORDED 100000
char *fakebot_calls_json(struct fakebot *fb, const char *method);

/* A new string (free()): JSON array, in the order the answers left, of every answered
 * sending method: {"method","params","status","in_us","out_us"}, the times in
 * microseconds since the server started (arrival, answer). Bounded like the calls.
 * NULL on allocation failure. */
char *fakebot_answers_json(struct fakebot *fb);

/* Forgets the recorded calls and counts. */
void fakebot_reset_calls(struct fakebot *fb);

/* Waits until fakebot_count(method) >= n: TL_OK, or TL_ETIMEOUT after timeout_ms. */
int fakebot_wait_count(struct fakebot *fb, const char *method, size_t n, long timeout_ms);

/* The highest offset a getUpdates acknowledged (0 if none), and the updates still
 * queued (not yet acknowledged). */
long long fakebot_acked_offset(struct fakebot *fb);
size_t fakebot_pending(struct fakebot *fb);

/* sendMessage (and the other sending methods) to chat_id answer 403 "Forbidden: bot
 * was blocked by the user" from now on. */
void fakebot_set_blocked_chat(struct fakebot *fb, long long chat_id);

#endif
