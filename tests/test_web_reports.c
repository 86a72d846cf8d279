/* tests/test_web_reports.c - test_web: what the API shows of reports: media headers
 * and ranges, list filters and keyset pages, incidents and corroboration. */
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

/* ---- media ---- */

/* A stored video is served as video/mp4 and in the slices a <video> asks for: 206 with
 * Content-Range for first-last, first- and -suffix, 416 past the end, the whole file for
 * several ranges or a malformed header. */
static void media_ranges(struct fx *f, const char *path, const char *body, size_t len)
{
    tweb_sql(f, "UPDATE media SET mime = 'video/mp4', kind = 'video' RETURNING 1");
    static const struct {
        const char *range;
        long status;
        size_t first, last; /* inclusive; last (size_t)-1: the end */
    } cases[] = {
        {"Range: bytes=0-99", 206, 0, 99},
        {"Range: bytes=100-", 206, 100, (size_t)-1},
        {"Range: bytes=-50", 206, 0, 49}, /* first computed below */
        {"Range: bytes=5-5", 206, 5, 5},
        {"Range: bytes=0-99999999", 206, 0, (size_t)-1},
        {"Range: bytes=0-1,5-9", 200, 0, (size_t)-1},
        {"Range: bytes=9-2", 200, 0, (size_t)-1},
        {"Range: lines=1-2", 200, 0, (size_t)-1},
        {NULL, 200, 0, (size_t)-1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t first = cases[i].first, last = cases[i].last == (size_t)-1 ? len - 1 : cases[i].last;
        if (i == 2)
            first = len - 50, last = len - 1;
        struct hres r = tweb_http(
            f,
            &(struct hreq){.method = "GET", .path = path, .as = "alice", .extra = cases[i].range});
        if (r.status != cases[i].status)
            fail_msg("%s: status %ld", cases[i].range ? cases[i].range : "(none)", r.status);
        char *ct = tweb_header(&r, "Content-Type"), *ar = tweb_header(&r, "Accept-Ranges"),
             *cr = tweb_header(&r, "Content-Range");
        assert_string_equal(ct, "video/mp4");
        assert_string_equal(ar, "bytes");
        assert_int_equal(r.body.len, last - first + 1);
        assert_memory_equal(r.body.data, body + first, last - first + 1);
        if (cases[i].status == 206) {
            char want[64];
            snprintf(want, sizeof(want), "bytes %zu-%zu/%zu", first, last, len);
            assert_non_null(cr);
            assert_string_equal(cr, want);
        } else {
            assert_null(cr);
        }
        free(ct);
        free(ar);
        free(cr);
        tweb_hres_release(&r);
    }
    char past[64], want[64];
    snprintf(past, sizeof(past), "Range: bytes=%zu-", len);
    snprintf(want, sizeof(want), "bytes */%zu", len);
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice", .extra = past});
    assert_int_equal(r.status, 416);
    char *cr = tweb_header(&r, "Content-Range");
    assert_non_null(cr);
    assert_string_equal(cr, want);
    free(cr);
    tweb_hres_release(&r);
}

static void test_web_media_headers(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_media", NULL);
    tweb_seed_simple(f, "MED-1");
    char *m = tweb_scalar(f, "SELECT min(id) FROM media");
    char path[64];
    snprintf(path, sizeof(path), "/api/media/%s", m);
    struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    assert_int_equal(r.status, 200);
    size_t jl;
    const char *jp = tweb_jpeg(&jl);
    assert_int_equal(r.body.len, jl);
    assert_memory_equal(r.body.data, jp, jl);
    static const char *const want[][2] = {
        {"Content-Type", "image/jpeg"},        {"Cache-Control", "no-store, private"},
        {"X-Content-Type-Options", "nosniff"}, {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *v = tweb_header(&r, want[i][0]);
        if (!v || strcmp(v, want[i][1]) != 0)
            fail_msg("%s: want %s, got %s", want[i][0], want[i][1], v ? v : "(none)");
        free(v);
    }
    tweb_hres_release(&r);
    /* a stored type that is not an image is never sent as itself */
    tweb_sql(f, "UPDATE media SET mime = 'text/html' RETURNING 1");
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    char *ct = tweb_header(&r, "Content-Type");
    assert_string_equal(ct, "application/octet-stream");
    free(ct);
    tweb_hres_release(&r);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = path, .as = "exa"}, 403, "forbidden");
    media_ranges(f, path, jp, jl);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/media/999999", .as = "alice"}, 404,
                "not_found");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/media/abc", .as = "alice"}, 400,
                "bad_request");
    free(m);
    tweb_fx_free(f);
}

