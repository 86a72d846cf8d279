/* daemon/near.c - the near-duplicate index in memory: every stored photo hash in a
 * media_mih (media/mih.c), complete up to a snapshot S, loaded and refreshed by a thread
 * of its own on its own connection; the workers search it for a report's photos and pass
 * the ids found with S to the store path, which rechecks them and reads the rows S does
 * not see (media_near_seen.sql). The index only ever grows between loads: a purged or
 * rehashed photo's old entry is a candidate the recheck drops.
 *
 * Memory: media_mih's, about 70 MB a million hashes after a load; a bucket grown by a
 * refresh moves to room for twice its entries and leaves its old room unused. When that
 * room passes the size of the index as last loaded (and 4 MiB), the refresh loads a fresh,
 * compact index (building it beside the one in use, then swapping it in), which also
 * drops the entries of photos purged since.
 *
 * Locking: a rwlock; searches share it, the refresh takes it to add the rows it read
 * (read before, without the lock) and to move S on. Until the first load ends, and
 * when S has not moved for a while (the database unreachable), a search returns no
 * S and the store path searches alone (media_near). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon.h"
#include "media/media.h"
#include "common/banned.h"

#define NEAR_MAX_IDS 1024 /* more for one hash: not passed, the store path searches */
/* S older than this (the refresh failing): searches stop using the index */
#define NEAR_STALE_MS(nr) (30000 + 4 * (nr)->refresh_ms)
/* room left by grown buckets past which the refresh loads a compact index */
#define NEAR_RELOAD_MIN_SPARE ((size_t)4 << 20)

struct daemon_near {
    char *conninfo;
    long refresh_ms;
    pthread_t thread;
    int have_thread;
    volatile sig_atomic_t stop;
    pthread_rwlock_t lock;   /* mih, snapshot, refreshed_ms */
    pthread_mutex_t conn_mu; /* s: the thread's refresh and daemon_near_refresh */
    struct store *s;
    struct media_mih *mih; /* NULL until loaded */
    char *snapshot;
    int64_t refreshed_ms;
    double load_ms;
    size_t loaded_bytes;  /* the index's memory when last loaded */
    long long reloads;    /* loads to give grown buckets' room back */
    atomic_llong answers; /* searches answered */
};

struct near_rows {
    long long *v; /* hash, id pairs */
    size_t n, cap;
    volatile sig_atomic_t *stop;
};

