/* media/media.c - format detection, the strip/facts dispatch and the facts JSON. The
 * per-format walkers live in jpeg.c, png.c, webp.c, gif.c, heif.c, video.c, and what
 * they share (limits, the output assembler, CRC-32) in out.c; EXIF and ICC in exif.c;
 * the perceptual hash in phash.c. */
#include "media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/util.h"
#include "common/banned.h"

/* ---- detection ---- */

static int has_at(const unsigned char *buf, size_t len, size_t off, const char *s)
{
    size_t n = strlen(s);
    return len >= off + n && memcmp(buf + off, s, n) == 0;
}

/* ISO-BMFF (HEIF, AVIF, MP4, MOV, 3GP, CR3): the ftyp box lists a major brand and
 * compatible brands; an image brand anywhere makes it HEIF. */
static enum media_format detect_bmff(const unsigned char *buf, size_t len)
{
    static const char *const image_brands[] = {"heic", "heix", "hevc", "hevx", "heim",
                                               "heis", "hevm", "hevs", "mif1", "msf1",
                                               "avif", "avis", "mif2", "avci"};
    uint32_t box = media_be32(buf);
    if (box < 16 || box > len)
        box = (uint32_t)(len < 4096 ? len : 4096);
    if (has_at(buf, len, 8, "crx "))
        return MEDIA_RAW;
    for (size_t off = 8; off + 4 <= box; off += 4) {
        if (off == 12)
            continue; /* minor version */
        for (size_t i = 0; i < sizeof(image_brands) / sizeof(image_brands[0]); i++)
            if (memcmp(buf + off, image_brands[i], 4) == 0)
                return MEDIA_HEIF;
    }
    return MEDIA_VIDEO;
}

int media_is_bmff(const unsigned char *buf, size_t len)
{
    return has_at(buf, len, 4, "ftyp") || has_at(buf, len, 4, "moov") ||
           has_at(buf, len, 4, "mdat") || has_at(buf, len, 4, "wide") ||
           has_at(buf, len, 4, "free") || has_at(buf, len, 4, "skip");
}

