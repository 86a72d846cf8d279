/* cli/cli.h - the subcommand table's shared context. Each cmd_*.c is a thin front
 * that owns its options and its --help; only cli/ may exit the process. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <signal.h>

#include "cli/opt.h"
#include "common/cfg.h"
#include "storage/store.h"

/* The shared set-up a command asks main() for. Every command gets the configuration
 * (defaults, file, environment) in ctx->cfg; its own options come last. */
enum cli_flags {
    CLI_DB = 1 << 1,      /* connect to the database and check the schema */
    CLI_CURL = 1 << 2,    /* curl_global_init */
    CLI_SECRETS = 1 << 3, /* load the pseudonym key (and the token if present) */
    CLI_IDKEYS = 1 << 4,  /* and the identity keys (the processes that talk to Telegram) */
};

struct cli_ctx {
    struct cfg cfg;
    struct store *store; /* with CLI_DB */
    const char *config_path;
};

/* The signal flags: the only mutable globals besides the log level. */
extern volatile sig_atomic_t cli_stop;
extern volatile sig_atomic_t cli_reload;
/* SIGHUP (the bot, serve, web): reads the configuration file and the environment again
 * and applies what can change in a running process (log_level); the rest needs a
 * restart, and the log says so. A configuration that does not load is refused. */
void cli_reload_config(const struct cli_ctx *ctx);

/* Every command returns a process exit code: 0 ok, 1 failure, 2 usage. */
int cmd_migrate(int argc, char **argv, struct cli_ctx *ctx);
int cmd_bot(int argc, char **argv, struct cli_ctx *ctx);
int cmd_serve(int argc, char **argv, struct cli_ctx *ctx);
int cmd_triage(int argc, char **argv, struct cli_ctx *ctx);
int cmd_demo(int argc, char **argv, struct cli_ctx *ctx);
int cmd_keygen(int argc, char **argv, struct cli_ctx *ctx);
int cmd_config(int argc, char **argv, struct cli_ctx *ctx);
int cmd_gazetteer(int argc, char **argv, struct cli_ctx *ctx);
int cmd_priority(int argc, char **argv, struct cli_ctx *ctx);
int cmd_webhook(int argc, char **argv, struct cli_ctx *ctx);
int cmd_purge(int argc, char **argv, struct cli_ctx *ctx);
int cmd_keys(int argc, char **argv, struct cli_ctx *ctx);
/* The one-time sealing of a database written before identities were sealed, then the
 * keys' check (cmd_keys.c); who names the command in messages. 0 or 1. */
int cli_seal_existing(struct cli_ctx *ctx, struct store *s, const char *who);

/* the analysts' HTTP API and its accounts and queues */
int cmd_web(int argc, char **argv, struct cli_ctx *ctx);
int cmd_user(int argc, char **argv, struct cli_ctx *ctx);
int cmd_queue(int argc, char **argv, struct cli_ctx *ctx);
int cmd_mod(int argc, char **argv, struct cli_ctx *ctx);
/* "cli:$USER", who the audit log names for a change made from a shell; free(). */
char *cli_actor(void);
/* The bot runtime until SIGTERM (cmd_bot.c); name is the command's, for messages;
 * no_poller: workers and sender only. */
int cli_bot_run(const char *name, int no_poller, struct cli_ctx *ctx);

int cmd_strip(int argc, char **argv, struct cli_ctx *ctx);
int cmd_geo(int argc, char **argv, struct cli_ctx *ctx);
int cmd_export(int argc, char **argv, struct cli_ctx *ctx);

/* Tells systemd the service's state ("READY=1", "WATCHDOG=1", "RELOADING=1",
 * "STOPPING=1"; notify.c): a no-op outside a Type=notify unit. */
void cli_notify(const char *state);

/* "tipline CMD WHAT: <error>: <detail>" on stderr; returns 1 (the exit code). */
int cli_fail(const char *cmd, const char *what, int rc, const struct tl_errinfo *ei);

#endif
