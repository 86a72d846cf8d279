/* storage/store_web.h - what the analysts' web API asks of the database: accounts,
 * tokens and sessions, reports, claims, decisions, incidents, the live events. Part of
 * storage/ (store.h: the connection, errors and the conventions every call follows). */
#ifndef TL_STORE_WEB_H
#define TL_STORE_WEB_H

#include "store.h"

/* ---- web: the analysts' API (storage/store_web.c; accounts, tokens and sessions:
 * store_accounts.c) ----
 * Documents come back as JSON text built by storage/schema/'s SQL functions (new
 * strings: free with free()). Every report a caller reads or changes must sit in a
 * queue the caller may see (restricted queues: members and admins only). */

/* 1 when role is analyst, moderator, exporter or admin. */
int store_role_known(const char *role);

/* Creates account name with role and one API token (only its SHA-256 hex is given);
 * audited as actor. TL_ECONFLICT when the name exists, TL_EINVAL for a bad role. */
int store_account_add(struct store *s, const char *actor, const char *name, const char *role,
                      const char *token_sha256, struct tl_errinfo *ei) TL_WUR;
/* {"accounts":[{name, role, disabled, created_at, queues, last_used_at}]} */
int store_account_list(struct store *s, char **json, struct tl_errinfo *ei) TL_WUR;
/* Disables the account and ends its sessions; audited. TL_ENOTFOUND when absent. */
int store_account_disable(struct store *s, const char *actor, const char *name,
                          struct tl_errinfo *ei) TL_WUR;
/* Lets account see (restricted) queue; audited. TL_ENOTFOUND for an unknown either. */
int store_queue_member_add(struct store *s, const char *actor, const char *queue,
                           const char *account, struct tl_errinfo *ei) TL_WUR;

/* Creates queue name, or changes whether it is restricted; audited. */
int store_queue_add(struct store *s, const char *actor, const char *name, int restricted,
                    struct tl_errinfo *ei) TL_WUR;
/* Routes category to queue (TL_ENOTFOUND for an unknown queue); the category's open
 * reports move with it. Audited. */
int store_category_route(struct store *s, const char *actor, const char *category,
                         const char *queue, int moving, struct tl_errinfo *ei) TL_WUR;
/* {"queues":[{name, restricted, members, categories, open}]} */
int store_queue_list(struct store *s, char **json, struct tl_errinfo *ei) TL_WUR;

struct store_principal {
    char account[64];
    char role[16];
    char csrf[65];      /* sessions only; "" for a bearer token */
    long long valid_ms; /* how much longer it holds by time alone (a token's expiry, a
                           session's 12 hours); -1: no such limit */
};
/* TL_EAUTH unless the token is known, unrevoked, unexpired and its account enabled. */
int store_auth_token(struct store *s, const char *token_sha256, struct store_principal *p,
                     struct tl_errinfo *ei) TL_WUR;
/* Stores a console session (only the SHA-256 of its cookie) and audits the login;
 * sessions idle longer than idle_minutes are swept. */
int store_session_create(struct store *s, const char *account, const char *sid_sha256,
                         const char *csrf, long idle_minutes, struct tl_errinfo *ei) TL_WUR;
/* TL_EAUTH unless the session exists, was used within idle_minutes, is younger than 12
 * hours (a working day: then log in again) and its account is enabled; touches it. */
int store_auth_session(struct store *s, const char *sid_sha256, long idle_minutes,
                       struct store_principal *p, struct tl_errinfo *ei) TL_WUR;
int store_session_delete(struct store *s, const char *sid_sha256, struct tl_errinfo *ei) TL_WUR;

/* Who is asking: the account (its queues) and how it sees points. */
struct store_who {
    const char *account;
    int round_decimals; /* -1: exact points; else rounded to that many decimals */
};

struct store_web_filter {
    const char *status;        /* NULL any; new, claimed, unclaimed, confirmed, ... */
    const char *category;      /* NULL any */
    const char *since, *until; /* ISO 8601 (validated by the caller), NULL open */
    int has_bbox;
    double bbox[4];          /* W, S, E, N */
    int has_photo;           /* -1 any, 0 without media, 1 with */
    long min_corroborations; /* -1 any */
    long limit;              /* list: 1..200 (0: 50); export: 0 = 10000 */
    int has_after;           /* keyset cursor: rows older than (after_us, after_id) */
    long long after_us, after_id;
};
/* {"items":[summary...],"next":"<us>_<id>"|null}, newest first. */
int store_web_reports(struct store *s, const struct store_who *who,
                      const struct store_web_filter *f, char **json, struct tl_errinfo *ei) TL_WUR;
