/* tests/test_priority.c - the queue's priority score against a real PostgreSQL
 * (migration 0007's triggers, storage/store_priority.c, `tipline priority`): category
 * order, corroboration by other reporters only, flags and bans, weights that change the
 * order, and the bounded refresh. Every test makes its own database from the template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/storedb.h"
#include "support/testsupport.h"
#include "common/banned.h"

/* The integer column col of report ref. */
static long long num(const char *ci, const char *col, const char *ref)
{
    char q[512];
    snprintf(q, sizeof(q), "SELECT %s FROM reports WHERE public_ref = '%s'", col, ref);
    char *v = ts_db_scalar(ci, q);
    if (!v)
        fail_msg("%s: no row", q);
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

static long long prio(const struct ts_storedb *d, const char *ref)
{
    return num(d->ci, "priority", ref);
}

static long long corr(const struct ts_storedb *d, const char *ref)
{
    return num(d->ci, "corroborations", ref);
}

struct rep {
    const char *ref, *reporter, *category, *flags;
    double lat, lon; /* 0: no point */
};

/* A report as intake writes it (store_apply), with intake's base priority 20. */
static void add(struct ts_storedb *d, const struct rep *p)
{
    struct store_report_new r = {.public_ref = p->ref,
                                 .reporter = p->reporter,
                                 .category = p->category,
                                 .text = "seen",
                                 .priority = 20,
                                 .flags = p->flags};
    if (p->lat != 0) {
        r.has_point = 1;
        r.lat = p->lat;
        r.lon = p->lon;
        r.point_source = "telegram_location";
    }
    struct store_effects fx = {.pseudonym = p->reporter, .set_blocked = -1, .report = &r};
    CHECK(store_apply(d->s, &fx, NULL, EI));
}

/* Anna decides report ref as from the shell: under her lease (a decided report is
 * reopened first, which leases it to her). */
static void decide(struct ts_storedb *d, const char *ref, const char *decision, const char *note)
{
    char q[512];
    char *json = NULL;
    struct store_who anna = {.account = "anna", .round_decimals = -1};
    snprintf(q, sizeof(q),
             "UPDATE reports SET claimed_by = 'anna', lease_until = now() + interval '1 minute'"
             " WHERE public_ref = '%s' AND status = 'new'",
             ref);
    ts_storedb_sql(d->ci, q);
    if (num(d->ci, "(status <> 'new')::int", ref)) {
        CHECK(store_web_reopen(d->s, &anna, ref, 60, &json, EI));
        free(json);
    }
    CHECK(store_triage_decide(d->s, ref, "anna", decision, note, EI));
}

/* The ref store_triage_next hands out next (claimed for a minute). */
static char *claim_next(struct ts_storedb *d)
{
    struct store_report *r = NULL;
    CHECK(store_triage_next(d->s, "anna", 60, &r, EI));
    assert_non_null(r);
    char *ref = tl_strdup(r->public_ref);
    store_report_free(r);
    return ref;
}

static void assert_next(struct ts_storedb *d, const char *want)
{
    char *got = claim_next(d);
    assert_string_equal(got, want);
    free(got);
}

/* Kyiv, and points about 110 m, 250 m and 20 km from it. */
#define KYIV 50.4500, 30.5200
#define NEAR1 50.4510, 30.5200
#define NEAR2 50.4500, 30.5235
#define FAR 50.6300, 30.5200

static void test_priority_category_order(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_category");
    add(&d, &(struct rep){.ref = "P-OTHER", .reporter = "ps_a", .category = "other"});
    add(&d, &(struct rep){.ref = "P-DRONE", .reporter = "ps_b", .category = "drones"});
    add(&d, &(struct rep){.ref = "P-DAMAGE", .reporter = "ps_c", .category = "damage"});
    /* base 20 + the category's default weight; the base is kept apart */
    assert_int_equal(prio(&d, "P-DRONE"), 20 + 40);
    assert_int_equal(prio(&d, "P-DAMAGE"), 20 + 15);
    assert_int_equal(prio(&d, "P-OTHER"), 20);
    assert_int_equal(num(d.ci, "priority_base", "P-DRONE"), 20);
    /* the queue hands the drone sighting out first though it came after "other" */
    assert_next(&d, "P-DRONE");
    assert_next(&d, "P-DAMAGE");
    assert_next(&d, "P-OTHER");
    ts_storedb_close(&d);
}

static void test_priority_corroboration(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_corr");
    add(&d, &(struct rep){"A-1", "ps_anna", "drones", NULL, KYIV});
    /* the same reporter again, 110 m away: no corroboration either way */
    add(&d, &(struct rep){"A-2", "ps_anna", "drones", NULL, NEAR1});
    assert_int_equal(corr(&d, "A-1"), 0);
    assert_int_equal(corr(&d, "A-2"), 0);
    assert_int_equal(prio(&d, "A-1"), 60);
    /* another reporter nearby: raises both of anna's reports and is raised by them
     * (one distinct reporter, however many of her reports) */
    add(&d, &(struct rep){"B-1", "ps_bohdan", "drones", NULL, NEAR2});
    assert_int_equal(corr(&d, "B-1"), 1);
    assert_int_equal(corr(&d, "A-1"), 1);
    assert_int_equal(corr(&d, "A-2"), 1);
    assert_int_equal(prio(&d, "A-1"), 60 + 15);
    assert_int_equal(prio(&d, "B-1"), 60 + 15);
    /* a third reporter: two distinct others for everyone */
    add(&d, &(struct rep){"C-1", "ps_cyril", "drones", NULL, KYIV});
    assert_int_equal(corr(&d, "C-1"), 2);
    assert_int_equal(corr(&d, "A-1"), 2);
    assert_int_equal(corr(&d, "B-1"), 2);
    assert_int_equal(prio(&d, "B-1"), 60 + 30);
    /* far away, or another category (same_category = 1 by default): nothing */
    add(&d, &(struct rep){"D-1", "ps_dana", "drones", NULL, FAR});
    add(&d, &(struct rep){"E-1", "ps_emil", "troops", NULL, KYIV});
    assert_int_equal(corr(&d, "D-1"), 0);
    assert_int_equal(corr(&d, "E-1"), 0);
    assert_int_equal(corr(&d, "C-1"), 2);
    /* a rejected report stops corroborating: cyril's goes, anna's reports drop to 1 -
     * at the next refresh, not inside the decision (0010) */
    struct store_priority_refresh pr;
    decide(&d, "C-1", "rejected", "staged photo");
    assert_int_equal(corr(&d, "A-1"), 2);
    assert_int_equal(corr(&d, "B-1"), 2);
    CHECK(store_priority_refresh(d.s, &pr, EI));
    assert_int_equal(pr.propagated, 3);
    assert_int_equal(corr(&d, "A-1"), 1);
    assert_int_equal(corr(&d, "A-2"), 1);
    assert_int_equal(corr(&d, "B-1"), 1);
    assert_int_equal(prio(&d, "B-1"), 60 + 15);
    /* rejected, then un-rejected before a refresh: nothing to propagate, counts stay */
    decide(&d, "B-1", "rejected", NULL);
    decide(&d, "B-1", "confirmed", NULL);
    CHECK(store_priority_refresh(d.s, &pr, EI));
    assert_int_equal(pr.propagated, 0);
    assert_int_equal(corr(&d, "A-1"), 1);
    assert_int_equal(corr(&d, "A-2"), 1);
    /* un-rejected after a refresh: cyril corroborates again at the next one */
    decide(&d, "C-1", "confirmed", "was real");
    CHECK(store_priority_refresh(d.s, &pr, EI));
    assert_int_equal(pr.propagated, 3);
    assert_int_equal(corr(&d, "A-1"), 2);
    assert_int_equal(corr(&d, "B-1"), 2);
    ts_storedb_close(&d);
}

static void test_priority_flags_and_bans(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_flags");
    add(&d, &(struct rep){.ref = "F-PLAIN", .reporter = "ps_a", .category = "drones"});
    add(&d, &(struct rep){.ref = "F-OUTSIDE",
                          .reporter = "ps_b",
                          .category = "drones",
                          .flags = "outside_area,photo_missing"});
    add(&d, &(struct rep){.ref = "F-TWO",
                          .reporter = "ps_c",
                          .category = "drones",
                          .flags = "point_invalid,location_disagrees,night"});
    add(&d, &(struct rep){.ref = "F-OTHER", .reporter = "ps_d", .category = "other"});
    add(&d, &(struct rep){.ref = "F-SPAM", .reporter = "ps_spam", .category = "drones"});
    assert_int_equal(prio(&d, "F-PLAIN"), 60);
    assert_int_equal(prio(&d, "F-OUTSIDE"), 60 - 40 - 5);
    assert_int_equal(prio(&d, "F-TWO"), 60 - 20 - 15); /* "night" has no weight */
    /* a moderator bans the spammer: his queued report sinks below everything at once */
    ts_storedb_sql(d.ci, "UPDATE reporters SET banned = true WHERE pseudonym = 'ps_spam'");
    assert_int_equal(prio(&d, "F-SPAM"), 60 - 1000);
    assert_next(&d, "F-PLAIN");
    assert_next(&d, "F-TWO");
    assert_next(&d, "F-OTHER");
    assert_next(&d, "F-OUTSIDE");
    assert_next(&d, "F-SPAM");
    /* a flag an analyst's tooling adds later re-scores the row */
    ts_storedb_sql(d.ci,
                   "UPDATE reports SET flags = '{outside_area}' WHERE public_ref = 'F-PLAIN'");
    assert_int_equal(prio(&d, "F-PLAIN"), 20);
    /* a banned reporter's reports corroborate no one */
    add(&d, &(struct rep){"G-1", "ps_a", "shelling", NULL, KYIV});
    add(&d, &(struct rep){"G-2", "ps_spam", "shelling", NULL, NEAR1});
    assert_int_equal(corr(&d, "G-1"), 0);
    ts_storedb_close(&d);
}

static void test_priority_set_changes_order(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_set");
    add(&d, &(struct rep){.ref = "S-TROOPS", .reporter = "ps_a", .category = "troops"});
    add(&d, &(struct rep){.ref = "S-DRONE", .reporter = "ps_b", .category = "drones"});
    assert_true(prio(&d, "S-DRONE") > prio(&d, "S-TROOPS"));
    long long changed = 0;
    CHECK(store_priority_set(d.s, "admin1", "category.troops", 100, &changed, EI));
    assert_int_equal(changed, 1);
    assert_int_equal(prio(&d, "S-TROOPS"), 120);
    assert_next(&d, "S-TROOPS");
    assert_int_equal(ts_db_count(d.ci, "SELECT count(*) FROM audit_log WHERE actor = 'admin1'"
                                       " AND action = 'priority_set'"
                                       " AND object = 'priority_weight:category.troops'"
                                       " AND before->>'value' = '30' AND after->>'value' = '100'"),
                     1);
    /* a new category gets its own weight; unknown keys and values out of range do not */
    CHECK(store_priority_set(d.s, "admin1", "category.sabotage", 35, NULL, EI));
    add(&d, &(struct rep){.ref = "S-SAB", .reporter = "ps_c", .category = "sabotage"});
    assert_int_equal(prio(&d, "S-SAB"), 55);
    struct tl_errinfo ei = {0};
    assert_int_equal(store_priority_set(d.s, "admin1", "recency.speed", 1, NULL, &ei), TL_EINVAL);
    assert_int_equal(store_priority_set(d.s, "admin1", "corroboration.radius_m", -5, NULL, &ei),
                     TL_EINVAL);
    assert_int_equal(ts_db_count(d.ci, "SELECT count(*) FROM priority_weights"
                                       " WHERE key = 'recency.speed'"
                                       " OR (key = 'corroboration.radius_m' AND value < 0)"),
                     0);
    /* corroboration is the incident's, decided when a report is stored: a wider radius
     * applies to the reports stored after it (one 20 km south now joins the Kyiv one),
     * and incidents already apart stay apart */
    add(&d, &(struct rep){"R-1", "ps_a", "other", NULL, KYIV});
    add(&d, &(struct rep){"R-2", "ps_b", "other", NULL, FAR});
    assert_int_equal(corr(&d, "R-1"), 0);
    assert_int_equal(corr(&d, "R-2"), 0);
    CHECK(store_priority_set(d.s, "admin1", "corroboration.radius_m", 25000, NULL, EI));
    add(&d, &(struct rep){"R-3", "ps_c", "other", NULL, 50.2700, 30.5200});
    assert_int_equal(corr(&d, "R-1"), 1);
    assert_int_equal(corr(&d, "R-3"), 1);
    assert_int_equal(corr(&d, "R-2"), 0);
    ts_storedb_close(&d);
}

/* `tipline priority set` from a shell changes the order the same way. */
static void test_priority_cli_set(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_cli");
    add(&d, &(struct rep){.ref = "C-OTHER", .reporter = "ps_a", .category = "other"});
    add(&d, &(struct rep){.ref = "C-DRONE", .reporter = "ps_b", .category = "drones"});
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' '%s' priority set category.other 90 2>&1"
                            " && TIPLINE_DATABASE_URL='%s' '%s' priority show 2>&1",
                            d.ci, bin, d.ci, bin);
    char *out = NULL;
    assert_int_equal(ts_run(cmd, &out), 0);
    assert_non_null(strstr(out, "category.other = 90; 1 queued reports re-scored"));
    char row[64];
    snprintf(row, sizeof(row), "%-30s %10g", "category.other", 90.0);
    assert_non_null(strstr(out, row));
    assert_next(&d, "C-OTHER");
    free(out);
    free(cmd);
    cmd =
        tl_asprintf("TIPLINE_DATABASE_URL='%s' '%s' priority set no.such 1 2>/dev/null", d.ci, bin);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    free(cmd);
    ts_storedb_close(&d);
}

