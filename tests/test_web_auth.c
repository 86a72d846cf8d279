/* tests/test_web_auth.c - test_web: cookie login with CSRF, kept credential checks,
 * the rate limit (behind a trusted proxy too), secrets kept out of the log. */
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
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_web_int.h"
#include "common/banned.h"

/* ---- cookie sessions and CSRF ---- */

static void test_web_cookie_login_csrf(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_cookie", NULL);
    tweb_seed_simple(f, "C-1");
    char *tok = tweb_token_of("alice"), *body = tl_asprintf("{\"token\":\"%s\"}", tok);
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/login",
                               .body = "{\"token\":\"tok-nobody-12345678\"}"},
                401, "unauthorized");
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    assert_int_equal(r.status, 200);
    char *sc = tweb_header(&r, "Set-Cookie");
    assert_non_null(sc);
    assert_non_null(strstr(sc, "HttpOnly"));
    assert_non_null(strstr(sc, "SameSite=Strict"));
    assert_non_null(strstr(sc, "Path=/"));
    assert_null(strstr(sc, "Secure")); /* web_cookie_secure = 0 here */
    char cookie[128];
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    struct json_object *o = tweb_json_of(&r);
    char csrf[80];
    snprintf(csrf, sizeof(csrf), "%s", tweb_jstr(o, "csrf"));
    assert_int_equal(strlen(csrf), 64);
    assert_string_equal(tweb_jstr(o, "account"), "alice");
    json_object_put(o);
    tweb_hres_release(&r);
    /* the session is stored by its hash only */
    char sid_sha[65];
    tweb_sha256_hex(cookie + strlen("tl_session="), sid_sha);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM web_sessions WHERE sid_sha256 = '%s'", sid_sha), 1);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM web_sessions WHERE sid_sha256 = '%s'",
                                cookie + strlen("tl_session=")),
                     0);
    /* reads need no CSRF; me tells it */
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "csrf"), csrf);
    json_object_put(o);
    tweb_hres_release(&r);
    /* a state change without the header, or with a wrong one, is refused */
    tweb_expect(f,
                &(struct hreq){
                    .method = "POST", .path = "/api/queue/claim", .cookie = cookie, .body = "{}"},
                403, "csrf");
    tweb_expect(
        f,
        &(struct hreq){.method = "POST",
                       .path = "/api/queue/claim",
                       .cookie = cookie,
                       .csrf = "0000000000000000000000000000000000000000000000000000000000000000",
                       .body = "{}"},
        403, "csrf");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE claimed_by IS NOT NULL"), 0);
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/queue/claim",
                                    .cookie = cookie,
                                    .csrf = csrf,
                                    .body = "{}"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "report.ref"), "C-1");
    assert_string_equal(tweb_jstr(o, "report.claimed_by"), "alice");
    json_object_put(o);
    tweb_hres_release(&r);
    /* logout needs CSRF too, and ends the session */
    tweb_expect(f, &(struct hreq){.method = "POST", .path = "/api/logout", .cookie = cookie}, 403,
                "csrf");
    tweb_expect(
        f, &(struct hreq){.method = "POST", .path = "/api/logout", .cookie = cookie, .csrf = csrf},
        200, NULL);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 401,
                "unauthorized");
    /* an idle session expires */
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    free(sc);
    sc = tweb_header(&r, "Set-Cookie");
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    tweb_hres_release(&r);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 200, NULL);
    /* a request moves last_seen on, written at most every 30 s (not on each request) */
    tweb_sql(f, "UPDATE web_sessions SET last_seen = now() - interval '10 minutes' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 200, NULL);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM web_sessions WHERE last_seen > now() - interval '5 s'"),
        1);
    tweb_sql(f, "UPDATE web_sessions SET last_seen = now() - interval '10 seconds' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 200, NULL);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM web_sessions WHERE last_seen > now() - interval '5 s'"),
        0);
    tweb_sql(f, "UPDATE web_sessions SET last_seen = now() - interval '2 hours' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 401,
                "unauthorized");
    /* and an active one ends 12 hours after login */
    free(sc);
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    sc = tweb_header(&r, "Set-Cookie");
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    tweb_hres_release(&r);
    tweb_sql(f, "UPDATE web_sessions SET created_at = now() - interval '13 hours' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .cookie = cookie}, 401,
                "unauthorized");
    free(sc);
    free(tok);
    free(body);
    tweb_fx_free(f);
}

