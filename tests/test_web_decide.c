/* tests/test_web_decide.c - test_web: decisions (the lease rules, reopening, what a
 * caller may learn), `tipline triage` through the API, decide then next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
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

/* ---- decisions: the lease rules, reopening, what a caller may learn, decide then next ---- */

/* Leases report id to account for an hour (interval: e.g. "-1 minute" for an expired one). */
static void lease_for(struct fx *f, long long id, const char *account, const char *interval)
{
    char *q = tl_asprintf("UPDATE reports SET claimed_by = '%s', lease_until = now() + interval"
                          " '%s' WHERE id = %lld RETURNING id",
                          account, interval, id);
    tweb_sql(f, q);
    free(q);
}

struct hres tweb_post_as(struct fx *f, const char *path, const char *as, const char *body)
{
    return tweb_http(f, &(struct hreq){.method = "POST", .path = path, .as = as, .body = body});
}

static void test_web_decide_lease_rules(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_lease_rules", NULL);
    long long id = tweb_seed_simple(f, "L-1"), id2 = tweb_seed_simple(f, "L-2");
    char path[96], reopen[96], path2[96], reopen2[96];
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", id);
    snprintf(reopen, sizeof(reopen), "/api/reports/%lld/reopen", id);
    snprintf(path2, sizeof(path2), "/api/reports/%lld/decide", id2);
    snprintf(reopen2, sizeof(reopen2), "/api/reports/%lld/reopen", id2);
    const char *confirm = "{\"status\":\"confirmed\"}";
    const char *override = "{\"status\":\"confirmed\",\"override\":true}";
    /* unclaimed: 409 with the JSON error */
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = confirm},
                409, "conflict");
    /* one's own lease that ran out is no lease */
    lease_for(f, id, "alice", "-1 minute");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = confirm},
                409, "conflict");
    /* another's live lease */
    lease_for(f, id, "bob", "1 hour");
    struct hres r = tweb_post_as(f, path, "alice", confirm);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr((char *)r.body.data, "leased to bob"));
    tweb_hres_release(&r);
    /* an override is for admins only */
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = override},
                403, "forbidden");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE status <> 'new'"), 0);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'decide'"), 0);
    /* an admin's override, audited as such (and whose lease it overrode) */
    r = tweb_post_as(f, path, "root", override);
    assert_int_equal(r.status, 200);
    tweb_hres_release(&r);
    char *a = tweb_scalar(f, "SELECT concat_ws('|', actor, before->>'claimed_by', after->>'status',"
                             " after->>'override') FROM audit_log WHERE action = 'decide'");
    assert_string_equal(a, "root|bob|confirmed|true");
    free(a);
    assert_int_equal(tweb_count(f, "SELECT n_confirmed FROM reporters"), 1);
    /* already decided: 409 for the holder of a lease and for an admin's override alike */
    lease_for(f, id, "bob", "1 hour");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "bob", .body = confirm},
                409, "conflict");
    r = tweb_post_as(f, path, "root", override);
    assert_int_equal(r.status, 409);
    assert_non_null(strstr((char *)r.body.data, "reopen it first"));
    tweb_hres_release(&r);
    /* reopen: the decider or an admin only; the counters are taken back, the report is
     * leased to whoever reopened it, audited; then it can be decided again */
    tweb_expect(f, &(struct hreq){.method = "POST", .path = reopen, .as = "alice"}, 403,
                "forbidden");
    r = tweb_post_as(f, reopen, "root", NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "status"), "new");
    assert_string_equal(tweb_jstr(o, "claimed_by"), "root");
    assert_null(tweb_jstr(o, "decided_by"));
    json_object_put(o);
    tweb_hres_release(&r);
    assert_int_equal(tweb_count(f, "SELECT n_confirmed FROM reporters"), 0);
    a = tweb_scalar(
        f, "SELECT concat_ws('|', actor, before->>'status', before->>'decided_by',"
           " after->>'status', after->>'claimed_by') FROM audit_log WHERE action = 'reopen'");
    assert_string_equal(a, "root|confirmed|root|new|root");
    free(a);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = reopen, .as = "root"}, 409, "conflict");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "bob", .body = confirm},
                409, "conflict");
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "root", .body = "{\"status\":\"rejected\"}"},
        200, NULL);
    assert_int_equal(tweb_count(f, "SELECT n_rejected FROM reporters"), 1);
    /* an analyst who decided may reopen, another may not */
    lease_for(f, id2, "bob", "1 hour");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path2, .as = "bob", .body = confirm},
                200, NULL);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = reopen2, .as = "alice"}, 403,
                "forbidden");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = reopen2, .as = "bob"}, 200, NULL);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path2, .as = "bob", .body = confirm},
                200, NULL);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'reopen'"), 2);
    assert_int_equal(tweb_count(f, "SELECT n_confirmed FROM reporters"), 1);
    tweb_fx_free(f);
}

