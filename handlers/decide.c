/* handlers/decide.c - what one update means: pure decisions, no I/O.
 *
 * Foundation scope: each private message with text, a photo or a location becomes a
 * report with status new and one acknowledgement; commands answer with catalog texts;
 * group chats get one polite pointer to the private chat; my_chat_member records
 * blocks. Every photo, and every file (whatever it claims to be), passes through
 * media/ before anything is kept: only the stripped copy and the facts persist; a file
 * that cannot be cleaned is refused with a reason. The guided wizard (drafts) is
 * handlers' next step. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return NULL;
}

static char *keep(struct hdl_plan *p, char *s)
{
    if (!s)
        return NULL;
    if (p->n_owned >= sizeof(p->owned) / sizeof(p->owned[0])) {
        free(s);
        return NULL;
    }
    p->owned[p->n_owned++] = s;
    return s;
}

/* Queues a sendMessage of catalog key to chat_id, with an optional {ref}/{reason}. */
static int reply(struct hdl_plan *p, long long chat_id, const char *lang, const char *key,
                 const char *name, const char *value)
{
    size_t i = p->fx.n_outbox;
    if (i >= sizeof(p->out) / sizeof(p->out[0]))
        return TL_EINVAL;
    char *text =
        name ? hdl_text(lang, key, name, value, (char *)NULL) : hdl_text(lang, key, (char *)NULL);
    if (!keep(p, text))
        return TL_ENOMEM;
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "chat_id", json_object_new_int64(chat_id));
    json_object_object_add(o, "text", json_object_new_string(text));
    char *params = keep(p, tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
    json_object_put(o);
    if (!params)
        return TL_ENOMEM;
    p->out[i] = (struct store_outbox_new){chat_id, "sendMessage", params};
    p->fx.outbox = p->out;
    p->fx.n_outbox = i + 1;
    return TL_OK;
}

static int answer_callback(struct hdl_plan *p, const struct tg_callback *cb)
{
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "callback_query_id", json_object_new_string(cb->id ? cb->id : ""));
    char *params = keep(p, tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)));
    json_object_put(o);
    if (!params)
        return TL_ENOMEM;
    p->out[0] = (struct store_outbox_new){cb->chat_id ? cb->chat_id : cb->from_id,
                                          "answerCallbackQuery", params};
    p->fx.outbox = p->out;
    p->fx.n_outbox = 1;
    return TL_OK;
}

static const char *command_key(const char *text)
{
    static const struct {
        const char *cmd, *key;
    } cmds[] = {{"/start", "start"}, {"/help", "help"}, {"/privacy", "privacy"}};
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        size_t l = strlen(cmds[i].cmd);
        if (strncmp(text, cmds[i].cmd, l) == 0 &&
            (text[l] == 0 || text[l] == ' ' || text[l] == '@'))
            return cmds[i].key;
    }
    return "help";
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

/* Sanitizes the fetched bytes into the plan's media (only the stripped copy is kept)
 * and reads the facts. Returns TL_OK, or the media error for a refused file. */
