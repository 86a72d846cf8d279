/* common/tz.c - TZif reader (RFC 8536) and wall-clock conversions for one zone. */
#include "tz.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "banned.h"

#define TZ_MAX_FILE (64 * 1024)
#define TZ_MAX_TIMES 4096
#define TZ_MAX_TYPES 256
#define TZ_MAX_OFF (26 * 3600) /* no zone's offset is larger; RFC 8536 allows less than 25 h */
#define TZ_T_LIMIT ((int64_t)1 << 50) /* instants are clamped here before calendar sums */

/* A footer rule "Mm.w.d/time": day d (0 Sunday) of week w (5: the last) of month m, at
 * time seconds of local time (may be negative or past 24 h in TZif version 3). */
struct tz_rule {
    int m, w, d;
    long secs;
};

enum tz_footer { FOOT_NONE = 0, FOOT_FIXED, FOOT_RULE };

struct tl_tz {
    char name[64];
    size_t n;     /* transitions */
    int64_t *at;  /* their instants, strictly ascending */
    int32_t *off; /* off[i]: the offset in force from at[i] on */
    int32_t off0; /* before the first transition (time type 0) */
    enum tz_footer foot;
    int32_t std_off, dst_off;
    struct tz_rule start, end; /* FOOT_RULE: daylight time from start (std clock) to end */
};

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t year_of_days(int64_t z)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    return yoe + era * 400 + (mp >= 10);
}

static int month_days(int64_t y, int m)
{
    static const int md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return md[m - 1] + (m == 2 && leap);
}

/* The day (days since the epoch) a rule names in year y. */
static int64_t rule_day(int64_t y, const struct tz_rule *r)
{
    int64_t first = days_from_civil(y, r->m, 1);
    int wd_first = (int)((first % 7 + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    int day = 1 + (r->d - wd_first + 7) % 7 + (r->w - 1) * 7;
    while (day > month_days(y, r->m))
        day -= 7;
    return first + day - 1;
}

static long rule_offset(const struct tl_tz *tz, int64_t t)
{
    int64_t y = year_of_days(floor_div(t + tz->std_off, 86400));
    int64_t s = rule_day(y, &tz->start) * 86400 + tz->start.secs - tz->std_off;
    int64_t e = rule_day(y, &tz->end) * 86400 + tz->end.secs - tz->dst_off;
    int dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return dst ? tz->dst_off : tz->std_off;
}

long tl_tz_offset(const struct tl_tz *tz, int64_t utc)
{
    if (!tz)
        return 0;
    if (utc > TZ_T_LIMIT)
        utc = TZ_T_LIMIT;
    if (utc < -TZ_T_LIMIT)
        utc = -TZ_T_LIMIT;
    if (tz->n == 0 || utc >= tz->at[tz->n - 1]) {
        if (tz->foot == FOOT_RULE)
            return rule_offset(tz, utc);
        if (tz->foot == FOOT_FIXED)
            return tz->std_off;
    }
    if (tz->n == 0 || utc < tz->at[0])
        return tz->off0;
    size_t lo = 0, hi = tz->n; /* the last transition at or before utc */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return tz->off[lo];
}

int64_t tl_tz_from_local(const struct tl_tz *tz, int64_t local)
{
    if (local > TZ_T_LIMIT)
        local = TZ_T_LIMIT;
    if (local < -TZ_T_LIMIT)
        local = -TZ_T_LIMIT;
    /* the offsets a day before and a day after: every candidate instant uses one */
    long before = tl_tz_offset(tz, local - 86400), after = tl_tz_offset(tz, local + 86400);
    int64_t t1 = local - before, t2 = local - after;
    int ok1 = tl_tz_offset(tz, t1) == before, ok2 = tl_tz_offset(tz, t2) == after;
    if (ok1 && ok2)
        return t1 < t2 ? t1 : t2; /* shown twice: the first time */
    if (ok2)
        return t2;
    return t1; /* valid, or skipped: read with the offset before the jump */
}

const char *tl_tz_name(const struct tl_tz *tz)
{
    return tz ? tz->name : "UTC";
}

void tl_tz_free(struct tl_tz *tz)
{
    if (!tz)
        return;
    free(tz->at);
    free(tz->off);
    free(tz);
}

/* ---- the footer: a POSIX TZ string ---- */

static int foot_name(const char **pp)
{
    const char *p = *pp;
    size_t n = 0;
    if (*p == '<') {
        for (p++; *p && *p != '>'; p++, n++)
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
                return -1;
        if (*p != '>')
            return -1;
        p++;
    } else {
        for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'); p++)
            n++;
    }
    *pp = p;
    return n >= 1 ? 0 : -1;
}

/* [+-]hh[:mm[:ss]] with hh up to max_h; seconds into *out (sign as written). */
static int foot_hms(const char **pp, int max_h, long *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    long part[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            if (*p != ':')
                break;
            p++;
        }
        int nd = 0;
        for (; *p >= '0' && *p <= '9' && nd < 3; p++, nd++)
            part[k] = part[k] * 10 + (*p - '0');
        if (nd == 0 || (k > 0 && (nd != 2 || part[k] > 59)))
            return -1;
    }
    if (part[0] > max_h)
        return -1;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    *pp = p;
    return 0;
}

static int foot_rule(const char **pp, struct tz_rule *r)
{
    const char *p = *pp;
    if (*p++ != 'M')
        return -1; /* the Julian-day forms are not used by any zone today */
    int v[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (k > 0 && *p++ != '.')
            return -1;
        int nd = 0;
        for (; *p >= '0' && *p <= '9' && nd < 2; p++, nd++)
            v[k] = v[k] * 10 + (*p - '0');
        if (nd == 0)
            return -1;
    }
    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
        return -1;
    r->m = v[0];
    r->w = v[1];
    r->d = v[2];
    r->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        if (foot_hms(&p, 167, &r->secs) != 0)
            return -1;
    }
    *pp = p;
    return 0;
}

