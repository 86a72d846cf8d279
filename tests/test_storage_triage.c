/* tests/test_storage_triage.c - test_storage: triage (concurrent next, lease expiry,
 * decisions, the list), report checks and the append-only audit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/testsupport.h"
#include "test_storage_int.h"
#include "common/banned.h"

/* ---- triage ---- */

static void add_reports(struct store *s, int n)
{
    for (int i = 0; i < n; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "T-%03d", i);
        struct store_report_new rep = {.public_ref = ref,
                                       .reporter = "ps_t",
                                       .category = i % 2 ? "drone" : "missile",
                                       .text = "seen",
                                       .priority = i % 3};
        if (i == 0) {
            rep.has_point = 1;
            rep.lat = 48.5;
            rep.lon = 35.25;
            rep.point_source = "text";
        }
        struct store_effects fx = {.pseudonym = "ps_t", .set_blocked = -1, .report = &rep};
        CHECK(store_apply(s, &fx, NULL, EI));
    }
}

#define T_REPORTS 40

struct triage_job {
    const char *ci;
    const char *analyst;
    long long ids[T_REPORTS];
    int n;
    int order_ok;
};

static void *triage_thread(void *p)
{
    struct triage_job *j = p;
    struct store *s = tsto_open_store(j->ci);
    int last_prio = 1 << 30;
    j->order_ok = 1;
    for (;;) {
        struct store_report *r = NULL;
        if (store_triage_next(s, j->analyst, 300, &r, NULL) != TL_OK || !r)
            break;
        if (j->n < T_REPORTS)
            j->ids[j->n++] = r->id;
        if (r->priority > last_prio || strcmp(r->claimed_by, j->analyst) != 0 ||
            strcmp(r->status, "claimed") != 0)
            j->order_ok = 0;
        last_prio = r->priority;
        store_report_free(r);
    }
    store_free(s);
    return NULL;
}

static void test_storage_triage_next_concurrent(void **state)
{
    char *ci = tsto_db_new("t_storage_next");
    struct store *s = tsto_open_store(ci);
    add_reports(s, T_REPORTS);
    struct triage_job a = {.ci = ci, .analyst = "anna"}, b = {.ci = ci, .analyst = "bohdan"};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, triage_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, triage_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.n + b.n, T_REPORTS);
    assert_true(a.order_ok);
    assert_true(b.order_ok);
    for (int i = 0; i < a.n; i++)
        for (int k = 0; k < b.n; k++)
            assert_true(a.ids[i] != b.ids[k]);
    assert_int_equal(ts_db_count(ci, "SELECT count(DISTINCT id) FROM reports"
                                     " WHERE lease_until > now()"),
                     T_REPORTS);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log WHERE action = 'claim'"),
                     T_REPORTS);
    store_free(s);
    ts_db_drop("t_storage_next");
    free(ci);
}

static void test_storage_triage_lease_expiry(void **state)
{
    char *ci = tsto_db_new("t_storage_lease");
    struct store *s = tsto_open_store(ci);
    add_reports(s, 3);
    struct store_report *r = NULL, *r2 = NULL;
    /* highest priority first: T-002 (2), then T-001 (1), then T-000 (0) */
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    assert_non_null(r);
    assert_string_equal(r->public_ref, "T-002");
    assert_string_equal(r->claimed_by, "anna");
    assert_true(r->lease_until > tl_wall_time() + 500);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_string_equal(r2->public_ref, "T-001");
    store_report_free(r2);
    /* anna walks away; her lease runs out and T-002 is back at the head */
    tsto_sql_ok(ci, "UPDATE reports SET lease_until = now() - interval '1 second'"
                    " WHERE public_ref = 'T-002'");
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_non_null(r2);
    assert_int_equal(r2->id, r->id);
    assert_string_equal(r2->claimed_by, "bohdan");
    store_report_free(r2);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_string_equal(r2->public_ref, "T-000");
    assert_true(r2->has_point);
    assert_true(r2->lat == 48.5 && r2->lon == 35.25);
    store_report_free(r2);
    CHECK(store_triage_next(s, "bohdan", 600, &r2, EI));
    assert_null(r2);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_lease");
    free(ci);
}

