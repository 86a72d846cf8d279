/* handlers/decide.c - what one update means for a chat's conversation: pure
 * decisions, no I/O (state + update -> new state + effects).
 *
 * A report is built in a draft, kept in PostgreSQL per chat. Quick report: any photo,
 * location or text outside a wizard starts a draft and the bot says what is still
 * missing, with "Send now". Guided report (/report): category, place, photos, time,
 * direction (moving targets), description, summary with Send / Edit. Buttons carry
 * "<draft id>:<action>": a button of another draft or step is stale and only
 * answered. Every photo, and every file (whatever it claims to be), passes through
 * media/ before anything is kept: only the stripped copy and the facts persist; a
 * file that cannot be cleaned is refused with a reason. Groups and channels get one
 * polite pointer to the private chat; my_chat_member records blocks. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "hdl.h"
#include "geo/geo.h"
#include "media/media.h"
#include "common/banned.h"

/* A photo's own GPS further than this from the shared location flags the report. */
#define HDL_DISAGREE_M 1000.0

int hdl_pseudonym(const unsigned char *secret, size_t secret_len, long long user_id, char out[65])
{
    char id[32];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    int n = snprintf(id, sizeof(id), "%lld", user_id);
    if (!secret || secret_len < 16)
        return TL_EINVAL;
    if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)id, (size_t)n, mac,
              &mac_len) ||
        mac_len != 32)
        return TL_EIO;
    tl_hex(mac, 32, out);
    return TL_OK;
}

int hdl_new_ref(char out[16])
{
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    unsigned char r[6];
    int rc = tl_random(r, sizeof(r));
    if (rc)
        return rc;
    memcpy(out, "TL-", 3);
    for (int i = 0; i < 6; i++)
        out[3 + i] = alphabet[r[i] & 31];
    out[9] = 0;
    return TL_OK;
}

const char *hdl_wanted_file(const struct hdl_ctx *ctx, const struct tg_update *u)
{
    const struct tg_message *m = &u->msg;
    if (u->kind != TG_UPD_MESSAGE || m->chat_type != TG_CHAT_PRIVATE || m->from_is_bot ||
        m->is_command)
        return NULL;
    if (m->photo.file_id)
        return m->photo.file_id;
    /* A document is fetched whatever it claims to be: media/ decides from its bytes.
     * One Telegram says is too large is not fetched at all. */
    if (m->document.file_id &&
        (m->document.file_size < 0 || m->document.file_size <= (long long)ctx->max_photo_bytes))
        return m->document.file_id;
    if (m->video.file_id &&
        (m->video.file_size < 0 || m->video.file_size <= (long long)ctx->max_photo_bytes))
        return m->video.file_id;
    return NULL;
}

/* ---- the plan: owned strings and the replies ---- */

static char *keep(struct hdl_plan *p, char *s)
{
    if (!s)
        return NULL;
    if (p->n_owned == p->cap_owned) {
        size_t nc = p->cap_owned ? p->cap_owned * 2 : 16;
        char **o = realloc(p->owned, nc * sizeof(*o));
        if (!o) {
            free(s);
            return NULL;
        }
        p->owned = o;
        p->cap_owned = nc;
    }
    p->owned[p->n_owned++] = s;
    return s;
}

/* A catalog text kept in the plan ("" on allocation failure is caught by callers
 * through the NULL check of keep). */
static const char *T(struct hdl_plan *p, const char *lang, const char *key)
{
    return keep(p, hdl_text(lang, key, (char *)NULL));
}

/* Queues method with params_json (already kept in the plan). */
static int out_add_kept(struct hdl_plan *p, long long chat_id, const char *method,
                        const char *params_json, int prompt, int track)
{
    if (p->n_out == p->cap_out) {
        size_t nc = p->cap_out ? p->cap_out * 2 : 8;
        struct store_conv_out *o = realloc(p->out, nc * sizeof(*o));
        if (!o)
            return TL_ENOMEM;
        p->out = o;
        p->cap_out = nc;
    }
    p->out[p->n_out++] = (struct store_conv_out){chat_id, method, params_json, prompt, track};
    p->cx.out = p->out;
    p->cx.n_out = p->n_out;
    return TL_OK;
}

/* Queues method with params (consumed). prompt: carries the draft's keyboard; track:
 * one of the draft's messages. */
static int out_add(struct hdl_plan *p, long long chat_id, const char *method,
                   struct json_object *params, int prompt, int track)
{
    if (!params)
        return TL_ENOMEM;
    char *text = keep(p, tl_strdup(json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN)));
    json_object_put(params);
    if (!text)
        return TL_ENOMEM;
    return out_add_kept(p, chat_id, method, text, prompt, track);
}

int hdl_plan_reply(struct hdl_plan *p, long long chat_id, const char *method, char *params_json)
{
    const char *kept = keep(p, params_json);
    if (!kept)
        return TL_ENOMEM;
    p->cx.chat_id = chat_id;
    return out_add_kept(p, chat_id, method, kept, 0, 0);
}

static struct json_object *params_for(long long chat_id)
{
    struct json_object *o = json_object_new_object();
    if (o)
        json_object_object_add(o, "chat_id", json_object_new_int64(chat_id));
    return o;
}

/* sendMessage of text, split at Telegram's 4096 UTF-16 units on code point
 * boundaries (the keyboard goes with the last part). markup is consumed. */
static int send_text(struct hdl_plan *p, long long chat_id, const char *text,
                     struct json_object *markup, int prompt, int track)
{
    int rc = TL_OK;
    if (!text) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    do {
        size_t cut = hdl_utf16_prefix(text, HDL_TG_TEXT_MAX);
        int last = text[cut] == 0;
        if (cut == 0)
            break;
        struct json_object *o = params_for(chat_id);
        if (!o) {
            rc = TL_ENOMEM;
            break;
        }
        json_object_object_add(o, "text", json_object_new_string_len(text, (int)cut));
        if (last && markup) {
            json_object_object_add(o, "reply_markup", markup);
            markup = NULL;
        }
        rc = out_add(p, chat_id, "sendMessage", o, last && prompt, track);
        text += cut;
    } while (rc == TL_OK && *text);
    json_object_put(markup);
    return rc;
}

static int send_key(struct hdl_plan *p, long long chat_id, const char *lang, const char *key,
                    struct json_object *markup, int prompt, int track)
{
    return send_text(p, chat_id, T(p, lang, key), markup, prompt, track);
}

/* editMessageText of the keyboard message, with a new keyboard or none. */
static int edit_text(struct hdl_plan *p, long long chat_id, long long msg_id, const char *text,
                     struct json_object *markup)
{
    if (!text) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    struct json_object *o = params_for(chat_id);
    if (!o) {
        json_object_put(markup);
        return TL_ENOMEM;
    }
    size_t cut = hdl_utf16_prefix(text, HDL_TG_TEXT_MAX);
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    json_object_object_add(o, "text", json_object_new_string_len(text, (int)cut));
    if (markup)
        json_object_object_add(o, "reply_markup", markup);
    return out_add(p, chat_id, "editMessageText", o, 0, 0);
}

/* Takes the inline keyboard off an older message (the chat keeps one live keyboard). */
static int drop_keyboard(struct hdl_plan *p, long long chat_id, long long msg_id)
{
    struct json_object *o = params_for(chat_id), *kb = json_object_new_object();
    if (!o || !kb) {
        json_object_put(o);
        json_object_put(kb);
        return TL_ENOMEM;
    }
    json_object_object_add(kb, "inline_keyboard", json_object_new_array());
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    json_object_object_add(o, "reply_markup", kb);
    return out_add(p, chat_id, "editMessageReplyMarkup", o, 0, 0);
}

static int answer_cb(struct hdl_plan *p, const struct tg_callback *cb, const char *text)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "callback_query_id", json_object_new_string(cb->id ? cb->id : ""));
    if (text)
        json_object_object_add(o, "text", json_object_new_string(text));
    return out_add(p, cb->chat_id ? cb->chat_id : cb->from_id, "answerCallbackQuery", o, 0, 0);
}

