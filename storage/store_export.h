/* storage/store_export.h - exports for dashboards: files, feeds, the OGC API, vector
 * tiles and their grid, outgoing webhooks. Part of storage/ (store.h: the connection,
 * errors and the conventions every call follows). */
#ifndef TL_STORE_EXPORT_H
#define TL_STORE_EXPORT_H

#include "store.h"

/* ---- exports (store_export.c): files, feeds, OGC API, tiles ----
 * Decided reports with a point as export_reports (storage/schema/) publishes them: no
 * reporter, no chat, no analyst; text only when asked. Rows come through a server-side
 * cursor, STORE_EXPORT_BATCH at a time, so memory stays flat however many there are. */
#define STORE_EXPORT_BATCH 10000
struct store_export_filter {
    const char *account;       /* the queues it may see; NULL: every queue */
    const char *status;        /* NULL: confirmed */
    const char *category;      /* NULL: any */
    const char *since, *until; /* received_at in [since, until) (both the same: at that
                                  instant), ISO 8601 validated by the caller; NULL open */
    int has_bbox;
    double bbox[4]; /* W, S, E, N */
    int has_after;  /* only reports decided after (after_us, after_id) */
    long long after_us, after_id;
    int decimals;    /* -1: exact points; else rounded to that many */
    int with_text;   /* 1: the report's text too */
    long long limit; /* 0: no limit */
    long long id;    /* > 0: that report only */
};
/* One row; every field points into the current batch or x (valid until the next
 * store_export_next), NULL when SQL NULL. */
struct store_export_row {
    const char *id, *ref, *category, *status, *observed_at, *received_at, *decided_at;
    const char *point_source, *accuracy_m, *corroborations, *incident_id, *media_count;
    const char *lon, *lat, *text;
    long long decided_us, id_num;
};
struct store_export;
/* Opens a read-only snapshot and a cursor over f on s (s is busy until
 * store_export_free). *out: free with store_export_free. */
int store_export_open(struct store *s, const struct store_export_filter *f,
                      struct store_export **out, struct tl_errinfo *ei) TL_WUR;
/* The next row into *row and *have 1, or *have 0 at the end. */
int store_export_next(struct store_export *x, struct store_export_row *row, int *have,
                      struct tl_errinfo *ei) TL_WUR;
/* Rows handed out so far. */
long long store_export_rows(const struct store_export *x);
/* Ends the snapshot and writes one audit row (actor, action 'export', object what: the
 * route or command, after: {format, filter, rows}). */
int store_export_finish(struct store_export *x, const char *actor, const char *what,
                        const char *format, struct tl_errinfo *ei) TL_WUR;
/* The audit row of x goes to primary (kept, not owned) instead of x's own connection:
 * an export read from a replica, which takes no writes. */
void store_export_audit_to(struct store_export *x, struct store *primary);
/* Rolls back when not finished; store_export_free(NULL) is a no-op. */
void store_export_free(struct store_export *x);
/* The newest decision (what a feed's ETag and Last-Modified are made of): its time in
 * microseconds since the epoch and its report id; 0 and 0 when none. */
int store_export_state(struct store *s, long long *us, long long *id, struct tl_errinfo *ei) TL_WUR;
/* A Mapbox vector tile (layer "reports") of the confirmed reports account may see in
 * tile z/x/y: points one by one from zoom 12, else one per tile pixel with a count.
 * *mvt: free(); *len 0 when the tile is empty. */
int store_export_tile(struct store *s, const char *account, int decimals, int z, long x, long y,
                      unsigned char **mvt, size_t *len, struct tl_errinfo *ei) TL_WUR;

/* A page of the incidents f->account may see (export_incidents, storage/schema/): f's
 * since/until (over first_seen..last_seen), bbox, decimals, after_id (when has_after),
 * id and limit (0: no limit) apply. *json: {"features": [GeoJSON features], "count",
 * "more" (a row past the limit exists), "last" (the last id or null)}; one audit row
 * (actor, 'export', what, {format 'ogc', collection 'incidents', filter, rows}). */
