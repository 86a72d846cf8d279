/* tests/test_web_routes.c - test_web: the role x route matrix, every route's answer,
 * the embedded console and vendor files, and the OpenAPI file covering every route. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_web_int.h"
#include "common/banned.h"

/* ---- the role x route matrix ---- */

enum { R_ANALYST = 1, R_MODERATOR = 2, R_EXPORTER = 4, R_ADMIN = 8 };

struct cell_ctx {
    struct fx *f;
    long long report, media;
    char path[160];
    char body[200];
};

/* Prepares a fresh report leased to the caller, for the lease routes. */
static void lease_to(struct cell_ctx *x, const char *account, const char *suffix)
{
    char ref[32];
    static int n;
    snprintf(ref, sizeof(ref), "M-%d", ++n);
    x->report = tweb_seed_simple(x->f, ref);
    char *q = tl_asprintf("UPDATE reports SET claimed_by = '%s', lease_until = now() + interval "
                          "'1 hour' WHERE id = %lld RETURNING id",
                          account, x->report);
    tweb_sql(x->f, q);
    free(q);
    snprintf(x->path, sizeof(x->path), "/api/reports/%lld/%s", x->report, suffix);
}

struct route_case {
    const char *method;
    const char *path; /* NULL: built by prep */
    const char *body;
    unsigned allowed;
    long ok; /* the 2xx an allowed role gets */
    void (*prep)(struct cell_ctx *x, const char *account);
};

static void p_report(struct cell_ctx *x, const char *a)
{
    (void)a;
    snprintf(x->path, sizeof(x->path), "/api/reports/%lld", x->report);
}
static void p_renew(struct cell_ctx *x, const char *a)
{
    lease_to(x, a, "renew");
}
static void p_release(struct cell_ctx *x, const char *a)
{
    lease_to(x, a, "release");
}
static void p_decide(struct cell_ctx *x, const char *a)
{
    lease_to(x, a, "decide");
}
static void p_followup(struct cell_ctx *x, const char *a)
{
    lease_to(x, a, "followup");
}
#define TWO_PLACES                                                                                 \
    "'[{\"name\":\"Novoselivka\",\"oblast\":\"Kharkiv Oblast\",\"country\":\"UA\","                \
    "\"lat\":49.7801,\"lon\":37.0402,\"accuracy_m\":2000},{\"name\":\"Novoselivka\","              \
    "\"oblast\":\"Donetsk Oblast\",\"country\":\"UA\",\"lat\":48.315,\"lon\":37.842,"              \
    "\"accuracy_m\":2500}]'"
static void p_place(struct cell_ctx *x, const char *a)
{
    lease_to(x, a, "place");
    char *q = tl_asprintf("UPDATE reports SET place_candidates = " TWO_PLACES
                          " WHERE id = %lld RETURNING id",
                          x->report);
    tweb_sql(x->f, q);
    free(q);
}
static void p_media(struct cell_ctx *x, const char *a)
{
    (void)a;
    snprintf(x->path, sizeof(x->path), "/api/media/%lld", x->media);
}
static void p_account(struct cell_ctx *x, const char *a)
{
    static int n;
    snprintf(x->body, sizeof(x->body), "{\"name\":\"new%d-%s\",\"role\":\"analyst\"}", ++n, a);
}
static void p_disable(struct cell_ctx *x, const char *a)
{
    static int n;
    char name[48];
    snprintf(name, sizeof(name), "gone%d-%s", ++n, a);
    tweb_account(x->f, name, "analyst");
    snprintf(x->path, sizeof(x->path), "/api/accounts/%s/disable", name);
}

