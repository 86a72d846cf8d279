/* media/mih.c - the near-duplicate search in memory: a multi-index hash of 64-bit
 * perceptual hashes, exact (every stored hash within k bits is returned, and no other).
 *
 * The layout is media_bands' (storage/migrations/0032_dedup_keys.sql): four bands of 18,
 * 16, 15 and 15 bits. A band of at most 18 bits is its own bucket number: each band is a
 * directly addressed array of buckets (no hashing, no probe sequence), each bucket a run
 * of entries (hash, id) in the band's pool. Band n is probed with every value within t_n
 * bits of the query's, where the t_n + 1 add up to k + 1 (shared out from band 0, as
 * media_probes.sql does): two hashes at most k bits apart are within t_n bits in one band
 * n at least (the generalised pigeonhole principle), so no match is missed; a candidate
 * is reported by the first band in which it is within that band's t only, so once.
 *
 * Memory: 16 bytes an entry per band (the hash is kept in each band so that a candidate
 * is checked where it lies, without a second memory access) and 12 bytes a bucket
 * (393,216 buckets, 4.7 MB); a grown bucket moves to the pool's end and the hole is
 * reclaimed by media_mih_compact. Not thread-safe: the caller locks. */
#include <stdlib.h>
#include <string.h>

#include "media/media.h"
#include "common/banned.h"

#define MIH_BANDS 4

static const int band_lo[MIH_BANDS] = {0, 18, 34, 49};
static const int band_w[MIH_BANDS] = {18, 16, 15, 15};

struct mih_ent {
    uint64_t h;
    long long id;
};

struct mih_bucket {
    uint32_t at, n, cap;
};

struct mih_band {
    struct mih_bucket *b; /* 1 << w buckets */
    struct mih_ent *pool;
    size_t len, cap, holes; /* entries used in pool (live or abandoned), allocated, abandoned */
};

struct media_mih {
    struct mih_band band[MIH_BANDS];
    size_t n; /* hashes added */
};

static uint32_t band_of(uint64_t h, int n)
{
    return (uint32_t)((h >> band_lo[n]) & ((1ull << band_w[n]) - 1));
}

/* The bits band n is probed within for a search within k bits. */
static int band_t(int k, int n)
{
    return (k + 4 - n) / 4 - 1;
}

int media_mih_new(struct media_mih **out)
{
    struct media_mih *m = calloc(1, sizeof(*m));
    *out = NULL;
    if (!m)
        return TL_ENOMEM;
    for (int n = 0; n < MIH_BANDS; n++)
        if (!(m->band[n].b = calloc((size_t)1 << band_w[n], sizeof(struct mih_bucket)))) {
            media_mih_free(m);
            return TL_ENOMEM;
        }
    *out = m;
    return TL_OK;
}

void media_mih_free(struct media_mih *m)
{
    if (!m)
        return;
    for (int n = 0; n < MIH_BANDS; n++) {
        free(m->band[n].b);
        free(m->band[n].pool);
    }
    free(m);
}

/* Room for need more entries at the pool's end. */
static int pool_reserve(struct mih_band *bd, size_t need)
{
    if (bd->len + need <= bd->cap)
        return TL_OK;
    size_t cap = bd->cap ? bd->cap : 1024;
    while (cap < bd->len + need)
        cap *= 2;
    if (cap > UINT32_MAX)
        return TL_ETOOBIG;
    struct mih_ent *p = realloc(bd->pool, cap * sizeof(*p));
    if (!p)
        return TL_ENOMEM;
    bd->pool = p;
    bd->cap = cap;
    return TL_OK;
}

int media_mih_add(struct media_mih *m, uint64_t h, long long id)
{
    int rc;
    for (int n = 0; n < MIH_BANDS; n++) {
        struct mih_band *bd = &m->band[n];
        struct mih_bucket *b = &bd->b[band_of(h, n)];
        if (b->n == b->cap) { /* moves to the pool's end with twice the room */
            uint32_t cap = b->cap ? b->cap * 2 : 2;
            if ((rc = pool_reserve(bd, cap)) != TL_OK)
                return rc; /* the bands before hold it: harmless, a search checks */
            memcpy(bd->pool + bd->len, bd->pool + b->at, b->n * sizeof(struct mih_ent));
            bd->holes += b->cap;
            b->at = (uint32_t)bd->len;
            b->cap = cap;
            bd->len += cap;
        }
        bd->pool[b->at + b->n++] = (struct mih_ent){.h = h, .id = id};
    }
    m->n++;
    return TL_OK;
}

