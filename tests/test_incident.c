/* tests/test_incident.c - reports of one event join one incident, against a real
 * PostgreSQL (storage/schema/incident_*.sql, migration 0024). Reports go in through
 * store_apply, the store call the bot's workers make (store_apply_plan, the one write
 * path, where incident_join runs in the storing transaction): 300 reports through the
 * whole bot, each a guided conversation of several updates, would take minutes and test
 * the wizard again, not the join; one test goes through the real intake (the fake Bot
 * API, the runtime's workers) with 40 citizens. Bearings are fused on real incidents and, for known
 * geometry, through incident_fuse_lines itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/botrun.h"
#include "support/storedb.h"
#include "support/testsupport.h"
#include "common/banned.h"

static long long count(const struct ts_storedb *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long long count(const struct ts_storedb *d, const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    return ts_db_count(d->ci, q);
}

static double scalar_f(const struct ts_storedb *d, const char *q)
{
    char *v = ts_db_scalar(d->ci, q);
    if (!v)
        fail_msg("%s: no value", q);
    double x = strtod(v, NULL);
    free(v);
    return x;
}

/* The point dn metres north and de metres east of (lat, lon). */
static void offset(double lat, double lon, double dn, double de, double *olat, double *olon)
{
    *olat = lat + dn / 111320.0;
    *olon = lon + de / (111320.0 * cos(lat * M_PI / 180.0));
}

struct rep {
    const char *ref, *reporter, *category, *text;
    double lat, lon, accuracy_m;
    int has_bearing;
    double bearing;
    double observed_at;
};

/* A report as intake writes it, with a status (NULL: new; 'held': held by moderation). */
static int add_as(struct store *s, const struct rep *p, const char *status)
{
    struct tl_errinfo ei = {0};
    struct store_report_new r = {.public_ref = p->ref,
                                 .reporter = p->reporter,
                                 .category = p->category,
                                 .text = p->text,
                                 .has_point = 1,
                                 .lat = p->lat,
                                 .lon = p->lon,
                                 .point_source = "telegram_location",
                                 .accuracy_m = p->accuracy_m,
                                 .has_bearing = p->has_bearing,
                                 .bearing = p->bearing,
                                 .observed_at = p->observed_at,
                                 .priority = 20,
                                 .status = status};
    struct store_effects fx = {.pseudonym = p->reporter, .set_blocked = -1, .report = &r};
    int rc = store_apply(s, &fx, NULL, &ei);
    if (rc)
        fprintf(stderr, "store_apply %s: %s\n", p->ref, ei.msg);
    return rc;
}

static int add_to(struct store *s, const struct rep *p)
{
    return add_as(s, p, NULL);
}

static void add(struct ts_storedb *d, const struct rep *p)
{
    assert_int_equal(add_to(d->s, p), TL_OK);
}

#define KYIV_LAT 50.4500
#define KYIV_LON 30.5200

static const char *const texts[] = {
    "explosion at the oil depot, black smoke",
    "вибух біля нафтобази, чорний дим",
    "big blast near the depot, fire",
    NULL,
    "heard two explosions, smoke over the oil depot",
    "fire at the depot after a strike",
};

/* When the events of the tests began (set once, so 300 reports span 20 minutes however
 * long storing them takes). */
static double t_base;

/* Report i of an event at (lat, lon): one of 120 reporters, scattered within about 400 m,
 * shelling or damage (compatible), over 20 minutes. */
static void event_report(int i, double lat, double lon, const char *tag, struct rep *r,
                         char ref[32], char who[32])
{
    unsigned h = (unsigned)i * 2654435761u;
    snprintf(ref, 32, "%s-%03d", tag, i);
    snprintf(who, 32, "ps_%s_%03d", tag, i % 120);
    double dn = (double)((h >> 4) % 800) - 400, de = (double)((h >> 14) % 800) - 400;
    *r = (struct rep){.ref = ref,
                      .reporter = who,
                      .category = i % 3 ? "shelling" : "damage",
                      .text = texts[i % 6],
                      .accuracy_m = 20 + (h >> 24) % 280,
                      .observed_at = t_base - 1200 + i * 4};
    offset(lat, lon, dn * 0.7, de * 0.7, &r->lat, &r->lon);
}

