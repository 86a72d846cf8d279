/* common/cfg.c - configuration table, file parser, environment overlay. */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "banned.h"

enum key_type { K_STR, K_LONG };

struct key {
    const char *name; /* in the config file */
    const char *env;  /* environment variable */
    enum key_type type;
    size_t off;
    const char *def;
    long min, max;
    int secret; /* never printed */
};

#define S(f) offsetof(struct cfg, f)
static const struct key keys[] = {
    {"database_url", "TIPLINE_DATABASE_URL", K_STR, S(database_url), "dbname=tipline", 0, 0, 1},
    {"telegram_api_base", "TELEGRAM_API_BASE", K_STR, S(telegram_api_base),
     "https://api.telegram.org", 0, 0, 0},
    {"bot_token_file", "TELEGRAM_BOT_TOKEN_FILE", K_STR, S(bot_token_file), "", 0, 0, 0},
    {"secret_file", "TIPLINE_SECRET_FILE", K_STR, S(secret_file), "/var/lib/tipline/secret", 0, 0,
     0},
    {"database_replica_url", "TIPLINE_DATABASE_REPLICA_URL", K_STR, S(database_replica_url), "", 0,
     0, 1},
    {"replica_max_lag_seconds", "TIPLINE_REPLICA_MAX_LAG_SECONDS", K_LONG,
     S(replica_max_lag_seconds), "30", 1, 600, 0},
    {"metrics_listen", "TIPLINE_METRICS_LISTEN", K_STR, S(metrics_listen), "", 0, 0, 0},
    {"identity_key_file", "TIPLINE_IDENTITY_KEY_FILE", K_STR, S(identity_key_file),
     "/var/lib/tipline/identity-keys", 0, 0, 0},
    {"http_listen", "TIPLINE_HTTP_LISTEN", K_STR, S(http_listen), "127.0.0.1:8080", 0, 0, 0},
    {"webhook_listen", "TIPLINE_WEBHOOK_LISTEN", K_STR, S(webhook_listen), "", 0, 0, 0},
    {"webhook_path", "TIPLINE_WEBHOOK_PATH", K_STR, S(webhook_path), "/telegram", 0, 0, 0},
    {"webhook_secret_file", "TIPLINE_WEBHOOK_SECRET_FILE", K_STR, S(webhook_secret_file),
     "/var/lib/tipline/webhook-secret", 0, 0, 0},
    {"area_file", "TIPLINE_AREA_FILE", K_STR, S(area_file), "", 0, 0, 0},
    {"gazetteer_file", "TIPLINE_GAZETTEER", K_STR, S(gazetteer_file), "", 0, 0, 0},
    {"gazetteer_countries", "TIPLINE_GAZETTEER_COUNTRIES", K_STR, S(gazetteer_countries), "UA", 0,
     0, 0},
    {"log_level", "TIPLINE_LOG_LEVEL", K_STR, S(log_level), "info", 0, 0, 0},
    {"workers", "TIPLINE_WORKERS", K_LONG, S(workers), "0", 0, 64, 0},
    {"poll_timeout", "TIPLINE_POLL_TIMEOUT", K_LONG, S(poll_timeout), "30", 0, 50, 0},
    {"lease_seconds", "TIPLINE_LEASE_SECONDS", K_LONG, S(lease_seconds), "900", 10, 86400, 0},
    {"max_photo_bytes", "TIPLINE_MAX_PHOTO_BYTES", K_LONG, S(max_photo_bytes), "20971520", 1024,
     104857600, 0},
    {"send_rate", "TIPLINE_SEND_RATE", K_LONG, S(send_rate), "30", 1, 100000, 0},
    {"send_chat_interval_ms", "TIPLINE_SEND_CHAT_INTERVAL_MS", K_LONG, S(send_chat_interval_ms),
     "1000", 0, 60000, 0},
    {"chat_retention_days", "TIPLINE_CHAT_RETENTION_DAYS", K_LONG, S(chat_retention_days), "90", 1,
     36500, 0},
    {"inbox_retention_days", "TIPLINE_INBOX_RETENTION_DAYS", K_LONG, S(inbox_retention_days), "30",
     1, 36500, 0},
    {"rejected_photo_retention_days", "TIPLINE_REJECTED_PHOTO_RETENTION_DAYS", K_LONG,
     S(rejected_photo_retention_days), "0", 0, 36500, 0},
    {"http_timeout_ms", "TIPLINE_HTTP_TIMEOUT_MS", K_LONG, S(http_timeout_ms), "30000", 100, 600000,
     0},
    /* relay (follow-ups) */
    {"notify_reviewed", "TIPLINE_NOTIFY_REVIEWED", K_LONG, S(notify_reviewed), "1", 0, 1, 0},
    /* web: the analysts' HTTP API (web/) */
    {"web_cookie_secure", "TIPLINE_WEB_COOKIE_SECURE", K_LONG, S(web_cookie_secure), "0", 0, 1, 0},
    {"session_idle_minutes", "TIPLINE_SESSION_IDLE_MINUTES", K_LONG, S(session_idle_minutes), "60",
     1, 10080, 0},
    {"api_rate_per_min", "TIPLINE_API_RATE_PER_MIN", K_LONG, S(api_rate_per_min), "600", 1, 1000000,
     0},
    {"rounded_roles", "TIPLINE_ROUNDED_ROLES", K_STR, S(rounded_roles), "exporter", 0, 0, 0},
    {"round_decimals", "TIPLINE_ROUND_DECIMALS", K_LONG, S(round_decimals), "2", 0, 6, 0},
    {"export_text", "TIPLINE_EXPORT_TEXT", K_LONG, S(export_text), "0", 0, 1, 0},
    {"tile_url", "TIPLINE_TILE_URL", K_STR, S(tile_url), "", 0, 0, 0},
    {"webhook_allow_private", "TIPLINE_WEBHOOK_ALLOW_PRIVATE", K_LONG, S(webhook_allow_private),
     "0", 0, 1, 0},
    {"trusted_proxies", "TIPLINE_TRUSTED_PROXIES", K_STR, S(trusted_proxies), "", 0, 0, 0},
    {"web_db_connections", "TIPLINE_WEB_DB_CONNECTIONS", K_LONG, S(web_db_connections), "0", 0, 64,
     0},
    {"sse_max_seconds", "TIPLINE_SSE_MAX_SECONDS", K_LONG, S(sse_max_seconds), "300", 1, 86400, 0},
    {"web_conns_per_client", "TIPLINE_WEB_CONNS_PER_CLIENT", K_LONG, S(web_conns_per_client), "32",
     0, 512, 0},
    {"sse_per_account", "TIPLINE_SSE_PER_ACCOUNT", K_LONG, S(sse_per_account), "4", 1, 512, 0},
    {"web_auth_cache_seconds", "TIPLINE_WEB_AUTH_CACHE_SECONDS", K_LONG, S(web_auth_cache_seconds),
     "10", 0, 60, 0},
    /* the citizen conversation (handlers/draft.c, handlers/wizard.c) */
    {"categories", "TIPLINE_CATEGORIES", K_STR, S(categories), "", 0, 0, 0},
    {"moving_categories", "TIPLINE_MOVING_CATEGORIES", K_STR, S(moving_categories), "", 0, 0, 0},
    {"draft_idle_minutes", "TIPLINE_DRAFT_IDLE_MINUTES", K_LONG, S(draft_idle_minutes), "30", 2,
     10080, 0},
    {"draft_reminder_minutes", "TIPLINE_DRAFT_REMINDER_MINUTES", K_LONG, S(draft_reminder_minutes),
     "20", 1, 10080, 0},
    {"auto_clear_chat", "TIPLINE_AUTO_CLEAR_CHAT", K_LONG, S(auto_clear_chat), "0", 0, 1, 0},
    {"time_zone", "TIPLINE_TIME_ZONE", K_STR, S(time_zone), "Europe/Kyiv", 0, 0, 0},
    {"dedup_window_minutes", "TIPLINE_DEDUP_WINDOW_MINUTES", K_LONG, S(dedup_window_minutes), "60",
     0, 10080, 0},
    {"dedup_max_distance", "TIPLINE_DEDUP_MAX_DISTANCE", K_LONG, S(dedup_max_distance), "8", 0, 14,
     0},
    {"dedup_seen_before_days", "TIPLINE_DEDUP_SEEN_BEFORE_DAYS", K_LONG, S(dedup_seen_before_days),
     "7", 1, 3650, 0},
    {"dedup_index_refresh_ms", "TIPLINE_DEDUP_INDEX_REFRESH_MS", K_LONG, S(dedup_index_refresh_ms),
     "500", 0, 3600000, 0},
    /* moderation at intake (moderation/mod.h) */
    {"moderation", "TIPLINE_MODERATION", K_LONG, S(moderation), "1", 0, 1, 0},
    {"moderation_rules", "TIPLINE_MODERATION_RULES", K_STR, S(moderation_rules), "", 0, 0, 0},
    {"mod_rate_per_hour", "TIPLINE_MOD_RATE_PER_HOUR", K_LONG, S(mod_rate_per_hour), "60", 1,
     1000000, 0},
    {"mod_rate_burst", "TIPLINE_MOD_RATE_BURST", K_LONG, S(mod_rate_burst), "10", 1, 100000, 0},
    {"mod_new_rate_per_hour", "TIPLINE_MOD_NEW_RATE_PER_HOUR", K_LONG, S(mod_new_rate_per_hour),
     "20", 1, 1000000, 0},
    {"mod_new_rate_burst", "TIPLINE_MOD_NEW_RATE_BURST", K_LONG, S(mod_new_rate_burst), "5", 1,
     100000, 0},
    {"mod_new_hours", "TIPLINE_MOD_NEW_HOURS", K_LONG, S(mod_new_hours), "72", 0, 87600, 0},
    {"mod_new_below_reputation", "TIPLINE_MOD_NEW_BELOW_REPUTATION", K_LONG,
     S(mod_new_below_reputation), "0", -1000000, 1000000, 0},
    {"mod_flag_below_reputation", "TIPLINE_MOD_FLAG_BELOW_REPUTATION", K_LONG,
     S(mod_flag_below_reputation), "-3", -1000000, 1000000, 0},
    {"mod_campaign_reporters", "TIPLINE_MOD_CAMPAIGN_REPORTERS", K_LONG, S(mod_campaign_reporters),
     "3", 2, 10000, 0},
    {"mod_campaign_window_s", "TIPLINE_MOD_CAMPAIGN_WINDOW_S", K_LONG, S(mod_campaign_window_s),
     "900", 10, 604800, 0},
    {"mod_campaign_similarity", "TIPLINE_MOD_CAMPAIGN_SIMILARITY", K_LONG,
     S(mod_campaign_similarity), "60", 1, 100, 0},
    {"mod_campaign_min_chars", "TIPLINE_MOD_CAMPAIGN_MIN_CHARS", K_LONG, S(mod_campaign_min_chars),
     "20", 1, 4096, 0},
    {"mod_campaign_phash_bits", "TIPLINE_MOD_CAMPAIGN_PHASH_BITS", K_LONG,
     S(mod_campaign_phash_bits), "6", 0, 32, 0},
    {"mod_match_limit", "TIPLINE_MOD_MATCH_LIMIT", K_LONG, S(mod_match_limit), "100000", 100,
     100000000, 0},
    {"mod_depth_limit", "TIPLINE_MOD_DEPTH_LIMIT", K_LONG, S(mod_depth_limit), "2000", 10, 1000000,
     0},
    {"mod_category_rates", "TIPLINE_MOD_CATEGORY_RATES", K_STR, S(mod_category_rates), "", 0, 0, 0},
};
#undef S

