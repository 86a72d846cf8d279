/* fakebot/fakebot.c - the fake Bot API server (see fakebot.h). One mutex
 * guards all state; long polls and call waiters sleep on condition variables
 * (monotonic clock). Envelopes copy the real server's words. */
#include "fakebot.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

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

    long long next_message_id;

    long delay_ms;
    int every_429, retry_after;
    unsigned long long n_sending;
    struct json_object *answers; /* array of {"method","params","status","in_us","out_us"} */
    struct timespec t0;
};

/* One request being received. */
struct fb_req {
    struct tl_buf body;
    int too_big;
};

struct fb_reply {
    unsigned status;
    char *body; /* malloc'd */
    size_t len;
    const char *ctype;
    int drop;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return TL_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return TL_ENOMEM;
    *p = q;
    *cap = nc;
    return TL_OK;
}

static long long since_start_us(const struct fakebot *fb)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - fb->t0.tv_sec) * 1000000 +
           (now.tv_nsec - fb->t0.tv_nsec) / 1000;
}

static void deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int past(const struct timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* ---- replies ---- */

static void reply_text(struct fb_reply *r, unsigned status, const char *ctype, const char *txt)
{
    r->status = status;
    r->ctype = ctype;
    r->body = tl_strdup(txt);
    r->len = r->body ? strlen(r->body) : 0;
}

static void reply_json(struct fb_reply *r, unsigned status, struct json_object *o)
{
    reply_text(r, status, "application/json",
               o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "");
    json_object_put(o);
}

/* ok:true with result (consumed). */
static void reply_ok(struct fb_reply *r, struct json_object *result)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(1));
    json_object_object_add(o, "result", result);
    reply_json(r, 200, o);
}

static void reply_err(struct fb_reply *r, int code, const char *desc, const char *pkey,
                      long long pval)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "ok", json_object_new_boolean(0));
    json_object_object_add(o, "error_code", json_object_new_int(code));
    json_object_object_add(o, "description", json_object_new_string(desc));
    if (pkey) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, pkey, json_object_new_int64(pval));
        json_object_object_add(o, "parameters", p);
    }
    reply_json(r, (unsigned)code, o);
}

/* ---- params ---- */

static char *url_decode(const char *s, size_t n)
{
    if (n >= FB_MAX_BODY)
        return NULL;
    char *o = malloc(n + 1), *w = o;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            *w++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && tl_hexval(s[i + 1]) >= 0 &&
                   tl_hexval(s[i + 2]) >= 0) {
            *w++ = (char)(tl_hexval(s[i + 1]) * 16 + tl_hexval(s[i + 2]));
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return o;
}

static void parse_form(struct json_object *params, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        const char *eq = memchr(s + i, '=', j - i);
        size_t kl = eq ? (size_t)(eq - (s + i)) : j - i;
        char *k = url_decode(s + i, kl);
        char *v = eq ? url_decode(eq + 1, (size_t)(s + j - eq - 1)) : tl_strdup("");
        if (k && v && *k)
            json_object_object_add(params, k, json_object_new_string(v));
        free(k);
        free(v);
        i = j + 1;
    }
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    if (key && *key)
        json_object_object_add(cls, key, json_object_new_string(value ? value : ""));
    return MHD_YES;
}

static int p_ll(struct json_object *p, const char *k, long long *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(p, k, &v))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return 1;
    }
    if (json_object_is_type(v, json_type_string))
        return tl_parse_ll(json_object_get_string(v), out) == TL_OK;
    return 0;
}

