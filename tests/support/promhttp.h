/* tests/support/promhttp.h - what the operations tests share: one HTTP request to a
 * server on loopback (libcurl) and reading samples out of a Prometheus text body. */
#ifndef TL_PROMHTTP_H
#define TL_PROMHTTP_H

#include "common/util.h"

struct ts_hres {
    long status;
    struct tl_buf body; /* NUL-terminated; tl_buf_release() */
    char ctype[128];
};

/* One request to http://127.0.0.1:port/path with a bearer token (NULL: none); body NULL:
 * GET, else a POST of JSON. Aborts the test when the request cannot be made. */
struct ts_hres ts_http(unsigned port, const char *path, const char *token, const char *body);

/* The value of the sample written exactly as key ("name" or "name{labels}") in a
 * Prometheus text body; fails the test when it is absent or not a number. Checks the
 * text format on the way: every line a comment or "key value", one sample per key. */
double ts_prom_sample(const char *text, const char *key);

/* 1 when the body has a sample of the metric name (any labels; a histogram's _bucket,
 * _sum and _count count as its name). */
int ts_prom_has(const char *text, const char *name);

/* Runs promtool check metrics on text when promtool is installed (Debian's prometheus);
 * fails the test on a complaint. Says so on stderr when it is missing. */
void ts_promtool_check(const char *text);

#endif
