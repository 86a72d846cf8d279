/* bench/dedup/bench_dedup.c - the per-report dedup decision on a full database.
 *   bench_dedup gen N           prints N 64-bit perceptual hashes (signed, one a line),
 *                               the same for every run: run.sh bulk-loads them as media
 *   bench_dedup run CONNINFO N ITER [REPORTERS]
 *                               loads the bot's index in memory (daemon/near.c: the load's
 *                               time and size), then stores ITER reports, each with one
 *                               photo, through the one write path (store_apply ->
 *                               store_apply_plan) three ways: with the dedup decision as the
 *                               worker makes it (the photo searched in memory, the ids and
 *                               the snapshot passed, checked in SQL), with the decision
 *                               searched in SQL alone (media_near, as before the index), and
 *                               without the decision; half the photos are a stored hash
 *                               with 1-6 bits changed (a near-duplicate to find), half new
 *                               ones. Prints p50/p99 of each store, the differences (the
 *                               decision) and reports/s on one connection.
 *   bench_dedup near CONNINFO QUERIES OUT
 *                               loads the index, searches each hash of the file QUERIES
 *                               (one a line) in memory within 8 bits, 10 rounds: p50/p99 of
 *                               one search, alone and with two threads searching while a
 *                               third refreshes the index; writes OUT, a line a hash: the
 *                               hash, the first round's time in ms and the answer as the
 *                               store path gets it (media_near_seen's nx), for run.sh to
 *                               time the SQL part. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "daemon/daemon.h"
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

enum { RUN_NONE, RUN_SQL, RUN_MEMORY };

/* Stores iter reports without the decision, with it searched in SQL alone, or with it
 * searched in memory (nr) as the worker does; fills ms[]; returns 0 or the error. */
static int store_run(struct store *s, struct daemon_near *nr, long long n_hashes, long iter,
                     long reporters, int mode, double *ms, double *wall)
{
    int dedup = mode != RUN_NONE;
    char tag = mode == RUN_NONE ? 'X' : mode == RUN_SQL ? 'S' : 'M';
    uint64_t rs = mode == RUN_NONE ? 4242 : mode == RUN_SQL ? 4343 : 42;
    double t0 = now_ms();
    for (long i = 0; i < iter; i++) {
        char ref[32], rep[32], text[64], fuid[48], bytes[32];
        snprintf(ref, sizeof(ref), "BD%c-%ld", tag, i);
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
        struct daemon_near_result nres;
        long long hq = (long long)h;
        double a = now_ms();
        int rc = TL_OK;
        long long *dh = NULL;
        size_t ndh = 0;
        /* as the worker: the draft's hashes read (a draft of none here), then the search */
        if (mode == RUN_MEMORY &&
            (rc = store_conv_draft_phashes(s, -1, i + 1, &dh, &ndh, &ei)) == TL_OK &&
            (rc = daemon_near_search(nr, &hq, 1, 8, &nres)) == TL_OK && nres.nx.snapshot)
            r.near = &nres.nx;
        free(dh);
        if (rc == TL_OK)
            rc = store_apply(s, &fx, NULL, &ei);
        ms[i] = now_ms() - a;
        if (mode == RUN_MEMORY) {
            if (!nres.nx.snapshot) {
                fprintf(stderr, "the index gave no answer\n");
                rc = TL_EINVAL;
            }
            daemon_near_result_release(&nres);
        }
        if (rc != TL_OK) {
            fprintf(stderr, "store_apply: %s: %s\n", tl_strerror(rc), ei.msg);
            return rc;
        }
    }
    *wall = now_ms() - t0;
    return 0;
}

/* Starts the index on conninfo and waits for its load; prints its figures. */
static int near_loaded(const char *conninfo, struct daemon_near **nr)
{
    struct daemon_near_info info = {0};
    if (daemon_near_start(conninfo, 500, nr) != TL_OK)
        return 1;
    for (int t = 0; t < 60000 && !info.loaded; t++) {
        daemon_near_info(*nr, &info);
        if (!info.loaded)
            tl_sleep_ms(5, NULL);
    }
    if (!info.loaded) {
        fprintf(stderr, "the index did not load\n");
        return 1;
    }
    printf("index in memory: %zu hashes loaded in %.0f ms, %.1f MB (%.1f bytes a hash, %.1f "
           "a band entry)\n",
           info.hashes, info.load_ms, (double)info.bytes / 1e6,
           (double)info.bytes / (double)info.hashes, (double)info.bytes / (double)info.hashes / 4);
    return 0;
}

