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
    want(ci, "SELECT string_agg(params->>'text', ',' ORDER BY id) FROM outbox", "r1,r2,r3,r4,r5");
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

static struct store *open_db(const char *name, char **ci)
{
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    *ci = ts_db_create(name);
    if (!*ci)
        fail_msg("no throwaway cluster (TL_PG_STATE): run under the pg fixture");
    ok(store_open(*ci, &s, &ei), &ei, "store_open");
    return s;
}

static void inbox(struct store *s, long long first, int n)
{
    struct store_inbox_row rows[8];
    struct tl_errinfo ei = {0};
    assert_true(n <= 8);
    for (int i = 0; i < n; i++)
        rows[i] = (struct store_inbox_row){first + i, CHAT, "{}"};
    ok(store_inbox_put(s, rows, (size_t)n, first + n, NULL, &ei), &ei, "inbox");
}

/* One batch of the worker's kind, through the one write path: a draft put with a photo,
 * an answer to an analyst's question, an update refused and kept raw (the dead-letter
 * mark), and the report sent from the draft with a photo of its own. */
struct mixed {
    struct step put, answer;
    struct store_effects poison, send;
    struct store_conv_effects send_cx;
    struct store_conv_out send_out;
    struct store_media_new draft_photo, report_photo;
    struct store_report_new report;
};

static void mixed_init(struct mixed *m, long long followup)
{
    memset(m, 0, sizeof(*m));
    m->draft_photo = (struct store_media_new){
        .kind = "photo", .mime = "image/jpeg", .bytes = (const unsigned char *)"abc", .len = 3};
    m->report_photo = (struct store_media_new){
        .kind = "photo", .mime = "image/jpeg", .bytes = (const unsigned char *)"xyz", .len = 3};
    step_init(&m->put, 1, "{\"id\":1,\"t\":\"a\"}", "{\"text\":\"r1\"}", 1, 1);
    m->put.cx.draft_id = 1;
    m->put.cx.media = &m->draft_photo;
    m->put.cx.n_media = 1;
    step_init(&m->answer, 2, NULL, "{\"text\":\"thanks\"}", 0, 0);
    m->answer.cx.draft_id = 0;
    m->answer.cx.user_msg_id = 0;
    m->answer.fx.followup_id = followup;
    m->answer.fx.answer = "boom: the car was blue";
    m->poison = (struct store_effects){.update_id = 3, .set_blocked = -1};
    m->report = (struct store_report_new){.public_ref = "R4",
                                          .reporter = "p7700",
                                          .text = "sent",
                                          .media = &m->report_photo,
                                          .n_media = 1};
    m->send = (struct store_effects){.update_id = 4,
                                     .chat_id = CHAT,
                                     .pseudonym = "p7700",
                                     .set_blocked = -1,
                                     .report = &m->report};
    m->send_out = (struct store_conv_out){CHAT, "sendMessage", "{\"text\":\"sent\"}", 0, 1};
    m->send_cx = (struct store_conv_effects){.chat_id = CHAT,
                                             .draft_op = STORE_DRAFT_DELETE,
                                             .draft_id = 1,
                                             .out = &m->send_out,
                                             .n_out = 1};
}

/* Runs the batch in one transaction; returns the write's error (rolled back) or the
 * commit's. *reports: the reports the transaction wrote. */
static int mixed_run(struct store *s, struct mixed *m, long long *reports, struct tl_errinfo *ei)
{
    struct store_conv_state cs;
    int held = 0, rc = store_conv_begin(s, CHAT, &cs, ei);
    *reports = 0;
    if (rc)
        return rc;
    store_conv_state_release(&cs);
    ok(store_conv_defer(s, &m->put.fx, &m->put.cx, &held, ei), ei, "defer put");
    assert_int_equal(held, 1);
    ok(store_conv_defer(s, &m->answer.fx, &m->answer.cx, &held, ei), ei, "defer answer");
    assert_int_equal(held, 1);
    ok(store_conv_defer(s, &m->poison, NULL, &held, ei), ei, "defer poison");
    assert_int_equal(held, 1);
    /* the report is held too: the four updates are written in one call at the commit */
    ok(store_conv_defer(s, &m->send, &m->send_cx, &held, ei), ei, "defer send");
    assert_int_equal(held, 1);
    assert_int_equal(store_conv_reports(s), 0);
    if ((rc = store_conv_commit(s, ei)) != TL_OK) {
        store_conv_rollback(s);
        return rc;
    }
    *reports = store_conv_reports(s);
    return TL_OK;
}

