/* bot/client.c - the Bot API over libcurl: one reused easy handle per client, one call
 * at a time, the ok/error envelope, and masking of the token in every URL and curl
 * message that could reach a log or a struct tl_errinfo (several calls in flight:
 * client_multi.c). */
#include "tg.h"
#include "client_int.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

#define TG_DEFAULT_BASE "https://api.telegram.org"
#define TG_DOWNLOAD_EXTRA_MS 60000L

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct tg_sink *s = ud;
    size_t n = sz * nm;
    int rc = tl_buf_append(&s->b, p, n);
    if (rc == TL_ETOOBIG)
        s->too_big = 1;
    return rc == TL_OK ? n : 0;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct tg_client *c = ud;
    return (c->abort_flag && *c->abort_flag) ? 1 : 0;
}

static int token_ok(const char *t)
{
    if (!t || !*t || strlen(t) > 256)
        return 0;
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("/?#%&\\\"'", *p))
            return 0;
    return 1;
}

int tg_client_new(const struct tg_client_opts *o, struct tg_client **out)
{
    *out = NULL;
    if (!o || !token_ok(o->token))
        return TL_EINVAL;
    const char *base = o->api_base && *o->api_base ? o->api_base : getenv("TELEGRAM_API_BASE");
    if (!base || !*base)
        base = TG_DEFAULT_BASE;
    struct tg_client *c = calloc(1, sizeof(*c));
    if (!c)
        return TL_ENOMEM;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    c->base = tl_strndup(base, bl);
    c->token = tl_strdup(o->token);
    struct tl_buf enc;
    tl_buf_init(&enc, 0);
    for (const char *p = o->token; *p; p++)
        if (*p == ':' ? tl_buf_append(&enc, "%3A", 3) : tl_buf_append(&enc, p, 1))
            break;
    c->token_enc = (char *)tl_buf_steal(&enc, NULL);
    c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->max_response = o->max_response ? o->max_response : (size_t)16 << 20;
    c->h = curl_easy_init();
    c->json_headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->json_headers) {
        /* no "Expect: 100-continue" round trip on larger bodies */
        struct curl_slist *t = curl_slist_append(c->json_headers, "Expect:");
        if (t)
            c->json_headers = t;
        else {
            curl_slist_free_all(c->json_headers);
            c->json_headers = NULL;
        }
    }
    if (!c->base || !c->token || !c->token_enc || !c->h || !c->json_headers) {
        tg_client_free(c);
        return TL_ENOMEM;
    }
    *out = c;
    return TL_OK;
}

void tg_client_free(struct tg_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    curl_slist_free_all(c->json_headers);
    free(c->base);
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c->token_enc);
    free(c);
}

void tg_client_set_abort(struct tg_client *c, volatile sig_atomic_t *flag)
{
    c->abort_flag = flag;
}

const char *tg_client_base(const struct tg_client *c)
{
    return c->base;
}

char *tg_client_mask(const struct tg_client *c, const char *s)
{
    char *a = tl_mask_secret(s, c->token);
    if (!a)
        return NULL;
    char *b = tl_mask_secret(a, c->token_enc);
    free(a);
    if (!b)
        return NULL;
    /* curl may print the %3a form in lower case */
    char *lower = tl_strdup(c->token_enc);
    if (!lower) {
        free(b);
        return NULL;
    }
    for (char *p = strstr(lower, "%3A"); p; p = strstr(p + 3, "%3A"))
        p[2] = 'a';
    char *r = tl_mask_secret(b, lower);
    free(lower);
    free(b);
    return r;
}

/* Writes s masked into ei->msg (and nowhere else). */
static void set_msg_masked(const struct tg_client *c, struct tl_errinfo *ei, const char *s)
{
    if (!ei)
        return;
    char *m = tg_client_mask(c, s ? s : "");
    tl_strlcpy(ei->msg, m ? m : "(message dropped: out of memory)", sizeof(ei->msg));
    free(m);
}

