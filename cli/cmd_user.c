/* cli/cmd_user.c - tipline user add | list | disable | queue: the accounts of the web
 * API. A new account's token is printed once; only its SHA-256 is stored. Every
 * change is audited as cli:$USER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "common/util.h"
#include "web/web.h"
#include "storage/store_web.h"
#include "common/banned.h"

static const char user_usage[] =
    "usage: tipline user add NAME --role analyst|moderator|exporter|admin [--queue Q]...\n"
    "       tipline user list\n"
    "       tipline user disable NAME\n"
    "       tipline user queue NAME QUEUE   (lets NAME see a restricted queue)\n";

static const char user_doc[] =
    "'add' prints the account's API token once (use it as 'Authorization: Bearer\n"
    "TOKEN', or to log in to the console); it cannot be shown again.\n";

/* The accounts as a table: name, role, state, queues, last use. */
static int print_accounts(const char *json)
{
    struct json_object *o = json_tokener_parse(json), *list = NULL;
    if (!o || !json_object_object_get_ex(o, "accounts", &list)) {
        json_object_put(o);
        fprintf(stderr, "tipline user list: unreadable answer\n");
        return 1;
    }
    printf("%-24s %-10s %-9s %-24s %s\n", "NAME", "ROLE", "STATE", "LAST USED", "QUEUES");
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        struct json_object *a = json_object_array_get_idx(list, i), *v = NULL;
        const char *f[3] = {"", "", ""};
        static const char *const keys[] = {"name", "role", "last_used_at"};
        for (int k = 0; k < 3; k++)
            if (json_object_object_get_ex(a, keys[k], &v) &&
                json_object_is_type(v, json_type_string))
                f[k] = json_object_get_string(v);
        int off = json_object_object_get_ex(a, "disabled", &v) && json_object_get_boolean(v);
        const char *q = json_object_object_get_ex(a, "queues", &v)
                            ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
                            : "[]";
        printf("%-24s %-10s %-9s %-24s %s\n", f[0], f[1], off ? "disabled" : "active",
               *f[2] ? f[2] : "never", q);
    }
    printf("(%zu account%s)\n", n, n == 1 ? "" : "s");
    json_object_put(o);
    return 0;
}

char *cli_actor(void)
{
    const char *user = getenv("USER");
    return tl_asprintf("cli:%s", user && *user ? user : "unknown");
}

int cmd_user(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *role = NULL, *queues[8];
    size_t nq = 0;
    const struct cli_opt opts[] = {
        CLI_STRING("role", "ROLE", &role, "add: analyst, moderator, exporter or admin"),
        CLI_LIST("queue", "Q", queues, &nq, 8,
                 "add: a restricted queue the account may see (up to 8 times)"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "user",
                                  .usage = user_usage,
                                  .doc = user_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 3};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *sub = argv[1];
    const char *pos[2] = {argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL};
    size_t npos = (size_t)argc - 2;
    char *actor = cli_actor();
    if (!actor)
        return 1;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int code = 2;
    if (strcmp(sub, "add") == 0 && npos == 1 && role) {
        char token[64], sha[65];
        if (!web_account_name_ok(pos[0]) || !store_role_known(role)) {
            fprintf(stderr, "tipline user add: NAME is 1-32 of a-z 0-9 . _ -; ROLE is analyst, "
                            "moderator, exporter or admin\n");
            goto out;
        }
        code = 1;
        if (web_token_new(token, sha) != TL_OK) {
            fprintf(stderr, "tipline user add: no randomness\n");
            goto out;
        }
        if ((rc = store_account_add(ctx->store, actor, pos[0], role, sha, &ei)) != TL_OK) {
            code = cli_fail("user", "add", rc, &ei);
            goto out;
        }
        for (size_t i = 0; i < nq; i++)
            if ((rc = store_queue_member_add(ctx->store, actor, queues[i], pos[0], &ei)) != TL_OK) {
                code = cli_fail("user", "add --queue", rc, &ei);
                goto out;
            }
        printf("%s\n", token);
        fprintf(stderr, "account %s (%s) created; the token above is shown once\n", pos[0], role);
        memset(token, 0, sizeof(token));
        code = 0;
    } else if (strcmp(sub, "list") == 0 && npos == 0) {
        char *json = NULL;
        code = 1;
        if ((rc = store_account_list(ctx->store, &json, &ei)) != TL_OK) {
            code = cli_fail("user", "list", rc, &ei);
            goto out;
        }
        code = print_accounts(json);
        free(json);
    } else if (strcmp(sub, "disable") == 0 && npos == 1) {
        code = (rc = store_account_disable(ctx->store, actor, pos[0], &ei))
                   ? cli_fail("user", "disable", rc, &ei)
                   : 0;
    } else if (strcmp(sub, "queue") == 0 && npos == 2) {
        code = (rc = store_queue_member_add(ctx->store, actor, pos[1], pos[0], &ei))
                   ? cli_fail("user", "queue", rc, &ei)
                   : 0;
    } else {
        cli_usage_error(&spec, "'%s' with %zu argument%s%s is not a subcommand", sub, npos,
                        npos == 1 ? "" : "s",
                        strcmp(sub, "add") == 0 && !role ? " and no --role" : "");
    }
out:
    free(actor);
    return code;
}
