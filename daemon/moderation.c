/* daemon/moderation.c - the moderation policy the workers decide with: the limits from
 * the configuration and the rules file, loaded at start and again on SIGHUP. A reload
 * that fails (the file broken, with its line and column) keeps the rules in force. A
 * replaced rule set is kept until the runtime ends: a worker may still be matching
 * with it, and reloads are rare. */
#include "modpolicy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
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
    int rc = mod_rules_load(m->path, &m->lim, out, &where, ei);
    if (rc != TL_OK)
        log_error("moderation rules refused file=%s line=%u column=%u detail=\"%s\"", m->path,
                  where.line, where.column, ei ? ei->msg : "");
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

void daemon_mod_free(struct daemon_mod *m)
{
    if (!m)
        return;
    mod_rules_free(atomic_load(&m->rules));
    for (size_t i = 0; i < m->n_retired; i++)
        mod_rules_free(m->retired[i]);
    free(m->retired);
    free(m->path);
    pthread_mutex_destroy(&m->mu);
    free(m);
}
