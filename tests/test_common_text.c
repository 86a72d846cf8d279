/* tests/test_common_text.c - common/utf8 (tl_utf8_valid against a reference decoder, over
 * every sequence of one to three bytes and every four-byte one that starts F0..F7) and
 * common/log (each place a value can stand, escaped so that it stays one field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/utf8.h"

/* The reference: decodes by the bit patterns, then refuses what RFC 3629 forbids (a
 * longer form than needed, a surrogate, above U+10FFFF, NUL). 1 when s[0..n) is one
 * well-formed character. */
static int one_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0], cp, need;
    if (c < 0x80)
        return n == 1 && c != 0;
    if ((c & 0xE0) == 0xC0)
        need = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        need = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        need = 4, cp = c & 0x07;
    else
        return 0;
    if (n != need)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
    return cp >= least[need] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

static void test_common_utf8_every_sequence(void **state)
{
    (void)state;
    unsigned char b[4];
    unsigned long checked = 0, valid = 0;
    for (unsigned x = 0; x < 0x100; x++) {
        b[0] = (unsigned char)x;
        assert_int_equal(tl_utf8_valid((char *)b, 1), one_char(b, 1));
        for (unsigned y = 0; y < 0x100; y++) {
            b[1] = (unsigned char)y;
            int v2 = tl_utf8_valid((char *)b, 2);
            /* two bytes: two characters, or one */
            if (v2 != ((one_char(b, 1) && one_char(b + 1, 1)) || one_char(b, 2)))
                fail_msg("%02x %02x: %d", x, y, v2);
            if (x < 0xE0 || x > 0xF7)
                continue; /* longer sequences only after a lead byte of three or four */
            for (unsigned z = 0; z < 0x100; z++) {
                b[2] = (unsigned char)z;
                if (x < 0xF0) {
                    if (tl_utf8_valid((char *)b, 3) != one_char(b, 3))
                        fail_msg("%02x %02x %02x", x, y, z);
                    checked++;
                    valid += one_char(b, 3);
                    continue;
                }
                for (unsigned w = 0; w < 0x100; w++) {
                    b[3] = (unsigned char)w;
                    if (tl_utf8_valid((char *)b, 4) != one_char(b, 4))
                        fail_msg("%02x %02x %02x %02x", x, y, z, w);
                    checked++;
                    valid += one_char(b, 4);
                }
            }
        }
    }
    /* U+0800..U+FFFF less the surrogates, and U+10000..U+10FFFF */
    assert_int_equal(valid, (0x10000 - 0x800 - 0x800) + 0x100000);
    assert_true(checked > 100000000);
}

static void test_common_utf8_named_cases(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        int ok;
    } cases[] = {
        {"", 0, 1},
        {"plain ascii", 11, 1},
        {"\xd0\xba\xd0\xbe\xd0\xbb\xd0\xbe\xd0\xbd\xd0\xb0", 12, 1}, /* колона */
        {"\xf0\x9f\x9a\x81", 4, 1},                                  /* U+1F681 */
        {"\xf4\x8f\xbf\xbf", 4, 1},                                  /* U+10FFFF */
        {"\xef\xbb\xbf", 3, 1},                                      /* U+FEFF */
        {"\xed\xa0\x80", 3, 0},                                      /* U+D800 */
        {"\xed\xbf\xbf", 3, 0},                                      /* U+DFFF */
        {"\xc0\xaf", 2, 0},                                          /* overlong '/' */
        {"\xc1\xbf", 2, 0},
        {"\xe0\x80\xaf", 3, 0},
        {"\xf0\x80\x80\xaf", 4, 0},
        {"\xf4\x90\x80\x80", 4, 0}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, 0},
        {"\xff", 1, 0},
        {"\x80", 1, 0},
        {"ok\xe2\x82", 4, 0}, /* cut short */
        {"a\0b", 3, 0},       /* NUL */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (tl_utf8_valid(cases[i].s, cases[i].n) != cases[i].ok)
            fail_msg("case %zu: want %d", i, cases[i].ok);
}

/* What log_write printed for one call, without the "ts=... " prefix. */
static char *logged(void (*emit)(void))
{
    FILE *f = tmpfile();
    assert_non_null(f);
    log_set_stream(f);
    emit();
    log_set_stream(NULL);
    long n = ftell(f);
    char *text = calloc(1, (size_t)n + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    char *sp = strchr(text, ' ');
    assert_non_null(sp);
    memmove(text, sp + 1, strlen(sp + 1) + 1);
    return text;
}

static const char evil[] = "x\" level=error y=\"z\n\\";
static void emit_msg(void)
{
    log_info("bad %s", evil);
}
static void emit_bare(void)
{
    log_info("ok v=%s empty=%s plain=%s n=%d", evil, "", "abc", -3);
}
static void emit_quoted(void)
{
    log_info("ok v=\"%.*s\" w=\"%s\"", 6, evil, "tab\there");
}
static void emit_inside(void)
{
    log_info("ok v=<%s> u=%lld%s", evil, 5LL, " s");
}

static void test_common_log_quoting(void **state)
{
    (void)state;
    static const struct {
        void (*emit)(void);
        const char *want;
    } cases[] = {
        {emit_msg, "level=info msg=\"bad x\\\" level=error y=\\\"z\\n\\\\\"\n"},
        {emit_bare, "level=info msg=\"ok\" v=\"x\\\" level=error y=\\\"z\\n\\\\\" empty=\"\" "
                    "plain=abc n=-3\n"},
        {emit_quoted, "level=info msg=\"ok\" v=\"x\\\" lev\" w=\"tab\\there\"\n"},
        {emit_inside, "level=info msg=\"ok\" v=<x\\x22\\x20level\\x3derror\\x20y\\x3d\\x22z\\x0a"
                      "\\x5c> u=5\\x20s\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = logged(cases[i].emit);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static char quotes[3000];
static void emit_long(void)
{
    log_info("ok a=\"%s\" b=%s c=1", quotes, quotes);
}
static void emit_long_msg(void)
{
    log_info("%s", quotes);
}

/* Text of escaped quotes only (\" pairs), closed by one quote and the newline. */
static void assert_escaped_then_closed(const char *s)
{
    size_t n = strlen(s);
    assert_true(n > 1000);
    for (size_t i = 0; i + 2 < n; i += 2)
        if (s[i] != '\\' || s[i + 1] != '"')
            fail_msg("at %zu of %zu: %.10s", i, n, s + i);
    assert_true(n % 2 == 0);
    assert_string_equal(s + n - 2, "\"\n");
}

/* A line too long is cut between two escapes, and the quote the cut left open is closed:
 * the next line (and field) starts clean. */
static void test_common_log_cut_closes(void **state)
{
    (void)state;
    memset(quotes, '"', sizeof(quotes) - 1);
    char *got = logged(emit_long);
    const char *head = "level=info msg=\"ok\" a=\"";
    assert_int_equal(strncmp(got, head, strlen(head)), 0);
    assert_escaped_then_closed(got + strlen(head));
    free(got);
    got = logged(emit_long_msg);
    head = "level=info msg=\"";
    assert_int_equal(strncmp(got, head, strlen(head)), 0);
    assert_escaped_then_closed(got + strlen(head));
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_utf8_every_sequence),
        cmocka_unit_test(test_common_utf8_named_cases),
        cmocka_unit_test(test_common_log_quoting),
        cmocka_unit_test(test_common_log_cut_closes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
