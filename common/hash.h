/* common/hash.h - FNV-1a (32 bits), the one non-cryptographic hash of the project:
 * the slots of in-memory tables (credential cache, gazetteer skeletons, word sets).
 * Not for anything an attacker may aim at collisions to gain more than a slower probe. */
#ifndef TL_HASH_H
#define TL_HASH_H

#include <stddef.h>
#include <stdint.h>

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

#endif
