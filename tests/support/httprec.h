/* tests/support/httprec.h - a record of every answer the web tests receive, one JSON
 * line each, that tests/openapi/check.mjs then validates against web/openapi.yaml. */
#ifndef TL_HTTPREC_H
#define TL_HTTPREC_H

#include <stddef.h>

/* Appends {"method","path","status","ctype","len","body"} as one line to
 * <TL_BINARY_DIR>/openapi/<program>.jsonl; the program's first call truncates the file,
 * so it holds the last run only. path is the request target as sent (query included);
 * ctype the response's Content-Type or NULL; body (len bytes) is kept as text only when
 * ctype is a JSON type, else only its length. Safe from several threads (one append per
 * line); aborts the test when the file cannot be written. */
void ts_http_record(const char *method, const char *path, long status, const char *ctype,
                    const char *body, size_t len);

#endif
