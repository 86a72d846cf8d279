/* handlers/absorb.c - what one message adds to a draft and the report a draft
 * becomes: the file worth fetching, the photo or file sanitized by media/ (only the
 * stripped copy and its facts are kept; a file that cannot be cleaned is refused
 * with a reason), the shared or typed place (geo/), the words, the flags a report
 * carries (a photo's GPS far from the shared place, an ambiguous place, ...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/geo.h"
#include "hdl_int.h"
#include "media/media.h"
#include "moderation/mod.h"
#include "common/banned.h"

/* A photo's own GPS further than this from the shared location flags the report. */
#define HDL_DISAGREE_M 1000.0

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
        .duration_ms = kept == MEDIA_VIDEO ? facts->duration_ms : 0,
    };
    if ((kept == MEDIA_JPEG || kept == MEDIA_VIDEO) &&
        media_phash_framed(p->media_bytes, len, &lim, &p->media.phash, &p->media.phash_inner,
                           &p->media.has_phash_inner, &ei) == TL_OK)
        p->media.has_phash = 1;
    return TL_OK;
}

/* ---- flags ---- */

static int add_flag_to(struct hdl_plan *p, const char **flags, const char *flag)
{
    if (*flags && hdl_in_list(*flags, flag))
        return TL_OK;
    if (!*flags) {
        *flags = flag;
        return TL_OK;
    }
    char *joined = hdl_keep(p, tl_asprintf("%s,%s", *flags, flag));
    if (!joined)
        return TL_ENOMEM;
    *flags = joined;
    return TL_OK;
}

/* A flag on the draft (owned by the draft). */
static int draft_flag(struct hdl_draft *d, const char *flag)
{
    if (d->flags && hdl_in_list(d->flags, flag))
        return TL_OK;
    char *n = d->flags ? tl_asprintf("%s,%s", d->flags, flag) : tl_strdup(flag);
    if (!n)
        return TL_ENOMEM;
    free(d->flags);
    d->flags = n;
    return TL_OK;
}

int hdl_set_str(char **dst, const char *v)
{
    char *n = v ? tl_strdup(v) : NULL;
    if (v && !n)
        return TL_ENOMEM;
    free(*dst);
    *dst = n;
    return TL_OK;
}

/* ---- what a message adds to the draft ---- */

static int add_msg_text(struct hdl_draft *d, long long msg_id, const char *text)
{
    if (d->n_msgs >= HDL_DRAFT_MAX_MSGS) { /* full: the words still count, on the last */
        struct hdl_draft_msg *last = &d->msgs[HDL_DRAFT_MAX_MSGS - 1];
        int n = (int)mod_text_bound(text, strlen(text), MOD_TEXT_MAX_UTF16);
        char *j =
            last->text ? tl_asprintf("%s\n%.*s", last->text, n, text) : tl_strndup(text, (size_t)n);
        if (!j)
            return TL_ENOMEM;
        free(last->text);
        last->text = j;
        return TL_OK;
    }
    struct hdl_draft_msg *m = &d->msgs[d->n_msgs];
    if (!(m->text = tl_strndup(text, mod_text_bound(text, strlen(text), MOD_TEXT_MAX_UTF16))))
        return TL_ENOMEM;
    m->id = msg_id;
    d->n_msgs++;
    return TL_OK;
}

int hdl_has_text(const struct hdl_draft *d)
{
    for (size_t i = 0; i < d->n_msgs; i++)
        if (d->msgs[i].text && *d->msgs[i].text)
            return 1;
    return 0;
}

void hdl_set_point(struct hdl_draft *d, double lat, double lon, double acc, const char *src)
{
    d->has_point = 1;
    d->lat = lat;
    d->lon = lon;
    d->accuracy_m = acc;
    tl_strlcpy(d->point_source, src, sizeof(d->point_source));
}

/* A place read from words: the best candidate; flags when it fits several places or
 * none inside the area. Returns 1 when a point was found. */
