/* tests/browser/seed.c - the browser test's data: reports written the way the bot writes
 * them (store_apply, one transaction each), one with a photo (a JPEG made by
 * fakebot/photos.h) and a point, into a fresh database of the throwaway cluster.
 * When TL_BROWSER_VIDEO names an MP4 (run.sh makes one with ffmpeg), the photo report
 * also gets that video, cleaned by media_strip as the bot cleans it.
 *
 *   tl_browser_seed create DBNAME     makes DBNAME from the migrated template, seeds it and
 *                                     prints one JSON object: {"conninfo", "reports": [...]}
 *   tl_browser_seed add CONNINFO REF  adds one more report (a live arrival), prints its id
 *   tl_browser_seed fill CONNINFO N   adds N reports TL-FILL000... (pages), prints their ids
 *   tl_browser_seed incident CONNINFO three reporters 5 km around a point (49.0 N, 32.0 E)
 *                                     each with a drone's bearing towards it: one incident
 *                                     with a fused position; prints the incident's id
 *   tl_browser_seed mod CONNINFO   what moderation held: a flood campaign of three new
 *                                     reporters (TL-CAMP000..2) and two reports held alone
 *                                     (TL-HELD01, whose text hides a right-to-left override
 *                                     and carries links, and TL-HELD02); prints the
 *                                     campaign's id
 *   tl_browser_seed answer CONNINFO FOLLOWUP TEXT
 *                                     the reporter's reply to follow-up FOLLOWUP, attached as
 *                                     the bot's relay attaches it (store_apply)
 *
 * Exit status 0 on success; any failure prints why on stderr and exits 1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "media/media.h"
#include "storage/store.h"
#include "support/testsupport.h"
#include "fakebot/photos.h"
#include "common/banned.h"

#define PHOTO_W 640
#define PHOTO_H 480

struct seed {
    const char *ref, *category, *text, *source, *flags;
    int has_point;
    double lat, lon, accuracy_m;
    int priority;
    int photo;          /* 1: one photo with its own GPS */
    const char *places; /* place_candidates (JSON), NULL none */
    int has_bearing;
    double bearing;
};

/* What intake's text hygiene leaves beside a report's raw text. */
struct hygiene {
    const char *text_display; /* NULL: the text displays as it is */
    const char *const *links;
    size_t n_links;
};

/* Highest priority first is what "claim next" takes: the photo report. */
static const struct seed SEEDS[] = {
    {"TL-PHOTO1", "drones", "Shahed flying north-west low over the Dnipro, photo attached",
     "telegram_location", NULL, 1, 50.4501, 30.5234, 20, 90, 1, NULL, 0, 0},
    {"TL-ARMOR2", "equipment", "Two tanks and a truck on the highway towards the city", "text",
     "place_ambiguous", 1, 49.8397, 24.0297, 500, 50, 0,
     "[{\"name\":\"Lviv\",\"oblast\":\"Lviv Oblast\",\"country\":\"UA\",\"lat\":49.8397,"
     "\"lon\":24.0297,\"accuracy_m\":500},{\"name\":\"Lviv\",\"oblast\":\"Odesa Oblast\","
     "\"country\":\"UA\",\"lat\":46.3,\"lon\":30.1,\"accuracy_m\":2000}]",
     0, 0},
    {"TL-NOPT03", "drones", "Heard a drone, could not see where", NULL, NULL, 0, 0, 0, 0, 30, 0,
     NULL, 0, 0},
    {"TL-FAR004", "troops", "Column seen far away", "telegram_location", "outside_area", 1, 41.0082,
     28.9784, 0, 10, 0, NULL, 0, 0},
};

/* The video of TL_BROWSER_VIDEO, cleaned, as the report's second media; 0 when unset. */
static int add_video(struct store_media_new *m, unsigned char **owned)
{
    const char *path = getenv("TL_BROWSER_VIDEO");
    size_t len, out_len;
    struct media_facts f;
    struct tl_errinfo ei = {0};
    if (!path || !*path)
        return 0;
    unsigned char *in = (unsigned char *)ts_read_file(path, &len);
    if (!in || media_strip(in, len, NULL, owned, &out_len, &f, &ei) != TL_OK) {
        fprintf(stderr, "seed: video %s: %s\n", path, ei.msg);
        exit(1);
    }
    free(in);
    *m = (struct store_media_new){.kind = "video",
                                  .tg_file_id = "browser-test-video",
                                  .tg_file_unique_id = "browser-test-video-unique",
                                  .mime = "video/mp4",
                                  .bytes = *owned,
                                  .len = out_len,
                                  .width = f.width,
                                  .height = f.height};
    return 1;
}

