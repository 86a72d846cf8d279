/* tests/test_bot.c - the Bot API client, poller and sender against the fake Bot API
 * server on loopback: exact params sent, every fault mapped, nothing lost or
 * duplicated under faults and sink failures, the global send rate, and the token
 * never reaching a log. The update parser's tests are in test_bot_update.c. */
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

#include "bot/tg.h"
#include "common/log.h"
#include "common/util.h"
#include "fakebot/fakebot.h"
#include "tests/support/testsupport.h"
#include "common/banned.h"

/* test_bot_update.c: the update parser's group. */
int test_bot_update_group(void);

struct fx {
    struct fakebot *fb;
    struct tg_client *c;
};

static struct tg_client *client_for(struct fakebot *fb, const char *token, long timeout_ms)
{
    struct tg_client_opts o = {.api_base = fakebot_base_url(fb),
                               .token = token ? token : fakebot_token(fb),
                               .connect_timeout_ms = 1000,
                               .timeout_ms = timeout_ms};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    return c;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fakebot_opts o = {.quiet = 1};
    if (!f || fakebot_start(&o, &f->fb) != TL_OK)
        return -1;
    f->c = client_for(f->fb, NULL, 2000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tg_client_free(f->c);
    fakebot_stop(f->fb);
    free(f);
    return 0;
}

/* Parses both texts and compares them as JSON values (key order ignored). */
static void assert_json_eq(const char *actual, const char *expected)
{
    struct json_object *a = json_tokener_parse(actual), *e = json_tokener_parse(expected);
    if (!a || !e || !json_object_equal(a, e)) {
        print_error("JSON differs\n  actual:   %s\n  expected: %s\n", actual ? actual : "(null)",
                    expected);
        json_object_put(a);
        json_object_put(e);
        fail();
    }
    json_object_put(a);
    json_object_put(e);
}

static void assert_calls(struct fakebot *fb, const char *method, const char *expected)
{
    char *got = fakebot_calls_json(fb, method);
    assert_non_null(got);
    assert_json_eq(got, expected);
    free(got);
}

static long long upd_id(struct json_object *arr, size_t i)
{
    struct json_object *u = json_object_array_get_idx(arr, i), *v;
    assert_true(json_object_object_get_ex(u, "update_id", &v));
    return json_object_get_int64(v);
}

/* ---- client ---- */

static void test_bot_get_me(void **state)
{
    struct fx *f = *state;
    char *name = NULL;
    struct tl_errinfo ei;
    assert_int_equal(tg_get_me(f->c, &name, &ei), TL_OK);
    assert_string_equal(name, "tipline_fake_bot");
    free(name);
    assert_calls(f->fb, NULL, "[{\"method\":\"getMe\",\"params\":{}}]");
}

static void test_bot_wrong_token_is_eauth(void **state)
{
    struct fx *f = *state;
    struct tg_client *bad = client_for(f->fb, "1:WrongToken", 2000);
    char *name = NULL;
    struct tl_errinfo ei;
    assert_int_equal(tg_get_me(bad, &name, &ei), TL_EAUTH);
    assert_null(name);
    assert_int_equal(ei.tg_code, 401);
    assert_int_equal(ei.http_status, 401);
    assert_string_equal(ei.msg, "Unauthorized");
    tg_client_free(bad);
}

static void test_bot_client_rejects_unsafe_token(void **state)
{
    struct tg_client *c = NULL;
    struct tg_client_opts o = {.api_base = "http://127.0.0.1:1", .token = "12:ab/../x"};
    assert_int_equal(tg_client_new(&o, &c), TL_EINVAL);
    assert_null(c);
    o.token = "";
    assert_int_equal(tg_client_new(&o, &c), TL_EINVAL);
}

static void test_bot_api_base_from_env(void **state)
{
    struct fx *f = *state;
    setenv("TELEGRAM_API_BASE", fakebot_base_url(f->fb), 1);
    struct tg_client_opts o = {.token = fakebot_token(f->fb), .timeout_ms = 2000};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    unsetenv("TELEGRAM_API_BASE");
    assert_string_equal(tg_client_base(c), fakebot_base_url(f->fb));
    char *name = NULL;
    assert_int_equal(tg_get_me(c, &name, NULL), TL_OK);
    free(name);
    assert_int_equal(fakebot_count(f->fb, "getMe"), 1);
    tg_client_free(c);
    o.token = "1:x";
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    assert_string_equal(tg_client_base(c), "https://api.telegram.org");
    tg_client_free(c);
}

static void test_bot_get_updates_params_and_ack(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(fakebot_push_update(f->fb, "{\"message\":{\"message_id\":1,\"chat\":"
                                                    "{\"id\":5,\"type\":\"private\"},\"date\":1,"
                                                    "\"text\":\"a\"}}"),
                         i + 1);
    struct json_object *arr = NULL;
    struct tl_errinfo ei;
    assert_int_equal(tg_get_updates(f->c, 0, 0, 2, &arr, &ei), TL_OK);
    assert_int_equal(json_object_array_length(arr), 2);
    assert_int_equal(upd_id(arr, 0), 1);
    assert_int_equal(upd_id(arr, 1), 2);
    json_object_put(arr);
    assert_calls(f->fb, "getUpdates",
                 "[{\"method\":\"getUpdates\",\"params\":{\"offset\":0,\"timeout\":0,\"limit\":2,"
                 "\"allowed_updates\":[\"message\",\"edited_message\",\"callback_query\","
                 "\"my_chat_member\"]}}]");
    assert_int_equal(fakebot_pending(f->fb), 3);
    assert_int_equal(fakebot_acked_offset(f->fb), 0);
    /* the next offset acknowledges 1 and 2 */
    assert_int_equal(tg_get_updates(f->c, 3, 0, 100, &arr, &ei), TL_OK);
    assert_int_equal(json_object_array_length(arr), 1);
    assert_int_equal(upd_id(arr, 0), 3);
    json_object_put(arr);
    assert_int_equal(fakebot_acked_offset(f->fb), 3);
    assert_int_equal(fakebot_pending(f->fb), 1);
    /* out-of-range limit and timeout are clamped before they are sent */
    assert_int_equal(tg_get_updates(f->c, 4, -5, 1000, &arr, &ei), TL_OK);
    assert_int_equal(json_object_array_length(arr), 0);
    json_object_put(arr);
    assert_int_equal(fakebot_pending(f->fb), 0);
    char *calls = fakebot_calls_json(f->fb, "getUpdates");
    struct json_object *c = json_tokener_parse(calls), *p, *v;
    free(calls);
    json_object_object_get_ex(json_object_array_get_idx(c, 2), "params", &p);
    json_object_object_get_ex(p, "limit", &v);
    assert_int_equal(json_object_get_int(v), 100);
    json_object_object_get_ex(p, "timeout", &v);
    assert_int_equal(json_object_get_int(v), 0);
    json_object_put(c);
}

struct pusher {
    struct fakebot *fb;
    long delay_ms;
};

static void *push_later(void *arg)
{
    struct pusher *p = arg;
    tl_sleep_ms(p->delay_ms, NULL);
    if (fakebot_push_update(p->fb, "{\"message\":{\"message_id\":9,\"chat\":{\"id\":7,\"type\":"
                                   "\"private\"},\"date\":1,\"text\":\"late\"}}") < 0)
        abort();
    return NULL;
}

static void test_bot_long_poll_waits_and_wakes(void **state)
{
    struct fx *f = *state;
    /* the client's own timeout (500 ms) is extended by the poll timeout */
    struct tg_client *c = client_for(f->fb, NULL, 500);
    struct json_object *arr = NULL;
    int64_t t0 = tl_now_ms();
    assert_int_equal(tg_get_updates(c, 0, 1, 100, &arr, NULL), TL_OK);
    int64_t waited = tl_now_ms() - t0;
    assert_int_equal(json_object_array_length(arr), 0);
    json_object_put(arr);
    assert_true(waited >= 900);
    pthread_t th;
    struct pusher p = {f->fb, 300};
    pthread_create(&th, NULL, push_later, &p);
    t0 = tl_now_ms();
    assert_int_equal(tg_get_updates(c, 0, 5, 100, &arr, NULL), TL_OK);
    waited = tl_now_ms() - t0;
    pthread_join(th, NULL);
    assert_int_equal(json_object_array_length(arr), 1);
    json_object_put(arr);
    assert_true(waited >= 250 && waited < 3000);
    tg_client_free(c);
}

struct poll_thread {
    struct tg_client *c;
    int timeout_s;
    int rc;
    struct tl_errinfo ei;
};

static void *poll_once(void *arg)
{
    struct poll_thread *t = arg;
    struct json_object *arr = NULL;
    t->rc = tg_get_updates(t->c, 0, t->timeout_s, 100, &arr, &t->ei);
    json_object_put(arr);
    return NULL;
}

static void test_bot_second_poller_gets_409(void **state)
{
    struct fx *f = *state;
    struct poll_thread t = {.c = client_for(f->fb, NULL, 2000), .timeout_s = 5};
    pthread_t th;
    pthread_create(&th, NULL, poll_once, &t);
    assert_int_equal(fakebot_wait_count(f->fb, "getUpdates", 1, 2000), TL_OK);
    struct json_object *arr = NULL;
    assert_int_equal(tg_get_updates(f->c, 0, 0, 100, &arr, NULL), TL_OK);
    json_object_put(arr);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, TL_ECONFLICT);
    assert_int_equal(t.ei.tg_code, 409);
    assert_non_null(strstr(t.ei.msg, "terminated by other getUpdates request"));
    tg_client_free(t.c);
}

