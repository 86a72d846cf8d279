/* tests/test_storage_apply.c - test_storage: store_apply (the rows a report writes, a
 * redelivered or racing update, public_ref conflicts, place candidates, batches, chat
 * flags). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "storage/migrations.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "test_storage_int.h"
#include "common/banned.h"

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int len = 0;
    assert_true(EVP_Digest(p, n, md, &len, EVP_sha256(), NULL));
    tl_hex(md, 32, out);
}

/* ---- store_apply ---- */

static const unsigned char photo1[] = {0xff, 0xd8, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x01, 0x5c, 0x22};
static const unsigned char photo2[] = "abc";

static struct store_media_new media2[2] = {
    {.kind = "photo",
     .tg_file_id = "FILEID1",
     .tg_file_unique_id = "UNIQ1",
     .mime = "image/jpeg",
     .bytes = photo1,
     .len = sizeof(photo1),
     .width = 640,
     .height = 480,
     .has_phash = 1,
     .phash = 0xfedcba9876543210ull,
     .has_gps = 1,
     .gps_lat = 49.98765,
     .gps_lon = 36.23456,
     .gps_accuracy_m = 5,
     .taken_local = "2026-11-20T14:05:09",
     .has_taken_offset = 1,
     .taken_offset_min = 120},
    {.kind = "photo",
     .tg_file_id = "FILEID\"2",
     .tg_file_unique_id = "UNIQ2",
     .mime = "image/jpeg",
     .bytes = photo2,
     .len = 3},
};

static struct store_outbox_new out2[2] = {
    {555001, "sendMessage", "{\"chat_id\":555001,\"text\":\"Report R-1 received \\\"ok\\\"\"}"},
    {555001, "setMessageReaction", "{\"chat_id\":555001,\"message_id\":9}"},
};

static struct store_report_new report_of(const char *ref)
{
    return (struct store_report_new){
        .public_ref = ref,
        .reporter = "ps_abc",
        .category = "drone",
        .text = "two drones heading north",
        .has_point = 1,
        .lat = 50.4501,
        .lon = 30.5234,
        .point_source = "telegram_location",
        .accuracy_m = 25,
        .has_bearing = 1,
        .bearing = 350,
        .observed_at = 1764100000,
        .sent_at = 1764100060,
        .forwarded = 0,
        .media_group_id = "mg1",
        .priority = 5,
        .flags = "night,low_altitude",
        .media = media2,
        .n_media = 2,
    };
}