static int delete_msg(struct hdl_plan *p, long long chat_id, long long msg_id)
{
    struct json_object *o = params_for(chat_id);
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "message_id", json_object_new_int64(msg_id));
    return out_add(p, chat_id, "deleteMessage", o, 0, 0);
}

/* Why a file could not be taken, as a catalog key the reporter can read. */
static const char *refusal_key(int rc, const struct hdl_file *f)
{
    if (rc == TL_ETOOBIG)
        return "reason_too_big";
    if (rc == TL_EPARSE)
        return "reason_broken";
    switch (media_detect(f->bytes, f->len)) {
    case MEDIA_HEIF:
        return "reason_heic";
    case MEDIA_VIDEO:
        return "reason_video";
    default:
        return "reason_format";
    }
}

/* The reason's text; the size limit is said in MB (the Bot API serves at most 20 MB to a
 * bot, so max_photo_bytes is 20 MB or less). Returns a new string. */
static char *too_big_or(const struct hdl_ctx *ctx, const char *lang, const char *key)
{
    char mb[24];
    snprintf(mb, sizeof(mb), "%zu", ctx->max_photo_bytes >> 20 ? ctx->max_photo_bytes >> 20 : 1);
    return hdl_text(lang, key, "mb", mb, (char *)NULL);
}

/* Sanitizes the fetched bytes into the plan's media (only the stripped copy is kept)
 * and reads the facts. Returns TL_OK, or the media error for a refused file. */
static int take_media(const struct hdl_ctx *ctx, const struct tg_message *m,
                      const struct hdl_file *f, struct hdl_plan *p, struct media_facts *facts)
{
    struct media_limits lim = {.max_bytes = ctx->max_photo_bytes};
    size_t len = 0;
    struct tl_errinfo ei;
    int rc = media_strip(f->bytes, f->len, &lim, &p->media_bytes, &len, facts, &ei);
    if (rc != TL_OK)
        return rc;
    const struct tg_file_ref *ref = m->photo.file_id      ? &m->photo
                                    : m->document.file_id ? &m->document
                                                          : &m->video;
    /* what was written (a HEIC became a JPEG, a MOV an MP4), not what came */
    enum media_format kept = media_detect(p->media_bytes, len);
    p->media = (struct store_media_new){
        .kind = kept == MEDIA_VIDEO ? "video" : "photo",
        .tg_file_id = ref->file_id,
        .tg_file_unique_id = ref->file_unique_id,
        .mime = media_format_mime(kept),
        .bytes = p->media_bytes,
        .len = len,
        .width = facts->width ? facts->width : ref->width,
        .height = facts->height ? facts->height : ref->height,
        .has_gps = facts->has_gps,
        .gps_lat = facts->lat,
        .gps_lon = facts->lon,
        .gps_accuracy_m = facts->has_hpe ? facts->hpe_m : 0,
        .taken_local = facts->has_time ? facts->time_local : NULL,
        .has_taken_offset = facts->has_offset,
        .taken_offset_min = facts->offset_min,
    };
    if ((kept == MEDIA_JPEG || kept == MEDIA_VIDEO) &&
        media_phash(p->media_bytes, len, &lim, &p->media.phash, &ei) == TL_OK)
        p->media.has_phash = 1;
    return TL_OK;
}

/* ---- keyboards ---- */

static struct json_object *kb_new(void)
{
    struct json_object *kb = json_object_new_object();
    if (kb)
        json_object_object_add(kb, "inline_keyboard", json_object_new_array());
    return kb;
}

static struct json_object *kb_row(struct json_object *kb)
{
    struct json_object *rows, *row = json_object_new_array();
    if (!kb || !row || !json_object_object_get_ex(kb, "inline_keyboard", &rows)) {
        json_object_put(row);
        return NULL;
    }
    json_object_array_add(rows, row);
    return row;
}

/* A button whose callback data is "<draft>:<act>" (draft 0: act alone). */
static void kb_btn(struct json_object *row, const char *label, long long draft, const char *act)
{
    if (!row || !label)
        return;
    char *data = draft ? tl_asprintf("%lld:%s", draft, act) : tl_strdup(act);
    struct json_object *b = json_object_new_object();
    if (!data || !b) {
        free(data);
        json_object_put(b);
        return;
    }
    json_object_object_add(b, "text", json_object_new_string(label));
    json_object_object_add(b, "callback_data", json_object_new_string(data));
    free(data);
    json_object_array_add(row, b);
}

/* ---- categories ---- */

#define HDL_DEFAULT_CATEGORIES                                                                     \
    "equipment,troops,aircraft,drones,shelling,suspicious,collaborators,damage,other"
#define HDL_DEFAULT_MOVING "troops,aircraft,drones"

static const char *categories(const struct hdl_ctx *ctx)
{
    return ctx->categories && *ctx->categories ? ctx->categories : HDL_DEFAULT_CATEGORIES;
}

