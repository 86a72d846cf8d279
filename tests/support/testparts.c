/* tests/support/testparts.c - runs a test program's files' tables as one cmocka group. */
#include "testparts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/banned.h"

int ts_run_parts(const struct ts_part *parts, size_t n_parts, int (*setup)(void **state),
                 int (*teardown)(void **state))
{
    size_t n = 0;
    for (size_t i = 0; i < n_parts; i++)
        n += *parts[i].n;
    if (n == 0)
        return 0;
    /* named "tests" as the single array the programs ran before they were split */
    struct CMUnitTest tests[n];
    size_t at = 0;
    for (size_t i = 0; i < n_parts; i++) {
        memcpy(&tests[at], parts[i].tests, *parts[i].n * sizeof(tests[0]));
        at += *parts[i].n;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