static int set_key(struct cfg *c, const struct key *k, const char *val, struct tl_errinfo *ei)
{
    char *base = (char *)c + k->off;
    if (k->type == K_STR) {
        char *dup = tl_strdup(val);
        if (!dup)
            return TL_ENOMEM;
        free(*(char **)base);
        *(char **)base = dup;
        return TL_OK;
    }
    long long v;
    if (tl_parse_ll(val, &v) || v < k->min || v > k->max)
        return tl_errf(ei, TL_ECONFIG, "%s must be an integer in [%ld, %ld]", k->name, k->min,
                       k->max);
    *(long *)base = (long)v;
    return TL_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = 0;
    return s;
}

static int load_file(struct cfg *c, const char *path, struct tl_errinfo *ei)
{
    char *text = NULL;
    size_t len;
    int rc = tl_read_file(path, 1 << 20, &text, &len);
    if (rc)
        return tl_errf(ei, TL_ECONFIG, "cannot read config file %s: %s", path, tl_strerror(rc));
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = tl_errf(ei, TL_ECONFIG, "%s:%d: expected key = value", path, lineno);
            goto out;
        }
        *eq = 0;
        char *key = trim(l), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = 0;
            val++;
        }
        const struct key *k = NULL;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strcmp(keys[i].name, key) == 0)
                k = &keys[i];
        if (!k && strcmp(key, "local_utc_offset_min") == 0) {
            rc = tl_errf(ei, TL_ECONFIG,
                         "%s:%d: local_utc_offset_min was replaced by time_zone (an IANA zone "
                         "such as Europe/Kyiv, which knows summer time)",
                         path, lineno);
            goto out;
        }
        if (!k) {
            rc = tl_errf(ei, TL_ECONFIG, "%s:%d: unknown key '%s'", path, lineno, key);
            goto out;
        }
        if ((rc = set_key(c, k, val, ei)) != TL_OK)
            goto out;
    }
