/* tests/test_webhook.c - webhook intake on real parts: the `tipline bot` process in
 * webhook mode, a throwaway PostgreSQL, and 50 concurrent loopback senders playing
 * Telegram (each retries an update until it is answered 200, as Telegram does). A wrong
 * or missing secret is refused and stores nothing; kill -9 in the middle of a burst of
 * 10,000 updates loses nothing that was answered 200; after a restart every update is in
 * the inbox once and processed. `tipline webhook set|info|delete` against the fake Bot
 * API sends the secret from its file and keeps pending updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "support/botproc.h"
#include "support/promhttp.h"
#include "support/testsupport.h"

#define N_UPDATES 10000
#define N_SENDERS 50
#define N_CHATS 200
#define BAD_BASE 1000000 /* update_ids of the refused sends */
#define SECRET "webhook-test-secret_0123456789"

static pid_t g_bot;
static unsigned g_port;
static atomic_int g_answered[N_UPDATES + 1]; /* 1 once answered 200 */
static atomic_int g_n_answered, g_refused_ok, g_refused_wrong;

static int teardown(void **state)
{
    (void)state;
    bp_kill(&g_bot);
    return 0;
}

static pid_t spawn_bot(const char *ci, struct fakebot *fb, const char *key, const char *wkey,
                       const char *logfile)
{
    char *listen = tl_asprintf("TIPLINE_WEBHOOK_LISTEN=127.0.0.1:%u", g_port);
    char *secret = tl_asprintf("TIPLINE_WEBHOOK_SECRET_FILE=%s", wkey);
    const char *const extra[] = {listen, secret, NULL};
    pid_t pid = bp_spawn(ci, fb, key, logfile, extra);
    free(listen);
    free(secret);
    return pid;
}

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return sz * n;
}

