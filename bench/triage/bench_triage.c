/* bench/triage/bench_triage.c - the analysts' queue under load: seeds N queued reports
 * (store_queue_seed: one INSERT ... SELECT generate_series per 50,000), then C claimer
 * threads (the analysts) claim -> decide until S seconds pass through a pool of database
 * connections sized as the web server's, while a reader polls the live events as a
 * running web server does; prints claim+decide pairs per second, p50/p99 of claim and of
 * decide and the CPU a pair costs, then the filtered
 * list (first page and a deep keyset page), the bounded priority refresh, and a located
 * report's insert into the full table (its corroboration probe and neighbour recount).
 * The claims, decisions and lists are the storage calls the HTTP API makes (web/api.c).
 * Usage: bench_triage CONNINFO [N (1000000)] [SECONDS (20)] [CLAIMERS (8)] [--no-seed]
 *        [--full-decide] [--next (decide, then next: one request per pair)]
 *        [--pool=P (0: as the web server, web_db_connections' default)]
 *        [--auth-cache=S (10: as the web server, web_auth_cache_seconds' default; 0: every
 *        request checks its token in the database)] */
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "web/web.h"
#include "common/banned.h"

#define MAX_CLAIMERS 64

/* --full-decide: decisions answer with the full report, as for an API client that does
 * not send Prefer: return=minimal */
static int full_decide;
/* --next: "decide, then next" (POST /api/reports/{id}/decide with "next": true =
 * store_web_decide_next): one request per pair after the first claim */
static int decide_next;
#define MAX_SAMPLES 400000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct samples {
    double *v;
    size_t n, cap;
};

static void sample_add(struct samples *s, double ms)
{
    if (s->n < s->cap)
        s->v[s->n++] = ms;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(struct samples *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof(double), cmp_dbl);
    size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
    return s->v[i];
}

static int samples_init(struct samples *s, size_t cap)
{
    s->v = calloc(cap, sizeof(double));
    s->n = 0;
    s->cap = s->v ? cap : 0;
    return s->v ? 0 : -1;
}

static void die(const char *what, int rc, const struct tl_errinfo *ei)
{
    fprintf(stderr, "bench_triage: %s: %s (%s) %s\n", what, tl_strerror(rc), ei->sqlstate, ei->msg);
    exit(1);
}

/* ---- what the API runs: one claim, one decision, one list page ----
 * The storage calls of web/api.c's handlers, in the same order: the bearer token's
 * check, then POST /api/queue/claim = store_web_claim (the claim, its full report and
 * the audited view in one call); POST /api/reports/{id}/decide = store_web_decide (the
 * decision and what it changed: the console asks with Prefer: return=minimal, as it
 * already shows the report); GET
 * /api/reports = store_web_reports. Only HTTP and JSON parsing are left out. */

struct analyst {
    struct store_who who;
    char name[32];
    char token_sha[65];
};

static void analyst_init(struct analyst *a, int idx)
{
    snprintf(a->name, sizeof(a->name), "bench%02d", idx);
    snprintf(a->token_sha, sizeof(a->token_sha), "%064d", idx + 1); /* stands for a SHA-256 */
    a->who = (struct store_who){.account = a->name, .round_decimals = -1};
}

/* The server's kept credential checks (web/creds.c), told by the reader below. */
static struct web_creds *g_creds;
static atomic_llong g_auth_requests, g_auth_checked;

static int auth(struct store *s, const struct analyst *a, struct tl_errinfo *ei)
{
    struct store_principal p;
    char key[WEB_CREDS_KEY];
    uint64_t gen;
    snprintf(key, sizeof(key), "t:%s", a->token_sha);
    atomic_fetch_add(&g_auth_requests, 1);
    if (web_creds_get(g_creds, key, &p, &gen))
        return TL_OK;
    atomic_fetch_add(&g_auth_checked, 1);
    int rc = store_auth_token(s, a->token_sha, &p, ei);
    if (rc == TL_OK)
        web_creds_put(g_creds, key, &p, gen);
    return rc;
}

static int claim(struct store *s, const struct analyst *a, long long *id, struct tl_errinfo *ei)
{
    char *json = NULL;
    *id = 0;
    int rc = auth(s, a, ei);
    if (!rc)
        rc = store_web_claim(s, &a->who, NULL, 300, id, &json, ei);
    if (!rc && *id && !json)
        rc = tl_errf(ei, TL_ENOTFOUND, "claim %lld without its report", *id);
    free(json);
    return rc;
}

