/* tests/support/testparts.h - one test program whose tests live in several files (by
 * concern): each file exports a table of its tests, and main runs them all as one group,
 * so the program, its test names and its group fixture stay what they were. A file that
 * declares such tables includes cmocka.h first (their element type must be complete). */
#ifndef TL_TESTPARTS_H
#define TL_TESTPARTS_H

#include <stddef.h>

struct CMUnitTest;

/* One file's tests: the table and the number of entries (an extern array's size is not
 * a constant, so the count travels by address). */
struct ts_part {
    const struct CMUnitTest *tests;
    const size_t *n;
};

#define TS_NTESTS(tests) (sizeof(tests) / sizeof((tests)[0]))

/* Runs the tests of parts[0..n_parts), in that order, as cmocka's one group "tests" with
 * the group's setup and teardown (NULL: none). Returns the number of failed tests. */
int ts_run_parts(const struct ts_part *parts, size_t n_parts, int (*setup)(void **state),
                 int (*teardown)(void **state));

#endif
