/* storage/store_int.h - internal to storage/: the struct store, the one way every
 * function runs SQL (connection check, PQreset, error mapping), and the text
 * encoders for array parameters. */
#ifndef TL_STORE_INT_H
#define TL_STORE_INT_H

#include <libpq-fe.h>
#include <string.h>

#include "common/util.h"
#include "storage/store.h"

/* Advisory-lock keys. Chats use the one-bigint key space (the chat key itself);
 * tipline's own locks use the two-int key space, class 'tipl', which PostgreSQL
 * keeps apart from the bigint space, so a chat key can never collide with them. */
#define ST_LOCK_CLASS 0x7469706c /* 'tipl' */
#define ST_LOCK_POLLER 1
#define ST_LOCK_MIGRATE 2

/* Statements this connection has prepared, by the address and text of their SQL. */
struct st_prep {
    const char *sql;
    char name[16];
};

/* A PostgreSQL array literal in text form, built element by element. */
struct st_arr {
    struct tl_buf b;
    int n;
    int err;
};
void st_arr_init(struct st_arr *a);
void st_arr_str(struct st_arr *a, const char *v); /* NULL -> NULL element */
void st_arr_ll(struct st_arr *a, long long v);
/* Closes the literal; returns its text (owned by a) or NULL on allocation failure. */
const char *st_arr_end(struct st_arr *a);
void st_arr_release(struct st_arr *a);

/* A bytea[] parameter in PostgreSQL's binary array format (paramFormats 1): the sealed
 * bytes travel as they are, not as hex text twice their size inside an array literal
 * the server must parse. Embedded: st_barr_init / st_barr_release. */
struct st_barr {
    struct tl_buf b;
    int n, nulls, err;
};
void st_barr_init(struct st_barr *a);
void st_barr_add(struct st_barr *a, const void *p, size_t len); /* p NULL -> NULL element */
/* Closes the array; returns its bytes (owned by a) and *len, or NULL on allocation failure. */
const char *st_barr_end(struct st_barr *a, int *len);
void st_barr_release(struct st_barr *a);

/* The bytes of a hex text (a bytea column read through encode(x, 'hex')); a new
 * buffer (free()) of *n bytes and a NUL, NULL on allocation failure or an empty text. */
unsigned char *st_unhex(const char *h, size_t *n);

/* The one write path (store_plan.c): a batch of updates' effects encoded as the jsonb
 * document store_apply_plan() (storage/schema/store_apply_plan.sql) writes in one call.
 * Embedded: st_plan_init / st_plan_release / st_plan_clear. */
struct st_plan {
    struct tl_buf u, o, m, d, seg; /* the members of the document's arrays */
    size_t n;                      /* updates added */
    size_t n_id;                   /* of which with an inbox row */
    size_t n_o, n_m, n_d;          /* rows of "o", "m", "d" */
    size_t seg_lo;                 /* first update of the open segment, 0 none */
    int seg_ops;
    /* the open segment's last draft put: where its state sits in u, for the next put of
     * the same chat in the segment to drop it (only the last state is written) */
    size_t dj_k, dj_at, dj_len;
    long long dj_cc;
    int err; /* an allocation failed: the plan cannot be written */
};
void st_plan_init(struct st_plan *p);
/* In the header: store_free (store.c) releases the plan a store holds, and store.c
 * calls nothing else of store_plan.c. */
static inline void st_plan_release(struct st_plan *p)
{
    tl_buf_release(&p->u);
    tl_buf_release(&p->o);
    tl_buf_release(&p->m);
    tl_buf_release(&p->d);
    tl_buf_release(&p->seg);
    memset(p, 0, sizeof(*p));
}
void st_plan_clear(struct st_plan *p);
/* Appends one update's effects (cx may be NULL: no conversation rows). Checks them as
 * the statements would (TL_EINVAL); on error the plan is as it was. */
int st_plan_add(struct st_plan *p, const struct store_effects *fx,
                const struct store_conv_effects *cx, struct tl_errinfo *ei) TL_WUR;
/* What the relay writes for one claimed row (store_relay.c): a follow-up's question
 * relayed (followup_id; relayed_at set when params, relay_error = reason) or a report's
 * reviewed notice (report_id; reviewed_notified_at set), with the message to queue
 * (params, NULL none) to chat_id. */
struct st_relay_mark {
    long long followup_id, report_id, chat_id;
    const char *params, *reason;
};
/* Appends one relay mark to the plan, as st_plan_add appends an update. */
int st_plan_add_relay(struct st_plan *p, const struct st_relay_mark *rm,
                      struct tl_errinfo *ei) TL_WUR;
