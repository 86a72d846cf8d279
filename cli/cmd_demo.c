/* cli/cmd_demo.c - tipline demo: the whole path on one machine. A fake Telegram Bot
 * API (fakebot/, a real HTTP server on loopback) plays scripted citizen chats;
 * the real daemon polls it, stores the updates, handles them, replies through the
 * outbox; then the demo prints each conversation and the triage queue. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "fakebot/fakebot.h"
#include "fakebot/photos.h"
#include "common/banned.h"

#define DEMO_TOKEN "123456:DEMO-not-a-real-token"

struct persona {
    long long id;
    const char *name;
    const char *lang;
};

static const struct persona people[] = {
    {910001, "Olena (uk)", "uk"},
    {910002, "John (en)", "en"},
    {910003, "Taras (uk)", "uk"},
    {910004, "Iryna (uk)", "uk"},
};
#define GROUP_CHAT -100777

static char *message_update(long long uid, const struct persona *p, const char *body)
{
    return tl_asprintf("{\"update_id\":%lld,\"message\":{\"message_id\":%lld,\"date\":%lld,"
                       "\"chat\":{\"id\":%lld,\"type\":\"private\",\"first_name\":\"%s\"},"
                       "\"from\":{\"id\":%lld,\"is_bot\":false,\"first_name\":\"%s\","
                       "\"language_code\":\"%s\"},%s}}",
                       uid, uid, (long long)time(NULL), p->id, p->name, p->id, p->name, p->lang,
                       body);
}

/* The demo's photos, made here (fakebot/photos.h: TurboJPEG + libexif): a photo
 * as Telegram serves it, and a phone's original sent "as a file", carrying GPS, the
 * capture time, the owner's name and the camera's serial number. */
static unsigned char *demo_photo(int dirty, size_t *len)
{
    unsigned char *rgb = fx_photo_rgb(320, 240, dirty ? 11 : 5);
    size_t clean_len = 0;
    unsigned char *clean = fx_jpeg_encode(rgb, 320, 240, 85, &clean_len);
    free(rgb);
    if (!dirty) {
        *len = clean_len;
        return clean;
    }
    struct fx_exif x = {.lat = 49.7126,
                        .lon = 37.6159,
                        .hpe_cm = 800,
                        .dto = "2026:11:26 06:41:17",
                        .offset = "+02:00",
                        .orientation = 1};
    unsigned char *j = fx_jpeg_dirty(clean, clean_len, &x, 1, len);
    free(clean);
    return j;
}

static int push(struct fakebot *fb, char *update)
{
    int rc = update && fakebot_push_update(fb, update) >= 0 ? TL_OK : TL_ENOMEM;
    free(update);
    return rc;
}

/* The citizen presses a button: data "<draft>:<action>" (the draft is named by the
 * update that started it, which the script knows). */
static char *press(long long uid, const struct persona *p, long long draft, const char *act)
{
    return tl_asprintf("{\"update_id\":%lld,\"callback_query\":{\"id\":\"demo%lld\",\"from\":"
                       "{\"id\":%lld,\"is_bot\":false,\"first_name\":\"%s\",\"language_code\":"
                       "\"%s\"},\"chat_instance\":\"1\",\"data\":\"%lld:%s\",\"message\":{"
                       "\"message_id\":1,\"date\":%lld,\"chat\":{\"id\":%lld,\"type\":"
                       "\"private\"},\"text\":\"-\"}}}",
                       uid, uid, p->id, p->name, p->lang, draft, act, (long long)time(NULL), p->id);
}

/* The scripted chats: Olena walks the guided /report in Ukrainian; John, Taras and
 * Iryna send a quick report (a photo, a venue, a phone's file) and press "Send now";
 * a group gets one pointer to the private chat. Returns how many updates it queued. */
