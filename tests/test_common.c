/* tests/test_common.c - common/: buffers, masking, config table, backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cfg.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/tz.h"
#include "common/util.h"

static void test_common_buf_limit(void **state)
{
    struct tl_buf b;
    tl_buf_init(&b, 8);
    assert_int_equal(tl_buf_append(&b, "12345678", 8), TL_OK);
    assert_int_equal(tl_buf_append(&b, "9", 1), TL_ETOOBIG);
    assert_string_equal((char *)b.data, "12345678");
    tl_buf_clear(&b);
    assert_int_equal(tl_buf_printf(&b, "%d-%s", 42, "x"), TL_OK);
    assert_string_equal((char *)b.data, "42-x");
    tl_buf_release(&b);
}

static void test_common_mask_secret(void **state)
{
    char *m = tl_mask_secret("https://api.telegram.org/bot123:ABC/getUpdates?x=123:ABC", "123:ABC");
    assert_string_equal(m, "https://api.telegram.org/bot***/getUpdates?x=***");
    free(m);
    m = tl_mask_secret("nothing here", "123:ABC");
    assert_string_equal(m, "nothing here");
    free(m);
}

static void test_common_parse_ll(void **state)
{
    long long v = 0;
    assert_int_equal(tl_parse_ll("-9007199254740993", &v), TL_OK);
    assert_true(v == -9007199254740993LL);
    assert_int_equal(tl_parse_ll("12x", &v), TL_EINVAL);
    assert_int_equal(tl_parse_ll("", &v), TL_EINVAL);
    assert_int_equal(tl_parse_ll("99999999999999999999", &v), TL_EINVAL);
}

static void test_common_utf8_prefix(void **state)
{
    const char *s = "Колона"; /* 2 bytes a letter */
    assert_int_equal(tl_utf8_prefix(s, 5), 4);
    assert_int_equal(tl_utf8_prefix(s, 4), 4);
    assert_int_equal(tl_utf8_prefix(s, 100), strlen(s));
    assert_int_equal(tl_utf8_prefix("ab✅", 3), 2); /* a 3-byte character is not split */
    assert_int_equal(tl_utf8_prefix("ab✅", 5), 5);
}

static void test_common_backoff_bounds(void **state)
{
    for (int a = 0; a < 30; a++) {
        long d = tl_backoff_ms(a, 200, 5000);
        assert_true(d >= 100 && d <= 5000);
    }
}

/* Replaces the file at path with text. */
static void write_conf(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_common_cfg_precedence(void **state)
{
    char path[] = "/tmp/tipline-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nworkers = 7\npoll_timeout=5\ntelegram_api_base = \"http://x\"\n");
    fclose(f);
    setenv("TIPLINE_POLL_TIMEOUT", "9", 1);
    struct cfg c;
    struct tl_errinfo ei;
    assert_int_equal(cfg_load(&c, path, &ei), TL_OK);
    assert_int_equal(c.workers, 7);      /* file over default */
    assert_int_equal(c.poll_timeout, 9); /* env over file */
    assert_string_equal(c.telegram_api_base, "http://x");
    cfg_release(&c);
    unsetenv("TIPLINE_POLL_TIMEOUT");

    write_conf(path, "workers = 65\n");
    assert_int_equal(cfg_load(&c, path, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "workers"));
    cfg_release(&c);
    write_conf(path, "no_such_key = 1\n");
    assert_int_equal(cfg_load(&c, path, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "no_such_key"));
    cfg_release(&c);

    /* the citizens' clock: a zone, loaded with the configuration; the fixed offset of
     * old is refused by name */
    write_conf(path, "workers = 1\n");
    assert_int_equal(cfg_load(&c, path, &ei), TL_OK);
    assert_string_equal(tl_tz_name(c.tz), "Europe/Kyiv");
    assert_int_equal(tl_tz_offset(c.tz, 1784115000), 3 * 3600); /* 2026-07-15 */
    cfg_release(&c);
    setenv("TIPLINE_TIME_ZONE", "America/New_York", 1);
    assert_int_equal(cfg_load(&c, path, &ei), TL_OK);
    assert_int_equal(tl_tz_offset(c.tz, 1784115000), -4 * 3600);
    cfg_release(&c);
    setenv("TIPLINE_TIME_ZONE", "Europe/Nowhere", 1);
    assert_int_equal(cfg_load(&c, path, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "Europe/Nowhere"));
    cfg_release(&c);
    unsetenv("TIPLINE_TIME_ZONE");
    write_conf(path, "local_utc_offset_min = 180\n");
    assert_int_equal(cfg_load(&c, path, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "time_zone"));
    cfg_release(&c);
    setenv("TIPLINE_LOCAL_UTC_OFFSET_MIN", "180", 1);
    assert_int_equal(cfg_load(&c, NULL, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "TIPLINE_TIME_ZONE"));
    cfg_release(&c);
    unsetenv("TIPLINE_LOCAL_UTC_OFFSET_MIN");
    unlink(path);
}