/* Is id one of the comma-separated list's items? */
static int in_list(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *s = list; s && *s;) {
        const char *e = strchr(s, ',');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if (l == n && strncmp(s, id, n) == 0)
            return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

static int is_moving(const struct hdl_ctx *ctx, const char *cat)
{
    const char *m = ctx->moving_categories && *ctx->moving_categories ? ctx->moving_categories
                                                                      : HDL_DEFAULT_MOVING;
    return cat && in_list(m, cat);
}

/* The category's label in lang: the catalog's "cat_<id>", else the id itself. */
static const char *cat_label(struct hdl_plan *p, const char *lang, const char *id)
{
    char key[64];
    snprintf(key, sizeof(key), "cat_%s", id);
    char *t = hdl_text(lang, key, (char *)NULL);
    if (t && strcmp(t, key) == 0) {
        free(t);
        t = tl_strdup(id);
    }
    return keep(p, t);
}

/* ---- flags ---- */

static int add_flag_to(struct hdl_plan *p, const char **flags, const char *flag)
{
    if (*flags && in_list(*flags, flag))
        return TL_OK;
    if (!*flags) {
        *flags = flag;
        return TL_OK;
    }
    char *joined = keep(p, tl_asprintf("%s,%s", *flags, flag));
    if (!joined)
        return TL_ENOMEM;
    *flags = joined;
    return TL_OK;
}

/* A flag on the draft (owned by the draft). */
static int draft_flag(struct hdl_draft *d, const char *flag)
{
    if (d->flags && in_list(d->flags, flag))
        return TL_OK;
    char *n = d->flags ? tl_asprintf("%s,%s", d->flags, flag) : tl_strdup(flag);
    if (!n)
        return TL_ENOMEM;
    free(d->flags);
    d->flags = n;
    return TL_OK;
}

static int set_str(char **dst, const char *v)
{
    char *n = v ? tl_strdup(v) : NULL;
    if (v && !n)
        return TL_ENOMEM;
    free(*dst);
    *dst = n;
    return TL_OK;
}

/* ---- what a message adds to the draft ---- */

enum { ABS_TEXT = 1, ABS_POINT = 2, ABS_PHOTO = 4, ABS_REFUSED = 8, ABS_ALBUM_MORE = 16 };

static int add_msg_text(struct hdl_draft *d, long long msg_id, const char *text)
{
    if (d->n_msgs >= HDL_DRAFT_MAX_MSGS) { /* full: the words still count, on the last */
        struct hdl_draft_msg *last = &d->msgs[HDL_DRAFT_MAX_MSGS - 1];
        char *j = last->text ? tl_asprintf("%s\n%s", last->text, text) : tl_strdup(text);
        if (!j)
            return TL_ENOMEM;
        free(last->text);
        last->text = j;
        return TL_OK;
    }
    struct hdl_draft_msg *m = &d->msgs[d->n_msgs];
    if (!(m->text = tl_strdup(text)))
        return TL_ENOMEM;
    m->id = msg_id;
    d->n_msgs++;
    return TL_OK;
}

static int has_text(const struct hdl_draft *d)
{
    for (size_t i = 0; i < d->n_msgs; i++)
        if (d->msgs[i].text && *d->msgs[i].text)
            return 1;
    return 0;
}

static void set_point(struct hdl_draft *d, double lat, double lon, double acc, const char *src)
{
    d->has_point = 1;
    d->lat = lat;
    d->lon = lon;
    d->accuracy_m = acc;
    tl_strlcpy(d->point_source, src, sizeof(d->point_source));
}

/* A place read from words: the best candidate; flags when it fits several places or
 * none inside the area. Returns 1 when a point was found. */
static int point_from_text(const struct hdl_ctx *ctx, struct hdl_draft *d, const char *text,
                           int *rc)
{
    struct geo_result g;
    struct tl_errinfo ei;
    *rc = TL_OK;
    if (!text || !*text || geo_parse_text(ctx->geo, text, strlen(text), &g, &ei) != TL_OK)
        return 0; /* words we cannot read cost the report nothing */
    int found = 0;
    if (g.n > 0) {
        set_point(d, g.cand[0].lat, g.cand[0].lon, g.cand[0].accuracy_m, GEO_SRC_TEXT);
        found = 1;
        if (g.ambiguous)
            *rc = draft_flag(d, "place_ambiguous");
    } else if (g.n_rej > 0) {
        *rc =
            draft_flag(d, strcmp(g.rej[0].reject, GEO_REASON_OUTSIDE_AREA) == 0 ? "outside_area"
                                                                                : "point_invalid");
    }
    if (*rc == TL_OK && !d->has_bearing && g.has_bearing) {
        d->has_bearing = 1;
        d->bearing = g.bearing_deg;
    }
    geo_result_release(&g);
    return found;
}

/* Adds what message m carries to the draft: its photo (sanitized into p->media, kept
 * with the draft), its location, its words. A file that cannot be cleaned is refused
 * with a reason (ABS_REFUSED, the reply queued). words: whether the text is part of
 * the description (not when it answered a step such as the time). */
static int absorb(const struct hdl_ctx *ctx, const struct tg_message *m, const struct hdl_file *f,
                  struct hdl_plan *p, struct hdl_draft *d, const char *lang, int words, int *what)
{
    int rc;
    *what = 0;
    int is_file = m->document.file_id != NULL || m->video.file_id != NULL;
    long long file_size = m->document.file_id ? m->document.file_size : m->video.file_size;
    int has_file = is_file || m->photo.file_id != NULL;
    int fetched = has_file && f && f->state == HDL_FILE_OK && f->len > 0;
    if (fetched) {
        struct media_facts facts;
        memset(&facts, 0, sizeof(facts));
        rc = take_media(ctx, m, f, p, &facts);
        if (rc == TL_ENOMEM)
            return rc;
        if (rc != TL_OK && is_file) {
            /* A file we cannot clean keeps every byte the camera wrote (GPS, owner,
             * serial): nothing of it is stored, the reporter is asked for a photo. */
            char *reason = keep(p, too_big_or(ctx, lang, refusal_key(rc, f)));
            *what = ABS_REFUSED;
            return send_text(
                p, m->chat_id,
                keep(p, hdl_text(lang, m->video.file_id ? "resend_video" : "resend_as_photo",
                                 "reason", reason ? reason : "", (char *)NULL)),
                NULL, 0, 1);
        }
        if (rc == TL_OK) {
            /* the facts live on this stack frame: the camera's time is copied */
            if (p->media.taken_local &&
                !(p->media.taken_local = keep(p, tl_strdup(p->media.taken_local))))
                return TL_ENOMEM;
            const char *gps_reason = NULL;
            if (facts.has_gps && geo_check(NULL, facts.lat, facts.lon, &gps_reason) != TL_OK)
                p->media.has_gps = 0; /* an impossible position is no fact: not kept */
            p->cx.media = &p->media;
            p->cx.n_media = 1;
            if (p->media.has_gps && !d->has_photo_gps) {
                d->has_photo_gps = 1;
                d->photo_lat = p->media.gps_lat;
                d->photo_lon = p->media.gps_lon;
            }
            int same_album = m->media_group_id && d->media_group_id &&
                             strcmp(m->media_group_id, d->media_group_id) == 0;
            if (m->media_group_id && (rc = set_str(&d->media_group_id, m->media_group_id)))
                return rc;
            d->n_media++;
            *what |= ABS_PHOTO | (same_album ? ABS_ALBUM_MORE : 0);
        } else if ((rc = draft_flag(d, "photo_missing")) != TL_OK) {
            return rc;
        }
    } else if (is_file && ((f && f->state == HDL_FILE_TOOBIG) ||
                           file_size > (long long)ctx->max_photo_bytes)) {
        char *reason = keep(p, too_big_or(ctx, lang, "reason_too_big"));
        *what = ABS_REFUSED;
        return send_text(
            p, m->chat_id,
            keep(p, hdl_text(lang, m->video.file_id ? "resend_video" : "resend_as_photo", "reason",
                             reason ? reason : "", (char *)NULL)),
            NULL, 0, 1);
    } else if (has_file && (rc = draft_flag(d, "photo_missing")) != TL_OK) {
        return rc;
    }
    if (m->location.present) {
        const char *why = NULL;
        if (geo_check(NULL, m->location.latitude, m->location.longitude, &why) == TL_OK) {
            set_point(d, m->location.latitude, m->location.longitude,
                      m->location.horizontal_accuracy,
                      m->venue_title            ? GEO_SRC_VENUE
                      : m->location.live_period ? GEO_SRC_LIVE_LOCATION
                                                : GEO_SRC_TELEGRAM_LOCATION);
            if (m->location.live_period)
                d->live_msg_id = m->message_id;
            if (m->location.heading > 0) {
                d->has_bearing = 1;
                d->bearing = m->location.heading % 360;
            }
            *what |= ABS_POINT;
        } else if ((rc = draft_flag(d, "point_invalid")) != TL_OK) {
            return rc;
        }
    }
    if (m->forwarded)
        d->forwarded = 1;
    if (words && m->text && *m->text) {
        if ((rc = add_msg_text(d, m->message_id, m->text)) != TL_OK)
            return rc;
        *what |= ABS_TEXT;
        if (!d->has_point && point_from_text(ctx, d, m->text, &rc))
            *what |= ABS_POINT;
        if (rc)
            return rc;
    }
    return TL_OK;
}

/* ---- the report a draft becomes ---- */

static int report_from_draft(const struct hdl_ctx *ctx, struct hdl_plan *p,
                             const struct hdl_draft *d)
{
    struct store_report_new *r = &p->report;
    int rc = hdl_new_ref(p->ref);
    if (rc)
        return rc;
    struct tl_buf b;
    tl_buf_init(&b, 0);
    for (size_t i = 0; i < d->n_msgs; i++) {
        if (!d->msgs[i].text || !*d->msgs[i].text)
            continue;
        if ((b.len && tl_buf_append(&b, "\n", 1)) ||
            tl_buf_append(&b, d->msgs[i].text, strlen(d->msgs[i].text))) {
            tl_buf_release(&b);
            return TL_ENOMEM;
        }
    }
    char *text = b.len ? keep(p, (char *)tl_buf_steal(&b, NULL)) : NULL;
    tl_buf_release(&b);
    *r = (struct store_report_new){
        .public_ref = p->ref,
        .reporter = p->pseudonym,
        .category = d->category ? keep(p, tl_strdup(d->category)) : NULL,
        .text = text,
        .has_bearing = d->has_bearing,
        .bearing = d->bearing,
        .observed_at = d->observed_at,
        .sent_at = d->sent_at,
        .forwarded = d->forwarded,
        .media_group_id = d->media_group_id ? keep(p, tl_strdup(d->media_group_id)) : NULL,
        .priority = 10,
        .flags = d->flags ? keep(p, tl_strdup(d->flags)) : NULL,
    };
    if (d->has_point) {
        r->has_point = 1;
        r->lat = d->lat;
        r->lon = d->lon;
        r->accuracy_m = d->accuracy_m;
        r->point_source = keep(p, tl_strdup(d->point_source));
        r->priority += strcmp(d->point_source, GEO_SRC_TEXT) == 0 ? 5 : 10;
    } else if (d->has_photo_gps) {
        r->has_point = 1;
        r->lat = d->photo_lat;
        r->lon = d->photo_lon;
        r->point_source = GEO_SRC_PHOTO_EXIF;
        r->priority += 10;
    }
    if (d->n_media > 0)
        r->priority += 10;
    if (d->category)
        r->priority += 5;
    if (d->has_point && d->has_photo_gps &&
        geo_haversine_m(d->photo_lat, d->photo_lon, d->lat, d->lon) > HDL_DISAGREE_M &&
        (rc = add_flag_to(p, &r->flags, "location_disagrees")))
        return rc;
    const char *reason = NULL;
    if (r->has_point && geo_check(ctx->geo, r->lat, r->lon, &reason) != TL_OK &&
        (rc = add_flag_to(p, &r->flags,
                          strcmp(reason, GEO_REASON_OUTSIDE_AREA) == 0 ? "outside_area"
                                                                       : "point_invalid")))
        return rc;
    if (r->bearing < 0 || r->bearing >= 360)
        r->has_bearing = 0;
    p->fx.report = r;
    return TL_OK;
}

/* ---- prompts ---- */

static const char *when_label(struct hdl_plan *p, const struct hdl_ctx *ctx, const char *lang,
                              double t)
{
    if (t <= 0)
        return T(p, lang, "value_none");
    time_t local = (time_t)(t + ctx->local_utc_offset_min * 60.0);
    struct tm tm;
    gmtime_r(&local, &tm);
    return keep(
        p, tl_asprintf("%02d:%02d %02d.%02d", tm.tm_hour, tm.tm_min, tm.tm_mday, tm.tm_mon + 1));
}

static const char *dir_keys[8] = {"dir_n", "dir_ne", "dir_e", "dir_se",
                                  "dir_s", "dir_sw", "dir_w", "dir_nw"};

static const char *bearing_label(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    if (!d->has_bearing)
        return T(p, lang, "value_none");
    int sector = (int)floor(fmod(d->bearing + 22.5, 360.0) / 45.0) & 7;
    return keep(p, tl_asprintf("%s (%.0f°)", T(p, lang, dir_keys[sector]), d->bearing));
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
        return T(p, lang, "value_none");
    }
    char *s = (char *)tl_buf_steal(&b, NULL);
    tl_buf_release(&b);
    if (s && hdl_utf16_len(s) > 3000) {
        size_t cut = hdl_utf16_prefix(s, 2999);
        char *t = tl_asprintf("%.*s…", (int)cut, s);
        free(s);
        s = t;
    }
    return keep(p, s);
}

