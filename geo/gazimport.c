/* geo/gazimport.c - reads GeoNames dumps as operators download them (a country file
 * such as UA.txt, or allCountries.txt, and optionally alternateNamesV2.txt) and
 * writes the gazetteer's index (gaz_int.h).
 *
 * The dump is tab-separated, one place a line, 19 fields (download.geonames.org/
 * export/dump/readme.txt): geonameid, name, asciiname, alternatenames (comma-
 * separated), latitude, longitude, feature class, feature code, country code, cc2,
 * admin1..admin4, population, elevation, dem, timezone, modification date. Only
 * populated places (class P; historical ones, PPLH, left out) of the countries asked
 * for are kept; a line that does not parse is counted and skipped, never fatal: the
 * files are large and come from outside. Each place is indexed under its name, its
 * ASCII name and every alternate spelling in Latin or Cyrillic letters (the other
 * scripts are no help to a Ukrainian or Russian writer). alternateNamesV2.txt adds the
 * Ukrainian, Russian, Belarusian and English names (historical ones too: people keep
 * saying Artemivsk). admin2Codes.txt (code CC.ADM1.ADM2, name, asciiname, geonameid)
 * gives each place its district's name, so that "Новоселівка Ізюмського району" can be
 * told from the other Novoselivkas of the oblast. Files are streamed, so allCountries
 * (1.5 GB) costs the memory of the places kept, not of the file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "geo/gaz_int.h"
#include "geo/geo_int.h"
#include "common/banned.h"

#define GN_FIELDS 19

struct idmap {
    uint32_t id, place;
};

/* A second-level division (raion) from admin2Codes.txt, its name stored once. */
struct adm2 {
    char code[32]; /* "UA.07.6309285" */
    char *name;
    uint32_t off; /* in the image; UINT32_MAX until a place uses it */
};

struct imp {
    struct gz_builder *b;
    const char *countries; /* "UA,MD" upper case, "" for all */
    struct geo_import_stats *st;
    struct idmap *ids;
    size_t nids, cids;
    struct adm2 *a2; /* sorted by code */
    size_t na2, ca2;
};

static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            if (n == max)
                return max + 1; /* too many */
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

static int country_wanted(const char *list, const char *cc)
{
    if (!list || !*list)
        return 1;
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        if (p[0] && p[1] && (p[2] == ',' || p[2] == ' ' || p[2] == '\0') &&
            (p[0] & ~0x20) == cc[0] && (p[1] & ~0x20) == cc[1])
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
    char *end;
    if (!*s || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno || x > UINT32_MAX)
        return 0;
    *v = (uint32_t)x;
    return 1;
}

static int parse_deg(const char *s, double lim, double *v)
{
    char *end;
    if (!*s)
        return 0;
    errno = 0;
    *v = strtod(s, &end);
    return !*end && !errno && fabs(*v) <= lim;
}

/* Does a spelling help a reader of Ukrainian, Russian or Latin text: only letters of
 * those alphabets, apostrophes, hyphens, spaces and dots, and at least three letters. */
static int useful_name(const char *w, size_t n)
{
    const unsigned char *s = (const unsigned char *)w;
    size_t letters = 0;
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t c = geo_u8(s, n, i, &adv);
        i += adv;
        if (geo_is_letter(c))
            letters++;
        else if (!(c == ' ' || c == '-' || c == '\'' || c == '.' || c == 0x2019 || c == 0x2BC ||
                   c == 0x60))
            return 0;
    }
    return letters >= 3;
}

static int add_name(struct imp *im, size_t place, const char *w, size_t n)
{
    if (!useful_name(w, n))
        return TL_OK;
    return gz_builder_name_at(im->b, place, w, n);
}

static int a2_cmp(const void *a, const void *b)
{
    return strcmp(((const struct adm2 *)a)->code, ((const struct adm2 *)b)->code);
}

/* The district of a kept place (cc, admin1, admin2 codes), when admin2Codes.txt was
 * read. */
static void set_district(struct imp *im, size_t place, const char *cc, const char *a1,
                         const char *a2)
{
    struct adm2 key;
    if (!im->na2 || !*a2 ||
        (size_t)snprintf(key.code, sizeof key.code, "%s.%s.%s", cc, a1, a2) >= sizeof key.code)
        return;
    struct adm2 *hit = bsearch(&key, im->a2, im->na2, sizeof *im->a2, a2_cmp);
    if (!hit)
        return;
    if (hit->off == UINT32_MAX)
        hit->off = gz_builder_str(im->b, hit->name);
    gz_builder_district(im->b, place, hit->off);
}

