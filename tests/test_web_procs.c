/* tests/test_web_procs.c - test_web: the CLI (user add, queue routing), `tipline serve`
 * and `tipline web` as processes (SIGHUP, SIGTERM), and a database outage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "fakebot/fakebot.h"
#include "web/web.h"
#include "test_web_int.h"
#include "common/banned.h"

/* ---- the CLI: tipline user add prints a token that works ---- */

static void test_web_cli_user_add(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct fx *f = tweb_fx_new("t_web_cli", NULL);
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s user add zoe --role moderator"
                            " 2>/dev/null",
                            f->ci, bin);
    char *tok = NULL;
    assert_int_equal(ts_run(cmd, &tok), 0);
    tok[strcspn(tok, "\n")] = 0;
    assert_true(strncmp(tok, "tl_", 3) == 0 && strlen(tok) == 47);
    char sha[65];
    tweb_sha256_hex(tok, sha);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM api_tokens WHERE account = 'zoe' AND"
                                " token_sha256 = '%s'",
                                sha),
                     1);
    /* log in with it */
    char *body = tl_asprintf("{\"token\":\"%s\"}", tok);
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "role"), "moderator");
    json_object_put(o);
    tweb_hres_release(&r);
    free(body);
    free(tok);
    free(cmd);
    /* listed, with its last use (the login above) */
    cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s user list", f->ci, bin);
    char *list = NULL;
    assert_int_equal(ts_run(cmd, &list), 0);
    int found = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        found |= strncmp(line, "zoe ", 4) == 0 && strstr(line, " moderator ") &&
                 strstr(line, " active ") && !strstr(line, "never");
    free(list);
    assert_true(found);
    free(cmd);
    cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s user disable zoe", f->ci, bin);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM accounts WHERE name = 'zoe' AND disabled"),
                     1);
    tweb_fx_free(f);
}

int tweb_tipline(struct fx *f, const char *args, char **out)
{
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' %s %s 2>/dev/null", f->ci,
                            getenv("TL_TIPLINE_BIN"), args);
    int st = ts_run(cmd, out);
    free(cmd);
    return st;
}

static void test_web_cli_queue_routing(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct fx *f = tweb_fx_new("t_web_cli_queue", NULL);
    long long id = tweb_seed_simple(f, "RT-1"); /* drones, open */
    assert_int_equal(tweb_tipline(f, "queue add ops --restricted", NULL), 0);
    assert_int_equal(tweb_tipline(f, "queue route drones ops --moving", NULL), 0);
    assert_int_equal(tweb_tipline(f, "queue route drones nowhere", NULL), 1);
    /* the open report moved with its category: hidden from non-members */
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE id = %lld AND queue = 'ops'", id), 1);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/reports/RT-1", .as = "alice"}, 404,
                "not_found");
    long long id2 = tweb_seed_simple(f, "RT-2"); /* new reports are routed by the trigger */
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE id = %lld AND queue = 'ops'", id2), 1);
    assert_int_equal(tweb_tipline(f, "user queue alice ops", NULL), 0);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/reports/RT-1", .as = "alice"}, 200,
                NULL);
    char *out = NULL;
    assert_int_equal(tweb_tipline(f, "queue list", &out), 0);
    assert_non_null(strstr(out, "ops              restricted      2  drones  alice"));
    free(out);
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/categories", .as = "exa"});
    assert_non_null(strstr((char *)r.body.data,
                           "{\"id\" : \"drones\", \"queue\" : \"ops\", \"moving\" : true}"));
    tweb_hres_release(&r);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM audit_log WHERE action IN ('queue_set', 'route',"
                      " 'queue_member_add') AND actor LIKE 'cli:%%'"),
        3);
    tweb_fx_free(f);
}

/* ---- tipline serve: the bot and the web server in one process ---- */

static unsigned free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* Waits up to 10 s for a server on listen to answer HTTP. */
static void wait_listening(const char *listen)
{
    for (int i = 0; i < 100; i++) {
        CURL *c = curl_easy_init();
        char url[64];
        snprintf(url, sizeof(url), "http://%s/api/me", listen);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        CURLcode cc = curl_easy_perform(c);
        curl_easy_cleanup(c);
        if (cc == CURLE_OK)
            return;
        tl_sleep_ms(100, NULL);
    }
    fail_msg("nothing answers on %s", listen);
}