/* The decision the claimer makes (ib: room for the id as text). */
static struct store_decision decision_of(const struct analyst *a, long long id,
                                         const char *decision, long long dup_of, char ib[32])
{
    snprintf(ib, 32, "%lld", id);
    return (struct store_decision){.id_or_ref = ib,
                                   .analyst = a->name,
                                   .decision = decision,
                                   .note = "bench",
                                   .duplicate_of = strcmp(decision, "duplicate") == 0 ? dup_of : 0,
                                   .minimal = !full_decide};
}

static int decide(struct store *s, const struct analyst *a, long long id, const char *decision,
                  long long dup_of, struct tl_errinfo *ei)
{
    char ib[32];
    struct store_decision d = decision_of(a, id, decision, dup_of, ib);
    char *json = NULL;
    int rc = auth(s, a, ei);
    if (!rc)
        rc = store_web_decide(s, &a->who, &d, &json, ei);
    free(json);
    return rc;
}

/* The decision of id and the claim of the next report in one request; *next 0: none. */
static int decide_then_next(struct store *s, const struct analyst *a, long long id,
                            const char *decision, long long dup_of, long long *next,
                            struct tl_errinfo *ei)
{
    char ib[32];
    struct store_decision d = decision_of(a, id, decision, dup_of, ib);
    char *json = NULL;
    *next = 0;
    int rc = auth(s, a, ei);
    if (!rc)
        rc = store_web_decide_next(s, &a->who, &d, NULL, 300, next, &json, ei);
    if (!rc && *next && !strstr(json, "\"next\":{"))
        rc = tl_errf(ei, TL_ENOTFOUND, "next %lld without its report", *next);
    free(json);
    return rc;
}

struct list_case {
    const char *name;
    struct store_web_filter f;
};

/* Rows in the page: items are objects starting {"id": */
static size_t count_items(const char *json)
{
    size_t n = 0;
    for (const char *p = json; (p = strstr(p, "{\"id\":")) != NULL; p++)
        n++;
    return n;
}

static int list(struct store *s, const struct analyst *a, const struct list_case *c, size_t *n,
                struct tl_errinfo *ei)
{
    char *json = NULL;
    int rc = auth(s, a, ei);
    if (!rc)
        rc = store_web_reports(s, &a->who, &c->f, &json, ei);
    *n = rc ? 0 : count_items(json);
    free(json);
    return rc;
}

/* ---- the machine's CPU, from /proc/stat ----
 * Busy and stolen jiffies of all CPUs (all processes: the server, this bench, anything
 * else): the CPU a pair costs is steadier than pairs/s on a shared virtual machine, and
 * the steal share says how much of the machine its host took meanwhile. */

struct cpu_tick {
    unsigned long long busy, steal, total;
};

static int cpu_read(struct cpu_tick *t)
{
    unsigned long long v[10] = {0};
    FILE *f = fopen("/proc/stat", "r");
    memset(t, 0, sizeof(*t));
    if (!f)
        return -1;
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    fclose(f);
    if (n < 8)
        return -1;
    /* user nice system idle iowait irq softirq steal (guest time is inside user) */
    t->busy = v[0] + v[1] + v[2] + v[5] + v[6];
    t->steal = v[7];
    t->total = t->busy + v[3] + v[4] + v[7];
    return 0;
}

/* ---- the web server's event reader ----
 * A running web server is registered in web_listeners, so every claim and decision
 * also appends its live event (migration 0013); like web/events.c, this reader polls
 * them every 100 ms on its own connection while the claimers run, and tells the kept
 * credential checks what it read. */

struct reader {
    const char *ci;
    atomic_int attached, stop;
    long long events, polls, resyncs;
    int rc;
    struct tl_errinfo ei;
};

static void count_event(void *arg, const char *body)
{
    struct json_object *o = json_tokener_parse(body), *e = NULL;
    int auth = json_object_object_get_ex(o, "event", &e) &&
               json_object_is_type(e, json_type_string) &&
               web_creds_event(g_creds, json_object_get_string(e)); /* drops the kept checks */
    if (!auth)
        ((struct reader *)arg)->events++;
    json_object_put(o);
}

