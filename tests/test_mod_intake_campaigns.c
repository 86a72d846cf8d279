/* tests/test_mod_intake_campaigns.c - test_mod_intake: campaigns held at intake: a
 * flood of near-identical texts from new reporters, the same photo from several (and
 * racing reports joining the campaign). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "handlers/hdl.h"
#include "storage/store.h"
#include "support/botproc.h"
#include "support/botrun.h"
#include "support/photogen.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_mod_intake_int.h"

/* ---- a flood: 500 near-identical texts from 100 new reporters ---- */

static void test_mod_intake_flood_is_one_held_campaign(void **state)
{
    (void)state;
    struct world w;
    tmi_world_open(&w, "flood");
    w.c.mod_new_rate_burst = 10; /* the flood is caught as a campaign, not by the rate */
    w.c.mod_new_rate_per_hour = 100;
    tmi_world_start(&w);
    static const char *const tails[] = {"", " терміново!!!", " 🔥🔥", " ПОШИРТЕ", " всім"};
    char text[256];
    int64_t t0 = tl_now_ms();
    for (int round = 0; round < 5; round++)
        for (int r = 0; r < 100; r++) {
            /* small variations: digits, case, emoji, a word added; the count differs
             * in each of a reporter's rounds, so none folds into that reporter's own
             * earlier report */
            snprintf(text, sizeof(text),
                     "%s колона ворожої техніки %d одиниць рухається на Харків, евакуюйтесь "
                     "негайно%s",
                     (r + round) % 2 ? "Увага!" : "УВАГА", 10 + (r + round) % 37,
                     tails[(r + round) % 5]);
            tmi_send_report(w.fb, &w.next_mid, 5000000 + r, "uk", text);
        }
    tmi_settle(&w, 240000);
    long long took = tl_now_ms() - t0;
    fprintf(stderr, "flood: 1000 updates handled in %lld ms\n", took);

    /* nothing lost: every report recorded, every one held in one campaign */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 500);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'held'"), 500);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_verdicts v JOIN mod_campaigns c"
                               " ON c.id = v.campaign_id AND c.status = 'held'"
                               " WHERE v.verdict = 'hold' AND 'campaign' = ANY (v.reasons)"),
                     500);
    assert_int_equal(count(&w, "SELECT count(DISTINCT r.reporter) FROM reports r"
                               " JOIN mod_verdicts v ON v.report_id = r.id"),
                     100);
    /* the analysts see none of it, through the API */
    char refs[8][16];
    assert_int_equal(tmi_queue_refs(&w, refs, 8), 0);
    assert_int_equal(tmi_claim(&w), 0);
    /* each citizen got the usual thanks (a hold says nothing), never a refusal */
    char *sent = tmi_catalog_head("uk", "sent");
    for (int r = 0; r < 100; r += 33)
        assert_int_equal(tmi_told(w.fb, 5000000 + r, sent), 5);
    free(sent);
    tmi_world_close(&w);
}

/* ---- a photo campaign: the same picture from several new reporters ---- */

/* A citizen sends photo file_id (served by the fake) with no words and presses "Send
 * now"; pushed without waiting. */
static void send_photo(struct world *w, long long chat, const char *file_id)
{
    char *body = tl_asprintf("\"photo\":[{\"file_id\":\"%s\",\"file_unique_id\":\"u-%s\","
                             "\"width\":640,\"height\":480}]",
                             file_id, file_id);
    long long id = tb_say(w->fb, w->next_mid++, chat, "uk", body);
    free(body);
    char data[32];
    snprintf(data, sizeof(data), "%lld:send", id);
    tb_press(w->fb, w->next_mid, chat, w->next_mid, data);
    w->next_mid++;
}