/* One line of admin2Codes.txt: code (CC.ADM1.ADM2), name, asciiname, geonameid. */
static int adm2_line(struct imp *im, char *line, size_t ll)
{
    if (ll && line[ll - 1] == '\r')
        line[--ll] = '\0';
    if (ll == 0 || line[0] == '#' || strlen(line) != ll)
        return TL_OK;
    char *f[4];
    size_t nf = split_tabs(line, f, 4);
    if (nf < 3 || strlen(f[0]) >= sizeof im->a2->code || strlen(f[0]) < 6 || f[0][2] != '.' ||
        !country_wanted(im->countries, f[0]))
        return TL_OK;
    const char *name = f[2][0] ? f[2] : f[1];
    if (!*name)
        return TL_OK;
    if (gz_grow(&im->a2, im->na2, &im->ca2, sizeof *im->a2, 256) != TL_OK)
        return TL_ENOMEM;
    struct adm2 *a = &im->a2[im->na2];
    memcpy(a->code, f[0], strlen(f[0]) + 1);
    a->off = UINT32_MAX;
    if (!(a->name = tl_strdup(name)))
        return TL_ENOMEM;
    im->na2++;
    return TL_OK;
}

/* One line of the dump (ll bytes, NUL-terminated, changed in place). */
static int dump_line(struct imp *im, char *line, size_t ll)
{
    struct geo_import_stats *st = im->st;
    if (ll && line[ll - 1] == '\r')
        line[--ll] = '\0';
    if (ll == 0 || line[0] == '#')
        return TL_OK;
    st->lines++;
    if (strlen(line) != ll) { /* a NUL inside: no text line */
        st->malformed++;
        return TL_OK;
    }
    char *f[GN_FIELDS];
    uint32_t id, pop = 0;
    double lat, lon;
    if (split_tabs(line, f, GN_FIELDS) != GN_FIELDS || !parse_u32(f[0], &id) || !f[1][0] ||
        !parse_deg(f[4], 90.0, &lat) || !parse_deg(f[5], 180.0, &lon) || strlen(f[6]) > 1 ||
        strlen(f[8]) != 2 || f[8][0] < 'A' || f[8][0] > 'Z' || f[8][1] < 'A' || f[8][1] > 'Z' ||
        (f[14][0] && !parse_u32(f[14], &pop))) {
        st->malformed++;
        return TL_OK;
    }
    if (f[6][0] != 'P' || strcmp(f[7], "PPLH") == 0 || !country_wanted(im->countries, f[8])) {
        st->filtered++;
        return TL_OK;
    }
    const char *display = f[2][0] && useful_name(f[2], strlen(f[2])) ? f[2] : f[1];
    long pi = gz_builder_place(im->b, display, lat, lon, pop, f[8], f[10]);
    if (pi < 0)
        return TL_ENOMEM;
    int rc;
    if ((rc = add_name(im, (size_t)pi, f[1], strlen(f[1]))) != TL_OK ||
        (rc = add_name(im, (size_t)pi, f[2], strlen(f[2]))) != TL_OK)
        return rc;
    for (char *p = f[3]; *p;) {
        char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if ((rc = add_name(im, (size_t)pi, p, n)) != TL_OK)
            return rc;
        p += n + (c != NULL);
    }
    if (gz_grow(&im->ids, im->nids, &im->cids, sizeof *im->ids, 1024) != TL_OK)
        return TL_ENOMEM;
    im->ids[im->nids++] = (struct idmap){.id = id, .place = (uint32_t)pi};
    set_district(im, (size_t)pi, f[8], f[10], f[11]);
    st->places++;
    return TL_OK;
}