static void *reader_run(void *p)
{
    struct reader *r = p;
    struct store *s = NULL;
    struct store_events pos = {0};
    if ((r->rc = store_open(r->ci, &s, &r->ei)) == TL_OK)
        r->rc = store_events_attach(s, &pos, &r->ei);
    atomic_store(&r->attached, r->rc == TL_OK ? 1 : -1);
    while (r->rc == TL_OK && !atomic_load(&r->stop)) {
        int resync = 0;
        tl_sleep_ms(100, NULL);
        r->rc = store_events_poll(s, &pos, 20000, count_event, r, &resync, &r->ei);
        if (resync) /* as web/events.c: what was skipped may have been about credentials */
            web_creds_flush(g_creds);
        web_creds_read(g_creds, r->rc == TL_OK);
        r->polls++;
        r->resyncs += resync;
    }
    struct tl_errinfo ei = {0};
    if (s && store_events_detach(s, &ei) != TL_OK && r->rc == TL_OK)
        r->rc = TL_EDB;
    store_events_reset(&pos);
    store_free(s);
    return NULL;
}

/* ---- claimers ---- */

/* The web server's pool (web/pool.c): a request takes a connection for its token check
 * and its call, and gives it back; requests beyond the pool wait for one. Opened up
 * front here (the server opens them on demand and keeps them). */
struct pool_waiter {
    pthread_cond_t cv;
    struct store *s;
    struct pool_waiter *next;
};

struct pool {
    pthread_mutex_t mu;
    struct store *idle[MAX_CLAIMERS];
    int n_idle;
    struct pool_waiter *head, *tail; /* first come, first served */
};

static struct pool g_pool = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, NULL, NULL};

static struct store *pool_get(void)
{
    pthread_mutex_lock(&g_pool.mu);
    struct store *s = NULL;
    if (g_pool.n_idle) {
        s = g_pool.idle[--g_pool.n_idle];
    } else {
        struct pool_waiter w = {.s = NULL, .next = NULL};
        pthread_cond_init(&w.cv, NULL);
        if (g_pool.tail)
            g_pool.tail->next = &w;
        else
            g_pool.head = &w;
        g_pool.tail = &w;
        while (!w.s)
            pthread_cond_wait(&w.cv, &g_pool.mu);
        pthread_cond_destroy(&w.cv);
        s = w.s;
    }
    pthread_mutex_unlock(&g_pool.mu);
    return s;
}

static void pool_put(struct store *s)
{
    pthread_mutex_lock(&g_pool.mu);
    struct pool_waiter *w = g_pool.head;
    if (w) {
        g_pool.head = w->next;
        if (!g_pool.head)
            g_pool.tail = NULL;
        w->s = s;
        pthread_cond_signal(&w->cv);
    } else {
        g_pool.idle[g_pool.n_idle++] = s;
    }
    pthread_mutex_unlock(&g_pool.mu);
}

static void pool_open(const char *ci, int size)
{
    for (int i = 0; i < size; i++) {
        struct store *s = NULL;
        struct tl_errinfo ei = {0};
        int rc = store_open(ci, &s, &ei);
        if (rc)
            die("pool", rc, &ei);
        pool_put(s);
    }
}

static void pool_close(void)
{
    while (g_pool.n_idle)
        store_free(g_pool.idle[--g_pool.n_idle]);
}

struct claimer {
    int idx;
    double until_ms;
    struct samples claim_ms, decide_ms;
    long long pairs, empty, conflicts;
    int rc;
    struct tl_errinfo ei;
};

static const char *pick_decision(unsigned *seed)
{
    unsigned x = (unsigned)rand_r(seed) % 100;
    return x < 45   ? "confirmed"
           : x < 70 ? "rejected"
           : x < 85 ? "duplicate"
           : x < 95 ? "needs_info"
                    : "escalated";
}