static void test_incident_one_event(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_event");
    char ref[32], who[32];
    struct rep r;
    int64_t t0 = tl_now_ms();
    for (int i = 0; i < 300; i++) {
        event_report(i, KYIV_LAT, KYIV_LON, "E", &r, ref, who);
        add(&d, &r);
    }
    int64_t ms = tl_now_ms() - t0;
    print_message("300 reports stored and joined in %lld ms (%.2f ms each)\n", (long long)ms,
                  ms / 300.0);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count(&d, "SELECT count(*) FROM reports WHERE incident_id IS NULL"), 0);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 120);
    assert_int_equal(count(&d, "SELECT n_reports FROM incidents"), 300);
    assert_int_equal(count(&d, "SELECT cardinality(categories) FROM incidents"
                               " WHERE categories @> '{shelling,damage}'"),
                     2);
    /* the span and the centroid: 20 minutes, within 100 m of the event */
    assert_true(scalar_f(&d, "SELECT extract(epoch FROM last_seen - first_seen) FROM incidents") <
                1200);
    assert_true(scalar_f(&d, "SELECT ST_Distance(centroid, ST_MakePoint(30.52, 50.45)::geography)"
                             " FROM incidents") < 100);
    /* the latest report counts its 119 others (the score's term is capped) */
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'E-299'"),
                     119);
    /* not stationary: no fused position for shelling */
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents WHERE fused IS NOT NULL"), 0);
    /* a banned reporter no longer counts; a rejected report neither */
    ts_storedb_sql(d.ci, "UPDATE reporters SET banned = true WHERE pseudonym = 'ps_E_007'");
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 119);
    ts_storedb_sql(d.ci, "UPDATE reports SET status = 'rejected' WHERE reporter = 'ps_E_008'");
    ts_storedb_sql(d.ci, "SELECT incident_refresh(id) FROM incidents");
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 118);
    ts_storedb_close(&d);
}

/* A column of the report ref (an integer). */
static long long col_of(const struct ts_storedb *d, const char *col, const char *ref)
{
    return count(d, "SELECT %s FROM reports WHERE public_ref = '%s'", col, ref);
}

/* Who counts for whom when an incident has members in a restricted queue: a report's
 * corroboration (and so its score, which every analyst of its queue sees) counts only the
 * members in unrestricted queues and in its own queue. A drone report routed to the
 * restricted queue joins the general reports' incident without raising them; it counts
 * them. A member moved into the restricted queue stops counting for the general ones,
 * and counts again when moved back. */