/* A held report alone in a held campaign, for the moderators' release/reject routes. */
static void held_campaign(struct cell_ctx *x, const char *kind, const char *action)
{
    static int n;
    char ref[32];
    snprintf(ref, sizeof(ref), "H-%d", ++n);
    long long id = tweb_seed_simple(x->f, ref);
    char *c =
        tweb_scalar(x->f,
                    "WITH c AS (INSERT INTO mod_campaigns (sample) VALUES ('flood') RETURNING id),"
                    " u AS (UPDATE reports SET status = 'held' WHERE id = %lld RETURNING id)"
                    " INSERT INTO mod_verdicts (report_id, verdict, reasons, campaign_id)"
                    " SELECT u.id, 'hold', '{campaign}', c.id FROM c, u RETURNING campaign_id",
                    id);
    snprintf(x->path, sizeof(x->path), "/api/mod/%s/%s/%s", kind,
             strcmp(kind, "campaigns") == 0 ? c : ref, action);
    free(c);
}
static void p_mod_campaign_release(struct cell_ctx *x, const char *a)
{
    (void)a;
    held_campaign(x, "campaigns", "release");
}
static void p_mod_campaign_reject(struct cell_ctx *x, const char *a)
{
    (void)a;
    held_campaign(x, "campaigns", "reject");
}
static void p_mod_report_release(struct cell_ctx *x, const char *a)
{
    (void)a;
    held_campaign(x, "reports", "release");
}
static void p_mod_report_reject(struct cell_ctx *x, const char *a)
{
    (void)a;
    held_campaign(x, "reports", "reject");
}
/* Incidents: the report's own; two incidents apart (to merge); two reports of one (to
 * split the second off). Each call its own place, so no call sees another's incident. */
static void p_incident(struct cell_ctx *x, const char *a)
{
    (void)a;
    snprintf(x->path, sizeof(x->path), "/api/incidents/%lld",
             tweb_count(x->f, "SELECT incident_id FROM reports WHERE id = %lld", x->report));
}
static long long seed_at(struct cell_ctx *x, const char *tag, double lat)
{
    static int n;
    char ref[32];
    snprintf(ref, sizeof(ref), "%s-%d", tag, ++n);
    struct seed sd = {.ref = ref, .category = "shelling", .lat = lat, .lon = 36.0, .photos = 0};
    return tweb_seed(x->f, &sd);
}
static void p_merge(struct cell_ctx *x, const char *a)
{
    (void)a;
    static int n;
    n++;
    long long r1 = seed_at(x, "MG", 40 + n * 0.5), r2 = seed_at(x, "MG", 40.1 + n * 0.5);
    snprintf(x->path, sizeof(x->path), "/api/incidents/%lld/merge",
             tweb_count(x->f, "SELECT incident_id FROM reports WHERE id = %lld", r1));
    snprintf(x->body, sizeof(x->body), "{\"other\":%lld}",
             tweb_count(x->f, "SELECT incident_id FROM reports WHERE id = %lld", r2));
}
static void p_split(struct cell_ctx *x, const char *a)
{
    (void)a;
    static int n;
    n++;
    (void)seed_at(x, "SP", 44 + n * 0.5);
    snprintf(x->path, sizeof(x->path), "/api/reports/%lld/split", seed_at(x, "SP", 44 + n * 0.5));
}