enum media_format media_detect(const unsigned char *buf, size_t len)
{
    if (!buf || len < 4)
        return MEDIA_UNKNOWN;
    if (buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
        return MEDIA_JPEG;
    if (has_at(buf, len, 0, "\x89PNG\r\n\x1a\n"))
        return MEDIA_PNG;
    if (has_at(buf, len, 0, "RIFF") && has_at(buf, len, 8, "WEBP"))
        return MEDIA_WEBP;
    if (has_at(buf, len, 0, "RIFF") && has_at(buf, len, 8, "AVI "))
        return MEDIA_VIDEO;
    if (has_at(buf, len, 0, "GIF87a") || has_at(buf, len, 0, "GIF89a"))
        return MEDIA_GIF;
    if (has_at(buf, len, 4, "ftyp"))
        return detect_bmff(buf, len);
    /* Old QuickTime files start with other top-level atoms. */
    if (has_at(buf, len, 4, "moov") || has_at(buf, len, 4, "mdat") || has_at(buf, len, 4, "wide") ||
        has_at(buf, len, 4, "free") || has_at(buf, len, 4, "skip"))
        return MEDIA_VIDEO;
    if (has_at(buf, len, 0, "\x1a\x45\xdf\xa3"))
        return MEDIA_VIDEO; /* Matroska / WebM */
    if (has_at(buf, len, 0, "FUJIFILMCCD-RAW"))
        return MEDIA_RAW;
    if (has_at(buf, len, 0, "IIRO") || has_at(buf, len, 0, "IIRS") || has_at(buf, len, 0, "MMOR") ||
        has_at(buf, len, 0, "IIU\0"))
        return MEDIA_RAW; /* Olympus ORF, Panasonic RW2 */
    if (has_at(buf, len, 0, "II*\0") || has_at(buf, len, 0, "MM\0*") ||
        has_at(buf, len, 0, "II+\0") || has_at(buf, len, 0, "MM\0+"))
        return MEDIA_TIFF;
    if (has_at(buf, len, 0, "BM") && len >= 26)
        return MEDIA_BMP;
    if (has_at(buf, len, 0, "%PDF"))
        return MEDIA_PDF;
    return MEDIA_UNKNOWN;
}

const char *media_format_name(enum media_format f)
{
    switch (f) {
    case MEDIA_JPEG:
        return "jpeg";
    case MEDIA_PNG:
        return "png";
    case MEDIA_WEBP:
        return "webp";
    case MEDIA_GIF:
        return "gif";
    case MEDIA_HEIF:
        return "heif";
    case MEDIA_TIFF:
        return "tiff";
    case MEDIA_RAW:
        return "raw";
    case MEDIA_VIDEO:
        return "video";
    case MEDIA_BMP:
        return "bmp";
    case MEDIA_PDF:
        return "pdf";
    case MEDIA_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *media_format_mime(enum media_format f)
{
    switch (f) {
    case MEDIA_JPEG:
        return "image/jpeg";
    case MEDIA_PNG:
        return "image/png";
    case MEDIA_WEBP:
        return "image/webp";
    case MEDIA_GIF:
        return "image/gif";
    case MEDIA_HEIF:
        return "image/heif";
    case MEDIA_VIDEO:
        return "video/mp4"; /* what media_strip writes, MOV input included */
    case MEDIA_TIFF:
        return "image/tiff";
    case MEDIA_BMP:
        return "image/bmp";
    case MEDIA_PDF:
        return "application/pdf";
    default:
        break;
    }
    return "application/octet-stream";
}

/* ---- dispatch ---- */

static int refuse(enum media_format f, struct tl_errinfo *ei)
{
    switch (f) {
    case MEDIA_TIFF:
        return tl_errf(ei, TL_EUNSUPPORTED,
                       "TIFF and RAW files cannot be cleaned; send it as a photo, not as a file");
    case MEDIA_RAW:
        return tl_errf(ei, TL_EUNSUPPORTED,
                       "camera RAW files cannot be cleaned; send it as a photo, not as a file");
    case MEDIA_VIDEO:
        return tl_errf(ei, TL_EUNSUPPORTED,
                       "only MP4 and MOV videos can be cleaned; send it as a video, not a file");
    default:
        break;
    }
    return tl_errf(ei, TL_EUNSUPPORTED,
                   "this file is not a JPEG, PNG, WebP, GIF or HEIC picture nor an MP4 or MOV "
                   "video; send it as a photo");
}

static int run(const unsigned char *in, size_t len, const struct media_limits *limits,
               struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    struct media_limits lim;
    media_limits_resolve(limits, &lim);
    memset(f, 0, sizeof(*f));
    if (!in && len)
        return tl_errf(ei, TL_EINVAL, "no input");
    if (len > lim.max_bytes)
        return tl_errf(ei, TL_ETOOBIG, "file of %zu bytes is over the limit of %zu bytes", len,
                       lim.max_bytes);
    if (len == 0)
        return tl_errf(ei, TL_EPARSE, "empty file");
    f->format = media_detect(in, len);
    if (out)
        out->max_total = len + 4096;
    switch (f->format) {
    case MEDIA_JPEG:
        return media_jpeg_walk(in, len, &lim, out, f, ei);
    case MEDIA_PNG:
        return media_png_walk(in, len, &lim, out, f, ei);
    case MEDIA_WEBP:
        return media_webp_walk(in, len, &lim, out, f, ei);
    case MEDIA_GIF:
        return media_gif_walk(in, len, &lim, out, f, ei);
    case MEDIA_HEIF:
        return media_heif_walk(in, len, &lim, out, f, ei);
    case MEDIA_VIDEO:
        if (media_is_bmff(in, len))
            return media_video_walk(in, len, &lim, out, f, ei);
        return refuse(f->format, ei);
    default:
        return refuse(f->format, ei);
    }
}

int media_facts_read(const unsigned char *in, size_t len, const struct media_limits *limits,
                     struct media_facts *facts, struct tl_errinfo *ei)
{
    return run(in, len, limits, NULL, facts, ei);
}

int media_strip(const unsigned char *in, size_t len, const struct media_limits *limits,
                unsigned char **out, size_t *out_len, struct media_facts *facts,
                struct tl_errinfo *ei)
{
    struct media_facts local;
    struct media_out o;
    media_out_init(&o, len + 4096);
    *out = NULL;
    *out_len = 0;
    int rc = run(in, len, limits, &o, facts ? facts : &local, ei);
    if (rc == TL_OK) {
        rc = media_out_finish(&o, out, out_len);
        if (rc)
            tl_errf(ei, rc, "out of memory assembling the output");
    }
    media_out_release(&o);
    return rc;
}

/* ---- facts as JSON ---- */

int media_facts_json(const struct media_facts *f, char **json)
{
    struct tl_buf b;
    int rc = TL_OK;
    tl_buf_init(&b, 0);
    *json = NULL;
    rc = tl_buf_printf(&b,
                       "{\"format\":\"%s\",\"mime\":\"%s\",\"width\":%d,\"height\":%d,"
                       "\"orientation\":%d,\"gps\":",
                       media_format_name(f->format), media_format_mime(f->format), f->width,
                       f->height, f->orientation);
    if (rc)
        goto out;
    if (f->has_gps) {
        rc = tl_buf_printf(&b, "{\"lat\":%.9f,\"lon\":%.9f", f->lat, f->lon);
        if (!rc && f->has_alt)
            rc = tl_buf_printf(&b, ",\"alt\":%.3f", f->alt);
        if (!rc && f->has_hpe)
            rc = tl_buf_printf(&b, ",\"hpe_m\":%.3f", f->hpe_m);
        if (!rc)
            rc = tl_buf_append(&b, "}", 1);
    } else {
        rc = tl_buf_append(&b, "null", 4);
    }
    if (rc)
        goto out;
    /* time_local holds only digits, '-', 'T' and ':' (validated in exif.c). */
    if (f->has_time)
        rc = tl_buf_printf(&b, ",\"time_local\":\"%.19s\"", f->time_local);
    else
        rc = tl_buf_printf(&b, ",\"time_local\":null");
    if (rc)
        goto out;
    if (f->has_offset)
        rc = tl_buf_printf(&b, ",\"offset_min\":%d", f->offset_min);
    else
        rc = tl_buf_printf(&b, ",\"offset_min\":null");
    if (!rc && f->format == MEDIA_VIDEO)
        rc =
            tl_buf_printf(&b, ",\"duration_ms\":%lld,\"rotation\":%d", f->duration_ms, f->rotation);
    if (!rc)
        rc = tl_buf_append(&b, "}", 1);
    if (rc)
        goto out;
    size_t n;
    *json = (char *)tl_buf_steal(&b, &n);
out:
    tl_buf_release(&b);
    return rc;
}