static void test_storage_apply_rows(void **state)
{
    char *ci = tsto_db_new("t_storage_apply");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {41}, chats[] = {555001};
    tsto_put_updates(s, ids, chats, 1, 42);
    struct store_report_new rep = report_of("R-1");
    struct store_effects fx = {.update_id = 41,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .lang = "uk",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    long long rid = 0;
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_true(rid > 0);
    char *want_id = tl_asprintf("%lld", rid);
    tsto_assert_scalar(ci, "SELECT id FROM reports", want_id);
    free(want_id);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    tsto_assert_scalar(
        ci,
        "SELECT concat_ws('|', public_ref, reporter, category, text, status, priority,"
        " round(ST_Y(point::geometry)::numeric, 4), round(ST_X(point::geometry)::numeric, 4),"
        " point_source, accuracy_m, bearing, extract(epoch FROM observed_at)::bigint,"
        " extract(epoch FROM sent_at)::bigint, forwarded, media_group_id,"
        " array_to_string(flags, ';'), claimed_by IS NULL) FROM reports",
        "R-1|ps_abc|drone|two drones heading north|new|5|50.4501|30.5234|"
        "telegram_location|25|350|1764100000|1764100060|f|mg1|night;low_altitude|t");
    /* media: sha256 of the given bytes, the bytes themselves, the facts */
    char h1[65], h2[65];
    sha256_hex(photo1, sizeof(photo1), h1);
    sha256_hex(photo2, 3, h2);
    assert_string_equal(h2, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char *want = tl_asprintf("%s,%s", h1, h2);
    tsto_assert_scalar(ci, "SELECT string_agg(sha256, ',' ORDER BY id) FROM media", want);
    free(want);
    tsto_assert_scalar(ci,
                       "SELECT encode(bytes, 'hex') FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                       "ffd8ffdb00430001"
                       "5c22");
    tsto_assert_scalar(ci,
                       "SELECT concat_ws('|', kind, tg_file_id, mime, size, width, height, phash)"
                       " FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                       "photo|FILEID1|image/jpeg|10|640|480|-81985529216486896");
    tsto_assert_scalar(ci,
                       "SELECT concat_ws('|', tg_file_id, size, width IS NULL, phash IS NULL,"
                       " convert_from(bytes, 'UTF8')) FROM media WHERE tg_file_unique_id = 'UNIQ2'",
                       "FILEID\"2|3|t|t|abc");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media m JOIN reports r"
                                     " ON r.id = m.report_id"),
                     2);
    /* the facts read before the strip: on the media row, and shown to the analyst */
    tsto_assert_scalar(ci,
                       "SELECT concat_ws('|', round(ST_Y(gps::geometry)::numeric, 5),"
                       " round(ST_X(gps::geometry)::numeric, 5), gps_accuracy_m, taken_local,"
                       " taken_offset_min) FROM media WHERE tg_file_unique_id = 'UNIQ1'",
                       "49.98765|36.23456|5|2026-11-20 14:05:09|120");
    tsto_assert_scalar(
        ci,
        "SELECT concat_ws('|', gps IS NULL, gps_accuracy_m IS NULL, taken_local IS NULL,"
        " taken_offset_min IS NULL) FROM media WHERE tg_file_unique_id = 'UNIQ2'",
        "t|t|t|t");
    struct store_report *shown = NULL;
    CHECK(store_triage_get(s, "R-1", &shown, EI));
    assert_int_equal(shown->has_photo_point, 1);
    assert_true(fabs(shown->photo_lat - 49.98765) < 1e-9 &&
                fabs(shown->photo_lon - 36.23456) < 1e-9);
    store_report_free(shown);
    /* outbox rows in order, pending, params as JSON */
    tsto_assert_scalar(ci, "SELECT string_agg(method || ':' || state, ',' ORDER BY id) FROM outbox",
                       "sendMessage:pending,setMessageReaction:pending");
    tsto_assert_scalar(ci, "SELECT params->>'text' FROM outbox WHERE method = 'sendMessage'",
                       "Report R-1 received \"ok\"");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE chat_id = 555001"), 2);
    /* the reply path and the reporter */
    tsto_assert_scalar(ci,
                       "SELECT concat_ws('|', reporter, lang, blocked) FROM chats"
                       " WHERE chat_id = 555001",
                       "ps_abc|uk|f");
    tsto_assert_scalar(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_abc'", "1");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 41"
                                     " AND processed_at IS NOT NULL"),
                     1);
    store_free(s);
    ts_db_drop("t_storage_apply");
    free(ci);
}

static void test_storage_apply_redelivered_noop(void **state)
{
    char *ci = tsto_db_new("t_storage_noop");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {41}, chats[] = {555001};
    tsto_put_updates(s, ids, chats, 1, 42);
    struct store_report_new rep = report_of("R-1");
    struct store_effects fx = {.update_id = 41,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    long long rid = 0;
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_true(rid > 0);
    /* The same update again (a crash after commit, a redelivery): nothing new. */
    struct store_report_new rep2 = report_of("R-2");
    fx.report = &rep2;
    fx.lang = "en";
    CHECK(store_apply(s, &fx, &rid, EI));
    assert_int_equal(rid, 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 2);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 2);
    tsto_assert_scalar(ci, "SELECT n_reports FROM reporters", "1");
    tsto_assert_scalar(ci, "SELECT lang FROM chats", NULL);
    /* The inbox row never came in: TL_ENOTFOUND, nothing written. */
    struct tl_errinfo ei = {0};
    fx.update_id = 77;
    assert_int_equal(store_apply(s, &fx, &rid, &ei), TL_ENOTFOUND);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    /* update_id 0: effects without an inbox row (e.g. an analyst's follow-up). */
    struct store_effects fu = {.update_id = 0, .set_blocked = -1, .outbox = out2, .n_outbox = 1};
    CHECK(store_apply(s, &fu, &rid, EI));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 3);
    store_free(s);
    ts_db_drop("t_storage_noop");
    free(ci);
}

