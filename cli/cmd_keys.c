/* cli/cmd_keys.c - tipline keys: the data keys that seal Telegram identities
 * (identity_key_file): a new version, rotation while the bot runs (then the old keys
 * retired), the one-time sealing of a database written before, giving up a lost key. */
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
    printf("identity key %d added to %s; a running bot seals with it within a second;\n"
           "then run 'tipline keys rotate' to re-seal the older values and retire the older "
           "keys\n",
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

/* A running bot takes up a changed key file within a second (daemon/keyring.c): what it
 * sealed under the old key before that is found by the next pass. */
#define ROTATE_PASSES 30
#define ROTATE_PAUSE_MS 1500

static int keys_rotate(struct cli_ctx *ctx, long long batch, int keep_old)
{
    struct tl_errinfo ei;
    const struct idkeys *k = &ctx->cfg.idkeys;
    size_t moved = 0, left = 0, total = 0, retired = 0;
    int rc = store_idkeys_verify(ctx->store, k, ctx->cfg.identity_key_file, &ei);
    /* a bot takes up a key just added within a second: re-sealed before that, its replies
     * to those chats would wait for it */
    if (rc == TL_OK)
        tl_sleep_ms(ROTATE_PAUSE_MS, &cli_stop);
    /* done when a pass finds nothing left, and the one after a pause still nothing: no
     * process seals under an old key any more */
    for (int pass = 0, clean = 0; rc == TL_OK && pass < ROTATE_PASSES; pass++) {
        rc = store_idkeys_rotate(ctx->store, k, (size_t)batch, &moved, &left, &ei);
        total += moved;
        clean = rc == TL_OK && !left && !moved ? clean + 1 : 0;
        if (rc != TL_OK || clean == 2 || tl_sleep_ms(ROTATE_PAUSE_MS, &cli_stop))
            break;
    }
    if (rc == TL_OK && !left && !keep_old) {
        /* the database first: a bot that reloads the file finds no check value of a key it
         * no longer has */
        rc = store_idkeys_retire(ctx->store, idkeys_current(k), &left, &retired, &ei);
        if (rc == TL_OK && !left && k->n > 1)
            rc = idkeys_keep_current(ctx->cfg.identity_key_file, k, &ei);
    }
    if (rc) {
        fprintf(stderr, "tipline keys rotate: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "",
                ei.msg);
        return 1;
    }
    printf("re-sealed under key %d: %zu values\n", idkeys_current(k), total);
    if (left) {
        fprintf(stderr,
                "tipline keys rotate: %zu values are still sealed under an older key: a process "
                "still seals with it; give it %s (it takes it up within a second, or on SIGHUP) "
                "and run this again\n",
                left, ctx->cfg.identity_key_file);
        return 1;
    }
    if (!keep_old && k->n > 1)
        printf("older keys retired from %s and the database: only key %d remains\n",
               ctx->cfg.identity_key_file, idkeys_current(k));
    return 0;
}

int cmd_keys(int argc, char **argv, struct cli_ctx *ctx)
{
    long long batch = 500, forget = 0;
    int keep_old = 0;
    const struct cli_opt opts[] = {
        CLI_INT("batch", "N", &batch, 1, 100000, "values re-sealed per statement (rotate)"),
        CLI_INT("key", "ID", &forget, 1, 255, "the lost key (forget)"),
        CLI_FLAG("keep-old", &keep_old, 1, "rotate: keep the older keys in the file"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "keys",
        .usage = "usage: tipline keys new\n"
                 "       tipline keys rotate [--batch N] [--keep-old]\n"
                 "       tipline keys seal-existing\n"
                 "       tipline keys forget --key ID\n",
        .doc = "The data keys of identity_key_file (TIPLINE_IDENTITY_KEY_FILE) seal the\n"
               "Telegram chat ids tipline must keep to reply, and raw updates until they are\n"
               "handled. new: appends a fresh key (the file is created 0600); a running bot\n"
               "seals with it within a second (or on SIGHUP). rotate: re-seals, in batches and\n"
               "while the bot runs, every value an older key sealed, then retires the older\n"
               "keys (from the file and the database; --keep-old keeps them, for backups\n"
               "sealed under them).\n"
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
        return keys_rotate(ctx, batch, keep_old);
    if (strcmp(verb, "seal-existing") == 0)
        return cli_seal_existing(ctx, ctx->store, "keys seal-existing");
    return cli_usage_error(&spec, "unknown: %s", verb);
}