static int map_curl(CURLcode cc, const struct tg_sink *sb)
{
    switch (cc) {
    case CURLE_OK:
        return TL_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return TL_ETIMEOUT;
    case CURLE_FILESIZE_EXCEEDED:
        return TL_ETOOBIG;
    case CURLE_WRITE_ERROR:
        return sb->too_big ? TL_ETOOBIG : TL_EIO;
    case CURLE_OUT_OF_MEMORY:
        return TL_ENOMEM;
    case CURLE_ABORTED_BY_CALLBACK:
        return TL_ESTOP;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return TL_ECONFIG;
    default:
        return TL_ENET;
    }
}

void tg_xfer_setup(struct tg_client *c, CURL *h, char *errbuf, const char *url, const char *body,
                   long extra_ms, size_t max, struct tg_sink *sb)
{
    curl_easy_reset(h);
    errbuf[0] = 0;
    tl_buf_init(&sb->b, max);
    sb->too_big = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms + extra_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, sb);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tipline");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->json_headers);
    }
}

int tg_xfer_finish(struct tg_client *c, CURL *h, CURLcode cc, const char *errbuf, const char *url,
                   const struct tg_sink *sb, long *http, struct tl_errinfo *ei, const char *what)
{
    *http = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
    int rc = map_curl(cc, sb);
    if (rc != TL_OK) {
        const char *txt = errbuf[0] ? errbuf : curl_easy_strerror(cc);
        if (rc == TL_ETOOBIG)
            txt = "response over the size limit";
        set_msg_masked(c, ei, txt);
        if (ei)
            ei->http_status = *http;
        if (log_level >= LOG_DEBUG) {
            char *mu = tg_client_mask(c, url);
            char *mt = tg_client_mask(c, txt);
            log_debug("tg request failed call=%s url=%s err=\"%s\" curl=\"%s\"", what,
                      mu ? mu : "-", tl_strerror(rc), mt ? mt : "-");
            free(mu);
            free(mt);
        }
    }
    return rc;
}

/* One HTTP exchange on the client's own handle. body NULL = GET. Fills sb and *http. */
static int perform(struct tg_client *c, const char *url, const char *body, long extra_ms,
                   size_t max, struct tg_sink *sb, long *http, struct tl_errinfo *ei,
                   const char *what)
{
    CURL *h = c->h;
    tg_xfer_setup(c, h, c->errbuf, url, body, extra_ms, max, sb);
    if (c->abort_flag) {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    }
    CURLcode cc = curl_easy_perform(h);
    return tg_xfer_finish(c, h, cc, c->errbuf, url, sb, http, ei, what);
}

/* Reads the Bot API envelope from body. On ok:true *result gets a new reference to
 * "result". On ok:false maps error_code to a tl_err and fills ei. */
static int parse_envelope(struct tg_client *c, const struct tl_buf *body, long http,
                          struct json_object **result, struct tl_errinfo *ei)
{
    int rc;
    struct json_object *root = NULL, *ok = NULL, *v;
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return TL_ENOMEM;
    if (body->len > 0 && body->len < (size_t)INT32_MAX)
        root = json_tokener_parse_ex(tok, (const char *)body->data, (int)body->len);
    json_tokener_free(tok);
    if (!root || !json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "ok", &ok) ||
        !json_object_is_type(ok, json_type_boolean)) {
        if (http >= 300 || http == 0)
            rc = tl_errf(ei, TL_EHTTP, "HTTP %ld without a Bot API envelope", http);
        else
            rc =
                tl_errf(ei, TL_EPARSE, "response is not a Bot API envelope (%zu bytes)", body->len);
        goto out;
    }
    if (json_object_get_boolean(ok)) {
        if (!json_object_object_get_ex(root, "result", &v)) {
            rc = tl_errf(ei, TL_EPARSE, "ok:true without result");
            goto out;
        }
        if (result)
            *result = json_object_get(v);
        rc = TL_OK;
        goto out;
    }
    int code = 0;
    if (json_object_object_get_ex(root, "error_code", &v) && json_object_is_type(v, json_type_int))
        code = json_object_get_int(v);
    const char *desc = NULL;
    if (json_object_object_get_ex(root, "description", &v) &&
        json_object_is_type(v, json_type_string))
        desc = json_object_get_string(v);
    struct json_object *params;
    if (ei) {
        ei->tg_code = code;
        if (json_object_object_get_ex(root, "parameters", &params) &&
            json_object_is_type(params, json_type_object)) {
            if (json_object_object_get_ex(params, "retry_after", &v) &&
                json_object_is_type(v, json_type_int)) {
                int ra = json_object_get_int(v);
                ei->retry_after = ra < 0 ? 0 : ra > 86400 ? 86400 : ra;
            }
            if (json_object_object_get_ex(params, "migrate_to_chat_id", &v) &&
                json_object_is_type(v, json_type_int))
                ei->migrate_to_chat_id = json_object_get_int64(v);
        }
        set_msg_masked(c, ei, desc ? desc : "(no description)");
    }
    switch (code ? code : (int)http) {
    case 429:
        rc = TL_ERATE;
        break;
    case 401:
        rc = TL_EAUTH;
        break;
    case 409:
        rc = TL_ECONFLICT;
        break;
    case 403:
        rc = TL_EFORBIDDEN;
        break;
    default:
        rc = TL_ETG;
    }
