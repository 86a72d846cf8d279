/* tests/test_export_webhooks.c - test_export: outgoing webhooks (signed deliveries,
 * retries, the addresses a webhook may reach, incident changes) against receivers on
 * loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/webhook.h"
#include "storage/store.h"
#include "support/httprec.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_export_int.h"
#include "common/banned.h"

/* ---- outgoing webhooks ---- */

/* A receiver on loopback: answers 500 to the first `fail` posts, then 204; keeps each
 * request's headers and body. */
#define RX_MAX 16
struct rx {
    int fd;
    unsigned port;
    int fail;
    pthread_mutex_t mu;
    int n;
    char *head[RX_MAX], *body[RX_MAX];
    int answered[RX_MAX];
    volatile int stop;
    pthread_t th;
};

static void *rx_main(void *arg)
{
    struct rx *x = arg;
    while (!x->stop) {
        int c = accept(x->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct tl_buf b;
        tl_buf_init(&b, 1 << 20);
        char chunk[4096];
        size_t need = 0, hend = 0;
        for (;;) {
            ssize_t r = recv(c, chunk, sizeof(chunk), 0);
            if (r <= 0 || tl_buf_append(&b, chunk, (size_t)r))
                break;
            const char *e = hend ? NULL : strstr((const char *)b.data, "\r\n\r\n");
            if (e) {
                hend = (size_t)(e - (const char *)b.data) + 4;
                const char *cl = strcasestr((const char *)b.data, "Content-Length:");
                need = hend + (cl ? strtoul(cl + 15, NULL, 10) : 0);
            }
            if (hend && b.len >= need)
                break;
        }
        pthread_mutex_lock(&x->mu);
        int i = x->n < RX_MAX ? x->n++ : -1;
        int status = i >= 0 && i < x->fail ? 500 : 204;
        if (i >= 0 && hend) {
            x->head[i] = tl_strndup((const char *)b.data, hend);
            x->body[i] = tl_strndup((const char *)b.data + hend, b.len - hend);
            x->answered[i] = status;
        }
        pthread_mutex_unlock(&x->mu);
        char resp[128];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n",
                         status);
        if (send(c, resp, (size_t)n, 0) < 0)
            (void)0;
        close(c);
        tl_buf_release(&b);
    }
    return NULL;
}

static void rx_start(struct rx *x, int fail)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    x->fail = fail;
    pthread_mutex_init(&x->mu, NULL);
    x->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(x->fd >= 0);
    assert_int_equal(bind(x->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(x->fd, 16), 0);
    assert_int_equal(getsockname(x->fd, (struct sockaddr *)&sa, &sl), 0);
    x->port = ntohs(sa.sin_port);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000}; /* accept wakes to see stop */
    setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&x->th, NULL, rx_main, x), 0);
}

static void rx_stop(struct rx *x)
{
    x->stop = 1;
    pthread_join(x->th, NULL);
    close(x->fd);
    for (int i = 0; i < x->n && i < RX_MAX; i++) {
        free(x->head[i]);
        free(x->body[i]);
    }
    pthread_mutex_destroy(&x->mu);
}

static char *head_value(const char *head, const char *name)
{
    const char *p = strcasestr(head, name);
    if (!p)
        return NULL;
    p += strlen(name);
    while (*p == ':' || *p == ' ')
        p++;
    return tl_strndup(p, strcspn(p, "\r\n"));
}

/* X-Tipline-Signature checks against HMAC-SHA256(secret, "<timestamp>.<body>"). */
static int signature_ok(const char *head, const char *body, const char *secret)
{
    char *ts = head_value(head, "X-Tipline-Timestamp"),
         *sig = head_value(head, "X-Tipline-Signature");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1], want[80 + 2 * EVP_MAX_MD_SIZE];
    int ok = 0;
    if (ts && sig) {
        char *msg = tl_asprintf("%s.%s", ts, body);
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), md, &n);
        tl_hex(md, n, hex);
        snprintf(want, sizeof(want), "sha256=%s", hex);
        ok = strcmp(sig, want) == 0 && llabs(strtoll(ts, NULL, 10) - (long long)time(NULL)) < 60;
        free(msg);
    }
    free(ts);
    free(sig);
    return ok;
}

/* POST /api/webhooks with the JSON body json as exa: the HTTP status; the answer's body
 * in *body (NULL: dropped), recorded for the OpenAPI check. */
