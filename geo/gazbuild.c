/* geo/gazbuild.c - builds the gazetteer's index (gaz_int.h) from places and their
 * spellings: for `tipline gazetteer import` and for the TSV of
 * deploy/gazetteer/build.sh, which is indexed in memory at start. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "geo/gaz_int.h"
#include "geo/geo_int.h"
#include "common/banned.h"

struct bname {
    struct gz_name n;
    uint32_t pop;   /* of its place: a shared key lists the most populous first */
    const char *kp; /* the key, set once the pool stops moving */
};

struct gz_builder {
    struct gz_place *pl;
    size_t npl, cpl;
    struct bname *nm;
    size_t nnm, cnm;
    uint8_t *cnt; /* names per place so far */
    struct tl_buf str;
    uint32_t oblast_off[28]; /* each oblast's name stored once */
};

int gz_grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
    void **p = arr;
    if (n < *cap)
        return TL_OK;
    size_t nc = *cap ? *cap * 2 : first;
    void *np = nc > SIZE_MAX / size ? NULL : realloc(*p, nc * size);
    if (!np)
        return TL_ENOMEM;
    *p = np;
    *cap = nc;
    return TL_OK;
}

struct gz_builder *gz_builder_new(void)
{
    struct gz_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    tl_buf_init(&b->str, (size_t)UINT32_MAX - 1);
    if (tl_buf_append(&b->str, "", 1) != TL_OK) { /* offset 0 is "" */
        free(b);
        return NULL;
    }
    return b;
}

void gz_builder_free(struct gz_builder *b)
{
    if (!b)
        return;
    free(b->pl);
    free(b->cnt);
    free(b->nm);
    tl_buf_release(&b->str);
    free(b);
}

size_t gz_builder_places(const struct gz_builder *b)
{
    return b->npl;
}

size_t gz_builder_names(const struct gz_builder *b)
{
    return b->nnm;
}

/* Stores s (n bytes) plus a NUL; returns its offset, or UINT32_MAX when full. */
static uint32_t put_str(struct gz_builder *b, const char *s, size_t n)
{
    size_t off = b->str.len;
    if (off >= UINT32_MAX - n - 1 || tl_buf_append(&b->str, s, n) != TL_OK ||
        tl_buf_append(&b->str, "", 1) != TL_OK)
        return UINT32_MAX;
    return (uint32_t)off;
}

uint32_t gz_builder_str(struct gz_builder *b, const char *s)
{
    return put_str(b, s, strlen(s));
}

void gz_builder_district(struct gz_builder *b, size_t place, uint32_t off)
{
    if (place < b->npl && off != UINT32_MAX)
        b->pl[place].district = off;
}

long gz_builder_place(struct gz_builder *b, const char *display, double lat, double lon,
                      unsigned long pop, const char cc[2], const char *admin1)
{
    if (b->npl >= UINT32_MAX / 2)
        return -1;
    if (b->npl == b->cpl) {
        size_t nc = b->cpl ? b->cpl * 2 : 1024;
        struct gz_place *np = realloc(b->pl, nc * sizeof *np);
        if (!np)
            return -1;
        b->pl = np;
        uint8_t *ncnt = realloc(b->cnt, nc);
        if (!ncnt)
            return -1;
        b->cnt = ncnt;
        b->cpl = nc;
    }
    struct gz_place *p = &b->pl[b->npl];
    memset(p, 0, sizeof *p);
    p->lat6 = (int32_t)lrint(lat * 1e6);
    p->lon6 = (int32_t)lrint(lon * 1e6);
    p->pop = pop > UINT32_MAX ? UINT32_MAX : (uint32_t)pop;
    p->cc[0] = cc[0];
    p->cc[1] = cc[1];
    if (cc[0] == 'U' && cc[1] == 'A' && admin1) {
        char *end;
        long v = strtol(admin1, &end, 10);
        if (end != admin1 && !*end && v >= 1 && v <= 27)
            p->ua_adm = (uint8_t)v;
    }
    if (p->ua_adm) {
        if (!b->oblast_off[p->ua_adm]) {
            const char *o = gz_ua_oblast(p->ua_adm);
            b->oblast_off[p->ua_adm] = put_str(b, o, strlen(o));
        }
        p->oblast = b->oblast_off[p->ua_adm];
    }
    p->name = put_str(b, display, strlen(display));
    if (p->name == UINT32_MAX || p->oblast == UINT32_MAX)
        return -1;
    b->cnt[b->npl] = 0;
    return (long)b->npl++;
}

