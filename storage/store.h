/* storage/store.h - the only place that speaks SQL (libpq, parameterised only).
 *
 * A struct store owns one PGconn and belongs to one thread. Every function that
 * changes state does it in one transaction. When the connection is lost a function
 * returns TL_EDBDOWN (after one PQreset attempt); the caller backs off and retries.
 * Errors carry SQLSTATE and PostgreSQL's message in ei. The SQL is embedded at build
 * time: numbered migrations (storage/migrations/: tables, indexes, data) and one file
 * per function, trigger or view (storage/schema/, the current definition). */
#ifndef TL_STORE_H
#define TL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct idkeys;

struct store;

/* Connects with a libpq conninfo or URI, JIT off for the session (an operator's
 * options=-c jit=on in conninfo wins). *out NULL on error. */
int store_open(const char *conninfo, struct store **out, struct tl_errinfo *ei) TL_WUR;
void store_free(struct store *s);

/* Counts reconnections: +1 each time a lost connection was re-established by PQreset.
 * Session state dies with the old connection: a caller that held the poller lock or
 * a chat (store_chat_claim) and sees this change no longer holds them. */
unsigned long store_generation(const struct store *s);

/* The value of server setting name as this connection sees it (SHOW name). *out: a new
 * string, free with free(); NULL on error. */
int store_setting(struct store *s, const char *name, char **out, struct tl_errinfo *ei) TL_WUR;

/* ---- schema ---- */

/* Under an advisory lock: applies pending migrations, each in its own transaction,
 * recording them with their SHA-256 in schema_migrations (an applied one whose file
 * changed is refused, TL_ESCHEMA naming it); then, in one transaction, re-applies every
 * schema file whose SHA-256 differs from schema_files. A database an earlier tipline
 * migrated through 0001-0017 adopts the baseline first. *applied (may be NULL) = how
 * many migrations and schema files ran. */
int store_migrate(struct store *s, int *applied, struct tl_errinfo *ei) TL_WUR;
/* TL_ESCHEMA (with a message naming the versions and files) unless every migration and
 * every schema file, as this binary has them, is applied. */
int store_schema_check(struct store *s, struct tl_errinfo *ei) TL_WUR;

/* ---- intake (poller) ---- */

/* Tries the session-level advisory lock that makes one process the poller;
 * *got = 1 when this store holds it (until store_free or connection loss). */
int store_poller_lock(struct store *s, int *got, struct tl_errinfo *ei) TL_WUR;

int store_offset_get(struct store *s, long long *offset, struct tl_errinfo *ei) TL_WUR;

struct store_inbox_row {
    long long update_id;
    long long chat_key;          /* the chat's keyed hash (idkeys_chat); 0 when none */
    const char *kind;            /* "message", "callback_query", ...; NULL unknown */
    const unsigned char *sealed; /* the raw Update, sealed (idkeys_seal); never clear */
    size_t sealed_len;
    const unsigned char *chat_sealed; /* the clear chat id, sealed; NULL: none */
    size_t chat_sealed_len;
};

/* In ONE transaction: inserts the rows (a redelivered update_id is ignored), a chats
 * row with the sealed chat id for each chat that has none, and sets the offset to
 * max(stored, new_offset). *inserted (may be NULL) counts new rows. Storage never sees
 * a clear identity: the bytes are opaque to it. */
int store_inbox_put(struct store *s, const struct store_inbox_row *rows, size_t n,
                    long long new_offset, size_t *inserted, struct tl_errinfo *ei) TL_WUR;

/* ---- workers: per-chat order ---- */

/* Finds a chat with unprocessed updates that no other worker holds and takes its
 * session advisory lock. *got = 0 when there is none. The lock is session-level
 * because the chat stays held across several store_apply transactions. Rarely the
 * chat's updates were finished by its previous holder in between: then
 * store_inbox_pending returns none; release and claim again. */
int store_chat_claim(struct store *s, long long *chat_key, int *got, struct tl_errinfo *ei) TL_WUR;
int store_chat_release(struct store *s, long long chat_key, struct tl_errinfo *ei) TL_WUR;

struct store_update {
    long long update_id;
    long long chat_key;    /* the inbox row's: the hash of the update's chat */
    unsigned char *sealed; /* as store_inbox_put got it, and a NUL after them */
    size_t sealed_len;
};
/* The chat's unprocessed updates in update_id order, at most max. *out new array. */
int store_inbox_pending(struct store *s, long long chat_key, size_t max, struct store_update **out,
                        size_t *n, struct tl_errinfo *ei) TL_WUR;
void store_updates_free(struct store_update *u, size_t n);

