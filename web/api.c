/* web/api.c - the routes of the JSON API (web/openapi.yaml): the table of method,
 * path, roles, body fields and query keys, and one handler per route. By the time a
 * handler runs, request.c has authenticated the caller, checked the role, the CSRF
 * header of a cookie session, the rate limit, the query keys and the body. */
#include "web_int.h"
#include "web_export.h"
#include "web_mod.h"
#include "storage/store_web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

unsigned web_role_bit(const char *role)
{
    if (!role)
        return 0;
    if (strcmp(role, "analyst") == 0)
        return WR_ANALYST;
    if (strcmp(role, "moderator") == 0)
        return WR_MODERATOR;
    if (strcmp(role, "exporter") == 0)
        return WR_EXPORTER;
    if (strcmp(role, "admin") == 0)
        return WR_ADMIN;
    return 0;
}

/* ---- helpers ---- */

static const char *body_str(const struct web_call *c, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(c->body, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static long long body_int(const struct web_call *c, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(c->body, key, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return json_object_get_int64(v);
}

/* A storage call's answer: its JSON with status, or its error. */
static int answer(struct web_call *c, int rc, const struct tl_errinfo *ei, unsigned status,
                  char *json)
{
    if (rc) {
        free(json);
        return web_reply_store_err(c->resp, rc, ei);
    }
    return web_reply_json(c->resp, status, json);
}

/* {"account","role"[,"csrf"][,"queues"]}; queues_csv NULL: none given. */
static char *who_json(const struct web_call *c, int with_csrf, const char *queues_csv)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "account", json_object_new_string(c->who_p.account));
    json_object_object_add(o, "role", json_object_new_string(c->who_p.role));
    if (with_csrf)
        json_object_object_add(o, "csrf", json_object_new_string(c->who_p.csrf));
    if (queues_csv) {
        struct json_object *a = json_object_new_array();
        char *dup = tl_strdup(queues_csv), *save = NULL;
        for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t && a;
             t = strtok_r(NULL, ",", &save))
            json_object_array_add(a, json_object_new_string(t));
        free(dup);
        json_object_object_add(o, "queues", a);
    }
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static const char *seg(const struct web_call *c, size_t i)
{
    return i < c->path->n ? c->path->segs[i] : "";
}

/* A report named in a path: a positive id or a public ref of at most 32 safe bytes. */
static int report_arg(struct web_call *c, const char **out)
{
    const char *s = seg(c, 2);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= 'a' && s[i] <= 'z') || s[i] == '-' || s[i] == '_'))
            n = 0;
    if (n == 0 || n > 32) {
        web_reply_err(c->resp, 400, "bad_request", "a report is named by its id or its ref");
        return TL_EINVAL;
    }
    *out = s;
    return TL_OK;
}

/* ---- session and identity ---- */

static int h_login(struct web_call *c)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int rc = web_login(c, body_str(c, "token"), &ei);
    if (rc == TL_EAUTH)
        return web_reply_err(c->resp, 401, "unauthorized", "unknown token");
    return answer(c, rc, &ei, 200, rc ? NULL : who_json(c, 1, NULL));
}