static void test_storage_triage_decide(void **state)
{
    char *ci = tsto_db_new("t_storage_decide");
    struct store *s = tsto_open_store(ci);
    add_reports(s, 2);
    struct store_report *r = NULL;
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    char idtxt[32];
    snprintf(idtxt, sizeof(idtxt), "%lld", r->id);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_triage_decide(s, idtxt, "bohdan", "rejected", "spam", &ei),
                     TL_ECONFLICT);
    assert_non_null(strstr(ei.msg, "anna"));
    assert_int_equal(store_triage_decide(s, idtxt, "anna", "approved", NULL, &ei), TL_EINVAL);
    assert_int_equal(store_triage_decide(s, "NOPE", "anna", "confirmed", NULL, &ei), TL_ENOTFOUND);
    CHECK(store_triage_decide(s, r->public_ref, "anna", "confirmed", "matches radar", EI));
    char *sql = tl_asprintf("SELECT concat_ws('|', status, claimed_by IS NULL, lease_until IS NULL,"
                            " decided_by) FROM reports WHERE id = %lld",
                            r->id);
    tsto_assert_scalar(ci, sql, "confirmed|t|t|anna");
    free(sql);
    tsto_assert_scalar(ci, "SELECT n_confirmed FROM reporters WHERE pseudonym = 'ps_t'", "1");
    sql = tl_asprintf("SELECT concat_ws('|', actor, before->>'status', before->>'claimed_by',"
                      " after->>'status', after->>'note') FROM audit_log WHERE action = 'decide'"
                      " AND object = 'report:%lld'",
                      r->id);
    tsto_assert_scalar(ci, sql, "anna|new|anna|confirmed|matches radar");
    free(sql);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log"), 3); /* claim, view */
    /* decided: nobody decides again before the decider (or an admin) reopens it, and the
     * counters follow */
    assert_int_equal(store_triage_decide(s, idtxt, "bohdan", "rejected", NULL, &ei), TL_ECONFLICT);
    char *json = NULL;
    struct store_who bohdan = {.account = "bohdan", .round_decimals = -1};
    assert_int_equal(store_web_reopen(s, &bohdan, idtxt, 60, &json, &ei), TL_EFORBIDDEN);
    struct store_who anna = {.account = "anna", .round_decimals = -1};
    CHECK(store_web_reopen(s, &anna, idtxt, 60, &json, EI));
    free(json);
    tsto_assert_scalar(ci, "SELECT n_confirmed || '/' || n_rejected FROM reporters", "0/0");
    CHECK(store_triage_decide(s, idtxt, "anna", "rejected", NULL, EI));
    tsto_assert_scalar(ci, "SELECT n_confirmed || '/' || n_rejected FROM reporters", "0/1");
    /* get by id and by ref; never a chat id */
    struct store_report *g = NULL;
    CHECK(store_triage_get(s, idtxt, &g, EI));
    assert_string_equal(g->status, "rejected");
    assert_null(g->claimed_by);
    store_report_free(g);
    CHECK(store_triage_get(s, "T-000", &g, EI));
    assert_string_equal(g->reporter, "ps_t");
    assert_string_equal(g->category, "missile");
    store_report_free(g);
    assert_int_equal(store_triage_get(s, "T-404", &g, &ei), TL_ENOTFOUND);
    assert_null(g);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_decide");
    free(ci);
}

static void test_storage_triage_list(void **state)
{
    char *ci = tsto_db_new("t_storage_list");
    struct store *s = tsto_open_store(ci);
    add_reports(s, 6); /* priorities 0,1,2,0,1,2; categories missile,drone,... */
    struct store_report *r = NULL, *l = NULL;
    size_t n = 0;
    CHECK(store_triage_next(s, "anna", 600, &r, EI));
    tsto_sql_ok(ci,
                "UPDATE reports SET claimed_by = 'anna', lease_until = now() + interval '1 minute'"
                " WHERE public_ref IN ('T-000', 'T-003')");
    CHECK(store_triage_decide(s, "T-000", "anna", "needs_info", "where?", EI));
    CHECK(store_triage_decide(s, "T-003", "anna", "duplicate", NULL, EI));
    CHECK(store_triage_list(s, NULL, &l, &n, EI));
    assert_int_equal(n, 5); /* open queue: new (incl. claimed) + needs_info */
    assert_int_equal(l[0].priority, 2);
    assert_string_equal(l[0].status, "claimed");
    assert_string_equal(l[0].claimed_by, "anna");
    for (size_t i = 1; i < n; i++)
        assert_true(l[i].priority <= l[i - 1].priority);
    store_reports_free(l, n);
    struct store_triage_filter f = {.status = "new", .category = "drone"};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 2); /* T-001, T-005; T-003 is a duplicate now */
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(l[i].category, "drone");
        assert_string_equal(l[i].status, "new");
    }
    store_reports_free(l, n);
    f = (struct store_triage_filter){.status = "claimed"};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 1);
    assert_int_equal(l[0].id, r->id);
    store_reports_free(l, n);
    f = (struct store_triage_filter){.status = "duplicate", .limit = 5};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 1);
    assert_string_equal(l[0].public_ref, "T-003");
    store_reports_free(l, n);
    f = (struct store_triage_filter){.limit = 2};
    CHECK(store_triage_list(s, &f, &l, &n, EI));
    assert_int_equal(n, 2);
    store_reports_free(l, n);
    struct tl_errinfo ei = {0};
    f = (struct store_triage_filter){.status = "bogus"};
    assert_int_equal(store_triage_list(s, &f, &l, &n, &ei), TL_EINVAL);
    tsto_sql_ok(ci,
                "UPDATE reports SET claimed_by = 'anna', lease_until = now() + interval '1 minute'"
                " WHERE public_ref = 'T-004'");
    CHECK(store_triage_decide(s, "T-004", "anna", "escalated", NULL, EI));
    tsto_sql_ok(ci, "UPDATE reports SET received_at = now() - interval '1 hour'"
                    " WHERE public_ref = 'T-001'");
    struct store_triage_stats ts;
    CHECK(store_triage_stats(s, &ts, EI));
    assert_int_equal(ts.new_, 2); /* T-001, T-005 */
    assert_int_equal(ts.claimed, 1);
    assert_int_equal(ts.needs_info, 1);
    assert_int_equal(ts.duplicate, 1);
    assert_int_equal(ts.escalated, 1);
    assert_int_equal(ts.confirmed + ts.rejected, 0);
    assert_true(ts.oldest_new_age_s > 3590 && ts.oldest_new_age_s < 3700);
    store_report_free(r);
    store_free(s);
    ts_db_drop("t_storage_list");
    free(ci);
}

