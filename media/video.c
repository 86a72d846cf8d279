/* media/video.c - MP4/MOV/3GP (Telegram's round video notes too): the facts read from
 * the container header (position, capture time, duration, size, rotation), a remux
 * through libavformat that copies the video and audio packets byte for byte and keeps
 * nothing else, and the decode of the first keyframe for the perceptual hash.
 *
 * Only the QuickTime/MP4 demuxer is ever used (no probing), reading from memory: the
 * bytes never reach a file, and FFmpeg's external references (dref) stay off. The copy
 * is written by the MP4 muxer in bit-exact mode, fed no metadata at all, so its udta,
 * meta, XMP, chapters, cover images, data/telemetry/timecode tracks and creation times
 * (written as zero) are gone; the display matrix is handed over so rotation stays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "libs.h"
#include "common/banned.h"

/* The input's AVIO buffer is small: FFmpeg reads anything larger (every video packet)
 * straight into the packet, one copy fewer. */
#define IN_BLOCK 4096
#define OUT_BLOCK 65536

/* ---- memory I/O: a read cursor over the input, a growable seekable output ---- */

struct mem_in {
    const unsigned char *p;
    size_t len, pos;
};

static int in_read(void *opaque, uint8_t *buf, int size)
{
    struct mem_in *m = opaque;
    size_t n = m->len - m->pos;
    if (n == 0)
        return AVERROR_EOF;
    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int)n;
}

/* FFmpeg's seek over a memory buffer of len bytes whose cursor is *pos; the cursor may go
 * up to limit (the output may be extended by seeking past its end). */
static int64_t mem_seek(size_t *pos, size_t len, size_t limit, int64_t off, int whence)
{
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return (int64_t)len;
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = (int64_t)*pos;
        break;
    case SEEK_END:
        base = (int64_t)len;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (off < -base || (uint64_t)(base + off) > limit)
        return AVERROR(EINVAL);
    *pos = (size_t)(base + off);
    return (int64_t)*pos;
}

static int64_t in_seek(void *opaque, int64_t off, int whence)
{
    struct mem_in *m = opaque;
    return mem_seek(&m->pos, m->len, m->len, off, whence);
}

struct mem_out {
    unsigned char *p;
    size_t len, cap, pos, max;
    int overflow;
};

static int out_write(void *opaque, uint8_t *buf, int size) /* FFmpeg 5: not const */
{
    struct mem_out *m = opaque;
    size_t n = (size_t)size;
    if (n > m->max || m->pos > m->max - n) {
        m->overflow = 1;
        return AVERROR(ENOSPC);
    }
    if (m->pos + n > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 20;
        while (cap < m->pos + n)
            cap *= 2;
        unsigned char *q = realloc(m->p, cap);
        if (!q)
            return AVERROR(ENOMEM);
        m->p = q;
        m->cap = cap;
    }
    if (m->pos > m->len)
        memset(m->p + m->len, 0, m->pos - m->len);
    memcpy(m->p + m->pos, buf, n);
    m->pos += n;
    if (m->pos > m->len)
        m->len = m->pos;
    return size;
}

static int64_t out_seek(void *opaque, int64_t off, int whence)
{
    struct mem_out *m = opaque;
    return mem_seek(&m->pos, m->len, m->max, off, whence);
}

/* ---- facts ---- */

/* One ISO 6709 coordinate: sign, then DD[D][.d], DDMM[.m] or DDMMSS[.s] by the count of
 * integer digits (deg_digits 2 for latitude, 3 for longitude). Returns the characters
 * read, 0 on error. */
static size_t iso6709_coord(const char *s, int deg_digits, double *out)
{
    size_t i = 1, ndig = 0;
    if (s[0] != '+' && s[0] != '-')
        return 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++, ndig++;
    double frac = 0, scale = 0.1;
    size_t j = i;
    if (s[j] == '.') {
        j++;
        while (s[j] >= '0' && s[j] <= '9') {
            frac += (s[j] - '0') * scale;
            scale /= 10;
            j++;
        }
    }
    long v = 0;
    for (size_t k = 1; k < 1 + ndig; k++)
        v = v * 10 + (s[k] - '0');
    double deg;
    if (ndig == (size_t)deg_digits)
        deg = (double)v + frac;
    else if (ndig == (size_t)deg_digits + 2)
        deg = (double)(v / 100) + ((double)(v % 100) + frac) / 60.0;
    else if (ndig == (size_t)deg_digits + 4)
        deg = (double)(v / 10000) + (double)(v / 100 % 100) / 60.0 +
              ((double)(v % 100) + frac) / 3600.0;
    else
        return 0;
    *out = s[0] == '-' ? -deg : deg;
    return j;
}

