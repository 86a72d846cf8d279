/* storage/store_ops.c - what the operators' endpoints (/metrics, /readyz) read from the
 * database: one call of ops_metrics(). */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

void store_metrics_free(struct store_metric *m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].name);
        free(m[i].labels);
    }
    free(m);
}

int store_ops_metrics(struct store *s, struct store_metric **out, size_t *n, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    struct store_metric *m = NULL;
    size_t k = 0;
    *out = NULL;
    *n = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc = st_exec(s, "SELECT name, labels, value FROM ops_metrics()", 0, NULL, &r, ei);
    if (rc)
        return rc;
    int nr = PQntuples(r);
    m = calloc(nr > 0 ? (size_t)nr : 1, sizeof(*m));
    if (!m) {
        rc = TL_ENOMEM;
        goto out;
    }
    for (k = 0; k < (size_t)nr; k++) {
        int i = (int)k;
        m[k].name = tl_strdup(PQgetvalue(r, i, 0));
        m[k].labels = tl_strdup(PQgetvalue(r, i, 1));
        m[k].value = strtod(PQgetvalue(r, i, 2), NULL);
        if (!m[k].name || !m[k].labels) {
            k++;
            rc = TL_ENOMEM;
            goto out;
        }
    }
    *out = m;
    *n = k;
    m = NULL;
out:
    store_metrics_free(m, k);
    PQclear(r);
    return rc;
}