static int apply_hyg(struct store *s, const struct seed *sd, const struct hygiene *hy,
                     const char *pseudonym, long long *id)
{
    struct tl_errinfo ei = {0};
    unsigned char *rgb = NULL, *jpeg = NULL, *video = NULL;
    size_t jlen = 0;
    struct store_media_new media[2] = {{0}};
    double now = (double)time(NULL);
    struct store_report_new rep = {
        .public_ref = sd->ref,
        .reporter = pseudonym,
        .category = sd->category,
        .text = sd->text,
        .has_point = sd->has_point,
        .lat = sd->lat,
        .lon = sd->lon,
        .point_source = sd->source,
        .accuracy_m = sd->accuracy_m,
        .observed_at = now - 300,
        .sent_at = now - 60,
        .priority = sd->priority,
        .flags = sd->flags,
        .place_candidates = sd->places,
        .has_bearing = sd->has_bearing,
        .bearing = sd->bearing,
        .text_display = hy ? hy->text_display : NULL,
        .links = hy ? hy->links : NULL,
        .n_links = hy ? hy->n_links : 0,
    };
    if (sd->photo) {
        rgb = fx_photo_rgb(PHOTO_W, PHOTO_H, 7);
        jpeg = fx_jpeg_encode(rgb, PHOTO_W, PHOTO_H, 85, &jlen);
        media[0] = (struct store_media_new){
            .kind = "photo",
            .tg_file_id = "browser-test-file",
            .tg_file_unique_id = "browser-test-unique",
            .mime = "image/jpeg",
            .bytes = jpeg,
            .len = jlen,
            .width = PHOTO_W,
            .height = PHOTO_H,
            .has_gps = 1,
            .gps_lat = sd->lat + 0.0049,
            .gps_lon = sd->lon + 0.0066,
            .gps_accuracy_m = 10,
            .taken_local = "2026-11-26T21:00:00",
            .has_taken_offset = 1,
            .taken_offset_min = 120,
        };
        rep.media = media;
        rep.n_media = 1 + (size_t)add_video(&media[1], &video);
    }
    struct store_effects fx = {.pseudonym = pseudonym, .set_blocked = -1, .report = &rep};
    int rc = store_apply(s, &fx, id, &ei);
    if (rc != TL_OK)
        fprintf(stderr, "seed: store_apply %s: %s: %s\n", sd->ref, tl_strerror(rc), ei.msg);
    free(rgb);
    free(jpeg);
    free(video);
    return rc;
}

static int apply_one(struct store *s, const struct seed *sd, const char *pseudonym, long long *id)
{
    return apply_hyg(s, sd, NULL, pseudonym, id);
}

static struct store *open_or_die(const char *ci)
{
    struct store *s = NULL;
    struct tl_errinfo ei = {0};
    if (store_open(ci, &s, &ei) != TL_OK) {
        fprintf(stderr, "seed: connect: %s\n", ei.msg);
        exit(1);
    }
    return s;
}

static int create(const char *dbname)
{
    char *ci = ts_db_create(dbname);
    if (!ci) {
        fprintf(stderr, "seed: no throwaway cluster (TL_PG_STATE unset): run under ctest's pg "
                        "fixture\n");
        return 1;
    }
    struct store *s = open_or_die(ci);
    int rc = 0;
    const char *video = getenv("TL_BROWSER_VIDEO");
    printf("{\"conninfo\": \"%s\", \"photo\": {\"width\": %d, \"height\": %d}, \"video\": %s, "
           "\"reports\": [",
           ci, PHOTO_W, PHOTO_H, video && *video ? "true" : "false");
    for (size_t i = 0; i < sizeof SEEDS / sizeof SEEDS[0]; i++) {
        const struct seed *sd = &SEEDS[i];
        long long id = 0;
        /* two reporters, so the history shows counts of more than one report */
        if (apply_one(s, sd, i % 2 ? "b7e0c3a9d2f14e6b" : "5a1c9e07f3b2d8aa", &id) != TL_OK) {
            rc = 1;
            break;
        }
        printf("%s{\"id\": %lld, \"ref\": \"%s\", \"priority\": %d, \"has_point\": %s, "
               "\"lat\": %.6f, \"lon\": %.6f, \"photo\": %s}",
               i ? ", " : "", id, sd->ref, sd->priority, sd->has_point ? "true" : "false", sd->lat,
               sd->lon, sd->photo ? "true" : "false");
    }
    printf("]}\n");
    store_free(s);
    free(ci);
    return rc;
}

