/* tests/test_export.c - the exporters (tipline export, the HTTP feeds, OGC API -
 * Features, vector tiles) on a real PostgreSQL, read by independent readers: GDAL's
 * ogrinfo (Debian's gdal-bin: the GeoJSON, CSV, KML, GeoJSONSeq, OAPIF and MVT drivers)
 * and curl as the HTTP client. Proves: the expected feature counts and a known point in
 * longitude/latitude order in every format, the filters, the "after" cursor, 304 on an
 * unchanged poll (ETag and Last-Modified), gzip, roles, rounding, OGC paging by "next"
 * links, tiles that decode with the expected features, an audit row per export, that no
 * output holds a seeded reporter's pseudonym, chat id or the free text, and that memory
 * stays flat however many rows are exported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/webhook.h"
#include "storage/store.h"
#include "support/httprec.h"
#include "support/testsupport.h"
#include "web/web.h"
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

#define PSEUDO "f00dfacecafe1234beef"
#define CHAT "777000123"
#define SECRET_TEXT "ask-for-olena-at-the-bakery"

struct fx {
    char dbname[64];
    char *ci;
    struct cfg cfg;
    struct web *w;
    unsigned port;
    struct store *s;
    char dir[64]; /* every output of the test, searched for identities at the end */
};

static struct fx *g_fx;

static void sql(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(struct fx *f, const char *fmt, ...)
{
    char q[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof(q), fmt, ap);
    va_end(ap);
    free(ts_db_scalar(f->ci, q));
}

static long long count(struct fx *f, const char *q)
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
    sql(f, "INSERT INTO reporters (pseudonym) VALUES ('" PSEUDO "') ON CONFLICT DO NOTHING"
           " RETURNING 1");
    sql(f, "INSERT INTO chats (chat_id, reporter) VALUES (" CHAT ", '" PSEUDO "')"
           " ON CONFLICT DO NOTHING RETURNING 1");
    sql(f,
        "INSERT INTO reports (public_ref, reporter, category, text, point, point_source,"
        " accuracy_m, observed_at, received_at, status, decided_by, decided_at)"
        " SELECT 'R-' || g, '" PSEUDO "', CASE WHEN g %% 3 = 0 THEN 'drone' ELSE 'shelling' END,"
        " 'from chat " CHAT ": " SECRET_TEXT "',"
        " ST_SetSRID(ST_MakePoint(30.5 + g * 0.001, 50.4 + g * 0.0001), 4326)::geography,"
        " 'telegram_location', 10, timestamptz '2026-03-01 10:00Z' + g * interval '1 minute',"
        " timestamptz '2026-03-01 12:00Z' + g * interval '1 minute',"
        " CASE WHEN g %% 10 = 0 THEN 'rejected' ELSE 'confirmed' END, 'alice',"
        " timestamptz '2026-03-02 00:00Z' + g * interval '1 second'"
        " FROM generate_series(1, %d) g RETURNING 1",
        n);
    /* two photos of R-7 */
    sql(f, "INSERT INTO media (report_id, kind, sha256, size) SELECT r.id, 'photo',"
           " repeat(k::text, 64), 100 FROM reports r, generate_series(1, 2) k"
           " WHERE r.public_ref = 'R-7' RETURNING 1");
}

static struct fx *fx_new(const char *name, int n)
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

static void fx_free(struct fx *f)
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

static int teardown(void **state)
{
    (void)state;
    fx_free(g_fx);
    return 0;
}

/* Runs a shell command built from fmt; its stdout into *out (NULL: dropped). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return ts_run(cmd, out);
}

/* `tipline export ARGS` on the fixture's database; its exit code. */
static int cli(struct fx *f, const char *args)
{
    const char *bin = getenv("TL_TIPLINE_BIN");
    assert_non_null(bin);
    return run(NULL, "TIPLINE_DATABASE_URL='%s' '%s' export %s 2>&1", f->ci, bin, args);
}

/* ogrinfo's feature count of a file or data source (opts: more ogrinfo options). */
static long ogr_count(const char *opts, const char *src)
{
    char *out = NULL;
    run(&out, "ogrinfo -ro -so -al %s '%s' 2>/dev/null | grep -m1 '^Feature Count:'", opts, src);
    long n = -1;
    if (out && strncmp(out, "Feature Count: ", 15) == 0)
        n = strtol(out + 15, NULL, 10);
    free(out);
    return n;
}

/* The geometry ogrinfo reads for the feature whose ref (or name, in KML) is ref. */
static char *ogr_point(const char *opts, const char *src, const char *field, const char *ref)
{
    char *out = NULL;
    run(&out,
        "ogrinfo -ro -al -q %s -where \"%s = '%s'\" '%s' 2>/dev/null | grep -m1 -o 'POINT ([^)]*)'",
        opts, field, ref, src);
    if (out)
        out[strcspn(out, "\n")] = 0;
    return out;
}

struct hres {
    long status;
    char *headers;
    char body_path[128];
};

/* GET path as account as (NULL: no credentials), extra: another header or NULL; the
 * body goes to a file in the test's directory, recorded for the OpenAPI check. */
