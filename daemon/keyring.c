/* daemon/keyring.c - the identity keys a running bot seals and opens with, taken up
 * again while it runs: when identity_key_file changes (tipline keys new adds a key,
 * tipline keys rotate retires the old ones) or on SIGHUP. A key set is immutable once
 * published: readers load the pointer and use it without a lock, and a replaced set is
 * kept until KEYRING_KEEP later reloads have passed (each reader holds one for one batch,
 * milliseconds) or the process ends. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon_int.h"
#include "storage/store.h"
#include "common/banned.h"

#define KEYRING_KEEP 16
#define KEYRING_WATCH_MS 1000

struct daemon_keyring {
    const struct cfg *cfg;
    volatile sig_atomic_t *stop;
    volatile sig_atomic_t quit;         /* set by daemon_keyring_free */
    _Atomic(const struct idkeys *) cur; /* cfg->idkeys until the first reload */
    struct idkeys *old[KEYRING_KEEP];   /* sets made by reloads, the newest last */
    size_t n_old;
    pthread_mutex_t mu; /* one reload at a time */
    struct stat seen;   /* the file as last read (zero: not read) */
    pthread_t watcher;
    int have_watcher;
};

const struct idkeys *daemon_keys(struct daemon_keyring *kr)
{
    return atomic_load_explicit(&kr->cur, memory_order_acquire);
}

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int same_keys(const struct idkeys *a, const struct idkeys *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->key[i].id != b->key[i].id || memcmp(a->key[i].k, b->key[i].k, 32) != 0)
            return 0;
    return 1;
}

/* Publishes k (owned from here on); the oldest replaced set goes when the list is full. */
static void publish(struct daemon_keyring *kr, struct idkeys *k)
{
    if (kr->n_old == KEYRING_KEEP) {
        idkeys_clear(kr->old[0]);
        free(kr->old[0]);
        memmove(kr->old, kr->old + 1, (KEYRING_KEEP - 1) * sizeof(kr->old[0]));
        kr->n_old--;
    }
    kr->old[kr->n_old++] = k;
    atomic_store_explicit(&kr->cur, k, memory_order_release);
}

int daemon_keyring_reload(struct daemon_keyring *kr, struct tl_errinfo *ei)
{
    const struct cfg *c = kr->cfg;
    struct idkeys *k = calloc(1, sizeof(*k));
    struct store *s = NULL;
    struct stat st;
    int rc = k ? TL_OK : TL_ENOMEM;
    tl_errinfo_clear(ei);
    pthread_mutex_lock(&kr->mu);
    if (rc == TL_OK && stat(c->identity_key_file, &st) == 0)
        kr->seen = st; /* a file refused is not read again until it changes */
    if (rc == TL_OK && idkeys_set_lookup(k, c->secret, c->secret_len) != TL_OK)
        rc = tl_errf(ei, TL_ECONFIG, "the pseudonym key is not loaded: no chat lookup key");
    if (rc == TL_OK)
        rc = idkeys_load(k, c->identity_key_file, ei);
    if (rc == TL_OK && same_keys(k, daemon_keys(kr)))
        goto out;
    /* a wrong key is refused here as at start: the keys in force stay */
    if (rc == TL_OK && (rc = store_open(c->database_url, &s, ei)) == TL_OK)
        rc = store_idkeys_verify(s, k, c->identity_key_file, ei);
    if (rc == TL_OK) {
        publish(kr, k);
        log_info("identity keys reloaded sealing_key=%d keys=%zu", idkeys_current(k), k->n);
        k = NULL;
    }
out:
    pthread_mutex_unlock(&kr->mu);
    store_free(s);
    if (k) {
        idkeys_clear(k);
        free(k);
    }
    return rc;
}

/* Reloads when identity_key_file changed (a new key, a retired one). */
static void *watch_main(void *arg)
{
    struct daemon_keyring *kr = arg;
    while (!*kr->stop && !tl_sleep_ms(KEYRING_WATCH_MS, &kr->quit)) {
        struct stat st;
        if (stat(kr->cfg->identity_key_file, &st) != 0)
            continue;
        pthread_mutex_lock(&kr->mu);
        int changed = !same_file(&st, &kr->seen);
        pthread_mutex_unlock(&kr->mu);
        struct tl_errinfo ei;
        if (changed && daemon_keyring_reload(kr, &ei) != TL_OK)
            log_warn("identity keys reload refused, keys in force kept detail=\"%s\"", ei.msg);
    }
    return NULL;
}

int daemon_keyring_new(const struct cfg *c, volatile sig_atomic_t *stop,
                       struct daemon_keyring **out)
{
    struct daemon_keyring *kr = calloc(1, sizeof(*kr));
    *out = NULL;
    if (!kr)
        return TL_ENOMEM;
    kr->cfg = c;
    kr->stop = stop;
    atomic_init(&kr->cur, &c->idkeys);
    pthread_mutex_init(&kr->mu, NULL);
    /* the file as cfg read it; with none there is nothing to watch */
    if (c->identity_key_file && *c->identity_key_file &&
        stat(c->identity_key_file, &kr->seen) == 0 &&
        pthread_create(&kr->watcher, NULL, watch_main, kr) == 0)
        kr->have_watcher = 1;
    *out = kr;
    return TL_OK;
}

void daemon_keyring_free(struct daemon_keyring *kr)
{
    if (!kr)
        return;
    kr->quit = 1;
    if (kr->have_watcher)
        pthread_join(kr->watcher, NULL);
    for (size_t i = 0; i < kr->n_old; i++) {
        idkeys_clear(kr->old[i]);
        free(kr->old[i]);
    }
    pthread_mutex_destroy(&kr->mu);
    free(kr);
}