static const char *p_str(struct json_object *p, const char *k)
{
    struct json_object *v;
    if (json_object_object_get_ex(p, k, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* ---- state helpers (mutex held) ---- */

static struct fb_count *count_slot(struct fakebot *fb, const char *method, int create)
{
    for (size_t i = 0; i < fb->n_counts; i++)
        if (strcasecmp(fb->counts[i].method, method) == 0)
            return &fb->counts[i];
    if (!create ||
        grow((void **)&fb->counts, &fb->cap_counts, fb->n_counts + 1, sizeof(*fb->counts)))
        return NULL;
    struct fb_count *c = &fb->counts[fb->n_counts];
    if (!(c->method = tl_strdup(method)))
        return NULL;
    c->n = 0;
    fb->n_counts++;
    return c;
}

static void record(struct fakebot *fb, const char *method, struct json_object *params)
{
    if (json_object_array_length(fb->calls) < FAKEBOT_MAX_RECORDED) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(method));
        json_object_object_add(o, "params", json_object_get(params));
        json_object_array_add(fb->calls, o);
    }
    struct fb_count *c = count_slot(fb, method, 1);
    if (c)
        c->n++;
    fb->n_calls++;
    pthread_cond_broadcast(&fb->call_cond);
}

/* The next fault for method; *body (FB_RAW) is a new string. */
static int take_fault(struct fakebot *fb, const char *method, int *arg, char **body)
{
    for (size_t i = 0; i < fb->n_faults; i++) {
        struct fb_fault *f = &fb->faults[i];
        if (f->count <= 0 || (f->method && strcasecmp(f->method, method) != 0))
            continue;
        if (f->method == NULL && strcmp(method, "file") == 0)
            continue; /* "any" means Bot API methods, not the file server */
        enum fakebot_fault kind = f->f;
        *arg = f->arg;
        if (kind == FB_RAW)
            *body = tl_strdup(f->body ? f->body : "");
        if (--f->count == 0) {
            free(f->method);
            free(f->body);
            memmove(f, f + 1, (fb->n_faults - i - 1) * sizeof(*f));
            fb->n_faults--;
        }
        return kind;
    }
    return FB_OK;
}

static int is_blocked(struct fakebot *fb, long long chat)
{
    for (size_t i = 0; i < fb->n_blocked; i++)
        if (fb->blocked[i] == chat)
            return 1;
    return 0;
}

/* Drops updates below offset (offset > 0) or all but the last -offset (offset < 0). */
static void acknowledge(struct fakebot *fb, long long offset)
{
    size_t drop = 0;
    if (offset > 0) {
        while (drop < fb->n_upd && fb->upd[drop].id < offset)
            drop++;
        if (offset > fb->acked)
            fb->acked = offset;
    } else if (offset < 0) {
        unsigned long long keep = (unsigned long long)(-(offset + 1)) + 1;
        drop = fb->n_upd > keep ? fb->n_upd - (size_t)keep : 0;
    }
    if (drop == 0)
        return;
    if (offset < 0 && fb->upd[drop - 1].id + 1 > fb->acked)
        fb->acked = fb->upd[drop - 1].id + 1;
    for (size_t i = 0; i < drop; i++)
        free(fb->upd[i].json);
    memmove(fb->upd, fb->upd + drop, (fb->n_upd - drop) * sizeof(*fb->upd));
    fb->n_upd -= drop;
}

static int insert_update(struct fakebot *fb, long long id, char *json, size_t len, const char *kind)
{
    size_t pos = fb->n_upd;
    while (pos > 0 && fb->upd[pos - 1].id > id)
        pos--;
    if (pos > 0 && fb->upd[pos - 1].id == id)
        return TL_ECONFLICT;
    if (grow((void **)&fb->upd, &fb->cap_upd, fb->n_upd + 1, sizeof(*fb->upd)))
        return TL_ENOMEM;
    memmove(fb->upd + pos + 1, fb->upd + pos, (fb->n_upd - pos) * sizeof(*fb->upd));
    fb->upd[pos] = (struct fb_update){.id = id, .json = json, .len = len};
    tl_strlcpy(fb->upd[pos].kind, kind, sizeof(fb->upd[pos].kind));
    fb->n_upd++;
    if (id >= fb->next_id)
        fb->next_id = id + 1;
    return TL_OK;
}

static struct json_object *bot_user(struct fakebot *fb)
{
    struct json_object *u = json_object_new_object();
    json_object_object_add(u, "id", json_object_new_int64(fb->bot_id));
    json_object_object_add(u, "is_bot", json_object_new_boolean(1));
    json_object_object_add(u, "first_name", json_object_new_string("Tipline Fake"));
    json_object_object_add(u, "username", json_object_new_string("tipline_fake_bot"));
    return u;
}

static struct json_object *message_obj(struct fakebot *fb, long long chat, long long mid,
                                       const char *text, struct json_object *markup, int edited)
{
    struct json_object *m = json_object_new_object(), *c = json_object_new_object();
    long long now = (long long)time(NULL);
    json_object_object_add(m, "message_id", json_object_new_int64(mid));
    json_object_object_add(m, "from", bot_user(fb));
    json_object_object_add(c, "id", json_object_new_int64(chat));
    json_object_object_add(c, "type", json_object_new_string(chat > 0 ? "private" : "supergroup"));
    json_object_object_add(m, "chat", c);
    json_object_object_add(m, "date", json_object_new_int64(now));
    if (edited)
        json_object_object_add(m, "edit_date", json_object_new_int64(now));
    if (text)
        json_object_object_add(m, "text", json_object_new_string(text));
    if (markup && json_object_is_type(markup, json_type_object))
        json_object_object_add(m, "reply_markup", json_object_get(markup));
    return m;
}

/* ---- methods (mutex held) ---- */

/* Like the real server, updates of a kind the poller did not ask for are never
 * delivered: they leave the queue. An absent or empty list allows every kind. */
static void filter_allowed(struct fakebot *fb, struct json_object *p)
{
    struct json_object *au = NULL, *parsed = NULL;
    if (!json_object_object_get_ex(p, "allowed_updates", &au))
        return;
    if (json_object_is_type(au, json_type_string))
        au = parsed = json_tokener_parse(json_object_get_string(au));
    size_t na = json_object_is_type(au, json_type_array) ? json_object_array_length(au) : 0;
    if (na == 0) {
        json_object_put(parsed);
        return;
    }
    size_t w = 0;
    for (size_t i = 0; i < fb->n_upd; i++) {
        int ok = 0;
        for (size_t k = 0; k < na && !ok; k++) {
            const char *a = json_object_get_string(json_object_array_get_idx(au, k));
            ok = a && strcmp(a, fb->upd[i].kind) == 0;
        }
        if (ok)
            fb->upd[w++] = fb->upd[i];
        else
            free(fb->upd[i].json);
    }
    fb->n_upd = w;
    json_object_put(parsed);
}

/* gen: the poll generation taken when the request arrived; a newer getUpdates
 * (arrived later) ends this one with 409, as on the real server. */
static void m_get_updates(struct fakebot *fb, struct json_object *p, unsigned long gen,
                          struct fb_reply *r)
{
    long long offset = 0, limit = 100, timeout = 0;
    p_ll(p, "offset", &offset);
    p_ll(p, "limit", &limit);
    p_ll(p, "timeout", &timeout);
    if (limit < 1 || limit > 100)
        limit = 100;
    if (timeout < 0)
        timeout = 0;
    if (timeout > 50)
        timeout = 50;
    if (gen == fb->poll_gen) {
        acknowledge(fb, offset);
        filter_allowed(fb, p);
    }
    struct timespec dl;
    deadline_after(&dl, (long)timeout * 1000);
    while (!fb->stopping && fb->n_upd == 0 && gen == fb->poll_gen && !past(&dl))
        pthread_cond_timedwait(&fb->upd_cond, &fb->mu, &dl);
    if (gen != fb->poll_gen) {
        reply_err(r, 409,
                  "Conflict: terminated by other getUpdates request; make sure that only one "
                  "bot instance is running",
                  NULL, 0);
        return;
    }
    struct tl_buf b;
    tl_buf_init(&b, 0);
    int rc = tl_buf_append(&b, "{\"ok\":true,\"result\":[", 21);
    size_t n = fb->n_upd < (size_t)limit ? fb->n_upd : (size_t)limit;
    for (size_t i = 0; !rc && i < n; i++) {
        if (i)
            rc = tl_buf_append(&b, ",", 1);
        if (!rc)
            rc = tl_buf_append(&b, fb->upd[i].json, fb->upd[i].len);
    }
    if (!rc)
        rc = tl_buf_append(&b, "]}", 2);
    if (rc) {
        tl_buf_release(&b);
        reply_err(r, 500, "Internal Server Error", NULL, 0);
        return;
    }
    r->status = 200;
    r->ctype = "application/json";
    r->body = (char *)tl_buf_steal(&b, &r->len);
}

static int chat_param(struct fakebot *fb, struct json_object *p, struct fb_reply *r,
                      long long *chat)
{
    if (!p_ll(p, "chat_id", chat) || *chat == 0) {
        reply_err(r, 400, "Bad Request: chat not found", NULL, 0);
        return 0;
    }
    if (is_blocked(fb, *chat)) {
        reply_err(r, 403, "Forbidden: bot was blocked by the user", NULL, 0);
        return 0;
    }
    return 1;
}

static void m_send_message(struct fakebot *fb, struct json_object *p, struct fb_reply *r)
{
    long long chat;
    if (!chat_param(fb, p, r, &chat))
        return;
    const char *text = p_str(p, "text");
    if (!text || !*text) {
        reply_err(r, 400, "Bad Request: message text is empty", NULL, 0);
        return;
    }
    struct json_object *markup = NULL;
    json_object_object_get_ex(p, "reply_markup", &markup);
    reply_ok(r, message_obj(fb, chat, ++fb->next_message_id, text, markup, 0));
}

static void m_edit(struct fakebot *fb, struct json_object *p, struct fb_reply *r, int need_text)
{
    const char *text = p_str(p, "text");
    if (need_text && (!text || !*text)) {
        reply_err(r, 400, "Bad Request: message text is empty", NULL, 0);
        return;
    }
    if (p_str(p, "inline_message_id")) {
        reply_ok(r, json_object_new_boolean(1));
        return;
    }
    long long chat, mid;
    if (!chat_param(fb, p, r, &chat))
        return;
    if (!p_ll(p, "message_id", &mid) || mid <= 0) {
        reply_err(r, 400, "Bad Request: message to edit not found", NULL, 0);
        return;
    }
    struct json_object *markup = NULL;
    json_object_object_get_ex(p, "reply_markup", &markup);
    reply_ok(r, message_obj(fb, chat, mid, need_text ? text : NULL, markup, 1));
}

static void m_get_file(struct fakebot *fb, struct json_object *p, struct fb_reply *r)
{
    const char *id = p_str(p, "file_id");
    for (size_t i = 0; id && i < fb->n_files; i++) {
        struct fb_file *f = &fb->files[i];
        if (strcmp(f->file_id, id) != 0)
            continue;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "file_id", json_object_new_string(f->file_id));
        json_object_object_add(o, "file_unique_id", json_object_new_string(f->file_id));
        json_object_object_add(o, "file_size", json_object_new_int64((long long)f->len));
        json_object_object_add(o, "file_path", json_object_new_string(f->path));
        reply_ok(r, o);
        return;
    }
    reply_err(r, 400, "Bad Request: invalid file_id", NULL, 0);
}

