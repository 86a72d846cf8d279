/* handlers/draft.c - the draft as data: its JSON form in drafts.state, and the small
 * parsers of what citizens and buttons send (callback data, a typed time, a typed
 * direction), plus Telegram's way of measuring text (UTF-16 code units). Pure. */
#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/tz.h"
#include "common/util.h"
#include "hdl.h"
#include "common/banned.h"

/* ---- JSON ---- */

static const char *const step_names[] = {"quick",     "category",    "location", "media", "when",
                                         "direction", "description", "summary",  "edit"};

static struct json_object *jstr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

char *hdl_draft_to_json(const struct hdl_draft *d)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    json_object_object_add(o, "id", json_object_new_int64(d->id));
    json_object_object_add(o, "step", json_object_new_string(step_names[d->step]));
    json_object_object_add(o, "guided", json_object_new_boolean(d->guided));
    json_object_object_add(o, "editing", json_object_new_boolean(d->editing));
    json_object_object_add(o, "lang", json_object_new_string(d->lang));
    if (d->category)
        json_object_object_add(o, "cat", jstr(d->category));
    if (d->has_point) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "lat", json_object_new_double(d->lat));
        json_object_object_add(p, "lon", json_object_new_double(d->lon));
        json_object_object_add(p, "acc", json_object_new_double(d->accuracy_m));
        json_object_object_add(p, "src", json_object_new_string(d->point_source));
        json_object_object_add(o, "pt", p);
    }
    if (d->live_msg_id)
        json_object_object_add(o, "live", json_object_new_int64(d->live_msg_id));
    if (d->has_bearing)
        json_object_object_add(o, "brg", json_object_new_double(d->bearing));
    if (d->observed_at > 0)
        json_object_object_add(o, "obs", json_object_new_double(d->observed_at));
    json_object_object_add(o, "sent", json_object_new_double(d->sent_at));
    if (d->forwarded)
        json_object_object_add(o, "fwd", json_object_new_boolean(1));
    if (d->media_group_id)
        json_object_object_add(o, "mgid", jstr(d->media_group_id));
    json_object_object_add(o, "nmedia", json_object_new_int(d->n_media));
    if (d->has_photo_gps) {
        struct json_object *p = json_object_new_object();
        json_object_object_add(p, "lat", json_object_new_double(d->photo_lat));
        json_object_object_add(p, "lon", json_object_new_double(d->photo_lon));
        json_object_object_add(o, "pgps", p);
    }
    if (d->flags)
        json_object_object_add(o, "flags", jstr(d->flags));
    if (d->places)
        json_object_object_add(o, "places", jstr(d->places));
    struct json_object *msgs = json_object_new_array();
    for (size_t i = 0; i < d->n_msgs; i++) {
        struct json_object *m = json_object_new_object();
        json_object_object_add(m, "id", json_object_new_int64(d->msgs[i].id));
        if (d->msgs[i].text)
            json_object_object_add(m, "t", jstr(d->msgs[i].text));
        json_object_array_add(msgs, m);
    }
    json_object_object_add(o, "msgs", msgs);
    /* "po" (the keyboard message's outbox id) is storage's to write: it knows the id */
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return s;
}

static const char *g_str(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return NULL;
}

