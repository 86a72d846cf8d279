/* tests/test_dedup.c - duplicates through the real intake: the runtime threads against
 * the fake Bot API (a real HTTP server on loopback) and a throwaway PostgreSQL. Citizens
 * send photos and words and press "Send"; the tests check the rows written and the
 * replies sent. Proves: a reporter's repeated text (case, blanks and trailing punctuation
 * or emoji aside) or photo is folded into the earlier report and the citizen told so in
 * their language; photos made from the test photos
 * (recompressed at quality 50, half size, cropped 5 %, inside a phone screenshot) link
 * to their originals (recall >= 95 %) while different photos do not (<= 1 %); a photo
 * seen weeks ago, sent again, flags its report "seen_before" with a link to the first
 * sighting. The photos are made here (tests/support/photogen.c); ../shared/testdata's
 * are added when present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/daemon.h"
#include "handlers/hdl.h"
#include "media/media.h"
#include "support/botrun.h"
#include "support/photogen.h"
#include "support/testsupport.h"
#include "fakebot/fakebot.h"

struct world {
    char name[48];
    char *ci;
    struct fakebot *fb;
    struct cfg c;
    long long next_mid;
};

/* The database, the fake and the configuration, the runtime not started. */
static void world_init(struct world *w, const char *name, int workers)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "t_dedup_%s", name);
    w->ci = ts_db_create(w->name);
    assert_non_null(w->ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &w->fb), TL_OK);
    tb_cfg(&w->c, w->ci);
    w->c.http_timeout_ms = 3000;
    if (workers)
        w->c.workers = workers;
    w->next_mid = 100;
}

static void world_open(struct world *w, const char *name, int workers)
{
    world_init(w, name, workers);
    tb_start(&w->c, w->fb, 5, 0);
}

static void world_close(struct world *w)
{
    if (tb_running())
        tb_stop();
    cfg_release(&w->c);
    fakebot_stop(w->fb);
    ts_db_drop(w->name);
    free(w->ci);
}

#define scalar(w, ...) ts_db_scalarf((w)->ci, __VA_ARGS__)

#define count(w, ...) count_of(scalar((w), __VA_ARGS__))

/* A count: the statement must answer with one integer. */
static long long count_of(char *v)
{
    char *end = NULL;
    assert_non_null(v);
    long long n = strtoll(v, &end, 10);
    assert_true(end != v && *end == 0);
    free(v);
    return n;
}

static void settle(struct world *w, long timeout_ms)
{
    tb_settle(w->fb, w->ci, timeout_ms);
}

/* "Send now" on the quick draft that update draft started. */
static void press_send(struct world *w, long long chat, long long draft)
{
    char data[32];
    snprintf(data, sizeof(data), "%lld:send", draft);
    tb_press(w->fb, w->next_mid, chat, w->next_mid, data);
    w->next_mid++;
}

/* A quick report: the text (NULL none), the photo file_id (NULL none, served by the
 * fake with file_unique_id fuid) as its caption, then "Send now". Does not wait. */
static void report(struct world *w, long long chat, const char *lang, const char *text,
                   const char *file_id, const char *fuid)
{
    struct json_object *t = json_object_new_string(text ? text : "");
    char *body = file_id ? tl_asprintf("\"photo\":[{\"file_id\":\"%s\",\"file_unique_id\":\"%s\","
                                       "\"width\":640,\"height\":480}]%s%s",
                                       file_id, fuid, text ? ",\"caption\":" : "",
                                       text ? json_object_to_json_string(t) : "")
                         : tl_asprintf("\"text\":%s", json_object_to_json_string(t));
    json_object_put(t);
    long long id = tb_say(w->fb, w->next_mid++, chat, lang, body);
    free(body);
    press_send(w, chat, id);
}

static void add_file(struct world *w, const char *file_id, const unsigned char *j, size_t n)
{
    assert_int_equal(fakebot_add_file(w->fb, file_id, j, n), TL_OK);
}

/* The text of the last sendMessage or editMessageText to chat. */
static char *last_reply(struct world *w, long long chat)
{
    char *out = NULL;
    const char *methods[] = {"sendMessage", "editMessageText"};
    for (size_t m = 0; m < 2; m++) {
        char *calls = fakebot_calls_json(w->fb, methods[m]);
        struct json_object *arr = json_tokener_parse(calls), *p, *c, *t;
        free(calls);
        for (size_t i = 0; i < json_object_array_length(arr); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "params", &p) &&
                json_object_object_get_ex(p, "chat_id", &c) && json_object_get_int64(c) == chat &&
                json_object_object_get_ex(p, "text", &t)) {
                free(out);
                out = tl_strdup(json_object_get_string(t));
            }
        json_object_put(arr);
    }
    assert_non_null(out);
    return out;
}

/* The catalog's folded text for lang quoting ref. */
static char *folded_text(const char *lang, const char *ref)
{
    return hdl_text(lang, "folded", "ref", ref, (char *)NULL);
}