/* "+50.4501+030.5234+123.4/" (altitude optional). */
static void parse_iso6709(const char *s, struct media_facts *f)
{
    double lat, lon, alt;
    size_t a = iso6709_coord(s, 2, &lat);
    if (!a)
        return;
    size_t b = iso6709_coord(s + a, 3, &lon);
    if (!b || !isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180)
        return;
    if (lat == 0 && lon == 0)
        return; /* no fix */
    f->has_gps = 1;
    f->lat = lat;
    f->lon = lon;
    const char *r = s + a + b;
    if ((r[0] == '+' || r[0] == '-')) {
        char *end = NULL;
        alt = strtod(r, &end);
        if (end != r && isfinite(alt) && fabs(alt) < 100000) {
            f->has_alt = 1;
            f->alt = alt;
        }
    }
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SS" then optional fraction and "Z", "+HHMM" or "+HH:MM". Apple's
 * creationdate carries the camera's offset; mvhd's creation_time is UTC (offset 0). */
static void parse_time(const char *s, struct media_facts *f)
{
    if (strlen(s) < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return;
    if (memcmp(s, "1904", 4) == 0 || memcmp(s, "1970", 4) == 0 || memcmp(s, "0000", 4) == 0)
        return; /* a zeroed creation time */
    memcpy(f->time_local, s, 19);
    f->time_local[10] = 'T';
    f->time_local[19] = 0;
    f->has_time = 1;
    const char *z = s + 19;
    if (*z == '.')
        for (z++; *z >= '0' && *z <= '9'; z++)
            ;
    if (*z == 'Z') {
        f->has_offset = 1;
        f->offset_min = 0;
    } else if ((*z == '+' || *z == '-') && digits(z + 1, 2)) {
        const char *m = z[3] == ':' ? z + 4 : z + 3;
        if (digits(m, 2)) {
            int off = ((z[1] - '0') * 10 + (z[2] - '0')) * 60 + (m[0] - '0') * 10 + (m[1] - '0');
            if (off <= 18 * 60) {
                f->has_offset = 1;
                f->offset_min = *z == '-' ? -off : off;
            }
        }
    }
}

/* EXIF Orientation for a clockwise rotation of 90, 180, 270 degrees. */
static int orientation_of(int cw)
{
    return cw == 90 ? 6 : cw == 180 ? 3 : cw == 270 ? 8 : 1;
}

static void read_facts(AVFormatContext *ic, int vi, struct media_facts *f)
{
    const AVDictionaryEntry *e;
    if ((e = media_lib.av_dict_get(ic->metadata, "com.apple.quicktime.location.ISO6709", NULL, 0)))
        parse_iso6709(e->value, f);
    if (!f->has_gps && (e = media_lib.av_dict_get(ic->metadata, "location", NULL, 0)))
        parse_iso6709(e->value, f);
    if (f->has_gps &&
        (e = media_lib.av_dict_get(ic->metadata, "com.apple.quicktime.location.accuracy.horizontal",
                                   NULL, 0))) {
        char *end = NULL;
        double h = strtod(e->value, &end);
        if (end != e->value && isfinite(h) && h >= 0 && h < 1e7) {
            f->has_hpe = 1;
            f->hpe_m = h;
        }
    }
    if ((e = media_lib.av_dict_get(ic->metadata, "com.apple.quicktime.creationdate", NULL, 0)))
        parse_time(e->value, f);
    if (!f->has_time && (e = media_lib.av_dict_get(ic->metadata, "creation_time", NULL, 0)))
        parse_time(e->value, f);
    if (ic->duration > 0 && ic->duration != AV_NOPTS_VALUE)
        f->duration_ms = (long long)(ic->duration / (AV_TIME_BASE / 1000));
    if (vi < 0)
        return;
    const AVStream *st = ic->streams[vi];
    f->width = st->codecpar->width;
    f->height = st->codecpar->height;
    f->orientation = 1;
    size_t sz = 0;
    const uint8_t *dm = media_lib.av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &sz);
    if (dm && sz >= 9 * sizeof(int32_t)) {
        double ccw = media_lib.av_display_rotation_get((const int32_t *)dm);
        if (isfinite(ccw)) {
            int cw = ((int)lround(-ccw) % 360 + 360) % 360;
            f->rotation = cw;
            f->orientation = orientation_of(cw);
        }
    }
}

/* ---- the walk ---- */

struct demux {
    AVFormatContext *ic;
    AVIOContext *io;
    struct mem_in in;
    int vi; /* the video stream, -1 none */
};

static void demux_close(struct demux *d)
{
    if (d->ic)
        media_lib.avformat_close_input(&d->ic);
    if (d->io) {
        media_lib.av_freep(&d->io->buffer);
        media_lib.avio_context_free(&d->io);
    }
}

static int is_kept(const AVStream *st, int drop_audio)
{
    enum AVMediaType t = st->codecpar->codec_type;
    if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
        return 0; /* cover image */
    return t == AVMEDIA_TYPE_VIDEO || (t == AVMEDIA_TYPE_AUDIO && !drop_audio);
}

/* Opens the container and checks the limits from its header alone: nothing is
 * decoded and no packet is read before they pass. */
static int demux_open(const unsigned char *in, size_t len, const struct media_limits *lim,
                      struct demux *d, struct media_facts *f, struct tl_errinfo *ei)
{
    memset(d, 0, sizeof(*d));
    d->vi = -1;
    d->in = (struct mem_in){in, len, 0};
    int rc = media_libs_load(ei);
    if (rc)
        return rc;
    unsigned char *buf = media_lib.av_malloc(IN_BLOCK);
    if (!buf)
        return tl_errf(ei, TL_ENOMEM, "out of memory opening the video");
    d->io = media_lib.avio_alloc_context(buf, IN_BLOCK, 0, &d->in, in_read, NULL, in_seek);
    if (!d->io) {
        media_lib.av_free(buf);
        return tl_errf(ei, TL_ENOMEM, "out of memory opening the video");
    }
    d->ic = media_lib.avformat_alloc_context();
    if (!d->ic)
        return tl_errf(ei, TL_ENOMEM, "out of memory opening the video");
    d->ic->pb = d->io;
    d->ic->flags |= AVFMT_FLAG_CUSTOM_IO;
    const AVInputFormat *mov = media_lib.av_find_input_format("mov");
    if (!mov)
        return tl_errf(ei, TL_EUNSUPPORTED, "this FFmpeg has no MP4/MOV reader");
    if (media_lib.avformat_open_input(&d->ic, NULL, mov, NULL) < 0) {
        /* on failure avformat_open_input frees the context (not our I/O) */
        return tl_errf(ei, TL_EPARSE, "the video's container cannot be read");
    }
    if (d->ic->nb_streams > lim->max_streams)
        return tl_errf(ei, TL_ETOOBIG, "video has %u tracks, over the limit of %u",
                       d->ic->nb_streams, lim->max_streams);
    for (unsigned i = 0; i < d->ic->nb_streams; i++) {
        const AVStream *st = d->ic->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) && d->vi < 0)
            d->vi = (int)i;
    }
    read_facts(d->ic, d->vi, f);
    if (d->vi < 0)
        return tl_errf(ei, TL_EPARSE, "the file holds no video track");
    rc = media_check_pixels((uint64_t)(f->width > 0 ? f->width : 0),
                            (uint64_t)(f->height > 0 ? f->height : 0), lim, ei);
    if (rc)
        return rc;
    if (f->duration_ms <= 0)
        return tl_errf(ei, TL_EPARSE, "the video gives no duration");
    /* A truncated file still has its index (moov first): the demuxer would end early and
     * the copy would be cut short without a word, so every sample must lie in the file. */
    for (unsigned i = 0; i < d->ic->nb_streams; i++) {
        const AVStream *st = d->ic->streams[i];
        int n = media_lib.avformat_index_get_entries_count(st);
        for (int k = 0; k < n; k++) {
            const AVIndexEntry *e = media_lib.avformat_index_get_entry(d->ic->streams[i], k);
            if (e && (e->pos < 0 || (uint64_t)e->pos + (uint64_t)e->size > len))
                return tl_errf(ei, TL_EPARSE, "the video is truncated (its data ends early)");
        }
    }
    if ((unsigned long long)f->duration_ms > (unsigned long long)lim->max_duration_s * 1000)
        return tl_errf(ei, TL_ETOOBIG, "video of %lld s is over the limit of %u s",
                       f->duration_ms / 1000, lim->max_duration_s);
    return TL_OK;
}

