/* cli/cmd_bot.c - tipline bot: the long-running intake (tipline serve adds the web server,
 * cli/cmd_serve.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "common/banned.h"

int cli_bot_run(const char *name, int no_poller, struct cli_ctx *ctx)
{
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (!ctx->cfg.bot_token) {
        fprintf(stderr,
                "tipline %s: no bot token: set TELEGRAM_BOT_TOKEN or "
                "TELEGRAM_BOT_TOKEN_FILE\n",
                name);
        return 1;
    }
    /* the connection main() opened checked the schema; threads open their own */
    store_free(ctx->store);
    ctx->store = NULL;
    /* Webhook mode: Telegram POSTs the updates; getUpdates would only earn 409. */
    struct daemon_intake_hook *wh = NULL;
    int webhook = ctx->cfg.webhook_listen && *ctx->cfg.webhook_listen;
    struct daemon_opts o = {.cfg = &ctx->cfg, .no_poller = no_poller || webhook, .stop = &cli_stop};
    struct daemon *rt = NULL;
    int rc = daemon_start(&o, &rt, &ei);
    if (rc == TL_OK && webhook && (rc = daemon_intake_hook_start(&ctx->cfg, &wh, &ei)) != TL_OK) {
        cli_stop = 1;
        struct tl_errinfo ignored;
        if (daemon_join(rt, &ignored) != TL_OK)
            log_warn("runtime ended with an error err=\"%s\"", ignored.msg);
    }
    if (rc) {
        fprintf(stderr, "tipline %s: %s\n", name, ei.msg[0] ? ei.msg : tl_strerror(rc));
        return 1;
    }
    if (wh)
        daemon_intake_hook_count_into(wh, rt);
    cli_notify("READY=1");
    while (!cli_stop) {
        cli_notify("WATCHDOG=1");
        tl_sleep_ms(1000, &cli_stop);
        if (cli_reload) {
            cli_reload = 0;
            cli_notify("RELOADING=1");
            cli_reload_config(ctx);
            if (daemon_reload_geo(rt, &ei) != TL_OK)
                log_warn("gazetteer reload refused, old index kept detail=\"%s\"", ei.msg);
            if (daemon_reload_rules(rt, &ei) != TL_OK)
                log_warn("moderation rules reload refused, rules in force kept");
            if (daemon_reload_keys(rt, &ei) != TL_OK)
                log_warn("identity keys reload refused, keys in force kept detail=\"%s\"", ei.msg);
            cli_notify("READY=1");
        }
    }
    cli_notify("STOPPING=1");
    log_info("stopping: finishing in-flight work");
    daemon_intake_hook_free(wh); /* answers what it holds, takes nothing more */
    struct daemon_counts c;
    daemon_counts(rt, &c);
    rc = daemon_join(rt, &ei);
    log_info("stopped updates=%lld reports=%lld sent=%lld", c.updates_handled, c.reports, c.sent);
    if (rc) {
        fprintf(stderr, "tipline %s: %s: %s\n", name, tl_strerror(rc), ei.msg);
        if (rc == TL_ECONFLICT)
            fprintf(stderr,
                    "tipline %s: another getUpdates poller or a webhook is active for "
                    "this bot; stop it (or deleteWebhook) and start again\n",
                    name);
        if (rc == TL_EAUTH)
            fprintf(stderr, "tipline %s: the bot token was refused; check TELEGRAM_BOT_TOKEN\n",
                    name);
        return 1;
    }
    return 0;
}

int cmd_bot(int argc, char **argv, struct cli_ctx *ctx)
{
    int no_poller = 0;
    const struct cli_opt opts[] = {
        CLI_FLAG("no-poller", &no_poller, 1, "run workers and sender only (another poller polls)"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "bot",
        .usage = "usage: tipline bot [--no-poller]\n",
        .doc = "Runs the Telegram intake: a long-poll poller (one per deployment, held by an\n"
               "advisory lock; others stand by), workers handling each chat in order, and the\n"
               "outbox sender.\n"
               "SIGTERM/SIGINT finish in-flight work and exit 0; a second one exits now.\n"
               "Needs TELEGRAM_BOT_TOKEN (or _FILE), TIPLINE_DATABASE_URL, TIPLINE_SECRET_FILE;\n"
               "TELEGRAM_API_BASE points at a local Bot API server or a fake.\n",
        .opts = opts};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    return cli_bot_run("bot", no_poller, ctx);
}