static const char *place_label(struct hdl_plan *p, const char *lang, const struct hdl_draft *d)
{
    if (d->has_point)
        return keep(p, tl_asprintf("%.5f, %.5f", d->lat, d->lon));
    if (d->has_photo_gps)
        return keep(p, tl_asprintf("%.5f, %.5f (📷)", d->photo_lat, d->photo_lon));
    return T(p, lang, "value_none");
}

static const char *count_label(struct hdl_plan *p, int n)
{
    return keep(p, tl_asprintf("%d", n));
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
        h[nh++] = keep(p, tl_asprintf("🏷 %s", cat_label(p, lang, d->category)));
    if (d->has_point || d->has_photo_gps)
        h[nh++] = T(p, lang, "have_point");
    else
        m[nm++] = T(p, lang, "miss_point");
    if (d->n_media)
        h[nh++] =
            keep(p, hdl_text(lang, "have_photos", "n", count_label(p, d->n_media), (char *)NULL));
    else
        m[nm++] = T(p, lang, "miss_photo");
    if (has_text(d))
        h[nh++] = T(p, lang, "have_text");
    else
        m[nm++] = T(p, lang, "miss_text");
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
    return keep(p, text);
}

static const char *summary_text(struct hdl_plan *p, const struct hdl_ctx *ctx, const char *lang,
                                const struct hdl_draft *d)
{
    return keep(p,
                hdl_text(lang, "summary", "category",
                         d->category ? cat_label(p, lang, d->category) : T(p, lang, "value_none"),
                         "place", place_label(p, lang, d), "photos", count_label(p, d->n_media),
                         "when", when_label(p, ctx, lang, d->observed_at), "direction",
                         bearing_label(p, lang, d), "description", desc_label(p, lang, d),
                         (char *)NULL));
}

/* The prompt of d's step: its text and, for inline steps, its keyboard. Returns 0 for
 * the location step, whose keyboard is a reply keyboard (*markup set too). */