out:
    free(text);
    return rc;
}

int cfg_load(struct cfg *c, const char *path, struct tl_errinfo *ei)
{
    int rc;
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if ((rc = set_key(c, &keys[i], keys[i].def, ei)) != TL_OK)
            return rc;
    if (!path)
        path = getenv("TIPLINE_CONFIG");
    if (path && *path && (rc = load_file(c, path, ei)) != TL_OK)
        return rc;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = getenv(keys[i].env);
        if (v && (rc = set_key(c, &keys[i], v, ei)) != TL_OK)
            return rc;
    }
    if (getenv("TIPLINE_LOCAL_UTC_OFFSET_MIN"))
        return tl_errf(ei, TL_ECONFIG,
                       "TIPLINE_LOCAL_UTC_OFFSET_MIN was replaced by TIPLINE_TIME_ZONE (an IANA "
                       "zone such as Europe/Kyiv, which knows summer time)");
    if ((rc = tl_tz_load(c->time_zone, &c->tz, ei)) != TL_OK)
        return rc;
    const char *tok = getenv("TELEGRAM_BOT_TOKEN");
    if (tok && *tok && !(c->bot_token = tl_strdup(tok)))
        return TL_ENOMEM;
    if (log_level_parse(c->log_level) < 0)
        return tl_errf(ei, TL_ECONFIG, "log_level must be error, warn, info or debug");
    return TL_OK;
}

