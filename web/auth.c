/* web/auth.c - credentials as bytes and the login: new API tokens ("tl_" and 44
 * base64url characters; only their SHA-256 is kept), the SHA-256 the database knows a
 * token or a session cookie by, and a login with a token (a new session, its CSRF
 * token and its cookie). The check of each request's credentials is request.c's. */
#include "web_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "storage/store_web.h"
#include "common/banned.h"

void web_sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    if (tl_sha256(s, strlen(s), md) != TL_OK) /* zeros: matches no stored credential */
        memset(md, 0, sizeof(md));
    tl_hex(md, 32, out);
}

int web_token_new(char *token, char *sha)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33];
    if (tl_random(raw, sizeof(raw)))
        return TL_EIO;
    memcpy(token, "tl_", 3);
    size_t o = 3;
    for (size_t i = 0; i < sizeof(raw); i += 3) { /* 33 bytes: 44 characters, no padding */
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 3; k >= 0; k--)
            token[o++] = b64[(v >> (6 * k)) & 63];
    }
    token[o] = 0;
    web_sha256_hex(token, sha);
    memset(raw, 0, sizeof(raw));
    return TL_OK;
}

/* The hex of 32 random bytes (a session id or a CSRF token). */
static int random_hex(char out[65])
{
    unsigned char raw[32];
    if (tl_random(raw, sizeof(raw)))
        return TL_EIO;
    tl_hex(raw, sizeof(raw), out);
    return TL_OK;
}

int web_login(struct web_call *c, const char *token, struct tl_errinfo *ei)
{
    const struct cfg *cfg = c->cfg;
    char sha[65], sid[65], sid_sha[65], csrf[65];
    web_sha256_hex(token, sha);
    int rc = store_auth_token(c->s, sha, &c->who_p, ei);
    if (rc)
        return rc;
    if (random_hex(sid) || random_hex(csrf))
        return tl_errf(ei, TL_EIO, "no randomness");
    web_sha256_hex(sid, sid_sha);
    rc = store_session_create(c->s, c->who_p.account, sid_sha, csrf, cfg->session_idle_minutes, ei);
    if (rc)
        return rc;
    tl_strlcpy(c->who_p.csrf, csrf, sizeof(c->who_p.csrf));
    /* No Max-Age: the browser keeps the cookie for its session, the server ends an idle
     * one (a cookie age would log out an analyst in the middle of work). */
    c->resp->set_cookie = tl_asprintf("tl_session=%s; HttpOnly; SameSite=Strict; Path=/%s", sid,
                                      cfg->web_cookie_secure ? "; Secure" : "");
    memset(sid, 0, sizeof(sid));
    return c->resp->set_cookie ? TL_OK : TL_ENOMEM;
}
