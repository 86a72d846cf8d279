/* tests/test_web_claims.c - test_web: 8 concurrent claimers on 2 pooled connections
 * never sharing a report and expired leases coming back, audit rows with before/after
 * (a decision's minimal answer, Prefer, agreeing with the full report), restricted
 * queues and claims across queues, rounded points by role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <math.h>
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

/* ---- 8 concurrent claimers ---- */

#define CLAIMERS 8
#define QUEUE_N 64

struct claimer {
    struct fx *f;
    char name[16];
    long long got[QUEUE_N + 1];
    int n;
    int err;
    double ms[QUEUE_N + 8]; /* each claim's round trip */
    int nms;
};

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *claim_loop(void *arg)
{
    struct claimer *c = arg;
    CURL *h = curl_easy_init();
    for (int guard = 0; h && guard < QUEUE_N + 8; guard++) {
        double t0 = tl_wall_time();
        struct hres r = tweb_http_on(
            h, c->f->port,
            &(struct hreq){
                .method = "POST", .path = "/api/queue/claim", .as = c->name, .body = "{}"});
        c->ms[c->nms++] = (tl_wall_time() - t0) * 1000.0;
        struct json_object *o = json_tokener_parse((char *)r.body.data), *rep = NULL;
        int done = 1;
        if (r.status != 200 || !o || !json_object_object_get_ex(o, "report", &rep))
            c->err = 1;
        else if (rep && json_object_is_type(rep, json_type_object) && c->n < QUEUE_N)
            c->got[c->n++] = tweb_jll(rep, "id"), done = 0;
        json_object_put(o);
        tweb_hres_release(&r);
        if (done)
            break;
    }
    curl_easy_cleanup(h);
    return NULL;
}

/* Two database connections for the 8 clients: most requests wait in the server's pool
 * and are handed a connection as another request gives one back. */
static void pool_of_two(struct cfg *c)
{
    c->web_db_connections = 2;
}

