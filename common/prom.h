/* common/prom.h - the Prometheus text format (0.0.4) for the processes' own counters:
 * latency histograms any thread observes into without a lock, and the lines a scrape
 * writes. The web server's /metrics and the bot's metrics listener share it. */
#ifndef TL_PROM_H
#define TL_PROM_H

#include <stdatomic.h>
#include <stdint.h>

#include "util.h"

#define TL_HIST_N 12 /* latency buckets, 1 ms to 2 s, then +Inf */
struct tl_hist {
    atomic_llong bucket[TL_HIST_N + 1]; /* not cumulative; the last is +Inf */
    atomic_llong count, sum_us;
};

/* Counts one observation of us microseconds. Thread-safe. */
void tl_hist_observe(struct tl_hist *h, int64_t us);

/* The monotonic clock in microseconds (what observations are measured with). */
int64_t tl_prom_now_us(void);

/* Appends HELP, TYPE and the samples of a histogram (cumulative buckets in seconds,
 * _sum, _count). TL_ENOMEM when b cannot grow. */
int tl_prom_hist(struct tl_buf *b, const char *name, const char *help, struct tl_hist *h) TL_WUR;

/* Appends HELP, TYPE counter and one unlabelled sample. */
int tl_prom_counter(struct tl_buf *b, const char *name, const char *help, long long v) TL_WUR;
/* Appends HELP, TYPE gauge and one unlabelled sample. */
int tl_prom_gauge(struct tl_buf *b, const char *name, const char *help, double v) TL_WUR;

#endif