int hdl_point_from_text(const struct hdl_ctx *ctx, struct hdl_draft *d, const char *text, int *rc)
{
    struct geo_result g;
    struct tl_errinfo ei;
    *rc = TL_OK;
    /* a photo's GPS tells which of several villages sharing a name is meant */
    struct geo_point gps = {.lat = d->photo_lat, .lon = d->photo_lon};
    size_t n_gps = d->has_photo_gps ? 1 : 0;
    if (!text || !*text ||
        geo_parse_text_near(ctx->geo, text, strlen(text), &gps, n_gps, &g, &ei) != TL_OK)
        return 0; /* words we cannot read cost the report nothing */
    int found = 0;
    if (g.n > 0) {
        hdl_set_point(d, g.cand[0].lat, g.cand[0].lon, g.cand[0].accuracy_m, GEO_SRC_TEXT);
        found = 1;
        if (g.ambiguous) {
            *rc = draft_flag(d, "place_ambiguous");
            char *alts = geo_alternatives_json(&g); /* for the analyst to pick from */
            if (alts) {
                free(d->places);
                d->places = alts;
            }
        }
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
 * with a reason (HDL_ABS_REFUSED, the reply queued). words: whether the text is part of
 * the description (not when it answered a step such as the time). */
int hdl_absorb(const struct hdl_ctx *ctx, const struct tg_message *m, const struct hdl_file *f,
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
            char *reason = hdl_keep(p, too_big_or(ctx, lang, refusal_key(rc, f)));
            *what = HDL_ABS_REFUSED;
            return hdl_send_text(
                p, m->chat_id,
                hdl_keep(p, hdl_text(lang, m->video.file_id ? "resend_video" : "resend_as_photo",
                                     "reason", reason ? reason : "", (char *)NULL)),
                NULL, 0, 1);
        }
        if (rc == TL_OK) {
            /* the facts live on this stack frame: the camera's time is copied */
            if (p->media.taken_local &&
                !(p->media.taken_local = hdl_keep(p, tl_strdup(p->media.taken_local))))
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
            if (m->media_group_id && (rc = hdl_set_str(&d->media_group_id, m->media_group_id)))
                return rc;
            d->n_media++;
            *what |= HDL_ABS_PHOTO | (same_album ? HDL_ABS_ALBUM_MORE : 0);
        } else if ((rc = draft_flag(d, "photo_missing")) != TL_OK) {
            return rc;
        }
    } else if (is_file && ((f && f->state == HDL_FILE_TOOBIG) ||
                           file_size > (long long)ctx->max_photo_bytes)) {
        char *reason = hdl_keep(p, too_big_or(ctx, lang, "reason_too_big"));
        *what = HDL_ABS_REFUSED;
        return hdl_send_text(
            p, m->chat_id,
            hdl_keep(p, hdl_text(lang, m->video.file_id ? "resend_video" : "resend_as_photo",
                                 "reason", reason ? reason : "", (char *)NULL)),
            NULL, 0, 1);
    } else if (has_file && (rc = draft_flag(d, "photo_missing")) != TL_OK) {
        return rc;
    }
    if (m->location.present) {
        const char *why = NULL;
        if (geo_check(NULL, m->location.latitude, m->location.longitude, &why) == TL_OK) {
            hdl_set_point(d, m->location.latitude, m->location.longitude,
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
            *what |= HDL_ABS_POINT;
        } else if ((rc = draft_flag(d, "point_invalid")) != TL_OK) {
            return rc;
        }
    }
    if (m->forwarded)
        d->forwarded = 1;
    if (words && m->text && *m->text) {
        if ((rc = add_msg_text(d, m->message_id, m->text)) != TL_OK)
            return rc;
        *what |= HDL_ABS_TEXT;
        if (!d->has_point && hdl_point_from_text(ctx, d, m->text, &rc))
            *what |= HDL_ABS_POINT;
        if (rc)
            return rc;
    }
    return TL_OK;
}

/* ---- the report a draft becomes ---- */

int hdl_draft_words(const struct hdl_draft *d, char **out)
{
    struct tl_buf b;
    tl_buf_init(&b, 0);
    *out = NULL;
    for (size_t i = 0; i < d->n_msgs; i++) {
        if (!d->msgs[i].text || !*d->msgs[i].text)
            continue;
        if ((b.len && tl_buf_append(&b, "\n", 1)) ||
            tl_buf_append(&b, d->msgs[i].text, strlen(d->msgs[i].text))) {
            tl_buf_release(&b);
            return TL_ENOMEM;
        }
    }
    *out = b.len ? (char *)tl_buf_steal(&b, NULL) : NULL;
    tl_buf_release(&b);
    return TL_OK;
}

int hdl_report_from_draft(const struct hdl_ctx *ctx, struct hdl_plan *p, const struct hdl_draft *d)
{
    struct store_report_new *r = &p->report;
    int rc = hdl_new_ref(p->ref);
    char *words = NULL;
    if (rc || (rc = hdl_draft_words(d, &words)) != TL_OK)
        return rc;
    char *text = words ? hdl_keep(p, words) : NULL, *key = NULL;
    if (words && !text)
        return TL_ENOMEM;
    if (text && (rc = mod_text_fold_key(text, strlen(text), &key)) != TL_OK)
        return rc;
    const char *text_key = key ? hdl_keep(p, key) : NULL;
    if (key && !text_key)
        return TL_ENOMEM;
    *r = (struct store_report_new){
        .public_ref = p->ref,
        .reporter = p->pseudonym,
        .category = d->category ? hdl_keep(p, tl_strdup(d->category)) : NULL,
        .text = text,
        .text_key = text_key,
        .has_bearing = d->has_bearing,
        .bearing = d->bearing,
        .observed_at = d->observed_at,
        .sent_at = d->sent_at,
        .forwarded = d->forwarded,
        .media_group_id = d->media_group_id ? hdl_keep(p, tl_strdup(d->media_group_id)) : NULL,
        .priority = 10,
        .flags = d->flags ? hdl_keep(p, tl_strdup(d->flags)) : NULL,
        .place_candidates = d->places ? hdl_keep(p, tl_strdup(d->places)) : NULL,
        .dedup = ctx->dedup,
    };
    if (d->has_point) {
        r->has_point = 1;
        r->lat = d->lat;
        r->lon = d->lon;
        r->accuracy_m = d->accuracy_m;
        r->point_source = hdl_keep(p, tl_strdup(d->point_source));
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
    if ((rc = hdl_text_hygiene(p, r)) != TL_OK)
        return rc;
    p->fx.report = r;
    return TL_OK;
}
