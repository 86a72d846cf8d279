/* tests/test_storage_int.h - what test_storage's files share: a fresh database and a
 * store on it, SQL run for its outcome, and updates put in the inbox. */
#ifndef TL_TEST_STORAGE_INT_H
#define TL_TEST_STORAGE_INT_H

#include <stddef.h>

#include "storage/store.h"
#include "support/testparts.h"

char *tsto_db_new(const char *name);
struct store *tsto_open_store(const char *ci);

/* Runs sql on a separate connection; returns the SQLSTATE of a failure ("" on success)
 * as a new string. */
char *tsto_sql_state(const char *ci, const char *sql);

void tsto_sql_ok(const char *ci, const char *sql);
void tsto_assert_scalar(const char *ci, const char *sql, const char *want);

void tsto_put_updates(struct store *s, const long long *ids, const long long *chats, size_t n,
                      long long offset);

void tsto_queue(struct store *s, long long chat, const char *text);

/* The tables of the parts' tests, run by main in test_storage.c. */
extern const struct CMUnitTest tsto_migrate_tests[];
extern const size_t tsto_migrate_ntests;
extern const struct CMUnitTest tsto_intake_tests[];
extern const size_t tsto_intake_ntests;
extern const struct CMUnitTest tsto_apply_tests[];
extern const size_t tsto_apply_ntests;
extern const struct CMUnitTest tsto_outbox_tests[];
extern const size_t tsto_outbox_ntests;
extern const struct CMUnitTest tsto_triage_tests[];
extern const size_t tsto_triage_ntests;

#endif