static long webhook_post(struct fx *f, const char *json, char **body)
{
    char *out = NULL,
         *cmd = tl_asprintf(
             "curl -s -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer "
             "tok-exa-0123456789abcdef' -d '%s' -w '\\n%%{http_code}' "
             "'http://127.0.0.1:%u/api/webhooks'",
             json, f->port);
    ts_run(cmd, &out);
    free(cmd);
    assert_non_null(out);
    char *nl = strrchr(out, '\n');
    assert_non_null(nl);
    long status = strtol(nl + 1, NULL, 10);
    *nl = 0;
    ts_http_record("POST", "/api/webhooks", status, "application/json", out, strlen(out));
    if (body)
        *body = out;
    else
        free(out);
    return status;
}

/* POST /api/webhooks {"url"} as exa (report events, the default). */
static long webhook_add(struct fx *f, const char *url, char **body)
{
    char *json = tl_asprintf("{\"url\":\"%s\"}", url);
    long status = webhook_post(f, json, body);
    free(json);
    return status;
}

/* The signing secret of a subscription's answer (shown this once), as a new string;
 * frees answer. */
static char *take_secret(char *answer)
{
    char *sec = strstr(answer, "\"secret\":\"");
    assert_non_null(sec);
    sec += 10;
    sec[strcspn(sec, "\"")] = 0;
    char *secret = tl_strdup(sec);
    free(answer);
    assert_true(strncmp(secret, "whsec_", 6) == 0 && strlen(secret) == 70);
    return secret;
}

/* A fixture of n seeded reports and a receiver on loopback failing its first two posts,
 * which the sender may reach. */
static struct fx *webhook_fx(const char *name, int n, struct rx *x)
{
    struct fx *f = texp_fx_new(name, n);
    rx_start(x, 2);
    f->cfg.webhook_allow_private = 1;
    return f;
}

static void test_export_webhook(void **state)
{
    (void)state;
    struct rx x = {0};
    struct fx *f = webhook_fx("t_export_webhook", 100, &x);
    /* the exporter subscribes; the secret comes once */
    char *out = NULL, *url = tl_asprintf("http://127.0.0.1:%u/hook", x.port);
    assert_int_equal(webhook_add(f, url, &out), 201);
    free(url);
    char *secret = take_secret(out);
    struct hres r = texp_get(f, "exa", "/api/webhooks", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "grep -q whsec_ '%s'", r.body_path), 1); /* never shown again */
    texp_hres_release(&r);

    /* the sender, retrying after 1 s, then 2 s */
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 1, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    /* a decision writes a delivery and returns: no receiver is waited for */
    int64_t t0 = tl_now_ms();
    texp_sql(f,
             "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
             " RETURNING 1");
    assert_true(tl_now_ms() - t0 < 1000);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    for (int i = 0; i < 150 && !texp_count(f, "SELECT count(*) FROM webhook_deliveries"
                                              " WHERE delivered_at IS NOT NULL");
         i++)
        tl_sleep_ms(100, NULL);
    tl_sleep_ms(1500, NULL); /* nothing more comes */
    stop = 1;
    daemon_webhooks_join(wh);
    pthread_mutex_lock(&x.mu);
    int n = x.n;
    pthread_mutex_unlock(&x.mu);
    assert_int_equal(n, 3);
    int got = 0;
    for (int i = 0; i < n; i++) {
        if (!signature_ok(x.head[i], x.body[i], secret))
            fail_msg("post %d: bad signature: %s", i, x.head[i]);
        got += x.answered[i] == 204;
        assert_non_null(strcasestr(x.head[i], "X-Tipline-Event: report.confirmed"));
        assert_non_null(strstr(x.body[i], "\"ref\":\"R-10\""));
        assert_non_null(strstr(x.body[i], "\"coordinates\":[30.51,50.40]")); /* rounded */
        assert_string_equal(x.body[i], x.body[0]);
        char *fn = tl_asprintf("%s/webhook-%d.json", f->dir, i);
        assert_int_equal(ts_write_file(fn, x.body[i]), 0);
        free(fn);
    }
    assert_int_equal(got, 1); /* taken exactly once */
    /* a tampered body fails the check */
    assert_false(signature_ok(x.head[2], "{\"event\":\"report.confirmed\"}", secret));
    /* the admins see every attempt */
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_attempts"), 3);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE attempts = 3"
                                   " AND last_status = 204 AND last_error IS NULL"),
                     1);
    r = texp_get(f, "root", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        texp_run(NULL, "grep -Eq '\"attempts\" ?: ?3' '%s' && grep -Eq '\"status\" ?: ?500' '%s'",
                 r.body_path, r.body_path),
        0);
    texp_hres_release(&r);
    r = texp_get(f, "exa", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 403);
    texp_hres_release(&r);
    /* a disabled subscription gets no more */
    char *id = ts_db_scalar(f->ci, "SELECT id FROM webhook_subscriptions");
    char *cmd =
        tl_asprintf("curl -s -o /dev/null -w '%%{http_code}' -X POST -H 'Authorization: Bearer "
                    "tok-exa-0123456789abcdef' 'http://127.0.0.1:%u/api/webhooks/%s/disable'",
                    f->port, id);
    ts_run(cmd, &out);
    assert_string_equal(out, "200");
    free(out);
    free(cmd);
    free(id);
    texp_sql(f, "UPDATE reports SET decided_at = now() WHERE public_ref = 'R-11' RETURNING 1");
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    rx_stop(&x);
    texp_no_identity(f);
    free(secret);
    texp_fx_free(f);
}

