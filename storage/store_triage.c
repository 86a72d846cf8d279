/* storage/store_triage.c - the analysts' queue from a shell: list, claim with a lease,
 * get, decide. Claims and decisions are the API's (web_claim, web_decide: the same
 * queues, leases and audit rows). Nothing here reads the chats table: a report carries
 * only the reporter's pseudonym. */
#include "store_int.h"
#include "store_web.h"

#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

/* The columns of struct store_report, for a row aliased r. The lease is shown only
 * while it is live; a 'new' report under a live lease reads as 'claimed'. */
#define REPORT_COLS                                                                                \
    " r.id, r.public_ref, r.reporter, r.category, r.text,"                                         \
    " CASE WHEN r.status = 'new' AND r.lease_until > now() THEN 'claimed' ELSE r.status END,"      \
    " r.priority, ST_Y(r.point::geometry), ST_X(r.point::geometry), r.point_source,"               \
    " r.accuracy_m, extract(epoch FROM r.received_at), extract(epoch FROM r.observed_at),"         \
    " CASE WHEN r.lease_until > now() THEN r.claimed_by END,"                                      \
    " extract(epoch FROM CASE WHEN r.lease_until > now() THEN r.lease_until END),"                 \
    " (SELECT count(*) FROM media m WHERE m.report_id = r.id), r.forwarded,"                       \
    " array_to_string(r.flags, ','),"                                                              \
    " (SELECT ARRAY[ST_Y(m.gps::geometry), ST_X(m.gps::geometry)]::text FROM media m"              \
    "   WHERE m.report_id = r.id AND m.gps IS NOT NULL ORDER BY m.id LIMIT 1) "

static int report_from_row(const PGresult *res, int i, struct store_report *r)
{
    memset(r, 0, sizeof(*r));
    r->id = st_getll(res, i, 0);
    r->public_ref = st_str(res, i, 1);
    r->reporter = st_str(res, i, 2);
    r->category = st_str(res, i, 3);
    r->text = st_str(res, i, 4);
    r->status = st_str(res, i, 5);
    r->priority = (int)st_getll(res, i, 6);
    r->has_point = !PQgetisnull(res, i, 7);
    r->lat = st_getdbl(res, i, 7);
    r->lon = st_getdbl(res, i, 8);
    r->point_source = st_str(res, i, 9);
    r->accuracy_m = st_getdbl(res, i, 10);
    r->received_at = st_getdbl(res, i, 11);
    r->observed_at = st_getdbl(res, i, 12);
    r->claimed_by = st_str(res, i, 13);
    r->lease_until = st_getdbl(res, i, 14);
    r->n_media = (int)st_getll(res, i, 15);
    r->forwarded = PQgetvalue(res, i, 16)[0] == 't';
    r->flags = st_str(res, i, 17);
    if (!PQgetisnull(res, i, 18) &&
        sscanf(PQgetvalue(res, i, 18), "{%lf,%lf}", &r->photo_lat, &r->photo_lon) == 2)
        r->has_photo_point = 1;
    static const int strcols[] = {1, 2, 3, 4, 5, 9, 13, 17};
    char *const got[] = {r->public_ref, r->reporter,     r->category,   r->text,
                         r->status,     r->point_source, r->claimed_by, r->flags};
    for (size_t k = 0; k < sizeof(strcols) / sizeof(strcols[0]); k++)
        if (!got[k] && !PQgetisnull(res, i, strcols[k]))
            return TL_ENOMEM;
    return TL_OK;
}

static void report_release(struct store_report *r)
{
    free(r->public_ref);
    free(r->reporter);
    free(r->category);
    free(r->text);
    free(r->status);
    free(r->point_source);
    free(r->claimed_by);
    free(r->flags);
}

void store_report_free(struct store_report *r)
{
    if (!r)
        return;
    report_release(r);
    free(r);
}

void store_reports_free(struct store_report *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        report_release(&r[i]);
    free(r);
}