static int g_num(struct json_object *o, const char *k, double *out)
{
    struct json_object *v;
    if (json_object_object_get_ex(o, k, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
        double x = json_object_get_double(v);
        if (!isfinite(x))
            return 0;
        *out = x;
        return 1;
    }
    return 0;
}

static long long g_ll(struct json_object *o, const char *k)
{
    struct json_object *v;
    if (json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return 0;
}

static int g_bool(struct json_object *o, const char *k)
{
    struct json_object *v;
    return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return TL_OK;
    *out = tl_strdup(s);
    return *out ? TL_OK : TL_ENOMEM;
}

int hdl_draft_from_json(const char *json, struct hdl_draft *d)
{
    memset(d, 0, sizeof(*d));
    struct json_object *o = json ? json_tokener_parse(json) : NULL, *v;
    int rc = TL_EPARSE;
    if (!o || !json_object_is_type(o, json_type_object))
        goto out;
    d->id = g_ll(o, "id");
    const char *step = g_str(o, "step");
    for (size_t i = 0; step && i < sizeof(step_names) / sizeof(step_names[0]); i++)
        if (strcmp(step, step_names[i]) == 0)
            d->step = (enum hdl_step)i;
    d->guided = g_bool(o, "guided");
    d->editing = g_bool(o, "editing");
    tl_strlcpy(d->lang, hdl_lang_pick(g_str(o, "lang")), sizeof(d->lang));
    if ((rc = dup_opt(g_str(o, "cat"), &d->category)) ||
        (rc = dup_opt(g_str(o, "mgid"), &d->media_group_id)) ||
        (rc = dup_opt(g_str(o, "flags"), &d->flags)) ||
        (rc = dup_opt(g_str(o, "places"), &d->places)))
        goto out;
    if (json_object_object_get_ex(o, "pt", &v) && json_object_is_type(v, json_type_object) &&
        g_num(v, "lat", &d->lat) && g_num(v, "lon", &d->lon) && g_str(v, "src")) {
        d->has_point = 1;
        g_num(v, "acc", &d->accuracy_m);
        tl_strlcpy(d->point_source, g_str(v, "src"), sizeof(d->point_source));
    }
    d->live_msg_id = g_ll(o, "live");
    d->has_bearing = g_num(o, "brg", &d->bearing);
    g_num(o, "obs", &d->observed_at);
    g_num(o, "sent", &d->sent_at);
    d->forwarded = g_bool(o, "fwd");
    d->n_media = (int)g_ll(o, "nmedia");
    if (json_object_object_get_ex(o, "pgps", &v) && json_object_is_type(v, json_type_object) &&
        g_num(v, "lat", &d->photo_lat) && g_num(v, "lon", &d->photo_lon))
        d->has_photo_gps = 1;
    d->po = g_ll(o, "po");
    if (json_object_object_get_ex(o, "msgs", &v) && json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n && d->n_msgs < HDL_DRAFT_MAX_MSGS; i++) {
            struct json_object *m = json_object_array_get_idx(v, i);
            if (!json_object_is_type(m, json_type_object))
                continue;
            struct hdl_draft_msg *dm = &d->msgs[d->n_msgs];
            dm->id = g_ll(m, "id");
            if ((rc = dup_opt(g_str(m, "t"), &dm->text)))
                goto out;
            d->n_msgs++;
        }
    }
    rc = TL_OK;
out:
    json_object_put(o);
    if (rc)
        hdl_draft_release(d);
    return rc;
}

int hdl_draft_copy(const struct hdl_draft *src, struct hdl_draft *dst)
{
    *dst = *src;
    dst->category = dst->media_group_id = dst->flags = dst->places = NULL;
    for (size_t i = 0; i < dst->n_msgs; i++)
        dst->msgs[i].text = NULL;
    int rc;
    if ((rc = dup_opt(src->category, &dst->category)) ||
        (rc = dup_opt(src->media_group_id, &dst->media_group_id)) ||
        (rc = dup_opt(src->flags, &dst->flags)) || (rc = dup_opt(src->places, &dst->places)))
        goto out;
    for (size_t i = 0; i < src->n_msgs; i++)
        if ((rc = dup_opt(src->msgs[i].text, &dst->msgs[i].text)))
            goto out;
out:
    if (rc)
        hdl_draft_release(dst);
    return rc;
}

void hdl_draft_release(struct hdl_draft *d)
{
    if (!d)
        return;
    free(d->category);
    free(d->media_group_id);
    free(d->flags);
    free(d->places);
    for (size_t i = 0; i < d->n_msgs; i++)
        free(d->msgs[i].text);
    memset(d, 0, sizeof(*d));
}

/* ---- callback data ---- */

static int parse_ll(const char *s, size_t n, long long *out)
{
    long long v = 0;
    if (n == 0 || n > 18)
        return TL_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return TL_EPARSE;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return TL_OK;
}

/* An argument: printable ASCII without ':' only, bounded. */
static int take_arg(const char *s, struct hdl_cb *out)
{
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof(out->arg))
        return TL_EPARSE;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f || s[i] == ':')
            return TL_EPARSE;
    memcpy(out->arg, s, n + 1);
    return TL_OK;
}

