/* web/files.c - the static files: the console (web/static/) and the vendor files from
 * npm, embedded at build time, with their media types. */
#include "server_int.h"

#include <string.h>

#include "common/embed.h"
#include "common/banned.h"

/* Generated from web/static/ and TL_WEB_VENDOR_FILES (web/CMakeLists.txt). */
extern const struct tl_embedded web_static[];
extern const unsigned web_static_count;
extern const struct tl_embedded web_vendor[];
extern const unsigned web_vendor_count;

const char *web_mime_of(const char *name)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".geojson", "application/geo+json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},
    };
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t e = strlen(map[i][0]);
        if (n > e && strcmp(name + n - e, map[i][0]) == 0)
            return map[i][1];
    }
    return "application/octet-stream";
}

int web_serve_static(const char *method, const struct web_path *p, struct web_resp *r)
{
    const struct tl_embedded *table = NULL;
    unsigned count = 0;
    size_t from = 1;
    if (p->n == 0) {
        table = web_static;
        count = web_static_count;
        from = 0;
    } else if (strcmp(p->segs[0], "static") == 0) {
        table = web_static;
        count = web_static_count;
    } else if (strcmp(p->segs[0], "vendor") == 0) {
        table = web_vendor;
        count = web_vendor_count;
    } else {
        return 0;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tl_strlcpy(r->allow, "GET, HEAD", sizeof(r->allow));
        web_reply_err(r, 405, "method_not_allowed", "%s is not allowed here", method);
        return 1;
    }
    struct tl_buf name;
    tl_buf_init(&name, 4096);
    int e = p->n == 0 ? tl_buf_append(&name, "index.html", 10) : 0;
    for (size_t i = from; i < p->n && !e; i++)
        e = tl_buf_printf(&name, "%s%s", i > from ? "/" : "", p->segs[i]);
    const struct tl_embedded *f = NULL;
    for (unsigned i = 0; !e && name.len && i < count && !f; i++)
        if (strcmp(table[i].name, (const char *)name.data) == 0)
            f = &table[i];
    if (f) {
        r->status = 200;
        r->static_body = f->data;
        r->len = f->len;
        r->ctype = web_mime_of(f->name);
        r->cache = "no-cache";
    } else {
        web_reply_err(r, 404, "not_found", "no such file");
    }
    tl_buf_release(&name);
    return 1;
}