static const struct route_case matrix[] = {
    {"GET", "/api/me", NULL, 15, 200, NULL},
    {"POST", "/api/logout", NULL, 15, 200, NULL},
    {"GET", "/api/config", NULL, 15, 200, NULL},
    {"GET", "/api/categories", NULL, 15, 200, NULL},
    {"GET", "/api/reports", NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, NULL},
    {"GET", NULL, NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, p_report},
    {"POST", "/api/queue/claim", "{}", R_ANALYST | R_ADMIN, 200, NULL},
    {"POST", NULL, NULL, R_ANALYST | R_ADMIN, 200, p_renew},
    {"POST", NULL, NULL, R_ANALYST | R_ADMIN, 200, p_release},
    {"POST", NULL, "{\"status\":\"confirmed\",\"note\":\"seen\"}", R_ANALYST | R_ADMIN, 200,
     p_decide},
    {"POST", NULL, "{\"question\":\"which way?\"}", R_ANALYST | R_ADMIN, 201, p_followup},
    {"POST", NULL, "{\"candidate\":1}", R_ANALYST | R_ADMIN, 200, p_place},
    {"POST", NULL, NULL, R_ANALYST | R_ADMIN, 201, p_split},
    {"GET", "/api/incidents", NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, NULL},
    {"GET", NULL, NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, p_incident},
    {"POST", NULL, NULL, R_ANALYST | R_ADMIN, 200, p_merge},
    {"GET", NULL, NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, p_media},
    {"GET", "/api/events", NULL, R_ANALYST | R_MODERATOR | R_ADMIN, 200, NULL},
    {"POST", "/api/reporters/a1b2c3d4e5f6/ban", "{\"reason\":\"spam\"}", R_MODERATOR | R_ADMIN, 200,
     NULL},
    {"POST", "/api/reporters/a1b2c3d4e5f6/unban", NULL, R_MODERATOR | R_ADMIN, 200, NULL},
    {"GET", "/api/mod/held", NULL, R_MODERATOR | R_ADMIN, 200, NULL},
    {"GET", "/api/mod/campaigns", NULL, R_MODERATOR | R_ADMIN, 200, NULL},
    {"POST", NULL, NULL, R_MODERATOR | R_ADMIN, 200, p_mod_campaign_release},
    {"POST", NULL, NULL, R_MODERATOR | R_ADMIN, 200, p_mod_campaign_reject},
    {"POST", NULL, NULL, R_MODERATOR | R_ADMIN, 200, p_mod_report_release},
    {"POST", NULL, NULL, R_MODERATOR | R_ADMIN, 200, p_mod_report_reject},
    {"POST", "/api/mod/reporters/a1b2c3d4e5f6/ban", "{\"mode\":\"shadow\",\"reason\":\"spam\"}",
     R_MODERATOR | R_ADMIN, 200, NULL},
    {"GET", "/api/mod/rules", NULL, R_MODERATOR | R_ADMIN, 200, NULL},
    {"POST", "/api/mod/rules/reload", "{\"wait\":0}", R_MODERATOR | R_ADMIN, 202, NULL},
    {"GET", "/api/mod/rules/reloads/1", NULL, R_MODERATOR | R_ADMIN, 202, NULL},
    {"GET", "/api/export.geojson", NULL, R_EXPORTER | R_ADMIN, 200, NULL},
    {"GET", "/api/audit", NULL, R_ADMIN, 200, NULL},
    {"GET", "/api/accounts", NULL, R_ADMIN, 200, NULL},
    {"POST", "/api/accounts", NULL, R_ADMIN, 201, p_account},
    {"POST", NULL, NULL, R_ADMIN, 200, p_disable},
};