/* What a handler decided for one update; store_apply writes it all in ONE transaction
 * together with inbox.processed_at. */
struct store_media_new {
    const char *kind; /* "photo" */
    const char *tg_file_id;
    const char *tg_file_unique_id;
    const char *mime;           /* "image/jpeg" */
    const unsigned char *bytes; /* sanitized bytes (never an original with metadata) */
    size_t len;
    int width, height; /* 0 unknown */
    int has_phash;
    uint64_t phash;
    int has_phash_inner; /* the picture inside a screenshot's frame (media_phash_framed) */
    uint64_t phash_inner;
    /* facts read from the photo before it was stripped (never the original bytes) */
    int has_gps;
    double gps_lat, gps_lon;
    double gps_accuracy_m;   /* 0 unknown */
    const char *taken_local; /* camera-local "YYYY-MM-DDTHH:MM:SS", NULL unknown */
    int has_taken_offset;
    int taken_offset_min;  /* minutes east of UTC */
    long long duration_ms; /* videos: from the container's header; 0 unknown or a photo */
};

/* What counts as a duplicate of a new report (storage/schema/store_apply_plan.sql). */
struct store_dedup {
    int on;             /* 0: no folding, no links */
    long window_s;      /* the same reporter's same text or photo within: folded; 0 never */
    int max_distance;   /* 0..14: photos this many bits of perceptual hash apart are linked */
    long seen_before_s; /* a linked photo first seen longer ago flags "seen_before" */
};

/* Moderation's verdict on a new report (moderation/mod.h decides it, handlers/ fills
 * this), written with the report by mod_apply_verdict (storage/schema/). */
struct store_mod_verdict {
    const char *verdict;      /* mod_verdict_name(); "accept" writes no verdict row */
    const char *reasons;      /* comma-separated, NULL none */
    int campaign;             /* 1: held as a campaign */
    long long campaign_id;    /* the campaign to join; 0: a member's, else a new one */
    const long long *members; /* mod_recent ids of the similar messages */
    size_t n_members;
    const char *campaign_kind; /* "text" or "photo" */
    const char *sample;        /* the text a new campaign shows */
    int keep_sig;              /* 1: the report joins the window (a new reporter's) */
    unsigned text_len;
    int has_photo;
    long long phash;
    const char *minhash_hex; /* the signature's minhash, hex */
    const long long *bands;  /* its bands (what the window is read by) */
    size_t n_bands;
    long window_s;                /* the window's length: older rows are dropped */
    double window_read;           /* when the window was read (epoch s, the database's) */
    double min_similarity;        /* a campaign's texts: at least this similar */
    unsigned min_text_len;        /* ... and at least this long */
    int max_phash_distance;       /* a campaign's photos: at most this many bits apart */
    const char *rate_json;        /* the reporter's rate state after this message; NULL keep */
    int ban_notice;               /* this report's reply is the one open-ban notice */
    const char *const *rule_hits; /* the reasons of the rules that matched */
    size_t n_rule_hits;
};

/* The near-duplicate search of a report's photos done in memory (daemon/near.c): for
 * each hash searched, the media ids the index found within the report's max_distance;
 * the index held every stored hash the snapshot sees. The store path rechecks them and
 * reads the rows the snapshot does not see (media_near_seen.sql); a photo hash not
 * listed here is searched there. */
struct store_near_hash {
    long long hash;
    const long long *ids;
    size_t n_ids;
};
struct store_near {
    const char *snapshot; /* pg_current_snapshot() as text */
    const struct store_near_hash *h;
    size_t n;
};

struct store_report_new {
    const char *public_ref; /* short public reference shown to the reporter */
    const char *reporter;   /* pseudonym (hex HMAC) */
    const char *category;   /* NULL: uncategorised */
    const char *text;       /* NULL: none */
    /* the text as it is displayed (controls and bidi overrides neutralised; NULL: the
     * text displays as it is) and the links found in it (mod_links_find) */
    const char *text_display;
    const char *const *links;
    size_t n_links;
    /* the text as folding compares it (mod_text_fold_key), NULL none: stored hashed */
    const char *text_key;
    int has_point;
    double lat, lon;
    const char *point_source; /* telegram_location, venue, live_location, photo_exif, text */
    double accuracy_m;        /* 0 unknown */
    int has_bearing;
    double bearing;
    double observed_at; /* epoch seconds, 0 unknown */
    double sent_at;     /* Telegram message date */
    int forwarded;
    const char *media_group_id; /* NULL none */
    int priority;
    const char *flags; /* comma-separated flags, NULL none */
    /* the settlements a shared place name may mean (JSON array), NULL none */
    const char *place_candidates;
    const struct store_media_new *media;
    size_t n_media;
    struct store_dedup dedup;
    const struct store_near *near;       /* NULL: the store path searches (media_near) */
    const char *status;                  /* NULL: 'new' (the queue); 'held': moderation's */
    const struct store_mod_verdict *mod; /* NULL: moderation did not run */
};