/* ---- folding ---- */

static void test_dedup_fold_same_text_and_photo(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "fold", 0);
    const long long uk = 8101, en = 8102;
    struct pg_image im;
    unsigned char *j1, *j2;
    size_t n1, n2;
    assert_int_equal(pg_scene(7, 640, 480, &im), 0);
    assert_int_equal(pg_encode(&im, 90, &j1, &n1), 0);
    assert_int_equal(pg_variant(&im, PG_RECOMPRESS_50, &j2, &n2), 0);
    add_file(&w, "f1", j1, n1);
    add_file(&w, "f1b", j1, n1); /* the same bytes under another Telegram file */
    add_file(&w, "f2", j2, n2);

    /* the same words twice: one report, folded once, the citizen told in Ukrainian */
    report(&w, uk, "uk", "колона техніки на трасі біля мосту", NULL, NULL);
    settle(&w, 20000);
    char *ref = scalar(&w,
                       "SELECT public_ref FROM reports WHERE reporter = (SELECT reporter "
                       "FROM chats WHERE chat_id = %lld)",
                       tb_chat(uk));
    assert_non_null(ref);
    report(&w, uk, "uk", "колона техніки на трасі біля мосту", NULL, NULL);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(count(&w, "SELECT folds FROM reports WHERE public_ref = '%s'", ref), 1);
    assert_int_equal(count(&w, "SELECT n_reports FROM reporters"), 1);
    char *got = last_reply(&w, uk), *want = folded_text("uk", ref);
    assert_string_equal(got, want);
    free(got);
    free(want);
    /* the Clear button of the folded report's acknowledgement names the earlier one */
    char *calls = fakebot_calls_json(w.fb, "editMessageText");
    char *clear = tl_asprintf("x:%s", ref);
    assert_non_null(strstr(calls, clear));
    assert_null(strstr(calls, "fold_ref"));
    free(clear);
    free(calls);
    /* the same words in capitals, with other blanks and trailing "!!! 🔥": folded too,
     * and nothing new to add to the report; other digits are other words */
    report(&w, uk, "uk", "  КОЛОНА  техніки на трасі\nбіля мосту!!! 🔥", NULL, NULL);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 1);
    assert_int_equal(count(&w, "SELECT folds FROM reports WHERE public_ref = '%s'", ref), 2);
    assert_int_equal(count(&w, "SELECT count(*) FROM report_addenda"), 0);
    report(&w, uk, "uk", "2 колони техніки на трасі біля мосту", NULL, NULL);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 2);

    /* a photo, then the same photo (same file_unique_id) with new words: folded, the
     * words an addendum, the photo not stored twice; in English */
    report(&w, en, "en", NULL, "f1", "uq-1");
    settle(&w, 20000);
    char *ref2 = scalar(&w,
                        "SELECT public_ref FROM reports WHERE reporter = (SELECT reporter "
                        "FROM chats WHERE chat_id = %lld)",
                        tb_chat(en));
    report(&w, en, "en", "it is burning now", "f1", "uq-1");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 3);
    assert_int_equal(count(&w, "SELECT folds FROM reports WHERE public_ref = '%s'", ref2), 1);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM report_addenda a JOIN reports r ON r.id = "
                           "a.report_id WHERE r.public_ref = '%s' AND a.text = 'it is burning now'",
                           ref2),
                     1);
    assert_int_equal(count(&w, "SELECT count(*) FROM media"), 1);
    got = last_reply(&w, en);
    want = folded_text("en", ref2);
    assert_string_equal(got, want);
    free(got);
    free(want);
    /* the same bytes under another file id: folded by SHA-256 */
    report(&w, en, "en", NULL, "f1b", "uq-1b");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 3);
    assert_int_equal(count(&w, "SELECT folds FROM reports WHERE public_ref = '%s'", ref2), 2);
    /* a recompressed copy is another photo (a near-duplicate, linked, not folded), and
     * another reporter's identical words are another report */
    report(&w, en, "en", NULL, "f2", "uq-2");
    report(&w, 8103, "en", "колона техніки на трасі біля мосту", NULL, NULL);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 5);
    assert_int_equal(count(&w, "SELECT count(*) FROM media_links"), 1);
    /* outside the window: a new report */
    free(scalar(&w,
                "UPDATE reports SET received_at = received_at - interval '61 minutes' "
                "WHERE public_ref = '%s' RETURNING 1",
                ref));
    report(&w, uk, "uk", "колона техніки на трасі біля мосту", NULL, NULL);
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), 6);
    got = last_reply(&w, uk);
    assert_null(strstr(got, ref));
    free(got);
    free(ref);
    free(ref2);
    free(j1);
    free(j2);
    pg_image_release(&im);
    world_close(&w);
}

/* ---- near-duplicates ---- */

