/* common/err.c - names for the error codes. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static const char *const names[TL_ERR__COUNT] = {
    [TL_OK] = "ok",
    [TL_ENOMEM] = "out of memory",
    [TL_EINVAL] = "invalid argument",
    [TL_EIO] = "I/O error",
    [TL_ENET] = "network error",
    [TL_EHTTP] = "HTTP error",
    [TL_ETG] = "Telegram API error",
    [TL_EDB] = "database error",
    [TL_EPARSE] = "parse error",
    [TL_ETOOBIG] = "too big",
    [TL_EUNSUPPORTED] = "unsupported",
    [TL_ENOTFOUND] = "not found",
    [TL_ECONFLICT] = "conflict",
    [TL_EAUTH] = "unauthorized",
    [TL_ERATE] = "rate limited",
    [TL_ETIMEOUT] = "timed out",
    [TL_ESTOP] = "stopped",
    [TL_EDBDOWN] = "database unavailable",
    [TL_EFORBIDDEN] = "forbidden",
    [TL_ECONFIG] = "configuration error",
    [TL_ESCHEMA] = "schema version mismatch",
};

const char *tl_strerror(int err)
{
    if (err < 0 || err >= TL_ERR__COUNT || !names[err])
        return "unknown error";
    return names[err];
}

void tl_errinfo_clear(struct tl_errinfo *ei)
{
    if (ei)
        memset(ei, 0, sizeof(*ei));
}

int tl_errf(struct tl_errinfo *ei, int err, const char *fmt, ...)
{
    if (ei) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ei->msg, sizeof(ei->msg), fmt, ap);
        va_end(ap);
    }
    return err;
}
