/* common/cfg.h - the configuration, built from a table of keys.
 *
 * Precedence: built-in default < config file (key = value lines) < environment.
 * Every key is documented in deploy/tipline.conf.sample. Secrets (the bot
 * token, the pseudonym key) come from the environment or from files, never
 * from argv, and are never logged. */
#ifndef TL_CFG_H
#define TL_CFG_H

#include <stddef.h>

#include "err.h"
#include "idkey.h"
#include "tz.h"

struct cfg {
    char *database_url;
    char *telegram_api_base;
    char *bot_token; /* secret: TELEGRAM_BOT_TOKEN, or read from bot_token_file */
    char *bot_token_file;
    char *secret_file;        /* pseudonym key file */
    unsigned char secret[64]; /* the pseudonym key bytes (loaded by cfg_load_secrets) */
    size_t secret_len;
    char *identity_key_file; /* the data keys that seal Telegram identities (idkey.h) */
    struct idkeys idkeys;    /* loaded by cfg_load_idkeys; n == 0 until then */
    char *http_listen;
    /* the read replica (web/replica.c): "" none */
    char *database_replica_url;
    long replica_max_lag_seconds; /* reads go to the primary while the replica lags more */
    char *metrics_listen;         /* tipline bot's own /metrics (daemon/metrics.c); "" none */
    /* webhook intake (daemon/intake_hook.c) */
    char *webhook_listen;      /* "" : getUpdates; else host:port of the webhook receiver */
    char *webhook_path;        /* the path Telegram POSTs to (behind the proxy) */
    char *webhook_secret_file; /* X-Telegram-Bot-Api-Secret-Token's value */

    char *area_file;      /* GeoJSON polygon of the area of interest */
    char *gazetteer_file; /* settlements: index (tipline gazetteer import) or TSV */
    /* ISO codes `tipline gazetteer import` keeps */
    char *gazetteer_countries;
    char *log_level;
    long workers;       /* 0: one per CPU core */
    long poll_timeout;  /* getUpdates long-poll seconds */
    long lease_seconds; /* triage claim lease */
    long max_photo_bytes;
    long send_rate;             /* outbox messages per second, all chats */
    long send_chat_interval_ms; /* minimum gap between two messages to one chat */
    long chat_retention_days;
    long inbox_retention_days;
    /* photos of rejected reports (tipline purge); 0: kept */
    long rejected_photo_retention_days;
    long http_timeout_ms; /* total timeout for non-long-poll Bot API calls */
    /* relay (follow-ups) */
    long notify_reviewed; /* 1: tell the citizen, neutrally, that the report was reviewed */
    /* web: the analysts' HTTP API (web/) */
    long web_cookie_secure;      /* 1: the session cookie carries Secure (behind TLS) */
    long session_idle_minutes;   /* console sessions end after this long unused */
    long api_rate_per_min;       /* requests per minute per token or session */
    char *rounded_roles;         /* comma-separated roles that see rounded points */
    long round_decimals;         /* decimals of a rounded point */
    long export_text;            /* 1: exports may carry the reports' free text */
    char *tile_url;              /* map tiles for the console; "" = offline basemap only */
    long webhook_allow_private;  /* 1: webhooks may post to private/loopback addresses */
    char *trusted_proxies;       /* addresses whose X-Forwarded-For names the client; "" none */
    long web_db_connections;     /* database connections the web server keeps; 0: auto */
    long sse_max_seconds;        /* an event stream ends after this long (clients reconnect) */
    long web_conns_per_client;   /* open connections from one address; 0: no cap */
    long sse_per_account;        /* open event streams (/api/events) of one account */
    long web_auth_cache_seconds; /* a credential's check is kept this long; 0: never kept */
    /* the citizen conversation (handlers/draft.c, handlers/wizard.c) */
    char *categories;            /* comma-separated category ids; "" = the built-in list */
    char *moving_categories;     /* those asked for a direction; "" = troops,aircraft,drones */
    long draft_idle_minutes;     /* an untouched draft is discarded after this */
    long draft_reminder_minutes; /* ... and reminded once after this */
    long auto_clear_chat;        /* 1: "Send" also deletes the report's messages */
    char *time_zone;             /* the citizens' clock: an IANA zone such as Europe/Kyiv */
    /* duplicates (storage/schema/store_apply_plan.sql, media_near.sql) */
    long dedup_window_minutes;   /* one reporter's same text or photo within: folded; 0 off */
    long dedup_max_distance;     /* photos within this many bits of perceptual hash linked */
    long dedup_seen_before_days; /* a photo first seen longer ago flags "seen before" */
    long dedup_index_refresh_ms; /* the photo hashes in memory read anew; 0: no index */
    struct tl_tz *tz;            /* time_zone, loaded by cfg_load (common/tz.h) */
    /* moderation at intake (moderation/mod.h, handlers/moderate.c) */
    long moderation;            /* 1: every report is moderated as it is sent */
    char *moderation_rules;     /* the rules file; "" none (reloaded on SIGHUP) */
    long mod_rate_per_hour;     /* reports an established reporter may send per hour */
    long mod_rate_burst;        /* ... at once */
    long mod_new_rate_per_hour; /* the same for a new reporter: stricter */
    long mod_new_rate_burst;
    long mod_new_hours;             /* a reporter is new this long after first seen */
    long mod_new_below_reputation;  /* ... or while their reputation is below this */
    long mod_flag_below_reputation; /* accepted reports of a reporter below this are flagged */
    long mod_campaign_reporters;    /* distinct new reporters that make a campaign */
    long mod_campaign_window_s;     /* within this many seconds */
    long mod_campaign_similarity;   /* percent: estimated Jaccard of the texts' shingles */
    long mod_campaign_min_chars;    /* shorter texts never match */
    long mod_campaign_phash_bits;   /* photos at most this many bits apart are the same */
    long mod_match_limit;           /* pcre2 match limit per rule and message */
    long mod_depth_limit;           /* pcre2 depth limit */
    char *mod_category_rates;       /* "category:per_hour:burst,...": per reporter and category */
};

/* Fills c with defaults, then the file at path (NULL: TIPLINE_CONFIG, or none), then
 * the environment, and loads the time zone it names. Release with cfg_release(). */
int cfg_load(struct cfg *c, const char *path, struct tl_errinfo *ei) TL_WUR;

/* Reads the bot token file (when the token is not set directly) and the pseudonym
 * key file. need_token: fail with TL_ECONFIG when no token is configured. */
int cfg_load_secrets(struct cfg *c, int need_token, struct tl_errinfo *ei) TL_WUR;

/* Derives the chat lookup key from the pseudonym key (cfg_load_secrets first) and reads
 * identity_key_file: what the processes that talk to Telegram need, and nothing else. */
int cfg_load_idkeys(struct cfg *c, struct tl_errinfo *ei) TL_WUR;

/* Creates a 32-byte random key file at path (mode 0600) unless it exists. */
int cfg_secret_generate(const char *path, struct tl_errinfo *ei) TL_WUR;

void cfg_release(struct cfg *c);

/* The web server's pool of database connections: web_db_connections, or when that is 0,
 * two per online core (2..64). More connections than that queue in the kernel and in
 * PostgreSQL's locks instead of in the pool: 8 claimers with 8 connections on 2 cores
 * spent ~25 % more CPU per claim+decide pair than with 4 (bench/README.md). */
long cfg_web_db_connections(const struct cfg *c);

/* Writes "key = value" lines of the effective configuration (secrets masked). */
void cfg_dump(const struct cfg *c, void *file);

#endif