int hdl_cb_parse(const char *data, struct hdl_cb *out)
{
    static const struct {
        const char *name;
        enum hdl_cb_act act;
        int arg; /* 1 required, 0 none */
    } acts[] = {
        {"c", HDL_CB_CATEGORY, 1},    {"m", HDL_CB_MEDIA_DONE, 0}, {"w", HDL_CB_WHEN, 1},
        {"d", HDL_CB_DIRECTION, 1},   {"t", HDL_CB_SKIP_TEXT, 0},  {"send", HDL_CB_SEND, 0},
        {"edit", HDL_CB_EDIT, 0},     {"e", HDL_CB_EDIT_STEP, 1},  {"back", HDL_CB_BACK, 0},
        {"cancel", HDL_CB_CANCEL, 0}, {"g", HDL_CB_GUIDED, 0},
    };
    memset(out, 0, sizeof(*out));
    if (!data || strlen(data) > 64) /* Telegram's limit for callback_data */
        return TL_EPARSE;
    if (strncmp(data, "L:", 2) == 0) {
        if (strcmp(data + 2, "uk") != 0 && strcmp(data + 2, "en") != 0)
            return TL_EPARSE;
        out->act = HDL_CB_LANG;
        return take_arg(data + 2, out);
    }
    if (strncmp(data, "x:", 2) == 0) {
        out->act = HDL_CB_CLEAR;
        return take_arg(data + 2, out);
    }
    const char *c1 = strchr(data, ':');
    if (!c1 || parse_ll(data, (size_t)(c1 - data), &out->draft_id) || out->draft_id == 0)
        return TL_EPARSE;
    const char *name = c1 + 1, *c2 = strchr(name, ':');
    size_t nl = c2 ? (size_t)(c2 - name) : strlen(name);
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
        if (strlen(acts[i].name) != nl || strncmp(name, acts[i].name, nl) != 0)
            continue;
        if (acts[i].arg != (c2 != NULL))
            return TL_EPARSE;
        out->act = acts[i].act;
        return c2 ? take_arg(c2 + 1, out) : TL_OK;
    }
    return TL_EPARSE;
}

/* ---- typed time ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static int word_is(const char *p, const char *const *words)
{
    for (size_t i = 0; words[i]; i++) {
        size_t n = strlen(words[i]);
        if (strncmp(p, words[i], n) == 0 && *skip_ws(p + n) == 0)
            return 1;
    }
    return 0;
}

/* "p" starts with one of words (case as typed: the catalog's words are lower case). */
static int prefix_is(const char *p, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strncmp(p, words[i], strlen(words[i])) == 0)
            return 1;
    return 0;
}

static void lower_ascii(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = 0;
}

int hdl_parse_when(const char *text, double now, const struct tl_tz *tz, double *out)
{
    static const char *const now_words[] = {"now",   "just now", "зараз", "щойно",
                                            "Зараз", "Щойно",    NULL};
    static const char *const hour_words[] = {"h", "hour", "hours", "hr", "год", "г", NULL};
    static const char *const min_words[] = {"m",  "min",    "mins",    "minute",  "minutes",
                                            "хв", "хвилин", "хвилини", "хвилину", NULL};
    char buf[64];
    if (!text || strlen(text) >= sizeof(buf))
        return TL_EPARSE;
    lower_ascii(skip_ws(text), buf, sizeof(buf));
    const char *p = buf;
    if (word_is(p, now_words)) {
        *out = now;
        return TL_OK;
    }
    long a = 0, b = -1;
    int na = 0;
    while (*p >= '0' && *p <= '9' && na < 5)
        a = a * 10 + (*p++ - '0'), na++;
    if (na == 0 || na > 4)
        return TL_EPARSE;
    if ((*p == ':' || *p == '.') && na <= 2) {
        p++;
        int nb = 0;
        b = 0;
        while (*p >= '0' && *p <= '9' && nb < 3)
            b = b * 10 + (*p++ - '0'), nb++;
        if (nb != 2 || *skip_ws(p) != 0 || a > 23 || b > 59)
            return TL_EPARSE;
        /* the wall clock's moment today, else yesterday's when that is still ahead (a
         * day of the wall clock: 23 or 25 hours when the clocks change) */
        int64_t now_s = (int64_t)floor(now);
        int64_t local_now = now_s + tl_tz_offset(tz, now_s);
        int64_t day = (local_now >= 0 ? local_now / 86400 : (local_now - 86399) / 86400) * 86400;
        int64_t wall = day + a * 3600 + b * 60;
        int64_t t = tl_tz_from_local(tz, wall);
        if ((double)t > now + 300)
            t = tl_tz_from_local(tz, wall - 86400);
        *out = (double)t;
        return TL_OK;
    }
    p = skip_ws(p);
    double mult = 60;
    if (*p && prefix_is(p, hour_words) && word_is(p, hour_words))
        mult = 3600;
    else if (*p && !word_is(p, min_words))
        return TL_EPARSE;
    if (a * mult > 7 * 86400.0)
        return TL_EPARSE;
    *out = now - a * mult;
    return TL_OK;
}