/* The real Update payloads travel through the fake server and the client intact. */
static void test_bot_real_updates_round_trip(void **state)
{
    struct fx *f = *state;
    static const char *const files[] = {
        "01_update_text_message.json",          "01c_update_start_command.json",
        "02_update_photo_in_media_group.json",  "06_update_callback_query.json",
        "08_update_my_chat_member_kicked.json", "SYNTH_05b_update_edited_live_location.json",
    };
    static const enum tg_update_kind kinds_by_id[] = {
        TG_UPD_MY_CHAT_MEMBER, /* 0 */
        TG_UPD_MESSAGE,        /* 494890299 */
        TG_UPD_EDITED_MESSAGE, /* 494890311 */
        TG_UPD_MESSAGE,        /* 734997090 */
        TG_UPD_CALLBACK_QUERY, /* 734997099 */
        TG_UPD_MESSAGE,        /* 934522166 */
    };
    char *dir = ts_shared_path("telegram");
    if (!dir) {
        print_message("skipped: no shared fixtures (TL_SHARED_DIR/telegram absent)\n");
        skip();
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *path = tl_asprintf("%s/%s", dir, files[i]);
        char *text = ts_read_file(path, NULL);
        assert_true(fakebot_push_update(f->fb, text) >= 0);
        free(text);
        free(path);
    }
    free(dir);
    struct json_object *arr = NULL;
    assert_int_equal(tg_get_updates(f->c, 0, 0, 100, &arr, NULL), TL_OK);
    assert_int_equal(json_object_array_length(arr), 6);
    long long prev = -1;
    for (size_t i = 0; i < 6; i++) {
        struct tg_update u;
        assert_int_equal(tg_update_from_json(json_object_array_get_idx(arr, i), &u), TL_OK);
        assert_true(u.update_id > prev);
        prev = u.update_id;
        assert_int_equal(u.kind, kinds_by_id[i]);
        tg_update_release(&u);
    }
    json_object_put(arr);
}

static void test_bot_send_message_params(void **state)
{
    struct fx *f = *state;
    long long mid = 0;
    struct tl_errinfo ei;
    const char *kb = "{\"inline_keyboard\":[[{\"text\":\"OK\",\"callback_data\":\"ok\"}]]}";
    assert_int_equal(tg_send_message(f->c, 42, "Привіт \"x\" / y", kb, &mid, &ei), TL_OK);
    assert_int_equal(mid, 1);
    assert_int_equal(tg_send_message(f->c, -100123, "two", NULL, &mid, &ei), TL_OK);
    assert_int_equal(mid, 2);
    assert_calls(f->fb, "sendMessage",
                 "[{\"method\":\"sendMessage\",\"params\":{\"chat_id\":42,\"text\":\"Привіт "
                 "\\\"x\\\" / y\",\"reply_markup\":{\"inline_keyboard\":[[{\"text\":\"OK\","
                 "\"callback_data\":\"ok\"}]]}}},"
                 "{\"method\":\"sendMessage\",\"params\":{\"chat_id\":-100123,\"text\":"
                 "\"two\"}}]");
    /* a reply_markup that is not an object never reaches the wire */
    assert_int_equal(tg_send_message(f->c, 42, "x", "[1,2", &mid, &ei), TL_EINVAL);
    assert_int_equal(mid, 0);
    assert_int_equal(fakebot_count(f->fb, "sendMessage"), 2);
}

