/* bot/update.c - the update model: turns one Telegram Update (outside bytes) into
 * struct tg_update. Bounded in size and depth; a field of the wrong type is read
 * as absent, never trusted, so any JSON yields either TL_OK or TL_EPARSE. */
#include "tg.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "common/banned.h"

#define TG_UPDATE_MAX_LEN ((size_t)1 << 20)
#define TG_UPDATE_MAX_DEPTH 32

static struct json_object *get_obj(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_object))
        return v;
    return NULL;
}

static struct json_object *get_arr(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array))
        return v;
    return NULL;
}

static const char *get_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

/* Sets *ok when the field is an integer. */
static long long get_ll(struct json_object *o, const char *k, int *ok)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)) {
        if (ok)
            *ok = 1;
        return json_object_get_int64(v);
    }
    if (ok)
        *ok = 0;
    return 0;
}

static int get_dbl(struct json_object *o, const char *k, double *out)
{
    struct json_object *v;
    if (o && json_object_object_get_ex(o, k, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
        double d = json_object_get_double(v);
        if (!isfinite(d))
            return 0;
        *out = d;
        return 1;
    }
    return 0;
}

static int get_bool(struct json_object *o, const char *k)
{
    struct json_object *v;
    return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

static int dup_str(struct json_object *o, const char *k, char **out)
{
    const char *s = get_str(o, k);
    if (!s)
        return TL_OK;
    *out = tl_strdup(s);
    return *out ? TL_OK : TL_ENOMEM;
}

static int clamp_int(long long v, long long lo, long long hi)
{
    return (int)(v < lo ? lo : v > hi ? hi : v);
}

static enum tg_chat_type chat_type(struct json_object *chat)
{
    const char *t = get_str(chat, "type");
    if (!t)
        return TG_CHAT_UNKNOWN;
    if (strcmp(t, "private") == 0)
        return TG_CHAT_PRIVATE;
    if (strcmp(t, "group") == 0)
        return TG_CHAT_GROUP;
    if (strcmp(t, "supergroup") == 0)
        return TG_CHAT_SUPERGROUP;
    if (strcmp(t, "channel") == 0)
        return TG_CHAT_CHANNEL;
    return TG_CHAT_UNKNOWN;
}

static int file_ref(struct json_object *o, struct tg_file_ref *f)
{
    int ok, rc;
    if ((rc = dup_str(o, "file_id", &f->file_id)) ||
        (rc = dup_str(o, "file_unique_id", &f->file_unique_id)) ||
        (rc = dup_str(o, "mime_type", &f->mime_type)) ||
        (rc = dup_str(o, "file_name", &f->file_name)))
        return rc;
    long long sz = get_ll(o, "file_size", &ok);
    f->file_size = ok && sz >= 0 ? sz : -1;
    f->width = clamp_int(get_ll(o, "width", NULL), 0, 1000000);
    f->height = clamp_int(get_ll(o, "height", NULL), 0, 1000000);
    return TL_OK;
}

static void file_ref_release(struct tg_file_ref *f)
{
    free(f->file_id);
    free(f->file_unique_id);
    free(f->mime_type);
    free(f->file_name);
    memset(f, 0, sizeof(*f));
    f->file_size = -1;
}

/* The largest PhotoSize by pixel count (file size breaks ties): the original as
 * closely as Telegram keeps it. Entries without a file_id are skipped. */
static struct json_object *largest_photo(struct json_object *arr)
{
    struct json_object *best = NULL;
    long long best_px = -1, best_sz = -1;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        struct json_object *p = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(p, json_type_object) || !get_str(p, "file_id"))
            continue;
        long long w = clamp_int(get_ll(p, "width", NULL), 0, 1000000);
        long long h = clamp_int(get_ll(p, "height", NULL), 0, 1000000);
        long long sz = get_ll(p, "file_size", NULL);
        if (w * h > best_px || (w * h == best_px && sz > best_sz)) {
            best = p;
            best_px = w * h;
            best_sz = sz;
        }
    }
    return best;
}