/* Adds one key to a place (a key it has already is dropped when the image is built). */
static int add_key(struct gz_builder *b, size_t place, const char *key, size_t kl)
{
    if (kl < 3 || kl >= GZ_KEY_MAX || b->cnt[place] >= GZ_NAMES_PER_PLACE)
        return TL_OK;
    if (gz_grow(&b->nm, b->nnm, &b->cnm, sizeof *b->nm, 4096) != TL_OK)
        return TL_ENOMEM;
    uint32_t off = put_str(b, key, kl);
    if (off == UINT32_MAX)
        return TL_ETOOBIG;
    struct bname *e = &b->nm[b->nnm++];
    memset(e, 0, sizeof *e);
    size_t sl;
    e->n.skel = gz_skel_hash(key, kl, &sl);
    e->n.place = (uint32_t)place;
    e->n.key = off;
    e->n.keylen = (uint8_t)kl;
    e->pop = b->pl[place].pop;
    b->cnt[place]++;
    return TL_OK;
}

int gz_builder_name_at(struct gz_builder *b, size_t place, const char *w, size_t wlen)
{
    char key[GZ_KEY_MAX], key2[GZ_KEY_MAX];
    int cyr = 0, rc;
    if (wlen == 0 || wlen > 96 || place >= b->npl)
        return TL_OK;
    for (size_t i = 0; i < wlen && !cyr; i++)
        cyr = (unsigned char)w[i] == 0xD0 || (unsigned char)w[i] == 0xD1 ||
              (unsigned char)w[i] == 0xD2;
    size_t kl = geo_gaz_key(w, wlen, 1, key, sizeof key);
    if ((rc = add_key(b, place, key, kl)) != TL_OK || !cyr)
        return rc;
    size_t kl2 = geo_gaz_key(w, wlen, 0, key2, sizeof key2);
    if (kl2 == kl && memcmp(key, key2, kl) == 0)
        return TL_OK;
    return add_key(b, place, key2, kl2);
}

int gz_builder_name(struct gz_builder *b, const char *w, size_t wlen)
{
    return b->npl ? gz_builder_name_at(b, b->npl - 1, w, wlen) : TL_OK;
}

