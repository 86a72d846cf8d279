/* cli/cmd_priority.c - tipline priority show | set KEY VALUE | refresh: the weights of
 * the queue's priority score (docs/priority.md), a change of one (which re-scores the
 * queue at once), and the bounded refresh the runtime's janitor also runs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

static const char priority_usage[] = "usage: tipline priority show\n"
                                     "       tipline priority set KEY VALUE [--as NAME]\n"
                                     "       tipline priority refresh\n";

static const char priority_doc[] =
    "The queue is ordered by a score: intake's base + category weight +\n"
    "corroboration - recency penalty + reporter track record + flag weights\n"
    "(+ banned). 'show' lists the weights; 'set' changes one (category.NAME and\n"
    "flag.NAME may be new keys) and re-scores every queued report at once;\n"
    "'refresh' decays recency and recounts recent corroborations now.\n"
    "docs/priority.md explains the formula and each key's range.\n";

static int show(struct store *s)
{
    struct store_priority_weight *w = NULL;
    size_t n = 0;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int rc = store_priority_weights(s, &w, &n, &ei);
    if (rc)
        return cli_fail("priority", "show", rc, &ei);
    for (size_t i = 0; i < n; i++)
        printf("%-30s %10g  %s\n", w[i].key, w[i].value, w[i].description);
    store_priority_weights_free(w, n);
    return 0;
}

static int parse_value(const char *text, double *v)
{
    char *end = NULL;
    errno = 0;
    *v = strtod(text, &end);
    return errno == 0 && end != text && *end == 0 && isfinite(*v) ? 0 : -1;
}

int cmd_priority(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *as = NULL;
    const struct cli_opt opts[] = {
        CLI_STRING("as", "NAME", &as, "set: who the audit log names; default $USER"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "priority",
                                  .usage = priority_usage,
                                  .doc = priority_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 3};
    int code = cli_parse(&spec, &argc, argv); /* a negative VALUE is a value, not an option */
    if (code >= 0)
        return code;
    const char *pos[3] = {argv[1], argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL};
    size_t npos = (size_t)argc - 1;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (npos == 1 && strcmp(pos[0], "show") == 0)
        return show(ctx->store);
    if (npos == 1 && strcmp(pos[0], "refresh") == 0) {
        struct store_priority_refresh out;
        int rc = store_priority_refresh(ctx->store, &out, &ei);
        if (rc)
            return cli_fail("priority", "refresh", rc, &ei);
        printf("scored %lld queued reports, %lld priorities changed, %lld corroborations "
               "recounted, %lld changed by rejections\n",
               out.scored, out.changed, out.recounted, out.propagated);
        return 0;
    }
    if (npos == 3 && strcmp(pos[0], "set") == 0) {
        double v;
        if (parse_value(pos[2], &v) != 0) {
            fprintf(stderr, "tipline priority set: VALUE must be a number, not '%s'\n", pos[2]);
            return 2;
        }
        if (!as) {
            const char *u = getenv("USER");
            as = u && *u ? u : "cli";
        }
        long long changed = 0;
        int rc = store_priority_set(ctx->store, as, pos[1], v, &changed, &ei);
        if (rc == TL_EINVAL) {
            fprintf(stderr, "tipline priority set: %s\n", ei.msg);
            return 2;
        }
        if (rc)
            return cli_fail("priority", "set", rc, &ei);
        printf("%s = %g; %lld queued reports re-scored\n", pos[1], v, changed);
        return 0;
    }
    return cli_usage_error(&spec, "'%s' with %zu argument%s is not a subcommand", pos[0], npos - 1,
                           npos == 2 ? "" : "s");
}
