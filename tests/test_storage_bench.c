/* tests/test_storage_bench.c - not a test: prints storage throughput.
 *   apply:    N store_apply calls (one report + one outbox row each) from T threads
 *   pipeline: inbox_put batches of 100, then T workers claim chats, read pending,
 *             store_apply (one outbox row each), release - the worker path end to end
 * Usage: TL_PG_STATE=... tl_storage_bench [N] [T] [apply|pipeline|all]
 * Each phase also prints the CPU time the PostgreSQL server spent (the postmaster's
 * own and reaped children's, read from /proc: needs the pgtmp cluster on this host). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "common/banned.h"

struct job {
    const char *ci;
    int no, n;
    int errors;
};

static struct store *open_or_die(const char *ci)
{
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    if (store_open(ci, &s, &ei) != TL_OK) {
        fprintf(stderr, "store_open: %s\n", ei.msg);
        exit(1);
    }
    return s;
}

static void *apply_thread(void *p)
{
    struct job *j = p;
    struct store *s = open_or_die(j->ci);
    for (int i = 0; i < j->n; i++) {
        char ref[32], params[96];
        snprintf(ref, sizeof(ref), "B-%d-%d", j->no, i);
        long long chat = 1000000 + (long long)j->no * 1000 + i % 1000;
        snprintf(params, sizeof(params), "{\"chat_id\":%lld,\"text\":\"Report %s received\"}", chat,
                 ref);
        char ps[32];
        snprintf(ps, sizeof(ps), "ps_%lld", chat);
        struct store_report_new rep = {.public_ref = ref,
                                       .reporter = ps,
                                       .category = "drone",
                                       .text = "two drones heading north",
                                       .has_point = 1,
                                       .lat = 50.45,
                                       .lon = 30.52,
                                       .point_source = "telegram_location",
                                       .priority = 1};
        struct store_outbox_new o = {chat, "sendMessage", params};
        struct store_effects fx = {.chat_id = chat,
                                   .pseudonym = ps,
                                   .set_blocked = -1,
                                   .report = &rep,
                                   .outbox = &o,
                                   .n_outbox = 1};
        struct tl_errinfo ei = {0};
        if (store_apply(s, &fx, NULL, &ei) != TL_OK) {
            if (!j->errors++)
                fprintf(stderr, "apply: %s %s\n", ei.sqlstate, ei.msg);
        }
    }
    store_free(s);
    return NULL;
}

static void *worker_thread(void *p)
{
    struct job *j = p;
    struct store *s = open_or_die(j->ci);
    int idle = 0;
    while (idle < 20) {
        long long key;
        int got;
        if (store_chat_claim(s, &key, &got, NULL) != TL_OK) {
            j->errors++;
            break;
        }
        if (!got) {
            idle++;
            tl_sleep_ms(1, NULL);
            continue;
        }
        idle = 0;
        struct store_update *u = NULL;
        size_t n = 0;
        if (store_inbox_pending(s, key, 16, &u, &n, NULL) == TL_OK) {
            for (size_t i = 0; i < n; i++) {
                char params[96], ps[32];
                snprintf(params, sizeof(params), "{\"chat_id\":%lld,\"text\":\"ok\"}", key);
                snprintf(ps, sizeof(ps), "ps_%lld", key);
                struct store_outbox_new o = {key, "sendMessage", params};
                struct store_effects fx = {.update_id = u[i].update_id,
                                           .chat_id = key,
                                           .pseudonym = ps,
                                           .set_blocked = -1,
                                           .outbox = &o,
                                           .n_outbox = 1};
                if (store_apply(s, &fx, NULL, NULL) != TL_OK)
                    j->errors++;
                else
                    j->n++;
            }
            store_updates_free(u, n);
        }
        if (store_chat_release(s, key, NULL) != TL_OK)
            j->errors++;
    }
    store_free(s);
    return NULL;
}

/* CPU seconds of the throwaway cluster: postmaster utime+stime+cutime+cstime; the
 * backends' time lands in cutime/cstime when they exit (the bench closes them). */
