/* tests/support/botproc.c - see botproc.h. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "botproc.h"
#include "common/util.h"
#include "testsupport.h"
#include "common/banned.h"

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
