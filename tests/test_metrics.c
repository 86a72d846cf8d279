/* tests/test_metrics.c - the operators' endpoints after a scripted run on real parts: the
 * bot's runtime takes reports from the fake Bot API into a throwaway PostgreSQL, an
 * analyst claims and decides some over HTTP, and then /healthz, /readyz and /metrics
 * answer: the metrics parse (promtool check metrics, and a parser of the text format
 * here) and their values are the database's counts; readiness falls when no process
 * holds the poller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "storage/store.h"
#include "support/botrun.h"
#include "support/testsupport.h"
#include "web/web.h"

#define EI (&ei_)

static const char TOKEN[] = "tok-ana-0123456789abcdef";

struct hres {
    long status;
    struct tl_buf body;
    char ctype[128];
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    return tl_buf_append(ud, p, sz * n) ? 0 : sz * n;
}

/* One request to the server on port; body NULL: GET. */
static struct hres http(unsigned port, const char *path, const char *body)
{
    struct hres r = {0};
    tl_buf_init(&r.body, 8u << 20);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char *url = tl_asprintf("http://127.0.0.1:%u%s", port, path);
    struct curl_slist *h = NULL;
    char *auth = tl_asprintf("Authorization: Bearer %s", TOKEN);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    tl_strlcpy(r.ctype, ct ? ct : "", sizeof(r.ctype));
    if (!r.body.data)
        assert_int_equal(tl_buf_append(&r.body, "", 0), 0);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(auth);
    free(url);
    return r;
}

/* The value of the sample written exactly as key ("name" or "name{labels}") in a
 * Prometheus text body; fails the test when it is absent or not a number. Checks the
 * text format on the way: every line a comment or "key value". */
static double sample(const char *text, const char *key)
{
    const char *p = text;
    int found = 0;
    double v = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        assert_non_null(e); /* every line ends with a newline */
        size_t n = (size_t)(e - p);
        if (n && p[0] != '#') {
            const char *sp = memchr(p, ' ', n);
            assert_non_null(sp);
            char *end = NULL;
            double x = strtod(sp + 1, &end);
            assert_true(end == e); /* the value is the rest of the line */
            if ((size_t)(sp - p) == strlen(key) && memcmp(p, key, strlen(key)) == 0) {
                assert_false(found); /* one sample per name and labels */
                found = 1;
                v = x;
            }
        }
        p = e + 1;
    }
    if (!found)
        fail_msg("no sample %s in /metrics", key);
    return v;
}

static void check_db(const char *ci, const char *text, const char *key, const char *sql)
{
    double want = (double)ts_db_count(ci, sql);
    double got = sample(text, key);
    if (got != want)
        fail_msg("%s = %g, the database says %g (%s)", key, got, want, sql);
}

