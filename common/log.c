/* common/log.c - structured stderr logging, one logfmt line per event.
 *
 * log_write formats the caller's printf-style format itself, conversion by conversion,
 * so that it knows where each value lands: text inside quotes (msg="..." or
 * key="%s") has '"', '\' and control characters escaped; a value that stands alone
 * (key=%s) is quoted when it holds a space, '"', '=', '\' or a control character (or is
 * empty); text in the middle of a bare value escapes those as \xNN. No value, however
 * it was built, can end its field and start another. */
#include "log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "banned.h"

int log_level = LOG_INFO;
static FILE *log_stream;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void log_set_stream(void *file)
{
    log_stream = file;
}

/* A bounded line being written. What does not fit is cut, never inside an escape, and a
 * quote left open by the cut is still closed: one byte stays free for it. */
struct line {
    char *p;
    size_t n, cap;
    int cut;  /* something did not fit: nothing more is written */
    int open; /* a quote is open in what was written */
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->cut || l->n + n + 2 > l->cap) {
        l->cut = 1;
        return;
    }
    memcpy(l->p + l->n, s, n);
    l->n += n;
    l->p[l->n] = 0;
}

/* Opens (or closes) a quote; a closing one uses the byte kept free. */
static void put_quote(struct line *l, int open)
{
    if (open) {
        put(l, "\"", 1);
        l->open = !l->cut;
    } else if (l->open) {
        l->p[l->n++] = '"';
        l->p[l->n] = 0;
        l->open = 0;
    }
}

enum ctx { C_QUOTED, C_BARE, C_INSIDE };

static int special(unsigned char c)
{
    return c < 0x20 || c == 0x7f || c == ' ' || c == '"' || c == '=' || c == '\\';
}