static struct hres get(struct fx *f, const char *as, const char *path, const char *extra)
{
    static int seq;
    struct hres r = {0};
    char hdr[128], *out = NULL, *auth = NULL;
    snprintf(r.body_path, sizeof(r.body_path), "%s/http-%d.out", f->dir, ++seq);
    snprintf(hdr, sizeof(hdr), "%s/http-%d.hdr", f->dir, seq);
    if (as)
        auth = tl_asprintf("-H 'Authorization: Bearer tok-%s-0123456789abcdef'", as);
    run(&out, "curl -s -o '%s' -D '%s' -w '%%{http_code}' %s %s%s%s 'http://127.0.0.1:%u%s'",
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

/* A response header's value (new string) or NULL. */
static char *header(const struct hres *r, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return tl_strndup(p + n + 2, strcspn(p + n + 2, "\r\n"));
    return NULL;
}

static void hres_release(struct hres *r)
{
    free(r->headers);
    r->headers = NULL;
}

/* No file of the test's outputs holds the reporter's pseudonym, chat id or free text. */
static void no_identity(struct fx *f)
{
    char *hits = NULL;
    run(&hits,
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

static char *path_in(struct fx *f, const char *name)
{
    return tl_asprintf("%s/%s", f->dir, name);
}

/* ---- tipline export ---- */

static void test_export_cli_formats(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_cli", 100);
    char *gj = path_in(f, "all.geojson"), *csv = path_in(f, "all.csv"),
         *kml = path_in(f, "all.kml"), *seq = path_in(f, "all.geojsonseq"), *args;
    args = tl_asprintf("-o '%s'", gj);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format csv --hxl -o '%s'", csv);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format kml -o '%s'", kml);
    assert_int_equal(cli(f, args), 0);
    free(args);
    args = tl_asprintf("--format geojsonseq --output '%s'", seq);
    assert_int_equal(cli(f, args), 0);
    free(args);

    /* GDAL reads every format: 90 confirmed, R-7 at lon 30.507, lat 50.4007 */
    assert_int_equal(ogr_count("", gj), 90);
    assert_int_equal(ogr_count("", seq), 90);
    assert_int_equal(ogr_count("", kml), 90);
    /* the CSV's HXL row is a row to a reader that knows nothing of HXL */
    assert_int_equal(ogr_count("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv), 91);
    char *p = ogr_point("", gj, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    /* the properties, media counted; R-8's count is 0 */
    char *props = NULL;
    run(&props,
        "ogrinfo -ro -al -q -where \"ref IN ('R-7', 'R-8')\" '%s' | grep -E "
        "'(media_count|location_source|observed_at|category) \\(' | tr -s ' '",
        gj);
    assert_string_equal(props, " category (String) = shelling\n"
                               " observed_at (DateTime) = 2026/03/01 10:07:00+00\n"
                               " location_source (String) = telegram_location\n"
                               " media_count (Integer) = 2\n"
                               " category (String) = shelling\n"
                               " observed_at (DateTime) = 2026/03/01 10:08:00+00\n"
                               " location_source (String) = telegram_location\n"
                               " media_count (Integer) = 0\n");
    free(props);
    p = ogr_point("", seq, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = ogr_point("", kml, "Name", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = ogr_point("-oo GEOM_POSSIBLE_NAMES=wkt -oo KEEP_GEOM_COLUMNS=NO", csv, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    p = ogr_point("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv, "ref", "R-7");
    assert_string_equal(p, "POINT (30.507 50.4007)");
    free(p);
    /* RFC 4180: CRLF; the HXL row under the header; RFC 8142: RS before each record */
    size_t len;
    char *text = ts_read_file(csv, &len);
    assert_non_null(strstr(text, ",lon,lat,wkt\r\n#meta+id,#meta+ref,"));
    assert_non_null(strstr(text, "#geo+lon,#geo+lat,#geo+wkt\r\n"));
    free(text);
    text = ts_read_file(seq, &len);
    assert_int_equal(text[0], 0x1e);
    assert_int_equal(text[len - 1], '\n');
    free(text);

    /* filters: status, category, bbox, the cursor, precision */
    char *one = path_in(f, "one.geojson");
    args = tl_asprintf("--status rejected -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(ogr_count("", one), 10);
    args = tl_asprintf("--category drone -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(ogr_count("", one), 30); /* g % 3 == 0, minus 30, 60, 90 */
    args = tl_asprintf("--bbox 30.5,50.4,30.5205,50.5 -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(ogr_count("", one), 18); /* R-1..R-20 less R-10, R-20 */
    /* R-50's cursor: what was decided after it */
    char *cur = NULL;
    run(&cur,
        "grep -o '\"ref\":\"R-49\".*\"cursor\":\"[0-9_]*\"' '%s' | grep -o '[0-9]\\+_[0-9]\\+'",
        gj);
    assert_non_null(cur);
    cur[strcspn(cur, "\n")] = 0;
    assert_true(strlen(cur) > 3);
    args = tl_asprintf("--after %s -o '%s'", cur, one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(ogr_count("", one), 45); /* R-50..R-100 less 50, 60, ..., 100 */
    args = tl_asprintf("--precision 2 -o '%s'", one);
    assert_int_equal(cli(f, args), 0);
    free(args);
    p = ogr_point("", one, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    /* -o onto a pipe (or a device) writes into it, never renames a file over it */
    char *fifo = path_in(f, "pipe");
    assert_int_equal(run(NULL, "mkfifo '%s'", fifo), 0);
    args = tl_asprintf("--format geojsonseq -o '%s' & cat '%s' > '%s/piped.geojsonseq'; wait $!",
                       fifo, fifo, f->dir);
    assert_int_equal(cli(f, args), 0);
    free(args);
    assert_int_equal(run(NULL, "test -p '%s'", fifo), 0);
    char *piped = path_in(f, "piped.geojsonseq");
    assert_int_equal(ogr_count("", piped), 90);
    free(piped);
    free(fifo);
    /* text only where the configuration allows it; bad arguments are usage errors */
    assert_int_equal(cli(f, "--text"), 2);
    char *with_text = NULL;
    assert_int_equal(run(&with_text,
                         "TIPLINE_EXPORT_TEXT=1 TIPLINE_DATABASE_URL='%s' '%s' export"
                         " --text --format csv --category drone",
                         f->ci, getenv("TL_TIPLINE_BIN")),
                     0);
    assert_non_null(strstr(with_text, ",text\r\n"));
    assert_non_null(strstr(with_text, SECRET_TEXT));
    free(with_text);
    assert_int_equal(cli(f, "--format shp"), 2);
    assert_int_equal(cli(f, "--bbox 1,2,3"), 2);
    assert_int_equal(cli(f, "--after nope"), 2);

    /* every export audited: who, which filter, how many rows */
    assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                              " AND object = 'tipline export'"),
                     11);
    assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                              " AND actor LIKE 'cli:%' AND after->>'rows' = '30'"
                              " AND after->'filter'->>'category' = 'drone'"
                              " AND after->>'format' = 'geojson'"),
                     1);
    no_identity(f);
    free(cur);
    free(one);
    free(gj);
    free(csv);
    free(kml);
    free(seq);
    fx_free(f);
}

/* ---- the HTTP feeds ---- */

static void test_export_feed_http(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_feed", 100);
    struct hres r = get(f, "exa", "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 200);
    char *ct = header(&r, "Content-Type"), *etag = header(&r, "ETag"),
         *lm = header(&r, "Last-Modified"), *te = header(&r, "Transfer-Encoding");
    assert_string_equal(ct, "application/geo+json");
    assert_string_equal(te, "chunked"); /* streamed */
    assert_non_null(etag);
    assert_string_equal(lm, "Mon, 02 Mar 2026 00:01:40 GMT"); /* R-100's decision */
    assert_int_equal(ogr_count("", r.body_path), 90);
    /* an exporter sees points rounded to round_decimals, longitude first */
    char *p = ogr_point("", r.body_path, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    hres_release(&r);

    /* an unchanged poll costs a 304, by ETag or by date */
    char *h = tl_asprintf("If-None-Match: %s", etag);
    r = get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 304);
    hres_release(&r);
    free(h);
    h = tl_asprintf("If-Modified-Since: %s", lm);
    r = get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 304);
    hres_release(&r);
    free(h);
    /* another query is another tag */
    h = tl_asprintf("If-None-Match: %s", etag);
    r = get(f, "exa", "/api/export/reports.geojson?category=drone", h);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 30);
    hres_release(&r);

    /* a new decision: the same poll gets it, and after= only it */
    sql(f, "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
           " RETURNING 1");
    r = get(f, "exa", "/api/export/reports.geojson", h);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 91);
    char *cur = NULL;
    run(&cur,
        "grep -o '\"ref\":\"R-99\".*\"cursor\":\"[0-9_]*\"' '%s' | grep -o '[0-9]\\+_[0-9]\\+'",
        r.body_path);
    assert_non_null(cur);
    cur[strcspn(cur, "\n")] = 0;
    hres_release(&r);
    free(h);
    char *q = tl_asprintf("/api/export/reports.geojsonseq?after=%s", cur);
    r = get(f, "exa", q, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 1);
    p = ogr_point("", r.body_path, "ref", "R-10");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    hres_release(&r);
    free(q);

    /* gzip when asked: the same bytes, compressed */
    r = get(f, "exa", "/api/export/reports.csv?hxl=1", NULL);
    assert_int_equal(r.status, 200);
    struct hres z = get(f, "exa", "/api/export/reports.csv?hxl=1", "Accept-Encoding: gzip");
    assert_int_equal(z.status, 200);
    char *ce = header(&z, "Content-Encoding");
    assert_string_equal(ce, "gzip");
    free(ce);
    assert_null(header(&r, "Content-Encoding"));
    assert_int_equal(run(NULL, "gzip -t < '%s' && zcat < '%s' | cmp -s - '%s'", z.body_path,
                         z.body_path, r.body_path),
                     0);
    assert_int_equal(run(NULL, "cp '%s' '%s/feed.csv.gz'", z.body_path, f->dir), 0);
    char *csv = path_in(f, "feed.csv");
    assert_int_equal(run(NULL, "cp '%s' '%s'", r.body_path, csv), 0);
    assert_int_equal(ogr_count("-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat", csv), 92);
    free(csv);
    hres_release(&z);
    hres_release(&r);
    /* KML */
    r = get(f, "exa", "/api/export/reports.kml?bbox=30.5,50.4,30.5205,50.5", NULL);
    assert_int_equal(r.status, 200);
    char *kml = path_in(f, "feed.kml");
    assert_int_equal(run(NULL, "cp '%s' '%s'", r.body_path, kml), 0);
    assert_int_equal(ogr_count("", kml), 19); /* R-10 is confirmed now */
    free(kml);
    hres_release(&r);

    /* roles, bad queries, free text refused by default */
    r = get(f, "alice", "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 403);
    hres_release(&r);
    r = get(f, NULL, "/api/export/reports.geojson", NULL);
    assert_int_equal(r.status, 401);
    hres_release(&r);
    static const char *const bad[] = {
        "/api/export/reports.geojson?bbox=1,2",   "/api/export/reports.geojson?after=x",
        "/api/export/reports.geojson?status=new", "/api/export/reports.geojson?text=1",
        "/api/export/reports.geojson?since=soon", "/api/export/reports.geojson?color=red",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = get(f, "exa", bad[i], NULL);
        if (r.status != 400)
            fail_msg("%s: want 400, got %ld", bad[i], r.status);
        hres_release(&r);
    }
    r = get(f, "exa", "/api/export/reports.shp", NULL);
    assert_int_equal(r.status, 404);
    hres_release(&r);

    /* a report of a restricted queue is not in an exporter's feed; an admin's has it */
    sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    r = get(f, "exa", "/api/export/reports.geojsonseq", NULL);
    assert_int_equal(ogr_count("", r.body_path), 90);
    assert_int_equal(run(NULL, "grep -q '\"ref\":\"R-2\"' '%s'", r.body_path), 1);
    hres_release(&r);
    r = get(f, "root", "/api/export/reports.geojsonseq", NULL);
    assert_int_equal(ogr_count("", r.body_path), 91);
    hres_release(&r);

    /* audited: the exporter, the filter, the rows (a 304 sends nothing and is not) */
    assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                              " AND actor = 'exa'"),
                     8);
    assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                              " AND actor = 'exa' AND object = 'GET /api/export/reports.geojson'"
                              " AND after->>'rows' = '30'"
                              " AND after->'filter'->>'category' = 'drone'"),
                     1);
    no_identity(f);
    free(cur);
    free(ct);
    free(etag);
    free(lm);
    free(te);
    fx_free(f);
}

/* ---- OGC API - Features ---- */

/* The incidents collection: A (R-1, R-2) and D (R-5, a fused position) are the
 * exporter's; B (R-3) was merged into A; C's one member (R-4) is in a queue the exporter
 * may not see. */
static void ogc_incidents(struct fx *f)
{
    sql(f, "WITH u AS (UPDATE reports SET incident_id = NULL RETURNING 1) SELECT 1");
    sql(f, "WITH d AS (DELETE FROM incidents RETURNING 1) SELECT 1");
    sql(f, "INSERT INTO incidents (id, centroid, categories, corroborations, n_reports,"
           " first_seen, last_seen, merged_into, fused, fused_uncertainty_m) VALUES"
           " (9001, 'SRID=4326;POINT(30.5123 50.4567)', '{drone}', 2, 2,"
           "  '2026-03-01T12:00:00Z', '2026-03-01T12:05:00Z', NULL, NULL, NULL),"
           " (9004, 'SRID=4326;POINT(30.7 50.6)', '{shelling}', 1, 1,"
           "  '2026-03-01T13:00:00Z', '2026-03-01T13:30:00Z', NULL,"
           "  'SRID=4326;POINT(30.7071 50.6032)', 850),"
           " (9003, 'SRID=4326;POINT(31 51)', '{drone}', 1, 1,"
           "  '2026-03-01T12:00:00Z', '2026-03-01T12:00:00Z', NULL, NULL, NULL)"
           " RETURNING 1");
    sql(f, "INSERT INTO incidents (id, centroid, categories, corroborations, n_reports,"
           " first_seen, last_seen, merged_into) VALUES (9002, 'SRID=4326;POINT(30.6 50.5)',"
           " '{drone}', 1, 1, '2026-03-01T12:02:00Z', '2026-03-01T12:02:00Z', 9001) RETURNING 1");
    sql(f, "UPDATE reports SET incident_id = CASE public_ref WHEN 'R-1' THEN 9001"
           " WHEN 'R-2' THEN 9001 WHEN 'R-3' THEN 9002 WHEN 'R-4' THEN 9003 ELSE 9004 END,"
           " queue = CASE public_ref WHEN 'R-4' THEN 'restricted' ELSE queue END"
           " WHERE public_ref IN ('R-1', 'R-2', 'R-3', 'R-4', 'R-5') RETURNING 1");
    long audits = count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                           " AND after->>'collection' = 'incidents'");

    /* GDAL's OAPIF driver lists the layer; the centroid is rounded, longitude first */
    char *hf = path_in(f, "gdal-headers-inc.txt");
    assert_int_equal(ts_write_file(hf, "Authorization: Bearer tok-exa-0123456789abcdef\n"), 0);
    char *src = tl_asprintf("OAPIF:http://127.0.0.1:%u/api/ogc", f->port);
    char *opts = tl_asprintf("--config GDAL_HTTP_HEADER_FILE '%s' -oo PAGE_SIZE=1", hf);
    char *out = NULL;
    run(&out, "ogrinfo -ro -so %s '%s' incidents 2>/dev/null | grep -m1 '^Feature Count:'", opts,
        src);
    assert_string_equal(out, "Feature Count: 2\n");
    free(out);
    out = NULL;
    run(&out,
        "ogrinfo -ro -q %s -where 'id = 9001' '%s' incidents 2>/dev/null"
        " | grep -m1 -o 'POINT ([^)]*)'",
        opts, src);
    assert_non_null(out);
    assert_string_equal(out, "POINT (30.51 50.46)\n");
    free(out);
    out = NULL;
    run(&out, "ogrinfo -ro -q %s '%s' incidents 2>/dev/null | grep -c 'id (Integer[0-9]*) = 900'",
        opts, src);
    assert_int_equal(strtol(out, NULL, 10), 2);
    free(out);
    free(opts);
    free(src);
    free(hf);

    /* items: the merged B and the hidden C are absent; the fused position of D */
    struct hres r = get(f, "exa", "/api/ogc/collections/incidents/items", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 2);
    assert_int_equal(run(NULL, "grep -q '\"id\":9002' '%s'", r.body_path), 1);
    assert_int_equal(run(NULL, "grep -q '\"id\":9003' '%s'", r.body_path), 1);
    assert_int_equal(
        run(NULL, "grep -q '\"fused_lon\":30.71,\"fused_lat\":50.60' '%s'", r.body_path), 0);
    hres_release(&r);
    r = get(f, "root", "/api/ogc/collections/incidents/items", NULL);
    assert_int_equal(ogr_count("", r.body_path), 3); /* an admin sees C, never B */
    assert_int_equal(run(NULL, "grep -q '\"id\":9002' '%s'", r.body_path), 1);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents/items?limit=1", NULL);
    assert_int_equal(run(NULL, "grep -q 'incidents/items?limit=1&after=9001\",\"rel\":\"next' '%s'",
                         r.body_path),
                     0);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents/items?limit=1&after=9001", NULL);
    assert_int_equal(run(NULL, "grep -q '\"id\":9004' '%s'", r.body_path), 0);
    assert_int_equal(run(NULL, "grep -q '\"rel\":\"next\"' '%s'", r.body_path), 1);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents/items?bbox=30.6,50.5,31,51", NULL);
    assert_int_equal(ogr_count("", r.body_path), 1);
    hres_release(&r);
    r = get(f, "exa",
            "/api/ogc/collections/incidents/items?datetime=2026-03-01T12:03:00Z/"
            "2026-03-01T12:30:00Z",
            NULL);
    assert_int_equal(ogr_count("", r.body_path), 1); /* A's span meets it, D's does not */
    assert_int_equal(run(NULL, "grep -q '\"id\":9001' '%s'", r.body_path), 0);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents/items/9004", NULL);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents/items/9002", NULL);
    assert_int_equal(r.status, 404);
    hres_release(&r);
    assert_true(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export' AND actor = 'exa'"
                         " AND after->>'collection' = 'incidents'") > audits);
    assert_int_equal(count(f, "SELECT count(*) FROM audit_log WHERE action = 'export'"
                              " AND actor = 'exa' AND after->>'collection' = 'incidents'"
                              " AND after->>'rows' = '1' AND after->'filter'->'bbox' IS NOT NULL"),
                     1);
    /* R-2 in a restricted queue: the exporter sees A counted over R-1 alone, an admin A
     * as stored */
    sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    r = get(f, "exa", "/api/ogc/collections/incidents/items/9001", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -q '\"corroboration\":1,\"n_reports\":1' '%s'", r.body_path),
                     0);
    hres_release(&r);
    r = get(f, "root", "/api/ogc/collections/incidents/items/9001", NULL);
    assert_int_equal(run(NULL, "grep -q '\"corroboration\":2,\"n_reports\":2' '%s'", r.body_path),
                     0);
    hres_release(&r);
    sql(f, "UPDATE reports SET queue = 'general' WHERE public_ref = 'R-2' RETURNING 1");
}

static void test_export_ogc_api(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_ogc", 100);
    struct hres r = get(f, "exa", "/api/ogc", NULL);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/api", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "python3 -m json.tool '%s' >/dev/null", r.body_path), 0);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/conformance", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -q 'ogcapi-features-1/1.0/conf/geojson' '%s'", r.body_path),
                     0);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections", NULL);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/reports", NULL);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/incidents", NULL);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/unknown", NULL);
    assert_int_equal(r.status, 404);
    hres_release(&r);