static void test_incident_restricted_members(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_restricted");
    struct rep a = {.ref = "RQ-A",
                    .reporter = "ps_rq_a",
                    .category = "drones",
                    .lat = KYIV_LAT,
                    .lon = KYIV_LON,
                    .accuracy_m = 20};
    struct rep b = a, c = a;
    b.ref = "RQ-B";
    b.reporter = "ps_rq_b";
    b.lat += 0.001;
    c.ref = "RQ-C";
    c.reporter = "ps_rq_c";
    c.lon += 0.001;
    add(&d, &a);
    add(&d, &b);
    assert_int_equal(col_of(&d, "corroborations", "RQ-A"), 1);
    long long per = count(&d, "SELECT value::bigint FROM priority_weights"
                              " WHERE key = 'corroboration.per_reporter'");
    assert_true(per > 0);
    long long pa = col_of(&d, "priority", "RQ-A");

    /* a restricted member joins: the general ones do not count it, it counts them */
    ts_storedb_sql(d.ci,
                   "UPDATE category_queue SET queue = 'restricted' WHERE category = 'drones'");
    add(&d, &c);
    char *q = ts_db_scalar(d.ci, "SELECT queue FROM reports WHERE public_ref = 'RQ-C'");
    assert_non_null(q);
    assert_string_equal(q, "restricted");
    free(q);
    assert_int_equal(count(&d, "SELECT count(DISTINCT incident_id) FROM reports"), 1);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 3);
    assert_int_equal(col_of(&d, "corroborations", "RQ-A"), 1);
    assert_int_equal(col_of(&d, "corroborations", "RQ-B"), 1);
    assert_int_equal(col_of(&d, "corroborations", "RQ-C"), 2);
    assert_int_equal(col_of(&d, "priority", "RQ-A"), pa);

    /* B moved into the restricted queue: A counts no one; B and C count each other and A */
    ts_storedb_sql(d.ci, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'RQ-B'");
    assert_int_equal(col_of(&d, "corroborations", "RQ-A"), 0);
    assert_int_equal(col_of(&d, "priority", "RQ-A"), pa - per);
    assert_int_equal(col_of(&d, "corroborations", "RQ-B"), 2);
    assert_int_equal(col_of(&d, "corroborations", "RQ-C"), 2);
    /* the refresh's recount agrees */
    ts_storedb_sql(d.ci, "UPDATE reports SET corroborations = 5 WHERE public_ref = 'RQ-A'");
    ts_storedb_sql(d.ci,
                   "SELECT priority_recount(priority_params(), ARRAY(SELECT id FROM reports))");
    assert_int_equal(col_of(&d, "corroborations", "RQ-A"), 0);

    /* and back */
    ts_storedb_sql(d.ci, "UPDATE reports SET queue = 'general' WHERE public_ref = 'RQ-B'");
    assert_int_equal(col_of(&d, "corroborations", "RQ-A"), 1);
    assert_int_equal(col_of(&d, "priority", "RQ-A"), pa);
    assert_int_equal(col_of(&d, "corroborations", "RQ-B"), 1);
    ts_storedb_close(&d);
}

/* A report held by moderation joins no incident (it neither starts one nor moves or
 * raises one) until a moderator releases it (mod_resolve), when it joins and counts; a
 * ban's sweep holds a reporter's open reports and takes them out of their incident. */
static void test_incident_held(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_held");
    const char *who[] = {"ps_held", "ps_one", "abcdef0123", "ps_three"};
    char ref[32];
    for (int i = 0; i < 4; i++) {
        snprintf(ref, sizeof(ref), "H-%d", i);
        struct rep r = {.ref = ref,
                        .reporter = who[i],
                        .category = "shelling",
                        .text = "explosion at the oil depot",
                        .lat = KYIV_LAT + i * 0.0005,
                        .lon = KYIV_LON};
        assert_int_equal(add_as(d.s, &r, i == 0 ? "held" : NULL), TL_OK);
    }
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count(&d, "SELECT count(*) FROM reports"
                               " WHERE public_ref = 'H-0' AND incident_id IS NULL"),
                     1);
    assert_int_equal(count(&d, "SELECT n_reports FROM incidents"), 3);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 3);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'H-1'"), 2);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'H-0'"), 0);
    /* released: it joins the incident and counts */
    ts_storedb_sql(d.ci, "INSERT INTO mod_verdicts (report_id, verdict, reasons)"
                         " SELECT id, 'hold', '{rule}' FROM reports WHERE public_ref = 'H-0'");
    ts_storedb_sql(d.ci, "SELECT mod_resolve('mod', 'report', id, 'release') FROM reports"
                         " WHERE public_ref = 'H-0'");
    assert_int_equal(count(&d, "SELECT count(*) FROM reports r JOIN incidents i"
                               " ON i.id = r.incident_id WHERE r.public_ref = 'H-0'"),
                     1);
    assert_int_equal(count(&d, "SELECT n_reports FROM incidents"), 4);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 4);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'H-1'"), 3);
    /* a ban with a sweep: the reporter's open report is held and leaves the incident */
    ts_storedb_sql(d.ci, "SELECT mod_ban('mod', 'abcdef', 'shadow', 'spam', true)");
    assert_int_equal(count(&d, "SELECT count(*) FROM reports WHERE public_ref = 'H-2'"
                               " AND status = 'held' AND incident_id IS NULL"),
                     1);
    assert_int_equal(count(&d, "SELECT n_reports FROM incidents"), 3);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 3);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'H-1'"), 2);
    ts_storedb_close(&d);
}

