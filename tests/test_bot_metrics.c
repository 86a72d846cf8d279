/* tests/test_bot_metrics.c - the bot process's own /metrics: a real `tipline bot` with
 * metrics_listen on loopback takes a scripted run from the fake Bot API (reports in five
 * chats, one of which blocked the bot, a photo it keeps, a file it cannot clean, and
 * every fourth sending call answered 429, one refused for good); its counters read zero before and,
 * after, what the database and the fake's own record of answers say happened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/util.h"
#include "fakebot/fakebot.h"
#include "fakebot/photos.h"
#include "support/botproc.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"

#define N_REPORTS 10
#define N_CHATS 5
#define BLOCKED_CHAT 1000005 /* the fifth of fakebot's synthetic chats */

static pid_t g_bot;

static int teardown(void **state)
{
    (void)state;
    bp_kill(&g_bot);
    return 0;
}

/* Spawns the bot with its metrics listener and waits until it listens; returns the port. */
static unsigned spawn_with_metrics(const char *ci, struct fakebot *fb, const char *key,
                                   const char *log)
{
    unsigned port = bp_free_port();
    char *listen = tl_asprintf("TIPLINE_METRICS_LISTEN=127.0.0.1:%u", port);
    const char *const extra[] = {listen, NULL};
    assert_int_equal(ts_write_file(log, ""), 0);
    g_bot = bp_spawn(ci, fb, key, log, extra);
    free(listen);
    int64_t end = tl_now_ms() + 15000;
    for (;;) {
        char *text = ts_read_file(log, NULL);
        int up = strstr(text, "metrics listening") != NULL;
        free(text);
        if (up)
            return port;
        assert_true(tl_now_ms() < end);
        tl_sleep_ms(50, NULL);
    }
}

/* The pseudonym key file the bot reads: a new file under /tmp, its path in key. */
static void key_file(char key[24])
{
    tl_strlcpy(key, "/tmp/tipline-key-XXXXXX", 24);
    close(mkstemp(key));
    assert_int_equal(ts_write_file(key, "bot-metrics-secret-bot-metrics-secret"), 0);
}

static char *scrape(unsigned port)
{
    struct ts_hres r = ts_http(port, "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "text/plain; version=0.0.4"));
    return (char *)tl_buf_steal(&r.body, NULL);
}

/* Answers of the fake with this HTTP status to the sending methods. */
static long long answers(struct fakebot *fb, int status)
{
    char *j = fakebot_answers_json(fb);
    assert_non_null(j);
    struct json_object *a = json_tokener_parse(j), *st;
    assert_non_null(a);
    long long n = 0;
    for (size_t i = 0; i < json_object_array_length(a); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(a, i), "status", &st) &&
            json_object_get_int(st) == status)
            n++;
    json_object_put(a);
    free(j);
    return n;
}

static void push_photo(struct fakebot *fb, long long chat, const char *file_id)
{
    char *u = tl_asprintf("{\"message\":{\"message_id\":9%lld,\"date\":1,\"chat\":{\"id\":%lld,"
                          "\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"P\"},\"photo\":[{\"file_id\":\"%s\",\"file_unique_id\":"
                          "\"u-%s\",\"width\":160,\"height\":120}]}}",
                          chat, chat, chat, file_id, file_id);
    assert_true(fakebot_push_update(fb, u) > 0);
    free(u);
}

