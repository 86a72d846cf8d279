/* tests/test_replica.c - reads from a real streaming replica: pg_basebackup copies the
 * throwaway cluster (tests/pgreplica.sh) and a hot standby streams from it. tipline web
 * with database_replica_url reads the console's list, the export feed and the tiles from
 * the replica (shown by pausing its replay: what the primary wrote since is missing from
 * them) while a claim and an opened report read the primary (they see it), and the
 * feed's audit row lands on the primary; then, with a 1 s bound, the paused replica lags
 * past it and the reads go to the primary; replay resumes and they come back; the
 * replica stops and they go to the primary again. /metrics shows the lag and the reads.
 * `tipline export` reads the replica once it has caught up, the primary while it lags,
 * and audits on the primary either way. */
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

#include "common/cfg.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"

#define ANA "tok-ana-0123456789abcdef"
#define EXA "tok-exa-0123456789abcdef"

static char *g_rep_state;

static void replica(const char *verb)
{
    int start = strcmp(verb, "start") == 0;
    char *cmd = tl_asprintf("%s/tests/pgreplica.sh %s %s %s >&2", getenv("TL_SOURCE_DIR"), verb,
                            start ? getenv("TL_PG_STATE") : "", g_rep_state);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static int teardown(void **state)
{
    (void)state;
    if (g_rep_state)
        replica("stop");
    return 0;
}

static void account(struct store *s, const char *name, const char *role, const char *tok)
{
    unsigned char md[32];
    unsigned int n = 0;
    char sha[65];
    assert_true(EVP_Digest(tok, strlen(tok), md, &n, EVP_sha256(), NULL));
    tl_hex(md, 32, sha);
    CHECK(store_account_add(s, "test", name, role, sha, EI));
}

/* Report ref with status ('new', or decided 'confirmed'). */
static void report(const char *ci, const char *ref, const char *status)
{
    char *sql = tl_asprintf(
        "INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
        " accuracy_m, status, decided_by, decided_at) VALUES ('%s', 'rep-pseudonym', 'shelling',"
        " 'replica test', ST_SetSRID(ST_MakePoint(30.5, 50.4), 4326)::geography,"
        " 'telegram_location', 10, '%s', %s, %s) RETURNING 1",
        ref, status, strcmp(status, "new") ? "'ana'" : "NULL",
        strcmp(status, "new") ? "now()" : "NULL");
    free(ts_db_scalar(ci, sql));
    free(sql);
}

static double metric(unsigned port, const char *key)
{
    struct ts_hres r = ts_http(port, "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    double v = ts_prom_sample((const char *)r.body.data, key);
    tl_buf_release(&r.body);
    return v;
}

/* Waits up to 15 s for /metrics' key to read want (above: more than want). */
static void wait_metric_cmp(unsigned port, const char *key, double want, int above)
{
    int64_t end = tl_now_ms() + 15000;
    for (;;) {
        double v = metric(port, key);
        if (above ? v > want : v == want)
            break;
        if (tl_now_ms() > end)
            fail_msg("%s never read %g", key, want);
        tl_sleep_ms(100, NULL);
    }
}

static void wait_metric(unsigned port, const char *key, double want)
{
    wait_metric_cmp(port, key, want, 0);
}

/* GET path as token: asserts 200 and returns whether the body names ref. */
static int shows(unsigned port, const char *path, const char *token, const char *ref)
{
    struct ts_hres r = ts_http(port, path, token, NULL);
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, (char *)r.body.data);
    char *q = tl_asprintf("\"%s\"", ref);
    int found = strstr((const char *)r.body.data, q) != NULL;
    free(q);
    tl_buf_release(&r.body);
    return found;
}

/* `tipline export` (GeoJSON to stdout) on the primary ci with the replica rci and a lag
 * bound of 1 s: asserts it succeeded, whether it names ref, and what it logged. */
static int cli_export(const char *ci, const char *rci, const char *ref, const char *logged)
{
    char *log = ts_build_path("test_replica_export.log");
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' TIPLINE_DATABASE_REPLICA_URL='%s' "
                            "TIPLINE_REPLICA_MAX_LAG_SECONDS=1 TIPLINE_LOG_LEVEL=info "
                            "USER=test %s export --format geojson 2>%s",
                            ci, rci, getenv("TL_TIPLINE_BIN"), log);
    char *out = NULL;
    assert_int_equal(ts_run(cmd, &out), 0);
    char *err = ts_read_file(log, NULL);
    if (!strstr(err, logged))
        fail_msg("tipline export did not log \"%s\": %s", logged, err);
    char *q = tl_asprintf("\"%s\"", ref);
    int found = strstr(out, q) != NULL;
    free(q);
    free(err);
    free(out);
    free(cmd);
    free(log);
    return found;
}