/* Whether the output family accepts the codec under its input tag (hvc1 stays hvc1,
 * which Apple players need); else the muxer picks a tag. */
static unsigned keep_tag(const AVOutputFormat *of, const AVCodecParameters *par)
{
    unsigned tag = par->codec_tag;
    if (!tag)
        return 0;
    if (!of->codec_tag || media_lib.av_codec_get_id(of->codec_tag, tag) == par->codec_id)
        return tag;
    return 0;
}

/* The MP4 writer describes VP9 and AV1 (vpcC, av1C) from the pixel format, which the
 * container header does not give: a few frames are decoded to learn it (the limits
 * passed already), else the copy would carry an empty vpcC no browser opens. */
static int learn_pixel_format(AVFormatContext *ic, struct tl_errinfo *ei)
{
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        const AVCodecParameters *par = ic->streams[i]->codecpar;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO && par->format < 0 &&
            (par->codec_id == AV_CODEC_ID_VP9 || par->codec_id == AV_CODEC_ID_AV1)) {
            if (media_lib.avformat_find_stream_info(ic, NULL) < 0 ||
                ic->streams[i]->codecpar->format < 0)
                return tl_errf(ei, TL_EPARSE, "the video's pixel format cannot be read");
            break;
        }
    }
    return TL_OK;
}

