/* daemon/moderation.c - the moderation policy the workers decide with: the limits from
 * the configuration and the rules file, loaded at start and again on SIGHUP or when a
 * moderator asks through the API (a request row the rules thread is told of by
 * NOTIFY). A reload that fails (the file broken, with its line and column) keeps the
 * rules in force. Every attempt is recorded in the database by the rules thread, so
 * the API and `tipline mod rules` read what this process holds. A replaced rule set is
 * kept until the runtime ends: a worker may still be matching with it, and reloads are
 * rare. */
#include "modpolicy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_mod.h"
#include "common/banned.h"

struct daemon_mod {
    struct mod_policy base; /* rules: NULL here; the current set is `rules` */
    _Atomic(struct mod_rules *) rules;
    pthread_mutex_t mu; /* reloads */
    struct mod_rules **retired;
    size_t n_retired;
    char *path;
    struct mod_limits lim;
    char categories[1024]; /* the per-category limits' categories, in slot order */
    /* the last load attempt (under mu), for the rules thread to record */
    _Atomic unsigned long attempts; /* +1 per attempt */
    int last_ok;
    unsigned last_line, last_column;
    char last_error[256];
    double loaded_at; /* wall clock of the set in force */
    /* the rules thread */
    pthread_t watcher;
    int have_watcher;
    const char *database_url;
    volatile sig_atomic_t *stop;
};

/* mod_category_rates: "category:per_hour:burst" items, comma-separated. */
static int category_rates(struct daemon_mod *m, const char *spec, struct tl_errinfo *ei)
{
    struct mod_rate_cfg *rc = &m->base.rate;
    const char *s = spec;
    size_t used = 0;
    while (s && *s) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char item[128], name[64];
        double ph = 0, burst = 0;
        int len = 0;
        if (n == 0 || n >= sizeof(item))
            return tl_errf(ei, TL_ECONFIG, "mod_category_rates: an empty or too long item");
        memcpy(item, s, n);
        item[n] = 0;
        if (rc->ncat == MOD_RATE_CATEGORIES ||
            sscanf(item, "%63[a-z0-9_]:%lf:%lf%n", name, &ph, &burst, &len) != 3 ||
            (size_t)len != n || ph <= 0 || burst < 1 ||
            used + strlen(name) + 2 > sizeof(m->categories))
            return tl_errf(ei, TL_ECONFIG,
                           "mod_category_rates: \"%s\" is not category:per_hour:burst (at most "
                           "%d categories)",
                           item, MOD_RATE_CATEGORIES);
        used += (size_t)snprintf(m->categories + used, sizeof(m->categories) - used, "%s%s",
                                 used ? "," : "", name);
        rc->cat[rc->ncat].per_hour = ph;
        rc->cat[rc->ncat].burst = burst;
        rc->ncat++;
        s = e ? e + 1 : NULL;
    }
    return TL_OK;
}