static void test_replica_reads_and_fallback(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_replica");
    assert_non_null(ci);
    struct store *s = NULL;
    CHECK(store_open(ci, &s, EI));
    account(s, "ana", "analyst", ANA);
    account(s, "exa", "exporter", EXA);
    free(
        ts_db_scalar(ci, "INSERT INTO reporters (pseudonym) VALUES ('rep-pseudonym') RETURNING 1"));
    for (int i = 1; i <= 5; i++) {
        char ref[16];
        snprintf(ref, sizeof(ref), "R-%d", i);
        report(ci, ref, "confirmed");
    }

    /* the replica, as an operator makes one */
    g_rep_state = ts_build_path("pgreplica.state");
    replica("start");
    char *dir = ts_read_file(g_rep_state, NULL);
    dir[strcspn(dir, "\n")] = 0;
    char *rci = tl_asprintf("host=%s port=5432 user=postgres dbname=t_replica", dir);
    assert_int_equal(ts_db_count(rci, "SELECT count(*) FROM reports"), 5);
    assert_int_equal(ts_db_count(rci, "SELECT pg_is_in_recovery()::int"), 1);

    struct cfg c;
    struct tl_errinfo ei;
    assert_int_equal(cfg_load(&c, NULL, &ei), TL_OK);
    free(c.database_url);
    c.database_url = tl_strdup(ci);
    free(c.database_replica_url);
    c.database_replica_url = tl_strdup(rci);
    c.replica_max_lag_seconds = 600;
    c.web_auth_cache_seconds = 0;
    struct web *w = NULL;
    struct web_opts o = {.cfg = &c, .listen = "127.0.0.1:0"};
    CHECK(web_start(&o, &w, EI));
    unsigned port = web_port(w);
    wait_metric(port, "tipline_replica_usable", 1);
    assert_true(shows(port, "/api/reports", ANA, "R-5"));
    assert_true(metric(port, "tipline_reads_total{database=\"replica\"}") == 1);

    /* the replica stops replaying; the primary takes R-6 (confirmed) and R-7 (new) */
    free(ts_db_scalar(rci, "SELECT pg_wal_replay_pause()::text"));
    int64_t end = tl_now_ms() + 10000;
    while (ts_db_count(rci, "SELECT (pg_get_wal_replay_pause_state() = 'paused')::int") != 1) {
        assert_true(tl_now_ms() < end);
        tl_sleep_ms(20, NULL);
    }
    report(ci, "R-6", "confirmed");
    report(ci, "R-7", "new");
    assert_int_equal(ts_db_count(rci, "SELECT count(*) FROM reports"), 5);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'export'"), 0);
    /* the reads come from the replica: they lack both */
    assert_false(shows(port, "/api/reports", ANA, "R-7"));
    assert_false(shows(port, "/api/export/reports.geojson", EXA, "R-6"));
    assert_true(shows(port, "/api/export/reports.geojson?category=shelling", EXA, "R-5"));
    struct ts_hres r = ts_http(port, "/api/tiles/0/0/0.mvt", EXA, NULL);
    assert_int_equal(r.status, 200);
    tl_buf_release(&r.body);
    /* ... and their audit rows went to the primary (a replica takes no writes) */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'export'"), 2);
    /* a claim, and a report opened, read the primary: they */
    r = ts_http(port, "/api/queue/claim", ANA, "{}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr((const char *)r.body.data, "\"R-7\""));
    tl_buf_release(&r.body);
    assert_true(shows(port, "/api/reports/R-6", ANA, "R-6"));
    assert_true(metric(port, "tipline_reads_total{database=\"replica\"}") == 5);
    assert_true(metric(port, "tipline_reads_total{database=\"primary\"}") == 0);
    wait_metric_cmp(port, "tipline_replica_lag_bytes", 0, 1);
    web_free(w);

    /* a 1 s bound: the paused replica falls behind it and reads go to the primary */
    c.replica_max_lag_seconds = 1;
    CHECK(web_start(&o, &w, EI));
    port = web_port(w);
    int64_t t_lag = tl_now_ms();
    wait_metric_cmp(port, "tipline_replica_lag_seconds", 1, 1);
    wait_metric(port, "tipline_replica_usable", 0);
    fprintf(stderr, "paused replica: reads on the primary after %lld ms (bound 1 s)\n",
            (long long)(tl_now_ms() - t_lag));
    assert_true(metric(port, "tipline_replica_up") == 1);
    assert_true(metric(port, "tipline_replica_lag_seconds") > 1);
    double before = metric(port, "tipline_reads_total{database=\"replica\"}");
    assert_true(shows(port, "/api/reports", ANA, "R-7"));
    assert_true(shows(port, "/api/export/reports.geojson", EXA, "R-6"));
    assert_true(metric(port, "tipline_reads_total{database=\"primary\"}") == 2);
    assert_true(metric(port, "tipline_reads_total{database=\"replica\"}") == before);
    /* the command line's export waits its bound for the replica, then reads the primary */
    long long audits = ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'export'");
    assert_true(cli_export(ci, rci, "R-6", "reading the primary"));

    /* replay resumes: the replica catches up and takes the reads again */
    free(ts_db_scalar(rci, "SELECT pg_wal_replay_resume()::text"));
    int64_t t_resume = tl_now_ms();
    wait_metric(port, "tipline_replica_usable", 1);
    fprintf(stderr, "replay resumed: reads on the replica after %lld ms\n",
            (long long)(tl_now_ms() - t_resume));
    assert_true(metric(port, "tipline_replica_lag_seconds") <= 1);
    assert_true(shows(port, "/api/reports", ANA, "R-7"));
    assert_true(metric(port, "tipline_reads_total{database=\"replica\"}") == before + 1);
    assert_true(cli_export(ci, rci, "R-6", "reading the replica"));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'export'"),
                     audits + 2);

    /* the replica stops: reads go to the primary, without an error */
    replica("pause");
    int64_t t_down = tl_now_ms();
    wait_metric(port, "tipline_replica_up", 0);
    fprintf(stderr, "replica stopped: reads on the primary after %lld ms\n",
            (long long)(tl_now_ms() - t_down));
    assert_true(metric(port, "tipline_replica_usable") == 0);
    assert_true(shows(port, "/api/reports", ANA, "R-7"));
    assert_true(shows(port, "/api/export/reports.geojson", EXA, "R-6"));
    assert_true(metric(port, "tipline_reads_total{database=\"primary\"}") == 4);
    /* ... and come back to it when it is back (its old connections dropped, not failed) */
    replica("resume");
    int64_t t_up = tl_now_ms();
    wait_metric(port, "tipline_replica_usable", 1);
    fprintf(stderr, "replica back: reads on it after %lld ms\n", (long long)(tl_now_ms() - t_up));
    assert_true(shows(port, "/api/reports", ANA, "R-7"));
    assert_true(metric(port, "tipline_reads_total{database=\"replica\"}") == before + 2);
    assert_true(metric(port, "tipline_http_responses_total{class=\"5xx\"}") == 0);

    web_free(w);
    cfg_release(&c);
    store_free(s);
    replica("stop");
    free(g_rep_state);
    g_rep_state = NULL;
    free(rci);
    free(dir);
    ts_db_drop("t_replica");
    free(ci);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_replica_reads_and_fallback, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
