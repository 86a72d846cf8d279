/* web/ogc.c - OGC API - Features - Part 1: Core, GeoJSON encoding, under /api/ogc:
 * the landing page, the conformance declaration, the collections (reports, incidents)
 * and their items with bbox, datetime, limit and "next" links, so that QGIS and GDAL (the
 * OAPIF driver) add tipline as a layer with no glue. Reports are streamed as the feeds
 * are (export.c); the next page's link carries the last item's cursor (after=). */
#include "web_export.h"
#include "storage/store_export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/banned.h"

#define OGC_LIMIT_DEFAULT 100
#define OGC_LIMIT_MAX 10000
#define CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

/* "http(s)://host" as the client reached us (links are absolute); "" when the Host
 * header is not a plain host[:port]. */
static void base_url(const struct web_call *c, char *out, size_t n)
{
    const char *host = web_header(c, "Host");
    const char *proto = web_header(c, "X-Forwarded-Proto");
    out[0] = 0;
    if (!host || !*host || strlen(host) > 255)
        return;
    for (const char *p = host; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
            return;
    snprintf(out, n, "%s://%s", proto && strcmp(proto, "https") == 0 ? "https" : "http", host);
}

static struct json_object *ogc_link(const char *base, const char *path, const char *rel,
                                    const char *type, const char *title)
{
    struct json_object *o = json_object_new_object();
    char *href = tl_asprintf("%s%s", base, path);
    json_object_object_add(o, "href", json_object_new_string(href ? href : path));
    json_object_object_add(o, "rel", json_object_new_string(rel));
    json_object_object_add(o, "type", json_object_new_string(type));
    if (title)
        json_object_object_add(o, "title", json_object_new_string(title));
    free(href);
    return o;
}

static int reply(struct web_call *c, struct json_object *o)
{
    char *s = o ? tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE))
                : NULL;
    json_object_put(o);
    return web_reply_json(c->resp, 200, s);
}

int web_h_ogc_landing(struct web_call *c)
{
    char base[300];
    base_url(c, base, sizeof(base));
    struct json_object *o = json_object_new_object(), *l = json_object_new_array();
    json_object_object_add(o, "title", json_object_new_string("tipline"));
    json_object_object_add(o, "description",
                           json_object_new_string("Confirmed citizen reports as OGC API - "
                                                  "Features (no reporter identity)."));
    json_object_array_add(l,
                          ogc_link(base, "/api/ogc", "self", "application/json", "this document"));
    json_object_array_add(l, ogc_link(base, "/api/ogc/conformance", "conformance",
                                      "application/json", "the conformance classes"));
    json_object_array_add(
        l, ogc_link(base, "/api/ogc/collections", "data", "application/json", "the collections"));
    json_object_object_add(o, "links", l);
    return reply(c, o);
}

/* The API definition the landing page links (service-desc): the OGC routes only; the
 * whole of tipline's API is web/openapi.yaml. */
