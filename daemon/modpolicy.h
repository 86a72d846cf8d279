/* daemon/modpolicy.h - internal to daemon/: the moderation policy the workers share
 * (moderation.c). */
#ifndef TL_DAEMON_MODPOLICY_H
#define TL_DAEMON_MODPOLICY_H

#include <signal.h>

#include "common/cfg.h"
#include "common/err.h"
#include "moderation/mod.h"

struct daemon_mod;

/* The policy of c (its limits; its rules file loaded, a broken one refused with its line
 * and column). *out NULL and TL_OK when moderation is off. Free with daemon_mod_free. */
int daemon_mod_new(const struct cfg *c, struct daemon_mod **out, struct tl_errinfo *ei) TL_WUR;
/* The policy with the rules in force now (valid until daemon_mod_free). */
void daemon_mod_policy(struct daemon_mod *m, struct mod_policy *p);
/* Loads the rules file again; on error the rules in force stay (logged). */
int daemon_mod_reload(struct daemon_mod *m, struct tl_errinfo *ei) TL_WUR;
/* The categories of the policy's per-category limits, comma-separated in slot order
 * (hdl_ctx.mod_categories); "" none. Valid until daemon_mod_free. */
const char *daemon_mod_categories(const struct daemon_mod *m);
/* Starts the rules thread: it records this process's load attempts (at start, on
 * SIGHUP) in the database and reloads the rules when a moderator asks through it
 * (store_mod_rules_request). Runs until *stop; daemon_mod_free joins it. */
int daemon_mod_watch(struct daemon_mod *m, const char *database_url,
                     volatile sig_atomic_t *stop) TL_WUR;
/* Joins the rules thread (after *stop was set) and frees m. NULL is a no-op. */
void daemon_mod_free(struct daemon_mod *m);

#endif
