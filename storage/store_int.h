/* storage/store_int.h - internal to storage/: the struct store, the one way every
 * function runs SQL (connection check, PQreset, error mapping), and the text
 * encoders for array parameters. */
#ifndef TL_STORE_INT_H
#define TL_STORE_INT_H

#include <libpq-fe.h>

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
void st_arr_bytea(struct st_arr *a, const unsigned char *p, size_t n);
/* Closes the literal; returns its text (owned by a) or NULL on allocation failure. */
const char *st_arr_end(struct st_arr *a);
void st_arr_release(struct st_arr *a);

/* The conversation's batched writes: the updates store_conv_defer held back in
 * the open transaction, written in one statement by st_conv_flush (store_conv.c). The
 * arrays are initialised by the first update held and released by every flush. */
#define ST_DEFER_U 4 /* per update: update_id, draft_id, user message id, draft put */
#define ST_DEFER_O 6 /* per reply: its update's ordinal, chat_id, method, params, prompt, track */
struct st_defer {
    size_t n;
    long long chat_id;
    struct st_arr u[ST_DEFER_U], o[ST_DEFER_O];
    char *draft_json; /* the last held STORE_DRAFT_PUT's state, NULL when none */
    long idle_minutes;
    int upsert;         /* a held update writes the chat's rows: */
    char *up_pseudonym; /* its pseudonym (NULL none) */
    long long up_chat;  /* its chat (0 none) */
    char *up_lang;      /* its chat's language (NULL keep) */
};

struct store {
    PGconn *conn;
    struct st_defer defer; /* conversation: held updates (store_conv_defer) */
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

int st_begin(struct store *s, struct tl_errinfo *ei);
int st_commit(struct store *s, struct tl_errinfo *ei);
/* Best effort; keeps ei as the caller filled it. */
void st_rollback(struct store *s);

/* Error details of a failed result, and the mapping to TL_EDB / TL_EDBDOWN. */
int st_fail(struct store *s, const PGresult *r, struct tl_errinfo *ei);

/* Text forms of numbers for parameters (into a caller buffer of 32 bytes). */
const char *st_ll(char *buf, long long v);
const char *st_dbl(char *buf, double v);

/* Column helpers: NULL-aware copies and parses. */
char *st_str(const PGresult *r, int row, int col); /* new string or NULL; ENOMEM not told */
long long st_getll(const PGresult *r, int row, int col);
double st_getdbl(const PGresult *r, int row, int col);

/* Shared with store_intake.c: chat keys held by this session. */
int st_held_add(struct store *s, long long key);
void st_held_del(struct store *s, long long key);
int st_held_has(const struct store *s, long long key);

/* relay (store_relay.c): appends fx->answer to follow-up fx->followup_id, inside the
 * transaction that then applies fx, and only while fx's inbox row is unprocessed (it is
 * locked here), so a re-run update appends nothing. */
int st_followup_answer(struct store *s, const struct store_effects *fx, struct tl_errinfo *ei);
/* store_apply's statement inside a transaction the caller
 * opened (store_conv.c); store_intake.c defines it. */
int st_apply_in_tx(struct store *s, const struct store_effects *fx, long long *report_id,
                   struct tl_errinfo *ei);

#endif