/* Through the real intake: citizens message the bot on the fake Bot API (a text naming
 * the place by its coordinates, then "Send now"), the runtime's two workers store the
 * reports (store_apply_plan, incident_join in the same transaction): 30 citizens around
 * one explosion make one incident of 30 reporters, 10 others 5 km away another. */
static void test_incident_through_the_bot(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_bot");
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    long long now = (long long)time(NULL);
    for (int i = 0; i < 40; i++) {
        long long chat = 2000001 + i, id = 10 + 2 * i;
        double lat, lon;
        offset(KYIV_LAT, KYIV_LON, (i % 7) * 40.0 - 120, (i % 5) * 50.0 - 100, &lat, &lon);
        if (i >= 30)
            offset(lat, lon, 0, 5000, &lat, &lon);
        char *m = tl_asprintf(
            "{\"update_id\":%lld,\"message\":{\"message_id\":1,\"from\":{\"id\":%lld,"
            "\"is_bot\":false,\"first_name\":\"C\",\"language_code\":\"uk\"},\"chat\":{\"id\":"
            "%lld,\"type\":\"private\"},\"date\":%lld,\"text\":\"вибух, дим %.5f, %.5f\"}}",
            id, chat, chat, now, lat, lon);
        char *c = tl_asprintf(
            "{\"update_id\":%lld,\"callback_query\":{\"id\":\"q%lld\",\"from\":{\"id\":%lld,"
            "\"is_bot\":false,\"first_name\":\"C\",\"language_code\":\"uk\"},\"chat_instance\":"
            "\"%lld\",\"data\":\"%lld:send\",\"message\":{\"message_id\":2,\"date\":%lld,"
            "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":\"draft\"}}}",
            id + 1, id + 1, chat, chat, id, now, chat);
        assert_true(fakebot_push_update(fb, m) > 0);
        assert_true(fakebot_push_update(fb, c) > 0);
        free(m);
        free(c);
    }
    struct cfg c;
    tb_cfg(&c, d.ci);
    tb_start(&c, fb, 0, 0);
    int64_t end = tl_now_ms() + 60000;
    while (count(&d, "SELECT count(*) FROM reports") < 40 && tl_now_ms() < end)
        (void)tl_sleep_ms(50, NULL);
    tb_stop();
    assert_int_equal(count(&d, "SELECT count(*) FROM reports WHERE point_source = 'text'"), 40);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 2);
    assert_int_equal(count(&d, "SELECT max(corroborations) FROM incidents"), 30);
    assert_int_equal(count(&d, "SELECT min(corroborations) FROM incidents"), 10);
    assert_int_equal(count(&d, "SELECT count(*) FROM reports WHERE incident_id IS NULL"), 0);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_storedb_close(&d);
}

/* Two events 5 km apart, reported at the same time, stay two incidents. */
static void test_incident_two_events_apart(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_apart");
    char ref[32], who[32];
    struct rep r;
    double lat2, lon2;
    offset(KYIV_LAT, KYIV_LON, 0, 5000, &lat2, &lon2);
    for (int i = 0; i < 60; i++) {
        event_report(i, i % 2 ? lat2 : KYIV_LAT, i % 2 ? lon2 : KYIV_LON, i % 2 ? "B" : "A", &r,
                     ref, who);
        add(&d, &r);
    }
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 2);
    assert_int_equal(count(&d, "SELECT count(DISTINCT incident_id) FROM reports"
                               " WHERE public_ref LIKE 'A-%%'"),
                     1);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents i WHERE n_reports = 30"
                               " AND corroborations = 30"),
                     2);
    /* and an unrelated category at the same place does not join either */
    add(&d, &(struct rep){.ref = "C-1",
                          .reporter = "ps_c",
                          .category = "collaborators",
                          .text = "a man photographs the checkpoint",
                          .lat = KYIV_LAT,
                          .lon = KYIV_LON});
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 3);
    ts_storedb_close(&d);
}

/* Text similarity moves the distance a report may join from: 1.3 km away, a report that
 * says what the incident's reports say joins, one that says something else, or nothing,
 * does not. */
