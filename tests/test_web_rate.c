/* tests/test_web_rate.c - web/rate.c's per-credential limiter called directly, without
 * a server or a database: threads racing on one bucket get every request the budget
 * holds, and not one more. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfg.h"
#include "common/tbucket.h"
#include "web/server_int.h"

#define RATE_THREADS 8
#define RATE_BUDGET 4000 /* api_rate_per_min: the burst a fresh bucket holds */
#define RATE_ROUNDS 12   /* fresh keys, each raced on from the start */

struct racer {
    struct web *w;
    const char *key;
    pthread_barrier_t *go;
    atomic_long *left; /* requests still to send in the round, shared */
    long taken, refused;
};

/* Sends requests under one key until the round's budget is spent, all threads released
 * at once so that they contend on the lock from the first request on. */
static void *race(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    while (atomic_fetch_sub(r->left, 1) > 0) {
        if (web_rate_take(r->w, r->key) == 0)
            r->taken++;
        else
            r->refused++;
    }
    return NULL;
}

static void web_fixture(struct web *w, struct cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->api_rate_per_min = RATE_BUDGET;
    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->rate = calloc(WEB_RATE_SLOTS, sizeof(*w->rate));
    assert_non_null(w->rate);
    assert_int_equal(pthread_mutex_init(&w->rate_mu, NULL), 0);
}

/* RATE_BUDGET requests under one key from RATE_THREADS threads at once, in a time that
 * refills a fraction of a token: none refused. Each thread reads the clock; were it read
 * before the limiter's lock, a thread that read it earlier but took the lock later would
 * find the bucket's time ahead of its own and be refused with tokens left. Then the
 * budget holds: the next request is refused (beyond what the elapsed time refilled). */
static void test_web_rate_race_keeps_budget(void **state)
{
    (void)state;
    struct cfg cfg;
    struct web w;
    web_fixture(&w, &cfg);
    double per_us = (double)RATE_BUDGET / 60.0 / 1e6;
    for (int round = 0; round < RATE_ROUNDS; round++) {
        char key[32];
        snprintf(key, sizeof(key), "tok:race-%d", round);
        pthread_barrier_t go;
        atomic_long left = RATE_BUDGET;
        struct racer r[RATE_THREADS];
        pthread_t t[RATE_THREADS];
        assert_int_equal(pthread_barrier_init(&go, NULL, RATE_THREADS), 0);
        int64_t t0 = tl_now_us();
        for (int i = 0; i < RATE_THREADS; i++) {
            r[i] = (struct racer){.w = &w, .key = key, .go = &go, .left = &left};
            assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        long taken = 0, refused = 0;
        for (int i = 0; i < RATE_THREADS; i++) {
            assert_int_equal(pthread_join(t[i], NULL), 0);
            taken += r[i].taken;
            refused += r[i].refused;
        }
        pthread_barrier_destroy(&go);
        if (refused)
            fail_msg("round %d: %ld of %d requests within the budget refused", round, refused,
                     RATE_BUDGET);
        assert_int_equal(taken, RATE_BUDGET);
        /* past the budget: refused, once what the round's time refilled is spent */
        long extra = 0, wait = 0;
        while (extra <= RATE_BUDGET && (wait = web_rate_take(&w, key)) == 0)
            extra++;
        double refilled = (double)(tl_now_us() - t0) * per_us;
        if ((double)extra > refilled + 1.0)
            fail_msg("round %d: %ld past the budget taken, %.2f tokens refilled", round, extra,
                     refilled);
        assert_true(wait >= 1);
    }
    pthread_mutex_destroy(&w.rate_mu);
    free(w.rate);
}

/* The limiter refuses exactly the request past the budget of a quiet bucket, and the
 * wait it asks for is what the rate refills one token in (60 s / budget, rounded up). */
static void test_web_rate_budget_then_wait(void **state)
{
    (void)state;
    struct cfg cfg;
    struct web w;
    web_fixture(&w, &cfg);
    cfg.api_rate_per_min = 3; /* one token every 20 s */
    for (int i = 0; i < 3; i++)
        assert_int_equal(web_rate_take(&w, "tok:quiet"), 0);
    long wait = web_rate_take(&w, "tok:quiet");
    assert_true(wait >= 19 && wait <= 21);
    assert_int_equal(web_rate_take(&w, "tok:other"), 0); /* keys are apart */
    pthread_mutex_destroy(&w.rate_mu);
    free(w.rate);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_web_rate_race_keeps_budget),
        cmocka_unit_test(test_web_rate_budget_then_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