#define RACE_UPDATES 30

struct race {
    const char *ci;
    int no;
    int reports;
};

static void *race_thread(void *p)
{
    struct race *r = p;
    struct store *s = tsto_open_store(r->ci);
    for (int i = 1; i <= RACE_UPDATES; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "RACE-%d-%d", r->no, i);
        struct store_report_new rep = {.public_ref = ref, .reporter = "ps_r", .text = "x"};
        struct store_outbox_new o = {555001, "sendMessage", "{\"text\":\"ok\"}"};
        struct store_effects fx = {.update_id = i,
                                   .chat_id = 555001,
                                   .pseudonym = "ps_r",
                                   .set_blocked = -1,
                                   .report = &rep,
                                   .outbox = &o,
                                   .n_outbox = 1};
        long long rid = 0;
        if (store_apply(s, &fx, &rid, NULL) == TL_OK && rid > 0)
            r->reports++;
    }
    store_free(s);
    return NULL;
}

/* Two workers that both run the same updates at the same moment (a lost chat lock,
 * a redelivery): the inbox row lock and the processed check make exactly one win. */
static void test_storage_apply_same_update_racing(void **state)
{
    char *ci = tsto_db_new("t_storage_race");
    struct store *s = tsto_open_store(ci);
    long long ids[RACE_UPDATES], chats[RACE_UPDATES];
    for (int i = 0; i < RACE_UPDATES; i++) {
        ids[i] = i + 1;
        chats[i] = 555001;
    }
    tsto_put_updates(s, ids, chats, RACE_UPDATES, RACE_UPDATES + 1);
    struct race a = {ci, 1, 0}, b = {ci, 2, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, race_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, race_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.reports + b.reports, RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), RACE_UPDATES);
    assert_int_equal(ts_db_count(ci, "SELECT n_reports FROM reporters"), RACE_UPDATES);
    store_free(s);
    ts_db_drop("t_storage_race");
    free(ci);
}

static void test_storage_apply_public_ref_conflict(void **state)
{
    char *ci = tsto_db_new("t_storage_ref");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {1, 2}, chats[] = {555001, 555001};
    tsto_put_updates(s, ids, chats, 2, 3);
    struct store_report_new rep = report_of("R-SAME");
    struct store_effects fx = {.update_id = 1,
                               .chat_id = 555001,
                               .pseudonym = "ps_abc",
                               .lang = "uk",
                               .set_blocked = -1,
                               .report = &rep,
                               .outbox = out2,
                               .n_outbox = 2};
    CHECK(store_apply(s, &fx, NULL, EI));
    struct store_effects fx2 = fx;
    fx2.update_id = 2;
    fx2.lang = "en";
    fx2.set_blocked = 1;
    struct tl_errinfo ei = {0};
    long long rid = 99;
    assert_int_equal(store_apply(s, &fx2, &rid, &ei), TL_ECONFLICT);
    assert_string_equal(ei.sqlstate, "23505");
    assert_int_equal(rid, 0);
    /* nothing of update 2 was written */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 2);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 2);
    tsto_assert_scalar(ci, "SELECT lang || blocked::text FROM chats", "ukfalse");
    tsto_assert_scalar(ci, "SELECT n_reports FROM reporters", "1");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE update_id = 2"
                                     " AND processed_at IS NULL"),
                     1);
    /* the caller draws another ref and it goes through, also with a NULL ei */
    struct store_report_new rep3 = report_of("R-OTHER");
    fx2.report = &rep3;
    CHECK(store_apply(s, &fx2, &rid, EI));
    assert_true(rid > 0);
    assert_int_equal(store_apply(s, &fx, NULL, NULL), TL_OK); /* processed: no-op */
    long long ids3[] = {3}, chats3[] = {555001};
    tsto_put_updates(s, ids3, chats3, 1, 4);
    fx.update_id = 3;
    assert_int_equal(store_apply(s, &fx, NULL, NULL), TL_ECONFLICT);
    store_free(s);
    ts_db_drop("t_storage_ref");
    free(ci);
}

