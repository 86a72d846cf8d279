/* tests/test_conv_batch.c - store_conv_defer: the updates it holds are written in one
 * call of the one write path with the same rows, in the same order, as one
 * store_conv_write each (the draft once, "po" from the last put's prompt, the chat's rows
 * upserted, a notice); a held update processed already writes nothing while the others
 * are written; a rollback drops what was held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "common/banned.h"

#define CHAT 7700LL

static void ok(int rc, const struct tl_errinfo *ei, const char *what)
{
    if (rc != TL_OK)
        fail_msg("%s: %s (%s) %s", what, tl_strerror(rc), ei->sqlstate, ei->msg);
}

static void want(const char *ci, const char *sql, const char *v)
{
    char *got = ts_db_scalar(ci, sql);
    if (!got || strcmp(got, v) != 0)
        fail_msg("%s: want %s, got %s", sql, v, got ? got : "NULL");
    free(got);
}

/* Update id's effects: a text added to draft 5 (put) or not (keep), its reply. */
struct step {
    struct store_effects fx;
    struct store_conv_effects cx;
    struct store_conv_out out;
};

static void step_init(struct step *st, long long id, const char *draft, const char *reply,
                      int prompt, int track)
{
    memset(st, 0, sizeof(*st));
    st->fx = (struct store_effects){
        .update_id = id, .chat_id = CHAT, .pseudonym = "p7700", .set_blocked = -1};
    st->out = (struct store_conv_out){CHAT, "sendMessage", reply, prompt, track};
    st->cx = (struct store_conv_effects){
        .chat_id = CHAT,
        .draft_op = draft ? STORE_DRAFT_PUT : STORE_DRAFT_KEEP,
        .draft_json = draft,
        .draft_id = 5,
        .idle_minutes = 30,
        .user_msg_id = 10 + id,
        .out = &st->out,
        .n_out = 1,
        .only_mark = 1,
    };
}

static void test_conv_batch_held_updates_written_once(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_conv_batch");
    if (!ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    ok(store_open(ci, &s, &ei), &ei, "store_open");
    struct store_inbox_row rows[6];
    for (int i = 0; i < 6; i++)
        rows[i] = (struct store_inbox_row){i + 1, CHAT, "{}"};
    ok(store_inbox_put(s, rows, 6, 7, NULL, &ei), &ei, "inbox");

    struct store_conv_state cs;
    struct step st[6];
    int held = -1;
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin");
    /* the first update also writes the chat's rows (only_mark 0): held all the same */
    step_init(&st[0], 1, "{\"id\":5,\"t\":\"a\"}", "{\"text\":\"r1\"}", 1, 1);
    st[0].cx.only_mark = 0;
    st[0].fx.lang = "en";
    ok(store_conv_defer(s, &st[0].fx, &st[0].cx, &held, &ei), &ei, "defer 1");
    assert_int_equal(held, 1);
    step_init(&st[1], 2, "{\"id\":5,\"t\":\"ab\"}", "{\"text\":\"r2\"}", 1, 1);
    ok(store_conv_defer(s, &st[1].fx, &st[1].cx, &held, &ei), &ei, "defer 2");
    assert_int_equal(held, 1);
    /* no put: its prompt does not become "po" (as with store_conv_write) */
    step_init(&st[2], 3, NULL, "{\"text\":\"r3\"}", 1, 0);
    ok(store_conv_defer(s, &st[2].fx, &st[2].cx, &held, &ei), &ei, "defer 3");
    assert_int_equal(held, 1);
    /* a notice is held too */
    step_init(&st[3], 4, NULL, "{\"text\":\"r4\"}", 0, 0);
    st[3].cx.notice = 1;
    ok(store_conv_defer(s, &st[3].fx, &st[3].cx, &held, &ei), &ei, "defer 4");
    assert_int_equal(held, 1);
    /* nothing is written before the commit (or a write or lookup) */
    want(ci, "SELECT count(*) FROM outbox", "0");
    ok(store_conv_commit(s, &ei), &ei, "commit");

    want(ci,
         "SELECT string_agg(update_id::text, ',' ORDER BY update_id) FROM inbox"
         " WHERE processed_at IS NOT NULL",
         "1,2,3,4");
    want(ci, "SELECT string_agg(params->>'text', ',' ORDER BY id) FROM outbox", "r1,r2,r3,r4");
    want(ci, "SELECT count(*) FROM conv_notices WHERE chat_id = 7700", "1");
    want(ci,
         "SELECT c.reporter || ':' || c.lang || ':' || r.n_reports FROM chats c"
         " JOIN reporters r ON r.pseudonym = c.reporter WHERE c.chat_id = 7700",
         "p7700:en:0");
    want(ci,
         "SELECT string_agg(COALESCE('o:' || (o.params->>'text'), 'm:' || m.message_id), ','"
         " ORDER BY m.id) FROM conv_messages m LEFT JOIN outbox o ON o.id = m.outbox_id"
         " WHERE m.draft_id = 5",
         "o:r1,m:11,o:r2,m:12,m:13,m:14");
    want(ci,
         "SELECT (d.state->>'t') || ':' || (o.params->>'text') FROM drafts d"
         " JOIN outbox o ON o.id = (d.state->>'po')::bigint WHERE d.chat_id = 7700",
         "ab:r2");

    /* update 2 again (processed) held with update 5: 2 writes nothing, 5 is written */
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin 2");
    store_conv_state_release(&cs);
    step_init(&st[4], 5, NULL, "{\"text\":\"r5\"}", 0, 0);
    ok(store_conv_defer(s, &st[1].fx, &st[1].cx, &held, &ei), &ei, "defer 2 again");
    ok(store_conv_defer(s, &st[4].fx, &st[4].cx, &held, &ei), &ei, "defer 5");
    assert_int_equal(held, 1);
    ok(store_conv_commit(s, &ei), &ei, "commit 2");
    want(ci, "SELECT string_agg(params->>'text', ',' ORDER BY id) FROM outbox",
         "r1,r2,r3,r4,r5");
    want(ci, "SELECT count(*) FROM conv_messages WHERE message_id = 12", "1");
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "1");

    /* a rollback drops what was held: the next transaction commits nothing of it */
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin 3");
    store_conv_state_release(&cs);
    step_init(&st[5], 6, NULL, "{\"text\":\"r6\"}", 0, 0);
    ok(store_conv_defer(s, &st[5].fx, &st[5].cx, &held, &ei), &ei, "defer 6 rollback");
    assert_int_equal(held, 1);
    store_conv_rollback(s);
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin 4");
    store_conv_state_release(&cs);
    ok(store_conv_commit(s, &ei), &ei, "commit 4");
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "1");
    want(ci, "SELECT count(*) FROM outbox", "5");

    store_free(s);
    ts_db_drop("t_conv_batch");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_batch_held_updates_written_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
