/* handlers/prompts.c - what the bot says at each step: the quick draft's status
 * (what it has, what is missing), each guided step's question and keyboard, the
 * summary with Send / Edit, which step comes next, and the janitor's reminder and
 * expiry texts. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/tz.h"
#include "common/util.h"
#include "hdl_int.h"
#include "common/banned.h"

static const char *when_label(struct hdl_plan *p, const struct hdl_ctx *ctx, const char *lang,
                              double t)
{
    if (t <= 0)
        return hdl_tr(p, lang, "value_none");
    time_t local = (time_t)t + (time_t)tl_tz_offset(ctx->tz, (int64_t)t);
    struct tm tm;
    gmtime_r(&local, &tm);
    return hdl_keep(
        p, tl_asprintf("%02d:%02d %02d.%02d", tm.tm_hour, tm.tm_min, tm.tm_mday, tm.tm_mon + 1));
}

static const char *dir_keys[8] = {"dir_n", "dir_ne", "dir_e", "dir_se",
                                  "dir_s", "dir_sw", "dir_w", "dir_nw"};

static const char *bearing_label(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    if (!d->has_bearing)
        return hdl_tr(p, lang, "value_none");
    int sector = (int)floor(fmod(d->bearing + 22.5, 360.0) / 45.0) & 7;
    return hdl_keep(p, tl_asprintf("%s (%.0f°)", hdl_tr(p, lang, dir_keys[sector]), d->bearing));
}

/* The description so far, cut to fit a message with room for the rest. */
static const char *desc_label(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    struct tl_buf b;
    tl_buf_init(&b, 0);
    for (size_t i = 0; i < d->n_msgs; i++)
        if (d->msgs[i].text && *d->msgs[i].text &&
            ((b.len && tl_buf_append(&b, " / ", 3)) ||
             tl_buf_append(&b, d->msgs[i].text, strlen(d->msgs[i].text))))
            break;
    if (!b.len) {
        tl_buf_release(&b);
        return hdl_tr(p, lang, "value_none");
    }
    char *s = (char *)tl_buf_steal(&b, NULL);
    tl_buf_release(&b);
    if (s && hdl_utf16_len(s) > 3000) {
        size_t cut = hdl_utf16_prefix(s, 2999);
        char *t = tl_asprintf("%.*s…", (int)cut, s);
        free(s);
        s = t;
    }
    return hdl_keep(p, s);
}

static const char *place_label(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    if (d->has_point)
        return hdl_keep(p, tl_asprintf("%.5f, %.5f", d->lat, d->lon));
    if (d->has_photo_gps)
        return hdl_keep(p, tl_asprintf("%.5f, %.5f (📷)", d->photo_lat, d->photo_lon));
    return hdl_tr(p, lang, "value_none");
}

const char *hdl_count_label(struct hdl_plan *p, int n)
{
    return hdl_keep(p, tl_asprintf("%d", n));
}

/* The quick draft's status: what it has, what is missing. */
static const char *quick_text(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    struct tl_buf have, miss;
    tl_buf_init(&have, 0);
    tl_buf_init(&miss, 0);
    const char *h[4] = {0}, *m[3] = {0};
    size_t nh = 0, nm = 0;
    if (d->category)
        h[nh++] = hdl_keep(p, tl_asprintf("🏷 %s", hdl_cat_label(p, lang, d->category)));
    if (d->has_point || d->has_photo_gps)
        h[nh++] = hdl_tr(p, lang, "have_point");
    else
        m[nm++] = hdl_tr(p, lang, "miss_point");
    if (d->n_media)
        h[nh++] = hdl_keep(
            p, hdl_text(lang, "have_photos", "n", hdl_count_label(p, d->n_media), (char *)NULL));
    else
        m[nm++] = hdl_tr(p, lang, "miss_photo");
    if (hdl_has_text(d))
        h[nh++] = hdl_tr(p, lang, "have_text");
    else
        m[nm++] = hdl_tr(p, lang, "miss_text");
    for (size_t i = 0; i < nh; i++)
        if (h[i] && ((have.len && tl_buf_append(&have, "\n", 1)) ||
                     tl_buf_append(&have, h[i], strlen(h[i]))))
            break;
    for (size_t i = 0; i < nm; i++)
        if (m[i] && ((miss.len && tl_buf_append(&miss, ", ", 2)) ||
                     tl_buf_append(&miss, m[i], strlen(m[i]))))
            break;
    const char *hv = have.data ? (const char *)have.data : "";
    const char *mv = miss.data ? (const char *)miss.data : "";
    char *text = nm ? hdl_text(lang, "quick_status", "have", hv, "missing", mv, (char *)NULL)
                    : hdl_text(lang, "quick_ready", "have", hv, (char *)NULL);
    tl_buf_release(&have);
    tl_buf_release(&miss);
    return hdl_keep(p, text);
}

