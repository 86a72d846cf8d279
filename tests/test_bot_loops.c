/* tests/test_bot_loops.c - the poller and the sender against the fake Bot API server
 * on loopback, with in-memory sinks: nothing lost or duplicated under faults and sink
 * failures, acknowledgement only after a commit, the stop conditions, every send
 * outcome recorded, the global send rate, and the token never reaching a log on the
 * client's or the poller's error paths. Part of the test_bot program. */
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
        long long id = tbot_upd_id(updates, i);
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
            s->first_failed[s->failed] = tbot_upd_id(updates, 0);
        s->failed++;
        pthread_mutex_unlock(&s->mu);
        return tl_errf(ei, TL_EDBDOWN, "connection to the database lost");
    }
    for (size_t i = 0; i < n; i++) {
        if (s->n_ids == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 256;
            s->ids = realloc(s->ids, s->cap * sizeof(*s->ids));
        }
        s->ids[s->n_ids++] = tbot_upd_id(updates, i);
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

/* Log lines go to a memory stream until capture_end, which returns the text. */
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
    struct tg_client *c = tbot_client_for(f->fb, NULL, 300); /* + the 1 s long poll */
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
    assert_int_equal(r->r.message_id, FAKEBOT_FIRST_BOT_MESSAGE);
    assert_string_equal(r->error, "");
    assert_int_equal(s.releases, 1);
    /* the params went out as stored */
    char *txt = fakebot_calls_json(f->fb, "sendMessage");
    struct json_object *calls = json_tokener_parse(txt), *p;
    free(txt);
    assert_int_equal(json_object_array_length(calls), 4);
    json_object_object_get_ex(json_object_array_get_idx(calls, 3), "params", &p);
    tbot_assert_json_eq(json_object_to_json_string(p),
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

/* ---- the token never reaches a log, from the client or the poller ---- */

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

int test_bot_loops_group(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bot_poller_failed_store_refetches, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_faults_lose_nothing, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_drops_updates_without_id, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stops_on_401_and_409, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stops_on_unusable_base, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_poller_stop_ends_long_poll, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_outcomes, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_retry_then_give_up, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_pauses_on_repeated_429, tbot_setup,
                                        tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_global_rate, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_sender_stops, tbot_setup, tbot_teardown),
        cmocka_unit_test_setup_teardown(test_bot_token_never_logged, tbot_setup, tbot_teardown),
    };
    return cmocka_run_group_tests_name("bot_loops", tests, NULL, NULL);
}
