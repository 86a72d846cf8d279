/* tests/test_web_live.c - test_web: live updates within a second (follow-ups too),
 * streams that end and resume from Last-Event-ID with the account re-checked, and live
 * events written only while a server reads them and read once each even when their
 * transaction commits late. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_web_int.h"
#include "common/banned.h"

/* ---- live updates ---- */

static size_t sse_data(char *p, size_t sz, size_t n, void *ud)
{
    struct sse_client *s = ud;
    pthread_mutex_lock(&s->mu);
    int e = tl_buf_append(&s->got, p, sz * n);
    pthread_mutex_unlock(&s->mu);
    return e ? 0 : sz * n;
}

static int sse_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return ((struct sse_client *)ud)->stop;
}

void *tweb_sse_main(void *arg)
{
    struct sse_client *s = arg;
    CURL *c = curl_easy_init();
    char url[128], auth[128];
    char *tok = tweb_token_of(s->as);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/events", s->f->port);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
    free(tok);
    struct curl_slist *h = curl_slist_append(NULL, auth);
    char lei[96];
    if (s->last_id) {
        snprintf(lei, sizeof(lei), "Last-Event-ID: %s", s->last_id);
        h = curl_slist_append(h, lei);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sse_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    s->done = 1;
    return NULL;
}

long tweb_sse_wait(struct sse_client *s, const char *needle, long ms)
{
    int64_t t0 = tl_now_ms();
    while (tl_now_ms() - t0 <= ms) {
        pthread_mutex_lock(&s->mu);
        int hit = s->got.data && strstr((char *)s->got.data, needle);
        pthread_mutex_unlock(&s->mu);
        if (hit)
            return (long)(tl_now_ms() - t0);
        tl_sleep_ms(5, NULL);
    }
    return -1;
}

static void test_web_sse_sees_claim(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_sse", NULL);
    long long id = tweb_seed_simple(f, "S-1");
    struct sse_client a = {.f = f, .as = "alice"}, m = {.f = f, .as = "mona"};
    pthread_t ta, tm;
    pthread_mutex_init(&a.mu, NULL);
    pthread_mutex_init(&m.mu, NULL);
    tl_buf_init(&a.got, 0);
    tl_buf_init(&m.got, 0);
    assert_int_equal(pthread_create(&ta, NULL, tweb_sse_main, &a), 0);
    assert_int_equal(pthread_create(&tm, NULL, tweb_sse_main, &m), 0);
    assert_true(tweb_sse_wait(&a, ": connected", 5000) >= 0);
    assert_true(tweb_sse_wait(&m, ": connected", 5000) >= 0);
    /* bob claims: both watchers see it within a second */
    int64_t t0 = tl_now_ms();
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "bob"});
    assert_int_equal(r.status, 200);
    tweb_hres_release(&r);
    char want[128];
    snprintf(want, sizeof(want),
             "event: claim\ndata: {\"id\":%lld,\"status\":\"new\","
             "\"claimed_by\":\"bob\"",
             id);
    long ta_ms = tweb_sse_wait(&a, want, 1000), tm_ms = tweb_sse_wait(&m, want, 1000);
    long total = (long)(tl_now_ms() - t0);
    if (ta_ms < 0 || tm_ms < 0)
        fail_msg("claim not seen within 1 s: got [%s]", (char *)a.got.data);
    print_message("claim seen by two SSE clients %ld ms after the request was sent\n", total);
    /* a new report and a decision are announced too */
    long long id2 = tweb_seed_simple(f, "S-2");
    snprintf(want, sizeof(want), "event: report\ndata: {\"id\":%lld", id2);
    assert_true(tweb_sse_wait(&a, want, 1000) >= 0);
    char path[64];
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", id);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "bob", .body = "{\"status\":\"confirmed\"}"},
        200, NULL);
    snprintf(want, sizeof(want), "event: decide\ndata: {\"id\":%lld,\"status\":\"confirmed\"", id);
    assert_true(tweb_sse_wait(&a, want, 1000) >= 0);
    /* a follow-up asked, relayed and answered is announced each time (0012), without its
     * text; an update that changes none of relayed_at, relay_error, answer is not */
    snprintf(path, sizeof(path), "/api/reports/%lld/followup", id2);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "alice", .body = "{\"question\":\"where?\"}"},
        201, NULL);
    char *fid = tweb_scalar(f, "SELECT id FROM followups");
    char fw[192];
    snprintf(fw, sizeof(fw),
             "event: followup\ndata: {\"id\":%lld,\"followup\":%s,\"answered\":false,"
             "\"failed\":false,\"queue\":\"general\"}",
             id2, fid);
    assert_true(tweb_sse_wait(&a, fw, 1000) >= 0);
    const char *steps[] = {
        "UPDATE followups SET relayed_at = now() RETURNING id",
        "UPDATE followups SET answer = 'by the bridge', answered_at = now() RETURNING id",
        "UPDATE followups SET answered_at = answered_at RETURNING id"};
    size_t want_n[] = {2, 3, 3};
    for (size_t k = 0; k < 3; k++) {
        tweb_sql(f, steps[k]);
        /* a later report's event: once it is seen, anything before it was sent */
        char ref[16];
        snprintf(ref, sizeof(ref), "S-F%zu", k);
        long long later = tweb_seed_simple(f, ref);
        snprintf(want, sizeof(want), "event: report\ndata: {\"id\":%lld", later);
        assert_true(tweb_sse_wait(&a, want, 1000) >= 0);
        pthread_mutex_lock(&a.mu);
        int leaked = strstr((char *)a.got.data, "by the bridge") != NULL ||
                     strstr((char *)a.got.data, "where?") != NULL;
        size_t nfollow = 0;
        for (const char *p = (char *)a.got.data; (p = strstr(p, "event: followup")); p++)
            nfollow++;
        pthread_mutex_unlock(&a.mu);
        assert_false(leaked);
        if (nfollow != want_n[k])
            fail_msg("after [%s]: %zu followup events, expected %zu", steps[k], nfollow, want_n[k]);
    }
    snprintf(fw, sizeof(fw), "\"followup\":%s,\"answered\":true", fid);
    assert_true(tweb_sse_wait(&a, fw, 10) >= 0);
    free(fid);
    /* events of a restricted queue reach its members only */
    struct seed sd = {.ref = "S-COL", .category = "collaborators", .lat = 50, .lon = 30};
    long long col = tweb_seed(f, &sd);
    long long id3 =
        tweb_seed_simple(f, "S-3"); /* after it: once this is seen, the other was sent */
    snprintf(want, sizeof(want), "event: report\ndata: {\"id\":%lld", id3);
    assert_true(tweb_sse_wait(&a, want, 1000) >= 0);
    snprintf(want, sizeof(want), "{\"id\":%lld", col);
    assert_int_equal(tweb_sse_wait(&a, want, 50), -1);
    a.stop = m.stop = 1;
    pthread_join(ta, NULL);
    pthread_join(tm, NULL);
    tl_buf_release(&a.got);
    tl_buf_release(&m.got);
    tweb_fx_free(f);
}