static void test_web_role_route_matrix(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_matrix", NULL);
    struct cell_ctx x = {.f = f};
    x.report = tweb_seed_simple(f, "BASE-1");
    char *m = tweb_scalar(f, "SELECT min(id) FROM media");
    x.media = strtoll(m, NULL, 10);
    free(m);
    static const struct {
        const char *account;
        unsigned bit;
    } who[] = {{NULL, 0},
               {"alice", R_ANALYST},
               {"mona", R_MODERATOR},
               {"exa", R_EXPORTER},
               {"root", R_ADMIN}};
    int cells = 0;
    for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
        const struct route_case *rc = &matrix[i];
        for (size_t k = 0; k < sizeof(who) / sizeof(who[0]); k++) {
            x.body[0] = 0;
            if (rc->path)
                snprintf(x.path, sizeof(x.path), "%s", rc->path);
            if (rc->prep)
                rc->prep(&x, who[k].account ? who[k].account : "nobody");
            const char *body = x.body[0] ? x.body : rc->body;
            long want = !who[k].account ? 401 : (rc->allowed & who[k].bit) ? rc->ok : 403;
            struct hreq q = {.method = rc->method,
                             .path = x.path,
                             .as = who[k].account,
                             .body = body,
                             .timeout_ms = strcmp(x.path, "/api/events") == 0 ? 700 : 0};
            struct hres r = tweb_http(f, &q);
            if (r.status != want)
                fail_msg("%s %s as %s: want %ld, got %ld: %.200s", rc->method, x.path,
                         who[k].account ? who[k].account : "(none)", want, r.status,
                         (const char *)r.body.data);
            if (want >= 400 && r.status != 200) {
                struct json_object *o = tweb_json_of(&r);
                assert_string_equal(tweb_jstr(o, "error"),
                                    want == 401 ? "unauthorized" : "forbidden");
                json_object_put(o);
            }
            tweb_hres_release(&r);
            cells++;
        }
    }
    assert_int_equal(cells, (int)(sizeof(matrix) / sizeof(matrix[0]) * 5));
    /* the calls did what they say */
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM followups WHERE question = 'which way?'"),
                     2);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE status = 'confirmed'"
                                   " AND note = 'seen'"),
                     2);
    /* the moderators' actions, each audited */
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM mod_campaigns WHERE status = 'released'"),
                     2);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM mod_campaigns WHERE status = 'rejected'"),
                     2);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE public_ref LIKE 'H-%%'"
                                   " AND status = 'new'"),
                     4);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reports WHERE public_ref LIKE 'H-%%'"
                                   " AND status = 'rejected' AND decided_by IN ('mona', 'root')"),
                     4);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action IN ('mod_release',"
                                   " 'mod_reject') AND actor IN ('mona', 'root')"),
                     8);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'shadow_ban'"
                                   " AND actor IN ('mona', 'root')"),
                     2);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM mod_rules_reloads WHERE requested_by IN"
                                   " ('mona', 'root')"),
                     2);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE action = 'mod_rules_reload'"
                                " AND actor IN ('mona', 'root')"),
                     2);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM accounts WHERE name LIKE 'new%%'"), 1);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM accounts WHERE name LIKE 'gone%%'"
                                   " AND disabled"),
                     1);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM incidents WHERE merged_into IS NOT NULL"),
                     2);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM audit_log WHERE action = 'incident_split'"), 2);
    tweb_fx_free(f);
}

/* ---- every route's answer ---- */