static void *claimer_run(void *p)
{
    struct claimer *c = p;
    struct analyst a;
    long long prev = 0;
    unsigned seed = 1000u + (unsigned)c->idx;
    analyst_init(&a, c->idx);
    long long next = 0; /* --next: the report the last request claimed */
    while (now_ms() < c->until_ms) {
        long long id = next;
        double t0 = now_ms();
        struct store *s;
        if (!id) { /* the first claim, or every claim without --next */
            s = pool_get();
            c->rc = claim(s, &a, &id, &c->ei);
            pool_put(s);
            if (c->rc != TL_OK)
                break;
            sample_add(&c->claim_ms, now_ms() - t0);
            if (!id) {
                c->empty++;
                break;
            }
        }
        double t1 = now_ms();
        const char *dec = pick_decision(&seed);
        if (!prev && strcmp(dec, "duplicate") == 0)
            dec = "confirmed"; /* nothing yet to be a duplicate of */
        s = pool_get();
        int rc = decide_next ? decide_then_next(s, &a, id, dec, prev, &next, &c->ei)
                             : decide(s, &a, id, dec, prev, &c->ei);
        pool_put(s);
        prev = id;
        double t2 = now_ms();
        if (rc == TL_ECONFLICT) {
            c->conflicts++; /* would be a bug: the lease is ours */
            continue;
        }
        if ((c->rc = rc) != TL_OK)
            break;
        sample_add(&c->decide_ms, t2 - t1);
        c->pairs++;
    }
    return NULL;
}

