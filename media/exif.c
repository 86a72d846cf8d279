/* media/exif.c - the facts inside EXIF, read with libexif (GPS, capture time and
 * offset, orientation); the minimal Orientation-only EXIF we write back; the ICC
 * profile safety check. */
#include <libexif/exif-data.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/banned.h"

static const unsigned char exif_hdr[6] = {'E', 'x', 'i', 'f', 0, 0};

static ExifEntry *entry(ExifData *ed, ExifIfd ifd, unsigned tag)
{
    if (!ed->ifd[ifd])
        return NULL;
    return exif_content_get_entry(ed->ifd[ifd], (ExifTag)tag);
}

/* Value i of a RATIONAL or SRATIONAL entry; 0 when absent or the denominator is 0. */
static int rational(ExifEntry *e, ExifByteOrder bo, unsigned i, double *v)
{
    if (!e || !e->data || e->components <= i || e->size < (i + 1) * 8)
        return 0;
    if (e->format == EXIF_FORMAT_RATIONAL) {
        ExifRational r = exif_get_rational(e->data + 8 * i, bo);
        if (r.denominator == 0)
            return 0;
        *v = (double)r.numerator / (double)r.denominator;
        return 1;
    }
    if (e->format == EXIF_FORMAT_SRATIONAL) {
        ExifSRational r = exif_get_srational(e->data + 8 * i, bo);
        if (r.denominator == 0)
            return 0;
        *v = (double)r.numerator / (double)r.denominator;
        return 1;
    }
    return 0;
}

static int dms(ExifEntry *e, ExifByteOrder bo, double *deg)
{
    double d, m = 0, s = 0;
    if (!rational(e, bo, 0, &d))
        return 0;
    if (e->components >= 2 && !rational(e, bo, 1, &m))
        return 0;
    if (e->components >= 3 && !rational(e, bo, 2, &s))
        return 0;
    *deg = d + m / 60.0 + s / 3600.0;
    return isfinite(*deg);
}

/* First character of an ASCII entry, 0 if none. */
static char ascii0(ExifEntry *e)
{
    if (!e || !e->data || e->size < 1 ||
        (e->format != EXIF_FORMAT_ASCII && e->format != EXIF_FORMAT_UNDEFINED))
        return 0;
    return (char)e->data[0];
}

static int digits(const unsigned char *p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 1;
}

/* "YYYY:MM:DD HH:MM:SS" (also '-' as date separator) -> "YYYY-MM-DDTHH:MM:SS". */
static void read_time(ExifEntry *e, struct media_facts *f)
{
    int y, mo, d, h, mi, s;
    if (!e || !e->data || e->format != EXIF_FORMAT_ASCII || e->size < 19)
        return;
    const unsigned char *p = e->data;
    if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) ||
        !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &s))
        return;
    if ((p[4] != ':' && p[4] != '-') || (p[7] != ':' && p[7] != '-') || p[13] != ':' ||
        p[16] != ':' || (p[10] != ' ' && p[10] != 'T'))
        return;
    if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return;
    /* The values are range-checked, so exactly 19 characters are written. */
    int n = snprintf(f->time_local, sizeof(f->time_local), "%04d-%02d-%02dT%02d:%02d:%02d", y, mo,
                     d, h, mi, s);
    f->has_time = n == 19;
}

/* "+HH:MM" / "-HH:MM" */
static void read_offset(ExifEntry *e, struct media_facts *f)
{
    int h, m;
    if (!e || !e->data || e->format != EXIF_FORMAT_ASCII || e->size < 6)
        return;
    const unsigned char *p = e->data;
    if ((p[0] != '+' && p[0] != '-') || p[3] != ':' || !digits(p + 1, 2, &h) ||
        !digits(p + 4, 2, &m) || h > 14 || m > 59)
        return;
    f->offset_min = (p[0] == '-' ? -1 : 1) * (h * 60 + m);
    f->has_offset = 1;
}

static void read_gps(ExifData *ed, ExifByteOrder bo, struct media_facts *f)
{
    double lat, lon, v;
    if (!dms(entry(ed, EXIF_IFD_GPS, 0x0002), bo, &lat) ||
        !dms(entry(ed, EXIF_IFD_GPS, 0x0004), bo, &lon))
        return;
    if (ascii0(entry(ed, EXIF_IFD_GPS, 0x0001)) == 'S')
        lat = -lat;
    if (ascii0(entry(ed, EXIF_IFD_GPS, 0x0003)) == 'W')
        lon = -lon;
    /* 0,0 is what phones write without a fix; it is never a real report position. */
    if (fabs(lat) > 90 || fabs(lon) > 180 || (lat == 0 && lon == 0))
        return;
    f->has_gps = 1;
    f->lat = lat;
    f->lon = lon;
    if (rational(entry(ed, EXIF_IFD_GPS, 0x0006), bo, 0, &v) && fabs(v) < 1e6) {
        ExifEntry *ref = entry(ed, EXIF_IFD_GPS, 0x0005);
        f->has_alt = 1;
        f->alt = ref && ref->data && ref->size >= 1 && ref->data[0] == 1 ? -v : v;
    }
    if (rational(entry(ed, EXIF_IFD_GPS, 0x001F), bo, 0, &v) && v >= 0 && v < 1e7) {
        f->has_hpe = 1;
        f->hpe_m = v;
    }
}

