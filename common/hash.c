/* common/hash.c - FNV-1a over a byte range or a string; SHA-256 and HMAC-SHA256 with
 * the digest fetched once for the process. */
#include "hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>

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

/* Written once under sha256_once, then only read; kept for the process (OpenSSL frees
 * its providers at exit, and a digest held here stays reachable, not leaked). */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched digest; should the fetch have failed, the one OpenSSL looks up per call,
 * which gives the same bytes, slower. */
static const EVP_MD *sha256_get(void)
{
    pthread_once(&sha256_once, sha256_fetch);
    return sha256_md ? sha256_md : EVP_sha256();
}

int tl_sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, sha256_get(), NULL) && len == 32)
        return TL_OK;
    memset(out, 0, 32);
    return TL_EIO;
}

/* HMAC by OpenSSL's own HMAC() over the fetched digest: the construction stays the
 * library's (a hand-made one measured 3x faster, bench/hash, not worth owning crypto). */
int tl_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n,
                   unsigned char out[32])
{
    unsigned int len = 0;
    static const unsigned char none = 0;
    if (HMAC(sha256_get(), key_len ? key : &none, (int)key_len, msg, n, out, &len) && len == 32)
        return TL_OK;
    memset(out, 0, 32);
    return TL_EIO;
}
