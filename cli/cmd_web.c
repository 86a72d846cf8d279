/* cli/cmd_web.c - tipline web: the analysts' HTTP API and console alone (no bot). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"
#include "web/web.h"
#include "common/banned.h"

int cmd_web(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *listen = NULL;
    const struct cli_opt opts[] = {
        CLI_STRING("listen", "HOST:PORT", &listen, "the address to serve on; default: http_listen"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "web",
        .usage = "usage: tipline web [--listen HOST:PORT]\n",
        .doc = "Serves the analysts' JSON API (web/openapi.yaml) and the console on\n"
               "http_listen (TIPLINE_HTTP_LISTEN, default 127.0.0.1:8080); put a TLS reverse\n"
               "proxy in front (deploy/nginx-tipline.conf). Accounts: 'tipline user add'.\n"
               "SIGTERM/SIGINT finish the requests in flight and exit 0; SIGHUP reads the\n"
               "configuration again and applies log_level (other keys need a restart).\n",
        .opts = opts};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct web_opts o = {.cfg = &ctx->cfg, .listen = listen};
    struct web *w = NULL;
    rc = web_start(&o, &w, &ei);
    if (rc) {
        fprintf(stderr, "tipline web: %s%s%s\n", tl_strerror(rc), ei.msg[0] ? ": " : "", ei.msg);
        return 1;
    }
    cli_notify("READY=1");
    while (!cli_stop) {
        cli_notify("WATCHDOG=1");
        tl_sleep_ms(1000, &cli_stop);
        if (cli_reload) {
            cli_reload = 0;
            cli_notify("RELOADING=1");
            cli_reload_config(ctx);
            cli_notify("READY=1");
        }
    }
    cli_notify("STOPPING=1");
    log_info("web: stopping");
    web_free(w);
    return 0;
}
