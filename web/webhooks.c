/* web/webhooks.c - the exporters' webhook subscriptions (POST/GET /api/webhooks, POST
 * /api/webhooks/{id}/disable) and, for admins, every delivery with its attempts (GET
 * /api/webhooks/deliveries). The posting is the runtime's sender thread
 * (daemon/webhook.c); a decision or an incident's change only writes a row. A
 * subscription takes report decisions, incident changes or both ("events"). A URL must
 * reach a public address unless webhook_allow_private (webhook_addr.c). */
#include "web_export.h"
#include "storage/store_export.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

#define WEBHOOK_URL_MAX 2000

static const char *body_url(const struct web_call *c)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(c->body, "url", &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* http(s)://host... with no space or control byte. */
static int url_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    size_t skip = n > 8 && strncmp(u, "https://", 8) == 0  ? 8
                  : n > 7 && strncmp(u, "http://", 7) == 0 ? 7
                                                           : 0;
    if (!skip || n > WEBHOOK_URL_MAX || u[skip] == '/' || u[skip] == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)u[i] <= 0x20 || u[i] == 0x7f)
            return 0;
    return 1;
}

/* The body's "events" as "reports", "incidents" or "reports,incidents" (absent:
 * "reports", what a subscription took before it could choose); NULL when it names
 * another kind, none, or one twice. */
static const char *body_events(const struct web_call *c)
{
    static const char *const KINDS[] = {"reports", "incidents", "reports,incidents"};
    struct json_object *v = NULL;
    int seen = 0;
    if (!json_object_object_get_ex(c->body, "events", &v) || json_object_is_type(v, json_type_null))
        return KINDS[0];
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(v, i));
        int bit = strcmp(k, "reports") == 0 ? 1 : strcmp(k, "incidents") == 0 ? 2 : 0;
        if (!bit || (seen & bit))
            return NULL;
        seen |= bit;
    }
    return seen ? KINDS[seen - 1] : NULL;
}

int web_h_webhook_add(struct web_call *c)
{
    struct tl_errinfo ei;
    unsigned char raw[32];
    char hex[65], *json = NULL;
    const char *url = body_url(c);
    tl_errinfo_clear(&ei);
    if (!url_ok(url))
        return web_reply_err(c->resp, 400, "bad_request",
                             "url is an http or https URL of at most %d bytes", WEBHOOK_URL_MAX);
    const char *events = body_events(c);
    if (!events)
        return web_reply_err(c->resp, 400, "bad_request",
                             "events lists \"reports\", \"incidents\" or both, each once");
    /* a receiver inside the deployment's network is refused unless allowed (SSRF); the
     * sender checks again at each delivery, as a name may resolve elsewhere by then */
    char pin[WEB_WEBHOOK_PIN], why[256];
    if (web_webhook_target(url, c->cfg->webhook_allow_private != 0, pin, sizeof(pin), why,
                           sizeof(why)))
        return web_reply_err(c->resp, 400, "bad_request", "url: %s", why);
    if (tl_random(raw, sizeof(raw)))
        return TL_EIO;
    tl_hex(raw, sizeof(raw), hex);
    char *secret = tl_asprintf("whsec_%s", hex);
    if (!secret)
        return TL_ENOMEM;
    int rc = store_webhook_add(c->s, c->who.account, url, secret, events, &json, &ei);
    if (rc) {
        free(secret);
        return web_reply_store_err(c->resp, rc, &ei);
    }
    /* the secret is shown this once, as a token is */
    struct json_object *o = json_tokener_parse(json);
    free(json);
    if (!o) {
        free(secret);
        return TL_ENOMEM;
    }
    json_object_object_add(o, "secret", json_object_new_string(secret));
    char *s = tl_strdup(
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
    free(secret);
    return web_reply_json(c->resp, 201, s);
}

int web_h_webhook_list(struct web_call *c)
{
    struct tl_errinfo ei;
    char *json = NULL;
    tl_errinfo_clear(&ei);
    int admin = web_role_bit(c->who_p.role) == WR_ADMIN;
    int rc = store_webhook_list(c->s, admin ? NULL : c->who.account, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

int web_h_webhook_disable(struct web_call *c)
{
    struct tl_errinfo ei;
    long id;
    tl_errinfo_clear(&ei);
    if (web_long_parse(c->path->n > 2 ? c->path->segs[2] : "", 1, 0x7fffffffL, &id))
        return web_reply_err(c->resp, 400, "bad_request", "a webhook is named by its id");
    int admin = web_role_bit(c->who_p.role) == WR_ADMIN;
    int rc = store_webhook_disable(c->s, c->who.account, admin ? NULL : c->who.account, id, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, tl_strdup("{\"ok\":true}"));
}

int web_h_webhook_deliveries(struct web_call *c)
{
    struct tl_errinfo ei;
    long limit = 100;
    char *json = NULL;
    const char *v = web_query_get(c->q, "limit");
    tl_errinfo_clear(&ei);
    if (v && web_long_parse(v, 1, 1000, &limit))
        return web_reply_err(c->resp, 400, "bad_request", "limit must be an integer in 1..1000");
    int rc = store_webhook_deliveries(c->s, limit, &json, &ei);
    if (rc)
        return web_reply_store_err(c->resp, rc, &ei);
    return web_reply_json(c->resp, 200, json);
}

const struct web_field web_f_webhook[] = {
    {"url", WF_STRING, 1, WEBHOOK_URL_MAX}, {"events", WF_STRINGS, 0, 16}, {NULL, WF_STRING, 0, 0}};
const char *const web_p_webhook_deliveries[] = {"limit", NULL};