    /* GDAL's OAPIF driver adds the layer and pages through it by the next links */
    char *hf = path_in(f, "gdal-headers.txt");
    assert_int_equal(ts_write_file(hf, "Authorization: Bearer tok-exa-0123456789abcdef\n"), 0);
    char *src = tl_asprintf("OAPIF:http://127.0.0.1:%u/api/ogc", f->port);
    char *opts = tl_asprintf("--config GDAL_HTTP_HEADER_FILE '%s' -oo PAGE_SIZE=7", hf);
    assert_int_equal(ogr_count(opts, src), 90);
    char *errs = NULL; /* every document the driver asks for is there */
    run(&errs, "ogrinfo -ro -so -al %s '%s' 2>&1 >/dev/null", opts, src);
    if (strstr(errs, "ERROR"))
        fail_msg("ogrinfo (OAPIF): %s", errs);
    free(errs);
    char *p = ogr_point(opts, src, "ref", "R-7");
    assert_string_equal(p, "POINT (30.51 50.4)");
    free(p);
    char *all = NULL;
    run(&all, "ogrinfo -ro -al -q %s '%s' 2>/dev/null | grep -c 'ref (String) = R-'", opts, src);
    assert_int_equal(strtol(all, NULL, 10), 90);
    free(all);
    run(NULL, "ogr2ogr -f GeoJSON '%s/oapif.geojson' %s '%s' 2>/dev/null", f->dir, opts, src);
    free(opts);
    free(src);
    free(hf);

