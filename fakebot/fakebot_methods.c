/* fakebot/fakebot_methods.c - the Bot API methods the fake server answers
 * (getUpdates with its long poll and 409 on a newer poller, the sending methods,
 * getFile and the file downloads) and the injected faults, as replies whose envelopes
 * copy the real server's words. Every function runs with fb->mu held. */
#include "fakebot_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/util.h"
#include "common/banned.h"

/* ---- replies ---- */

void fb_reply_text(struct fb_reply *r, unsigned status, const char *ctype, const char *txt)
{
    r->status = status;
    r->ctype = ctype;
    r->body = tl_strdup(txt);
    r->len = r->body ? strlen(r->body) : 0;
}

static void reply_json(struct fb_reply *r, unsigned status, struct json_object *o)
{
    fb_reply_text(r, status, "application/json",
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

void fb_reply_err(struct fb_reply *r, int code, const char *desc, const char *pkey, long long pval)
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
        fb_acknowledge(fb, offset);
        filter_allowed(fb, p);
    }
    struct timespec dl;
    fb_deadline_after(&dl, (long)timeout * 1000);
    while (!fb->stopping && fb->n_upd == 0 && gen == fb->poll_gen && !fb_past(&dl))
        pthread_cond_timedwait(&fb->upd_cond, &fb->mu, &dl);
    if (gen != fb->poll_gen) {
        fb_reply_err(r, 409,
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
        fb_reply_err(r, 500, "Internal Server Error", NULL, 0);
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
        fb_reply_err(r, 400, "Bad Request: chat not found", NULL, 0);
        return 0;
    }
    if (fb_is_blocked(fb, *chat)) {
        fb_reply_err(r, 403, "Forbidden: bot was blocked by the user", NULL, 0);
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
        fb_reply_err(r, 400, "Bad Request: message text is empty", NULL, 0);
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
        fb_reply_err(r, 400, "Bad Request: message text is empty", NULL, 0);
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
        fb_reply_err(r, 400, "Bad Request: message to edit not found", NULL, 0);
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
    fb_reply_err(r, 400, "Bad Request: invalid file_id", NULL, 0);
}

void fb_dispatch(struct fakebot *fb, const char *method, struct json_object *p, unsigned long gen,
                 struct fb_reply *r)
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
            fb_reply_err(r, 400,
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
        fb_reply_err(r, 404, "Not Found: method not found", NULL, 0);
    }
}

/* Waits ms with fb->mu held, which the wait gives up meanwhile: other connections
 * are served. */
void fb_wait_locked(struct fakebot *fb, long ms)
{
    struct timespec dl;
    fb_deadline_after(&dl, ms);
    while (!fb->stopping && !fb_past(&dl))
        pthread_cond_timedwait(&fb->upd_cond, &fb->mu, &dl);
}

int fb_is_sending(const char *method)
{
    return strncasecmp(method, "send", 4) == 0 || strncasecmp(method, "edit", 4) == 0 ||
           strcasecmp(method, "deleteMessage") == 0 ||
           strcasecmp(method, "answerCallbackQuery") == 0;
}

/* Applies a fault; returns 1 when the reply is decided (0: answer normally). */
int fb_apply_fault(struct fakebot *fb, int f, int arg, const char *body, struct fb_reply *r)
{
    char desc[96];
    switch (f) {
    case FB_429:
        snprintf(desc, sizeof(desc), "Too Many Requests: retry after %d", arg);
        fb_reply_err(r, 429, desc, "retry_after", arg);
        return 1;
    case FB_500:
        fb_reply_err(r, 500, "Internal Server Error", NULL, 0);
        return 1;
    case FB_502:
        fb_reply_text(r, 502, "text/html",
                      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                      "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n");
        return 1;
    case FB_BAD_JSON:
        fb_reply_text(r, 200, "application/json", "{\"ok\":true,\"result\":[{\"update_id\":");
        return 1;
    case FB_SLOW:
        fb_wait_locked(fb, arg);
        return 0;
    case FB_DROP:
        r->drop = 1;
        return 1;
    case FB_401:
        fb_reply_err(r, 401, "Unauthorized", NULL, 0);
        return 1;
    case FB_403:
        fb_reply_err(r, 403, "Forbidden: bot was blocked by the user", NULL, 0);
        return 1;
    case FB_409:
        fb_reply_err(r, 409,
                     "Conflict: terminated by other getUpdates request; make sure that only one "
                     "bot instance is running",
                     NULL, 0);
        return 1;
    case FB_400:
        fb_reply_err(r, 400, "Bad Request: chat not found", NULL, 0);
        return 1;
    case FB_RAW:
        fb_reply_text(r, arg >= 100 && arg <= 599 ? (unsigned)arg : 200, "application/json",
                      body ? body : "");
        return 1;
    case FB_MIGRATE:
        fb_reply_err(r, 400, "Bad Request: group chat was upgraded to a supergroup chat",
                     "migrate_to_chat_id", -1000000000000LL - arg);
        return 1;
    default:
        return 0;
    }
}

void fb_serve_file(struct fakebot *fb, const char *path, struct fb_reply *r)
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
    fb_reply_err(r, 404, "Not Found", NULL, 0);
}