struct store_outbox_new {
    long long chat_id;
    const char *method;
    const char *params_json;
};

struct store_effects {
    long long update_id;                   /* inbox row to mark processed */
    long long chat_id;                     /* reply path: upsert chats when != 0 */
    const char *pseudonym;                 /* chats.reporter and reporters row (upsert) */
    const char *lang;                      /* NULL keep */
    int set_blocked;                       /* -1 keep, 0 unblocked, 1 blocked */
    const struct store_report_new *report; /* NULL: no report */
    const struct store_outbox_new *outbox;
    size_t n_outbox;
    /* relay (follow-ups): a citizen's reply to a relayed question; see store_relay.c */
    long long followup_id; /* 0: none */
    const char *answer;    /* appended to followups.answer (a second reply too) */
    /* the database refused this update's own plan for good: its inbox row is marked
     * processed and refused, and keeps its sealed copy (the others lose theirs when
     * marked) until retention; nothing else of fx is written */
    int refused;
};

/* *report_id (may be NULL) = the new report's id, 0 when none. A public_ref clash
 * returns TL_ECONFLICT (the caller draws another). An update already processed is a
 * no-op (TL_OK, *report_id 0); an update_id not in the inbox is TL_ENOTFOUND;
 * update_id 0 applies the effects without an inbox row (e.g. an analyst's follow-up).
 * Every write of a handler's effects (this, store_apply_batch, store_conv_write and
 * store_conv_defer) goes through one encoder and one SQL function, store_apply_plan. */
int store_apply(struct store *s, const struct store_effects *fx, long long *report_id,
                struct tl_errinfo *ei) TL_WUR;

/* Several updates' effects (one chat's batch) in ONE statement, so one transaction and
 * one commit (one WAL flush with synchronous_commit) instead of n; updates processed
 * already are skipped. Any error rolls back the whole batch and is returned (TL_ECONFLICT
 * for a public_ref clash, TL_ENOTFOUND for a missing inbox row...): the caller then
 * applies the updates one by one with store_apply. report_ids (may be NULL) get each new
 * report's id, 0 when none or on error. */
int store_apply_batch(struct store *s, const struct store_effects *const *fx, size_t n,
                      long long *report_ids, struct tl_errinfo *ei) TL_WUR;

/* ---- sender: the outbox ---- */

struct store_outmsg {
    long long id;
    long long chat_id; /* the chat's keyed hash */
    char *method;
    char *params_json;
    int attempts;
    unsigned char *chat_sealed; /* chats.chat_sealed: the clear id, sealed; NULL: none */
    size_t chat_sealed_len;
};

/* Claims up to max due messages (state pending, not_before <= now, or a 'sending' row
 * whose claim expired), at most one per chat, skipping chats that were sent to less
 * than chat_interval_ms ago; marks them sending. *out new array. */
int store_outbox_claim(struct store *s, size_t max, long chat_interval_ms,
                       struct store_outmsg **out, size_t *n, struct tl_errinfo *ei) TL_WUR;
void store_outmsgs_free(struct store_outmsg *m, size_t n);
int store_outbox_sent(struct store *s, long long id, long long tg_message_id,
                      struct tl_errinfo *ei) TL_WUR;
/* Marks n claimed rows sent (tg_message_ids[i] 0: none; sent_at, which the claim's
 * per-chat interval reads) in one statement. TL_ENOTFOUND when not all n rows were
 * there. */
int store_outbox_sent_many(struct store *s, const long long *ids, const long long *tg_message_ids,
                           size_t n, struct tl_errinfo *ei) TL_WUR;
int store_outbox_retry(struct store *s, long long id, long delay_ms, const char *error,
                       struct tl_errinfo *ei) TL_WUR;
/* Permanent failure; chat_blocked also sets chats.blocked for that chat. */
int store_outbox_failed(struct store *s, long long id, const char *error, int chat_blocked,
                        struct tl_errinfo *ei) TL_WUR;

/* ---- triage ---- */