/* One more report (a live arrival), or with n > 1 that many fillers with refs TL-FILLnnn
 * (pages of the list), each in its own transaction like the bot's. */
static int add(const char *ci, const char *ref, int n)
{
    struct store *s = open_or_die(ci);
    int rc = TL_OK;
    for (int i = 0; i < n && rc == TL_OK; i++) {
        char fill[32];
        snprintf(fill, sizeof fill, "TL-FILL%03d", i);
        struct seed sd = {.ref = n > 1 ? fill : ref,
                          .category = "other",
                          .text = "A new sighting, just now",
                          .source = "telegram_location",
                          .has_point = 1,
                          .lat = 50.0,
                          .lon = 36.23,
                          .accuracy_m = 50,
                          .priority = 20};
        long long id = 0;
        rc = apply_one(s, &sd, "c3d4e5f6a7b8c9d0", &id);
        if (rc == TL_OK)
            printf("%lld\n", id);
    }
    store_free(s);
    return rc == TL_OK ? 0 : 1;
}

/* Three reporters 5 km north, south-east and south-west of a point see one drone and give
 * its bearing (exact: the unit tests measure the error with noise). */
static int incident(const char *ci)
{
    static const double az[3] = {0, 120, 240};
    static const char *const who[3] = {"e1e1e1e1e1e1e1e1", "e2e2e2e2e2e2e2e2", "e3e3e3e3e3e3e3e3"};
    struct store *s = open_or_die(ci);
    int rc = TL_OK;
    for (int i = 0; i < 3 && rc == TL_OK; i++) {
        char ref[16];
        double a = az[i] * 3.14159265358979 / 180;
        snprintf(ref, sizeof ref, "TL-BRG%03d", i);
        struct seed sd = {.ref = ref,
                          .category = "drones",
                          .text = "A drone flying low, towards the town",
                          .source = "telegram_location",
                          .has_point = 1,
                          .lat = 49.0 + 5000 * cos(a) / 111320,
                          .lon =
                              32.0 + 5000 * sin(a) / (111320 * cos(49.0 * 3.14159265358979 / 180)),
                          .accuracy_m = 30,
                          .priority = 20,
                          .has_bearing = 1,
                          .bearing = fmod(az[i] + 180, 360)};
        long long id = 0;
        rc = apply_one(s, &sd, who[i], &id);
    }
    store_free(s);
    char *inc = rc == TL_OK ? ts_db_scalar(ci, "SELECT incident_id FROM reports"
                                               " WHERE public_ref = 'TL-BRG000'")
                            : NULL;
    if (inc)
        printf("%s\n", inc);
    free(inc);
    return inc ? 0 : 1;
}

/* A held campaign of three reporters and two reports held alone, as moderation at intake
 * leaves them (the held status and the verdicts); TL-HELD01's text hides a right-to-left
 * override and carries links, stored with its display form and links as intake stores
 * them. */
static int mod_held(const char *ci)
{
    static const char *const who[5] = {"f1f1f1f1f1f1f1f1", "f2f2f2f2f2f2f2f2", "f3f3f3f3f3f3f3f3",
                                       "f4f4f4f4f4f4f4f4", "f5f5f5f5f5f5f5f5"};
    static const char *const links[2] = {"https://t.me/fake_news_ua", "@kyiv_watch"};
    struct store *s = open_or_die(ci);
    int rc = TL_OK;
    const struct hygiene hy = {"Column near tsop bridge, see https://t.me/fake_news_ua and "
                               "@kyiv_watch",
                               links, 2};
    for (int i = 0; i < 5 && rc == TL_OK; i++) {
        char ref[16];
        if (i < 3)
            snprintf(ref, sizeof ref, "TL-CAMP%03d", i);
        else
            snprintf(ref, sizeof ref, "TL-HELD%02d", i - 2);
        struct seed sd = {.ref = ref,
                          .category = "other",
                          .text = "Evacuate now, the dam upstream is mined",
                          .priority = 10};
        if (i == 3)
            sd.text = "Column near \xE2\x80\xAEtsop\xE2\x80\xAC bridge, see "
                      "https://t.me/fake_news_ua and @kyiv_watch";
        else if (i == 4)
            sd.text = "Free crypto for every report, write to me";
        long long id = 0;
        rc = apply_hyg(s, &sd, i == 3 ? &hy : NULL, who[i], &id);
    }
    store_free(s);
    char *camp =
        rc == TL_OK
            ? ts_db_scalar(ci,
                           "WITH c AS (INSERT INTO mod_campaigns (sample) VALUES ('Evacuate now,"
                           " the dam upstream is mined') RETURNING id),"
                           " u AS (UPDATE reports SET status = 'held' WHERE public_ref LIKE"
                           " 'TL-CAMP%' OR public_ref LIKE 'TL-HELD%' RETURNING id, public_ref),"
                           " v AS (INSERT INTO mod_verdicts (report_id, verdict, reasons,"
                           " campaign_id) SELECT u.id, 'hold', CASE WHEN u.public_ref LIKE"
                           " 'TL-CAMP%' THEN '{campaign}' ELSE '{rule:spam.channel}' END::text[],"
                           " CASE WHEN u.public_ref LIKE 'TL-CAMP%' THEN c.id END FROM c, u"
                           " RETURNING 1)"
                           " SELECT c.id::text FROM c WHERE (SELECT count(*) FROM v) = 5")
            : NULL;
    if (camp)
        printf("%s\n", camp);
    else
        fprintf(stderr, "tl_browser_seed: mod: not seeded\n");
    free(camp);
    return camp ? 0 : 1;
}

