/* tests/test_export.c - the exporters (tipline export, the HTTP feeds, OGC API -
 * Features, vector tiles, outgoing webhooks) on a real PostgreSQL, read by independent
 * readers: GDAL's ogrinfo (Debian's gdal-bin: the GeoJSON, CSV, KML, GeoJSONSeq, OAPIF
 * and MVT drivers) and curl as the HTTP client. Every test also proves that no output
 * holds a seeded reporter's pseudonym, chat id or the free text. This file holds the
 * fixture, the runners, the client, the check that memory stays flat however many rows
 * are exported, and main, which runs it with the tests of test_export_feeds.c (files,
 * feeds, OGC API), test_export_tiles.c (vector tiles) and test_export_webhooks.c
 * (outgoing webhooks) as one group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/webhook.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/httprec.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_export_int.h"
#include "common/banned.h"

#if defined(__SANITIZE_ADDRESS__)
#define TL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_ASAN 1
#endif
#endif
#ifndef TL_ASAN
#define TL_ASAN 0
#endif

#if TL_ASAN
/* freed blocks wait in ASan's quarantine (256 MB by default): the memory checks below
 * would measure it, not the exporters */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8";
}
#endif

static struct fx *g_fx;

void texp_sql(struct fx *f, const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    free(ts_db_scalar(f->ci, q));
}

long long texp_count(struct fx *f, const char *q)
{
    return ts_db_count(f->ci, q);
}

static void account(struct fx *f, const char *name, const char *role)
{
    unsigned char md[32];
    unsigned int n = 0;
    char sha[65];
    char *tok = tl_asprintf("tok-%s-0123456789abcdef", name);
    assert_true(EVP_Digest(tok, strlen(tok), md, &n, EVP_sha256(), NULL));
    tl_hex(md, 32, sha);
    CHECK(store_account_add(f->s, "test", name, role, sha, EI));
    free(tok);
}

/* Reports R-1..R-100 of one reporter (pseudonym PSEUDO, chat CHAT), R-g at
 * (30.5 + g/1000, 50.4 + g/10000), decided g seconds after a base time; every tenth
 * rejected, the rest confirmed: 90 confirmed. The text holds SECRET_TEXT. */
static void seed(struct fx *f, int n)
{
    texp_sql(f, "INSERT INTO reporters (pseudonym) VALUES ('" PSEUDO "') ON CONFLICT DO NOTHING"
                " RETURNING 1");
    texp_sql(f, "INSERT INTO chats (chat_id, reporter) VALUES (" CHAT ", '" PSEUDO "')"
                " ON CONFLICT DO NOTHING RETURNING 1");
    texp_sql(f,
             "INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
             " accuracy_m, observed_at, received_at, status, decided_by, decided_at)"
             " SELECT 'R-' || g, '" PSEUDO
             "', CASE WHEN g %% 3 = 0 THEN 'drone' ELSE 'shelling' END,"
             " 'from chat " CHAT ": " SECRET_TEXT "',"
             " ST_SetSRID(ST_MakePoint(30.5 + g * 0.001, 50.4 + g * 0.0001), 4326)::geography,"
             " 'telegram_location', 10, timestamptz '2026-03-01 10:00Z' + g * interval '1 minute',"
             " timestamptz '2026-03-01 12:00Z' + g * interval '1 minute',"
             " CASE WHEN g %% 10 = 0 THEN 'rejected' ELSE 'confirmed' END, 'alice',"
             " timestamptz '2026-03-02 00:00Z' + g * interval '1 second'"
             " FROM generate_series(1, %d) g RETURNING 1",
             n);
    /* two photos of R-7 */
    texp_sql(f, "INSERT INTO media (report_id, kind, sha256, size) SELECT r.id, 'photo',"
                " repeat(k::text, 64), 100 FROM reports r, generate_series(1, 2) k"
                " WHERE r.public_ref = 'R-7' RETURNING 1");
}