static void test_bot_answer_callback_query_params(void **state)
{
    struct fx *f = *state;
    assert_int_equal(tg_answer_callback_query(f->c, "q1", "Thanks", NULL), TL_OK);
    assert_int_equal(tg_answer_callback_query(f->c, "q2", NULL, NULL), TL_OK);
    assert_calls(f->fb, "answerCallbackQuery",
                 "[{\"method\":\"answerCallbackQuery\",\"params\":{\"callback_query_id\":\"q1\","
                 "\"text\":\"Thanks\"}},{\"method\":\"answerCallbackQuery\",\"params\":"
                 "{\"callback_query_id\":\"q2\"}}]");
}

static void test_bot_delete_message_params(void **state)
{
    struct fx *f = *state;
    assert_int_equal(tg_delete_message(f->c, -100777, 42, NULL), TL_OK);
    assert_calls(f->fb, NULL,
                 "[{\"method\":\"deleteMessage\",\"params\":{\"chat_id\":-100777,"
                 "\"message_id\":42}}]");
    fakebot_set_blocked_chat(f->fb, 9);
    struct tl_errinfo ei;
    assert_int_equal(tg_delete_message(f->c, 9, 1, &ei), TL_EFORBIDDEN);
}

static void test_bot_fakebot_honours_allowed_updates(void **state)
{
    struct fx *f = *state;
    assert_int_equal(fakebot_push_update(f->fb, "{\"channel_post\":{\"message_id\":1,\"chat\":"
                                                "{\"id\":-1001,\"type\":\"channel\"}}}"),
                     1);
    assert_int_equal(fakebot_push_update(f->fb, "{\"message\":{\"message_id\":2,\"chat\":"
                                                "{\"id\":5,\"type\":\"private\"}}}"),
                     2);
    struct json_object *arr = NULL;
    assert_int_equal(tg_get_updates(f->c, 0, 0, 100, &arr, NULL), TL_OK);
    assert_int_equal(json_object_array_length(arr), 1);
    assert_int_equal(upd_id(arr, 0), 2);
    json_object_put(arr);
    assert_int_equal(fakebot_pending(f->fb), 1);
}

static void test_bot_tg_call_passes_params_verbatim(void **state)
{
    struct fx *f = *state;
    struct json_object *res = NULL, *v;
    const char *params = "{\"chat_id\":77,\"message_id\":5,\"text\":\"edited\"}";
    assert_int_equal(tg_call(f->c, "editMessageText", params, &res, NULL), TL_OK);
    assert_true(json_object_object_get_ex(res, "edit_date", &v));
    json_object_put(res);
    assert_int_equal(
        tg_call(f->c, "deleteMessage", "{\"chat_id\":77,\"message_id\":5}", &res, NULL), TL_OK);
    assert_true(json_object_get_boolean(res));
    json_object_put(res);
    assert_calls(f->fb, "editMessageText",
                 "[{\"method\":\"editMessageText\",\"params\":{\"chat_id\":77,\"message_id\":5,"
                 "\"text\":\"edited\"}}]");
    assert_int_equal(tg_call(f->c, "no/such", NULL, NULL, NULL), TL_EINVAL);
    struct tl_errinfo ei;
    assert_int_equal(tg_call(f->c, "noSuchMethod", NULL, NULL, &ei), TL_ETG);
    assert_int_equal(ei.tg_code, 404);
}

static void test_bot_get_file_and_download(void **state)
{
    struct fx *f = *state;
    unsigned char bytes[5000];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(i * 7 + 3);
    assert_int_equal(fakebot_add_file(f->fb, "AgAC1", bytes, sizeof(bytes)), TL_OK);
    char *path = NULL;
    long long size = 0;
    struct tl_errinfo ei;
    assert_int_equal(tg_get_file(f->c, "AgAC1", &path, &size, &ei), TL_OK);
    assert_string_equal(path, "photos/AgAC1.jpg");
    assert_int_equal(size, 5000);
    assert_calls(f->fb, "getFile", "[{\"method\":\"getFile\",\"params\":{\"file_id\":\"AgAC1\"}}]");
    unsigned char *buf = NULL;
    size_t len = 0;
    assert_int_equal(tg_download_file(f->c, path, 10000, &buf, &len, &ei), TL_OK);
    assert_int_equal(len, sizeof(bytes));
    assert_memory_equal(buf, bytes, len);
    free(buf);
    assert_int_equal(tg_download_file(f->c, path, 4999, &buf, &len, &ei), TL_ETOOBIG);
    assert_null(buf);
    assert_int_equal(tg_download_file(f->c, "photos/none.jpg", 10000, &buf, &len, &ei), TL_ETG);
    assert_int_equal(ei.http_status, 404);
    assert_int_equal(tg_download_file(f->c, "../etc/passwd", 10000, &buf, &len, &ei), TL_EINVAL);
    fakebot_inject(f->fb, "file", FB_DROP, 1, 0);
    assert_int_equal(tg_download_file(f->c, path, 10000, &buf, &len, &ei), TL_ENET);
    assert_int_equal(fakebot_count(f->fb, "file"), 4);
    free(path);
    assert_int_equal(tg_get_file(f->c, "nope", &path, &size, &ei), TL_ETG);
    assert_null(path);
    assert_int_equal(ei.tg_code, 400);
    assert_string_equal(ei.msg, "Bad Request: invalid file_id");
}

/* ---- faults ---- */

struct fault_case {
    enum fakebot_fault fault;
    int arg;
    int rc;
    int tg_code;
    long http;
    int retry_after;
    long long migrate;
    const char *msg_part;
    int retryable;
};

static const struct fault_case fault_cases[] = {
    {FB_429, 7, TL_ERATE, 429, 429, 7, 0, "Too Many Requests: retry after 7", 1},
    {FB_500, 0, TL_ETG, 500, 500, 0, 0, "Internal Server Error", 0},
    {FB_502, 0, TL_EHTTP, 0, 502, 0, 0, "HTTP 502", 1},
    {FB_BAD_JSON, 0, TL_EPARSE, 0, 200, 0, 0, "not a Bot API envelope", 1},
    {FB_DROP, 0, TL_ENET, 0, 200, 0, 0, "transfer closed", 1},
    {FB_401, 0, TL_EAUTH, 401, 401, 0, 0, "Unauthorized", 0},
    {FB_403, 0, TL_EFORBIDDEN, 403, 403, 0, 0, "bot was blocked by the user", 0},
    {FB_409, 0, TL_ECONFLICT, 409, 409, 0, 0, "Conflict: terminated by other getUpdates", 0},
    {FB_400, 0, TL_ETG, 400, 400, 0, 0, "Bad Request: chat not found", 0},
    {FB_MIGRATE, 5, TL_ETG, 400, 400, 0, -1000000000005LL, "upgraded to a supergroup", 0},
};

