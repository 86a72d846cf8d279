/* tests/fuzz/fuzz_web_request.c - libFuzzer harness for what a client sends the web
 * API: the input is split at newlines into a method, a path with its query, a Cookie
 * header and a body; each goes through web/'s parsers as the server uses them (path
 * segments, route lookup, query keys and the list/export filters, the session cookie,
 * the JSON body against the matched route's fields); the header line also goes through
 * the X-Forwarded-For, Last-Event-ID and Prefer parsers. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_int.h"

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
    if (web_path_parse(target, &path) == TL_OK) {
        int known = 0;
        const struct web_route *rt = web_route_find(method, &path, &known, allow, sizeof(allow));
        struct web_query wq;
        if (web_query_parse(q, &wq, msg, sizeof(msg)) == TL_OK) {
            struct store_web_filter f;
            if (!rt || web_query_allowed(&wq, rt->params, msg, sizeof(msg)) == TL_OK) {
                (void)web_list_filter(&wq, &f, msg, sizeof(msg));
                (void)web_export_filter(&wq, &f, msg, sizeof(msg));
            }
            web_query_release(&wq);
        }
        struct json_object *o = NULL;
        if (web_body_parse(body, blen, rt ? rt->body : NULL, &o, msg, sizeof(msg)) == TL_OK)
            json_object_put(o);
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
