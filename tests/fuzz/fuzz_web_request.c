/* tests/fuzz/fuzz_web_request.c - libFuzzer harness for what a client sends the web
 * API: the input is split at newlines into a method, a path with its query, a Cookie
 * header and a body; each goes through web/'s parsers as the server uses them (path
 * segments, route lookup, query keys and the list/export filters, the session cookie,
 * the JSON body against the matched route's fields); the header line also goes through
 * the X-Forwarded-For, Last-Event-ID and Prefer parsers. What a parser accepts must be
 * text: every path segment, query key and value and JSON string is checked again as
 * UTF-8 without NUL, and a list filter's times as calendar dates; what a parser says
 * when it refuses (quoted in a JSON error) is text too. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "web/web_int.h"
#include "storage/store_web.h"

static void must_be_text(const char *s, size_t n)
{
    if (!tl_utf8_valid(s, n))
        abort();
}

/* Every string in o (keys too) is text. */
static void json_must_be_text(struct json_object *o)
{
    if (json_object_is_type(o, json_type_string)) {
        must_be_text(json_object_get_string(o), (size_t)json_object_get_string_len(o));
    } else if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            json_must_be_text(json_object_array_get_idx(o, i));
    } else if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            must_be_text(key, strlen(key));
            json_must_be_text(val);
        }
    }
}

static int digits_at(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* A time the filters let through (YYYY-MM-DD...) names a day its month has. */
static void must_be_a_day(const char *t)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!t)
        return;
    int y = digits_at(t, 4), m = digits_at(t + 5, 2), d = digits_at(t + 8, 2);
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1] + (m == 2 && leap))
        abort();
}

/* The next newline-terminated piece of [*p, end) as a new string. */
static char *piece(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = 0;
    *p += n + (nl ? 1 : 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *method = piece(&p, end), *target = piece(&p, end), *cookie = piece(&p, end);
    const char *body = (const char *)p;
    size_t blen = (size_t)(end - p);
    char msg[WEB_MSG], allow[32], sid[65];
    char *q = strchr(target, '?');
    if (q)
        *q++ = 0;
    struct web_path path;
    (void)web_method_ok(method);
    if (web_path_parse(target, &path) == TL_OK) {
        for (size_t i = 0; i < path.n; i++)
            must_be_text(path.segs[i], strlen(path.segs[i]));
        int known = 0;
        const struct web_route *rt = web_route_find(method, &path, &known, allow, sizeof(allow));
        struct web_query wq;
        msg[0] = 0;
        if (web_query_parse(q, &wq, msg, sizeof(msg)) != TL_OK) {
            must_be_text(msg, strlen(msg)); /* it goes out in a JSON error */
        } else {
            struct store_web_filter f;
            for (size_t i = 0; i < wq.n; i++) {
                must_be_text(wq.kv[i].key, strlen(wq.kv[i].key));
                must_be_text(wq.kv[i].val, strlen(wq.kv[i].val));
            }
            int allowed = !rt || web_query_allowed(&wq, rt->params, msg, sizeof(msg)) == TL_OK;
            must_be_text(msg, strlen(msg));
            if (allowed) {
                if (web_list_filter(&wq, &f, msg, sizeof(msg)) == TL_OK) {
                    must_be_a_day(f.since);
                    must_be_a_day(f.until);
                    if (f.has_after && (f.after_us < 0 || f.after_us > WEB_CURSOR_US_MAX))
                        abort();
                }
                if (web_export_filter(&wq, &f, msg, sizeof(msg)) == TL_OK) {
                    must_be_a_day(f.since);
                    must_be_a_day(f.until);
                }
                must_be_text(msg, strlen(msg));
            }
            web_query_release(&wq);
        }
        struct json_object *o = NULL;
        if (web_body_parse(body, blen, rt ? rt->body : NULL, &o, msg, sizeof(msg)) == TL_OK) {
            json_must_be_text(o);
            json_object_put(o);
        } else {
            must_be_text(msg, strlen(msg));
        }
        web_path_release(&path);
    }
    (void)web_cookie_session(cookie, "tl_session", sid);
    /* the other header values parsed: X-Forwarded-For behind a trusted proxy (the
     * result is always an address) and an event stream's Last-Event-ID */
    char client[64] = "127.0.0.1";
    unsigned char bin[16];
    web_forwarded_client("10.0.0.1, 127.0.0.1", cookie, client, sizeof(client));
    if (inet_pton(AF_INET, client, bin) != 1 && inet_pton(AF_INET6, client, bin) != 1)
        abort();
    long long epoch;
    unsigned long long seq;
    (void)web_sse_parse_id(cookie, &epoch, &seq);
    int m = web_prefer_minimal(cookie);
    if (m != 0 && m != 1)
        abort();
    free(method);
    free(target);
    free(cookie);
    return 0;
}
