/* common/hash.c - FNV-1a over a byte range or a string; SHA-256 and HMAC-SHA256 with
 * the digest fetched once for the process. */
#include "hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "banned.h"

#define SHA256_BLOCK 64
#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

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

/* One pass of HMAC: the digest of (key ^ pad) followed by n bytes at p. */
static int hmac_pass(EVP_MD_CTX *c, const EVP_MD *md, const unsigned char k[SHA256_BLOCK],
                     unsigned char pad, const void *p, size_t n, unsigned char out[32])
{
    unsigned char kp[SHA256_BLOCK];
    unsigned int len = 0;
    for (size_t i = 0; i < sizeof(kp); i++)
        kp[i] = k[i] ^ pad;
    int ok = EVP_DigestInit_ex2(c, md, NULL) && EVP_DigestUpdate(c, kp, sizeof(kp)) &&
             EVP_DigestUpdate(c, p, n) && EVP_DigestFinal_ex(c, out, &len) && len == 32;
    OPENSSL_cleanse(kp, sizeof(kp));
    return ok;
}

/* HMAC by its definition over the fetched digest rather than HMAC() or EVP_MAC: both
 * fetch the MAC and the digest again on each call (about 3x the time, bench/hash), and a
 * keyed EVP_MAC_CTX cannot be shared between threads. */
int tl_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t n,
                   unsigned char out[32])
{
    const EVP_MD *md = sha256_get();
    unsigned char k[SHA256_BLOCK] = {0}, inner[32];
    unsigned int len = 0;
    int ok = 1;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (key_len > sizeof(k)) /* a key longer than a block is replaced by its digest */
        ok = EVP_Digest(key, key_len, k, &len, md, NULL) && len == 32;
    else if (key_len)
        memcpy(k, key, key_len);
    ok = ok && c && hmac_pass(c, md, k, HMAC_IPAD, msg, n, inner) &&
         hmac_pass(c, md, k, HMAC_OPAD, inner, sizeof(inner), out);
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(inner, sizeof(inner));
    if (ok)
        return TL_OK;
    memset(out, 0, 32);
    return TL_EIO;
}
