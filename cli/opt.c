/* cli/opt.c - the option table's parser and its generated --help. */
#include "opt.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "common/util.h"
#include "common/banned.h"

#define HELP_COL_MAX 26

void cli_help(const struct cli_spec *s, FILE *f)
{
    fputs(s->usage, f);
    if (s->doc)
        fprintf(f, "\n%s", s->doc);
    size_t col = strlen("--help");
    for (const struct cli_opt *o = s->opts; o && o->kind != CLI_OPT_END; o++) {
        size_t w = 2 + strlen(o->name) + (o->arg ? 1 + strlen(o->arg) : 0);
        if (w > col)
            col = w;
    }
    col = col + 2 > HELP_COL_MAX ? HELP_COL_MAX : col + 2;
    fputs("\noptions:\n", f);
    for (const struct cli_opt *o = s->opts; o && o->kind != CLI_OPT_END; o++) {
        int w = fprintf(f, "  --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        if (w < 0)
            return;
        if ((size_t)w - 2 >= col)
            fprintf(f, "\n%*s", (int)col + 2, "");
        else
            fprintf(f, "%*s", (int)(col + 2 - (size_t)w), "");
        for (const char *h = o->help ? o->help : ""; *h; h++) {
            fputc(*h, f);
            if (*h == '\n' && h[1])
                fprintf(f, "%*s", (int)col + 2, "");
        }
        fputc('\n', f);
    }
    fprintf(f, "  --help%*sthis text\n", (int)(col - strlen("--help")), "");
    if (s->more)
        s->more(f);
}

int cli_usage_error(const struct cli_spec *s, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "tipline%s%s: ", *s->cmd ? " " : "", s->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(s->usage, stderr);
    return 2;
}

static const struct cli_opt *find(const struct cli_spec *s, const char *name, size_t n)
{
    for (const struct cli_opt *o = s->opts; o && o->kind != CLI_OPT_END; o++)
        if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
            return o;
    return NULL;
}

/* An argument rather than an option: "-", a negative number, or no leading '-'. */
static int is_arg(const char *a)
{
    return a[0] != '-' || a[1] == 0 || (a[1] >= '0' && a[1] <= '9') || a[1] == '.';
}

static int store(const struct cli_spec *s, const struct cli_opt *o, const char *v)
{
    long long n;
    switch (o->kind) {
    case CLI_OPT_STRING:
        *o->str = v;
        return -1;
    case CLI_OPT_INT:
        if (tl_parse_ll(v, &n) != TL_OK || n < o->min || n > o->max) {
            if (o->max == LLONG_MAX)
                return cli_usage_error(s, "--%s takes a whole number of at least %lld, not '%s'",
                                       o->name, o->min, v);
            return cli_usage_error(s, "--%s takes %lld..%lld, not '%s'", o->name, o->min, o->max,
                                   v);
        }
        *o->num = n;
        return -1;
    case CLI_OPT_LIST:
        if (*o->count >= (size_t)o->max)
            return cli_usage_error(s, "--%s is given at most %lld times", o->name, o->max);
        o->list[(*o->count)++] = v;
        return -1;
    default:
        return cli_usage_error(s, "--%s takes no value", o->name);
    }
}

int cli_parse(const struct cli_spec *s, int *argc, char **argv)
{
    int n = *argc, kept = 1, i = 1, rc;
    for (; i < n; i++) {
        char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (is_arg(a)) {
            if (s->flags & CLI_STOP_AT_ARG)
                break;
            argv[kept++] = a;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_help(s, stdout);
            return 0;
        }
        if (a[1] != '-')
            return cli_usage_error(s, "unknown option '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const struct cli_opt *o = find(s, name, nl);
        if (!o)
            return cli_usage_error(s, "unknown option '--%.*s'", (int)nl, name);
        if (o->kind == CLI_OPT_FLAG) {
            if (eq)
                return cli_usage_error(s, "--%s takes no value", o->name);
            *o->flag = o->set;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= n)
                return cli_usage_error(s, "--%s needs %s", o->name, o->arg ? o->arg : "a value");
            v = argv[++i];
        }
        if ((rc = store(s, o, v)) >= 0)
            return rc;
    }
    for (; i < n; i++)
        argv[kept++] = argv[i];
    *argc = kept;
    if (kept - 1 < s->min_args)
        return cli_usage_error(s, kept == 1 ? "arguments missing" : "too few arguments");
    if (s->max_args >= 0 && kept - 1 > s->max_args)
        return cli_usage_error(s, s->max_args ? "too many arguments" : "takes no arguments");
    return -1;
}