static void test_bot_faults_map_to_errors(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof(fault_cases) / sizeof(fault_cases[0]); i++) {
        const struct fault_case *fc = &fault_cases[i];
        fakebot_inject(f->fb, "sendMessage", fc->fault, 1, fc->arg);
        struct tl_errinfo ei;
        long long mid = -1;
        int rc = tg_send_message(f->c, 1, "x", NULL, &mid, &ei);
        print_message("fault %d -> %s (%s)\n", fc->fault, tl_strerror(rc), ei.msg);
        assert_int_equal(rc, fc->rc);
        assert_int_equal(mid, 0);
        assert_int_equal(ei.tg_code, fc->tg_code);
        assert_int_equal(ei.http_status, fc->http);
        assert_int_equal(ei.retry_after, fc->retry_after);
        assert_int_equal(ei.migrate_to_chat_id, fc->migrate);
        assert_non_null(strstr(ei.msg, fc->msg_part));
        assert_int_equal(tg_err_retryable(rc), fc->retryable);
        /* the fault is used up: the next call goes through */
        assert_int_equal(tg_send_message(f->c, 1, "x", NULL, &mid, &ei), TL_OK);
        assert_true(mid > 0);
    }
}

static void test_bot_slow_answer_times_out(void **state)
{
    struct fx *f = *state;
    struct tg_client *c = client_for(f->fb, NULL, 300);
    fakebot_inject(f->fb, "getMe", FB_SLOW, 1, 1500);
    struct tl_errinfo ei;
    char *name = NULL;
    int64_t t0 = tl_now_ms();
    assert_int_equal(tg_get_me(c, &name, &ei), TL_ETIMEOUT);
    int64_t took = tl_now_ms() - t0;
    assert_true(took >= 250 && took < 1400);
    assert_true(tg_err_retryable(TL_ETIMEOUT));
    assert_true(ei.msg[0] != 0);
    /* the same handle recovers */
    fakebot_inject(f->fb, "getMe", FB_SLOW, 1, 100);
    assert_int_equal(tg_get_me(c, &name, &ei), TL_OK);
    free(name);
    tg_client_free(c);
}

/* ---- the fake server itself: form and query params like the real API ---- */

static size_t swallow(char *p, size_t sz, size_t n, void *ud)
{
    struct tl_buf *b = ud;
    return tl_buf_append(b, p, sz * n) == TL_OK ? sz * n : 0;
}

static long raw_request(const char *url, const char *form, struct tl_buf *out)
{
    CURL *h = curl_easy_init();
    long code = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, swallow);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (form)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, form); /* x-www-form-urlencoded */
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return code;
}

static void test_bot_fakebot_form_and_query_params(void **state)
{
    struct fx *f = *state;
    char *url = tl_asprintf("%s/bot%s/sendMessage", fakebot_base_url(f->fb), fakebot_token(f->fb));
    struct tl_buf b;
    tl_buf_init(&b, 0);
    assert_int_equal(raw_request(url, "chat_id=7&text=hello+world%21%20%D0%AF", &b), 200);
    assert_non_null(strstr((char *)b.data, "\"message_id\":1"));
    free(url);
    tl_buf_clear(&b);
    url = tl_asprintf("%s/bot%s/getUpdates?offset=5&limit=3", fakebot_base_url(f->fb),
                      fakebot_token(f->fb));
    assert_int_equal(raw_request(url, NULL, &b), 200);
    assert_json_eq((char *)b.data, "{\"ok\":true,\"result\":[]}");
    free(url);
    tl_buf_clear(&b);
    url = tl_asprintf("%s/botWRONG/getMe", fakebot_base_url(f->fb));
    assert_int_equal(raw_request(url, NULL, &b), 401);
    assert_json_eq((char *)b.data, "{\"ok\":false,\"error_code\":401,\"description\":"
                                   "\"Unauthorized\"}");
    free(url);
    tl_buf_release(&b);
    assert_calls(f->fb, NULL,
                 "[{\"method\":\"sendMessage\",\"params\":{\"chat_id\":\"7\",\"text\":\"hello "
                 "world! Я\"}},{\"method\":\"getUpdates\",\"params\":{\"offset\":\"5\","
                 "\"limit\":\"3\"}}]");
    assert_int_equal(fakebot_acked_offset(f->fb), 5);
}

/* ---- poller ---- */

struct mem_sink {
    pthread_mutex_t mu;
    struct fakebot *fb;
    long long *ids;
    size_t n_ids, cap;
    int fail_next;  /* this many store_batch calls fail */
    int failed;     /* calls that failed */
    int batches;    /* committed batches */
    int early_ack;  /* an update was already acknowledged when it was stored */
    int bad_offset; /* new_offset was not max(update_id) + 1 */
    long long first_failed[8];
    size_t target; /* set *stop once this many ids are stored */
    volatile sig_atomic_t *stop;
};

static int mem_store(void *ud, struct json_object *updates, long long new_offset,
                     struct tl_errinfo *ei)
{
    struct mem_sink *s = ud;
    pthread_mutex_lock(&s->mu);
    size_t n = json_object_array_length(updates);
    long long acked = fakebot_acked_offset(s->fb), max = -1;
    for (size_t i = 0; i < n; i++) {
        long long id = upd_id(updates, i);
        if (id < acked)
            s->early_ack = 1;
        if (id > max)
            max = id;
    }
    if (new_offset != max + 1)
        s->bad_offset = 1;
    if (s->fail_next > 0) {
        s->fail_next--;
        if (s->failed < 8)
            s->first_failed[s->failed] = upd_id(updates, 0);
        s->failed++;
        pthread_mutex_unlock(&s->mu);
        return tl_errf(ei, TL_EDBDOWN, "connection to the database lost");
    }
    for (size_t i = 0; i < n; i++) {
        if (s->n_ids == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 256;
            s->ids = realloc(s->ids, s->cap * sizeof(*s->ids));
        }
        s->ids[s->n_ids++] = upd_id(updates, i);
    }
    s->batches++;
    if (s->target && s->n_ids >= s->target && s->stop)
        *s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    return TL_OK;
}

