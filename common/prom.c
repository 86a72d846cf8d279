/* common/prom.c - Prometheus text format helpers: lock-free latency histograms and
 * the lines of a scrape. */
#include "prom.h"

#include <time.h>

#include "banned.h"

/* Upper bounds of the latency buckets, in microseconds. */
static const long long BOUNDS_US[TL_HIST_N] = {1000,   2500,   5000,   10000,   25000,   50000,
                                               100000, 250000, 500000, 1000000, 1500000, 2000000};

int64_t tl_prom_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void tl_hist_observe(struct tl_hist *h, int64_t us)
{
    size_t i = 0;
    while (i < TL_HIST_N && us > BOUNDS_US[i])
        i++;
    atomic_fetch_add(&h->bucket[i], 1);
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (long long)us);
}

int tl_prom_hist(struct tl_buf *b, const char *name, const char *help, struct tl_hist *h)
{
    int e = tl_buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    long long cum = 0;
    for (size_t i = 0; i < TL_HIST_N && !e; i++) {
        cum += atomic_load(&h->bucket[i]);
        e = tl_buf_printf(b, "%s_bucket{le=\"%g\"} %lld\n", name, (double)BOUNDS_US[i] / 1e6, cum);
    }
    cum += atomic_load(&h->bucket[TL_HIST_N]);
    if (!e)
        e = tl_buf_printf(b, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.6f\n%s_count %lld\n", name, cum,
                          name, (double)atomic_load(&h->sum_us) / 1e6, name, cum);
    return e;
}

int tl_prom_counter(struct tl_buf *b, const char *name, const char *help, long long v)
{
    return tl_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", name, help, name, name,
                         v);
}

int tl_prom_gauge(struct tl_buf *b, const char *name, const char *help, double v)
{
    return tl_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}