/* The settlements a shared place name may mean are kept with the report, by the single
 * and the batch path, and shown in the API's report document. */
static void test_storage_apply_place_candidates(void **state)
{
    char *ci = tsto_db_new("t_storage_places");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {1, 2, 3}, chats[] = {555001, 555001, 555001};
    tsto_put_updates(s, ids, chats, 3, 4);
    static const char cands[] =
        "[{\"name\":\"Novoselivka\",\"oblast\":\"Kharkiv Oblast\",\"country\":\"UA\","
        "\"lat\":49.7801,\"lon\":37.0402,\"accuracy_m\":2000},{\"name\":\"Novoselivka\","
        "\"oblast\":\"Donetsk Oblast\",\"country\":\"UA\",\"lat\":48.315,\"lon\":37.842,"
        "\"accuracy_m\":2000}]";
    struct store_report_new r1 = report_of("P-1"), r2 = report_of("P-2"), r3 = report_of("P-3");
    r1.place_candidates = cands;
    r3.place_candidates = cands;
    struct store_effects fx[3];
    for (int i = 0; i < 3; i++)
        fx[i] = (struct store_effects){
            .update_id = i + 1, .chat_id = 555001, .pseudonym = "ps_abc", .set_blocked = -1};
    fx[0].report = &r1;
    fx[1].report = &r2;
    fx[2].report = &r3;
    CHECK(store_apply(s, &fx[0], NULL, EI));
    const struct store_effects *batch[2] = {&fx[1], &fx[2]};
    CHECK(store_apply_batch(s, batch, 2, NULL, EI));
    tsto_assert_scalar(ci,
                       "SELECT string_agg(public_ref || ':' || COALESCE(jsonb_array_length("
                       "place_candidates)::text, '-'), ',' ORDER BY id) FROM reports",
                       "P-1:2,P-2:-,P-3:2");
    tsto_assert_scalar(ci,
                       "SELECT string_agg(c->>'oblast', ';' ORDER BY o) FROM reports,"
                       " jsonb_array_elements(place_candidates) WITH ORDINALITY AS x(c, o)"
                       " WHERE public_ref = 'P-3'",
                       "Kharkiv Oblast;Donetsk Oblast");
    tsto_assert_scalar(
        ci,
        "SELECT concat_ws('|', d->'place_candidates'->1->>'lat',"
        " d->'place_candidates'->0->>'name', (d2->'place_candidates')::text)"
        " FROM (SELECT web_report_doc(id, NULL, 'a', 5, false, ARRAY[queue])::json AS d"
        " FROM reports WHERE public_ref = 'P-1') x,"
        " (SELECT web_report_doc(id, NULL, 'a', 5, false, ARRAY[queue])::json AS d2"
        " FROM reports WHERE public_ref = 'P-2') y",
        "48.315|Novoselivka|null");
    store_free(s);
    ts_db_drop("t_storage_places");
    free(ci);
}