/* The shared test photos that are photos (JPEG, at least 64 pixels a side; the set's
 * 10x10 Xiaomi file is a marker, not a picture), one of the eight orientation copies of
 * one picture. */
static const char *const SHARED[] = {
    "gps_Apple_iPhone_4.jpg",
    "gps_FujiFilm_FinePixS1Pro.jpg",
    "gps_FujiFilm_FinePixS2Pro_b.jpg",
    "gps_HTC_Desire.jpg",
    "gps_Kodak_CX7530.jpg",
    "gps_Nikon_COOLPIX_P6000_DSCN0010.jpg",
    "gps_Sony_DSC-HX5V.jpg",
    "gps_zero_Samsung_GT-I9000.jpg",
    "noexif_gimp_comment.jpg",
    "orientation_Landscape_6.jpg",
    "thumb_Canon_EOS-1D.jpg",
    "xmp_iptc_BlueSquare.jpg",
    "xmp_iptc_Nikon_E4600.jpg",
    "mpo_Nintendo_3DS_frozenpond.mpo",
};
#define N_SHARED (sizeof(SHARED) / sizeof(SHARED[0]))
#define N_GEN 36

/* Sends photo group g (its original, then its variants) from one chat per photo. */
static int send_group(struct world *w, int g, const unsigned char *orig, size_t orig_len,
                      const struct pg_image *im)
{
    char id[32], fuid[40];
    snprintf(id, sizeof(id), "g%d-o", g);
    snprintf(fuid, sizeof(fuid), "u-g%d-o", g);
    add_file(w, id, orig, orig_len);
    report(w, 900000 + g * 10, "en", NULL, id, fuid);
    for (int v = 0; v < PG_NVARIANTS; v++) {
        unsigned char *j;
        size_t n;
        if (pg_variant(im, (enum pg_variant)v, &j, &n))
            return -1;
        snprintf(id, sizeof(id), "g%d-v%d", g, v);
        snprintf(fuid, sizeof(fuid), "u-g%d-v%d", g, v);
        add_file(w, id, j, n);
        free(j);
        report(w, 900000 + g * 10 + v + 1, "en", NULL, id, fuid);
    }
    return 5;
}

/* A media row's group: "u-g<group>-..." */
#define GROUP_OF(col) "split_part(substr(" col ", 4), '-', 1)"

static void test_dedup_variants_link_to_originals(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "variants", 4);
    int groups = 0, photos = 0;
    for (int g = 0; g < N_GEN; g++) {
        struct pg_image im;
        unsigned char *j;
        size_t n;
        int wd = g % 3 == 0 ? 1280 : g % 3 == 1 ? 960 : 720, ht = g % 3 == 2 ? 960 : wd * 3 / 4;
        assert_int_equal(pg_scene((unsigned)g + 1, wd, ht, &im), 0);
        assert_int_equal(pg_encode(&im, 88, &j, &n), 0);
        photos += send_group(&w, groups++, j, n, &im);
        free(j);
        pg_image_release(&im);
    }
    char *dir = ts_shared_path("testdata/media");
    if (!dir) {
        print_message("../shared/testdata/media is absent: the generated photos only\n");
    } else {
        for (size_t i = 0; i < N_SHARED; i++) {
            char *path = tl_asprintf("%s/%s", dir, SHARED[i]);
            size_t n;
            unsigned char *j = (unsigned char *)ts_read_file(path, &n);
            struct pg_image im;
            struct media_facts f;
            struct tl_errinfo ei = {0};
            assert_int_equal(pg_decode(j, n, &im), 0);
            assert_int_equal(media_facts_read(j, n, NULL, &f, &ei), TL_OK);
            /* a copy is made of what the viewer shows: the photo turned upright */
            assert_int_equal(pg_orient(&im, f.orientation), 0);
            photos += send_group(&w, groups++, j, n, &im);
            free(j);
            free(path);
            pg_image_release(&im);
        }
        free(dir);
    }
    settle(&w, 180000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports"), photos);
    assert_int_equal(count(&w, "SELECT count(*) FROM media WHERE phash IS NOT NULL"), photos);

    /* recall: each variant linked to its original, either way round (whichever was
     * stored first links to the other) */
#define PAIRS_SQL                                                                                  \
    "SELECT count(*) FROM media o JOIN media v ON " GROUP_OF(                                      \
        "v.tg_file_unique_id") " = " GROUP_OF("o.tg_file_unique_id") " AND v.tg_file_unique_id "   \
                                                                     "LIKE '%%-v%d' WHERE "        \
                                                                     "o.tg_file_unique_id "        \
                                                                     "LIKE '%%-o' AND EXISTS "     \
                                                                     "(SELECT 1 FROM media_links " \
                                                                     "l WHERE "                    \
                                                                     "(l.media_id, "               \
                                                                     "l.near_media_id) IN "        \
                                                                     "((o.id, v.id), (v.id, "      \
                                                                     "o.id)))"
    long long linked = 0;
    for (int v = 0; v < PG_NVARIANTS; v++) {
        long long c = count(&w, PAIRS_SQL, v);
        print_message("%-18s linked %lld/%d\n", pg_variant_name[v], c, groups);
        linked += c;
    }
    long long want = (long long)groups * PG_NVARIANTS;
    print_message("recall %lld/%lld = %.1f %%\n", linked, want,
                  100.0 * (double)linked / (double)want);
    assert_true(linked * 100 >= want * 95);
    /* false links: photos linked to a photo of another group */
    long long wrong = count(&w, "SELECT count(DISTINCT m.id) FROM media_links l JOIN media m ON "
                                "m.id IN (l.media_id, l.near_media_id) JOIN media a ON a.id = "
                                "l.media_id JOIN media b ON b.id = l.near_media_id WHERE " GROUP_OF(
                                    "a.tg_file_unique_id") " <> " GROUP_OF("b.tg_file_unique_"
                                                                           "id"));
    print_message("photos with a false link %lld/%d = %.2f %%\n", wrong, photos,
                  100.0 * (double)wrong / photos);
    assert_true(wrong * 100 <= photos);
    /* all fresh: nothing seen before */
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE 'seen_before' = ANY (flags)"),
                     0);
    world_close(&w);
}