struct store_report {
    long long id;
    char *public_ref;
    char *reporter; /* pseudonym: never a chat id */
    char *category;
    char *text;
    char *status; /* new, claimed (derived), confirmed, rejected, duplicate, needs_info */
    int priority;
    int has_point;
    double lat, lon;
    char *point_source;
    double accuracy_m;
    double received_at, observed_at;
    char *claimed_by; /* NULL when unclaimed or lease expired */
    double lease_until;
    int n_media;
    int forwarded;
    char *flags;
    int has_photo_point;         /* the first photo's own GPS (kept as a fact, stripped from */
    double photo_lat, photo_lon; /* the stored bytes): compare with the report's point */
};

struct store_triage_filter {
    const char *status;   /* NULL: the open queue (new + needs_info) */
    const char *category; /* NULL: any */
    size_t limit;         /* 0: 50 */
};

int store_triage_list(struct store *s, const struct store_triage_filter *f,
                      struct store_report **out, size_t *n, struct tl_errinfo *ei) TL_WUR;
/* Claims as store_web_claim does (web_claim: the analyst's queues, restricted ones for
 * members only; the claim and the view audited), leasing the report to analyst for
 * lease_s seconds. *out NULL when nothing is claimable. */
int store_triage_next(struct store *s, const char *analyst, long lease_s, struct store_report **out,
                      struct tl_errinfo *ei) TL_WUR;
/* By numeric id or public ref. TL_ENOTFOUND when absent. */
int store_triage_get(struct store *s, const char *id_or_ref, struct store_report **out,
                     struct tl_errinfo *ei) TL_WUR;
/* store_triage_get as the analyst sees it: TL_ENOTFOUND for a report of a queue the
 * analyst may not see; the view is audited (web_report_doc). */
int store_triage_show(struct store *s, const char *id_or_ref, const char *analyst,
                      struct store_report **out, struct tl_errinfo *ei) TL_WUR;
/* store_report_decide for the analyst (an account name, or any name: then the queues
 * every account sees): needs the analyst's live lease. */
int store_triage_decide(struct store *s, const char *id_or_ref, const char *analyst,
                        const char *decision, const char *note, struct tl_errinfo *ei) TL_WUR;
/* store_triage_decide, then the analyst's next report claimed (store_web_decide_next: one
 * round trip for both); *next NULL when nothing is claimable. */
int store_triage_decide_next(struct store *s, const char *id_or_ref, const char *analyst,
                             const char *decision, const char *note, long lease_s,
                             struct store_report **next, struct tl_errinfo *ei) TL_WUR;
void store_report_free(struct store_report *r);
void store_reports_free(struct store_report *r, size_t n);

/* The queue at a glance: reports per status ('new' here counts only the unclaimed
 * ones; claimed = new under a live lease), and the age of the oldest unclaimed new
 * report in seconds (0 when none). */
struct store_triage_stats {
    long long new_, claimed, confirmed, rejected, duplicate, needs_info, escalated;
    double oldest_new_age_s;
};
int store_triage_stats(struct store *s, struct store_triage_stats *st,
                       struct tl_errinfo *ei) TL_WUR;

/* ---- priority: the queue's score and corroboration (storage/store_priority.c) ----
 * reports.priority and reports.corroborations are kept by migration 0007's triggers on
 * every insert and change; the formula and its weights are in docs/priority.md. */

struct store_priority_weight {
    char *key; /* category.NAME, flag.NAME, corroboration.*, recency.*, reputation.*, banned */
    double value;
    char *description;
};
/* All weights, by key. *out new array: free with store_priority_weights_free. */
int store_priority_weights(struct store *s, struct store_priority_weight **out, size_t *n,
                           struct tl_errinfo *ei) TL_WUR;
void store_priority_weights_free(struct store_priority_weight *w, size_t n);

/* Sets one weight (a category.NAME or flag.NAME key may be new) and, in the same
 * transaction, re-scores every queued report; a changed corroboration rule (radius,
 * window, same_category) first recounts the queued reports within the recency horizon.
 * Audited as actor. *changed (may be NULL) = priorities that changed. TL_EINVAL for an
 * unknown key or a value outside its range. */
int store_priority_set(struct store *s, const char *actor, const char *key, double value,
                       long long *changed, struct tl_errinfo *ei) TL_WUR;

struct store_priority_refresh {
    long long scored;     /* queued reports within the recency horizon (+1 h) */
    long long changed;    /* of those, priorities written */
    long long recounted;  /* corroborations corrected (reports of the last window + 1 h) */
    long long propagated; /* neighbours' corroborations changed by rejections since the last call */
};
/* The bounded periodic refresh (recency decay, missed corroborations), one transaction;
 * rows other transactions hold are left for the next call. Call it every minute or so
 * (at least hourly): see docs/priority.md. out may be NULL. */