static void tune_sse_short(struct cfg *c)
{
    c->sse_max_seconds = 1;
}

int tweb_sse_connect(struct sse_client *s, pthread_t *th)
{
    tl_buf_release(&s->got);
    tl_buf_init(&s->got, 0);
    s->done = 0;
    s->status = 0;
    assert_int_equal(pthread_create(th, NULL, tweb_sse_main, s), 0);
    for (int64_t t0 = tl_now_ms(); tl_now_ms() - t0 < 5000; tl_sleep_ms(5, NULL)) {
        int ended = s->done;
        if (tweb_sse_wait(s, ": connected", 0) >= 0)
            return 1;
        if (ended)
            return 0;
    }
    return 0;
}

/* The id line of the frame whose text starts with `frame`, into id. */
static void sse_id_of(struct sse_client *s, const char *frame, char *id, size_t idsz)
{
    pthread_mutex_lock(&s->mu);
    const char *all = (const char *)s->got.data, *p = all ? strstr(all, frame) : NULL;
    const char *l = p;
    while (l && l > all && !(l[-1] == '\n' && strncmp(l, "id: ", 4) == 0))
        l--;
    int ok = p && l && strncmp(l, "id: ", 4) == 0 && strchr(l, '\n') < p + 1;
    if (ok)
        snprintf(id, idsz, "%.*s", (int)(strchr(l, '\n') - l - 4), l + 4);
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        fail_msg("no id line before [%s]", frame);
}

/* A stream ends after sse_max_seconds; the reconnect (Last-Event-ID) resumes after the
 * last event seen, with the account's queues read again, and a disabled account gets no
 * stream at all. */
