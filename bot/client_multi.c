/* bot/client_multi.c - several Bot API calls in flight on one client (libcurl's multi
 * interface): each call in a slot whose easy handle is kept, so its settings and the
 * pool's connections are reused; HTTP/2 multiplexes them where the server speaks it. */
#include "tg.h"
#include "client_int.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/banned.h"

/* One call in flight: the easy handle's settings point into it until it ends. */
struct tg_slot {
    CURL *h; /* kept across calls, so its settings and the pool's connections are reused */
    struct tg_sink sb;
    char errbuf[CURL_ERROR_SIZE];
    char *url;    /* holds the token: wiped when freed */
    char *body;   /* the params, copied */
    char *method; /* copied */
    void *tag;
    int busy;
};

struct tg_multi {
    struct tg_client *c; /* borrowed */
    CURLM *m;
    struct tg_slot *slots;
    size_t n_slots, inflight;
};

int tg_multi_new(struct tg_client *c, size_t max_inflight, struct tg_multi **out)
{
    *out = NULL;
    if (!c || max_inflight == 0)
        return TL_EINVAL;
    struct tg_multi *m = calloc(1, sizeof(*m));
    if (!m)
        return TL_ENOMEM;
    m->c = c;
    m->n_slots = max_inflight;
    m->slots = calloc(max_inflight, sizeof(*m->slots));
    m->m = curl_multi_init();
    if (!m->slots || !m->m) {
        tg_multi_free(m);
        return TL_ENOMEM;
    }
    /* HTTP/2 (over TLS) carries every call on one connection; over HTTP/1.1 the pool
     * keeps up to one connection per call in flight, each reused for the next call. */
    curl_multi_setopt(m->m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m->m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_inflight);
    curl_multi_setopt(m->m, CURLMOPT_MAXCONNECTS, (long)max_inflight);
    *out = m;
    return TL_OK;
}

static void slot_clear(struct tg_slot *s)
{
    tl_buf_release(&s->sb.b);
    tg_url_free(s->url);
    free(s->body);
    free(s->method);
    s->url = s->body = s->method = NULL;
    s->tag = NULL;
    s->busy = 0;
}

void tg_multi_free(struct tg_multi *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->slots && i < m->n_slots; i++) {
        struct tg_slot *s = &m->slots[i];
        if (s->busy && m->m)
            curl_multi_remove_handle(m->m, s->h);
        slot_clear(s);
        if (s->h)
            curl_easy_cleanup(s->h);
    }
    if (m->m)
        curl_multi_cleanup(m->m);
    free(m->slots);
    free(m);
}

size_t tg_multi_inflight(const struct tg_multi *m)
{
    return m->inflight;
}

int tg_multi_add(struct tg_multi *m, const char *method, const char *params_json, void *tag,
                 struct tl_errinfo *ei)
{
    tl_errinfo_clear(ei);
    int rc = tg_check_method(method, ei);
    if (rc)
        return rc;
    struct tg_slot *s = NULL;
    for (size_t i = 0; i < m->n_slots && !s; i++)
        if (!m->slots[i].busy)
            s = &m->slots[i];
    if (!s)
        return tl_errf(ei, TL_ETOOBIG, "%zu calls already in flight", m->n_slots);
    if (!s->h && !(s->h = curl_easy_init()))
        return TL_ENOMEM;
    s->url = tl_asprintf("%s/bot%s/%s", m->c->base, m->c->token, method);
    s->body = tl_strdup(params_json && *params_json ? params_json : "{}");
    s->method = tl_strdup(method);
    if (!s->url || !s->body || !s->method) {
        slot_clear(s);
        return TL_ENOMEM;
    }
    tg_xfer_setup(m->c, s->h, s->errbuf, s->url, s->body, 0, m->c->max_response, &s->sb);
    if (strncmp(m->c->base, "https:", 6) == 0) /* wait to learn whether HTTP/2 multiplexes */
        curl_easy_setopt(s->h, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, (void *)s);
    if (curl_multi_add_handle(m->m, s->h) != CURLM_OK) {
        slot_clear(s);
        return tl_errf(ei, TL_ENOMEM, "curl_multi_add_handle failed");
    }
    s->tag = tag;
    s->busy = 1;
    m->inflight++;
    return TL_OK;
}

int tg_multi_wait(struct tg_multi *m, long timeout_ms)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(m->m, &running);
    if (mc == CURLM_OK && m->inflight > 0)
        mc = curl_multi_poll(m->m, NULL, 0, timeout_ms > 0 ? (int)timeout_ms : 0, NULL);
    if (mc == CURLM_OK)
        mc = curl_multi_perform(m->m, &running);
    if (mc == CURLM_OUT_OF_MEMORY)
        return TL_ENOMEM;
    return mc == CURLM_OK ? TL_OK : TL_EIO;
}

int tg_multi_next(struct tg_multi *m, void **tag, int *rc, struct json_object **result,
                  struct tl_errinfo *ei)
{
    CURLMsg *msg;
    int left = 0;
    *tag = NULL;
    if (result)
        *result = NULL;
    while ((msg = curl_multi_info_read(m->m, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct tg_slot *s = NULL;
        CURL *h = msg->easy_handle;
        CURLcode cc = msg->data.result; /* msg is invalid once the handle is removed */
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&s);
        curl_multi_remove_handle(m->m, h);
        tl_errinfo_clear(ei);
        long http = 0;
        int r = tg_xfer_finish(m->c, h, cc, s->errbuf, s->url, &s->sb, &http, ei, s->method);
        *rc = tg_call_result(m->c, s->method, r, &s->sb, http, result, ei);
        *tag = s->tag;
        slot_clear(s);
        m->inflight--;
        return 1;
    }
    return 0;
}