static void test_metrics_match_database(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_metrics");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 40, 8), TL_OK);
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);
    int64_t end = tl_now_ms() + 60000;
    while (ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'") < 120 &&
           tl_now_ms() < end)
        tl_sleep_ms(50, NULL);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 40);

    struct store *s = NULL;
    CHECK(store_open(ci, &s, EI));
    unsigned char md[32];
    unsigned int mdn = 0;
    char sha[65];
    assert_true(EVP_Digest(TOKEN, strlen(TOKEN), md, &mdn, EVP_sha256(), NULL));
    tl_hex(md, 32, sha);
    CHECK(store_account_add(s, "test", "ana", "analyst", sha, EI));
    struct web *w = NULL;
    struct web_opts o = {.cfg = &c, .listen = "127.0.0.1:0"};
    CHECK(web_start(&o, &w, EI));
    unsigned port = web_port(w);

    struct hres r = http(port, "/healthz", NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "ok\n");
    assert_non_null(strstr(r.ctype, "text/plain"));
    tl_buf_release(&r.body);
    r = http(port, "/readyz", NULL);
    assert_int_equal(r.status, 200); /* the runtime holds the poller */
    assert_non_null(strstr((char *)r.body.data, "poller held"));
    tl_buf_release(&r.body);

    /* the scripted analyst: five claims, three decisions */
    for (int i = 0; i < 5; i++) {
        r = http(port, "/api/queue/claim", "{}");
        assert_int_equal(r.status, 200);
        tl_buf_release(&r.body);
        char *id = ts_db_scalar(ci, "SELECT id FROM reports WHERE claimed_by = 'ana' AND "
                                    "status = 'new' ORDER BY id LIMIT 1");
        if (i < 3) {
            char *path = tl_asprintf("/api/reports/%s/decide", id);
            r = http(port, path,
                     i == 0 ? "{\"status\":\"confirmed\"}" : "{\"status\":\"rejected\"}");
            assert_int_equal(r.status, 200);
            tl_buf_release(&r.body);
            free(path);
        }
        free(id);
    }
    r = http(port, "/api/reports/999999/decide", "{\"status\":\"rejected\"}");
    assert_int_equal(r.status, 404);
    tl_buf_release(&r.body);

    /* the decisions' notices to their reporters go out (the relay): the run settles */
    end = tl_now_ms() + 30000;
    while (ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'") < 123 &&
           tl_now_ms() < end)
        tl_sleep_ms(50, NULL);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 123);

    r = http(port, "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain; version=0.0.4"));
    const char *m = (const char *)r.body.data;

    /* Prometheus' own checker, when installed (Debian's prometheus: deploy/setup.sh) */
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        char path[] = "/tmp/tipline-metrics-XXXXXX";
        close(mkstemp(path));
        assert_int_equal(ts_write_file(path, m), 0);
        char *cmd = tl_asprintf("promtool check metrics < %s >&2", path);
        int rc = system(cmd);
        free(cmd);
        unlink(path);
        assert_int_equal(rc, 0);
    } else {
        fprintf(stderr, "promtool is missing: the text format is checked by this test only\n");
    }

    assert_true(sample(m, "tipline_database_up") == 1);
    assert_true(sample(m, "tipline_poller_held") == 1);
    check_db(ci, m, "tipline_reports{status=\"new\"}",
             "SELECT count(*) FROM reports WHERE status = 'new'");
    check_db(ci, m, "tipline_reports{status=\"confirmed\"}",
             "SELECT count(*) FROM reports WHERE status = 'confirmed'");
    check_db(ci, m, "tipline_reports{status=\"rejected\"}",
             "SELECT count(*) FROM reports WHERE status = 'rejected'");
    assert_true(sample(m, "tipline_reports{status=\"rejected\"}") == 2);
    check_db(ci, m, "tipline_inbox_updates{state=\"processed\"}",
             "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL");
    check_db(ci, m, "tipline_inbox_updates{state=\"pending\"}",
             "SELECT count(*) FROM inbox WHERE processed_at IS NULL");
    check_db(ci, m, "tipline_update_offset", "SELECT update_offset FROM bot_state");
    assert_true(sample(m, "tipline_update_offset") == 81);
    check_db(ci, m, "tipline_outbox_messages{state=\"sent\"}",
             "SELECT count(*) FROM outbox WHERE state = 'sent'");
    check_db(ci, m, "tipline_outbox_messages{state=\"failed\"}",
             "SELECT count(*) FROM outbox WHERE state = 'failed'");
    check_db(ci, m, "tipline_media_stored", "SELECT count(*) FROM media");
    assert_true(sample(m, "tipline_claim_seconds_count") == 5);
    assert_true(sample(m, "tipline_claim_seconds_bucket{le=\"+Inf\"}") == 5);
    assert_true(sample(m, "tipline_decide_seconds_count") == 4);
    assert_true(sample(m, "tipline_claim_seconds_sum") > 0);
    /* healthz, readyz, 5 claims, 3 decisions: 2xx; the unknown report: 4xx */
    assert_true(sample(m, "tipline_http_responses_total{class=\"2xx\"}") == 10);
    assert_true(sample(m, "tipline_http_responses_total{class=\"4xx\"}") == 1);
    tl_buf_release(&r.body);

    /* no process holds the poller any more: not ready */
    tb_stop();
    /* (the poller's backend ends a moment after its connection closes) */
    end = tl_now_ms() + 5000;
    for (;;) {
        r = http(port, "/readyz", NULL);
        if (r.status != 200 || tl_now_ms() > end)
            break;
        tl_buf_release(&r.body);
        tl_sleep_ms(50, NULL);
    }
    assert_int_equal(r.status, 503);
    assert_non_null(strstr((char *)r.body.data, "poller none"));
    tl_buf_release(&r.body);
    r = http(port, "/metrics", NULL);
    assert_true(sample((const char *)r.body.data, "tipline_poller_held") == 0);
    tl_buf_release(&r.body);

    web_free(w);

    /* in webhook mode no poller is wanted: intake is healthy while the inbox keeps up */
    free(c.webhook_listen);
    c.webhook_listen = tl_strdup("127.0.0.1:0");
    CHECK(web_start(&o, &w, EI));
    r = http(web_port(w), "/readyz", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr((char *)r.body.data, "webhook inbox_lag_seconds 0 (ok)"));
    tl_buf_release(&r.body);
    web_free(w);
    store_free(s);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_metrics");
    free(ci);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_match_database, tb_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
