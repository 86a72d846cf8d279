/* tests/support/testsupport.h - what every test program shares: paths to the
 * shared fixtures, a fresh migrated database per test, file helpers. */
#ifndef TL_TESTSUPPORT_H
#define TL_TESTSUPPORT_H

#include <stddef.h>

#include "storage/store.h"

/* Returns a new string "<TL_SHARED_DIR>/<rel>" if that path exists, else NULL (the
 * caller skips with a message: someone else's clone has no ../shared). free(). */
char *ts_shared_path(const char *rel);

/* Reads a whole file; aborts the test on failure. Returns a new NUL-terminated buffer. */
char *ts_read_file(const char *path, size_t *len);
/* Replaces the file at path with text: 0, or -1. */
int ts_write_file(const char *path, const char *text);

/* Creates a database `name` (dropped first if present) from the migrated template of
 * the throwaway cluster and returns its conninfo (free()). Returns NULL when no cluster
 * is running (TL_PG_STATE unset or unreadable); callers then fail, not skip: db tests
 * only run under the pg fixture. */
char *ts_db_create(const char *name);

/* An inbox row for storage-level tests: its "sealed" bytes are the text given (storage
 * keeps them as they come and never opens them). */
/* An identity key file (mode 0600) holding the tests' data key 1 (botrun.h's tb_idkeys),
 * written once per process; what a spawned `tipline bot` gets as
 * TIPLINE_IDENTITY_KEY_FILE. The path is static. */
const char *ts_idkey_file(void);

/* The bytes of a hex text (a bytea read with encode(x, 'hex')); malloc'd, *n bytes. */
unsigned char *ts_unhex(const char *hex, size_t *n);

struct store_inbox_row ts_inbox_row(long long update_id, long long chat_key, const char *bytes);

/* Drops it again (ignores errors). */
void ts_db_drop(const char *name);

/* Runs one SQL statement on conninfo and returns the first column of the first row as a
 * new string (free()), or NULL if no row. Aborts the test on SQL error. For assertions. */
char *ts_db_scalar(const char *conninfo, const char *sql);
long long ts_db_count(const char *conninfo, const char *sql);
/* The same with the statement printf-formatted (at most 4 KiB). */
char *ts_db_scalarf(const char *conninfo, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
long long ts_db_countf(const char *conninfo, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* CHECK(store_call(..., EI)): fails the test with the call, the error, the SQLSTATE and
 * the detail unless the call returns TL_OK (for tests that include cmocka and
 * common/err.h). */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        struct tl_errinfo ei_ = {0};                                                               \
        int rc_ = (call);                                                                          \
        if (rc_ != TL_OK)                                                                          \
            fail_msg("%s: %s (%s) %s", #call, tl_strerror(rc_), ei_.sqlstate, ei_.msg);            \
    } while (0)
#define EI (&ei_)

/* Runs a shell command; its stdout goes to *out as a new string (free()) when out is not
 * NULL, and is read and dropped otherwise. Returns its exit status (-1: it did not exit).
 * Aborts the test when the command cannot be started. */
int ts_run(const char *cmd, char **out);

/* "<TL_BINARY_DIR>/<rel>" as a new string. */
char *ts_build_path(const char *rel);

#endif
