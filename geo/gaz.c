/* geo/gaz.c - the offline gazetteer of settlements: maps the index (gaz_int.h) that
 * `tipline gazetteer import` writes from a GeoNames dump, or builds it in memory from
 * the TSV of deploy/gazetteer/build.sh, and matches words of a message against it.
 *
 * Names come in mixed transliterations (Kupjansk, Izyum, Kramators'k, Odessa) and,
 * from a full dump, in Ukrainian and Russian too. A word is matched by
 *   1. transliterating Cyrillic with the Ukrainian national system and with the
 *      Russian one, after stripping likely case endings (-у, -і, -ом, -ові...);
 *   2. folding every Latin spelling to a key where transliteration variants
 *      coincide (kh/h/g -> h, y/j/i -> i, zh -> z, ch/ts -> c, doubled letters once);
 *   3. finding the names whose key has the same consonants (a hash table on the
 *      consonant skeleton), then keeping those within a small edit distance on the
 *      full key; population breaks ties and orders a shared name's candidates.
 * A reload (SIGHUP) maps the new file and swaps one pointer; lookups in flight keep
 * the old image, which stays mapped until the gazetteer is freed. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/util.h"
#include "geo/gaz_int.h"
#include "geo/geo_int.h"
#include "common/banned.h"

#define KEY_MAX GZ_KEY_MAX
#define PRE_BITS GZ_PRE_BITS
/* candidates of one shared name kept (there are Novoselivkas in every oblast) */
#define BEST_MAX 64

struct geo_gaz {
    _Atomic(struct gz_img *) cur;
    char *path;
    pthread_mutex_t mu; /* serialises reloads */
};

static int pre_test(const struct gz_img *g, long b)
{
    return b >= 0 && (g->pre[b / 8] & (1u << (b % 8)));
}

static void img_free(struct gz_img *im)
{
    while (im) {
        struct gz_img *next = im->retired;
        if (im->mapped)
            munmap(im->base, im->len);
        else
            free(im->base);
        free(im);
        im = next;
    }
}

void geo_gaz_free(struct geo_gaz *g)
{
    if (!g)
        return;
    img_free(atomic_load(&g->cur));
    pthread_mutex_destroy(&g->mu);
    free(g->path);
    free(g);
}

static const struct gz_img *img_of(const struct geo_gaz *g)
{
    return g ? atomic_load_explicit(&((struct geo_gaz *)g)->cur, memory_order_acquire) : NULL;
}

size_t geo_gaz_count(const struct geo_gaz *g)
{
    const struct gz_img *im = img_of(g);
    return im ? im->h->n_place : 0;
}

static int sec_ok(uint32_t off, uint64_t bytes, size_t len)
{
    return off % 8 == 0 && (uint64_t)off + bytes <= len;
}