/* The full report, its reporter (web_reporter_doc: counters of the reports the caller
 * may see, and reporter.recent, the reporter's latest 10 other reports the caller may
 * see); audit_view writes a 'view' row. TL_ENOTFOUND when absent or hidden. */
int store_web_report(struct store *s, const struct store_who *who, const char *id_or_ref,
                     int audit_view, char **json, struct tl_errinfo *ei) TL_WUR;
/* The reporter of a report the caller may see, with its history (web_report_reporter:
 * the counters and reporter.recent, as store_web_report shows them), or null for a report
 * without one; TL_ENOTFOUND when the report is absent or hidden. Not audited: it names
 * other reports by reference only, each audited when opened. */
int store_web_report_reporter(struct store *s, const struct store_who *who, const char *id_or_ref,
                              char **json, struct tl_errinfo *ei) TL_WUR;
/* Claims the highest-priority, oldest claimable report of the caller's queues (queue:
 * only that one; TL_ENOTFOUND when unknown or hidden), FOR UPDATE SKIP LOCKED; audited
 * with the view. *id and *json (the full report as store_web_report shows it, but for
 * reporter.recent: store_web_report_reporter) are 0 and NULL
 * when nothing is claimable. One round trip. */
int store_web_claim(struct store *s, const struct store_who *who, const char *queue, long lease_s,
                    long long *id, char **json, struct tl_errinfo *ei) TL_WUR;
/* {"lease_until":ISO}; TL_ECONFLICT unless the caller holds the lease. Audited. */
int store_web_renew(struct store *s, const struct store_who *who, const char *id_or_ref,
                    long lease_s, char **json, struct tl_errinfo *ei) TL_WUR;
int store_web_release(struct store *s, const struct store_who *who, const char *id_or_ref,
                      struct tl_errinfo *ei) TL_WUR;

struct store_decision {
    const char *id_or_ref;
    const char *analyst;    /* the deciding account: its queues limit what it may decide */
    const char *decision;   /* confirmed, rejected, duplicate, needs_info, escalated */
    const char *note;       /* NULL none; stored on the report */
    long long duplicate_of; /* 0 none; > 0 with 'duplicate' only */
    int override;           /* an admin deciding without holding the lease (audited) */
    int minimal;            /* store_web_decide: what the decision changed, not the report */
};
/* The one decision of the CLI and the API (web_decide): status, note, duplicate link,
 * reporter counters and the audit row with before/after, in one transaction. The
 * analyst must hold the report's live lease (TL_ECONFLICT: not claimed, claimed by
 * another, or already decided: reopen it first), unless an admin overrides
 * (TL_EFORBIDDEN for anyone else). TL_ENOTFOUND when absent or in a queue the analyst
 * may not see; a duplicate_of the analyst may not see is TL_EINVAL as one that does not
 * exist. *id (may be NULL) = the report's id. */
int store_report_decide(struct store *s, const struct store_decision *d, long long *id,
                        struct tl_errinfo *ei) TL_WUR;
/* store_report_decide, then the full report as who sees it (not audited as a view), in
 * one round trip; with d->minimal the decision's fields and the reporter's counters
 * (web_decision_doc: id, ref, status, claimed_by, lease_until, decided_by, decided_at,
 * note, duplicate_of, priority, reporter) instead. */
int store_web_decide(struct store *s, const struct store_who *who, const struct store_decision *d,
                     char **json, struct tl_errinfo *ei) TL_WUR;
/* "Decide, then next" in one round trip: the decision (as store_web_decide with
 * d->minimal) and, in the same transaction, the claim of the caller's next report (as
 * store_web_claim; queue NULL: any of the caller's queues). *json =
 * {"decision":{...},"next":<full report>|null}; *next_id 0 when nothing was claimable. */
int store_web_decide_next(struct store *s, const struct store_who *who,
                          const struct store_decision *d, const char *queue, long lease_s,
                          long long *next_id, char **json, struct tl_errinfo *ei) TL_WUR;
/* Takes back the decision of a report (status 'new', the reporter's counters undone)
 * and leases it to who; audited. Only the decider or an admin (TL_EFORBIDDEN);
 * TL_ECONFLICT when the report is not decided. *json: the full report. */
int store_web_reopen(struct store *s, const struct store_who *who, const char *id_or_ref,
                     long lease_s, char **json, struct tl_errinfo *ei) TL_WUR;
/* Inserts a followups row (the bot relays it); {"followup":{...}}. TL_ECONFLICT while
 * another analyst holds the lease; TL_EINVAL for an empty or too long question. */
int store_web_followup(struct store *s, const struct store_who *who, const char *id_or_ref,
                       const char *question, char **json, struct tl_errinfo *ei) TL_WUR;