/* The address classes a webhook may not reach, and public ones it may, as the sender's
 * socket check (CURLOPT_OPENSOCKETFUNCTION) sees them. */
static void test_export_webhook_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int priv;
    } cases[] = {
        {"127.0.0.1", 1},
        {"127.255.0.9", 1},
        {"10.0.0.1", 1},
        {"172.16.0.1", 1},
        {"172.31.255.255", 1},
        {"172.32.0.1", 0},
        {"192.168.0.1", 1},
        {"169.254.169.254", 1},
        {"100.64.0.1", 1},
        {"100.100.100.200", 1},
        {"0.0.0.0", 1},
        {"224.0.0.1", 1},
        {"255.255.255.255", 1},
        {"192.0.2.1", 1},
        {"198.18.0.1", 1},
        {"8.8.8.8", 0},
        {"192.0.43.10", 0},
        {"100.128.0.1", 0},
        {"::1", 1},
        {"::", 1},
        {"::ffff:127.0.0.1", 1},
        {"::ffff:10.1.1.1", 1},
        {"::ffff:8.8.8.8", 0},
        {"64:ff9b::a9fe:a9fe", 1},
        {"64:ff9b::808:808", 0},
        {"2002:7f00:1::", 1},
        {"2002:808:808::", 0},
        {"fe80::1", 1},
        {"fd00:ec2::254", 1},
        {"fc00::1", 1},
        {"ff02::1", 1},
        {"2001:db8::1", 1},
        {"2001:4860:4860::8888", 0},
        {"2a00:1450:4001::200e", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, cases[i].addr, &a4->sin_addr) == 1)
            a4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, cases[i].addr, &a6->sin6_addr) == 1)
            a6->sin6_family = AF_INET6;
        else
            fail_msg("%s: not an address", cases[i].addr);
        if (web_addr_private((const struct sockaddr *)&ss) != cases[i].priv)
            fail_msg("%s: want %s", cases[i].addr, cases[i].priv ? "private" : "public");
    }
    struct sockaddr_storage unix_ss = {.ss_family = AF_UNIX};
    assert_int_equal(web_addr_private((const struct sockaddr *)&unix_ss), 1);
}