static void test_incident_text_similarity(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_text");
    const char *say = "explosion at the oil depot, black smoke";
    add(&d, &(struct rep){"T-1", "ps_1", "shelling", say, KYIV_LAT, KYIV_LON, 10, 0, 0, 0});
    add(&d, &(struct rep){"T-2", "ps_2", "shelling", say, KYIV_LAT, KYIV_LON, 10, 0, 0, 0});
    /* each probe 1.3 km out in its own direction (more than 1.8 km from the others) */
    double lat, lon;
    offset(KYIV_LAT, KYIV_LON, 1300, 0, &lat, &lon);
    add(&d, &(struct rep){"T-NONE", "ps_4", "shelling", NULL, lat, lon, 10, 0, 0, 0});
    offset(KYIV_LAT, KYIV_LON, 0, 1300, &lat, &lon);
    add(&d, &(struct rep){"T-OTHER", "ps_3", "shelling", "queue at the pharmacy on Lesi Ukrainky",
                          lat, lon, 10, 0, 0, 0});
    offset(KYIV_LAT, KYIV_LON, -1300, 0, &lat, &lon);
    add(&d, &(struct rep){"T-SAME", "ps_5", "shelling", "explosion at the oil depot, smoke", lat,
                          lon, 10, 0, 0, 0});
    long long inc = count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'T-1'");
    assert_int_equal(count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'T-SAME'"), inc);
    assert_int_not_equal(count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'T-OTHER'"),
                         inc);
    assert_int_not_equal(count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'T-NONE'"),
                         inc);
    ts_storedb_close(&d);
}

struct racer {
    const char *ci;
    const char *tag;
    int n;
    atomic_int done;
    int rc;
};

static void *race_store(void *arg)
{
    struct racer *x = arg;
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    x->rc = store_open(x->ci, &s, &ei);
    for (int i = 0; i < x->n && x->rc == TL_OK; i++) {
        char ref[32], who[32];
        struct rep r;
        event_report(i, KYIV_LAT, KYIV_LON, x->tag, &r, ref, who);
        x->rc = add_to(s, &r);
    }
    store_free(s);
    atomic_store(&x->done, 1);
    return NULL;
}

/* Two workers racing on reports of one event make one incident. First forced: one
 * transaction holds its first report of the event open; the other worker's store waits
 * on the grid-cell lock and, once the first commits, joins its incident (without the
 * lock it would not see the uncommitted report and would start a second incident). Then
 * free-running: two connections store 60 reports each at the same moment. */
static void test_incident_race(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_race");
    ts_storedb_sql(d.ci, "INSERT INTO reporters (pseudonym) VALUES ('ps_first')");
    PGconn *c1 = PQconnectdb(d.ci);
    PGresult *res = PQexec(c1, "BEGIN");
    PQclear(res);
    res = PQexec(c1, "WITH r AS (INSERT INTO reports (public_ref, reporter, category, point,"
                     " point_source, priority) VALUES ('F-0', 'ps_first', 'shelling',"
                     " ST_MakePoint(30.5201, 50.4501)::geography, 'text', 20) RETURNING id)"
                     " SELECT incident_join(r.id) FROM r");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    struct racer w = {.ci = d.ci, .tag = "W", .n = 1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, race_store, &w), 0);
    (void)tl_sleep_ms(300, NULL);
    assert_int_equal(atomic_load(&w.done), 0); /* held on the lock */
    res = PQexec(c1, "COMMIT");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(c1);
    pthread_join(t, NULL);
    assert_int_equal(w.rc, TL_OK);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 2);

    struct racer a = {.ci = d.ci, .tag = "X", .n = 60}, b = {.ci = d.ci, .tag = "Y", .n = 60};
    ts_storedb_sql(d.ci, "DELETE FROM reports; DELETE FROM incidents");
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, race_store, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, race_store, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.rc, TL_OK);
    assert_int_equal(b.rc, TL_OK);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents"), 120);
    ts_storedb_close(&d);
}