/* An MP4 writer into mo: *oc, writing through *oio (the caller frees both, also on
 * error). */
static int writer_open(struct mem_out *mo, AVFormatContext **oc, AVIOContext **oio,
                       struct tl_errinfo *ei)
{
    if (media_lib.avformat_alloc_output_context2(oc, NULL, "mp4", NULL) < 0 || !*oc)
        return tl_errf(ei, TL_ENOMEM, "cannot create the MP4 writer");
    (*oc)->flags |= AVFMT_FLAG_BITEXACT; /* no "Lavf" encoder string, no wall-clock time */
    unsigned char *buf = media_lib.av_malloc(OUT_BLOCK);
    if (buf)
        *oio = media_lib.avio_alloc_context(buf, OUT_BLOCK, 1, mo, NULL, out_write, out_seek);
    if (!*oio) {
        media_lib.av_free(buf);
        return tl_errf(ei, TL_ENOMEM, "out of memory writing the video");
    }
    (*oio)->direct = 1; /* each write straight into mo, not through the buffer first */
    (*oc)->pb = *oio;
    (*oc)->flags |= AVFMT_FLAG_CUSTOM_IO;
    return TL_OK;
}

/* The streams of ic that are kept, as new streams of oc (parameters, tag, time base,
 * display matrix): map[i] is input stream i's index in oc, or -1 when it is dropped. */
static int streams_copy(AVFormatContext *ic, AVFormatContext *oc, const struct media_limits *lim,
                        int *map, struct tl_errinfo *ei)
{
    int kept = 0;
    for (unsigned i = 0; i < ic->nb_streams; i++) {
        const AVStream *ist = ic->streams[i];
        map[i] = -1;
        if (!is_kept(ist, lim->drop_audio))
            continue;
        AVStream *ost = media_lib.avformat_new_stream(oc, NULL);
        if (!ost || media_lib.avcodec_parameters_copy(ost->codecpar, ist->codecpar) < 0)
            return tl_errf(ei, TL_ENOMEM, "out of memory writing the video");
        ost->codecpar->codec_tag = keep_tag(oc->oformat, ist->codecpar);
        ost->time_base = ist->time_base;
        size_t sz = 0;
        const uint8_t *dm = media_lib.av_stream_get_side_data(ist, AV_PKT_DATA_DISPLAYMATRIX, &sz);
        if (dm && sz == 9 * sizeof(int32_t)) {
            uint8_t *c = media_lib.av_stream_new_side_data(ost, AV_PKT_DATA_DISPLAYMATRIX, sz);
            if (!c)
                return tl_errf(ei, TL_ENOMEM, "out of memory writing the video");
            memcpy(c, dm, sz);
        }
        map[i] = kept++;
    }
    return TL_OK;
}

/* Every packet of a kept stream of d copied into oc (through pkt), its timestamps checked
 * against the duration limit; a video track without a frame it shows is refused (none,
 * or every one before the start its edit list gives: the copy would read back with no
 * duration). */