static void test_conv_batch_mixed_all_or_nothing(void **state)
{
    (void)state;
    char *ci = NULL;
    struct store *s = open_db("t_conv_mixed", &ci);
    struct tl_errinfo ei = {0};
    struct mixed m;
    long long rid = 0, nrep = 0;
    inbox(s, 1, 4);
    /* a report of the same reporter, asked a question */
    struct store_report_new r0 = {.public_ref = "R0", .reporter = "p7700"};
    struct store_effects f0 = {.pseudonym = "p7700", .set_blocked = -1, .report = &r0};
    ok(store_apply(s, &f0, &rid, &ei), &ei, "report R0");
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO followups (report_id, asked_by, question) VALUES (%lld, 'a', 'q?')"
             " RETURNING id",
             rid);
    char *fu = ts_db_scalar(ci, sql);
    assert_non_null(fu);
    mixed_init(&m, strtoll(fu, NULL, 10));
    free(fu);

    /* the answer (the batch's second update) breaks a constraint: nothing of the batch
     * is written, not the draft and its photo before it, not the report after it */
    free(ts_db_scalar(ci, "ALTER TABLE followups ADD CONSTRAINT no_boom"
                          " CHECK (answer NOT LIKE 'boom%') NOT VALID; SELECT 1"));
    assert_int_equal(mixed_run(s, &m, &nrep, &ei), TL_EDB);
    assert_string_equal(ei.sqlstate, "23514");
    assert_int_equal(nrep, 0);
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL", "0");
    want(ci, "SELECT count(*) FROM outbox", "0");
    want(ci, "SELECT count(*) FROM drafts", "0");
    want(ci, "SELECT count(*) FROM draft_media", "0");
    want(ci, "SELECT count(*) FROM conv_messages", "0");
    want(ci, "SELECT string_agg(public_ref, ',') FROM reports", "R0");
    want(ci, "SELECT count(*) FROM media", "0");
    want(ci, "SELECT count(*) FROM followups WHERE answer IS NOT NULL", "0");
    want(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'p7700'", "1");

    /* the retry writes it all, once */
    free(ts_db_scalar(ci, "ALTER TABLE followups DROP CONSTRAINT no_boom; SELECT 1"));
    ok(mixed_run(s, &m, &nrep, &ei), &ei, "retry");
    assert_int_equal(nrep, 1);
    for (int again = 0; again < 2; again++) {
        want(ci,
             "SELECT string_agg(update_id::text, ',' ORDER BY update_id) FROM inbox"
             " WHERE processed_at IS NOT NULL",
             "1,2,3,4");
        want(ci, "SELECT string_agg(params->>'text', ',' ORDER BY id) FROM outbox",
             "r1,thanks,sent");
        want(ci, "SELECT answer FROM followups", "boom: the car was blue");
        want(ci, "SELECT string_agg(public_ref, ',' ORDER BY id) FROM reports", "R0,R4");
        /* the report's own photo, then the draft's, moved; the draft is gone */
        want(ci,
             "SELECT string_agg(convert_from(m.bytes, 'UTF8') || ':' || m.sha256, ','"
             " ORDER BY m.id) FROM media m JOIN reports r ON r.id = m.report_id"
             " WHERE r.public_ref = 'R4'",
             "xyz:3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282,"
             "abc:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        want(ci, "SELECT count(*) FROM drafts", "0");
        want(ci, "SELECT count(*) FROM draft_media", "0");
        /* the draft's messages (reply r1, the citizen's 11, "sent") now the report's */
        want(ci,
             "SELECT string_agg(COALESCE('o:' || (o.params->>'text'), 'm:' || c.message_id),"
             " ',' ORDER BY c.id) FROM conv_messages c LEFT JOIN outbox o ON o.id = c.outbox_id"
             " JOIN reports r ON r.id = c.report_id WHERE r.public_ref = 'R4'",
             "o:r1,m:11,o:sent");
        want(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'p7700'", "2");
        if (again)
            break;
        /* a re-run of the whole batch (redelivered): a no-op */
        ok(mixed_run(s, &m, &nrep, &ei), &ei, "re-run");
        assert_int_equal(nrep, 0);
    }
    store_free(s);
    ts_db_drop("t_conv_mixed");
    free(ci);
}

/* An update that deletes the draft is applied in its place in the batch: the photos of
 * the draft it cancels go, those of the next draft (later in the same call) stay. */
static void test_conv_batch_order_across_segments(void **state)
{
    (void)state;
    char *ci = NULL;
    struct store *s = open_db("t_conv_order", &ci);
    struct tl_errinfo ei = {0};
    struct store_conv_state cs;
    struct step st[5];
    struct store_media_new ph[2] = {
        {.kind = "photo", .bytes = (const unsigned char *)"A", .len = 1},
        {.kind = "photo", .bytes = (const unsigned char *)"B", .len = 1},
    };
    int held = 0;
    inbox(s, 11, 5);
    step_init(&st[0], 11, "{\"id\":11,\"t\":\"first\"}", "{\"text\":\"p1\"}", 1, 1);
    st[0].cx.draft_id = 11;
    st[0].cx.media = &ph[0];
    st[0].cx.n_media = 1;
    step_init(&st[1], 12, NULL, "{\"text\":\"cancelled\"}", 0, 0);
    st[1].cx.draft_op = STORE_DRAFT_DELETE;
    st[1].cx.draft_id = 11;
    step_init(&st[2], 13, "{\"id\":13,\"t\":\"second\"}", "{\"text\":\"p3\"}", 1, 1);
    st[2].cx.draft_id = 13;
    st[2].cx.media = &ph[1];
    st[2].cx.n_media = 1;
    step_init(&st[3], 14, "{\"id\":13,\"t\":\"second+\"}", "{\"text\":\"p4\"}", 0, 1);
    st[3].cx.draft_id = 13;
    step_init(&st[4], 15, NULL, "{\"text\":\"p5\"}", 1, 0);
    st[4].cx.draft_id = 13;
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin");
    store_conv_state_release(&cs);
    for (int i = 0; i < 5; i++) {
        ok(store_conv_defer(s, &st[i].fx, &st[i].cx, &held, &ei), &ei, "defer");
        assert_int_equal(held, 1);
    }
    ok(store_conv_commit(s, &ei), &ei, "commit");
    want(ci,
         "SELECT string_agg(draft_id || ':' || convert_from(bytes, 'UTF8'), ',' ORDER BY id)"
         " FROM draft_media",
         "13:B");
    /* the last put's state; "po" the last prompt of a put (p3: p4 has none, p5 no put) */
    want(ci,
         "SELECT (d.state->>'t') || ':' || (o.params->>'text') FROM drafts d"
         " JOIN outbox o ON o.id = (d.state->>'po')::bigint WHERE d.chat_id = 7700",
         "second+:p3");
    want(ci, "SELECT string_agg(params->>'text', ',' ORDER BY id) FROM outbox",
         "p1,cancelled,p3,p4,p5");
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "0");
    store_free(s);
    ts_db_drop("t_conv_order");
    free(ci);
}

/* A reply's params are embedded in the plan as they are only when they are one JSON
 * object: text that would close its member and add fields of its own is refused by
 * PostgreSQL as the text parameter was before, and nothing is written. */
static void test_conv_batch_params_cannot_escape(void **state)
{
    (void)state;
    char *ci = NULL;
    struct store *s = open_db("t_conv_params", &ci);
    struct tl_errinfo ei = {0};
    static const char *const bad[] = {
        "{\"text\":\"a\"}, \"n\": 99, \"k\": 2, \"x\": {\"y\":1}",
        "{\"text\":\"a\"",
        "{\"text\":\"a\"}]",
    };
    inbox(s, 21, 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct store_outbox_new o = {CHAT, "sendMessage", bad[i]};
        struct store_effects fx = {.update_id = 21, .set_blocked = -1, .outbox = &o, .n_outbox = 1};
        assert_int_equal(store_apply(s, &fx, NULL, &ei), TL_EDB);
        assert_string_equal(ei.sqlstate, "22P02");
        want(ci, "SELECT count(*) FROM outbox", "0");
        want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "1");
    }
    struct store_outbox_new o = {CHAT, "sendMessage", " {\"text\":\"} \\\" {\",\"a\":[{}]} "};
    struct store_effects fx = {.update_id = 21, .set_blocked = -1, .outbox = &o, .n_outbox = 1};
    ok(store_apply(s, &fx, NULL, &ei), &ei, "apply");
    want(ci, "SELECT params::text FROM outbox", "{\"a\": [{}], \"text\": \"} \\\" {\"}");
    store_free(s);
    ts_db_drop("t_conv_params");
    free(ci);
}