/* One POST; the HTTP status, or 0 when there was no answer (connection refused, reset). */
static long post(CURL *c, const char *secret, const char *body)
{
    char url[64], hdr[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/telegram", g_port);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (secret) {
        snprintf(hdr, sizeof(hdr), "X-Telegram-Bot-Api-Secret-Token: %s", secret);
        h = curl_slist_append(h, hdr);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return status;
}

static char *update_json(int id)
{
    int chat = 7000000 + id % N_CHATS;
    return tl_asprintf("{\"update_id\":%d,\"message\":{\"message_id\":%d,\"date\":1,\"chat\":{"
                       "\"id\":%d,\"type\":\"private\"},\"from\":{\"id\":%d,\"is_bot\":false,"
                       "\"first_name\":\"W\"},\"text\":\"webhook report %d\"}}",
                       id, id, chat, chat, id);
}

/* Sender t: the updates id = t+1, t+1+N_SENDERS, ... in order (so each chat's updates
 * come from one sender, in order, as Telegram sends them); each until answered 200. Every
 * 10th update is preceded by a send with a wrong secret and one with none. */
static void *sender(void *arg)
{
    int t = (int)(intptr_t)arg;
    CURL *c = curl_easy_init();
    for (int id = t + 1; c && id <= N_UPDATES; id += N_SENDERS) {
        if (((id - t - 1) / N_SENDERS) % 10 == 0) {
            char *bad = update_json(BAD_BASE + id);
            for (int k = 0; k < 2; k++) {
                long st;
                while ((st = post(c, k ? NULL : "webhook-test-secret_0123456788", bad)) == 0)
                    tl_sleep_ms(50, NULL);
                atomic_fetch_add(st == 401 ? &g_refused_ok : &g_refused_wrong, 1);
            }
            free(bad);
        }
        char *u = update_json(id);
        while (post(c, SECRET, u) != 200)
            tl_sleep_ms(50, NULL);
        atomic_store(&g_answered[id], 1);
        atomic_fetch_add(&g_n_answered, 1);
        free(u);
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* How many of the N_CHATS chats the bot has sent a message to; fails on a message to any
 * other chat. */
static int chats_answered(struct fakebot *fb)
{
    char *sent = fakebot_calls_json(fb, "sendMessage");
    assert_non_null(sent);
    struct json_object *sends = json_tokener_parse(sent), *p, *chat;
    assert_non_null(sends);
    char seen[N_CHATS] = {0};
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(sends); i++) {
        assert_true(json_object_object_get_ex(json_object_array_get_idx(sends, i), "params", &p));
        assert_true(json_object_object_get_ex(p, "chat_id", &chat));
        long long id = json_object_get_int64(chat) - 7000000;
        assert_true(id >= 0 && id < N_CHATS);
        n += !seen[id];
        seen[id] = 1;
    }
    json_object_put(sends);
    free(sent);
    return n;
}

static void test_webhook_burst_kill9_nothing_answered_lost(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_webhook");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    char key[] = "/tmp/tipline-key-XXXXXX", wkey[] = "/tmp/tipline-wkey-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(wkey));
    assert_int_equal(ts_write_file(key, "webhook-test-key-webhook-test-key"), 0);
    assert_int_equal(ts_write_file(wkey, SECRET "\n"), 0);
    char *logfile = ts_build_path("test_webhook_bot.log");
    assert_int_equal(ts_write_file(logfile, ""), 0);
    g_port = bp_free_port();
    g_bot = spawn_bot(ci, fb, key, wkey, logfile);

    pthread_t th[N_SENDERS];
    for (int t = 0; t < N_SENDERS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, sender, (void *)(intptr_t)t), 0);
    int64_t end = tl_now_ms() + 120000;
    while (atomic_load(&g_n_answered) < 3000 && tl_now_ms() < end)
        tl_sleep_ms(5, NULL);
    assert_int_equal(kill(g_bot, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(g_bot, &status, 0), g_bot);
    g_bot = 0;
    assert_true(WIFSIGNALED(status));
    /* what was answered 200 before the process died is stored: a list of those ids */
    int at_kill = atomic_load(&g_n_answered);
    assert_true(at_kill >= 3000 && at_kill < N_UPDATES); /* it died mid-burst */
    struct tl_buf ids;
    tl_buf_init(&ids, 1u << 20);
    assert_int_equal(tl_buf_printf(&ids, "SELECT count(*) FROM inbox WHERE update_id IN (0"), 0);
    int n_ids = 0;
    for (int id = 1; id <= N_UPDATES; id++)
        if (atomic_load(&g_answered[id])) {
            assert_int_equal(tl_buf_printf(&ids, ",%d", id), 0);
            n_ids++;
        }
    assert_int_equal(tl_buf_printf(&ids, ")"), 0);
    assert_int_equal(ts_db_count(ci, (const char *)ids.data), n_ids);
    tl_buf_release(&ids);
    fprintf(stderr, "kill -9 with %d of %d updates answered 200: all %d stored\n", at_kill,
            N_UPDATES, n_ids);

    /* back up: the senders' retries go through */
    long long before_restart = ts_db_count(ci, "SELECT count(*) FROM inbox");
    unsigned mport = bp_free_port();
    char *mlisten = tl_asprintf("127.0.0.1:%u", mport);
    setenv("TIPLINE_METRICS_LISTEN", mlisten, 1); /* the restarted process counts */
    g_bot = spawn_bot(ci, fb, key, wkey, logfile);
    unsetenv("TIPLINE_METRICS_LISTEN");
    for (int t = 0; t < N_SENDERS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    assert_int_equal(atomic_load(&g_n_answered), N_UPDATES);
    bp_wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", N_UPDATES,
                  180000);
    /* its counters: each update it stored new, each POST it stored, each refusal */
    struct ts_hres r = ts_http(mport, "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    const char *m = (const char *)r.body.data;
    assert_true(ts_prom_sample(m, "tipline_bot_updates_stored_total") ==
                N_UPDATES - before_restart);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_received_total") >=
                N_UPDATES - before_restart);
    assert_true(ts_prom_sample(m, "tipline_bot_webhook_refused_total") > 0);
    assert_true(ts_prom_sample(m, "tipline_bot_updates_handled_total") > 0);
    tl_buf_release(&r.body);
    free(mlisten);
    /* every chat was answered, and only those chats: each update was sealed with its
     * connection's chat cache (daemon/intake_hook.c) and opened to the chat it came from */
    int n_seen = 0;
    for (int64_t until = tl_now_ms() + 60000; n_seen < N_CHATS && tl_now_ms() < until;
         tl_sleep_ms(200, NULL))
        n_seen = chats_answered(fb);
    assert_int_equal(n_seen, N_CHATS);
    /* one chat key a chat (update i came from chat i mod N_CHATS), one chat a key */
    assert_int_equal(ts_db_count(ci, "SELECT count(DISTINCT chat_key) FROM inbox"), N_CHATS);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM (SELECT chat_key FROM inbox GROUP BY"
                                     " chat_key HAVING count(DISTINCT update_id % 200) > 1) x"),
                     0);
    bp_term(&g_bot);

    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox"), N_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id >= 1000000"), 0);
    assert_int_equal(ts_db_count(ci, "SELECT min(update_id) FROM inbox"), 1);
    assert_int_equal(ts_db_count(ci, "SELECT max(update_id) FROM inbox"), N_UPDATES);
    /* every refused send was refused: 401 */
    assert_int_equal(atomic_load(&g_refused_wrong), 0);
    assert_int_equal(atomic_load(&g_refused_ok), 2 * (N_UPDATES / 10));
    /* the process never polled: webhook mode leaves getUpdates alone */
    assert_int_equal(fakebot_count(fb, "getUpdates"), 0);
    char *log = ts_read_file(logfile, NULL);
    assert_non_null(strstr(log, "webhook listening"));
    assert_null(strstr(log, SECRET));
    assert_null(strstr(log, fakebot_token(fb)));
    free(log);

    /* tipline webhook set|info|delete: the secret from its file, pending updates kept */
    const char *bin = getenv("TL_TIPLINE_BIN");
    char *cmd = tl_asprintf("TELEGRAM_API_BASE='%s' TELEGRAM_BOT_TOKEN='%s' "
                            "TIPLINE_SECRET_FILE='%s' TIPLINE_WEBHOOK_SECRET_FILE='%s' "
                            "TIPLINE_DATABASE_URL='%s' sh -c '%s webhook set "
                            "https://tips.example.org/telegram && %s webhook info && "
                            "%s webhook delete' >/dev/null",
                            fakebot_base_url(fb), fakebot_token(fb), key, wkey, ci, bin, bin, bin);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *calls = fakebot_calls_json(fb, "setWebhook");
    assert_non_null(strstr(calls, "\"secret_token\":\"" SECRET "\""));
    assert_non_null(strstr(calls, "\"url\":\"https:\\/\\/tips.example.org\\/telegram\"") ||
                    strstr(calls, "\"url\":\"https://tips.example.org/telegram\""));
    assert_non_null(strstr(calls, "\"drop_pending_updates\":false"));
    free(calls);
    assert_int_equal(fakebot_count(fb, "getWebhookInfo"), 1);
    calls = fakebot_calls_json(fb, "deleteWebhook");
    assert_non_null(strstr(calls, "\"drop_pending_updates\":false"));
    free(calls);

    unlink(key);
    unlink(wkey);
    free(logfile);
    fakebot_stop(fb);
    ts_db_drop("t_webhook");
    free(ci);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_webhook_burst_kill9_nothing_answered_lost, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