int store_priority_refresh(struct store *s, struct store_priority_refresh *out,
                           struct tl_errinfo *ei) TL_WUR;

/* Synthetic queued reports for benchmarks: n reports (public refs S-<i>) from
 * n/10 reporters (a few prolific, 1 % banned), categories in a realistic mix, 90 %
 * with a point near one of 16 Ukrainian cities, received over the last `hours`,
 * photo_share of them with a media row (no bytes), scored by the formula. Bulk
 * load: needs a superuser (triggers are off while it runs), batches of 50,000 rows,
 * then VACUUM ANALYZE and a CHECKPOINT. *inserted (may be NULL) = reports added. */
struct store_seed_opts {
    long long n;
    double hours;       /* 0: 48 */
    double photo_share; /* 0..1 */
    unsigned seed;      /* same seed, same data */
};
int store_queue_seed(struct store *s, const struct store_seed_opts *o, long long *inserted,
                     struct tl_errinfo *ei) TL_WUR;

/* ---- retention ---- */

struct store_purged {
    long long inbox, chats, outbox, drafts, events; /* rows deleted */
};
/* In one transaction deletes: processed inbox rows processed more than
 * inbox_retention_days ago; chats not seen for chat_retention_days (the raw chat
 * ids), with their drafts and their sent/failed outbox rows older than that;
 * expired drafts; live events older than 10 minutes and the registrations of web
 * servers whose sessions are gone. A retention of 0 or less keeps that kind forever. out may be
 * NULL. */
int store_purge(struct store *s, long chat_retention_days, long inbox_retention_days,
                struct store_purged *out, struct tl_errinfo *ei) TL_WUR;

/* ---- counters (demo, bench, health) ---- */

struct store_stats {
    long long inbox_total, inbox_pending;
    long long outbox_pending, outbox_sent, outbox_failed;
    long long reports;
    long long offset;
};
int store_stats_get(struct store *s, struct store_stats *st, struct tl_errinfo *ei) TL_WUR;

/* ---- operations: /metrics and /readyz (store_ops.c) ---- */

struct store_metric {
    char *name;   /* a Prometheus metric name */
    char *labels; /* the text between the braces, "" for none */
    double value;
};
/* The database's samples (storage/schema/ops_metrics.sql). *out: store_metrics_free. */
int store_ops_metrics(struct store *s, struct store_metric **out, size_t *n,
                      struct tl_errinfo *ei) TL_WUR;
void store_metrics_free(struct store_metric *m, size_t n);

/* ---- a streaming replica's distance (store_ops.c; web/replica.c reads with it) ----
 * WAL positions as bytes from 0/0. The primary's current write position: */
int store_wal_position(struct store *primary, long long *lsn, struct tl_errinfo *ei) TL_WUR;
/* The position a replica has replayed up to, and (age_s not NULL) the seconds since the
 * last transaction it replayed was committed (-1: none since it started); TL_EINVAL when
 * the server is no replica (not in recovery: a promoted one takes writes nobody else
 * sees). */
int store_replica_replayed(struct store *replica, long long *lsn, double *age_s,
                           struct tl_errinfo *ei) TL_WUR;

/* Retention as `tipline purge` runs it (storage/schema/ops_purge.sql): what store_purge
 * removes, and the photos of reports rejected more than photo_days ago (0: kept); an
 * audit row names actor. dry_run: the same in a transaction rolled back, so the counts
 * are exact and nothing changes (and nothing is audited). */
struct store_retention {
    long chat_days, inbox_days, photo_days;
    long long inbox, chats, outbox, drafts, events, photos; /* rows (to be) deleted */
};
int store_retention_run(struct store *s, struct store_retention *r, int dry_run, const char *actor,
                        struct tl_errinfo *ei) TL_WUR;

/* ---- relay: analysts' follow-up questions and reviewed notices (bot side) ----
 * The analysts' side (web/) inserts followups rows and decides reports; the bot's relay
 * finds them here and queues the messages in the outbox. The chat id stays between
 * storage/ and handlers/: it is handed to the composer, never returned to a caller that
 * an analyst reaches. */

/* One message the relay may send: a follow-up question, or a reviewed notice. */
struct store_relay_item {
    long long id;           /* followups.id, or reports.id for a reviewed notice */
    const char *public_ref; /* the report's public reference */
    const char *question;   /* the analyst's question; NULL for a reviewed notice */
    long long chat_id;      /* the reporter's chat; 0 when gone (retention purged it) */
    const char *lang;       /* chats.lang; NULL unknown */
    int blocked;            /* the chat blocked the bot */
};