/* One of two threads searching the index at the same time (the workers), while another
 * refreshes it (the index's own thread, here without pause). */
struct searcher {
    struct daemon_near *nr;
    const long long *q;
    size_t n;
    double *t; /* n * rounds */
    int rounds, rc;
};

static void *searcher_main(void *arg)
{
    struct searcher *x = arg;
    for (int round = 0; round < x->rounds; round++)
        for (size_t i = 0; i < x->n && !x->rc; i++) {
            struct daemon_near_result r;
            double a = now_ms();
            x->rc = daemon_near_search(x->nr, &x->q[i], 1, 8, &r) != TL_OK || !r.nx.snapshot;
            x->t[(size_t)round * x->n + i] = now_ms() - a;
            daemon_near_result_release(&r);
        }
    return NULL;
}

struct refresher {
    struct daemon_near *nr;
    atomic_int stop;
    long done;
};

static void *refresher_main(void *arg)
{
    struct refresher *x = arg;
    while (!atomic_load(&x->stop)) {
        struct tl_errinfo ei;
        if (daemon_near_refresh(x->nr, &ei) == TL_OK)
            x->done++;
    }
    return NULL;
}

/* Two searching threads and a refreshing one at once: p50/p99 of one search. */
static int near_concurrent(struct daemon_near *nr, const long long *q, size_t n, int rounds)
{
    struct searcher s[2];
    struct refresher rf = {.nr = nr};
    pthread_t ts[2], tr;
    double *all = calloc(2 * n * (size_t)rounds, sizeof(*all));
    int rc = 1, started = 0;
    if (!all)
        return 1;
    for (int i = 0; i < 2; i++)
        s[i] = (struct searcher){
            .nr = nr, .q = q, .n = n, .t = all + (size_t)i * n * rounds, .rounds = rounds};
    if (pthread_create(&tr, NULL, refresher_main, &rf) != 0)
        goto out;
    for (; started < 2; started++)
        if (pthread_create(&ts[started], NULL, searcher_main, &s[started]) != 0)
            break;
    for (int i = 0; i < started; i++)
        pthread_join(ts[i], NULL);
    atomic_store(&rf.stop, 1);
    pthread_join(tr, NULL);
    if (started < 2 || s[0].rc || s[1].rc)
        goto out;
    qsort(all, 2 * n * (size_t)rounds, sizeof(*all), cmp_dbl);
    printf("near search, in memory, 2 threads searching while a third refreshes (%ld "
           "refreshes): p50 %.4f ms  p99 %.4f ms  (%zu searches)\n",
           rf.done, pct(all, 2 * n * (size_t)rounds, .5), pct(all, 2 * n * (size_t)rounds, .99),
           2 * n * (size_t)rounds);
    rc = 0;
out:
    free(all);
    return rc;
}

/* bench_dedup near: the in-memory search alone, and the answers for run.sh. */
static int near_main(const char *conninfo, const char *queries, const char *out_path)
{
    enum { ROUNDS = 10 };
    struct daemon_near *nr = NULL;
    FILE *in = fopen(queries, "r"), *out = fopen(out_path, "w");
    long long *q = NULL;
    double *t = NULL;
    size_t n = 0, cap = 0;
    int rc = 1;
    char line[64];
    if (!in || !out)
        goto out;
    while (fgets(line, sizeof(line), in)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            long long *v = realloc(q, cap * sizeof(*v));
            if (!v)
                goto out;
            q = v;
        }
        q[n++] = strtoll(line, NULL, 10);
    }
    if (!n || !(t = calloc(n * ROUNDS, sizeof(*t))) || near_loaded(conninfo, &nr))
        goto out;
    for (int round = 0; round < ROUNDS; round++)
        for (size_t i = 0; i < n; i++) {
            struct daemon_near_result r;
            double a = now_ms();
            if (daemon_near_search(nr, &q[i], 1, 8, &r) != TL_OK || !r.nx.snapshot) {
                daemon_near_result_release(&r);
                goto out;
            }
            t[round * n + i] = now_ms() - a;
            if (round == 0) {
                fprintf(out, "%lld\t%.6f\t{\"s\":\"%s\",\"h\":{", q[i], t[i], r.nx.snapshot);
                for (size_t j = 0; j < r.nx.n; j++) {
                    fprintf(out, "%s\"%lld\":[", j ? "," : "", r.nx.h[j].hash);
                    for (size_t k = 0; k < r.nx.h[j].n_ids; k++)
                        fprintf(out, "%s%lld", k ? "," : "", r.nx.h[j].ids[k]);
                    fputc(']', out);
                }
                fputs("}}\n", out);
            }
            daemon_near_result_release(&r);
        }
    qsort(t, n * ROUNDS, sizeof(*t), cmp_dbl);
    printf("near search, in memory (daemon_near_search, k = 8): p50 %.4f ms  p99 %.4f ms  "
           "(%zu searches)\n",
           pct(t, n * ROUNDS, .5), pct(t, n * ROUNDS, .99), n * ROUNDS);
    if (near_concurrent(nr, q, n, ROUNDS))
        goto out;
    rc = ferror(out) ? 1 : 0;