/* Writes s[0..n) as text in context x (see the file's comment). */
static void put_text(struct line *l, const char *s, size_t n, enum ctx x)
{
    int quote = 0;
    if (x == C_BARE) {
        quote = n == 0;
        for (size_t i = 0; i < n && !quote; i++)
            quote = special((unsigned char)s[i]);
        if (quote) {
            put_quote(l, 1);
            x = C_QUOTED;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[8];
        if (x == C_QUOTED && (c == '"' || c == '\\')) {
            e[0] = '\\';
            e[1] = (char)c;
            put(l, e, 2);
        } else if (x == C_QUOTED && (c == '\n' || c == '\t' || c == '\r')) {
            e[0] = '\\';
            e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            put(l, e, 2);
        } else if (x == C_QUOTED ? c < 0x20 || c == 0x7f : special(c)) {
            snprintf(e, sizeof(e), "\\x%02x", c);
            put(l, e, 4);
        } else {
            put(l, (const char *)&s[i], 1);
        }
    }
    if (quote)
        put_quote(l, 0);
}

/* Where the msg part of fmt ends: at the first " key=" (key of a-z, 0-9, _). */
static const char *msg_end(const char *fmt)
{
    for (const char *p = fmt; (p = strchr(p, ' ')) != NULL; p++) {
        const char *q = p + 1;
        while ((*q >= 'a' && *q <= 'z') || *q == '_' || (*q >= '0' && *q <= '9'))
            q++;
        if (*q == '=' && q > p + 1)
            return p;
    }
    return fmt + strlen(fmt);
}

/* One numeric conversion, spec as the caller wrote it (checked against its arguments by
 * the format attribute of log_write at compile time), into out. Returns the length. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int put_number(char *out, size_t n, const char *spec, const char *len, char conv,
                      int star[2], int nstar, va_list *ap)
{
    int a = star[0], b = star[1];
#define NUM(T)                                                                                     \
    do {                                                                                           \
        T v = va_arg(*ap, T);                                                                      \
        return nstar == 2 ? snprintf(out, n, spec, a, b, v)                                        \
               : nstar    ? snprintf(out, n, spec, a, v)                                           \
                          : snprintf(out, n, spec, v);                                                \
    } while (0)
    if (strchr("diouxXc", conv)) {
        int uns = conv != 'd' && conv != 'i' && conv != 'c';
        if (strcmp(len, "ll") == 0) {
            if (uns)
                NUM(unsigned long long);
            NUM(long long);
        }
        if (strcmp(len, "l") == 0) {
            if (uns)
                NUM(unsigned long);
            NUM(long);
        }
        if (strcmp(len, "z") == 0 || strcmp(len, "t") == 0)
            NUM(size_t);
        if (strcmp(len, "j") == 0)
            NUM(long long);
        if (uns)
            NUM(unsigned);
        NUM(int);
    }
    if (conv == 'p')
        NUM(void *);
    if (strcmp(len, "L") == 0)
        NUM(long double);
    NUM(double);
#undef NUM
}
#pragma GCC diagnostic pop

/* Formats fmt into l (msg: the text before the first " key=", without its quotes, goes to
 * m instead), escaping each %s and %c by where it stands. */
static void format(struct line *m, struct line *l, const char *fmt, va_list *ap)
{
    const char *me = msg_end(fmt);
    int inq = 0; /* inside quotes the format opened after msg */
    for (const char *p = fmt; *p;) {
        int in_msg = p < me;
        struct line *o = in_msg ? m : l;
        if (*p != '%') {
            if (in_msg) {
                put_text(o, p, 1, C_QUOTED);
            } else if (*p == '"') {
                inq ^= 1;
                put_quote(o, inq);
            } else {
                put(o, p, 1);
            }
            p++;
            continue;
        }
        if (p[1] == '%') {
            put(o, "%", 1);
            p += 2;
            continue;
        }
        /* %[flags][width][.precision][length]conv */
        const char *s = p++;
        int star[2] = {0, 0}, nstar = 0, prec = -1;
        while (*p && strchr("-+ #0", *p))
            p++;
        if (*p == '*') {
            star[nstar++] = va_arg(*ap, int);
            p++;
        }
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '.') {
            p++;
            if (*p == '*') {
                prec = star[nstar++] = va_arg(*ap, int);
                p++;
            } else {
                prec = 0;
                while (*p >= '0' && *p <= '9')
                    prec = prec * 10 + (*p++ - '0');
            }
        }
        char len[3] = {0};
        for (size_t k = 0; k < 2 && *p && strchr("hljztL", *p); k++)
            len[k] = *p++;
        char conv = *p ? *p++ : 0;
        enum ctx x = in_msg || inq                                   ? C_QUOTED
                     : s > fmt && s[-1] == '=' && (!*p || *p == ' ') ? C_BARE
                                                                     : C_INSIDE;
        if (conv == 's') {
            const char *v = va_arg(*ap, const char *);
            if (!v)
                v = "(null)";
            put_text(o, v, prec >= 0 ? strnlen(v, (size_t)prec) : strlen(v), x);
        } else if (conv && strchr("diouxXcpfFeEgGaA", conv)) {
            char spec[32], num[64];
            size_t sn = (size_t)(p - s);
            if (sn >= sizeof(spec))
                return;
            memcpy(spec, s, sn);
            spec[sn] = 0;
            int k = put_number(num, sizeof(num), spec, len, conv, star, nstar, ap);
            if (k > 0)
                put_text(o, num, (size_t)k < sizeof(num) ? (size_t)k : sizeof(num) - 1, x);
        } else {
            return; /* not a conversion log_write knows: stop rather than misread */
        }
    }
}

void log_write(int level, const char *fmt, ...)
{
    char mbuf[1024], body[2048];
    struct line m = {mbuf, 0, sizeof(mbuf), 0, 0}, l = {body, 0, sizeof(body), 0, 0};
    mbuf[0] = body[0] = 0;
    va_list ap;
    va_start(ap, fmt);
    format(&m, &l, fmt, &ap);
    va_end(ap);
    put_quote(&l, 0); /* a value cut inside its quotes */

    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[32];
    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (level < 0 || level > 3)
        level = LOG_ERROR;
    FILE *out = log_stream ? log_stream : stderr;
    fprintf(out, "ts=%s.%03ldZ level=%s msg=\"%s\"%s\n", tbuf, ts.tv_nsec / 1000000,
            level_names[level], mbuf, body);
    fflush(out);
}
