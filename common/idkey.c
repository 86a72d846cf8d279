/* common/idkey.c - the lookup hash and the AES-256-GCM seal of Telegram identities
 * (idkey.h says which key does what and why there are two). */
#include "idkey.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "banned.h"

#define SEAL_VERSION 1

int idkeys_set_lookup(struct idkeys *k, const unsigned char *secret, size_t len)
{
    static const char info[] = "tipline chat lookup v1";
    size_t out = sizeof(k->lookup);
    int ok = 0;
    if (!secret || len < 16)
        return TL_EINVAL;
    EVP_MAC_CTX_free(k->lookup_mac);
    k->lookup_mac = NULL;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    if (pc && EVP_PKEY_derive_init(pc) > 0 && EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) > 0 &&
        EVP_PKEY_CTX_set1_hkdf_key(pc, secret, (int)len) > 0 &&
        EVP_PKEY_CTX_add1_hkdf_info(pc, (const unsigned char *)info, (int)strlen(info)) > 0 &&
        EVP_PKEY_derive(pc, k->lookup, &out) > 0 && out == sizeof(k->lookup))
        ok = 1;
    EVP_PKEY_CTX_free(pc);
    if (ok && !k->gcm)
        ok = (k->gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) != NULL;
    EVP_MAC *mac = ok ? EVP_MAC_fetch(NULL, "HMAC", NULL) : NULL;
    EVP_MAC_CTX *mc = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (mc && EVP_MAC_init(mc, k->lookup, sizeof(k->lookup), params) == 1) {
        k->lookup_mac = mc;
        mc = NULL;
    } else {
        ok = 0;
    }
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(mac);
    k->has_lookup = ok;
    return ok ? TL_OK : TL_EIO;
}

void idkeys_clear(struct idkeys *k)
{
    EVP_MAC_CTX_free(k->lookup_mac);
    EVP_CIPHER_free(k->gcm);
    OPENSSL_cleanse(k, sizeof(*k));
}

long long idkeys_chat(const struct idkeys *k, long long id)
{
    char txt[40];
    unsigned char mac[EVP_MAX_MD_SIZE];
    if (!id || !k->has_lookup)
        return 0;
    int n = snprintf(txt, sizeof(txt), "chat:%lld", id);
    size_t mac_len = 0;
    /* a copy of the keyed context: the key schedule is done once, in idkeys_set_lookup */
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->lookup_mac);
    int ok = c && EVP_MAC_update(c, (const unsigned char *)txt, (size_t)n) == 1 &&
             EVP_MAC_final(c, mac, &mac_len, sizeof(mac)) == 1 && mac_len == 32;
    EVP_MAC_CTX_free(c);
    if (!ok)
        return 0;
    unsigned long long v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | mac[i];
    v &= 0x7fffffffffffffffULL;
    return v ? (long long)v : 1;
}

int idkeys_current(const struct idkeys *k)
{
    return k->n ? k->key[k->n - 1].id : 0;
}

static const unsigned char *key_of(const struct idkeys *k, int id)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->key[i].id == id)
            return k->key[i].k;
    return NULL;
}

/* what || big-endian bind */
static size_t aad_of(const char *what, long long bind, unsigned char *aad, size_t cap)
{
    size_t w = strlen(what);
    if (w + 8 > cap)
        w = cap - 8;
    memcpy(aad, what, w);
    for (int i = 0; i < 8; i++)
        aad[w + (size_t)i] = (unsigned char)((unsigned long long)bind >> (56 - 8 * i));
    return w + 8;
}

struct idkeys_cipher *idkeys_cipher_new(void)
{
    return (struct idkeys_cipher *)EVP_CIPHER_CTX_new();
}

void idkeys_cipher_free(struct idkeys_cipher *c)
{
    EVP_CIPHER_CTX_free((EVP_CIPHER_CTX *)c);
}

/* Readies c for one value: the first use sets the cipher; later ones pass only the key
 * and nonce, which keeps OpenSSL's context (passing the cipher again would reset it). */
static int cipher_init(EVP_CIPHER_CTX *c, const struct idkeys *k, const unsigned char *key,
                       const unsigned char *iv, int enc)
{
    const EVP_CIPHER *have = EVP_CIPHER_CTX_get0_cipher(c);
    if (!have && EVP_CipherInit_ex(c, k->gcm, NULL, NULL, NULL, enc) != 1)
        return 0;
    return EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) == 1;
}

