/* web/export.c - the exporters' HTTP feeds (GET /api/export/reports.{geojson,csv,kml,
 * geojsonseq}) and the streamed body they share with OGC API - Features (ogc.c): rows
 * come through a server-side cursor on a connection of the stream's own and are written
 * as the client reads them, gzip-compressed when it asks, so memory stays flat however
 * large the export. A feed answers 304 to a poll whose ETag (or Last-Modified) is still
 * the newest decision's, and takes back any row's "cursor" as after= to fetch only what
 * was decided since. Every export is audited when its stream ends. */
#include "web_int.h"
#include "web_export.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "common/log.h"
#include "storage/store_export.h"
#include "common/banned.h"

#define CHUNK (64 * 1024)

struct web_stream {
    struct store *s;
    struct store *audit; /* the primary's, when s is the replica's (which takes no writes) */
    struct store_export *x;
    struct web_export_fmt fmt;
    struct tl_buf pend;
    size_t off;
    int eof, failed;
    int gz, gz_done;
    z_stream z;
    long long max_rows; /* > 0: write at most this many (OGC: one more was asked for) */
    int more;           /* a row past max_rows exists */
    char last[WEB_EXPORT_CURSOR];
    char *actor, *what, *format;
    web_stream_tail_fn tail; /* NULL: the format's own */
    void *tail_cls;
};

void web_stream_free(void *cls)
{
    struct web_stream *st = cls;
    if (!st)
        return;
    if (st->x && !st->failed) { /* a client that went away early: audited as far as it read */
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        if (store_export_finish(st->x, st->actor, st->what, st->format, &ei))
            log_warn("export: audit failed detail=\"%.*s\"", (int)strcspn(ei.msg, "\n"), ei.msg);
    }
    store_export_free(st->x);
    store_free(st->s);
    store_free(st->audit);
    if (st->gz)
        deflateEnd(&st->z);
    tl_buf_release(&st->pend);
    free(st->actor);
    free(st->what);
    free(st->format);
    free(st->tail_cls);
    free(st);
}

/* Formats rows into pend until it holds CHUNK bytes or the rows end (then the tail and
 * the audit row). TL_OK or the error that ends the stream. */
