/* web/parse.c - the parsers of what a client sends: paths, query strings, cookies,
 * JSON bodies and the list/export filters. Pure functions over bytes (no database, no
 * sockets), so fuzz_web_request drives them all. */
#include "web_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "storage/store_web.h"
#include "common/banned.h"

static void say(char *msg, size_t msgsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t msgsz, const char *fmt, ...)
{
    if (!msg || !msgsz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msgsz, fmt, ap);
    va_end(ap);
}

/* The bytes of s an error message quotes: 40 at most, cut where a character ends (the
 * message goes out as JSON text). */
#define CUT40(s) ((int)tl_utf8_prefix((s), 40))

int web_method_ok(const char *m)
{
    /* RFC 9110 token characters */
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= 'a' && m[i] <= 'z') ||
              (m[i] >= '0' && m[i] <= '9') || strchr("!#$%&'*+-.^_`|~", m[i])))
            return 0;
    return 1;
}

/* Percent-decodes s[0..n) into a new string; '+' is a space when plus. NULL on a bad
 * escape, an encoded NUL or bytes that are not UTF-8 once decoded (or no memory). */
static char *pct_decode(const char *s, size_t n, int plus)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int a = i + 1 < n ? tl_hexval((unsigned char)s[i + 1]) : -1;
            int b = i + 2 < n ? tl_hexval((unsigned char)s[i + 2]) : -1;
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(out);
                return NULL;
            }
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else if (s[i] == '+' && plus) {
            *o++ = ' ';
        } else if (s[i] == 0) {
            free(out);
            return NULL;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    if (!tl_utf8_valid(out, (size_t)(o - out))) {
        free(out);
        return NULL;
    }
    return out;
}

int web_path_parse(const char *path, struct web_path *p)
{
    memset(p, 0, sizeof(*p));
    if (!path || path[0] != '/')
        return TL_EINVAL;
    const char *s = path + 1;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (p->n == WEB_MAX_SEGS)
            goto bad;
        char *seg = pct_decode(s, n, 0);
        if (!seg || !*seg || strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0 || strchr(seg, '/')) {
            free(seg);
            goto bad;
        }
        p->segs[p->n++] = seg;
        s += n;
        if (*s == '/') {
            s++;
            if (!*s) /* one trailing slash is tolerated: "/api/me/" */
                break;
        }
    }
    return TL_OK;
bad:
    web_path_release(p);
    return TL_EINVAL;
}

void web_path_release(struct web_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->segs[i]);
    p->n = 0;
}

int web_query_parse(const char *qs, struct web_query *q, char *msg, size_t msgsz)
{
    memset(q, 0, sizeof(*q));
    if (!qs)
        return TL_OK;
    const char *s = qs;
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n) {
            const char *eq = memchr(s, '=', n);
            size_t kn = eq ? (size_t)(eq - s) : n;
            if (q->n == WEB_MAX_PARAMS) {
                say(msg, msgsz, "too many query parameters");
                goto bad;
            }
            char *k = pct_decode(s, kn, 1);
            char *v = eq ? pct_decode(eq + 1, n - kn - 1, 1) : tl_strdup("");
            if (!k || !v || !*k) {
                free(k);
                free(v);
                say(msg, msgsz,
                    "malformed query string (a bad %%XX escape, a NUL or bytes "
                    "that are not UTF-8)");
                goto bad;
            }
            for (size_t i = 0; i < q->n; i++)
                if (strcmp(q->kv[i].key, k) == 0) {
                    say(msg, msgsz, "query parameter '%.*s' given twice", CUT40(k), k);
                    free(k);
                    free(v);
                    goto bad;
                }
            q->kv[q->n].key = k;
            q->kv[q->n].val = v;
            q->n++;
        }
        s += n;
        if (*s == '&')
            s++;
    }
    return TL_OK;
bad:
    web_query_release(q);
    return TL_EINVAL;
}

void web_query_release(struct web_query *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->kv[i].key);
        free(q->kv[i].val);
    }
    q->n = 0;
}

const char *web_query_get(const struct web_query *q, const char *key)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->kv[i].key, key) == 0)
            return q->kv[i].val;
    return NULL;
}

