/* cli/cmd_keys.c - tipline keys: the data keys that seal Telegram identities
 * (identity_key_file): a new version, rotation while the bot runs, the one-time sealing
 * of a database written before, giving up a lost key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "common/banned.h"

static int keys_new(struct cli_ctx *ctx)
{
    struct tl_errinfo ei;
    int id = 0;
    if (idkeys_generate(ctx->cfg.identity_key_file, &id, &ei) != TL_OK) {
        fprintf(stderr, "tipline keys new: %s\n", ei.msg);
        return 1;
    }
    printf("identity key %d added to %s; new values are sealed with it once the bot is "
           "restarted;\nthen run 'tipline keys rotate' to re-seal the older ones\n",
           id, ctx->cfg.identity_key_file);
    return 0;
}

int cli_seal_existing(struct cli_ctx *ctx, struct store *s, const char *who)
{
    struct tl_errinfo ei;
    size_t chats = 0, updates = 0, redacted = 0;
    int rc = store_identity_seal_existing(s, &ctx->cfg.idkeys, &chats, &updates, &redacted, &ei);
    if (rc) {
        fprintf(stderr, "tipline %s: sealing the existing identities: %s%s%s\n", who,
                tl_strerror(rc), ei.msg[0] ? ": " : "", ei.msg);
        return 1;
    }
    if ((rc = store_idkeys_verify(s, &ctx->cfg.idkeys, ctx->cfg.identity_key_file, &ei))) {
        fprintf(stderr, "tipline %s: %s\n", who, ei.msg);
        return 1;
    }
    if (chats || updates || redacted)
        printf("identities sealed: %zu chats; raw updates: %zu sealed, %zu redacted\n", chats,
               updates, redacted);
    return 0;
}

static int keys_rotate(struct cli_ctx *ctx, long long batch)
{
    struct tl_errinfo ei;
    size_t moved = 0, left = 0, total = 0;
    int rc = store_idkeys_verify(ctx->store, &ctx->cfg.idkeys, ctx->cfg.identity_key_file, &ei);
    /* a pass re-seals what it finds; what a bot still on the old key writes meanwhile is
     * taken by the next pass */
    for (int pass = 0; rc == TL_OK && pass < 5; pass++) {
        rc = store_idkeys_rotate(ctx->store, &ctx->cfg.idkeys, (size_t)batch, &moved, &left, &ei);
        total += moved;
        if (rc == TL_OK && !left)
            break;
        if (rc == TL_OK)
            tl_sleep_ms(1000, &cli_stop);
    }
    if (rc) {
        fprintf(stderr, "tipline keys rotate: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "",
                ei.msg);
        return 1;
    }
    printf("re-sealed under key %d: %zu values\n", idkeys_current(&ctx->cfg.idkeys), total);
    if (left) {
        fprintf(stderr,
                "tipline keys rotate: %zu values are still sealed under an older key: a running "
                "process seals with it; restart it with %s and run this again\n",
                left, ctx->cfg.identity_key_file);
        return 1;
    }
    return 0;
}

int cmd_keys(int argc, char **argv, struct cli_ctx *ctx)
{
    long long batch = 500, forget = 0;
    const struct cli_opt opts[] = {
        CLI_INT("batch", "N", &batch, 1, 100000, "values re-sealed per statement (rotate)"),
        CLI_INT("key", "ID", &forget, 1, 255, "the lost key (forget)"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "keys",
        .usage = "usage: tipline keys new\n"
                 "       tipline keys rotate [--batch N]\n"
                 "       tipline keys seal-existing\n"
                 "       tipline keys forget --key ID\n",
        .doc = "The data keys of identity_key_file (TIPLINE_IDENTITY_KEY_FILE) seal the\n"
               "Telegram chat ids tipline must keep to reply, and raw updates until they are\n"
               "handled. new: appends a fresh key (the file is created 0600); restart the bot\n"
               "to seal with it. rotate: re-seals, in batches and while the bot runs, every\n"
               "value an older key sealed; the older key may then be removed from the file.\n"
               "seal-existing: the one-time rewrite of a database written before identities\n"
               "were sealed ('tipline migrate' runs it when the keys are readable).\n"
               "forget: a lost key; the chats it sealed can no longer be answered.\n",
        .opts = opts,
        .min_args = 1,
        .max_args = 1};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    const char *verb = argv[1];
    if (strcmp(verb, "new") == 0)
        return keys_new(ctx);
    struct tl_errinfo ei;
    if (strcmp(verb, "forget") == 0) {
        size_t lost = 0;
        if (!forget)
            return cli_usage_error(&spec, "forget needs --key ID");
        if ((rc = store_idkeys_forget(ctx->store, (int)forget, &lost, &ei)))
            return cli_fail("keys", "forget", rc, &ei);
        printf("key %lld forgotten: %zu sealed values dropped\n", forget, lost);
        return 0;
    }
    if ((rc = cfg_load_idkeys(&ctx->cfg, &ei)) != TL_OK) {
        fprintf(stderr, "tipline keys: %s\n", ei.msg);
        return 1;
    }
    if (strcmp(verb, "rotate") == 0)
        return keys_rotate(ctx, batch);
    if (strcmp(verb, "seal-existing") == 0)
        return cli_seal_existing(ctx, ctx->store, "keys seal-existing");
    return cli_usage_error(&spec, "unknown: %s", verb);
}
