/* media/jpeg.c - the JPEG marker walker: reads the facts (SOF size, EXIF) and keeps only
 * what is needed to show the picture: SOI, a canonical JFIF APP0 (no thumbnail), a
 * minimal Orientation-only EXIF, a safe ICC profile, a canonical Adobe APP14, the
 * tables, frame and scan headers and the entropy-coded data byte for byte, EOI.
 * Everything else (other APPn, COM, reserved markers, data after EOI such as MPO
 * second images) is dropped. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/banned.h"

struct jpeg_state {
    unsigned char jfif[18];
    int have_jfif;
    unsigned char adobe[16];
    int have_adobe;
    /* ICC_PROFILE APP2 segments: each part's payload (pointing into the input) by its
     * sequence number 1..icc_count; icc_bad when they do not make one profile */
    const unsigned char *icc_part[256];
    size_t icc_part_len[256];
    int icc_count, icc_bad;
    int exif_seen;
    int sof_seen, sos_seen;
    int dnl_pending;  /* SOF height 0, waiting for the DNL marker */
    size_t sof_piece; /* index+1 in body of the owned SOF copy to patch, 0 if none */
};

static int is_sof(unsigned m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static void app0(struct jpeg_state *s, const unsigned char *pl, size_t n)
{
    if (s->have_jfif || n < 14 || memcmp(pl, "JFIF\0", 5) != 0)
        return; /* JFXX (thumbnail extension) and others are dropped */
    /* Version, units and density kept; the embedded thumbnail size forced to 0x0. */
    static const unsigned char head[4] = {0xFF, 0xE0, 0x00, 0x10};
    memcpy(s->jfif, head, 4);
    memcpy(s->jfif + 4, pl, 12);
    s->jfif[16] = 0;
    s->jfif[17] = 0;
    s->have_jfif = 1;
}

static void app14(struct jpeg_state *s, const unsigned char *pl, size_t n)
{
    if (s->have_adobe || n < 12 || memcmp(pl, "Adobe", 5) != 0)
        return;
    /* version, flags0, flags1, transform: the transform says how to read colour. */
    static const unsigned char head[4] = {0xFF, 0xEE, 0x00, 0x0E};
    memcpy(s->adobe, head, 4);
    memcpy(s->adobe + 4, pl, 12);
    s->have_adobe = 1;
}

static void app2(struct jpeg_state *s, const unsigned char *pl, size_t n)
{
    /* "ICC_PROFILE\0" seq count: the parts of one profile, in any order */
    if (n < 14 || memcmp(pl, "ICC_PROFILE\0", 12) != 0)
        return;
    unsigned seq = pl[12], cnt = pl[13];
    if (seq == 0 || cnt == 0 || seq > cnt || (s->icc_count && cnt != (unsigned)s->icc_count) ||
        s->icc_part[seq - 1]) {
        s->icc_bad = 1; /* two profiles, or a broken one: none is kept */
        return;
    }
    s->icc_count = (int)cnt;
    s->icc_part[seq - 1] = pl + 14;
    s->icc_part_len[seq - 1] = n - 14;
}

/* The profile, whole, sanitized and cut again where the camera cut it (so each segment
 * stays under 64 KiB), appended to out; nothing when it is incomplete or not safe. */
static int icc_out(const struct jpeg_state *s, struct media_out *out)
{
    size_t total = 0;
    if (s->icc_bad || !s->icc_count)
        return TL_OK;
    for (int i = 0; i < s->icc_count; i++) {
        if (!s->icc_part[i])
            return TL_OK; /* a missing part */
        total += s->icc_part_len[i];
    }
    if (total > MEDIA_ICC_MAX)
        return TL_OK;
    unsigned char *whole = malloc(total ? total : 1), *clean = malloc(total ? total : 1);
    int rc = TL_OK;
    if (!whole || !clean) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (int i = 0, at = 0; i < s->icc_count; at += (int)s->icc_part_len[i], i++)
        memcpy(whole + at, s->icc_part[i], s->icc_part_len[i]);
    if (!media_icc_sanitize(whole, total, clean))
        goto out;
    size_t at = 0;
    for (int i = 0; rc == TL_OK && i < s->icc_count; i++) {
        size_t n = s->icc_part_len[i];
        unsigned char head[18] = {0xFF, 0xE2, (unsigned char)((n + 16) >> 8),
                                  (unsigned char)(n + 16)};
        memcpy(head + 4, "ICC_PROFILE\0", 12);
        head[16] = (unsigned char)(i + 1);
        head[17] = (unsigned char)s->icc_count;
        rc = media_out_copy(out, head, sizeof(head));
        if (rc == TL_OK)
            rc = media_out_copy(out, clean + at, n);
        at += n;
    }
out:
    free(whole);
    free(clean);
    return rc;
}

/* Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or RSTn. */
static size_t scan_end(const unsigned char *in, size_t p, size_t len)
{
    for (;;) {
        const unsigned char *ff = memchr(in + p, 0xFF, len - p);
        if (!ff)
            return len;
        p = (size_t)(ff - in);
        if (p + 1 >= len)
            return len;
        unsigned m = in[p + 1];
        if (m == 0x00 || (m >= 0xD0 && m <= 0xD7)) {
            p += 2;
            continue;
        }
        return p;
    }
}

/* One marker segment: its marker m, the segment from the marker on (seg, seglen + 2
 * bytes: seglen counts the length field and the payload) and its payload (pl, n). */
struct jpeg_seg {
    unsigned m;
    const unsigned char *seg, *pl;
    size_t seglen, n;
};

/* The next marker at or after *p, past stray bytes between segments and fill bytes:
 * *m, and *p just after it. */
static int next_marker(const unsigned char *in, size_t len, size_t *p, unsigned *m,
                       struct tl_errinfo *ei)
{
    if (*p >= len)
        return tl_errf(ei, TL_EPARSE, "JPEG is truncated (no end-of-image marker)");
    if (in[*p] != 0xFF) {
        /* Stray bytes between segments (e.g. after a short APP14): libjpeg skips them
         * with a warning, and so do we, dropping them. */
        const unsigned char *ff = memchr(in + *p, 0xFF, len - *p);
        if (!ff)
            return tl_errf(ei, TL_EPARSE, "JPEG is truncated (no end-of-image marker)");
        *p = (size_t)(ff - in);
    }
    while (*p < len && in[*p] == 0xFF)
        (*p)++; /* fill bytes */
    if (*p >= len)
        return tl_errf(ei, TL_EPARSE, "JPEG is truncated (no end-of-image marker)");
    *m = in[(*p)++];
    return TL_OK;
}

/* The segment of marker m whose length field is at *p, checked to fit: g, and *p past
 * it. */
static int read_segment(const unsigned char *in, size_t len, size_t *p, unsigned m,
                        struct jpeg_seg *g, struct tl_errinfo *ei)
{
    if (len - *p < 2)
        return tl_errf(ei, TL_EPARSE, "JPEG is truncated in a segment header");
    size_t seglen = media_be16(in + *p);
    if (seglen < 2 || seglen > len - *p)
        return tl_errf(ei, TL_EPARSE, "JPEG segment 0x%02X length %zu runs past the data", m,
                       seglen);
    g->m = m;
    g->seg = in + *p - 2; /* marker included */
    g->pl = in + *p + 2;
    g->seglen = seglen;
    g->n = seglen - 2;
    *p += seglen;
    return TL_OK;
}

/* A frame header (SOFn): the first one's size checked against the limits (a height of 0
 * waits for the DNL marker), and, when writing (out), the segment kept in body; a SOF
 * that waits for its DNL is copied, to be patched then. */
static int on_sof(struct jpeg_state *s, const struct jpeg_seg *g, const struct media_limits *lim,
                  int out, struct media_out *body, struct media_facts *f, struct tl_errinfo *ei)
{
    int rc;
    if (g->n < 6)
        return tl_errf(ei, TL_EPARSE, "JPEG frame header is too short");
    uint32_t h = media_be16(g->pl + 1), w = media_be16(g->pl + 3);
    if (!s->sof_seen) {
        f->width = (int)w;
        f->height = (int)h;
        if (h == 0 && w != 0) {
            /* Height given by a DNL marker after the first scan: checked there. */
            if ((rc = media_check_pixels(w, 1, lim, ei)) != TL_OK)
                return rc;
            s->dnl_pending = 1;
        } else if ((rc = media_check_pixels(w, h, lim, ei)) != TL_OK) {
            return rc;
        }
    }
    s->sof_seen = 1;
    if (out && s->dnl_pending && !s->sof_piece) {
        /* libjpeg cannot decode DNL images: the SOF gets the height instead. */
        if ((rc = media_out_copy(body, g->seg, g->seglen + 2)) != TL_OK)
            return rc;
        s->sof_piece = body->nv;
    } else if (out && (rc = media_out_ref(body, g->seg, g->seglen + 2)) != TL_OK) {
        return rc;
    }
    return TL_OK;
}

/* A DNL marker after the first scan: the frame's height, checked, and written into the
 * kept SOF (when writing: out). */
static int on_dnl(struct jpeg_state *s, const struct jpeg_seg *g, const struct media_limits *lim,
                  int out, struct media_out *body, struct media_facts *f, struct tl_errinfo *ei)
{
    int rc;
    if (g->n < 2 || !s->dnl_pending || !s->sos_seen)
        return tl_errf(ei, TL_EPARSE, "JPEG has a misplaced DNL marker");
    uint32_t h = media_be16(g->pl);
    f->height = (int)h;
    if ((rc = media_check_pixels((uint32_t)f->width, h, lim, ei)) != TL_OK)
        return rc;
    if (out) {
        unsigned char *sof = body->v[s->sof_piece - 1].owned;
        sof[5] = g->pl[0];
        sof[6] = g->pl[1];
    }
    s->dnl_pending = 0;
    return TL_OK;
}

/* A scan: its header and its entropy-coded data kept in body, byte for byte; *p moves
 * past the data. */
static int keep_scan(const unsigned char *in, size_t len, size_t *p, const struct jpeg_seg *g,
                     struct media_out *body, struct tl_errinfo *ei)
{
    size_t end = scan_end(in, *p, len);
    if (end >= len)
        return tl_errf(ei, TL_EPARSE, "JPEG is truncated inside the image data");
    int rc = media_out_ref(body, g->seg, end - (*p - g->seglen - 2));
    if (rc == TL_OK)
        *p = end;
    return rc;
}

/* The cleaned picture into out: SOI, the JFIF APP0, an Orientation-only EXIF, the ICC
 * profile, the Adobe APP14, then what body kept (its owned pieces move to out), EOI. */
static int jpeg_assemble(const struct jpeg_state *s, struct media_out *body,
                         const struct media_facts *f, struct media_out *out)
{
    static const unsigned char soi[2] = {0xFF, 0xD8}, eoi[2] = {0xFF, 0xD9};
    unsigned char orient[MEDIA_ORIENT_APP1_LEN];
    int rc;
    if ((rc = media_out_ref(out, soi, 2)) != TL_OK)
        return rc;
    if (s->have_jfif && (rc = media_out_copy(out, s->jfif, sizeof(s->jfif))) != TL_OK)
        return rc;
    if (f->orientation >= 2) {
        media_exif_orientation_app1(f->orientation, orient);
        if ((rc = media_out_copy(out, orient, sizeof(orient))) != TL_OK)
            return rc;
    }
    if ((rc = icc_out(s, out)) != TL_OK)
        return rc;
    if (s->have_adobe && (rc = media_out_copy(out, s->adobe, sizeof(s->adobe))) != TL_OK)
        return rc;
    for (size_t i = 0; i < body->nv; i++) {
        unsigned char *owned = body->v[i].owned;
        body->v[i].owned = NULL; /* moves to out */
        rc = owned ? media_out_take(out, owned, body->v[i].n)
                   : media_out_ref(out, body->v[i].p, body->v[i].n);
        if (rc != TL_OK)
            return rc;
    }
    return media_out_ref(out, eoi, 2);
}

int media_jpeg_walk(const unsigned char *in, size_t len, const struct media_limits *lim,
                    struct media_out *out, struct media_facts *f, struct tl_errinfo *ei)
{
    struct jpeg_state s;
    struct media_out body;
    int rc = TL_OK;
    size_t p = 2;
    memset(&s, 0, sizeof(s));
    media_out_init(&body, out ? out->max_total : 0);

    for (;;) {
        unsigned m = 0;
        struct jpeg_seg g = {0, NULL, NULL, 0, 0};
        if ((rc = next_marker(in, len, &p, &m, ei)) != TL_OK)
            goto out;
        if (m == 0xD9) {
            if (!s.sos_seen) {
                rc = tl_errf(ei, TL_EPARSE, "JPEG has no image data");
                goto out;
            }
            break; /* anything after EOI (MPO images, appended data) is dropped */
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7))
            continue; /* standalone markers outside a scan carry nothing */
        if (m == 0xD8 || m == 0x00) {
            rc = tl_errf(ei, TL_EPARSE, "JPEG has a misplaced marker 0x%02X", m);
            goto out;
        }
        if ((rc = read_segment(in, len, &p, m, &g, ei)) != TL_OK)
            goto out;

        if (m == 0xE0) {
            app0(&s, g.pl, g.n);
        } else if (m == 0xE1) {
            if (!s.exif_seen && g.n >= 6 && memcmp(g.pl, "Exif\0\0", 6) == 0) {
                s.exif_seen = 1;
                media_exif_read(g.pl, g.n, f);
            }
        } else if (m == 0xE2) {
            if (out)
                app2(&s, g.pl, g.n);
        } else if (m == 0xEE) {
            app14(&s, g.pl, g.n);
        } else if ((m >= 0xE3 && m <= 0xEF) || m == 0xFE || (m >= 0xF0 && m <= 0xFD)) {
            /* other APPn, COM, reserved JPGn: dropped */
        } else if (is_sof(m)) {
            if ((rc = on_sof(&s, &g, lim, out != NULL, &body, f, ei)) != TL_OK)
                goto out;
        } else if (m == 0xDC) {
            if ((rc = on_dnl(&s, &g, lim, out != NULL, &body, f, ei)) != TL_OK)
                goto out;
        } else if (m == 0xDA) {
            if (!s.sof_seen) {
                rc = tl_errf(ei, TL_EPARSE, "JPEG scan before the frame header");
                goto out;
            }
            s.sos_seen = 1;
            if (!out)
                break; /* facts only: everything we read sits before the first scan */
            if ((rc = keep_scan(in, len, &p, &g, &body, ei)) != TL_OK)
                goto out;
        } else {
            /* DHT, DQT, DRI, DAC, DNL, DHP, EXP: the tables the decoder needs. */
            if (out && (rc = media_out_ref(&body, g.seg, g.seglen + 2)) != TL_OK)
                goto out;
        }
    }
    if (!s.sof_seen) {
        rc = tl_errf(ei, TL_EPARSE, "JPEG has no frame header");
        goto out;
    }
    if (out && s.dnl_pending) {
        rc = tl_errf(ei, TL_EPARSE, "JPEG frame height is 0 and no DNL marker gives it");
        goto out;
    }
    if (out)
        rc = jpeg_assemble(&s, &body, f, out);
out:
    if (rc == TL_ETOOBIG && ei && !ei->msg[0])
        tl_errf(ei, rc, "JPEG output over its size limit");
    media_out_release(&body);
    return rc;
}