/* Merge and split, as the API calls them, change the incidents and are audited. */
static void test_incident_merge_split_audited(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_merge");
    double lat2, lon2;
    offset(KYIV_LAT, KYIV_LON, 0, 3000, &lat2, &lon2);
    add(&d, &(struct rep){"M-1", "ps_1", "shelling", NULL, KYIV_LAT, KYIV_LON, 10, 0, 0, 0});
    add(&d, &(struct rep){"M-2", "ps_2", "shelling", NULL, KYIV_LAT, KYIV_LON, 10, 0, 0, 0});
    add(&d, &(struct rep){"M-3", "ps_3", "damage", NULL, lat2, lon2, 10, 0, 0, 0});
    long long a = count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'M-1'");
    long long b = count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'M-3'");
    assert_int_not_equal(a, b);
    struct store_who anna = {.account = "anna", .round_decimals = -1};
    struct tl_errinfo ei = {0};
    char *json = NULL;
    ts_storedb_sql(d.ci, "INSERT INTO accounts (name, role) VALUES ('anna', 'analyst')");
    assert_int_equal(store_web_incident_merge(d.s, &anna, a, b, &json, &ei), TL_OK);
    assert_non_null(strstr(json, "\"corroboration\": 3"));
    free(json);
    assert_int_equal(count(&d, "SELECT count(*) FROM reports WHERE incident_id = %lld", a), 3);
    assert_int_equal(count(&d, "SELECT merged_into FROM incidents WHERE id = %lld", b), a);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'M-3'"), 2);
    assert_int_equal(count(&d,
                           "SELECT count(*) FROM audit_log WHERE actor = 'anna'"
                           " AND action = 'incident_merge' AND object = 'incident:%lld'"
                           " AND (before->'other'->>'id')::bigint = %lld"
                           " AND (after->'incident'->>'corroboration')::int = 3",
                           a, b),
                     1);
    /* merged already: a conflict; with itself: refused */
    assert_int_equal(store_web_incident_merge(d.s, &anna, a, b, &json, &ei), TL_ECONFLICT);
    assert_int_equal(store_web_incident_merge(d.s, &anna, a, a, &json, &ei), TL_EINVAL);

    assert_int_equal(store_web_incident_split(d.s, &anna, "M-3", &json, &ei), TL_OK);
    free(json);
    long long c = count(&d, "SELECT incident_id FROM reports WHERE public_ref = 'M-3'");
    assert_int_not_equal(c, a);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents WHERE id = %lld", a), 2);
    assert_int_equal(count(&d, "SELECT corroborations FROM incidents WHERE id = %lld", c), 1);
    assert_int_equal(count(&d, "SELECT corroborations FROM reports WHERE public_ref = 'M-3'"), 0);
    assert_int_equal(count(&d,
                           "SELECT count(*) FROM audit_log a JOIN reports r"
                           " ON a.object = 'report:' || r.id WHERE r.public_ref = 'M-3'"
                           " AND a.action = 'incident_split' AND a.actor = 'anna'"
                           " AND (a.before->'incident'->>'id')::bigint = %lld"
                           " AND (a.after->>'incident')::bigint = %lld",
                           a, c),
                     1);
    /* the only report of its incident cannot be split off */
    assert_int_equal(store_web_incident_split(d.s, &anna, "M-3", &json, &ei), TL_EINVAL);
    ts_storedb_close(&d);
}

/* Three reporters around a known point, 5 km out, report a drone's bearing with a few
 * degrees of error: the fused position is within 500 m of the truth, and the truth is
 * within 3 of its stated uncertainties. */
