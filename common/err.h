/* common/err.h - the one error enum of tipline, and the detail out-struct.
 *
 * Codes are never renumbered: append new ones at the end. 0 is success.
 * Functions that can fail return one of these and take an optional
 * struct tl_errinfo * (NULL allowed) where the server's own words travel:
 * HTTP status, Telegram's error_code/description/retry_after, PostgreSQL's
 * SQLSTATE and message. */
#ifndef TL_ERR_H
#define TL_ERR_H

#define TL_WUR __attribute__((warn_unused_result))

enum tl_err {
    TL_OK = 0,
    TL_ENOMEM = 1,        /* allocation failed */
    TL_EINVAL = 2,        /* bad argument or bad input from the caller */
    TL_EIO = 3,           /* file or socket I/O */
    TL_ENET = 4,          /* network: connect, DNS, reset, timeout from curl */
    TL_EHTTP = 5,         /* HTTP status without a Telegram envelope */
    TL_ETG = 6,           /* Telegram answered ok:false (see tg_code) */
    TL_EDB = 7,           /* PostgreSQL error (see sqlstate) */
    TL_EPARSE = 8,        /* outside bytes that do not parse */
    TL_ETOOBIG = 9,       /* over a configured or hard limit */
    TL_EUNSUPPORTED = 10, /* recognised but refused (format, update kind) */
    TL_ENOTFOUND = 11,    /* no such row / file / key */
    TL_ECONFLICT = 12,    /* 409 from Telegram, lease held by another, unique clash */
    TL_EAUTH = 13,        /* 401 from Telegram, bad token, forbidden */
    TL_ERATE = 14,        /* 429 / rate limited (see retry_after) */
    TL_ETIMEOUT = 15,     /* a deadline passed */
    TL_ESTOP = 16,        /* asked to stop (signal) */
    TL_EDBDOWN = 17,      /* database unreachable: connection lost, retry later */
    TL_EFORBIDDEN = 18,   /* 403 from Telegram (user blocked the bot) */
    TL_ECONFIG = 19,      /* configuration is missing or wrong */
    TL_ESCHEMA = 20,      /* database schema is not at the expected version */
    TL_ERR__COUNT
};

struct tl_errinfo {
    long http_status;             /* HTTP status, 0 if none */
    int tg_code;                  /* Telegram error_code, 0 if none */
    int retry_after;              /* seconds, from parameters.retry_after */
    long long migrate_to_chat_id; /* from parameters.migrate_to_chat_id */
    char sqlstate[6];             /* PostgreSQL SQLSTATE, "" if none */
    char msg[512];                /* the server's or library's own words, masked of secrets */
};

/* Returns a static string naming the code; never NULL. */
const char *tl_strerror(int err);

/* Clears ei (NULL allowed). */
void tl_errinfo_clear(struct tl_errinfo *ei);

/* Sets ei->msg with printf formatting (NULL ei allowed); returns err so callers can
 * write `return tl_errf(ei, TL_EINVAL, "bad %s", x);`. */
int tl_errf(struct tl_errinfo *ei, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