static int h_logout(struct web_call *c)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (c->by_session) {
        int rc = store_session_delete(c->s, c->sid_sha, &ei);
        if (rc)
            return web_reply_store_err(c->resp, rc, &ei);
        /* at once for this server (the others read migration 0015's event) */
        web_creds_flush(c->creds);
        c->resp->set_cookie =
            tl_strdup("tl_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    }
    return web_reply_json(c->resp, 200, tl_strdup("{\"ok\":true}"));
}

static int h_me(struct web_call *c)
{
    struct tl_errinfo ei;
    char *csv = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_web_queues_for(c->s, c->who.account, &csv, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    char *json = who_json(c, c->by_session, csv);
    free(csv);
    return web_reply_json(c->resp, 200, json);
}

static int h_config(struct web_call *c)
{
    const struct cfg *cfg = c->cfg;
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "tile_url", json_object_new_string(cfg->tile_url));
    json_object_object_add(o, "lang_default", json_object_new_string("uk"));
    json_object_object_add(o, "lease_seconds", json_object_new_int64(cfg->lease_seconds));
    json_object_object_add(o, "points_rounded",
                           json_object_new_boolean(c->who.round_decimals >= 0));
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return web_reply_json(c->resp, 200, s);
}

static int h_categories(struct web_call *c)
{
    struct tl_errinfo ei;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_web_categories(c->s, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

/* ---- reports ---- */

static int h_list(struct web_call *c)
{
    struct store_web_filter f;
    struct tl_errinfo ei;
    char msg[WEB_MSG], *json = NULL;
    tl_errinfo_clear(&ei);
    if (web_list_filter(c->q, &f, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    int rc = store_web_reports(c->rs, &c->who, &f, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_report(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = store_web_report(c->s, &c->who, id, 1, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

/* The reporter's history, which a claimed report leaves out (the console asks when the
 * analyst opens it). */
static int h_report_reporter(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = store_web_report_reporter(c->rs, &c->who, id, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

/* {"report": <full report>} or {"report": null}. */
static int wrap_report(struct web_call *c, unsigned status, const char *name, char *json)
{
    char *s = tl_asprintf("{\"%s\":%s}", name, json ? json : "null");
    free(json);
    return web_reply_json(c->resp, status, s);
}

static int h_claim(struct web_call *c)
{
    struct tl_errinfo ei;
    long long id = 0;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_web_claim(c->s, &c->who, body_str(c, "queue"), c->cfg->lease_seconds, &id, &json,
                             &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return wrap_report(c, 200, "report", json);
}

/* The report's lease calls with the configured lease: renew, reopen. */
static int with_lease(struct web_call *c,
                      int (*fn)(struct store *, const struct store_who *, const char *, long,
                                char **, struct tl_errinfo *))
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = fn(c->s, &c->who, id, c->cfg->lease_seconds, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_renew(struct web_call *c)
{
    return with_lease(c, store_web_renew);
}

static int h_release(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = store_web_release(c->s, &c->who, id, &ei);
    return answer(c, rc, &ei, 200, rc ? NULL : tl_strdup("{\"ok\":true}"));
}

static int body_bool(const struct web_call *c, const char *key)
{
    struct json_object *v = NULL;
    return json_object_object_get_ex(c->body, key, &v) &&
           json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Decide; with "next": true, also claim the caller's next report (one round trip). */
static int h_decide(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    long long next_id = 0;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    struct store_decision d = {.id_or_ref = id,
                               .analyst = c->who.account,
                               .decision = body_str(c, "status"),
                               .note = body_str(c, "note"),
                               .duplicate_of = body_int(c, "duplicate_of"),
                               .override = body_bool(c, "override"),
                               .minimal = c->prefer_minimal};
    if (strcmp(d.decision, "duplicate") == 0 && d.duplicate_of <= 0)
        return web_reply_err(c->resp, 400, "bad_request",
                             "a duplicate names the report it duplicates (duplicate_of)");
    int rc;
    if (body_bool(c, "next")) {
        rc = store_web_decide_next(c->s, &c->who, &d, body_str(c, "queue"), c->cfg->lease_seconds,
                                   &next_id, &json, &ei);
        return answer(c, rc, &ei, 200, json);
    }
    rc = store_web_decide(c->s, &c->who, &d, &json, &ei);
    if (rc == TL_OK && d.minimal)
        c->resp->applied = "return=minimal";
    return answer(c, rc, &ei, 200, json);
}

static int h_place(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    long long k = body_int(c, "candidate");
    if (k < 0 || k > 255)
        return web_reply_err(c->resp, 400, "bad_request",
                             "candidate is an index into place_candidates (0..255)");
    int rc = store_web_place_pick(c->s, &c->who, id, (long)k, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_reopen(struct web_call *c)
{
    return with_lease(c, store_web_reopen);
}

static int h_followup(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = store_web_followup(c->s, &c->who, id, body_str(c, "question"), &json, &ei);
    return answer(c, rc, &ei, 201, json);
}

static int h_media(struct web_call *c)
{
    struct tl_errinfo ei;
    long id;
    char *mime = NULL;
    unsigned char *bytes = NULL;
    size_t len = 0;
    tl_errinfo_clear(&ei);
    if (web_long_parse(seg(c, 2), 1, 0x7fffffffL, &id))
        return web_reply_err(c->resp, 400, "bad_request", "a media id is a positive integer");
    int rc = store_web_media(c->s, &c->who, id, &mime, &bytes, &len, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    /* Only the types media/ writes reach a browser as themselves; anything else is a
     * download. */
    static const char *const shown[] = {"image/jpeg", "image/png", "image/webp", "image/gif",
                                        "video/mp4"};
    const char *ct = "application/octet-stream";
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        if (strcmp(mime, shown[i]) == 0)
            ct = shown[i];
    free(mime);
    c->resp->status = 200;
    c->resp->ctype = ct;
    c->resp->cache = "no-store, private";
    c->resp->accept_ranges = 1;
    /* A <video> asks for ranges (seeking, and Safari will not play without them). */
    size_t first = 0, last = 0;
    switch (web_range_parse(c->range, len, &first, &last)) {
    case WEB_RANGE_OK:
        snprintf(c->resp->content_range, sizeof(c->resp->content_range), "bytes %zu-%zu/%zu", first,
                 last, len);
        memmove(bytes, bytes + first, last - first + 1);
        len = last - first + 1;
        c->resp->status = 206;
        break;
    case WEB_RANGE_UNSATISFIABLE:
        free(bytes);
        snprintf(c->resp->content_range, sizeof(c->resp->content_range), "bytes */%zu", len);
        return web_reply_err(c->resp, 416, "range_not_satisfiable",
                             "the range starts past the end of the file");
    default:
        break;
    }
    c->resp->body = (char *)bytes;
    c->resp->len = len;
    return TL_OK;
}

static int h_events(struct web_call *c)
{
    return web_events_open(c);
}

/* ---- moderation ---- */

static int ban(struct web_call *c, int on)
{
    struct tl_errinfo ei;
    char *json = NULL;
    const char *p = seg(c, 2);
    size_t n = strlen(p);
    tl_errinfo_clear(&ei);
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            n = 0;
    if (n < 12 || n > 64)
        return web_reply_err(c->resp, 400, "bad_request",
                             "a reporter is named by 12 to 64 hex digits of the pseudonym");
    int rc =
        store_web_ban(c->s, c->who.account, p, on, on ? body_str(c, "reason") : NULL, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_ban(struct web_call *c)
{
    return ban(c, 1);
}

static int h_unban(struct web_call *c)
{
    return ban(c, 0);
}

/* ---- exporters ---- */

static int h_export(struct web_call *c)
{
    struct store_web_filter f;
    struct tl_errinfo ei;
    char msg[WEB_MSG], *json = NULL;
    tl_errinfo_clear(&ei);
    if (web_export_filter(c->q, &f, msg, sizeof(msg)))
        return web_reply_err(c->resp, 400, "bad_request", "%s", msg);
    int rc = store_web_export(c->s, &c->who, &f, &json, &ei);
    if (rc == TL_OK && web_reply_json(c->resp, 200, json) == TL_OK) {
        c->resp->ctype = "application/geo+json";
        return TL_OK;
    }
    return rc ? web_reply_store_err(c->resp, rc, &ei) : TL_ENOMEM;
}

/* ---- administration ---- */

static int h_audit(struct web_call *c)
{
    struct tl_errinfo ei;
    long limit = 100, before = 0;
    char *json = NULL;
    const char *v;
    tl_errinfo_clear(&ei);
    if ((v = web_query_get(c->q, "limit")) && web_long_parse(v, 1, 1000, &limit))
        return web_reply_err(c->resp, 400, "bad_request", "limit must be an integer in 1..1000");
    if ((v = web_query_get(c->q, "before")) && web_long_parse(v, 1, 0x7fffffffL, &before))
        return web_reply_err(c->resp, 400, "bad_request", "before must be an audit id");
    int rc = store_web_audit(c->s, web_query_get(c->q, "object"), web_query_get(c->q, "actor"),
                             before, limit, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

/* ---- incidents ---- */

/* The incident id in path segment 2; on error the 400 is answered. */
static int incident_arg(struct web_call *c, long long *id)
{
    long v = 0;
    if (web_long_parse(seg(c, 2), 1, 0x7fffffffffffL, &v)) {
        web_reply_err(c->resp, 400, "bad_request", "an incident is named by its id");
        return TL_EINVAL;
    }
    *id = v;
    return TL_OK;
}

static int h_incidents(struct web_call *c)
{
    struct tl_errinfo ei;
    long limit = 50, min = 0;
    char *json = NULL;
    const char *v;
    tl_errinfo_clear(&ei);
    if ((v = web_query_get(c->q, "limit")) && web_long_parse(v, 1, 500, &limit))
        return web_reply_err(c->resp, 400, "bad_request", "limit must be an integer in 1..500");
    if ((v = web_query_get(c->q, "min_corroboration")) && web_long_parse(v, 0, 100000, &min))
        return web_reply_err(c->resp, 400, "bad_request",
                             "min_corroboration must be an integer in 0..100000");
    int rc = store_web_incidents(c->s, &c->who, min, limit, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_incident(struct web_call *c)
{
    struct tl_errinfo ei;
    long long id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (incident_arg(c, &id))
        return TL_OK;
    int rc = store_web_incident(c->s, &c->who, id, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_incident_merge(struct web_call *c)
{
    struct tl_errinfo ei;
    long long id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (incident_arg(c, &id))
        return TL_OK;
    long long other = body_int(c, "other");
    if (other <= 0)
        return web_reply_err(c->resp, 400, "bad_request", "other is the id of an incident");
    int rc = store_web_incident_merge(c->s, &c->who, id, other, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

static int h_split(struct web_call *c)
{
    struct tl_errinfo ei;
    const char *id;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (report_arg(c, &id))
        return TL_OK;
    int rc = store_web_incident_split(c->s, &c->who, id, &json, &ei);
    return answer(c, rc, &ei, 201, json);
}

static int h_accounts(struct web_call *c)
{
    struct tl_errinfo ei;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_account_list(c->s, &json, &ei);
    return answer(c, rc, &ei, 200, json);
}

int web_account_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
              s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static int h_account_add(struct web_call *c)
{
    struct tl_errinfo ei;
    char token[64], sha[65];
    const char *name = body_str(c, "name"), *role = body_str(c, "role");
    tl_errinfo_clear(&ei);
    if (!web_account_name_ok(name))
        return web_reply_err(c->resp, 400, "bad_request",
                             "a name is 1 to 32 of a-z, 0-9, '.', '_' and '-'");
    if (!store_role_known(role))
        return web_reply_err(c->resp, 400, "bad_request",
                             "role must be analyst, moderator, exporter or admin");
    if (web_token_new(token, sha))
        return TL_EIO;
    int rc = store_account_add(c->s, c->who.account, name, role, sha, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    /* The token is shown this once; only its hash is kept. */
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "role", json_object_new_string(role));
    json_object_object_add(o, "token", json_object_new_string(token));
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    memset(token, 0, sizeof(token));
    return web_reply_json(c->resp, 201, s);
}

static int h_account_disable(struct web_call *c)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (!web_account_name_ok(seg(c, 2)))
        return web_reply_err(c->resp, 400, "bad_request", "no such account name");
    int rc = store_account_disable(c->s, c->who.account, seg(c, 2), &ei);
    if (rc == TL_OK)
        web_creds_flush(c->creds); /* as for logout */
    return answer(c, rc, &ei, 200, rc ? NULL : tl_strdup("{\"ok\":true}"));
}

/* ---- the table ---- */

#define ALL (WR_ANALYST | WR_MODERATOR | WR_EXPORTER | WR_ADMIN)
#define AN WR_ANALYST
#define MO WR_MODERATOR
#define EX WR_EXPORTER
#define AD WR_ADMIN

static const char *const p_list[] = {"status",    "category",           "since", "until", "bbox",
                                     "has_photo", "min_corroborations", "limit", "after", NULL};
static const char *const p_export[] = {"since", "until", "bbox", "limit", NULL};
static const char *const p_audit[] = {"object", "actor", "before", "limit", NULL};
static const char *const p_incidents[] = {"min_corroboration", "limit", NULL};

static const struct web_field f_none[] = {{NULL, WF_STRING, 0, 0}};
static const struct web_field f_login[] = {{"token", WF_STRING, 1, 256}, {NULL, WF_STRING, 0, 0}};
static const struct web_field f_claim[] = {{"queue", WF_STRING, 0, 32}, {NULL, WF_STRING, 0, 0}};
static const struct web_field f_decide[] = {
    {"status", WF_STRING, 1, 16}, {"note", WF_STRING, 0, 4000}, {"duplicate_of", WF_INT, 0, 0},
    {"override", WF_BOOL, 0, 0},  {"next", WF_BOOL, 0, 0},      {"queue", WF_STRING, 0, 32},
    {NULL, WF_STRING, 0, 0}};
static const struct web_field f_followup[] = {{"question", WF_STRING, 1, 8000},
                                              {NULL, WF_STRING, 0, 0}};
static const struct web_field f_place[] = {{"candidate", WF_INT, 1, 0}, {NULL, WF_STRING, 0, 0}};
static const struct web_field f_merge[] = {{"other", WF_INT, 1, 0}, {NULL, WF_STRING, 0, 0}};
static const struct web_field f_ban[] = {{"reason", WF_STRING, 0, 500}, {NULL, WF_STRING, 0, 0}};
static const struct web_field f_account[] = {
    {"name", WF_STRING, 1, 32}, {"role", WF_STRING, 1, 16}, {NULL, WF_STRING, 0, 0}};

static const struct web_route routes[] = {
    {"POST", "api/login", 0, h_login, f_login, NULL},
    {"POST", "api/logout", ALL, h_logout, f_none, NULL},
    {"GET", "api/me", ALL, h_me, f_none, NULL},
    {"GET", "api/config", ALL, h_config, f_none, NULL},
    {"GET", "api/categories", ALL, h_categories, f_none, NULL},
    {"GET", "api/reports", AN | MO, h_list, f_none, p_list},
    {"GET", "api/reports/*", AN | MO, h_report, f_none, NULL},
    {"GET", "api/reports/*/reporter", AN | MO, h_report_reporter, f_none, NULL},
    {"POST", "api/queue/claim", AN, h_claim, f_claim, NULL},
    {"POST", "api/reports/*/renew", AN, h_renew, f_none, NULL},
    {"POST", "api/reports/*/release", AN, h_release, f_none, NULL},
    {"POST", "api/reports/*/decide", AN, h_decide, f_decide, NULL},
    {"POST", "api/reports/*/reopen", AN, h_reopen, f_none, NULL},
    {"POST", "api/reports/*/followup", AN, h_followup, f_followup, NULL},
    {"POST", "api/reports/*/place", AN, h_place, f_place, NULL},
    {"POST", "api/reports/*/split", AN, h_split, f_none, NULL},
    {"GET", "api/incidents", AN | MO, h_incidents, f_none, p_incidents},
    {"GET", "api/incidents/*", AN | MO, h_incident, f_none, NULL},
    {"POST", "api/incidents/*/merge", AN, h_incident_merge, f_merge, NULL},
    {"GET", "api/media/*", AN | MO, h_media, f_none, NULL},
    {"GET", "api/events", AN | MO, h_events, f_none, NULL},
    {"POST", "api/reporters/*/ban", MO, h_ban, f_ban, NULL},
    {"POST", "api/reporters/*/unban", MO, h_unban, f_none, NULL},
    {"GET", "api/mod/held", MO, web_h_mod_held, f_none, web_p_mod_held},
    {"GET", "api/mod/campaigns", MO, web_h_mod_campaigns, f_none, web_p_mod_campaigns},
    {"POST", "api/mod/campaigns/*/release", MO, web_h_mod_campaign_release, f_none, NULL},
    {"POST", "api/mod/campaigns/*/reject", MO, web_h_mod_campaign_reject, f_none, NULL},
    {"POST", "api/mod/reports/*/release", MO, web_h_mod_report_release, f_none, NULL},
    {"POST", "api/mod/reports/*/reject", MO, web_h_mod_report_reject, f_none, NULL},
    {"POST", "api/mod/reporters/*/ban", MO, web_h_mod_ban, web_f_mod_ban, NULL},
    {"GET", "api/mod/rules", MO, web_h_mod_rules, f_none, NULL},
    {"POST", "api/mod/rules/reload", MO, web_h_mod_rules_reload, web_f_mod_reload, NULL},
    {"GET", "api/mod/rules/reloads/*", MO, web_h_mod_rules_reload_get, f_none, NULL},
    {"GET", "api/export.geojson", EX, h_export, f_none, p_export},
    {"GET", "api/export/*", EX, web_h_export_feed, f_none, web_p_feed},
    {"GET", "api/ogc", EX, web_h_ogc_landing, f_none, web_p_ogc},
    {"GET", "api/ogc/api", EX, web_h_ogc_api, f_none, web_p_ogc},
    {"GET", "api/ogc/conformance", EX, web_h_ogc_conformance, f_none, web_p_ogc},
    {"GET", "api/ogc/collections", EX, web_h_ogc_collections, f_none, web_p_ogc},
    {"GET", "api/ogc/collections/*", EX, web_h_ogc_collection, f_none, web_p_ogc},
    {"GET", "api/ogc/collections/*/items", EX, web_h_ogc_items, f_none, web_p_ogc_items},
    {"GET", "api/ogc/collections/*/items/*", EX, web_h_ogc_item, f_none, web_p_ogc_items},
    {"GET", "api/tiles/*/*/*", AN | MO | EX, web_h_tile, f_none, NULL},
    {"POST", "api/webhooks", EX, web_h_webhook_add, web_f_webhook, NULL},
    {"GET", "api/webhooks", EX, web_h_webhook_list, f_none, NULL},
    {"POST", "api/webhooks/*/disable", EX, web_h_webhook_disable, f_none, NULL},
    {"GET", "api/webhooks/deliveries", AD, web_h_webhook_deliveries, f_none,
     web_p_webhook_deliveries},
    {"GET", "api/audit", AD, h_audit, f_none, p_audit},
    {"GET", "api/accounts", AD, h_accounts, f_none, NULL},
    {"POST", "api/accounts", AD, h_account_add, f_account, NULL},
    {"POST", "api/accounts/*/disable", AD, h_account_disable, f_none, NULL},
};

static int pattern_match(const char *pattern, const struct web_path *p)
{
    size_t i = 0;
    for (const char *s = pattern; *s; i++) {
        size_t n = strcspn(s, "/");
        if (i >= p->n)
            return 0;
        if (!(n == 1 && s[0] == '*') && (strlen(p->segs[i]) != n || strncmp(s, p->segs[i], n) != 0))
            return 0;
        s += n + (s[n] == '/');
    }
    return i == p->n;
}

const struct web_route *web_route_at(size_t i)
{
    return i < sizeof(routes) / sizeof(routes[0]) ? &routes[i] : NULL;
}

const struct web_route *web_route_find(const char *method, const struct web_path *p,
                                       int *path_known, char *allow, size_t allowsz)
{
    *path_known = 0;
    if (allowsz)
        allow[0] = 0;
    const struct web_route *hit = NULL;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!pattern_match(routes[i].pattern, p))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            hit = &routes[i];
        else if (!strstr(allow, routes[i].method)) {
            size_t used = strlen(allow);
            snprintf(allow + used, allowsz - used, "%s%s", used ? ", " : "", routes[i].method);
        }
        *path_known = 1;
    }
    return hit;
}
