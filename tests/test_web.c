/* tests/test_web.c - the analysts' HTTP API (web/) on a real PostgreSQL: the server
 * started in-process on an ephemeral loopback port, libcurl as the client. Reports
 * are seeded with store_apply as the bot writes them, photos are real JPEGs. This file
 * holds the fixture, the seeding, the client and main, which runs the tests of
 * test_web_routes.c (the role x route matrix, every route), test_web_auth.c (cookies,
 * kept credentials, the rate limit), test_web_claims.c (concurrent claims, audit rows,
 * restricted queues, rounded points), test_web_live.c (live updates and events),
 * test_web_reports.c (media, filters and pages, incidents), test_web_input.c (bad
 * requests, input hygiene), test_web_procs.c (the CLI, `tipline serve` / `tipline web`
 * as processes, a database outage) and test_web_decide.c (decisions, decide then next)
 * as one group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/httprec.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "web/web.h"
#include "test_web_int.h"
#include "common/banned.h"

/* ---- the fixture: a database, accounts, a running server ---- */

static struct fx *g_fx; /* what teardown stops when an assertion jumped out */

void tweb_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    assert_true(EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL));
    tl_hex(md, 32, out);
}

char *tweb_token_of(const char *name)
{
    return tl_asprintf("tok-%s-0123456789abcdef", name);
}

void tweb_account(struct fx *f, const char *name, const char *role)
{
    char sha[65];
    char *tok = tweb_token_of(name);
    tweb_sha256_hex(tok, sha);
    CHECK(store_account_add(f->s, "test", name, role, sha, EI));
    free(tok);
}

void tweb_start_web(struct fx *f)
{
    struct tl_errinfo ei = {0};
    struct web_opts o = {.cfg = &f->cfg, .listen = "127.0.0.1:0"};
    int rc = web_start(&o, &f->w, &ei);
    if (rc)
        fail_msg("web_start: %s: %s", tl_strerror(rc), ei.msg);
    f->port = web_port(f->w);
    assert_true(f->port > 0);
}

struct fx *tweb_fx_new_on(const char *name, void (*tune)(struct cfg *), const char *conninfo)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tl_errinfo ei = {0};
    assert_non_null(f);
    g_fx = f;
    if (conninfo) { /* a database of another cluster, left as it is */
        f->ci = tl_strdup(conninfo);
    } else {
        snprintf(f->dbname, sizeof(f->dbname), "%s", name);
        f->ci = ts_db_create(name);
    }
    if (!f->ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    assert_int_equal(cfg_load(&f->cfg, NULL, &ei), TL_OK);
    free(f->cfg.database_url);
    f->cfg.database_url = tl_strdup(f->ci);
    f->cfg.api_rate_per_min = 1000000;
    f->cfg.web_db_connections = 12;
    free(f->cfg.rounded_roles);
    f->cfg.rounded_roles = tl_strdup("exporter");
    if (tune)
        tune(&f->cfg);
    CHECK(store_open(f->ci, &f->s, EI));
    tweb_account(f, "alice", "analyst");
    tweb_account(f, "bob", "analyst");
    tweb_account(f, "mona", "moderator");
    tweb_account(f, "exa", "exporter");
    tweb_account(f, "root", "admin");
    tweb_start_web(f);
    return f;
}

struct fx *tweb_fx_new(const char *name, void (*tune)(struct cfg *))
{
    return tweb_fx_new_on(name, tune, NULL);
}

void tweb_fx_free(struct fx *f)
{
    if (!f)
        return;
    web_free(f->w);
    store_free(f->s);
    cfg_release(&f->cfg);
    if (f->dbname[0])
        ts_db_drop(f->dbname);
    free(f->ci);
    free(f);
    g_fx = NULL;
}

int tweb_teardown(void **state)
{
    (void)state;
    tweb_fx_free(g_fx);
    return 0;
}

/* ---- seeding reports as the bot writes them ---- */

static unsigned char *g_jpeg;
static size_t g_jpeg_len;