static int rows_add(void *arg, long long hash, long long id)
{
    struct near_rows *r = arg;
    if (r->n + 2 > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        long long *v = realloc(r->v, cap * sizeof(*v));
        if (!v)
            return TL_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = hash;
    r->v[r->n++] = id;
    return TL_OK;
}

static int load_add(void *arg, long long hash, long long id)
{
    struct media_mih *m = *(struct media_mih **)arg;
    return media_mih_add(m, (uint64_t)hash, id);
}

/* A fresh index of every stored hash, swapped in. Called with conn_mu held. */
static int near_load(struct daemon_near *nr, struct tl_errinfo *ei)
{
    struct media_mih *m = NULL;
    char *snap = NULL;
    int64_t t0 = tl_now_ms();
    int rc = media_mih_new(&m);
    if (rc || (rc = store_near_load(nr->s, load_add, &m, &snap, ei)) ||
        (rc = media_mih_compact(m))) {
        media_mih_free(m);
        free(snap);
        return rc;
    }
    pthread_rwlock_wrlock(&nr->lock);
    struct media_mih *old = nr->mih;
    free(nr->snapshot);
    nr->mih = m;
    nr->snapshot = snap;
    nr->refreshed_ms = tl_now_ms();
    nr->load_ms = (double)(nr->refreshed_ms - t0);
    nr->loaded_bytes = media_mih_bytes(m);
    pthread_rwlock_unlock(&nr->lock);
    media_mih_free(old);
    log_info("near index loaded hashes=%zu bytes=%zu ms=%.0f", media_mih_count(m),
             media_mih_bytes(m), nr->load_ms);
    return TL_OK;
}

/* The rows the index's snapshot does not see, added; S moved on. conn_mu held. */
static int near_since(struct daemon_near *nr, struct tl_errinfo *ei)
{
    struct near_rows rows = {0};
    char *snap = NULL, *old = NULL;
    pthread_rwlock_rdlock(&nr->lock);
    int loaded = nr->mih != NULL;
    char *from = loaded ? tl_strdup(nr->snapshot) : NULL;
    pthread_rwlock_unlock(&nr->lock);
    if (!loaded)
        return near_load(nr, ei);
    if (!from)
        return TL_ENOMEM;
    int rc = store_near_since(nr->s, from, rows_add, &rows, &snap, ei);
    free(from);
    if (rc) {
        free(rows.v);
        return rc;
    }
    pthread_rwlock_wrlock(&nr->lock);
    for (size_t i = 0; i < rows.n && rc == TL_OK; i += 2)
        rc = media_mih_add(nr->mih, (uint64_t)rows.v[i], rows.v[i + 1]);
    struct media_mih *drop = NULL;
    size_t spare = 0, limit = 0;
    if (rc == TL_OK) {
        spare = media_mih_spare_bytes(nr->mih);
        limit = nr->loaded_bytes > NEAR_RELOAD_MIN_SPARE ? nr->loaded_bytes : NEAR_RELOAD_MIN_SPARE;
        old = nr->snapshot;
        nr->snapshot = snap;
        nr->refreshed_ms = tl_now_ms();
    } else { /* not complete up to either snapshot: unusable until loaded again */
        drop = nr->mih;
        nr->mih = NULL;
        old = snap;
    }
    pthread_rwlock_unlock(&nr->lock);
    media_mih_free(drop);
    free(old);
    free(rows.v);
    if (rc == TL_OK && spare > limit) {
        struct tl_errinfo lei;
        if (near_load(nr, &lei) == TL_OK) {
            pthread_rwlock_wrlock(&nr->lock);
            nr->reloads++;
            pthread_rwlock_unlock(&nr->lock);
        } else { /* the index in use stays; the next refresh tries again */
            log_warn("near index reload failed spare_bytes=%zu detail=\"%s\"", spare, lei.msg);
        }
    }
    return rc;
}

int daemon_near_refresh(struct daemon_near *nr, struct tl_errinfo *ei)
{
    pthread_mutex_lock(&nr->conn_mu);
    int rc = nr->s ? near_since(nr, ei) : TL_EDBDOWN;
    pthread_mutex_unlock(&nr->conn_mu);
    return rc;
}

static void *near_main(void *arg)
{
    struct daemon_near *nr = arg;
    struct store *s = NULL;
    for (int attempt = 0; !nr->stop; attempt++) {
        struct tl_errinfo ei;
        int rc = store_open(nr->conninfo, &s, &ei);
        if (rc == TL_OK)
            break;
        log_warn("database connect failed thread=near err=\"%s\" detail=\"%s\"", tl_strerror(rc),
                 ei.msg);
        tl_sleep_ms(tl_backoff_ms(attempt, 200, 5000), &nr->stop);
    }
    pthread_mutex_lock(&nr->conn_mu);
    nr->s = s;
    pthread_mutex_unlock(&nr->conn_mu);
    for (int fails = 0; s && !nr->stop;) {
        struct tl_errinfo ei;
        int rc = daemon_near_refresh(nr, &ei);
        if (rc != TL_OK && fails++ % 60 == 0)
            log_warn("near index refresh failed err=\"%s\" detail=\"%s\"", tl_strerror(rc), ei.msg);
        if (rc == TL_OK)
            fails = 0;
        tl_sleep_ms(rc == TL_OK ? nr->refresh_ms : tl_backoff_ms(fails, 200, 5000), &nr->stop);
    }
    return NULL;
}

int daemon_near_start(const char *conninfo, long refresh_ms, struct daemon_near **out)
{
    struct daemon_near *nr = calloc(1, sizeof(*nr));
    *out = NULL;
    if (!nr || !(nr->conninfo = tl_strdup(conninfo))) {
        free(nr);
        return TL_ENOMEM;
    }
    nr->refresh_ms = refresh_ms > 0 ? refresh_ms : 500;
    pthread_rwlock_init(&nr->lock, NULL);
    pthread_mutex_init(&nr->conn_mu, NULL);
    if (pthread_create(&nr->thread, NULL, near_main, nr) != 0) {
        daemon_near_free(nr);
        return TL_ENOMEM;
    }
    nr->have_thread = 1;
    *out = nr;
    return TL_OK;
}

void daemon_near_free(struct daemon_near *nr)
{
    if (!nr)
        return;
    nr->stop = 1;
    if (nr->have_thread)
        pthread_join(nr->thread, NULL);
    store_free(nr->s);
    media_mih_free(nr->mih);
    free(nr->snapshot);
    free(nr->conninfo);
    pthread_rwlock_destroy(&nr->lock);
    pthread_mutex_destroy(&nr->conn_mu);
    free(nr);
}

void daemon_near_info(struct daemon_near *nr, struct daemon_near_info *info)
{
    memset(info, 0, sizeof(*info));
    pthread_rwlock_rdlock(&nr->lock);
    if (nr->mih) {
        info->loaded = 1;
        info->hashes = media_mih_count(nr->mih);
        info->bytes = media_mih_bytes(nr->mih);
        info->load_ms = nr->load_ms;
        info->spare_bytes = media_mih_spare_bytes(nr->mih);
        info->reloads = nr->reloads;
        info->age_ms = tl_now_ms() - nr->refreshed_ms;
    }
    info->answers = atomic_load(&nr->answers);
    pthread_rwlock_unlock(&nr->lock);
}

void daemon_near_result_release(struct daemon_near_result *r)
{
    free(r->snapshot);
    free(r->h);
    free(r->ids);
    memset(r, 0, sizeof(*r));
}

int daemon_near_search(struct daemon_near *nr, const long long *hashes, size_t n, int k,
                       struct daemon_near_result *r)
{
    struct media_mih_hit hit[NEAR_MAX_IDS];
    size_t n_ids = 0, cap = 0, *at = NULL; /* where each hash's ids start in r->ids */
    int rc = TL_OK;
    memset(r, 0, sizeof(*r));
    if (!nr || n == 0 || k < 0 || k > MEDIA_MIH_MAX_K)
        return TL_OK;
    if (!(r->h = calloc(n, sizeof(*r->h))) || !(at = calloc(n, sizeof(*at)))) {
        free(r->h);
        r->h = NULL;
        return TL_ENOMEM;
    }
    pthread_rwlock_rdlock(&nr->lock);
    if (!nr->mih || tl_now_ms() - nr->refreshed_ms > NEAR_STALE_MS(nr))
        goto out; /* no S: the store path searches alone */
    if (!(r->snapshot = tl_strdup(nr->snapshot))) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t got = media_mih_query(nr->mih, (uint64_t)hashes[i], k, hit, NEAR_MAX_IDS);
        if (got > NEAR_MAX_IDS)
            continue; /* left to the store path */
        if (n_ids + got > cap) {
            size_t c = cap ? cap : 64;
            while (c < n_ids + got)
                c *= 2;
            long long *v = realloc(r->ids, c * sizeof(*v));
            if (!v) {
                rc = TL_ENOMEM;
                goto out;
            }
            r->ids = v;
            cap = c;
        }
        at[r->nx.n] = n_ids;
        struct store_near_hash *h = &r->h[r->nx.n++];
        h->hash = hashes[i];
        h->n_ids = got;
        for (size_t j = 0; j < got; j++)
            r->ids[n_ids++] = hit[j].id;
    }
out:
    pthread_rwlock_unlock(&nr->lock);
    if (rc != TL_OK || !r->snapshot) {
        free(at);
        daemon_near_result_release(r);
        return rc;
    }
    for (size_t i = 0; i < r->nx.n; i++) /* r->ids has stopped moving (NULL: none found) */
        r->h[i].ids = r->h[i].n_ids ? r->ids + at[i] : NULL;
    free(at);
    r->nx.snapshot = r->snapshot;
    r->nx.h = r->h;
    atomic_fetch_add(&nr->answers, 1);
    return TL_OK;
}