static void test_web_sse_reconnect_rechecks(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_sse_again", tune_sse_short);
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    struct sse_client b = {.f = f, .as = "bob"};
    pthread_t tb;
    pthread_mutex_init(&b.mu, NULL);
    tl_buf_init(&b.got, 0);
    assert_true(tweb_sse_connect(&b, &tb));
    long long g1 = tweb_seed_simple(f, "R-1");
    char want[96], id[64];
    snprintf(want, sizeof(want), "event: report\ndata: {\"id\":%lld,", g1);
    assert_true(tweb_sse_wait(&b, want, 1000) >= 0);
    sse_id_of(&b, want, id, sizeof(id));
    /* the stream ends by itself after a second */
    int64_t t0 = tl_now_ms();
    while (!b.done && tl_now_ms() - t0 < 5000)
        tl_sleep_ms(10, NULL);
    assert_true(b.done);
    assert_int_equal(b.status, 200);
    pthread_join(tb, NULL);
    /* while it is away: bob leaves the restricted queue, a report there and one in the
     * general queue arrive */
    tweb_sql(f, "DELETE FROM queue_members WHERE account = 'bob' RETURNING 1");
    struct seed sd = {.ref = "R-COL", .category = "collaborators", .lat = 50, .lon = 30};
    long long col = tweb_seed(f, &sd);
    long long g2 = tweb_seed_simple(f, "R-2");
    /* the reconnect gets what it missed, of the queues it still sees */
    b.last_id = id;
    assert_true(tweb_sse_connect(&b, &tb));
    snprintf(want, sizeof(want), "event: report\ndata: {\"id\":%lld,", g2);
    assert_true(tweb_sse_wait(&b, want, 1000) >= 0);
    snprintf(want, sizeof(want), "{\"id\":%lld,", col);
    assert_int_equal(tweb_sse_wait(&b, want, 50), -1);
    snprintf(want, sizeof(want), "{\"id\":%lld,", g1);
    assert_int_equal(tweb_sse_wait(&b, want, 10), -1); /* not again */
    b.stop = 1;
    pthread_join(tb, NULL);
    /* an id of another run of the server, of the future, or not an id: told to refetch */
    const char *odd[] = {"1-0",   "x",   "-1-2", "12", "1-", "99999999999999999999999-1",
                         "1-2-3", "1 -2"};
    char future[64];
    snprintf(future, sizeof(future), "%.*s-999999", (int)(strchr(id, '-') - id), id);
    for (size_t i = 0; i <= sizeof(odd) / sizeof(*odd); i++) {
        b.last_id = i < sizeof(odd) / sizeof(*odd) ? odd[i] : future;
        b.stop = 0;
        assert_true(tweb_sse_connect(&b, &tb));
        if (tweb_sse_wait(&b, "event: resync\ndata: {}", 1000) < 0)
            fail_msg("Last-Event-ID [%s]: no resync", b.last_id);
        b.stop = 1;
        pthread_join(tb, NULL);
    }
    /* a disabled account's reconnect is refused */
    CHECK(store_account_disable(f->s, "test", "bob", EI));
    tweb_settle(f);
    b.stop = 0;
    assert_false(tweb_sse_connect(&b, &tb));
    pthread_join(tb, NULL);
    assert_int_equal(b.status, 401);
    tl_buf_release(&b.got);
    tweb_fx_free(f);
}

/* ---- live events: written only while a web server reads them, read once each ---- */

static void test_web_events_only_when_read(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_listeners", NULL);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_listeners"), 1);
    long long n0 = tweb_count(f, "SELECT count(*) FROM web_events");
    tweb_seed_simple(f, "N-1");
    long long n1 = tweb_count(f, "SELECT count(*) FROM web_events");
    assert_true(n1 > n0);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM web_events WHERE body::json->>'event' = 'report'"
                      " AND (body::json->>'id')::bigint ="
                      " (SELECT id FROM reports WHERE public_ref = 'N-1')"),
        1);
    /* the server stopped: it unregistered, and nothing is written any more */
    web_free(f->w);
    f->w = NULL;
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_listeners"), 0);
    tweb_seed_simple(f, "N-2");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_events"), n1);
    /* a reader whose session died is forgotten when the next one starts */
    tweb_sql(f, "INSERT INTO web_listeners (pid) VALUES (1) RETURNING pid");
    tweb_start_web(f);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_listeners WHERE pid = 1"), 0);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_listeners"), 1);
    tweb_seed_simple(f, "N-3");
    assert_true(tweb_count(f, "SELECT count(*) FROM web_events") > n1);
    tweb_fx_free(f);
}

