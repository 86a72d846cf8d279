/* bot/client_int.h - what bot/client.c shares with client_multi.c (several calls in
 * flight on the same client); not for other folders. */
#ifndef TL_BOT_CLIENT_INT_H
#define TL_BOT_CLIENT_INT_H

#include <curl/curl.h>
#include <json-c/json.h>
#include <signal.h>

#include "bot/tg.h"
#include "common/util.h"

struct tg_client {
    CURL *h;
    struct curl_slist *json_headers;
    char *base;      /* without trailing '/' */
    char *token;     /* never logged */
    char *token_enc; /* the token with ':' written %3A, also masked */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    volatile sig_atomic_t *abort_flag;
    char errbuf[CURL_ERROR_SIZE];
};

/* A body being received: capped, and the cap hit is remembered so it maps to
 * TL_ETOOBIG rather than a generic write error. */
struct tg_sink {
    struct tl_buf b;
    int too_big;
};

/* Sets h up for one HTTP exchange (body NULL = GET; borrowed until it ends): the
 * answer goes into sb (capped at max), curl's message into errbuf. */
void tg_xfer_setup(struct tg_client *c, CURL *h, char *errbuf, const char *url, const char *body,
                   long extra_ms, size_t max, struct tg_sink *sb);
/* The outcome of an exchange curl finished with cc: *http, and on a curl failure
 * ei->msg holds curl's message, masked, and a debug line names the masked URL. */
int tg_xfer_finish(struct tg_client *c, CURL *h, CURLcode cc, const char *errbuf, const char *url,
                   const struct tg_sink *sb, long *http, struct tl_errinfo *ei, const char *what);
/* What a finished call of method answered: rc from the exchange, then the envelope. */
int tg_call_result(struct tg_client *c, const char *method, int rc, const struct tg_sink *sb,
                   long http, struct json_object **result, struct tl_errinfo *ei);
/* TL_OK when method is a Bot API method name (letters and digits). */
int tg_check_method(const char *method, struct tl_errinfo *ei);
/* Wipes a URL (it holds the token) and frees it. */
void tg_url_free(char *url);

#endif