int daemon_near_plan(struct daemon_near *nr, struct store *s, long long chat_id, long long draft_id,
                     const struct store_report_new *rep, struct store_report_new *copy,
                     struct daemon_near_result *r, struct tl_errinfo *ei)
{
    long long *h = NULL;
    size_t n = 0;
    int rc = TL_OK;
    memset(r, 0, sizeof(*r));
    *copy = *rep;
    if (!nr || !rep->dedup.on)
        return TL_OK;
    struct daemon_near_info info;
    daemon_near_info(nr, &info);
    if (!info.loaded) /* not read from the draft for nothing */
        return TL_OK;
    if (draft_id && (rc = store_conv_draft_phashes(s, chat_id, draft_id, &h, &n, ei)) != TL_OK)
        return rc;
    long long *all = realloc(h, (n + 2 * rep->n_media + 1) * sizeof(*all));
    if (!all) {
        free(h);
        return TL_ENOMEM;
    }
    for (size_t i = 0; i < rep->n_media; i++) {
        if (rep->media[i].has_phash)
            all[n++] = (long long)rep->media[i].phash;
        if (rep->media[i].has_phash && rep->media[i].has_phash_inner)
            all[n++] = (long long)rep->media[i].phash_inner;
    }
    if (n > 0)
        rc = daemon_near_search(nr, all, n, rep->dedup.max_distance, r);
    free(all);
    if (rc == TL_OK && r->nx.snapshot)
        copy->near = &r->nx;
    return rc;
}