static double server_cpu(void)
{
    const char *state = getenv("TL_PG_STATE");
    char *dirfile = state ? tl_asprintf("%s.dir", state) : NULL;
    char *dir = NULL, *pidtxt = NULL, *stat = NULL, *path = NULL;
    size_t n;
    double out = -1;
    if (!dirfile || tl_read_file(dirfile, 4096, &dir, &n) != TL_OK)
        goto done;
    while (n && dir[n - 1] == '\n')
        dir[--n] = 0;
    path = tl_asprintf("%s/data/postmaster.pid", dir);
    if (!path || tl_read_file(path, 4096, &pidtxt, &n) != TL_OK)
        goto done;
    free(path);
    path = tl_asprintf("/proc/%ld/stat", strtol(pidtxt, NULL, 10));
    if (!path || tl_read_file(path, 4096, &stat, &n) != TL_OK)
        goto done;
    char *p = strrchr(stat, ')');
    if (!p)
        goto done;
    /* fields after the comm: state(3) ... utime(14) stime(15) cutime(16) cstime(17) */
    long long f[18] = {0};
    int i = 3;
    for (char *q = p + 2; *q && i <= 17; i++) {
        char *end;
        f[i] = strtoll(q, &end, 10);
        if (i == 3)
            end = q + 1;
        q = end + (*end == ' ');
    }
    out = (double)(f[14] + f[15] + f[16] + f[17]) / (double)sysconf(_SC_CLK_TCK);
done:
    free(dirfile);
    free(dir);
    free(pidtxt);
    free(stat);
    free(path);
    return out;
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 20000;
    int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2;
    const char *phase = argc > 3 ? argv[3] : "all";
    if (total <= 0 || threads <= 0 || threads > 16)
        return 2;
    int do_apply = strcmp(phase, "pipeline") != 0, do_pipe = strcmp(phase, "apply") != 0;
    char *ci = ts_db_create("t_storage_bench");
    if (!ci) {
        fprintf(stderr, "no cluster: set TL_PG_STATE\n");
        return 1;
    }
    pthread_t t[16];
    struct job jobs[16];
    int errors = 0;

    int64_t t0 = tl_now_ms(), ms;
    double cpu0 = server_cpu();
    for (int i = 0; i < threads && do_apply; i++) {
        jobs[i] = (struct job){ci, i, total / threads, 0};
        pthread_create(&t[i], NULL, apply_thread, &jobs[i]);
    }
    for (int i = 0; i < threads && do_apply; i++) {
        pthread_join(t[i], NULL);
        errors += jobs[i].errors;
    }
    if (do_apply) {
        ms = tl_now_ms() - t0;
        int calls = total / threads * threads;
        tl_sleep_ms(300, NULL); /* let the backends exit so their CPU time is counted */
        printf("bench=storage_apply calls=%d threads=%d ms=%lld per_s=%.0f errors=%d"
               " server_cpu_us_per_call=%.0f\n",
               calls, threads, (long long)ms, calls * 1000.0 / (double)(ms ? ms : 1), errors,
               (server_cpu() - cpu0) * 1e6 / calls);
    }
    if (!do_pipe)
        goto out;
    cpu0 = server_cpu();

    /* pipeline: intake in batches of 100 over 500 chats, then the workers */
    struct store *s = open_or_die(ci);
    struct store_inbox_row rows[100];
    char json[100][128];
    t0 = tl_now_ms();
    for (int b = 0; b < total / 100; b++) {
        for (int i = 0; i < 100; i++) {
            long long id = (long long)b * 100 + i + 1;
            long long chat = 2000000 + id % 500;
            snprintf(json[i], sizeof(json[i]),
                     "{\"update_id\":%lld,\"message\":{\"chat\":{\"id\":%lld},\"text\":\"hi\"}}",
                     id, chat);
            rows[i] = ts_inbox_row(id, chat, json[i]);
        }
        struct tl_errinfo ei = {0};
        if (store_inbox_put(s, rows, 100, (long long)b * 100 + 101, NULL, &ei) != TL_OK) {
            fprintf(stderr, "inbox_put: %s\n", ei.msg);
            return 1;
        }
    }
    int64_t put_ms = tl_now_ms() - t0;
    printf("bench=storage_inbox_put updates=%d batch=100 ms=%lld per_s=%.0f\n", total / 100 * 100,
           (long long)put_ms, (total / 100 * 100) * 1000.0 / (double)(put_ms ? put_ms : 1));
    int64_t t1 = tl_now_ms();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct job){ci, i, 0, 0};
        pthread_create(&t[i], NULL, worker_thread, &jobs[i]);
    }
    int handled = 0;
    errors = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        handled += jobs[i].n;
        errors += jobs[i].errors;
    }
    ms = tl_now_ms() - t1;
    printf("bench=storage_workers updates=%d threads=%d ms=%lld per_s=%.0f errors=%d\n", handled,
           threads, (long long)ms, handled * 1000.0 / (double)(ms ? ms : 1), errors);
    store_free(s);
    tl_sleep_ms(300, NULL);
    printf(
        "bench=storage_intake_to_processed updates=%d per_s=%.0f server_cpu_us_per_update=%.0f\n",
        handled, handled * 1000.0 / (double)(ms + put_ms ? ms + put_ms : 1),
        (server_cpu() - cpu0) * 1e6 / (handled ? handled : 1));
out:
    ts_db_drop("t_storage_bench");
    free(ci);
    return errors ? 1 : 0;
}
