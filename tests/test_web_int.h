/* tests/test_web_int.h - what test_web's files share: the fixture (a database, the
 * five accounts, a running server), reports seeded as the bot writes them, and the HTTP
 * client with its JSON accessors. */
#ifndef TL_TEST_WEB_INT_H
#define TL_TEST_WEB_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>

#include "common/cfg.h"
#include "common/util.h"
#include "support/testparts.h"

struct fx {
    char dbname[64];
    char *ci;
    struct cfg cfg;
    struct web *w;
    unsigned port;
    struct store *s;
};

void tweb_sha256_hex(const char *s, char out[65]);

/* Every test account's token is "tok-<name>-0123456789abcdef". */
char *tweb_token_of(const char *name);

void tweb_account(struct fx *f, const char *name, const char *role);
void tweb_start_web(struct fx *f);

/* A database named after the test, the five accounts, and (unless later) the server.
 * tune (may be NULL) adjusts the configuration before the server starts. */
struct fx *tweb_fx_new_on(const char *name, void (*tune)(struct cfg *), const char *conninfo);

struct fx *tweb_fx_new(const char *name, void (*tune)(struct cfg *));
void tweb_fx_free(struct fx *f);
int tweb_teardown(void **state);

struct seed {
    const char *ref;
    const char *category; /* NULL: none */
    double lat, lon;      /* 0,0: no point */
    int photos;
    const char *reporter; /* NULL: a default pseudonym */
};

const char *tweb_jpeg(size_t *len);

#define PSEUDO_A "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0a1b2"

long long tweb_seed(struct fx *f, const struct seed *sd);
long long tweb_seed_simple(struct fx *f, const char *ref);
void tweb_sql(struct fx *f, const char *q);
long long tweb_count(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *tweb_scalar(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Waits (up to 5 s) until the server has read every live event committed so far: a
 * change of credentials behind its back (migration 0015) has then reached its kept
 * checks, as it does within WEB_EV_POLL_MS in production. */
void tweb_settle_on(struct fx *f, struct web *w);

void tweb_settle(struct fx *f);

struct hres {
    long status;
    struct tl_buf body;
    struct tl_buf head;
};

struct hreq {
    const char *method;
    const char *path;
    const char *as;     /* account whose bearer token to send, NULL none */
    const char *cookie; /* "tl_session=..." */
    const char *csrf;
    const char *body;
    size_t blen;       /* 0: strlen(body) */
    const char *ctype; /* NULL: application/json when there is a body */
    const char *extra; /* one more request header line, NULL none */
    long timeout_ms;   /* 0: 10 s */
};

void tweb_hres_release(struct hres *r);
struct hres tweb_http_on(CURL *c, unsigned port, const struct hreq *q);
struct hres tweb_http(struct fx *f, const struct hreq *q);

/* The value of a response header (a new string), NULL when absent. */
char *tweb_header(const struct hres *r, const char *name);

struct json_object *tweb_json_of(const struct hres *r);
struct json_object *tweb_jget(struct json_object *o, const char *path);
const char *tweb_jstr(struct json_object *o, const char *path);
long long tweb_jll(struct json_object *o, const char *path);

/* Asserts status and, for errors, the JSON error code and a message. */
void tweb_expect(struct fx *f, const struct hreq *q, long status, const char *error);

/* POST /api/queue/claim as `as` with `body`: the claimed report's id (0: none) and,
 * when asked, the length of its reporter's recent history, which the claim leaves out
 * and GET /api/reports/{id}/reporter gives. */
long long tweb_claim_as(struct fx *f, const char *as, const char *body, size_t *n_recent);

struct sse_client {
    struct fx *f;
    const char *as;
    const char *last_id; /* sent as Last-Event-ID when set */
    pthread_mutex_t mu;
    struct tl_buf got;
    volatile int stop;
    volatile int done; /* the stream ended */
    long status;       /* its HTTP status */
};

void *tweb_sse_main(void *arg);

/* Waits up to ms for needle in what the stream got; returns the ms it took, -1 never. */
long tweb_sse_wait(struct sse_client *s, const char *needle, long ms);

/* Connects s (fresh buffer) and waits up to 5 s for the hello; 0 when the stream ended
 * (or never answered) without it. */
int tweb_sse_connect(struct sse_client *s, pthread_t *th);

/* Runs the tipline binary with args on f's database; returns its exit status. out (may be
 * NULL) gets its stdout as a new string. */
int tweb_tipline(struct fx *f, const char *args, char **out);

struct hres tweb_post_as(struct fx *f, const char *path, const char *as, const char *body);

/* The tables of the parts' tests, run by main in test_web.c. */
extern const struct CMUnitTest tweb_routes_tests[];
extern const size_t tweb_routes_ntests;
extern const struct CMUnitTest tweb_auth_tests[];
extern const size_t tweb_auth_ntests;
extern const struct CMUnitTest tweb_claims_tests[];
extern const size_t tweb_claims_ntests;
extern const struct CMUnitTest tweb_live_tests[];
extern const size_t tweb_live_ntests;
extern const struct CMUnitTest tweb_reports_tests[];
extern const size_t tweb_reports_ntests;
extern const struct CMUnitTest tweb_input_tests[];
extern const size_t tweb_input_ntests;
extern const struct CMUnitTest tweb_procs_tests[];
extern const size_t tweb_procs_ntests;
extern const struct CMUnitTest tweb_decide_tests[];
extern const size_t tweb_decide_ntests;

#endif
