/* fakebot/fakebot_state.c - the fake server's recorded state: the update queue
 * (scripted updates, acknowledgement), the injected faults, the registered files, the
 * recorded calls and answers, and the public calls that script and inspect them (see
 * fakebot.h). Call waiters sleep on a condition variable (monotonic clock). */
#include "fakebot_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/util.h"
#include "common/banned.h"

int fb_grow(void **p, size_t *cap, size_t need, size_t elem)
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

long long fb_since_start_us(const struct fakebot *fb)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - fb->t0.tv_sec) * 1000000 +
           (now.tv_nsec - fb->t0.tv_nsec) / 1000;
}

void fb_deadline_after(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int fb_past(const struct timespec *ts)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* ---- state helpers (mutex held) ---- */

struct fb_count *fb_count_slot(struct fakebot *fb, const char *method, int create)
{
    for (size_t i = 0; i < fb->n_counts; i++)
        if (strcasecmp(fb->counts[i].method, method) == 0)
            return &fb->counts[i];
    if (!create ||
        fb_grow((void **)&fb->counts, &fb->cap_counts, fb->n_counts + 1, sizeof(*fb->counts)))
        return NULL;
    struct fb_count *c = &fb->counts[fb->n_counts];
    if (!(c->method = tl_strdup(method)))
        return NULL;
    c->n = 0;
    fb->n_counts++;
    return c;
}

void fb_record(struct fakebot *fb, const char *method, struct json_object *params)
{
    if (json_object_array_length(fb->calls) < FAKEBOT_MAX_RECORDED) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(method));
        json_object_object_add(o, "params", json_object_get(params));
        json_object_array_add(fb->calls, o);
    }
    struct fb_count *c = fb_count_slot(fb, method, 1);
    if (c)
        c->n++;
    fb->n_calls++;
    pthread_cond_broadcast(&fb->call_cond);
}

/* The next fault for method; *body (FB_RAW) is a new string. */
int fb_take_fault(struct fakebot *fb, const char *method, int *arg, char **body)
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

int fb_is_blocked(struct fakebot *fb, long long chat)
{
    for (size_t i = 0; i < fb->n_blocked; i++)
        if (fb->blocked[i] == chat)
            return 1;
    return 0;
}

/* Drops updates below offset (offset > 0) or all but the last -offset (offset < 0). */
void fb_acknowledge(struct fakebot *fb, long long offset)
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

int fb_insert_update(struct fakebot *fb, long long id, char *json, size_t len, const char *kind)
{
    size_t pos = fb->n_upd;
    while (pos > 0 && fb->upd[pos - 1].id > id)
        pos--;
    if (pos > 0 && fb->upd[pos - 1].id == id)
        return TL_ECONFLICT;
    if (fb_grow((void **)&fb->upd, &fb->cap_upd, fb->n_upd + 1, sizeof(*fb->upd)))
        return TL_ENOMEM;
    memmove(fb->upd + pos + 1, fb->upd + pos, (fb->n_upd - pos) * sizeof(*fb->upd));
    fb->upd[pos] = (struct fb_update){.id = id, .json = json, .len = len};
    tl_strlcpy(fb->upd[pos].kind, kind, sizeof(fb->upd[pos].kind));
    fb->n_upd++;
    if (id >= fb->next_id)
        fb->next_id = id + 1;
    return TL_OK;
}

void fb_record_answer(struct fakebot *fb, const char *method, struct json_object *params,
                      unsigned status, long long in_us)
{
    if (json_object_array_length(fb->answers) >= FAKEBOT_MAX_RECORDED)
        return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(o, "params", json_object_get(params));
    json_object_object_add(o, "status", json_object_new_int((int)status));
    json_object_object_add(o, "in_us", json_object_new_int64(in_us));
    json_object_object_add(o, "out_us", json_object_new_int64(fb_since_start_us(fb)));
    json_object_array_add(fb->answers, o);
}

/* ---- scripting ---- */

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
    if ((rc = fb_insert_update(fb, id, copy, len, kind)) != TL_OK) {
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
        if ((rc = fb_insert_update(fb, id, j, strlen(j), "message")) != TL_OK) {
            free(j);
            free(c);
            break;
        }
        if (c && (rc = fb_insert_update(fb, id + 1, c, strlen(c), "callback_query")) != TL_OK)
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
    rc = fb_grow((void **)&fb->files, &fb->cap_files, fb->n_files + 1, sizeof(*fb->files));
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
    if (fb_grow((void **)&fb->faults, &fb->cap_faults, fb->n_faults + 1, sizeof(*fb->faults)) ==
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

/* ---- inspecting ---- */

size_t fakebot_count(struct fakebot *fb, const char *method)
{
    pthread_mutex_lock(&fb->mu);
    size_t n = fb->n_calls;
    if (method) {
        struct fb_count *c = fb_count_slot(fb, method, 0);
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
    fb_deadline_after(&dl, timeout_ms);
    int rc = TL_ETIMEOUT;
    pthread_mutex_lock(&fb->mu);
    for (;;) {
        struct fb_count *c = method ? fb_count_slot(fb, method, 0) : NULL;
        size_t have = method ? (c ? c->n : 0) : fb->n_calls;
        if (have >= n) {
            rc = TL_OK;
            break;
        }
        if (fb->stopping || fb_past(&dl))
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
    if (!fb_is_blocked(fb, chat_id) && fb_grow((void **)&fb->blocked, &fb->cap_blocked,
                                               fb->n_blocked + 1, sizeof(*fb->blocked)) == TL_OK)
        fb->blocked[fb->n_blocked++] = chat_id;
    pthread_mutex_unlock(&fb->mu);
}