int store_export_incidents(struct store *s, const struct store_export_filter *f, const char *actor,
                           const char *what, char **json, struct tl_errinfo *ei) TL_WUR;

/* The audit of a tile account fetched at zoom z holding features features: added to
 * the row of (account, z, this minute) in tile_audit (migration 0030). */
int store_tile_audit(struct store *s, const char *account, int z, long long features,
                     struct tl_errinfo *ei) TL_WUR;

/* ---- the tiles' grid (store_export.c, migration 0027) ----
 * Zoomed-out tiles sum tile_cells, kept per precision of points. */
/* Builds the cells of points rounded to decimals (-1: exact) unless they exist; *built
 * says whether it did (about a minute over a million reports, writers not held up).
 * TL_EDB when a concurrent fold or build got in the way: call again. */
int store_tile_grid_ensure(struct store *s, int decimals, int *built, struct tl_errinfo *ei) TL_WUR;
/* Folds the decisions' pending changes into the cells: *folded, how many (0 when
 * another process is folding). */
int store_tile_grid_fold(struct store *s, long long *folded, struct tl_errinfo *ei) TL_WUR;

/* ---- outgoing webhooks (store_export.c, migrations 0021, 0033) ----
 * A decision queues a delivery per subscription (storage/schema/webhook_enqueue.sql), as
 * does an incident's change (webhook_enqueue_incident.sql, folded into the incident's
 * delivery not attempted yet); the sender thread (daemon/webhook.c) leases due ones,
 * posts them and records each attempt. */
/* A subscription of account to url with secret (what signs its posts) for the event
 * kinds events ("reports", "incidents", comma-separated; NULL: reports);
 * {"id","url","events","created_at"}. */
int store_webhook_add(struct store *s, const char *account, const char *url, const char *secret,
                      const char *events, char **json, struct tl_errinfo *ei) TL_WUR;
/* {"items":[{id, account, url, events, created_at, disabled_at, pending, delivered,
 * gave_up}]}: account's subscriptions, every one when account is NULL. */
int store_webhook_list(struct store *s, const char *account, char **json,
                       struct tl_errinfo *ei) TL_WUR;
/* Ends subscription id of account (NULL: any account's); audited. TL_ENOTFOUND. */
int store_webhook_disable(struct store *s, const char *actor, const char *account, long long id,
                          struct tl_errinfo *ei) TL_WUR;
/* {"items":[delivery with its attempts]}, newest first, at most limit. */
int store_webhook_deliveries(struct store *s, long limit, char **json,
                             struct tl_errinfo *ei) TL_WUR;

struct store_webhook_job {
    long long id, report_id; /* report_id 0: an incident's delivery */
    long long incident_id;   /* 0: a report's delivery */
    long long merged_into;   /* the incident was merged into that one; 0: not */
    char *url, *secret, *event, *account, *status; /* status "" for an incident */
    char *changes;                                 /* JSON array of strings; "[]" for a report */
    int decimals;                                  /* -1 exact */
    int attempts;                                  /* before this one */
};
/* Leases up to max due deliveries for lease_s seconds (another sender skips them):
 * *jobs (n of them) to free with store_webhook_jobs_free. rounded_roles (CSV) and
 * round_decimals say which accounts see rounded points. */
int store_webhook_due(struct store *s, const char *rounded_roles, long round_decimals, int max,
                      long lease_s, struct store_webhook_job **jobs, size_t *n,
                      struct tl_errinfo *ei) TL_WUR;
void store_webhook_jobs_free(struct store_webhook_job *jobs, size_t n);
/* Records an attempt (status 0: no HTTP answer; error NULL: none): delivered when
 * delivered, else due again after retry_s, or given up when give_up. */
int store_webhook_attempt(struct store *s, long long id, int delivered, int status,
                          const char *error, long ms, long retry_s, int give_up,
                          struct tl_errinfo *ei) TL_WUR;

#endif
