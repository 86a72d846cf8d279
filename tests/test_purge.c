/* tests/test_purge.c - `tipline purge [--dry-run]` on a throwaway PostgreSQL: the dry run
 * counts exactly what the purge then deletes and changes nothing; the purge deletes old
 * processed updates, stale chats, expired drafts and the photos of reports rejected
 * long ago (and nothing younger, unprocessed, or of other reports), and is audited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "support/testsupport.h"

static const char *SEED =
    "INSERT INTO inbox (update_id, payload, received_at, processed_at) VALUES"
    " (1, '{}', now() - interval '41 days', now() - interval '40 days'),"
    " (2, '{}', now() - interval '41 days', now() - interval '40 days'),"
    " (3, '{}', now(), now()),"
    " (4, '{}', now() - interval '41 days', NULL);"
    "INSERT INTO chats (chat_id, last_seen) VALUES (501, now() - interval '100 days'),"
    " (502, now());"
    "INSERT INTO reporters (pseudonym) VALUES ('p1');"
    "INSERT INTO reports (public_ref, reporter, text, status, decided_at) VALUES"
    " ('TL-OLDREJ1', 'p1', 'a', 'rejected', now() - interval '40 days'),"
    " ('TL-NEWREJ1', 'p1', 'b', 'rejected', now() - interval '2 days'),"
    " ('TL-OLDCON1', 'p1', 'c', 'confirmed', now() - interval '40 days');"
    "INSERT INTO media (report_id, kind, sha256, size, bytes)"
    " SELECT r.id, 'photo', repeat(md5(r.public_ref || g::text), 2), 3, '\\x010203'"
    " FROM reports r, generate_series(1, 2) g;"
    "SELECT 1";

static char *run(const char *ci, const char *args, int *status)
{
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' TIPLINE_INBOX_RETENTION_DAYS=30 "
                            "TIPLINE_CHAT_RETENTION_DAYS=90 "
                            "TIPLINE_REJECTED_PHOTO_RETENTION_DAYS=30 %s purge %s 2>&1",
                            ci, getenv("TL_TIPLINE_BIN"), args);
    char *out = NULL;
    *status = ts_run(cmd, &out);
    free(cmd);
    return out;
}

static long long count(const char *ci, const char *sql)
{
    return ts_db_count(ci, sql);
}

static void test_purge_dry_run_then_purge_audited(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_purge");
    assert_non_null(ci);
    free(ts_db_scalar(ci, SEED));
    assert_int_equal(count(ci, "SELECT count(*) FROM media"), 6);

    int st;
    char *out = run(ci, "--dry-run", &st);
    fprintf(stderr, "%s", out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "would delete inbox 2 "));
    assert_non_null(strstr(out, "would delete chats 1 "));
    assert_non_null(strstr(out, "would delete photos 2 "));
    free(out);
    /* nothing changed, nothing audited */
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), 4);
    assert_int_equal(count(ci, "SELECT count(*) FROM chats"), 2);
    assert_int_equal(count(ci, "SELECT count(*) FROM media"), 6);
    assert_int_equal(count(ci, "SELECT count(*) FROM audit_log WHERE action = 'purge'"), 0);

    out = run(ci, "", &st);
    fprintf(stderr, "%s", out);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "deleted inbox 2 "));
    assert_non_null(strstr(out, "deleted photos 2 "));
    free(out);
    /* the old processed updates went; the recent and the unprocessed stay */
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox WHERE update_id IN (3, 4)"), 2);
    assert_int_equal(count(ci, "SELECT count(*) FROM inbox"), 2);
    assert_int_equal(count(ci, "SELECT count(*) FROM chats WHERE chat_id = 502"), 1);
    assert_int_equal(count(ci, "SELECT count(*) FROM chats"), 1);
    /* only the photos of the report rejected 40 days ago; the report itself stays */
    assert_int_equal(count(ci, "SELECT count(*) FROM media m JOIN reports r ON r.id = "
                               "m.report_id WHERE r.public_ref = 'TL-OLDREJ1'"),
                     0);
    assert_int_equal(count(ci, "SELECT count(*) FROM media"), 4);
    assert_int_equal(count(ci, "SELECT count(*) FROM reports"), 3);
    assert_int_equal(count(ci, "SELECT count(*) FROM audit_log WHERE action = 'purge' AND "
                               "actor LIKE 'cli:%' AND (after->>'photos')::int = 2 AND "
                               "(after->>'inbox')::int = 2 AND "
                               "(after->>'rejected_photo_retention_days')::int = 30"),
                     1);

    /* again: nothing left to go, still audited */
    out = run(ci, "", &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "deleted photos 0 "));
    free(out);
    assert_int_equal(count(ci, "SELECT count(*) FROM audit_log WHERE action = 'purge'"), 2);
    ts_db_drop("t_purge");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_purge_dry_run_then_purge_audited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