out:
    json_object_put(root);
    return rc;
}

int tg_check_method(const char *method, struct tl_errinfo *ei)
{
    if (!method || !*method ||
        strspn(method, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(method))
        return tl_errf(ei, TL_EINVAL, "bad method name");
    return TL_OK;
}

int tg_call_result(struct tg_client *c, const char *method, int rc, const struct tg_sink *sb,
                   long http, struct json_object **result, struct tl_errinfo *ei)
{
    if (rc != TL_OK)
        return rc;
    rc = parse_envelope(c, &sb->b, http, result, ei);
    if (ei)
        ei->http_status = http;
    if (rc != TL_OK)
        log_debug("tg call failed method=%s err=\"%s\" http=%ld tg_code=%d", method,
                  tl_strerror(rc), http, ei ? ei->tg_code : 0);
    return rc;
}

void tg_url_free(char *url)
{
    if (!url)
        return;
    memset(url, 0, strlen(url));
    free(url);
}

static int call_ex(struct tg_client *c, const char *method, const char *params_json, long extra_ms,
                   struct json_object **result, struct tl_errinfo *ei)
{
    if (result)
        *result = NULL;
    tl_errinfo_clear(ei);
    int rc = tg_check_method(method, ei);
    if (rc)
        return rc;
    char *url = tl_asprintf("%s/bot%s/%s", c->base, c->token, method);
    if (!url)
        return TL_ENOMEM;
    struct tg_sink sb;
    long http = 0;
    rc = perform(c, url, params_json && *params_json ? params_json : "{}", extra_ms,
                 c->max_response, &sb, &http, ei, method);
    rc = tg_call_result(c, method, rc, &sb, http, result, ei);
    tl_buf_release(&sb.b);
    tg_url_free(url);
    return rc;
}

int tg_call(struct tg_client *c, const char *method, const char *params_json,
            struct json_object **result, struct tl_errinfo *ei)
{
    return call_ex(c, method, params_json, 0, result, ei);
}

/* Runs method with the params object p (consumed). */
static int call_obj(struct tg_client *c, const char *method, struct json_object *p, long extra_ms,
                    struct json_object **result, struct tl_errinfo *ei)
{
    if (!p)
        return TL_ENOMEM;
    const char *txt = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
    int rc = txt ? call_ex(c, method, txt, extra_ms, result, ei) : TL_ENOMEM;
    json_object_put(p);
    return rc;
}

static int add(struct json_object *o, const char *k, struct json_object *v)
{
    if (!v)
        return TL_ENOMEM;
    return json_object_object_add(o, k, v) == 0 ? TL_OK : TL_ENOMEM;
}

int tg_get_me(struct tg_client *c, char **username_out, struct tl_errinfo *ei)
{
    *username_out = NULL;
    struct json_object *res = NULL, *v;
    int rc = call_ex(c, "getMe", NULL, 0, &res, ei);
    if (rc)
        return rc;
    if (!json_object_is_type(res, json_type_object) ||
        !json_object_object_get_ex(res, "username", &v) ||
        !json_object_is_type(v, json_type_string)) {
        rc = tl_errf(ei, TL_EPARSE, "getMe: no username in the result");
        goto out;
    }
    *username_out = tl_strdup(json_object_get_string(v));
    rc = *username_out ? TL_OK : TL_ENOMEM;
out:
    json_object_put(res);
    return rc;
}

int tg_get_updates(struct tg_client *c, long long offset, int timeout_s, int limit,
                   struct json_object **updates, struct tl_errinfo *ei)
{
    static const char *const kinds[] = {"message", "edited_message", "callback_query",
                                        "my_chat_member"};
    *updates = NULL;
    if (timeout_s < 0)
        timeout_s = 0;
    if (timeout_s > 50)
        timeout_s = 50;
    if (limit < 1 || limit > 100)
        limit = 100;
    struct json_object *p = json_object_new_object(), *au = json_object_new_array();
    if (!p || !au) {
        json_object_put(p);
        json_object_put(au);
        return TL_ENOMEM;
    }
    int rc = add(p, "offset", json_object_new_int64(offset));
    rc = rc ? rc : add(p, "timeout", json_object_new_int(timeout_s));
    rc = rc ? rc : add(p, "limit", json_object_new_int(limit));
    for (size_t i = 0; !rc && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct json_object *s = json_object_new_string(kinds[i]);
        if (!s || json_object_array_add(au, s)) {
            json_object_put(s);
            rc = TL_ENOMEM;
        }
    }
    if (rc) {
        json_object_put(au);
        json_object_put(p);
        return rc;
    }
    if ((rc = add(p, "allowed_updates", au)) != TL_OK) {
        json_object_put(p);
        return rc;
    }
    struct json_object *res = NULL;
    rc = call_obj(c, "getUpdates", p, (long)timeout_s * 1000, &res, ei);
    if (rc)
        return rc;
    if (!json_object_is_type(res, json_type_array)) {
        json_object_put(res);
        return tl_errf(ei, TL_EPARSE, "getUpdates: result is not an array");
    }
    *updates = res;
    return TL_OK;
}

int tg_send_message(struct tg_client *c, long long chat_id, const char *text,
                    const char *reply_markup_json, long long *message_id_out, struct tl_errinfo *ei)
{
    if (message_id_out)
        *message_id_out = 0;
    if (!text)
        return tl_errf(ei, TL_EINVAL, "sendMessage: no text");
    struct json_object *p = json_object_new_object(), *rm = NULL;
    if (!p)
        return TL_ENOMEM;
    if (reply_markup_json) {
        rm = json_tokener_parse(reply_markup_json);
        if (!rm || !json_object_is_type(rm, json_type_object)) {
            json_object_put(rm);
            json_object_put(p);
            return tl_errf(ei, TL_EINVAL, "sendMessage: reply_markup is not a JSON object");
        }
    }
    int rc = add(p, "chat_id", json_object_new_int64(chat_id));
    rc = rc ? rc : add(p, "text", json_object_new_string(text));
    if (!rc && rm) {
        rc = add(p, "reply_markup", rm);
        rm = NULL;
    }
    json_object_put(rm);
    if (rc) {
        json_object_put(p);
        return rc;
    }
    struct json_object *res = NULL, *v;
    rc = call_obj(c, "sendMessage", p, 0, &res, ei);
    if (rc)
        return rc;
    if (message_id_out && json_object_is_type(res, json_type_object) &&
        json_object_object_get_ex(res, "message_id", &v) && json_object_is_type(v, json_type_int))
        *message_id_out = json_object_get_int64(v);
    json_object_put(res);
    return TL_OK;
}

int tg_answer_callback_query(struct tg_client *c, const char *callback_query_id, const char *text,
                             struct tl_errinfo *ei)
{
    if (!callback_query_id)
        return tl_errf(ei, TL_EINVAL, "answerCallbackQuery: no id");
    struct json_object *p = json_object_new_object();
    if (!p)
        return TL_ENOMEM;
    int rc = add(p, "callback_query_id", json_object_new_string(callback_query_id));
    if (!rc && text)
        rc = add(p, "text", json_object_new_string(text));
    if (rc) {
        json_object_put(p);
        return rc;
    }
    return call_obj(c, "answerCallbackQuery", p, 0, NULL, ei);
}

int tg_delete_message(struct tg_client *c, long long chat_id, long long message_id,
                      struct tl_errinfo *ei)
{
    struct json_object *p = json_object_new_object();
    if (!p)
        return TL_ENOMEM;
    int rc = add(p, "chat_id", json_object_new_int64(chat_id));
    rc = rc ? rc : add(p, "message_id", json_object_new_int64(message_id));
    if (rc) {
        json_object_put(p);
        return rc;
    }
    return call_obj(c, "deleteMessage", p, 0, NULL, ei);
}

int tg_get_file(struct tg_client *c, const char *file_id, char **file_path, long long *file_size,
                struct tl_errinfo *ei)
{
    *file_path = NULL;
    if (file_size)
        *file_size = -1;
    if (!file_id)
        return tl_errf(ei, TL_EINVAL, "getFile: no file_id");
    struct json_object *p = json_object_new_object(), *res = NULL, *v;
    if (!p)
        return TL_ENOMEM;
    int rc = add(p, "file_id", json_object_new_string(file_id));
    if (rc) {
        json_object_put(p);
        return rc;
    }
    if ((rc = call_obj(c, "getFile", p, 0, &res, ei)) != TL_OK)
        return rc;
    if (!json_object_is_type(res, json_type_object) ||
        !json_object_object_get_ex(res, "file_path", &v) ||
        !json_object_is_type(v, json_type_string) || !*json_object_get_string(v)) {
        rc = tl_errf(ei, TL_EPARSE, "getFile: no file_path in the result");
        goto out;
    }
    if (!(*file_path = tl_strdup(json_object_get_string(v)))) {
        rc = TL_ENOMEM;
        goto out;
    }
    if (file_size && json_object_object_get_ex(res, "file_size", &v) &&
        json_object_is_type(v, json_type_int))
        *file_size = json_object_get_int64(v);
out:
    json_object_put(res);
    return rc;
}

/* file_path comes from Telegram; it must stay a relative path on the file server. */
static int file_path_ok(const char *p)
{
    if (!p || !*p || *p == '/' || strlen(p) > 1024 || strstr(p, ".."))
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || strchr("?#%\\", *p))
            return 0;
    return 1;
}