static int reports_from_result(const PGresult *res, struct store_report **out, size_t *n)
{
    int nr = PQntuples(res);
    *out = NULL;
    *n = 0;
    if (nr == 0)
        return TL_OK;
    struct store_report *a = calloc((size_t)nr, sizeof(*a));
    if (!a)
        return TL_ENOMEM;
    for (int i = 0; i < nr; i++) {
        int rc = report_from_row(res, i, &a[i]);
        if (rc) {
            store_reports_free(a, (size_t)i + 1);
            return rc;
        }
    }
    *out = a;
    *n = (size_t)nr;
    return TL_OK;
}

static int status_known(const char *st)
{
    static const char *const known[] = {"new",       "claimed",    "confirmed", "rejected",
                                        "duplicate", "needs_info", "escalated"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(st, known[i]) == 0)
            return 1;
    return 0;
}

int store_triage_list(struct store *s, const struct store_triage_filter *f,
                      struct store_report **out, size_t *n, struct tl_errinfo *ei)
{
    char lb[32];
    PGresult *r = NULL;
    const char *status = f ? f->status : NULL;
    const char *v[3] = {status, f ? f->category : NULL,
                        st_ll(lb, f && f->limit ? (long long)f->limit : 50)};
    *out = NULL;
    *n = 0;
    if (status && !status_known(status))
        return tl_errf(ei, TL_EINVAL, "unknown status '%s'", status);
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* NULL status: the open queue. 'claimed' and 'new' split the new reports by a
     * live lease. */
    rc = st_exec(s,
                 "SELECT" REPORT_COLS "FROM reports r WHERE"
                 " CASE WHEN $1::text IS NULL THEN r.status IN ('new', 'needs_info')"
                 "   WHEN $1::text = 'claimed' THEN r.status = 'new' AND r.lease_until > now()"
                 "   WHEN $1::text = 'new' THEN r.status = 'new'"
                 "     AND (r.lease_until IS NULL OR r.lease_until <= now())"
                 "   ELSE r.status = $1::text END"
                 " AND ($2::text IS NULL OR r.category = $2::text)"
                 " ORDER BY r.priority DESC, r.received_at, r.id LIMIT $3::bigint",
                 3, v, &r, ei);
    if (rc)
        return rc;
    rc = reports_from_result(r, out, n);
    PQclear(r);
    return rc;
}

/* The report by id, as the shell shows it (after a claim of web_claim's). */
static int triage_by_id(struct store *s, long long id, struct store_report **out,
                        struct tl_errinfo *ei)
{
    char ib[32];
    return store_triage_get(s, st_ll(ib, id), out, ei);
}

int store_triage_next(struct store *s, const char *analyst, long lease_s, struct store_report **out,
                      struct tl_errinfo *ei)
{
    char lb[32];
    const char *v[2] = {analyst, st_ll(lb, lease_s > 0 ? lease_s : 1)};
    PGresult *r = NULL;
    long long id = 0;
    *out = NULL;
    if (!analyst || !*analyst)
        return tl_errf(ei, TL_EINVAL, "an analyst name is required");
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* The API's claim (queues the analyst may see, the claim and the view audited);
     * its rendering of the report is not what the shell prints. */
    rc = st_exec(s, "SELECT report_id FROM web_claim($1::text, $2::bigint, NULL, NULL)", 2, v, &r,
                 ei);
    if (rc)
        return rc;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        id = st_getll(r, 0, 0);
    PQclear(r);
    return id ? triage_by_id(s, id, out, ei) : TL_OK; /* NULL when the queue is empty */
}

/* $1 = id when id_or_ref is all digits (else NULL), $2 = the text as a public ref. */
static void id_or_ref_params(const char *id_or_ref, char *buf, const char **v)
{
    long long id;
    v[0] = tl_parse_ll(id_or_ref, &id) == TL_OK && id > 0 ? st_ll(buf, id) : NULL;
    v[1] = id_or_ref;
}