static void dispatch(struct fakebot *fb, const char *method, struct json_object *p,
                     unsigned long gen, struct fb_reply *r)
{
    long long chat;
    if (strcasecmp(method, "getUpdates") == 0) {
        m_get_updates(fb, p, gen, r);
    } else if (strcasecmp(method, "getMe") == 0) {
        reply_ok(r, bot_user(fb));
    } else if (strcasecmp(method, "sendMessage") == 0) {
        m_send_message(fb, p, r);
    } else if (strcasecmp(method, "editMessageText") == 0) {
        m_edit(fb, p, r, 1);
    } else if (strcasecmp(method, "editMessageReplyMarkup") == 0) {
        m_edit(fb, p, r, 0);
    } else if (strcasecmp(method, "deleteMessage") == 0 ||
               strcasecmp(method, "sendChatAction") == 0) {
        if (chat_param(fb, p, r, &chat))
            reply_ok(r, json_object_new_boolean(1));
    } else if (strcasecmp(method, "answerCallbackQuery") == 0) {
        if (!p_str(p, "callback_query_id"))
            reply_err(r, 400,
                      "Bad Request: query is too old and response timeout expired or "
                      "query ID is invalid",
                      NULL, 0);
        else
            reply_ok(r, json_object_new_boolean(1));
    } else if (strcasecmp(method, "getFile") == 0) {
        m_get_file(fb, p, r);
    } else if (strcasecmp(method, "setMyCommands") == 0 ||
               strcasecmp(method, "deleteWebhook") == 0 || strcasecmp(method, "setWebhook") == 0) {
        reply_ok(r, json_object_new_boolean(1));
    } else if (strcasecmp(method, "getWebhookInfo") == 0) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "url", json_object_new_string(""));
        json_object_object_add(o, "has_custom_certificate", json_object_new_boolean(0));
        json_object_object_add(o, "pending_update_count",
                               json_object_new_int64((long long)fb->n_upd));
        reply_ok(r, o);
    } else {
        reply_err(r, 404, "Not Found: method not found", NULL, 0);
    }
}

