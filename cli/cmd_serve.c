/* cli/cmd_serve.c - tipline serve: everything in one process, the Telegram intake
 * (poller, workers, sender: cli_bot_run) and the analysts' web server. */
#include <stdio.h>

#include "cli.h"
#include "common/log.h"
#include "web/web.h"
#include "common/banned.h"

int cmd_serve(int argc, char **argv, struct cli_ctx *ctx)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: tipline serve [--no-poller]\n\n"
               "Runs everything in one process: the Telegram intake (see 'tipline bot --help')\n"
               "and the analysts' HTTP API and console on http_listen (see 'tipline web\n"
               "--help'). SIGTERM/SIGINT stop both cleanly.\n");
        return 0;
    }
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
    int code = cli_bot_run("serve", argc, argv, ctx);
    log_info("web: stopping");
    web_free(w);
    return code;
}
