/* moderation/rate.c - per-reporter rate limits: a token bucket per reporter (stricter
 * while the reporter is new) and one per reporter and category, over a state the
 * caller persists. Runs on the wall clock so the state survives a restart. */
#include "moderation/mod.h"
#include "common/banned.h"

/* Sets a bucket's rate and burst, keeping what it holds (at most the new burst). */
static void tune(struct tl_tbucket *b, double per_hour, double burst, int64_t now_us)
{
    double rate = per_hour > 0 ? per_hour / 3600.0 : 1.0 / 3600.0;
    if (burst < 1)
        burst = 1;
    b->rate = rate;
    b->burst = burst;
    if (b->tokens > burst)
        b->tokens = burst;
    /* a wall clock set back must not hold the reporter off until it catches up */
    if (b->last_us > now_us)
        b->last_us = now_us;
}

int64_t mod_rate_take(const struct mod_rate_cfg *cfg, struct mod_rate_state *st, int is_new,
                      int cat, int64_t now_us)
{
    double ph = is_new ? cfg->new_per_hour : cfg->per_hour;
    double burst = is_new ? cfg->new_burst : cfg->burst;
    int use_cat = cat >= 0 && (size_t)cat < cfg->ncat && cat < MOD_RATE_CATEGORIES &&
                  cfg->cat[cat].per_hour > 0;

    if (!st->initialised) {
        tl_tbucket_init(&st->all, ph / 3600.0, burst, now_us);
        for (size_t k = 0; k < cfg->ncat && k < MOD_RATE_CATEGORIES; k++)
            tl_tbucket_init(&st->cat[k], cfg->cat[k].per_hour / 3600.0, cfg->cat[k].burst, now_us);
        st->initialised = 1;
    }
    tune(&st->all, ph, burst, now_us);
    int64_t wait = tl_tbucket_take(&st->all, now_us);
    if (wait > 0 || !use_cat)
        return wait;
    struct tl_tbucket *cb = &st->cat[cat];
    if (cb->last_us == 0 && cb->burst == 0) /* a category added after the state was made */
        tl_tbucket_init(cb, cfg->cat[cat].per_hour / 3600.0, cfg->cat[cat].burst, now_us);
    tune(cb, cfg->cat[cat].per_hour, cfg->cat[cat].burst, now_us);
    wait = tl_tbucket_take(cb, now_us);
    if (wait > 0) {
        /* refused: give back the token the reporter's bucket gave */
        st->all.tokens += 1.0;
        if (st->all.tokens > st->all.burst)
            st->all.tokens = st->all.burst;
    }
    return wait;
}