static void test_web_concurrent_claims(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_claims", pool_of_two);
    for (int i = 0; i < QUEUE_N; i++) {
        char ref[16];
        snprintf(ref, sizeof(ref), "Q-%d", i);
        struct seed sd = {.ref = ref, .category = "drones", .lat = 50, .lon = 30};
        tweb_seed(f, &sd);
    }
    static struct claimer cl[CLAIMERS];
    pthread_t th[CLAIMERS];
    for (int i = 0; i < CLAIMERS; i++) {
        memset(&cl[i], 0, sizeof(cl[i]));
        cl[i].f = f;
        snprintf(cl[i].name, sizeof(cl[i].name), "an%d", i);
        tweb_account(f, cl[i].name, "analyst");
    }
    int64_t t0 = tl_now_ms();
    for (int i = 0; i < CLAIMERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, claim_loop, &cl[i]), 0);
    for (int i = 0; i < CLAIMERS; i++)
        pthread_join(th[i], NULL);
    long ms = (long)(tl_now_ms() - t0);
    static double all[CLAIMERS * (QUEUE_N + 8)];
    size_t na = 0;
    for (int i = 0; i < CLAIMERS; i++)
        for (int k = 0; k < cl[i].nms; k++)
            all[na++] = cl[i].ms[k];
    qsort(all, na, sizeof(all[0]), cmp_dbl);
    print_message("%d claims (+%d empty answers) by %d HTTP clients in %ld ms; round trip"
                  " p50 %.1f ms, p99 %.1f ms\n",
                  QUEUE_N, CLAIMERS, CLAIMERS, ms, all[na / 2], all[na * 99 / 100]);
    static int seen[QUEUE_N * 4 + 8];
    memset(seen, 0, sizeof(seen));
    int total = 0, busy = 0;
    for (int i = 0; i < CLAIMERS; i++) {
        assert_int_equal(cl[i].err, 0);
        busy += cl[i].n > 0;
        for (int k = 0; k < cl[i].n; k++) {
            long long id = cl[i].got[k];
            assert_true(id > 0 && id < (long long)(sizeof(seen) / sizeof(seen[0])));
            if (seen[id]++)
                fail_msg("report %lld claimed twice", id);
            total++;
        }
    }
    assert_int_equal(total, QUEUE_N);
    assert_true(busy >= 2); /* they really ran side by side */
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE claimed_by IS NULL"), 0);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'claim'"),
                     QUEUE_N);
    /* the queue is empty now */
    struct hres r = tweb_http(
        f,
        &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice", .body = "{}"});
    assert_string_equal((char *)r.body.data, "{\"report\":null}");
    tweb_hres_release(&r);
    /* an expired lease returns to the queue */
    char *victim =
        tweb_scalar(f, "SELECT id FROM reports WHERE claimed_by = 'an3' ORDER BY id LIMIT 1");
    if (!victim)
        victim = tweb_scalar(f, "SELECT min(id) FROM reports");
    char *holder = tweb_scalar(f, "SELECT claimed_by FROM reports WHERE id = %s", victim);
    assert_non_null(holder);
    char *q = tl_asprintf("UPDATE reports SET lease_until = now() - interval '1 second'"
                          " WHERE id = %s RETURNING id",
                          victim);
    tweb_sql(f, q);
    free(q);
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice"});
    struct json_object *o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "report.id"), strtoll(victim, NULL, 10));
    assert_string_equal(tweb_jstr(o, "report.claimed_by"), "alice");
    json_object_put(o);
    tweb_hres_release(&r);
    /* the claim's audit row keeps the expired lease it took over */
    char *was = tweb_scalar(f,
                            "SELECT concat_ws('|', before->>'claimed_by', before->>'lease_until'"
                            " IS NOT NULL, after->>'claimed_by') FROM audit_log WHERE action ="
                            " 'claim' AND actor = 'alice' AND object = 'report:%s'"
                            " ORDER BY id DESC LIMIT 1",
                            victim);
    char *want = tl_asprintf("%s|t|alice", holder);
    assert_string_equal(was, want);
    free(want);
    free(was);
    free(holder);
    /* its old holder can no longer renew or decide it */
    char path[96];
    snprintf(path, sizeof(path), "/api/reports/%s/renew", victim);
    for (int i = 0; i < CLAIMERS; i++)
        for (int k = 0; k < cl[i].n; k++)
            if (cl[i].got[k] == strtoll(victim, NULL, 10)) {
                tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = cl[i].name},
                            409, "conflict");
                snprintf(path, sizeof(path), "/api/reports/%s/decide", victim);
                tweb_expect(f,
                            &(struct hreq){.method = "POST",
                                           .path = path,
                                           .as = cl[i].name,
                                           .body = "{\"status\":\"rejected\"}"},
                            409, "conflict");
            }
    free(victim);
    tweb_fx_free(f);
}

/* ---- audit rows: claim, view, decide, renew, release ---- */