static void test_export_webhook_private_refused(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_ssrf", 20);
    assert_int_equal(f->cfg.webhook_allow_private, 0); /* the default */
    struct rx x = {0};
    rx_start(&x, 0);
    /* loopback, RFC 1918, the metadata service, IPv6 loopback and mapped, a decimal
     * loopback, a name resolving to loopback, a name with credentials before it */
    char *loop = tl_asprintf("http://127.0.0.1:%u/hook", x.port),
         *v6 = tl_asprintf("http://[::1]:%u/hook", x.port),
         *name = tl_asprintf("http://localhost:%u/hook", x.port);
    const char *const refused[] = {loop,
                                   "http://10.1.2.3/hook",
                                   "https://172.16.0.9/hook",
                                   "http://192.168.1.1/hook",
                                   "http://169.254.169.254/latest/meta-data/",
                                   "http://100.100.100.200/",
                                   v6,
                                   "http://[::ffff:127.0.0.1]/hook",
                                   "http://[fe80::1]/hook",
                                   "http://[fd00:ec2::254]/",
                                   "http://2130706433/hook",
                                   "http://0.0.0.0:8080/",
                                   name,
                                   "http://example.org@127.0.0.1/hook"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *body = NULL;
        long st = webhook_add(f, refused[i], &body);
        if (st != 400 || !strstr(body, "private"))
            fail_msg("%s: want 400 naming a private address, got %ld %s", refused[i], st, body);
        free(body);
    }
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_subscriptions"), 0);
    /* a public address is taken (nothing is posted to it here) */
    assert_int_equal(webhook_add(f, "http://192.0.43.10:8443/hook", NULL), 201);
    texp_sql(f, "DELETE FROM webhook_subscriptions RETURNING 1");

    /* the sender checks too: a subscription made while allowed (or a name that resolves
     * to loopback since) is not posted to, and the attempt says why */
    f->cfg.webhook_allow_private = 1;
    assert_int_equal(webhook_add(f, name, NULL), 201);
    f->cfg.webhook_allow_private = 0;
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 60, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    texp_sql(f,
             "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
             " RETURNING 1");
    for (int i = 0; i < 100 && !texp_count(f, "SELECT count(*) FROM webhook_attempts"); i++)
        tl_sleep_ms(100, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_attempts WHERE status IS NULL"
                                   " AND error LIKE '%private%'"),
                     1);
    assert_int_equal(
        texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"), 1);
    pthread_mutex_lock(&x.mu);
    int n = x.n;
    pthread_mutex_unlock(&x.mu);
    assert_int_equal(n, 0); /* nothing reached the receiver */
    rx_stop(&x);
    free(loop);
    free(v6);
    free(name);
    texp_fx_free(f);
}

/* ---- outgoing webhooks: incident changes ---- */

/* Reports by reporter who (PSEUDO, or w<k> made here) with ref, category, point and
 * bearing (NAN: none), each joined to its incident in a transaction of its own, as the
 * storing transaction does (incident_join). */
static void join_report(PGconn *c, const char *ref, const char *who, const char *cat, double lon,
                        double lat, double bearing)
{
    char q[1024], b[32] = "NULL";
    if (!isnan(bearing))
        snprintf(b, sizeof(b), "%g", bearing);
    snprintf(q, sizeof(q),
             "WITH p AS (INSERT INTO reporters (pseudonym) VALUES ('%s') ON CONFLICT DO NOTHING),"
             " r AS (INSERT INTO reports (public_ref, reporter, category, text, point,"
             "  point_source, accuracy_m, bearing) VALUES ('%s', '%s', '%s',"
             "  'from chat " CHAT ": " SECRET_TEXT "',"
             "  ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326)::geography, 'telegram_location', 10,"
             "  %s) RETURNING id)"
             " SELECT 1 FROM r",
             who, ref, who, cat, lon, lat, b);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", ref, PQerrorMessage(c));
    PQclear(r);
    snprintf(q, sizeof(q), "SELECT incident_join(id) FROM reports WHERE public_ref = '%s'", ref);
    r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQgetisnull(r, 0, 0))
        fail_msg("join %s: %s", ref, PQerrorMessage(c));
    PQclear(r);
}

/* Runs the sender until no incident delivery is left to post (at most 30 s). */
static void send_incidents(struct fx *f)
{
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 1, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    for (int i = 0; i < 300 && texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE"
                                             " incident_id IS NOT NULL AND delivered_at IS NULL");
         i++)
        tl_sleep_ms(100, NULL);
    tl_sleep_ms(300, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE"
                                   " incident_id IS NOT NULL AND delivered_at IS NULL"),
                     0);
}

/* The post (index >= from) whose body holds needle, asserted to be the only one. */
static int post_with(struct rx *x, int from, const char *needle)
{
    int at = -1;
    for (int i = from; i < x->n; i++)
        if (strstr(x->body[i], needle)) {
            if (at >= 0)
                fail_msg("two posts hold %s", needle);
            at = i;
        }
    if (at < 0)
        fail_msg("no post holds %s", needle);
    return at;
}