static int id_cmp(const void *a, const void *b)
{
    const struct idmap *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* One line of alternateNamesV2.txt: alternateNameId, geonameid, isolanguage, name,
 * isPreferredName, isShortName, isColloquial, isHistoric, from, to (the older file
 * has the first eight). */
static int alt_line(struct imp *im, char *line, size_t ll)
{
    struct geo_import_stats *st = im->st;
    if (ll && line[ll - 1] == '\r')
        line[--ll] = '\0';
    if (ll == 0 || line[0] == '#')
        return TL_OK;
    st->alt_lines++;
    if (strlen(line) != ll) {
        st->alt_malformed++;
        return TL_OK;
    }
    char *f[10];
    uint32_t id;
    size_t nf = split_tabs(line, f, 10);
    if (nf < 4 || nf > 10 || !parse_u32(f[1], &id) || !f[3][0]) {
        st->alt_malformed++;
        return TL_OK;
    }
    const char *lang = f[2];
    if (!(strcmp(lang, "uk") == 0 || strcmp(lang, "ru") == 0 || strcmp(lang, "be") == 0 ||
          strcmp(lang, "en") == 0 || lang[0] == '\0'))
        return TL_OK;
    struct idmap key = {.id = id}, *hit;
    hit = im->nids ? bsearch(&key, im->ids, im->nids, sizeof *im->ids, id_cmp) : NULL;
    if (!hit)
        return TL_OK;
    st->alt_used++;
    return add_name(im, hit->place, f[3], strlen(f[3]));
}

/* Feeds each line of buf (n bytes, need not end with a newline) to fn. */
static int each_line_mem(struct imp *im, const char *buf, size_t n,
                         int (*fn)(struct imp *, char *, size_t))
{
    char *line = NULL;
    size_t cap = 0;
    int rc = TL_OK;
    for (size_t i = 0; i < n && rc == TL_OK;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t l = nl ? (size_t)(nl - (buf + i)) : n - i;
        if (l + 1 > cap) {
            char *nb = realloc(line, l + 1);
            if (!nb) {
                rc = TL_ENOMEM;
                break;
            }
            line = nb;
            cap = l + 1;
        }
        memcpy(line, buf + i, l);
        line[l] = '\0';
        rc = fn(im, line, l);
        i += l + 1;
    }
    free(line);
    return rc;
}

static int each_line_file(struct imp *im, const char *path, int (*fn)(struct imp *, char *, size_t),
                          struct tl_errinfo *ei)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return tl_errf(ei, TL_EIO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t l;
    int rc = TL_OK;
    while (rc == TL_OK && (l = getline(&line, &cap, fp)) >= 0) {
        if (l > 0 && line[l - 1] == '\n')
            line[--l] = '\0';
        rc = fn(im, line, (size_t)l);
    }
    if (rc == TL_OK && ferror(fp))
        rc = tl_errf(ei, TL_EIO, "%s: read error", path);
    free(line);
    fclose(fp);
    return rc;
}

static void imp_release(struct imp *im)
{
    gz_builder_free(im->b);
    free(im->ids);
    for (size_t i = 0; i < im->na2; i++)
        free(im->a2[i].name);
    free(im->a2);
}

static int imp_init(struct imp *im, const char *countries, struct geo_import_stats *st)
{
    memset(st, 0, sizeof *st);
    memset(im, 0, sizeof *im);
    im->countries = countries ? countries : "";
    im->st = st;
    im->b = gz_builder_new();
    return im->b ? TL_OK : TL_ENOMEM;
}

static int imp_finish(struct imp *im, unsigned char **img, size_t *len)
{
    int rc = gz_builder_image(im->b, img, len);
    if (rc == TL_OK) {
        im->st->names = ((const struct gz_hdr *)*img)->n_name;
        im->st->index_bytes = *len;
    }
    return rc;
}

int geo_gazetteer_import_mem(const char *dump, size_t len, const char *countries,
                             unsigned char **img, size_t *img_len, struct geo_import_stats *st,
                             struct tl_errinfo *ei)
{
    struct imp im;
    *img = NULL;
    *img_len = 0;
    int rc = imp_init(&im, countries, st);
    if (rc == TL_OK)
        rc = each_line_mem(&im, dump, len, dump_line);
    if (rc == TL_OK)
        rc = imp_finish(&im, img, img_len);
    imp_release(&im);
    return rc == TL_OK ? TL_OK : tl_errf(ei, rc, "gazetteer import failed");
}

int geo_gazetteer_import(const char *dump_path, const char *alt_path, const char *countries,
                         const char *out_path, struct geo_import_stats *st, struct tl_errinfo *ei)
{
    struct geo_import_opts o = {
        .dump = dump_path, .alternate_names = alt_path, .countries = countries, .out = out_path};
    return geo_gazetteer_import_opts(&o, st, ei);
}

int geo_gazetteer_import_opts(const struct geo_import_opts *o, struct geo_import_stats *st,
                              struct tl_errinfo *ei)
{
    struct imp im;
    unsigned char *img = NULL;
    size_t len = 0;
    char *tmp = NULL;
    FILE *fp = NULL;
    const char *dump_path = o->dump, *alt_path = o->alternate_names, *out_path = o->out;
    int rc = imp_init(&im, o->countries, st);
    if (rc != TL_OK)
        goto out;
    if (o->admin2) {
        if ((rc = each_line_file(&im, o->admin2, adm2_line, ei)) != TL_OK)
            goto out;
        if (im.na2)
            qsort(im.a2, im.na2, sizeof *im.a2, a2_cmp);
        st->districts = im.na2;
    }
    if ((rc = each_line_file(&im, dump_path, dump_line, ei)) != TL_OK)
        goto out;
    if (im.nids == 0) {
        rc = tl_errf(ei, TL_ENOTFOUND, "%s: no populated place of the countries asked for",
                     dump_path);
        goto out;
    }
    qsort(im.ids, im.nids, sizeof *im.ids, id_cmp);
    if (alt_path && (rc = each_line_file(&im, alt_path, alt_line, ei)) != TL_OK)
        goto out;
    if ((rc = imp_finish(&im, &img, &len)) != TL_OK)
        goto out;
    /* written beside the target and renamed over it: a running server never maps a
     * half-written file */
    tmp = tl_asprintf("%s.tmp%ld", out_path, (long)getpid());
    if (!tmp) {
        rc = TL_ENOMEM;
        goto out;
    }
    fp = fopen(tmp, "wb");
    if (!fp) {
        rc = tl_errf(ei, TL_EIO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fwrite(img, 1, len, fp) != len || fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
        rc = tl_errf(ei, TL_EIO, "%s: write: %s", tmp, strerror(errno));
        goto out;
    }
    int crc = fclose(fp);
    fp = NULL;
    if (crc != 0 || rename(tmp, out_path) != 0) {
        rc = tl_errf(ei, TL_EIO, "%s: %s", out_path, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
out:
    if (fp)
        fclose(fp);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(img);
    imp_release(&im);
    return rc;
}
