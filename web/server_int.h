/* web/server_int.h - what the HTTP server's files share: the server itself (server.c
 * starts and stops it), its database pools (pool.c), its rate limiter (rate.c), its view
 * of peers and clients (peer.c), the static files (files.c) and a request's way in to a
 * route (request.c). Route handlers see only web_int.h. */
#ifndef TL_WEB_SERVER_INT_H
#define TL_WEB_SERVER_INT_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "common/tbucket.h"
#include "web_int.h"

#define WEB_RATE_SLOTS 1024
#define WEB_RATE_PROBE 8
#define WEB_MAX_CONNS 512 /* connections in all: each one a thread */

struct web_rate_slot {
    char key[80]; /* as long as the key admit (request.c) builds */
    struct tl_tbucket b;
};

struct web_pool_waiter;
struct web_pool {
    const char *url;
    atomic_llong *waits, *wait_us; /* the metrics it adds to */
    atomic_llong *epoch;           /* NULL, or: idle connections from before it moved are dead */
    long long idle_epoch;
    pthread_mutex_t mu;
    struct store **idle;
    size_t n_idle, n_open, max_open;
    struct web_pool_waiter *wait_head, *wait_tail; /* requests waiting, oldest first */
};

struct web {
    const struct cfg *cfg;
    struct MHD_Daemon *d;
    unsigned port;
    char *csp;
    unsigned rounded;           /* role bits that see rounded points */
    struct web_pool pool;       /* connections to database_url */
    struct web_pool rpool;      /* ... and to the read replica's, when one is configured */
    struct web_replica replica; /* whether the read-only routes may read from it (replica.c) */
    pthread_mutex_t rate_mu;
    struct web_rate_slot *rate;
    struct web_events ev;
    int ev_started;
    struct web_creds *creds;     /* credentials checked lately (creds.c) */
    struct web_streams *streams; /* open event streams per account (streams.c) */
    pthread_mutex_t conns_mu;
    struct web_conn_count *conns; /* open connections per peer address (WEB_MAX_CONNS) */
    size_t n_conns;
    struct web_metrics metrics; /* /metrics (metrics.c) */
};

struct web_conn_count {
    char addr[INET6_ADDRSTRLEN];
    unsigned n;
};

struct web_req {
    char *uri; /* as the client sent it, with the query */
    struct tl_buf body;
    int started;
    int too_big;
};

/* ---- the database pool (pool.c) ---- */
/* A connection of p: an idle one, a new one while fewer than max_open are open, else the
 * next one given back (waiting in line). NULL when a new one cannot be opened. */
struct store *web_pool_get(struct web_pool *p, struct tl_errinfo *ei);
/* Gives s back to p (to the longest waiter, or idle). NULL is a no-op. */
void web_pool_put(struct web_pool *p, struct store *s);
/* At most max_open connections to url; waits are counted in m. */
int web_pool_init(struct web_pool *p, const char *url, size_t max_open,
                  struct web_metrics *m) TL_WUR;
/* Closes the idle connections (all are idle when the server has stopped). */
void web_pool_release(struct web_pool *p);

/* ---- the rate limit (rate.c) ---- */
/* 0 when a request under key may go now, else the seconds to wait. */
long web_rate_take(struct web *w, const char *key);

/* ---- peers and clients (peer.c) ---- */
/* 1 when addr (normalised) is one of the comma-separated trusted_proxies. */
int web_trusted_proxy(const char *list, const char *addr);
/* The client's address, for per-client limits: the peer's, or the one its
 * X-Forwarded-For names when the peer is a trusted proxy (web_forwarded_client). */
void web_client_addr(const struct web *w, struct MHD_Connection *conn, char *out, size_t n);
/* libmicrohttpd's accept policy and connection notices (cls: the server): at most
 * web_conns_per_client connections open per peer address. */
enum MHD_Result web_on_accept(void *cls, const struct sockaddr *sa, socklen_t salen);
void web_on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
                       enum MHD_ConnectionNotificationCode code);

/* ---- static files (files.c) ---- */
/* 1 when the path is a static one (answered into r), 0 when it is not. */
int web_serve_static(const char *method, const struct web_path *p, struct web_resp *r);

/* ---- a request (request.c) ---- */
/* Answers the request rq (method, on conn) into r: checked, routed, authorised, run. */
void web_handle(struct web *w, struct MHD_Connection *conn, struct web_req *rq, const char *method,
                struct web_resp *r);

#endif