static int step_prompt(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_draft *d,
                       const char **text, struct json_object **markup)
{
    const char *lang = d->lang;
    struct json_object *kb = kb_new(), *row;
    long long id = d->id;
    *markup = kb;
    switch (d->step) {
    case HDL_STEP_QUICK:
        *text = quick_text(p, lang, d);
        row = kb_row(kb);
        kb_btn(row, T(p, lang, "btn_send_now"), id, "send");
        kb_btn(row, T(p, lang, "btn_step"), id, "g");
        kb_btn(kb_row(kb), T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_CATEGORY: {
        *text = T(p, lang, "ask_category");
        const char *list = categories(ctx);
        int col = 0;
        row = NULL;
        for (const char *s = list; s && *s;) {
            const char *e = strchr(s, ',');
            size_t l = e ? (size_t)(e - s) : strlen(s);
            char idb[40], act[48];
            if (l > 0 && l < sizeof(idb)) {
                memcpy(idb, s, l);
                idb[l] = 0;
                if (col++ % 2 == 0)
                    row = kb_row(kb);
                snprintf(act, sizeof(act), "c:%s", idb);
                kb_btn(row, cat_label(p, lang, idb), id, act);
            }
            s = e ? e + 1 : NULL;
        }
        kb_btn(kb_row(kb), T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    }
    case HDL_STEP_LOCATION: {
        json_object_put(kb);
        *text = T(p, lang, "ask_location");
        struct json_object *rk = json_object_new_object(), *rows = json_object_new_array();
        struct json_object *r1 = json_object_new_array(), *r2 = json_object_new_array();
        struct json_object *b1 = json_object_new_object(), *b2 = json_object_new_object(),
                           *b3 = json_object_new_object();
        json_object_object_add(b1, "text", json_object_new_string(T(p, lang, "btn_location")));
        json_object_object_add(b1, "request_location", json_object_new_boolean(1));
        json_object_object_add(b2, "text", json_object_new_string(T(p, lang, "btn_unknown")));
        json_object_object_add(b3, "text", json_object_new_string(T(p, lang, "btn_cancel")));
        json_object_array_add(r1, b1);
        json_object_array_add(r2, b2);
        json_object_array_add(r2, b3);
        json_object_array_add(rows, r1);
        json_object_array_add(rows, r2);
        json_object_object_add(rk, "keyboard", rows);
        json_object_object_add(rk, "resize_keyboard", json_object_new_boolean(1));
        json_object_object_add(rk, "one_time_keyboard", json_object_new_boolean(1));
        *markup = rk;
        return 0;
    }
    case HDL_STEP_MEDIA:
        *text = d->n_media ? keep(p, hdl_text(lang, "media_added", "n", count_label(p, d->n_media),
                                              (char *)NULL))
                           : T(p, lang, "ask_media");
        row = kb_row(kb);
        kb_btn(row, T(p, lang, d->n_media ? "btn_done" : "btn_skip"), id, "m");
        kb_btn(row, T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_WHEN:
        *text = T(p, lang, "ask_when");
        row = kb_row(kb);
        kb_btn(row, T(p, lang, "btn_now"), id, "w:0");
        kb_btn(row, T(p, lang, "btn_10"), id, "w:10");
        row = kb_row(kb);
        kb_btn(row, T(p, lang, "btn_30"), id, "w:30");
        kb_btn(row, T(p, lang, "btn_60"), id, "w:60");
        kb_btn(kb_row(kb), T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_DIRECTION: {
        *text = T(p, lang, "ask_direction");
        static const int grid[9] = {315, 0, 45, 270, -1, 90, 225, 180, 135};
        row = NULL;
        for (int i = 0; i < 9; i++) {
            if (i % 3 == 0)
                row = kb_row(kb);
            char act[16];
            if (grid[i] < 0) {
                kb_btn(row, T(p, lang, "btn_skip"), id, "d:skip");
                continue;
            }
            snprintf(act, sizeof(act), "d:%d", grid[i]);
            kb_btn(row, T(p, lang, dir_keys[grid[i] / 45]), id, act);
        }
        kb_btn(kb_row(kb), T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    }
    case HDL_STEP_DESCRIPTION:
        *text = T(p, lang, "ask_description");
        row = kb_row(kb);
        kb_btn(row, T(p, lang, "btn_skip"), id, "t");
        kb_btn(row, T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_SUMMARY:
        *text = summary_text(p, ctx, lang, d);
        row = kb_row(kb);
        kb_btn(row, T(p, lang, "btn_send"), id, "send");
        kb_btn(row, T(p, lang, "btn_edit"), id, "edit");
        kb_btn(kb_row(kb), T(p, lang, "btn_cancel"), id, "cancel");
        return 1;
    case HDL_STEP_EDIT: {
        static const struct {
            const char *key;
            enum hdl_step step;
        } items[] = {
            {"btn_e_category", HDL_STEP_CATEGORY},   {"btn_e_location", HDL_STEP_LOCATION},
            {"btn_e_media", HDL_STEP_MEDIA},         {"btn_e_when", HDL_STEP_WHEN},
            {"btn_e_direction", HDL_STEP_DIRECTION}, {"btn_e_description", HDL_STEP_DESCRIPTION}};
        *text = T(p, lang, "edit_which");
        row = NULL;
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
            char act[16];
            if (i % 2 == 0)
                row = kb_row(kb);
            snprintf(act, sizeof(act), "e:%d", (int)items[i].step);
            kb_btn(row, T(p, lang, items[i].key), id, act);
        }
        kb_btn(kb_row(kb), T(p, lang, "btn_back"), id, "back");
        return 1;
    }
    }
    return 1;
}

/* Shows d's current step: in place of the keyboard message edit_id when the step has
 * an inline keyboard, else as a new message (the older keyboard taken off). */
static int show_step(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
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
        return edit_text(p, chat_id, edit_id, text, markup);
    int rc = TL_OK;
    if (edit_id) /* a reply keyboard cannot replace an inline one: the old one goes */
        rc = drop_keyboard(p, chat_id, edit_id);
    long long old = cv ? cv->prompt_msg_id : 0;
    if (rc == TL_OK && !edit_id && old && old_step != HDL_STEP_LOCATION)
        rc = drop_keyboard(p, chat_id, old);
    if (rc == TL_OK)
        rc = send_text(p, chat_id, text, markup, 1, 1);
    else
        json_object_put(markup);
    return rc;
}

/* The next step of a guided draft; steps already answered are passed over. */
static enum hdl_step next_step(const struct hdl_ctx *ctx, const struct hdl_draft *d)
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
        if (is_moving(ctx, d->category) && !d->has_bearing)
            return HDL_STEP_DIRECTION;
        /* fall through */
    case HDL_STEP_DIRECTION:
        if (!has_text(d))
            return HDL_STEP_DESCRIPTION;
        return HDL_STEP_SUMMARY;
    default:
        return HDL_STEP_SUMMARY;
    }
}

/* Moves a guided draft on (an edit returns to the summary). */
static int advance(struct hdl_plan *p, const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                   struct hdl_draft *d, long long chat_id, long long edit_id)
{
    enum hdl_step old = d->step;
    d->step = next_step(ctx, d);
    d->editing = 0;
    return show_step(p, ctx, cv, d, chat_id, edit_id, old);
}

/* ---- the decision ---- */

struct turn {
    const struct hdl_ctx *ctx;
    const struct hdl_conv *cv;
    const struct tg_update *u;
    struct hdl_plan *p;
    struct hdl_draft *d; /* p->draft when the chat has (or gets) a draft, else NULL */
    const char *lang;
    long long chat_id;
};

/* Starts a new draft in p->draft. */
static struct hdl_draft *draft_start(struct turn *t, int guided, double date)
{
    struct hdl_draft *d = &t->p->draft;
    hdl_draft_release(d);
    d->id = t->u->update_id;
    d->guided = guided;
    d->step = guided ? HDL_STEP_CATEGORY : HDL_STEP_QUICK;
    tl_strlcpy(d->lang, t->lang, sizeof(d->lang));
    d->sent_at = date;
    t->p->has_draft = 1;
    t->d = d;
    return d;
}

static void draft_keep(struct turn *t)
{
    t->p->cx.draft_op = STORE_DRAFT_PUT;
    t->p->cx.draft_id = t->d->id;
}

static void draft_drop(struct turn *t)
{
    t->p->cx.draft_op = STORE_DRAFT_DELETE;
    t->p->has_draft = 0;
}

/* /cancel, "Cancel": the draft and its photos go; the reply keyboard too. */
static int cancel(struct turn *t, long long edit_id)
{
    struct hdl_plan *p = t->p;
    if (!t->d)
        return send_key(p, t->chat_id, t->lang, "nothing_to_cancel", NULL, 0, 0);
    draft_drop(t);
    if (edit_id)
        return edit_text(p, t->chat_id, edit_id, T(p, t->lang, "cancelled"), NULL);
    int rc = TL_OK;
    if (t->cv && t->cv->prompt_msg_id && t->d->step != HDL_STEP_LOCATION)
        rc = drop_keyboard(p, t->chat_id, t->cv->prompt_msg_id);
    struct json_object *rm = json_object_new_object();
    if (rm)
        json_object_object_add(rm, "remove_keyboard", json_object_new_boolean(1));
    return rc ? rc : send_key(p, t->chat_id, t->lang, "cancelled", rm, 0, 0);
}

static int send_report(struct turn *t, long long edit_id)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    int rc = report_from_draft(t->ctx, p, t->d);
    if (rc)
        return rc;
    p->cx.draft_id = t->d->id;
    draft_drop(t);
    struct json_object *kb = kb_new();
    char act[24];
    snprintf(act, sizeof(act), "x:%s", p->ref);
    const char *sent = keep(p, hdl_text(t->lang, "sent", "ref", p->ref, (char *)NULL));
    if (t->ctx->auto_clear_chat && lk && lk->clear_draft_id == t->d->id) {
        json_object_put(kb);
        for (size_t i = 0; i < lk->n_del && rc == TL_OK; i++)
            rc = delete_msg(p, t->chat_id, lk->del_ids[i]);
        if (edit_id && rc == TL_OK)
            rc = delete_msg(p, t->chat_id, edit_id);
        return rc ? rc : send_text(p, t->chat_id, sent, NULL, 0, 0);
    }
    kb_btn(kb_row(kb), T(p, t->lang, "btn_clear"), 0, act);
    if (edit_id)
        return edit_text(p, t->chat_id, edit_id, sent, kb);
    if (t->cv && t->cv->prompt_msg_id && t->d->step != HDL_STEP_LOCATION)
        rc = drop_keyboard(p, t->chat_id, t->cv->prompt_msg_id);
    return rc ? rc : send_text(p, t->chat_id, sent, kb, 0, 1);
}

static const char *command_of(const char *text)
{
    static const char *const cmds[] = {"/start",  "/help",   "/privacy", "/lang",
                                       "/cancel", "/report", "/send"};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        size_t l = strlen(cmds[i]);
        if (strncmp(text, cmds[i], l) == 0 && (text[l] == 0 || text[l] == ' ' || text[l] == '@'))
            return cmds[i];
    }
    return "/help";
}

static int lang_keyboard(struct turn *t)
{
    struct json_object *kb = kb_new(), *row = kb_row(kb);
    kb_btn(row, "🇺🇦 Українська", 0, "L:uk");
    kb_btn(row, "🇬🇧 English", 0, "L:en");
    return send_key(t->p, t->chat_id, t->lang, "lang_choose", kb, 0, 0);
}

static int on_command(struct turn *t, const struct tg_message *m)
{
    struct hdl_plan *p = t->p;
    const char *cmd = command_of(m->text);
    if (strcmp(cmd, "/cancel") == 0)
        return cancel(t, 0);
    if (strcmp(cmd, "/lang") == 0)
        return lang_keyboard(t);
    if (strcmp(cmd, "/report") == 0) {
        enum hdl_step old = t->d ? t->d->step : HDL_STEP_QUICK;
        if (!t->d)
            draft_start(t, 1, (double)m->date);
        if (!t->d->guided) { /* a quick draft goes on step by step; a guided one stays */
            t->d->guided = 1;
            t->d->step = t->d->category ? next_step(t->ctx, t->d) : HDL_STEP_CATEGORY;
        }
        draft_keep(t);
        p->cx.user_msg_id = m->message_id;
        return show_step(p, t->ctx, t->cv, t->d, t->chat_id, 0, old);
    }
    if (strcmp(cmd, "/send") == 0 && t->d)
        return send_report(t, 0);
    const char *key = strcmp(cmd, "/start") == 0     ? "conv_start"
                      : strcmp(cmd, "/privacy") == 0 ? "privacy"
                                                     : "conv_help";
    int rc = send_key(p, t->chat_id, t->lang, key, NULL, 0, 0);
    if (rc == TL_OK && t->d) { /* a draft in progress: show where it stands */
        draft_keep(t);
        rc = show_step(p, t->ctx, t->cv, t->d, t->chat_id, 0, t->d->step);
    }
    return rc;
}

/* Does text equal the label key in either language (a reply-keyboard button)? */
static int is_label(const char *text, const char *key)
{
    int hit = 0;
    static const char *const langs[] = {"uk", "en"};
    for (size_t i = 0; i < 2 && !hit; i++) {
        char *l = hdl_text(langs[i], key, (char *)NULL);
        hit = l && strcmp(l, text) == 0;
        free(l);
    }
    return hit;
}

/* A short acknowledgement that also takes the reply keyboard away. */
static int ack_removing_keyboard(struct turn *t, const char *key)
{
    struct json_object *rm = json_object_new_object();
    if (rm)
        json_object_object_add(rm, "remove_keyboard", json_object_new_boolean(1));
    return send_key(t->p, t->chat_id, t->lang, key, rm, 0, 1);
}

/* The location step answered: the reply keyboard goes with the acknowledgement, then
 * the next step. */
static int place_answered(struct turn *t, const char *key)
{
    int rc = ack_removing_keyboard(t, key);
    return rc ? rc : advance(t->p, t->ctx, t->cv, t->d, t->chat_id, 0);
}

/* A message in a private chat. */
static int on_message(struct turn *t, const struct tg_message *m, const struct hdl_file *f)
{
    struct hdl_plan *p = t->p;
    int rc;
    if (m->is_command && m->text)
        return on_command(t, m);
    const char *text = m->text && *m->text ? m->text : NULL;
    if (!t->d && !text && !m->photo.file_id && !m->document.file_id && !m->video.file_id &&
        !m->location.present) {
        if (m->has_video) {
            char *reason = keep(p, hdl_text(t->lang, "reason_video", (char *)NULL));
            return send_text(p, t->chat_id,
                             keep(p, hdl_text(t->lang, "resend_as_photo", "reason",
                                              reason ? reason : "", (char *)NULL)),
                             NULL, 0, 0);
        }
        return send_key(p, t->chat_id, t->lang, "unsupported", NULL, 0, 0);
    }
    int fresh = !t->d;
    if (fresh)
        draft_start(t, 0, (double)m->date);
    struct hdl_draft *d = t->d;
    enum hdl_step step = d->step;
    /* the reply keyboard of the location step */
    if (step == HDL_STEP_LOCATION && text && is_label(text, "btn_cancel"))
        return cancel(t, 0);
    p->cx.user_msg_id = m->message_id;
    draft_keep(t);
    int words = !(
        text && (step == HDL_STEP_LOCATION || step == HDL_STEP_WHEN || step == HDL_STEP_DIRECTION));
    int what = 0;
    if ((rc = absorb(t->ctx, m, f, p, d, t->lang, words, &what)) != TL_OK)
        return rc;
    if (what & ABS_REFUSED) {
        if (fresh)
            p->cx.draft_op = STORE_DRAFT_KEEP, p->has_draft = 0, p->cx.user_msg_id = 0;
        return TL_OK;
    }
    if (!what && !text && m->has_video) {
        char *reason = keep(p, hdl_text(t->lang, "reason_video", (char *)NULL));
        rc = send_text(p, t->chat_id,
                       keep(p, hdl_text(t->lang, "resend_as_photo", "reason", reason ? reason : "",
                                        (char *)NULL)),
                       NULL, 0, 1);
        if (fresh)
            p->cx.draft_op = STORE_DRAFT_KEEP, p->has_draft = 0, p->cx.user_msg_id = 0;
        return rc;
    }
    if (!what && !text && m->location.present && fresh) {
        p->cx.draft_op = STORE_DRAFT_KEEP;
        p->has_draft = 0;
        p->cx.user_msg_id = 0;
        return send_key(p, t->chat_id, t->lang, "location_invalid", NULL, 0, 0);
    }
    if ((what & ABS_ALBUM_MORE) && !(what & ~(ABS_PHOTO | ABS_ALBUM_MORE)))
        return TL_OK; /* the rest of an album: one answer for the set */
    switch (step) {
    case HDL_STEP_LOCATION:
        if (what & ABS_POINT)
            return place_answered(t, "location_saved");
        if (text && is_label(text, "btn_unknown"))
            return place_answered(t, "location_unknown");
        if (text) {
            int found = point_from_text(t->ctx, d, text, &rc);
            if (rc)
                return rc;
            if (found)
                return place_answered(t, "location_saved");
            return send_key(p, t->chat_id, t->lang, "location_unreadable", NULL, 0, 1);
        }
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_WHEN:
        if (text) {
            double at;
            double now = m->date > 0 ? (double)m->date : 0;
            if (hdl_parse_when(text, now, t->ctx->local_utc_offset_min, &at) != TL_OK)
                return send_key(p, t->chat_id, t->lang, "when_unreadable", NULL, 0, 1);
            d->observed_at = at;
            return advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        }
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_DIRECTION:
        if (text) {
            double deg;
            if (hdl_parse_bearing(text, &deg) != TL_OK)
                return send_key(p, t->chat_id, t->lang, "direction_unreadable", NULL, 0, 1);
            d->has_bearing = 1;
            d->bearing = deg;
            return advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        }
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_DESCRIPTION:
        if (what & ABS_TEXT)
            return advance(p, t->ctx, t->cv, d, t->chat_id, 0);
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_SUMMARY:
    case HDL_STEP_EDIT:
        d->step = HDL_STEP_SUMMARY;
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    case HDL_STEP_QUICK:
    case HDL_STEP_CATEGORY:
    case HDL_STEP_MEDIA:
        return show_step(p, t->ctx, t->cv, d, t->chat_id, 0, step);
    }
    return TL_OK;
}

/* An edited message: before sending it changes the draft; after, it is an addendum. */
static int on_edit(struct turn *t, const struct tg_message *m)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    if (t->d) {
        int changed = 0, rc;
        if (m->location.present && m->message_id == t->d->live_msg_id) {
            const char *why = NULL;
            if (geo_check(NULL, m->location.latitude, m->location.longitude, &why) == TL_OK) {
                set_point(t->d, m->location.latitude, m->location.longitude,
                          m->location.horizontal_accuracy, GEO_SRC_LIVE_LOCATION);
                if (m->location.heading > 0) {
                    t->d->has_bearing = 1;
                    t->d->bearing = m->location.heading % 360;
                }
                changed = 1;
            }
        }
        for (size_t i = 0; i < t->d->n_msgs && m->text; i++)
            if (t->d->msgs[i].id == m->message_id) {
                if ((rc = set_str(&t->d->msgs[i].text, m->text)) != TL_OK)
                    return rc;
                changed = 1;
            }
        if (changed) {
            draft_keep(t);
            return TL_OK;
        }
    }
    if (lk && lk->edit_ref[0] && m->text && *m->text) {
        p->cx.addendum_ref = keep(p, tl_strdup(lk->edit_ref));
        p->cx.addendum_text = m->text;
        p->cx.addendum_reporter = p->pseudonym;
        return send_text(
            p, t->chat_id,
            keep(p, hdl_text(t->lang, "edit_added", "ref", lk->edit_ref, (char *)NULL)), NULL, 0,
            0);
    }
    if (t->d) /* a draft message edited to the same thing, or another's: nothing changes */
        hdl_draft_release(&p->draft), p->has_draft = 0;
    return TL_OK;
}