static void collect_event(void *arg, const char *body)
{
    struct tl_buf *b = arg;
    assert_int_equal(tl_buf_printf(b, "%s\n", body), TL_OK);
}

/* One poll's events, as "body\n..." (NUL-terminated in b). */
static const char *poll_events(struct store *s, struct store_events *pos, long max, int *resync,
                               struct tl_buf *b)
{
    tl_buf_clear(b);
    CHECK(store_events_poll(s, pos, max, collect_event, b, resync, EI));
    assert_int_equal(tl_buf_append(b, "", 1), TL_OK);
    return (const char *)b->data;
}

/* Ids are taken before commit: an event of a transaction still running when a later one
 * was read arrives at the poll after its commit, and once; one rolled back never does;
 * a reader too far behind is told to refetch and goes on from the newest. */
static void test_web_events_in_flight(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_ev_flight", NULL);
    struct store *s = NULL;
    struct store_events pos = {0};
    struct tl_buf b;
    int resync = 0;
    tl_buf_init(&b, 1 << 20);
    CHECK(store_open(f->ci, &s, EI));
    /* a reader deletes events older than 10 minutes, once a minute as it polls */
    tweb_sql(f, "INSERT INTO web_events (body, at) VALUES ('stale', now() - interval '11 minutes')"
                " RETURNING id");
    CHECK(store_events_attach(s, &pos, EI));
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_events WHERE body = 'stale'"), 1);
    pos.purged_ms -= 60000;
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_events WHERE body = 'stale'"), 0);
    PGconn *slow = PQconnectdb(f->ci), *gone = PQconnectdb(f->ci);
    assert_int_equal(PQstatus(slow), CONNECTION_OK);
    assert_int_equal(PQstatus(gone), CONNECTION_OK);
    PQclear(PQexec(slow, "BEGIN"));
    PQclear(PQexec(slow, "INSERT INTO web_events (body) VALUES ('slow')"));
    PQclear(PQexec(gone, "BEGIN"));
    PQclear(PQexec(gone, "INSERT INTO web_events (body) VALUES ('gone')"));
    tweb_sql(f, "INSERT INTO web_events (body) VALUES ('fast') RETURNING id");
    /* 'slow' holds a lower id than 'fast', and is not committed */
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "fast\n");
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "");
    PQclear(PQexec(slow, "COMMIT"));
    PQclear(PQexec(gone, "ROLLBACK"));
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "slow\n");
    assert_string_equal(poll_events(s, &pos, 100, &resync, &b), "");
    /* a transaction that began before the reader attached, and commits after */
    PQclear(PQexec(slow, "BEGIN"));
    PQclear(PQexec(slow, "INSERT INTO web_events (body) VALUES ('early')"));
    struct store_events late = {0};
    CHECK(store_events_attach(s, &late, EI));
    PQclear(PQexec(slow, "COMMIT"));
    assert_string_equal(poll_events(s, &late, 100, &resync, &b), "early\n");
    store_events_reset(&late);
    /* more than the batch: nothing handed on, resync, then only what comes next */
    tweb_sql(f,
             "INSERT INTO web_events (body) SELECT 'bulk' FROM generate_series(1, 5) RETURNING 1");
    assert_string_equal(poll_events(s, &pos, 4, &resync, &b), "");
    assert_int_equal(resync, 1);
    tweb_sql(f, "INSERT INTO web_events (body) VALUES ('after') RETURNING id");
    assert_string_equal(poll_events(s, &pos, 4, &resync, &b), "after\n");
    assert_int_equal(resync, 0);
    PQfinish(slow);
    PQfinish(gone);
    tl_buf_release(&b);
    store_events_reset(&pos);
    CHECK(store_events_detach(s, EI));
    store_free(s);
    tweb_fx_free(f);
}

const struct CMUnitTest tweb_live_tests[] = {
    cmocka_unit_test_teardown(test_web_sse_sees_claim, tweb_teardown),
    cmocka_unit_test_teardown(test_web_sse_reconnect_rechecks, tweb_teardown),
    cmocka_unit_test_teardown(test_web_events_only_when_read, tweb_teardown),
    cmocka_unit_test_teardown(test_web_events_in_flight, tweb_teardown),
};
const size_t tweb_live_ntests = TS_NTESTS(tweb_live_tests);