static const char *summary_text(struct hdl_plan *p, const struct hdl_ctx *ctx, const char *lang,
                                const struct hdl_draft *d)
{
    return hdl_keep(
        p,
        hdl_text(lang, "summary", "category",
                 d->category ? hdl_cat_label(p, lang, d->category) : hdl_tr(p, lang, "value_none"),
                 "place", place_label(p, lang, d), "photos", hdl_count_label(p, d->n_media), "when",
                 when_label(p, ctx, lang, d->observed_at), "direction", bearing_label(p, lang, d),
                 "description", desc_label(p, lang, d), (char *)NULL));
}

/* The category step's buttons, two a row, in the configured order. */
static void category_buttons(struct hdl_plan *p, const struct hdl_ctx *ctx, const char *lang,
                             long long id, struct json_object *kb)
{
    struct json_object *row = NULL;
    int col = 0;
    for (const char *s = hdl_categories(ctx); s && *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        char idb[40], act[48];
        if (l > 0 && l < sizeof(idb)) {
            memcpy(idb, s, l);
            idb[l] = 0;
            if (col++ % 2 == 0)
                row = hdl_kb_row(kb);
            snprintf(act, sizeof(act), "c:%s", idb);
            hdl_kb_btn(row, hdl_cat_label(p, lang, idb), id, act);
        }
        s = e ? e + 1 : NULL;
    }
}

/* The location step's reply keyboard (a button that shares the location, "unknown" and
 * Cancel), shown once: a new object. */
static struct json_object *location_keyboard(struct hdl_plan *p, const char *lang)
{
    struct json_object *rk = json_object_new_object(), *rows = json_object_new_array();
    struct json_object *r1 = json_object_new_array(), *r2 = json_object_new_array();
    struct json_object *b1 = json_object_new_object(), *b2 = json_object_new_object(),
                       *b3 = json_object_new_object();
    json_object_object_add(b1, "text", json_object_new_string(hdl_tr(p, lang, "btn_location")));
    json_object_object_add(b1, "request_location", json_object_new_boolean(1));
    json_object_object_add(b2, "text", json_object_new_string(hdl_tr(p, lang, "btn_unknown")));
    json_object_object_add(b3, "text", json_object_new_string(hdl_tr(p, lang, "btn_cancel")));
    json_object_array_add(r1, b1);
    json_object_array_add(r2, b2);
    json_object_array_add(r2, b3);
    json_object_array_add(rows, r1);
    json_object_array_add(rows, r2);
    json_object_object_add(rk, "keyboard", rows);
    json_object_object_add(rk, "resize_keyboard", json_object_new_boolean(1));
    json_object_object_add(rk, "one_time_keyboard", json_object_new_boolean(1));
    return rk;
}

/* The direction step's buttons: a compass rose of 3 x 3, Skip in the middle. */
static void direction_buttons(struct hdl_plan *p, const char *lang, long long id,
                              struct json_object *kb)
{
    static const int grid[9] = {315, 0, 45, 270, -1, 90, 225, 180, 135};
    struct json_object *row = NULL;
    for (int i = 0; i < 9; i++) {
        if (i % 3 == 0)
            row = hdl_kb_row(kb);
        char act[16];
        if (grid[i] < 0) {
            hdl_kb_btn(row, hdl_tr(p, lang, "btn_skip"), id, "d:skip");
            continue;
        }
        snprintf(act, sizeof(act), "d:%d", grid[i]);
        hdl_kb_btn(row, hdl_tr(p, lang, dir_keys[grid[i] / 45]), id, act);
    }
}

/* The edit menu's buttons, one a step that can be changed, two a row. */
static void edit_buttons(struct hdl_plan *p, const char *lang, long long id, struct json_object *kb)
{
    static const struct {
        const char *key;
        enum hdl_step step;
    } items[] = {
        {"btn_e_category", HDL_STEP_CATEGORY},   {"btn_e_location", HDL_STEP_LOCATION},
        {"btn_e_media", HDL_STEP_MEDIA},         {"btn_e_when", HDL_STEP_WHEN},
        {"btn_e_direction", HDL_STEP_DIRECTION}, {"btn_e_description", HDL_STEP_DESCRIPTION}};
    struct json_object *row = NULL;
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        char act[16];
        if (i % 2 == 0)
            row = hdl_kb_row(kb);
        snprintf(act, sizeof(act), "e:%d", (int)items[i].step);
        hdl_kb_btn(row, hdl_tr(p, lang, items[i].key), id, act);
    }
}

/* The prompt of d's step: its text and, for inline steps, its keyboard. Returns 0 for
 * the location step, whose keyboard is a reply keyboard (*markup set too). */