/* The reports' value checks (migration 0016: a trigger in place of six CHECK
 * constraints): each rule refuses with check_violation on INSERT and on an UPDATE that
 * sets its column, and an UPDATE setting none of them (a claim) does not run them. */
static void test_storage_report_checks(void **state)
{
    (void)state;
    char *ci = tsto_db_new("t_storage_checks");
    tsto_sql_ok(ci, "INSERT INTO reporters (pseudonym) VALUES ('p1')");
    tsto_sql_ok(ci, "INSERT INTO reports (public_ref, reporter, point, point_source, bearing)"
                    " VALUES ('TL-CHK001', 'p1', 'SRID=4326;POINT(30.5 50.4)', 'venue', 359.5)");
    static const char *const bad[] = {
        "INSERT INTO reports (public_ref, reporter, bearing) VALUES ('TL-CHK002', 'p1', 360)",
        "INSERT INTO reports (public_ref, reporter, status) VALUES ('TL-CHK003', 'p1', 'done')",
        ("INSERT INTO reports (public_ref, reporter, point) VALUES ('TL-CHK004', 'p1',"
         " 'SRID=4326;POINT(30.5 50.4)')"),
        "UPDATE reports SET status = 'bogus'",
        "UPDATE reports SET point_source = 'gps'",
        "UPDATE reports SET accuracy_m = -1",
        "UPDATE reports SET bearing = -0.5",
        "UPDATE reports SET point_source = NULL",
        "UPDATE reports SET corroborations = -1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char *st = tsto_sql_state(ci, bad[i]);
        if (strcmp(st, "23514") != 0)
            fail_msg("%s: SQLSTATE '%s', want 23514", bad[i], st);
        free(st);
    }
    tsto_sql_ok(ci, "UPDATE reports SET status = 'confirmed', bearing = 0, accuracy_m = NULL");
    /* a row written with triggers off keeps its bad bearing through a claim's UPDATE,
     * and is refused as soon as an UPDATE sets a checked column */
    tsto_sql_ok(ci, "SET session_replication_role = replica;"
                    " UPDATE reports SET bearing = 500 WHERE public_ref = 'TL-CHK001'");
    tsto_sql_ok(ci, "UPDATE reports SET claimed_by = 'anna', lease_until = now()");
    char *st = tsto_sql_state(ci, "UPDATE reports SET status = 'rejected'");
    assert_string_equal(st, "23514");
    free(st);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports WHERE status = 'confirmed'"
                                     " AND claimed_by = 'anna' AND bearing = 500"),
                     1);
    ts_db_drop("t_storage_checks");
    free(ci);
}

static void test_storage_audit_append_only(void **state)
{
    char *ci = tsto_db_new("t_storage_audit");
    struct store *s = tsto_open_store(ci);
    add_reports(s, 1);
    struct store_report *r = NULL;
    CHECK(store_triage_next(s, "anna", 60, &r, EI));
    store_report_free(r);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM audit_log"), 2); /* claim, view */
    char *st = tsto_sql_state(ci, "UPDATE audit_log SET actor = 'mallory'");
    assert_string_equal(st, "42501");
    free(st);
    st = tsto_sql_state(ci, "DELETE FROM audit_log");
    assert_string_equal(st, "42501");
    free(st);
    st = tsto_sql_state(ci, "TRUNCATE audit_log");
    assert_string_equal(st, "42501");
    free(st);
    tsto_assert_scalar(ci, "SELECT actor FROM audit_log", "anna");
    store_free(s);
    ts_db_drop("t_storage_audit");
    free(ci);
}

const struct CMUnitTest tsto_triage_tests[] = {
    cmocka_unit_test(test_storage_report_checks),
    cmocka_unit_test(test_storage_triage_next_concurrent),
    cmocka_unit_test(test_storage_triage_lease_expiry),
    cmocka_unit_test(test_storage_triage_decide),
    cmocka_unit_test(test_storage_triage_list),
    cmocka_unit_test(test_storage_audit_append_only),
};
const size_t tsto_triage_ntests = TS_NTESTS(tsto_triage_tests);
