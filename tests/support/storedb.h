/* tests/support/storedb.h - what the storage tests that drive store calls on a database
 * of their own share (priority, incidents): the database made from the migrated
 * template with a store open on it, and SQL run beside it. Compiled into those tests
 * (cmocka: a failure fails the running test). */
#ifndef TL_STOREDB_H
#define TL_STOREDB_H

#include "storage/store.h"

struct ts_storedb {
    const char *name;
    char *ci;
    struct store *s;
};

/* Makes database name from the template and opens a store on it. */
void ts_storedb_open(struct ts_storedb *d, const char *name);
/* Closes the store and drops the database. */
void ts_storedb_close(struct ts_storedb *d);
/* Runs SQL (any rows ignored) on a separate connection; an error fails the test. */
void ts_storedb_sql(const char *ci, const char *q);

#endif
