/* cli/cmd_admin.c - tipline migrate, keygen, config. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

int cmd_migrate(int argc, char **argv, struct cli_ctx *ctx)
{
    const struct cli_spec spec = {
        .cmd = "migrate",
        .usage = "usage: tipline migrate\n",
        .doc = "Applies the pending numbered migrations (tables, indexes, data), each in a\n"
               "transaction, then re-applies in one transaction every schema file (functions,\n"
               "triggers, views) whose content changed; all embedded in the binary, under an\n"
               "advisory lock. An applied migration that was edited is refused. Safe to run\n"
               "twice.\nDatabase: TIPLINE_DATABASE_URL (libpq conninfo or URI).\n"};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    struct store *s = NULL;
    struct tl_errinfo ei;
    int applied = 0;
    rc = store_open(ctx->cfg.database_url, &s, &ei);
    if (rc == TL_OK)
        rc = store_migrate(s, &applied, &ei);
    store_free(s);
    if (rc) {
        fprintf(stderr, "tipline migrate: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "",
                ei.msg);
        return 1;
    }
    printf("migrations and schema files applied: %d\n", applied);
    return 0;
}

int cmd_keygen(int argc, char **argv, struct cli_ctx *ctx)
{
    const struct cli_spec spec = {
        .cmd = "keygen",
        .usage = "usage: tipline keygen [FILE]\n",
        .doc = "Creates FILE (mode 0600) with a random 256-bit pseudonym key unless it exists;\n"
               "without FILE, the configuration's secret_file (TIPLINE_SECRET_FILE). Point\n"
               "TIPLINE_SECRET_FILE at it. Losing the key breaks the link between a reporter's\n"
               "old and new reports; never share it.\n",
        .max_args = 1};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *path = argc == 2 ? argv[1] : ctx->cfg.secret_file;
    if (!path || !*path)
        return cli_usage_error(&spec, "no FILE and no secret_file configured");
    struct tl_errinfo ei;
    rc = cfg_secret_generate(path, &ei);
    if (rc) {
        fprintf(stderr, "tipline keygen: %s\n", ei.msg);
        return 1;
    }
    return 0;
}

int cmd_config(int argc, char **argv, struct cli_ctx *ctx)
{
    const struct cli_spec spec = {
        .cmd = "config",
        .usage = "usage: tipline config\n",
        .doc = "Prints the effective configuration: defaults, then the "
               "config file,\nthen the environment. Secrets print as (set).\n"};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    cfg_dump(&ctx->cfg, stdout);
    return 0;
}