/* A video's duration, read from its header at intake, is written by store_apply and
 * shown in the report document; a photo's is null. (A draft's video moved onto its
 * report: test_conv_wizard_video.) */
static void test_web_video_duration(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_duration", NULL);
    size_t jl;
    const unsigned char *jp = (const unsigned char *)tweb_jpeg(&jl);
    static const unsigned char mp4[] = "\0\0\0\x18"
                                       "ftypisom\0\0\x02\0isomiso2";
    struct store_media_new m[2] = {
        {.kind = "video",
         .mime = "video/mp4",
         .bytes = mp4,
         .len = sizeof(mp4) - 1,
         .width = 320,
         .height = 240,
         .duration_ms = 12480},
        {.kind = "photo", .mime = "image/jpeg", .bytes = jp, .len = jl, .width = 64, .height = 48},
    };
    struct store_report_new rp = {.public_ref = "DUR-1",
                                  .reporter = PSEUDO_A,
                                  .sent_at = 1764100060,
                                  .media = m,
                                  .n_media = 2};
    struct store_effects fx = {.pseudonym = PSEUDO_A, .set_blocked = -1, .report = &rp};
    long long id = 0;
    CHECK(store_apply(f->s, &fx, &id, EI));
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports/DUR-1", .as = "alice"});
    assert_int_equal(r.status, 200);
    json_object *o = tweb_json_of(&r);
    assert_string_equal(tweb_jstr(o, "media.0.kind"), "video");
    assert_int_equal(tweb_jll(o, "media.0.duration_ms"), 12480);
    assert_true(json_object_object_get_ex(tweb_jget(o, "media.1"), "duration_ms", NULL));
    assert_null(tweb_jget(o, "media.1.duration_ms"));
    json_object_put(o);
    tweb_hres_release(&r);
    /* a negative duration never reaches the database */
    m[0].duration_ms = -1;
    rp.public_ref = "DUR-2";
    assert_int_equal(store_apply(f->s, &fx, &id, NULL), TL_EINVAL);
    char *n = tweb_scalar(f, "SELECT count(*) FROM reports WHERE public_ref = 'DUR-2'");
    assert_string_equal(n, "0");
    free(n);
    tweb_fx_free(f);
}

/* ---- filters and keyset pagination ---- */

