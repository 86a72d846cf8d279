/* bench/hash/bench_hash.c - what a SHA-256 and an HMAC-SHA256 cost per call on this
 * machine's OpenSSL, the way the project computed them per call before common/hash.c had them
 * (EVP_Digest with EVP_sha256(), HMAC(EVP_sha256(), ...): OpenSSL 3 looks the algorithm
 * up in its provider store on each) against the ways a digest fetched once allows, and
 * the project's own helpers. Prints figures; never a pass/fail.
 *
 *   bench_hash [--rounds R] [--calls N]
 *
 * Inputs are shaped like the callers': a pseudonym is the HMAC of a decimal user id
 * under a 32-byte secret; a web credential is the SHA-256 of a 47-character token; a
 * stored photo's sha256 is over its bytes (here 64 KiB, where the lookup no longer
 * matters). Times are this thread's CPU time (the machine is shared), ns per call, the
 * median of R rounds and the best. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/hash.h"
#include "common/util.h"
#include "handlers/hdl.h"
#include "common/banned.h"

static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
static const char token[] = "tl_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd";
static unsigned char photo[64 * 1024];
static EVP_MD *md_fetched;
static EVP_MAC *mac_fetched;
static EVP_MAC_CTX *mac_keyed;
static volatile unsigned char sink;

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void id_of(long i, char *id, size_t *n)
{
    *n = (size_t)snprintf(id, 24, "%ld", 100000000L + i);
}

static void sha_md(const EVP_MD *md, long i)
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(token, sizeof(token) - 1 - (size_t)(i & 1), d, &n, md, NULL);
    sink ^= d[0];
}

static void sha_lookup(long i)
{
    sha_md(EVP_sha256(), i);
}

static void sha_fetched(long i)
{
    sha_md(md_fetched, i);
}

static void sha_oneshot(long i)
{
    unsigned char d[32];
    SHA256((const unsigned char *)token, sizeof(token) - 1 - (size_t)(i & 1), d);
    sink ^= d[0];
}

static void sha_helper(long i)
{
    unsigned char d[32];
    if (tl_sha256(token, sizeof(token) - 1 - (size_t)(i & 1), d) == TL_OK)
        sink ^= d[0];
}

static void photo_lookup(long i)
{
    unsigned char d[32];
    unsigned int n = 0;
    photo[0] = (unsigned char)i;
    EVP_Digest(photo, sizeof(photo), d, &n, EVP_sha256(), NULL);
    sink ^= d[0];
}

static void photo_helper(long i)
{
    unsigned char d[32];
    photo[0] = (unsigned char)i;
    if (tl_sha256(photo, sizeof(photo), d) == TL_OK)
        sink ^= d[0];
}

static void hmac_md(const EVP_MD *md, long i)
{
    char id[24];
    size_t n;
    unsigned char m[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    id_of(i, id, &n);
    HMAC(md, secret, sizeof(secret), (const unsigned char *)id, n, m, &ml);
    sink ^= m[0];
}

static void hmac_lookup(long i)
{
    hmac_md(EVP_sha256(), i);
}

static void hmac_fetched_md(long i)
{
    hmac_md(md_fetched, i);
}

/* EVP_MAC fetched once, a new context keyed on each call. */
static void hmac_mac_new(long i)
{
    char id[24];
    size_t n, ml = 0;
    unsigned char m[EVP_MAX_MD_SIZE];
    id_of(i, id, &n);
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                      OSSL_PARAM_construct_end()};
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac_fetched);
    if (c && EVP_MAC_init(c, secret, sizeof(secret), p) == 1 &&
        EVP_MAC_update(c, (const unsigned char *)id, n) == 1 &&
        EVP_MAC_final(c, m, &ml, sizeof(m)) == 1)
        sink ^= m[0];
    EVP_MAC_CTX_free(c);
}

/* A context keyed once, duplicated on each call (as common/idkey.c's lookup MAC). */
static void hmac_mac_dup(long i)
{
    char id[24];
    size_t n, ml = 0;
    unsigned char m[EVP_MAX_MD_SIZE];
    id_of(i, id, &n);
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(mac_keyed);
    if (c && EVP_MAC_update(c, (const unsigned char *)id, n) == 1 &&
        EVP_MAC_final(c, m, &ml, sizeof(m)) == 1)
        sink ^= m[0];
    EVP_MAC_CTX_free(c);
}

static void hmac_helper(long i)
{
    char out[65];
    if (hdl_pseudonym(secret, sizeof(secret), 100000000LL + i, out) == TL_OK)
        sink ^= (unsigned char)out[0];
}

struct variant {
    const char *name;
    void (*fn)(long);
    int slow; /* large input: fewer calls */
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    long calls = 200000;
    int rounds = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = (int)strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc)
            calls = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_hash [--rounds R] [--calls N]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 99 || calls < 1) {
        fprintf(stderr, "bench_hash: bad --rounds or --calls\n");
        return 2;
    }
    md_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
    mac_fetched = EVP_MAC_fetch(NULL, "HMAC", NULL);
    mac_keyed = mac_fetched ? EVP_MAC_CTX_new(mac_fetched) : NULL;
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                      OSSL_PARAM_construct_end()};
    if (!md_fetched || !mac_keyed || EVP_MAC_init(mac_keyed, secret, sizeof(secret), p) != 1) {
        fprintf(stderr, "bench_hash: cannot fetch SHA256 or HMAC\n");
        return 1;
    }
    memset(photo, 0x5a, sizeof(photo));
    static const struct variant v[] = {
        {"sha256 47 B: EVP_Digest(EVP_sha256())", sha_lookup, 0},
        {"sha256 47 B: EVP_Digest(fetched md)", sha_fetched, 0},
        {"sha256 47 B: SHA256()", sha_oneshot, 0},
        {"sha256 47 B: tl_sha256", sha_helper, 0},
        {"sha256 64 KiB: EVP_Digest(EVP_sha256())", photo_lookup, 1},
        {"sha256 64 KiB: tl_sha256", photo_helper, 1},
        {"hmac id: HMAC(EVP_sha256())", hmac_lookup, 0},
        {"hmac id: HMAC(fetched md)", hmac_fetched_md, 0},
        {"hmac id: EVP_MAC fetched, ctx new+init", hmac_mac_new, 0},
        {"hmac id: EVP_MAC keyed ctx dup", hmac_mac_dup, 0},
        {"hmac id: hdl_pseudonym", hmac_helper, 0},
    };
    printf("%s; %ld calls (64 KiB: %ld) x %d rounds, thread CPU ns per call\n",
           OpenSSL_version(OPENSSL_VERSION), calls, calls / 100 + 1, rounds);
    for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
        long nc = v[k].slow ? calls / 100 + 1 : calls;
        double r[99];
        for (long i = 0; i < nc / 10 + 1; i++) /* warm-up */
            v[k].fn(i);
        for (int j = 0; j < rounds; j++) {
            double t0 = cpu_ns();
            for (long i = 0; i < nc; i++)
                v[k].fn(i);
            r[j] = (cpu_ns() - t0) / (double)nc;
        }
        qsort(r, (size_t)rounds, sizeof(r[0]), cmp_d);
        printf("%-42s median %9.0f  best %9.0f\n", v[k].name, r[rounds / 2], r[0]);
    }
    EVP_MAC_CTX_free(mac_keyed);
    EVP_MAC_free(mac_fetched);
    EVP_MD_free(md_fetched);
    return 0;
}
