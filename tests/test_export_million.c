/* tests/test_export_million.c - a 1,000,000-row export in constant memory: the real
 * `tipline export --format geojson -o FILE` and the real `tipline web` feed, each a
 * child process over a million confirmed reports with points in a throwaway
 * PostgreSQL. Proves: the file and the feed each hold all 1,000,000 features, and the
 * exporter's peak RSS (the child's ru_maxrss; the server's VmHWM) stays under 50 MB.
 * Its own program so that ctest runs it beside the others; registered for builds
 * without the sanitizers only (their shadow memory and slowness are no export's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "support/testsupport.h"
#include "common/banned.h"

#define ROWS 1000000
#define RSS_MAX_KB (50 * 1024)

/* One million reports spread over a box, decided 10 ms apart, every one confirmed
 * with a point: all of them in the export. Loaded as bench/export loads its rows
 * (session_replication_role = replica: a bulk load, not intake; the intake triggers
 * would take minutes here and none of them feeds the export), in row order of the
 * indexes (refs, times and a point sweep that grows with the id) so that a 2-core CI
 * machine builds them in about a minute. */
static void seed(const char *ci)
{
    int64_t t0 = tl_now_ms();
    free(ts_db_scalarf(
        ci,
        "SET session_replication_role = replica;"
        "INSERT INTO reporters (pseudonym) SELECT 'million' || g FROM generate_series(1, 1000) g;"
        "INSERT INTO reports (public_ref, reporter, category, point, point_source, accuracy_m,"
        " observed_at, received_at, status, decided_by, decided_at, corroborations)"
        " SELECT 'M-' || lpad(g::text, 7, '0'), 'million' || (1 + g %% 1000),"
        " (ARRAY['shelling', 'drone', 'troops'])[1 + g %% 3],"
        " ST_SetSRID(ST_MakePoint(22.2 + 0.0178 * (g %% 1000), 44.4 + 0.0000079 * g),"
        "  4326)::geography, 'telegram_location', 10 + g %% 90,"
        " timestamptz '2026-01-01Z' + g * interval '10 ms',"
        " timestamptz '2026-01-01Z' + g * interval '10 ms' + interval '1 minute', 'confirmed',"
        " 'seed', timestamptz '2026-01-01Z' + g * interval '10 ms' + interval '5 minutes', g %% 4"
        " FROM generate_series(1, %d) g;"
        "RESET session_replication_role;"
        "ANALYZE reports;"
        "SELECT 1",
        ROWS));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports WHERE status = 'confirmed'"
                                     " AND decided_at IS NOT NULL AND point IS NOT NULL"),
                     ROWS);
    fprintf(stderr, "seeded %d reports in %.1f s\n", ROWS, (double)(tl_now_ms() - t0) / 1000);
}

/* Forks and runs the tipline binary with argv (NULL-terminated, argv[0] ignored); stdout
 * and stderr to log. The child's pid. */
static pid_t spawn(char *const argv[], const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *l = freopen(log, "a", stderr);
        if (!l || dup2(fileno(stderr), STDOUT_FILENO) < 0)
            _exit(126);
        execv(getenv("TL_TIPLINE_BIN"), argv);
        _exit(127);
    }
    return pid;
}

/* Features in a GeoJSON file as tipline writes it (one Feature a line), counted in a
 * stream; the document must be closed ("]}" on the last line). */
static long features_in(const char *path)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long count = 0;
    int closed = 0;
    while ((n = getline(&line, &cap, fp)) > 0) {
        count += strncmp(line, "{\"type\":\"Feature\"", 17) == 0;
        closed = strncmp(line, "]}", 2) == 0;
    }
    free(line);
    fclose(fp);
    assert_true(closed);
    return count;
}

/* A loopback TCP port free at the moment. */
static unsigned free_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A process's VmHWM (its peak RSS so far) in KiB, or -1. */
static long vm_hwm_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    size_t len = 0;
    char *s = ts_read_file(path, &len);
    char *p = strstr(s, "VmHWM:");
    long kb = p ? strtol(p + 6, NULL, 10) : -1;
    free(s);
    return kb;
}

static void test_export_million_file_and_feed_under_50mb(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_export_million");
    if (!ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    seed(ci);
    assert_int_equal(setenv("TIPLINE_DATABASE_URL", ci, 1), 0);
    char dir[] = "/tmp/tl-million.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = tl_asprintf("%s/all.geojson", dir), *feed = tl_asprintf("%s/feed.geojson", dir),
         *log = tl_asprintf("%s/tipline.log", dir);

    /* the command line: its peak RSS from the kernel's account of the child */
    int64_t t0 = tl_now_ms();
    char *const exp[] = {"tipline", "export", "--format", "geojson", "-o", file, NULL};
    pid_t pid = spawn(exp, log);
    int st = 0;
    struct rusage ru = {0};
    assert_int_equal(wait4(pid, &st, 0, &ru), pid);
    double secs = (double)(tl_now_ms() - t0) / 1000;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    long n = features_in(file);
    fprintf(stderr, "tipline export geojson: %ld features in %.1f s (%.0f/s), peak RSS %ld KiB\n",
            n, secs, (double)n / secs, ru.ru_maxrss);
    assert_int_equal(n, ROWS);
    if (ru.ru_maxrss >= RSS_MAX_KB)
        fail_msg("tipline export peaked at %ld KiB for %d rows", ru.ru_maxrss, ROWS);
    unlink(file);

    /* the feed: `tipline web` serving the million to an admin, its VmHWM read before it
     * is stopped */
    char *tok = NULL;
    assert_int_equal(ts_run("\"$TL_TIPLINE_BIN\" user add million --role admin 2>/dev/null"
                            " | grep -m1 '^tl_'",
                            &tok),
                     0);
    tok[strcspn(tok, "\n")] = 0;
    char *listen = tl_asprintf("127.0.0.1:%u", free_port());
    char *const web[] = {"tipline", "web", "--listen", listen, NULL};
    pid_t wp = spawn(web, log);
    char *cmd = tl_asprintf("for i in $(seq 300); do curl -s -o /dev/null http://%s/ && exit 0;"
                            " sleep 0.1; done; exit 1",
                            listen);
    assert_int_equal(ts_run(cmd, NULL), 0);
    free(cmd);
    long idle = vm_hwm_kb(wp);
    t0 = tl_now_ms();
    char *code = NULL;
    cmd = tl_asprintf("curl -s -o '%s' -w '%%{http_code}' -H 'Authorization: Bearer %s'"
                      " 'http://%s/api/export/reports.geojson'",
                      feed, tok, listen);
    assert_int_equal(ts_run(cmd, &code), 0);
    free(cmd);
    secs = (double)(tl_now_ms() - t0) / 1000;
    long peak = vm_hwm_kb(wp);
    assert_int_equal(kill(wp, SIGTERM), 0);
    assert_int_equal(waitpid(wp, &st, 0), wp);
    assert_string_equal(code, "200");
    n = features_in(feed);
    fprintf(stderr,
            "feed /api/export/reports.geojson: %ld features in %.1f s, server VmHWM %ld "
            "KiB (%ld KiB before)\n",
            n, secs, peak, idle);
    assert_int_equal(n, ROWS);
    assert_true(idle > 0);
    if (peak >= RSS_MAX_KB)
        fail_msg("tipline web peaked at %ld KiB serving %d rows", peak, ROWS);
    unlink(feed);
    unlink(log);
    rmdir(dir);
    free(code);
    free(listen);
    free(tok);
    free(file);
    free(feed);
    free(log);
    ts_db_drop("t_export_million");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_million_file_and_feed_under_50mb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