static void test_web_duplicate_link_hidden(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_dup_hidden", NULL);
    struct seed sd = {
        .ref = "COL-9", .category = "collaborators", .lat = 50, .lon = 30, .photos = 0};
    long long secret = tweb_seed(f, &sd), id = tweb_seed_simple(f, "D-1");
    char path[96], hidden[96], absent[96];
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", id);
    snprintf(hidden, sizeof(hidden), "{\"status\":\"duplicate\",\"duplicate_of\":%lld}", secret);
    snprintf(absent, sizeof(absent), "{\"status\":\"duplicate\",\"duplicate_of\":%lld}",
             secret + 1000);
    lease_for(f, id, "alice", "1 hour");
    /* a report alice may not see answers exactly as one that does not exist */
    struct hres r1 = tweb_post_as(f, path, "alice", hidden),
                r2 = tweb_post_as(f, path, "alice", absent);
    assert_int_equal(r1.status, 400);
    assert_int_equal(r2.status, r1.status);
    assert_string_equal((char *)r1.body.data, (char *)r2.body.data);
    tweb_hres_release(&r1);
    tweb_hres_release(&r2);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE id = %lld AND status = 'new'", id), 1);
    /* a member of the restricted queue may link to it */
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    lease_for(f, id, "bob", "1 hour");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "bob", .body = hidden}, 200,
                NULL);
    assert_int_equal(tweb_count(f, "SELECT duplicate_of FROM reports WHERE id = %lld", id), secret);
    tweb_fx_free(f);
}

/* A photo report stored with the dedup decision on (as the bot stores them). */
static long long seed_hashed(struct fx *f, const char *ref, const char *rep, uint64_t phash)
{
    size_t jl;
    const unsigned char *jp = (const unsigned char *)tweb_jpeg(&jl);
    struct store_media_new m = {.kind = "photo",
                                .tg_file_unique_id = ref,
                                .mime = "image/jpeg",
                                .bytes = jp,
                                .len = jl,
                                .width = 64,
                                .height = 48,
                                .has_phash = 1,
                                .phash = phash};
    struct store_report_new r = {
        .public_ref = ref,
        .reporter = rep,
        .category = "drones",
        .text = ref,
        .media = &m,
        .n_media = 1,
        .dedup = {.on = 1, .window_s = 3600, .max_distance = 8, .seen_before_s = 7 * 86400}};
    struct store_effects fx = {.pseudonym = rep, .set_blocked = -1, .report = &r};
    long long id = 0;
    CHECK(store_apply(f->s, &fx, &id, EI));
    return id;
}

/* An old photo again: the API shows the flag, the first sighting and the linked photos
 * (answers recorded for the OpenAPI check). */
static void test_web_seen_before_shown(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_seen_before", NULL);
    seed_hashed(f, "OLD-1", PSEUDO_A, 0x0123456789abcdefull);
    tweb_sql(f, "UPDATE media SET created_at = now() - interval '40 days' RETURNING 1");
    long long id =
        seed_hashed(f, "NEW-1", "b1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2",
                    0x0123456789abcdefull ^ 0x8001ull);
    char path[64];
    snprintf(path, sizeof(path), "/api/reports/%lld", id);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_string_equal(tweb_jstr(o, "seen_before.ref"), "OLD-1");
    assert_non_null(tweb_jstr(o, "seen_before_at"));
    struct json_object *links =
        tweb_jget(json_object_array_get_idx(tweb_jget(o, "media"), 0), "links");
    assert_int_equal(json_object_array_length(links), 1);
    assert_int_equal(tweb_jll(json_object_array_get_idx(links, 0), "distance"), 2);
    assert_string_equal(tweb_jstr(json_object_array_get_idx(links, 0), "ref"), "OLD-1");
    json_object_put(o);
    r = tweb_http(f,
                  &(struct hreq){.method = "GET", .path = "/api/reports?limit=10", .as = "alice"});
    assert_int_equal(r.status, 200);
    tweb_hres_release(&r);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE 'seen_before' = ANY (flags)"), 1);
    tweb_fx_free(f);
}

/* The reporter's counters as each caller may see them (full report, decision, ban). */
static void reporter_counts(struct fx *f, const char *as, const char *path, const char *want)
{
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = as});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    char got[64];
    snprintf(got, sizeof(got), "%lld/%lld/%lld", tweb_jll(o, "reporter.n_reports"),
             tweb_jll(o, "reporter.n_confirmed"), tweb_jll(o, "reporter.n_rejected"));
    assert_string_equal(got, want);
    json_object_put(o);
    tweb_hres_release(&r);
}