static int on_clear(struct turn *t, const struct tg_callback *cb, const struct hdl_cb *c)
{
    struct hdl_plan *p = t->p;
    const struct store_conv_lookup *lk = t->cv ? t->cv->lk : NULL;
    if (!lk || !lk->clear_found)
        return answer_cb(p, cb, T(p, t->lang, "clear_unknown"));
    int rc = answer_cb(p, cb, NULL);
    size_t n = 0;
    for (size_t i = 0; i < lk->n_del && rc == TL_OK; i++, n++)
        rc = delete_msg(p, t->chat_id, lk->del_ids[i]);
    if (rc)
        return rc;
    const char *nn = count_label(p, (int)n), *mm = count_label(p, (int)lk->n_undeletable);
    return send_text(p, t->chat_id,
                     keep(p, lk->n_undeletable ? hdl_text(t->lang, "cleared_partly", "n", nn, "ref",
                                                          c->arg, "m", mm, (char *)NULL)
                                               : hdl_text(t->lang, "cleared", "n", nn, "ref",
                                                          c->arg, (char *)NULL)),
                     NULL, 0, 0);
}

/* Is the button's action one the draft's step can take? */
static int cb_fits(const struct hdl_draft *d, enum hdl_cb_act a)
{
    switch (a) {
    case HDL_CB_CATEGORY:
        return d->step == HDL_STEP_CATEGORY;
    case HDL_CB_MEDIA_DONE:
        return d->step == HDL_STEP_MEDIA;
    case HDL_CB_WHEN:
        return d->step == HDL_STEP_WHEN;
    case HDL_CB_DIRECTION:
        return d->step == HDL_STEP_DIRECTION;
    case HDL_CB_SKIP_TEXT:
        return d->step == HDL_STEP_DESCRIPTION;
    case HDL_CB_EDIT:
        return d->step == HDL_STEP_SUMMARY;
    case HDL_CB_EDIT_STEP:
    case HDL_CB_BACK:
        return d->step == HDL_STEP_EDIT;
    case HDL_CB_GUIDED:
        return d->step == HDL_STEP_QUICK;
    case HDL_CB_SEND: /* "Send now" of a reminder works at any step */
    case HDL_CB_CANCEL:
        return 1;
    default:
        return 0;
    }
}