/* ---- kept credential checks (web/creds.c, migration 0015) ---- */

static void keep_a_minute(struct cfg *c)
{
    c->web_auth_cache_seconds = 60;
}

/* The status of GET /api/me on the server at port, with a bearer token or a cookie. */
static long me_on(unsigned port, const char *as, const char *cookie)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct hres r = tweb_http_on(
        c, port, &(struct hreq){.method = "GET", .path = "/api/me", .as = as, .cookie = cookie});
    curl_easy_cleanup(c);
    long st = r.status;
    tweb_hres_release(&r);
    return st;
}

/* A check of a token or session is kept (60 s here) and not asked of the database again;
 * every change that could undo it reaches every server on the database once it has read
 * the events (the one that made it through the API at once); a failed read drops all;
 * a token's expiry bounds how long it is kept. */
static void test_web_kept_credentials(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_kept", keep_a_minute);
    struct web *w2 = NULL; /* a second server on the same database */
    struct web_opts o = {.cfg = &f->cfg, .listen = "127.0.0.1:0"};
    struct tl_errinfo ei = {0};
    assert_int_equal(web_start(&o, &w2, &ei), TL_OK);
    unsigned p1 = f->port, p2 = web_port(w2);
    /* both readers have read once (checks are kept only while they read) */
    tweb_sql(f, "INSERT INTO web_events (body) VALUES ('{\"event\" : \"auth\"}') RETURNING 1");
    tweb_settle_on(f, f->w);
    tweb_settle_on(f, w2);

    /* kept: alice's token revoked without an event (triggers off for that statement)
     * still works, the database is not asked */
    assert_int_equal(me_on(p1, "alice", NULL), 200);
    tweb_sql(f, "SET session_replication_role = replica; UPDATE api_tokens SET revoked_at = now()"
                " WHERE account = 'alice' RETURNING 1");
    assert_int_equal(me_on(p1, "alice", NULL), 200);
    /* until the reader fails: then nothing kept counts, and the database says no */
    tweb_sql(f, "SELECT count(pg_terminate_backend(pid)) FROM web_listeners");
    long st = 200;
    for (int i = 0; i < 250 && st == 200; i++) {
        st = me_on(p1, "alice", NULL);
        if (st == 200)
            tl_sleep_ms(20, NULL);
    }
    assert_int_equal(st, 401);
    /* both readers are back (a good read after a failed one drops all once more) */
    for (int i = 0; i < 250 && tweb_count(f, "SELECT count(*) FROM web_listeners") < 2; i++)
        tl_sleep_ms(20, NULL);
    tweb_sql(f, "INSERT INTO web_events (body) VALUES ('{\"event\" : \"auth\"}') RETURNING 1");
    tweb_settle_on(f, f->w);
    tweb_settle_on(f, w2);

    /* a change by hand reaches both servers: bob's token, kept on both, revoked */
    assert_int_equal(me_on(p1, "bob", NULL), 200);
    assert_int_equal(me_on(p2, "bob", NULL), 200);
    tweb_sql(f, "UPDATE api_tokens SET revoked_at = now() WHERE account = 'bob' RETURNING 1");
    tweb_settle_on(f, f->w);
    tweb_settle_on(f, w2);
    assert_int_equal(me_on(p1, "bob", NULL), 401);
    assert_int_equal(me_on(p2, "bob", NULL), 401);

    /* the API's own change counts at once where it was made, on the other after its read */
    assert_int_equal(me_on(p1, "mona", NULL), 200);
    assert_int_equal(me_on(p2, "mona", NULL), 200);
    tweb_expect(
        f, &(struct hreq){.method = "POST", .path = "/api/accounts/mona/disable", .as = "root"},
        200, NULL);
    assert_int_equal(me_on(p1, "mona", NULL), 401);
    tweb_settle_on(f, w2);
    assert_int_equal(me_on(p2, "mona", NULL), 401);

    /* a session: kept on both, logged out on the first */
    char *tok = tweb_token_of("exa"), *body = tl_asprintf("{\"token\":\"%s\"}", tok);
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    assert_int_equal(r.status, 200);
    char *sc = tweb_header(&r, "Set-Cookie"), cookie[128], csrf[80];
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    struct json_object *jo = tweb_json_of(&r);
    snprintf(csrf, sizeof(csrf), "%s", tweb_jstr(jo, "csrf"));
    json_object_put(jo);
    tweb_hres_release(&r);
    assert_int_equal(me_on(p1, NULL, cookie), 200);
    assert_int_equal(me_on(p2, NULL, cookie), 200);
    tweb_expect(
        f, &(struct hreq){.method = "POST", .path = "/api/logout", .cookie = cookie, .csrf = csrf},
        200, NULL);
    assert_int_equal(me_on(p1, NULL, cookie), 401);
    tweb_settle_on(f, w2);
    assert_int_equal(me_on(p2, NULL, cookie), 401);

    /* a token about to expire is kept no longer than it holds */
    tweb_sql(f, "UPDATE api_tokens SET expires_at = now() + interval '1 second'"
                " WHERE account = 'root' RETURNING 1");
    tweb_settle(f);
    assert_int_equal(me_on(p1, "root", NULL), 200);
    tl_sleep_ms(1200, NULL);
    assert_int_equal(me_on(p1, "root", NULL), 401);

    free(sc);
    free(tok);
    free(body);
    web_free(w2);
    tweb_fx_free(f);
}

