/* common/log.h - one line per event, key=value pairs, to stderr.
 *
 *   log_info("poll ok updates=%d offset=%lld", n, off);
 * prints
 *   ts=2026-11-26T19:40:39.123Z level=info msg="poll ok" updates=37 offset=...
 * The first word group up to the first " key=" is the msg. The macros test the
 * level before evaluating their arguments. Never pass a token, a Bot API URL,
 * a raw chat id or a raw payload: see tl_mask_token() in common/util.h. */
#ifndef TL_LOG_H
#define TL_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level; /* the one mutable global besides signal flags */

/* Parses "error|warn|info|debug"; returns -1 if unknown. */
int log_level_parse(const char *s);

/* Redirects log output (tests capture it); NULL restores stderr. Not thread-safe
 * against concurrent logging: call before starting threads. */
void log_set_stream(void *file);

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) <= log_level)                                                                    \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