out:
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = 1;
    daemon_near_free(nr);
    free(q);
    free(t);
    return rc;
}

static void print_run(const char *what, double *v, long iter, double wall)
{
    qsort(v, (size_t)iter, sizeof(double), cmp_dbl);
    printf("store %-26s p50 %6.2f ms  p99 %6.2f ms  %7.0f reports/s\n", what,
           pct(v, (size_t)iter, .5), pct(v, (size_t)iter, .99), iter / (wall / 1e3));
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "gen") == 0) {
        long long n = strtoll(argv[2], NULL, 10);
        for (long long i = 1; i <= n; i++)
            printf("%" PRId64 "\n", (int64_t)stored_hash(i));
        return ferror(stdout) ? 1 : 0;
    }
    if (argc == 5 && strcmp(argv[1], "near") == 0)
        return near_main(argv[2], argv[3], argv[4]);
    if (argc < 5 || strcmp(argv[1], "run") != 0) {
        fprintf(stderr, "usage: bench_dedup gen N | bench_dedup run CONNINFO N_HASHES ITER "
                        "[REPORTERS] | bench_dedup near CONNINFO QUERIES OUT\n");
        return 2;
    }
    long long n_hashes = strtoll(argv[3], NULL, 10);
    long iter = strtol(argv[4], NULL, 10), reporters = argc > 5 ? strtol(argv[5], NULL, 10) : 10000;
    if (n_hashes < 1 || iter < 2 || reporters < 1)
        return 2;
    struct store *s = NULL;
    struct daemon_near *nr = NULL;
    struct tl_errinfo ei = {0};
    double *mem = calloc((size_t)iter, sizeof(double)), *sql = calloc((size_t)iter, sizeof(double)),
           *off = calloc((size_t)iter, sizeof(double));
    double wall_mem, wall_sql, wall_off;
    int rc = 1;
    if (!mem || !sql || !off || store_open(argv[2], &s, &ei) != TL_OK) {
        fprintf(stderr, "store_open: %s\n", ei.msg);
        goto out;
    }
    if (near_loaded(argv[2], &nr) ||
        store_run(s, nr, n_hashes, iter, reporters, RUN_MEMORY, mem, &wall_mem) ||
        store_run(s, nr, n_hashes, iter, reporters, RUN_SQL, sql, &wall_sql) ||
        store_run(s, nr, n_hashes, iter, reporters, RUN_NONE, off, &wall_off))
        goto out;
    print_run("with dedup (in memory)", mem, iter, wall_mem);
    print_run("with dedup (SQL alone)", sql, iter, wall_sql);
    print_run("without dedup", off, iter, wall_off);
    printf("dedup decision (in memory) p50 %6.2f ms  p99 %6.2f ms (difference)\n",
           pct(mem, (size_t)iter, .5) - pct(off, (size_t)iter, .5),
           pct(mem, (size_t)iter, .99) - pct(off, (size_t)iter, .99));
    printf("dedup decision (SQL alone) p50 %6.2f ms  p99 %6.2f ms (difference)\n",
           pct(sql, (size_t)iter, .5) - pct(off, (size_t)iter, .5),
           pct(sql, (size_t)iter, .99) - pct(off, (size_t)iter, .99));
    rc = 0;
out:
    daemon_near_free(nr);
    store_free(s);
    free(mem);
    free(sql);
    free(off);
    return rc;
}
