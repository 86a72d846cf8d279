/* web/web_export.h - internal to web/: what the exporters' routes share (export.c,
 * ogc.c, tiles.c): the query of a feed as a storage filter, the ETag/Last-Modified
 * answer to a poll, and the streamed body. */
#ifndef TL_WEB_EXPORT_H
#define TL_WEB_EXPORT_H

#include "web_int.h"

/* status, category, since, until, bbox, precision, text (and after when allow_after)
 * of c's query into f, for c's account and rounding. TL_EINVAL with msg. */
int web_export_query(struct web_call *c, struct store_export_filter *f, int allow_after, char *msg,
                     size_t msgsz) TL_WUR;

/* Sets ETag (from the newest decision, c's account and query, and salt) and
 * Last-Modified with Cache-Control cache_control on c's answer: 1 when the answer is
 * made (304 Not Modified, or an error), 0 when the handler goes on, -1 out of memory. */
int web_export_cache(struct web_call *c, const char *salt, const char *cache_control) TL_WUR;

struct web_stream;
/* Writes what follows the last row into b (OGC's links); cls is the stream's. */
typedef int (*web_stream_tail_fn)(struct web_stream *st, void *cls, struct tl_buf *b);
/* Answers c with f's rows in fmt, streamed on a connection of the stream's own;
 * max_rows > 0: at most that many (f->limit one more, to know whether there is a next
 * page); format names it in the audit row; tail NULL: the format's own end, else tail
 * with tail_cls (owned: freed with free() when the stream ends). */
int web_stream_start(struct web_call *c, const struct store_export_filter *f,
                     const struct web_export_fmt *fmt, long long max_rows, const char *format,
                     web_stream_tail_fn tail, void *tail_cls) TL_WUR;
/* For a tail: the last row's cursor written and whether a row past max_rows exists. */
const char *web_stream_last(const struct web_stream *st, int *more);
long long web_stream_count(const struct web_stream *st);
void web_stream_free(void *cls);

/* The routes (api.c's table) and their query keys. */
extern const char *const web_p_feed[];
extern const char *const web_p_ogc[];
extern const char *const web_p_ogc_items[];
int web_h_export_feed(struct web_call *c);
int web_h_ogc_landing(struct web_call *c);
int web_h_ogc_api(struct web_call *c);
int web_h_ogc_conformance(struct web_call *c);
int web_h_ogc_collections(struct web_call *c);
int web_h_ogc_collection(struct web_call *c);
int web_h_ogc_items(struct web_call *c);
int web_h_ogc_item(struct web_call *c);
int web_h_tile(struct web_call *c);
/* webhooks.c */
extern const struct web_field web_f_webhook[];
extern const char *const web_p_webhook_deliveries[];
int web_h_webhook_add(struct web_call *c);
int web_h_webhook_list(struct web_call *c);
int web_h_webhook_disable(struct web_call *c);
int web_h_webhook_deliveries(struct web_call *c);

#endif
