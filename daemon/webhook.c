/* daemon/webhook.c - outgoing webhooks: a decision or an incident's change writes a
 * delivery row in its own transaction (storage/schema/webhook_enqueue.sql,
 * webhook_enqueue_incident.sql), and this thread, on a connection
 * and a curl handle of its own, posts them, signed, retrying with backoff. Intake and
 * triage never wait for a receiver. The same thread keeps the zoomed-out tiles' grid
 * (migration 0027): it builds the cells of rounded points once, and each round folds
 * the decisions' pending changes in (storage/schema/tile_grid_fold.sql). */
#include "webhook.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_export.h"
#include "web/web.h"
#include "common/banned.h"

#define WEBHOOK_BATCH 20
#define WEBHOOK_LEASE_S 120
#define WEBHOOK_RETRY_MAX_S 3600

struct daemon_webhooks {
    struct daemon_webhooks_opts o;
    pthread_t thread;
};

/* The body of one delivery: the report as the GeoJSON feeds write it for the
 * subscriber (NULL feature when it no longer has that status). New string or NULL. */
static char *body_of(struct store *s, const struct store_webhook_job *j, struct tl_errinfo *ei)
{
    struct store_export_filter f = {.account = j->account,
                                    .status = j->status,
                                    .id = j->report_id,
                                    .limit = 1,
                                    .decimals = j->decimals};
    struct web_export_fmt fmt = {.format = WEB_EXPORT_GEOJSON};
    struct store_export *x = NULL;
    struct store_export_row row;
    struct tl_buf b;
    int have = 0;
    char *out = NULL;
    tl_buf_init(&b, 0);
    if (tl_buf_printf(&b, "{\"event\":\"%s\",\"delivery\":%lld,\"report\":%lld,\"feature\":",
                      j->event, j->id, j->report_id))
        goto out;
    if (store_export_open(s, &f, &x, ei) || store_export_next(x, &row, &have, ei))
        goto out;
    if (have ? web_export_row(&fmt, &row, &b) : tl_buf_append(&b, "null", 4))
        goto out;
    if (store_export_finish(x, j->account, "webhook", "webhook", ei) || tl_buf_append(&b, "}", 1))
        goto out;
    out = (char *)tl_buf_steal(&b, NULL);
out:
    store_export_free(x);
    tl_buf_release(&b);
    return out;
}

/* The body of an incident's delivery: what changed since the last post, the incident it
 * was merged into (or null), and the incident as the OGC API's incidents collection
 * writes it for the subscriber (null once merged: its members are the survivor's). New
 * string or NULL. */
static char *incident_body_of(struct store *s, const struct store_webhook_job *j,
                              struct tl_errinfo *ei)
{
    struct store_export_filter f = {
        .account = j->account, .id = j->incident_id, .limit = 1, .decimals = j->decimals};
    struct json_object *o = NULL, *fs = NULL, *feat = NULL;
    char *page = NULL, merged[32] = "null";
    if (store_export_incidents(s, &f, j->account, "webhook", &page, ei))
        return NULL;
    o = json_tokener_parse(page);
    free(page);
    if (!o)
        return NULL;
    if (json_object_object_get_ex(o, "features", &fs) && json_object_array_length(fs) > 0)
        feat = json_object_array_get_idx(fs, 0);
    if (j->merged_into)
        snprintf(merged, sizeof(merged), "%lld", j->merged_into);
    char *out =
        tl_asprintf("{\"event\":\"%s\",\"delivery\":%lld,\"incident\":%lld,\"changes\":%s,"
                    "\"merged_into\":%s,\"feature\":%s}",
                    j->event, j->id, j->incident_id, j->changes, merged,
                    feat ? json_object_to_json_string_ext(feat, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE)
                         : "null");
    json_object_put(o);
    return out;
}

/* Every socket curl opens for a delivery: to a public address only, unless allowed.
 * The pinned address was checked already; this also holds for anything curl would
 * connect to otherwise (a second address, a name it resolved itself). */
struct sock_guard {
    int allow_private;
    int refused;
};