static int take_media(const struct hdl_ctx *ctx, const struct tg_message *m,
                      const struct hdl_file *f, struct hdl_plan *p, struct media_facts *facts)
{
    struct media_limits lim = {ctx->max_photo_bytes, 0};
    size_t len = 0;
    struct tl_errinfo ei;
    int rc = media_strip(f->bytes, f->len, &lim, &p->media_bytes, &len, facts, &ei);
    if (rc != TL_OK)
        return rc;
    const struct tg_file_ref *ref = m->photo.file_id ? &m->photo : &m->document;
    p->media = (struct store_media_new){
        .kind = "photo",
        .tg_file_id = ref->file_id,
        .tg_file_unique_id = ref->file_unique_id,
        .mime = media_format_mime(facts->format),
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
    if (facts->format == MEDIA_JPEG &&
        media_phash(p->media_bytes, len, &lim, &p->media.phash, &ei) == TL_OK)
        p->media.has_phash = 1;
    return TL_OK;
}

/* Adds a flag to the report's comma-separated list (kept in the plan). */
static int add_flag(struct hdl_plan *p, const char *flag)
{
    struct store_report_new *r = &p->report;
    if (!r->flags) {
        r->flags = flag;
        return TL_OK;
    }
    char *joined = keep(p, tl_asprintf("%s,%s", r->flags, flag));
    if (!joined)
        return TL_ENOMEM;
    r->flags = joined;
    return TL_OK;
}

/* What the words say about the place: the best point found in the text when nothing
 * better was shared, a bearing of movement, and flags for the analyst: the point is
 * outside the area of interest, or a place name fits several settlements. */
static int place_from_text(const struct hdl_ctx *ctx, const struct tg_message *m,
                           struct hdl_plan *p)
{
    struct store_report_new *r = &p->report;
    const char *reason = NULL;
    int rc = TL_OK;
    if (r->has_point && geo_check(ctx->geo, r->lat, r->lon, &reason) != TL_OK &&
        (rc = add_flag(p, strcmp(reason, GEO_REASON_OUTSIDE_AREA) == 0 ? "outside_area"
                                                                       : "point_invalid")))
        return rc;
    if (!m->text || !*m->text)
        return TL_OK;
    struct geo_result g;
    struct tl_errinfo ei;
    if (geo_parse_text(ctx->geo, m->text, strlen(m->text), &g, &ei) != TL_OK)
        return TL_OK; /* words we cannot read cost the report nothing */
    if (!r->has_point && g.n > 0) {
        r->has_point = 1;
        r->lat = g.cand[0].lat;
        r->lon = g.cand[0].lon;
        r->accuracy_m = g.cand[0].accuracy_m;
        r->point_source = GEO_SRC_TEXT;
        r->priority += g.cand[0].kind[0] && strcmp(g.cand[0].kind, "place") == 0 ? 5 : 10;
        if (g.ambiguous)
            rc = add_flag(p, "place_ambiguous");
    } else if (!r->has_point && g.n_rej > 0) {
        rc = add_flag(p, strcmp(g.rej[0].reject, GEO_REASON_OUTSIDE_AREA) == 0 ? "outside_area"
                                                                               : "point_invalid");
    }
    if (rc == TL_OK && !r->has_bearing && g.has_bearing) {
        r->has_bearing = 1;
        r->bearing = g.bearing_deg;
    }
    geo_result_release(&g);
    return rc;
}

static int decide_message(const struct hdl_ctx *ctx, const struct tg_message *m,
                          const struct hdl_file *f, struct hdl_plan *p)
{
    const char *lang = hdl_lang_pick(m->language_code);
    int rc;

    if (m->chat_type != TG_CHAT_PRIVATE) {
        /* Never collect reports in groups: answer only when addressed with a command. */
        if (m->is_command)
            return reply(p, m->chat_id, lang, "private_only", NULL, NULL);
        return TL_OK;
    }
    if (m->from_is_bot || m->from_id == 0)
        return TL_OK;
    if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, m->from_id, p->pseudonym)) != TL_OK)
        return rc;
    p->fx.chat_id = m->chat_id;
    p->fx.pseudonym = p->pseudonym;
    p->fx.lang = lang;

    if (m->is_command && m->text)
        return reply(p, m->chat_id, lang, command_key(m->text), NULL, NULL);

    int is_file = m->document.file_id != NULL;
    int has_file = is_file || m->photo.file_id != NULL;
    int fetched = has_file && f && f->state == HDL_FILE_OK && f->len > 0;
    int has_text = m->text && *m->text;
    const char *loc_reason = NULL;
    int has_loc = m->location.present && geo_check(NULL, m->location.latitude,
                                                   m->location.longitude, &loc_reason) == TL_OK;
    struct media_facts facts;
    memset(&facts, 0, sizeof(facts));
    int media_ok = 0;

    if (fetched) {
        rc = take_media(ctx, m, f, p, &facts);
        if (rc == TL_ENOMEM)
            return rc;
        media_ok = rc == TL_OK;
        if (!media_ok && is_file) {
            /* A file we cannot clean keeps every byte the camera wrote (GPS, owner,
             * serial): nothing of it is stored, the reporter is asked for a photo. */
            char *reason = keep(p, hdl_text(lang, refusal_key(rc, f), (char *)NULL));
            return reply(p, m->chat_id, lang, "resend_as_photo", "reason", reason ? reason : "");
        }
    } else if (is_file && ((f && f->state == HDL_FILE_TOOBIG) ||
                           m->document.file_size > (long long)ctx->max_photo_bytes)) {
        char *reason = keep(p, hdl_text(lang, "reason_too_big", (char *)NULL));
        return reply(p, m->chat_id, lang, "resend_as_photo", "reason", reason ? reason : "");
    }
    if (!has_file && !has_text && m->location.present && !has_loc)
        return reply(p, m->chat_id, lang, "location_invalid", NULL, NULL);
    if (!has_file && !has_text && !has_loc)
        return reply(p, m->chat_id, lang, m->has_video ? "resend_as_photo" : "unsupported",
                     m->has_video ? "reason" : NULL,
                     m->has_video ? keep(p, hdl_text(lang, "reason_video", (char *)NULL)) : NULL);
    if (has_file && !media_ok && !has_text && !has_loc)
        return reply(p, m->chat_id, lang, "photo_failed", NULL, NULL);

    if ((rc = hdl_new_ref(p->ref)) != TL_OK)
        return rc;
    struct store_report_new *r = &p->report;
    r->public_ref = p->ref;
    r->reporter = p->pseudonym;
    r->text = has_text ? m->text : NULL;
    r->sent_at = (double)m->date;
    r->forwarded = m->forwarded;
    r->media_group_id = m->media_group_id;
    r->priority = 10;
    if (has_loc) {
        r->has_point = 1;
        r->lat = m->location.latitude;
        r->lon = m->location.longitude;
        r->accuracy_m = m->location.horizontal_accuracy;
        r->point_source = m->venue_title            ? GEO_SRC_VENUE
                          : m->location.live_period ? GEO_SRC_LIVE_LOCATION
                                                    : GEO_SRC_TELEGRAM_LOCATION;
        if (m->location.heading > 0) {
            r->has_bearing = 1;
            r->bearing = m->location.heading % 360;
        }
        r->priority += 10;
    }
    const char *gps_reason = NULL;
    if (facts.has_gps && geo_check(NULL, facts.lat, facts.lon, &gps_reason) != TL_OK) {
        facts.has_gps = 0; /* an impossible position is no fact: not kept, not used */
        p->media.has_gps = 0;
    }
    if (media_ok) {
        r->media = &p->media;
        r->n_media = 1;
        r->priority += 10;
        if (facts.has_gps && !has_loc) {
            r->has_point = 1;
            r->lat = facts.lat;
            r->lon = facts.lon;
            r->accuracy_m = facts.has_hpe ? facts.hpe_m : 0;
            r->point_source = GEO_SRC_PHOTO_EXIF;
            r->priority += 10;
        } else if (facts.has_gps &&
                   geo_haversine_m(facts.lat, facts.lon, r->lat, r->lon) > HDL_DISAGREE_M) {
            /* both kept: the shared point on the report, the photo's on its media row */
            if ((rc = add_flag(p, "location_disagrees")) != TL_OK)
                return rc;
        }
    } else if (has_file && (rc = add_flag(p, "photo_missing")) != TL_OK) {
        return rc;
    }
    if (m->location.present && !has_loc && (rc = add_flag(p, "point_invalid")) != TL_OK)
        return rc;
    if ((rc = place_from_text(ctx, m, p)) != TL_OK)
        return rc;
    p->fx.report = r;
    const char *key = media_ok && is_file      ? "received_file"
                      : media_ok               ? "received_photo"
                      : (has_loc && !has_text) ? "received_location"
                                               : "received";
    return reply(p, m->chat_id, lang, key, "ref", p->ref);
}

