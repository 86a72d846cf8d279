/* tests/test_export_int.h - what test_export's files share: the fixture (a database
 * seeded with reports, the accounts, a running web server, a directory for every
 * output), the CLI and ogrinfo runners, the HTTP client, and the identity check. */
#ifndef TL_TEST_EXPORT_INT_H
#define TL_TEST_EXPORT_INT_H

#include <stddef.h>

#include "common/cfg.h"
#include "support/testparts.h"

#define PSEUDO "f00dfacecafe1234beef"

#define CHAT "777000123"

#define SECRET_TEXT "ask-for-olena-at-the-bakery"

struct fx {
    char dbname[64];
    char *ci;
    struct cfg cfg;
    struct web *w;
    unsigned port;
    struct store *s;
    char dir[64]; /* every output of the test, searched for identities at the end */
};

void texp_sql(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long texp_count(struct fx *f, const char *q);
struct fx *texp_fx_new(const char *name, int n);
void texp_fx_free(struct fx *f);
int texp_teardown(void **state);

/* Runs a shell command built from fmt; its stdout into *out (NULL: dropped). */
int texp_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ogrinfo's feature count of a file or data source (opts: more ogrinfo options). */
long texp_ogr_count(const char *opts, const char *src);

/* The geometry ogrinfo reads for the feature whose ref (or name, in KML) is ref. */
char *texp_ogr_point(const char *opts, const char *src, const char *field, const char *ref);

struct hres {
    long status;
    char *headers;
    char body_path[128];
};

/* GET path as account as (NULL: no credentials), extra: another header or NULL; the
 * body goes to a file in the test's directory, recorded for the OpenAPI check. */
struct hres texp_get(struct fx *f, const char *as, const char *path, const char *extra);

/* A response header's value (new string) or NULL. */
char *texp_header(const struct hres *r, const char *name);

void texp_hres_release(struct hres *r);

/* No file of the test's outputs holds the reporter's pseudonym, chat id or free text. */
void texp_no_identity(struct fx *f);

char *texp_path_in(struct fx *f, const char *name);

/* The tables of the parts' tests, run by main in test_export.c. */
extern const struct CMUnitTest texp_feeds_tests[];
extern const size_t texp_feeds_ntests;
extern const struct CMUnitTest texp_tiles_tests[];
extern const size_t texp_tiles_ntests;
extern const struct CMUnitTest texp_webhooks_tests[];
extern const size_t texp_webhooks_ntests;

#endif
