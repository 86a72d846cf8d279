/* media/media.c - format detection, limits, the output assembler, the strip/facts
 * dispatch and the facts JSON. The per-format walkers live in jpeg.c, png.c, webp.c,
 * gif.c, heif.c, video.c; EXIF and ICC in exif.c; the perceptual hash in phash.c. */
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

/* ---- limits ---- */

void media_limits_resolve(const struct media_limits *in, struct media_limits *lim)
{
    lim->max_bytes = in && in->max_bytes ? in->max_bytes : MEDIA_DEFAULT_MAX_BYTES;
    lim->max_pixels = in && in->max_pixels ? in->max_pixels : MEDIA_DEFAULT_MAX_PIXELS;
    lim->max_duration_s =
        in && in->max_duration_s ? in->max_duration_s : MEDIA_DEFAULT_MAX_DURATION_S;
    lim->max_streams = in && in->max_streams ? in->max_streams : MEDIA_DEFAULT_MAX_STREAMS;
    lim->drop_audio = in ? in->drop_audio : 0;
}

int media_check_pixels(uint64_t w, uint64_t h, const struct media_limits *lim,
                       struct tl_errinfo *ei)
{
    if (w == 0 || h == 0)
        return tl_errf(ei, TL_EPARSE, "image header gives a zero width or height");
    if (w * h > lim->max_pixels)
        return tl_errf(ei, TL_ETOOBIG, "image of %llux%llu pixels is over the limit of %llu pixels",
                       (unsigned long long)w, (unsigned long long)h,
                       (unsigned long long)lim->max_pixels);
    return TL_OK;
}

/* ---- output assembler ---- */

void media_out_init(struct media_out *o, size_t max_total)
{
    memset(o, 0, sizeof(*o));
    o->max_total = max_total;
}

void media_out_release(struct media_out *o)
{
    for (size_t i = 0; i < o->nv; i++)
        free(o->v[i].owned);
    free(o->v);
    memset(o, 0, sizeof(*o));
}

static int out_push(struct media_out *o, const unsigned char *p, size_t n, unsigned char *owned)
{
    if (n > o->max_total - o->total)
        return TL_ETOOBIG;
    if (!owned && o->nv && !o->v[o->nv - 1].owned && o->v[o->nv - 1].p + o->v[o->nv - 1].n == p) {
        o->v[o->nv - 1].n += n;
        o->total += n;
        return TL_OK;
    }
    if (o->nv == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 32;
        struct media_piece *v = realloc(o->v, cap * sizeof(*v));
        if (!v)
            return TL_ENOMEM;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->nv++] = (struct media_piece){p, n, owned};
    o->total += n;
    return TL_OK;
}

int media_out_ref(struct media_out *o, const unsigned char *p, size_t n)
{
    if (n == 0)
        return TL_OK;
    return out_push(o, p, n, NULL);
}

int media_out_copy(struct media_out *o, const void *p, size_t n)
{
    unsigned char *c = malloc(n ? n : 1);
    if (!c)
        return TL_ENOMEM;
    memcpy(c, p, n);
    int rc = out_push(o, c, n, c);
    if (rc)
        free(c);
    return rc;
}

int media_out_take(struct media_out *o, unsigned char *p, size_t n)
{
    int rc = out_push(o, p, n, p);
    if (rc)
        free(p);
    return rc;
}

int media_out_finish(struct media_out *o, unsigned char **out, size_t *out_len)
{
    if (o->nv == 1 && o->v[0].owned && o->v[0].p == o->v[0].owned) {
        /* one buffer of our own (a remuxed video): handed over, not copied */
        *out = o->v[0].owned;
        *out_len = o->v[0].n;
        o->v[0].owned = NULL;
        return TL_OK;
    }
    unsigned char *b = malloc(o->total ? o->total : 1);
    if (!b)
        return TL_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < o->nv; i++) {
        memcpy(b + at, o->v[i].p, o->v[i].n);
        at += o->v[i].n;
    }
    *out = b;
    *out_len = at;
    return TL_OK;
}

/* ---- CRC-32, slicing by 8 ---- */

static uint32_t crc_tab[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t media_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    /* Racing initialisers write identical values, so a double init is harmless. */
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
        crc_init();
    crc = ~crc;
    while (n >= 8) {
        uint32_t a = crc ^ media_le32(p);
        uint32_t b = media_le32(p + 4);
        crc = crc_tab[7][a & 0xFF] ^ crc_tab[6][(a >> 8) & 0xFF] ^ crc_tab[5][(a >> 16) & 0xFF] ^
              crc_tab[4][a >> 24] ^ crc_tab[3][b & 0xFF] ^ crc_tab[2][(b >> 8) & 0xFF] ^
              crc_tab[1][(b >> 16) & 0xFF] ^ crc_tab[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_tab[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
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