static void test_web_audit_rows(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_audit", NULL);
    long long id = tweb_seed_simple(f, "A-1");
    long long other = tweb_seed_simple(f, "A-2");
    char path[96], rpath[64];
    struct hres r = tweb_http(
        f,
        &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice", .body = "{}"});
    struct json_object *o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "report.id"), id); /* priority ties: the oldest first */
    json_object_put(o);
    tweb_hres_release(&r);
    char *a =
        tweb_scalar(f,
                    "SELECT concat_ws('|', actor, before->>'claimed_by', after->>'claimed_by',"
                    " after->>'lease_until' IS NOT NULL) FROM audit_log WHERE action = 'claim'"
                    " AND object = 'report:%lld'",
                    id);
    assert_string_equal(a, "alice|alice|t");
    free(a);
    /* the claim hands back the report: a view, audited with the claim */
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE action = 'view' AND actor ="
                                " 'alice' AND object = 'report:%lld' AND after ? 'reporter'",
                                id),
                     1);
    /* a token's last use is recorded, at most once a minute */
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM api_tokens t WHERE t.account = 'alice'"
                                   " AND t.last_used_at > now() - interval '1 minute'"),
                     1);
    tweb_sql(f, "UPDATE api_tokens SET last_used_at = now() - interval '10 seconds' WHERE account ="
                " 'alice' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"}, 200, NULL);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM api_tokens WHERE account = 'alice'"
                                   " AND last_used_at > now() - interval '5 s'"),
                     0);
    tweb_sql(f, "UPDATE api_tokens SET last_used_at = now() - interval '2 minutes' WHERE account ="
                " 'alice' RETURNING 1");
    tweb_settle(f);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"}, 200, NULL);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM api_tokens WHERE account = 'alice'"
                                   " AND last_used_at > now() - interval '5 s'"),
                     1);
    /* renew: the holder only */
    snprintf(path, sizeof(path), "/api/reports/%lld/renew", id);
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = path, .as = "alice"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_non_null(tweb_jstr(o, "lease_until"));
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "bob"}, 409, "conflict");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'renew'"), 1);
    /* a view of the report (reporter data) is audited */
    snprintf(path, sizeof(path), "/api/reports/%lld", other);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = path, .as = "mona"}, 200, NULL);
    a = tweb_scalar(f,
                    "SELECT concat_ws('|', actor, after->>'reporter') FROM audit_log"
                    " WHERE action = 'view' AND object = 'report:%lld'",
                    other);
    assert_string_equal(a, "mona|a1b2c3d4e5f6");
    free(a);
    /* decide: another analyst is refused while the lease lives */
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", id);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "bob", .body = "{\"status\":\"rejected\"}"},
        409, "conflict");
    r = tweb_http(f,
                  &(struct hreq){.method = "POST",
                                 .path = path,
                                 .as = "alice",
                                 .body = "{\"status\":\"confirmed\",\"note\":\"matches radar\"}"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "status"), "confirmed");
    assert_string_equal(tweb_jstr(o, "note"), "matches radar");
    assert_string_equal(tweb_jstr(o, "decided_by"), "alice");
    assert_null(tweb_jstr(o, "claimed_by"));
    assert_int_equal(tweb_jll(o, "reporter.n_confirmed"), 1);
    assert_true(json_object_object_get_ex(o, "media", NULL));
    assert_null(tweb_header(&r, "Preference-Applied"));
    json_object_put(o);
    tweb_hres_release(&r);
    a = tweb_scalar(f, "SELECT concat_ws('|', actor, before->>'status', before->>'claimed_by',"
                       " after->>'status', after->>'note') FROM audit_log WHERE action = 'decide'");
    assert_string_equal(a, "alice|new|alice|confirmed|matches radar");
    free(a);
    a = tweb_scalar(
        f, "SELECT concat_ws('|', status, note, decided_by) FROM reports WHERE id = %lld", id);
    assert_string_equal(a, "confirmed|matches radar|alice");
    free(a);
    assert_int_equal(tweb_count(f, "SELECT n_confirmed FROM reporters"), 1);
    /* changing the decision: reopened by its decider (the counters taken back), decided
     * again; asked for the minimal answer, it is what the decision changed, as the full
     * report shows it */
    snprintf(rpath, sizeof(rpath), "/api/reports/%lld/reopen", id);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = rpath, .as = "alice"}, 200, NULL);
    assert_int_equal(tweb_count(f, "SELECT n_confirmed FROM reporters"), 0);
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = path,
                                    .as = "alice",
                                    .body = "{\"status\":\"rejected\"}",
                                    .extra = "Prefer: handling=lenient, return=\"minimal\"; x=1"});
    assert_int_equal(r.status, 200);
    char *applied = tweb_header(&r, "Preference-Applied");
    assert_non_null(applied);
    assert_string_equal(applied, "return=minimal");
    free(applied);
    o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_false(json_object_object_get_ex(o, "media", NULL));
    assert_false(json_object_object_get_ex(o, "text", NULL));
    assert_false(json_object_object_get_ex(tweb_jget(o, "reporter"), "recent", NULL));
    snprintf(rpath, sizeof(rpath), "/api/reports/%lld", id);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = rpath, .as = "bob"});
    struct json_object *full = tweb_json_of(&r);
    tweb_hres_release(&r);
    json_object_object_foreach(o, key, val)
    {
        if (strcmp(key, "reporter") == 0) {
            json_object_object_foreach(val, rk, rv)
            {
                struct json_object *fv = tweb_jget(tweb_jget(full, "reporter"), rk);
                if (!json_object_equal(rv, fv))
                    fail_msg("minimal reporter.%s differs from the full report's", rk);
            }
            continue;
        }
        struct json_object *fv = NULL;
        if (!json_object_object_get_ex(full, key, &fv) || !json_object_equal(val, fv))
            fail_msg("minimal %s differs from the full report's", key);
    }
    assert_string_equal(tweb_jstr(o, "status"), "rejected");
    assert_string_equal(tweb_jstr(o, "decided_by"), "alice");
    assert_int_equal(tweb_jll(o, "reporter.n_rejected"), 1);
    assert_int_equal(json_object_object_length(o), 11);
    json_object_put(full);
    json_object_put(o);
    a = tweb_scalar(f, "SELECT n_confirmed || '/' || n_rejected FROM reporters");
    assert_string_equal(a, "0/1");
    free(a);
    /* duplicate of another report */
    snprintf(rpath, sizeof(rpath), "/api/reports/%lld/reopen", id);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = rpath, .as = "alice"}, 200, NULL);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "alice", .body = "{\"status\":\"duplicate\"}"},
        400, "bad_request");
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = path,
                               .as = "alice",
                               .body = "{\"status\":\"duplicate\",\"duplicate_of\":999999}"},
                400, "bad_request");
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "alice", .body = "{\"status\":\"maybe\"}"},
        400, "bad_request");
    char body[96];
    snprintf(body, sizeof(body), "{\"status\":\"duplicate\",\"duplicate_of\":%lld}", other);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = body}, 200,
                NULL);
    assert_int_equal(tweb_count(f, "SELECT duplicate_of FROM reports WHERE id = %lld", id), other);
    /* release: holder only; then the report is claimable again */
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "bob"});
    tweb_hres_release(&r);
    snprintf(path, sizeof(path), "/api/reports/%lld/release", other);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice"}, 409, "conflict");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "bob"}, 200, NULL);
    a = tweb_scalar(f, "SELECT concat_ws('|', actor, before->>'claimed_by') FROM audit_log"
                       " WHERE action = 'release'");
    assert_string_equal(a, "bob|bob");
    free(a);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE claimed_by IS NOT NULL"), 0);
    /* the shell's claim and decision (tipline triage next, decide) store the same way */
    struct store_report *sr = NULL;
    CHECK(store_triage_next(f->s, "cli-ann", 60, &sr, EI));
    assert_non_null(sr);
    assert_int_equal(sr->id, other);
    store_report_free(sr);
    CHECK(store_triage_decide(f->s, "A-2", "cli-ann", "needs_info", "ask for a photo", EI));
    a = tweb_scalar(
        f, "SELECT concat_ws('|', status, note, decided_by) FROM reports WHERE id = %lld", other);
    assert_string_equal(a, "needs_info|ask for a photo|cli-ann");
    free(a);
    /* media views are audited too */
    char *m = tweb_scalar(f, "SELECT min(id) FROM media");
    snprintf(path, sizeof(path), "/api/media/%s", m);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = path, .as = "mona"}, 200, NULL);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE action = 'view_media' AND"
                                " actor = 'mona' AND object = 'media:%s'",
                                m),
                     1);
    free(m);
    tweb_fx_free(f);
}