/* Writes the plan with one call of store_apply_plan() (in the open transaction, if any,
 * else as its own) and clears it, whatever the outcome. report_ids (may be NULL) gets
 * the new report ids (0 none) of the updates after the first `first`; every new report
 * counts in s->conv_reports. TL_ECONFLICT on a
 * public_ref clash, TL_ENOTFOUND for an update_id not in the inbox: nothing written. */
int st_plan_write(struct store *s, struct st_plan *p, size_t first, long long *report_ids,
                  struct tl_errinfo *ei) TL_WUR;

struct store {
    PGconn *conn;
    struct st_plan plan;    /* conversation: updates held back (store_conv_defer) */
    long long conv_reports; /* reports written since store_conv_begin (st_plan_write) */
    struct st_prep *prep;
    size_t n_prep, cap_prep;
    unsigned long generation; /* +1 on each successful PQreset */
    int poller_held;
    long long *held; /* chat keys this session holds (session advisory locks) */
    size_t n_held, cap_held;
};

/* Makes sure the connection is usable: PQreset once when it is bad (TL_EDBDOWN if
 * that fails), and rolls back a transaction a failed earlier call left open. */
int st_ready(struct store *s, struct tl_errinfo *ei);

/* Runs one parameterised statement (all parameters text, NULL = SQL NULL), as a
 * statement prepared once per connection (sql must be a string that outlives the
 * store: a literal). On success
 * *out (may be NULL: then cleared here) holds the result, to PQclear. On failure
 * fills ei (SQLSTATE, message) and returns TL_EDBDOWN when the connection is gone,
 * else TL_EDB. Does not call st_ready. */
int st_exec(struct store *s, const char *sql, int n, const char *const *vals, PGresult **out,
            struct tl_errinfo *ei);
/* Like st_exec, but planned on every call for the values given (PQexecParams, no
 * cached plan): for queue claims, whose best plan depends on the queue's current size. */
int st_exec_planned(struct store *s, const char *sql, int n, const char *const *vals,
                    PGresult **out, struct tl_errinfo *ei) TL_WUR;

/* Like st_exec, with binary parameters where fmts[i] is 1 (lens[i] their sizes; fmts
 * NULL: all text) and, with bin_result, every column of the result in binary (a text
 * column's bytes as they are, NUL-terminated by libpq; a bytea's raw bytes). */
int st_exec_bin(struct store *s, const char *sql, int n, const char *const *vals, const int *lens,
                const int *fmts, int bin_result, PGresult **out, struct tl_errinfo *ei) TL_WUR;

int st_begin(struct store *s, struct tl_errinfo *ei);
int st_commit(struct store *s, struct tl_errinfo *ei);
/* Best effort; keeps ei as the caller filled it. */
void st_rollback(struct store *s);

/* Runs sql and returns its one text value as a new string in *out (free()); a missing
 * row or NULL is TL_ENOTFOUND with the message what. Calls st_ready. */
int st_one_text(struct store *s, const char *sql, int n, const char *const *v, char **out,
                const char *what, struct tl_errinfo *ei) TL_WUR;

/* Error details of a failed result, and the mapping to TL_EDB / TL_EDBDOWN. */
int st_fail(struct store *s, const PGresult *r, struct tl_errinfo *ei);

/* Text forms of numbers for parameters (into a caller buffer of 32 bytes). */
const char *st_ll(char *buf, long long v);
const char *st_dbl(char *buf, double v);

/* Column helpers: NULL-aware copies and parses. */
char *st_str(const PGresult *r, int row, int col); /* new string or NULL; ENOMEM not told */
long long st_getll(const PGresult *r, int row, int col);
double st_getdbl(const PGresult *r, int row, int col);

/* The SQLSTATEs the SQL functions (storage/schema/) raise as the error codes they mean:
 * P0002 TL_ENOTFOUND, TL409 TL_ECONFLICT, 22023 TL_EINVAL, 42501 TL_EFORBIDDEN. */
int st_fn_err(int rc, struct tl_errinfo *ei);

/* store_mod.c: reads lk->mod_reporter's moderation inputs into lk->mod (in the open
 * transaction). */
int st_mod_load(struct store *s, long long chat_id, struct store_conv_lookup *lk,
                struct tl_errinfo *ei) TL_WUR;

/* Shared with store_intake.c: chat keys held by this session. */
int st_held_add(struct store *s, long long key);
void st_held_del(struct store *s, long long key);
int st_held_has(const struct store *s, long long key);

#endif
