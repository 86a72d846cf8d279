/* common/log.c - structured stderr logging. */
#include "log.h"

#include <stdarg.h>
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

void log_write(int level, const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);

    /* msg is the text before the first " key=" token */
    size_t msg_len = strlen(body);
    for (const char *p = body; (p = strchr(p, ' ')) != NULL; p++) {
        const char *q = p + 1;
        while ((*q >= 'a' && *q <= 'z') || *q == '_' || (*q >= '0' && *q <= '9'))
            q++;
        if (*q == '=' && q > p + 1) {
            msg_len = (size_t)(p - body);
            break;
        }
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char tbuf[32];
    strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
    if (level < 0 || level > 3)
        level = LOG_ERROR;
    FILE *out = log_stream ? log_stream : stderr;
    fprintf(out, "ts=%s.%03ldZ level=%s msg=\"%.*s\"%s\n", tbuf, ts.tv_nsec / 1000000,
            level_names[level], (int)msg_len, body, body + msg_len);
    fflush(out);
}