int web_query_allowed(const struct web_query *q, const char *const *allowed, char *msg,
                      size_t msgsz)
{
    for (size_t i = 0; i < q->n; i++) {
        int ok = 0;
        for (size_t k = 0; allowed && allowed[k] && !ok; k++)
            ok = strcmp(allowed[k], q->kv[i].key) == 0;
        if (!ok) {
            say(msg, msgsz, "unknown query parameter '%.*s'", CUT40(q->kv[i].key), q->kv[i].key);
            return TL_EINVAL;
        }
    }
    return TL_OK;
}

int web_cookie_session(const char *header, const char *name, char *out)
{
    size_t nl = strlen(name);
    out[0] = 0;
    for (const char *s = header; s && *s;) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, ";");
        if (n > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
            const char *v = s + nl + 1;
            size_t vn = n - nl - 1;
            if (vn != 64)
                return 0;
            for (size_t i = 0; i < 64; i++)
                if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
                    return 0;
            memcpy(out, v, 64);
            out[64] = 0;
            return 1;
        }
        s += n;
        if (*s == ';')
            s++;
    }
    return 0;
}

static const char *type_name(enum web_ftype t)
{
    return t == WF_STRING    ? "a string"
           : t == WF_INT     ? "an integer"
           : t == WF_STRINGS ? "an array of strings"
                             : "a boolean";
}

/* 1 when every string in o (keys too, at any depth) is UTF-8 without NUL: json-c's own
 * check lets overlong forms, surrogates and code points above U+10FFFF through. */
static int json_text_valid(struct json_object *o, int depth)
{
    if (depth > 32)
        return 0;
    switch (json_object_get_type(o)) {
    case json_type_string:
        return tl_utf8_valid(json_object_get_string(o), (size_t)json_object_get_string_len(o));
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (!json_text_valid(json_object_array_get_idx(o, i), depth + 1))
                return 0;
        return 1;
    case json_type_object: {
        json_object_object_foreach(o, key, val)
        {
            if (!tl_utf8_valid(key, strlen(key)) || !json_text_valid(val, depth + 1))
                return 0;
        }
        return 1;
    }
    default:
        return 1;
    }
}

int web_body_parse(const char *body, size_t len, const struct web_field *fields,
                   struct json_object **out, char *msg, size_t msgsz)
{
    *out = NULL;
    struct json_object *o = NULL;
    if (len == 0) {
        o = json_object_new_object();
        if (!o)
            return TL_ENOMEM;
    } else {
        struct json_tokener *tok = json_tokener_new_ex(32);
        if (!tok)
            return TL_ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, body, (int)len);
        enum json_tokener_error je = json_tokener_get_error(tok);
        size_t used = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || je != json_tokener_success) {
            say(msg, msgsz, "malformed JSON: %s",
                je == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(je));
            json_object_put(o);
            return TL_EINVAL;
        }
        for (size_t i = used; i < len; i++)
            if (!strchr(" \t\r\n", body[i])) {
                say(msg, msgsz, "malformed JSON: data after the object");
                json_object_put(o);
                return TL_EINVAL;
            }
    }
    if (!json_object_is_type(o, json_type_object)) {
        say(msg, msgsz, "the body must be a JSON object");
        json_object_put(o);
        return TL_EINVAL;
    }
    if (!json_text_valid(o, 0)) {
        say(msg, msgsz, "malformed JSON: a string is not UTF-8 (or holds a NUL character)");
        goto bad;
    }
    json_object_object_foreach(o, key, val)
    {
        const struct web_field *f = NULL;
        for (size_t i = 0; fields && fields[i].name && !f; i++)
            if (strcmp(fields[i].name, key) == 0)
                f = &fields[i];
        if (!f) {
            say(msg, msgsz, "unknown field '%.*s'", CUT40(key), key);
            goto bad;
        }
        if (json_object_is_type(val, json_type_null) && !f->required)
            continue;
        int ok = f->type == WF_STRING    ? json_object_is_type(val, json_type_string)
                 : f->type == WF_INT     ? json_object_is_type(val, json_type_int)
                 : f->type == WF_STRINGS ? json_object_is_type(val, json_type_array)
                                         : json_object_is_type(val, json_type_boolean);
        for (size_t i = 0; ok && f->type == WF_STRINGS && i < json_object_array_length(val); i++) {
            struct json_object *e = json_object_array_get_idx(val, i);
            ok = json_object_is_type(e, json_type_string) &&
                 (!f->max_len || (size_t)json_object_get_string_len(e) <= f->max_len);
        }
        if (!ok) {
            say(msg, msgsz, "field '%s' must be %s", f->name, type_name(f->type));
            goto bad;
        }
        if (f->type == WF_STRING) {
            size_t sl = (size_t)json_object_get_string_len(val);
            if (f->max_len && sl > f->max_len) {
                say(msg, msgsz, "field '%s' is longer than %zu bytes", f->name, f->max_len);
                goto bad;
            }
        }
    }
    for (size_t i = 0; fields && fields[i].name; i++) {
        struct json_object *v = NULL;
        if (fields[i].required && (!json_object_object_get_ex(o, fields[i].name, &v) ||
                                   json_object_is_type(v, json_type_null))) {
            say(msg, msgsz, "field '%s' is required", fields[i].name);
            goto bad;
        }
    }
    *out = o;
    return TL_OK;