static void test_priority_refresh_bounded(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_refresh");
    const char *refs[] = {"Y-2H", "Y-5H", "Y-DONE", "O-3D"};
    for (size_t i = 0; i < 4; i++)
        add(&d, &(struct rep){.ref = refs[i], .reporter = "ps_a", .category = "drones"});
    /* time passes: received_at moves back (the score is not recomputed by that); one
     * report left the queue; marks on the rows the refresh must not touch */
    ts_storedb_sql(d.ci, "UPDATE reports SET received_at = now() - CASE public_ref"
                         " WHEN 'Y-2H' THEN interval '2 hours' WHEN 'Y-5H' THEN interval '5 hours'"
                         " WHEN 'Y-DONE' THEN interval '2 hours' ELSE interval '3 days' END");
    ts_storedb_sql(d.ci, "UPDATE reports SET status = 'duplicate' WHERE public_ref = 'Y-DONE'");
    ts_storedb_sql(d.ci,
                   "UPDATE reports SET priority = 777 WHERE public_ref IN ('Y-DONE', 'O-3D')");
    long long y2 = prio(&d, "Y-2H");
    assert_int_equal(y2, 60);
    struct store_priority_refresh out;
    CHECK(store_priority_refresh(d.s, &out, EI));
    /* 30 points over 6 hours: 10 after 2 h, 25 after 5 h */
    assert_int_equal(prio(&d, "Y-2H"), 60 - 10);
    assert_int_equal(prio(&d, "Y-5H"), 60 - 25);
    assert_int_equal(prio(&d, "Y-DONE"), 777);
    assert_int_equal(prio(&d, "O-3D"), 777);
    assert_int_equal(out.scored, 2);
    assert_int_equal(out.changed, 2);
    /* a second call finds nothing to change */
    CHECK(store_priority_refresh(d.s, &out, EI));
    assert_int_equal(out.changed, 0);
    /* an analyst's decision only marks the reporter (no writes on the click); the next
     * refresh re-scores his queued reports, beyond the horizon too, once */
    assert_int_equal(ts_db_count(d.ci, "SELECT count(*) FROM priority_dirty_reporters"), 0);
    decide(&d, "Y-2H", "confirmed", NULL);
    assert_int_equal(ts_db_count(d.ci, "SELECT count(*) FROM priority_dirty_reporters"
                                       " WHERE pseudonym = 'ps_a'"),
                     1);
    assert_int_equal(prio(&d, "Y-5H"), 60 - 25);
    CHECK(store_priority_refresh(d.s, &out, EI));
    /* one confirmed report: +4, and +2 for the point of reputation it earned */
    assert_int_equal(prio(&d, "Y-5H"), 60 - 25 + 4 + 2);
    assert_int_equal(prio(&d, "O-3D"), 60 - 30 + 4 + 2);
    assert_int_equal(out.changed, 2);
    assert_int_equal(ts_db_count(d.ci, "SELECT count(*) FROM priority_dirty_reporters"), 0);
    ts_storedb_close(&d);
}

