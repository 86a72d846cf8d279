/* web/peer.c - who is on the other end: the client's address (the peer's, or the one a
 * trusted proxy forwarded) and the count of connections open per peer address. */
#include "server_int.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/banned.h"

/* The address in s[0..len) (spaces around it allowed), written as inet_ntop writes it:
 * 0, or -1 when it is not one. */
static int addr_norm(const char *s, size_t len, char *out, size_t n)
{
    char tmp[INET6_ADDRSTRLEN];
    const char *e = s + len;
    web_trim(&s, &e);
    len = (size_t)(e - s);
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    unsigned char bin[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, tmp, bin) == 1)
        return inet_ntop(AF_INET, bin, out, (socklen_t)n) ? 0 : -1;
    if (inet_pton(AF_INET6, tmp, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, (socklen_t)n) ? 0 : -1;
    return -1;
}

int web_trusted_proxy(const char *list, const char *addr)
{
    char one[INET6_ADDRSTRLEN];
    for (const char *p = list; p && *p;) {
        size_t k = strcspn(p, ",");
        if (addr_norm(p, k, one, sizeof(one)) == 0 && strcmp(one, addr) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

void web_forwarded_client(const char *trusted, const char *xff, char *out, size_t n)
{
    if (!trusted || !*trusted || !xff || !web_trusted_proxy(trusted, out))
        return;
    size_t end = strlen(xff);
    char one[INET6_ADDRSTRLEN];
    for (int hops = 0; end > 0 && hops < 16; hops++) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        if (addr_norm(xff + start, end - start, one, sizeof(one)))
            return;
        tl_strlcpy(out, one, n);
        if (!web_trusted_proxy(trusted, one) || start == 0)
            return;
        end = start - 1;
    }
}

void web_client_addr(const struct web *w, struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    tl_strlcpy(out, "?", n);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
    web_forwarded_client(w->cfg->trusted_proxies,
                         MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For"), out,
                         n);
}

/* ---- connections per peer address ----
 * libmicrohttpd's own per-address cap would count a reverse proxy's connections too
 * (all of them come from its address), so the server counts them itself: the accept
 * policy refuses a connection from an address that has web_conns_per_client open, the
 * connection notices count them. Both run in libmicrohttpd's listening thread, one
 * connection after the other, so no two accepts race past the cap. */

/* The peer address of sa as inet_ntop writes it ("" when it is neither IPv4 nor IPv6). */
static void peer_text(const struct sockaddr *sa, char *out, size_t n)
{
    out[0] = 0;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* addr's entry, under conns_mu; NULL when it has none. */
static struct web_conn_count *conn_find(struct web *w, const char *addr)
{
    for (size_t i = 0; i < w->n_conns; i++)
        if (strcmp(w->conns[i].addr, addr) == 0)
            return &w->conns[i];
    return NULL;
}

enum MHD_Result web_on_accept(void *cls, const struct sockaddr *sa, socklen_t salen)
{
    struct web *w = cls;
    char addr[INET6_ADDRSTRLEN];
    (void)salen;
    peer_text(sa, addr, sizeof(addr));
    if (w->cfg->web_conns_per_client == 0 || web_trusted_proxy(w->cfg->trusted_proxies, addr))
        return MHD_YES;
    pthread_mutex_lock(&w->conns_mu);
    const struct web_conn_count *c = conn_find(w, addr);
    int over = c && c->n >= (unsigned)w->cfg->web_conns_per_client;
    pthread_mutex_unlock(&w->conns_mu);
    return over ? MHD_NO : MHD_YES;
}

void web_on_connection(void *cls, struct MHD_Connection *conn, void **ctx,
                       enum MHD_ConnectionNotificationCode code)
{
    struct web *w = cls;
    char addr[INET6_ADDRSTRLEN];
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    peer_text(ci ? ci->client_addr : NULL, addr, sizeof(addr));
    pthread_mutex_lock(&w->conns_mu);
    struct web_conn_count *c = conn_find(w, addr);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (!c && w->n_conns < WEB_MAX_CONNS) {
            c = &w->conns[w->n_conns++];
            tl_strlcpy(c->addr, addr, sizeof(c->addr));
            c->n = 0;
        }
        if (c) {
            c->n++;
            *ctx = w; /* counted */
        }
    } else if (*ctx && c && --c->n == 0) {
        *c = w->conns[--w->n_conns];
    }
    pthread_mutex_unlock(&w->conns_mu);
}
