/* bench/dedup/bench_dedup.c - the per-report dedup decision on a full database.
 *   bench_dedup gen N           prints N 64-bit perceptual hashes (signed, one a line),
 *                               the same for every run: run.sh bulk-loads them as media
 *   bench_dedup run CONNINFO N ITER [REPORTERS]
 *                               stores ITER reports, each with one photo, through the one
 *                               write path (store_apply -> store_apply_plan), first with
 *                               the dedup decision (the reporter's recent text and photos,
 *                               the photo's near-duplicates through the band index, the
 *                               links, the seen-before flag), then as many without it;
 *                               half the photos are a stored hash with 1-6 bits changed
 *                               (a near-duplicate to find), half new ones. Prints p50/p99
 *                               of each store, their difference (the decision) and
 *                               reports/s on one connection. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "storage/store.h"
#include "common/banned.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The i-th stored hash (1-based, as media ids run from 1 in the bulk load). */
static uint64_t stored_hash(long long i)
{
    uint64_t s = (uint64_t)i * 0x2545f4914f6cdd1dull;
    return splitmix(&s);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1));
    return v[i];
}

/* Stores iter reports; dedup on or off; fills ms[]; returns 0 or the error. */
static int store_run(struct store *s, long long n_hashes, long iter, long reporters, int dedup,
                     double *ms, double *wall)
{
    uint64_t rs = dedup ? 42 : 4242;
    double t0 = now_ms();
    for (long i = 0; i < iter; i++) {
        char ref[32], rep[32], text[64], fuid[48], bytes[32];
        snprintf(ref, sizeof(ref), "BD%c-%ld", dedup ? 'D' : 'X', i);
        snprintf(rep, sizeof(rep), "bench%ld", 1 + (long)(splitmix(&rs) % (uint64_t)reporters));
        snprintf(text, sizeof(text), "bench report %s", ref);
        snprintf(fuid, sizeof(fuid), "bf-%s", ref);
        int len = snprintf(bytes, sizeof(bytes), "photo %s", ref);
        uint64_t h;
        if (i % 2 == 0) { /* a stored photo again, a few bits off */
            h = stored_hash(1 + (long long)(splitmix(&rs) % (uint64_t)n_hashes));
            int flips = 1 + (int)(splitmix(&rs) % 6);
            for (int f = 0; f < flips; f++)
                h ^= 1ull << (splitmix(&rs) % 64);
        } else {
            h = splitmix(&rs);
        }
        struct store_media_new m = {.kind = "photo",
                                    .tg_file_id = fuid,
                                    .tg_file_unique_id = fuid,
                                    .mime = "image/jpeg",
                                    .bytes = (const unsigned char *)bytes,
                                    .len = (size_t)len,
                                    .has_phash = 1,
                                    .phash = h};
        struct store_report_new r = {.public_ref = ref,
                                     .reporter = rep,
                                     .text = text,
                                     .priority = 10,
                                     .media = &m,
                                     .n_media = 1};
        if (dedup)
            r.dedup = (struct store_dedup){
                .on = 1, .window_s = 3600, .max_distance = 8, .seen_before_s = 7 * 86400};
        struct store_effects fx = {.pseudonym = rep, .set_blocked = -1, .report = &r};
        struct tl_errinfo ei = {0};
        double a = now_ms();
        int rc = store_apply(s, &fx, NULL, &ei);
        ms[i] = now_ms() - a;
        if (rc != TL_OK) {
            fprintf(stderr, "store_apply: %s: %s\n", tl_strerror(rc), ei.msg);
            return rc;
        }
    }
    *wall = now_ms() - t0;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "gen") == 0) {
        long long n = strtoll(argv[2], NULL, 10);
        for (long long i = 1; i <= n; i++)
            printf("%" PRId64 "\n", (int64_t)stored_hash(i));
        return ferror(stdout) ? 1 : 0;
    }
    if (argc < 5 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: bench_dedup gen N | bench_dedup run CONNINFO N_HASHES ITER "
                        "[REPORTERS]\n");
        return 2;
    }
    long long n_hashes = strtoll(argv[3], NULL, 10);
    long iter = strtol(argv[4], NULL, 10), reporters = argc > 5 ? strtol(argv[5], NULL, 10) : 10000;
    if (n_hashes < 1 || iter < 2 || reporters < 1)
        return 2;
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    double *on = calloc((size_t)iter, sizeof(double)), *off = calloc((size_t)iter, sizeof(double));
    double wall_on, wall_off;
    int rc = 1;
    if (!on || !off || store_open(argv[2], &s, &ei) != TL_OK) {
        fprintf(stderr, "store_open: %s\n", ei.msg);
        goto out;
    }
    if (store_run(s, n_hashes, iter, reporters, 1, on, &wall_on) ||
        store_run(s, n_hashes, iter, reporters, 0, off, &wall_off))
        goto out;
    qsort(on, (size_t)iter, sizeof(double), cmp_dbl);
    qsort(off, (size_t)iter, sizeof(double), cmp_dbl);
    printf("store with dedup    p50 %6.2f ms  p99 %6.2f ms  %7.0f reports/s\n",
           pct(on, (size_t)iter, .5), pct(on, (size_t)iter, .99), iter / (wall_on / 1e3));
    printf("store without dedup p50 %6.2f ms  p99 %6.2f ms  %7.0f reports/s\n",
           pct(off, (size_t)iter, .5), pct(off, (size_t)iter, .99), iter / (wall_off / 1e3));
    printf("dedup decision      p50 %6.2f ms  p99 %6.2f ms (difference)\n",
           pct(on, (size_t)iter, .5) - pct(off, (size_t)iter, .5),
           pct(on, (size_t)iter, .99) - pct(off, (size_t)iter, .99));
    rc = 0;
out:
    store_free(s);
    free(on);
    free(off);
    return rc;
}
