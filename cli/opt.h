/* cli/opt.h - the one option table of the tipline commands, in the manner of git's
 * parse-options: each command declares its options once (name, value's name, where the
 * value goes, help), and the parser, the error messages and --help all come from that
 * table. Long options only ("--name VALUE" or "--name=VALUE"); "-h" is --help; "--"
 * ends the options; "-" and "-5" (a negative number) are arguments, not options. */
#ifndef TL_CLI_OPT_H
#define TL_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

enum cli_opt_kind {
    CLI_OPT_END = 0,
    CLI_OPT_FLAG,   /* --name: *flag = set */
    CLI_OPT_STRING, /* --name VALUE: *str = VALUE (borrowed from argv) */
    CLI_OPT_INT,    /* --name N: *num = N, checked against [min, max] */
    CLI_OPT_LIST,   /* --name VALUE, repeatable: list[(*count)++] = VALUE, at most max */
};

struct cli_opt {
    enum cli_opt_kind kind;
    const char *name; /* without the dashes */
    const char *arg;  /* the value's name in --help ("FILE"); NULL for a flag */
    int *flag;
    int set;
    const char **str;
    long long *num;
    long long min, max;
    const char **list;
    size_t *count;
    const char *help; /* may hold '\n' for more lines */
};

#define CLI_FLAG(n, v, s, h)                                                                       \
    {                                                                                              \
        .kind = CLI_OPT_FLAG, .name = (n), .flag = (v), .set = (s), .help = (h)                    \
    }
#define CLI_STRING(n, a, v, h)                                                                     \
    {                                                                                              \
        .kind = CLI_OPT_STRING, .name = (n), .arg = (a), .str = (v), .help = (h)                   \
    }
#define CLI_INT(n, a, v, lo, hi, h)                                                                \
    {                                                                                              \
        .kind = CLI_OPT_INT, .name = (n), .arg = (a), .num = (v), .min = (lo), .max = (hi),        \
        .help = (h)                                                                                \
    }
#define CLI_LIST(n, a, v, cnt, cap, h)                                                             \
    {                                                                                              \
        .kind = CLI_OPT_LIST, .name = (n), .arg = (a), .list = (v), .count = (cnt), .max = (cap),  \
        .help = (h)                                                                                \
    }
#define CLI_END                                                                                    \
    {                                                                                              \
        .kind = CLI_OPT_END                                                                        \
    }

enum cli_spec_flags {
    CLI_STOP_AT_ARG = 1 << 0, /* the first argument ends the options (the rest is text) */
};

struct cli_spec {
    const char *cmd;            /* named in messages: "tipline CMD: ..." */
    const char *usage;          /* "usage: tipline ..." lines, each ending in '\n' */
    const char *doc;            /* what the command does (--help only); NULL: none */
    const struct cli_opt *opts; /* ends with CLI_END; NULL: no options */
    unsigned flags;             /* enum cli_spec_flags */
    void (*more)(FILE *f);      /* printed at the end of --help; NULL: nothing */
    int min_args, max_args;     /* how many arguments besides the options; max -1: any */
};

/* Parses argv[1..*argc-1] (argv[0] is the command's name) by s: each option stores its
 * value, and the arguments that are not options stay in argv[1..*argc-1], in order.
 * Returns -1 when the command should go on, else the exit code it must return: 0 after
 * --help (printed on stdout), 2 after a usage error (said on stderr, with the usage),
 * among them a count of arguments outside [min_args, max_args]. */
int cli_parse(const struct cli_spec *s, int *argc, char **argv);

/* The usage lines, the description and the options with their help, on f. */
void cli_help(const struct cli_spec *s, FILE *f);

/* A usage error: "tipline CMD: <message>" and the usage lines on stderr; returns 2. */
int cli_usage_error(const struct cli_spec *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
