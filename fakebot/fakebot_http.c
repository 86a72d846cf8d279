/* fakebot/fakebot_http.c - the fake Bot API server's HTTP side (libmicrohttpd, one
 * thread per connection): start and stop, reading a request (token check, query, form
 * or JSON body into one params object), recording it, applying a fault or answering it
 * (fakebot_methods.c), and cutting a connection mid-answer. */
#include "fakebot_int.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

/* One request being received. */
struct fb_req {
    struct tl_buf body;
    int too_big;
};

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
        fb_reply_err(r, 404, "Not Found", NULL, 0);
        return;
    }
    slash = strchr(rest, '/');
    if (!slash || (size_t)(slash - rest) != tl || memcmp(rest, fb->token, tl) != 0) {
        fb_reply_err(r, 401, "Unauthorized", NULL, 0);
        return;
    }
    const char *method = is_file ? "file" : slash + 1;
    struct json_object *params = json_object_new_object();
    if (!params) {
        fb_reply_err(r, 500, "Internal Server Error", NULL, 0);
        return;
    }
    if (is_file) {
        json_object_object_add(params, "file_path", json_object_new_string(slash + 1));
    } else {
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, params);
        const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        if (req->too_big) {
            json_object_put(params);
            fb_reply_err(r, 413, "Request Entity Too Large", NULL, 0);
            return;
        }
        if (req->body.len > 0) {
            if (ct && strncasecmp(ct, "application/json", 16) == 0) {
                struct json_object *b = json_tokener_parse((const char *)req->body.data);
                if (!json_object_is_type(b, json_type_object)) {
                    json_object_put(b);
                    json_object_put(params);
                    fb_reply_err(r, 400, "Bad Request: can't parse JSON object", NULL, 0);
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
                fb_reply_err(r, 400, "Bad Request: unsupported Content-Type in the fake server",
                             NULL, 0);
                return;
            }
        }
    }
    pthread_mutex_lock(&fb->mu);
    fb_record(fb, method, params);
    unsigned long gen = 0;
    if (!is_file && strcasecmp(method, "getUpdates") == 0) {
        gen = ++fb->poll_gen;
        pthread_cond_broadcast(&fb->upd_cond); /* an older poll now ends with 409 */
    }
    int arg = 0;
    char *raw = NULL;
    int f = fb_take_fault(fb, method, &arg, &raw);
    int sending = !is_file && fb_is_sending(method);
    long long in_us = fb_since_start_us(fb);
    if (f == FB_OK && sending && fb->every_429 > 0 &&
        ++fb->n_sending % (unsigned long long)fb->every_429 == 0) {
        f = FB_429;
        arg = fb->retry_after;
    }
    if (sending && fb->delay_ms > 0)
        fb_wait_locked(fb, fb->delay_ms);
    int faulted = fb_apply_fault(fb, f, arg, raw, r);
    free(raw);
    if (!faulted) {
        if (fb->stopping)
            fb_reply_err(r, 500, "Internal Server Error", NULL, 0);
        else if (is_file)
            fb_serve_file(fb, slash + 1, r);
        else
            fb_dispatch(fb, method, params, gen, r);
    }
    if (sending)
        fb_record_answer(fb, method, params, r->drop ? 0 : r->status, in_us);
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
        fb_reply_err(&r, 405, "Method Not Allowed", NULL, 0);
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

/* ---- start, stop ---- */

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
    fb->next_message_id = FAKEBOT_FIRST_BOT_MESSAGE - 1; /* fakebot.h says why */
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