struct poller_run {
    struct tg_client *c;
    struct tg_poller_opts o;
    long long start;
    struct tg_poll_sink sink;
    volatile sig_atomic_t stop;
    int rc;
    struct tl_errinfo ei;
    pthread_t th;
};

static void *poller_main(void *arg)
{
    struct poller_run *r = arg;
    r->rc = tg_poller_run(r->c, &r->o, r->start, &r->sink, &r->stop, &r->ei);
    return NULL;
}

static void poller_start_t(struct poller_run *r, struct tg_client *c, struct mem_sink *s,
                           long long start, int timeout_s)
{
    memset(r, 0, sizeof(*r));
    r->c = c;
    r->o = (struct tg_poller_opts){
        .timeout_s = timeout_s, .limit = 100, .base_backoff_ms = 10, .max_backoff_ms = 40};
    r->start = start;
    r->sink = (struct tg_poll_sink){.ud = s, .store_batch = mem_store};
    s->stop = &r->stop;
    pthread_create(&r->th, NULL, poller_main, r);
}

static void poller_start(struct poller_run *r, struct tg_client *c, struct mem_sink *s,
                         long long start)
{
    poller_start_t(r, c, s, start, 1);
}

/* Joins, setting stop after timeout_ms if the poller did not end by itself. */
static void poller_join(struct poller_run *r, struct mem_sink *s, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int done = s->target && s->n_ids >= s->target;
        pthread_mutex_unlock(&s->mu);
        if (done || r->stop || tl_now_ms() > end)
            break;
        tl_sleep_ms(20, NULL);
    }
    r->stop = 1;
    pthread_join(r->th, NULL);
}

static void mem_sink_init(struct mem_sink *s, struct fakebot *fb)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fb = fb;
}

static void mem_sink_release(struct mem_sink *s)
{
    free(s->ids);
    pthread_mutex_destroy(&s->mu);
}

static void assert_ids_exactly(const struct mem_sink *s, long long first, size_t n)
{
    assert_int_equal(s->n_ids, n);
    for (size_t i = 0; i < n; i++)
        if (s->ids[i] != first + (long long)i) {
            print_error("ids[%zu] = %lld, want %lld\n", i, s->ids[i], first + (long long)i);
            fail();
        }
}

static long long call_offset(struct json_object *calls, size_t i)
{
    struct json_object *p, *v;
    json_object_object_get_ex(json_object_array_get_idx(calls, i), "params", &p);
    json_object_object_get_ex(p, "offset", &v);
    return json_object_get_int64(v);
}

static void test_bot_poller_failed_store_refetches(void **state)
{
    struct fx *f = *state;
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    s.fail_next = 2;
    s.target = 250;
    assert_int_equal(fakebot_push_synthetic(f->fb, 250, 7), TL_OK);
    struct poller_run r;
    poller_start(&r, f->c, &s, 0);
    poller_join(&r, &s, 10000);
    assert_int_equal(r.rc, TL_ESTOP);
    assert_int_equal(s.failed, 2);
    assert_int_equal(s.first_failed[0], 1);
    assert_int_equal(s.first_failed[1], 1);
    assert_ids_exactly(&s, 1, 250);
    assert_int_equal(s.batches, 3);
    assert_false(s.early_ack);
    assert_false(s.bad_offset);
    /* the offset moved only after commits: 0, 0, 0 (two failed stores), then 101, 201 */
    char *txt = fakebot_calls_json(f->fb, "getUpdates");
    struct json_object *calls = json_tokener_parse(txt);
    free(txt);
    assert_true(json_object_array_length(calls) >= 5);
    assert_int_equal(call_offset(calls, 0), 0);
    assert_int_equal(call_offset(calls, 1), 0);
    assert_int_equal(call_offset(calls, 2), 0);
    assert_int_equal(call_offset(calls, 3), 101);
    assert_int_equal(call_offset(calls, 4), 201);
    json_object_put(calls);
    /* the last batch is stored but not yet acknowledged: a restart from the stored
     * offset acknowledges it and delivers nothing twice */
    assert_int_equal(fakebot_acked_offset(f->fb), 201);
    assert_int_equal(fakebot_pending(f->fb), 50);
    s.target = 0;
    poller_start(&r, f->c, &s, 251);
    assert_int_equal(fakebot_wait_count(f->fb, "getUpdates", 6, 3000), TL_OK);
    r.stop = 1;
    pthread_join(r.th, NULL);
    assert_int_equal(fakebot_acked_offset(f->fb), 251);
    assert_int_equal(fakebot_pending(f->fb), 0);
    assert_ids_exactly(&s, 1, 250);
    mem_sink_release(&s);
}

static char *capture_begin(FILE **f, char **buf, size_t *len)
{
    *f = open_memstream(buf, len);
    assert_non_null(*f);
    log_set_stream(*f);
    return NULL;
}

static char *capture_end(FILE *f, char **buf)
{
    log_set_stream(NULL);
    fclose(f);
    return *buf;
}

static void test_bot_poller_faults_lose_nothing(void **state)
{
    struct fx *f = *state;
    struct tg_client *c = client_for(f->fb, NULL, 300); /* + the 1 s long poll */
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    s.target = 300;
    assert_int_equal(fakebot_push_synthetic(f->fb, 150, 5), TL_OK);
    fakebot_inject(f->fb, "getUpdates", FB_429, 1, 1);
    fakebot_inject(f->fb, "getUpdates", FB_500, 2, 0);
    fakebot_inject(f->fb, "getUpdates", FB_BAD_JSON, 1, 0);
    fakebot_inject(f->fb, "getUpdates", FB_DROP, 1, 0);
    fakebot_inject(f->fb, "getUpdates", FB_502, 1, 0);
    fakebot_inject(f->fb, "getUpdates", FB_SLOW, 1, 2000);
    FILE *lf;
    char *lbuf = NULL;
    size_t llen = 0;
    capture_begin(&lf, &lbuf, &llen);
    struct poller_run r;
    poller_start(&r, c, &s, 0);
    /* more updates arrive while the faults play out; one more fault mid-stream */
    assert_int_equal(fakebot_wait_count(f->fb, "getUpdates", 5, 5000), TL_OK);
    assert_int_equal(fakebot_push_synthetic(f->fb, 150, 5), TL_OK);
    fakebot_inject(f->fb, "getUpdates", FB_500, 1, 0);
    poller_join(&r, &s, 15000);
    capture_end(lf, &lbuf);
    assert_int_equal(r.rc, TL_ESTOP);
    assert_ids_exactly(&s, 1, 300);
    assert_false(s.early_ack);
    assert_false(s.bad_offset);
    /* every failure shows up with its wait */
    assert_non_null(strstr(lbuf, "err=\"rate limited\" http=429 tg_code=429 retry_after=1"));
    assert_non_null(strstr(lbuf, "retry_in_ms=1000"));
    assert_non_null(strstr(lbuf, "err=\"Telegram API error\" http=500 tg_code=500"));
    assert_non_null(strstr(lbuf, "err=\"HTTP error\" http=502"));
    assert_non_null(strstr(lbuf, "err=\"parse error\""));
    assert_non_null(strstr(lbuf, "err=\"network error\""));
    assert_non_null(strstr(lbuf, "err=\"timed out\""));
    assert_null(strstr(lbuf, fakebot_token(f->fb)));
    free(lbuf);
    mem_sink_release(&s);
    tg_client_free(c);
}

