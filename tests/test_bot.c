/* tests/test_bot.c - the Bot API client against the fake Bot API server on loopback:
 * exact params sent, every fault mapped, the fake's own form and query params, and the
 * token masked in URLs; the fixture the test_bot program's files share (test_bot.h).
 * The poller's and the sender's tests are in test_bot_loops.c, the update parser's in
 * test_bot_update.c. */
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
#include "tests/test_bot.h"
#include "common/banned.h"

struct tg_client *tbot_client_for(struct fakebot *fb, const char *token, long timeout_ms)
{
    struct tg_client_opts o = {.api_base = fakebot_base_url(fb),
                               .token = token ? token : fakebot_token(fb),
                               .connect_timeout_ms = 1000,
                               .timeout_ms = timeout_ms};
    struct tg_client *c = NULL;
    assert_int_equal(tg_client_new(&o, &c), TL_OK);
    return c;
}

int tbot_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct fakebot_opts o = {.quiet = 1};
    if (!f || fakebot_start(&o, &f->fb) != TL_OK)
        return -1;
    f->c = tbot_client_for(f->fb, NULL, 2000);
    *state = f;
    return 0;
}

int tbot_teardown(void **state)
{
    struct fx *f = *state;
    tg_client_free(f->c);
    fakebot_stop(f->fb);
    free(f);
    return 0;
}

/* Parses both texts and compares them as JSON values (key order ignored). */
void tbot_assert_json_eq(const char *actual, const char *expected)
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

void tbot_assert_calls(struct fakebot *fb, const char *method, const char *expected)
{
    char *got = fakebot_calls_json(fb, method);
    assert_non_null(got);
    tbot_assert_json_eq(got, expected);
    free(got);
}

long long tbot_upd_id(struct json_object *arr, size_t i)
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
    tbot_assert_calls(f->fb, NULL, "[{\"method\":\"getMe\",\"params\":{}}]");
}

static void test_bot_wrong_token_is_eauth(void **state)
{
    struct fx *f = *state;
    struct tg_client *bad = tbot_client_for(f->fb, "1:WrongToken", 2000);
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
    assert_int_equal(tbot_upd_id(arr, 0), 1);
    assert_int_equal(tbot_upd_id(arr, 1), 2);
    json_object_put(arr);
    tbot_assert_calls(
        f->fb, "getUpdates",
        "[{\"method\":\"getUpdates\",\"params\":{\"offset\":0,\"timeout\":0,\"limit\":2,"
        "\"allowed_updates\":[\"message\",\"edited_message\",\"callback_query\","
        "\"my_chat_member\"]}}]");
    assert_int_equal(fakebot_pending(f->fb), 3);
    assert_int_equal(fakebot_acked_offset(f->fb), 0);
    /* the next offset acknowledges 1 and 2 */
    assert_int_equal(tg_get_updates(f->c, 3, 0, 100, &arr, &ei), TL_OK);
    assert_int_equal(json_object_array_length(arr), 1);
    assert_int_equal(tbot_upd_id(arr, 0), 3);
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
    struct tg_client *c = tbot_client_for(f->fb, NULL, 500);
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
    struct poll_thread t = {.c = tbot_client_for(f->fb, NULL, 2000), .timeout_s = 5};
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
    assert_int_equal(mid, FAKEBOT_FIRST_BOT_MESSAGE);
    assert_int_equal(tg_send_message(f->c, -100123, "two", NULL, &mid, &ei), TL_OK);
    assert_int_equal(mid, FAKEBOT_FIRST_BOT_MESSAGE + 1);
    tbot_assert_calls(f->fb, "sendMessage",
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
    tbot_assert_calls(
        f->fb, "answerCallbackQuery",
        "[{\"method\":\"answerCallbackQuery\",\"params\":{\"callback_query_id\":\"q1\","
        "\"text\":\"Thanks\"}},{\"method\":\"answerCallbackQuery\",\"params\":"
        "{\"callback_query_id\":\"q2\"}}]");
}

static void test_bot_delete_message_params(void **state)
{
    struct fx *f = *state;
    assert_int_equal(tg_delete_message(f->c, -100777, 42, NULL), TL_OK);
    tbot_assert_calls(f->fb, NULL,
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
    assert_int_equal(tbot_upd_id(arr, 0), 2);
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
    tbot_assert_calls(
        f->fb, "editMessageText",
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
    tbot_assert_calls(f->fb, "getFile",
                      "[{\"method\":\"getFile\",\"params\":{\"file_id\":\"AgAC1\"}}]");
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
    struct tg_client *c = tbot_client_for(f->fb, NULL, 300);
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
    tbot_assert_json_eq((char *)b.data, "{\"ok\":true,\"result\":[]}");
    free(url);
    tl_buf_clear(&b);
    url = tl_asprintf("%s/botWRONG/getMe", fakebot_base_url(f->fb));
    assert_int_equal(raw_request(url, NULL, &b), 401);
    tbot_assert_json_eq((char *)b.data, "{\"ok\":false,\"error_code\":401,\"description\":"
                                        "\"Unauthorized\"}");
    free(url);
    tl_buf_release(&b);
    tbot_assert_calls(f->fb, NULL,
                      "[{\"method\":\"sendMessage\",\"params\":{\"chat_id\":\"7\",\"text\":\"hello "
                      "world! Я\"}},{\"method\":\"getUpdates\",\"params\":{\"offset\":\"5\","
                      "\"limit\":\"3\"}}]");
    assert_int_equal(fakebot_acked_offset(f->fb), 5);
}

/* ---- the token never reaches a log ---- */

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
        cmocka_unit_test_setup_teardown(test_bot_get_me, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_wrong_token_is_eauth, tbot_setup, tbot_teardown),
        cmocka_unit_test(test_bot_client_rejects_unsafe_token),
        cmocka_unit_test_setup_teardown(test_bot_api_base_from_env, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_get_updates_params_and_ack, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_long_poll_waits_and_wakes, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_second_poller_gets_409, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_real_updates_round_trip, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_send_message_params, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_answer_callback_query_params, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_delete_message_params, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_fakebot_honours_allowed_updates, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_tg_call_passes_params_verbatim, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_get_file_and_download, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_faults_map_to_errors, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_slow_answer_times_out, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_fakebot_form_and_query_params, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test(test_bot_mask_covers_encoded_token),
    };
    int failed = cmocka_run_group_tests_name("bot", tests, NULL, NULL);
    failed += test_bot_loops_group();
    failed += test_bot_update_group();
    curl_global_cleanup();
    return failed ? 1 : 0;
}
