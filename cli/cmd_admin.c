/* cli/cmd_admin.c - tipline migrate, keygen, config. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

/* A database written before identities were sealed: sealed now when the keys are
 * readable here, else the operator is told what the bot will ask for. */
static int migrate_identities(struct cli_ctx *ctx)
{
    struct store *s = NULL;
    struct tl_errinfo ei;
    int pending = 0, rc = store_open(ctx->cfg.database_url, &s, &ei);
    if (rc == TL_OK)
        rc = store_identity_pending(s, &pending, &ei);
    if (rc == TL_OK && pending) {
        if (cfg_load_secrets(&ctx->cfg, 0, &ei) == TL_OK &&
            cfg_load_idkeys(&ctx->cfg, &ei) == TL_OK)
            rc = cli_seal_existing(ctx, s, "migrate") ? TL_EDB : TL_OK;
        else
            /* a warning, not the command's result: stdout stays the count a script reads */
            fprintf(stderr,
                    "tipline migrate: this database holds Telegram ids in the clear (written "
                    "before they were sealed)\nand the keys are not readable here (%s): run "
                    "'tipline keys seal-existing'\nwhere they are; the bot refuses to start "
                    "until then\n",
                    ei.msg);
    }
    store_free(s);
    if (rc && rc != TL_EDB)
        fprintf(stderr, "tipline migrate: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "",
                ei.msg);
    return rc ? 1 : 0;
}

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
    return migrate_identities(ctx);
}

int cmd_keygen(int argc, char **argv, struct cli_ctx *ctx)
{
    const struct cli_spec spec = {
        .cmd = "keygen",
        .usage = "usage: tipline keygen [FILE]\n",
        .doc = "Creates FILE (mode 0600) with a random 256-bit pseudonym key unless it exists;\n"
               "without FILE, the configuration's secret_file (TIPLINE_SECRET_FILE). Point\n"
               "TIPLINE_SECRET_FILE at it. Losing the key breaks the link between a reporter's\n"
               "old and new reports; never share it. Also creates identity_key_file\n"
               "(TIPLINE_IDENTITY_KEY_FILE, mode 0600) with the first key that seals Telegram\n"
               "ids, unless it exists ('tipline keys new' adds one). Keep both off the\n"
               "database host's backups (README).\n",
        .max_args = 1};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *path = argc == 2 ? argv[1] : ctx->cfg.secret_file;
    if (!path || !*path)
        return cli_usage_error(&spec, "no FILE and no secret_file configured");
    struct tl_errinfo ei;
    rc = cfg_secret_generate(path, &ei);
    if (rc == TL_OK && ctx->cfg.identity_key_file && *ctx->cfg.identity_key_file &&
        access(ctx->cfg.identity_key_file, F_OK) != 0)
        rc = idkeys_generate(ctx->cfg.identity_key_file, NULL, &ei);
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