static void test_bot_poller_drops_updates_without_id(void **state)
{
    struct fx *f = *state;
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    s.target = 2;
    fakebot_inject_raw(f->fb, "getUpdates", 1, 200,
                       "{\"ok\":true,\"result\":[{\"update_id\":7,\"message\":{}},"
                       "{\"message\":{}},\"junk\",{\"update_id\":\"8\"},"
                       "{\"update_id\":9}]}");
    struct poller_run r;
    poller_start(&r, f->c, &s, 0);
    poller_join(&r, &s, 5000);
    assert_int_equal(r.rc, TL_ESTOP);
    assert_int_equal(s.n_ids, 2);
    assert_int_equal(s.ids[0], 7);
    assert_int_equal(s.ids[1], 9);
    assert_false(s.bad_offset);
    mem_sink_release(&s);
}

static void test_bot_poller_stops_on_401_and_409(void **state)
{
    struct fx *f = *state;
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    assert_int_equal(fakebot_push_synthetic(f->fb, 3, 1), TL_OK);
    const struct {
        enum fakebot_fault fault;
        int rc, code;
        const char *log;
    } cases[] = {{FB_401, TL_EAUTH, 401, "getUpdates unauthorized"},
                 {FB_409, TL_ECONFLICT, 409, "getUpdates conflict"}};
    for (size_t i = 0; i < 2; i++) {
        fakebot_inject(f->fb, "getUpdates", cases[i].fault, 1, 0);
        FILE *lf;
        char *lbuf = NULL;
        size_t llen = 0;
        capture_begin(&lf, &lbuf, &llen);
        struct poller_run r;
        poller_start(&r, f->c, &s, 0);
        pthread_join(r.th, NULL);
        capture_end(lf, &lbuf);
        assert_int_equal(r.rc, cases[i].rc);
        assert_int_equal(r.ei.tg_code, cases[i].code);
        assert_non_null(strstr(lbuf, cases[i].log));
        free(lbuf);
    }
    assert_int_equal(s.n_ids, 0);
    assert_int_equal(fakebot_pending(f->fb), 3);
    mem_sink_release(&s);
}

static void test_bot_poller_stops_on_unusable_base(void **state)
{
    struct fx *f = *state;
    struct tg_client_opts o = {.api_base = "ftp://127.0.0.1:1", .token = "1:x"};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    struct poller_run r;
    poller_start(&r, c, &s, 0);
    pthread_join(r.th, NULL);
    assert_int_equal(r.rc, TL_ECONFIG);
    tg_client_free(c);
    mem_sink_release(&s);
}

static void test_bot_poller_stop_ends_long_poll(void **state)
{
    struct fx *f = *state;
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    struct poller_run r;
    poller_start_t(&r, f->c, &s, 0, 30);
    assert_int_equal(fakebot_wait_count(f->fb, "getUpdates", 1, 2000), TL_OK);
    tl_sleep_ms(100, NULL);
    int64_t t0 = tl_now_ms();
    r.stop = 1;
    pthread_join(r.th, NULL);
    assert_int_equal(r.rc, TL_ESTOP);
    assert_true(tl_now_ms() - t0 < 1000);
    mem_sink_release(&s);
}

/* ---- sender ---- */

struct out_row {
    struct tg_outmsg m;
    int state; /* 0 due, 1 claimed, 2 recorded */
    struct tg_send_result r;
    char error[512];
    int64_t sent_at;
};

struct out_sink {
    struct out_row *rows;
    size_t n;
    int releases;
};

static int out_claim(void *ud, size_t max, struct tg_outmsg **msgs, size_t *n,
                     struct tl_errinfo *ei)
{
    struct out_sink *s = ud;
    *msgs = NULL;
    *n = 0;
    for (size_t i = 0; i < s->n && *n < max; i++) {
        if (s->rows[i].state != 0)
            continue;
        if (!*msgs)
            *msgs = calloc(max, sizeof(**msgs));
        (*msgs)[*n] = s->rows[i].m;
        (*msgs)[*n].method = tl_strdup(s->rows[i].m.method);
        (*msgs)[*n].params_json = tl_strdup(s->rows[i].m.params_json);
        (*n)++;
        s->rows[i].state = 1;
    }
    return TL_OK;
}

static int out_done(void *ud, const struct tg_outmsg *m, const struct tg_send_result *r,
                    struct tl_errinfo *ei)
{
    struct out_sink *s = ud;
    for (size_t i = 0; i < s->n; i++) {
        if (s->rows[i].m.id != m->id)
            continue;
        s->rows[i].state = 2;
        s->rows[i].r = *r;
        tl_strlcpy(s->rows[i].error, r->error ? r->error : "", sizeof(s->rows[i].error));
        s->rows[i].r.error = s->rows[i].error;
        s->rows[i].sent_at = tl_now_ms();
    }
    return TL_OK;
}

static void out_release(void *ud, struct tg_outmsg *msgs, size_t n)
{
    struct out_sink *s = ud;
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].method);
        free(msgs[i].params_json);
    }
    free(msgs);
    s->releases++;
}

static void out_add(struct out_sink *s, long long id, long long chat, const char *method,
                    const char *params, int attempts)
{
    s->rows = realloc(s->rows, (s->n + 1) * sizeof(*s->rows));
    struct out_row *r = &s->rows[s->n++];
    memset(r, 0, sizeof(*r));
    r->m.id = id;
    r->m.chat_id = chat;
    r->m.method = (char *)method;
    r->m.params_json = (char *)params;
    r->m.attempts = attempts;
}