/* Masks of k differing bits (k = 0..kmax, the three %d) as the CTE "p" (k, pattern,
 * mask): patterns 0..3 the pigeonhole's worst case, each band i given the t_i + 1 bits
 * that put it out of its probes' reach but band j, given t_j (for the bands probed at
 * that k: t_j >= 0); 4..6 the k lowest bits of band j (spilling into the next); 8..11 k
 * bits at random. The layout and the t_i are media_bands_of's and media_probes'. */
#define EXACT_MASKS                                                                                \
    "WITH b(n, lo, w) AS (VALUES (0, 0, 18), (1, 18, 16), (2, 34, 15), (3, 49, 15)), "             \
    "p AS (SELECT k, j, (SELECT sum((((1::bigint << (f.u - (b.n = j)::int)) - 1) << b.lo))"        \
    "::bigint FROM b, LATERAL (SELECT (k + 4 - b.n) / 4 AS u) f) AS mask "                         \
    "FROM generate_series(0, %d) k, generate_series(0, 3) j WHERE (k + 4 - j) / 4 > 0 "            \
    "UNION ALL SELECT k, 4 + j, ((1::bigint << k) - 1) << (SELECT lo FROM b WHERE b.n = j) "       \
    "FROM generate_series(0, %d) k, generate_series(0, 2) j "                                      \
    "UNION ALL SELECT k, 8 + r, (SELECT sum(1::bigint << y.x)::bigint FROM (SELECT x FROM "        \
    "generate_series(0, 63) x ORDER BY hashtext(k || '/' || r || '/' || x) LIMIT k) y) "           \
    "FROM generate_series(1, %d) k, generate_series(0, 3) r) "

static long long exact_count(const char *ci, int kmax, const char *query)
{
    char *sql = tl_asprintf(EXACT_MASKS "%s", kmax, kmax, kmax, query);
    long long n = ts_db_count(ci, sql);
    free(sql);
    return n;
}

/* The band index finds every stored hash within k bits, for every k it serves (0..14),
 * however the differing bits fall (EXACT_MASKS), at distance k; and not one k + 1 bits
 * away. Straight on PostgreSQL (media_near), 24 photos bulk-inserted. */
static void test_dedup_near_exact(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_dedup_exact");
    assert_non_null(ci);
    free(ts_db_scalar(ci, "INSERT INTO reporters (pseudonym) VALUES ('ex') RETURNING 1"));
    free(ts_db_scalar(ci, "INSERT INTO reports (public_ref, reporter, text) "
                          "VALUES ('EX-1', 'ex', 'x') RETURNING 1"));
    free(ts_db_scalar(
        ci, "INSERT INTO media (report_id, kind, sha256, mime, size, phash) "
            "SELECT (SELECT id FROM reports), 'photo', encode(sha256(g::text::bytea), 'hex'), "
            "'image/jpeg', 1, "
            "hashtextextended('exact' || g, 0) FROM generate_series(1, 24) g "
            "RETURNING 1"));
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media_bands"), 24 * 4);
    /* the patterns have the bits they say: worst cases 1, 2 and 3 at k = 0, 1, 2, then
     * 4 a k; 3 one-band ones a k; 4 random ones a k from 1 */
    assert_int_equal(exact_count(ci, 15, "SELECT count(*) FROM p"), 6 + 13 * 4 + 16 * 3 + 15 * 4);
    assert_int_equal(exact_count(ci, 15,
                                 "SELECT count(*) FROM p WHERE "
                                 "bit_count(p.mask::bit(64)) <> p.k"),
                     0);
    /* within k: found, at distance k */
    assert_int_equal(exact_count(ci, 14,
                                 "SELECT count(*) FROM media m, p WHERE EXISTS (SELECT 1 "
                                 "FROM media_near(m.phash # p.mask, p.k) n "
                                 "WHERE n.id = m.id AND n.distance = p.k)"),
                     24 * (6 + 12 * 4 + 15 * 3 + 14 * 4));
    /* k + 1 bits away: not found within k */
    assert_int_equal(exact_count(ci, 15,
                                 "SELECT count(*) FROM media m, p WHERE p.k > 0 AND EXISTS "
                                 "(SELECT 1 FROM media_near(m.phash # p.mask, p.k - 1) n "
                                 "WHERE n.id = m.id)"),
                     0);
    ts_db_drop("t_dedup_exact");
    free(ci);
}