static void test_incident_bearings_fused(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_bearings");
    const double az[3] = {10, 130, 250}, noise[3] = {3, -2, 4};
    const char *refs[3] = {"D-1", "D-2", "D-3"}, *who[3] = {"ps_d1", "ps_d2", "ps_d3"};
    for (int i = 0; i < 3; i++) {
        double lat, lon, a = az[i] * M_PI / 180;
        offset(KYIV_LAT, KYIV_LON, 5000 * cos(a), 5000 * sin(a), &lat, &lon);
        add(&d, &(struct rep){refs[i], who[i], "drones", "shahed flying low", lat, lon, 30, 1,
                              fmod(az[i] + 180 + noise[i], 360), 0});
    }
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(count(&d, "SELECT fused_lines FROM incidents"), 3);
    double err = scalar_f(&d, "SELECT ST_Distance(fused, ST_MakePoint(30.52, 50.45)::geography)"
                              " FROM incidents");
    double unc = scalar_f(&d, "SELECT fused_uncertainty_m FROM incidents");
    print_message("fused 3 bearings: error %.0f m, stated uncertainty %.0f m\n", err, unc);
    assert_true(err < 500);
    assert_true(unc > 50 && unc < 1500);
    assert_true(err < 3 * unc);
    /* a second drone, three reporters in a row 2 km apart all looking east: parallel */
    for (int i = 0; i < 3; i++) {
        double lat, lon;
        char ref[16], ps[16];
        snprintf(ref, sizeof(ref), "P-%d", i);
        snprintf(ps, sizeof(ps), "ps_p%d", i);
        offset(48.0, 35.0, i * 2000.0, 0, &lat, &lon);
        add(&d, &(struct rep){ref, ps, "drones", NULL, lat, lon, 30, 1, 90 + i, 0});
    }
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents"), 2);
    assert_int_equal(count(&d, "SELECT count(*) FROM incidents WHERE fused IS NULL"
                               " AND fused_lines = 3"),
                     1);
    ts_storedb_close(&d);
}

/* incident_fuse_lines on exact geometry: two lines at right angles meet at the target;
 * noise-free lines from three sides land on it; parallel, diverging (the target behind
 * the observers) and single lines give none. */
static void test_incident_fuse_lines(void **state)
{
    (void)state;
    struct ts_storedb d;
    ts_storedb_open(&d, "t_inc_fuse");
    struct {
        const char *what, *q;
        double max_err_m; /* < 0: no position */
    } cases[] = {
        /* observers 0.045 deg south (5 km) looking north and 0.07 deg west looking east */
        {"right angle",
         "ARRAY[50.405, 50.45], ARRAY[30.52, 30.45], ARRAY[10, 10]::float8[], ARRAY[0, 90]", 2},
        {"three sides",
         "ARRAY[50.405, 50.45, 50.495], ARRAY[30.52, 30.45, 30.52], ARRAY[10, 10, 10]::float8[],"
         " ARRAY[0, 90, 180]",
         2},
        {"parallel",
         "ARRAY[50.40, 50.45], ARRAY[30.52, 30.52], ARRAY[10, 10]::float8[], ARRAY[90, 92]", -1},
        {"diverging",
         "ARRAY[50.405, 50.45], ARRAY[30.52, 30.45], ARRAY[10, 10]::float8[], ARRAY[180, 270]", -1},
        {"one line", "ARRAY[50.405], ARRAY[30.52], ARRAY[10]::float8[], ARRAY[0]", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char q[1024];
        snprintf(q, sizeof(q),
                 "SELECT COALESCE(ST_Distance(ST_MakePoint(f.lon, f.lat)::geography,"
                 " ST_MakePoint(30.52, 50.45)::geography), -1) FROM incident_fuse_lines(%s,"
                 " 5, 10, 50000) f",
                 cases[i].q);
        double e = scalar_f(&d, q);
        if (cases[i].max_err_m < 0 ? e != -1 : (e < 0 || e > cases[i].max_err_m))
            fail_msg("%s: distance %.1f m", cases[i].what, e);
    }
    ts_storedb_close(&d);
}

int main(void)
{
    t_base = (double)time(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incident_one_event),
        cmocka_unit_test_teardown(test_incident_through_the_bot, tb_teardown),
        cmocka_unit_test(test_incident_two_events_apart),
        cmocka_unit_test(test_incident_held),
        cmocka_unit_test(test_incident_restricted_members),
        cmocka_unit_test(test_incident_text_similarity),
        cmocka_unit_test(test_incident_race),
        cmocka_unit_test(test_incident_merge_split_audited),
        cmocka_unit_test(test_incident_bearings_fused),
        cmocka_unit_test(test_incident_fuse_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
