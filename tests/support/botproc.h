/* tests/support/botproc.h - what the tests that run the real `tipline` binary as child
 * processes share (intake, standby, webhook, notify, backup): waiting for the database to show
 * a count, and stopping a child cleanly or for good. Compiled into those tests. */
#ifndef TL_BOTPROC_H
#define TL_BOTPROC_H

#include <sys/types.h>

#include "fakebot/fakebot.h"

/* Forks `tipline bot` (TL_TIPLINE_BIN) on conninfo and the fake Bot API fb, with the
 * pseudonym key file key, 1 s long polls, no send pacing and 2 workers; its stderr goes to
 * logfile (NULL: kept). extra: "NAME=VALUE" settings applied after those (NULL-terminated;
 * NULL for none). Returns the child's pid. */
pid_t bp_spawn(const char *conninfo, struct fakebot *fb, const char *key, const char *logfile,
               const char *const *extra);

/* A loopback port nobody listens on (the kernel's pick, released), for a child to listen on. */
unsigned bp_free_port(void);

/* Waits until sql (one count) on conninfo reaches want; fails the test after timeout_ms. */
void bp_wait_count(const char *conninfo, const char *sql, long long want, long timeout_ms);

/* SIGTERM, then asserts the child exited 0; *pid becomes 0. */
void bp_term(pid_t *pid);

/* SIGKILL and reap, asserting nothing (for teardowns); *pid becomes 0. No-op if *pid <= 0. */
void bp_kill(pid_t *pid);

#endif
