/* tests/test_handlers.c - handlers/: pseudonyms, references, catalogs, and what each kind
 * of update decides (rows and replies), on plain data: no I/O. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "geo/geo.h"
#include "bot/tg.h"
#include "handlers/hdl.h"
#include "media/media.h"
#include "fakebot/photos.h"
#include "support/testsupport.h"

static const unsigned char SECRET[] = "0123456789abcdef0123456789abcdef";
static struct hdl_ctx CTX = {.secret = SECRET, .secret_len = 32, .max_photo_bytes = 1 << 20};

/* The shipped area of interest (Ukraine and surroundings), no gazetteer. */
static int setup_geo(void **state)
{
    char *area = tl_asprintf("%s/deploy/area_ukraine.geojson", getenv("TL_SOURCE_DIR"));
    struct geo_ctx *g = NULL;
    int rc = geo_ctx_new(area, NULL, &g, NULL);
    free(area);
    CTX.geo = g;
    return rc;
}

static int teardown_geo(void **state)
{
    geo_ctx_free((struct geo_ctx *)CTX.geo);
    CTX.geo = NULL;
    return 0;
}

static void parse(const char *json, struct tg_update *u)
{
    assert_int_equal(tg_update_parse(json, strlen(json), u), TL_OK);
}

/* The value of key in the params JSON of outbox entry i. */
static char *param(const struct hdl_plan *p, size_t i, const char *key)
{
    assert_true(i < p->n_out);
    struct json_object *o = json_tokener_parse(p->out[i].params_json), *v;
    assert_non_null(o);
    char *s = NULL;
    if (json_object_object_get_ex(o, key, &v))
        s = tl_strdup(json_object_get_string(v));
    json_object_put(o);
    return s;
}

#define PRIVATE_MSG(body)                                                                          \
    "{\"update_id\":10,\"message\":{\"message_id\":5,\"date\":1700000000,\"chat\":{\"id\":4242,"   \
    "\"type\":\"private\"},\"from\":{\"id\":4242,\"is_bot\":false,\"first_name\":\"A\","           \
    "\"language_code\":\"en\"}," body "}}"

static void test_handlers_pseudonym_keyed(void **state)
{
    char a[65], b[65], c[65];
    assert_int_equal(hdl_pseudonym(SECRET, 32, 4242, a), TL_OK);
    assert_int_equal(hdl_pseudonym(SECRET, 32, 4242, b), TL_OK);
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 64);
    assert_null(strstr(a, "4242"));
    const unsigned char other[] = "fedcba9876543210fedcba9876543210";
    assert_int_equal(hdl_pseudonym(other, 32, 4242, c), TL_OK);
    assert_string_not_equal(a, c);
    assert_int_equal(hdl_pseudonym(SECRET, 8, 4242, c), TL_EINVAL); /* short key refused */
    /* the value `printf 42 | openssl dgst -sha256 -hmac 0123456789abcdef` prints */
    assert_int_equal(hdl_pseudonym((const unsigned char *)"0123456789abcdef", 16, 42, c), TL_OK);
    assert_string_equal(c, "8d24a2a526d5f556469db8b6280e3a7b877a41155ca536be3a1f2a9d2be0eacd");
}

static void test_handlers_ref_format(void **state)
{
    char r1[16], r2[16];
    assert_int_equal(hdl_new_ref(r1), TL_OK);
    assert_int_equal(hdl_new_ref(r2), TL_OK);
    assert_int_equal(strlen(r1), 9);
    assert_memory_equal(r1, "TL-", 3);
    for (int i = 3; i < 9; i++)
        assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r1[i]));
    assert_string_not_equal(r1, r2);
}