static void location(struct json_object *o, struct tg_location *l)
{
    double lat, lon, d;
    if (!o || !get_dbl(o, "latitude", &lat) || !get_dbl(o, "longitude", &lon))
        return;
    if (lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return;
    l->present = 1;
    l->latitude = lat;
    l->longitude = lon;
    if (get_dbl(o, "horizontal_accuracy", &d) && d >= 0 && d <= 1e7)
        l->horizontal_accuracy = d;
    l->live_period = clamp_int(get_ll(o, "live_period", NULL), 0, 0x7fffffff);
    long long hd = get_ll(o, "heading", NULL);
    l->heading = hd >= 1 && hd <= 360 ? (int)hd : 0;
}

static int starts_with_command(struct json_object *entities)
{
    size_t n = entities ? json_object_array_length(entities) : 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *e = json_object_array_get_idx(entities, i);
        const char *t = get_str(e, "type");
        int ok;
        long long off = get_ll(e, "offset", &ok);
        if (t && strcmp(t, "bot_command") == 0 && ok && off == 0)
            return 1;
    }
    return 0;
}

static int message(struct json_object *m, struct tg_message *out)
{
    int rc;
    struct json_object *chat = get_obj(m, "chat"), *from = get_obj(m, "from"), *arr, *o;
    out->message_id = get_ll(m, "message_id", NULL);
    out->chat_id = get_ll(chat, "id", NULL);
    out->chat_type = chat_type(chat);
    out->from_id = get_ll(from, "id", NULL);
    out->from_is_bot = get_bool(from, "is_bot");
    if ((rc = dup_str(from, "language_code", &out->language_code)))
        return rc;
    out->date = get_ll(m, "date", NULL);
    out->edit_date = get_ll(m, "edit_date", NULL);
    const char *text = get_str(m, "text");
    struct json_object *entities = get_arr(m, "entities");
    if (!text) {
        text = get_str(m, "caption");
        entities = get_arr(m, "caption_entities");
    }
    if (text && !(out->text = tl_strdup(text)))
        return TL_ENOMEM;
    out->is_command = text && text[0] == '/' && starts_with_command(entities);
    if ((arr = get_arr(m, "photo")) && (o = largest_photo(arr)) && (rc = file_ref(o, &out->photo)))
        return rc;
    if ((o = get_obj(m, "document")) && get_str(o, "file_id") && (rc = file_ref(o, &out->document)))
        return rc;
    out->has_video = get_obj(m, "video") || get_obj(m, "animation") || get_obj(m, "video_note");
    if (!(o = get_obj(m, "video")) && !(o = get_obj(m, "video_note")))
        o = get_obj(m, "animation");
    if (o && get_str(o, "file_id") && (rc = file_ref(o, &out->video)))
        return rc;
    struct json_object *venue = get_obj(m, "venue");
    location(get_obj(m, "location"), &out->location);
    if (!out->location.present)
        location(get_obj(venue, "location"), &out->location);
    if (venue && ((rc = dup_str(venue, "title", &out->venue_title)) ||
                  (rc = dup_str(venue, "address", &out->venue_address))))
        return rc;
    /* relay: which message this one answers (a message id is positive) */
    long long reply_to = get_ll(get_obj(m, "reply_to_message"), "message_id", NULL);
    out->reply_to_id = reply_to > 0 ? reply_to : 0;
    out->forwarded = get_obj(m, "forward_origin") || get_obj(m, "forward_from") ||
                     get_obj(m, "forward_from_chat") || get_str(m, "forward_sender_name") ||
                     get_ll(m, "forward_date", NULL) != 0;
    return dup_str(m, "media_group_id", &out->media_group_id);
}

static int callback(struct json_object *q, struct tg_callback *out)
{
    int rc;
    struct json_object *from = get_obj(q, "from"), *msg = get_obj(q, "message");
    if ((rc = dup_str(q, "id", &out->id)) ||
        (rc = dup_str(from, "language_code", &out->language_code)) ||
        (rc = dup_str(q, "data", &out->data)))
        return rc;
    out->from_id = get_ll(from, "id", NULL);
    out->chat_id = get_ll(get_obj(msg, "chat"), "id", NULL);
    out->chat_type = get_obj(msg, "chat") ? chat_type(get_obj(msg, "chat")) : TG_CHAT_UNKNOWN;
    out->message_id = get_ll(msg, "message_id", NULL);
    return TL_OK;
}

