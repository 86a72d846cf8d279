/* cli/cmd_mod.c - tipline mod: the moderators' tools from a shell. What moderation held
 * or flagged at intake, the flood campaigns, releasing or rejecting them, bans by
 * pseudonym, and a rules file checked against the configuration's limits. Every action
 * is audited as cli:$USER (storage/schema/mod_resolve.sql, mod_ban.sql). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "common/util.h"
#include "moderation/mod.h"
#include "storage/store_mod.h"
#include "common/banned.h"

static const char mod_usage[] =
    "usage: tipline mod held [--verdict V] [--campaign ID] [--limit N]\n"
    "       tipline mod campaigns [--status held|released|rejected] [--limit N]\n"
    "       tipline mod release|reject campaign ID\n"
    "       tipline mod release|reject report ID\n"
    "       tipline mod ban|shadow-ban PSEUDONYM [--reason TEXT] [--sweep]\n"
    "       tipline mod unban PSEUDONYM\n"
    "       tipline mod rules [FILE]\n"
    "       tipline mod reload\n";

static const char mod_doc[] =
    "'held' lists what moderation kept from the analysts (verdicts: flag, hold, drop,\n"
    "refuse, rate_limited, banned, shadow_banned) and no moderator resolved yet.\n"
    "'release' puts a campaign's (or one report's) held reports into the queue, the\n"
    "reporters' reputations unchanged; 'reject' decides them rejected (each lowers its\n"
    "reporter's reputation by one). 'ban' tells the reporter once, at their next report,\n"
    "that reports are no longer accepted; 'shadow-ban' gives no signal; --sweep also\n"
    "takes their open reports out of the queue. PSEUDONYM: 6 or more of its first hex\n"
    "characters. 'rules' checks a rules file (default: moderation_rules) as the bot loads\n"
    "it and lists its rules with the hits counted at intake, then what each bot process\n"
    "holds in force (its last load: at start, on SIGHUP or asked by 'reload'). 'reload'\n"
    "asks every running bot, through the database, to load its rules file again and\n"
    "waits up to 5 s for their answers (exit 1 when one refused the file: the rules in\n"
    "force stay).\n";

static const char *str_of(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !v)
        return "-";
    return json_object_get_string(v);
}

/* One line per item of {list:[...]}: the keys given, then (last) a text shortened. */
static int print_list(const char *json, const char *list, const char *const *keys,
                      const char *text_key)
{
    struct json_object *o = json_tokener_parse(json), *items = NULL;
    if (!o || !json_object_object_get_ex(o, list, &items)) {
        json_object_put(o);
        fprintf(stderr, "tipline mod: unreadable answer\n");
        return 1;
    }
    for (size_t k = 0; keys[k]; k++)
        printf("%s%s", k ? "\t" : "", keys[k]);
    printf("%s%s\n", text_key ? "\t" : "", text_key ? text_key : "");
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        struct json_object *it = json_object_array_get_idx(items, i);
        for (size_t k = 0; keys[k]; k++)
            printf("%s%s", k ? "\t" : "", str_of(it, keys[k]));
        if (text_key) {
            const char *t = str_of(it, text_key);
            size_t n = strcspn(t, "\r\n\t");
            printf("\t%.*s%s", (int)(n > 60 ? 60 : n), t, n > 60 ? "..." : "");
        }
        printf("\n");
    }
    json_object_put(o);
    return 0;
}

static int print_items(const char *json, const char *const *keys, const char *text_key)
{
    return print_list(json, "items", keys, text_key);
}

/* A rules load as the bot processes recorded it ({list: [load]}). */
static const char *const load_keys[] = {"process", "ok",     "rules", "loaded_at", "at",
                                        "line",    "column", "error", NULL};

/* What each bot process holds in force. */
static void rules_status(struct cli_ctx *ctx)
{
    struct tl_errinfo ei;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    if (ctx->store && store_mod_rules_status(ctx->store, &json, &ei) == TL_OK) {
        printf("in force:\n");
        (void)print_list(json, "processes", load_keys, NULL);
    }
    free(json);
}

/* Asks the bots to reload and waits up to 5 s for an answer. */
static int rules_reload(struct cli_ctx *ctx, const char *actor, struct tl_errinfo *ei, int *code)
{
    long long id = 0;
    char *json = NULL;
    int answered = 0, rc = store_mod_rules_request(ctx->store, actor, &id, ei);
    for (int64_t end = tl_now_ms() + 5000; rc == TL_OK;) {
        free(json);
        json = NULL;
        rc = store_mod_rules_reload_doc(ctx->store, id, &json, &answered, ei);
        if (rc != TL_OK || answered || tl_now_ms() >= end)
            break;
        tl_sleep_ms(100, NULL);
    }
    if (rc == TL_OK && !answered) {
        printf("reload %lld asked; no bot answered yet\n", id);
    } else if (rc == TL_OK) {
        printf("reload %lld:\n", id);
        *code = print_list(json, "outcomes", load_keys, NULL);
        struct json_object *o = json_tokener_parse(json), *list = NULL, *ok = NULL;
        for (size_t i = 0; o && json_object_object_get_ex(o, "outcomes", &list) &&
                           i < json_object_array_length(list);
             i++)
            if (json_object_object_get_ex(json_object_array_get_idx(list, i), "ok", &ok) &&
                !json_object_get_boolean(ok))
                *code = 1;
        json_object_put(o);
    }
    free(json);
    return rc;
}