/* The moment a button was pressed (callbacks carry no date): the runtime's clock. */
static double cb_now(const struct turn *t)
{
    return t->cv && t->cv->now > 0 ? t->cv->now : (double)time(NULL);
}

static int on_callback(struct turn *t, const struct tg_callback *cb)
{
    struct hdl_plan *p = t->p;
    struct hdl_cb c;
    long long mid = cb->message_id;
    if (hdl_cb_parse(cb->data, &c) != TL_OK)
        return answer_cb(p, cb, T(p, t->lang, "stale_button"));
    if (c.act == HDL_CB_LANG) {
        t->lang = hdl_lang_pick(c.arg);
        p->fx.lang = t->lang;
        if (t->d) {
            tl_strlcpy(t->d->lang, t->lang, sizeof(t->d->lang));
            draft_keep(t);
        }
        int rc = answer_cb(p, cb, NULL);
        return rc ? rc : edit_text(p, t->chat_id, mid, T(p, t->lang, "lang_switched"), NULL);
    }
    if (c.act == HDL_CB_CLEAR)
        return on_clear(t, cb, &c);
    struct hdl_draft *d = t->d;
    if (!d || d->id != c.draft_id || !cb_fits(d, c.act)) {
        /* a keyboard of a draft sent, cancelled or expired, or of an earlier step */
        if (t->d)
            hdl_draft_release(&p->draft), p->has_draft = 0, t->d = NULL;
        return answer_cb(p, cb, T(p, t->lang, "stale_button"));
    }
    int rc = answer_cb(p, cb, NULL);
    if (rc)
        return rc;
    draft_keep(t);
    switch (c.act) {
    case HDL_CB_CANCEL:
        return cancel(t, mid);
    case HDL_CB_SEND:
        return send_report(t, mid);
    case HDL_CB_GUIDED:
        d->guided = 1;
        d->step = HDL_STEP_CATEGORY;
        return show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_QUICK);
    case HDL_CB_CATEGORY:
        if (!in_list(categories(t->ctx), c.arg))
            return TL_OK;
        if ((rc = set_str(&d->category, c.arg)) != TL_OK)
            return rc;
        if (next_step(t->ctx, d) != HDL_STEP_LOCATION) /* an inline step: in place */
            return advance(p, t->ctx, t->cv, d, t->chat_id, mid);
        rc = edit_text(p, t->chat_id, mid,
                       keep(p, hdl_text(t->lang, "chosen_category", "category",
                                        cat_label(p, t->lang, c.arg), (char *)NULL)),
                       NULL);
        return rc ? rc : advance(p, t->ctx, NULL, d, t->chat_id, 0);
    case HDL_CB_MEDIA_DONE:
        return advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    case HDL_CB_WHEN: {
        long long mins = 0;
        if (tl_parse_ll(c.arg, &mins) != TL_OK || mins < 0 || mins > 7 * 24 * 60)
            return TL_OK;
        d->observed_at = (cb_now(t) - mins * 60.0);
        return advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    }
    case HDL_CB_DIRECTION:
        if (strcmp(c.arg, "skip") != 0) {
            long long deg = 0;
            if (tl_parse_ll(c.arg, &deg) != TL_OK || deg < 0 || deg >= 360)
                return TL_OK;
            d->has_bearing = 1;
            d->bearing = (double)deg;
        }
        return advance(p, t->ctx, t->cv, d, t->chat_id, mid);
    case HDL_CB_SKIP_TEXT:
        d->editing = 0;
        d->step = HDL_STEP_SUMMARY;
        return show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_DESCRIPTION);
    case HDL_CB_EDIT:
        d->step = HDL_STEP_EDIT;
        return show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_SUMMARY);
    case HDL_CB_BACK:
        d->step = HDL_STEP_SUMMARY;
        return show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_EDIT);
    case HDL_CB_EDIT_STEP: {
        long long st = 0;
        if (tl_parse_ll(c.arg, &st) != TL_OK || st < HDL_STEP_CATEGORY || st > HDL_STEP_DESCRIPTION)
            return TL_OK;
        d->step = (enum hdl_step)st;
        d->editing = 1;
        if (d->step == HDL_STEP_DESCRIPTION) { /* the new words replace the old */
            for (size_t i = 0; i < d->n_msgs; i++) {
                free(d->msgs[i].text);
                d->msgs[i].text = NULL;
            }
        }
        if (d->step == HDL_STEP_LOCATION) { /* a reply keyboard: a new message */
            rc = edit_text(p, t->chat_id, mid, T(p, t->lang, "edit_which"), NULL);
            return rc ? rc : show_step(p, t->ctx, NULL, d, t->chat_id, 0, HDL_STEP_EDIT);
        }
        return show_step(p, t->ctx, t->cv, d, t->chat_id, mid, HDL_STEP_EDIT);
    }
    default:
        return TL_OK;
    }
}

