/* fakebot/fakebot_int.h - the fake Bot API server's state and the functions its three
 * files share: fakebot_http.c (the HTTP server: requests in, replies out),
 * fakebot_methods.c (the Bot API methods and the injected faults, as answers) and
 * fakebot_state.c (the update queue, the recorded calls and the public calls that script
 * and inspect them). One mutex, fb->mu, guards all state; "mutex held" below means the
 * caller holds it. Not part of the public interface (fakebot.h). */
#ifndef TL_FAKEBOT_INT_H
#define TL_FAKEBOT_INT_H

#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "fakebot.h"

#define FB_MAX_BODY ((size_t)1 << 20)

struct fb_update {
    long long id;
    char *json;
    size_t len;
    char kind[32]; /* "message", "callback_query", ...: for allowed_updates */
};

struct fb_fault {
    char *method; /* NULL = any */
    enum fakebot_fault f;
    int count;
    int arg;
    char *body; /* FB_RAW */
};

struct fb_file {
    char *file_id;
    char *path;
    unsigned char *bytes;
    size_t len;
};

struct fb_count {
    char *method;
    size_t n;
};

struct fakebot {
    struct MHD_Daemon *d;
    char *token;
    char base[64];
    int quiet;
    long long bot_id;

    pthread_mutex_t mu;
    pthread_cond_t upd_cond;  /* updates arrived, a newer poll started, stopping */
    pthread_cond_t call_cond; /* a call was recorded */
    int stopping;

    struct fb_update *upd; /* sorted by id */
    size_t n_upd, cap_upd;
    long long next_id;
    long long acked;
    unsigned long poll_gen;

    struct fb_fault *faults;
    size_t n_faults, cap_faults;

    struct json_object *calls; /* array of {"method","params"} */
    struct fb_count *counts;
    size_t n_counts, cap_counts;
    size_t n_calls;

    struct fb_file *files;
    size_t n_files, cap_files;

    long long *blocked;
    size_t n_blocked, cap_blocked;

    long long next_message_id; /* the last id given to a message the bot sent */

    long delay_ms;
    int every_429, retry_after;
    unsigned long long n_sending;
    struct json_object *answers; /* array of {"method","params","status","in_us","out_us"} */
    struct timespec t0;
};
struct fb_reply {
    unsigned status;
    char *body; /* malloc'd */
    size_t len;
    const char *ctype;
    int drop;
};

/* ---- fakebot_state.c ---- */

/* Makes room for need elements of size elem in *p (capacity *cap): TL_OK or TL_ENOMEM. */
int fb_grow(void **p, size_t *cap, size_t need, size_t elem);
/* Microseconds since fakebot_start (monotonic clock). */
long long fb_since_start_us(const struct fakebot *fb);
/* *ts = now + ms on the monotonic clock (the condition variables' clock). */
void fb_deadline_after(struct timespec *ts, long ms);
/* 1 when the monotonic clock has reached *ts. */
int fb_past(const struct timespec *ts);
/* The following need the mutex held. */
struct fb_count *fb_count_slot(struct fakebot *fb, const char *method, int create);
/* Records a call (params: a new reference is kept) and wakes call waiters. */
void fb_record(struct fakebot *fb, const char *method, struct json_object *params);
/* The next fault for method; *body (FB_RAW) is a new string. */
int fb_take_fault(struct fakebot *fb, const char *method, int *arg, char **body);
int fb_is_blocked(struct fakebot *fb, long long chat);
/* Drops updates below offset (offset > 0) or all but the last -offset (offset < 0). */
void fb_acknowledge(struct fakebot *fb, long long offset);
/* Queues an update in id order, taking json; TL_ECONFLICT when id is queued already. */
int fb_insert_update(struct fakebot *fb, long long id, char *json, size_t len, const char *kind);
/* Records the answer to a sending method (status 0: the connection was cut). */
void fb_record_answer(struct fakebot *fb, const char *method, struct json_object *params,
                      unsigned status, long long in_us);

/* ---- fakebot_methods.c (mutex held) ---- */

void fb_reply_text(struct fb_reply *r, unsigned status, const char *ctype, const char *txt);
/* The Bot API's error envelope; pkey (NULL: none) = pval goes into "parameters". */
void fb_reply_err(struct fb_reply *r, int code, const char *desc, const char *pkey, long long pval);
/* Answers Bot API method with params p; gen: the poll generation (getUpdates). */
void fb_dispatch(struct fakebot *fb, const char *method, struct json_object *p, unsigned long gen,
                 struct fb_reply *r);
/* Applies a fault; returns 1 when the reply is decided (0: answer normally). */
int fb_apply_fault(struct fakebot *fb, int f, int arg, const char *body, struct fb_reply *r);
/* GET /file/bot<token>/<path>: the bytes fakebot_add_file registered, else 404. */
void fb_serve_file(struct fakebot *fb, const char *path, struct fb_reply *r);
/* Waits ms, giving up the mutex meanwhile: other connections are served. */
void fb_wait_locked(struct fakebot *fb, long ms);
/* 1 for the sending methods (send*, edit*, deleteMessage, answerCallbackQuery). */
int fb_is_sending(const char *method);

#endif