static void test_bot_metrics_move_with_a_run(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_bot_metrics");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1, .every_429 = 4, .retry_after = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    fakebot_set_blocked_chat(fb, BLOCKED_CHAT);
    size_t len;
    unsigned char *rgb = fx_photo_rgb(160, 120, 7);
    unsigned char *jpeg = fx_jpeg_encode(rgb, 160, 120, 85, &len);
    free(rgb);
    assert_int_equal(fakebot_add_file(fb, "good", jpeg, len), TL_OK);
    free(jpeg);
    static const char junk[] = "this is no picture at all, whatever its name says";
    assert_int_equal(fakebot_add_file(fb, "junk", junk, sizeof(junk)), TL_OK);

    char key[24];
    key_file(key);
    char *log = ts_build_path("test_bot_metrics.log");
    unsigned port = spawn_with_metrics(ci, fb, key, log);

    /* before: the process runs, nothing happened */
    char *m = scrape(port);
    ts_promtool_check(m);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_received_total") == 0);
    assert_true(ts_prom_sample(m, "tipline_bot_replies_sent_total") == 0);
    assert_true(ts_prom_sample(m, "tipline_bot_handle_seconds_count") == 0);
    free(m);
    struct ts_hres r = ts_http(port, "/nothing", NULL, NULL);
    assert_int_equal(r.status, 404);
    tl_buf_release(&r.body);

    /* the run; the first reply meets "Bad Request: chat not found" */
    fakebot_inject(fb, "sendMessage", FB_400, 1, 0);
    assert_int_equal(fakebot_push_synthetic_sent(fb, N_REPORTS, N_CHATS), TL_OK);
    push_photo(fb, 1000001, "good");
    push_photo(fb, 1000002, "junk");
    const long long n_updates = 2 * N_REPORTS + 2;
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", n_updates,
                  60000);
    bp_wait_count(ci,
                  "SELECT count(*) FROM outbox WHERE state IN ('sent', 'failed') AND "
                  "NOT EXISTS (SELECT 1 FROM outbox WHERE state IN ('pending', 'sending'))",
                  ts_db_count(ci, "SELECT count(*) FROM outbox"), 60000);
    tl_sleep_ms(300, NULL); /* the last recorded outcome is counted right after its commit */

    m = scrape(port);
    ts_promtool_check(m);
    assert_true(ts_prom_sample(m, "tipline_bot_poller_held") == 1);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_received_total") == n_updates);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_stored_total") == n_updates);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_handled_total") == n_updates);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_poisoned_total") == 0);
    assert_true(ts_prom_sample(m, "tipline_bot_reports_total") == N_REPORTS);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), N_REPORTS);
    assert_true(ts_prom_sample(m, "tipline_bot_media_kept_total") == 1);
    assert_true(ts_prom_sample(m, "tipline_bot_media_refused_total") == 1);
    /* replies: as the database recorded them and as Telegram (the fake) answered them */
    double sent = ts_prom_sample(m, "tipline_bot_replies_sent_total");
    assert_true(sent == ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'sent'"));
    assert_true(sent == answers(fb, 200));
    long long n429 = answers(fb, 429), n403 = answers(fb, 403);
    assert_true(n429 > 0 && n403 > 0);
    assert_true(ts_prom_sample(m, "tipline_bot_telegram_429_total") == n429);
    assert_true(ts_prom_sample(m, "tipline_bot_replies_retried_total") == n429);
    assert_true(ts_prom_sample(m, "tipline_bot_replies_blocked_total") == n403);
    /* the chat's other replies are dropped by storage once it blocked: no call, no count */
    assert_true(ts_prom_sample(m, "tipline_bot_replies_failed_total") ==
                ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state = 'failed' AND "
                                "last_error NOT LIKE '%blocked%'"));
    assert_true(ts_prom_sample(m, "tipline_bot_replies_failed_total") == 1);
    double batches = ts_prom_sample(m, "tipline_bot_handle_seconds_count");
    assert_true(batches >= N_CHATS && batches <= n_updates);
    assert_true(ts_prom_sample(m, "tipline_bot_handle_seconds_bucket{le=\"+Inf\"}") == batches);
    assert_true(ts_prom_sample(m, "tipline_bot_handle_seconds_sum") > 0);
    free(m);
    /* the photo index in memory: loaded, holding every stored hash once it has read them
     * (one more stored beside the bot's) */
    free(ts_db_scalar(ci, "INSERT INTO media (report_id, kind, sha256, mime, size, phash) "
                          "SELECT min(id), 'photo', encode(sha256('m'::bytea), 'hex'), "
                          "'image/jpeg', 1, 4242 FROM reports RETURNING 1"));
    long long hashes = ts_db_count(ci, "SELECT count(*) FROM media WHERE phash IS NOT NULL");
    assert_true(hashes >= 1);
    for (int t = 0; t < 100; t++) {
        m = scrape(port);
        if (ts_prom_sample(m, "tipline_bot_near_index_hashes") == hashes)
            break;
        free(m);
        m = NULL;
        tl_sleep_ms(100, NULL);
    }
    assert_non_null(m);
    ts_promtool_check(m);
    assert_true(ts_prom_sample(m, "tipline_bot_near_index_loaded") == 1);
    assert_true(ts_prom_sample(m, "tipline_bot_near_index_bytes") > 4e6); /* its buckets */
    assert_true(ts_prom_sample(m, "tipline_bot_near_index_spare_bytes") >= 0);
    assert_true(ts_prom_sample(m, "tipline_bot_near_index_age_seconds") < 30);
    assert_true(ts_prom_sample(m, "tipline_bot_near_index_reloads_total") == 0);
    free(m);

    bp_term(&g_bot);
    free(log);
    unlink(key);
    fakebot_stop(fb);
    ts_db_drop("t_bot_metrics");
    free(ci);
}

