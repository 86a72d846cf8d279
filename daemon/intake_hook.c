/* daemon/intake_hook.c - intake over HTTP instead of getUpdates: Telegram (through the reverse
 * proxy, deploy/nginx-tipline-webhook.conf) POSTs each Update here. The secret token is
 * checked in constant time, the update is stored in the inbox, and 200 is answered only
 * after that commit: a crash before it leaves Telegram retrying, and the update_id makes
 * the retry a no-op. The workers take the inbox from there as in polling mode, so any
 * number of instances behind the proxy share it under the per-chat order rule. */
#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tg.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon_int.h"
#include "seal.h"
#include "storage/store.h"
#include "common/banned.h"

#define WH_BODY_MAX (1u << 20) /* an Update is a few KiB; Telegram sends no files inline */
#define WH_MAX_CONNS 256
#define WH_STORES 8        /* database connections of the receiver */
#define WH_CHAT_CACHE 1024 /* chats each connection keeps hashed and sealed */

/* One of the receiver's database connections, with what sealing an update on it needs:
 * a cipher context and a chat cache (seal_chat), used by one request at a time, so that
 * a chat is hashed and sealed once per key, as the poller does. */
struct wh_conn {
    struct store *s;
    struct idkeys_cipher *cc;
    struct seal_chat_cache *chats;
};

struct daemon_intake_hook {
    const struct cfg *cfg;
    struct MHD_Daemon *d;
    unsigned port;
    unsigned char secret_sha[32];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct wh_conn *idle[WH_STORES];
    size_t n_idle, n_open;
    atomic_llong stored, refused;
    struct daemon_stats *st;               /* a runtime's counters it adds to, or NULL */
    _Atomic(struct daemon_keyring *) keys; /* a runtime's keys, or NULL: cfg's */
};

struct wh_req {
    struct tl_buf body;
    int too_big;
};

/* Compares digests, so that neither the secret's bytes nor its length show in the time
 * the answer takes. */
static int secret_ok(const struct daemon_intake_hook *wh, const char *got)
{
    if (!got || !*got)
        return 0;
    unsigned char d[32];
    if (tl_sha256(got, strlen(got), d) != TL_OK)
        return 0;
    return CRYPTO_memcmp(d, wh->secret_sha, 32) == 0;
}

static void conn_free(struct wh_conn *c)
{
    if (!c)
        return;
    store_free(c->s);
    idkeys_cipher_free(c->cc);
    seal_chat_cache_free(c->chats);
    free(c);
}

static struct wh_conn *conn_take(struct daemon_intake_hook *wh, struct tl_errinfo *ei)
{
    pthread_mutex_lock(&wh->mu);
    while (!wh->n_idle && wh->n_open >= WH_STORES)
        pthread_cond_wait(&wh->cv, &wh->mu);
    if (wh->n_idle) {
        struct wh_conn *c = wh->idle[--wh->n_idle];
        pthread_mutex_unlock(&wh->mu);
        return c;
    }
    wh->n_open++;
    pthread_mutex_unlock(&wh->mu);
    struct wh_conn *c = calloc(1, sizeof(*c));
    int rc = c && (c->cc = idkeys_cipher_new()) && (c->chats = seal_chat_cache_new(WH_CHAT_CACHE))
                 ? store_open(wh->cfg->database_url, &c->s, ei)
                 : tl_errf(ei, TL_ENOMEM, "no memory for a webhook connection");
    if (rc != TL_OK) {
        conn_free(c);
        pthread_mutex_lock(&wh->mu);
        wh->n_open--;
        pthread_cond_signal(&wh->cv);
        pthread_mutex_unlock(&wh->mu);
        return NULL;
    }
    return c;
}