/* Held puts of one chat's draft in one segment: only the last state is sent (each is
 * the one before plus a little; sending them all made a batch's document grow with the
 * square of its length). The superseded state here is one PostgreSQL would refuse: the
 * batch is written, with the last state and the last put's prompt as "po". */
static void test_conv_batch_superseded_draft_not_sent(void **state)
{
    (void)state;
    char *ci = NULL;
    struct store *s = open_db("t_conv_superseded", &ci);
    struct tl_errinfo ei = {0};
    struct store_conv_state cs;
    struct step st[3];
    int held = 0;
    inbox(s, 31, 3);
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin");
    store_conv_state_release(&cs);
    step_init(&st[0], 31, "{\"id\":5,\"t\":nope}", "{\"text\":\"r1\"}", 1, 1);
    step_init(&st[1], 32, NULL, "{\"text\":\"r2\"}", 0, 1);
    step_init(&st[2], 33, "{\"id\":5,\"t\":\"abc\"}", "{\"text\":\"r3\"}", 1, 1);
    for (int i = 0; i < 3; i++) {
        ok(store_conv_defer(s, &st[i].fx, &st[i].cx, &held, &ei), &ei, "defer");
        assert_int_equal(held, 1);
    }
    ok(store_conv_commit(s, &ei), &ei, "commit");
    want(ci,
         "SELECT (d.state->>'t') || ':' || (o.params->>'text') FROM drafts d"
         " JOIN outbox o ON o.id = (d.state->>'po')::bigint WHERE d.chat_id = 7700",
         "abc:r3");
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "0");

    /* alone, the same state is refused (what the batch above did not send) */
    inbox(s, 34, 1);
    ok(store_conv_begin(s, CHAT, &cs, &ei), &ei, "begin 2");
    store_conv_state_release(&cs);
    step_init(&st[0], 34, "{\"id\":5,\"t\":nope}", "{\"text\":\"r4\"}", 1, 1);
    ok(store_conv_defer(s, &st[0].fx, &st[0].cx, &held, &ei), &ei, "defer alone");
    assert_int_equal(store_conv_commit(s, &ei), TL_EDB);
    assert_string_equal(ei.sqlstate, "22P02");
    store_conv_rollback(s);
    want(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL", "1");
    store_free(s);
    ts_db_drop("t_conv_superseded");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_batch_held_updates_written_once),
        cmocka_unit_test(test_conv_batch_mixed_all_or_nothing),
        cmocka_unit_test(test_conv_batch_order_across_segments),
        cmocka_unit_test(test_conv_batch_params_cannot_escape),
        cmocka_unit_test(test_conv_batch_superseded_draft_not_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