static int step_prompt(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_draft *d,
                       const char **text, struct json_object **markup)
{
    const char *lang = d->lang;
    struct json_object *kb = hdl_kb_new(), *row;
    long long id = d->id;
    *markup = kb;
    switch (d->step) {
    case HDL_STEP_QUICK:
        *text = quick_text(p, lang, d);
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_send_now"), id, "send");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_step"), id, "g");
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_CATEGORY:
        *text = hdl_tr(p, lang, "ask_category");
        category_buttons(p, ctx, lang, id, kb);
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_LOCATION:
        json_object_put(kb);
        *text = hdl_tr(p, lang, "ask_location");
        *markup = location_keyboard(p, lang);
        return 0;
    case HDL_STEP_MEDIA:
        *text = d->n_media ? hdl_keep(p, hdl_text(lang, "media_added", "n",
                                                  hdl_count_label(p, d->n_media), (char *)NULL))
                           : hdl_tr(p, lang, "ask_media");
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, d->n_media ? "btn_done" : "btn_skip"), id, "m");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_WHEN:
        *text = hdl_tr(p, lang, "ask_when");
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_now"), id, "w:0");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_10"), id, "w:10");
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_30"), id, "w:30");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_60"), id, "w:60");
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_DIRECTION:
        *text = hdl_tr(p, lang, "ask_direction");
        direction_buttons(p, lang, id, kb);
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_DESCRIPTION:
        *text = hdl_tr(p, lang, "ask_description");
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_skip"), id, "t");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_SUMMARY:
        *text = summary_text(p, ctx, lang, d);
        row = hdl_kb_row(kb);
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_send"), id, "send");
        hdl_kb_btn(row, hdl_tr(p, lang, "btn_edit"), id, "edit");
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_EDIT:
        *text = hdl_tr(p, lang, "edit_which");
        edit_buttons(p, lang, id, kb);
        hdl_kb_btn(hdl_kb_row(kb), hdl_tr(p, lang, "btn_back"), id, "back");
        return 1;
    }
    return 1;
}

/* Shows d's current step: in place of the keyboard message edit_id when the step has
 * an inline keyboard, else as a new message (the older keyboard taken off). */
int hdl_show_step(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                  const struct hdl_draft *d, long long chat_id, long long edit_id,
                  enum hdl_step old_step)
{
    const char *text = NULL;
    struct json_object *markup = NULL;
    int inl = step_prompt(p, ctx, d, &text, &markup);
    if (!text) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    if (edit_id && inl)
        return hdl_edit_text(p, chat_id, edit_id, text, markup);
    int rc = TL_OK;
    if (edit_id) /* a reply keyboard cannot replace an inline one: the old one goes */
        rc = hdl_drop_keyboard(p, chat_id, edit_id);
    long long old = cv ? cv->prompt_msg_id : 0;
    if (rc == TL_OK && !edit_id && old && old_step != HDL_STEP_LOCATION)
        rc = hdl_drop_keyboard(p, chat_id, old);
    if (rc == TL_OK)
        rc = hdl_send_text(p, chat_id, text, markup, 1, 1);
    else
        json_object_put(markup);
    return rc;
}

/* The next step of a guided draft; steps already answered are passed over. */
enum hdl_step hdl_next_step(const struct hdl_ctx *ctx, const struct hdl_draft *d)
{
    if (d->editing)
        return HDL_STEP_SUMMARY;
    switch (d->step) {
    case HDL_STEP_QUICK:
    case HDL_STEP_CATEGORY:
        if (!d->has_point)
            return HDL_STEP_LOCATION;
        /* fall through */
    case HDL_STEP_LOCATION:
        if (!d->n_media)
            return HDL_STEP_MEDIA;
        /* fall through */
    case HDL_STEP_MEDIA:
        return HDL_STEP_WHEN;
    case HDL_STEP_WHEN:
        if (hdl_is_moving(ctx, d->category) && !d->has_bearing)
            return HDL_STEP_DIRECTION;
        /* fall through */
    case HDL_STEP_DIRECTION:
        if (!hdl_has_text(d))
            return HDL_STEP_DESCRIPTION;
        return HDL_STEP_SUMMARY;
    default:
        return HDL_STEP_SUMMARY;
    }
}

/* Moves a guided draft on (an edit returns to the summary). */
int hdl_advance(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                struct hdl_draft *d, long long chat_id, long long edit_id)
{
    enum hdl_step old = d->step;
    d->step = hdl_next_step(ctx, d);
    d->editing = 0;
    return hdl_show_step(p, ctx, cv, d, chat_id, edit_id, old);
}

/* sendMessage params (no chat_id) with text key and, optionally, the draft's Send now
 * and Cancel buttons ("__DRAFT__" is the draft id, filled in by storage). */
static char *janitor_params(const char *lang, const char *key, int buttons)
{
    char *text = hdl_text(lang, key, (char *)NULL);
    struct json_object *o = json_object_new_object();
    if (!text || !o) {
        free(text);
        json_object_put(o);
        return NULL;
    }
    json_object_object_add(o, "text", json_object_new_string(text));
    free(text);
    if (buttons) {
        struct json_object *kb = hdl_kb_new(), *row = hdl_kb_row(kb);
        char *l1 = hdl_text(lang, "btn_send_now", (char *)NULL);
        char *l2 = hdl_text(lang, "btn_cancel", (char *)NULL);
        hdl_kb_btn(row, l1, 0, "__DRAFT__:send");
        hdl_kb_btn(row, l2, 0, "__DRAFT__:cancel");
        free(l1);
        free(l2);
        json_object_object_add(o, "reply_markup", kb);
    }
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

char *hdl_reminder_params(const char *lang)
{
    return janitor_params(hdl_lang_pick(lang), "draft_reminder", 1);
}

char *hdl_expired_params(const char *lang)
{
    return janitor_params(hdl_lang_pick(lang), "draft_expired", 0);
}