static int script(struct fakebot *fb, long long base, long long *n_updates)
{
    long long u = base;
    const struct persona *olena = &people[0], *john = &people[1], *taras = &people[2],
                         *iryna = &people[3];
    int rc = 0;
    size_t plen = 0, dlen = 0;
    unsigned char *photo = demo_photo(0, &plen), *doc = demo_photo(1, &dlen);
    if (fakebot_add_file(fb, "demo-photo-1", photo, plen) != TL_OK ||
        fakebot_add_file(fb, "demo-doc-1", doc, dlen) != TL_OK)
        rc = TL_ENOMEM;
    free(photo);
    free(doc);
    rc |= push(fb, message_update(u++, olena,
                                  "\"text\":\"/start\",\"entities\":[{\"type\":\"bot_command\","
                                  "\"offset\":0,\"length\":6}]"));
    long long od = u;
    rc |= push(fb, message_update(u++, olena,
                                  "\"text\":\"/report\",\"entities\":[{\"type\":\"bot_command\","
                                  "\"offset\":0,\"length\":7}]"));
    rc |= push(fb, press(u++, olena, od, "c:troops"));
    rc |= push(fb, message_update(u++, olena,
                                  "\"location\":{\"latitude\":49.2083,\"longitude\":37.2486,"
                                  "\"horizontal_accuracy\":25}"));
    rc |= push(fb, press(u++, olena, od, "m"));
    rc |= push(fb, press(u++, olena, od, "w:10"));
    rc |= push(fb, press(u++, olena, od, "d:0"));
    rc |= push(fb, message_update(u++, olena,
                                  "\"text\":\"Колона, 5 БТР і 2 вантажівки, через міст біля "
                                  "Ізюму\""));
    rc |= push(fb, press(u++, olena, od, "send"));
    long long jd = u;
    rc |= push(fb,
               message_update(u++, john,
                              "\"photo\":[{\"file_id\":\"demo-photo-1-small\","
                              "\"file_unique_id\":\"dps1\",\"width\":90,\"height\":68},"
                              "{\"file_id\":\"demo-photo-1\",\"file_unique_id\":\"dp1\","
                              "\"width\":320,\"height\":240}],"
                              "\"caption\":\"Drone flying low over the rail bridge, east bank\""));
    rc |= push(fb, press(u++, john, jd, "send"));
    long long td = u;
    rc |= push(fb, message_update(u++, taras,
                                  "\"venue\":{\"location\":{\"latitude\":49.9935,\"longitude\":"
                                  "36.2304},\"title\":\"Railway station\",\"address\":\"Kharkiv\"},"
                                  "\"location\":{\"latitude\":49.9935,\"longitude\":36.2304}"));
    rc |= push(fb, press(u++, taras, td, "send"));
    long long id = u;
    rc |= push(fb, message_update(u++, iryna,
                                  "\"document\":{\"file_id\":\"demo-doc-1\",\"file_unique_id\":"
                                  "\"dd1\",\"file_name\":\"IMG_2024.JPG\",\"mime_type\":"
                                  "\"image/jpeg\"},\"caption\":\"Пошкоджений міст, фото з "
                                  "телефона\""));
    rc |= push(fb, press(u++, iryna, id, "send"));
    char *group = tl_asprintf(
        "{\"update_id\":%lld,\"message\":{\"message_id\":1,\"date\":%lld,\"chat\":{\"id\":%d,"
        "\"type\":\"supergroup\",\"title\":\"Neighbourhood\"},\"from\":{\"id\":%lld,\"is_bot\":"
        "false,\"first_name\":\"Taras\",\"language_code\":\"uk\"},\"text\":\"/start@tipline_bot\","
        "\"entities\":[{\"type\":\"bot_command\",\"offset\":0,\"length\":18}]}}",
        u++, (long long)time(NULL), GROUP_CHAT, taras->id);
    rc |= push(fb, group);
    *n_updates = u - base;
    return rc;
}

static const char *who(long long chat_id)
{
    for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++)
        if (people[i].id == chat_id)
            return people[i].name;
    return chat_id == GROUP_CHAT ? "group chat" : "?";
}