static void test_handlers_catalogs_complete(void **state)
{
    struct tl_errinfo ei;
    assert_int_equal(hdl_i18n_check(&ei), TL_OK);
    char *t = hdl_text("en", "received", "ref", "TL-ABC123", (char *)NULL);
    assert_non_null(strstr(t, "TL-ABC123"));
    assert_null(strstr(t, "{ref}"));
    free(t);
    t = hdl_text("uk", "received", "ref", "TL-ABC123", (char *)NULL);
    assert_non_null(strstr(t, "Повідомлення отримано"));
    free(t);
    t = hdl_text("xx", "no_such_key", (char *)NULL);
    assert_string_equal(t, "no_such_key");
    free(t);
    assert_string_equal(hdl_lang_pick("en-GB"), "en");
    assert_string_equal(hdl_lang_pick("uk"), "uk");
    assert_string_equal(hdl_lang_pick(NULL), "uk");
    assert_string_equal(hdl_lang_pick("ru"), "uk");
}

/* A message decided with no draft (it starts a quick draft), then its "Send now"
 * button pressed: msg holds the draft and its photo, sent the report. */
struct two {
    struct hdl_plan msg, sent;
    struct tg_update cb;
};

static void decide_sent(struct tg_update *u, const struct hdl_file *f, struct two *t)
{
    assert_int_equal(hdl_decide(&CTX, NULL, u, f, &t->msg), TL_OK);
    assert_int_equal(t->msg.cx.draft_op, STORE_DRAFT_PUT);
    assert_true(t->msg.draft.id == u->update_id);
    char *json = tl_asprintf(
        "{\"update_id\":%lld,\"callback_query\":{\"id\":\"q1\",\"from\":{\"id\":4242,"
        "\"is_bot\":false,\"first_name\":\"A\",\"language_code\":\"en\"},\"chat_instance\":"
        "\"1\",\"data\":\"%lld:send\",\"message\":{\"message_id\":6,\"date\":1,\"chat\":{"
        "\"id\":4242,\"type\":\"private\"}}}}",
        u->update_id + 1, u->update_id);
    parse(json, &t->cb);
    free(json);
    struct hdl_conv cv = {.draft = &t->msg.draft, .now = 1700000100};
    assert_int_equal(hdl_decide(&CTX, &cv, &t->cb, NULL, &t->sent), TL_OK);
    assert_int_equal(t->sent.cx.draft_op, STORE_DRAFT_DELETE);
    assert_true(t->sent.cx.draft_id == u->update_id);
}

static void two_release(struct two *t)
{
    hdl_plan_release(&t->msg);
    hdl_plan_release(&t->sent);
    tg_update_release(&t->cb);
}

static void test_handlers_text_becomes_report(void **state)
{
    struct tg_update u;
    struct two t;
    parse(PRIVATE_MSG("\"text\":\"Tanks near the bridge\""), &u);
    assert_null(hdl_wanted_file(&CTX, &u));
    decide_sent(&u, NULL, &t);
    char pseud[65];
    assert_int_equal(hdl_pseudonym(SECRET, 32, 4242, pseud), TL_OK);
    /* the message: a draft, and the status saying what is missing, with Send now */
    assert_int_equal(t.msg.fx.update_id, 10);
    assert_true(t.msg.fx.chat_id == 4242);
    assert_string_equal(t.msg.fx.pseudonym, pseud);
    assert_string_equal(t.msg.fx.lang, "en");
    assert_null(t.msg.fx.report);
    assert_true(t.msg.cx.user_msg_id == 5);
    assert_int_equal(t.msg.n_out, 1);
    assert_string_equal(t.msg.out[0].method, "sendMessage");
    assert_int_equal(t.msg.out[0].prompt, 1);
    char *text = param(&t.msg, 0, "text");
    assert_non_null(strstr(text, "Still missing"));
    free(text);
    assert_non_null(strstr(t.msg.out[0].params_json, "\"callback_data\":\"10:send\""));
    /* Send now: the report, and the keyboard message edited into the reference */
    const struct store_report_new *r = t.sent.fx.report;
    assert_non_null(r);
    assert_string_equal(r->text, "Tanks near the bridge");
    assert_string_equal(r->reporter, pseud);
    assert_int_equal(r->has_point, 0);
    assert_int_equal(t.sent.n_out, 2);
    assert_string_equal(t.sent.out[0].method, "answerCallbackQuery");
    assert_string_equal(t.sent.out[1].method, "editMessageText");
    text = param(&t.sent, 1, "text");
    assert_non_null(strstr(text, r->public_ref));
    assert_non_null(strstr(text, "Report sent"));
    free(text);
    /* a redrawn reference reaches the acknowledgement and the Clear button too */
    char old[16];
    tl_strlcpy(old, t.sent.ref, sizeof(old));
    assert_int_equal(hdl_plan_reref(&t.sent), TL_OK);
    assert_null(strstr(t.sent.out[1].params_json, old));
    assert_non_null(strstr(t.sent.out[1].params_json, t.sent.ref));
    two_release(&t);
    tg_update_release(&u);
}