bad:
    json_object_put(o);
    return TL_EINVAL;
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Days in month mo (1..12) of year y, Gregorian. */
static int month_days(int y, int mo)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[mo - 1] + (mo == 2 && leap);
}

int web_iso_valid(const char *s)
{
    /* YYYY-MM-DDTHH:MM */
    if (strlen(s) < 16 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2))
        return 0;
    int mo = num(s + 5, 2), d = num(s + 8, 2), h = num(s + 11, 2), mi = num(s + 14, 2);
    if (num(s, 4) < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(num(s, 4), mo) || h > 23 ||
        mi > 59)
        return 0;
    const char *p = s + 16;
    if (*p == ':') {
        if (!digits(p + 1, 2) || num(p + 1, 2) > 59)
            return 0;
        p += 3;
        if (*p == '.') {
            int k = 0;
            for (p++; *p >= '0' && *p <= '9'; p++)
                k++;
            if (k < 1 || k > 6)
                return 0;
        }
    }
    if (*p == 'Z')
        return p[1] == 0;
    if (*p == '+' || *p == '-')
        return digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) && p[6] == 0 &&
               num(p + 1, 2) <= 14 && num(p + 4, 2) <= 59;
    return 0;
}

/* A finite number, the whole of s[0..n). */
static int dbl_n(const char *s, size_t n, double *out)
{
    char b[40];
    if (n == 0 || n >= sizeof(b))
        return 0;
    memcpy(b, s, n);
    b[n] = 0;
    char *end = NULL;
    *out = strtod(b, &end);
    return end && *end == 0 && isfinite(*out) && !strchr(b, 'x') && !strchr(b, 'X');
}

int web_bbox_parse(const char *s, double out[4])
{
    for (int i = 0; i < 4; i++) {
        size_t n = strcspn(s, ",");
        if (!dbl_n(s, n, &out[i]) || (i < 3 && s[n] != ',') || (i == 3 && s[n] != 0))
            return TL_EINVAL;
        s += n + (i < 3);
    }
    if (out[0] < -180 || out[2] > 180 || out[1] < -90 || out[3] > 90 || out[0] >= out[2] ||
        out[1] >= out[3])
        return TL_EINVAL;
    return TL_OK;
}

int web_cursor_parse(const char *s, long long *us, long long *id)
{
    const char *u = strchr(s, '_');
    char a[24];
    if (!u || (size_t)(u - s) >= sizeof(a))
        return TL_EINVAL;
    memcpy(a, s, (size_t)(u - s));
    a[u - s] = 0;
    if (tl_parse_ll(a, us) || tl_parse_ll(u + 1, id) || *us < 0 || *us > WEB_CURSOR_US_MAX ||
        *id <= 0 || a[0] == '+' || u[1] == '+')
        return TL_EINVAL;
    return TL_OK;
}

int web_long_parse(const char *s, long min, long max, long *out)
{
    long long v;
    if (!s || tl_parse_ll(s, &v) || v < min || v > max)
        return TL_EINVAL;
    *out = (long)v;
    return TL_OK;
}

static int bool_parse(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        return TL_EINVAL;
    return TL_OK;
}