static void test_mod_intake_photo_campaign_held(void **state)
{
    (void)state;
    struct world w;
    tmi_world_open(&w, "photo");
    tmi_world_start(&w);
    /* one picture, recompressed on its way through channels at a different quality for
     * each of 8 new reporters, and an unrelated picture from a ninth */
    struct pg_image scene, other;
    assert_int_equal(pg_scene(4242, 640, 480, &scene), 0);
    assert_int_equal(pg_scene(777, 640, 480, &other), 0);
    for (int r = 0; r < 9; r++) {
        unsigned char *jpeg = NULL;
        size_t len = 0;
        char id[32];
        assert_int_equal(pg_encode(r < 8 ? &scene : &other, 60 + 4 * r, &jpeg, &len), 0);
        snprintf(id, sizeof(id), "pc-%d", r);
        assert_int_equal(fakebot_add_file(w.fb, id, jpeg, len), TL_OK);
        free(jpeg);
        send_photo(&w, 7700000 + r, id);
    }
    pg_image_release(&scene);
    pg_image_release(&other);
    tmi_settle(&w, 60000);

    /* every report recorded; the eight are one held photo campaign */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 9);
    assert_int_equal(count(&w, "SELECT count(DISTINCT sha256) FROM media"), 9);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns"), 1);
    assert_int_equal(count(&w, "SELECT count(*) FROM mod_campaigns WHERE kind = 'photo'"
                               " AND status = 'held'"),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE status = 'held'"), 8);
    assert_int_equal(count(&w, "SELECT count(DISTINCT r.reporter) FROM reports r JOIN"
                               " mod_verdicts v ON v.report_id = r.id WHERE v.campaign_id ="
                               " (SELECT id FROM mod_campaigns)"),
                     8);
    char *other_ref = ts_db_scalarf(w.ci,
                                    "SELECT r.public_ref FROM reports r JOIN chats c"
                                    " ON c.reporter = r.reporter WHERE c.chat_id = %lld"
                                    " AND r.status = 'new'",
                                    tb_chat(7700008));
    assert_non_null(other_ref);
    /* the analysts' queue, through the API, holds only the unrelated picture */
    char refs[8][16];
    assert_int_equal(tmi_queue_refs(&w, refs, 8), 1);
    assert_string_equal(refs[0], other_ref);
    free(other_ref);
    /* the moderators see the campaign and its members */
    struct ts_hres r = tmi_http(&w, TOKEN_MOD, "/api/mod/campaigns?status=held", NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *items, *v;
    tl_buf_release(&r.body);
    assert_true(json_object_object_get_ex(o, "items", &items));
    assert_int_equal(json_object_array_length(items), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(items, 0), "reporters", &v));
    assert_int_equal(json_object_get_int(v), 8);
    json_object_put(o);
    tmi_world_close(&w);
}

/* Two workers decided at once: a photo accepted while a campaign of the same picture
 * formed joins it when its verdict is written (mod_apply_verdict, under the campaign
 * lock), as a text does; an unrelated picture does not. */
static void test_mod_intake_photo_race_joins_campaign(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_modi_prace");
    assert_non_null(ci);
    char *cid = ts_db_scalar(
        ci, "WITH p AS (INSERT INTO reporters (pseudonym) VALUES ('a1'), ('b2'), ('c3')"
            "   RETURNING 1),"
            " r AS (INSERT INTO reports (public_ref, reporter, status) VALUES"
            "   ('PR-1', 'a1', 'held'), ('PR-2', 'b2', 'new'), ('PR-3', 'c3', 'new') RETURNING 1),"
            " c AS (INSERT INTO mod_campaigns (kind) VALUES ('photo') RETURNING id)"
            " SELECT id::text FROM c WHERE (SELECT count(*) FROM p) = 3"
            " AND (SELECT count(*) FROM r) = 3");
    assert_non_null(cid);
    char *sql = tl_asprintf("INSERT INTO mod_recent (reporter, report_id, text_len, has_photo,"
                            " phash, campaign_id) SELECT 'a1', id, 0, true, 1234567890123, %s"
                            " FROM reports WHERE public_ref = 'PR-1' RETURNING 1",
                            cid);
    free(ts_db_scalar(ci, sql));
    free(sql);
    /* both read their window before the campaign formed; 3 bits apart, and 40 */
    static const struct {
        const char *ref, *rep;
        long long phash;
    } late[] = {{"PR-2", "b2", 1234567890123LL ^ 0x10101}, {"PR-3", "c3", 0x5A5A5A5A5A5ALL}};
    for (size_t i = 0; i < 2; i++) {
        sql = tl_asprintf(
            "SELECT mod_apply_verdict(id, '%s', jsonb_build_object('v', 'accept', 'sig',"
            " jsonb_build_object('tl', 0, 'hp', true, 'ph', %lld), 'ws', 900, 'wt',"
            " extract(epoch FROM now()) - 1, 'sim', 0.5, 'ml', 20, 'pd', 6))::text"
            " FROM reports WHERE public_ref = '%s'",
            late[i].rep, late[i].phash, late[i].ref);
        free(ts_db_scalar(ci, sql));
        free(sql);
    }
    assert_int_equal(ts_db_countf(ci,
                                  "SELECT count(*) FROM reports r JOIN mod_verdicts v ON"
                                  " v.report_id = r.id WHERE r.public_ref = 'PR-2' AND"
                                  " r.status = 'held' AND v.campaign_id = %s AND"
                                  " 'campaign' = ANY (v.reasons)",
                                  cid),
                     1);
    assert_int_equal(ts_db_countf(ci, "SELECT count(*) FROM reports WHERE public_ref = 'PR-3'"
                                      " AND status = 'new' AND NOT EXISTS (SELECT 1 FROM"
                                      " mod_verdicts v WHERE v.report_id = reports.id)"),
                     1);
    free(cid);
    ts_db_drop("t_modi_prace");
    free(ci);
}

const struct CMUnitTest tmi_campaigns_tests[] = {
    cmocka_unit_test_teardown(test_mod_intake_flood_is_one_held_campaign, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_photo_campaign_held, tmi_teardown),
    cmocka_unit_test_teardown(test_mod_intake_photo_race_joins_campaign, tmi_teardown),
};
const size_t tmi_campaigns_ntests = TS_NTESTS(tmi_campaigns_tests);
