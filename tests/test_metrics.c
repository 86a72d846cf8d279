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
#include "storage/store_web.h"
#include "support/botrun.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"

#define EI (&ei_)

static const char TOKEN[] = "tok-ana-0123456789abcdef";

static void check_db(const char *ci, const char *text, const char *key, const char *sql)
{
    double want = (double)ts_db_count(ci, sql);
    double got = ts_prom_sample(text, key);
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

    struct ts_hres r = ts_http(port, "/healthz", TOKEN, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal((char *)r.body.data, "ok\n");
    assert_non_null(strstr(r.ctype, "text/plain"));
    tl_buf_release(&r.body);
    r = ts_http(port, "/readyz", TOKEN, NULL);
    assert_int_equal(r.status, 200); /* the runtime holds the poller */
    assert_non_null(strstr((char *)r.body.data, "poller held"));
    tl_buf_release(&r.body);

    /* the scripted analyst: five claims, three decisions */
    for (int i = 0; i < 5; i++) {
        r = ts_http(port, "/api/queue/claim", TOKEN, "{}");
        assert_int_equal(r.status, 200);
        tl_buf_release(&r.body);
        char *id = ts_db_scalar(ci, "SELECT id FROM reports WHERE claimed_by = 'ana' AND "
                                    "status = 'new' ORDER BY id LIMIT 1");
        if (i < 3) {
            char *path = tl_asprintf("/api/reports/%s/decide", id);
            r = ts_http(port, path, TOKEN,
                        i == 0 ? "{\"status\":\"confirmed\"}" : "{\"status\":\"rejected\"}");
            assert_int_equal(r.status, 200);
            tl_buf_release(&r.body);
            free(path);
        }
        free(id);
    }
    r = ts_http(port, "/api/reports/999999/decide", TOKEN, "{\"status\":\"rejected\"}");
    assert_int_equal(r.status, 404);
    tl_buf_release(&r.body);

    /* the decisions' notices to their reporters go out (the relay): the run settles */
    end = tl_now_ms() + 30000;
    while (ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'") < 123 &&
           tl_now_ms() < end)
        tl_sleep_ms(50, NULL);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 123);

    /* two of the queued reports flagged by moderation, one of them resolved */
    assert_int_equal(ts_db_count(ci, "WITH f AS (INSERT INTO mod_verdicts (report_id, verdict)"
                                     " SELECT id, 'flag' FROM reports WHERE status = 'new'"
                                     " ORDER BY id LIMIT 2 RETURNING report_id)"
                                     " SELECT count(*) FROM f"),
                     2);
    assert_int_equal(ts_db_count(ci, "WITH u AS (UPDATE mod_verdicts SET resolution = 'released'"
                                     " WHERE report_id = (SELECT min(report_id) FROM mod_verdicts)"
                                     " RETURNING 1) SELECT count(*) FROM u"),
                     1);

    r = ts_http(port, "/metrics", TOKEN, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain; version=0.0.4"));
    const char *m = (const char *)r.body.data;

    ts_promtool_check(m);

    assert_true(ts_prom_sample(m, "tipline_database_up") == 1);
    assert_true(ts_prom_sample(m, "tipline_poller_held") == 1);
    check_db(ci, m, "tipline_reports{status=\"new\"}",
             "SELECT count(*) FROM reports WHERE status = 'new'");
    check_db(ci, m, "tipline_reports{status=\"confirmed\"}",
             "SELECT count(*) FROM reports WHERE status = 'confirmed'");
    check_db(ci, m, "tipline_reports{status=\"rejected\"}",
             "SELECT count(*) FROM reports WHERE status = 'rejected'");
    assert_true(ts_prom_sample(m, "tipline_reports{status=\"rejected\"}") == 2);
    check_db(ci, m, "tipline_inbox_updates{state=\"processed\"}",
             "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL");
    check_db(ci, m, "tipline_inbox_updates{state=\"pending\"}",
             "SELECT count(*) FROM inbox WHERE processed_at IS NULL");
    check_db(ci, m, "tipline_update_offset", "SELECT update_offset FROM bot_state");
    assert_true(ts_prom_sample(m, "tipline_update_offset") == 81);
    check_db(ci, m, "tipline_outbox_messages{state=\"sent\"}",
             "SELECT count(*) FROM outbox WHERE state = 'sent'");
    check_db(ci, m, "tipline_outbox_messages{state=\"failed\"}",
             "SELECT count(*) FROM outbox WHERE state = 'failed'");
    check_db(ci, m, "tipline_media_stored", "SELECT count(*) FROM media");
    check_db(ci, m, "tipline_moderation_verdicts{verdict=\"flag\"}",
             "SELECT count(*) FROM mod_verdicts WHERE verdict = 'flag'");
    assert_true(ts_prom_sample(m, "tipline_moderation_verdicts{verdict=\"flag\"}") >= 2);
    check_db(ci, m, "tipline_moderation_verdicts{verdict=\"hold\"}",
             "SELECT count(*) FROM mod_verdicts WHERE verdict = 'hold'");
    check_db(ci, m, "tipline_moderation_open",
             "SELECT count(*) FROM mod_verdicts WHERE resolution IS NULL");
    check_db(ci, m, "tipline_moderation_campaigns_held",
             "SELECT count(*) FROM mod_campaigns WHERE status = 'held'");
    assert_true(ts_prom_sample(m, "tipline_claim_seconds_count") == 5);
    assert_true(ts_prom_sample(m, "tipline_claim_seconds_bucket{le=\"+Inf\"}") == 5);
    assert_true(ts_prom_sample(m, "tipline_decide_seconds_count") == 4);
    assert_true(ts_prom_sample(m, "tipline_claim_seconds_sum") > 0);
    /* healthz, readyz, 5 claims, 3 decisions: 2xx; the unknown report: 4xx */
    assert_true(ts_prom_sample(m, "tipline_http_responses_total{class=\"2xx\"}") == 10);
    assert_true(ts_prom_sample(m, "tipline_http_responses_total{class=\"4xx\"}") == 1);
    tl_buf_release(&r.body);

    /* no process holds the poller any more: not ready */
    tb_stop();
    /* (the poller's backend ends a moment after its connection closes) */
    end = tl_now_ms() + 5000;
    for (;;) {
        r = ts_http(port, "/readyz", TOKEN, NULL);
        if (r.status != 200 || tl_now_ms() > end)
            break;
        tl_buf_release(&r.body);
        tl_sleep_ms(50, NULL);
    }
    assert_int_equal(r.status, 503);
    assert_non_null(strstr((char *)r.body.data, "poller none"));
    tl_buf_release(&r.body);
    r = ts_http(port, "/metrics", TOKEN, NULL);
    assert_true(ts_prom_sample((const char *)r.body.data, "tipline_poller_held") == 0);
    tl_buf_release(&r.body);

    web_free(w);

    /* in webhook mode no poller is wanted: intake is healthy while the inbox keeps up */
    free(c.webhook_listen);
    c.webhook_listen = tl_strdup("127.0.0.1:0");
    CHECK(web_start(&o, &w, EI));
    r = ts_http(web_port(w), "/readyz", TOKEN, NULL);
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
