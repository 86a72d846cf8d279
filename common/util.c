/* common/util.c - buffers, strings, time, masking. */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"

void tl_buf_init(struct tl_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void tl_buf_release(struct tl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void tl_buf_clear(struct tl_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

static int buf_reserve(struct tl_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return TL_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (b->max && need - 1 > b->max)
        return TL_ETOOBIG;
    if (need <= b->cap)
        return TL_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p)
        return TL_ENOMEM;
    b->data = p;
    b->cap = cap;
    return TL_OK;
}

int tl_buf_append(struct tl_buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return TL_OK;
}

int tl_buf_printf(struct tl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TL_EINVAL;
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TL_OK;
}

unsigned char *tl_buf_steal(struct tl_buf *b, size_t *len)
{
    unsigned char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

char *tl_strdup(const char *s)
{
    return s ? tl_strndup(s, strlen(s)) : NULL;
}

char *tl_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *tl_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t tl_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = 0;
    }
    return len;
}

size_t tl_utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    /* back off continuation bytes (binary 10......) to the start of the cut character */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

size_t tl_lltoa(long long v, char out[24])
{
    char tmp[24];
    size_t n = 0, o = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        tmp[n++] = (char)('0' + u % 10);
    while ((u /= 10));
    if (v < 0)
        out[o++] = '-';
    while (n)
        out[o++] = tmp[--n];
    out[o] = 0;
    return o;
}

int tl_parse_ll(const char *s, long long *out)
{
    if (!s || !*s)
        return TL_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return TL_EINVAL;
    *out = v;
    return TL_OK;
}

char *tl_mask_secret(const char *s, const char *secret)
{
    if (!s)
        return NULL;
    size_t sl = secret ? strlen(secret) : 0;
    if (sl == 0)
        return tl_strdup(s);
    struct tl_buf b;
    tl_buf_init(&b, 0);
    const char *p = s, *hit;
    while ((hit = strstr(p, secret)) != NULL) {
        if (tl_buf_append(&b, p, (size_t)(hit - p)) || tl_buf_append(&b, "***", 3))
            goto fail;
        p = hit + sl;
    }
    if (tl_buf_append(&b, p, strlen(p)))
        goto fail;
    return (char *)tl_buf_steal(&b, NULL);
fail:
    tl_buf_release(&b);
    return NULL;
}

int64_t tl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double tl_wall_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int tl_sleep_ms(long ms, volatile sig_atomic_t *stop)
{
    while (ms > 0) {
        if (stop && *stop)
            return TL_ESTOP;
        long step = ms > 50 ? 50 : ms;
        struct timespec ts = {step / 1000, (step % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return (stop && *stop) ? TL_ESTOP : TL_OK;
}

long tl_backoff_ms(int attempt, long base_ms, long cap_ms)
{
    if (attempt < 0)
        attempt = 0;
    if (attempt > 20)
        attempt = 20;
    long hi = base_ms;
    for (int i = 0; i < attempt && hi < cap_ms; i++)
        hi *= 2;
    if (hi > cap_ms)
        hi = cap_ms;
    long lo = base_ms / 2;
    if (hi <= lo)
        return hi;
    uint32_t r = 0;
    if (tl_random(&r, sizeof(r)))
        r = (uint32_t)tl_now_ms();
    return lo + (long)(r % (uint32_t)(hi - lo + 1));
}

int tl_read_file(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? TL_ENOTFOUND : TL_EIO;
    struct tl_buf b;
    tl_buf_init(&b, max);
    char chunk[65536];
    size_t n;
    int rc = TL_OK;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if ((rc = tl_buf_append(&b, chunk, n)) != TL_OK)
            goto out;
    if (ferror(f)) {
        rc = TL_EIO;
        goto out;
    }
    if ((rc = tl_buf_append(&b, "", 0)) != TL_OK)
        goto out;
    *out = (char *)tl_buf_steal(&b, len);
out:
    fclose(f);
    tl_buf_release(&b);
    return rc;
}

void tl_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

int tl_random(void *buf, size_t n)
{
    if (n > INT_MAX)
        return TL_EINVAL;
    return RAND_bytes(buf, (int)n) == 1 ? TL_OK : TL_EIO;
}

int tl_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