static void test_handlers_location_sources(void **state)
{
    static const struct {
        const char *body;
        const char *source;
        double acc;
    } cases[] = {
        {"\"location\":{\"latitude\":49.2083,\"longitude\":37.2486,\"horizontal_accuracy\":25}",
         "telegram_location", 25},
        {"\"location\":{\"latitude\":49.2083,\"longitude\":37.2486,\"live_period\":900,"
         "\"heading\":90}",
         "live_location", 0},
        {"\"venue\":{\"location\":{\"latitude\":49.2083,\"longitude\":37.2486},\"title\":\"St\","
         "\"address\":\"X\"},\"location\":{\"latitude\":49.2083,\"longitude\":37.2486}",
         "venue", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_update u;
        struct two t;
        char *json = tl_asprintf(PRIVATE_MSG("%s"), cases[i].body);
        parse(json, &u);
        decide_sent(&u, NULL, &t);
        const struct store_report_new *r = t.sent.fx.report;
        assert_non_null(r);
        assert_int_equal(r->has_point, 1);
        assert_true(r->lat == 49.2083 && r->lon == 37.2486);
        assert_string_equal(r->point_source, cases[i].source);
        assert_true(r->accuracy_m == cases[i].acc);
        if (i == 1) {
            assert_int_equal(r->has_bearing, 1);
            assert_true(r->bearing == 90);
            assert_true(t.msg.draft.live_msg_id == 5);
        }
        /* the place is there; a photo and words are asked for */
        char *text = param(&t.msg, 0, "text");
        assert_non_null(strstr(text, "📍 place"));
        assert_non_null(strstr(text, "a photo"));
        free(text);
        two_release(&t);
        tg_update_release(&u);
        free(json);
    }
}

/* A clean JPEG, as Telegram serves a photo sent as a photo. */
static unsigned char *clean_jpeg(uint32_t seed, size_t *len)
{
    unsigned char *rgb = fx_photo_rgb(160, 120, seed);
    unsigned char *j = fx_jpeg_encode(rgb, 160, 120, 85, len);
    free(rgb);
    return j;
}

static void test_handlers_photo_kept_with_file_ids(void **state)
{
    struct tg_update u;
    parse(PRIVATE_MSG("\"photo\":[{\"file_id\":\"small\",\"file_unique_id\":\"s1\",\"width\":90,"
                      "\"height\":60},{\"file_id\":\"big\",\"file_unique_id\":\"b1\",\"width\":"
                      "1280,\"height\":853}],\"caption\":\"smoke\""),
          &u);
    assert_string_equal(hdl_wanted_file(&CTX, &u), "big");
    size_t jlen;
    unsigned char *jpeg = clean_jpeg(7, &jlen);
    struct hdl_file f = {HDL_FILE_OK, jpeg, jlen};
    struct two t;
    decide_sent(&u, &f, &t);
    const struct store_report_new *r = t.sent.fx.report;
    assert_non_null(r);
    assert_string_equal(r->text, "smoke");
    /* the photo goes with the draft (storage moves it onto the report on Send) */
    const struct store_media_new *m = &t.msg.media;
    assert_int_equal(t.msg.cx.n_media, 1);
    assert_int_equal(t.msg.draft.n_media, 1);
    assert_string_equal(m->tg_file_id, "big");
    assert_string_equal(m->tg_file_unique_id, "b1");
    assert_string_equal(m->mime, "image/jpeg");
    assert_int_equal(m->width, 160);
    assert_int_equal(m->has_phash, 1);
    assert_int_equal(m->has_gps, 0);
    assert_int_equal(r->has_point, 0);
    /* the stored bytes are media/'s sanitized copy, not the buffer that came in */
    assert_true(m->bytes != jpeg);
    unsigned char *want = NULL;
    size_t want_len = 0;
    assert_int_equal(media_strip(jpeg, jlen, NULL, &want, &want_len, NULL, NULL), TL_OK);
    assert_int_equal(m->len, want_len);
    assert_memory_equal(m->bytes, want, want_len);
    free(want);
    two_release(&t);

    /* the download failed for good: the caption still becomes a report, flagged */
    f.state = HDL_FILE_FAILED;
    decide_sent(&u, &f, &t);
    assert_non_null(t.sent.fx.report);
    assert_int_equal(t.msg.cx.n_media, 0);
    assert_string_equal(t.sent.fx.report->flags, "photo_missing");
    two_release(&t);
    tg_update_release(&u);
    free(jpeg);
}

#define DOC_MSG(extra)                                                                             \
    PRIVATE_MSG("\"document\":{\"file_id\":\"d\",\"file_unique_id\":\"d1\",\"file_name\":"         \
                "\"IMG.JPG\",\"mime_type\":\"image/jpeg\",\"file_size\":1000}" extra)

/* A photo sent as a file: its GPS becomes the point, everything else is stripped, and
 * the stored bytes carry no position any more. */
static void test_handlers_file_stripped_gps_kept_as_fact(void **state)
{
    struct tg_update u;
    struct two t;
    parse(DOC_MSG(""), &u);
    assert_string_equal(hdl_wanted_file(&CTX, &u), "d");
    size_t clen, dlen;
    unsigned char *clean = clean_jpeg(9, &clen);
    struct fx_exif x = {.lat = 49.98765,
                        .lon = 36.23456,
                        .hpe_cm = 500,
                        .dto = "2026:11:20 14:05:09",
                        .offset = "+02:00",
                        .orientation = 1};
    unsigned char *dirty = fx_jpeg_dirty(clean, clen, &x, 1, &dlen);
    struct hdl_file f = {HDL_FILE_OK, dirty, dlen};
    decide_sent(&u, &f, &t);
    const struct store_report_new *r = t.sent.fx.report;
    const struct store_media_new *m = &t.msg.media;
    assert_non_null(r);
    assert_int_equal(r->has_point, 1);
    assert_string_equal(r->point_source, "photo_exif");
    assert_true(fabs(r->lat - 49.98765) < 1e-6 && fabs(r->lon - 36.23456) < 1e-6);
    assert_int_equal(t.msg.cx.n_media, 1);
    assert_int_equal(m->has_gps, 1);
    assert_true(fabs(m->gps_accuracy_m - 5) < 1e-9);
    assert_string_equal(m->taken_local, "2026-11-20T14:05:09");
    assert_int_equal(m->taken_offset_min, 120);
    assert_true(m->len < dlen);
    struct media_facts after;
    assert_int_equal(media_facts_read(m->bytes, m->len, NULL, &after, NULL), TL_OK);
    assert_int_equal(after.has_gps, 0);
    assert_int_equal(after.has_time, 0);
    assert_null(memmem(m->bytes, m->len, "Exif", 4));
    two_release(&t);
    tg_update_release(&u);

    /* shared location far from the photo's own: both kept, the report flagged */
    parse(DOC_MSG(",\"location\":{\"latitude\":50.45,\"longitude\":30.52}"), &u);
    decide_sent(&u, &f, &t);
    r = t.sent.fx.report;
    assert_string_equal(r->point_source, "telegram_location");
    assert_true(r->lat == 50.45);
    assert_int_equal(t.msg.media.has_gps, 1);
    assert_string_equal(r->flags, "location_disagrees");
    two_release(&t);
    tg_update_release(&u);
    free(clean);
    free(dirty);
}

static void test_handlers_file_refused_nothing_stored(void **state)
{
    /* a WebM header: recognised as video, refused (only MP4/MOV are remuxed), the reason
     * in the reply */
    static const unsigned char webm[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86,
                                         0x81, 0x01, 'w',  'e',  'b',  'm'};
    static const unsigned char junk[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x00};
    static const struct {
        const unsigned char *b;
        size_t n;
        const char *why;
    } cases[] = {{webm, sizeof(webm), "only MP4 and MOV"}, {junk, sizeof(junk), "damaged"}};
    for (size_t i = 0; i < 2; i++) {
        struct tg_update u;
        struct hdl_plan p;
        parse(DOC_MSG(""), &u);
        struct hdl_file f = {HDL_FILE_OK, cases[i].b, cases[i].n};
        assert_int_equal(hdl_decide(&CTX, NULL, &u, &f, &p), TL_OK);
        assert_null(p.fx.report);
        assert_null(p.media_bytes);
        assert_int_equal(p.cx.n_media, 0);
        assert_int_equal(p.cx.draft_op, STORE_DRAFT_KEEP); /* no draft from a refused file */
        assert_int_equal(p.n_out, 1);
        char *text = param(&p, 0, "text");
        assert_non_null(strstr(text, "as a photo"));
        assert_non_null(strstr(text, cases[i].why));
        free(text);
        hdl_plan_release(&p);
        tg_update_release(&u);
    }
    /* Telegram says the file is over the limit: not fetched, the reporter is told */
    struct tg_update u;
    struct hdl_plan p;
    parse(PRIVATE_MSG("\"document\":{\"file_id\":\"d\",\"file_unique_id\":\"d1\","
                      "\"file_size\":99999999}"),
          &u);
    assert_null(hdl_wanted_file(&CTX, &u));
    assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
    assert_null(p.fx.report);
    char *text = param(&p, 0, "text");
    assert_non_null(strstr(text, "too large"));
    free(text);
    hdl_plan_release(&p);
    tg_update_release(&u);
    /* a video over the limit: the same, the limit said in MB */
    parse(PRIVATE_MSG("\"video\":{\"file_id\":\"v\",\"file_unique_id\":\"v1\","
                      "\"width\":1920,\"height\":1080,\"duration\":95,\"file_size\":99999999}"),
          &u);
    assert_null(hdl_wanted_file(&CTX, &u));
    assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
    assert_null(p.fx.report);
    text = param(&p, 0, "text");
    char *mb = tl_asprintf("at most %zu MB", CTX.max_photo_bytes >> 20);
    if (!strstr(text, "This video could not be accepted") || !strstr(text, mb))
        fail_msg("video refusal: %s", text);
    free(mb);
    free(text);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

/* Words give the place when nothing better was shared; the area of interest flags the
 * rest; a direction of movement becomes the bearing. */
/* A caption naming a village that several share: the photo's GPS picks the one near
 * it; without GPS the report is flagged place_ambiguous. */
static void test_handlers_homonym_by_photo_gps(void **state)
{
    (void)state;
    static const char tsv[] = "Lyman\t48.98616\t37.80307\t28200\t05\tUA\n"
                              "Lyman\t49.59769\t36.47030\t4008\t07\tUA\n";
    char path[] = "/tmp/tipline-hdl-gaz-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, tsv, sizeof tsv - 1), (ssize_t)(sizeof tsv - 1));
    close(fd);
    const struct geo_ctx *saved = CTX.geo;
    struct geo_ctx *g = NULL;
    assert_int_equal(geo_ctx_new(NULL, path, &g, NULL), TL_OK);
    CTX.geo = g;
    size_t clen, dlen;
    unsigned char *clean = clean_jpeg(11, &clen);
    struct fx_exif x = {.lat = 49.598,
                        .lon = 36.471,
                        .hpe_cm = 500,
                        .dto = "2026:11:20 14:05:09",
                        .offset = "+02:00",
                        .orientation = 1};
    unsigned char *dirty = fx_jpeg_dirty(clean, clen, &x, 1, &dlen);
    struct hdl_file f = {HDL_FILE_OK, dirty, dlen};
    struct tg_update u;
    struct two t;
    parse(DOC_MSG(",\"caption\":\"вибух у Лимані\""), &u);
    decide_sent(&u, &f, &t);
    const struct store_report_new *r = t.sent.fx.report;
    assert_non_null(r);
    assert_string_equal(r->point_source, "text");
    assert_true(fabs(r->lat - 49.59769) < 1e-6 && fabs(r->lon - 36.47030) < 1e-6);
    assert_null(r->place_candidates);
    if (r->flags)
        fail_msg("flags %s", r->flags);
    two_release(&t);
    tg_update_release(&u);
    parse(PRIVATE_MSG("\"text\":\"вибух у Лимані\""), &u);
    decide_sent(&u, NULL, &t);
    r = t.sent.fx.report;
    assert_non_null(r);
    assert_true(fabs(r->lat - 48.98616) < 1e-6); /* the most populous, flagged */
    assert_string_equal(r->flags, "place_ambiguous");
    /* every candidate goes with the report, for the analyst to pick from */
    assert_non_null(r->place_candidates);
    struct json_object *pc = json_tokener_parse(r->place_candidates);
    assert_non_null(pc);
    assert_int_equal(json_object_array_length(pc), 2);
    struct json_object *c1 = json_object_array_get_idx(pc, 1), *v;
    assert_true(json_object_object_get_ex(c1, "oblast", &v));
    assert_string_equal(json_object_get_string(v), "Kharkiv Oblast");
    assert_true(json_object_object_get_ex(c1, "lat", &v));
    assert_true(fabs(json_object_get_double(v) - 49.59769) < 1e-6);
    json_object_put(pc);
    two_release(&t);
    tg_update_release(&u);
    free(clean);
    free(dirty);
    CTX.geo = saved;
    geo_ctx_free(g);
    unlink(path);
}

static void test_handlers_place_from_text(void **state)
{
    static const struct {
        const char *text;
        int has_point;
        double lat, lon;
        int has_bearing;
        double bearing;
        const char *flags;
    } cases[] = {
        {"Колона техніки 49.2083, 37.2486 рухається на північ", 1, 49.2083, 37.2486, 1, 0, NULL},
        {"two tanks at 37U DQ 12345 67890 heading NE", 1, -1, -1, 1, 45, NULL},
        {"drone seen over 48.8566, 2.3522", 0, 0, 0, 0, 0, "outside_area"},
        {"just words, no place", 0, 0, 0, 0, 0, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tg_update u;
        struct two tw;
        struct json_object *t = json_object_new_string(cases[i].text);
        char *json = tl_asprintf(PRIVATE_MSG("\"text\":%s"), json_object_to_json_string(t));
        json_object_put(t);
        parse(json, &u);
        decide_sent(&u, NULL, &tw);
        const struct store_report_new *r = tw.sent.fx.report;
        assert_non_null(r);
        assert_int_equal(r->has_point, cases[i].has_point);
        if (r->has_point) {
            assert_string_equal(r->point_source, "text");
            assert_true(r->accuracy_m > 0);
            if (cases[i].lat >= 0)
                assert_true(fabs(r->lat - cases[i].lat) < 1e-9 &&
                            fabs(r->lon - cases[i].lon) < 1e-9);
        }
        assert_int_equal(r->has_bearing, cases[i].has_bearing);
        if (r->has_bearing)
            assert_true(fabs(r->bearing - cases[i].bearing) < 1e-9);
        if (cases[i].flags)
            assert_string_equal(r->flags, cases[i].flags);
        else
            assert_null(r->flags);
        two_release(&tw);
        tg_update_release(&u);
        free(json);
    }
    /* a (0,0) "fix" is no point at all, and flagged (the parser already drops
     * out-of-range ones) */
    {
        struct tg_update bad;
        struct hdl_plan bp;
        struct two tw;
        parse(PRIVATE_MSG("\"location\":{\"latitude\":0,\"longitude\":0}"), &bad);
        assert_int_equal(hdl_decide(&CTX, NULL, &bad, NULL, &bp), TL_OK);
        assert_null(bp.fx.report);
        assert_int_equal(bp.cx.draft_op, STORE_DRAFT_KEEP);
        char *text = param(&bp, 0, "text");
        assert_non_null(strstr(text, "could not be read"));
        free(text);
        hdl_plan_release(&bp);
        tg_update_release(&bad);
        /* with words beside it, the words make the report and the point is flagged */
        parse(PRIVATE_MSG("\"location\":{\"latitude\":0,\"longitude\":0},"
                          "\"caption\":\"smoke over the depot\""),
              &bad);
        decide_sent(&bad, NULL, &tw);
        assert_non_null(tw.sent.fx.report);
        assert_int_equal(tw.sent.fx.report->has_point, 0);
        assert_string_equal(tw.sent.fx.report->flags, "point_invalid");
        two_release(&tw);
        tg_update_release(&bad);
    }
    /* a shared location outside the area is kept, and flagged */
    struct tg_update u;
    struct two tw;
    parse(PRIVATE_MSG("\"location\":{\"latitude\":48.8566,\"longitude\":2.3522}"), &u);
    decide_sent(&u, NULL, &tw);
    assert_int_equal(tw.sent.fx.report->has_point, 1);
    assert_string_equal(tw.sent.fx.report->flags, "outside_area");
    two_release(&tw);
    tg_update_release(&u);
}

static void test_handlers_commands(void **state)
{
    struct tg_update u;
    struct hdl_plan p;
    parse(PRIVATE_MSG("\"text\":\"/privacy\",\"entities\":[{\"type\":\"bot_command\",\"offset\":"
                      "0,\"length\":8}]"),
          &u);
    assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
    assert_null(p.fx.report);
    char *text = param(&p, 0, "text");
    char *want = hdl_text("en", "privacy", (char *)NULL);
    assert_string_equal(text, want);
    free(text);
    free(want);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

static void test_handlers_group_chat(void **state)
{
    struct tg_update u;
    struct hdl_plan p;
    const char *cmd = "{\"update_id\":11,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":"
                      "-1001,\"type\":\"supergroup\"},\"from\":{\"id\":7,\"is_bot\":false,"
                      "\"first_name\":\"B\"},\"text\":\"/start@tipline_bot\",\"entities\":[{"
                      "\"type\":\"bot_command\",\"offset\":0,\"length\":18}]}}";
    parse(cmd, &u);
    assert_null(hdl_wanted_file(&CTX, &u));
    assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
    assert_null(p.fx.report);
    assert_true(p.fx.chat_id == 0);   /* a group is no reporter's reply path */
    assert_int_equal(p.cx.notice, 1); /* told once: recorded */
    assert_true(p.cx.chat_id == -1001);
    assert_int_equal(p.n_out, 1);
    assert_true(p.out[0].chat_id == -1001);
    char *text = param(&p, 0, "text");
    char *want = hdl_text("uk", "private_only", (char *)NULL); /* no language_code: uk */
    assert_string_equal(text, want);
    free(want);
    free(text);
    hdl_plan_release(&p);
    tg_update_release(&u);

    const char *chatter = "{\"update_id\":12,\"message\":{\"message_id\":2,\"date\":1,\"chat\":{"
                          "\"id\":-1001,\"type\":\"group\"},\"from\":{\"id\":7,\"is_bot\":false,"
                          "\"first_name\":\"B\"},\"text\":\"hello all\"}}";
    parse(chatter, &u);
    struct hdl_conv told = {.notice_sent = 1};
    assert_int_equal(hdl_decide(&CTX, &told, &u, NULL, &p), TL_OK);
    assert_null(p.fx.report);
    assert_int_equal(p.n_out, 0); /* only once per chat */
    assert_int_equal(p.cx.draft_op, STORE_DRAFT_KEEP);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

static void test_handlers_callback_answered(void **state)
{
    struct tg_update u;
    struct hdl_plan p;
    parse("{\"update_id\":13,\"callback_query\":{\"id\":\"cbq-77\",\"from\":{\"id\":4242,"
          "\"is_bot\":false,\"first_name\":\"A\"},\"chat_instance\":\"1\",\"data\":\"x\","
          "\"message\":{\"message_id\":9,\"date\":1,\"chat\":{\"id\":4242,\"type\":\"private\"}}}}",
          &u);
    assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
    assert_int_equal(p.n_out, 1);
    assert_string_equal(p.out[0].method, "answerCallbackQuery");
    char *id = param(&p, 0, "callback_query_id");
    assert_string_equal(id, "cbq-77");
    free(id);
    char *text = param(&p, 0, "text"); /* not ours: a polite word, nothing else */
    char *want = hdl_text("uk", "stale_button", (char *)NULL);
    assert_string_equal(text, want);
    free(text);
    free(want);
    hdl_plan_release(&p);
    tg_update_release(&u);
}

static void test_handlers_block_recorded(void **state)
{
    static const struct {
        const char *status;
        int blocked;
    } cases[] = {{"kicked", 1}, {"member", 0}, {"administrator", -1}};
    for (size_t i = 0; i < 3; i++) {
        struct tg_update u;
        struct hdl_plan p;
        char *json = tl_asprintf(
            "{\"update_id\":14,\"my_chat_member\":{\"chat\":{\"id\":4242,\"type\":\"private\"},"
            "\"from\":{\"id\":4242,\"is_bot\":false,\"first_name\":\"A\"},\"date\":1,"
            "\"old_chat_member\":{\"user\":{\"id\":1,\"is_bot\":true,\"first_name\":\"bot\"},"
            "\"status\":\"member\"},\"new_chat_member\":{\"user\":{\"id\":1,\"is_bot\":true,"
            "\"first_name\":\"bot\"},\"status\":\"%s\"}}}",
            cases[i].status);
        parse(json, &u);
        assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
        assert_int_equal(p.fx.set_blocked, cases[i].blocked);
        assert_true(p.fx.chat_id == 4242);
        assert_null(p.fx.report);
        assert_int_equal(p.n_out, 0);
        hdl_plan_release(&p);
        tg_update_release(&u);
        free(json);
    }
}

/* The real payloads in ../shared/telegram decide as their kind says. */
static void test_handlers_shared_payloads(void **state)
{
    static const struct {
        const char *file;
        int draft;
        size_t replies;
    } cases[] = {
        {"telegram/01b_update_text_plain.json", 1, 1},
        {"telegram/01c_update_start_command.json", 0, 1},
        {"telegram/08_update_my_chat_member_kicked.json", 0, 0},
        {"telegram/06_update_callback_query.json", 0, 1},
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = ts_shared_path(cases[i].file);
        if (!path)
            continue;
        size_t len;
        char *json = ts_read_file(path, &len);
        struct tg_update u;
        struct hdl_plan p;
        assert_int_equal(tg_update_parse(json, len, &u), TL_OK);
        assert_int_equal(hdl_decide(&CTX, NULL, &u, NULL, &p), TL_OK);
        assert_null(p.fx.report); /* nothing is a report before the citizen sends it */
        assert_int_equal(p.cx.draft_op == STORE_DRAFT_PUT, cases[i].draft);
        assert_int_equal(p.n_out, cases[i].replies);
        hdl_plan_release(&p);
        tg_update_release(&u);
        free(json);
        free(path);
        ran++;
    }
    if (!ran)
        skip(); /* no ../shared here: the inline fixtures above cover each kind */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handlers_pseudonym_keyed),
        cmocka_unit_test(test_handlers_ref_format),
        cmocka_unit_test(test_handlers_catalogs_complete),
        cmocka_unit_test(test_handlers_text_becomes_report),
        cmocka_unit_test(test_handlers_location_sources),
        cmocka_unit_test(test_handlers_photo_kept_with_file_ids),
        cmocka_unit_test(test_handlers_file_stripped_gps_kept_as_fact),
        cmocka_unit_test(test_handlers_file_refused_nothing_stored),
        cmocka_unit_test(test_handlers_place_from_text),
        cmocka_unit_test(test_handlers_homonym_by_photo_gps),
        cmocka_unit_test(test_handlers_commands),
        cmocka_unit_test(test_handlers_group_chat),
        cmocka_unit_test(test_handlers_callback_answered),
        cmocka_unit_test(test_handlers_block_recorded),
        cmocka_unit_test(test_handlers_shared_payloads),
    };
    return cmocka_run_group_tests(tests, setup_geo, teardown_geo);
}