int idkeys_seal_with(const struct idkeys *k, struct idkeys_cipher *cc, const char *what,
                     long long bind, const void *pt, size_t n, unsigned char **out, size_t *out_len)
{
    unsigned char aad[64];
    int len = 0, rc = TL_EIO;
    *out = NULL;
    *out_len = 0;
    if (!k->n || !k->gcm)
        return TL_ECONFIG;
    if (n > (size_t)1 << 30)
        return TL_ETOOBIG;
    unsigned char *b = malloc(n + IDKEY_OVERHEAD);
    EVP_CIPHER_CTX *own = cc ? NULL : EVP_CIPHER_CTX_new(), *c = cc ? (EVP_CIPHER_CTX *)cc : own;
    if (!b || !c) {
        rc = TL_ENOMEM;
        goto out;
    }
    b[0] = SEAL_VERSION;
    b[1] = (unsigned char)idkeys_current(k);
    if ((rc = tl_random(b + 2, 12)) != TL_OK)
        goto out;
    rc = TL_EIO;
    size_t an = aad_of(what, bind, aad, sizeof(aad));
    if (!cipher_init(c, k, k->key[k->n - 1].k, b + 2, 1) ||
        EVP_EncryptUpdate(c, NULL, &len, aad, (int)an) != 1 ||
        EVP_EncryptUpdate(c, b + 14, &len, pt, (int)n) != 1 ||
        EVP_EncryptFinal_ex(c, b + 14 + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, b + 14 + n) != 1)
        goto out;
    *out = b;
    *out_len = n + IDKEY_OVERHEAD;
    b = NULL;
    rc = TL_OK;
out:
    EVP_CIPHER_CTX_free(own);
    free(b);
    return rc;
}

int idkeys_seal(const struct idkeys *k, const char *what, long long bind, const void *pt, size_t n,
                unsigned char **out, size_t *out_len)
{
    return idkeys_seal_with(k, NULL, what, bind, pt, n, out, out_len);
}

int idkeys_open(const struct idkeys *k, const char *what, long long bind, const unsigned char *ct,
                size_t n, unsigned char **pt, size_t *pt_len)
{
    return idkeys_open_with(k, NULL, what, bind, ct, n, pt, pt_len);
}

int idkeys_sealed_id(const unsigned char *ct, size_t n)
{
    if (!ct || n < IDKEY_OVERHEAD || ct[0] != SEAL_VERSION)
        return -1;
    return ct[1];
}

int idkeys_open_with(const struct idkeys *k, struct idkeys_cipher *cc, const char *what,
                     long long bind, const unsigned char *ct, size_t n, unsigned char **pt,
                     size_t *pt_len)
{
    unsigned char aad[64], tag[16];
    int len = 0, rc = TL_EPARSE;
    *pt = NULL;
    *pt_len = 0;
    int id = idkeys_sealed_id(ct, n);
    if (id < 0)
        return TL_EPARSE;
    const unsigned char *key = key_of(k, id);
    if (!key || !k->gcm)
        return TL_ECONFIG;
    size_t m = n - IDKEY_OVERHEAD;
    unsigned char *b = malloc(m + 1);
    EVP_CIPHER_CTX *own = cc ? NULL : EVP_CIPHER_CTX_new(), *c = cc ? (EVP_CIPHER_CTX *)cc : own;
    if (!b || !c) {
        rc = TL_ENOMEM;
        goto out;
    }
    memcpy(tag, ct + 14 + m, 16);
    size_t an = aad_of(what, bind, aad, sizeof(aad));
    if (!cipher_init(c, k, key, ct + 2, 0) || EVP_DecryptUpdate(c, NULL, &len, aad, (int)an) != 1 ||
        EVP_DecryptUpdate(c, b, &len, ct + 14, (int)m) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
        EVP_DecryptFinal_ex(c, b + len, &len) != 1)
        goto out;
    b[m] = 0;
    *pt = b;
    *pt_len = m;
    b = NULL;
    rc = TL_OK;
out:
    EVP_CIPHER_CTX_free(own);
    if (b) {
        OPENSSL_cleanse(b, m);
        free(b);
    }
    return rc;
}

int idkeys_kcv(const struct idkeys *k, int id, unsigned char out[16])
{
    static const char label[] = "tipline key check v1";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    const unsigned char *key = id == 0 ? (k->has_lookup ? k->lookup : NULL) : key_of(k, id);
    if (!key)
        return TL_EINVAL;
    if (!HMAC(EVP_sha256(), key, 32, (const unsigned char *)label, strlen(label), mac, &mac_len))
        return TL_EIO;
    memcpy(out, mac, 16);
    return TL_OK;
}

/* One line "<id> <hex>" into *k; blank lines and comments are skipped (returns 0). */
static int parse_line(struct idkeys *k, char *line, const char *path, int lineno,
                      struct tl_errinfo *ei)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (!*line || *line == '#')
        return TL_OK;
    char *sp = strchr(line, ' ');
    long long id = 0;
    if (sp)
        *sp = 0;
    if (!sp || tl_parse_ll(line, &id) != TL_OK || id < 1 || id > 255)
        return tl_errf(ei, TL_ECONFIG,
                       "identity key file %s line %d: expected \"<id 1-255> <64 "
                       "hex digits>\"",
                       path, lineno);
    char *hex = sp + 1;
    size_t hl = strcspn(hex, " \t\r");
    if (hl != 64)
        return tl_errf(ei, TL_ECONFIG, "identity key file %s line %d: the key is not 64 hex digits",
                       path, lineno);
    if (key_of(k, (int)id))
        return tl_errf(ei, TL_ECONFIG, "identity key file %s line %d: key %lld twice", path, lineno,
                       id);
    if (k->n == IDKEY_MAX)
        return tl_errf(ei, TL_ECONFIG, "identity key file %s: more than %d keys (retire old ones)",
                       path, IDKEY_MAX);
    for (int i = 0; i < 32; i++) {
        int hi = tl_hexval(hex[2 * i]), lo = tl_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return tl_errf(ei, TL_ECONFIG, "identity key file %s line %d: not hex", path, lineno);
        k->key[k->n].k[i] = (unsigned char)(hi << 4 | lo);
    }
    k->key[k->n].id = (int)id;
    k->n++;
    return TL_OK;
}