int tg_download_file(struct tg_client *c, const char *file_path, size_t max, unsigned char **buf,
                     size_t *len, struct tl_errinfo *ei)
{
    *buf = NULL;
    *len = 0;
    tl_errinfo_clear(ei);
    if (!file_path_ok(file_path))
        return tl_errf(ei, TL_EINVAL, "download: unusable file_path");
    if (max == 0)
        return tl_errf(ei, TL_EINVAL, "download: max is 0");
    char *url = tl_asprintf("%s/file/bot%s/%s", c->base, c->token, file_path);
    if (!url)
        return TL_ENOMEM;
    struct tg_sink sb;
    long http = 0;
    /* a photo of up to 20 MB over a slow uplink needs longer than an API call */
    int rc = perform(c, url, NULL, TG_DOWNLOAD_EXTRA_MS, max, &sb, &http, ei, "download");
    if (rc == TL_OK) {
        if (ei)
            ei->http_status = http;
        if (http != 200) {
            /* the file server answers errors with an envelope too (404 Not Found) */
            rc = parse_envelope(c, &sb.b, http, NULL, ei);
            if (rc == TL_OK || rc == TL_EPARSE)
                rc = tl_errf(ei, TL_EHTTP, "download: HTTP %ld", http);
            if (ei)
                ei->http_status = http;
            log_debug("tg download failed err=\"%s\" http=%ld", tl_strerror(rc), http);
        } else {
            *buf = tl_buf_steal(&sb.b, len);
            if (!*buf) {
                /* an empty file: hand back a valid zero-length buffer */
                *buf = calloc(1, 1);
                rc = *buf ? TL_OK : TL_ENOMEM;
            }
        }
    }
    tl_buf_release(&sb.b);
    tg_url_free(url);
    return rc;
}

int tg_err_retryable(int err)
{
    switch (err) {
    case TL_ENET:
    case TL_EHTTP:
    case TL_ERATE:
    case TL_ETIMEOUT:
    case TL_EPARSE:
    case TL_ENOMEM:
        return 1;
    default:
        return 0;
    }
}