/* An old photo sent again: "seen_before" with a link to its first sighting. */
static void test_dedup_seen_before(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, "seen", 0);
    struct pg_image im;
    unsigned char *j, *v, *s;
    size_t n, vn, sn;
    assert_int_equal(pg_scene(77, 960, 720, &im), 0);
    assert_int_equal(pg_encode(&im, 90, &j, &n), 0);
    assert_int_equal(pg_variant(&im, PG_RECOMPRESS_50, &v, &vn), 0);
    assert_int_equal(pg_variant(&im, PG_SCREENSHOT, &s, &sn), 0);
    add_file(&w, "old", j, n);
    add_file(&w, "again", v, vn);
    add_file(&w, "shot", s, sn);
    report(&w, 8201, "uk", "вибух біля заводу", "old", "u-old");
    settle(&w, 20000);
    /* a fresh copy the same day: linked, not "seen before" */
    report(&w, 8202, "uk", NULL, "shot", "u-shot");
    settle(&w, 20000);
    assert_int_equal(count(&w, "SELECT count(*) FROM reports WHERE 'seen_before' = ANY (flags)"),
                     0);
    assert_int_equal(count(&w, "SELECT count(*) FROM media_links"), 1);
    /* weeks later */
    free(scalar(&w, "UPDATE media SET created_at = created_at - interval '30 days' RETURNING 1"));
    free(scalar(&w, "UPDATE reports SET received_at = received_at - interval '30 days' "
                    "RETURNING 1"));
    report(&w, 8203, "en", "explosion at the plant right now", "again", "u-again");
    settle(&w, 20000);
    char *ref = scalar(&w, "SELECT public_ref FROM reports WHERE 'seen_before' = ANY (flags)");
    assert_non_null(ref);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM reports r JOIN media m ON m.report_id = r.id "
                           "WHERE r.public_ref = '%s' AND m.tg_file_unique_id = 'u-again'",
                           ref),
                     1);
    /* linked to the first sighting (and to the screenshot) */
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM media_links l JOIN media m ON m.id = l.media_id "
                           "JOIN media o ON o.id = l.near_media_id WHERE m.tg_file_unique_id = "
                           "'u-again' AND o.tg_file_unique_id IN ('u-old', 'u-shot')"),
                     2);
    /* the analysts see it: the report's document names the first sighting and shows the
     * linked photos, the queue's summary when it was */
    char *old_ref = scalar(&w, "SELECT r.public_ref FROM reports r JOIN media m ON m.report_id = "
                               "r.id WHERE m.tg_file_unique_id = 'u-old'");
    char *doc =
        scalar(&w, "SELECT web_report_doc(NULL, '%s', 'alice', 6, false, '{general}')", ref);
    struct json_object *d = json_tokener_parse(doc), *sb, *x, *media, *links;
    assert_non_null(d);
    assert_true(json_object_object_get_ex(d, "seen_before", &sb));
    assert_true(json_object_object_get_ex(sb, "ref", &x));
    assert_string_equal(json_object_get_string(x), old_ref);
    assert_true(json_object_object_get_ex(d, "media", &media));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(media, 0), "links", &links));
    assert_int_equal(json_object_array_length(links), 2);
    json_object_put(d);
    free(doc);
    assert_int_equal(count(&w,
                           "SELECT count(*) FROM reports r WHERE r.public_ref = '%s' AND "
                           "web_report_summary(r, 6, NULL)->>'seen_before_at' < (now() - "
                           "interval '29 days')::text",
                           ref),
                     1);
    free(old_ref);
    free(ref);
    free(j);
    free(v);
    free(s);
    pg_image_release(&im);
    world_close(&w);
}

/* ---- the index in memory (daemon/near.c) against the database's search ---- */

/* The stored photos of the memory-index test: which sent photo (0..2) each is near and
 * how many bits off, and when it is stored: 'P' before the index is loaded (in its
 * snapshot), 'Q' after it (rows its snapshot does not see), 'X' before and purged after
 * (a candidate the index still holds). */
