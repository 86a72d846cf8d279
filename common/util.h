/* common/util.h - small helpers every folder shares: growable buffers, string
 * duplication, time, interruptible sleep, secret masking. */
#ifndef TL_UTIL_H
#define TL_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A growable byte buffer. Embedded: tl_buf_init / tl_buf_release / tl_buf_clear.
 * data is always NUL-terminated (len excludes the NUL) once anything was added. */
struct tl_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 = unlimited; appends past max fail with TL_ETOOBIG */
};

void tl_buf_init(struct tl_buf *b, size_t max);
void tl_buf_release(struct tl_buf *b);
void tl_buf_clear(struct tl_buf *b);
int tl_buf_append(struct tl_buf *b, const void *p, size_t n) TL_WUR;
int tl_buf_printf(struct tl_buf *b, const char *fmt, ...) TL_WUR
    __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free with free()); the buffer is left empty. */
unsigned char *tl_buf_steal(struct tl_buf *b, size_t *len);

/* Returns a new string; free with free(). NULL on allocation failure or NULL s. */
char *tl_strdup(const char *s);
char *tl_strndup(const char *s, size_t n);
/* Returns a new formatted string; free with free(). */
char *tl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copies src into dst of size n, always NUL-terminating; returns strlen(src). */
size_t tl_strlcpy(char *dst, const char *src, size_t n);

/* The length in bytes of the longest prefix of s, at most max bytes, that ends on a
 * UTF-8 character boundary (so a cut never splits a character). */
size_t tl_utf8_prefix(const char *s, size_t max);

/* The decimal digits of v into out, NUL-terminated (a row's numbers without snprintf);
 * returns their count. */
size_t tl_lltoa(long long v, char out[24]);

/* Strict integer parse of the whole string; TL_EINVAL on junk or overflow. */
int tl_parse_ll(const char *s, long long *out) TL_WUR;

/* Returns a copy of s with every occurrence of secret replaced by "***";
 * free with free(). Used on URLs and curl error texts before they reach a log. */
char *tl_mask_secret(const char *s, const char *secret);

/* Monotonic milliseconds. */
int64_t tl_now_ms(void);
/* Wall-clock seconds since the epoch, with fraction. */
double tl_wall_time(void);

/* Sleeps up to ms milliseconds, waking early (returns TL_ESTOP) when *stop is set.
 * stop may be NULL. */
int tl_sleep_ms(long ms, volatile sig_atomic_t *stop);

/* Backoff with full jitter: a random delay in [base/2, min(cap, base*2^attempt)]. */
long tl_backoff_ms(int attempt, long base_ms, long cap_ms);

/* Reads a whole file (at most max bytes, else TL_ETOOBIG) into *out (free with free()),
 * NUL-terminated; *len excludes the NUL. */
int tl_read_file(const char *path, size_t max, char **out, size_t *len) TL_WUR;

/* Lower-case hex of n bytes into out (size 2n+1). */
void tl_hex(const unsigned char *in, size_t n, char *out);
/* The value of one hex digit (either case), -1 when c is none. */
int tl_hexval(int c);

/* Cryptographically random bytes (OpenSSL RAND_bytes); TL_EIO on failure. */
int tl_random(void *buf, size_t n) TL_WUR;

#endif