static curl_socket_t open_checked(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct sock_guard *g = ud;
    if (purpose != CURLSOCKTYPE_IPCXN || (!g->allow_private && web_addr_private(&a->addr))) {
        g->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* Posts body to j's URL, signed: the HTTP status (0: none) and, on failure, why. */
static long post(CURL *h, const struct daemon_webhooks_opts *o, const struct store_webhook_job *j,
                 const char *body, char *why, size_t whysz)
{
    char ts[24], sig[80 + 64], hx[65], line[3][160], errbuf[CURL_ERROR_SIZE] = "";
    unsigned char md[32];
    snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
    char *msg = tl_asprintf("%s.%s", ts, body);
    if (!msg || tl_hmac_sha256(j->secret, strlen(j->secret), msg, strlen(msg), md) != TL_OK) {
        free(msg);
        tl_strlcpy(why, "cannot sign", whysz);
        return 0;
    }
    free(msg);
    /* resolved and checked now, then connected to that address only (SSRF) */
    char pin[WEB_WEBHOOK_PIN];
    struct sock_guard guard = {.allow_private = o->cfg->webhook_allow_private != 0};
    if (web_webhook_target(j->url, guard.allow_private, pin, sizeof(pin), why, whysz))
        return 0;
    struct curl_slist pinned = {.data = pin, .next = NULL};
    tl_hex(md, sizeof(md), hx);
    snprintf(sig, sizeof(sig), "X-Tipline-Signature: sha256=%s", hx);
    snprintf(line[0], sizeof(line[0]), "X-Tipline-Timestamp: %s", ts);
    snprintf(line[1], sizeof(line[1]), "X-Tipline-Event: %s", j->event);
    snprintf(line[2], sizeof(line[2]), "X-Tipline-Delivery: %lld", j->id);
    struct curl_slist *hl = NULL, *t;
    const char *const hs[] = {
        "Content-Type: application/json", sig, line[0], line[1], line[2], "Expect:"};
    for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
        if (!(t = curl_slist_append(hl, hs[i]))) {
            curl_slist_free_all(hl);
            tl_strlcpy(why, "out of memory", whysz);
            return 0;
        }
        hl = t;
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->timeout_ms < 5000 ? o->timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_RESOLVE, &pinned);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &guard);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* a proxy would resolve the name itself */
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tipline-webhook");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    if (cr == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else if (guard.refused)
        snprintf(why, whysz,
                 "refused to connect to a private address (webhook_allow_private is "
                 "off)");
    else
        snprintf(why, whysz, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
    if (cr == CURLE_OK && (status < 200 || status > 299))
        snprintf(why, whysz, "HTTP %ld", status);
    curl_slist_free_all(hl);
    return status;
}

/* One round: every due delivery posted once. The count handled, or -1 on a database
 * error. */
static int round_once(struct daemon_webhooks *w, struct store *s, CURL *h)
{
    const struct daemon_webhooks_opts *o = &w->o;
    struct store_webhook_job *jobs = NULL;
    struct tl_errinfo ei;
    size_t n = 0;
    tl_errinfo_clear(&ei);
    int rc = store_webhook_due(s, o->cfg->rounded_roles, o->cfg->round_decimals, WEBHOOK_BATCH,
                               WEBHOOK_LEASE_S, &jobs, &n, &ei);
    if (rc) {
        log_warn("webhook: lease failed err=%s detail=\"%.*s\"", tl_strerror(rc),
                 (int)strcspn(ei.msg, "\n"), ei.msg);
        return -1;
    }
    for (size_t i = 0; i < n && !*o->stop; i++) {
        const struct store_webhook_job *j = &jobs[i];
        char why[256] = "";
        int64_t t0 = tl_now_ms();
        char *body = j->incident_id ? incident_body_of(s, j, &ei) : body_of(s, j, &ei);
        long status = body ? post(h, o, j, body, why, sizeof(why)) : 0;
        if (!body)
            snprintf(why, sizeof(why), "no body: %.200s", ei.msg);
        int ok = status >= 200 && status <= 299;
        int give_up = !ok && j->attempts + 1 >= o->max_attempts;
        long retry = o->retry_base_s;
        for (int k = 0; k < j->attempts && retry < WEBHOOK_RETRY_MAX_S; k++)
            retry *= 2;
        if (retry > WEBHOOK_RETRY_MAX_S)
            retry = WEBHOOK_RETRY_MAX_S;
        rc = store_webhook_attempt(s, j->id, ok, (int)status, ok ? NULL : why,
                                   (long)(tl_now_ms() - t0), retry, give_up, &ei);
        if (rc)
            log_warn("webhook: record failed delivery=%lld err=%s", j->id, tl_strerror(rc));
        if (ok)
            log_debug("webhook: delivered delivery=%lld status=%ld", j->id, status);
        else
            log_info("webhook: attempt failed delivery=%lld attempt=%d why=\"%s\"%s", j->id,
                     j->attempts + 1, why, give_up ? " gave_up=1" : "");
        free(body);
    }
    store_webhook_jobs_free(jobs, n);
    return (int)n;
}

/* The zoomed-out tiles' grid: the cells of rounded points built once (the first start
 * with this round_decimals; the tiles of rounded roles scan the reports until then),
 * then, every round, the decisions' pending changes folded in. */
static void tile_grid(struct daemon_webhooks *w, struct store *s, int *ready)
{
    struct tl_errinfo ei;
    const struct cfg *cfg = w->o.cfg;
    tl_errinfo_clear(&ei);
    if (!*ready) {
        int built = 0;
        int64_t t0 = tl_now_ms();
        if (!cfg->rounded_roles || !cfg->rounded_roles[0]) {
            *ready = 1;
        } else if (store_tile_grid_ensure(s, (int)cfg->round_decimals, &built, &ei) == TL_OK) {
            *ready = 1;
            if (built)
                log_info("webhook: tile grid built decimals=%ld ms=%lld", cfg->round_decimals,
                         (long long)(tl_now_ms() - t0));
        } else {
            log_warn("webhook: tile grid build failed decimals=%ld detail=\"%.*s\"",
                     cfg->round_decimals, (int)strcspn(ei.msg, "\n"), ei.msg);
        }
    }
    long long folded = 0;
    if (store_tile_grid_fold(s, &folded, &ei) != TL_OK)
        log_warn("webhook: tile grid fold failed detail=\"%.*s\"", (int)strcspn(ei.msg, "\n"),
                 ei.msg);
}

static void *webhook_main(void *arg)
{
    struct daemon_webhooks *w = arg;
    struct store *s = NULL;
    struct tl_errinfo ei;
    int grid_ready = 0;
    CURL *h = curl_easy_init();
    if (!h) {
        log_error("webhook: no curl handle; webhooks wait for a restart");
        return NULL;
    }
    while (!*w->o.stop) {
        tl_errinfo_clear(&ei);
        if (!s && store_open(w->o.cfg->database_url, &s, &ei) != TL_OK) {
            s = NULL;
            tl_sleep_ms(5000, w->o.stop);
            continue;
        }
        int n = round_once(w, s, h);
        tile_grid(w, s, &grid_ready);
        if (n <= 0)
            tl_sleep_ms(w->o.interval_ms, w->o.stop);
    }
    curl_easy_cleanup(h);
    store_free(s);
    return NULL;
}

int daemon_webhooks_start(const struct daemon_webhooks_opts *o, struct daemon_webhooks **out)
{
    *out = NULL;
    struct daemon_webhooks *w = calloc(1, sizeof(*w));
    if (!w)
        return TL_ENOMEM;
    w->o = *o;
    if (w->o.interval_ms <= 0)
        w->o.interval_ms = 1000;
    if (w->o.retry_base_s <= 0)
        w->o.retry_base_s = 10;
    if (w->o.max_attempts <= 0)
        w->o.max_attempts = 12;
    if (w->o.timeout_ms <= 0)
        w->o.timeout_ms = 15000;
    if (pthread_create(&w->thread, NULL, webhook_main, w) != 0) {
        free(w);
        return TL_EIO;
    }
    *out = w;
    return TL_OK;
}

void daemon_webhooks_join(struct daemon_webhooks *w)
{
    if (!w)
        return;
    pthread_join(w->thread, NULL);
    free(w);
}