/* ---- typed direction ---- */

int hdl_parse_bearing(const char *text, double *deg)
{
    static const struct {
        const char *w;
        int deg;
    } words[] = {
        {"n", 0},
        {"north", 0},
        {"пн", 0},
        {"північ", 0},
        {"⬆", 0},
        {"↑", 0},
        {"ne", 45},
        {"northeast", 45},
        {"north-east", 45},
        {"пн-сх", 45},
        {"пнсх", 45},
        {"північний схід", 45},
        {"↗", 45},
        {"e", 90},
        {"east", 90},
        {"сх", 90},
        {"схід", 90},
        {"➡", 90},
        {"→", 90},
        {"se", 135},
        {"southeast", 135},
        {"south-east", 135},
        {"пд-сх", 135},
        {"пдсх", 135},
        {"південний схід", 135},
        {"↘", 135},
        {"s", 180},
        {"south", 180},
        {"пд", 180},
        {"південь", 180},
        {"⬇", 180},
        {"↓", 180},
        {"sw", 225},
        {"southwest", 225},
        {"south-west", 225},
        {"пд-зх", 225},
        {"пдзх", 225},
        {"південний захід", 225},
        {"↙", 225},
        {"w", 270},
        {"west", 270},
        {"зх", 270},
        {"захід", 270},
        {"⬅", 270},
        {"←", 270},
        {"nw", 315},
        {"northwest", 315},
        {"north-west", 315},
        {"пн-зх", 315},
        {"пнзх", 315},
        {"північний захід", 315},
        {"↖", 315},
    };
    char buf[64];
    if (!text || strlen(text) >= sizeof(buf))
        return TL_EPARSE;
    lower_ascii(skip_ws(text), buf, sizeof(buf));
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    if (n && buf[0] >= '0' && buf[0] <= '9') {
        long v = 0;
        size_t i = 0;
        for (; i < n && buf[i] >= '0' && buf[i] <= '9' && i < 4; i++)
            v = v * 10 + (buf[i] - '0');
        const char *rest = buf + i;
        if (strcmp(rest, "°") != 0 && strcmp(rest, "") != 0 && strcmp(rest, " deg") != 0)
            return TL_EPARSE;
        if (v > 360)
            return TL_EPARSE;
        *deg = (double)(v % 360);
        return TL_OK;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(buf, words[i].w) == 0) {
            *deg = words[i].deg;
            return TL_OK;
        }
    return TL_EPARSE;
}

/* ---- UTF-16 lengths ---- */

/* Bytes of the UTF-8 sequence at s (1 for a stray byte) and its UTF-16 units. */
static size_t cp_len(const unsigned char *s, size_t *units)
{
    size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 1;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) {
            n = 1; /* malformed: count the byte alone */
            break;
        }
    *units = n == 4 ? 2 : 1;
    return n;
}

size_t hdl_utf16_len(const char *s)
{
    size_t total = 0, u;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p += cp_len(p, &u))
        total += (cp_len(p, &u), u);
    return total;
}

size_t hdl_utf16_prefix(const char *s, size_t max_units)
{
    size_t used = 0, bytes = 0, u;
    const unsigned char *p = (const unsigned char *)s;
    while (p[bytes]) {
        size_t n = cp_len(p + bytes, &u);
        if (used + u > max_units)
            break;
        used += u;
        bytes += n;
    }
    return bytes;
}