static void test_export_webhook_incident_changes(void **state)
{
    (void)state;
    struct rx x = {0};
    struct fx *f = webhook_fx("t_export_webhook_incident", 3, &x);
    char *json =
        tl_asprintf("{\"url\":\"http://127.0.0.1:%u/inc\",\"events\":[\"incidents\"]}", x.port);
    char *out = NULL;
    assert_int_equal(webhook_post(f, json, &out), 201);
    free(json);
    assert_non_null(strstr(out, "\"events\":[\"incidents\"]"));
    char *secret = take_secret(out);
    /* another subscription, report decisions only (what one takes when it does not say) */
    json = tl_asprintf("{\"url\":\"http://127.0.0.1:%u/rep\"}", x.port);
    assert_int_equal(webhook_post(f, json, NULL), 201);
    free(json);
    assert_int_equal(
        webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[\"alerts\"]}", NULL), 400);
    assert_int_equal(
        webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[\"reports\",\"reports\"]}",
                     NULL),
        400);
    assert_int_equal(webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[]}", NULL),
                     400);
    assert_int_equal(webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[1]}", NULL),
                     400);
    struct hres r = texp_get(f, "exa", "/api/webhooks", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(
        texp_run(NULL, "grep -Eq '\"events\" ?: ?\\[\"reports\"\\]' '%s'", r.body_path), 0);
    texp_hres_release(&r);
    PGconn *c = PQconnectdb(f->ci);
    assert_int_equal(PQstatus(c), CONNECTION_OK);

    /* 1. an incident appears; the receiver fails twice, then takes it: exactly once */
    join_report(c, "J-1", PSEUDO, "shelling", 31.012345, 50.023456, NAN);
    char *i1 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-1'");
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    send_incidents(f);
    assert_int_equal(x.n, 3);
    char *inc = tl_asprintf("\"incident\":%s,", i1);
    for (int i = 0; i < 3; i++) {
        if (!signature_ok(x.head[i], x.body[i], secret))
            fail_msg("post %d: bad signature: %s", i, x.head[i]);
        assert_non_null(strcasestr(x.head[i], "X-Tipline-Event: incident.changed"));
        assert_string_equal(x.body[i], x.body[0]);
        assert_int_equal(x.answered[i], i < 2 ? 500 : 204);
    }
    assert_non_null(strstr(x.body[0], inc));
    assert_non_null(strstr(x.body[0], "\"changes\":[\"created\",\"joined\",\"corroboration\"]"));
    assert_non_null(strstr(x.body[0], "\"merged_into\":null"));
    assert_non_null(strstr(x.body[0], "\"n_reports\":1"));
    assert_non_null(strstr(x.body[0], "\"coordinates\":[31.01,50.02]")); /* rounded */
    char *d0 = head_value(x.head[0], "X-Tipline-Delivery"),
         *d2 = head_value(x.head[2], "X-Tipline-Delivery");
    assert_string_equal(d0, d2);
    free(d0);
    free(d2);
    assert_false(signature_ok(x.head[2], "{\"event\":\"incident.changed\"}", secret));

    /* 2. a burst: 300 reports join it, each in its own transaction, while the sender is
     * down: one delivery, folded, posted once with the incident as it stands */
    int64_t t0 = tl_now_ms();
    for (int k = 1; k <= 300; k++) {
        char ref[16], who[16];
        snprintf(ref, sizeof(ref), "J-%d", k + 1);
        snprintf(who, sizeof(who), "w%d", k);
        join_report(c, ref, who, "shelling", 31.012345 + k * 1e-6, 50.023456, NAN);
    }
    fprintf(stderr, "300 joins, one transaction each: %lld ms\n", (long long)(tl_now_ms() - t0));
    assert_int_equal(
        texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"), 1);
    assert_int_equal(texp_count(f,
                                "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"
                                " AND changes = '{joined,corroboration}'"),
                     1);
    send_incidents(f);
    assert_int_equal(x.n, 4);
    assert_int_equal(x.answered[3], 204);
    assert_true(signature_ok(x.head[3], x.body[3], secret));
    assert_non_null(strstr(x.body[3], inc));
    assert_non_null(strstr(x.body[3], "\"n_reports\":301"));
    assert_non_null(strstr(x.body[3], "\"corroboration\":301"));

    /* 3. another incident merged into it, a report split out of it, and a moving target
     * fixed by two bearings: one post per incident, each saying what changed */
    join_report(c, "J-400", "w1", "shelling", 31.5, 50.0, NAN);
    char *i2 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-400'");
    assert_string_not_equal(i1, i2);
    free(ts_db_scalarf(f->ci, "SELECT web_incident_merge('alice', %s, %s, NULL)", i1, i2));
    free(ts_db_scalar(f->ci, "SELECT web_incident_split('alice', NULL, 'J-2', NULL)"));
    char *i3 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-2'");
    join_report(c, "K-1", PSEUDO, "drones", 33.0, 50.0, 45);
    join_report(c, "K-2", "w2", "drones", 33.02, 50.0, 315);
    char *i4 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'K-2'");
    assert_int_equal(
        ts_db_countf(f->ci, "SELECT count(*) FROM incidents WHERE id = %s AND fused IS NOT NULL",
                     i4),
        1);
    send_incidents(f);
    assert_int_equal(x.n, 8);
    char *n2 = tl_asprintf("\"incident\":%s,", i2), *n3 = tl_asprintf("\"incident\":%s,", i3),
         *n4 = tl_asprintf("\"incident\":%s,", i4), *m = tl_asprintf("\"merged_into\":%s,", i1);
    int p1 = post_with(&x, 4, inc), p2 = post_with(&x, 4, n2), p3 = post_with(&x, 4, n3),
        p4 = post_with(&x, 4, n4);
    assert_non_null(strstr(x.body[p1], "\"changes\":[\"joined\",\"left\"]"));
    assert_non_null(strstr(x.body[p1], "\"n_reports\":301")); /* +1 merged, -1 split */
    assert_non_null(strstr(x.body[p2], "\"merged\""));
    assert_non_null(strstr(x.body[p2], m));
    assert_non_null(strstr(x.body[p2], "\"feature\":null"));
    assert_non_null(strstr(x.body[p3], "\"changes\":[\"created\",\"joined\",\"corroboration\"]"));
    assert_non_null(strstr(x.body[p4], "\"fused\""));
    assert_null(strstr(x.body[p4], "\"fused_lon\":null"));
    for (int i = 4; i < 8; i++) {
        assert_true(signature_ok(x.head[i], x.body[i], secret));
        assert_int_equal(x.answered[i], 204);
    }
    for (int i = 0; i < x.n; i++) {
        char *fn = tl_asprintf("%s/webhook-incident-%d.json", f->dir, i);
        assert_int_equal(ts_write_file(fn, x.body[i]), 0);
        free(fn);
    }
    /* the report-only subscription got none of it; a decision still goes to it alone */
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries d JOIN"
                                   " webhook_subscriptions s ON s.id = d.subscription_id"
                                   " WHERE s.events = '{reports}'"),
                     0);
    texp_sql(f,
             "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'J-3'"
             " RETURNING 1");
    assert_int_equal(texp_count(f, "SELECT count(*) FROM webhook_deliveries d JOIN"
                                   " webhook_subscriptions s ON s.id = d.subscription_id"
                                   " WHERE d.report_id IS NOT NULL AND s.events = '{reports}'"),
                     1);
    assert_int_equal(
        texp_count(f, "SELECT count(*) FROM webhook_deliveries WHERE report_id IS NOT NULL"), 1);
    r = texp_get(f, "root", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(texp_run(NULL, "grep -Eq '\"changes\" ?: ?\\[\"created\"' '%s'", r.body_path),
                     0);
    texp_hres_release(&r);
    PQfinish(c);
    rx_stop(&x);
    texp_no_identity(f);
    free(n2);
    free(n3);
    free(n4);
    free(m);
    free(inc);
    free(i1);
    free(i2);
    free(i3);
    free(i4);
    free(secret);
    texp_fx_free(f);
}

const struct CMUnitTest texp_webhooks_tests[] = {
    cmocka_unit_test_teardown(test_export_webhook, texp_teardown),
    cmocka_unit_test(test_export_webhook_addresses),
    cmocka_unit_test_teardown(test_export_webhook_private_refused, texp_teardown),
    cmocka_unit_test_teardown(test_export_webhook_incident_changes, texp_teardown),
};
const size_t texp_webhooks_ntests = TS_NTESTS(texp_webhooks_tests);