const char *tweb_jpeg(size_t *len)
{
    if (!g_jpeg) {
        unsigned char *rgb = fx_photo_rgb(64, 48, 7);
        g_jpeg = fx_jpeg_encode(rgb, 64, 48, 80, &g_jpeg_len);
        free(rgb);
    }
    *len = g_jpeg_len;
    return (const char *)g_jpeg;
}

long long tweb_seed(struct fx *f, const struct seed *sd)
{
    size_t jl;
    const unsigned char *jp = (const unsigned char *)tweb_jpeg(&jl);
    struct store_media_new m[2];
    for (int i = 0; i < 2; i++)
        m[i] = (struct store_media_new){.kind = "photo",
                                        .tg_file_id = "F",
                                        .tg_file_unique_id = "U",
                                        .mime = "image/jpeg",
                                        .bytes = jp,
                                        .len = jl,
                                        .width = 64,
                                        .height = 48,
                                        .has_gps = 1,
                                        .gps_lat = 50.1234567,
                                        .gps_lon = 30.7654321};
    const char *rep = sd->reporter ? sd->reporter : PSEUDO_A;
    struct store_report_new r = {.public_ref = sd->ref,
                                 .reporter = rep,
                                 .category = sd->category,
                                 .text = "two drones heading north over the river",
                                 .has_point = sd->lat != 0 || sd->lon != 0,
                                 .lat = sd->lat,
                                 .lon = sd->lon,
                                 .point_source = "telegram_location",
                                 .accuracy_m = 20,
                                 .sent_at = 1764100060,
                                 .flags = "outside_area",
                                 .media = m,
                                 .n_media = (size_t)sd->photos};
    struct store_effects fx = {.pseudonym = rep, .set_blocked = -1, .report = &r};
    long long id = 0;
    CHECK(store_apply(f->s, &fx, &id, EI));
    assert_true(id > 0);
    return id;
}

long long tweb_seed_simple(struct fx *f, const char *ref)
{
    struct seed sd = {
        .ref = ref, .category = "drones", .lat = 50.450123, .lon = 30.523456, .photos = 1};
    return tweb_seed(f, &sd);
}

void tweb_sql(struct fx *f, const char *q)
{
    char *v = ts_db_scalar(f->ci, q);
    free(v);
}

long long tweb_count(struct fx *f, const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    return ts_db_count(f->ci, q);
}

char *tweb_scalar(struct fx *f, const char *fmt, ...)
{
    char q[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    return ts_db_scalar(f->ci, q);
}

void tweb_settle_on(struct fx *f, struct web *w)
{
    long long upto = tweb_count(f, "SELECT COALESCE(max(id), 0) FROM web_events");
    for (int i = 0; i < 500 && web_events_read(w) < upto; i++)
        tl_sleep_ms(10, NULL);
    assert_true(web_events_read(w) >= upto);
}

void tweb_settle(struct fx *f)
{
    tweb_settle_on(f, f->w);
}

/* ---- the client ---- */

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    if (tl_buf_append(ud, p, sz * n))
        return 0;
    return sz * n;
}

void tweb_hres_release(struct hres *r)
{
    tl_buf_release(&r->body);
    tl_buf_release(&r->head);
}