static int packets_copy(struct demux *d, AVFormatContext *oc, AVPacket *pkt, const int *map,
                        const struct media_limits *lim, const struct mem_out *mo,
                        struct tl_errinfo *ei)
{
    AVFormatContext *ic = d->ic;
    long long video_packets = 0;
    for (;;) {
        int e = media_lib.av_read_frame(ic, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0)
            return tl_errf(ei, TL_EPARSE, "the video's data is damaged or truncated");
        if ((unsigned)pkt->stream_index >= ic->nb_streams || map[pkt->stream_index] < 0) {
            media_lib.av_packet_unref(pkt);
            continue;
        }
        const AVStream *ist = ic->streams[pkt->stream_index];
        if (pkt->stream_index == d->vi && pkt->size > 0 &&
            (pkt->pts == AV_NOPTS_VALUE || pkt->pts + (pkt->duration > 0 ? pkt->duration : 0) > 0))
            video_packets++;
        /* the duration was checked from the header; the timestamps must agree with it */
        double tb = av_q2d(ist->time_base), lim_s = (double)lim->max_duration_s + 1;
        double span = pkt->duration > 0 ? (double)pkt->duration * tb : 0;
        if ((pkt->pts != AV_NOPTS_VALUE && fabs((double)pkt->pts * tb) + span > lim_s) ||
            (pkt->dts != AV_NOPTS_VALUE && fabs((double)pkt->dts * tb) + span > lim_s) ||
            pkt->duration < 0) {
            media_lib.av_packet_unref(pkt);
            return tl_errf(ei, TL_ETOOBIG, "the video's timestamps run past %u s",
                           lim->max_duration_s);
        }
        AVStream *ost = oc->streams[map[pkt->stream_index]];
        /* side data of a packet (new extradata, skip samples) is codec state; anything
         * else rides on no MP4 atom */
        media_lib.av_packet_rescale_ts(pkt, ist->time_base, ost->time_base);
        pkt->stream_index = map[pkt->stream_index];
        pkt->pos = -1;
        e = media_lib.av_interleaved_write_frame(oc, pkt);
        media_lib.av_packet_unref(pkt);
        if (e < 0)
            return mo->overflow ? tl_errf(ei, TL_ETOOBIG, "the cleaned video grew over its limit")
                                : tl_errf(ei, TL_EPARSE, "the video's packets cannot be rewritten");
    }
    if (video_packets == 0)
        return tl_errf(ei, TL_EPARSE, "the video track holds no frames");
    return TL_OK;
}

/* The kept streams of d rewritten as MP4 into mo, packet for packet: nothing is decoded
 * or encoded again. */
static int remux(struct demux *d, const struct media_limits *lim, struct mem_out *mo,
                 struct tl_errinfo *ei)
{
    AVFormatContext *oc = NULL;
    AVIOContext *oio = NULL;
    AVPacket *pkt = NULL;
    int *map = NULL, rc, header = 0;
    AVFormatContext *ic = d->ic;

    if ((rc = learn_pixel_format(ic, ei)) != TL_OK ||
        (rc = writer_open(mo, &oc, &oio, ei)) != TL_OK)
        goto out;
    map = calloc(ic->nb_streams, sizeof(*map));
    pkt = media_lib.av_packet_alloc();
    if (!map || !pkt) {
        rc = tl_errf(ei, TL_ENOMEM, "out of memory writing the video");
        goto out;
    }
    if ((rc = streams_copy(ic, oc, lim, map, ei)) != TL_OK)
        goto out;
    if (media_lib.avformat_write_header(oc, NULL) < 0) {
        rc = tl_errf(ei, TL_EUNSUPPORTED, "the video's codecs cannot be written into MP4");
        goto out;
    }
    header = 1;
    if ((rc = packets_copy(d, oc, pkt, map, lim, mo, ei)) != TL_OK)
        goto out;
    if (media_lib.av_write_trailer(oc) < 0 || mo->overflow) {
        rc =
            tl_errf(ei, mo->overflow ? TL_ETOOBIG : TL_EIO, "the cleaned video cannot be finished");
        goto out;
    }
    header = 0;
    media_lib.avio_flush(oio);
out:
    if (header)
        media_lib.av_write_trailer(oc);
    if (oio) {
        media_lib.av_freep(&oio->buffer);
        media_lib.avio_context_free(&oio);
    }
    media_lib.avformat_free_context(oc);
    media_lib.av_packet_free(&pkt);
    free(map);
    return rc;
}