/* since, until, bbox: shared by the list and the export. */
static int common_filter(const struct web_query *q, struct store_web_filter *f, char *msg,
                         size_t msgsz)
{
    const char *v;
    f->since = web_query_get(q, "since");
    f->until = web_query_get(q, "until");
    if (f->since && !web_iso_valid(f->since)) {
        say(msg, msgsz, "since must be an ISO 8601 time (2026-11-26T08:00:00Z)");
        return TL_EINVAL;
    }
    if (f->until && !web_iso_valid(f->until)) {
        say(msg, msgsz, "until must be an ISO 8601 time (2026-11-26T08:00:00Z)");
        return TL_EINVAL;
    }
    if ((v = web_query_get(q, "bbox")) != NULL) {
        if (web_bbox_parse(v, f->bbox)) {
            say(msg, msgsz, "bbox must be W,S,E,N in degrees with W < E and S < N");
            return TL_EINVAL;
        }
        f->has_bbox = 1;
    }
    return TL_OK;
}

static int word_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

int web_list_filter(const struct web_query *q, struct store_web_filter *f, char *msg, size_t msgsz)
{
    static const char *const statuses[] = {"new",      "claimed",   "unclaimed",  "confirmed",
                                           "rejected", "duplicate", "needs_info", "escalated"};
    const char *v;
    memset(f, 0, sizeof(*f));
    f->has_photo = -1;
    f->min_corroborations = -1;
    f->limit = 50;
    if (common_filter(q, f, msg, msgsz))
        return TL_EINVAL;
    if ((v = web_query_get(q, "status")) != NULL) {
        for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]) && !f->status; i++)
            if (strcmp(v, statuses[i]) == 0)
                f->status = statuses[i];
        if (!f->status) {
            say(msg, msgsz, "unknown status '%.*s'", CUT40(v), v);
            return TL_EINVAL;
        }
    }
    if ((v = web_query_get(q, "category")) != NULL) {
        if (!word_ok(v, 64)) {
            say(msg, msgsz, "category must be a word of a-z, 0-9, _ and -");
            return TL_EINVAL;
        }
        f->category = v;
    }
    if ((v = web_query_get(q, "has_photo")) != NULL && bool_parse(v, &f->has_photo)) {
        say(msg, msgsz, "has_photo must be true or false");
        return TL_EINVAL;
    }
    if ((v = web_query_get(q, "min_corroborations")) != NULL &&
        web_long_parse(v, 0, 1000000, &f->min_corroborations)) {
        say(msg, msgsz, "min_corroborations must be an integer >= 0");
        return TL_EINVAL;
    }
    if ((v = web_query_get(q, "limit")) != NULL && web_long_parse(v, 1, 200, &f->limit)) {
        say(msg, msgsz, "limit must be an integer in 1..200");
        return TL_EINVAL;
    }
    if ((v = web_query_get(q, "after")) != NULL) {
        if (web_cursor_parse(v, &f->after_us, &f->after_id)) {
            say(msg, msgsz, "after is not a cursor this server gave");
            return TL_EINVAL;
        }
        f->has_after = 1;
    }
    return TL_OK;
}

int web_export_filter(const struct web_query *q, struct store_web_filter *f, char *msg,
                      size_t msgsz)
{
    const char *v;
    memset(f, 0, sizeof(*f));
    f->has_photo = -1;
    f->min_corroborations = -1;
    f->limit = 10000;
    if (common_filter(q, f, msg, msgsz))
        return TL_EINVAL;
    if ((v = web_query_get(q, "limit")) != NULL && web_long_parse(v, 1, 50000, &f->limit)) {
        say(msg, msgsz, "limit must be an integer in 1..50000");
        return TL_EINVAL;
    }
    return TL_OK;
}

/* ---- Prefer (RFC 7240) ---- */

void web_trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static int token_is(const char *s, const char *e, const char *want)
{
    size_t n = strlen(want);
    return (size_t)(e - s) == n && strncasecmp(s, want, n) == 0;
}

int web_prefer_minimal(const char *h)
{
    if (!h)
        return 0;
    /* preferences are comma-separated, each "name[=value]" and its ";parameters" */
    const char *end = h + strnlen(h, WEB_PREFER_MAX);
    for (const char *p = h; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        const char *semi = memchr(p, ';', (size_t)(e - p));
        const char *pe = semi ? semi : e;
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *ns = p, *ne = eq, *vs = eq + 1, *ve = pe;
            web_trim(&ns, &ne);
            web_trim(&vs, &ve);
            if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"')
                vs++, ve--;
            if (token_is(ns, ne, "return") && token_is(vs, ve, "minimal"))
                return 1;
        }
        p = e + 1;
    }
    return 0;
}