static int load(struct daemon_mod *m, struct mod_rules **out, struct tl_errinfo *ei)
{
    struct mod_rules_error where = {0, 0};
    struct tl_errinfo own;
    if (!ei)
        ei = &own;
    tl_errinfo_clear(ei);
    int rc = mod_rules_load(m->path, &m->lim, out, &where, ei);
    if (rc != TL_OK)
        log_error("moderation rules refused file=%s line=%u column=%u detail=\"%s\"", m->path,
                  where.line, where.column, ei->msg);
    pthread_mutex_lock(&m->mu);
    m->attempts++;
    m->last_ok = rc == TL_OK;
    m->last_line = where.line;
    m->last_column = where.column;
    tl_strlcpy(m->last_error, rc == TL_OK ? "" : ei->msg, sizeof(m->last_error));
    if (rc == TL_OK)
        m->loaded_at = tl_wall_time();
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int daemon_mod_new(const struct cfg *c, struct daemon_mod **out, struct tl_errinfo *ei)
{
    *out = NULL;
    if (!c->moderation)
        return TL_OK;
    struct daemon_mod *m = calloc(1, sizeof(*m));
    if (!m)
        return TL_ENOMEM;
    struct mod_policy *p = &m->base;
    p->rate.per_hour = (double)c->mod_rate_per_hour;
    p->rate.burst = (double)c->mod_rate_burst;
    p->rate.new_per_hour = (double)c->mod_new_rate_per_hour;
    p->rate.new_burst = (double)c->mod_new_rate_burst;
    p->rate.new_for_s = (int64_t)c->mod_new_hours * 3600;
    p->rate.new_below_reputation = (double)c->mod_new_below_reputation;
    p->campaign.min_similarity = (double)c->mod_campaign_similarity / 100.0;
    p->campaign.min_text_len = (uint32_t)c->mod_campaign_min_chars;
    p->campaign.max_phash_distance = (int)c->mod_campaign_phash_bits;
    p->campaign.min_reporters = (uint32_t)c->mod_campaign_reporters;
    p->campaign.window_us = (int64_t)c->mod_campaign_window_s * 1000000;
    p->flag_below_reputation = (double)c->mod_flag_below_reputation;
    m->lim.match_limit = (uint32_t)c->mod_match_limit;
    m->lim.depth_limit = (uint32_t)c->mod_depth_limit;
    pthread_mutex_init(&m->mu, NULL);
    int rc = category_rates(m, c->mod_category_rates, ei);
    if (rc == TL_OK && c->moderation_rules && *c->moderation_rules) {
        struct mod_rules *r = NULL;
        if (!(m->path = tl_strdup(c->moderation_rules)))
            rc = TL_ENOMEM;
        else if ((rc = load(m, &r, ei)) == TL_OK)
            atomic_store(&m->rules, r);
        if (rc == TL_OK)
            log_info("moderation rules loaded file=%s rules=%zu", m->path, mod_rules_count(r));
    }
    if (rc != TL_OK) {
        daemon_mod_free(m);
        return rc;
    }
    *out = m;
    return TL_OK;
}

void daemon_mod_policy(struct daemon_mod *m, struct mod_policy *p)
{
    *p = m->base;
    p->rules = atomic_load(&m->rules);
}

int daemon_mod_reload(struct daemon_mod *m, struct tl_errinfo *ei)
{
    if (!m || !m->path)
        return TL_OK;
    struct mod_rules *r = NULL;
    int rc = load(m, &r, ei);
    if (rc != TL_OK)
        return rc; /* the rules in force stay */
    pthread_mutex_lock(&m->mu);
    struct mod_rules *old = atomic_exchange(&m->rules, r);
    struct mod_rules **grown =
        old ? realloc(m->retired, (m->n_retired + 1) * sizeof(*grown)) : NULL;
    if (grown) {
        m->retired = grown;
        m->retired[m->n_retired++] = old;
    } else if (old) {
        log_warn("retired moderation rules not kept, leaked until exit");
    }
    pthread_mutex_unlock(&m->mu);
    log_info("moderation rules reloaded file=%s rules=%zu", m->path, mod_rules_count(r));
    return TL_OK;
}

const char *daemon_mod_categories(const struct daemon_mod *m)
{
    return m->categories;
}

/* ---- the rules thread: reloads asked for through the database, every attempt recorded ---- */

/* Records the last attempt (answering reload_id, 0 none) as this process's. */
static int record(struct daemon_mod *m, struct store *s, const char *process, long long reload_id,
                  unsigned long *recorded, struct tl_errinfo *ei)
{
    struct store_mod_rules_load l = {.process = process, .reload_id = reload_id, .file = m->path};
    pthread_mutex_lock(&m->mu);
    unsigned long at = m->attempts;
    l.ok = m->last_ok || !m->path;
    l.rules = mod_rules_count(atomic_load(&m->rules));
    l.loaded_at = m->loaded_at;
    l.line = m->last_line;
    l.column = m->last_column;
    char error[sizeof(m->last_error)];
    tl_strlcpy(error, m->last_error, sizeof(error));
    pthread_mutex_unlock(&m->mu);
    l.error = error;
    int rc = store_mod_rules_record(s, &l, ei);
    if (rc == TL_OK)
        *recorded = at;
    return rc;
}

/* Whether a bot process answered reload request id (on error: yes, nothing is redone). */
static int answered(struct store *s, long long id)
{
    struct tl_errinfo ei;
    char *json = NULL;
    int n = 1;
    if (store_mod_rules_reload_doc(s, id, &json, &n, &ei) != TL_OK)
        n = 1;
    free(json);
    return n > 0;
}

static void *watch_main(void *arg)
{
    struct daemon_mod *m = arg;
    struct store *s = NULL;
    char host[128] = "", process[160];
    unsigned long listening = 0, recorded = (unsigned long)-1;
    long long seen = -1; /* the newest request answered; -1 before the first read */
    if (gethostname(host, sizeof(host) - 1) != 0)
        tl_strlcpy(host, "localhost", sizeof(host));
    snprintf(process, sizeof(process), "%s:%ld", host, (long)getpid());
    for (int failures = 0; !*m->stop;) {
        struct tl_errinfo ei;
        long long latest = -1;
        tl_errinfo_clear(&ei);
        int rc = s ? TL_OK : store_open(m->database_url, &s, &ei);
        if (rc == TL_OK)
            rc = store_mod_rules_wait(s, &listening, 1000, &latest, &ei);
        if (rc == TL_OK && seen < 0 && latest > 0 && !answered(s, latest))
            seen = 0; /* asked while no bot ran: answered now, with a fresh load */
        if (rc == TL_OK && latest > seen && seen >= 0) {
            struct tl_errinfo re;
            log_info("moderation rules reload asked request=%lld", latest);
            if (daemon_mod_reload(m, &re) != TL_OK) {
                /* refused and logged; the attempt is recorded below */
            }
            rc = record(m, s, process, latest, &recorded, &ei);
        } else if (rc == TL_OK && recorded != m->attempts) { /* at start, or SIGHUP */
            rc = record(m, s, process, 0, &recorded, &ei);
        }
        if (rc == TL_OK) {
            if (latest >= 0) /* requests made before this process read them: its start load */
                seen = latest > seen ? latest : seen;
            failures = 0;
            continue;
        }
        long wait = tl_backoff_ms(failures++, 200, 5000);
        log_warn("moderation rules watch failed err=\"%s\" detail=\"%s\" retry_in_ms=%ld",
                 tl_strerror(rc), ei.msg, wait);
        tl_sleep_ms(wait, m->stop);
    }
    store_free(s);
    return NULL;
}

int daemon_mod_watch(struct daemon_mod *m, const char *database_url, volatile sig_atomic_t *stop)
{
    if (!m)
        return TL_OK;
    m->database_url = database_url;
    m->stop = stop;
    if (pthread_create(&m->watcher, NULL, watch_main, m) != 0)
        return TL_EIO;
    m->have_watcher = 1;
    return TL_OK;
}

void daemon_mod_free(struct daemon_mod *m)
{
    if (!m)
        return;
    if (m->have_watcher)
        pthread_join(m->watcher, NULL);
    mod_rules_free(atomic_load(&m->rules));
    for (size_t i = 0; i < m->n_retired; i++)
        mod_rules_free(m->retired[i]);
    free(m->retired);
    free(m->path);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
