/* tests/test_notify.c - `tipline bot` as a systemd Type=notify service would see it: on a
 * $NOTIFY_SOCKET of the test's own (no systemd needed), READY=1 once it serves,
 * WATCHDOG=1 every second from its main loop, RELOADING=1 then READY=1 around a SIGHUP,
 * STOPPING=1 on SIGTERM, then exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "support/botproc.h"
#include "support/testsupport.h"

static pid_t g_bot;

static int teardown(void **state)
{
    (void)state;
    bp_kill(&g_bot);
    return 0;
}

/* Reads datagrams until one holds want (a line of it); fails after timeout_ms. */
static void expect(int fd, const char *want, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    char buf[512];
    while (tl_now_ms() < end) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
            continue;
        buf[n] = 0;
        for (char *line = buf; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            if (strcmp(line, want) == 0)
                return;
            line = nl ? nl + 1 : NULL;
        }
    }
    fail_msg("no %s on the notify socket", want);
}

static void test_notify_ready_watchdog_reload_stop(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_notify");
    assert_non_null(ci);
    struct fakebot *fb = NULL;
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &fb), TL_OK);
    char key[] = "/tmp/tipline-key-XXXXXX";
    close(mkstemp(key));
    assert_int_equal(ts_write_file(key, "notify-test-secret-notify-test-secret"), 0);
    char sock[64];
    snprintf(sock, sizeof(sock), "/tmp/tipline-notify-%d.sock", (int)getpid());
    unlink(sock);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    tl_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    char *ns = tl_asprintf("NOTIFY_SOCKET=%s", sock);
    const char *const extra[] = {ns, "TIPLINE_WORKERS=1", "TIPLINE_LOG_LEVEL=error", NULL};
    g_bot = bp_spawn(ci, fb, key, NULL, extra);
    free(ns);
    expect(fd, "READY=1", 15000);
    expect(fd, "WATCHDOG=1", 3000);
    expect(fd, "WATCHDOG=1", 3000);
    assert_int_equal(kill(g_bot, SIGHUP), 0);
    expect(fd, "RELOADING=1", 5000);
    expect(fd, "READY=1", 5000);
    bp_term(&g_bot); /* exits 0 */
    expect(fd, "STOPPING=1", 1000);

    close(fd);
    unlink(sock);
    unlink(key);
    fakebot_stop(fb);
    ts_db_drop("t_notify");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_notify_ready_watchdog_reload_stop, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