static int member(struct json_object *mc, struct tg_member_change *out)
{
    int rc;
    struct json_object *chat = get_obj(mc, "chat");
    out->chat_id = get_ll(chat, "id", NULL);
    out->chat_type = chat_type(chat);
    out->from_id = get_ll(get_obj(mc, "from"), "id", NULL);
    if ((rc = dup_str(get_obj(mc, "old_chat_member"), "status", &out->old_status)) ||
        (rc = dup_str(get_obj(mc, "new_chat_member"), "status", &out->new_status)))
        return rc;
    return TL_OK;
}

static void init(struct tg_update *u)
{
    memset(u, 0, sizeof(*u));
    u->msg.photo.file_size = -1;
    u->msg.document.file_size = -1;
    u->msg.video.file_size = -1;
}

int tg_update_from_json(struct json_object *obj, struct tg_update *out)
{
    init(out);
    if (!json_object_is_type(obj, json_type_object))
        return TL_EPARSE;
    int ok, rc = TL_OK;
    out->update_id = get_ll(obj, "update_id", &ok);
    if (!ok)
        return TL_EPARSE;
    struct json_object *o;
    if ((o = get_obj(obj, "message"))) {
        out->kind = TG_UPD_MESSAGE;
        rc = message(o, &out->msg);
    } else if ((o = get_obj(obj, "edited_message"))) {
        out->kind = TG_UPD_EDITED_MESSAGE;
        rc = message(o, &out->msg);
    } else if ((o = get_obj(obj, "callback_query"))) {
        out->kind = TG_UPD_CALLBACK_QUERY;
        rc = callback(o, &out->cb);
    } else if ((o = get_obj(obj, "my_chat_member"))) {
        out->kind = TG_UPD_MY_CHAT_MEMBER;
        rc = member(o, &out->member);
    }
    return rc;
}

int tg_update_parse(const char *json, size_t len, struct tg_update *out)
{
    init(out);
    if (len > TG_UPDATE_MAX_LEN)
        return TL_ETOOBIG;
    if (!json || len == 0)
        return TL_EPARSE;
    json_tokener *tok = json_tokener_new_ex(TG_UPDATE_MAX_DEPTH);
    if (!tok)
        return TL_ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    struct json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
    int rc;
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && strchr(" \t\r\n", json[end]) && json[end])
        end++;
    if (!obj || json_tokener_get_error(tok) != json_tokener_success || end != len)
        rc = TL_EPARSE;
    else
        rc = tg_update_from_json(obj, out);
    json_object_put(obj);
    json_tokener_free(tok);
    return rc;
}

void tg_update_release(struct tg_update *u)
{
    if (!u)
        return;
    free(u->msg.language_code);
    free(u->msg.text);
    file_ref_release(&u->msg.photo);
    file_ref_release(&u->msg.document);
    file_ref_release(&u->msg.video);
    free(u->msg.venue_title);
    free(u->msg.venue_address);
    free(u->msg.media_group_id);
    free(u->cb.id);
    free(u->cb.language_code);
    free(u->cb.data);
    free(u->member.old_status);
    free(u->member.new_status);
    init(u);
}

long long tg_update_chat_key(struct json_object *update)
{
    struct json_object *o;
    if ((o = get_obj(update, "message")) || (o = get_obj(update, "edited_message")))
        return get_ll(get_obj(o, "chat"), "id", NULL);
    if ((o = get_obj(update, "callback_query"))) {
        long long id = get_ll(get_obj(get_obj(o, "message"), "chat"), "id", NULL);
        return id ? id : get_ll(get_obj(o, "from"), "id", NULL);
    }
    if ((o = get_obj(update, "my_chat_member")))
        return get_ll(get_obj(o, "chat"), "id", NULL);
    return 0;
}

const char *tg_update_callback_message_text(struct json_object *update)
{
    struct json_object *m = get_obj(get_obj(update, "callback_query"), "message");
    const char *t = get_str(m, "text");
    return t ? t : get_str(m, "caption");
}