static struct out_row *out_row(struct out_sink *s, long long id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->rows[i].m.id == id)
            return &s->rows[i];
    fail_msg("no outbox row %lld", id);
    return NULL;
}

static int run_sender(struct tg_client *c, struct out_sink *s, long rate)
{
    struct tg_send_sink sink = {s, out_claim, out_done, out_release, NULL};
    struct tg_sender_opts o = {.rate_per_s = rate, .idle_wait_ms = 20, .max_attempts = 20};
    volatile sig_atomic_t stop = 0, drain = 1;
    return tg_sender_run(c, &o, &sink, &stop, &drain);
}

static void test_bot_sender_outcomes(void **state)
{
    struct fx *f = *state;
    struct out_sink s = {0};
    fakebot_set_blocked_chat(f->fb, 66);
    fakebot_inject(f->fb, "sendMessage", FB_429, 1, 3);
    out_add(&s, 1, 10, "sendMessage", "{\"chat_id\":10,\"text\":\"a\"}", 0);
    out_add(&s, 2, 66, "sendMessage", "{\"chat_id\":66,\"text\":\"b\"}", 0);
    out_add(&s, 3, 11, "sendMessage", "{\"chat_id\":11,\"text\":\"\"}", 0);
    out_add(&s, 4, 12, "answerCallbackQuery", "{\"callback_query_id\":\"cb1\"}", 0);
    out_add(&s, 5, 12, "sendMessage", "{\"chat_id\":12,\"text\":\"c\",\"parse_mode\":\"HTML\"}", 0);
    assert_int_equal(run_sender(f->c, &s, 100), TL_OK);
    struct out_row *r = out_row(&s, 1);
    assert_int_equal(r->r.outcome, TG_SEND_RETRY);
    assert_int_equal(r->r.retry_ms, 3000);
    assert_string_equal(r->error, "Too Many Requests: retry after 3");
    r = out_row(&s, 2);
    assert_int_equal(r->r.outcome, TG_SEND_BLOCKED);
    assert_string_equal(r->error, "Forbidden: bot was blocked by the user");
    r = out_row(&s, 3);
    assert_int_equal(r->r.outcome, TG_SEND_FAILED);
    assert_string_equal(r->error, "Bad Request: message text is empty");
    r = out_row(&s, 4);
    assert_int_equal(r->r.outcome, TG_SENT);
    assert_int_equal(r->r.message_id, 0);
    r = out_row(&s, 5);
    assert_int_equal(r->r.outcome, TG_SENT);
    assert_int_equal(r->r.message_id, 1);
    assert_string_equal(r->error, "");
    assert_int_equal(s.releases, 1);
    /* the params went out as stored */
    char *txt = fakebot_calls_json(f->fb, "sendMessage");
    struct json_object *calls = json_tokener_parse(txt), *p;
    free(txt);
    assert_int_equal(json_object_array_length(calls), 4);
    json_object_object_get_ex(json_object_array_get_idx(calls, 3), "params", &p);
    assert_json_eq(json_object_to_json_string(p),
                   "{\"chat_id\":12,\"text\":\"c\",\"parse_mode\":\"HTML\"}");
    json_object_put(calls);
    free(s.rows);
}

static void test_bot_sender_retry_then_give_up(void **state)
{
    struct fx *f = *state;
    struct out_sink s = {0};
    fakebot_inject(f->fb, NULL, FB_500, 2, 0);
    fakebot_inject(f->fb, NULL, FB_DROP, 1, 0);
    out_add(&s, 6, 20, "sendMessage", "{\"chat_id\":20,\"text\":\"a\"}", 0);
    out_add(&s, 7, 21, "sendMessage", "{\"chat_id\":21,\"text\":\"b\"}", 19);
    out_add(&s, 8, 22, "sendMessage", "{\"chat_id\":22,\"text\":\"c\"}", 3);
    assert_int_equal(run_sender(f->c, &s, 100), TL_OK);
    struct out_row *r = out_row(&s, 6);
    assert_int_equal(r->r.outcome, TG_SEND_RETRY);
    assert_true(r->r.retry_ms >= 500 && r->r.retry_ms <= 1000);
    assert_string_equal(r->error, "Internal Server Error");
    r = out_row(&s, 7); /* its 20th attempt: no more retries */
    assert_int_equal(r->r.outcome, TG_SEND_FAILED);
    assert_string_equal(r->error, "Internal Server Error");
    r = out_row(&s, 8);
    assert_int_equal(r->r.outcome, TG_SEND_RETRY);
    assert_true(r->r.retry_ms >= 500 && r->r.retry_ms <= 8000);
    assert_true(r->error[0] != 0);
    free(s.rows);
}

static void test_bot_sender_pauses_on_repeated_429(void **state)
{
    struct fx *f = *state;
    struct out_sink s = {0};
    fakebot_inject(f->fb, "sendMessage", FB_429, 2, 1);
    out_add(&s, 1, 30, "sendMessage", "{\"chat_id\":30,\"text\":\"a\"}", 0);
    out_add(&s, 2, 31, "sendMessage", "{\"chat_id\":31,\"text\":\"b\"}", 0);
    out_add(&s, 3, 32, "sendMessage", "{\"chat_id\":32,\"text\":\"c\"}", 0);
    assert_int_equal(run_sender(f->c, &s, 100), TL_OK);
    assert_int_equal(out_row(&s, 1)->r.outcome, TG_SEND_RETRY);
    assert_int_equal(out_row(&s, 2)->r.outcome, TG_SEND_RETRY);
    assert_int_equal(out_row(&s, 2)->r.retry_ms, 1000);
    assert_int_equal(out_row(&s, 3)->r.outcome, TG_SENT);
    /* the third waited out the flood wait instead of following at 100/s */
    assert_true(out_row(&s, 3)->sent_at - out_row(&s, 2)->sent_at >= 950);
    free(s.rows);
}