static void test_common_secret_generate(void **state)
{
    char path[] = "/tmp/tipline-key-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    struct tl_errinfo ei;
    assert_int_equal(cfg_secret_generate(path, &ei), TL_OK);
    struct cfg c;
    assert_int_equal(cfg_load(&c, NULL, &ei), TL_OK);
    free(c.secret_file);
    c.secret_file = tl_strdup(path);
    assert_int_equal(cfg_load_secrets(&c, 0, &ei), TL_OK);
    assert_int_equal(c.secret_len, 64);
    assert_int_equal(cfg_load_secrets(&c, 1, &ei), TL_ECONFIG); /* no token */
    cfg_release(&c);
    unlink(path);
}

static void test_common_hexval(void **state)
{
    (void)state;
    assert_int_equal(tl_hexval('0'), 0);
    assert_int_equal(tl_hexval('9'), 9);
    assert_int_equal(tl_hexval('a'), 10);
    assert_int_equal(tl_hexval('F'), 15);
    assert_int_equal(tl_hexval('g'), -1);
    assert_int_equal(tl_hexval('%'), -1);
    assert_int_equal(tl_hexval(-56), -1); /* a negative char (a UTF-8 byte) */
}

/* The published FNV-1a 32-bit vectors; the stepwise form agrees with the whole-range one. */
static void test_common_fnv1a_vectors(void **state)
{
    (void)state;
    assert_int_equal(tl_fnv1a("", 0), 0x811c9dc5u);
    assert_int_equal(tl_fnv1a("a", 1), 0xe40c292cu);
    assert_int_equal(tl_fnv1a("foobar", 6), 0xbf9cf968u);
    assert_int_equal(tl_fnv1a_str("foobar"), 0xbf9cf968u);
    assert_int_not_equal(tl_fnv1a("foo\0bar", 7), tl_fnv1a_str("foo"));
    uint32_t h = TL_FNV1A_INIT;
    for (const char *p = "foobar"; *p; p++)
        h = tl_fnv1a_step(h, (unsigned char)*p);
    assert_int_equal(h, 0xbf9cf968u);
}

/* SHA-256 (FIPS 180-2) and HMAC-SHA256 (RFC 4231 cases 1, 2 and 6: a key longer than
 * a block is hashed first) vectors, and keys of every length around the block agree
 * with OpenSSL's own HMAC() byte for byte. */