/* broken: the connection failed (closed, not kept) */
static void conn_give(struct daemon_intake_hook *wh, struct wh_conn *c, int broken)
{
    if (!c)
        return;
    pthread_mutex_lock(&wh->mu);
    if (broken) {
        conn_free(c);
        wh->n_open--;
    } else {
        wh->idle[wh->n_idle++] = c;
    }
    pthread_cond_signal(&wh->cv);
    pthread_mutex_unlock(&wh->mu);
}

/* The status to answer an Update body with: 200 once stored (or already stored), 400 for
 * what is no Update, 503 when the database failed (Telegram retries). */
static unsigned store_update(struct daemon_intake_hook *wh, const char *body, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *u = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL, *id = NULL;
    unsigned status = 400;
    if (!u || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != len || !json_object_is_type(u, json_type_object) ||
        !json_object_object_get_ex(u, "update_id", &id) || !json_object_is_type(id, json_type_int))
        goto out;
    struct store_inbox_row row;
    struct seal_bufs bufs;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    /* sealed before it is written, as the poller does, with the connection's chat cache */
    size_t inserted = 0;
    struct daemon_keyring *kr = atomic_load(&wh->keys);
    struct wh_conn *c = conn_take(wh, &ei);
    int rc = c ? TL_OK : TL_EDBDOWN, broken = 0;
    if (rc == TL_OK && (rc = seal_inbox_row(kr ? daemon_keys(kr) : &wh->cfg->idkeys, c->cc,
                                            c->chats, u, &row, &bufs)) == TL_OK) {
        rc = store_inbox_put(c->s, &row, 1, 0, &inserted, &ei);
        broken = rc != TL_OK;
        seal_bufs_release(&bufs);
    }
    conn_give(wh, c, broken);
    if (rc == TL_OK) {
        atomic_fetch_add(&wh->stored, 1);
        if (wh->st) {
            atomic_fetch_add(&wh->st->received, 1);
            atomic_fetch_add(&wh->st->stored, (long long)inserted);
        }
        status = 200;
    } else {
        log_warn("webhook update not stored err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        status = 503;
    }
out:
    json_object_put(u);
    if (tok)
        json_tokener_free(tok);
    return status;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status)
{
    static const char ok[] = "{}";
    struct MHD_Response *m = MHD_create_response_from_buffer(
        status == 200 ? 2 : 0, (void *)(uintptr_t)ok, MHD_RESPMEM_PERSISTENT);
    if (!m)
        return MHD_NO;
    MHD_add_response_header(m, "Content-Type", "application/json");
    enum MHD_Result r = MHD_queue_response(conn, status, m);
    MHD_destroy_response(m);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    struct daemon_intake_hook *wh = cls;
    struct wh_req *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        tl_buf_init(&rq->body, WH_BODY_MAX);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*data_size) {
        if (!rq->too_big && tl_buf_append(&rq->body, data, *data_size))
            rq->too_big = 1;
        *data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0 || strcmp(url, wh->cfg->webhook_path) != 0)
        return answer(conn, strcmp(url, wh->cfg->webhook_path) ? 404 : 405);
    const char *secret =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Telegram-Bot-Api-Secret-Token");
    if (!secret_ok(wh, secret)) {
        atomic_fetch_add(&wh->refused, 1);
        if (wh->st)
            atomic_fetch_add(&wh->st->webhook_refused, 1);
        return answer(conn, 401);
    }
    if (rq->too_big)
        return answer(conn, 413);
    return answer(conn, store_update(wh, (const char *)rq->body.data, rq->body.len));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct wh_req *rq = *con_cls;
    if (rq) {
        tl_buf_release(&rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

/* "host:port" (IPv4; port 0: an ephemeral one). */
int daemon_parse_listen(const char *s, const char *what, struct sockaddr_in *sa,
                        struct tl_errinfo *ei)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    long long port = -1;
    char host[64];
    memset(sa, 0, sizeof(*sa));
    if (!colon || (size_t)(colon - s) >= sizeof(host) || tl_parse_ll(colon + 1, &port) ||
        port < 0 || port > 65535)
        return tl_errf(ei, TL_ECONFIG, "%s must be host:port, not \"%s\"", what, s ? s : "");
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    sa->sin_family = AF_INET;
    sa->sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return tl_errf(ei, TL_ECONFIG, "%s: \"%s\" is no IPv4 address", what, host);
    return TL_OK;
}

int daemon_intake_hook_secret(const char *path, char **out, struct tl_errinfo *ei)
{
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = tl_read_file(path, 4096, &buf, &len);
    if (rc)
        return tl_errf(ei, rc, "cannot read the webhook secret %s", path);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = 0;
    /* Telegram's rule: 1-256 characters A-Z, a-z, 0-9, _ and - */
    int ok = len >= 1 && len <= 256;
    for (size_t i = 0; ok && i < len; i++) {
        char c = buf[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-';
    }
    if (!ok) {
        free(buf);
        return tl_errf(ei, TL_ECONFIG,
                       "the webhook secret in %s must be 1-256 characters A-Z a-z 0-9 _ -", path);
    }
    *out = buf;
    return TL_OK;
}

int daemon_intake_hook_start(const struct cfg *cfg, struct daemon_intake_hook **out,
                             struct tl_errinfo *ei)
{
    struct sockaddr_in sa;
    char *secret = NULL;
    *out = NULL;
    int rc = daemon_parse_listen(cfg->webhook_listen, "webhook_listen", &sa, ei);
    if (rc)
        return rc;
    if ((rc = daemon_intake_hook_secret(cfg->webhook_secret_file, &secret, ei)) != TL_OK)
        return rc;
    struct daemon_intake_hook *wh = calloc(1, sizeof(*wh));
    if (!wh) {
        free(secret);
        return TL_ENOMEM;
    }
    wh->cfg = cfg;
    rc = tl_sha256(secret, strlen(secret), wh->secret_sha);
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    if (rc) {
        free(wh);
        return tl_errf(ei, rc, "cannot hash the webhook secret");
    }
    pthread_mutex_init(&wh->mu, NULL);
    pthread_cond_init(&wh->cv, NULL);
    /* a first connection now: a wrong database_url fails here, not at the first update */
    struct wh_conn *first = conn_take(wh, ei);
    if (!first) {
        rc = TL_EDBDOWN;
        goto out;
    }
    conn_give(wh, first, 0);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    wh->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, wh, MHD_OPTION_SOCK_ADDR,
                             (const struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                             on_completed, wh, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned)WH_MAX_CONNS,
                             MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!wh->d) {
        rc = tl_errf(ei, TL_EIO, "cannot listen on %s", cfg->webhook_listen);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(wh->d, MHD_DAEMON_INFO_BIND_PORT);
    wh->port = di ? di->port : ntohs(sa.sin_port);
    log_info("webhook listening addr=%s port=%u path=\"%s\"", cfg->webhook_listen, wh->port,
             cfg->webhook_path);
    *out = wh;
    wh = NULL;
out:
    daemon_intake_hook_free(wh);
    return rc;
}

void daemon_intake_hook_count_into(struct daemon_intake_hook *wh, struct daemon *d)
{
    wh->st = daemon_stats_of(d);
    atomic_store(&wh->keys, daemon_keyring_of(d));
}

unsigned daemon_intake_hook_port(const struct daemon_intake_hook *wh)
{
    return wh->port;
}

void daemon_intake_hook_free(struct daemon_intake_hook *wh)
{
    if (!wh)
        return;
    if (wh->d)
        MHD_stop_daemon(wh->d); /* joins the connections: their commits end first */
    if (wh->d)
        log_info("webhook stopped stored=%lld refused=%lld", atomic_load(&wh->stored),
                 atomic_load(&wh->refused));
    for (size_t i = 0; i < wh->n_idle; i++)
        conn_free(wh->idle[i]);
    pthread_cond_destroy(&wh->cv);
    pthread_mutex_destroy(&wh->mu);
    free(wh);
}