static int rules_check(struct cli_ctx *ctx, const char *path)
{
    struct mod_limits lim = {(uint32_t)ctx->cfg.mod_match_limit,
                             (uint32_t)ctx->cfg.mod_depth_limit};
    struct mod_rules *r = NULL;
    struct mod_rules_error where = {0, 0};
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (!path || !*path) {
        fprintf(stderr, "tipline mod rules: no file given and moderation_rules is not set\n");
        return 2;
    }
    if (mod_rules_load(path, &lim, &r, &where, &ei) != TL_OK) {
        fprintf(stderr, "%s:%u:%u: %s\n", path, where.line, where.column, ei.msg);
        rules_status(ctx);
        return 1;
    }
    char *hits = NULL;
    struct json_object *h = NULL;
    if (ctx->store && store_mod_rule_hits(ctx->store, &hits, &ei) == TL_OK)
        h = json_tokener_parse(hits);
    printf("LINE\tACTION\tREASON\tHITS\tPATTERN\n");
    for (size_t i = 0; i < mod_rules_count(r); i++) {
        struct mod_rule_info ri;
        struct json_object *n = NULL;
        mod_rule_info(r, i, &ri);
        printf("%u\t%s\t%s\t%lld\t%s\n", ri.line, mod_rule_action_name(ri.action), ri.reason,
               h && json_object_object_get_ex(h, ri.reason, &n)
                   ? (long long)json_object_get_int64(n)
                   : 0LL,
               ri.pattern);
    }
    printf("%s: %zu rules, ok\n", path, mod_rules_count(r));
    rules_status(ctx);
    json_object_put(h);
    free(hits);
    mod_rules_free(r);
    return 0;
}

int cmd_mod(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *verdict = NULL, *status = NULL, *reason = NULL;
    long long campaign = 0, limit = 100;
    int sweep = 0;
    const struct cli_opt opts[] = {
        CLI_STRING("verdict", "V", &verdict, "held: only this verdict"),
        CLI_INT("campaign", "ID", &campaign, 1, 1LL << 62, "held: only this campaign's reports"),
        CLI_STRING("status", "S", &status, "campaigns: held, released or rejected"),
        CLI_INT("limit", "N", &limit, 1, 500, "held, campaigns: at most N (100)"),
        CLI_STRING("reason", "TEXT", &reason, "ban, shadow-ban: why (kept, audited)"),
        CLI_FLAG("sweep", &sweep, 1, "ban, shadow-ban: hold the reporter's open reports too"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "mod",
                                  .usage = mod_usage,
                                  .doc = mod_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 3};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *sub = argv[1], *a1 = argc > 2 ? argv[2] : NULL, *a2 = argc > 3 ? argv[3] : NULL;
    size_t npos = (size_t)argc - 2;
    char *actor = cli_actor();
    if (!actor)
        return 1;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int code = 0;
    char *json = NULL;
    rc = TL_OK;
    if (strcmp(sub, "held") == 0 && npos == 0) {
        struct store_mod_filter f = {verdict, campaign, (long)limit};
        static const char *const keys[] = {"ref",         "reporter", "verdict", "reasons",
                                           "campaign_id", "at",       NULL};
        if ((rc = store_mod_held(ctx->store, &f, &json, &ei)) == TL_OK)
            code = print_items(json, keys, "text");
    } else if (strcmp(sub, "campaigns") == 0 && npos == 0) {
        static const char *const keys[] = {"id",        "status",  "kind",       "reports",
                                           "reporters", "last_at", "decided_by", NULL};
        if ((rc = store_mod_campaigns(ctx->store, status, (long)limit, &json, &ei)) == TL_OK)
            code = print_items(json, keys, "sample");
    } else if ((strcmp(sub, "release") == 0 || strcmp(sub, "reject") == 0) && npos == 2) {
        long long id = 0;
        if (tl_parse_ll(a2, &id) == TL_OK && id > 0) {
            /* an id */
        } else if (strcmp(a1, "report") == 0) { /* a public ref */
            struct store_report *r = NULL;
            if ((rc = store_triage_get(ctx->store, a2, &r, &ei)) == TL_OK)
                id = r->id;
            store_report_free(r);
        } else {
            code = cli_usage_error(&spec, "'%s' is not an id", a2);
        }
        if (rc == TL_OK && code == 0 &&
            (rc = store_mod_resolve(ctx->store, actor, a1, id, sub, &json, &ei)) == TL_OK)
            printf("%s\n", json);
    } else if ((strcmp(sub, "ban") == 0 || strcmp(sub, "shadow-ban") == 0 ||
                strcmp(sub, "unban") == 0) &&
               npos == 1) {
        const char *mode = sub[0] == 's' ? "shadow" : sub[0] == 'u' ? "unban" : "ban";
        if ((rc = store_mod_ban(ctx->store, actor, a1, mode, reason, sweep, &json, &ei)) == TL_OK)
            printf("%s\n", json);
    } else if (strcmp(sub, "rules") == 0 && npos <= 1) {
        code = rules_check(ctx, a1 ? a1 : ctx->cfg.moderation_rules);
    } else if (strcmp(sub, "reload") == 0 && npos == 0) {
        rc = rules_reload(ctx, actor, &ei, &code);
    } else {
        code = cli_usage_error(&spec, "'%s' with %zu argument%s is not a subcommand", sub, npos,
                               npos == 1 ? "" : "s");
    }
    if (rc)
        code = cli_fail("mod", sub, rc, &ei);
    free(json);
    free(actor);
    return code;
}
