/* web/mod.c - the moderators' routes (role moderator, or admin): what moderation held
 * or flagged at intake (GET /api/mod/held), the flood campaigns (GET /api/mod/campaigns),
 * releasing or rejecting a campaign or one report (POST .../release, .../reject), bans
 * by pseudonym with an optional sweep of the open reports (POST
 * /api/mod/reporters/{prefix}/ban), the rules file with its hit counts and what each
 * bot process holds in force (GET /api/mod/rules), and a reload of the bots' rules
 * asked through the database (POST /api/mod/rules/reload, waiting briefly for their
 * answers; GET /api/mod/rules/reloads/{id} reads them later). Every action is audited
 * by storage. */
#include "web_mod.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "moderation/mod.h"
#include "storage/store_mod.h"
#include "common/banned.h"

static const char *const verdicts[] = {"flag",         "hold",   "drop",          "refuse",
                                       "rate_limited", "banned", "shadow_banned", NULL};

static int one_of(const char *v, const char *const *set)
{
    for (size_t i = 0; v && set[i]; i++)
        if (strcmp(v, set[i]) == 0)
            return 1;
    return 0;
}

int web_h_mod_held(struct web_call *c)
{
    struct tl_errinfo ei;
    struct store_mod_filter f = {.limit = 100};
    const char *v = web_query_get(c->q, "limit"), *cp = web_query_get(c->q, "campaign");
    long n = 0;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    f.verdict = web_query_get(c->q, "verdict");
    if (f.verdict && !one_of(f.verdict, verdicts))
        return web_reply_err(c->resp, 400, "bad_request",
                             "verdict is flag, hold, drop, refuse, rate_limited, banned or "
                             "shadow_banned");
    if (v && web_long_parse(v, 1, 500, &f.limit))
        return web_reply_err(c->resp, 400, "bad_request", "limit must be an integer in 1..500");
    if (cp && web_long_parse(cp, 1, 0x7fffffffL, &n))
        return web_reply_err(c->resp, 400, "bad_request", "campaign is a campaign's id");
    f.campaign = n;
    int rc = store_mod_held(c->s, &f, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

int web_h_mod_campaigns(struct web_call *c)
{
    static const char *const statuses[] = {"held", "released", "rejected", NULL};
    struct tl_errinfo ei;
    const char *st = web_query_get(c->q, "status"), *v = web_query_get(c->q, "limit");
    long limit = 100;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (st && !one_of(st, statuses))
        return web_reply_err(c->resp, 400, "bad_request", "status is held, released or rejected");
    if (v && web_long_parse(v, 1, 500, &limit))
        return web_reply_err(c->resp, 400, "bad_request", "limit must be an integer in 1..500");
    int rc = store_mod_campaigns(c->s, st, limit, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

/* /api/mod/{campaigns|reports}/{id}/{release|reject}: a report by id or public ref. */
static int resolve(struct web_call *c, const char *what, const char *action)
{
    struct tl_errinfo ei;
    const char *arg = c->path->n > 3 ? c->path->segs[3] : "";
    long id = 0;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    int rc = TL_OK;
    if (web_long_parse(arg, 1, 0x7fffffffffffL, &id) == TL_OK) {
        /* an id */
    } else if (strcmp(what, "report") == 0 && *arg) { /* a public ref */
        struct store_report *r = NULL;
        if ((rc = store_triage_get(c->s, arg, &r, &ei)) == TL_OK)
            id = (long)r->id;
        store_report_free(r);
        if (rc)
            return web_reply_store_err(c->resp, rc, &ei);
    } else {
        return web_reply_err(c->resp, 400, "bad_request", "a %s is named by its id", what);
    }
    rc = store_mod_resolve(c->s, c->who.account, what, id, action, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

int web_h_mod_campaign_release(struct web_call *c)
{
    return resolve(c, "campaign", "release");
}

int web_h_mod_campaign_reject(struct web_call *c)
{
    return resolve(c, "campaign", "reject");
}

int web_h_mod_report_release(struct web_call *c)
{
    return resolve(c, "report", "release");
}

int web_h_mod_report_reject(struct web_call *c)
{
    return resolve(c, "report", "reject");
}

int web_h_mod_ban(struct web_call *c)
{
    static const char *const modes[] = {"ban", "shadow", "unban", NULL};
    struct tl_errinfo ei;
    struct json_object *v = NULL;
    const char *mode = NULL, *reason = NULL;
    int sweep = 0;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (json_object_object_get_ex(c->body, "mode", &v))
        mode = json_object_get_string(v);
    if (json_object_object_get_ex(c->body, "reason", &v))
        reason = json_object_get_string(v);
    if (json_object_object_get_ex(c->body, "sweep", &v))
        sweep = json_object_get_boolean(v);
    if (!one_of(mode, modes))
        return web_reply_err(c->resp, 400, "bad_request", "mode is ban, shadow or unban");
    int rc = store_mod_ban(c->s, c->who.account, c->path->n > 3 ? c->path->segs[3] : "", mode,
                           reason, sweep, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

/* {"file", "error"|null, "rules":[{line, action, reason, pattern, hits}]}: the rules
 * file as the bot loads it (a broken one: error with its line and column, no rules),
 * with the hits counted at intake. */
int web_h_mod_rules(struct web_call *c)
{
    const char *path = c->cfg->moderation_rules;
    struct mod_limits lim = {(uint32_t)c->cfg->mod_match_limit, (uint32_t)c->cfg->mod_depth_limit};
    struct mod_rules *r = NULL;
    struct mod_rules_error where = {0, 0};
    struct tl_errinfo ei;
    char *hits = NULL;
    tl_errinfo_clear(&ei);
    int rc = store_mod_rule_hits(c->s, &hits, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    struct json_object *h = json_tokener_parse(hits), *o = json_object_new_object(),
                       *list = json_object_new_array(), *n = NULL;
    free(hits);
    json_object_object_add(o, "file", path && *path ? json_object_new_string(path) : NULL);
    if (path && *path && mod_rules_load(path, &lim, &r, &where, &ei) != TL_OK) {
        char *msg = tl_asprintf("%u:%u: %s", where.line, where.column, ei.msg);
        json_object_object_add(o, "error", msg ? json_object_new_string(msg) : NULL);
        free(msg);
    } else {
        json_object_object_add(o, "error", NULL);
    }
    for (size_t i = 0; r && i < mod_rules_count(r); i++) {
        struct mod_rule_info ri;
        struct json_object *x = json_object_new_object();
        mod_rule_info(r, i, &ri);
        json_object_object_add(x, "line", json_object_new_int((int)ri.line));
        json_object_object_add(x, "action",
                               json_object_new_string(mod_rule_action_name(ri.action)));
        json_object_object_add(x, "reason", json_object_new_string(ri.reason));
        json_object_object_add(x, "pattern", json_object_new_string(ri.pattern));
        json_object_object_add(
            x, "hits",
            json_object_new_int64(
                h && json_object_object_get_ex(h, ri.reason, &n) ? json_object_get_int64(n) : 0));
        json_object_array_add(list, x);
    }
    json_object_object_add(o, "rules", list);
    mod_rules_free(r);
    json_object_put(h);
    char *procs = NULL;
    if ((rc = store_mod_rules_status(c->s, &procs, &ei)) != TL_OK) {
        json_object_put(o);
        return web_reply_store_err(c->resp, rc, &ei);
    }
    struct json_object *pd = json_tokener_parse(procs), *pl = NULL;
    free(procs);
    if (pd && json_object_object_get_ex(pd, "processes", &pl))
        json_object_object_add(o, "processes", json_object_get(pl));
    json_object_put(pd);
    char *s = tl_strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    return s ? web_reply_json(c->resp, 200, s) : TL_ENOMEM;
}

/* 200 with the answers of the bot processes that answered request id, 202 while none
 * has (after waiting up to wait_ms for one). */
static int reload_reply(struct web_call *c, long long id, long wait_ms)
{
    struct tl_errinfo ei;
    char *json = NULL;
    int answered = 0, rc;
    int64_t end = tl_now_ms() + wait_ms;
    tl_errinfo_clear(&ei);
    for (;;) {
        if ((rc = store_mod_rules_reload_doc(c->s, id, &json, &answered, &ei)) != TL_OK)
            return web_reply_store_err(c->resp, rc, &ei);
        if (answered || tl_now_ms() >= end)
            break;
        free(json);
        json = NULL;
        tl_sleep_ms(100, NULL);
    }
    return web_reply_json(c->resp, answered ? 200 : 202, json);
}

/* POST /api/mod/rules/reload {"wait": seconds, 0..10, default 5}. */
int web_h_mod_rules_reload(struct web_call *c)
{
    struct tl_errinfo ei;
    struct json_object *v = NULL;
    long long id = 0;
    long wait_s = 5;
    tl_errinfo_clear(&ei);
    if (json_object_object_get_ex(c->body, "wait", &v)) {
        int64_t w = json_object_get_int64(v);
        if (w < 0 || w > 10)
            return web_reply_err(c->resp, 400, "bad_request", "wait is seconds in 0..10");
        wait_s = (long)w;
    }
    int rc = store_mod_rules_request(c->s, c->who.account, &id, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return reload_reply(c, id, wait_s * 1000);
}

/* GET /api/mod/rules/reloads/{id}: the answers so far, without waiting. */
int web_h_mod_rules_reload_get(struct web_call *c)
{
    long id = 0;
    if (web_long_parse(c->path->n > 4 ? c->path->segs[4] : "", 1, 0x7fffffffffffL, &id))
        return web_reply_err(c->resp, 400, "bad_request", "a reload request is named by its id");
    return reload_reply(c, id, 0);
}

const char *const web_p_mod_held[] = {"verdict", "campaign", "limit", NULL};
const char *const web_p_mod_campaigns[] = {"status", "limit", NULL};
const struct web_field web_f_mod_ban[] = {{"mode", WF_STRING, 1, 8},
                                          {"reason", WF_STRING, 0, 500},
                                          {"sweep", WF_BOOL, 0, 0},
                                          {NULL, WF_STRING, 0, 0}};
const struct web_field web_f_mod_reload[] = {{"wait", WF_INT, 0, 0}, {NULL, WF_STRING, 0, 0}};