static int fill(struct web_stream *st)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (st->off > 0) { /* what was sent goes: pend holds at most a chunk and a row */
        memmove(st->pend.data, st->pend.data + st->off, st->pend.len - st->off);
        st->pend.len -= st->off;
        st->pend.data[st->pend.len] = 0;
        st->off = 0;
    }
    while (!st->eof && st->pend.len - st->off < CHUNK) {
        struct store_export_row row;
        int have = 0, rc = store_export_next(st->x, &row, &have, &ei);
        if (rc) {
            log_error("export: read failed err=%s detail=\"%.*s\"", tl_strerror(rc),
                      (int)strcspn(ei.msg, "\n"), ei.msg);
            return rc;
        }
        if (have && st->max_rows > 0 && st->fmt.n >= st->max_rows) {
            st->more = 1;
            have = 0;
        }
        if (have) {
            web_export_cursor(&row, st->last);
            if ((rc = web_export_row(&st->fmt, &row, &st->pend)))
                return rc;
            continue;
        }
        rc =
            st->tail ? st->tail(st, st->tail_cls, &st->pend) : web_export_tail(&st->fmt, &st->pend);
        if (rc)
            return rc;
        if ((rc = store_export_finish(st->x, st->actor, st->what, st->format, &ei)) != TL_OK)
            return rc;
        store_export_free(st->x);
        st->x = NULL;
        st->eof = 1;
    }
    return TL_OK;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct web_stream *st = cls;
    (void)pos;
    if (st->failed)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (!st->gz) {
        if (fill(st)) {
            st->failed = 1;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        size_t n = st->pend.len - st->off;
        if (n == 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        n = n < max ? n : max;
        memcpy(buf, st->pend.data + st->off, n);
        st->off += n;
        return (ssize_t)n;
    }
    if (st->gz_done)
        return MHD_CONTENT_READER_END_OF_STREAM;
    st->z.next_out = (Bytef *)buf;
    st->z.avail_out = (uInt)(max > 0x7fffffff ? 0x7fffffff : max);
    while (st->z.avail_out > 0) {
        if (st->off == st->pend.len && fill(st)) {
            st->failed = 1;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        st->z.next_in = st->pend.data ? st->pend.data + st->off : (Bytef *)"";
        st->z.avail_in = (uInt)(st->pend.len - st->off);
        int flush = st->eof && st->z.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH;
        int zr = deflate(&st->z, flush);
        st->off = st->pend.len - st->z.avail_in;
        if (zr == Z_STREAM_END) {
            st->gz_done = 1;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            st->failed = 1;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
    }
    size_t n = max - st->z.avail_out;
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* 1 when the client's Accept-Encoding takes gzip (and does not refuse it with q=0). */
static int wants_gzip(const char *h)
{
    for (const char *p = h; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *e = p + n, *s = p;
        web_trim(&s, &e);
        size_t tn = strcspn(s, ";");
        if (tn > (size_t)(e - s))
            tn = (size_t)(e - s);
        const char *t = s + tn;
        while (tn && (s[tn - 1] == ' ' || s[tn - 1] == '\t'))
            tn--;
        if (tn == 4 && strncasecmp(s, "gzip", 4) == 0) {
            const char *q = strstr(t, "q=");
            return !(q && q < e && strtod(q + 2, NULL) <= 0.0);
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

int web_stream_start(struct web_call *c, const struct store_export_filter *f,
                     const struct web_export_fmt *fmt, long long max_rows, const char *format,
                     web_stream_tail_fn tail, void *tail_cls)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct web_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        free(tail_cls);
        return TL_ENOMEM;
    }
    st->tail = tail;
    st->tail_cls = tail_cls;
    st->fmt = *fmt;
    st->max_rows = max_rows;
    tl_buf_init(&st->pend, 0);
    st->actor = tl_strdup(c->who.account);
    st->what = tl_asprintf("GET /%s", c->path->n ? c->path->segs[0] : "");
    for (size_t i = 1; st->what && i < c->path->n; i++) {
        char *w = tl_asprintf("%s/%s", st->what, c->path->segs[i]);
        free(st->what);
        st->what = w;
    }
    st->format = tl_strdup(format);
    int rc = TL_ENOMEM;
    if (!st->actor || !st->what || !st->format)
        goto out;
    /* a connection of its own: the stream outlives the request's pooled one */
    if (c->on_replica && (rc = store_open(c->cfg->database_url, &st->audit, &ei)) != TL_OK)
        goto out;
    if ((rc = store_open(c->on_replica ? c->cfg->database_replica_url : c->cfg->database_url,
                         &st->s, &ei)) != TL_OK)
        goto out;
    if ((rc = store_export_open(st->s, f, &st->x, &ei)) != TL_OK)
        goto out;
    if (st->audit)
        store_export_audit_to(st->x, st->audit);
    if ((rc = web_export_head(&st->fmt, &st->pend)) != TL_OK)
        goto out;
    if (wants_gzip(web_header(c, "Accept-Encoding"))) {
        if (deflateInit2(&st->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            rc = TL_ENOMEM;
            goto out;
        }
        st->gz = 1;
        char *h =
            tl_asprintf("%sContent-Encoding: gzip\n", c->resp->headers ? c->resp->headers : "");
        free(c->resp->headers);
        c->resp->headers = h;
    }
    c->resp->status = 200;
    c->resp->reader = stream_read;
    c->resp->reader_free = web_stream_free;
    c->resp->reader_cls = st;
    return TL_OK;
out:
    st->failed = 1; /* nothing was sent: nothing to audit */
    web_stream_free(st);
    if (rc == TL_ENOMEM)
        return rc;
    return web_reply_store_err(c->resp, rc, &ei);
}

const char *web_stream_last(const struct web_stream *st, int *more)
{
    *more = st->more;
    return st->last;
}

long long web_stream_count(const struct web_stream *st)
{
    return st->fmt.n;
}

/* ---- the feed ---- */

int web_export_query(struct web_call *c, struct store_export_filter *f, int allow_after, char *msg,
                     size_t msgsz)
{
    const char *v;
    long n;
    memset(f, 0, sizeof(*f));
    f->account = c->who.account;
    f->decimals = c->who.round_decimals;
    f->status = web_query_get(c->q, "status");
    f->category = web_query_get(c->q, "category");
    f->since = web_query_get(c->q, "since");
    f->until = web_query_get(c->q, "until");
    static const char *const st[] = {"confirmed", "rejected", "duplicate", "needs_info",
                                     "escalated"};
    int ok = !f->status;
    for (size_t i = 0; f->status && i < sizeof(st) / sizeof(st[0]); i++)
        ok |= strcmp(f->status, st[i]) == 0;
    if (!ok)
        return snprintf(msg, msgsz,
                        "status must be confirmed, rejected, duplicate, needs_info or escalated"),
               TL_EINVAL;
    if (f->category && (strlen(f->category) == 0 || strlen(f->category) > 64))
        return snprintf(msg, msgsz, "category is 1 to 64 bytes"), TL_EINVAL;
    if ((f->since && !web_iso_valid(f->since)) || (f->until && !web_iso_valid(f->until)))
        return snprintf(msg, msgsz, "since and until are ISO 8601 times"), TL_EINVAL;
    if ((v = web_query_get(c->q, "bbox"))) {
        if (web_bbox_parse(v, f->bbox))
            return snprintf(msg, msgsz, "bbox is W,S,E,N in degrees"), TL_EINVAL;
        f->has_bbox = 1;
    }
    if (allow_after && (v = web_query_get(c->q, "after"))) {
        if (web_cursor_parse(v, &f->after_us, &f->after_id))
            return snprintf(msg, msgsz, "after is a row's cursor (<microseconds>_<id>)"), TL_EINVAL;
        f->has_after = 1;
    }
    if ((v = web_query_get(c->q, "precision"))) {
        if (web_long_parse(v, 0, 9, &n))
            return snprintf(msg, msgsz, "precision is 0 to 9 decimals"), TL_EINVAL;
        if (f->decimals < 0 || n < f->decimals)
            f->decimals = (int)n;
    }
    if ((v = web_query_get(c->q, "text"))) {
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
            return snprintf(msg, msgsz, "text is 0 or 1"), TL_EINVAL;
        if (v[0] == '1' && !c->cfg->export_text)
            return snprintf(msg, msgsz, "this server does not export free text (export_text)"),
                   TL_EINVAL;
        f->with_text = v[0] == '1';
    }
    return TL_OK;
}

/* The HTTP-date of a time in microseconds. */
static void http_date(long long us, char out[40])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int web_export_cache(struct web_call *c, const char *salt, const char *cache_control)
{
    struct tl_errinfo ei;
    long long us, id;
    tl_errinfo_clear(&ei);
    int rc = store_export_state(c->rs, &us, &id, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei) == TL_OK ? 1 : -1;
    /* the answer depends on who asks (queues, rounding) and on every query key */
    uint64_t h = 1469598103934665603ull;
    const char *parts[3] = {c->who.account, salt, NULL};
    for (int k = 0; k < 2; k++)
        for (const char *p = parts[k]; p && *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
    for (size_t i = 0; i < c->q->n; i++)
        for (const char *p = c->q->kv[i].key; p; p = p == c->q->kv[i].key ? c->q->kv[i].val : NULL)
            for (const char *r = p; *r; r++)
                h = (h ^ (unsigned char)*r) * 1099511628211ull;
    h ^= (uint64_t)(unsigned)(c->who.round_decimals + 1) * 0x9e3779b97f4a7c15ull;
    char etag[96], lm[40];
    snprintf(etag, sizeof(etag), "W/\"%016llx-%llx-%llx\"", (unsigned long long)h,
             (unsigned long long)us, (unsigned long long)id);
    http_date(us, lm);
    c->resp->cache = cache_control;
    c->resp->headers =
        tl_asprintf("ETag: %s\nLast-Modified: %s\nVary: Accept-Encoding\n", etag, lm);
    if (!c->resp->headers)
        return -1;
    const char *inm = web_header(c, "If-None-Match");
    const char *ims = web_header(c, "If-Modified-Since");
    int fresh = 0;
    if (inm) {
        /* weak comparison (RFC 9110 13.1.2): the opaque tags, W/ or not */
        const char *tag = etag + 2;
        for (const char *p = inm; *p && !fresh;) {
            size_t n = strcspn(p, ",");
            const char *s = p, *e = p + n;
            web_trim(&s, &e);
            if (e - s >= 2 && s[0] == 'W' && s[1] == '/')
                s += 2;
            fresh = ((size_t)(e - s) == strlen(tag) && strncmp(s, tag, strlen(tag)) == 0) ||
                    (e - s == 1 && *s == '*');
            p = p[n] ? p + n + 1 : p + n;
        }
    } else if (ims && us > 0) {
        fresh = strcmp(ims, lm) == 0;
    }
    if (!fresh)
        return 0;
    c->resp->status = 304;
    return 1;
}

int web_h_export_feed(struct web_call *c)
{
    struct store_export_filter f;
    struct web_export_fmt fmt = {0};
    char msg[WEB_MSG];
    const char *name = c->path->n > 2 ? c->path->segs[2] : "";
    const char *dot = strrchr(name, '.');
    if (!dot || (size_t)(dot - name) != 7 || strncmp(name, "reports", 7) != 0 ||
        web_export_format_parse(dot + 1, &fmt.format))
        return web_reply_err(c->resp, 404, "not_found",
                             "the feeds are reports.geojson, reports.csv, reports.kml and "
                             "reports.geojsonseq");
    if (web_export_query(c, &f, 1, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    const char *v = web_query_get(c->q, "limit");
    long lim = 0;
    if (v && web_long_parse(v, 1, 1000000000L, &lim))
        return web_reply_err(c->resp, 400, "bad_request", "limit is a positive integer");
    f.limit = lim;
    if ((v = web_query_get(c->q, "hxl"))) {
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
            return web_reply_err(c->resp, 400, "bad_request", "hxl is 0 or 1");
        fmt.hxl = v[0] == '1';
    }
    fmt.with_text = f.with_text;
    int cached = web_export_cache(c, name, "private, no-cache");
    if (cached)
        return cached > 0 ? TL_OK : TL_ENOMEM;
    c->resp->ctype = web_export_mime(fmt.format);
    return web_stream_start(c, &f, &fmt, 0, dot + 1, NULL, NULL);
}

const char *const web_p_feed[] = {"status", "category",  "since", "until", "bbox", "after",
                                  "limit",  "precision", "text",  "hxl",   NULL};
const char *const web_p_ogc[] = {"f", NULL};
const char *const web_p_ogc_items[] = {"bbox",     "datetime",  "limit", "after", "status",
                                       "category", "precision", "text",  "f",     NULL};