int gz_img_open(unsigned char *base, size_t len, int mapped, struct gz_img *img,
                struct tl_errinfo *ei)
{
    memset(img, 0, sizeof *img);
    if (len < sizeof(struct gz_hdr) || memcmp(base, GZ_MAGIC, 8) != 0)
        return tl_errf(ei, TL_EPARSE, "gazetteer index: no header");
    const struct gz_hdr *h = (const struct gz_hdr *)base;
    uint32_t ns = h->n_slot;
    if (h->total != len || ns == 0 || (ns & (ns - 1)) != 0 || ns < h->n_name ||
        !sec_ok(h->off_place, (uint64_t)h->n_place * sizeof(struct gz_place), len) ||
        !sec_ok(h->off_name, (uint64_t)h->n_name * sizeof(struct gz_name), len) ||
        !sec_ok(h->off_slot, (uint64_t)ns * 4, len) || !sec_ok(h->off_pre, PRE_BITS / 8, len) ||
        !sec_ok(h->off_str, h->str_bytes, len) || h->str_bytes == 0 ||
        base[h->off_str + h->str_bytes - 1] != '\0')
        return tl_errf(ei, TL_EPARSE, "gazetteer index: a section lies outside the file");
    img->base = base;
    img->len = len;
    img->mapped = mapped;
    img->h = h;
    img->pl = (const struct gz_place *)(base + h->off_place);
    img->nm = (const struct gz_name *)(base + h->off_name);
    img->slot = (const uint32_t *)(base + h->off_slot);
    img->pre = base + h->off_pre;
    img->str = (const char *)base + h->off_str;
    for (uint32_t i = 0; i < h->n_place; i++) {
        const struct gz_place *p = &img->pl[i];
        if (p->name >= h->str_bytes || p->oblast >= h->str_bytes || p->district >= h->str_bytes ||
            p->ua_adm > 27 || p->cc[2] || p->lat6 < -90000000 || p->lat6 > 90000000 ||
            p->lon6 < -180000000 || p->lon6 > 180000000)
            return tl_errf(ei, TL_EPARSE, "gazetteer index: place %u is damaged", i);
    }
    for (uint32_t i = 0; i < h->n_name; i++) {
        const struct gz_name *n = &img->nm[i];
        if (n->place >= h->n_place || n->keylen == 0 || n->keylen >= KEY_MAX ||
            (uint64_t)n->key + n->keylen >= h->str_bytes ||
            (i > 0 && n->skel < img->nm[i - 1].skel))
            return tl_errf(ei, TL_EPARSE, "gazetteer index: name %u is damaged", i);
    }
    uint32_t empty = 0;
    for (uint32_t s = 0; s < ns; s++) {
        if (img->slot[s] > h->n_name)
            return tl_errf(ei, TL_EPARSE, "gazetteer index: slot %u is damaged", s);
        empty += img->slot[s] == 0;
    }
    if (empty == 0) /* a full table would never end a probe */
        return tl_errf(ei, TL_EPARSE, "gazetteer index: no free slot");
    return TL_OK;
}

/* Maps an index file, or builds the index from a TSV. */
static int img_load(const char *path, struct gz_img **out, struct tl_errinfo *ei)
{
    struct gz_img *im = NULL;
    struct gz_builder *b = NULL;
    unsigned char *base = NULL;
    size_t len = 0;
    int mapped = 0, rc, fd = -1;
    char *buf = NULL;
    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = tl_errf(ei, TL_EIO, "gazetteer %s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    struct stat st;
    char magic[8];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = tl_errf(ei, TL_EIO, "gazetteer %s: not a file", path);
        goto out;
    }
    if (st.st_size >= 8 && pread(fd, magic, 8, 0) == 8 && memcmp(magic, GZ_MAGIC, 8) == 0) {
        if ((uint64_t)st.st_size > UINT32_MAX) {
            rc = tl_errf(ei, TL_ETOOBIG, "gazetteer %s: index over 4 GiB", path);
            goto out;
        }
        len = (size_t)st.st_size;
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            rc = tl_errf(ei, TL_EIO, "gazetteer %s: mmap: %s", path, strerror(errno));
            goto out;
        }
        base = m;
        mapped = 1;
    } else {
        size_t blen;
        rc = tl_read_file(path, (size_t)256 << 20, &buf, &blen);
        if (rc != TL_OK) {
            rc = tl_errf(ei, rc, "gazetteer %s: cannot read", path);
            goto out;
        }
        b = gz_builder_new();
        if (!b) {
            rc = TL_ENOMEM;
            goto out;
        }
        if ((rc = gz_tsv_build(path, buf, b, ei)) != TL_OK ||
            (rc = gz_builder_image(b, &base, &len)) != TL_OK)
            goto out;
    }
    im = calloc(1, sizeof *im);
    if (!im) {
        rc = TL_ENOMEM;
        goto out;
    }
    struct tl_errinfo e2;
    tl_errinfo_clear(&e2);
    if ((rc = gz_img_open(base, len, mapped, im, &e2)) != TL_OK) {
        rc = tl_errf(ei, rc, "gazetteer %s: %s", path, e2.msg);
        goto out;
    }
    base = NULL;
    *out = im;
    im = NULL;
out:
    if (base && mapped)
        munmap(base, len);
    else
        free(base);
    free(im);
    gz_builder_free(b);
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