int web_h_ogc_api(struct web_call *c)
{
    static const char doc[] =
        "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"tipline OGC API - Features\","
        "\"version\":\"1\"},\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":"
        "\"http\",\"scheme\":\"bearer\"}}},\"security\":[{\"bearer\":[]}],\"paths\":{"
        "\"/api/ogc\":{\"get\":{\"summary\":\"landing page\",\"responses\":{\"200\":"
        "{\"description\":\"links\"}}}},"
        "\"/api/ogc/conformance\":{\"get\":{\"summary\":\"conformance classes\","
        "\"responses\":{\"200\":{\"description\":\"conformsTo\"}}}},"
        "\"/api/ogc/collections\":{\"get\":{\"summary\":\"collections\",\"responses\":"
        "{\"200\":{\"description\":\"the collections\"}}}},"
        "\"/api/ogc/collections/{collectionId}\":{\"get\":{\"summary\":\"a collection\","
        "\"parameters\":[{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,"
        "\"schema\":{\"type\":\"string\",\"enum\":[\"reports\",\"incidents\"]}}],\"responses\":{"
        "\"200\":"
        "{\"description\":\"the collection\"}}}},"
        "\"/api/ogc/collections/{collectionId}/items\":{\"get\":{\"summary\":\"features\","
        "\"parameters\":[{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,"
        "\"schema\":{\"type\":\"string\"}},{\"name\":\"bbox\",\"in\":\"query\","
        "\"schema\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}},\"style\":"
        "\"form\",\"explode\":false},{\"name\":\"datetime\",\"in\":\"query\",\"schema\":"
        "{\"type\":\"string\"}},{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":"
        "\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":100}}],\"responses\":"
        "{\"200\":{\"description\":\"a page of features\"}}}},"
        "\"/api/ogc/collections/{collectionId}/items/{featureId}\":{\"get\":{\"summary\":"
        "\"a feature\",\"parameters\":[{\"name\":\"collectionId\",\"in\":\"path\","
        "\"required\":true,\"schema\":{\"type\":\"string\"}},{\"name\":\"featureId\","
        "\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}}],"
        "\"responses\":{\"200\":{\"description\":\"the feature\"}}}}}}";
    int rc = web_reply_json(c->resp, 200, tl_strdup(doc));
    c->resp->ctype = "application/vnd.oai.openapi+json;version=3.0";
    return rc;
}