    /* items: limit and a next link that carries on; bbox; datetime */
    r = get(f, "exa", "/api/ogc/collections/reports/items?limit=5", NULL);
    assert_int_equal(r.status, 200);
    char *next = NULL;
    run(&next, "grep -o '\"href\":\"[^\"]*\",\"rel\":\"next\"' '%s' | cut -d'\"' -f4", r.body_path);
    assert_non_null(strstr(next, "/api/ogc/collections/reports/items?limit=5&after="));
    assert_int_equal(run(NULL, "grep -q '\"numberReturned\":5,' '%s'", r.body_path), 0);
    hres_release(&r);
    const char *rel = strstr(next, "/api/");
    rel = rel ? rel : "";
    char *relp = tl_strndup(rel, strcspn(rel, "\n"));
    r = get(f, "exa", relp, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -q '\"ref\":\"R-6\"' '%s'", r.body_path), 0);
    assert_int_equal(run(NULL, "grep -q '\"ref\":\"R-5\"' '%s'", r.body_path), 1);
    hres_release(&r);
    free(relp);
    free(next);
    r = get(f, "exa", "/api/ogc/collections/reports/items?bbox=30.5,50.4,30.5205,50.5&limit=1000",
            NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 18);
    assert_int_equal(run(NULL, "grep -q '\"rel\":\"next\"' '%s'", r.body_path), 1);
    hres_release(&r);
    r = get(f, "exa",
            "/api/ogc/collections/reports/items?datetime=2026-03-01T12:01:00Z/2026-03-01T12:11:00Z",
            NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(ogr_count("", r.body_path), 9); /* received R-1..R-10, R-10 rejected */
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/reports/items?datetime=2026-03-01T12:07:00Z", NULL);
    assert_int_equal(ogr_count("", r.body_path), 1);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/reports/items?datetime=../2026-03-01T12:03:00Z", NULL);
    assert_int_equal(ogr_count("", r.body_path), 2);
    hres_release(&r);
    r = get(f, "exa", "/api/ogc/collections/reports/items?datetime=tomorrow", NULL);
    assert_int_equal(r.status, 400);
    hres_release(&r);

    /* one item; a rejected one is not in the collection */
    char *id7 = ts_db_scalar(f->ci, "SELECT id FROM reports WHERE public_ref = 'R-7'");
    char *q = tl_asprintf("/api/ogc/collections/reports/items/%s", id7);
    r = get(f, "exa", q, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -q '\"coordinates\":\\[30.51,50.40\\]' '%s'", r.body_path), 0);
    hres_release(&r);
    free(q);
    free(id7);
    char *id10 = ts_db_scalar(f->ci, "SELECT id FROM reports WHERE public_ref = 'R-10'");
    q = tl_asprintf("/api/ogc/collections/reports/items/%s", id10);
    r = get(f, "exa", q, NULL);
    assert_int_equal(r.status, 404);
    hres_release(&r);
    free(q);
    free(id10);
    r = get(f, "alice", "/api/ogc/collections/reports/items", NULL);
    assert_int_equal(r.status, 403);
    hres_release(&r);
    ogc_incidents(f);
    no_identity(f);
    fx_free(f);
}

/* ---- vector tiles ---- */

/* The sum of the counts in tile z/x/y as account as sees it (0: an empty tile). */
static long tile_sum(struct fx *f, const char *as, int z, long x, long y)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *sum = NULL;
    struct hres r = get(f, as, path, NULL);
    long n = -1;
    if (r.status == 204)
        n = 0;
    else if (r.status == 200 &&
             run(NULL, "mkdir -p '%s/s/%s/%d/%ld' && cp '%s' '%s/s/%s/%d/%ld/%ld.mvt'", f->dir, as,
                 z, x, r.body_path, f->dir, as, z, x, y) == 0 &&
             run(&sum,
                 "ogrinfo -ro -al -q '%s/s/%s/%d/%ld/%ld.mvt' | grep 'count (Integer) =' | "
                 "awk '{s+=$4} END {print s+0}'",
                 f->dir, as, z, x, y) == 0)
        n = strtol(sum, NULL, 10);
    free(sum);
    free(path);
    hres_release(&r);
    return n;
}

/* The one point of tile z/x/y as as sees it, in EPSG:3857 metres (ogrinfo's reading of
 * an MVT file named z/x/y.mvt). */
static void tile_point(struct fx *f, const char *as, int z, long x, long y, double *px, double *py)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *pt = NULL;
    struct hres r = get(f, as, path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "mkdir -p '%s/p/%s/%d/%ld' && cp '%s' '%s/p/%s/%d/%ld/%ld.mvt'",
                         f->dir, as, z, x, r.body_path, f->dir, as, z, x, y),
                     0);
    run(&pt,
        "ogrinfo -ro -al -q '%s/p/%s/%d/%ld/%ld.mvt' | grep -c 'POINT (' ; "
        "ogrinfo -ro -al -q '%s/p/%s/%d/%ld/%ld.mvt' | grep -m1 -o 'POINT ([^)]*)'",
        f->dir, as, z, x, y, f->dir, as, z, x, y);
    assert_non_null(pt);
    assert_int_equal(strtol(pt, NULL, 10), 1);
    const char *p = strstr(pt, "POINT (");
    assert_non_null(p);
    char *end = NULL;
    *px = strtod(p + 7, &end);
    *py = strtod(end, NULL);
    free(pt);
    free(path);
    hres_release(&r);
}

/* A point's EPSG:3857 coordinates, by PostGIS. */
static void merc(struct fx *f, const char *lonlat, double *mx, double *my)
{
    char q[256];
    snprintf(q, sizeof(q),
             "SELECT ST_X(g) || ' ' || ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint(%s),"
             " 4326), 3857) g",
             lonlat);
    char *v = ts_db_scalar(f->ci, q), *end = NULL;
    assert_non_null(v);
    *mx = strtod(v, &end);
    *my = strtod(end, NULL);
    free(v);
}

/* Zooms 0-8 are summed from the grid of cells (migration 0027): kept by decisions
 * (pending, then folded), per queue (a restricted one stays hidden) and per precision
 * (an exporter's lone report is where its rounded point is, not its exact one). */
static void test_export_tiles_grid(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_tiles_grid", 100);
    /* the seed's decisions are pending: a tile adds them to the (empty) cells */
    assert_int_equal(count(f, "SELECT count(*) FROM tile_grid_pending"), 90);
    assert_int_equal(count(f, "SELECT count(*) FROM tile_cells"), 0);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 90); /* scanned: no rounded cells yet */
    /* the exporters' background thread builds the cells of rounded points (the
     * exporters' precision) and folds what is pending */
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {.cfg = &f->cfg, .stop = &stop, .interval_ms = 100};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    for (int i = 0; i < 100 && (count(f, "SELECT count(*) FROM tile_grid_precisions") < 2 ||
                                count(f, "SELECT count(*) FROM tile_grid_pending") > 0);
         i++)
        tl_sleep_ms(100, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(count(f, "SELECT count(*) FROM tile_grid_pending"), 0);
    assert_int_equal(count(f, "SELECT count(DISTINCT prec) FROM tile_cells"), 2); /* -1, 2 */
    assert_int_equal(count(f, "SELECT sum(n) FROM tile_cells WHERE zoom = 5"), 180);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    assert_int_equal(tile_sum(f, "root", 0, 0, 0), 90);
    assert_int_equal(tile_sum(f, "root", 8, 149, 86), 90);
    /* the tile is read from the cells: without them it is empty, rebuilt it is whole */
    sql(f, "DELETE FROM tile_cells WHERE prec = -1 AND zoom = 5 RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 0);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 90);
    sql(f, "DELETE FROM tile_grid_precisions WHERE prec = -1 RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90); /* unregistered: scanned */
    int built = 0;
    CHECK(store_tile_grid_ensure(f->s, -1, &built, EI));
    assert_int_equal(built, 1);
    CHECK(store_tile_grid_ensure(f->s, -1, &built, EI));
    assert_int_equal(built, 0);
    assert_int_equal(count(f, "SELECT sum(n) FROM tile_cells WHERE prec = -1 AND zoom = 5"), 90);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 90);
    /* a report rejected counts no more, before the fold and after */
    sql(f, "UPDATE reports SET status = 'rejected' WHERE public_ref = 'R-1' RETURNING 1");
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(count(f, "SELECT tile_grid_fold()"), 1);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 89);
    /* one moved to the restricted queue: the exporter (no member) no longer sees it */
    sql(f, "UPDATE reports SET queue = 'restricted' WHERE public_ref = 'R-2' RETURNING 1");
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 88);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    assert_int_equal(count(f, "SELECT tile_grid_fold()"), 2);
    assert_int_equal(tile_sum(f, "exa", 5, 18, 10), 88);
    assert_int_equal(tile_sum(f, "root", 5, 18, 10), 89);
    /* a lone report: an admin's cell is at its exact point, an exporter's at its
     * rounded one (35.12, 47.65: 390 m west and 700 m north of the exact point) */
    sql(f, "INSERT INTO reports (public_ref, reporter, category, point, point_source, status,"
           " decided_by, decided_at) VALUES ('R-lone', '" PSEUDO "', 'drone',"
           " ST_SetSRID(ST_MakePoint(35.123456, 47.654321), 4326)::geography,"
           " 'telegram_location', 'confirmed', 'alice', now()) RETURNING 1");
    char *t = ts_db_scalar(f->ci, "SELECT tx || ' ' || ty FROM tile_grid_cells(ST_SetSRID("
                                  "ST_MakePoint(35.123456, 47.654321), 4326)::geography, -1)"
                                  " WHERE zoom = 8");
    char *end = NULL;
    long tx = strtol(t, &end, 10), ty = strtol(end, NULL, 10);
    free(t);
    double ax, ay, ex, ey, wx, wy;
    for (int folded = 0; folded < 2; folded++) {
        tile_point(f, "root", 8, tx, ty, &ax, &ay);
        tile_point(f, "exa", 8, tx, ty, &ex, &ey);
        merc(f, "35.123456, 47.654321", &wx, &wy); /* a pixel at zoom 8 is 38 m */
        if (fabs(ax - wx) > 60 || fabs(ay - wy) > 60)
            fail_msg("admin's point %.0f %.0f, want %.0f %.0f", ax, ay, wx, wy);
        merc(f, "35.12, 47.65", &wx, &wy);
        if (fabs(ex - wx) > 60 || fabs(ey - wy) > 60)
            fail_msg("exporter's point %.0f %.0f, want %.0f %.0f (rounded)", ex, ey, wx, wy);
        assert_int_equal(count(f, "SELECT tile_grid_fold()"), folded ? 0 : 1);
    }
    no_identity(f);
    fx_free(f);
}

