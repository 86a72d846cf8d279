/* tests/support/httprec.c - appends the web tests' answers to a JSON-lines file for the
 * OpenAPI check (tests/openapi/check.mjs). */
#include "httprec.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "common/banned.h"

static pthread_once_t rec_once = PTHREAD_ONCE_INIT;
static int rec_fd = -1;

static void rec_open(void)
{
    const char *dir = getenv("TL_BINARY_DIR");
    if (!dir)
        return; /* run by hand outside ctest: nothing to check against */
    char *d = tl_asprintf("%s/openapi", dir);
    char *p = tl_asprintf("%s/openapi/%s.jsonl", dir, program_invocation_short_name);
    if (!d || !p || (mkdir(d, 0755) != 0 && errno != EEXIST)) {
        fprintf(stderr, "httprec: cannot make %s: %s\n", d ? d : dir, strerror(errno));
        abort();
    }
    rec_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (rec_fd < 0) {
        fprintf(stderr, "httprec: cannot open %s: %s\n", p, strerror(errno));
        abort();
    }
    free(d);
    free(p);
}

/* application/json and application/<x>+json, with or without parameters. */
static int is_json_type(const char *ctype)
{
    if (!ctype)
        return 0;
    size_t n = strcspn(ctype, "; ");
    return (n == 16 && strncasecmp(ctype, "application/json", 16) == 0) ||
           (n > 17 && strncasecmp(ctype, "application/", 12) == 0 &&
            strncasecmp(ctype + n - 5, "+json", 5) == 0);
}

void ts_http_record(const char *method, const char *path, long status, const char *ctype,
                    const char *body, size_t len)
{
    pthread_once(&rec_once, rec_open);
    if (rec_fd < 0)
        return;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(method));
    json_object_object_add(o, "path", json_object_new_string(path));
    json_object_object_add(o, "status", json_object_new_int64(status));
    json_object_object_add(o, "ctype", ctype ? json_object_new_string(ctype) : NULL);
    json_object_object_add(o, "len", json_object_new_int64((int64_t)len));
    if (is_json_type(ctype))
        json_object_object_add(o, "body", json_object_new_string_len(body ? body : "", (int)len));
    char *line = tl_asprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    if (!line || write(rec_fd, line, strlen(line)) != (ssize_t)strlen(line)) {
        fprintf(stderr, "httprec: cannot append: %s\n", strerror(errno));
        abort();
    }
    free(line);
}