int geo_gaz_load(const char *path, struct geo_gaz **out, struct tl_errinfo *ei)
{
    struct geo_gaz *g = calloc(1, sizeof *g);
    struct gz_img *im = NULL;
    int rc;
    *out = NULL;
    if (!g || !(g->path = tl_strdup(path))) {
        free(g);
        return TL_ENOMEM;
    }
    pthread_mutex_init(&g->mu, NULL);
    if ((rc = img_load(path, &im, ei)) != TL_OK) {
        geo_gaz_free(g);
        return rc;
    }
    atomic_init(&g->cur, im);
    *out = g;
    return TL_OK;
}

int geo_gaz_from_image(unsigned char *img, size_t len, struct geo_gaz **out, struct tl_errinfo *ei)
{
    struct geo_gaz *g = calloc(1, sizeof *g);
    struct gz_img *im = calloc(1, sizeof *im);
    int rc = TL_ENOMEM;
    *out = NULL;
    if (!g || !im || (g->path = tl_strdup("(memory)")) == NULL)
        goto out;
    if ((rc = gz_img_open(img, len, 0, im, ei)) != TL_OK)
        goto out;
    pthread_mutex_init(&g->mu, NULL);
    atomic_init(&g->cur, im);
    *out = g;
    return TL_OK;
out:
    if (g)
        free(g->path);
    free(g);
    free(im);
    free(img);
    return rc;
}

int geo_gaz_reload(struct geo_gaz *g, struct tl_errinfo *ei)
{
    struct gz_img *im;
    int rc = img_load(g->path, &im, ei);
    if (rc != TL_OK)
        return rc; /* the old index stays */
    pthread_mutex_lock(&g->mu);
    struct gz_img *old = atomic_load(&g->cur);
    im->retired = old;
    atomic_store_explicit(&g->cur, im, memory_order_release);
    pthread_mutex_unlock(&g->mu);
    return TL_OK;
}