static void run_claimers(const char *ci, int n, int pool, double seconds)
{
    struct claimer *cl = calloc((size_t)n, sizeof(*cl));
    pthread_t th[MAX_CLAIMERS];
    if (!cl)
        exit(1);
    struct reader rd = {.ci = ci};
    pthread_t rth;
    pthread_create(&rth, NULL, reader_run, &rd);
    while (!atomic_load(&rd.attached))
        tl_sleep_ms(10, NULL);
    if (rd.rc)
        die("events reader", rd.rc, &rd.ei);
    pool_open(ci, pool);
    struct cpu_tick c0, c1;
    int have_cpu = cpu_read(&c0) == 0;
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        cl[i].idx = i;
        cl[i].until_ms = t0 + seconds * 1000;
        if (samples_init(&cl[i].claim_ms, MAX_SAMPLES) ||
            samples_init(&cl[i].decide_ms, MAX_SAMPLES))
            exit(1);
        pthread_create(&th[i], NULL, claimer_run, &cl[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    double el = (now_ms() - t0) / 1000;
    have_cpu = have_cpu && cpu_read(&c1) == 0 && c1.total > c0.total;
    pool_close();
    atomic_store(&rd.stop, 1);
    pthread_join(rth, NULL);
    if (rd.rc)
        die("events reader", rd.rc, &rd.ei);
    /* run.sh reads the cluster's CPU time when the line below comes: a closed connection's
     * backend counts in it once the postmaster has reaped it, and an exiting one not at
     * all, so the line waits for the reaping */
    tl_sleep_ms(300, NULL);
    struct samples all_c, all_d;
    if (samples_init(&all_c, (size_t)n * MAX_SAMPLES) ||
        samples_init(&all_d, (size_t)n * MAX_SAMPLES))
        exit(1);
    long long pairs = 0, conflicts = 0, empty = 0;
    for (int i = 0; i < n; i++) {
        if (cl[i].rc)
            die("claimer", cl[i].rc, &cl[i].ei);
        for (size_t k = 0; k < cl[i].claim_ms.n; k++)
            sample_add(&all_c, cl[i].claim_ms.v[k]);
        for (size_t k = 0; k < cl[i].decide_ms.n; k++)
            sample_add(&all_d, cl[i].decide_ms.v[k]);
        pairs += cl[i].pairs;
        conflicts += cl[i].conflicts;
        empty += cl[i].empty;
        free(cl[i].claim_ms.v);
        free(cl[i].decide_ms.v);
    }
    printf("claim+decide%s: %d claimers, %d pooled connections, %.1f s: %lld pairs, %.0f "
           "pairs/s%s\n",
           decide_next ? " (decide, then next: one request per pair)" : "", n, pool, el, pairs,
           (double)pairs / el, empty ? " (queue ran empty)" : "");
    printf("  claim   p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", pct(&all_c, .50),
           pct(&all_c, .99), pct(&all_c, 1));
    printf("  %-7s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n",
           decide_next ? "decide+next" : "decide", pct(&all_d, .50), pct(&all_d, .99),
           pct(&all_d, 1));
    printf("  events  %lld read by the web server's poll (%lld polls, %lld resyncs)\n", rd.events,
           rd.polls, rd.resyncs);
    printf("  tokens  %lld checked in the database for %lld requests (the rest kept)\n",
           atomic_load(&g_auth_checked), atomic_load(&g_auth_requests));
    double cpu_ms = 0, steal = 0;
    if (have_cpu && pairs) {
        double tick_ms = 1000.0 / (double)sysconf(_SC_CLK_TCK);
        cpu_ms = (double)(c1.busy - c0.busy) * tick_ms / (double)pairs;
        steal = 100.0 * (double)(c1.steal - c0.steal) / (double)(c1.total - c0.total);
        printf("  cpu     %.2f ms busy per pair (all processes, %ld cores), steal %.1f %%\n",
               cpu_ms, sysconf(_SC_NPROCESSORS_ONLN), steal);
    }
    printf("figure pairs_per_s=%.0f claim_p50_ms=%.2f claim_p99_ms=%.2f decide_p50_ms=%.2f "
           "decide_p99_ms=%.2f conflicts=%lld cpu_ms_per_pair=%.2f steal_pct=%.1f\n",
           (double)pairs / el, pct(&all_c, .50), pct(&all_c, .99), pct(&all_d, .50),
           pct(&all_d, .99), conflicts, cpu_ms, steal);
    fflush(stdout);
    free(all_c.v);
    free(all_d.v);
    free(cl);
}

/* ---- the filtered list ---- */

static void run_lists(struct store *s, int reps)
{
    struct analyst a;
    analyst_init(&a, 0);
    const struct store_web_filter any = {.has_photo = -1, .min_corroborations = -1};
    struct list_case cases[9];
    for (size_t i = 0; i < 9; i++)
        cases[i].f = any;
    char since[40];
    time_t t = time(NULL) - 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
    cases[0].name = "status=new";
    cases[0].f.status = "new";
    cases[1].name = "status=new category=drones";
    cases[1].f.status = "new";
    cases[1].f.category = "drones";
    cases[2].name = "status=new bbox=Kyiv";
    cases[2].f.status = "new";
    cases[2].f.has_bbox = 1;
    memcpy(cases[2].f.bbox, (double[4]){30.2, 50.3, 30.8, 50.6}, sizeof(cases[2].f.bbox));
    cases[3].name = "status=new has_photo=true";
    cases[3].f.status = "new";
    cases[3].f.has_photo = 1;
    cases[4].name = "status=new min_corroborations=2";
    cases[4].f.status = "new";
    cases[4].f.min_corroborations = 2;
    cases[5].name = "status=confirmed";
    cases[5].f.status = "confirmed";
    cases[6].name = "since=1h ago category=shelling";
    cases[6].f.since = since;
    cases[6].f.category = "shelling";
    cases[7].name = "status=new limit=200";
    cases[7].f.status = "new";
    cases[7].f.limit = 200;
    /* a deep keyset page: rows older than 40 hours (about 830,000 rows down) */
    cases[8].name = "status=new deep page (40 h down)";
    cases[8].f.status = "new";
    cases[8].f.has_after = 1;
    cases[8].f.after_us = ((long long)time(NULL) - 40 * 3600) * 1000000LL;
    cases[8].f.after_id = 1LL << 62;
    struct samples sm;
    if (samples_init(&sm, (size_t)reps))
        exit(1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sm.n = 0;
        size_t n = 0;
        for (int k = 0; k < reps; k++) {
            struct tl_errinfo ei = {0};
            double t0 = now_ms();
            int rc = list(s, &a, &cases[i], &n, &ei);
            if (rc)
                die(cases[i].name, rc, &ei);
            sample_add(&sm, now_ms() - t0);
        }
        printf("  list %-36s %3zu rows  p50 %7.2f ms  p99 %7.2f ms\n", cases[i].name, n,
               pct(&sm, .50), pct(&sm, .99));
    }
    free(sm.v);
}

/* The claimers' accounts (analysts) and their tokens. */
static void add_accounts(struct store *s, int n)
{
    for (int i = 0; i < n; i++) {
        struct analyst a;
        struct tl_errinfo ei = {0};
        analyst_init(&a, i);
        int rc = store_account_add(s, "bench", a.name, "analyst", a.token_sha, &ei);
        if (rc && rc != TL_ECONFLICT)
            die("account", rc, &ei);
    }
}

/* ---- intake of located reports into the full table ---- */

static void run_inserts(struct store *s, int n)
{
    struct samples sm;
    if (samples_init(&sm, (size_t)n))
        exit(1);
    for (int i = 0; i < n; i++) {
        char ref[32], rep[32];
        snprintf(ref, sizeof(ref), "B-%d-%d", (int)getpid(), i);
        snprintf(rep, sizeof(rep), "benchreporter%03d", i % 200);
        /* around Kharkiv, the seed's densest kind of place: probes find neighbours */
        struct store_report_new r = {.public_ref = ref,
                                     .reporter = rep,
                                     .category = i % 3 ? "drones" : "shelling",
                                     .text = "bench located report",
                                     .has_point = 1,
                                     .lat = 49.99 + (double)(i % 17) * 0.004,
                                     .lon = 36.23 + (double)(i % 13) * 0.005,
                                     .point_source = "telegram_location",
                                     .priority = 20};
        struct store_effects fx = {.pseudonym = rep, .set_blocked = -1, .report = &r};
        struct tl_errinfo ei = {0};
        double t0 = now_ms();
        int rc = store_apply(s, &fx, NULL, &ei);
        if (rc)
            die("insert", rc, &ei);
        sample_add(&sm, now_ms() - t0);
    }
    printf("  insert of a located report (store_apply, 1 per transaction): p50 %.2f ms  p99 "
           "%.2f ms\n",
           pct(&sm, .50), pct(&sm, .99));
    free(sm.v);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_triage CONNINFO [N] [SECONDS] [CLAIMERS] [--no-seed] "
                        "[--full-decide] [--next] [--pool=P] [--auth-cache=S]\n");
        return 2;
    }
    const char *ci = argv[1];
    long long n = argc > 2 ? strtoll(argv[2], NULL, 10) : 1000000;
    double seconds = argc > 3 ? strtod(argv[3], NULL) : 20;
    int claimers = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 8;
    int seed = 1;
    struct cfg pool_cfg = {0}; /* web_db_connections 0: the server's default */
    long auth_cache_s = 10;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--no-seed") == 0)
            seed = 0;
        else if (strcmp(argv[i], "--full-decide") == 0)
            full_decide = 1;
        else if (strcmp(argv[i], "--next") == 0)
            decide_next = 1;
        else if (strncmp(argv[i], "--pool=", 7) == 0)
            pool_cfg.web_db_connections = strtol(argv[i] + 7, NULL, 10);
        else if (strncmp(argv[i], "--auth-cache=", 13) == 0)
            auth_cache_s = strtol(argv[i] + 13, NULL, 10);
        else
            return 2;
    }
    if (claimers < 1 || claimers > MAX_CLAIMERS || seconds <= 0 || auth_cache_s < 0 ||
        web_creds_new(auth_cache_s, &g_creds) != TL_OK)
        return 2;
    log_level = LOG_WARN;
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    int rc = store_open(ci, &s, &ei);
    if (rc)
        die("open", rc, &ei);
    if (seed) {
        struct store_seed_opts o = {.n = n, .hours = 48, .photo_share = 0.3, .seed = 1};
        long long got = 0;
        double t0 = now_ms();
        if ((rc = store_queue_seed(s, &o, &got, &ei)) != TL_OK)
            die("seed", rc, &ei);
        double el = (now_ms() - t0) / 1000;
        printf("seed: %lld queued reports in %.1f s (%.0f rows/s, with VACUUM ANALYZE)\n", got, el,
               (double)got / el);
    }
    struct store_priority_refresh pr;
    double t0 = now_ms();
    if ((rc = store_priority_refresh(s, &pr, &ei)) != TL_OK)
        die("refresh", rc, &ei);
    printf("priority refresh: %.0f ms (scored %lld queued reports within the horizon, "
           "%lld changed, %lld recounted)\n",
           now_ms() - t0, pr.scored, pr.changed, pr.recounted);
    add_accounts(s, claimers);
    int pool = (int)cfg_web_db_connections(&pool_cfg);
    if (pool < 1 || pool > MAX_CLAIMERS)
        return 2;
    run_claimers(ci, claimers, pool, seconds);
    printf("filtered list (%d runs each, after the claimers):\n", 50);
    run_lists(s, 50);
    t0 = now_ms();
    if ((rc = store_priority_refresh(s, &pr, &ei)) != TL_OK)
        die("refresh", rc, &ei);
    printf("priority refresh after the run: %.0f ms (scored %lld, changed %lld, recounted "
           "%lld; the run's rejections changed %lld neighbours)\n",
           now_ms() - t0, pr.scored, pr.changed, pr.recounted, pr.propagated);
    run_inserts(s, 2000);
    store_free(s);
    web_creds_free(g_creds);
    return 0;
}