int idkeys_load(struct idkeys *k, const char *path, struct tl_errinfo *ei)
{
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    int rc;
    k->n = 0;
    if (!path || !*path)
        return tl_errf(ei, TL_ECONFIG, "no identity_key_file configured (run: tipline keys new)");
    if (stat(path, &st) != 0)
        return tl_errf(ei, TL_ECONFIG,
                       "cannot read identity key file %s: %s (run: tipline keys "
                       "new)",
                       path, strerror(errno));
    if (st.st_mode & 007)
        return tl_errf(ei, TL_ECONFIG,
                       "identity key file %s may be read by any user (mode %03o): "
                       "chmod o-rwx it",
                       path, (unsigned)(st.st_mode & 0777));
    if ((rc = tl_read_file(path, 1 << 16, &text, &len)) != TL_OK)
        return tl_errf(ei, TL_ECONFIG, "cannot read identity key file %s: %s", path,
                       tl_strerror(rc));
    int lineno = 0;
    for (char *p = text, *nl; p && *p && rc == TL_OK; p = nl ? nl + 1 : NULL) {
        nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        rc = parse_line(k, p, path, ++lineno, ei);
    }
    OPENSSL_cleanse(text, len);
    free(text);
    if (rc == TL_OK && !k->n)
        rc = tl_errf(ei, TL_ECONFIG, "identity key file %s holds no key (run: tipline keys new)",
                     path);
    if (rc != TL_OK)
        k->n = 0;
    return rc;
}

int idkeys_generate(const char *path, int *new_id, struct tl_errinfo *ei)
{
    struct idkeys k = {0};
    unsigned char raw[32];
    char hex[65], line[96];
    int top = 0, rc;
    if (access(path, F_OK) == 0) {
        if ((rc = idkeys_load(&k, path, ei)) != TL_OK)
            return rc;
        for (size_t i = 0; i < k.n; i++)
            if (k.key[i].id > top)
                top = k.key[i].id;
        idkeys_clear(&k);
    }
    if (top >= 255)
        return tl_errf(ei, TL_ECONFIG, "identity key file %s: key ids are used up to 255", path);
    if ((rc = tl_random(raw, sizeof(raw))) != TL_OK)
        return tl_errf(ei, rc, "no randomness for the identity key");
    tl_hex(raw, sizeof(raw), hex);
    OPENSSL_cleanse(raw, sizeof(raw));
    int n = snprintf(line, sizeof(line), "%d %s\n", top + 1, hex);
    OPENSSL_cleanse(hex, sizeof(hex));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return tl_errf(ei, TL_EIO, "cannot open %s: %s", path, strerror(errno));
    ssize_t w = write(fd, line, (size_t)n);
    int synced = fsync(fd) == 0;
    OPENSSL_cleanse(line, sizeof(line));
    if (close(fd) != 0 || w != n || !synced)
        return tl_errf(ei, TL_EIO, "cannot write %s", path);
    if (new_id)
        *new_id = top + 1;
    return TL_OK;
}

int idkeys_keep_current(const char *path, const struct idkeys *k, struct tl_errinfo *ei)
{
    char hex[65], line[96], tmp[4096];
    struct stat st;
    if (!k->n)
        return tl_errf(ei, TL_ECONFIG, "no identity key loaded");
    if (stat(path, &st) != 0)
        return tl_errf(ei, TL_EIO, "cannot read %s: %s", path, strerror(errno));
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
        return tl_errf(ei, TL_EINVAL, "identity key file name too long");
    tl_hex(k->key[k->n - 1].k, 32, hex);
    int n = snprintf(line, sizeof(line), "%d %s\n", k->key[k->n - 1].id, hex);
    OPENSSL_cleanse(hex, sizeof(hex));
    unlink(tmp); /* left by an interrupted run */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        OPENSSL_cleanse(line, sizeof(line));
        return tl_errf(ei, TL_EIO, "cannot create %s: %s", tmp, strerror(errno));
    }
    /* the processes that read it (the bot's user) must still read it */
    int ok = (fchown(fd, st.st_uid, st.st_gid) == 0 || geteuid() == st.st_uid) &&
             fchmod(fd, st.st_mode & 0770) == 0;
    ok = ok && write(fd, line, (size_t)n) == n && fsync(fd) == 0;
    OPENSSL_cleanse(line, sizeof(line));
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return tl_errf(ei, TL_EIO, "cannot rewrite %s: %s", path, strerror(e));
    }
    return TL_OK;
}