/* ---- entry points ---- */

void hdl_lookup_wanted(const struct hdl_ctx *ctx, const struct hdl_conv *cv,
                       const struct tg_update *u, struct store_conv_lookup *lk, char pseudonym[65])
{
    memset(lk, 0, sizeof(*lk));
    lk->max_age_s = 47 * 3600; /* Telegram: 48 h, less a margin for the queue */
    if (u->kind == TG_UPD_EDITED_MESSAGE && u->msg.chat_type == TG_CHAT_PRIVATE && u->msg.text)
        lk->edit_msg_id = u->msg.message_id;
    if (u->kind != TG_UPD_CALLBACK_QUERY)
        return;
    struct hdl_cb c;
    if (hdl_cb_parse(u->cb.data, &c) != TL_OK)
        return;
    if (c.act == HDL_CB_CLEAR &&
        hdl_pseudonym(ctx->secret, ctx->secret_len, u->cb.from_id, pseudonym) == TL_OK) {
        lk->clear_ref = u->cb.data + 2; /* borrowed from u: the arg, checked by the parse */
        lk->pseudonym = pseudonym;
    } else if (c.act == HDL_CB_SEND && ctx->auto_clear_chat && cv && cv->draft &&
               cv->draft->id == c.draft_id) {
        lk->clear_draft_id = c.draft_id;
    }
}

/* Where the update comes from: a message in a group or a channel gets one polite
 * pointer to the private chat, once per chat, and nothing else. */
static int not_private(struct turn *t, const struct tg_message *m)
{
    if (t->cv && t->cv->notice_sent)
        return TL_OK;
    t->p->cx.chat_id = m->chat_id;
    t->p->cx.notice = 1;
    return send_key(t->p, m->chat_id, t->lang, "private_only", NULL, 0, 0);
}

int hdl_decide(const struct hdl_ctx *ctx, const struct hdl_conv *cv, const struct tg_update *u,
               const struct hdl_file *f, struct hdl_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->fx.update_id = u->update_id;
    p->fx.set_blocked = -1;
    struct turn t = {.ctx = ctx, .cv = cv, .u = u, .p = p};
    int rc = TL_OK;
    long long from = 0;
    const char *code = NULL;
    switch (u->kind) {
    case TG_UPD_MESSAGE:
    case TG_UPD_EDITED_MESSAGE:
        t.chat_id = u->msg.chat_id;
        from = u->msg.from_is_bot ? 0 : u->msg.from_id;
        code = u->msg.language_code;
        break;
    case TG_UPD_CALLBACK_QUERY:
        t.chat_id = u->cb.chat_id ? u->cb.chat_id : u->cb.from_id;
        from = u->cb.from_id;
        code = u->cb.language_code;
        break;
    case TG_UPD_MY_CHAT_MEMBER:
        if (u->member.chat_type == TG_CHAT_GROUP || u->member.chat_type == TG_CHAT_SUPERGROUP) {
            /* added to a group: the one pointer to the private chat, said at once */
            const char *st = u->member.new_status ? u->member.new_status : "";
            t.chat_id = u->member.chat_id;
            t.lang = "uk";
            if (t.chat_id && (strcmp(st, "member") == 0 || strcmp(st, "administrator") == 0) &&
                !(cv && cv->notice_sent)) {
                p->cx.chat_id = t.chat_id;
                p->cx.notice = 1;
                return send_key(p, t.chat_id, t.lang, "private_only", NULL, 0, 0);
            }
            return TL_OK;
        }
        if (u->member.chat_type == TG_CHAT_PRIVATE && u->member.from_id) {
            if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, u->member.from_id,
                                    p->pseudonym)) != TL_OK)
                return rc;
            p->fx.chat_id = u->member.chat_id;
            p->fx.pseudonym = p->pseudonym;
            const char *st = u->member.new_status ? u->member.new_status : "";
            p->fx.set_blocked = strcmp(st, "kicked") == 0 ? 1 : strcmp(st, "member") == 0 ? 0 : -1;
        }
        return TL_OK;
    case TG_UPD_OTHER:
        return TL_OK; /* recorded in the inbox, nothing else to do */
    }
    if (!t.chat_id)
        return TL_OK; /* no chat to answer in (a malformed update): nothing to do */
    t.lang = cv && cv->chat_lang ? hdl_lang_pick(cv->chat_lang) : hdl_lang_pick(code);
    if (u->kind != TG_UPD_CALLBACK_QUERY && u->msg.chat_type != TG_CHAT_PRIVATE) {
        if (u->kind == TG_UPD_MESSAGE && !u->msg.from_is_bot)
            return not_private(&t, &u->msg);
        return TL_OK;
    }
    if (!from)
        return TL_OK; /* other bots, channel posts: never a reporter */
    if (u->kind == TG_UPD_CALLBACK_QUERY && u->cb.chat_id && u->cb.chat_id != u->cb.from_id)
        return answer_cb(p, &u->cb, NULL); /* a keyboard in a group: answered, nothing else */
    if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, from, p->pseudonym)) != TL_OK)
        return rc;
    p->fx.chat_id = t.chat_id;
    p->fx.pseudonym = p->pseudonym;
    p->fx.lang = cv && cv->chat_lang ? NULL : t.lang; /* /lang's choice is kept */
    p->cx.chat_id = t.chat_id;
    if (cv && cv->draft) {
        if ((rc = hdl_draft_copy(cv->draft, &p->draft)) != TL_OK)
            return rc;
        p->has_draft = 1;
        t.d = &p->draft;
        t.lang = t.d->lang[0] ? t.d->lang : t.lang;
    }
    switch (u->kind) {
    case TG_UPD_MESSAGE:
        rc = on_message(&t, &u->msg, f);
        break;
    case TG_UPD_EDITED_MESSAGE:
        rc = on_edit(&t, &u->msg);
        break;
    default:
        rc = on_callback(&t, &u->cb);
        break;
    }
    if (rc == TL_OK && p->cx.draft_op == STORE_DRAFT_PUT) {
        char *json = keep(p, hdl_draft_to_json(&p->draft));
        if (!json)
            return TL_ENOMEM;
        p->cx.draft_json = json;
        p->cx.draft_id = p->draft.id;
        p->cx.idle_minutes = ctx->draft_idle_minutes > 0 ? ctx->draft_idle_minutes : 30;
    }
    return rc;
}

int hdl_plan_reref(struct hdl_plan *p)
{
    char old[16];
    tl_strlcpy(old, p->ref, sizeof(old));
    int rc = hdl_new_ref(p->ref);
    if (rc)
        return rc;
    /* the acknowledgement (text and params, both owned) quotes the reference:
     * rewrite it in place, same length */
    for (size_t i = 0; i < p->n_owned; i++) {
        char *hit = p->owned[i];
        while ((hit = strstr(hit, old)) != NULL)
            memcpy(hit, p->ref, strlen(p->ref));
    }
    return TL_OK;
}

void hdl_plan_release(struct hdl_plan *p)
{
    for (size_t i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    free(p->owned);
    p->owned = NULL;
    p->n_owned = p->cap_owned = 0;
    free(p->out);
    p->out = NULL;
    p->n_out = p->cap_out = 0;
    free(p->media_bytes);
    p->media_bytes = NULL;
    hdl_draft_release(&p->draft);
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
        struct json_object *kb = kb_new(), *row = kb_row(kb);
        char *l1 = hdl_text(lang, "btn_send_now", (char *)NULL);
        char *l2 = hdl_text(lang, "btn_cancel", (char *)NULL);
        kb_btn(row, l1, 0, "__DRAFT__:send");
        kb_btn(row, l2, 0, "__DRAFT__:cancel");
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