void media_exif_read(const unsigned char *p, size_t n, struct media_facts *f)
{
    unsigned char *tmp = NULL;
    ExifData *ed = NULL;
    if (n < 8)
        return;
    if (memcmp(p, exif_hdr, 6) != 0) {
        /* A bare TIFF structure (PNG eXIf, some WebP writers): libexif wants the header. */
        if (memcmp(p, "II*\0", 4) != 0 && memcmp(p, "MM\0*", 4) != 0)
            return;
        tmp = malloc(n + 6);
        if (!tmp)
            return;
        memcpy(tmp, exif_hdr, 6);
        memcpy(tmp + 6, p, n);
        p = tmp;
        n += 6;
    }
    if (n > 0xFFFFFFu)
        goto out;
    ed = exif_data_new();
    if (!ed)
        goto out;
    /* Read what is there: no "fixing" (it invents mandatory tags), keep tags libexif's
     * table does not list for an IFD (e.g. GPSHPositioningError). */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_unset_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
    exif_data_load_data(ed, p, (unsigned int)n);
    ExifByteOrder bo = exif_data_get_byte_order(ed);

    ExifEntry *e = entry(ed, EXIF_IFD_0, 0x0112);
    if (e && e->data && e->format == EXIF_FORMAT_SHORT && e->size >= 2) {
        int o = exif_get_short(e->data, bo);
        if (o >= 1 && o <= 8)
            f->orientation = o;
    }
    read_time(entry(ed, EXIF_IFD_EXIF, 0x9003), f);
    read_offset(entry(ed, EXIF_IFD_EXIF, 0x9011), f);
    read_gps(ed, bo, f);
out:
    if (ed)
        exif_data_unref(ed);
    free(tmp);
}

void media_exif_orientation_app1(int orientation, unsigned char out[MEDIA_ORIENT_APP1_LEN])
{
    static const unsigned char tmpl[MEDIA_ORIENT_APP1_LEN] = {
        0xFF, 0xE1, 0x00, 0x22,             /* APP1, length 34 */
        'E',  'x',  'i',  'f',  0, 0,       /* EXIF header */
        'M',  'M',  0x00, 0x2A, 0, 0, 0, 8, /* big-endian TIFF, IFD0 at 8 */
        0x00, 0x01,                         /* one entry */
        0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, /* Orientation, SHORT, count 1 */
        0x00, 0x01, 0x00, 0x00,             /* value (patched below) */
        0,    0,    0,    0};               /* no IFD1: no thumbnail */
    memcpy(out, tmpl, sizeof(tmpl));
    out[29] = (unsigned char)orientation;
}

/* ---- ICC ---- */

int media_icc_sanitize(const unsigned char *p, size_t n, unsigned char *out)
{
    /* Colorimetric tags only: enough to render, nothing that describes a device, a
     * measurement or a calibration run, and no private tags. */
    static const char allowed[][5] = {"desc", "cprt", "wtpt", "bkpt", "rXYZ", "gXYZ", "bXYZ",
                                      "rTRC", "gTRC", "bTRC", "kTRC", "chad", "chrm", "cicp",
                                      "A2B0", "A2B1", "A2B2", "B2A0", "B2A1", "B2A2"};
    if (n < 132 || n > MEDIA_ICC_MAX || media_be32(p) != n || memcmp(p + 36, "acsp", 4) != 0)
        return 0;
    if (memcmp(p + 16, "RGB ", 4) != 0 && memcmp(p + 16, "GRAY", 4) != 0)
        return 0;
    uint32_t cnt = media_be32(p + 128);
    if (cnt == 0 || cnt > (n - 132) / 12)
        return 0;
    for (uint32_t i = 0; i < cnt; i++) {
        const unsigned char *t = p + 132 + 12 * i;
        uint32_t off = media_be32(t + 4), sz = media_be32(t + 8);
        if (off < 132 || off > n || sz > n - off)
            return 0;
        size_t k;
        for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
            if (memcmp(t, allowed[k], 4) == 0)
                break;
        if (k == sizeof(allowed) / sizeof(allowed[0]))
            return 0;
    }
    memcpy(out, p, n);
    memset(out + 48, 0, 8);  /* device manufacturer, device model */
    memset(out + 80, 0, 20); /* profile creator, profile ID (an MD5 of the old bytes) */
    return 1;
}