static const struct {
    const char *label;
    int photo, bits;
    char when;
} NEAR_SEEDS[] = {
    {"p0a", 0, 1, 'P'},   {"p0b", 0, 3, 'P'}, {"x0", 0, 2, 'X'}, {"q0", 0, 4, 'Q'},
    {"far0", 0, 12, 'P'}, {"q1", 1, 2, 'Q'},  {"p2", 2, 5, 'P'}, {"q2", 2, 7, 'Q'},
};
#define NEAR_LINKS                                                                                 \
    "u-ph0>seed-p0a,u-ph0>seed-p0b,u-ph0>seed-q0,u-ph1>seed-q1,u-ph2>seed-p2,u-ph2>seed-q2"

/* h with its first `bits` of a fixed spread of positions (every band) flipped. */
static uint64_t near_off(uint64_t h, int bits)
{
    static const int pos[] = {5, 20, 40, 55, 10, 25, 45, 60, 1, 30, 50, 15};
    for (int i = 0; i < bits; i++)
        h ^= 1ull << pos[i];
    return h;
}

static void near_seed(struct world *w, char when, const uint64_t *h)
{
    for (size_t i = 0; i < sizeof(NEAR_SEEDS) / sizeof(NEAR_SEEDS[0]); i++) {
        if (NEAR_SEEDS[i].when != when)
            continue;
        free(scalar(w,
                    "WITH p AS (INSERT INTO reporters (pseudonym) VALUES ('seed') "
                    "ON CONFLICT DO NOTHING), "
                    "r AS (INSERT INTO reports (public_ref, reporter, text) "
                    "VALUES ('SEED-%s', 'seed', 'seed') RETURNING id) "
                    "INSERT INTO media (report_id, kind, sha256, tg_file_unique_id, mime, size, "
                    "phash) SELECT r.id, 'photo', encode(sha256('%s'::bytea), 'hex'), "
                    "'seed-%s', 'image/jpeg', 1, %lld FROM r RETURNING 1",
                    NEAR_SEEDS[i].label, NEAR_SEEDS[i].label, NEAR_SEEDS[i].label,
                    (long long)near_off(h[NEAR_SEEDS[i].photo], NEAR_SEEDS[i].bits)));
    }
}

/* Three photos sent through the bot after photos near them were stored before its index
 * was loaded, after it (refresh_ms 1 h: the index does not see them) and purged after
 * it; the links written, as "photo>stored,...". *answers: the searches the index
 * answered (-1 without one); *media_near_calls: the database's own searches. */
static char *near_world(const char *name, long refresh_ms, long long *answers,
                        long long *media_near_calls)
{
    struct world w;
    struct pg_image im[3];
    unsigned char *j[3];
    size_t n[3];
    uint64_t h[3];
    world_init(&w, name, 2);
    w.c.dedup_index_refresh_ms = refresh_ms;
    for (int i = 0; i < 3; i++) {
        uint64_t inner;
        int has_inner;
        struct tl_errinfo ei = {0};
        assert_int_equal(pg_scene(300 + (unsigned)i, 960, 720, &im[i]), 0);
        assert_int_equal(pg_encode(&im[i], 88, &j[i], &n[i]), 0);
        assert_int_equal(media_phash_framed(j[i], n[i], NULL, &h[i], &inner, &has_inner, &ei),
                         TL_OK);
    }
    for (int i = 0; i < 3; i++) /* three photos far apart: each links to its own seeds */
        for (int k = i + 1; k < 3; k++)
            assert_true(media_hamming(h[i], h[k]) > 20);
    near_seed(&w, 'P', h);
    near_seed(&w, 'X', h);
    /* which search the store path ran: pg_stat_user_functions */
    char *sql = tl_asprintf("ALTER DATABASE %s SET track_functions = 'pl'", w.name);
    PGconn *pc = PQconnectdb(w.ci);
    PGresult *res = PQexec(pc, sql);
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(pc);
    free(sql);
    tb_start(&w.c, w.fb, 5, 0);
    struct daemon_near *nr = daemon_near_of(tb_runtime());
    struct daemon_near_info info = {0};
    if (refresh_ms) {
        assert_non_null(nr);
        for (int t = 0; t < 1000 && !info.loaded; t++) {
            daemon_near_info(nr, &info);
            if (!info.loaded)
                (void)tl_sleep_ms(10, NULL);
        }
        assert_true(info.loaded);
        assert_int_equal(info.hashes, 5); /* P and X */
    } else {
        assert_null(nr);
    }
    near_seed(&w, 'Q', h);
    free(scalar(&w, "DELETE FROM media WHERE tg_file_unique_id LIKE 'seed-x%%' RETURNING 1"));
    for (int i = 0; i < 3; i++) {
        char id[16], fuid[16];
        snprintf(id, sizeof(id), "ph%d", i);
        snprintf(fuid, sizeof(fuid), "u-ph%d", i);
        add_file(&w, id, j[i], n[i]);
        report(&w, 8300 + i, "en", NULL, id, fuid);
    }
    settle(&w, 30000);
    for (int i = 0; i < 3; i++) /* the bot's hash is the one the seeds were made from */
        assert_int_equal(count(&w,
                               "SELECT count(*) FROM media WHERE tg_file_unique_id = "
                               "'u-ph%d' AND phash = %lld",
                               i, (long long)h[i]),
                         1);
    *answers = -1;
    if (nr) {
        daemon_near_info(nr, &info);
        *answers = info.answers;
        assert_int_equal(info.hashes, 5); /* Q is not in memory: it was found in SQL */
    }
    /* the backends' counts are flushed as they exit */
    tb_stop();
    long long seen = 0;
    for (int t = 0; t < 300 && seen < 3; t++) {
        seen = count(&w, "SELECT COALESCE(sum(calls), 0) FROM pg_stat_user_functions "
                         "WHERE funcname = 'media_near_seen'");
        if (seen < 3)
            (void)tl_sleep_ms(10, NULL);
    }
    assert_true(seen >= 3);
    *media_near_calls = count(&w, "SELECT COALESCE(sum(calls), 0) FROM pg_stat_user_functions "
                                  "WHERE funcname = 'media_near'");
    char *links = scalar(&w, "SELECT string_agg(m.tg_file_unique_id || '>' || o.tg_file_unique_id,"
                             " ',' ORDER BY m.tg_file_unique_id || '>' || o.tg_file_unique_id "
                             "COLLATE \"C\") FROM media_links l JOIN media m ON m.id = l.media_id "
                             "JOIN media o ON o.id = l.near_media_id");
    for (int i = 0; i < 3; i++) {
        free(j[i]);
        pg_image_release(&im[i]);
    }
    world_close(&w);
    return links;
}