static void test_web_routes_answer(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_routes", NULL);
    long long id = tweb_seed_simple(f, "R-ONE");
    struct hres r;
    struct json_object *o;

    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "account"), "alice");
    assert_string_equal(tweb_jstr(o, "role"), "analyst");
    assert_null(tweb_jget(o, "csrf")); /* bearer calls carry no CSRF */
    assert_string_equal(
        json_object_to_json_string_ext(tweb_jget(o, "queues"), JSON_C_TO_STRING_PLAIN),
        "[\"general\"]");
    json_object_put(o);
    tweb_hres_release(&r);

    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/categories", .as = "exa"});
    assert_non_null(
        strstr((char *)r.body.data,
               "{\"id\" : \"collaborators\", \"queue\" : \"restricted\", \"moving\" : false}"));
    tweb_hres_release(&r);

    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/config", .as = "exa"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "tile_url"), "");
    assert_string_equal(tweb_jstr(o, "lang_default"), "uk");
    json_object_put(o);
    tweb_hres_release(&r);

    /* one report, by id and by ref: summary and full fields, never a chat id */
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports/R-ONE", .as = "alice"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_int_equal(tweb_jll(o, "id"), id);
    assert_string_equal(tweb_jstr(o, "ref"), "R-ONE");
    assert_string_equal(tweb_jstr(o, "status"), "new");
    assert_string_equal(tweb_jstr(o, "category"), "drones");
    assert_string_equal(tweb_jstr(o, "point_source"), "telegram_location");
    assert_string_equal(tweb_jstr(o, "flags.0"), "outside_area");
    assert_int_equal(tweb_jll(o, "n_media"), 1);
    assert_string_equal(tweb_jstr(o, "media.0.mime"), "image/jpeg");
    assert_int_equal(tweb_jll(o, "media.0.width"), 64);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "media.0.photo_point.lat")) - 50.1234567) <
                1e-6);
    assert_string_equal(tweb_jstr(o, "reporter.pseudonym"), "a1b2c3d4e5f6");
    assert_int_equal(tweb_jll(o, "reporter.n_reports"), 1);
    assert_null(strstr((char *)r.body.data, PSEUDO_A)); /* only the 12-digit prefix */
    assert_true(json_object_get_boolean(tweb_jget(o, "point.rounded")) == 0);
    json_object_put(o);
    tweb_hres_release(&r);

    /* followup: a row the bot relays; its answer shows in the report */
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/reports/R-ONE/followup",
                                    .as = "alice",
                                    .body = "{\"question\":\"how many?\"}"});
    assert_int_equal(r.status, 201);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "followup.question"), "how many?");
    assert_string_equal(tweb_jstr(o, "followup.asked_by"), "alice");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_sql(f, "UPDATE followups SET relayed_at = now(), answer = 'three', answered_at = now()"
                " RETURNING id");
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports/R-ONE", .as = "alice"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "followups.0.answer"), "three");
    json_object_put(o);
    tweb_hres_release(&r);

    /* a place name several villages share: the analyst picks one, audited */
    (void)tweb_seed_simple(f, "R-PLACE");
    tweb_sql(
        f, "UPDATE reports SET place_candidates = " TWO_PLACES
           ", flags = '{place_ambiguous,outside_area}' WHERE public_ref = 'R-PLACE' RETURNING id");
    r = tweb_http(f,
                  &(struct hreq){.method = "GET", .path = "/api/reports/R-PLACE", .as = "alice"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "place_candidates.1.oblast"), "Donetsk Oblast");
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/reports/R-PLACE/place",
                               .as = "alice",
                               .body = "{\"candidate\":2}"},
                400, NULL);
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/reports/R-PLACE/place",
                               .as = "alice",
                               .body = "{\"candidate\":-1}"},
                400, NULL);
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/reports/R-PLACE/place",
                                    .as = "alice",
                                    .body = "{\"candidate\":1}"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "point.lat")) - 48.315) < 1e-9);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "point.lon")) - 37.842) < 1e-9);
    assert_true(fabs(json_object_get_double(tweb_jget(o, "accuracy_m")) - 2500) < 1e-9);
    assert_string_equal(tweb_jstr(o, "point_source"), "text");
    assert_string_equal(
        json_object_to_json_string_ext(tweb_jget(o, "flags"), JSON_C_TO_STRING_PLAIN),
        "[\"outside_area\"]");
    assert_null(tweb_jget(o, "place_candidates"));
    json_object_put(o);
    tweb_hres_release(&r);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice' AND action ="
                                " 'place' AND after->>'oblast' = 'Donetsk Oblast'"
                                " AND jsonb_array_length(before->'place_candidates') = 2"),
                     1);
    /* nothing left to pick */
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/reports/R-PLACE/place",
                               .as = "alice",
                               .body = "{\"candidate\":0}"},
                400, NULL);

    /* ban / unban by pseudonym prefix, audited */
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/reporters/a1b2c3d4e5f6/ban",
                                    .as = "mona",
                                    .body = "{\"reason\":\"flood\"}"});
    assert_int_equal(r.status, 200);
    tweb_hres_release(&r);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reporters WHERE banned AND ban_reason ="
                                   " 'flood'"),
                     1);
    tweb_expect(
        f,
        &(struct hreq){.method = "POST", .path = "/api/reporters/a1b2c3d4e5f6/unban", .as = "mona"},
        200, NULL);
    assert_int_equal(tweb_count(f, "SELECT count(*) FROM reporters WHERE banned"), 0);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'mona' AND action IN"
                                " ('ban', 'unban') AND object = 'reporter:a1b2c3d4e5f6'"),
                     2);
    tweb_expect(
        f,
        &(struct hreq){.method = "POST", .path = "/api/reporters/ffffffffffff/ban", .as = "mona"},
        404, "not_found");

    /* export: confirmed reports only, GeoJSON, no reporter, no text */
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/export.geojson", .as = "exa"});
    assert_string_equal((char *)r.body.data,
                        "{\"type\" : \"FeatureCollection\", \"features\" : []}");
    tweb_hres_release(&r);
    tweb_sql(f, "UPDATE reports SET status = 'confirmed' RETURNING id");
    r = tweb_http(f, &(struct hreq){.method = "GET",
                                    .path = "/api/export.geojson?bbox=30,50,31,51",
                                    .as = "exa"});
    char *ct = tweb_header(&r, "Content-Type");
    assert_string_equal(ct, "application/geo+json");
    free(ct);
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "features.0.properties.ref"), "R-ONE");
    assert_null(strstr((char *)r.body.data, "a1b2c3"));
    assert_null(strstr((char *)r.body.data, "drones heading"));
    json_object_put(o);
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET",
                                    .path = "/api/export.geojson?bbox=10,10,11,11",
                                    .as = "exa"});
    assert_non_null(strstr((char *)r.body.data, "\"features\" : []"));
    tweb_hres_release(&r);

    /* accounts: a new one's token works at once; disabled, it does not */
    r = tweb_http(f, &(struct hreq){.method = "POST",
                                    .path = "/api/accounts",
                                    .as = "root",
                                    .body = "{\"name\":\"carol\",\"role\":\"moderator\"}"});
    assert_int_equal(r.status, 201);
    o = tweb_json_of(&r);
    const char *tok = tweb_jstr(o, "token");
    assert_non_null(tok);
    char sha[65];
    tweb_sha256_hex(tok, sha);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM api_tokens WHERE token_sha256 = '%s'", sha), 1);
    assert_int_equal(
        tweb_count(f, "SELECT count(*) FROM api_tokens WHERE token_sha256 = '%s'", tok), 0);
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/accounts",
                               .as = "root",
                               .body = "{\"name\":\"carol\",\"role\":\"analyst\"}"},
                409, "conflict");
    tweb_expect(f,
                &(struct hreq){.method = "POST",
                               .path = "/api/accounts",
                               .as = "root",
                               .body = "{\"name\":\"dave\",\"role\":\"boss\"}"},
                400, "bad_request");
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/accounts", .as = "root"});
    assert_non_null(strstr((char *)r.body.data, "\"name\": \"carol\", \"role\": \"moderator\""));
    tweb_hres_release(&r);
    tweb_expect(
        f, &(struct hreq){.method = "POST", .path = "/api/accounts/alice/disable", .as = "root"},
        200, NULL);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/me", .as = "alice"}, 401,
                "unauthorized");
    tweb_expect(
        f, &(struct hreq){.method = "POST", .path = "/api/accounts/nobody/disable", .as = "root"},
        404, "not_found");

    /* audit: newest first, filtered by object */
    r = tweb_http(f, &(struct hreq){.method = "GET",
                                    .path = "/api/audit?object=account:alice&limit=5",
                                    .as = "root"});
    o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "items.0.action"), "account_disable");
    assert_string_equal(tweb_jstr(o, "items.0.actor"), "root");
    assert_true(json_object_get_boolean(tweb_jget(o, "items.0.after.disabled")));
    json_object_put(o);
    tweb_hres_release(&r);
    tweb_fx_free(f);
}