/* ---- rate limit ---- */

static void tune_rate(struct cfg *c)
{
    c->api_rate_per_min = 5;
    free(c->tile_url);
    c->tile_url = tl_strdup("https://{s}.tile.example.org/{z}/{x}/{y}.png");
}

static void test_web_rate_limit(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_rate", tune_rate);
    for (int i = 0; i < 5; i++)
        tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"}, 200,
                    NULL);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"});
    assert_int_equal(r.status, 429);
    char *ra = tweb_header(&r, "Retry-After");
    assert_non_null(ra);
    long long secs = 0;
    assert_int_equal(tl_parse_ll(ra, &secs), TL_OK);
    assert_true(secs >= 1 && secs <= 13);
    free(ra);
    struct json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "error"), "rate_limited");
    json_object_put(o);
    /* the tile host joins the image sources of the policy */
    char *csp = tweb_header(&r, "Content-Security-Policy");
    assert_non_null(strstr(csp, "img-src 'self' data: blob: https://*.tile.example.org;"));
    free(csp);
    tweb_hres_release(&r);
    /* the limit is per token: another account is not slowed */
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "bob"}, 200, NULL);
    /* the map's tiles draw on a budget of their own: alice, out of requests, still gets
     * five tiles, and then the tiles' budget runs out too */
    for (int i = 0; i <= 5; i++) {
        r = tweb_http(
            f, &(struct hreq){.method = "GET", .path = "/api/tiles/3/4/2.mvt", .as = "alice"});
        if (i < 5)
            assert_int_not_equal(r.status, 429);
        else
            assert_int_equal(r.status, 429);
        tweb_hres_release(&r);
    }
    /* bad tokens count against the client's address */
    for (int i = 0; i < 5; i++)
        tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "mallory"}, 401,
                    "unauthorized");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "mallory"}, 429,
                "rate_limited");
    /* with no trusted_proxies, a client's X-Forwarded-For is not believed */
    tweb_expect(f,
                &(struct hreq){.method = "GET",
                               .path = "/api/me",
                               .as = "mallory",
                               .extra = "X-Forwarded-For: 203.0.113.9"},
                429, "rate_limited");
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/config", .as = "bob"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "tile_url"), "https://{s}.tile.example.org/{z}/{x}/{y}.png");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_fx_free(f);
}