/* A photo stored through the worker with the index in memory links to the same earlier
 * photos as with the database searching alone: those the index's snapshot saw, those
 * stored after it (found by the rows the snapshot does not see), not one purged since
 * the index took it (its candidate rechecked), not one 12 bits off. */
static void test_dedup_memory_index_agrees(void **state)
{
    (void)state;
    long long with_index, without, sql_a, sql_b;
    char *a = near_world("mem", 3600000, &with_index, &sql_a);
    char *b = near_world("sql", 0, &without, &sql_b);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, NEAR_LINKS);
    assert_string_equal(b, NEAR_LINKS);
    assert_int_equal(with_index, 3); /* each photo's search answered in memory ... */
    assert_int_equal(sql_a, 0);      /* ... and used: the database did not search */
    assert_int_equal(without, -1);
    assert_true(sql_b >= 3);
    free(a);
    free(b);
}

struct near_racer {
    const char *ci, *snapshot;
    long long hash;
    atomic_int done;
    int rc;
};

/* Stores one report with a photo of hash x->hash through the store path, with an empty
 * answer from an index whose snapshot is x->snapshot. */
static void *near_race_store(void *arg)
{
    struct near_racer *x = arg;
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    struct store_near_hash nh = {.hash = x->hash};
    struct store_near nx = {.snapshot = x->snapshot, .h = &nh, .n = 1};
    struct store_media_new m = {.kind = "photo",
                                .tg_file_id = "race-w",
                                .tg_file_unique_id = "race-w",
                                .mime = "image/jpeg",
                                .bytes = (const unsigned char *)"w",
                                .len = 1,
                                .has_phash = 1,
                                .phash = (uint64_t)x->hash};
    struct store_report_new r = {.public_ref = "RACE-W",
                                 .reporter = "racer",
                                 .text = "racing",
                                 .priority = 10,
                                 .media = &m,
                                 .n_media = 1,
                                 .dedup = {.on = 1, .max_distance = 8, .seen_before_s = 86400},
                                 .near = &nx};
    struct store_effects fx = {.pseudonym = "racer", .set_blocked = -1, .report = &r};
    x->rc = store_open(x->ci, &s, &ei);
    if (x->rc == TL_OK)
        x->rc = store_apply(s, &fx, NULL, &ei);
    store_free(s);
    atomic_store(&x->done, 1);
    return NULL;
}

/* Two near-duplicates stored at the same moment, the index in memory knowing neither:
 * one transaction holds its photo (and the near-duplicate locks the store path takes)
 * uncommitted; the store of the other waits on a lock and, once the first commits,
 * finds it among the rows the index's snapshot does not see, and links to it. */