/* ---- routing: a restricted queue ---- */

static void test_web_restricted_queue(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_restricted", NULL);
    struct seed sd = {
        .ref = "COL-1", .category = "collaborators", .lat = 50, .lon = 30, .photos = 1};
    long long secret = tweb_seed(f, &sd);
    long long open = tweb_seed_simple(f, "OPEN-1");
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM reports WHERE queue = 'restricted' AND id ="
                                " %lld",
                                secret),
                     1);
    char path[96];
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports", .as = "alice"});
    assert_null(strstr((char *)r.body.data, "COL-1"));
    assert_non_null(strstr((char *)r.body.data, "OPEN-1"));
    tweb_hres_release(&r);
    snprintf(path, sizeof(path), "/api/reports/%lld", secret);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"}, 404, "not_found");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/reports/COL-1", .as = "mona"}, 404,
                "not_found");
    char *m = tweb_scalar(f, "SELECT id FROM media WHERE report_id = %lld", secret);
    char mpath[64];
    snprintf(mpath, sizeof(mpath), "/api/media/%s", m);
    free(m);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = mpath, .as = "alice"}, 404, "not_found");
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/queue/claim",
                               .as = "alice",
                               .body = "{\"queue\":\"restricted\"}"},
                404, "not_found");
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", secret);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "alice", .body = "{\"status\":\"rejected\"}"},
        404, "not_found");
    /* claiming from every visible queue never reaches it */
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice"});
    struct json_object *o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "report.id"), open);
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = "alice"}, 200,
                NULL);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE id = %lld AND claimed_by IS NULL",
                   secret),
        1);
    /* the reporter's history shows only reports of queues the viewer sees */
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports/OPEN-1", .as = "alice"});
    o = tweb_json_of(&r);
    assert_int_equal(json_object_array_length(tweb_jget(o, "reporter.recent")), 0);
    assert_int_equal(tweb_jll(o, "reporter.n_reports"), 1);
    json_object_put(o);
    tweb_hres_release(&r);
    /* a member sees and claims it */
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    r = tweb_http(f, &(struct hreq){.method = "GET",
                                    .path = "/api/reports?category=collaborators",
                                    .as = "bob"});
    assert_non_null(strstr((char *)r.body.data, "COL-1"));
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/queue/claim",
                                    .as = "bob",
                                    .body = "{\"queue\":\"restricted\"}"});
    o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "report.id"), secret);
    assert_string_equal(tweb_jstr(o, "report.queue"), "restricted");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = mpath, .as = "bob"}, 200, NULL);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports/OPEN-1", .as = "bob"});
    o = tweb_json_of(&r);
    assert_int_equal(json_object_array_length(tweb_jget(o, "reporter.recent")), 1);
    assert_string_equal(tweb_jstr(o, "reporter.recent.0.ref"), "COL-1");
    assert_string_equal(tweb_jstr(o, "reporter.recent.0.status"), "new");
    json_object_put(o);
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "bob"});
    o = tweb_json_of(&r);
    assert_string_equal(
        json_object_to_json_string_ext(tweb_jget(o, "queues"), JSON_C_TO_STRING_PLAIN),
        "[\"general\",\"restricted\"]");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_fx_free(f);
}