/* Builds the sendMessage parameters for it: TL_OK with *params_json a new string
 * (free()), or TL_OK with *params_json NULL and *refusal a static reason that is recorded
 * instead (e.g. the text would be too long). Another error aborts the whole batch. */
typedef int (*store_relay_compose_fn)(void *ud, const struct store_relay_item *it,
                                      char **params_json, const char **refusal);

struct store_relay_counts {
    long long queued;  /* outbox rows written */
    long long refused; /* relay_error set (follow-ups), or marked without a message */
};

/* In ONE transaction: claims up to max unrelayed follow-ups (FOR UPDATE SKIP LOCKED,
 * oldest first), and for each either writes the outbox row (linked to the follow-up)
 * and sets relayed_at, or sets relay_error when the reporter's chat is gone or blocked
 * or the composer refused. c may be NULL. */
int store_relay_followups(struct store *s, size_t max, store_relay_compose_fn compose, void *ud,
                          struct store_relay_counts *c, struct tl_errinfo *ei) TL_WUR;

/* In ONE transaction: claims up to max decided reports (confirmed, rejected, duplicate)
 * whose reporter was not yet told, and sets reviewed_notified_at; with send, also writes
 * a neutral notice for each one whose chat is there and not blocked. needs_info and
 * escalated reports wait (the follow-up is the message; the decision is not final). */
int store_relay_reviewed(struct store *s, size_t max, int send, store_relay_compose_fn compose,
                         void *ud, struct store_relay_counts *c, struct tl_errinfo *ei) TL_WUR;

/* A question Telegram refuses for good (its outbox row failed: the chat blocked the bot
 * meanwhile) gets relay_error "not delivered: <Telegram's reason>" in the transaction of
 * the failure (a trigger of migration 0008): nothing to call. */

/* The follow-up a message of chat_id replying to message_id answers: *followup_id
 * (0 when the message is no relayed question), its report's *public_ref and the chat's
 * *lang (new strings, free(); NULL when none). */
int store_followup_by_reply(struct store *s, long long chat_id, long long message_id,
                            long long *followup_id, char **public_ref, char **lang,
                            struct tl_errinfo *ei) TL_WUR;
/* ---- the citizen conversation (handlers/draft.c, wizard.c): drafts, photos, messages ----
 *
 * A chat's updates are handled in ONE transaction per batch: store_conv_begin opens it
 * and reads the chat's draft (locked FOR UPDATE, so the janitor's expiry cannot race
 * it); each update's effects are written with store_conv_write; store_conv_commit ends
 * it. Any error rolls the whole transaction back. */

struct store_conv_state {
    char *draft_json;        /* drafts.state, NULL when the chat has no draft */
    long long prompt_msg_id; /* Telegram id of the draft's keyboard message, 0 unknown */
    char *chat_lang;         /* chats.lang, NULL unknown */
    int notice_sent;         /* a group/channel was told once that the bot is private-only */
};
void store_conv_state_release(struct store_conv_state *st);

/* BEGIN, then reads chat_id's conversation state. On error nothing is left open. */
int store_conv_begin(struct store *s, long long chat_id, struct store_conv_state *st,
                     struct tl_errinfo *ei) TL_WUR;

/* What one update's handling needs to know beyond the draft, read in the transaction. */
struct store_conv_lookup {
    /* in: the citizen's edited message id (0 none); out: the sent report it belongs to */
    long long edit_msg_id;
    char edit_ref[16]; /* "" when the message belongs to no sent report */
    /* in: a report's public ref whose messages the citizen asked to delete (NULL none),
     * with the asker's pseudonym; or, when clear_draft_id != 0, that draft's messages */
    const char *clear_ref;
    const char *pseudonym;
    long long clear_draft_id;
    long long max_age_s; /* older messages cannot be deleted (Telegram: 48 h) */
    /* out: the message ids that can be deleted (new array, free()), and how many of the
     * report's messages cannot (too old, or never delivered) */
    long long *del_ids;
    size_t n_del, n_undeletable;
    int clear_found; /* the ref names a report of this reporter sent from this chat */
    /* in: the reporter whose moderation inputs to read (a draft about to become a
     * report), NULL none; the campaign window's length and most rows */
    const char *mod_reporter;
    long long mod_draft_id; /* the draft whose first photo's hash campaigns compare */
    long long mod_bands[8]; /* the window rows read: those sharing a band of the text's */
    size_t mod_nbands;      /* signature (0: none) ... */
    int mod_photo;          /* ... or holding a photo, when the draft has one */
    long mod_window_s;
    size_t mod_window_max;
    /* out: what moderation decides with (free with store_conv_lookup_release) */
    int mod_loaded;
    struct store_mod_inputs {
        int known; /* the reporters row exists */
        double reputation;
        int banned, shadow_banned, ban_notice_sent;
        double first_seen; /* epoch seconds */
        long n_reports, n_confirmed, n_rejected;
        char *rate_json; /* reporter_rate.state, NULL none */
        double now;      /* the database's clock, epoch seconds */
        int has_phash;   /* the draft's first photo's perceptual hash */
        long long phash;
        struct store_mod_recent {
            long long id, campaign; /* campaign: a held campaign's id, else 0 */
            char *reporter;
            double at; /* epoch seconds */
            unsigned text_len;
            int has_photo;
            long long phash;
            char *minhash_hex;
        } * window;
        size_t n_window;
    } mod;
};
/* Frees what store_conv_lookup returned (del_ids, the moderation inputs). */
void store_conv_lookup_release(struct store_conv_lookup *lk);