/* Waits ms with fb->mu held, which the wait gives up meanwhile: other connections
 * are served. */
static void wait_locked(struct fakebot *fb, long ms)
{
    struct timespec dl;
    deadline_after(&dl, ms);
    while (!fb->stopping && !past(&dl))
        pthread_cond_timedwait(&fb->upd_cond, &fb->mu, &dl);
}

static int is_sending(const char *method)
{
    return strncasecmp(method, "send", 4) == 0 || strncasecmp(method, "edit", 4) == 0 ||
           strcasecmp(method, "deleteMessage") == 0 ||
           strcasecmp(method, "answerCallbackQuery") == 0;
}

static void record_answer(struct fakebot *fb, const char *method, struct json_object *params,
                          unsigned status, long long in_us)
{
    if (json_object_array_length(fb->answers) >= FAKEBOT_MAX_RECORDED)
        return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(o, "params", json_object_get(params));
    json_object_object_add(o, "status", json_object_new_int((int)status));
    json_object_object_add(o, "in_us", json_object_new_int64(in_us));
    json_object_object_add(o, "out_us", json_object_new_int64(since_start_us(fb)));
    json_object_array_add(fb->answers, o);
}

/* Applies a fault; returns 1 when the reply is decided (0: answer normally). */
static int apply_fault(struct fakebot *fb, int f, int arg, const char *body, struct fb_reply *r)
{
    char desc[96];
    switch (f) {
    case FB_429:
        snprintf(desc, sizeof(desc), "Too Many Requests: retry after %d", arg);
        reply_err(r, 429, desc, "retry_after", arg);
        return 1;
    case FB_500:
        reply_err(r, 500, "Internal Server Error", NULL, 0);
        return 1;
    case FB_502:
        reply_text(r, 502, "text/html",
                   "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                   "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n");
        return 1;
    case FB_BAD_JSON:
        reply_text(r, 200, "application/json", "{\"ok\":true,\"result\":[{\"update_id\":");
        return 1;
    case FB_SLOW:
        wait_locked(fb, arg);
        return 0;
    case FB_DROP:
        r->drop = 1;
        return 1;
    case FB_401:
        reply_err(r, 401, "Unauthorized", NULL, 0);
        return 1;
    case FB_403:
        reply_err(r, 403, "Forbidden: bot was blocked by the user", NULL, 0);
        return 1;
    case FB_409:
        reply_err(r, 409,
                  "Conflict: terminated by other getUpdates request; make sure that only one "
                  "bot instance is running",
                  NULL, 0);
        return 1;
    case FB_400:
        reply_err(r, 400, "Bad Request: chat not found", NULL, 0);
        return 1;
    case FB_RAW:
        reply_text(r, arg >= 100 && arg <= 599 ? (unsigned)arg : 200, "application/json",
                   body ? body : "");
        return 1;
    case FB_MIGRATE:
        reply_err(r, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                  "migrate_to_chat_id", -1000000000000LL - arg);
        return 1;
    default:
        return 0;
    }
}

static void serve_file(struct fakebot *fb, const char *path, struct fb_reply *r)
{
    for (size_t i = 0; i < fb->n_files; i++) {
        struct fb_file *f = &fb->files[i];
        if (strcmp(f->path, path) != 0)
            continue;
        r->status = 200;
        r->ctype = "image/jpeg";
        r->body = malloc(f->len ? f->len : 1);
        if (r->body) {
            memcpy(r->body, f->bytes, f->len);
            r->len = f->len;
        }
        return;
    }
    reply_err(r, 404, "Not Found", NULL, 0);
}

/* ---- the HTTP side ---- */

static void handle(struct fakebot *fb, struct MHD_Connection *conn, const char *url,
                   struct fb_req *req, struct fb_reply *r)
{
    const char *rest, *slash;
    int is_file = 0;
    size_t tl = strlen(fb->token);
    if (strncmp(url, "/file/bot", 9) == 0) {
        rest = url + 9;
        is_file = 1;
    } else if (strncmp(url, "/bot", 4) == 0) {
        rest = url + 4;
    } else {
        reply_err(r, 404, "Not Found", NULL, 0);
        return;
    }
    slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) != tl || memcmp(rest, fb->token, tl) != 0) {
        reply_err(r, 401, "Unauthorized", NULL, 0);
        return;
    }
    const char *method = is_file ? "file" : slash + 1;
    struct json_object *params = json_object_new_object();
    if (!params) {
        reply_err(r, 500, "Internal Server Error", NULL, 0);
        return;
    }
    if (is_file) {
        json_object_object_add(params, "file_path", json_object_new_string(slash + 1));
    } else {
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, params);
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (req->too_big) {
            json_object_put(params);
            reply_err(r, 413, "Request Entity Too Large", NULL, 0);
            return;
        }
        if (req->body.len > 0) {
            if (ct && strncasecmp(ct, "application/json", 16) == 0) {
                struct json_object *b = json_tokener_parse((const char *)req->body.data);
                if (!json_object_is_type(b, json_type_object)) {
                    json_object_put(b);
                    json_object_put(params);
                    reply_err(r, 400, "Bad Request: can't parse JSON object", NULL, 0);
                    return;
                }
                json_object_object_foreach(b, k, v)
                {
                    json_object_object_add(params, k, json_object_get(v));
                }
                json_object_put(b);
            } else if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
                parse_form(params, (const char *)req->body.data, req->body.len);
            } else {
                json_object_put(params);
                reply_err(r, 400, "Bad Request: unsupported Content-Type in the fake server", NULL,
                          0);
                return;
            }
        }
    }
    pthread_mutex_lock(&fb->mu);
    record(fb, method, params);
    unsigned long gen = 0;
    if (!is_file && strcasecmp(method, "getUpdates") == 0) {
        gen = ++fb->poll_gen;
        pthread_cond_broadcast(&fb->upd_cond); /* an older poll now ends with 409 */
    }
    int arg = 0;
    char *raw = NULL;
    int f = take_fault(fb, method, &arg, &raw);
    int sending = !is_file && is_sending(method);
    long long in_us = since_start_us(fb);
    if (f == FB_OK && sending && fb->every_429 > 0 &&
        ++fb->n_sending % (unsigned long long)fb->every_429 == 0) {
        f = FB_429;
        arg = fb->retry_after;
    }
    if (sending && fb->delay_ms > 0)
        wait_locked(fb, fb->delay_ms);
    int faulted = apply_fault(fb, f, arg, raw, r);
    free(raw);
    if (!faulted) {
        if (fb->stopping)
            reply_err(r, 500, "Internal Server Error", NULL, 0);
        else if (is_file)
            serve_file(fb, slash + 1, r);
        else
            dispatch(fb, method, params, gen, r);
    }
    if (sending)
        record_answer(fb, method, params, r->drop ? 0 : r->status, in_us);
    pthread_mutex_unlock(&fb->mu);
    if (!fb->quiet)
        log_debug("fakebot call method=%s status=%u fault=%d", method, r->drop ? 0 : r->status, f);
    json_object_put(params);
}