long long tweb_claim_as(struct fx *f, const char *as, const char *body, size_t *n_recent)
{
    struct hres r = tweb_http(
        f, &(struct hreq){.method = "POST", .path = "/api/queue/claim", .as = as, .body = body});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    long long id = tweb_jget(o, "report.id") ? tweb_jll(o, "report.id") : 0;
    if (n_recent) {
        assert_non_null(tweb_jget(o, "report.reporter.pseudonym"));
        assert_null(tweb_jget(o, "report.reporter.recent"));
        char path[64];
        snprintf(path, sizeof(path), "/api/reports/%lld/reporter", id);
        struct hres h = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = as});
        assert_int_equal(h.status, 200);
        struct json_object *p = tweb_json_of(&h);
        assert_string_equal(tweb_jstr(p, "pseudonym"), tweb_jstr(o, "report.reporter.pseudonym"));
        *n_recent = json_object_array_length(tweb_jget(p, "recent"));
        json_object_put(p);
        tweb_hres_release(&h);
    }
    json_object_put(o);
    tweb_hres_release(&r);
    return id;
}

/* A claim takes the best report of all the caller's queues (0011: the first claimable
 * one of each queue, then the best of those), and a claim from one queue still shows
 * the reporter's reports in the caller's other queues. */
static void test_web_claim_across_queues(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_claim_queues", NULL);
    struct seed col = {.ref = "COL-1", .category = "collaborators", .lat = 50.45, .lon = 30.52};
    long long c1 = tweb_seed(f, &col);
    col.ref = "COL-2";
    long long c2 = tweb_seed(f, &col);
    long long g1 = tweb_seed_simple(f, "GEN-1"), g2 = tweb_seed_simple(f, "GEN-2");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE queue = 'restricted'"), 2);
    /* priorities interleave the two queues: GEN-1, COL-1, GEN-2, COL-2 */
    tweb_sql(f, "UPDATE reports SET priority = CASE public_ref WHEN 'GEN-1' THEN 40"
                " WHEN 'COL-1' THEN 30 WHEN 'GEN-2' THEN 20 ELSE 10 END RETURNING 1");
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    long long want[] = {g1, c1, g2, c2, 0};
    for (size_t i = 0; i < 5; i++) {
        long long got = tweb_claim_as(f, "bob", NULL, NULL);
        if (got != want[i])
            fail_msg("claim %zu: report %lld, expected %lld", i, got, want[i]);
    }
    /* the leases lapse and COL-1 goes first of all: alice (general only) still gets the
     * best general report */
    tweb_sql(f, "UPDATE reports SET claimed_by = NULL, lease_until = NULL, priority = CASE"
                " public_ref WHEN 'COL-1' THEN 50 ELSE priority END RETURNING 1");
    assert_int_equal(tweb_claim_as(f, "alice", NULL, NULL), g1);
    /* bob claims from the restricted queue only: COL-1, with the reporter's three other
     * reports of both queues he sees in its history */
    size_t n_recent = 0;
    assert_int_equal(tweb_claim_as(f, "bob", "{\"queue\":\"restricted\"}", &n_recent), c1);
    assert_int_equal(n_recent, 3);
    /* newest first (0017 builds the list without a sort of its own) */
    tweb_sql(f, "UPDATE reports SET received_at = now() - CASE public_ref WHEN 'GEN-2' THEN"
                " interval '1 min' WHEN 'COL-2' THEN interval '2 min' WHEN 'GEN-1' THEN"
                " interval '3 min' ELSE interval '4 min' END RETURNING 1");
    char path[64];
    snprintf(path, sizeof(path), "/api/reports/%lld", c1);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "bob"});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "reporter.recent.0.ref"), "GEN-2");
    assert_string_equal(tweb_jstr(o, "reporter.recent.1.ref"), "COL-2");
    assert_string_equal(tweb_jstr(o, "reporter.recent.2.ref"), "GEN-1");
    json_object_put(o);
    tweb_hres_release(&r);
    /* the history alone: the same list; a report the caller may not see has none */
    snprintf(path, sizeof(path), "/api/reports/%lld/reporter", c1);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "bob"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_int_equal(json_object_array_length(tweb_jget(o, "recent")), 3);
    assert_string_equal(tweb_jstr(o, "recent.0.ref"), "GEN-2");
    assert_string_equal(tweb_jstr(o, "recent.2.ref"), "GEN-1");
    json_object_put(o);
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    assert_int_equal(r.status, 404);
    tweb_hres_release(&r);
    assert_int_equal(tweb_claim_as(f, "bob", "{\"queue\":\"general\"}", NULL), g2);
    tweb_fx_free(f);
}