/* ---- the console and vendor files, embedded at build time ---- */

static void test_web_static_files(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_static", NULL);
    /* never a directory listing or a file outside the embedded set */
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/static/../../etc/passwd"}, 400,
                "bad_request");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/static/no-such-file.js"}, 404,
                "not_found");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/vendor/leaflet/../../CMakeLists.txt"},
                400, "bad_request");
    const char *src = getenv("TL_SOURCE_DIR");
    char *index = src ? tl_asprintf("%s/web/static/index.html", src) : NULL;
    FILE *probe = index ? fopen(index, "rb") : NULL;
    if (!probe) {
        free(index);
        tweb_fx_free(f);
        print_message("web/static/index.html absent in this tree: / is 404\n");
        return;
    }
    fclose(probe);
    size_t len = 0;
    char *want = ts_read_file(index, &len);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/"});
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, len);
    assert_memory_equal(r.body.data, want, len);
    char *ct = tweb_header(&r, "Content-Type"), *csp = tweb_header(&r, "Content-Security-Policy");
    assert_string_equal(ct, "text/html; charset=utf-8");
    assert_non_null(strstr(csp, "default-src 'self'"));
    free(ct);
    free(csp);
    tweb_hres_release(&r);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/static/index.html"});
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, len);
    tweb_hres_release(&r);
    free(want);
    free(index);
    tweb_fx_free(f);
}