int cfg_load_secrets(struct cfg *c, int need_token, struct tl_errinfo *ei)
{
    int rc;
    if (!c->bot_token && c->bot_token_file && *c->bot_token_file) {
        char *t = NULL;
        size_t len;
        if ((rc = tl_read_file(c->bot_token_file, 4096, &t, &len)) != TL_OK)
            return tl_errf(ei, TL_ECONFIG, "cannot read bot token file %s: %s", c->bot_token_file,
                           tl_strerror(rc));
        char *tt = trim(t);
        c->bot_token = tl_strdup(tt);
        free(t);
        if (!c->bot_token)
            return TL_ENOMEM;
    }
    if (need_token && (!c->bot_token || !*c->bot_token))
        return tl_errf(ei, TL_ECONFIG,
                       "no bot token: set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE");
    char *key = NULL;
    size_t len = 0;
    if ((rc = tl_read_file(c->secret_file, 4096, &key, &len)) != TL_OK)
        return tl_errf(ei, TL_ECONFIG, "cannot read pseudonym key %s: %s (run: tipline keygen %s)",
                       c->secret_file, tl_strerror(rc), c->secret_file);
    if (len < 16) {
        free(key);
        return tl_errf(ei, TL_ECONFIG, "pseudonym key %s is shorter than 16 bytes", c->secret_file);
    }
    c->secret_len = len > sizeof(c->secret) ? sizeof(c->secret) : len;
    memcpy(c->secret, key, c->secret_len);
    memset(key, 0, len);
    free(key);
    return TL_OK;
}

int cfg_load_idkeys(struct cfg *c, struct tl_errinfo *ei)
{
    if (idkeys_set_lookup(&c->idkeys, c->secret, c->secret_len) != TL_OK)
        return tl_errf(ei, TL_ECONFIG, "the pseudonym key is not loaded: no chat lookup key");
    return idkeys_load(&c->idkeys, c->identity_key_file, ei);
}

int cfg_secret_generate(const char *path, struct tl_errinfo *ei)
{
    unsigned char raw[32];
    char hex[65];
    int rc = tl_random(raw, sizeof(raw));
    if (rc)
        return tl_errf(ei, rc, "no randomness for the pseudonym key");
    tl_hex(raw, sizeof(raw), hex);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return TL_OK;
        return tl_errf(ei, TL_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    ssize_t w = write(fd, hex, 64);
    if (close(fd) != 0 || w != 64)
        return tl_errf(ei, TL_EIO, "cannot write %s", path);
    return TL_OK;
}

void cfg_release(struct cfg *c)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].type == K_STR) {
            char **p = (char **)((char *)c + keys[i].off);
            free(*p);
            *p = NULL;
        }
    if (c->bot_token) {
        memset(c->bot_token, 0, strlen(c->bot_token));
        free(c->bot_token);
        c->bot_token = NULL;
    }
    memset(c->secret, 0, sizeof(c->secret));
    idkeys_clear(&c->idkeys);
    tl_tz_free(c->tz);
    c->tz = NULL;
}

void cfg_dump(const struct cfg *c, void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *base = (const char *)c + keys[i].off;
        if (keys[i].secret)
            fprintf(f, "%s = (set)\n", keys[i].name);
        else if (keys[i].type == K_STR)
            fprintf(f, "%s = %s\n", keys[i].name, *(char *const *)base);
        else
            fprintf(f, "%s = %ld\n", keys[i].name, *(const long *)base);
    }
    fprintf(f, "bot_token = %s\n", c->bot_token ? "(set)" : "(unset)");
}

long cfg_web_db_connections(const struct cfg *c)
{
    if (c->web_db_connections > 0)
        return c->web_db_connections;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = 2 * (cores > 0 ? cores : 1);
    return n < 2 ? 2 : n > 64 ? 64 : n;
}