static void print_indented(const char *text)
{
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        printf("   %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

/* A keyboard's button labels on one line: [Send] [Edit]. */
static void print_buttons(struct json_object *markup)
{
    struct json_object *rows;
    if (!json_object_object_get_ex(markup, "inline_keyboard", &rows) &&
        !json_object_object_get_ex(markup, "keyboard", &rows))
        return;
    printf("   ");
    for (size_t r = 0; r < json_object_array_length(rows); r++) {
        struct json_object *row = json_object_array_get_idx(rows, r);
        for (size_t b = 0; b < json_object_array_length(row); b++) {
            struct json_object *t;
            if (json_object_object_get_ex(json_object_array_get_idx(row, b), "text", &t))
                printf("[%s] ", json_object_get_string(t));
        }
    }
    printf("\n");
}

static void print_conversations(struct fakebot *fb)
{
    char *calls = fakebot_calls_json(fb, NULL);
    struct json_object *arr = calls ? json_tokener_parse(calls) : NULL;
    free(calls);
    printf("\n== What the citizens saw (bot requests through the outbox) ==\n");
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
        struct json_object *call = json_object_array_get_idx(arr, i), *params, *chat, *text, *m,
                           *markup;
        if (!json_object_object_get_ex(call, "method", &m) ||
            !json_object_object_get_ex(call, "params", &params) ||
            !json_object_object_get_ex(params, "chat_id", &chat) ||
            !json_object_object_get_ex(params, "text", &text))
            continue;
        const char *method = json_object_get_string(m);
        int edit = strcmp(method, "editMessageText") == 0;
        if (!edit && strcmp(method, "sendMessage") != 0)
            continue;
        printf("-> %s%s:\n", who(json_object_get_int64(chat)), edit ? " (message edited)" : "");
        print_indented(json_object_get_string(text));
        if (json_object_object_get_ex(params, "reply_markup", &markup))
            print_buttons(markup);
    }
    json_object_put(arr);
}

static int print_queue(struct store *s)
{
    struct store_triage_filter f = {NULL, NULL, 20};
    struct store_report *rs = NULL;
    size_t n = 0;
    struct tl_errinfo ei;
    int rc = store_triage_list(s, &f, &rs, &n, &ei);
    if (rc)
        return rc;
    printf("\n== Triage queue (what analysts see: pseudonyms, never chat ids) ==\n");
    printf("%-10s %-4s %-24s %-17s %-6s %-12s %s\n", "REF", "PRIO", "POINT", "SOURCE", "MEDIA",
           "REPORTER", "TEXT");
    for (size_t i = 0; i < n; i++) {
        const struct store_report *r = &rs[i];
        char point[32] = "-";
        if (r->has_point)
            snprintf(point, sizeof(point), "%.4f, %.4f", r->lat, r->lon);
        const char *text = r->text ? r->text : "";
        printf("%-10s %-4d %-24s %-17s %-6s %-12.12s %.*s\n", r->public_ref, r->priority, point,
               r->point_source ? r->point_source : "-", r->n_media ? "photo" : "-",
               r->reporter ? r->reporter : "-", (int)tl_utf8_prefix(text, 60), text);
    }
    printf("(%zu open report%s)\n", n, n == 1 ? "" : "s");
    store_reports_free(rs, n);
    return TL_OK;
}

int cmd_demo(int argc, char **argv, struct cli_ctx *ctx)
{
    const struct cli_spec spec = {
        .cmd = "demo",
        .usage = "usage: tipline demo\n",
        .doc = "Starts a fake Telegram Bot API on loopback with scripted citizen chats (a guided\n"
               "/report in Ukrainian; quick reports with a photo, a venue, a phone's file sent\n"
               "with \"Send now\"; a group message), runs the real intake against it and the\n"
               "configured database (migrating it first), then prints what each citizen saw\n"
               "(messages, edits, buttons) and the triage queue.\n"};
    int parsed = cli_parse(&spec, &argc, argv);
    if (parsed >= 0)
        return parsed;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct store *s = NULL;
    struct fakebot *fb = NULL;
    volatile sig_atomic_t stop = 0;
    /* the demo's output is the conversation: routine log lines only with --log-level */
    if (log_level == LOG_INFO && !getenv("TIPLINE_LOG_LEVEL"))
        log_level = LOG_WARN;
    struct daemon *rt = NULL;
    int rc, code = 1, migrated = 0;
    long long offset = 0;
    if ((rc = cfg_load_secrets(&ctx->cfg, 0, &ei)) != TL_OK ||
        (rc = cfg_load_idkeys(&ctx->cfg, &ei)) != TL_OK) {
        fprintf(stderr, "tipline demo: %s\n", ei.msg);
        return 1;
    }
    if ((rc = store_open(ctx->cfg.database_url, &s, &ei)) != TL_OK ||
        (rc = store_migrate(s, &migrated, &ei)) != TL_OK ||
        (rc = store_offset_get(s, &offset, &ei)) != TL_OK) {
        fprintf(stderr, "tipline demo: database: %s: %s\n", tl_strerror(rc), ei.msg);
        goto out;
    }
    struct fakebot_opts fo = {.token = DEMO_TOKEN, .quiet = 1};
    if ((rc = fakebot_start(&fo, &fb)) != TL_OK) {
        fprintf(stderr, "tipline demo: cannot start the fake Bot API: %s\n", tl_strerror(rc));
        goto out;
    }
    long long base = offset > 0 ? offset : 1, n_updates = 0;
    if (script(fb, base, &n_updates) != TL_OK) {
        fprintf(stderr, "tipline demo: cannot script the chats\n");
        goto out;
    }
    printf("fake Bot API at %s, %zu updates scripted from update_id %lld\n", fakebot_base_url(fb),
           fakebot_pending(fb), base);
    struct daemon_opts o = {.cfg = &ctx->cfg,
                            .api_base = fakebot_base_url(fb),
                            .token = DEMO_TOKEN,
                            .workers = 2,
                            .stop = &stop};
    ctx->cfg.poll_timeout = 1;
    ctx->cfg.send_chat_interval_ms = 200;
    if ((rc = daemon_start(&o, &rt, &ei)) != TL_OK) {
        fprintf(stderr, "tipline demo: %s\n", ei.msg);
        goto out;
    }
    /* Done when Telegram has nothing unacknowledged, every update is handled and every
     * reply was delivered (or failed for good). */
    int64_t deadline = tl_now_ms() + 60000;
    struct store_stats st = {0};
    while (!cli_stop && !stop && tl_now_ms() < deadline) {
        tl_sleep_ms(200, &cli_stop);
        if (store_stats_get(s, &st, &ei) != TL_OK)
            continue;
        if (fakebot_pending(fb) == 0 && st.inbox_pending == 0 && st.outbox_pending == 0 &&
            st.offset >= base + n_updates)
            break;
    }
    stop = 1;
    struct daemon_counts c;
    daemon_counts(rt, &c);
    rc = daemon_join(rt, &ei);
    rt = NULL;
    if (rc) {
        fprintf(stderr, "tipline demo: runtime: %s: %s\n", tl_strerror(rc), ei.msg);
        goto out;
    }
    if (st.inbox_pending || st.outbox_pending) {
        fprintf(stderr, "tipline demo: timed out with %lld updates and %lld replies pending\n",
                st.inbox_pending, st.outbox_pending);
        goto out;
    }
    printf("intake: %lld updates stored, %lld handled, %lld reports, %lld replies sent\n",
           c.updates_stored, c.updates_handled, c.reports, c.sent);
    print_conversations(fb);
    if ((rc = print_queue(s)) != TL_OK)
        goto out;
    printf("\nNext: 'tipline triage next --as alice' claims the top report; "
           "'tipline triage decide REF confirmed'.\n");
    code = 0;
out:
    if (rt) {
        stop = 1;
        if (daemon_join(rt, NULL) != TL_OK)
            log_warn("demo runtime ended with an error");
    }
    fakebot_stop(fb);
    store_free(s);
    return code;
}