static void test_web_list_filters_pages(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_list", NULL);
    for (int i = 0; i < 25; i++) {
        char ref[16];
        snprintf(ref, sizeof(ref), "L-%02d", i);
        struct seed sd = {.ref = ref,
                          .category = i % 2 ? "drones" : "equipment",
                          .lat = 48 + i * 0.1,
                          .lon = 35 + i * 0.1,
                          .photos = i % 3 == 0};
        tweb_seed(f, &sd);
    }
    /* ties on received_at: the id breaks them */
    tweb_sql(f, "UPDATE reports SET received_at = '2026-11-20T10:00:00Z' WHERE public_ref IN"
                " ('L-03', 'L-04', 'L-05', 'L-06', 'L-07') RETURNING 1");
    tweb_sql(
        f,
        "UPDATE reports SET corroborations = 3 WHERE public_ref IN ('L-10', 'L-11') RETURNING 1");
    /* every page in order, nothing twice, nothing missed */
    char path[256] = "/api/reports?limit=4";
    int pages = 0, n = 0;
    long long last_id = 0;
    char last_at[40] = "";
    static int seen[64];
    memset(seen, 0, sizeof(seen));
    for (;;) {
        struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
        assert_int_equal(r.status, 200);
        struct json_object *o = tweb_json_of(&r), *items = tweb_jget(o, "items");
        size_t k = json_object_array_length(items);
        for (size_t i = 0; i < k; i++) {
            struct json_object *it = json_object_array_get_idx(items, i);
            long long id = tweb_jll(it, "id");
            const char *at = tweb_jstr(it, "received_at");
            assert_true(id > 0 && id < 64);
            assert_int_equal(seen[id]++, 0);
            if (last_at[0]) /* newest first; equal times by id descending */
                assert_true(strcmp(at, last_at) < 0 || (strcmp(at, last_at) == 0 && id < last_id));
            snprintf(last_at, sizeof(last_at), "%s", at);
            last_id = id;
            n++;
        }
        pages++;
        const char *next = tweb_jstr(o, "next");
        if (!next) {
            json_object_put(o);
            tweb_hres_release(&r);
            break;
        }
        snprintf(path, sizeof(path), "/api/reports?limit=4&after=%s", next);
        json_object_put(o);
        tweb_hres_release(&r);
    }
    assert_int_equal(n, 25);
    assert_int_equal(pages, 7);
    /* filters */
    static const struct {
        const char *q;
        long long n;
    } filters[] = {
        {"category=drones", 12},
        {"has_photo=true", 9},
        {"has_photo=false", 16},
        {"min_corroborations=2", 2},
        {"bbox=35.45,48.45,35.75,48.75", 3}, /* L-05..L-07 */
        {"since=2026-11-20T09:00:00Z&until=2026-11-20T11:00:00%2B00:00", 5},
        {"status=new", 25},
        {"status=claimed", 0},
        {"category=drones&has_photo=true&limit=200", 4},
    };
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        snprintf(path, sizeof(path), "/api/reports?limit=200&%s", filters[i].q);
        if (strstr(filters[i].q, "limit="))
            snprintf(path, sizeof(path), "/api/reports?%s", filters[i].q);
        struct hres r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
        assert_int_equal(r.status, 200);
        struct json_object *o = tweb_json_of(&r);
        size_t got = json_object_array_length(tweb_jget(o, "items"));
        if ((long long)got != filters[i].n)
            fail_msg("%s: want %lld, got %zu", filters[i].q, filters[i].n, got);
        json_object_put(o);
        tweb_hres_release(&r);
    }
    tweb_fx_free(f);
}

/* Incidents through the API: the queue's summary names the incident and its
 * corroboration; the list, most corroborated first; the view with members, bearing lines
 * and photo clusters (near perceptual hashes grouped, a distant one alone); a merge and a
 * split audited; a moderator reads but does not merge. */
