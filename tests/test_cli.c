/* tests/test_cli.c - cli/opt.c, the one option table of the commands: values stored,
 * arguments kept in order, every usage error named on stderr with exit code 2, and
 * --help generated from the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opt.h"
#include "common/util.h"

struct vals {
    int flag, open;
    const char *str;
    long long num;
    const char *list[2];
    size_t n;
};

/* Runs cli_parse on a copy of args (NULL-terminated, args[0] the command) with a table
 * of every kind; *out_text gets what it wrote on fd (1 or 2), *argc_out what is left. */
static int parse(const char *const *args, unsigned flags, struct vals *v, char ***left,
                 int *argc_out, int fd, char **out_text)
{
    const struct cli_opt opts[] = {
        CLI_FLAG("flag", &v->flag, 1, "a flag"),
        CLI_FLAG("closed", &v->open, 0, "sets open to 0"),
        CLI_FLAG("open", &v->open, 1, "sets open to 1"),
        CLI_STRING("str", "TEXT", &v->str, "a string\nover two lines"),
        CLI_INT("num", "N", &v->num, -5, 10000, "a number in -5..10000"),
        CLI_LIST("item", "X", v->list, &v->n, 2, "at most twice"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "test",
                                  .usage = "usage: tipline test [options] ARG...\n",
                                  .doc = "Tests the option table.\n",
                                  .opts = opts,
                                  .flags = flags,
                                  .max_args = -1};
    static char *argv[32];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    char path[] = "/tmp/tipline-cli-XXXXXX";
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    fflush(fd == 1 ? stdout : stderr);
    int saved = dup(fd);
    assert_true(dup2(tmp, fd) >= 0);
    int rc = cli_parse(&spec, &argc, argv);
    fflush(fd == 1 ? stdout : stderr);
    assert_true(dup2(saved, fd) >= 0);
    close(saved);
    close(tmp);
    size_t len;
    assert_int_equal(tl_read_file(path, 1 << 16, out_text, &len), TL_OK);
    unlink(path);
    *left = argv;
    *argc_out = argc;
    return rc;
}

static void test_cli_opt_values(void **state)
{
    (void)state;
    struct vals v = {0};
    v.open = 1;
    char **argv, *err;
    int argc;
    static const char *const a[] = {"test", "one",    "--flag", "--str=a=b", "-",    "--num",
                                    "-5",   "--item", "x",      "--closed",  "-1.5", "--item=y",
                                    "--",   "--flag", "-h",     NULL};
    assert_int_equal(parse(a, 0, &v, &argv, &argc, 2, &err), -1);
    assert_string_equal(err, "");
    free(err);
    assert_int_equal(v.flag, 1);
    assert_int_equal(v.open, 0);
    assert_string_equal(v.str, "a=b");
    assert_true(v.num == -5);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.list[0], "x");
    assert_string_equal(v.list[1], "y");
    /* the arguments, in order: "-" and a negative number are arguments; after "--"
     * everything is */
    static const char *const want[] = {"test", "one", "-", "-1.5", "--flag", "-h"};
    assert_int_equal(argc, 6);
    for (int i = 0; i < argc; i++)
        assert_string_equal(argv[i], want[i]);
}

static void test_cli_opt_stop_at_arg(void **state)
{
    (void)state;
    struct vals v = {0};
    char **argv, *err;
    int argc;
    static const char *const a[] = {"test", "--str", "s", "free", "text", "--flag", NULL};
    assert_int_equal(parse(a, CLI_STOP_AT_ARG, &v, &argv, &argc, 2, &err), -1);
    free(err);
    assert_string_equal(v.str, "s");
    assert_int_equal(v.flag, 0); /* after the first argument: text, not an option */
    assert_int_equal(argc, 4);
    assert_string_equal(argv[3], "--flag");
}

static void test_cli_opt_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args[5];
        const char *said;
    } cases[] = {
        {{"test", "--bogus", NULL}, "tipline test: unknown option '--bogus'"},
        {{"test", "--bogus=1", NULL}, "unknown option '--bogus'"},
        {{"test", "-x", NULL}, "unknown option '-x'"},
        {{"test", "--str", NULL}, "--str needs TEXT"},
        {{"test", "--num", "10001", NULL}, "--num takes -5..10000, not '10001'"},
        {{"test", "--num", "-6", NULL}, "--num takes -5..10000"},
        {{"test", "--num=7x", NULL}, "not '7x'"},
        {{"test", "--flag=1", NULL}, "--flag takes no value"},
        {{"test", "--item", "a", "--item=b", "--item=c"}, "--item is given at most 2 times"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vals v = {0};
        char **argv, *err;
        int argc;
        const char *args[6] = {0};
        memcpy(args, cases[i].args, sizeof(cases[i].args));
        assert_int_equal(parse(args, 0, &v, &argv, &argc, 2, &err), 2);
        if (!strstr(err, cases[i].said) || !strstr(err, "usage: tipline test"))
            fail_msg("case %zu: stderr '%s', want '%s' and the usage", i, err, cases[i].said);
        free(err);
    }
}

static void test_cli_opt_help(void **state)
{
    (void)state;
    struct vals v = {0};
    char **argv, *out;
    int argc;
    static const char *const a[] = {"test", "arg", "--help", "--bogus", NULL};
    assert_int_equal(parse(a, 0, &v, &argv, &argc, 1, &out), 0);
    static const char want[] = "usage: tipline test [options] ARG...\n"
                               "\n"
                               "Tests the option table.\n"
                               "\n"
                               "options:\n"
                               "  --flag      a flag\n"
                               "  --closed    sets open to 0\n"
                               "  --open      sets open to 1\n"
                               "  --str TEXT  a string\n"
                               "              over two lines\n"
                               "  --num N     a number in -5..10000\n"
                               "  --item X    at most twice\n"
                               "  --help      this text\n";
    assert_string_equal(out, want);
    free(out);
    static const char *const b[] = {"test", "-h", NULL};
    assert_int_equal(parse(b, 0, &v, &argv, &argc, 1, &out), 0);
    assert_string_equal(out, want);
    free(out);
}

/* The count of arguments besides the options: below min_args, above max_args, none
 * allowed. */
static void test_cli_opt_counts(void **state)
{
    (void)state;
    static const struct {
        int min, max;
        const char *args[4];
        int rc;
    } cases[] = {
        {1, 2, {"t", "a", NULL}, -1},
        {1, 2, {"t", "a", "b", NULL}, -1},
        {1, 2, {"t", NULL}, 2},
        {1, 2, {"t", "a", "b", "c"}, 2},
        {0, 0, {"t", NULL}, -1},
        {0, 0, {"t", "a", NULL}, 2},
        {0, -1, {"t", "a", "b", "c"}, -1},
        {2, -1, {"t", "a", NULL}, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cli_spec spec = {.cmd = "t",
                                      .usage = "usage: tipline t\n",
                                      .min_args = cases[i].min,
                                      .max_args = cases[i].max};
        char *argv[5] = {0};
        int argc = 0;
        for (; argc < 4 && cases[i].args[argc]; argc++)
            argv[argc] = (char *)cases[i].args[argc];
        int want_left = argc;
        if (cli_parse(&spec, &argc, argv) != cases[i].rc)
            fail_msg("case %zu: not %d", i, cases[i].rc);
        assert_int_equal(argc, want_left);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_opt_values), cmocka_unit_test(test_cli_opt_stop_at_arg),
        cmocka_unit_test(test_cli_opt_errors), cmocka_unit_test(test_cli_opt_help),
        cmocka_unit_test(test_cli_opt_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