/* Every tipline_* name in s into names (a JSON array), once. */
static void names_in(const char *s, struct json_object *names)
{
    for (const char *p = strstr(s, "tipline_"); p; p = strstr(p, "tipline_")) {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
        char *name = tl_strndup(p, n);
        int seen = 0;
        for (size_t i = 0; i < json_object_array_length(names); i++)
            seen |= strcmp(json_object_get_string(json_object_array_get_idx(names, i)), name) == 0;
        if (!seen)
            json_object_array_add(names, json_object_new_string(name));
        free(name);
        p += n;
    }
}

/* The queries of every panel (rows hold none; collapsed rows keep theirs inside). */
static void queries_of(struct json_object *panels, struct json_object *names, int *n_panels)
{
    for (size_t i = 0; i < json_object_array_length(panels); i++) {
        struct json_object *p = json_object_array_get_idx(panels, i), *v, *t, *e;
        if (json_object_object_get_ex(p, "panels", &v))
            queries_of(v, names, n_panels);
        assert_true(json_object_object_get_ex(p, "type", &t));
        if (strcmp(json_object_get_string(t), "row") == 0)
            continue;
        (*n_panels)++;
        assert_true(json_object_object_get_ex(p, "targets", &v));
        assert_true(json_object_array_length(v) > 0);
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            assert_true(json_object_object_get_ex(json_object_array_get_idx(v, k), "expr", &e));
            names_in(json_object_get_string(e), names);
        }
    }
}

static void test_bot_metrics_dashboard_queries_exist(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_bot_dashboard");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    char key[24];
    key_file(key);
    char *log = ts_build_path("test_bot_dashboard.log");
    unsigned bport = spawn_with_metrics(ci, fb, key, log);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 3, 1), TL_OK); /* some reports exist */
    bp_wait_count(ci, "SELECT count(*) FROM reports", 3, 60000);

    struct cfg c;
    struct tl_errinfo ei;
    assert_int_equal(cfg_load(&c, NULL, &ei), TL_OK);
    free(c.database_url);
    c.database_url = tl_strdup(ci);
    free(c.database_replica_url); /* configured (its gauges exist), never reachable */
    c.database_replica_url = tl_strdup("host=/nonexistent-tipline-replica dbname=x");
    struct web *w = NULL;
    struct web_opts o = {.cfg = &c, .listen = "127.0.0.1:0"};
    CHECK(web_start(&o, &w, EI));
    struct ts_hres r = ts_http(web_port(w), "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    char *web_text = (char *)tl_buf_steal(&r.body, NULL);
    ts_promtool_check(web_text);
    char *bot_text = scrape(bport);

    char *path = tl_asprintf("%s/deploy/grafana/tipline.json", getenv("TL_SOURCE_DIR"));
    struct json_object *dash = json_object_from_file(path), *panels,
                       *names = json_object_new_array();
    assert_non_null(dash);
    assert_true(json_object_object_get_ex(dash, "panels", &panels));
    int n_panels = 0;
    queries_of(panels, names, &n_panels);
    size_t n = json_object_array_length(names), missing = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(names, i));
        if (!ts_prom_has(web_text, name) && !ts_prom_has(bot_text, name)) {
            fprintf(stderr, "the dashboard asks for %s, which no scrape has\n", name);
            missing++;
        }
    }
    fprintf(stderr, "dashboard: %d panels, %zu metric names, all scraped\n", n_panels, n);
    assert_true(n_panels >= 10 && n >= 25);
    assert_int_equal(missing, 0);

    json_object_put(names);
    json_object_put(dash);
    free(path);
    free(bot_text);
    free(web_text);
    web_free(w);
    cfg_release(&c);
    bp_term(&g_bot);
    free(log);
    unlink(key);
    fakebot_stop(fb);
    ts_db_drop("t_bot_dashboard");
    free(ci);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bot_metrics_move_with_a_run, teardown),
        cmocka_unit_test_teardown(test_bot_metrics_dashboard_queries_exist, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
