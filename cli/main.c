/* cli/main.c - the tipline binary: a git-style table of subcommands.
 * main() does the shared set-up the command's flags ask for (config, logging,
 * curl_global_init once, database connect and schema check), runs the command, and
 * checks that stdout was written without error. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"
#include "common/banned.h"

volatile sig_atomic_t cli_stop;
volatile sig_atomic_t cli_reload;

struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct cli_ctx *ctx);
    unsigned flags;
    const char *summary;
};

static const struct cli_cmd commands[] = {
    {"serve", cmd_serve, CLI_DB | CLI_CURL | CLI_SECRETS | CLI_IDKEYS,
     "run everything in one process: poller, workers, sender, web server"},
    {"bot", cmd_bot, CLI_DB | CLI_CURL | CLI_SECRETS | CLI_IDKEYS,
     "run the Telegram intake: poller, workers, sender"},
    {"migrate", cmd_migrate, 0, "apply database migrations"},
    {"gazetteer", cmd_gazetteer, 0, "import a GeoNames dump as the settlement index"},
    {"triage", cmd_triage, CLI_DB, "work the analysts' queue: list, next, show, decide"},
    {"demo", cmd_demo, CLI_CURL,
     "play scripted citizen chats through a fake Bot API, then print the queue"},
    {"strip", cmd_strip, 0,
     "remove what could identify a reporter from photos and videos, or --info"},
    {"geo", cmd_geo, 0, "find places in a message: coordinates, links, MGRS, place names"},
    {"keygen", cmd_keygen, 0, "create the pseudonym key file and the first identity key"},
    {"keys", cmd_keys, CLI_DB | CLI_SECRETS,
     "identity keys: new, rotate, seal-existing (an older database), forget"},
    {"config", cmd_config, 0, "print the effective configuration (secrets masked)"},
    {"web", cmd_web, CLI_DB, "run the analysts' HTTP API and console alone"},
    {"user", cmd_user, CLI_DB, "manage API accounts: add, list, disable, queue"},
    {"queue", cmd_queue, CLI_DB, "route categories to queues; restricted queues"},
    {"mod", cmd_mod, CLI_DB,
     "moderation: held reports, campaigns, release/reject, bans, rules check"},
    {"export", cmd_export, CLI_DB, "write the decided reports as GeoJSON, CSV, KML or GeoJSONSeq"},
    {"priority", cmd_priority, CLI_DB,
     "the queue's priority score: show or set its weights, refresh"},
    {"purge", cmd_purge, CLI_DB, "delete what the retention settings say may go (--dry-run)"},
    {"webhook", cmd_webhook, CLI_CURL | CLI_SECRETS,
     "register the webhook at Telegram: set, delete, info"},
};

/* True when argv holds -h or --help before any "--": the command then runs without the
 * shared set-up, so its help needs no database and no valid configuration. */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int cli_fail(const char *cmd, const char *what, int rc, const struct tl_errinfo *ei)
{
    fprintf(stderr, "tipline %s %s: %s%s%s\n", cmd, what, tl_strerror(rc), ei->msg[0] ? ": " : "",
            ei->msg);
    return 1;
}

void cli_reload_config(const struct cli_ctx *ctx)
{
    struct cfg fresh;
    struct tl_errinfo ei;
    if (cfg_load(&fresh, ctx->config_path, &ei) != TL_OK) {
        log_warn("reload refused, configuration kept detail=\"%s\"", ei.msg);
        cfg_release(&fresh);
        return;
    }
    log_level = log_level_parse(fresh.log_level);
    log_warn("reload done log_level=%s restart_needed_for=\"every other key\"", fresh.log_level);
    cfg_release(&fresh);
}

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        cli_reload = 1;
        return;
    }
    if (cli_stop) /* a second SIGTERM/SIGINT: exit now */
        _exit(130);
    cli_stop = 1;
}

static void list_commands(FILE *f)
{
    fprintf(f, "\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'tipline <command> --help' tells more.\n");
}

/* The command named name, or NULL. */
static const struct cli_cmd *find_command(const char *name)
{
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (strcmp(commands[k].name, name) == 0)
            return &commands[k];
    return NULL;
}

/* SIGTERM, SIGINT and SIGHUP set the flags the commands watch; a closed pipe is an error
 * on write, not a signal. */