/* ---- the near-duplicate index in memory (store_near.c, daemon/near.c) ---- */

/* Called for each stored hash read (the whole photo's and the framed picture's alike);
 * anything but TL_OK stops the read and is returned. */
typedef int (*store_near_fn)(void *arg, long long hash, long long media_id);
/* Every stored hash, read in one snapshot, in pages (a cursor); *snapshot: that snapshot
 * as text (new string, free()). Outside a transaction of the caller's. */
int store_near_load(struct store *s, store_near_fn fn, void *arg, char **snapshot,
                    struct tl_errinfo *ei) TL_WUR;
/* The stored hashes snapshot does not see and a new snapshot does, read in one statement
 * that takes it (*snapshot_new, new string, free()). Outside a transaction. */
int store_near_since(struct store *s, const char *snapshot, store_near_fn fn, void *arg,
                     char **snapshot_new, struct tl_errinfo *ei) TL_WUR;
/* The perceptual hashes (whole and framed) of a draft's photos, in the chat's open
 * transaction, after the updates held so far are written: *hashes a new array (free()),
 * *n its length. */
int store_conv_draft_phashes(struct store *s, long long chat_id, long long draft_id,
                             long long **hashes, size_t *n, struct tl_errinfo *ei) TL_WUR;
int store_conv_lookup(struct store *s, long long chat_id, struct store_conv_lookup *lk,
                      struct tl_errinfo *ei) TL_WUR;

struct store_conv_out {
    long long chat_id;
    const char *method;
    const char *params_json;
    int prompt; /* this message carries the draft's keyboard: its id goes into the draft */
    int track;  /* one of the draft's messages (deleted by "Clear this chat") */
    /* 0 always sent; STORE_OUT_NEW only when the update's report is stored as new,
     * STORE_OUT_FOLDED only when it is folded into an earlier one (its reference then
     * stands where the params say STORE_FOLD_REF) */
    int when;
};
enum { STORE_OUT_NEW = 1, STORE_OUT_FOLDED = 2 };
#define STORE_FOLD_REF "{{fold_ref}}"

enum store_draft_op { STORE_DRAFT_KEEP = 0, STORE_DRAFT_PUT, STORE_DRAFT_DELETE };

struct store_conv_effects {
    long long chat_id;
    enum store_draft_op draft_op;
    const char *draft_json;              /* STORE_DRAFT_PUT */
    long long draft_id;                  /* the draft the media and messages belong to */
    long idle_minutes;                   /* STORE_DRAFT_PUT: expires_at = now() + idle_minutes */
    const struct store_media_new *media; /* sanitized photos added to the draft */
    size_t n_media;
    long long user_msg_id; /* the citizen's message, tracked with the draft (0 none) */
    const struct store_conv_out *out;
    size_t n_out;
    const char *addendum_ref; /* an edit after sending: report (this reporter's) */
    const char *addendum_text;
    const char *addendum_reporter;
    int notice; /* record that this (non-private) chat was told */
    /* 1: fx's chats/reporters rows were written earlier in this transaction and fx has
     * no report and no change to them: their upserts are left out */
    int only_mark;
};

/* In the open transaction: fx (inbox row processed, chats and reporters upserts, the
 * report; fx->outbox must be empty) as store_apply writes it, then cx: the draft
 * written or deleted, its photos, the outbox rows (their ids recorded with the draft's
 * messages; the prompt's id in the draft as "po"), the addendum. When fx carries a
 * report, the draft's photos and messages move onto it. The updates store_conv_defer
 * holds are written first, in the same call. *report_id (may be NULL) as store_apply.
 * TL_ECONFLICT on a public_ref clash. An update processed already writes nothing. */