/* Picks candidate idx (0-based) of a report's place_candidates as its point (the
 * place_ambiguous flag goes; audited as 'place'); the full report as who sees it.
 * TL_ENOTFOUND hidden or absent, TL_ECONFLICT leased to another, TL_EINVAL no such
 * candidate. */
int store_web_place_pick(struct store *s, const struct store_who *who, const char *id_or_ref,
                         long idx, char **json, struct tl_errinfo *ei) TL_WUR;

/* Incidents (storage/schema/incident_*.sql, web_incident_*.sql). The open incidents
 * with a member in who's queues, the most corroborated first: {"incidents":[...]}. */
int store_web_incidents(struct store *s, const struct store_who *who, long min_corroboration,
                        long limit, char **json, struct tl_errinfo *ei) TL_WUR;
/* One incident: summary, members, bearing lines, photo clusters. TL_ENOTFOUND absent or
 * without a member who may see. */
int store_web_incident(struct store *s, const struct store_who *who, long long id, char **json,
                       struct tl_errinfo *ei) TL_WUR;
/* Merges incident other into id (audited 'incident_merge'); the survivor's document.
 * TL_ENOTFOUND, TL_EINVAL (the same incident), TL_ECONFLICT (merged already). */
int store_web_incident_merge(struct store *s, const struct store_who *who, long long id,
                             long long other, char **json, struct tl_errinfo *ei) TL_WUR;
/* Takes a report out of its incident into one of its own (audited 'incident_split'); the
 * new incident's document. TL_EINVAL when it is its incident's only report. */
int store_web_incident_split(struct store *s, const struct store_who *who, const char *id_or_ref,
                             char **json, struct tl_errinfo *ei) TL_WUR;
/* The stored (stripped) bytes and their MIME type; audited as 'view_media'.
 * *mime and *bytes: free(). TL_ENOTFOUND when absent or hidden. */
int store_web_media(struct store *s, const struct store_who *who, long long media_id, char **mime,
                    unsigned char **bytes, size_t *len, struct tl_errinfo *ei) TL_WUR;
/* Bans (ban 1) or unbans the one reporter whose pseudonym starts with the prefix;
 * audited. TL_ENOTFOUND none, TL_ECONFLICT ambiguous. {"reporter":{...}} */
int store_web_ban(struct store *s, const char *actor, const char *pseudonym_prefix, int ban,
                  const char *reason, char **json, struct tl_errinfo *ei) TL_WUR;
/* GeoJSON FeatureCollection of confirmed reports with a point (since, until, bbox,
 * limit of f), no reporter and no text. */
int store_web_export(struct store *s, const struct store_who *who, const struct store_web_filter *f,
                     char **json, struct tl_errinfo *ei) TL_WUR;
/* {"items":[{id, at, actor, action, object, before, after}], "next": "<id>"|null},
 * newest first; object/actor NULL: any; before_id 0: from the newest. */
int store_web_audit(struct store *s, const char *object, const char *actor, long long before_id,
                    long limit, char **json, struct tl_errinfo *ei) TL_WUR;
/* {"categories":[{id, queue, moving}]} */
int store_web_categories(struct store *s, char **json, struct tl_errinfo *ei) TL_WUR;
/* The queues account may see, comma-separated. */
int store_web_queues_for(struct store *s, const char *account, char **csv,
                         struct tl_errinfo *ei) TL_WUR;

/* ---- live events (migration 0013; storage/store_events.c) ----
 * While some web server is registered, the triggers append each new report, claim,
 * release, decision and follow-up change to web_events as the JSON the console's event
 * stream carries; each web server polls it from where it has read. */
struct store_events {
    long long cursor; /* the highest id read */
    char *pending;    /* "{xid,...}": transactions in flight at the last poll's snapshot */
    int64_t purged_ms;
};
/* Registers this connection in web_listeners (forgetting registrations whose sessions are
 * gone) and starts reading after the newest event (pos: zeroed or store_events_reset). */
int store_events_attach(struct store *s, struct store_events *pos, struct tl_errinfo *ei) TL_WUR;
/* Unregisters this connection (before store_free on a clean stop). */
int store_events_detach(struct store *s, struct tl_errinfo *ei) TL_WUR;
/* Calls fn with each event committed since the last poll, including those of
 * transactions that were still running then (ids are taken before commit). Once a minute
 * it deletes events older than 10 minutes. *resync = 1 when more than max_events were
 * waiting: none was delivered, reading starts again after the newest (tell the clients
 * to refetch). TL_EDBDOWN when the connection is lost (attach again to resume). */
int store_events_poll(struct store *s, struct store_events *pos, long max_events,
                      void (*fn)(void *arg, const char *body), void *arg, int *resync,
                      struct tl_errinfo *ei) TL_WUR;
void store_events_reset(struct store_events *pos);

#endif
