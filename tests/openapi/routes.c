/* tests/openapi/routes.c - prints what the web server serves, for tests/openapi/check.mjs
 * to hold against web/openapi.yaml: one line per route of the API table ("api METHOD
 * /api/reports/STAR/decide", STAR being "*", one path segment) and one per embedded
 * console or vendor file ("file GET /static/app.js"; index.html also as "/"), and one per
 * operators' path ("ops GET /metrics"). */
#include <stdio.h>
#include <string.h>

#include "common/embed.h"
#include "web/web_int.h"
#include "common/banned.h"

extern const struct tl_embedded web_static[];
extern const unsigned web_static_count;
extern const struct tl_embedded web_vendor[];
extern const unsigned web_vendor_count;

int main(void)
{
    const struct web_route *rt;
    for (size_t i = 0; (rt = web_route_at(i)); i++)
        printf("api %s /%s\n", rt->method, rt->pattern);
    for (unsigned i = 0; i < web_static_count; i++) {
        if (strcmp(web_static[i].name, "index.html") == 0)
            printf("file GET /\n");
        printf("file GET /static/%s\n", web_static[i].name);
    }
    for (unsigned i = 0; i < web_vendor_count; i++)
        printf("file GET /vendor/%s\n", web_vendor[i].name);
    static char *const ops[] = {"healthz", "readyz", "metrics"};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct web_path p = {.segs = {ops[i]}, .n = 1};
        if (web_ops_path(&p) != WEB_OPS_NONE)
            printf("ops GET /%s\n", ops[i]);
    }
    return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