static void test_web_incidents(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_incidents", NULL);
    struct seed a = {.ref = "I-1",
                     .category = "drones",
                     .lat = 50.45,
                     .lon = 30.52,
                     .photos = 2,
                     .reporter = "aaaa00000001"};
    struct seed b = {.ref = "I-2",
                     .category = "drones",
                     .lat = 50.451,
                     .lon = 30.52,
                     .photos = 1,
                     .reporter = "aaaa00000002"};
    struct seed c = {.ref = "I-3",
                     .category = "shelling",
                     .lat = 48.0,
                     .lon = 35.0,
                     .photos = 0,
                     .reporter = "aaaa00000003"};
    long long r1 = tweb_seed(f, &a), r2 = tweb_seed(f, &b), r3 = tweb_seed(f, &c);
    tweb_sql(f, "UPDATE reports SET bearing = 45 WHERE public_ref = 'I-2' RETURNING 1");
    long long inc = tweb_count(f, "SELECT incident_id FROM reports WHERE id = %lld", r1);
    long long other = tweb_count(f, "SELECT incident_id FROM reports WHERE id = %lld", r3);
    assert_int_equal(tweb_count(f, "SELECT incident_id FROM reports WHERE id = %lld", r2), inc);
    /* hashes: the first two photos 3 bits apart, the third far from both */
    tweb_sql(f, "UPDATE media m SET phash = CASE WHEN m.id = (SELECT min(id) FROM media)"
                " THEN 1311768467463790320 WHEN m.report_id = (SELECT id FROM reports"
                " WHERE public_ref = 'I-2') THEN -1 ELSE 1311768467463790320 # 7 END RETURNING 1");
    char path[96];
    struct hres r =
        tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports", .as = "alice"});
    struct json_object *o = tweb_json_of(&r);
    tweb_hres_release(&r);
    struct json_object *items = tweb_jget(o, "items");
    int seen = 0;
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        struct json_object *it = json_object_array_get_idx(items, i);
        if (json_object_get_int64(tweb_jget(it, "id")) == r1) {
            assert_int_equal(tweb_jll(it, "incident_id"), inc);
            assert_int_equal(tweb_jll(it, "incident_corroboration"), 2);
            seen = 1;
        }
    }
    assert_true(seen);
    json_object_put(o);

    r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/incidents", .as = "mona"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_int_equal(json_object_array_length(tweb_jget(o, "incidents")), 2);
    struct json_object *first = json_object_array_get_idx(tweb_jget(o, "incidents"), 0);
    assert_int_equal(tweb_jll(first, "id"), inc);
    assert_int_equal(tweb_jll(first, "corroboration"), 2);
    json_object_put(o);
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/incidents", .as = "exa"}, 403,
                "forbidden");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/incidents/x1", .as = "alice"}, 400,
                "bad_request");
    tweb_expect(f, &(struct hreq){.method = "GET", .path = "/api/incidents/999999", .as = "alice"},
                404, NULL);

    snprintf(path, sizeof(path), "/api/incidents/%lld", inc);
    r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_int_equal(json_object_array_length(tweb_jget(o, "members")), 2);
    assert_int_equal(json_object_array_length(tweb_jget(o, "bearings")), 1);
    assert_int_equal(tweb_jll(json_object_array_get_idx(tweb_jget(o, "bearings"), 0), "report"),
                     r2);
    struct json_object *cl = tweb_jget(o, "photo_clusters");
    assert_int_equal(json_object_array_length(cl), 1);
    assert_int_equal(json_object_array_length(json_object_array_get_idx(cl, 0)), 2);
    json_object_put(o);

    /* I-2 in the restricted queue: to a non-member the incident is what it sees, one
     * report by one reporter, in the view and in the list; a member sees both */
    tweb_sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'I-2' RETURNING 1");
    for (int member = 0; member < 2; member++) {
        if (member)
            CHECK(store_queue_member_add(f->s, "test", "restricted", "alice", EI));
        r = tweb_http(f, &(struct hreq){.method = "GET", .path = path, .as = "alice"});
        assert_int_equal(r.status, 200);
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        assert_int_equal(tweb_jll(o, "corroboration"), member ? 2 : 1);
        assert_int_equal(tweb_jll(o, "n_reports"), member ? 2 : 1);
        assert_int_equal(json_object_array_length(tweb_jget(o, "members")), member ? 2 : 1);
        assert_int_equal(json_object_array_length(tweb_jget(o, "bearings")), member ? 1 : 0);
        json_object_put(o);
        r = tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/incidents", .as = "alice"});
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        struct json_object *list = tweb_jget(o, "incidents"), *it = NULL;
        for (size_t i = 0; i < json_object_array_length(list) && !it; i++)
            if (tweb_jll(json_object_array_get_idx(list, i), "id") == inc)
                it = json_object_array_get_idx(list, i);
        assert_non_null(it);
        assert_int_equal(tweb_jll(it, "corroboration"), member ? 2 : 1);
        assert_int_equal(tweb_jll(it, "n_reports"), member ? 2 : 1);
        json_object_put(o);
    }
    tweb_sql(f, "DELETE FROM queue_members WHERE account = 'alice' RETURNING 1");
    tweb_sql(f, "UPDATE reports SET queue = 'general' WHERE public_ref = 'I-2' RETURNING 1");

    /* merge: a moderator may not; an analyst merges, audited */
    char body[64];
    snprintf(path, sizeof(path), "/api/incidents/%lld/merge", inc);
    snprintf(body, sizeof(body), "{\"other\":%lld}", other);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "mona", .body = body}, 403,
                "forbidden");
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = "{}"}, 400,
                "bad_request");
    r = tweb_http(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = body});
    assert_int_equal(r.status, 200);
    o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_int_equal(tweb_jll(o, "corroboration"), 3);
    assert_int_equal(json_object_array_length(tweb_jget(o, "members")), 3);
    json_object_put(o);
    tweb_expect(f, &(struct hreq){.method = "POST", .path = path, .as = "alice", .body = body}, 409,
                NULL);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice'"
                                " AND action = 'incident_merge' AND object = 'incident:%lld'",
                                inc),
                     1);
    /* split the shelling report off again */
    r = tweb_post_as(f, "/api/reports/I-3/split", "alice", NULL);
    assert_int_equal(r.status, 201);
    o = tweb_json_of(&r);
    tweb_hres_release(&r);
    assert_int_equal(tweb_jll(o, "corroboration"), 1);
    json_object_put(o);
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM incidents WHERE id = %lld", inc), 2);
    assert_int_equal(tweb_count(f,
                                "SELECT count(*) FROM audit_log WHERE actor = 'alice'"
                                " AND action = 'incident_split' AND object = 'report:%lld'",
                                r3),
                     1);
    tweb_fx_free(f);
}

