/* cli/cmd_admin.c - tipline migrate, keygen, config. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

int cmd_migrate(int argc, char **argv, struct cli_ctx *ctx)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: tipline migrate\n\nApplies the pending numbered migrations (tables, "
               "indexes, data), each in a\ntransaction, then re-applies in one transaction every "
               "schema file (functions,\ntriggers, views) whose content changed; all embedded in "
               "the binary, under an\nadvisory lock. An applied migration that was edited is "
               "refused. Safe to run twice.\n"
               "Database: TIPLINE_DATABASE_URL (libpq conninfo or URI).\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: tipline migrate\n");
        return 2;
    }
    struct store *s = NULL;
    struct tl_errinfo ei;
    int applied = 0;
    int rc = store_open(ctx->cfg.database_url, &s, &ei);
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
    if (cli_wants_help(argc, argv) || argc != 2) {
        printf("usage: tipline keygen FILE\n\nCreates FILE (mode 0600) with a random 256-bit "
               "pseudonym key unless it exists.\nPoint TIPLINE_SECRET_FILE at it. Losing the key "
               "breaks the link between a\nreporter's old and new reports; never share it.\n");
        return argc == 2 ? 0 : 2;
    }
    struct tl_errinfo ei;
    int rc = cfg_secret_generate(argv[1], &ei);
    if (rc) {
        fprintf(stderr, "tipline keygen: %s\n", ei.msg);
        return 1;
    }
    return 0;
}

int cmd_config(int argc, char **argv, struct cli_ctx *ctx)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: tipline config\n\nPrints the effective configuration: defaults, then "
               "the config file,\nthen the environment. Secrets print as (set).\n");
        return 0;
    }
    cfg_dump(&ctx->cfg, stdout);
    return 0;
}