int web_h_ogc_conformance(struct web_call *c)
{
    struct json_object *o = json_object_new_object(), *a = json_object_new_array();
    json_object_array_add(
        a, json_object_new_string("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    json_object_array_add(a, json_object_new_string(
                                 "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    json_object_object_add(o, "conformsTo", a);
    return reply(c, o);
}

/* incidents 0: the reports collection, 1: the incidents one. */
static struct json_object *collection(const char *base, int incidents)
{
    struct json_object *o = json_object_new_object(), *l = json_object_new_array();
    const char *id = incidents ? "incidents" : "reports";
    json_object_object_add(o, "id", json_object_new_string(id));
    json_object_object_add(o, "title",
                           json_object_new_string(incidents ? "Incidents" : "Confirmed reports"));
    json_object_object_add(
        o, "description",
        json_object_new_string(incidents ? "Incidents at their centroid, in id order, with "
                                           "their corroboration and time span; merged ones "
                                           "left out; rounded for roles that see rounded "
                                           "points."
                                         : "Decided reports with a point, in decision "
                                           "order; rounded for roles that see rounded "
                                           "points."));
    json_object_object_add(o, "itemType", json_object_new_string("feature"));
    struct json_object *crs = json_object_new_array();
    json_object_array_add(crs, json_object_new_string(CRS84));
    json_object_object_add(o, "crs", crs);
    struct json_object *ext = json_object_new_object(), *sp = json_object_new_object();
    struct json_object *bb = json_object_new_array(), *b = json_object_new_array();
    const double world[4] = {-180, -90, 180, 90};
    for (int i = 0; i < 4; i++)
        json_object_array_add(b, json_object_new_double(world[i]));
    json_object_array_add(bb, b);
    json_object_object_add(sp, "bbox", bb);
    json_object_object_add(sp, "crs", json_object_new_string(CRS84));
    json_object_object_add(ext, "spatial", sp);
    json_object_object_add(o, "extent", ext);
    char self[64], items[64];
    snprintf(self, sizeof(self), "/api/ogc/collections/%s", id);
    snprintf(items, sizeof(items), "/api/ogc/collections/%s/items", id);
    json_object_array_add(l, ogc_link(base, self, "self", "application/json", "this collection"));
    json_object_array_add(l, ogc_link(base, items, "items", "application/geo+json",
                                      incidents ? "the incidents" : "the reports"));
    json_object_object_add(o, "links", l);
    return o;
}

/* 1: the path's collection is reports, 2: incidents; 0: none we have (a 404 is
 * answered). */
static int known(struct web_call *c)
{
    if (c->path->n > 3 && strcmp(c->path->segs[3], "reports") == 0)
        return 1;
    if (c->path->n > 3 && strcmp(c->path->segs[3], "incidents") == 0)
        return 2;
    web_reply_err(c->resp, 404, "not_found", "the collection is 'reports' or 'incidents'");
    return 0;
}

int web_h_ogc_collections(struct web_call *c)
{
    char base[300];
    base_url(c, base, sizeof(base));
    struct json_object *o = json_object_new_object(), *l = json_object_new_array();
    struct json_object *cs = json_object_new_array();
    json_object_array_add(
        l, ogc_link(base, "/api/ogc/collections", "self", "application/json", "the collections"));
    json_object_object_add(o, "links", l);
    json_object_array_add(cs, collection(base, 0));
    json_object_array_add(cs, collection(base, 1));
    json_object_object_add(o, "collections", cs);
    return reply(c, o);
}

int web_h_ogc_collection(struct web_call *c)
{
    char base[300];
    int k = known(c);
    if (!k)
        return TL_OK;
    base_url(c, base, sizeof(base));
    return reply(c, collection(base, k == 2));
}

/* datetime (an instant, or start/end with ".." or "" for an open end) into f. */
static int datetime(const char *v, struct store_export_filter *f, char *keep, size_t keepsz)
{
    const char *slash = strchr(v, '/');
    if (!slash) {
        if (!web_iso_valid(v))
            return TL_EINVAL;
        f->since = f->until = v;
        return TL_OK;
    }
    size_t n = (size_t)(slash - v);
    if (n >= keepsz)
        return TL_EINVAL;
    memcpy(keep, v, n);
    keep[n] = 0;
    const char *end = slash + 1;
    if (n && strcmp(keep, "..") != 0) {
        if (!web_iso_valid(keep))
            return TL_EINVAL;
        f->since = keep;
    }
    if (*end && strcmp(end, "..") != 0) {
        if (!web_iso_valid(end))
            return TL_EINVAL;
        f->until = end;
    }
    return TL_OK;
}

struct items_tail {
    char base[300];
    char self_q[600]; /* the query of this page, without after */
};

static int items_tail(struct web_stream *st, void *cls, struct tl_buf *b)
{
    const struct items_tail *t = cls;
    int more = 0;
    const char *last = web_stream_last(st, &more);
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    int e = tl_buf_printf(b,
                          "\n],\"numberReturned\":%lld,\"timeStamp\":\"%s\",\"links\":["
                          "{\"href\":\"%s/api/ogc/collections/reports/items%s%s\",\"rel\":\"self\","
                          "\"type\":\"application/geo+json\"}",
                          web_stream_count(st), ts, t->base, t->self_q[0] ? "?" : "", t->self_q);
    if (!e && more)
        e = tl_buf_printf(b,
                          ",{\"href\":\"%s/api/ogc/collections/reports/items?%s%safter=%s\","
                          "\"rel\":\"next\",\"type\":\"application/geo+json\"}",
                          t->base, t->self_q, t->self_q[0] ? "&" : "", last);
    return e ? e : tl_buf_printf(b, "]}\n");
}

/* The query values are re-encoded for the links: only what the checks let through
 * (ISO times, numbers, bbox commas) and the collection's own words. */
static int q_add(char *out, size_t n, const char *key, const char *val)
{
    if (!val)
        return 0;
    size_t used = strlen(out);
    int w = snprintf(out + used, n - used, "%s%s=", used ? "&" : "", key);
    if (w < 0 || (size_t)w >= n - used)
        return -1;
    used += (size_t)w;
    static const char hex[] = "0123456789ABCDEF";
    for (const char *p = val; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        int safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == ',';
        if (used + 4 >= n)
            return -1;
        if (safe) {
            out[used++] = (char)ch;
        } else {
            out[used++] = '%';
            out[used++] = hex[ch >> 4];
            out[used++] = hex[ch & 15];
        }
    }
    out[used] = 0;
    return 0;
}

/* The incidents collection's page (or its one feature when id > 0): built whole, at
 * most OGC_LIMIT_MAX features; the next link carries the last incident's id. */
static int incidents_items(struct web_call *c, long long id)
{
    struct store_export_filter f;
    struct tl_errinfo ei;
    struct json_object *o = NULL, *feats = NULL, *v = NULL;
    char msg[WEB_MSG], keep[64], base[300], self_q[600] = "", lb[24], *json = NULL;
    const char *q;
    long lim = OGC_LIMIT_DEFAULT;
    long long after = 0;
    if (web_export_query(c, &f, 0, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    if ((q = web_query_get(c->q, "f")) && strcmp(q, "json") != 0 && strcmp(q, "geojson") != 0)
        return web_reply_err(c->resp, 400, "bad_request", "f is json (GeoJSON)");
    if (id > 0) {
        f.id = id;
        lim = 1;
    } else {
        if ((q = web_query_get(c->q, "datetime")) && datetime(q, &f, keep, sizeof(keep)))
            return web_reply_err(c->resp, 400, "bad_request",
                                 "datetime is an ISO 8601 instant or interval (start/end, '..' "
                                 "open)");
        if ((q = web_query_get(c->q, "limit")) && web_long_parse(q, 1, 1000000000L, &lim))
            return web_reply_err(c->resp, 400, "bad_request", "limit is a positive integer");
        if (lim > OGC_LIMIT_MAX)
            lim = OGC_LIMIT_MAX;
        long a = 0;
        if ((q = web_query_get(c->q, "after")) && web_long_parse(q, 0, 0x7fffffffL, &a))
            return web_reply_err(c->resp, 400, "bad_request", "after is an incident id");
        after = a;
        f.has_after = q != NULL;
        f.after_id = after;
    }
    f.limit = lim;
    base_url(c, base, sizeof(base));
    snprintf(lb, sizeof(lb), "%ld", lim);
    int bad = q_add(self_q, sizeof(self_q), "limit", lb);
    static const char *const keys[] = {"bbox", "datetime", "precision", "f"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !bad; i++)
        bad = q_add(self_q, sizeof(self_q), keys[i], web_query_get(c->q, keys[i]));
    if (bad)
        return web_reply_err(c->resp, 400, "bad_request", "the query is too long");
    tl_errinfo_clear(&ei);
    int rc = store_export_incidents(c->s, &f, c->who.account,
                                    "GET /api/ogc/collections/incidents/items", &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    o = json_tokener_parse(json);
    free(json);
    if (!o || !json_object_object_get_ex(o, "features", &feats)) {
        json_object_put(o);
        return TL_ENOMEM;
    }
    if (id > 0) {
        struct json_object *one = json_object_array_get_idx(feats, 0);
        if (!one) {
            json_object_put(o);
            return web_reply_err(c->resp, 404, "not_found", "no such incident in this collection");
        }
        json_object_get(one);
        json_object_put(o);
        int r = reply(c, one);
        c->resp->ctype = "application/geo+json";
        return r;
    }
    int more = json_object_object_get_ex(o, "more", &v) && json_object_get_boolean(v);
    long long n = json_object_object_get_ex(o, "count", &v) ? json_object_get_int64(v) : 0;
    long long last = json_object_object_get_ex(o, "last", &v) && v ? json_object_get_int64(v) : 0;
    struct json_object *out = json_object_new_object(), *l = json_object_new_array();
    json_object_object_add(out, "type", json_object_new_string("FeatureCollection"));
    json_object_object_add(out, "features", json_object_get(feats));
    json_object_put(o);
    json_object_object_add(out, "numberReturned", json_object_new_int64(n));
    char ts[32], path[700];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_object_add(out, "timeStamp", json_object_new_string(ts));
    snprintf(path, sizeof(path), "/api/ogc/collections/incidents/items?%s", self_q);
    json_object_array_add(l, ogc_link(base, path, "self", "application/geo+json", NULL));
    if (more) {
        snprintf(path, sizeof(path), "/api/ogc/collections/incidents/items?%s&after=%lld", self_q,
                 last);
        json_object_array_add(l, ogc_link(base, path, "next", "application/geo+json", NULL));
    }
    json_object_object_add(out, "links", l);
    int r = reply(c, out);
    c->resp->ctype = "application/geo+json";
    return r;
}

int web_h_ogc_items(struct web_call *c)
{
    struct store_export_filter f;
    struct web_export_fmt fmt = {.format = WEB_EXPORT_GEOJSON};
    char msg[WEB_MSG], keep[64];
    int k = known(c);
    if (!k)
        return TL_OK;
    if (k == 2)
        return incidents_items(c, 0);
    if (web_export_query(c, &f, 1, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    const char *v = web_query_get(c->q, "f");
    if (v && strcmp(v, "json") != 0 && strcmp(v, "geojson") != 0)
        return web_reply_err(c->resp, 400, "bad_request", "f is json (GeoJSON)");
    if ((v = web_query_get(c->q, "datetime")) && datetime(v, &f, keep, sizeof(keep)))
        return web_reply_err(c->resp, 400, "bad_request",
                             "datetime is an ISO 8601 instant or interval (start/end, '..' open)");
    long lim = OGC_LIMIT_DEFAULT;
    if ((v = web_query_get(c->q, "limit")) && web_long_parse(v, 1, 1000000000L, &lim))
        return web_reply_err(c->resp, 400, "bad_request", "limit is a positive integer");
    if (lim > OGC_LIMIT_MAX) /* the standard: a larger limit is served at the server's most */
        lim = OGC_LIMIT_MAX;
    f.limit = lim + 1;
    fmt.with_text = f.with_text;
    struct items_tail *t = calloc(1, sizeof(*t));
    if (!t)
        return TL_ENOMEM;
    base_url(c, t->base, sizeof(t->base));
    char lb[24];
    snprintf(lb, sizeof(lb), "%ld", lim);
    static const char *const keys[] = {"bbox",      "datetime", "status", "category",
                                       "precision", "text",     "f"};
    int bad = q_add(t->self_q, sizeof(t->self_q), "limit", lb);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !bad; i++)
        bad = q_add(t->self_q, sizeof(t->self_q), keys[i], web_query_get(c->q, keys[i]));
    if (bad) {
        free(t);
        return web_reply_err(c->resp, 400, "bad_request", "the query is too long");
    }
    c->resp->ctype = "application/geo+json";
    return web_stream_start(c, &f, &fmt, lim, "ogc", items_tail, t);
}

int web_h_ogc_item(struct web_call *c)
{
    struct store_export_filter f;
    struct web_export_fmt fmt = {.format = WEB_EXPORT_GEOJSON};
    struct store_export *x = NULL;
    struct store_export_row row;
    struct tl_errinfo ei;
    struct tl_buf b;
    char msg[WEB_MSG];
    long id;
    int have = 0, rc, k = known(c);
    if (!k)
        return TL_OK;
    if (web_long_parse(c->path->n > 5 ? c->path->segs[5] : "", 1, 0x7fffffffL, &id))
        return web_reply_err(c->resp, 404, "not_found", "a feature is named by its id");
    if (k == 2)
        return incidents_items(c, id);
    if (web_export_query(c, &f, 0, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    f.id = id;
    f.limit = 1;
    fmt.with_text = f.with_text;
    tl_errinfo_clear(&ei);
    tl_buf_init(&b, 0);
    if ((rc = store_export_open(c->s, &f, &x, &ei)) ||
        (rc = store_export_next(x, &row, &have, &ei)))
        goto out;
    if (!have) {
        rc = tl_errf(&ei, TL_ENOTFOUND, "no such report in this collection");
        goto out;
    }
    if ((rc = web_export_row(&fmt, &row, &b)))
        goto out;
    rc = store_export_finish(x, c->who.account, "GET /api/ogc/collections/reports/items", "ogc",
                             &ei);
out:
    store_export_free(x);
    if (rc) {
        tl_buf_release(&b);
        return web_reply_store_err(c->resp, rc, &ei);
    }
    size_t len = 0;
    char *s = (char *)tl_buf_steal(&b, &len);
    int r = web_reply_json(c->resp, 200, s);
    c->resp->ctype = "application/geo+json";
    return r;
}
