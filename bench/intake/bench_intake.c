/* bench/intake/bench_intake.c - 20,000 synthetic updates served by the fake Bot API
 * (in a child process, so its memory is not counted), through the real poller, workers
 * and sender into PostgreSQL. Prints updates/s end to end, the inbox commit rate and
 * peak RSS of the tipline side.
 * Usage: bench_intake CONNINFO [N_UPDATES] [N_CHATS] [WORKERS (0: one per core)] [--no-sender]
 *                     [--delay MS] [--rate R] [--sent] [--no-moderation]
 * --no-sender measures intake alone (poller + workers, replies queued in the outbox):
 * Telegram lets a bot send about 30 messages a second, so in production the sender
 * trickles and the intake path is what a burst of reports meets.
 * --delay MS: the fake answers every sending call after MS ms (Telegram is 50-200 ms
 * away), other connections served meanwhile. --rate R: the sender's configured rate and
 * the configured per-chat interval, as in production (else unlimited, to measure our
 * side); the "paced" line then compares the delivery rate with R. --sent: every second
 * update presses "Send now" on the draft the first started (N_UPDATES / 2 reports, each
 * moderated); --no-moderation: moderation off, to measure what it adds. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libpq-fe.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "fakebot/fakebot.h"

static long long scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_intake CONNINFO [N_UPDATES] [N_CHATS] [WORKERS]\n");
        return 2;
    }
    const char *ci = argv[1];
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
    long chats = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
    long workers = argc > 4 ? strtol(argv[4], NULL, 10) : 0; /* 0: one per core */
    int no_sender = 0, with_send = 0, moderation = 1;
    long delay_ms = 0, rate = 0;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--no-sender") == 0)
            no_sender = 1;
        else if (strcmp(argv[i], "--sent") == 0)
            with_send = 1;
        else if (strcmp(argv[i], "--no-moderation") == 0)
            moderation = 0;
        else if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc)
            delay_ms = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "bench_intake: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    log_level = LOG_WARN;

    int pfd[2];
    if (pipe(pfd) != 0)
        return 1;
    pid_t child = fork();
    if (child == 0) { /* the fake Bot API, in its own process */
        struct fakebot *fb = NULL;
        struct fakebot_opts fo = {.quiet = 1, .delay_ms = delay_ms};
        if (fakebot_start(&fo, &fb) != TL_OK ||
            (with_send ? fakebot_push_synthetic_sent(fb, (size_t)n / 2, (size_t)chats)
                       : fakebot_push_synthetic(fb, (size_t)n, (size_t)chats)))
            _exit(1);
        char line[512];
        int len = snprintf(line, sizeof(line), "%s %s\n", fakebot_base_url(fb), fakebot_token(fb));
        if (write(pfd[1], line, (size_t)len) != len)
            _exit(1);
        pause();
        _exit(0);
    }
    char line[512] = {0}, url[256], token[256];
    if (read(pfd[0], line, sizeof(line) - 1) <= 0 || sscanf(line, "%255s %255s", url, token) != 2) {
        fprintf(stderr, "bench_intake: fake Bot API did not start\n");
        return 1;
    }
    PGconn *pg = PQconnectdb(ci);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_intake: %s", PQerrorMessage(pg));
        return 1;
    }
    struct cfg c;
    struct tl_errinfo ei;
    if (cfg_load(&c, NULL, &ei) != TL_OK)
        return 1;
    free(c.database_url);
    c.database_url = tl_strdup(ci);
    memcpy(c.secret, "bench-secret-bench-secret-bench!", 32);
    c.secret_len = 32;
    /* identities sealed as in production: the lookup key and one data key */
    if (idkeys_set_lookup(&c.idkeys, c.secret, c.secret_len) != TL_OK)
        return 1;
    c.idkeys.key[0].id = 1;
    memset(c.idkeys.key[0].k, 0x42, sizeof(c.idkeys.key[0].k));
    c.idkeys.n = 1;
    c.poll_timeout = 1;
    c.moderation = moderation;
    if (rate <= 0) {
        c.send_rate = 1000000; /* the fake has no flood limits: measure our side */
        c.send_chat_interval_ms = 0;
    } else {
        c.send_rate = rate;
    }
    volatile sig_atomic_t stop = 0;
    struct daemon_opts o = {.cfg = &c,
                            .api_base = url,
                            .token = token,
                            .workers = (int)workers,
                            .no_sender = no_sender,
                            .stop = &stop};
    struct daemon *rt = NULL;
    long long base_inbox = scalar(pg, "SELECT count(*) FROM inbox");
    long long base_done = scalar(pg, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL");
    long long base_sent = scalar(pg, "SELECT count(*) FROM outbox WHERE state='sent'");
    long long base_reports = scalar(pg, "SELECT count(*) FROM reports");
    int64_t t0 = tl_now_ms(), t_stored = 0, t_handled = 0, t_sent = 0, t_first = 0;
    if (daemon_start(&o, &rt, &ei) != TL_OK)
        return 1;
    while (tl_now_ms() - t0 < 600000) {
        tl_sleep_ms(20, NULL);
        struct daemon_counts k;
        daemon_counts(rt, &k);
        if (!t_stored && k.updates_stored >= n)
            t_stored = tl_now_ms();
        if (!t_handled && k.updates_handled >= n)
            t_handled = tl_now_ms();
        if (!t_first && k.sent >= 1)
            t_first = tl_now_ms();
        if (!t_sent && (k.sent >= n || (no_sender && t_handled)))
            t_sent = tl_now_ms();
        if (t_stored && t_handled && t_sent)
            break;
    }
    stop = 1;
    struct daemon_counts k;
    daemon_counts(rt, &k);
    if (daemon_join(rt, &ei) != TL_OK)
        fprintf(stderr, "bench_intake: runtime: %s\n", ei.msg);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    long long inbox = scalar(pg, "SELECT count(*) FROM inbox") - base_inbox;
    long long done =
        scalar(pg, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL") - base_done;
    long long sent = scalar(pg, "SELECT count(*) FROM outbox WHERE state='sent'") - base_sent;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (!t_stored || !t_handled || !t_sent) {
        fprintf(stderr,
                "bench_intake: incomplete after 600 s: stored=%lld handled=%lld sent=%lld\n",
                k.updates_stored, k.updates_handled, k.sent);
        return 1;
    }
    double s_stored = (double)(t_stored - t0) / 1000, s_handled = (double)(t_handled - t0) / 1000,
           s_sent = (double)(t_sent - t0) / 1000;
    char rate_txt[32] = "unlimited";
    if (rate > 0)
        snprintf(rate_txt, sizeof(rate_txt), "%ld/s", rate);
    printf("bench/intake: %ld updates, %ld chats, %ld workers%s%s, fake's delay %ld ms, "
           "send rate %s\n",
           n, chats, workers > 0 ? workers : sysconf(_SC_NPROCESSORS_ONLN),
           workers > 0 ? "" : " (one per core)", no_sender ? ", no sender" : "", delay_ms,
           rate_txt);
    printf("  inbox commit:   %8.0f updates/s  (%lld batches, all %ld stored in %.2f s)\n",
           (double)n / s_stored, k.batches, n, s_stored);
    printf("  end to end:     %8.0f updates/s  (handled: report + reply queued, %.2f s)\n",
           (double)n / s_handled, s_handled);
    if (!no_sender)
        printf("  replies sent:   %8.0f msgs/s     (all delivered to the fake in %.2f s)\n",
               (double)n / s_sent, s_sent);
    if (!no_sender && rate > 0 && t_sent > t_first)
        printf("  paced:          %8.1f msgs/s     (first to last delivery; %.1f %% of the "
               "configured %ld/s)\n",
               (double)(n - 1) * 1000 / (double)(t_sent - t_first),
               (double)(n - 1) * 100000 / (double)(t_sent - t_first) / (double)rate, rate);
    printf("  peak RSS:       %8.1f MB\n", (double)ru.ru_maxrss / 1024);
    printf("  reports:        %8lld          (moderation %s; %lld held)\n",
           scalar(pg, "SELECT count(*) FROM reports") - base_reports, moderation ? "on" : "off",
           scalar(pg, "SELECT count(*) FROM reports WHERE status = 'held'"));
    /* the conversation answers every update (a sendMessage each); now and then it also
     * takes an older keyboard off (editMessageReplyMarkup): at least one call per update */
    printf("  check: inbox rows %lld, processed %lld, replies sent %lld (want %ld%s)\n", inbox,
           done, sent, n, no_sender ? ", none sent" : ", at least as many replies");
    cfg_release(&c);
    PQfinish(pg);
    return inbox == n && done == n && (no_sender || sent >= n) ? 0 : 1;
}
