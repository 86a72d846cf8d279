/* daemon/relay.h - internal to daemon/: the relay between analysts and citizens.
 * The runtime starts it next to its other threads and asks it, before a message
 * reaches the conversation, whether the message answers an analyst's question. */
#ifndef TL_DAEMON_RELAY_H
#define TL_DAEMON_RELAY_H

#include <signal.h>

#include "handlers/hdl.h"

struct daemon_relay;

struct daemon_relay_opts {
    const struct cfg *cfg;       /* database_url, notify_reviewed */
    volatile sig_atomic_t *stop; /* the runtime's stop flag */
    long interval_ms;            /* pause between rounds with nothing to do; 0: 500 */
};

/* Starts the relay thread: it queues unrelayed follow-up questions in the reporter's
 * chat (force_reply, the chat's language) or records why it cannot, and queues the
 * neutral "reviewed" notices. *out NULL on error. */
int daemon_relay_start(const struct daemon_relay_opts *o, struct daemon_relay **out) TL_WUR;
/* Joins the thread (after *stop was set) and frees r. NULL is a no-op. */
void daemon_relay_join(struct daemon_relay *r);

/* The worker's hook, before the conversation: when u is a private text message (or a
 * caption) replying to a relayed question of its chat, fills plan with the answer (the
 * followups row) and a short thanks, and sets *taken; the conversation must then not
 * see u. Otherwise *taken = 0 and plan is untouched. Release the plan as usual. */
int daemon_relay_reply(struct store *s, const struct hdl_ctx *ctx, const struct tg_update *u,
                       struct hdl_plan *plan, int *taken, struct tl_errinfo *ei) TL_WUR;

#endif