/* Fills the footer fields from s; leaves tz->foot FOOT_NONE when s is not understood. */
static void foot_parse(struct tl_tz *tz, const char *s)
{
    const char *p = s;
    long std, dst;
    struct tz_rule a, b;
    if (!*p || foot_name(&p) != 0 || foot_hms(&p, 24, &std) != 0)
        return;
    if (!*p) {
        tz->std_off = (int32_t)-std; /* POSIX counts hours west of Greenwich */
        tz->foot = FOOT_FIXED;
        return;
    }
    if (foot_name(&p) != 0)
        return;
    dst = std - 3600;
    if (*p && *p != ',' && foot_hms(&p, 24, &dst) != 0)
        return;
    if (*p++ != ',' || foot_rule(&p, &a) != 0 || *p++ != ',' || foot_rule(&p, &b) != 0 || *p)
        return;
    tz->std_off = (int32_t)-std;
    tz->dst_off = (int32_t)-dst;
    tz->start = a;
    tz->end = b;
    tz->foot = FOOT_RULE;
}

/* ---- the TZif file ---- */

struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a 44-byte header at b[pos]; 0 and the counts, or -1. */
static int tzif_header(const unsigned char *b, size_t len, size_t pos, struct tzif_counts *c)
{
    if (len < 44 || pos > len - 44 || memcmp(b + pos, "TZif", 4) != 0)
        return -1;
    const unsigned char *h = b + pos + 20;
    c->isut = be32(h);
    c->isstd = be32(h + 4);
    c->leap = be32(h + 8);
    c->time = be32(h + 12);
    c->type = be32(h + 16);
    c->chars = be32(h + 20);
    return 0;
}

/* The size of the data block after a header, with tsize-byte times; 0 when the counts
 * are out of bounds. */
static size_t tzif_block(const struct tzif_counts *c, size_t tsize)
{
    if (c->time > TZ_MAX_TIMES || c->type == 0 || c->type > TZ_MAX_TYPES ||
        c->chars > TZ_MAX_FILE || c->leap > TZ_MAX_FILE || c->isstd > TZ_MAX_TYPES ||
        c->isut > TZ_MAX_TYPES)
        return 0;
    return (size_t)c->time * (tsize + 1) + (size_t)c->type * 6 + c->chars +
           (size_t)c->leap * (tsize + 4) + c->isstd + c->isut;
}