/* A fixture whose web server a child process (the tipline binary) will be instead. */
static struct fx *fx_for_child(const char *name)
{
    struct fx *f = tweb_fx_new(name, NULL);
    web_free(f->w);
    f->w = NULL;
    return f;
}

/* SIGTERM to pid: it finishes and exits 0. */
static void child_term_ok(pid_t pid)
{
    int status = 0;
    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Starts the tipline binary with args (after "tipline", NULL-ended) as a child whose
 * stderr goes to logfile, serving on a fresh port (f->port, written to listen) for
 * f's database; env: more NAME, VALUE pairs, NULL-ended. */
static pid_t spawn_tipline(struct fx *f, const char *logfile, char *listen, size_t listensz,
                           const char *const *env, const char *const *args)
{
    const char *bin = getenv("TL_TIPLINE_BIN");
    f->port = free_port();
    snprintf(listen, listensz, "127.0.0.1:%u", f->port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[16] = {"tipline"};
        size_t n = 1;
        for (; args[n - 1] && n < 15; n++)
            argv[n] = (char *)args[n - 1];
        argv[n] = NULL;
        FILE *lf = freopen(logfile, "a", stderr);
        (void)lf;
        setenv("TIPLINE_DATABASE_URL", f->ci, 1);
        setenv("TIPLINE_HTTP_LISTEN", listen, 1);
        for (size_t i = 0; env && env[i] && env[i + 1]; i += 2)
            setenv(env[i], env[i + 1], 1);
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

static void test_web_serve_runs_bot_and_web(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct fx *f = fx_for_child("t_web_serve");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 15, 6), TL_OK); /* 15 texts, each sent */
    char key[] = "/tmp/tipline-key-XXXXXX", logfile[] = "/tmp/tipline-log-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(logfile));
    assert_int_equal(ts_write_file(key, "serve-test-secret-serve-test-secret"), 0);
    char listen[32];
    const char *env[] = {"TELEGRAM_API_BASE",
                         fakebot_base_url(fb),
                         "TELEGRAM_BOT_TOKEN",
                         fakebot_token(fb),
                         "TIPLINE_SECRET_FILE",
                         key,
                         "TIPLINE_IDENTITY_KEY_FILE",
                         ts_idkey_file(),
                         "TIPLINE_POLL_TIMEOUT",
                         "1",
                         "TIPLINE_SEND_CHAT_INTERVAL_MS",
                         "0",
                         NULL};
    const char *args[] = {"serve", NULL};
    pid_t pid = spawn_tipline(f, logfile, listen, sizeof(listen), env, args);
    /* the bot turns the 30 updates into 15 reports; the web server lists them */
    long long n = 0;
    for (int i = 0; i < 600 && n < 30; i++) {
        tl_sleep_ms(100, NULL);
        n = tweb_count(f, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL");
    }
    assert_int_equal(n, 30);
    long long reports = tweb_count(f, "SELECT count(*) FROM reports");
    assert_int_equal(reports, 15);
    wait_listening(listen);
    struct hres r = tweb_http(
        f, &(struct hreq){.method = "GET", .path = "/api/reports?limit=200", .as = "alice"});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    assert_int_equal((long long)json_object_array_length(tweb_jget(o, "items")), reports);
    json_object_put(o);
    tweb_hres_release(&r);
    /* SIGTERM stops both cleanly */
    child_term_ok(pid);
    char *log = ts_read_file(logfile, NULL);
    assert_non_null(strstr(log, "msg=\"web: listening\""));
    assert_null(strstr(log, fakebot_token(fb)));
    assert_null(strstr(log, "tok-alice"));
    free(log);
    unlink(key);
    unlink(logfile);
    fakebot_stop(fb);
    tweb_fx_free(f);
}

/* `tipline web` alone: SIGHUP reads the configuration file again and applies log_level
 * (it used to log that a restart was needed), a file that does not load is refused and
 * the server keeps serving; SIGTERM exits 0. */
static void test_web_alone_reloads(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct fx *f = fx_for_child("t_web_hup");
    char conf[] = "/tmp/tipline-conf-XXXXXX", logfile[] = "/tmp/tipline-log-XXXXXX";
    close(mkstemp(conf));
    close(mkstemp(logfile));
    assert_int_equal(ts_write_file(conf, "log_level = info\n"), 0);
    char listen[32];
    const char *args[] = {"--config", conf, "web", NULL};
    pid_t pid = spawn_tipline(f, logfile, listen, sizeof(listen), NULL, args);
    wait_listening(listen);
    const char *want[] = {"msg=\"reload done\" log_level=debug", "msg=\"reload refused"};
    const char *file[] = {"log_level = debug\n", "log_level = debug\nno_such_key = 1\n"};
    for (size_t k = 0; k < 2; k++) {
        assert_int_equal(ts_write_file(conf, file[k]), 0);
        assert_int_equal(kill(pid, SIGHUP), 0);
        char *log = NULL;
        for (int i = 0; i < 50 && !(log && strstr(log, want[k])); i++) {
            free(log);
            tl_sleep_ms(100, NULL);
            log = ts_read_file(logfile, NULL);
        }
        if (!log || !strstr(log, want[k]))
            fail_msg("no [%s] in the log: %s", want[k], log ? log : "(none)");
        free(log);
        struct hres r =
            tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"});
        assert_int_equal(r.status, 200);
        tweb_hres_release(&r);
    }
    child_term_ok(pid);
    unlink(conf);
    unlink(logfile);
    tweb_fx_free(f);
}

/* ---- a database outage: 503 while it lasts, then everything resumes ---- */

static void pgtmp(const char *verb, const char *st)
{
    char *cmd = tl_asprintf("%s/tests/pgtmp.sh %s %s %s >/dev/null", getenv("TL_SOURCE_DIR"), verb,
                            st, getenv("TL_TIPLINE_BIN"));
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void test_web_database_outage(void **state)
{
    (void)state;
    if (!getenv("TL_SOURCE_DIR") || !getenv("TL_TIPLINE_BIN") || !*getenv("TL_TIPLINE_BIN"))
        skip();
    /* an own cluster: the outage must not hit the other tests */
    char *st = ts_build_path("pgtmp-web-outage.conninfo");
    pgtmp("start", st);
    char *admin = ts_read_file(st, NULL);
    admin[strcspn(admin, "\n")] = 0;
    *strstr(admin, "dbname=") = 0;
    char *ci = tl_asprintf("%sdbname=tipline_template", admin);
    struct fx *f = tweb_fx_new_on("outage", NULL, ci);
    long long id = tweb_seed_simple(f, "OUT-1");
    struct sse_client a = {.f = f, .as = "alice"};
    pthread_t ta;
    pthread_mutex_init(&a.mu, NULL);
    tl_buf_init(&a.got, 0);
    assert_int_equal(pthread_create(&ta, NULL, tweb_sse_main, &a), 0);
    assert_true(tweb_sse_wait(&a, ": connected", 5000) >= 0);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"}, 200, NULL);

    pgtmp("pause", st);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"});
    assert_int_equal(r.status, 503);
    char *ra = tweb_header(&r, "Retry-After");
    assert_string_equal(ra, "5");
    free(ra);
    struct json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "error"), "unavailable");
    json_object_put(o);
    tweb_hres_release(&r);
    pgtmp("resume", st);

    long status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
        r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"});
        status = r.status;
        tweb_hres_release(&r);
        if (status != 200)
            tl_sleep_ms(100, NULL);
    }
    assert_int_equal(status, 200);
    /* the event stream was told to refetch, and hears claims again */
    assert_true(tweb_sse_wait(&a, "event: resync", 15000) >= 0);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "bob"}, 200,
                NULL);
    char want[96];
    snprintf(want, sizeof(want), "event: claim\ndata: {\"id\":%lld", id);
    assert_true(tweb_sse_wait(&a, want, 2000) >= 0);
    a.stop = 1;
    pthread_join(ta, NULL);
    tl_buf_release(&a.got);
    tweb_fx_free(f);
    pgtmp("stop", st);
    free(ci);
    free(admin);
    free(st);
}

const struct CMUnitTest tweb_procs_tests[] = {
    cmocka_unit_test_teardown(test_web_cli_user_add, tweb_teardown),
    cmocka_unit_test_teardown(test_web_cli_queue_routing, tweb_teardown),
    cmocka_unit_test_teardown(test_web_serve_runs_bot_and_web, tweb_teardown),
    cmocka_unit_test_teardown(test_web_alone_reloads, tweb_teardown),
    cmocka_unit_test_teardown(test_web_database_outage, tweb_teardown),
};
const size_t tweb_procs_ntests = TS_NTESTS(tweb_procs_tests);