/* A chat's batch commits as one transaction; any failure writes none of it. */
static void test_storage_apply_batch(void **state)
{
    char *ci = tsto_db_new("t_storage_batch");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {1, 2, 3, 4, 5}, chats[] = {555001, 555001, 555001, 555001, 555001};
    tsto_put_updates(s, ids, chats, 5, 6);
    struct store_report_new r1 = report_of("B-1"), r2 = report_of("B-2"), r3 = report_of("B-1");
    struct store_effects fx[3];
    for (int i = 0; i < 3; i++)
        fx[i] = (struct store_effects){.update_id = i + 1,
                                       .chat_id = 555001,
                                       .pseudonym = "ps_abc",
                                       .set_blocked = -1,
                                       .outbox = out2,
                                       .n_outbox = 1};
    fx[0].report = &r1;
    fx[2].report = &r2; /* update 2 has no report: a command, say */
    const struct store_effects *batch[3] = {&fx[0], &fx[1], &fx[2]};
    long long rids[3] = {-1, -1, -1};
    fx[0].lang = "uk";
    fx[2].lang = "en"; /* the chat keeps the batch's last language */
    fx[2].n_outbox = 2;
    CHECK(store_apply_batch(s, batch, 3, rids, EI));
    assert_true(rids[0] > 0 && rids[1] == 0 && rids[2] > rids[0]);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 2);
    /* the same rows as one store_apply each: reports, media with facts, outbox in order */
    tsto_assert_scalar(ci,
                       "SELECT string_agg(public_ref || ':' || point_source, ',' ORDER BY id)"
                       " FROM reports",
                       "B-1:telegram_location,B-2:telegram_location");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media"), 4);
    tsto_assert_scalar(ci,
                       "SELECT string_agg(r.public_ref || '/' || m.tg_file_unique_id || '/' ||"
                       " COALESCE(round(ST_Y(m.gps::geometry)::numeric, 5)::text, '-'), ','"
                       " ORDER BY m.id) FROM media m JOIN reports r ON r.id = m.report_id",
                       "B-1/UNIQ1/49.98765,B-1/UNIQ2/-,B-2/UNIQ1/49.98765,B-2/UNIQ2/-");
    tsto_assert_scalar(ci, "SELECT string_agg(method, ',' ORDER BY id) FROM outbox",
                       "sendMessage,sendMessage,sendMessage,setMessageReaction");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 4);
    tsto_assert_scalar(ci, "SELECT lang FROM chats WHERE chat_id = 555001", "en");
    tsto_assert_scalar(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_abc'", "2");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL"),
                     3);
    /* update 4 is fine, update 5 clashes on its public_ref: neither is written */
    struct store_effects f4 = fx[1], f5 = fx[0];
    f4.update_id = 4;
    f5.update_id = 5;
    f5.report = &r3;
    const struct store_effects *bad[2] = {&f4, &f5};
    struct tl_errinfo ei = {0};
    assert_int_equal(store_apply_batch(s, bad, 2, rids, &ei), TL_ECONFLICT);
    assert_true(rids[0] == 0 && rids[1] == 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox"), 4);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 2);
    /* the store is usable right after the rolled-back batch */
    CHECK(store_apply(s, &f4, NULL, EI));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL"), 1);
    store_free(s);
    ts_db_drop("t_storage_batch");
    free(ci);
}

static void test_storage_apply_chat_flags(void **state)
{
    char *ci = tsto_db_new("t_storage_chatflags");
    struct store *s = tsto_open_store(ci);
    long long ids[] = {1, 2, 3, 4}, chats[] = {9, 9, 9, 9};
    tsto_put_updates(s, ids, chats, 4, 5);
    struct store_effects fx = {
        .update_id = 1, .chat_id = 9, .pseudonym = "ps_9", .lang = "en", .set_blocked = 1};
    CHECK(store_apply(s, &fx, NULL, EI));
    tsto_assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "entrue");
    fx = (struct store_effects){
        .update_id = 2, .chat_id = 9, .pseudonym = "ps_9", .set_blocked = -1};
    CHECK(store_apply(s, &fx, NULL, EI));
    tsto_assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "entrue");
    fx = (struct store_effects){
        .update_id = 3, .chat_id = 9, .pseudonym = "ps_9", .lang = "uk", .set_blocked = 0};
    CHECK(store_apply(s, &fx, NULL, EI));
    tsto_assert_scalar(ci, "SELECT lang || blocked::text FROM chats WHERE chat_id = 9", "ukfalse");
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), 0);
    assert_int_equal(ts_db_count(ci, "SELECT n_reports FROM reporters WHERE pseudonym = 'ps_9'"),
                     0);
    store_free(s);
    ts_db_drop("t_storage_chatflags");
    free(ci);
}

const struct CMUnitTest tsto_apply_tests[] = {
    cmocka_unit_test(test_storage_apply_rows),
    cmocka_unit_test(test_storage_apply_redelivered_noop),
    cmocka_unit_test(test_storage_apply_same_update_racing),
    cmocka_unit_test(test_storage_apply_public_ref_conflict),
    cmocka_unit_test(test_storage_apply_batch),
    cmocka_unit_test(test_storage_apply_place_candidates),
    cmocka_unit_test(test_storage_apply_chat_flags),
};
const size_t tsto_apply_ntests = TS_NTESTS(tsto_apply_tests);