struct hres tweb_http_on(CURL *c, unsigned port, const struct hreq *q)
{
    struct hres r = {0};
    tl_buf_init(&r.body, 0);
    tl_buf_init(&r.head, 0);
    struct curl_slist *h = NULL;
    char url[512], line[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, q->path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms ? q->timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.head);
    if (strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (q->as) {
        char *tok = tweb_token_of(q->as);
        snprintf(line, sizeof(line), "Authorization: Bearer %s", tok);
        free(tok);
        h = curl_slist_append(h, line);
    }
    if (q->cookie) {
        snprintf(line, sizeof(line), "Cookie: %s", q->cookie);
        h = curl_slist_append(h, line);
    }
    if (q->csrf) {
        snprintf(line, sizeof(line), "X-CSRF-Token: %s", q->csrf);
        h = curl_slist_append(h, line);
    }
    if (q->extra)
        h = curl_slist_append(h, q->extra);
    if (q->body) {
        snprintf(line, sizeof(line), "Content-Type: %s", q->ctype ? q->ctype : "application/json");
        h = curl_slist_append(h, line);
        h = curl_slist_append(h, "Expect:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(q->blen ? q->blen : strlen(q->body)));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (cc != CURLE_OK && !(cc == CURLE_OPERATION_TIMEDOUT && r.status))
        fail_msg("%s %s: %s", q->method, q->path, curl_easy_strerror(cc));
    curl_slist_free_all(h);
    if (!r.body.data)
        assert_int_equal(tl_buf_append(&r.body, "", 0), 0);
    if (!r.head.data)
        assert_int_equal(tl_buf_append(&r.head, "", 0), 0);
    char *ctype = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
    ts_http_record(q->method, q->path, r.status, ctype, (const char *)r.body.data, r.body.len);
    return r;
}

struct hres tweb_http(struct fx *f, const struct hreq *q)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct hres r = tweb_http_on(c, f->port, q);
    curl_easy_cleanup(c);
    return r;
}

char *tweb_header(const struct hres *r, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = (const char *)r->head.data; p && *p;) {
        size_t n = strcspn(p, "\r\n");
        if (n > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            return tl_strndup(v, n - (size_t)(v - p));
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return NULL;
}

struct json_object *tweb_json_of(const struct hres *r)
{
    struct json_object *o = json_tokener_parse((const char *)r->body.data);
    if (!o)
        fail_msg("not JSON (status %ld): %.300s", r->status, (const char *)r->body.data);
    return o;
}

struct json_object *tweb_jget(struct json_object *o, const char *path)
{
    char key[64];
    struct json_object *cur = o;
    for (const char *p = path; cur && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        struct json_object *next = NULL;
        if (json_object_is_type(cur, json_type_array))
            next = json_object_array_get_idx(cur, (size_t)strtol(key, NULL, 10));
        else if (!json_object_object_get_ex(cur, key, &next))
            next = NULL;
        cur = next;
        p += n + (p[n] == '.');
    }
    return cur;
}

const char *tweb_jstr(struct json_object *o, const char *path)
{
    struct json_object *v = tweb_jget(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long tweb_jll(struct json_object *o, const char *path)
{
    struct json_object *v = tweb_jget(o, path);
    if (!v)
        fail_msg("no %s in %s", path, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

void tweb_expect(struct fx *f, const struct hreq *q, long status, const char *error)
{
    struct hres r = tweb_http(f, q);
    if (r.status != status)
        fail_msg("%s %s as %s: want %ld, got %ld: %.300s", q->method, q->path, q->as ? q->as : "-",
                 status, r.status, (const char *)r.body.data);
    if (error) {
        struct json_object *o = tweb_json_of(&r);
        const char *e = tweb_jstr(o, "error");
        if (!e || strcmp(e, error) != 0 || !tweb_jstr(o, "message"))
            fail_msg("%s %s: want error %s, got %s", q->method, q->path, error,
                     (const char *)r.body.data);
        json_object_put(o);
    }
    tweb_hres_release(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct ts_part parts[] = {
        {tweb_routes_tests, &tweb_routes_ntests},   {tweb_auth_tests, &tweb_auth_ntests},
        {tweb_claims_tests, &tweb_claims_ntests},   {tweb_live_tests, &tweb_live_ntests},
        {tweb_reports_tests, &tweb_reports_ntests}, {tweb_input_tests, &tweb_input_ntests},
        {tweb_procs_tests, &tweb_procs_ntests},     {tweb_decide_tests, &tweb_decide_ntests},
    };
    int rc = ts_run_parts(parts, TS_NTESTS(parts), NULL, NULL);
    free(g_jpeg);
    curl_global_cleanup();
    return rc;
}