static void test_web_n_reports_visible(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_n_reports", NULL);
    struct seed sd = {
        .ref = "COL-2", .category = "collaborators", .lat = 50, .lon = 30, .photos = 0};
    long long secret = tweb_seed(f, &sd), id = tweb_seed_simple(f, "V-1");
    tweb_seed_simple(f, "V-2");
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    lease_for(f, secret, "bob", "1 hour");
    char path[96];
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", secret);
    tweb_expect(
        f,
        &(struct hreq){
            .method = "POST", .path = path, .as = "bob", .body = "{\"status\":\"confirmed\"}"},
        200, NULL);
    /* three reports, one confirmed in the restricted queue */
    reporter_counts(f, "alice", "/api/reports/V-1", "2/0/0");
    reporter_counts(f, "bob", "/api/reports/V-1", "3/1/0");
    reporter_counts(f, "root", "/api/reports/V-1", "3/1/0");
    /* the decision's answer counts the same way */
    lease_for(f, id, "alice", "1 hour");
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", id);
    struct hres r = tweb_http(f, &(struct hreq){.method = "POST",
                                                .path = path,
                                                .as = "alice",
                                                .body = "{\"status\":\"rejected\"}",
                                                .extra = "Prefer: return=minimal"});
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "reporter.n_reports"), 2);
    assert_int_equal(tweb_jll(o, "reporter.n_confirmed"), 0);
    assert_int_equal(tweb_jll(o, "reporter.n_rejected"), 1);
    json_object_put(o);
    tweb_hres_release(&r);
    /* and the ban's, for a moderator who is no member */
    r = tweb_post_as(f, "/api/reporters/a1b2c3d4e5f6/ban", "mona", "{\"reason\":\"spam\"}");
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "reporter.n_reports"), 2);
    assert_true(json_object_get_boolean(tweb_jget(o, "reporter.banned")));
    assert_string_equal(tweb_jstr(o, "reporter.ban_reason"), "spam");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_fx_free(f);
}

/* A reporter whose reports were all in queues everyone sees has its counters shown as
 * stored (reporters.queues); once its category is routed to a restricted queue, the
 * report that moved is left out of them again for a non-member. */
static void test_web_n_reports_routed(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_n_routed", NULL);
    struct seed sd = {.ref = "RT-1", .category = "aircraft", .lat = 50, .lon = 30};
    long long first = tweb_seed(f, &sd);
    sd.ref = "RT-2";
    tweb_seed(f, &sd);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reporters WHERE queues = '{general}'"), 1);
    reporter_counts(f, "alice", "/api/reports/RT-1", "2/0/0");
    lease_for(f, first, "alice", "1 hour");
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/reports/RT-1/decide",
                               .as = "alice",
                               .body = "{\"status\":\"rejected\"}"},
                200, NULL);
    /* open reports of the category follow it: RT-2 moves, the decided RT-1 stays */
    CHECK(store_category_route(f->s, "test", "aircraft", "restricted", 1, EI));
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE queue = 'restricted'"), 1);
    reporter_counts(f, "alice", "/api/reports/RT-1", "1/0/1");
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    reporter_counts(f, "bob", "/api/reports/RT-1", "2/0/1");
    tweb_fx_free(f);
}