static void test_dedup_near_race_memory(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_dedup_race");
    assert_non_null(ci);
    const long long h = 0x1234567890abcdefLL;
    char *snap = ts_db_scalar(ci, "SELECT pg_current_snapshot()::text");
    PGconn *c1 = PQconnectdb(ci);
    PGresult *res = PQexec(c1, "BEGIN");
    PQclear(res);
    /* the first photo, 3 bits off, its locks taken as the store path takes them */
    char *sql = tl_asprintf(
        "SELECT pg_advisory_xact_lock(230023, k) FROM media_lock_keys(%lld, 8) k ORDER BY k;"
        "INSERT INTO reporters (pseudonym) VALUES ('first');"
        "WITH r AS (INSERT INTO reports (public_ref, reporter, text) VALUES ('RACE-F', "
        "'first', 'x') RETURNING id) INSERT INTO media (report_id, kind, sha256, "
        "tg_file_unique_id, mime, size, phash) SELECT r.id, 'photo', encode(sha256('f'), 'hex'), "
        "'race-f', 'image/jpeg', 1, %lld FROM r",
        h ^ 0x10204LL, h ^ 0x10204LL);
    res = PQexec(c1, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        print_message("%s\n", PQresultErrorMessage(res));
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    free(sql);
    struct near_racer x = {.ci = ci, .snapshot = snap, .hash = h};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, near_race_store, &x), 0);
    (void)tl_sleep_ms(300, NULL);
    assert_int_equal(atomic_load(&x.done), 0); /* held on a lock */
    res = PQexec(c1, "COMMIT");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(c1);
    pthread_join(t, NULL);
    assert_int_equal(x.rc, TL_OK);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM media_links l JOIN media m ON m.id = "
                                     "l.media_id JOIN media o ON o.id = l.near_media_id WHERE "
                                     "m.tg_file_unique_id = 'race-w' AND o.tg_file_unique_id = "
                                     "'race-f' AND l.distance = 3"),
                     1);
    free(snap);
    ts_db_drop("t_dedup_race");
    free(ci);
}

/* The in-memory index gives back the room its grown buckets leave: 200,000 photos stored
 * after it loaded (empty) grow its buckets past its loaded size, so the refresh that
 * reads them loads a compact index, with every hash, and searches find them. */
static void test_dedup_near_index_reclaims(void **state)
{
    (void)state;
    char *ci = ts_db_create("t_dedup_reclaim");
    assert_non_null(ci);
    struct daemon_near *nr = NULL;
    assert_int_equal(daemon_near_start(ci, 20, &nr), TL_OK);
    struct daemon_near_info info = {0};
    for (int t = 0; t < 1000 && !info.loaded; t++) {
        daemon_near_info(nr, &info);
        if (!info.loaded)
            (void)tl_sleep_ms(10, NULL);
    }
    assert_true(info.loaded);
    assert_int_equal(info.hashes, 0);
    free(ts_db_scalar(ci, "INSERT INTO reporters (pseudonym) VALUES ('rc') RETURNING 1"));
    free(ts_db_scalar(ci, "INSERT INTO reports (public_ref, reporter, text) "
                          "VALUES ('RC-1', 'rc', 'x') RETURNING 1"));
    free(ts_db_scalar(ci, "INSERT INTO media (report_id, kind, sha256, mime, size, phash) "
                          "SELECT (SELECT id FROM reports), 'photo', "
                          "encode(sha256(g::text::bytea), 'hex'), 'image/jpeg', 1, "
                          "hashtextextended('reclaim' || g, 0) "
                          "FROM generate_series(1, 200000) g RETURNING 1"));
    for (int t = 0; t < 6000 && (info.hashes < 200000 || !info.reloads); t++) {
        (void)tl_sleep_ms(10, NULL);
        daemon_near_info(nr, &info);
    }
    print_message("near index: %zu hashes, %zu bytes, %zu spare, %lld reloads\n", info.hashes,
                  info.bytes, info.spare_bytes, info.reloads);
    assert_int_equal(info.hashes, 200000);
    assert_int_equal(info.reloads, 1);
    assert_int_equal(info.spare_bytes, 0);
    /* every hash is found */
    long long h[3];
    for (int i = 0; i < 3; i++) {
        char *v = ts_db_scalarf(ci, "SELECT hashtextextended('reclaim' || %d, 0)", 1 + i * 99999);
        assert_non_null(v);
        h[i] = strtoll(v, NULL, 10);
        free(v);
    }
    struct daemon_near_result r;
    assert_int_equal(daemon_near_search(nr, h, 3, 0, &r), TL_OK);
    assert_non_null(r.nx.snapshot);
    assert_int_equal(r.nx.n, 3);
    for (size_t i = 0; i < r.nx.n; i++) /* each its own photo (the hashes are far apart) */
        assert_int_equal(r.nx.h[i].n_ids, 1);
    daemon_near_result_release(&r);
    daemon_near_free(nr);
    ts_db_drop("t_dedup_reclaim");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_dedup_fold_same_text_and_photo, tb_teardown),
        cmocka_unit_test_teardown(test_dedup_seen_before, tb_teardown),
        cmocka_unit_test(test_dedup_near_exact),
        cmocka_unit_test_teardown(test_dedup_memory_index_agrees, tb_teardown),
        cmocka_unit_test(test_dedup_near_race_memory),
        cmocka_unit_test(test_dedup_near_index_reclaims),
        cmocka_unit_test_teardown(test_dedup_variants_link_to_originals, tb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
