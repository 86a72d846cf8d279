/* daemon/webhook.h - internal to handlers/: the sender of outgoing webhooks. The
 * runtime starts it next to its other threads. */
#ifndef TL_HDL_WEBHOOK_H
#define TL_HDL_WEBHOOK_H

#include <signal.h>

#include "common/cfg.h"
#include "common/err.h"

struct daemon_webhooks;

struct daemon_webhooks_opts {
    const struct cfg *cfg;       /* database_url, rounded_roles, round_decimals */
    volatile sig_atomic_t *stop; /* the runtime's stop flag */
    long interval_ms;            /* pause when nothing is due; 0: 1000 */
    long retry_base_s;           /* the first retry's delay, doubled each time; 0: 10 */
    int max_attempts;            /* then it gives up; 0: 12 (about 11 hours) */
    long timeout_ms;             /* one post, all in; 0: 15000 */
};

/* Starts the thread: it leases due deliveries (webhook_deliveries), posts each as JSON
 * {"event","delivery","report","feature"} (the feature as the GeoJSON feeds write it,
 * for the subscriber's account) signed with HMAC-SHA256 of "<timestamp>.<body>" under
 * the subscription's secret, or for an incident's change {"event":"incident.changed",
 * "delivery","incident","changes","merged_into","feature"} (the feature as the OGC
 * incidents collection writes it; "changes" what happened since the last post: created,
 * joined, left, corroboration, merged, fused), signed the same way (headers
 * X-Tipline-Timestamp, X-Tipline-Signature: sha256=<hex>, X-Tipline-Event,
 * X-Tipline-Delivery), records every attempt and retries a failure (no 2xx) with
 * exponential backoff. A delivery may arrive twice when the
 * process dies between the receiver's answer and the record of it: receivers keep
 * X-Tipline-Delivery. The thread also keeps the zoomed-out tiles' grid: it builds the
 * cells of points rounded to round_decimals once (when rounded_roles is not empty) and
 * folds the decisions' pending changes in every round. *out NULL on error. */
int daemon_webhooks_start(const struct daemon_webhooks_opts *o,
                          struct daemon_webhooks **out) TL_WUR;
/* Joins the thread (after *stop was set) and frees w. NULL is a no-op. */
void daemon_webhooks_join(struct daemon_webhooks *w);

#endif
