/* web/webhook_addr.c - where an outgoing webhook may post: a subscriber names the URL,
 * and the server posts from inside the deployment's network, so without a check a URL
 * would reach the cloud's metadata service (169.254.169.254), the database's host or
 * anything behind the firewall (server-side request forgery). The host is read as
 * libcurl reads it (the parser that connects), every address it resolves to must be
 * public, and the sender connects to the address checked (CURLOPT_RESOLVE) and checks
 * again the address of each socket it opens, so a name that resolves elsewhere the
 * second time (DNS rebinding) gains nothing. `webhook_allow_private` lifts the check
 * for intranet receivers and the tests. */
#include "web.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "common/banned.h"

/* IPv4 (host order) that is no public unicast address (RFC 6890's special ranges). */
static int v4_private(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } nets[] = {
        {0x00000000, 8},  /* "this network", 0.0.0.0 */
        {0x0a000000, 8},  /* 10/8 */
        {0x64400000, 10}, /* 100.64/10 shared (CGNAT; Alibaba's metadata 100.100.100.200) */
        {0x7f000000, 8},  /* loopback */
        {0xa9fe0000, 16}, /* link-local: the metadata services at 169.254.169.254 */
        {0xac100000, 12}, /* 172.16/12 */
        {0xc0000000, 24}, /* IETF protocol assignments */
        {0xc0000200, 24}, /* TEST-NET-1 */
        {0xc0586300, 24}, /* 6to4 relay anycast */
        {0xc0a80000, 16}, /* 192.168/16 */
        {0xc6120000, 15}, /* benchmarking */
        {0xc6336400, 24}, /* TEST-NET-2 */
        {0xcb007100, 24}, /* TEST-NET-3 */
        {0xe0000000, 4},  /* multicast */
        {0xf0000000, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if ((a & (0xffffffffu << (32 - nets[i].bits))) == nets[i].net)
            return 1;
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int v6_private(const unsigned char *b)
{
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(b, zero, 12) == 0) /* ::, ::1, IPv4-compatible: none is a public peer */
        return 1;
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_private(be32(b + 12));
    if (b[0] == 0x20 && b[1] == 0x02) /* 6to4: the IPv4 address it carries */
        return v4_private(be32(b + 2));
    if ((b[0] & 0xfe) == 0xfc) /* unique local fc00::/7 (AWS's metadata fd00:ec2::254) */
        return 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local fe80::/10 */
        return 1;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* site-local fec0::/10 (deprecated) */
        return 1;
    if (b[0] == 0xff) /* multicast */
        return 1;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
        return 1;
    if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0) /* discard 100::/64 */
        return 1;
    return 0;
}

int web_addr_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_private(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return v6_private(((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr);
    return 1; /* no other family is a webhook's */
}

/* The text of ai's address; 0 or -1. */
static int addr_text(const struct addrinfo *ai, char out[INET6_ADDRSTRLEN])
{
    const void *ip =
        ai->ai_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;
    return inet_ntop(ai->ai_family, ip, out, INET6_ADDRSTRLEN) ? 0 : -1;
}

int web_webhook_target(const char *url, int allow_private, char *pin, size_t pinsz, char *why,
                       size_t whysz)
{
    char *host = NULL, *port = NULL, *scheme = NULL;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = TL_EINVAL;
    pin[0] = 0;
    why[0] = 0;
    CURLU *u = curl_url();
    if (!u)
        return TL_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(why, whysz, "not a URL with a host");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(why, whysz, "not an http or https URL");
        goto out;
    }
    /* an IPv6 literal comes bracketed, with its zone id if any: the address alone */
    char name[256];
    size_t hn = strlen(host);
    if (host[0] == '[' && hn > 2)
        snprintf(name, sizeof(name), "%.*s", (int)strcspn(host + 1, "%]"), host + 1);
    else
        snprintf(name, sizeof(name), "%s", host);
    int gai = getaddrinfo(name, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, whysz, "host %.100s does not resolve (%s)", name, gai_strerror(gai));
        rc = TL_ENET;
        goto out;
    }
    const struct addrinfo *use = NULL;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (!allow_private && web_addr_private(ai->ai_addr)) {
            /* one private address among public ones is refused too: which one a
             * client picks is not ours to choose */
            char a[INET6_ADDRSTRLEN] = "?";
            if (addr_text(ai, a))
                snprintf(a, sizeof(a), "?");
            snprintf(why, whysz,
                     "host %.100s is or resolves to %s, a private, loopback or link-local "
                     "address (webhook_allow_private is off)",
                     name, a);
            goto out;
        }
        if (!use)
            use = ai;
    }
    if (!use) {
        snprintf(why, whysz, "host %.100s has no IPv4 or IPv6 address", name);
        rc = TL_ENET;
        goto out;
    }
    char a[INET6_ADDRSTRLEN];
    if (addr_text(use, a)) {
        snprintf(why, whysz, "cannot format the address of %.100s", name);
        goto out;
    }
    /* CURLOPT_RESOLVE's "HOST:PORT:ADDRESS", the host as curl will look it up */
    int n = use->ai_family == AF_INET6 ? snprintf(pin, pinsz, "%s:%s:[%s]", name, port, a)
                                       : snprintf(pin, pinsz, "%s:%s:%s", name, port, a);
    if (n < 0 || (size_t)n >= pinsz) {
        pin[0] = 0;
        snprintf(why, whysz, "host name too long");
        goto out;
    }
    rc = TL_OK;
out:
    if (res)
        freeaddrinfo(res);
    curl_free(host);
    curl_free(port);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}
