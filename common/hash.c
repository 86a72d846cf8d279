/* common/hash.c - FNV-1a over a byte range or a string. */
#include "hash.h"

#include "banned.h"

uint32_t tl_fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint32_t h = TL_FNV1A_INIT;
    for (size_t i = 0; i < n; i++)
        h = tl_fnv1a_step(h, b[i]);
    return h;
}

uint32_t tl_fnv1a_str(const char *s)
{
    uint32_t h = TL_FNV1A_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = tl_fnv1a_step(h, *p);
    return h;
}
