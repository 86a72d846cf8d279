/* tests/support/promhttp.c - loopback HTTP and Prometheus text for the operations tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "promhttp.h"
#include "testsupport.h"

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    return tl_buf_append(ud, p, sz * n) ? 0 : sz * n;
}

struct ts_hres ts_http(unsigned port, const char *path, const char *token, const char *body)
{
    struct ts_hres r = {0};
    tl_buf_init(&r.body, 8u << 20);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char *url = tl_asprintf("http://127.0.0.1:%u%s", port, path);
    struct curl_slist *h = NULL;
    char *auth = token ? tl_asprintf("Authorization: Bearer %s", token) : NULL;
    if (auth)
        h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    tl_strlcpy(r.ctype, ct ? ct : "", sizeof(r.ctype));
    assert_int_equal(tl_buf_append(&r.body, "", 0), 0);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(auth);
    free(url);
    return r;
}

double ts_prom_sample(const char *text, const char *key)
{
    const char *p = text;
    int found = 0;
    double v = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        assert_non_null(e); /* every line ends with a newline */
        size_t n = (size_t)(e - p);
        if (n && p[0] != '#') {
            const char *sp = memchr(p, ' ', n);
            assert_non_null(sp);
            char *end = NULL;
            double x = strtod(sp + 1, &end);
            assert_true(end == e); /* the value is the rest of the line */
            if ((size_t)(sp - p) == strlen(key) && memcmp(p, key, strlen(key)) == 0) {
                assert_false(found); /* one sample per name and labels */
                found = 1;
                v = x;
            }
        }
        p = e + 1;
    }
    if (!found)
        fail_msg("no sample %s in the metrics", key);
    return v;
}

int ts_prom_has(const char *text, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        if (!e)
            break;
        if (p[0] != '#' && strncmp(p, name, len) == 0) {
            const char *rest = p + len;
            if (*rest == ' ' || *rest == '{' || strncmp(rest, "_bucket{", 8) == 0 ||
                strncmp(rest, "_sum ", 5) == 0 || strncmp(rest, "_count ", 7) == 0)
                return 1;
        }
        p = e + 1;
    }
    return 0;
}

void ts_promtool_check(const char *text)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0) {
        fprintf(stderr, "promtool is missing: the text format is checked by this test only\n");
        return;
    }
    char path[] = "/tmp/tipline-metrics-XXXXXX";
    close(mkstemp(path));
    assert_int_equal(ts_write_file(path, text), 0);
    char *cmd = tl_asprintf("promtool check metrics < %s >&2", path);
    int rc = system(cmd);
    free(cmd);
    unlink(path);
    assert_int_equal(rc, 0);
}