/* A report of an incident with a member in a restricted queue: to a non-member its
 * incident's corroboration is counted over the reports it sees (one reporter: its own,
 * none other), in the list, the list's min_corroborations filter, the view, the claim's
 * document and decide-then-next's; a member sees the stored one. The report's own
 * corroboration counts only the members everyone who sees it sees (priority_corroborators:
 * its score must not tell of the restricted one): none, for member and non-member. */
static void test_web_report_corroboration_restricted(void **state)
{
    (void)state;
    struct fx *f = tweb_fx_new("t_web_corr_restricted", NULL);
    struct seed a = {.ref = "RC-1",
                     .category = "drones",
                     .lat = 50.45,
                     .lon = 30.52,
                     .photos = 0,
                     .reporter = "aaaa00000001"};
    struct seed b = {.ref = "RC-2",
                     .category = "drones",
                     .lat = 50.451,
                     .lon = 30.52,
                     .photos = 0,
                     .reporter = "aaaa00000002"};
    long long r1 = tweb_seed(f, &a), r2 = tweb_seed(f, &b);
    long long inc = tweb_count(f, "SELECT incident_id FROM reports WHERE id = %lld", r1);
    assert_int_equal(tweb_count(f, "SELECT incident_id FROM reports WHERE id = %lld", r2), inc);
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM reports WHERE id = %lld", r1), 1);
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM incidents WHERE id = %lld", inc), 2);
    tweb_sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'RC-2' RETURNING 1");
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM reports WHERE id = %lld", r1), 0);
    char path[96], ref[32];
    for (int member = 0; member < 2; member++) {
        long long own = 0, all = member ? 2 : 1;
        if (member)
            CHECK(store_queue_member_add(f->s, "test", "restricted", "alice", EI));
        /* the list, and its filter on the report's corroboration */
        struct hres r =
            tweb_http(f, &(struct hreq){.method = "GET", .path = "/api/reports", .as = "alice"});
        struct json_object *o = tweb_json_of(&r), *items = tweb_jget(o, "items"), *it = NULL;
        tweb_hres_release(&r);
        for (size_t i = 0; i < json_object_array_length(items) && !it; i++)
            if (tweb_jll(json_object_array_get_idx(items, i), "id") == r1)
                it = json_object_array_get_idx(items, i);
        assert_non_null(it);
        assert_int_equal(tweb_jll(it, "incident_id"), inc);
        assert_int_equal(tweb_jll(it, "corroborations"), own);
        assert_int_equal(tweb_jll(it, "incident_corroboration"), all);
        json_object_put(o);
        r = tweb_http(f, &(struct hreq){.method = "GET",
                                        .path = "/api/reports?min_corroborations=1",
                                        .as = "alice"});
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        items = tweb_jget(o, "items");
        int listed = 0;
        for (size_t i = 0; i < json_object_array_length(items); i++)
            listed += tweb_jll(json_object_array_get_idx(items, i), "id") == r1;
        assert_int_equal(listed, own);
        json_object_put(o);
        /* the view */
        r = tweb_http(f,
                      &(struct hreq){.method = "GET", .path = "/api/reports/RC-1", .as = "alice"});
        assert_int_equal(r.status, 200);
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        assert_int_equal(tweb_jll(o, "corroborations"), own);
        assert_int_equal(tweb_jll(o, "incident_corroboration"), all);
        json_object_put(o);
        /* the claim's document: RC-1 first, then a report of its own incident far away */
        tweb_sql(f, "UPDATE reports SET priority = 999, claimed_by = NULL, lease_until = NULL"
                    " WHERE public_ref = 'RC-1' RETURNING 1");
        r = tweb_http(
            f, &(struct hreq){
                   .method = "POST", .path = "/api/queue/claim", .as = "alice", .body = "{}"});
        assert_int_equal(r.status, 200);
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        assert_int_equal(tweb_jll(o, "report.id"), r1);
        assert_int_equal(tweb_jll(o, "report.corroborations"), own);
        assert_int_equal(tweb_jll(o, "report.incident_corroboration"), all);
        json_object_put(o);
        snprintf(ref, sizeof(ref), "RC-X%d", member);
        struct seed x = {.ref = ref,
                         .category = "drones",
                         .lat = 40.0 + member,
                         .lon = 20.0,
                         .photos = 0,
                         .reporter = "aaaa00000009"};
        long long rx = tweb_seed(f, &x);
        tweb_sql(f, "UPDATE reports SET priority = 1000 WHERE public_ref LIKE 'RC-X%' RETURNING 1");
        assert_int_equal(tweb_claim_as(f, "alice", "{}", NULL), rx);
        /* decide, then next: RC-1 again, its lease let go */
        tweb_sql(f, "UPDATE reports SET claimed_by = NULL, lease_until = NULL"
                    " WHERE public_ref = 'RC-1' RETURNING 1");
        snprintf(path, sizeof(path), "/api/reports/%lld/decide", rx);
        r = tweb_post_as(f, path, "alice", "{\"status\":\"confirmed\",\"next\":true}");
        assert_int_equal(r.status, 200);
        o = tweb_json_of(&r);
        tweb_hres_release(&r);
        assert_int_equal(tweb_jll(o, "decision.id"), rx);
        assert_int_equal(tweb_jll(o, "next.id"), r1);
        assert_int_equal(tweb_jll(o, "next.corroborations"), own);
        assert_int_equal(tweb_jll(o, "next.incident_corroboration"), all);
        json_object_put(o);
    }
    /* the stored figures are the move's recount (the views wrote nothing) */
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM reports WHERE id = %lld", r1), 0);
    assert_int_equal(tweb_count(f, "SELECT corroborations FROM incidents WHERE id = %lld", inc), 2);
    tweb_fx_free(f);
}

/* tipline triage next/decide: the API's claim (a restricted report skipped for a
 * non-member, the view audited) and the API's lease rules. */

const struct CMUnitTest tweb_reports_tests[] = {
    cmocka_unit_test_teardown(test_web_incidents, tweb_teardown),
    cmocka_unit_test_teardown(test_web_report_corroboration_restricted, tweb_teardown),
    cmocka_unit_test_teardown(test_web_media_headers, tweb_teardown),
    cmocka_unit_test_teardown(test_web_video_duration, tweb_teardown),
    cmocka_unit_test_teardown(test_web_list_filters_pages, tweb_teardown),
};
const size_t tweb_reports_ntests = TS_NTESTS(tweb_reports_tests);