/* store_triage_get (analyst NULL) and store_triage_show. */
static int triage_one(struct store *s, const char *id_or_ref, const char *analyst,
                      struct store_report **out, struct tl_errinfo *ei)
{
    char ib[32];
    const char *v[3];
    PGresult *r = NULL;
    struct store_report *a = NULL;
    size_t n = 0;
    *out = NULL;
    if (!id_or_ref || !*id_or_ref)
        return tl_errf(ei, TL_EINVAL, "a report id or ref is required");
    id_or_ref_params(id_or_ref, ib, v);
    v[2] = analyst;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    /* As the analyst: the API's view (web_report_doc: visible to the analyst, audited);
     * a ref is never all digits, so at most one row is tested. */
    rc = st_exec(s,
                 analyst ? "SELECT" REPORT_COLS "FROM reports r"
                           " WHERE (r.id = $1::bigint OR r.public_ref = $2::text)"
                           " AND web_report_doc(r.id, NULL, $3::text, NULL, true) IS NOT NULL"
                         : "SELECT" REPORT_COLS "FROM reports r"
                           " WHERE r.id = $1::bigint OR r.public_ref = $2::text"
                           " ORDER BY (r.id = $1::bigint) DESC LIMIT 1",
                 analyst ? 3 : 2, v, &r, ei);
    if (rc)
        return rc;
    rc = reports_from_result(r, &a, &n);
    PQclear(r);
    if (rc)
        return rc;
    if (!a)
        return tl_errf(ei, TL_ENOTFOUND, "no report %s", id_or_ref);
    *out = a;
    return TL_OK;
}

int store_triage_get(struct store *s, const char *id_or_ref, struct store_report **out,
                     struct tl_errinfo *ei)
{
    return triage_one(s, id_or_ref, NULL, out, ei);
}

int store_triage_show(struct store *s, const char *id_or_ref, const char *analyst,
                      struct store_report **out, struct tl_errinfo *ei)
{
    if (!analyst || !*analyst)
        return tl_errf(ei, TL_EINVAL, "an analyst is required");
    return triage_one(s, id_or_ref, analyst, out, ei);
}

int store_triage_decide(struct store *s, const char *id_or_ref, const char *analyst,
                        const char *decision, const char *note, struct tl_errinfo *ei)
{
    struct store_decision d = {
        .id_or_ref = id_or_ref, .analyst = analyst, .decision = decision, .note = note};
    return store_report_decide(s, &d, NULL, ei);
}

int store_triage_decide_next(struct store *s, const char *id_or_ref, const char *analyst,
                             const char *decision, const char *note, long lease_s,
                             struct store_report **next, struct tl_errinfo *ei)
{
    struct store_decision d = {
        .id_or_ref = id_or_ref, .analyst = analyst, .decision = decision, .note = note};
    struct store_who who = {.account = analyst, .round_decimals = -1};
    long long id = 0;
    char *json = NULL;
    *next = NULL;
    int rc = store_web_decide_next(s, &who, &d, NULL, lease_s, &id, &json, ei);
    free(json);
    if (rc || !id)
        return rc;
    return triage_by_id(s, id, next, ei);
}

int store_triage_stats(struct store *s, struct store_triage_stats *st, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    memset(st, 0, sizeof(*st));
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    rc =
        st_exec(s,
                "SELECT count(*) FILTER (WHERE status = 'new'"
                "     AND (lease_until IS NULL OR lease_until <= now())),"
                " count(*) FILTER (WHERE status = 'new' AND lease_until > now()),"
                " count(*) FILTER (WHERE status = 'confirmed'),"
                " count(*) FILTER (WHERE status = 'rejected'),"
                " count(*) FILTER (WHERE status = 'duplicate'),"
                " count(*) FILTER (WHERE status = 'needs_info'),"
                " count(*) FILTER (WHERE status = 'escalated'),"
                " COALESCE(extract(epoch FROM now() - min(received_at) FILTER (WHERE status = 'new'"
                "     AND (lease_until IS NULL OR lease_until <= now()))), 0)"
                " FROM reports",
                0, NULL, &r, ei);
    if (rc)
        return rc;
    st->new_ = st_getll(r, 0, 0);
    st->claimed = st_getll(r, 0, 1);
    st->confirmed = st_getll(r, 0, 2);
    st->rejected = st_getll(r, 0, 3);
    st->duplicate = st_getll(r, 0, 4);
    st->needs_info = st_getll(r, 0, 5);
    st->escalated = st_getll(r, 0, 6);
    st->oldest_new_age_s = st_getdbl(r, 0, 7);
    PQclear(r);
    return TL_OK;
}