int tl_tz_parse(const void *buf, size_t len, struct tl_tz **out, struct tl_errinfo *ei)
{
    const unsigned char *b = buf;
    struct tzif_counts c;
    struct tl_tz *tz = NULL;
    size_t pos = 0, tsize = 4, blk;
    int rc = TL_EPARSE;
    *out = NULL;
    if (len > TZ_MAX_FILE)
        return tl_errf(ei, TL_ETOOBIG, "TZif file over %d bytes", TZ_MAX_FILE);
    if (tzif_header(b, len, 0, &c) != 0)
        return tl_errf(ei, TL_EPARSE, "not a TZif file");
    int version = b[4] ? b[4] - '0' : 1;
    if (version < 1 || version > 9)
        return tl_errf(ei, TL_EPARSE, "TZif version byte %d", b[4]);
    if (!(blk = tzif_block(&c, 4)) || blk > len - 44)
        return tl_errf(ei, TL_EPARSE, "TZif counts out of bounds");
    if (version >= 2) { /* skip the 32-bit block for the 64-bit one */
        pos = 44 + blk;
        tsize = 8;
        if (tzif_header(b, len, pos, &c) != 0)
            return tl_errf(ei, TL_EPARSE, "TZif second header missing");
        if (!(blk = tzif_block(&c, 8)) || blk > len - 44 - pos)
            return tl_errf(ei, TL_EPARSE, "TZif counts out of bounds");
    }
    if (c.leap)
        return tl_errf(ei, TL_EUNSUPPORTED, "TZif with leap seconds (a right/ zone)");
    pos += 44;
    const unsigned char *times = b + pos, *idx = times + (size_t)c.time * tsize,
                        *types = idx + c.time;
    if (!(tz = calloc(1, sizeof(*tz))))
        return TL_ENOMEM;
    tz->n = c.time;
    if (c.time && (!(tz->at = calloc(c.time, sizeof(*tz->at))) ||
                   !(tz->off = calloc(c.time, sizeof(*tz->off))))) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (uint32_t k = 0; k < c.type; k++) {
        int32_t off = (int32_t)be32(types + 6 * k);
        if (off < -TZ_MAX_OFF || off > TZ_MAX_OFF || types[6 * k + 4] > 1 ||
            types[6 * k + 5] >= (c.chars ? c.chars : 1)) {
            rc = tl_errf(ei, TL_EPARSE, "TZif time type %u out of range", k);
            goto out;
        }
    }
    tz->off0 = (int32_t)be32(types);
    for (uint32_t k = 0; k < c.time; k++) {
        tz->at[k] = tsize == 8 ? be64(times + 8 * k) : (int32_t)be32(times + 4 * k);
        if (idx[k] >= c.type || (k && tz->at[k] <= tz->at[k - 1])) {
            rc = tl_errf(ei, TL_EPARSE, "TZif transition %u out of order or of no type", k);
            goto out;
        }
        tz->off[k] = (int32_t)be32(types + 6 * idx[k]);
    }
    pos += blk;
    if (version >= 2 && pos < len && b[pos] == '\n') {
        const unsigned char *end = memchr(b + pos + 1, '\n', len - pos - 1);
        char foot[128];
        if (end && (size_t)(end - (b + pos + 1)) < sizeof(foot)) {
            size_t fl = (size_t)(end - (b + pos + 1));
            memcpy(foot, b + pos + 1, fl);
            foot[fl] = 0;
            if (strlen(foot) == fl)
                foot_parse(tz, foot);
        }
    }
    tl_strlcpy(tz->name, "?", sizeof(tz->name));
    *out = tz;
    tz = NULL;
    rc = TL_OK;
out:
    tl_tz_free(tz);
    return rc;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= 64 || name[0] == '/' || name[0] == '.' || strstr(name, "..") ||
        strstr(name, "//") || name[n - 1] == '/')
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '+' || *p == '-' || *p == '/'))
            return 0;
    return 1;
}

int tl_tz_load(const char *name, struct tl_tz **out, struct tl_errinfo *ei)
{
    char *path = NULL, *buf = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    if (!name || !name_ok(name))
        return tl_errf(ei, TL_ECONFIG, "time_zone '%s' is not a zone name such as Europe/Kyiv",
                       name ? name : "");
    if (strcmp(name, "UTC") == 0) {
        struct tl_tz *tz = calloc(1, sizeof(*tz));
        if (!tz)
            return TL_ENOMEM;
        tl_strlcpy(tz->name, name, sizeof(tz->name));
        *out = tz;
        return TL_OK;
    }
    const char *dir = getenv("TZDIR");
    if (!(path = tl_asprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name)))
        return TL_ENOMEM;
    if ((rc = tl_read_file(path, TZ_MAX_FILE, &buf, &len)) != TL_OK) {
        rc = tl_errf(ei, TL_ECONFIG, "time_zone %s: cannot read %s: %s (is tzdata installed?)",
                     name, path, tl_strerror(rc));
        goto out;
    }
    if ((rc = tl_tz_parse(buf, len, out, ei)) != TL_OK) {
        char why[sizeof(ei->msg)];
        tl_strlcpy(why, ei ? ei->msg : "", sizeof(why));
        rc = tl_errf(ei, TL_ECONFIG, "time_zone %s: %s: %s", name, path, why);
        goto out;
    }
    tl_strlcpy((*out)->name, name, sizeof((*out)->name));
out:
    free(path);
    free(buf);
    return rc;
}
