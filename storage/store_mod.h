/* storage/store_mod.h - the moderators' reads and actions: held reports, campaigns,
 * bans, the rules' reloads. Part of storage/ (store.h: the connection, errors and the
 * conventions every call follows). */
#ifndef TL_STORE_MOD_H
#define TL_STORE_MOD_H

#include "store.h"

/* ---- moderation: the moderators' reads and actions (store_mod.c) ----
 * Documents are JSON text (new strings, free()). Reporters appear by the first 16
 * characters of their pseudonym, never more. Every action is audited as actor. */
struct store_mod_filter {
    const char *verdict; /* NULL any: flag, hold, drop, refuse, rate_limited, banned, ... */
    long long campaign;  /* 0 any; else that campaign's members */
    long limit;          /* 1..500 (0: 100) */
};
/* {"items":[{id, ref, reporter, category, text (raw), text_display, links, status,
 * verdict, reasons, campaign_id, at}]}: what moderation held or flagged and no moderator resolved
 * yet, newest first. */
int store_mod_held(struct store *s, const struct store_mod_filter *f, char **json,
                   struct tl_errinfo *ei) TL_WUR;
/* {"items":[{id, status, kind, sample, created_at, last_at, reports, reporters,
 * decided_by, decided_at}]}, newest first; status NULL: any, else held, released or
 * rejected. */
int store_mod_campaigns(struct store *s, const char *status, long limit, char **json,
                        struct tl_errinfo *ei) TL_WUR;
/* mod_resolve (storage/schema/): what ("campaign" or "report") id released or rejected
 * (action "release" | "reject"); {"what","id","action","reports"}. TL_ENOTFOUND nothing
 * open by that id, TL_ECONFLICT a campaign decided already, TL_EINVAL a bad action. */
int store_mod_resolve(struct store *s, const char *actor, const char *what, long long id,
                      const char *action, char **json, struct tl_errinfo *ei) TL_WUR;
/* mod_ban (storage/schema/): mode "ban" | "shadow" | "unban" the one reporter whose
 * pseudonym starts with prefix (6+ hex); sweep: their open reports are held too.
 * {"reporter","banned","shadow_banned","reason","reputation","swept"}. TL_ENOTFOUND,
 * TL_ECONFLICT (the prefix names several), TL_EINVAL. */
int store_mod_ban(struct store *s, const char *actor, const char *prefix, const char *mode,
                  const char *reason, int sweep, char **json, struct tl_errinfo *ei) TL_WUR;
/* {"reason": hits, ...}: the rules' matches counted at intake. */
int store_mod_rule_hits(struct store *s, char **json, struct tl_errinfo *ei) TL_WUR;

/* Rules reloads through the database (no signal reaches a bot on another host). A
 * request is a row of mod_rules_reloads, audited as actor, and a notification on
 * tipline_mod_rules; *id is the request's. */
int store_mod_rules_request(struct store *s, const char *actor, long long *id,
                            struct tl_errinfo *ei) TL_WUR;
/* {"id","requested_by","requested_at","answered","outcomes":[load]}: the bot processes'
 * answers to request id (a load is {process, reload_id, at, ok, file, rules, loaded_at,
 * error, line, column}; rules and loaded_at: the set in force after it). *answered: how
 * many processes answered. TL_ENOTFOUND no such request. */
int store_mod_rules_reload_doc(struct store *s, long long id, char **json, int *answered,
                               struct tl_errinfo *ei) TL_WUR;
/* {"processes":[load]}: each bot process's newest load attempt (last 30 days), newest
 * first. */
int store_mod_rules_status(struct store *s, char **json, struct tl_errinfo *ei) TL_WUR;
/* A bot process's load attempt (at start, on SIGHUP, or answering reload_id). */
struct store_mod_rules_load {
    const char *process; /* host:pid */
    long long reload_id; /* 0: none */
    int ok;              /* 0: refused, the set in force stayed */
    const char *file;    /* NULL: no rules file */
    size_t rules;        /* rules in force after the attempt */
    double loaded_at;    /* when the set in force was loaded (epoch s; 0: none) */
    const char *error;   /* !ok: what is wrong */
    unsigned line, column;
};
int store_mod_rules_record(struct store *s, const struct store_mod_rules_load *l,
                           struct tl_errinfo *ei) TL_WUR;
/* For the bot's rules thread: LISTENs on tipline_mod_rules (again after a reconnect;
 * *listening is the caller's, 0 at first) and waits up to timeout_ms for a notification.
 * *latest: the newest request's id when told (or just after LISTEN), else -1. */
int store_mod_rules_wait(struct store *s, unsigned long *listening, long timeout_ms,
                         long long *latest, struct tl_errinfo *ei) TL_WUR;

#endif
