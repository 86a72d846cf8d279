/* tests/support/botproc.c - see botproc.h. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "botproc.h"
#include "common/util.h"
#include "testsupport.h"
#include "common/banned.h"

pid_t bp_spawn(const char *conninfo, struct fakebot *fb, const char *key, const char *logfile,
               const char *const *extra)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid)
        return pid;
    if (logfile && !freopen(logfile, "a", stderr))
        _exit(126);
    setenv("TIPLINE_DATABASE_URL", conninfo, 1);
    setenv("TELEGRAM_API_BASE", fakebot_base_url(fb), 1);
    setenv("TELEGRAM_BOT_TOKEN", fakebot_token(fb), 1);
    setenv("TIPLINE_SECRET_FILE", key, 1);
    setenv("TIPLINE_POLL_TIMEOUT", "1", 1);
    setenv("TIPLINE_SEND_CHAT_INTERVAL_MS", "0", 1);
    setenv("TIPLINE_SEND_RATE", "100000", 1);
    setenv("TIPLINE_WORKERS", "2", 1);
    for (size_t i = 0; extra && extra[i]; i++) {
        char name[128];
        const char *eq = strchr(extra[i], '=');
        if (!eq || (size_t)(eq - extra[i]) >= sizeof(name))
            _exit(125);
        memcpy(name, extra[i], (size_t)(eq - extra[i]));
        name[eq - extra[i]] = 0;
        setenv(name, eq + 1, 1);
    }
    execl(getenv("TL_TIPLINE_BIN"), "tipline", "bot", (char *)NULL);
    _exit(127);
}

void bp_wait_count(const char *conninfo, const char *sql, long long want, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    long long n = -1;
    while (tl_now_ms() < end) {
        n = ts_db_count(conninfo, sql);
        if (n >= want)
            return;
        tl_sleep_ms(50, NULL);
    }
    fail_msg("timed out: %s = %lld, want %lld", sql, n, want);
}

void bp_term(pid_t *pid)
{
    int status;
    assert_int_equal(kill(*pid, SIGTERM), 0);
    assert_int_equal(waitpid(*pid, &status, 0), *pid);
    *pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

void bp_kill(pid_t *pid)
{
    if (*pid <= 0)
        return;
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    *pid = 0;
}

unsigned bp_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}