/* ---- the OpenAPI file documents every route the matrix walks ---- */

static void test_web_openapi_covers_routes(void **state)
{
    (void)state;
    const char *src = getenv("TL_SOURCE_DIR");
    if (!src)
        skip();
    char *path = tl_asprintf("%s/web/openapi.yaml", src);
    size_t len;
    char *y = ts_read_file(path, &len);
    static const char *const want[] = {
        "  /api/login:\n    post:",
        "  /api/logout:\n    post:",
        "  /api/me:\n    get:",
        "  /api/config:\n    get:",
        "  /api/categories:\n    get:",
        "  /api/reports:\n    get:",
        "  /api/reports/{report}:\n    get:",
        "  /api/queue/claim:\n    post:",
        "  /api/reports/{report}/renew:\n    post:",
        "  /api/reports/{report}/release:\n    post:",
        "  /api/reports/{report}/decide:\n    post:",
        "  /api/reports/{report}/followup:\n    post:",
        "  /api/reports/{report}/place:\n    post:",
        "  /api/reports/{report}/split:\n    post:",
        "  /api/incidents:\n    get:",
        "  /api/incidents/{incident}:\n    get:",
        "  /api/incidents/{incident}/merge:\n    post:",
        "  /api/media/{media}:\n    get:",
        "  /api/events:\n    get:",
        "  /api/reporters/{pseudonym}/ban:\n    post:",
        "  /api/reporters/{pseudonym}/unban:\n    post:",
        "  /api/mod/held:\n    get:",
        "  /api/mod/campaigns:\n    get:",
        "  /api/mod/campaigns/{campaign}/release:\n    post:",
        "  /api/mod/campaigns/{campaign}/reject:\n    post:",
        "  /api/mod/reports/{report}/release:\n    post:",
        "  /api/mod/reports/{report}/reject:\n    post:",
        "  /api/mod/reporters/{pseudonym}/ban:\n    post:",
        "  /api/mod/rules:\n    get:",
        "  /api/mod/rules/reload:\n    post:",
        "  /api/mod/rules/reloads/{reload}:\n    get:",
        "  /api/export.geojson:\n    get:",
        "  /api/audit:\n    get:",
        "  /api/accounts:\n    get:",
        "  /api/accounts/{name}/disable:\n    post:",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(y, want[i]))
            fail_msg("web/openapi.yaml does not document %s", want[i]);
    assert_int_equal(sizeof(want) / sizeof(want[0]) + 1, /* POST /api/accounts: same path */
                     sizeof(matrix) / sizeof(matrix[0]) + 1);
    free(y);
    free(path);
}

const struct CMUnitTest tweb_routes_tests[] = {
    cmocka_unit_test_teardown(test_web_role_route_matrix, tweb_teardown),
    cmocka_unit_test_teardown(test_web_routes_answer, tweb_teardown),
    cmocka_unit_test_teardown(test_web_static_files, tweb_teardown),
    cmocka_unit_test(test_web_openapi_covers_routes),
};
const size_t tweb_routes_ntests = TS_NTESTS(tweb_routes_tests);