static int edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    int row[KEY_MAX + 1];
    if (na > KEY_MAX || nb > KEY_MAX)
        return 99;
    for (size_t j = 0; j <= nb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static double town_accuracy(unsigned long pop)
{
    if (pop >= 1000000)
        return 15000.0;
    if (pop >= 200000)
        return 8000.0;
    if (pop >= 50000)
        return 5000.0;
    if (pop >= 10000)
        return 3000.0;
    return 2000.0;
}

struct best {
    int d;
    size_t n;
    uint32_t place[BEST_MAX];
};

/* Adds the names whose key's consonants hash like key's and that lie within the edit
 * distance allowed; only the nearest distance is kept. ua_adm: only places of that
 * oblast (0 any). */
static void probe(const struct gz_img *g, const char *key, size_t kl, int maxd, int ua_only,
                  unsigned ua_adm, struct best *b)
{
    size_t sl;
    if (kl < 3)
        return;
    uint32_t h = gz_skel_hash(key, kl, &sl);
    if (sl < 1)
        return;
    uint32_t mask = g->h->n_slot - 1, n_name = g->h->n_name;
    size_t s = h & mask;
    uint32_t idx = 0;
    while (g->slot[s]) {
        if (g->nm[g->slot[s] - 1].skel == h) {
            idx = g->slot[s];
            break;
        }
        s = (s + 1) & mask;
    }
    if (!idx)
        return;
    for (size_t i = idx - 1; i < n_name && g->nm[i].skel == h; i++) {
        const struct gz_name *e = &g->nm[i];
        const struct gz_place *p = &g->pl[e->place];
        const char *ek = g->str + e->key;
        int lim = e->keylen <= 5 ? 1 : 2;
        if (lim > maxd)
            lim = maxd;
        if (key[0] != ek[0] || (ua_only && (p->cc[0] != 'U' || p->cc[1] != 'A')) ||
            (ua_adm && p->ua_adm != ua_adm))
            continue;
        if ((kl > e->keylen ? kl - e->keylen : e->keylen - kl) > (size_t)lim)
            continue; /* the distance is at least the difference in length */
        int d = (kl == e->keylen && memcmp(key, ek, kl) == 0)
                    ? 0
                    : edit_distance(key, kl, ek, e->keylen);
        if (d > lim || d > b->d)
            continue;
        if (ua_only && d > 0 && sl < 4)
            continue; /* a short lower-case word only as it is spelled: "школи" is no Skole */
        if (d < b->d) {
            b->d = d;
            b->n = 0;
        }
        int dup = 0;
        for (size_t k = 0; k < b->n && !dup; k++)
            dup = b->place[k] == e->place;
        if (!dup && b->n < BEST_MAX)
            b->place[b->n++] = e->place;
    }
}

/* The Russian system yields another key than the Ukrainian one only for a word with
 * е at its start (or at the start of its second part): "Енакиево" -> ye/ie vs e. */
static int needs_ru(const char *w, size_t wl)
{
    const unsigned char *s = (const unsigned char *)w;
    for (size_t i = 0; i + 1 < wl; i++)
        if ((i == 0 || s[i - 1] == ' ' || s[i - 1] == '-') && s[i] == 0xD0 &&
            (s[i + 1] == 0xB5 || s[i + 1] == 0x95))
            return 1;
    return 0;
}

#define NVAR 12

/* A form a word may have had in the nominative: its first keep bytes, then repl. */
struct variants {
    size_t keep[NVAR];
    const char *repl[NVAR];
    unsigned char alt[NVAR]; /* made by an alternation: a short key is no accident */
    size_t n;
};

/* Every ending tried, with what replaces it ("" to strip it), keyed by its last
 * letter so that a word meets only the few that can fit. Alternations first: they
 * undo a vowel or consonant change that stripping alone would leave (Київ/Києві,
 * Харків/Харкові, Кринки/Кринок, Ріг/Розі). */
struct ending {
    uint32_t last;     /* the ending's last letter */
    const char *end;   /* UTF-8 */
    unsigned char len; /* bytes */
    const char *repl;
    int alternation; /* may leave a one-letter stem ("Розі" -> "Ріг") */
};

#define E(l, e, r, a)                                                                              \
    {                                                                                              \
        l, e, sizeof(e) - 1, r, a                                                                  \
    }
static const struct ending ending_tab[] = {
    E(0x456, "єві", "їв", 1), E(0x430, "єва", "їв", 1), E(0x43C, "євом", "їв", 1),
    E(0x456, "ові", "ів", 0), E(0x430, "ова", "ів", 0), E(0x43C, "овом", "ів", 0),
    E(0x43A, "ок", "ки", 1),  E(0x438, "и", "а", 0),    E(0x44E, "ою", "а", 0),
    E(0x443, "у", "а", 0),    E(0x456, "ці", "ка", 1),  E(0x456, "зі", "га", 1),
    E(0x456, "сі", "ха", 1),  E(0x456, "озі", "іг", 1), E(0x43E, "ого", "е", 1),
    E(0x443, "ому", "е", 1),  E(0x457, "ої", "а", 1),   E(0x439, "ій", "а", 1),
    E(0x456, "ові", "", 0),   E(0x456, "еві", "", 0),   E(0x443, "ому", "", 0),
    E(0x43E, "ого", "", 0),   E(0x438, "ами", "", 0),   E(0x438, "ями", "", 0),
    E(0x44E, "ою", "", 0),    E(0x44E, "ею", "", 0),    E(0x44E, "єю", "", 0),
    E(0x43C, "ом", "", 0),    E(0x43C, "ем", "", 0),    E(0x445, "ах", "", 0),
    E(0x445, "ях", "", 0),    E(0x457, "ої", "", 0),    E(0x439, "ій", "", 0),
    E(0x439, "ой", "", 0),    E(0x439, "ей", "", 0),    E(0x443, "у", "", 0),
    E(0x44E, "ю", "", 0),     E(0x456, "і", "", 0),     E(0x457, "ї", "", 0),
    E(0x430, "а", "", 0),     E(0x44F, "я", "", 0),     E(0x435, "е", "", 0),
    E(0x438, "и", "", 0),     E(0x44B, "ы", "", 0),     E(0x454, "є", "", 0),
};
#undef E

/* The forms of a Cyrillic word: itself, with the alternating endings replaced, and
 * without each case ending that fits (a Latin word: itself). */
static void word_variants(const char *w, size_t wl, size_t min_stem, struct variants *v)
{
    v->n = 1;
    v->keep[0] = wl;
    v->repl[0] = "";
    v->alt[0] = 0;
    const unsigned char *s = (const unsigned char *)w;
    if (wl < 4 || (s[0] != 0xD0 && s[0] != 0xD1) || (s[wl - 2] != 0xD0 && s[wl - 2] != 0xD1))
        return;
    uint32_t last = geo_lower(((uint32_t)(s[wl - 2] & 0x1F) << 6) | (s[wl - 1] & 0x3F));
    for (size_t k = 0; k < sizeof ending_tab / sizeof *ending_tab && v->n < NVAR; k++) {
        const struct ending *e = &ending_tab[k];
        if (e->last != last || wl < e->len + (e->alternation ? 2 : min_stem) ||
            memcmp(w + wl - e->len, e->end, e->len) != 0)
            continue;
        v->keep[v->n] = wl - e->len;
        v->alt[v->n] = e->alternation && *e->repl;
        v->repl[v->n++] = e->repl;
    }
}

size_t geo_gaz_lookup(const struct geo_gaz *gz, const char *w, size_t wlen, int maxd, int flags,
                      struct geo_place *out, size_t max)
{
    return geo_gaz_lookup_in(gz, w, wlen, maxd, flags, 0, out, max);
}

/* A lookup's terms, and the best names found so far. */
struct gz_query {
    const struct gz_img *g;
    int maxd, lower, flags, ru;
    unsigned ua_adm;
    size_t min_stem;
    struct best b;
};

static void query_probe(struct gz_query *q, const char *key, size_t kl)
{
    probe(q->g, key, kl, q->maxd, q->lower, q->ua_adm, &q->b);
}

/* Form i of a word in the Latin of one system: the transliterated prefix it keeps
 * (map: the Latin's offset for each byte of the word), then its replacement ending
 * transliterated. Returns its length. */
static size_t form_latin(const char *lat, const unsigned char *map, const struct variants *v,
                         size_t i, int ukr, char *form, size_t cap)
{
    size_t fl = map[v->keep[i]];
    memcpy(form, lat, fl);
    for (const char *r = v->repl[i]; *r;) {
        size_t adv;
        uint32_t c = geo_u8((const unsigned char *)r, strlen(r), 0, &adv);
        const char *t = gz_translit(c, ukr, 0);
        for (; *t && fl + 1 < cap; t++)
            form[fl++] = *t;
        r += adv;
    }
    return fl;
}

/* One word: transliterated once per system; each form's Latin is a prefix of it plus
 * the Latin of its replaced ending. */
static void lookup_word(struct gz_query *q, const char *w, size_t wl)
{
    char lat[2][128], key0[2][KEY_MAX], key[KEY_MAX];
    unsigned char map[2][100];
    size_t ll[2], kl0[2];
    int pass = 0;
    for (int ukr = 1; ukr >= !q->ru; ukr--) {
        ll[ukr] = gz_to_latin_map(w, wl, ukr, lat[ukr], sizeof lat[ukr], map[ukr]);
        /* the filter: the stem keeps the word's first one, two or three consonants */
        kl0[ukr] = gz_fold(lat[ukr], ll[ukr], key0[ukr], sizeof key0[ukr]);
        for (int m = 1; m <= 3 && !pass; m++)
            pass = pre_test(q->g, gz_pre_index(key0[ukr], kl0[ukr], m));
    }
    if (!pass)
        return;
    struct variants v;
    word_variants(w, wl, q->min_stem, &v);
    if (q->flags & GEO_GAZ_ASIS)
        v.n = 1; /* only as it is written */
    for (size_t i = 0; i < v.n && q->b.d > 0; i++) {
        for (int ukr = 1; ukr >= !q->ru; ukr--) {
            if (i == 0) { /* the word as written: its key is the filter's */
                if (kl0[ukr] >= q->min_stem / 2)
                    query_probe(q, key0[ukr], kl0[ukr]);
                continue;
            }
            char form[160];
            size_t fl = form_latin(lat[ukr], map[ukr], &v, i, ukr, form, sizeof form);
            size_t kl = gz_fold(form, fl, key, sizeof key);
            /* "києві" -> "київ": a three-letter key, but one the alternation built */
            if (kl >= (v.alt[i] ? 3 : q->min_stem / 2))
                query_probe(q, key, kl);
        }
    }
}

/* Two words (sp: the space between them): every pair of their forms. */
static void lookup_words(struct gz_query *q, const char *w, size_t wl, const char *sp)
{
    struct variants v1, v2;
    char key[KEY_MAX];
    size_t l1 = (size_t)(sp - w), l2 = wl - l1 - 1;
    word_variants(w, l1, q->min_stem, &v1);
    word_variants(sp + 1, l2, q->min_stem, &v2);
    for (size_t i = 0; i < v1.n && q->b.d > 0; i++) {
        for (size_t j = 0; j < v2.n && q->b.d > 0; j++) {
            char form[220];
            size_t fl = 0, rl;
            memcpy(form, w, v1.keep[i]);
            fl = v1.keep[i];
            rl = strlen(v1.repl[i]);
            memcpy(form + fl, v1.repl[i], rl);
            fl += rl;
            form[fl++] = ' ';
            memcpy(form + fl, sp + 1, v2.keep[j]);
            fl += v2.keep[j];
            rl = strlen(v2.repl[j]);
            memcpy(form + fl, v2.repl[j], rl);
            fl += rl;
            for (int ukr = 1; ukr >= !q->ru; ukr--) {
                size_t kl = geo_gaz_key(form, fl, ukr, key, sizeof key);
                if (kl >= q->min_stem / 2)
                    query_probe(q, key, kl);
            }
        }
    }
}

/* The best places into out, most populous first; returns how many (at most max). */
static size_t best_places(const struct gz_img *g, struct best *b, struct geo_place *out, size_t max)
{
    /* insertion sort; at most BEST_MAX */
    for (size_t i = 1; i < b->n; i++)
        for (size_t j = i; j > 0 && g->pl[b->place[j]].pop > g->pl[b->place[j - 1]].pop; j--) {
            uint32_t t = b->place[j];
            b->place[j] = b->place[j - 1];
            b->place[j - 1] = t;
        }
    size_t n = b->n < max ? b->n : max;
    for (size_t i = 0; i < n; i++) {
        const struct gz_place *e = &g->pl[b->place[i]];
        out[i] = (struct geo_place){.lat = e->lat6 / 1e6,
                                    .lon = e->lon6 / 1e6,
                                    .accuracy_m = town_accuracy(e->pop),
                                    .name = g->str + e->name,
                                    .oblast = g->str + e->oblast,
                                    .district = g->str + e->district,
                                    .country = e->cc,
                                    .ua_adm = e->ua_adm,
                                    .population = e->pop};
    }
    return n;
}

size_t geo_gaz_lookup_in(const struct geo_gaz *gz, const char *w, size_t wlen, int maxd, int flags,
                         unsigned ua_adm, struct geo_place *out, size_t max)
{
    const struct gz_img *g = img_of(gz);
    if (!g || !g->h->n_name || wlen == 0 || wlen > 96)
        return 0;
    int lower = (flags & GEO_GAZ_LOWER) != 0;
    /* a lower-case word needs a longer stem and matches only Ukrainian places */
    struct gz_query q = {.g = g,
                         .maxd = maxd,
                         .lower = lower,
                         .flags = flags,
                         .ua_adm = ua_adm,
                         .min_stem = lower ? 8 : 6,
                         .b = {.d = 99, .n = 0}};
    size_t wl = wlen;
    if (wl > 2 && (w[wl - 1] == 's' || w[wl - 1] == 'S') && w[wl - 2] == '\'')
        wl -= 2; /* Kharkiv's */
    const char *sp = memchr(w, ' ', wl);
    q.ru = needs_ru(w, wl);
    if (!sp)
        lookup_word(&q, w, wl);
    else
        lookup_words(&q, w, wl, sp);
    return q.b.n ? best_places(g, &q.b, out, max) : 0;
}

int geo_ctx_reload(struct geo_ctx *ctx, struct tl_errinfo *ei)
{
    return ctx && ctx->gaz ? geo_gaz_reload(ctx->gaz, ei) : TL_OK;
}
