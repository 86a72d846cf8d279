/* common/utf8.h - the one check of outside text: is it well-formed UTF-8. */
#ifndef TL_UTF8_H
#define TL_UTF8_H

#include <stddef.h>

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence and no NUL byte;
 * else 0. */
int tl_utf8_valid(const char *s, size_t n);

#endif