int hdl_decide(const struct hdl_ctx *ctx, const struct tg_update *u, const struct hdl_file *f,
               struct hdl_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->fx.update_id = u->update_id;
    p->fx.set_blocked = -1;
    int rc = TL_OK;
    switch (u->kind) {
    case TG_UPD_MESSAGE:
        rc = decide_message(ctx, &u->msg, f, p);
        break;
    case TG_UPD_CALLBACK_QUERY:
        /* Every callback must be answered, or the citizen's button spins. */
        rc = answer_callback(p, &u->cb);
        break;
    case TG_UPD_MY_CHAT_MEMBER:
        if (u->member.chat_type == TG_CHAT_PRIVATE && u->member.from_id) {
            if ((rc = hdl_pseudonym(ctx->secret, ctx->secret_len, u->member.from_id,
                                    p->pseudonym)) != TL_OK)
                break;
            p->fx.chat_id = u->member.chat_id;
            p->fx.pseudonym = p->pseudonym;
            const char *st = u->member.new_status ? u->member.new_status : "";
            p->fx.set_blocked = strcmp(st, "kicked") == 0 ? 1 : strcmp(st, "member") == 0 ? 0 : -1;
        }
        break;
    case TG_UPD_EDITED_MESSAGE:
    case TG_UPD_OTHER:
        break; /* recorded in the inbox, nothing else to do yet */
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
        char *hit = strstr(p->owned[i], old);
        if (hit)
            memcpy(hit, p->ref, strlen(p->ref));
    }
    return TL_OK;
}

void hdl_plan_release(struct hdl_plan *p)
{
    for (size_t i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    p->n_owned = 0;
    free(p->media_bytes);
    p->media_bytes = NULL;
}