static void test_export_tiles(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_tiles", 100);
    f->cfg.round_decimals = 2;
    /* R-7 (30.507, 50.4007) is in tile 12/2395/1382 and 5/18/10 */
    assert_int_equal(
        run(NULL, "mkdir -p '%s/12/2395' '%s/5/18' '%s/14/9581'", f->dir, f->dir, f->dir), 0);
    struct hres r = get(f, "root", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    char *ct = header(&r, "Content-Type"), *cc = header(&r, "Cache-Control"),
         *etag = header(&r, "ETag");
    assert_string_equal(ct, "application/vnd.mapbox-vector-tile");
    assert_string_equal(cc, "private, max-age=60");
    assert_int_equal(run(NULL, "cp '%s' '%s/12/2395/1382.mvt'", r.body_path, f->dir), 0);
    hres_release(&r);
    char *t12 = tl_asprintf("%s/12/2395/1382.mvt", f->dir);
    /* exact points for an admin: at zoom 12 one feature per report, with its ref */
    char *refs = NULL;
    run(&refs, "ogrinfo -ro -al -q '%s' | grep -c '^OGRFeature'", t12);
    assert_int_equal(strtol(refs, NULL, 10), 14); /* R-1..R-15 less R-10 reach 50.4015 N */
    free(refs);
    run(&refs, "ogrinfo -ro -al -q '%s' | grep -c 'ref (String) = R-'", t12);
    assert_int_equal(strtol(refs, NULL, 10), 14);
    free(refs);
    assert_int_equal(run(NULL, "ogrinfo -ro -al -q '%s' | grep -q 'ref (String) = R-7$'", t12), 0);
    /* zoom 5: the pixel's reports as one point with their count: all 90 */
    r = get(f, "root", "/api/tiles/5/18/10.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "cp '%s' '%s/5/18/10.mvt'", r.body_path, f->dir), 0);
    hres_release(&r);
    char *sum = NULL;
    run(&sum,
        "ogrinfo -ro -al -q '%s/5/18/10.mvt' | grep 'count (Integer) =' | awk '{s+=$4} END "
        "{print s}'",
        f->dir);
    assert_int_equal(strtol(sum, NULL, 10), 90);
    free(sum);
    assert_int_equal(
        run(NULL, "ogrinfo -ro -al -q '%s/5/18/10.mvt' | grep -q 'ref (String)'", f->dir), 1);
    /* an empty tile: 204 */
    r = get(f, "root", "/api/tiles/14/0/0.mvt", NULL);
    assert_int_equal(r.status, 204);
    hres_release(&r);
    /* revalidation: 304 while no decision changed */
    char *h = tl_asprintf("If-None-Match: %s", etag);
    r = get(f, "root", "/api/tiles/12/2395/1382.mvt", h);
    assert_int_equal(r.status, 304);
    hres_release(&r);
    sql(f, "UPDATE reports SET decided_at = now() WHERE public_ref = 'R-8' RETURNING 1");
    r = get(f, "root", "/api/tiles/12/2395/1382.mvt", h);
    assert_int_equal(r.status, 200);
    hres_release(&r);
    free(h);
    /* an exporter's tile is of rounded points */
    r = get(f, "exa", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "mkdir -p '%s/e/12/2395' && cp '%s' '%s/e/12/2395/1382.mvt'", f->dir,
                         r.body_path, f->dir),
                     0);
    hres_release(&r);
    char *e12 = tl_asprintf("%s/e/12/2395/1382.mvt", f->dir);
    assert_true(ogr_count("", e12) > 0);
    free(e12);
    static const char *const bad[] = {"/api/tiles/23/0/0.mvt", "/api/tiles/2/4/0.mvt",
                                      "/api/tiles/2/0/0.png", "/api/tiles/x/0/0.mvt"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        r = get(f, "root", bad[i], NULL);
        if (r.status != 404)
            fail_msg("%s: want 404, got %ld", bad[i], r.status);
        hres_release(&r);
    }
    /* the console's map reads them too: an analyst's tile holds exact points */
    r = get(f, "alice", "/api/tiles/12/2395/1382.mvt", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "mkdir -p '%s/a/12/2395' && cp '%s' '%s/a/12/2395/1382.mvt'", f->dir,
                         r.body_path, f->dir),
                     0);
    hres_release(&r);
    char *a12 = tl_asprintf("%s/a/12/2395/1382.mvt", f->dir),
         *e12p = tl_asprintf("%s/e/12/2395/1382.mvt", f->dir);
    char *pa = ogr_point("", a12, "ref", "R-7"), *pr = ogr_point("", t12, "ref", "R-7"),
         *pe = ogr_point("", e12p, "ref", "R-7");
    assert_true(pa && pr && pe && strncmp(pr, "POINT (", 7) == 0);
    assert_string_equal(pa, pr);     /* exact, as the admin's */
    assert_string_not_equal(pe, pr); /* the exporter's is rounded */
    free(pa);
    free(pr);
    free(pe);
    free(a12);
    free(e12p);
    no_identity(f);
    free(t12);
    free(ct);
    free(cc);
    free(etag);
    fx_free(f);
}

/* Decisions made while the cells of a new precision are built: each is counted once
 * (pending and folded in, or read from the reports by the build, never both). */
struct churn {
    const char *ci;
    volatile int stop;
    int n;
    pthread_t th;
};

static void *churn_main(void *arg)
{
    struct churn *c = arg;
    PGconn *conn = PQconnectdb(c->ci);
    for (int i = 0; !c->stop && PQstatus(conn) == CONNECTION_OK; i++) {
        char q[256];
        snprintf(q, sizeof(q),
                 "UPDATE reports SET status = CASE WHEN status = 'confirmed' THEN 'rejected'"
                 " ELSE 'confirmed' END, decided_at = now() WHERE public_ref = 'R-%d'",
                 1 + (i * 7919) % 30000);
        PGresult *r = PQexec(conn, q);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            c->n++;
        PQclear(r);
    }
    PQfinish(conn);
    return NULL;
}

static void test_export_tiles_grid_build_live(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_tiles_live", 30000);
    assert_int_equal(count(f, "SELECT tile_grid_fold()"), 27000);
    struct churn c = {.ci = f->ci};
    assert_int_equal(pthread_create(&c.th, NULL, churn_main, &c), 0);
    tl_sleep_ms(200, NULL);
    int built = 0, tries = 0, rc;
    struct tl_errinfo ei;
    do { /* a fold or build that got in the way: again */
        tl_errinfo_clear(&ei);
        rc = store_tile_grid_ensure(f->s, 3, &built, &ei);
    } while (rc && ++tries < 20);
    if (rc)
        fail_msg("tile_grid_ensure(3): %s", ei.msg);
    tl_sleep_ms(200, NULL);
    c.stop = 1;
    pthread_join(c.th, NULL);
    assert_true(c.n > 50);
    assert_int_equal(built, 1);
    count(f, "SELECT tile_grid_fold()");
    long long want = count(f, "SELECT count(*) FROM reports WHERE status = 'confirmed'");
    static const int precs[] = {-1, 3}; /* the exact cells kept by folds, the new ones */
    for (size_t i = 0; i < sizeof(precs) / sizeof(precs[0]); i++) {
        char q[160];
        snprintf(q, sizeof(q),
                 "SELECT COALESCE(sum(n), 0) FROM tile_cells WHERE prec = %d AND zoom = 0",
                 precs[i]);
        long long got = count(f, q);
        if (got != want)
            fail_msg("precision %d counts %lld reports, %lld are confirmed (%d decisions made "
                     "during the build)",
                     precs[i], got, want, c.n);
    }
    /* and cell by cell, as a build from scratch would count them */
    assert_int_equal(
        count(f, "SELECT count(*) FROM ((SELECT zoom, tx, ty, cell, queue, n FROM tile_cells"
                 " WHERE prec = 3 AND n <> 0) EXCEPT (SELECT g.zoom, g.tx, g.ty, g.cell, r.queue,"
                 " count(*)::int FROM reports r, LATERAL tile_grid_cells(r.point, 3) g"
                 " WHERE r.status = 'confirmed' GROUP BY 1, 2, 3, 4, 5)) d"),
        0);
    fx_free(f);
}

/* ---- outgoing webhooks ---- */

/* A receiver on loopback: answers 500 to the first `fail` posts, then 204; keeps each
 * request's headers and body. */
#define RX_MAX 16
struct rx {
    int fd;
    unsigned port;
    int fail;
    pthread_mutex_t mu;
    int n;
    char *head[RX_MAX], *body[RX_MAX];
    int answered[RX_MAX];
    volatile int stop;
    pthread_t th;
};

static void *rx_main(void *arg)
{
    struct rx *x = arg;
    while (!x->stop) {
        int c = accept(x->fd, NULL, NULL);
        if (c < 0)
            continue;
        struct tl_buf b;
        tl_buf_init(&b, 1 << 20);
        char chunk[4096];
        size_t need = 0, hend = 0;
        for (;;) {
            ssize_t r = recv(c, chunk, sizeof(chunk), 0);
            if (r <= 0 || tl_buf_append(&b, chunk, (size_t)r))
                break;
            const char *e = hend ? NULL : strstr((const char *)b.data, "\r\n\r\n");
            if (e) {
                hend = (size_t)(e - (const char *)b.data) + 4;
                const char *cl = strcasestr((const char *)b.data, "Content-Length:");
                need = hend + (cl ? strtoul(cl + 15, NULL, 10) : 0);
            }
            if (hend && b.len >= need)
                break;
        }
        pthread_mutex_lock(&x->mu);
        int i = x->n < RX_MAX ? x->n++ : -1;
        int status = i >= 0 && i < x->fail ? 500 : 204;
        if (i >= 0 && hend) {
            x->head[i] = tl_strndup((const char *)b.data, hend);
            x->body[i] = tl_strndup((const char *)b.data + hend, b.len - hend);
            x->answered[i] = status;
        }
        pthread_mutex_unlock(&x->mu);
        char resp[128];
        int n = snprintf(resp, sizeof(resp),
                         "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n",
                         status);
        if (send(c, resp, (size_t)n, 0) < 0)
            (void)0;
        close(c);
        tl_buf_release(&b);
    }
    return NULL;
}

