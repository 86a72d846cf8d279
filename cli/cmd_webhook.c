/* cli/cmd_webhook.c - tipline webhook set|delete|info: registers the webhook receiver
 * (daemon/intake_hook.c) with Telegram, removes it, or shows what Telegram holds. The
 * secret comes from webhook_secret_file, never from argv; pending updates are kept
 * unless --drop-pending-updates says otherwise. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tg.h"
#include "cli.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "common/banned.h"

/* The update kinds the handlers take, as getUpdates asks for them. */
static const char *const KINDS[] = {"message", "edited_message", "callback_query",
                                    "my_chat_member"};

static int call(struct cli_ctx *ctx, const char *method, struct json_object *params)
{
    struct tg_client_opts co = {.api_base = ctx->cfg.telegram_api_base,
                                .token = ctx->cfg.bot_token,
                                .timeout_ms = ctx->cfg.http_timeout_ms};
    struct tg_client *c = NULL;
    struct json_object *res = NULL;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int rc = tg_client_new(&co, &c);
    if (rc == TL_OK)
        rc = tg_call(c, method, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN),
                     &res, &ei);
    tg_client_free(c);
    if (rc)
        return cli_fail("webhook", method, rc, &ei);
    if (strcmp(method, "getWebhookInfo") == 0) {
        /* the answer names no secret; the URL is ours */
        printf("%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY));
    } else {
        printf("%s: ok\n", method);
    }
    json_object_put(res);
    return 0;
}

int cmd_webhook(int argc, char **argv, struct cli_ctx *ctx)
{
    int drop = 0;
    long long max_conns = 40;
    const struct cli_opt opts[] = {
        CLI_FLAG("drop-pending-updates", &drop, 1,
                 "set, delete: Telegram forgets the updates it holds (reports lost!)"),
        CLI_INT("max-connections", "N", &max_conns, 1, 100,
                "set: connections Telegram opens at once (default 40)"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "webhook",
        .usage = "usage: tipline webhook set URL [--max-connections N] [--drop-pending-updates]\n"
                 "       tipline webhook delete [--drop-pending-updates]\n"
                 "       tipline webhook info\n",
        .doc = "Manages the bot's webhook at Telegram (setWebhook, deleteWebhook,\n"
               "getWebhookInfo). URL is the public https address the proxy forwards to\n"
               "webhook_listen + webhook_path; Telegram sends the secret of\n"
               "webhook_secret_file in X-Telegram-Bot-Api-Secret-Token. Pending updates are\n"
               "kept unless --drop-pending-updates. `delete` returns the bot to long polling.\n",
        .opts = opts,
        .min_args = 1,
        .max_args = 2};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    if (!ctx->cfg.bot_token || !*ctx->cfg.bot_token) {
        fprintf(stderr, "tipline webhook: no bot token: set TELEGRAM_BOT_TOKEN or "
                        "TELEGRAM_BOT_TOKEN_FILE\n");
        return 1;
    }
    const char *verb = argv[1];
    struct json_object *p = json_object_new_object();
    if (!p)
        return 1;
    if (strcmp(verb, "set") == 0 && argc == 3) {
        if (strncmp(argv[2], "https://", 8) != 0) {
            json_object_put(p);
            return cli_usage_error(&spec, "the URL must start with https://");
        }
        struct tl_errinfo ei;
        char *secret = NULL;
        rc = daemon_intake_hook_secret(ctx->cfg.webhook_secret_file, &secret, &ei);
        if (rc) {
            json_object_put(p);
            return cli_fail("webhook", "set", rc, &ei);
        }
        struct json_object *au = json_object_new_array();
        for (size_t i = 0; au && i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
            json_object_array_add(au, json_object_new_string(KINDS[i]));
        json_object_object_add(p, "url", json_object_new_string(argv[2]));
        json_object_object_add(p, "secret_token", json_object_new_string(secret));
        json_object_object_add(p, "max_connections", json_object_new_int((int)max_conns));
        json_object_object_add(p, "allowed_updates", au);
        json_object_object_add(p, "drop_pending_updates", json_object_new_boolean(drop));
        free(secret);
        rc = call(ctx, "setWebhook", p);
    } else if (strcmp(verb, "delete") == 0 && argc == 2) {
        json_object_object_add(p, "drop_pending_updates", json_object_new_boolean(drop));
        rc = call(ctx, "deleteWebhook", p);
    } else if (strcmp(verb, "info") == 0 && argc == 2) {
        rc = call(ctx, "getWebhookInfo", p);
    } else {
        rc = cli_usage_error(&spec, "unknown or incomplete subcommand \"%s\"", verb);
    }
    json_object_put(p);
    return rc;
}
