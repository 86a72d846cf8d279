/* cli/cmd_serve.c - tipline serve: everything in one process, the Telegram intake
 * (poller, workers, sender: cli_bot_run) and the analysts' web server. */
#include <stdio.h>

#include "cli.h"
#include "common/log.h"
#include "web/web.h"
#include "common/banned.h"

int cmd_serve(int argc, char **argv, struct cli_ctx *ctx)
{
    int no_poller = 0;
    const struct cli_opt opts[] = {
        CLI_FLAG("no-poller", &no_poller, 1, "run workers and sender only (another poller polls)"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "serve",
        .usage = "usage: tipline serve [--no-poller]\n",
        .doc = "Runs everything in one process: the Telegram intake (see 'tipline bot --help')\n"
               "and the analysts' HTTP API and console on http_listen (see 'tipline web\n"
               "--help'). SIGTERM/SIGINT stop both cleanly.\n",
        .opts = opts};
    int code = cli_parse(&spec, &argc, argv);
    if (code >= 0)
        return code;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct web_opts o = {.cfg = &ctx->cfg};
    struct web *w = NULL;
    int rc = web_start(&o, &w, &ei);
    if (rc) {
        fprintf(stderr, "tipline serve: web: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "",
                ei.msg);
        return 1;
    }
    code = cli_bot_run("serve", no_poller, ctx);
    log_info("web: stopping");
    web_free(w);
    return code;
}
