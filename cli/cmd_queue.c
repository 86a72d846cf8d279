/* cli/cmd_queue.c - tipline queue list | add | route: where reports go. Categories map
 * to queues; a restricted queue is seen by its members ('tipline user queue NAME QUEUE')
 * and admins only. Every change is audited as cli:$USER. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "common/util.h"
#include "storage/store_web.h"
#include "common/banned.h"

static const char queue_usage[] = "usage: tipline queue list\n"
                                  "       tipline queue add NAME [--restricted | --open]\n"
                                  "       tipline queue route CATEGORY QUEUE [--moving]\n";

static const char queue_doc[] =
    "'route' sends a category's reports to a queue (its open reports move with\n"
    "it); --moving marks things that move (drones, columns). By default every\n"
    "category goes to 'general' and 'collaborators' to the restricted 'restricted'.\n";

static void print_names(struct json_object *a)
{
    size_t n = a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? "," : "", json_object_get_string(json_object_array_get_idx(a, i)));
    printf("%s", n ? "" : "-");
}

static int print_queues(const char *json)
{
    struct json_object *o = json_tokener_parse(json), *list = NULL;
    if (!o || !json_object_object_get_ex(o, "queues", &list)) {
        json_object_put(o);
        fprintf(stderr, "tipline queue list: unreadable answer\n");
        return 1;
    }
    printf("%-16s %-10s %6s  %-32s %s\n", "QUEUE", "ACCESS", "OPEN", "CATEGORIES", "MEMBERS");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct json_object *q = json_object_array_get_idx(list, i), *v = NULL, *c = NULL, *m = NULL;
        json_object_object_get_ex(q, "categories", &c);
        json_object_object_get_ex(q, "members", &m);
        const char *name =
            json_object_object_get_ex(q, "name", &v) ? json_object_get_string(v) : "";
        int restricted =
            json_object_object_get_ex(q, "restricted", &v) && json_object_get_boolean(v);
        long long open = json_object_object_get_ex(q, "open", &v) ? json_object_get_int64(v) : 0;
        printf("%-16s %-10s %6lld  ", name, restricted ? "restricted" : "all", open);
        print_names(c);
        printf("  ");
        print_names(m);
        printf("\n");
    }
    json_object_put(o);
    return 0;
}

int cmd_queue(int argc, char **argv, struct cli_ctx *ctx)
{
    int restricted = 0, moving = 0;
    const struct cli_opt opts[] = {
        CLI_FLAG("restricted", &restricted, 1, "add: only members and admins see the queue"),
        CLI_FLAG("open", &restricted, 0, "add: every analyst sees the queue (the default)"),
        CLI_FLAG("moving", &moving, 1, "route: the category is of things that move"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "queue",
                                  .usage = queue_usage,
                                  .doc = queue_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 3};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *pos[2] = {argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL};
    size_t npos = (size_t)argc - 2;
    char *actor = cli_actor();
    if (!actor)
        return 1;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int code = 0;
    char *json = NULL;
    rc = TL_OK;
    if (strcmp(argv[1], "list") == 0 && npos == 0) {
        if ((rc = store_queue_list(ctx->store, &json, &ei)) == TL_OK)
            code = print_queues(json);
    } else if (strcmp(argv[1], "add") == 0 && npos == 1) {
        rc = store_queue_add(ctx->store, actor, pos[0], restricted, &ei);
    } else if (strcmp(argv[1], "route") == 0 && npos == 2) {
        rc = store_category_route(ctx->store, actor, pos[0], pos[1], moving, &ei);
    } else {
        code = cli_usage_error(&spec, "'%s' with %zu argument%s is not a subcommand", argv[1], npos,
                               npos == 1 ? "" : "s");
    }
    if (rc)
        code = cli_fail("queue", argv[1], rc, &ei);
    free(json);
    free(actor);
    return code;
}