int media_mih_compact(struct media_mih *m)
{
    for (int n = 0; n < MIH_BANDS; n++) {
        struct mih_band *bd = &m->band[n];
        size_t live = bd->len - bd->holes, at = 0, nb = (size_t)1 << band_w[n];
        for (size_t i = 0; i < nb; i++)
            live -= bd->b[i].cap - bd->b[i].n; /* the spare room goes too */
        struct mih_ent *p = malloc((live ? live : 1) * sizeof(*p));
        if (!p)
            return TL_ENOMEM;
        for (size_t i = 0; i < nb; i++) {
            struct mih_bucket *b = &bd->b[i];
            if (b->n) /* an empty band has no pool */
                memcpy(p + at, bd->pool + b->at, b->n * sizeof(*p));
            b->at = (uint32_t)at;
            b->cap = b->n;
            at += b->n;
        }
        free(bd->pool);
        bd->pool = p;
        bd->len = bd->cap = at;
        bd->holes = 0;
    }
    return TL_OK;
}

size_t media_mih_count(const struct media_mih *m)
{
    return m->n;
}

size_t media_mih_spare_bytes(const struct media_mih *m)
{
    size_t s = 0;
    for (int n = 0; n < MIH_BANDS; n++)
        s += m->band[n].holes * sizeof(struct mih_ent);
    return s;
}

size_t media_mih_bytes(const struct media_mih *m)
{
    size_t s = sizeof(*m);
    for (int n = 0; n < MIH_BANDS; n++)
        s += ((size_t)1 << band_w[n]) * sizeof(struct mih_bucket) +
             m->band[n].cap * sizeof(struct mih_ent);
    return s;
}

struct mih_search {
    const struct media_mih *m;
    uint64_t h;
    int k, t[MIH_BANDS];
    struct media_mih_hit *out;
    size_t max, found;
};

/* Whether band n of a candidate c lies within t of the query's in a band before n: that
 * band's probes found it, and reported it if it matches. */
static int seen_before(const struct mih_search *s, uint64_t c, int n)
{
    for (int j = 0; j < n; j++)
        if (s->t[j] >= 0 && __builtin_popcount(band_of(c ^ s->h, j)) <= s->t[j])
            return 1;
    return 0;
}

static void probe(struct mih_search *s, int n, uint32_t v)
{
    const struct mih_band *bd = &s->m->band[n];
    const struct mih_bucket *b = &bd->b[v];
    if (!b->n) /* an empty band has no pool */
        return;
    const struct mih_ent *e = bd->pool + b->at;
    for (uint32_t i = 0; i < b->n; i++) {
        int d = __builtin_popcountll(e[i].h ^ s->h);
        if (d > s->k || (n > 0 && seen_before(s, e[i].h, n)))
            continue;
        if (s->found < s->max)
            s->out[s->found] = (struct media_mih_hit){.id = e[i].id, .distance = d};
        s->found++;
    }
}

/* Every value of band n within t more bits of v, flipping bits from bit `from` up. */
static void probe_within(struct mih_search *s, int n, uint32_t v, int from, int t)
{
    probe(s, n, v);
    if (t == 0)
        return;
    for (int i = from; i < band_w[n]; i++)
        probe_within(s, n, v ^ (1u << i), i + 1, t - 1);
}

size_t media_mih_query(const struct media_mih *m, uint64_t h, int k, struct media_mih_hit *out,
                       size_t max)
{
    struct mih_search s = {.m = m, .h = h, .k = k, .out = out, .max = max};
    if (k < 0 || k > MEDIA_MIH_MAX_K)
        return 0;
    for (int n = 0; n < MIH_BANDS; n++)
        s.t[n] = band_t(k, n);
    for (int n = 0; n < MIH_BANDS; n++)
        if (s.t[n] >= 0)
            probe_within(&s, n, band_of(h, n), 0, s.t[n]);
    return s.found;
}