static ssize_t cut_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    static const char part[] = "{\"ok\":true,\"res";
    if (pos > 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = sizeof(part) - 1 < max ? sizeof(part) - 1 : max;
    memcpy(buf, part, n);
    return (ssize_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct fakebot *fb = cls;
    struct fb_req *req = *con_cls;
    if (!req) {
        if (!(req = calloc(1, sizeof(*req))))
            return MHD_NO;
        tl_buf_init(&req->body, FB_MAX_BODY);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big && tl_buf_append(&req->body, upload_data, *upload_data_size))
            req->too_big = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct fb_reply r = {0};
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        reply_err(&r, 405, "Method Not Allowed", NULL, 0);
    else
        handle(fb, conn, url, req, &r);
    if (r.drop) {
        /* Headers promise a body, a few bytes go out, then the connection is cut:
         * the client sees a transfer that died mid-way (curl would silently retry a
         * request that got no answer at all on a reused connection). */
        free(r.body);
        struct MHD_Response *cut =
            MHD_create_response_from_callback(4096, 64, cut_reader, NULL, NULL);
        if (!cut)
            return MHD_NO;
        MHD_add_response_header(cut, "Content-Type", "application/json");
        enum MHD_Result cr = MHD_queue_response(conn, MHD_HTTP_OK, cut);
        MHD_destroy_response(cut);
        return cr;
    }
    if (!r.body)
        return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", r.ctype ? r.ctype : "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct fb_req *req = *con_cls;
    if (!req)
        return;
    tl_buf_release(&req->body);
    free(req);
    *con_cls = NULL;
}

/* ---- public API ---- */

int fakebot_start(const struct fakebot_opts *o, struct fakebot **out)
{
    *out = NULL;
    struct fakebot *fb = calloc(1, sizeof(*fb));
    if (!fb)
        return TL_ENOMEM;
    fb->token = tl_strdup(o && o->token ? o->token : FAKEBOT_DEFAULT_TOKEN);
    fb->quiet = o ? o->quiet : 0;
    fb->delay_ms = o && o->delay_ms > 0 ? o->delay_ms : 0;
    fb->every_429 = o && o->every_429 > 0 ? o->every_429 : 0;
    fb->retry_after = o && o->retry_after > 0 ? o->retry_after : 1;
    clock_gettime(CLOCK_MONOTONIC, &fb->t0);
    fb->next_id = 1;
    fb->calls = json_object_new_array();
    fb->answers = json_object_new_array();
    if (!fb->token || !fb->calls || !fb->answers) {
        free(fb->token);
        json_object_put(fb->calls);
        json_object_put(fb->answers);
        free(fb);
        return TL_ENOMEM;
    }
    const char *colon = strchr(fb->token, ':');
    char *digits = tl_strndup(fb->token, colon ? (size_t)(colon - fb->token) : 0);
    if (!digits || tl_parse_ll(digits, &fb->bot_id) != TL_OK || fb->bot_id <= 0)
        fb->bot_id = 1;
    free(digits);
    pthread_mutex_init(&fb->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&fb->upd_cond, &ca);
    pthread_cond_init(&fb->call_cond, &ca);
    pthread_condattr_destroy(&ca);

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o ? o->port : 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    fb->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, fb, MHD_OPTION_SOCK_ADDR,
                             (const struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, fb, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                             MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!fb->d) {
        fakebot_stop(fb);
        return TL_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(fb->d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : 0;
    snprintf(fb->base, sizeof(fb->base), "http://127.0.0.1:%u", port);
    if (!fb->quiet)
        log_info("fakebot listening base=%s", fb->base);
    *out = fb;
    return TL_OK;
}

void fakebot_stop(struct fakebot *fb)
{
    if (!fb)
        return;
    pthread_mutex_lock(&fb->mu);
    fb->stopping = 1;
    pthread_cond_broadcast(&fb->upd_cond);
    pthread_cond_broadcast(&fb->call_cond);
    pthread_mutex_unlock(&fb->mu);
    if (fb->d)
        MHD_stop_daemon(fb->d);
    for (size_t i = 0; i < fb->n_upd; i++)
        free(fb->upd[i].json);
    free(fb->upd);
    for (size_t i = 0; i < fb->n_faults; i++) {
        free(fb->faults[i].method);
        free(fb->faults[i].body);
    }
    free(fb->faults);
    for (size_t i = 0; i < fb->n_counts; i++)
        free(fb->counts[i].method);
    free(fb->counts);
    for (size_t i = 0; i < fb->n_files; i++) {
        free(fb->files[i].file_id);
        free(fb->files[i].path);
        free(fb->files[i].bytes);
    }
    free(fb->files);
    free(fb->blocked);
    json_object_put(fb->calls);
    json_object_put(fb->answers);
    pthread_cond_destroy(&fb->upd_cond);
    pthread_cond_destroy(&fb->call_cond);
    pthread_mutex_destroy(&fb->mu);
    free(fb->token);
    free(fb);
}

const char *fakebot_base_url(struct fakebot *fb)
{
    return fb->base;
}

const char *fakebot_token(struct fakebot *fb)
{
    return fb->token;
}

int fakebot_push_update(struct fakebot *fb, const char *update_json)
{
    struct json_object *o = update_json ? json_tokener_parse(update_json) : NULL, *v;
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return -TL_EINVAL;
    }
    int rc;
    pthread_mutex_lock(&fb->mu);
    long long id;
    if (json_object_object_get_ex(o, "update_id", &v) && json_object_is_type(v, json_type_int)) {
        id = json_object_get_int64(v);
    } else {
        id = fb->next_id;
        json_object_object_add(o, "update_id", json_object_new_int64(id));
    }
    if (id < 0 || id > INT32_MAX) {
        rc = -TL_EINVAL;
        goto out;
    }
    size_t len;
    const char *txt = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
    char *copy = txt ? tl_strndup(txt, len) : NULL;
    if (!copy) {
        rc = -TL_ENOMEM;
        goto out;
    }
    const char *kind = "";
    json_object_object_foreach(o, key, val)
    {
        if (strcmp(key, "update_id") != 0 && json_object_is_type(val, json_type_object)) {
            kind = key;
            break;
        }
    }
    if ((rc = insert_update(fb, id, copy, len, kind)) != TL_OK) {
        free(copy);
        rc = -rc;
        goto out;
    }
    rc = (int)id;
    pthread_cond_broadcast(&fb->upd_cond);
out:
    pthread_mutex_unlock(&fb->mu);
    json_object_put(o);
    return rc;
}

/* n synthetic texts round-robin over n_chats chats; with send, each is followed
 * by its citizen's "Send now" press on the draft it started. */
static int push_synthetic(struct fakebot *fb, size_t n, size_t n_chats, int send)
{
    if (n_chats == 0)
        n_chats = 1;
    long long now = (long long)time(NULL);
    int rc = TL_OK;
    pthread_mutex_lock(&fb->mu);
    for (size_t i = 0; i < n && rc == TL_OK; i++) {
        long long id = fb->next_id;
        long long chat = 1000001 + (long long)(i % n_chats);
        long long mid = (long long)(i / n_chats) + 1;
        char *j = tl_asprintf(
            "{\"update_id\":%lld,\"message\":{\"message_id\":%lld,\"from\":{\"id\":%lld,"
            "\"is_bot\":false,\"first_name\":\"User %lld\",\"language_code\":\"uk\"},"
            "\"chat\":{\"id\":%lld,\"first_name\":\"User %lld\",\"type\":\"private\"},"
            "\"date\":%lld,\"text\":\"synthetic report %zu\"}}",
            id, mid, chat, chat, chat, chat, now, i);
        char *c =
            !send ? NULL
                  : tl_asprintf("{\"update_id\":%lld,\"callback_query\":{\"id\":\"syn%lld\","
                                "\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"User "
                                "%lld\",\"language_code\":\"uk\"},\"chat_instance\":\"%lld\","
                                "\"data\":\"%lld:send\",\"message\":{\"message_id\":%lld,\"date\":"
                                "%lld,\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":"
                                "\"draft\"}}}",
                                id + 1, id + 1, chat, chat, chat, id, mid, now, chat);
        if (!j || (send && !c)) {
            free(j);
            free(c);
            rc = TL_ENOMEM;
            break;
        }
        if ((rc = insert_update(fb, id, j, strlen(j), "message")) != TL_OK) {
            free(j);
            free(c);
            break;
        }
        if (c && (rc = insert_update(fb, id + 1, c, strlen(c), "callback_query")) != TL_OK)
            free(c);
    }
    pthread_cond_broadcast(&fb->upd_cond);
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

int fakebot_push_synthetic(struct fakebot *fb, size_t n_updates, size_t n_chats)
{
    return push_synthetic(fb, n_updates, n_chats, 0);
}

int fakebot_push_synthetic_sent(struct fakebot *fb, size_t n_reports, size_t n_chats)
{
    return push_synthetic(fb, n_reports, n_chats, 1);
}

int fakebot_add_file(struct fakebot *fb, const char *file_id, const void *bytes, size_t len)
{
    if (!file_id || !*file_id || strchr(file_id, '/') || (!bytes && len))
        return TL_EINVAL;
    struct fb_file f = {0};
    f.file_id = tl_strdup(file_id);
    f.path = tl_asprintf("photos/%s.jpg", file_id);
    f.bytes = malloc(len ? len : 1);
    f.len = len;
    int rc = TL_ENOMEM;
    if (!f.file_id || !f.path || !f.bytes)
        goto fail;
    if (len)
        memcpy(f.bytes, bytes, len);
    pthread_mutex_lock(&fb->mu);
    rc = grow((void **)&fb->files, &fb->cap_files, fb->n_files + 1, sizeof(*fb->files));
    if (rc == TL_OK)
        fb->files[fb->n_files++] = f;
    pthread_mutex_unlock(&fb->mu);
    if (rc == TL_OK)
        return TL_OK;
fail:
    free(f.file_id);
    free(f.path);
    free(f.bytes);
    return rc;
}

static void inject(struct fakebot *fb, const char *method, enum fakebot_fault f, int count, int arg,
                   const char *body)
{
    if (count <= 0 || f == FB_OK)
        return;
    char *m = method ? tl_strdup(method) : NULL;
    char *b = body ? tl_strdup(body) : NULL;
    if ((method && !m) || (body && !b))
        goto out;
    pthread_mutex_lock(&fb->mu);
    if (grow((void **)&fb->faults, &fb->cap_faults, fb->n_faults + 1, sizeof(*fb->faults)) ==
        TL_OK) {
        fb->faults[fb->n_faults++] = (struct fb_fault){m, f, count, arg, b};
        m = b = NULL;
    }
    pthread_mutex_unlock(&fb->mu);
out:
    free(m);
    free(b);
}

void fakebot_inject(struct fakebot *fb, const char *method, enum fakebot_fault f, int count,
                    int arg)
{
    inject(fb, method, f, count, arg, NULL);
}

void fakebot_inject_raw(struct fakebot *fb, const char *method, int count, int status,
                        const char *body)
{
    inject(fb, method, FB_RAW, count, status, body ? body : "");
}

size_t fakebot_count(struct fakebot *fb, const char *method)
{
    pthread_mutex_lock(&fb->mu);
    size_t n = fb->n_calls;
    if (method) {
        struct fb_count *c = count_slot(fb, method, 0);
        n = c ? c->n : 0;
    }
    pthread_mutex_unlock(&fb->mu);
    return n;
}

char *fakebot_calls_json(struct fakebot *fb, const char *method)
{
    char *s = NULL;
    struct json_object *arr = json_object_new_array();
    if (!arr)
        return NULL;
    pthread_mutex_lock(&fb->mu);
    size_t n = json_object_array_length(fb->calls);
    for (size_t i = 0; i < n; i++) {
        struct json_object *c = json_object_array_get_idx(fb->calls, i), *m;
        if (method && (!json_object_object_get_ex(c, "method", &m) ||
                       strcasecmp(json_object_get_string(m), method) != 0))
            continue;
        json_object_array_add(arr, json_object_get(c));
    }
    s = tl_strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
    pthread_mutex_unlock(&fb->mu);
    json_object_put(arr);
    return s;
}

char *fakebot_answers_json(struct fakebot *fb)
{
    pthread_mutex_lock(&fb->mu);
    char *s = tl_strdup(json_object_to_json_string_ext(fb->answers, JSON_C_TO_STRING_PLAIN));
    pthread_mutex_unlock(&fb->mu);
    return s;
}

void fakebot_reset_calls(struct fakebot *fb)
{
    pthread_mutex_lock(&fb->mu);
    struct json_object *fresh = json_object_new_array();
    if (fresh) {
        json_object_put(fb->calls);
        fb->calls = fresh;
        json_object_array_del_idx(fb->answers, 0, json_object_array_length(fb->answers));
        for (size_t i = 0; i < fb->n_counts; i++)
            fb->counts[i].n = 0;
        fb->n_calls = 0;
    }
    pthread_mutex_unlock(&fb->mu);
}

int fakebot_wait_count(struct fakebot *fb, const char *method, size_t n, long timeout_ms)
{
    struct timespec dl;
    deadline_after(&dl, timeout_ms);
    int rc = TL_ETIMEOUT;
    pthread_mutex_lock(&fb->mu);
    for (;;) {
        struct fb_count *c = method ? count_slot(fb, method, 0) : NULL;
        size_t have = method ? (c ? c->n : 0) : fb->n_calls;
        if (have >= n) {
            rc = TL_OK;
            break;
        }
        if (fb->stopping || past(&dl))
            break;
        pthread_cond_timedwait(&fb->call_cond, &fb->mu, &dl);
    }
    pthread_mutex_unlock(&fb->mu);
    return rc;
}

long long fakebot_acked_offset(struct fakebot *fb)
{
    pthread_mutex_lock(&fb->mu);
    long long a = fb->acked;
    pthread_mutex_unlock(&fb->mu);
    return a;
}

size_t fakebot_pending(struct fakebot *fb)
{
    pthread_mutex_lock(&fb->mu);
    size_t n = fb->n_upd;
    pthread_mutex_unlock(&fb->mu);
    return n;
}

void fakebot_set_blocked_chat(struct fakebot *fb, long long chat_id)
{
    pthread_mutex_lock(&fb->mu);
    if (!is_blocked(fb, chat_id) && grow((void **)&fb->blocked, &fb->cap_blocked, fb->n_blocked + 1,
                                         sizeof(*fb->blocked)) == TL_OK)
        fb->blocked[fb->n_blocked++] = chat_id;
    pthread_mutex_unlock(&fb->mu);
}