static void test_common_sha256_hmac_vectors(void **state)
{
    (void)state;
    unsigned char d[32], want[EVP_MAX_MD_SIZE], key[131];
    unsigned int wn = 0;
    char hx[65];
    assert_int_equal(tl_sha256("", 0, d), TL_OK);
    tl_hex(d, 32, hx);
    assert_string_equal(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(tl_sha256("abc", 3, d), TL_OK);
    tl_hex(d, 32, hx);
    assert_string_equal(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    memset(key, 0x0b, 20);
    assert_int_equal(tl_hmac_sha256(key, 20, "Hi There", 8, d), TL_OK);
    tl_hex(d, 32, hx);
    assert_string_equal(hx, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    assert_int_equal(tl_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d), TL_OK);
    tl_hex(d, 32, hx);
    assert_string_equal(hx, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    static const char big[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    memset(key, 0xaa, sizeof(key));
    assert_int_equal(tl_hmac_sha256(key, sizeof(key), big, sizeof(big) - 1, d), TL_OK);
    tl_hex(d, 32, hx);
    assert_string_equal(hx, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    for (size_t kl = 1; kl <= sizeof(key); kl++) {
        key[kl - 1] = (unsigned char)(kl * 7);
        assert_non_null(HMAC(EVP_sha256(), key, (int)kl, key, kl / 2, want, &wn));
        assert_int_equal(tl_hmac_sha256(key, kl, key, kl / 2, d), TL_OK);
        assert_int_equal(wn, 32);
        assert_memory_equal(d, want, 32);
    }
}

/* A TZif file of version 2 without transitions: one type (EET, +2) and a footer. */
static size_t tzif_slim(unsigned char *b, const char *footer)
{
    size_t n = 0;
    for (int part = 0; part < 2; part++) {
        static const unsigned char counts[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
        memcpy(b + n, "TZif2", 5);
        memset(b + n + 5, 0, 15);
        memcpy(b + n + 20, counts, 24);
        n += 44;
        static const unsigned char type[10] = {0, 0, 0x1c, 0x20, 0, 0, 'E', 'E', 'T', 0};
        memcpy(b + n, type, 10);
        n += 10;
    }
    b[n++] = '\n';
    memcpy(b + n, footer, strlen(footer));
    n += strlen(footer);
    b[n++] = '\n';
    return n;
}

/* Offsets from the system's Europe/Kyiv and from a footer-only file; the wall clock
 * read back across both switches; names and bytes that are refused. */
static void test_common_tz(void **state)
{
    (void)state;
    struct tl_tz *tz = NULL;
    struct tl_errinfo ei;
    const int64_t jul = 1784115000, jan = 1768480200; /* 2026-07-15, 2026-01-15 12:30Z */
    assert_int_equal(tl_tz_load("Europe/Kyiv", &tz, &ei), TL_OK);
    assert_string_equal(tl_tz_name(tz), "Europe/Kyiv");
    assert_int_equal(tl_tz_offset(tz, jul), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, jan), 2 * 3600);
    /* 2026-03-29 01:00Z and 2026-10-25 01:00Z, the switches, to the second */
    assert_int_equal(tl_tz_offset(tz, 1774746000 - 1), 2 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1774746000), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1792890000 - 1), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1792890000), 2 * 3600);
    /* 1985-07-01: Moscow summer time (+4), from the file's history */
    assert_int_equal(tl_tz_offset(tz, 489024000), 4 * 3600);
    for (int64_t t = 1792880000; t < 1792900000; t += 900)
        if (tl_tz_from_local(tz, t + tl_tz_offset(tz, t)) > t)
            fail_msg("the wall clock of %lld reads back later", (long long)t);
    tl_tz_free(tz);

    unsigned char b[256];
    size_t n = tzif_slim(b, "EET-2EEST,M3.5.0/3,M10.5.0/4");
    assert_int_equal(tl_tz_parse(b, n, &tz, &ei), TL_OK);
    assert_int_equal(tl_tz_offset(tz, jul), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, jan), 2 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1774746000 - 1), 2 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1774746000), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1792890000 - 1), 3 * 3600);
    assert_int_equal(tl_tz_offset(tz, 1792890000), 2 * 3600);
    tl_tz_free(tz);
    /* southern hemisphere: daylight time across the new year (Sydney) */
    n = tzif_slim(b, "AEST-10AEDT,M10.1.0,M4.1.0/3");
    assert_int_equal(tl_tz_parse(b, n, &tz, &ei), TL_OK);
    assert_int_equal(tl_tz_offset(tz, jan), 11 * 3600);
    assert_int_equal(tl_tz_offset(tz, jul), 10 * 3600);
    tl_tz_free(tz);
    /* a footer it does not read: the type in force stays (EET, +2) */
    n = tzif_slim(b, "EET-2EEST,J60,J300");
    assert_int_equal(tl_tz_parse(b, n, &tz, &ei), TL_OK);
    assert_int_equal(tl_tz_offset(tz, jul), 2 * 3600);
    tl_tz_free(tz);

    assert_int_equal(tl_tz_parse(b, 43, &tz, &ei), TL_EPARSE);
    assert_null(tz);
    b[44 + 10 + 23] = 200; /* the second header's isutcnt: past the end */
    assert_int_equal(tl_tz_parse(b, n, &tz, &ei), TL_EPARSE);
    assert_int_equal(tl_tz_load("../../etc/passwd", &tz, &ei), TL_ECONFIG);
    assert_int_equal(tl_tz_load("/etc/localtime", &tz, &ei), TL_ECONFIG);
    assert_int_equal(tl_tz_load("Mars/Olympus_Mons", &tz, &ei), TL_ECONFIG);
    assert_null(tz);
    assert_int_equal(tl_tz_load("UTC", &tz, &ei), TL_OK);
    assert_int_equal(tl_tz_offset(tz, jul), 0);
    assert_int_equal(tl_tz_from_local(tz, jul), jul);
    tl_tz_free(tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_buf_limit),
        cmocka_unit_test(test_common_mask_secret),
        cmocka_unit_test(test_common_parse_ll),
        cmocka_unit_test(test_common_utf8_prefix),
        cmocka_unit_test(test_common_backoff_bounds),
        cmocka_unit_test(test_common_cfg_precedence),
        cmocka_unit_test(test_common_secret_generate),
        cmocka_unit_test(test_common_hexval),
        cmocka_unit_test(test_common_fnv1a_vectors),
        cmocka_unit_test(test_common_tz),
        cmocka_unit_test(test_common_sha256_hmac_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
