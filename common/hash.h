/* common/hash.h - the project's hashes. FNV-1a (32 bits), the one non-cryptographic
 * hash: the slots of in-memory tables (credential cache, gazetteer skeletons, word sets),
 * not for anything an attacker may aim at collisions to gain more than a slower probe.
 * SHA-256 and HMAC-SHA256 through OpenSSL with the digest fetched once for the process:
 * OpenSSL 3 otherwise looks the algorithm up in its provider store (under a lock) on
 * every call, which cost more than hashing a token or a user id (bench/hash). */
#ifndef TL_HASH_H
#define TL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TL_FNV1A_INIT 2166136261u

/* One byte folded into a running FNV-1a hash h (start from TL_FNV1A_INIT). */
static inline uint32_t tl_fnv1a_step(uint32_t h, unsigned char c)
{
    return (h ^ c) * 16777619u;
}

/* FNV-1a of n bytes at p. */
uint32_t tl_fnv1a(const void *p, size_t n);

/* FNV-1a of the bytes of a NUL-terminated string (the NUL excluded). */
uint32_t tl_fnv1a_str(const char *s);

/* SHA-256 of n bytes at p into out; TL_EIO when OpenSSL fails (out is then zeros). */
int tl_sha256(const void *p, size_t n, unsigned char out[32]) TL_WUR;

/* HMAC-SHA256 (RFC 2104) of n bytes at msg under key (any length) into out, the same
 * bytes as OpenSSL's HMAC(EVP_sha256(), ...); TL_EIO when OpenSSL fails (out is then
 * zeros). Thread-safe; no state is kept but the fetched digest. */
int tl_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n,
                   unsigned char out[32]) TL_WUR;

#endif