/* Two reports that arrive together in concurrent transactions: the second waits on the
 * first's grid-cell lock in incident_join, then joins its incident, so both count each
 * other at once (no later recount needed). */
static void test_priority_concurrent_join(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_prio_conc");
    ts_storedb_sql(d.ci, "INSERT INTO reporters (pseudonym) VALUES ('ps_x'), ('ps_y')");
    PGconn *c1 = PQconnectdb(d.ci), *c2 = PQconnectdb(d.ci);
#define INS(ref, who)                                                                              \
    "WITH r AS (INSERT INTO reports (public_ref, reporter, category, point, point_source,"         \
    " priority) VALUES ('" ref "', '" who "', 'shelling', ST_MakePoint(30.52, 50.45)::geography,"  \
    " 'text', 20) RETURNING id) SELECT incident_join(r.id) FROM r"
    PGresult *r1 = PQexec(c1, "BEGIN"), *r2 = PQexec(c2, "BEGIN");
    PQclear(r1);
    PQclear(r2);
    r1 = PQexec(c1, INS("K-1", "ps_x"));
    assert_int_equal(PQresultStatus(r1), PGRES_TUPLES_OK);
    PQclear(r1);
    assert_int_equal(PQsendQuery(c2, INS("K-2", "ps_y")), 1);
    /* c2 is held on the cell lock while c1 is open */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(PQconsumeInput(c2), 1);
        assert_int_equal(PQisBusy(c2), 1);
        (void)tl_sleep_ms(20, NULL);
    }
    r1 = PQexec(c1, "COMMIT");
    assert_int_equal(PQresultStatus(r1), PGRES_COMMAND_OK);
    PQclear(r1);
    while ((r2 = PQgetResult(c2))) {
        assert_int_equal(PQresultStatus(r2), PGRES_TUPLES_OK);
        PQclear(r2);
    }
    r2 = PQexec(c2, "COMMIT");
    assert_int_equal(PQresultStatus(r2), PGRES_COMMAND_OK);
    PQclear(r2);
    PQfinish(c1);
    PQfinish(c2);
    assert_int_equal(ts_db_count(d.ci, "SELECT count(DISTINCT incident_id) FROM reports"), 1);
    assert_int_equal(corr(&d, "K-1"), 1);
    assert_int_equal(corr(&d, "K-2"), 1);
    assert_int_equal(prio(&d, "K-1"), 20 + 40 + 15);
    ts_storedb_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_priority_category_order),
        cmocka_unit_test(test_priority_corroboration),
        cmocka_unit_test(test_priority_flags_and_bans),
        cmocka_unit_test(test_priority_set_changes_order),
        cmocka_unit_test(test_priority_cli_set),
        cmocka_unit_test(test_priority_refresh_bounded),
        cmocka_unit_test(test_priority_concurrent_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