int media_video_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                     struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    struct demux d;
    struct mem_out mo = {NULL, 0, 0, 0, len + len / 8 + 65536, 0};
    /* the copy is about the input's size: one allocation, no growth */
    if (out && (mo.p = malloc(len + 65536)) != NULL)
        mo.cap = len + 65536;
    int rc = demux_open(in, len, lim, &d, f, ei);
    if (rc == TL_OK && out) {
        rc = remux(&d, lim, &mo, ei);
        if (rc == TL_OK) {
            out->max_total = mo.max;
            rc = media_out_take(out, mo.p, mo.len);
            mo.p = NULL;
        }
    }
    free(mo.p);
    demux_close(&d);
    return rc;
}

/* ---- the first keyframe, in grey, for the perceptual hash ---- */

int media_video_keyframe_grey(const unsigned char *in, size_t len, const struct media_limits *lim,
                              int side, unsigned char *grey, int *orientation,
                              struct tl_errinfo *ei)
{
    struct demux d;
    struct media_facts f;
    AVCodecContext *cc = NULL;
    AVPacket *pkt = NULL;
    AVFrame *fr = NULL;
    struct SwsContext *sws = NULL;
    memset(&f, 0, sizeof(f));
    int rc = media_libs_load(ei);
    if (rc)
        return rc; /* before the cleanup below, which calls into the libraries */
    if ((rc = demux_open(in, len, lim, &d, &f, ei)) != TL_OK)
        goto out;
    *orientation = f.orientation;
    const AVCodecParameters *par = d.ic->streams[d.vi]->codecpar;
    const AVCodec *dec = media_lib.avcodec_find_decoder(par->codec_id);
    if (!dec) {
        rc = tl_errf(ei, TL_EUNSUPPORTED, "no decoder for the video's codec");
        goto out;
    }
    cc = media_lib.avcodec_alloc_context3(dec);
    pkt = media_lib.av_packet_alloc();
    fr = media_lib.av_frame_alloc();
    if (!cc || !pkt || !fr || media_lib.avcodec_parameters_to_context(cc, par) < 0) {
        rc = tl_errf(ei, TL_ENOMEM, "out of memory decoding the video");
        goto out;
    }
    cc->thread_count = 1;
    if (media_lib.avcodec_open2(cc, dec, NULL) < 0) {
        rc = tl_errf(ei, TL_EPARSE, "the video's decoder refuses its parameters");
        goto out;
    }
    int got = 0, sent = 0;
    while (!got) {
        int e = media_lib.av_read_frame(d.ic, pkt);
        if (e < 0) {
            media_lib.avcodec_send_packet(cc, NULL); /* drain */
        } else if (pkt->stream_index != d.vi || (!sent && !(pkt->flags & AV_PKT_FLAG_KEY))) {
            media_lib.av_packet_unref(pkt);
            continue;
        } else {
            sent++;
            e = media_lib.avcodec_send_packet(cc, pkt);
            media_lib.av_packet_unref(pkt);
            if (e < 0 && e != AVERROR(EAGAIN))
                break;
        }
        int r = media_lib.avcodec_receive_frame(cc, fr);
        if (r == 0)
            got = 1;
        else if (r != AVERROR(EAGAIN) || sent > 64 || e < 0)
            break;
    }
    if (!got || fr->width != cc->width || fr->width <= 0 || fr->height <= 0 ||
        (uint64_t)fr->width * (uint64_t)fr->height > lim->max_pixels) {
        rc = tl_errf(ei, TL_EPARSE, "no frame of the video could be decoded");
        goto out;
    }
    sws = media_lib.sws_getContext(fr->width, fr->height, (enum AVPixelFormat)fr->format, side,
                                   side, AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
    if (!sws) {
        rc = tl_errf(ei, TL_EUNSUPPORTED, "the video's pixel format cannot be converted");
        goto out;
    }
    uint8_t *dst[4] = {grey, NULL, NULL, NULL};
    int stride[4] = {side, 0, 0, 0};
    if (media_lib.sws_scale(sws, (const uint8_t *const *)fr->data, fr->linesize, 0, fr->height, dst,
                            stride) != side) {
        rc = tl_errf(ei, TL_EPARSE, "the video's frame cannot be scaled");
        goto out;
    }
out:
    media_lib.sws_freeContext(sws);
    media_lib.av_frame_free(&fr);
    media_lib.av_packet_free(&pkt);
    media_lib.avcodec_free_context(&cc);
    demux_close(&d);
    return rc;
}