/* The citizen's reply to a follow-up, as the bot's relay writes it (no inbox row). */
static int answer(const char *ci, const char *followup, const char *text)
{
    struct store *s = open_or_die(ci);
    struct tl_errinfo ei;
    struct store_effects fx = {.set_blocked = -1, .answer = text};
    int rc = tl_parse_ll(followup, &fx.followup_id);
    if (rc == TL_OK)
        rc = store_apply(s, &fx, NULL, &ei);
    else
        tl_errf(&ei, rc, "follow-up id %s is not a number", followup);
    if (rc != TL_OK)
        fprintf(stderr, "tl_browser_seed: answer: %s\n", ei.msg);
    store_free(s);
    return rc == TL_OK ? 0 : 1;
}

/* cut: a report stored with no live event (triggers off for the insert; the lowest
 * priority, so no claim takes it), then the web server's events connection cut: the
 * server reads on from the newest event and tells the consoles to refetch, which is the
 * only way the report can reach them. drop: that report deleted as quietly, so the
 * scenario's counts go on as before (a reload shows it gone). */
static int quiet(const char *ci, const char *ref, int drop)
{
    char q[768];
    if (drop)
        snprintf(q, sizeof q,
                 "SET session_replication_role = replica;"
                 " DELETE FROM reports WHERE public_ref = '%s' RETURNING 1",
                 ref);
    else
        snprintf(q, sizeof q,
                 "SET session_replication_role = replica;"
                 " INSERT INTO reports (public_ref, reporter, category, text, priority)"
                 " VALUES ('%s', (SELECT pseudonym FROM reporters ORDER BY pseudonym LIMIT 1),"
                 " 'other', 'Stored while the live feed was cut', 0);"
                 " SELECT count(pg_terminate_backend(pid))::text FROM web_listeners",
                 ref);
    char *n = ts_db_scalar(ci, q);
    int rc = n && strcmp(n, "1") == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "tl_browser_seed: %s: %s rows, not 1\n", drop ? "drop" : "cut",
                n ? n : "no");
    free(n);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "create") == 0)
        return create(argv[2]);
    if (argc == 4 && strcmp(argv[1], "add") == 0)
        return add(argv[2], argv[3], 1);
    if (argc == 4 && strcmp(argv[1], "fill") == 0 && strtol(argv[3], NULL, 10) > 0)
        return add(argv[2], NULL, (int)strtol(argv[3], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "incident") == 0)
        return incident(argv[2]);
    if (argc == 3 && strcmp(argv[1], "mod") == 0)
        return mod_held(argv[2]);
    if (argc == 5 && strcmp(argv[1], "answer") == 0)
        return answer(argv[2], argv[3], argv[4]);
    if (argc == 4 && (strcmp(argv[1], "cut") == 0 || strcmp(argv[1], "drop") == 0) &&
        strspn(argv[3], "TL-0123456789QUIET") == strlen(argv[3]))
        return quiet(argv[2], argv[3], strcmp(argv[1], "drop") == 0);
    fprintf(stderr,
            "usage: %s create DBNAME | add CONNINFO REF | fill CONNINFO N | incident CONNINFO |"
            " mod CONNINFO | answer CONNINFO FOLLOWUP TEXT | cut|drop CONNINFO REF\n",
            argv[0]);
    return 2;
}