int store_conv_write(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, long long *report_id,
                     struct tl_errinfo *ei) TL_WUR;
int store_conv_commit(struct store *s, struct tl_errinfo *ei) TL_WUR;
void store_conv_rollback(struct store *s);
/* The reports written since store_conv_begin (after store_conv_commit: all of the
 * transaction's, held ones included); 0 after store_conv_rollback. */
long long store_conv_reports(const struct store *s);

/* ---- intake throughput: a chat's updates written together ----
 * In the transaction store_conv_begin opened: holds back an update's effects (fx and cx
 * as store_conv_write takes them; cx may be NULL) to be written, with the other held
 * updates and in their order, in ONE call of the write path before the transaction's
 * next store_conv_write, store_conv_lookup or store_conv_commit; store_conv_rollback
 * drops them. Updates that create reports are held too (store_conv_reports counts them
 * once written); *deferred = 0 only when the plan is full (write it with
 * store_conv_write). A held update processed already writes nothing; any error fails
 * the call as a whole, so the caller then falls back to one update per transaction. */
int store_conv_defer(struct store *s, const struct store_effects *fx,
                     const struct store_conv_effects *cx, int *deferred,
                     struct tl_errinfo *ei) TL_WUR;

/* The janitor's pass over drafts, in one transaction: drafts idle for remind_after_s
 * (and not reminded) get the reminder (text by the draft's "lang": uk or en, as given)
 * queued and reminded_at set; drafts past expires_at are deleted with their photos and
 * the discard notice queued. Rows a worker holds are skipped (next pass). Also drops
 * conversation messages older than two days and photos whose draft is gone. */
struct store_conv_janitor {
    long remind_after_s;
    const char *remind_params_uk, *remind_params_en; /* sendMessage params without chat_id */
    const char *expired_params_uk, *expired_params_en;
    long long reminded, expired; /* out */
};
int store_conv_janitor(struct store *s, struct store_conv_janitor *j, struct tl_errinfo *ei) TL_WUR;

/* ---- identity keys (store_idkey.c): check values, rotation, the upgrade ---- */

/* *pending = 1 while the database still holds clear Telegram ids from before 0025. */
int store_identity_pending(struct store *s, int *pending, struct tl_errinfo *ei) TL_WUR;

/* Refuses (TL_ECONFIG, a message naming the key) keys that are not the ones this
 * database was written with, a database whose values were sealed under a key k lacks,
 * and (TL_ESCHEMA) a database not yet upgraded; records the check value of keys seen
 * for the first time. key_file names the file in the messages. */
int store_idkeys_verify(struct store *s, const struct idkeys *k, const char *key_file,
                        struct tl_errinfo *ei) TL_WUR;

/* Re-seals under k's current key every sealed value (chats, inbox) that another key
 * sealed, batch values per statement, each written only if unchanged since it was read,
 * while the bot runs. *left counts what is still under another key at the end (a
 * process that still seals with an older key wrote it). */
int store_idkeys_rotate(struct store *s, const struct idkeys *k, size_t batch, size_t *moved,
                        size_t *left, struct tl_errinfo *ei) TL_WUR;

/* Once nothing is sealed under another key than keep_id (chats, inbox, sealed_texts,
 * counted in *left, in the same snapshot), forgets the check values of every other data
 * key, so a process started without them is no longer refused; *retired counts them.
 * With *left > 0 nothing is forgotten. */
int store_idkeys_retire(struct store *s, int keep_id, size_t *left, size_t *retired,
                        struct tl_errinfo *ei) TL_WUR;

/* Keeps, sealed, the full text of a message the bot masked (chat: its hash), in the
 * transaction open on s, if any. */
int store_sealed_text_put(struct store *s, long long chat, long long message_id,
                          const unsigned char *sealed, size_t len, struct tl_errinfo *ei) TL_WUR;

/* A lost key: what it sealed is dropped (those chats can no longer be answered; their
 * raw updates are marked processed) and its check value forgotten. */
int store_idkeys_forget(struct store *s, int key_id, size_t *lost, struct tl_errinfo *ei) TL_WUR;

/* The one-time rewrite of a database written before identities were sealed, in one
 * transaction: every chat_id and chat key becomes its hash, each chat's id is sealed in
 * chats, unhandled raw updates are sealed, handled ones redacted; then VACUUM FULL of
 * those tables. Nothing to do (all counts 0) when identity_upgrade is not pending. */
int store_identity_seal_existing(struct store *s, const struct idkeys *k, size_t *chats,
                                 size_t *updates, size_t *redacted, struct tl_errinfo *ei) TL_WUR;

#endif