static void rx_start(struct rx *x, int fail)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    x->fail = fail;
    pthread_mutex_init(&x->mu, NULL);
    x->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(x->fd >= 0);
    assert_int_equal(bind(x->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(x->fd, 16), 0);
    assert_int_equal(getsockname(x->fd, (struct sockaddr *)&sa, &sl), 0);
    x->port = ntohs(sa.sin_port);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000}; /* accept wakes to see stop */
    setsockopt(x->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(pthread_create(&x->th, NULL, rx_main, x), 0);
}

static void rx_stop(struct rx *x)
{
    x->stop = 1;
    pthread_join(x->th, NULL);
    close(x->fd);
    for (int i = 0; i < x->n && i < RX_MAX; i++) {
        free(x->head[i]);
        free(x->body[i]);
    }
    pthread_mutex_destroy(&x->mu);
}

static char *head_value(const char *head, const char *name)
{
    const char *p = strcasestr(head, name);
    if (!p)
        return NULL;
    p += strlen(name);
    while (*p == ':' || *p == ' ')
        p++;
    return tl_strndup(p, strcspn(p, "\r\n"));
}

/* X-Tipline-Signature checks against HMAC-SHA256(secret, "<timestamp>.<body>"). */
static int signature_ok(const char *head, const char *body, const char *secret)
{
    char *ts = head_value(head, "X-Tipline-Timestamp"),
         *sig = head_value(head, "X-Tipline-Signature");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1], want[80 + 2 * EVP_MAX_MD_SIZE];
    int ok = 0;
    if (ts && sig) {
        char *msg = tl_asprintf("%s.%s", ts, body);
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)msg, strlen(msg), md, &n);
        tl_hex(md, n, hex);
        snprintf(want, sizeof(want), "sha256=%s", hex);
        ok = strcmp(sig, want) == 0 && llabs(strtoll(ts, NULL, 10) - (long long)time(NULL)) < 60;
        free(msg);
    }
    free(ts);
    free(sig);
    return ok;
}

/* POST /api/webhooks with the JSON body json as exa: the HTTP status; the answer's body
 * in *body (NULL: dropped), recorded for the OpenAPI check. */
static long webhook_post(struct fx *f, const char *json, char **body)
{
    char *out = NULL,
         *cmd = tl_asprintf(
             "curl -s -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer "
             "tok-exa-0123456789abcdef' -d '%s' -w '\\n%%{http_code}' "
             "'http://127.0.0.1:%u/api/webhooks'",
             json, f->port);
    ts_run(cmd, &out);
    free(cmd);
    assert_non_null(out);
    char *nl = strrchr(out, '\n');
    assert_non_null(nl);
    long status = strtol(nl + 1, NULL, 10);
    *nl = 0;
    ts_http_record("POST", "/api/webhooks", status, "application/json", out, strlen(out));
    if (body)
        *body = out;
    else
        free(out);
    return status;
}

/* POST /api/webhooks {"url"} as exa (report events, the default). */
static long webhook_add(struct fx *f, const char *url, char **body)
{
    char *json = tl_asprintf("{\"url\":\"%s\"}", url);
    long status = webhook_post(f, json, body);
    free(json);
    return status;
}

/* The signing secret of a subscription's answer (shown this once), as a new string;
 * frees answer. */
static char *take_secret(char *answer)
{
    char *sec = strstr(answer, "\"secret\":\"");
    assert_non_null(sec);
    sec += 10;
    sec[strcspn(sec, "\"")] = 0;
    char *secret = tl_strdup(sec);
    free(answer);
    assert_true(strncmp(secret, "whsec_", 6) == 0 && strlen(secret) == 70);
    return secret;
}

/* A fixture of n seeded reports and a receiver on loopback failing its first two posts,
 * which the sender may reach. */
static struct fx *webhook_fx(const char *name, int n, struct rx *x)
{
    struct fx *f = fx_new(name, n);
    rx_start(x, 2);
    f->cfg.webhook_allow_private = 1;
    return f;
}

static void test_export_webhook(void **state)
{
    (void)state;
    struct rx x = {0};
    struct fx *f = webhook_fx("t_export_webhook", 100, &x);
    /* the exporter subscribes; the secret comes once */
    char *out = NULL, *url = tl_asprintf("http://127.0.0.1:%u/hook", x.port);
    assert_int_equal(webhook_add(f, url, &out), 201);
    free(url);
    char *secret = take_secret(out);
    struct hres r = get(f, "exa", "/api/webhooks", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -q whsec_ '%s'", r.body_path), 1); /* never shown again */
    hres_release(&r);

    /* the sender, retrying after 1 s, then 2 s */
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 1, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    /* a decision writes a delivery and returns: no receiver is waited for */
    int64_t t0 = tl_now_ms();
    sql(f, "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
           " RETURNING 1");
    assert_true(tl_now_ms() - t0 < 1000);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    for (int i = 0; i < 150 && !count(f, "SELECT count(*) FROM webhook_deliveries"
                                         " WHERE delivered_at IS NOT NULL");
         i++)
        tl_sleep_ms(100, NULL);
    tl_sleep_ms(1500, NULL); /* nothing more comes */
    stop = 1;
    daemon_webhooks_join(wh);
    pthread_mutex_lock(&x.mu);
    int n = x.n;
    pthread_mutex_unlock(&x.mu);
    assert_int_equal(n, 3);
    int got = 0;
    for (int i = 0; i < n; i++) {
        if (!signature_ok(x.head[i], x.body[i], secret))
            fail_msg("post %d: bad signature: %s", i, x.head[i]);
        got += x.answered[i] == 204;
        assert_non_null(strcasestr(x.head[i], "X-Tipline-Event: report.confirmed"));
        assert_non_null(strstr(x.body[i], "\"ref\":\"R-10\""));
        assert_non_null(strstr(x.body[i], "\"coordinates\":[30.51,50.40]")); /* rounded */
        assert_string_equal(x.body[i], x.body[0]);
        char *fn = tl_asprintf("%s/webhook-%d.json", f->dir, i);
        assert_int_equal(ts_write_file(fn, x.body[i]), 0);
        free(fn);
    }
    assert_int_equal(got, 1); /* taken exactly once */
    /* a tampered body fails the check */
    assert_false(signature_ok(x.head[2], "{\"event\":\"report.confirmed\"}", secret));
    /* the admins see every attempt */
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_attempts"), 3);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries WHERE attempts = 3"
                              " AND last_status = 204 AND last_error IS NULL"),
                     1);
    r = get(f, "root", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL,
                         "grep -Eq '\"attempts\" ?: ?3' '%s' && grep -Eq '\"status\" ?: ?500' '%s'",
                         r.body_path, r.body_path),
                     0);
    hres_release(&r);
    r = get(f, "exa", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 403);
    hres_release(&r);
    /* a disabled subscription gets no more */
    char *id = ts_db_scalar(f->ci, "SELECT id FROM webhook_subscriptions");
    char *cmd =
        tl_asprintf("curl -s -o /dev/null -w '%%{http_code}' -X POST -H 'Authorization: Bearer "
                    "tok-exa-0123456789abcdef' 'http://127.0.0.1:%u/api/webhooks/%s/disable'",
                    f->port, id);
    ts_run(cmd, &out);
    assert_string_equal(out, "200");
    free(out);
    free(cmd);
    free(id);
    sql(f, "UPDATE reports SET decided_at = now() WHERE public_ref = 'R-11' RETURNING 1");
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    rx_stop(&x);
    no_identity(f);
    free(secret);
    fx_free(f);
}

/* The address classes a webhook may not reach, and public ones it may, as the sender's
 * socket check (CURLOPT_OPENSOCKETFUNCTION) sees them. */
/* The features of the tile z/x/y that account as is served, decoded by ogrinfo (the
 * tile's buffer too: not clipped to its extent). */
static long tile_features(struct fx *f, const char *as, int z, long x, long y)
{
    char *path = tl_asprintf("/api/tiles/%d/%ld/%ld.mvt", z, x, y), *n = NULL;
    struct hres r = get(f, as, path, NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "mkdir -p '%s/a/%d/%ld' && cp '%s' '%s/a/%d/%ld/%ld.mvt'", f->dir, z,
                         x, r.body_path, f->dir, z, x, y),
                     0);
    run(&n, "ogrinfo -ro -al -q -oo CLIP=NO '%s/a/%d/%ld/%ld.mvt' | grep -c '^OGRFeature'", f->dir,
        z, x, y);
    long k = strtol(n, NULL, 10);
    free(n);
    free(path);
    hres_release(&r);
    return k;
}

/* Tiles are audited as one row per account, zoom and minute with the tiles and their
 * features summed. */