static int name_cmp(const void *a, const void *b)
{
    const struct bname *x = a, *y = b;
    if (x->n.skel != y->n.skel)
        return x->n.skel < y->n.skel ? -1 : 1;
    if (x->pop != y->pop)
        return x->pop > y->pop ? -1 : 1;
    if (x->n.place != y->n.place)
        return x->n.place < y->n.place ? -1 : 1;
    if (x->n.keylen != y->n.keylen)
        return x->n.keylen < y->n.keylen ? -1 : 1;
    return memcmp(x->kp, y->kp, x->n.keylen);
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int gz_builder_image(struct gz_builder *b, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < b->nnm; i++)
        b->nm[i].kp = (const char *)b->str.data + b->nm[i].n.key;
    if (b->nnm)
        qsort(b->nm, b->nnm, sizeof *b->nm, name_cmp);
    size_t m = 0; /* one place, one key: drop the spellings that fold alike */
    for (size_t i = 0; i < b->nnm; i++)
        if (m == 0 || name_cmp(&b->nm[m - 1], &b->nm[i]) != 0)
            b->nm[m++] = b->nm[i];
    b->nnm = m;
    size_t nslot = 16;
    while (nslot < b->nnm * 2)
        nslot *= 2;
    size_t off_place = align8(sizeof(struct gz_hdr));
    size_t off_name = align8(off_place + b->npl * sizeof(struct gz_place));
    size_t off_slot = align8(off_name + b->nnm * sizeof(struct gz_name));
    size_t off_pre = align8(off_slot + nslot * 4);
    size_t off_str = align8(off_pre + GZ_PRE_BITS / 8);
    size_t total = align8(off_str + b->str.len);
    if (total > UINT32_MAX)
        return TL_ETOOBIG;
    unsigned char *img = calloc(1, total);
    if (!img)
        return TL_ENOMEM;
    struct gz_hdr *h = (struct gz_hdr *)img;
    memcpy(h->magic, GZ_MAGIC, 8);
    h->n_place = (uint32_t)b->npl;
    h->n_name = (uint32_t)b->nnm;
    h->n_slot = (uint32_t)nslot;
    h->str_bytes = (uint32_t)b->str.len;
    h->off_place = (uint32_t)off_place;
    h->off_name = (uint32_t)off_name;
    h->off_slot = (uint32_t)off_slot;
    h->off_pre = (uint32_t)off_pre;
    h->off_str = (uint32_t)off_str;
    h->total = (uint32_t)total;
    if (b->npl)
        memcpy(img + off_place, b->pl, b->npl * sizeof(struct gz_place));
    struct gz_name *nm = (struct gz_name *)(img + off_name);
    uint32_t *slot = (uint32_t *)(img + off_slot);
    uint8_t *pre = img + off_pre;
    const char *pool = (const char *)b->str.data;
    for (size_t i = 0; i < b->nnm; i++) {
        nm[i] = b->nm[i].n;
        const char *key = pool + nm[i].key;
        int nc = 0;
        for (size_t k = 0; k < nm[i].keylen; k++)
            nc += !(key[k] == 'a' || key[k] == 'e' || key[k] == 'i' || key[k] == 'o' ||
                    key[k] == 'u');
        long pi = gz_pre_index(key, nm[i].keylen, nc > 3 ? 3 : nc);
        if (pi >= 0)
            pre[pi / 8] |= (uint8_t)(1u << (pi % 8));
        if (i > 0 && nm[i].skel == nm[i - 1].skel)
            continue;
        size_t s = nm[i].skel & (nslot - 1);
        while (slot[s])
            s = (s + 1) & (nslot - 1);
        slot[s] = (uint32_t)(i + 1);
    }
    memcpy(img + off_str, b->str.data, b->str.len);
    *out = img;
    *len = total;
    return TL_OK;
}

/* Splits line at tabs into at most max fields (in place). */
static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

int gz_tsv_build(const char *path, char *buf, struct gz_builder *b, struct tl_errinfo *ei)
{
    size_t lineno = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        size_t ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        if (ll == 0 || line[0] == '#')
            goto next;
        char *f[6];
        if (split_tabs(line, f, 6) != 6)
            return tl_errf(ei, TL_EPARSE, "gazetteer %s:%zu: expected 6 tab-separated fields", path,
                           lineno);
        char *e1, *e2, *e3;
        errno = 0;
        double lat = strtod(f[1], &e1), lon = strtod(f[2], &e2);
        unsigned long pop = strtoul(f[3], &e3, 10);
        if (*e1 || *e2 || *e3 || errno || !(fabs(lat) <= 90.0) || !(fabs(lon) <= 180.0) ||
            !f[0][0] || strlen(f[5]) != 2)
            return tl_errf(ei, TL_EPARSE, "gazetteer %s:%zu: bad name, number or country", path,
                           lineno);
        if (gz_builder_place(b, f[0], lat, lon, pop, f[5], f[4]) < 0)
            return TL_ENOMEM;
        int rc = gz_builder_name(b, f[0], strlen(f[0]));
        if (rc != TL_OK)
            return rc;
    next:
        line = nl ? nl + 1 : NULL;
    }
    return TL_OK;
}
