/* common/idkey.h - the keys that keep Telegram identities off the disk.
 *
 * Two kinds, with two lifetimes:
 * - the lookup key: HKDF-SHA256 of the pseudonym key (secret_file). It turns a
 *   Telegram chat id into the 63-bit keyed hash every chat_id column holds, so rows
 *   are found by chat without the clear id. Like the pseudonyms, it cannot change
 *   without rewriting every row, so it lives and dies with the pseudonym key.
 * - the data keys (identity_key_file): AES-256-GCM keys, numbered 1..255, that seal
 *   what must be read back (a chat's id for the reply path, a raw update until it is
 *   handled). A file holds several versions; the last line is the one new values are
 *   sealed with, the others still open what they sealed until `tipline keys rotate`
 *   has moved it. Rotating them never changes a pseudonym or a chat's hash.
 *
 * A sealed value: version byte 1, the key id, a fresh 96-bit nonce, the ciphertext,
 * the 128-bit tag. The associated data binds it to its row (what + a 64-bit id), so a
 * value copied to another row does not open. */
#ifndef TL_IDKEY_H
#define TL_IDKEY_H

#include <stddef.h>

#include "err.h"

#define IDKEY_MAX 16
#define IDKEY_OVERHEAD (2 + 12 + 16)

struct idkeys {
    unsigned char lookup[32];
    int has_lookup;
    /* OpenSSL objects fetched once (an implicit fetch on every call costs more than the
     * cipher itself): AES-256-GCM, and HMAC-SHA256 keyed with the lookup key, which each
     * call duplicates. Made by idkeys_set_lookup, freed by idkeys_clear. */
    void *gcm, *lookup_mac;
    struct {
        int id;
        unsigned char k[32];
    } key[IDKEY_MAX];
    size_t n; /* key[n - 1] seals; every one opens */
};

/* Reads path (lines "<id> <64 hex digits>", '#' comments) into *k, keeping a lookup key
 * already set. A missing, unreadable or malformed file, or one any user may read (mode
 * o+r: its owner and group only), is TL_ECONFIG with a message naming the file. */
int idkeys_load(struct idkeys *k, const char *path, struct tl_errinfo *ei) TL_WUR;

/* Derives the lookup key from the pseudonym key (and makes the OpenSSL objects above). */
int idkeys_set_lookup(struct idkeys *k, const unsigned char *secret, size_t len) TL_WUR;

/* Wipes the key bytes and frees the OpenSSL objects. Every idkeys set up needs it. */
void idkeys_clear(struct idkeys *k);

/* The keyed hash of a Telegram chat (or user) id: 1..2^63-1, never 0 (0 means "no
 * chat" in the inbox); 0 for id 0. */
long long idkeys_chat(const struct idkeys *k, long long id);

/* The id of the key new values are sealed with; 0 when none is loaded. */
int idkeys_current(const struct idkeys *k);

/* A cipher context one thread reuses for every value it seals or opens: made and freed
 * once instead of per value (the allocation and reset cost more than sealing 400 bytes).
 * Any key set may use it. */
struct idkeys_cipher;
/* Returns a new context (idkeys_cipher_free), NULL when out of memory. */
struct idkeys_cipher *idkeys_cipher_new(void);
void idkeys_cipher_free(struct idkeys_cipher *c);

/* Seals n bytes bound to (what, bind) under the current key, with cc (NULL: a context
 * made for this call). *out is new (free()); *out_len = n + IDKEY_OVERHEAD. */
int idkeys_seal_with(const struct idkeys *k, struct idkeys_cipher *cc, const char *what,
                     long long bind, const void *pt, size_t n, unsigned char **out,
                     size_t *out_len) TL_WUR;
int idkeys_seal(const struct idkeys *k, const char *what, long long bind, const void *pt, size_t n,
                unsigned char **out, size_t *out_len) TL_WUR;

/* Opens a sealed value bound to (what, bind), with cc (NULL: a context made for this
 * call). TL_ECONFIG when its key is not loaded, TL_EPARSE when it is not a sealed value
 * or does not authenticate. *pt is new (free()), NUL-terminated (not counted in *pt_len). */
int idkeys_open_with(const struct idkeys *k, struct idkeys_cipher *cc, const char *what,
                     long long bind, const unsigned char *ct, size_t n, unsigned char **pt,
                     size_t *pt_len) TL_WUR;
int idkeys_open(const struct idkeys *k, const char *what, long long bind, const unsigned char *ct,
                size_t n, unsigned char **pt, size_t *pt_len) TL_WUR;

/* The key id a sealed value names; -1 when it is not one. */
int idkeys_sealed_id(const unsigned char *ct, size_t n);

/* A key's check value (16 bytes): HMAC-SHA256 of a fixed label, kept in the database
 * so a wrong key is refused at start rather than found out by a failed reply. id 0 is
 * the lookup key. TL_EINVAL when that key is not loaded. */
int idkeys_kcv(const struct idkeys *k, int id, unsigned char out[16]) TL_WUR;

/* Appends a new data key (id: the highest + 1) to path, creating it with mode 0600.
 * *new_id (may be NULL) is its id. */
int idkeys_generate(const char *path, int *new_id, struct tl_errinfo *ei) TL_WUR;

/* Rewrites path (atomically: a new file renamed over it, with the old one's owner and
 * mode) to hold k's current key alone: the older keys are retired. */
int idkeys_keep_current(const char *path, const struct idkeys *k, struct tl_errinfo *ei) TL_WUR;

#endif