static void test_export_tiles_audit(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_tiles_audit", 100);
    /* the fetches below stay within one minute */
    long sec = (long)count(f, "SELECT extract(second FROM now())::int");
    if (sec >= 45)
        sleep((unsigned)(61 - sec));
    long n12 = tile_features(f, "root", 12, 2395, 1382);
    assert_true(n12 >= 14); /* R-1..R-15 less R-10, and the buffer's */
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    struct hres r = get(f, "root", "/api/tiles/12/0/0.mvt", NULL); /* empty: 0 features */
    assert_int_equal(r.status, 204);
    hres_release(&r);
    long n5 = tile_features(f, "root", 5, 18, 10);
    assert_true(n5 > 0);
    assert_int_equal(tile_features(f, "root", 5, 18, 10), n5);
    long ne = tile_features(f, "exa", 12, 2395, 1382); /* rounded points */
    assert_true(ne > 0);
    assert_int_equal(count(f, "SELECT count(*) FROM tile_audit"), 3);
    char *q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                          " AND tiles = 4 AND features = %ld"
                          " AND minute = date_trunc('minute', now())",
                          3 * n12);
    assert_int_equal(count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 5"
                    " AND tiles = 2 AND features = %ld",
                    2 * n5);
    assert_int_equal(count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'exa' AND zoom = 12"
                    " AND tiles = 1 AND features = %ld",
                    ne);
    assert_int_equal(count(f, q), 1);
    free(q);
    /* a minute later, another row: the earlier one is left as it was */
    sql(f, "WITH u AS (UPDATE tile_audit SET minute = minute - interval '1 minute' RETURNING 1)"
           " SELECT 1");
    assert_int_equal(tile_features(f, "root", 12, 2395, 1382), n12);
    assert_int_equal(count(f, "SELECT count(*) FROM tile_audit WHERE account = 'root'"
                              " AND zoom = 12"),
                     2);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                    " AND tiles = 1 AND features = %ld AND minute = date_trunc('minute', now())",
                    n12);
    assert_int_equal(count(f, q), 1);
    free(q);
    q = tl_asprintf("SELECT count(*) FROM tile_audit WHERE account = 'root' AND zoom = 12"
                    " AND tiles = 4 AND features = %ld",
                    3 * n12);
    assert_int_equal(count(f, q), 1);
    free(q);
    fx_free(f);
}

static void test_export_webhook_addresses(void **state)
{
    (void)state;
    static const struct {
        const char *addr;
        int priv;
    } cases[] = {
        {"127.0.0.1", 1},
        {"127.255.0.9", 1},
        {"10.0.0.1", 1},
        {"172.16.0.1", 1},
        {"172.31.255.255", 1},
        {"172.32.0.1", 0},
        {"192.168.0.1", 1},
        {"169.254.169.254", 1},
        {"100.64.0.1", 1},
        {"100.100.100.200", 1},
        {"0.0.0.0", 1},
        {"224.0.0.1", 1},
        {"255.255.255.255", 1},
        {"192.0.2.1", 1},
        {"198.18.0.1", 1},
        {"8.8.8.8", 0},
        {"192.0.43.10", 0},
        {"100.128.0.1", 0},
        {"::1", 1},
        {"::", 1},
        {"::ffff:127.0.0.1", 1},
        {"::ffff:10.1.1.1", 1},
        {"::ffff:8.8.8.8", 0},
        {"64:ff9b::a9fe:a9fe", 1},
        {"64:ff9b::808:808", 0},
        {"2002:7f00:1::", 1},
        {"2002:808:808::", 0},
        {"fe80::1", 1},
        {"fd00:ec2::254", 1},
        {"fc00::1", 1},
        {"ff02::1", 1},
        {"2001:db8::1", 1},
        {"2001:4860:4860::8888", 0},
        {"2a00:1450:4001::200e", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss = {0};
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, cases[i].addr, &a4->sin_addr) == 1)
            a4->sin_family = AF_INET;
        else if (inet_pton(AF_INET6, cases[i].addr, &a6->sin6_addr) == 1)
            a6->sin6_family = AF_INET6;
        else
            fail_msg("%s: not an address", cases[i].addr);
        if (web_addr_private((const struct sockaddr *)&ss) != cases[i].priv)
            fail_msg("%s: want %s", cases[i].addr, cases[i].priv ? "private" : "public");
    }
    struct sockaddr_storage unix_ss = {.ss_family = AF_UNIX};
    assert_int_equal(web_addr_private((const struct sockaddr *)&unix_ss), 1);
}

static void test_export_webhook_private_refused(void **state)
{
    (void)state;
    struct fx *f = fx_new("t_export_ssrf", 20);
    assert_int_equal(f->cfg.webhook_allow_private, 0); /* the default */
    struct rx x = {0};
    rx_start(&x, 0);
    /* loopback, RFC 1918, the metadata service, IPv6 loopback and mapped, a decimal
     * loopback, a name resolving to loopback, a name with credentials before it */
    char *loop = tl_asprintf("http://127.0.0.1:%u/hook", x.port),
         *v6 = tl_asprintf("http://[::1]:%u/hook", x.port),
         *name = tl_asprintf("http://localhost:%u/hook", x.port);
    const char *const refused[] = {loop,
                                   "http://10.1.2.3/hook",
                                   "https://172.16.0.9/hook",
                                   "http://192.168.1.1/hook",
                                   "http://169.254.169.254/latest/meta-data/",
                                   "http://100.100.100.200/",
                                   v6,
                                   "http://[::ffff:127.0.0.1]/hook",
                                   "http://[fe80::1]/hook",
                                   "http://[fd00:ec2::254]/",
                                   "http://2130706433/hook",
                                   "http://0.0.0.0:8080/",
                                   name,
                                   "http://example.org@127.0.0.1/hook"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char *body = NULL;
        long st = webhook_add(f, refused[i], &body);
        if (st != 400 || !strstr(body, "private"))
            fail_msg("%s: want 400 naming a private address, got %ld %s", refused[i], st, body);
        free(body);
    }
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_subscriptions"), 0);
    /* a public address is taken (nothing is posted to it here) */
    assert_int_equal(webhook_add(f, "http://192.0.43.10:8443/hook", NULL), 201);
    sql(f, "DELETE FROM webhook_subscriptions RETURNING 1");

    /* the sender checks too: a subscription made while allowed (or a name that resolves
     * to loopback since) is not posted to, and the attempt says why */
    f->cfg.webhook_allow_private = 1;
    assert_int_equal(webhook_add(f, name, NULL), 201);
    f->cfg.webhook_allow_private = 0;
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 60, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    sql(f, "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'R-10'"
           " RETURNING 1");
    for (int i = 0; i < 100 && !count(f, "SELECT count(*) FROM webhook_attempts"); i++)
        tl_sleep_ms(100, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_attempts WHERE status IS NULL"
                              " AND error LIKE '%private%'"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"),
                     1);
    pthread_mutex_lock(&x.mu);
    int n = x.n;
    pthread_mutex_unlock(&x.mu);
    assert_int_equal(n, 0); /* nothing reached the receiver */
    rx_stop(&x);
    free(loop);
    free(v6);
    free(name);
    fx_free(f);
}

/* ---- outgoing webhooks: incident changes ---- */

/* Reports by reporter who (PSEUDO, or w<k> made here) with ref, category, point and
 * bearing (NAN: none), each joined to its incident in a transaction of its own, as the
 * storing transaction does (incident_join). */
static void join_report(PGconn *c, const char *ref, const char *who, const char *cat, double lon,
                        double lat, double bearing)
{
    char q[1024], b[32] = "NULL";
    if (!isnan(bearing))
        snprintf(b, sizeof(b), "%g", bearing);
    snprintf(q, sizeof(q),
             "WITH p AS (INSERT INTO reporters (pseudonym) VALUES ('%s') ON CONFLICT DO NOTHING),"
             " r AS (INSERT INTO reports (public_ref, reporter, category, text, point,"
             "  point_source, accuracy_m, bearing) VALUES ('%s', '%s', '%s',"
             "  'from chat " CHAT ": " SECRET_TEXT "',"
             "  ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326)::geography, 'telegram_location', 10,"
             "  %s) RETURNING id)"
             " SELECT 1 FROM r",
             who, ref, who, cat, lon, lat, b);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", ref, PQerrorMessage(c));
    PQclear(r);
    snprintf(q, sizeof(q), "SELECT incident_join(id) FROM reports WHERE public_ref = '%s'", ref);
    r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQgetisnull(r, 0, 0))
        fail_msg("join %s: %s", ref, PQerrorMessage(c));
    PQclear(r);
}

/* Runs the sender until no incident delivery is left to post (at most 30 s). */
static void send_incidents(struct fx *f)
{
    volatile sig_atomic_t stop = 0;
    struct daemon_webhooks *wh = NULL;
    struct daemon_webhooks_opts wo = {
        .cfg = &f->cfg, .stop = &stop, .interval_ms = 100, .retry_base_s = 1, .timeout_ms = 3000};
    assert_int_equal(daemon_webhooks_start(&wo, &wh), TL_OK);
    for (int i = 0; i < 300 && count(f, "SELECT count(*) FROM webhook_deliveries WHERE"
                                        " incident_id IS NOT NULL AND delivered_at IS NULL");
         i++)
        tl_sleep_ms(100, NULL);
    tl_sleep_ms(300, NULL);
    stop = 1;
    daemon_webhooks_join(wh);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries WHERE"
                              " incident_id IS NOT NULL AND delivered_at IS NULL"),
                     0);
}

/* The post (index >= from) whose body holds needle, asserted to be the only one. */
static int post_with(struct rx *x, int from, const char *needle)
{
    int at = -1;
    for (int i = from; i < x->n; i++)
        if (strstr(x->body[i], needle)) {
            if (at >= 0)
                fail_msg("two posts hold %s", needle);
            at = i;
        }
    if (at < 0)
        fail_msg("no post holds %s", needle);
    return at;
}