static void test_bot_sender_global_rate(void **state)
{
    struct fx *f = *state;
    struct out_sink s = {0};
    char *params[25];
    for (int i = 0; i < 25; i++) {
        params[i] = tl_asprintf("{\"chat_id\":%d,\"text\":\"m%d\"}", 500 + i, i);
        out_add(&s, 100 + i, 500 + i, "sendMessage", params[i], 0);
    }
    int64_t t0 = tl_now_ms();
    assert_int_equal(run_sender(f->c, &s, 20), TL_OK);
    int64_t took = tl_now_ms() - t0;
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(s.rows[i].r.outcome, TG_SENT);
    /* 25 sends at 20/s, the bucket holding one token beyond the pace: two at once, then
     * 23 gaps of 50 ms; and no 1 s window holds more than 21 */
    print_message("25 messages at 20/s took %lld ms\n", (long long)took);
    assert_true(took >= 1100);
    for (size_t i = 21; i < s.n; i++)
        assert_true(s.rows[i].sent_at - s.rows[i - 21].sent_at >= 950);
    /* the same work unthrottled is much faster: the wait is the limiter */
    for (size_t i = 0; i < s.n; i++)
        s.rows[i].state = 0;
    t0 = tl_now_ms();
    assert_int_equal(run_sender(f->c, &s, 10000), TL_OK);
    assert_true(tl_now_ms() - t0 < 900);
    assert_int_equal(fakebot_count(f->fb, "sendMessage"), 50);
    for (int i = 0; i < 25; i++)
        free(params[i]);
    free(s.rows);
}

static void *set_after(void *arg)
{
    tl_sleep_ms(150, NULL);
    *(volatile sig_atomic_t *)arg = 1;
    return NULL;
}

static void test_bot_sender_stops(void **state)
{
    struct fx *f = *state;
    struct out_sink s = {0};
    struct tg_send_sink sink = {&s, out_claim, out_done, out_release, NULL};
    struct tg_sender_opts o = {.rate_per_s = 30};
    volatile sig_atomic_t stop = 0;
    pthread_t th;
    pthread_create(&th, NULL, set_after, (void *)&stop);
    int64_t t0 = tl_now_ms();
    assert_int_equal(tg_sender_run(f->c, &o, &sink, &stop, NULL), TL_ESTOP);
    pthread_join(th, NULL);
    assert_true(tl_now_ms() - t0 < 1000);
}

/* ---- the token never reaches a log ---- */

static void test_bot_token_never_logged(void **state)
{
    struct fx *f = *state;
    const char *token = "987654321:SECRETtokenMustNotLeak_xyz";
    int saved = log_level;
    log_level = LOG_DEBUG;
    FILE *lf;
    char *lbuf = NULL;
    size_t llen = 0;
    capture_begin(&lf, &lbuf, &llen);

    /* connection refused, through the client and through the poller's retries */
    struct tg_client_opts o = {.api_base = "http://127.0.0.1:1",
                               .token = token,
                               .connect_timeout_ms = 500,
                               .timeout_ms = 500};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    struct tl_errinfo ei;
    char *name = NULL;
    assert_int_equal(tg_get_me(c, &name, &ei), TL_ENET);
    assert_null(strstr(ei.msg, token));
    struct mem_sink s;
    mem_sink_init(&s, f->fb);
    struct poller_run r;
    poller_start(&r, c, &s, 0);
    tl_sleep_ms(300, NULL);
    r.stop = 1;
    pthread_join(r.th, NULL);
    unsigned char *buf = NULL;
    size_t len;
    assert_int_equal(tg_download_file(c, "photos/x.jpg", 100, &buf, &len, &ei), TL_ENET);
    tg_client_free(c);

    /* a timeout and a cut connection from a server that knows this token (and logs
     * every call), and a 401 from one that does not */
    struct fakebot_opts fo = {.token = token, .quiet = 0};
    struct fakebot *fb2 = NULL;
    assert_int_equal(fakebot_start(&fo, &fb2), TL_OK);
    o.api_base = fakebot_base_url(fb2);
    o.timeout_ms = 200;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    fakebot_inject(fb2, NULL, FB_SLOW, 1, 1000);
    assert_int_equal(tg_get_me(c, &name, &ei), TL_ETIMEOUT);
    assert_null(strstr(ei.msg, token));
    fakebot_inject(fb2, NULL, FB_DROP, 1, 0);
    assert_int_equal(tg_get_me(c, &name, &ei), TL_ENET);
    assert_null(strstr(ei.msg, token));
    tg_client_free(c);
    fakebot_stop(fb2);
    o.api_base = fakebot_base_url(f->fb);
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    assert_int_equal(tg_get_me(c, &name, &ei), TL_EAUTH);
    tg_client_free(c);
    mem_sink_release(&s);

    capture_end(lf, &lbuf);
    log_level = saved;
    /* the failing URLs were logged, masked */
    assert_non_null(strstr(lbuf, "url=http://127.0.0.1:1/bot***/getMe"));
    assert_non_null(strstr(lbuf, "url=http://127.0.0.1:1/file/bot***/photos/x.jpg"));
    assert_non_null(strstr(lbuf, "retry_in_ms="));
    assert_non_null(strstr(lbuf, "err=\"timed out\""));
    assert_non_null(strstr(lbuf, "transfer closed"));
    assert_non_null(strstr(lbuf, "msg=\"fakebot call\" method=getMe"));
    assert_null(strstr(lbuf, token));
    assert_null(strstr(lbuf, "SECRETtoken"));
    free(lbuf);
}

static void test_bot_mask_covers_encoded_token(void **state)
{
    struct tg_client_opts o = {.api_base = "http://127.0.0.1:1", .token = "123:ABC"};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    char *m = tg_client_mask(c, "a 123:ABC b 123%3AABC c 123%3aABC d");
    assert_string_equal(m, "a *** b *** c *** d");
    free(m);
    tg_client_free(c);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bot_get_me, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_wrong_token_is_eauth, setup, teardown),
        cmocka_unit_test(test_bot_client_rejects_unsafe_token),
        cmocka_unit_test_setup_teardown(test_bot_api_base_from_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_get_updates_params_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_long_poll_waits_and_wakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_second_poller_gets_409, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_real_updates_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_send_message_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_answer_callback_query_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_delete_message_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_fakebot_honours_allowed_updates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_tg_call_passes_params_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_get_file_and_download, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_faults_map_to_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_slow_answer_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_fakebot_form_and_query_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_failed_store_refetches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_faults_lose_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_drops_updates_without_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stops_on_401_and_409, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stops_on_unusable_base, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stop_ends_long_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_retry_then_give_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_pauses_on_repeated_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_global_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bot_token_never_logged, setup, teardown),
        cmocka_unit_test(test_bot_mask_covers_encoded_token),
    };
    int failed = cmocka_run_group_tests_name("bot", tests, NULL, NULL);
    failed += test_bot_update_group();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