/* ---- location precision by role ---- */

static void tune_rounded(struct cfg *c)
{
    free(c->rounded_roles);
    c->rounded_roles = tl_strdup("moderator,exporter");
    c->round_decimals = 2;
}

/* The list's summary of report id and its full report (two SQL documents since 0010)
 * agree on every key they share, as `as` sees them; the list cuts the text. */
static void assert_summary_matches(struct fx *f, const char *as, long long id)
{
    char path[64];
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports", .as = as});
    struct json_object *list = tweb_json_of(&r), *items = tweb_jget(list, "items"), *item = NULL;
    tweb_hres_release(&r);
    for (size_t i = 0; items && i < json_object_array_length(items); i++)
        if (json_object_get_int64(tweb_jget(json_object_array_get_idx(items, i), "id")) == id)
            item = json_object_array_get_idx(items, i);
    assert_non_null(item);
    snprintf(path, sizeof(path), "/api/reports/%lld", id);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = as});
    struct json_object *full = tweb_json_of(&r);
    tweb_hres_release(&r);
    size_t n = 0;
    json_object_object_foreach(item, key, val)
    {
        struct json_object *fv = NULL;
        assert_true(json_object_object_get_ex(full, key, &fv));
        const char *a = json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN);
        const char *b = json_object_to_json_string_ext(fv, JSON_C_TO_STRING_PLAIN);
        if (strcmp(key, "text") == 0)
            assert_int_equal(strncmp(json_object_get_string(val), json_object_get_string(fv),
                                     strlen(json_object_get_string(val))),
                             0);
        else if (strcmp(a, b) != 0)
            fail_msg("%s: list %s, full report %s", key, a, b);
        n++;
    }
    assert_int_equal(n, 20);
    json_object_put(full);
    json_object_put(list);
}