struct fx *texp_fx_new(const char *name, int n)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct tl_errinfo ei = {0};
    assert_non_null(f);
    g_fx = f;
    snprintf(f->dbname, sizeof(f->dbname), "%s", name);
    f->ci = ts_db_create(name);
    if (!f->ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    assert_int_equal(cfg_load(&f->cfg, NULL, &ei), TL_OK);
    free(f->cfg.database_url);
    f->cfg.database_url = tl_strdup(f->ci);
    f->cfg.api_rate_per_min = 1000000;
    free(f->cfg.rounded_roles);
    f->cfg.rounded_roles = tl_strdup("exporter");
    f->cfg.round_decimals = 2;
    CHECK(store_open(f->ci, &f->s, EI));
    account(f, "exa", "exporter");
    account(f, "alice", "analyst");
    account(f, "root", "admin");
    seed(f, n);
    snprintf(f->dir, sizeof(f->dir), "/tmp/tl-export.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    struct web_opts o = {.cfg = &f->cfg, .listen = "127.0.0.1:0"};
    int rc = web_start(&o, &f->w, &ei);
    if (rc)
        fail_msg("web_start: %s: %s", tl_strerror(rc), ei.msg);
    f->port = web_port(f->w);
    return f;
}

void texp_fx_free(struct fx *f)
{
    if (!f)
        return;
    web_free(f->w);
    store_free(f->s);
    cfg_release(&f->cfg);
    ts_db_drop(f->dbname);
    if (f->dir[0]) {
        char *cmd = tl_asprintf("rm -rf '%s'", f->dir);
        ts_run(cmd, NULL);
        free(cmd);
    }
    free(f->ci);
    free(f);
    g_fx = NULL;
}

int texp_teardown(void **state)
{
    (void)state;
    texp_fx_free(g_fx);
    return 0;
}

int texp_run(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return ts_run(cmd, out);
}

long texp_ogr_count(const char *opts, const char *src)
{
    char *out = NULL;
    texp_run(&out, "ogrinfo -ro -so -al %s '%s' 2>/dev/null | grep -m1 '^Feature Count:'", opts,
             src);
    long n = -1;
    if (out && strncmp(out, "Feature Count: ", 15) == 0)
        n = strtol(out + 15, NULL, 10);
    free(out);
    return n;
}

char *texp_ogr_point(const char *opts, const char *src, const char *field, const char *ref)
{
    char *out = NULL;
    texp_run(
        &out,
        "ogrinfo -ro -al -q %s -where \"%s = '%s'\" '%s' 2>/dev/null | grep -m1 -o 'POINT ([^)]*)'",
        opts, field, ref, src);
    if (out)
        out[strcspn(out, "\n")] = 0;
    return out;
}

struct hres texp_get(struct fx *f, const char *as, const char *path, const char *extra)
{
    static int seq;
    struct hres r = {0};
    char hdr[128], *out = NULL, *auth = NULL;
    snprintf(r.body_path, sizeof(r.body_path), "%s/http-%d.out", f->dir, ++seq);
    snprintf(hdr, sizeof(hdr), "%s/http-%d.hdr", f->dir, seq);
    if (as)
        auth = tl_asprintf("-H 'Authorization: Bearer tok-%s-0123456789abcdef'", as);
    texp_run(&out, "curl -s -o '%s' -D '%s' -w '%%{http_code}' %s %s%s%s 'http://127.0.0.1:%u%s'",
             r.body_path, hdr, auth ? auth : "", extra ? "-H '" : "", extra ? extra : "",
             extra ? "'" : "", f->port, path);
    r.status = out ? strtol(out, NULL, 10) : -1;
    free(out);
    free(auth);
    size_t len = 0;
    r.headers = ts_read_file(hdr, &len);
    char *ct = NULL;
    for (char *p = r.headers; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
        if (strncasecmp(p, "Content-Type:", 13) == 0)
            ct = tl_strndup(p + 14, strcspn(p + 14, "\r\n"));
    if (!strstr(r.headers, "Content-Encoding: gzip")) {
        char *body = access(r.body_path, R_OK) == 0 ? ts_read_file(r.body_path, &len) : NULL;
        if (len < (1u << 20))
            ts_http_record("GET", path, r.status, ct, body ? body : "", body ? len : 0);
        free(body);
    }
    free(ct);
    return r;
}

char *texp_header(const struct hres *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return tl_strndup(p + n + 2, strcspn(p + n + 2, "\r\n"));
    return NULL;
}

void texp_hres_release(struct hres *r)
{
    free(r->headers);
    r->headers = NULL;
}

void texp_no_identity(struct fx *f)
{
    char *hits = NULL;
    texp_run(&hits,
             "cd '%s' && for g in *.gz; do [ -e \"$g\" ] && zcat \"$g\" > \"$g.txt\"; done;"
             " grep -rl -e '" PSEUDO "' -e '" CHAT "' -e '" SECRET_TEXT "' -e 'f00dfacecafe' . ;"
             " ls | wc -l",
             f->dir);
    assert_non_null(hits);
    /* only the count of files is printed: no file named */
    if (hits[0] < '0' || hits[0] > '9')
        fail_msg("an export holds a reporter's identity or text: %s", hits);
    assert_true(strtol(hits, NULL, 10) > 3);
    free(hits);
}

char *texp_path_in(struct fx *f, const char *name)
{
    return tl_asprintf("%s/%s", f->dir, name);
}

/* ---- memory stays flat however many rows ---- */

static long vm_hwm_kb(void)
{
    size_t len;
    char *s = ts_read_file("/proc/self/status", &len);
    char *p = strstr(s, "VmHWM:");
    long kb = p ? strtol(p + 6, NULL, 10) : -1;
    free(s);
    return kb;
}

/* tipline export's peak RSS (KiB) for args, by GNU time. */
static long cli_rss(struct fx *f, const char *args)
{
    char *out = NULL;
    texp_run(&out,
             "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:quarantine_size_mb=8\" "
             "TIPLINE_DATABASE_URL='%s' /usr/bin/time -f 'rss=%%M' '%s' export "
             "%s 2>&1 >/dev/null | grep -o 'rss=[0-9]*'",
             f->ci, getenv("TL_TIPLINE_BIN"), args);
    assert_non_null(out);
    long kb = strncmp(out, "rss=", 4) == 0 ? strtol(out + 4, NULL, 10) : -1;
    free(out);
    return kb;
}

static void test_export_memory_flat(void **state)
{
    (void)state;
    struct fx *f = texp_fx_new("t_export_memory", 100000);
    /* the command line: a million-row file costs what a thousand-row one does */
    long few = cli_rss(f, "--format geojson --bbox 30.5,50.4,30.52,50.41");
    long all = cli_rss(f, "--format geojson");
    long csv = cli_rss(f, "--format csv --hxl");
    assert_true(few > 0 && all > 0 && csv > 0);
    /* 90,000 rows are about 40 MB of GeoJSON: kept in memory, they would show (ASan's
     * redzones and shadow add to each batch's allocations) */
    long slack = TL_ASAN ? 25 * 1024 : 10 * 1024;
    if (all - few > slack || csv - few > slack)
        fail_msg("export memory grows with rows: %ld KiB for a few, %ld KiB (geojson) and %ld "
                 "KiB (csv) for 90,000",
                 few, all, csv);
#if !TL_ASAN /* the sanitizers' shadow memory is no export's */
    if (all >= 50 * 1024)
        fail_msg("tipline export peaked at %ld KiB for 90,000 rows", all);
#endif
    /* the feed: the server's peak does not grow by the size of what it sent */
    long before = vm_hwm_kb();
    char *out = texp_path_in(f, "big.geojson");
    char *cmd = tl_asprintf("curl -s -o '%s' -w '%%{http_code}' -H 'Authorization: Bearer "
                            "tok-root-0123456789abcdef' 'http://127.0.0.1:%u/api/export/"
                            "reports.geojson'",
                            out, f->port);
    char *code = NULL;
    ts_run(cmd, &code);
    assert_string_equal(code, "200");
    long after = vm_hwm_kb();
    assert_int_equal(texp_ogr_count("", out), 90000);
    if (after - before > slack)
        fail_msg("the feed's memory grew by %ld KiB for 90,000 rows", after - before);
    free(code);
    free(cmd);
    free(out);
    texp_fx_free(f);
}

static const struct CMUnitTest own_tests[] = {
    cmocka_unit_test_teardown(test_export_memory_flat, texp_teardown),
};
static const size_t own_ntests = TS_NTESTS(own_tests);

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct ts_part parts[] = {
        {texp_feeds_tests, &texp_feeds_ntests},
        {texp_tiles_tests, &texp_tiles_ntests},
        {texp_webhooks_tests, &texp_webhooks_ntests},
        {own_tests, &own_ntests},
    };
    return ts_run_parts(parts, TS_NTESTS(parts), NULL, NULL);
}