static void test_export_webhook_incident_changes(void **state)
{
    (void)state;
    struct rx x = {0};
    struct fx *f = webhook_fx("t_export_webhook_incident", 3, &x);
    char *json =
        tl_asprintf("{\"url\":\"http://127.0.0.1:%u/inc\",\"events\":[\"incidents\"]}", x.port);
    char *out = NULL;
    assert_int_equal(webhook_post(f, json, &out), 201);
    free(json);
    assert_non_null(strstr(out, "\"events\":[\"incidents\"]"));
    char *secret = take_secret(out);
    /* another subscription, report decisions only (what one takes when it does not say) */
    json = tl_asprintf("{\"url\":\"http://127.0.0.1:%u/rep\"}", x.port);
    assert_int_equal(webhook_post(f, json, NULL), 201);
    free(json);
    assert_int_equal(
        webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[\"alerts\"]}", NULL), 400);
    assert_int_equal(
        webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[\"reports\",\"reports\"]}",
                     NULL),
        400);
    assert_int_equal(webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[]}", NULL),
                     400);
    assert_int_equal(webhook_post(f, "{\"url\":\"http://192.0.43.10/h\",\"events\":[1]}", NULL),
                     400);
    struct hres r = get(f, "exa", "/api/webhooks", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -Eq '\"events\" ?: ?\\[\"reports\"\\]' '%s'", r.body_path), 0);
    hres_release(&r);
    PGconn *c = PQconnectdb(f->ci);
    assert_int_equal(PQstatus(c), CONNECTION_OK);

    /* 1. an incident appears; the receiver fails twice, then takes it: exactly once */
    join_report(c, "J-1", PSEUDO, "shelling", 31.012345, 50.023456, NAN);
    char *i1 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-1'");
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries"), 1);
    send_incidents(f);
    assert_int_equal(x.n, 3);
    char *inc = tl_asprintf("\"incident\":%s,", i1);
    for (int i = 0; i < 3; i++) {
        if (!signature_ok(x.head[i], x.body[i], secret))
            fail_msg("post %d: bad signature: %s", i, x.head[i]);
        assert_non_null(strcasestr(x.head[i], "X-Tipline-Event: incident.changed"));
        assert_string_equal(x.body[i], x.body[0]);
        assert_int_equal(x.answered[i], i < 2 ? 500 : 204);
    }
    assert_non_null(strstr(x.body[0], inc));
    assert_non_null(strstr(x.body[0], "\"changes\":[\"created\",\"joined\",\"corroboration\"]"));
    assert_non_null(strstr(x.body[0], "\"merged_into\":null"));
    assert_non_null(strstr(x.body[0], "\"n_reports\":1"));
    assert_non_null(strstr(x.body[0], "\"coordinates\":[31.01,50.02]")); /* rounded */
    char *d0 = head_value(x.head[0], "X-Tipline-Delivery"),
         *d2 = head_value(x.head[2], "X-Tipline-Delivery");
    assert_string_equal(d0, d2);
    free(d0);
    free(d2);
    assert_false(signature_ok(x.head[2], "{\"event\":\"incident.changed\"}", secret));

    /* 2. a burst: 300 reports join it, each in its own transaction, while the sender is
     * down: one delivery, folded, posted once with the incident as it stands */
    int64_t t0 = tl_now_ms();
    for (int k = 1; k <= 300; k++) {
        char ref[16], who[16];
        snprintf(ref, sizeof(ref), "J-%d", k + 1);
        snprintf(who, sizeof(who), "w%d", k);
        join_report(c, ref, who, "shelling", 31.012345 + k * 1e-6, 50.023456, NAN);
    }
    fprintf(stderr, "300 joins, one transaction each: %lld ms\n", (long long)(tl_now_ms() - t0));
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"),
                     1);
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries WHERE delivered_at IS NULL"
                              " AND changes = '{joined,corroboration}'"),
                     1);
    send_incidents(f);
    assert_int_equal(x.n, 4);
    assert_int_equal(x.answered[3], 204);
    assert_true(signature_ok(x.head[3], x.body[3], secret));
    assert_non_null(strstr(x.body[3], inc));
    assert_non_null(strstr(x.body[3], "\"n_reports\":301"));
    assert_non_null(strstr(x.body[3], "\"corroboration\":301"));

    /* 3. another incident merged into it, a report split out of it, and a moving target
     * fixed by two bearings: one post per incident, each saying what changed */
    join_report(c, "J-400", "w1", "shelling", 31.5, 50.0, NAN);
    char *i2 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-400'");
    assert_string_not_equal(i1, i2);
    free(ts_db_scalarf(f->ci, "SELECT web_incident_merge('alice', %s, %s, NULL)", i1, i2));
    free(ts_db_scalar(f->ci, "SELECT web_incident_split('alice', NULL, 'J-2', NULL)"));
    char *i3 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'J-2'");
    join_report(c, "K-1", PSEUDO, "drones", 33.0, 50.0, 45);
    join_report(c, "K-2", "w2", "drones", 33.02, 50.0, 315);
    char *i4 = ts_db_scalar(f->ci, "SELECT incident_id FROM reports WHERE public_ref = 'K-2'");
    assert_int_equal(
        ts_db_countf(f->ci, "SELECT count(*) FROM incidents WHERE id = %s AND fused IS NOT NULL",
                     i4),
        1);
    send_incidents(f);
    assert_int_equal(x.n, 8);
    char *n2 = tl_asprintf("\"incident\":%s,", i2), *n3 = tl_asprintf("\"incident\":%s,", i3),
         *n4 = tl_asprintf("\"incident\":%s,", i4), *m = tl_asprintf("\"merged_into\":%s,", i1);
    int p1 = post_with(&x, 4, inc), p2 = post_with(&x, 4, n2), p3 = post_with(&x, 4, n3),
        p4 = post_with(&x, 4, n4);
    assert_non_null(strstr(x.body[p1], "\"changes\":[\"joined\",\"left\"]"));
    assert_non_null(strstr(x.body[p1], "\"n_reports\":301")); /* +1 merged, -1 split */
    assert_non_null(strstr(x.body[p2], "\"merged\""));
    assert_non_null(strstr(x.body[p2], m));
    assert_non_null(strstr(x.body[p2], "\"feature\":null"));
    assert_non_null(strstr(x.body[p3], "\"changes\":[\"created\",\"joined\",\"corroboration\"]"));
    assert_non_null(strstr(x.body[p4], "\"fused\""));
    assert_null(strstr(x.body[p4], "\"fused_lon\":null"));
    for (int i = 4; i < 8; i++) {
        assert_true(signature_ok(x.head[i], x.body[i], secret));
        assert_int_equal(x.answered[i], 204);
    }
    for (int i = 0; i < x.n; i++) {
        char *fn = tl_asprintf("%s/webhook-incident-%d.json", f->dir, i);
        assert_int_equal(ts_write_file(fn, x.body[i]), 0);
        free(fn);
    }
    /* the report-only subscription got none of it; a decision still goes to it alone */
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries d JOIN"
                              " webhook_subscriptions s ON s.id = d.subscription_id"
                              " WHERE s.events = '{reports}'"),
                     0);
    sql(f, "UPDATE reports SET status = 'confirmed', decided_at = now() WHERE public_ref = 'J-3'"
           " RETURNING 1");
    assert_int_equal(count(f, "SELECT count(*) FROM webhook_deliveries d JOIN"
                              " webhook_subscriptions s ON s.id = d.subscription_id"
                              " WHERE d.report_id IS NOT NULL AND s.events = '{reports}'"),
                     1);
    assert_int_equal(
        count(f, "SELECT count(*) FROM webhook_deliveries WHERE report_id IS NOT NULL"), 1);
    r = get(f, "root", "/api/webhooks/deliveries", NULL);
    assert_int_equal(r.status, 200);
    assert_int_equal(run(NULL, "grep -Eq '\"changes\" ?: ?\\[\"created\"' '%s'", r.body_path), 0);
    hres_release(&r);
    PQfinish(c);
    rx_stop(&x);
    no_identity(f);
    free(n2);
    free(n3);
    free(n4);
    free(m);
    free(inc);
    free(i1);
    free(i2);
    free(i3);
    free(i4);
    free(secret);
    fx_free(f);
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
    run(&out,
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
    struct fx *f = fx_new("t_export_memory", 100000);
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
    char *out = path_in(f, "big.geojson");
    char *cmd = tl_asprintf("curl -s -o '%s' -w '%%{http_code}' -H 'Authorization: Bearer "
                            "tok-root-0123456789abcdef' 'http://127.0.0.1:%u/api/export/"
                            "reports.geojson'",
                            out, f->port);
    char *code = NULL;
    ts_run(cmd, &code);
    assert_string_equal(code, "200");
    long after = vm_hwm_kb();
    assert_int_equal(ogr_count("", out), 90000);
    if (after - before > slack)
        fail_msg("the feed's memory grew by %ld KiB for 90,000 rows", after - before);
    free(code);
    free(cmd);
    free(out);
    fx_free(f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_export_cli_formats, teardown),
        cmocka_unit_test_teardown(test_export_feed_http, teardown),
        cmocka_unit_test_teardown(test_export_ogc_api, teardown),
        cmocka_unit_test_teardown(test_export_tiles, teardown),
        cmocka_unit_test_teardown(test_export_tiles_grid, teardown),
        cmocka_unit_test_teardown(test_export_tiles_audit, teardown),
        cmocka_unit_test_teardown(test_export_tiles_grid_build_live, teardown),
        cmocka_unit_test_teardown(test_export_webhook, teardown),
        cmocka_unit_test(test_export_webhook_addresses),
        cmocka_unit_test_teardown(test_export_webhook_private_refused, teardown),
        cmocka_unit_test_teardown(test_export_webhook_incident_changes, teardown),
        cmocka_unit_test_teardown(test_export_memory_flat, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