static void test_web_rounded_points(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_rounded", tune_rounded);
    long long id = tweb_seed_simple(f, "P-1"); /* 50.450123, 30.523456 */
    char path[64];
    snprintf(path, sizeof(path), "/api/reports/%lld", id);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "mona"});
    struct json_object *o = tweb_json_of(&r);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "point.lat")) - 50.45) < 1e-9);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "point.lon")) - 30.52) < 1e-9);
    assert_true(json_object_get_boolean(tweb_jget(o, "point.rounded")));
    assert_true(fabs(json_object_get_double(tweb_jget(o, "media.0.photo_point.lat")) - 50.12) <
                1e-9);
    assert_null(strstr((char *)r.body.data, "50.450123"));
    assert_null(strstr((char *)r.body.data, "50.1234567"));
    json_object_put(o);
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports", .as = "mona"});
    assert_null(strstr((char *)r.body.data, "50.450123"));
    assert_non_null(strstr((char *)r.body.data, "\"rounded\": true"));
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    o = tweb_json_of(&r);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "point.lat")) - 50.450123) < 1e-9);
    assert_false(json_object_get_boolean(tweb_jget(o, "point.rounded")));
    json_object_put(o);
    tweb_hres_release(&r);
    assert_summary_matches(f, "mona", id);
    assert_summary_matches(f, "alice", id);
    tweb_sql(f, "UPDATE reports SET status = 'confirmed' RETURNING 1");
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/export.geojson", .as = "exa"});
    o = tweb_json_of(&r);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "features.0.geometry.coordinates.1")) -
                     50.45) < 1e-9);
    assert_true(json_object_get_boolean(tweb_jget(o, "features.0.properties.rounded")));
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_fx_free(f);
}

const struct CMUnitTest tweb_claims_tests[] = {
    cmocka_unit_test_teardown(test_web_concurrent_claims, tweb_teardown),
    cmocka_unit_test_teardown(test_web_audit_rows, tweb_teardown),
    cmocka_unit_test_teardown(test_web_restricted_queue, tweb_teardown),
    cmocka_unit_test_teardown(test_web_claim_across_queues, tweb_teardown),
    cmocka_unit_test_teardown(test_web_rounded_points, tweb_teardown),
};
const size_t tweb_claims_ntests = TS_NTESTS(tweb_claims_tests);