static void tune_proxy(struct cfg *c)
{
    c->api_rate_per_min = 3;
    free(c->trusted_proxies);
    c->trusted_proxies = tl_strdup("10.9.9.9, 127.0.0.1");
}

/* Behind a trusted proxy (deploy/nginx-tipline.conf) failed logins count against the
 * client X-Forwarded-For names, not against the proxy that every client comes through. */
static void test_web_rate_limit_behind_proxy(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_proxy", tune_proxy);
    struct hreq bad = {.method = "GET", .path = "/api/me", .as = "mallory"};
    bad.extra = "X-Forwarded-For: 203.0.113.7";
    for (int i = 0; i < 3; i++)
        tweb_expect(f, &bad, 401, "unauthorized");
    tweb_expect(f, &bad, 429, "rate_limited");
    /* the same client through a second trusted proxy, or with a forged address on the
     * left of the chain: still the same client */
    bad.extra = "X-Forwarded-For: 203.0.113.7, 10.9.9.9";
    tweb_expect(f, &bad, 429, "rate_limited");
    bad.extra = "X-Forwarded-For: 198.51.100.1, 203.0.113.7";
    tweb_expect(f, &bad, 429, "rate_limited");
    /* another client behind the same proxy is not slowed; nor is one named in IPv6 */
    bad.extra = "X-Forwarded-For: 203.0.113.8";
    tweb_expect(f, &bad, 401, "unauthorized");
    bad.extra = "X-Forwarded-For: 2001:db8::1";
    tweb_expect(f, &bad, 401, "unauthorized");
    /* a malformed entry: the proxy's own address counts (its budget is untouched) */
    bad.extra = "X-Forwarded-For: 203.0.113.7, not-an-address";
    tweb_expect(f, &bad, 401, "unauthorized");
    tweb_fx_free(f);
}

/* ---- secrets never reach the log ---- */

static void test_web_log_masks_secrets(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_log", NULL);
    tweb_seed_simple(f, "LOG-1");
    FILE *log = tmpfile();
    assert_non_null(log);
    int saved = log_level;
    log_level = LOG_DEBUG;
    log_set_stream(log);
    char *tok = tweb_token_of("alice"), *body = tl_asprintf("{\"token\":\"%s\"}", tok);
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/login", .body = body});
    char *sc = tweb_header(&r, "Set-Cookie");
    char cookie[128];
    snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(sc, ";"), sc);
    tweb_hres_release(&r);
    tweb_expect(
        f, &(struct hreq){.method = "GET", .path = "/api/reports?status=new", .cookie = cookie},
        200, NULL);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice"}, 200,
                NULL);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "mallory"}, 401,
                "unauthorized");
    log_set_stream(NULL);
    log_level = saved;
    size_t n = (size_t)ftell(log);
    char *text = calloc(1, n + 1);
    rewind(log);
    assert_int_equal(fread(text, 1, n, log), n);
    fclose(log);
    assert_non_null(strstr(text, "path=\"/api/queue/claim\" status=200")); /* it did log */
    assert_null(strstr(text, tok));
    assert_null(strstr(text, cookie + strlen("tl_session=")));
    assert_null(strstr(text, "tok-mallory"));
    assert_null(strstr(text, "status=new")); /* queries stay out too */
    free(text);
    free(sc);
    free(tok);
    free(body);
    tweb_fx_free(f);
}

const struct CMUnitTest tweb_auth_tests[] = {
    cmocka_unit_test_teardown(test_web_cookie_login_csrf, tweb_teardown),
    cmocka_unit_test_teardown(test_web_rate_limit, tweb_teardown),
    cmocka_unit_test_teardown(test_web_rate_limit_behind_proxy, tweb_teardown),
    cmocka_unit_test_teardown(test_web_log_masks_secrets, tweb_teardown),
    cmocka_unit_test_teardown(test_web_kept_credentials, tweb_teardown),
};
const size_t tweb_auth_ntests = TS_NTESTS(tweb_auth_tests);
