/* tests/support/storedb.c - a database of a storage test's own (see storedb.h). */
#include "storedb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdlib.h>

#include "testsupport.h"
#include "common/banned.h"

void ts_storedb_open(struct ts_storedb *d, const char *name)
{
    struct tl_errinfo ei = {0};
    d->name = name;
    d->ci = ts_db_create(name);
    if (!d->ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    if (store_open(d->ci, &d->s, &ei) != TL_OK)
        fail_msg("store_open: %s", ei.msg);
}

void ts_storedb_close(struct ts_storedb *d)
{
    store_free(d->s);
    ts_db_drop(d->name);
    free(d->ci);
}

void ts_storedb_sql(const char *ci, const char *q)
{
    PGconn *c = PQconnectdb(ci);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}
