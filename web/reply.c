/* web/reply.c - what a request is answered with: a JSON body, the JSON error
 * {"error", "message"}, and a storage error mapped to its HTTP status. Used by the
 * server's request path (request.c) and the route handlers (api.c, events.c). */
#include "web_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/banned.h"

int web_reply_json(struct web_resp *r, unsigned status, char *owned_json)
{
    free(r->body);
    r->status = status;
    r->body = owned_json;
    r->len = owned_json ? strlen(owned_json) : 0;
    r->ctype = "application/json";
    return owned_json ? TL_OK : TL_ENOMEM;
}

int web_reply_err(struct web_resp *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct json_object *o = json_object_new_object();
    if (!o)
        return TL_ENOMEM;
    json_object_object_add(o, "error", json_object_new_string(code));
    json_object_object_add(o, "message", json_object_new_string(msg));
    char *s = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return web_reply_json(r, status, s);
}

int web_reply_store_err(struct web_resp *r, int rc, const struct tl_errinfo *ei)
{
    const char *m = ei && ei->msg[0] ? ei->msg : tl_strerror(rc);
    int ml = (int)strcspn(m, "\n"); /* one log line per event: PostgreSQL's words are multi-line */
    switch (rc) {
    case TL_ENOTFOUND:
        return web_reply_err(r, 404, "not_found", "%s", m);
    case TL_ECONFLICT:
        return web_reply_err(r, 409, "conflict", "%s", m);
    case TL_EINVAL:
        return web_reply_err(r, 400, "bad_request", "%s", m);
    case TL_EAUTH:
        return web_reply_err(r, 401, "unauthorized", "%s", m);
    case TL_EFORBIDDEN:
        return web_reply_err(r, 403, "forbidden", "%s", m);
    case TL_EDBDOWN:
        log_warn("web: database unavailable detail=\"%.*s\"", ml, m);
        r->retry_after = 5;
        return web_reply_err(r, 503, "unavailable", "the database is unavailable, retry soon");
    default:
        log_error("web: request failed err=%s sqlstate=%s detail=\"%.*s\"", tl_strerror(rc),
                  ei ? ei->sqlstate : "", ml, m);
        return web_reply_err(r, 500, "internal", "internal error");
    }
}
