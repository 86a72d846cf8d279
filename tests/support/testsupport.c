/* tests/support/testsupport.c - fixtures shared by the test programs. */
#include "testsupport.h"

#include <fcntl.h>
#include <stdarg.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "common/banned.h"

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "testsupport: %s: %s\n", what, detail ? detail : "");
    abort();
}

char *ts_shared_path(const char *rel)
{
    const char *dir = getenv("TL_SHARED_DIR");
    if (!dir)
        return NULL;
    char *p = tl_asprintf("%s/%s", dir, rel);
    if (p && access(p, R_OK) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

char *ts_build_path(const char *rel)
{
    const char *dir = getenv("TL_BINARY_DIR");
    return tl_asprintf("%s/%s", dir ? dir : ".", rel);
}

int ts_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) != 0 || bad ? -1 : 0;
}

char *ts_read_file(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    if (tl_read_file(path, 512u << 20, &buf, &n) != TL_OK)
        die("cannot read", path);
    if (len)
        *len = n;
    return buf;
}

static char *admin_conninfo(void)
{
    const char *state = getenv("TL_PG_STATE");
    if (!state)
        return NULL;
    char *text = NULL;
    size_t n;
    if (tl_read_file(state, 4096, &text, &n) != TL_OK)
        return NULL;
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = 0;
    return text;
}

static void admin_exec(const char *sql, int tolerate)
{
    char *ci = admin_conninfo();
    if (!ci)
        die("no throwaway cluster", "TL_PG_STATE");
    PGconn *c = PQconnectdb(ci);
    free(ci);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !tolerate)
        die(sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

char *ts_db_create(const char *name)
{
    char *ci = admin_conninfo();
    if (!ci)
        return NULL;
    char *sql = tl_asprintf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    admin_exec(sql, 0);
    free(sql);
    sql = tl_asprintf("CREATE DATABASE \"%s\" TEMPLATE tipline_template", name);
    admin_exec(sql, 0);
    free(sql);
    /* conninfo of the admin db with dbname replaced */
    char *p = strstr(ci, "dbname=");
    if (p)
        *p = 0;
    char *out = tl_asprintf("%sdbname=%s", ci, name);
    free(ci);
    return out;
}

void ts_db_drop(const char *name)
{
    char *sql = tl_asprintf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    admin_exec(sql, 1);
    free(sql);
}

char *ts_db_scalar(const char *conninfo, const char *sql)
{
    PGconn *c = PQconnectdb(conninfo);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        die(sql, PQerrorMessage(c));
    char *out = NULL;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        out = tl_strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return out;
}

long long ts_db_count(const char *conninfo, const char *sql)
{
    char *v = ts_db_scalar(conninfo, sql);
    long long n = -1;
    if (!v || tl_parse_ll(v, &n) != TL_OK)
        die("not an integer", sql);
    free(v);
    return n;
}

static void vformat(char *sql, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vformat(char *sql, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(sql, size, fmt, ap);
    if (n <= 0 || (size_t)n >= size)
        die("statement too long", fmt);
}

char *ts_db_scalarf(const char *conninfo, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vformat(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return ts_db_scalar(conninfo, sql);
}

long long ts_db_countf(const char *conninfo, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vformat(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    return ts_db_count(conninfo, sql);
}

int ts_run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        die("popen", cmd);
    struct tl_buf b;
    tl_buf_init(&b, 0);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
        if (tl_buf_append(&b, chunk, n))
            die("out of memory reading", cmd);
    if (tl_buf_append(&b, "", 0))
        die("out of memory reading", cmd);
    int st = pclose(p);
    if (out)
        *out = (char *)tl_buf_steal(&b, NULL);
    else
        tl_buf_release(&b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct store_inbox_row ts_inbox_row(long long update_id, long long chat_key, const char *bytes)
{
    return (struct store_inbox_row){.update_id = update_id,
                                    .chat_key = chat_key,
                                    .sealed = (const unsigned char *)bytes,
                                    .sealed_len = strlen(bytes)};
}

const char *ts_idkey_file(void)
{
    static char path[64];
    if (path[0])
        return path;
    /* "test-identity-key-test-identity" and its NUL: botrun.c's IDKEY */
    static const char line[] =
        "1 746573742d6964656e746974792d6b65792d746573742d6964656e7469747900\n";
    snprintf(path, sizeof(path), "/tmp/tipline-idkeys-%ld", (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, line, sizeof(line) - 1) != (ssize_t)(sizeof(line) - 1)) {
        if (fd >= 0)
            close(fd);
        path[0] = 0;
        return "/nonexistent";
    }
    close(fd);
    return path;
}

unsigned char *ts_unhex(const char *hex, size_t *n)
{
    *n = strlen(hex) / 2;
    unsigned char *b = malloc(*n ? *n : 1);
    for (size_t i = 0; b && i < *n; i++)
        b[i] = (unsigned char)(tl_hexval(hex[2 * i]) << 4 | tl_hexval(hex[2 * i + 1]));
    return b;
}