static void test_web_cli_claim_as_api(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct fx *f = tweb_fx_new("t_web_cli_claim", NULL);
    struct seed sd = {
        .ref = "COL-3", .category = "collaborators", .lat = 50, .lon = 30, .photos = 0};
    long long secret = tweb_seed(f, &sd), open = tweb_seed_simple(f, "OPEN-3");
    tweb_sql(f, "UPDATE reports SET priority = 999 WHERE public_ref = 'COL-3' RETURNING id");
    char *out = NULL;
    assert_int_equal(tweb_tipline(f, "triage next --as alice", &out), 0);
    assert_non_null(strstr(out, "ref        OPEN-3\n"));
    free(out);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM reports WHERE id = %lld AND claimed_by IS NULL",
                   secret),
        1);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND object ="
                                " 'report:%lld' AND action IN ('claim', 'view')",
                                open),
                     2);
    /* nothing else alice may claim, or see; what she sees is audited as a view */
    assert_int_equal(tweb_tipline(f, "triage next --as alice", &out), 0);
    assert_non_null(strstr(out, "the queue is empty"));
    free(out);
    assert_int_equal(tweb_tipline(f, "triage show COL-3 --as alice", NULL), 1);
    assert_int_equal(tweb_tipline(f, "triage show OPEN-3 --as alice", NULL), 0);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND object ="
                                " 'report:%lld' AND action = 'view'",
                                open),
                     2);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM audit_log WHERE object = 'report:%lld'", secret), 0);
    /* a member claims it */
    CHECK(store_queue_member_add(f->s, "test", "restricted", "bob", EI));
    assert_int_equal(tweb_tipline(f, "triage next --as bob", &out), 0);
    assert_non_null(strstr(out, "ref        COL-3\n"));
    free(out);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'bob' AND object ="
                                " 'report:%lld' AND action = 'view'",
                                secret),
                     1);
    /* deciding needs one's own lease; --next decides and claims in one call */
    assert_int_equal(tweb_tipline(f, "triage decide OPEN-3 confirmed --as bob", NULL), 1);
    assert_int_equal(tweb_tipline(f, "triage decide COL-3 confirmed --as alice", NULL), 1);
    assert_int_equal(tweb_tipline(f, "triage decide OPEN-3 confirmed --as alice --next", &out), 0);
    assert_non_null(strstr(out, "OPEN-3: confirmed\nthe queue is empty\n"));
    free(out);
    assert_int_equal(
        tweb_count(f,
                   "SELECT count(*) FROM reports WHERE id = %lld AND status = 'confirmed'"
                   " AND decided_by = 'alice'",
                   open),
        1);
    tweb_fx_free(f);
}

static void test_web_decide_then_next(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_decide_next", NULL);
    long long a = tweb_seed_simple(f, "N-1"), b = tweb_seed_simple(f, "N-2");
    char path[96];
    assert_int_equal(tweb_claim_as(f, "alice", "{}", NULL), a);
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", a);
    struct hres r = tweb_post_as(f, path, "alice", "{\"status\":\"confirmed\",\"next\":true}");
    assert_int_equal(r.status, 200);
    struct json_object *o = tweb_json_of(&r);
    /* the decision (what it changed, no reporter) and the next report, claimed, in full
     * but for the reporter's other reports */
    assert_int_equal(tweb_jll(o, "decision.id"), a);
    assert_string_equal(tweb_jstr(o, "decision.status"), "confirmed");
    assert_false(json_object_object_get_ex(tweb_jget(o, "decision"), "media", NULL));
    assert_false(json_object_object_get_ex(tweb_jget(o, "decision"), "reporter", NULL));
    assert_int_equal(tweb_jll(o, "next.id"), b);
    assert_string_equal(tweb_jstr(o, "next.claimed_by"), "alice");
    assert_string_equal(tweb_jstr(o, "next.media.0.mime"), "image/jpeg");
    assert_non_null(tweb_jget(o, "next.reporter.pseudonym"));
    assert_false(json_object_object_get_ex(tweb_jget(o, "next.reporter"), "recent", NULL));
    json_object_put(o);
    tweb_hres_release(&r);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND object ="
                                " 'report:%lld' AND action IN ('claim', 'view')",
                                b),
                     2);
    /* the last one: next is null */
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", b);
    r = tweb_post_as(f, path, "alice", "{\"status\":\"rejected\",\"note\":\"no\",\"next\":true}");
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "decision.note"), "no");
    assert_true(json_object_object_get_ex(o, "next", NULL));
    assert_null(tweb_jget(o, "next"));
    json_object_put(o);
    tweb_hres_release(&r);
    /* a refused decision claims nothing */
    long long c = tweb_seed_simple(f, "N-3");
    snprintf(path, sizeof(path), "/api/reports/%lld/decide", c);
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = path,
                               .as = "bob",
                               .body = "{\"status\":\"confirmed\",\"next\":true}"},
                409, "conflict");
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE claimed_by IS NOT NULL"), 0);
    tweb_fx_free(f);
}

const struct CMUnitTest tweb_decide_tests[] = {
    cmocka_unit_test_teardown(test_web_decide_lease_rules, tweb_teardown),
    cmocka_unit_test_teardown(test_web_duplicate_link_hidden, tweb_teardown),
    cmocka_unit_test_teardown(test_web_seen_before_shown, tweb_teardown),
    cmocka_unit_test_teardown(test_web_n_reports_visible, tweb_teardown),
    cmocka_unit_test_teardown(test_web_n_reports_routed, tweb_teardown),
    cmocka_unit_test_teardown(test_web_cli_claim_as_api, tweb_teardown),
    cmocka_unit_test_teardown(test_web_decide_then_next, tweb_teardown),
};
const size_t tweb_decide_ntests = TS_NTESTS(tweb_decide_tests);