static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* The configuration (defaults, file, environment) and the log level, --log-level over
 * the configuration's: 0, else the exit code. */
static int load_config(struct cli_ctx *ctx, const char *log_opt, struct tl_errinfo *ei)
{
    int e = cfg_load(&ctx->cfg, ctx->config_path, ei);
    if (e) {
        fprintf(stderr, "tipline: %s\n", ei->msg[0] ? ei->msg : tl_strerror(e));
        return 1;
    }
    log_level = log_level_parse(ctx->cfg.log_level);
    if (log_opt) {
        if (log_level_parse(log_opt) < 0) {
            fprintf(stderr, "tipline: --log-level takes error, warn, info or debug\n");
            return 2;
        }
        log_level = log_level_parse(log_opt);
    }
    return 0;
}

/* What the command's flags ask for: its secrets and identity keys, curl (*curl_done set
 * once initialised), the database with its schema checked. 0, else the exit code. */
static int command_setup(struct cli_ctx *ctx, const struct cli_cmd *cmd, struct tl_errinfo *ei,
                         int *curl_done)
{
    int e;
    if (cmd->flags & CLI_SECRETS) {
        e = cfg_load_secrets(&ctx->cfg, 0, ei);
        if (e == TL_OK && (cmd->flags & CLI_IDKEYS))
            e = cfg_load_idkeys(&ctx->cfg, ei);
        if (e) {
            fprintf(stderr, "tipline: %s\n", ei->msg[0] ? ei->msg : tl_strerror(e));
            return 1;
        }
    }
    if (cmd->flags & CLI_CURL) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            fprintf(stderr, "tipline: curl_global_init failed\n");
            return 1;
        }
        *curl_done = 1;
    }
    if (cmd->flags & CLI_DB) {
        e = store_open(ctx->cfg.database_url, &ctx->store, ei);
        if (e == TL_OK)
            e = store_schema_check(ctx->store, ei);
        if (e) {
            fprintf(stderr, "tipline: database: %s%s%s\n", tl_strerror(e), ei->msg[0] ? ": " : "",
                    ei->msg);
            if (e == TL_ESCHEMA)
                fprintf(stderr, "tipline: run 'tipline migrate' first\n");
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx;
    const char *log_opt = NULL;
    int rc = 1, curl_done = 0;
    memset(&ctx, 0, sizeof(ctx));
    const struct cli_opt opts[] = {
        CLI_STRING("config", "FILE", &ctx.config_path,
                   "key = value configuration file (deploy/tipline.conf.sample);\n"
                   "default: $TIPLINE_CONFIG, else none"),
        CLI_STRING("log-level", "LEVEL", &log_opt, "error, warn, info or debug"),
        CLI_END,
    };
    const struct cli_spec spec = {
        .cmd = "",
        .usage = "usage: tipline [--config FILE] [--log-level LEVEL] <command> [args]\n",
        .doc = "Every command reads the same configuration: the built-in defaults, then the\n"
               "configuration file, then the environment (TIPLINE_*), then its own options.\n",
        .opts = opts,
        .flags = CLI_STOP_AT_ARG,
        .more = list_commands,
        .max_args = -1};
    int n = argc;
    if ((rc = cli_parse(&spec, &n, argv)) >= 0)
        return rc;
    if (n < 2) {
        cli_help(&spec, stderr);
        return 2;
    }
    const struct cli_cmd *cmd = find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "tipline: '%s' is not a command. See 'tipline --help'.\n", argv[1]);
        return 2;
    }
    int sub_argc = n - 1;
    char **sub_argv = argv + 1;
    if (wants_help(sub_argc, sub_argv))
        return cmd->fn(sub_argc, sub_argv, &ctx);
    install_signals();
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if ((rc = load_config(&ctx, log_opt, &ei)) != 0 ||
        (rc = command_setup(&ctx, cmd, &ei, &curl_done)) != 0)
        goto out;
    rc = cmd->fn(sub_argc, sub_argv, &ctx);
out:
    store_free(ctx.store);
    if (curl_done)
        curl_global_cleanup();
    cfg_release(&ctx.cfg);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tipline: write error on stdout: %s\n", strerror(errno));
        return 1;
    }
    return rc;
}
