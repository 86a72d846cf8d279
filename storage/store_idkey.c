/* storage/store_idkey.c - the identity keys' side of the database: their check values
 * (a wrong key refused at start), rotation (re-sealing in batches while the bot runs),
 * and the one-time rewrite of a database written before identities were sealed. The
 * keys come from the caller (common/idkey.h); PostgreSQL never sees one. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/idkey.h"
#include "common/log.h"
#include "common/banned.h"

int store_identity_pending(struct store *s, int *pending, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    *pending = 0;
    int rc = st_ready(s, ei);
    if (rc || (rc = st_exec(s, "SELECT pending FROM identity_upgrade", 0, NULL, &r, ei)))
        return rc;
    *pending = PQntuples(r) != 1 || PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return TL_OK;
}

int store_idkeys_verify(struct store *s, const struct idkeys *k, const char *key_file,
                        struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    unsigned char kcv[16];
    char hex[33];
    int rc = st_ready(s, ei), pending = 0;
    if (rc || (rc = store_identity_pending(s, &pending, ei)))
        return rc;
    if (pending)
        return tl_errf(ei, TL_ESCHEMA,
                       "this database still holds Telegram ids in the clear (written before "
                       "identity sealing): run 'tipline keys seal-existing' (or 'tipline migrate' "
                       "with the keys readable) first");
    if ((rc = st_exec(s, "SELECT key_id, encode(kcv, 'hex') FROM identity_keys ORDER BY key_id", 0,
                      NULL, &r, ei)))
        return rc;
    for (int i = 0; i < PQntuples(r) && rc == TL_OK; i++) {
        int id = (int)st_getll(r, i, 0);
        if (idkeys_kcv(k, id, kcv) != TL_OK) {
            rc = tl_errf(ei, TL_ECONFIG,
                         "identity key %d, which sealed values in this database, is not in %s: "
                         "restore it (or, if it is lost, 'tipline keys forget %d' gives up the "
                         "replies to the chats it sealed)",
                         id, key_file, id);
            break;
        }
        tl_hex(kcv, 16, hex);
        if (strcmp(hex, PQgetvalue(r, i, 1)) != 0)
            rc = id == 0 ? tl_errf(ei, TL_ECONFIG,
                                   "the pseudonym key (secret_file) is not the one this database "
                                   "was written with: refusing to start")
                         : tl_errf(ei, TL_ECONFIG,
                                   "identity key %d in %s is not the key %d this database was "
                                   "sealed with: refusing to start",
                                   id, key_file, id);
    }
    PQclear(r);
    if (rc)
        return rc;
    /* the lookup key and every key of the file, recorded once */
    for (size_t i = 0; i <= k->n && rc == TL_OK; i++) {
        char ib[16];
        int id = i == 0 ? 0 : k->key[i - 1].id;
        if ((rc = idkeys_kcv(k, id, kcv)) != TL_OK)
            break;
        tl_hex(kcv, 16, hex);
        const char *v[2] = {st_ll(ib, id), hex};
        rc = st_exec(s,
                     "INSERT INTO identity_keys (key_id, kcv) VALUES ($1::smallint,"
                     " decode($2, 'hex')) ON CONFLICT (key_id) DO NOTHING",
                     2, v, NULL, ei);
    }
    return rc;
}

int store_idkeys_forget(struct store *s, int key_id, size_t *lost, struct tl_errinfo *ei)
{
    char ib[16];
    const char *v[1] = {st_ll(ib, key_id)};
    PGresult *r = NULL;
    *lost = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (key_id < 1 || key_id > 255)
        return tl_errf(ei, TL_EINVAL, "key ids are 1-255");
    rc = st_exec(s,
                 "WITH c AS (UPDATE chats SET chat_sealed = NULL WHERE get_byte(chat_sealed, 1) ="
                 "   $1::int RETURNING 1),"
                 " i AS (UPDATE inbox SET sealed = NULL, processed_at = COALESCE(processed_at,"
                 "   now()) WHERE get_byte(sealed, 1) = $1::int RETURNING 1),"
                 " t AS (DELETE FROM sealed_texts WHERE get_byte(sealed, 1) = $1::int),"
                 " k AS (DELETE FROM identity_keys WHERE key_id = $1::smallint)"
                 " SELECT (SELECT count(*) FROM c) + (SELECT count(*) FROM i)",
                 1, v, &r, ei);
    if (rc == TL_OK)
        *lost = (size_t)st_getll(r, 0, 0);
    PQclear(r);
    return rc;
}

/* ---- rotation ---- */

struct reseal {
    const char *table, *key_col, *val_col, *what, *bind_col; /* bind_col: what AAD names */
};

static const struct reseal reseals[] = {
    {"chats", "chat_id", "chat_sealed", "chat", "chat_id"},
    {"inbox", "update_id", "sealed", "update", "update_id"},
    {"sealed_texts", "id", "sealed", "text", "chat_id"},
};

/* Re-seals, under the current key, up to batch values of one table after *after (its
 * key), each written only if it is still the value read (a worker may have dropped it
 * meanwhile: then it stays dropped). *more = 0 once the table's end was reached. */
static int reseal_batch(struct store *s, const struct idkeys *k, const struct reseal *t,
                        long long *after, size_t batch, size_t *moved, int *more,
                        struct tl_errinfo *ei)
{
    char sql[512], ab[32], bb[32], cb[16];
    struct st_arr ids, olds, news;
    PGresult *r = NULL;
    int rc;
    *more = 0;
    snprintf(sql, sizeof(sql),
             "SELECT %s, encode(%s, 'hex'), get_byte(%s, 1) <> $3::int, %s FROM %s"
             " WHERE %s > $1::bigint AND %s IS NOT NULL ORDER BY %s LIMIT $2::bigint",
             t->key_col, t->val_col, t->val_col, t->bind_col, t->table, t->key_col, t->val_col,
             t->key_col);
    const char *v[3] = {st_ll(ab, *after), st_ll(bb, (long long)batch),
                        st_ll(cb, idkeys_current(k))};
    /* sql is built here: planned each call, never cached by its (reused) buffer */
    if ((rc = st_exec_planned(s, sql, 3, v, &r, ei)))
        return rc;
    st_arr_init(&ids);
    st_arr_init(&olds);
    st_arr_init(&news);
    int nr = PQntuples(r), n = 0;
    for (int i = 0; i < nr && rc == TL_OK; i++) {
        long long id = st_getll(r, i, 0), bind = st_getll(r, i, 3);
        *after = id;
        if (PQgetvalue(r, i, 2)[0] != 't')
            continue;
        size_t cl = 0, pl = 0, nl = 0;
        unsigned char *ct = st_unhex(PQgetvalue(r, i, 1), &cl), *pt = NULL, *nv = NULL;
        rc = ct ? idkeys_open(k, t->what, bind, ct, cl, &pt, &pl) : TL_ENOMEM;
        if (rc == TL_OK)
            rc = idkeys_seal(k, t->what, bind, pt, pl, &nv, &nl);
        char *nh = nv ? malloc(2 * nl + 1) : NULL;
        if (rc == TL_OK && !nh)
            rc = TL_ENOMEM;
        if (rc == TL_OK) {
            tl_hex(nv, nl, nh);
            st_arr_ll(&ids, id);
            st_arr_str(&olds, PQgetvalue(r, i, 1));
            st_arr_str(&news, nh);
            n++;
        } else {
            rc = tl_errf(ei, rc,
                         "%s %s %lld: cannot open its sealed value with the keys "
                         "loaded (%s)",
                         t->table, t->key_col, id, tl_strerror(rc));
        }
        free(nh);
        free(nv);
        if (pt)
            memset(pt, 0, pl);
        free(pt);
        free(ct);
    }
    *more = nr == (int)batch;
    PQclear(r);
    r = NULL;
    if (rc == TL_OK && n > 0) {
        const char *w[3] = {st_arr_end(&ids), st_arr_end(&olds), st_arr_end(&news)};
        snprintf(sql, sizeof(sql),
                 "WITH u AS (UPDATE %s t SET %s = decode(x.n, 'hex')"
                 " FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(id, o, n)"
                 " WHERE t.%s = x.id AND t.%s = decode(x.o, 'hex') RETURNING 1)"
                 " SELECT count(*) FROM u",
                 t->table, t->val_col, t->key_col, t->val_col);
        if (!w[0] || !w[1] || !w[2])
            rc = TL_ENOMEM;
        else if ((rc = st_exec_planned(s, sql, 3, w, &r, ei)) == TL_OK)
            *moved += (size_t)st_getll(r, 0, 0);
    }
    PQclear(r);
    st_arr_release(&ids);
    st_arr_release(&olds);
    st_arr_release(&news);
    return rc;
}

int store_idkeys_rotate(struct store *s, const struct idkeys *k, size_t batch, size_t *moved,
                        size_t *left, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    char cb[16];
    *moved = 0;
    *left = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (!idkeys_current(k))
        return tl_errf(ei, TL_ECONFIG, "no identity key loaded");
    for (size_t t = 0; t < sizeof(reseals) / sizeof(reseals[0]) && rc == TL_OK; t++) {
        long long after = -1; /* ids are >= 0: update ids, chat hashes */
        for (int more = 1; more && rc == TL_OK;)
            rc = reseal_batch(s, k, &reseals[t], &after, batch ? batch : 500, moved, &more, ei);
    }
    if (rc)
        return rc;
    /* what a process still sealing under an older key wrote meanwhile */
    const char *v[1] = {st_ll(cb, idkeys_current(k))};
    rc = st_exec(s,
                 "SELECT (SELECT count(*) FROM chats WHERE get_byte(chat_sealed, 1) <> $1::int)"
                 " + (SELECT count(*) FROM inbox WHERE get_byte(sealed, 1) <> $1::int)"
                 " + (SELECT count(*) FROM sealed_texts WHERE get_byte(sealed, 1) <> $1::int)",
                 1, v, &r, ei);
    if (rc == TL_OK)
        *left = (size_t)st_getll(r, 0, 0);
    PQclear(r);
    return rc;
}

int store_idkeys_retire(struct store *s, int keep_id, size_t *left, size_t *retired,
                        struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    char cb[16];
    *left = *retired = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    const char *v[1] = {st_ll(cb, keep_id)};
    rc = st_exec(s,
                 "WITH l AS (SELECT"
                 "   (SELECT count(*) FROM chats WHERE get_byte(chat_sealed, 1) <> $1::int)"
                 "   + (SELECT count(*) FROM inbox WHERE get_byte(sealed, 1) <> $1::int)"
                 "   + (SELECT count(*) FROM sealed_texts WHERE get_byte(sealed, 1) <> $1::int)"
                 "   AS n),"
                 " d AS (DELETE FROM identity_keys WHERE key_id NOT IN (0, $1::smallint)"
                 "   AND (SELECT n FROM l) = 0 RETURNING 1)"
                 " SELECT (SELECT n FROM l), (SELECT count(*) FROM d)",
                 1, v, &r, ei);
    if (rc == TL_OK) {
        *left = (size_t)st_getll(r, 0, 0);
        *retired = (size_t)st_getll(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

/* ---- a database written before identities were sealed ---- */

/* Every clear chat id the conversation tables name, with its hash and its sealed
 * value, as three array literals. */
static int upgrade_map(struct store *s, const struct idkeys *k, struct st_arr *clear,
                       struct st_arr *hashed, struct st_arr *sealed, size_t *n,
                       struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    int rc =
        st_exec(s,
                "SELECT DISTINCT id FROM (SELECT chat_id AS id FROM chats"
                " UNION SELECT chat_id FROM drafts UNION SELECT chat_id FROM draft_media"
                " UNION SELECT chat_id FROM conv_messages UNION SELECT chat_id FROM conv_notices"
                " UNION SELECT chat_id FROM outbox UNION SELECT chat_key FROM inbox) x"
                " WHERE id <> 0",
                0, NULL, &r, ei);
    if (rc)
        return rc;
    *n = (size_t)PQntuples(r);
    for (int i = 0; i < PQntuples(r) && rc == TL_OK; i++) {
        long long id = st_getll(r, i, 0), h = idkeys_chat(k, id);
        char txt[32];
        int tl = snprintf(txt, sizeof(txt), "%lld", id);
        unsigned char *ct = NULL;
        size_t cl = 0;
        if ((rc = idkeys_seal(k, "chat", h, txt, (size_t)tl, &ct, &cl)) != TL_OK)
            break;
        char *hex = malloc(2 * cl + 1);
        if (!hex) {
            free(ct);
            rc = TL_ENOMEM;
            break;
        }
        tl_hex(ct, cl, hex);
        st_arr_ll(clear, id);
        st_arr_ll(hashed, h);
        st_arr_str(sealed, hex);
        free(hex);
        free(ct);
    }
    PQclear(r);
    return rc;
}

/* The kind of a raw update: its one member besides update_id. */
static const char kind_sql[] =
    "(SELECT min(j) FROM jsonb_object_keys(payload) j WHERE j <> 'update_id')";

/* The unprocessed raw updates, sealed in place (they are still to be handled). */
static int upgrade_inbox(struct store *s, const struct idkeys *k, size_t *n, struct tl_errinfo *ei)
{
    PGresult *r = NULL;
    struct st_arr ids, vals;
    int rc = st_exec(s,
                     "SELECT update_id, payload::text FROM inbox"
                     " WHERE processed_at IS NULL AND payload IS NOT NULL",
                     0, NULL, &r, ei);
    if (rc)
        return rc;
    st_arr_init(&ids);
    st_arr_init(&vals);
    *n = (size_t)PQntuples(r);
    for (int i = 0; i < PQntuples(r) && rc == TL_OK; i++) {
        long long id = st_getll(r, i, 0);
        const char *json = PQgetvalue(r, i, 1);
        unsigned char *ct = NULL;
        size_t cl = 0;
        if ((rc = idkeys_seal(k, "update", id, json, strlen(json), &ct, &cl)) != TL_OK)
            break;
        char *hex = malloc(2 * cl + 1);
        if (hex) {
            tl_hex(ct, cl, hex);
            st_arr_ll(&ids, id);
            st_arr_str(&vals, hex);
        } else {
            rc = TL_ENOMEM;
        }
        free(hex);
        free(ct);
    }
    PQclear(r);
    r = NULL;
    if (rc == TL_OK && *n) {
        char sql[512];
        const char *v[2] = {st_arr_end(&ids), st_arr_end(&vals)};
        snprintf(sql, sizeof(sql),
                 "UPDATE inbox SET sealed = decode(x.v, 'hex'), kind = %s, payload = NULL"
                 " FROM unnest($1::bigint[], $2::text[]) AS x(id, v) WHERE update_id = x.id",
                 kind_sql);
        rc = !v[0] || !v[1] ? TL_ENOMEM : st_exec_planned(s, sql, 2, v, NULL, ei);
    }
    st_arr_release(&ids);
    st_arr_release(&vals);
    return rc;
}

/* The statements that move every table from clear ids to their hashes (idmap: clear,
 * h, cs); the Bot API params of the outbox name the chat by its hash too (the sender
 * puts the clear id back when it sends). */
static const char *const upgrade_sql[] = {
    "UPDATE chats c SET chat_id = m.h, chat_sealed = m.cs FROM idmap m WHERE c.chat_id = m.clear",
    "INSERT INTO chats (chat_id, chat_sealed) SELECT h, cs FROM idmap"
    " ON CONFLICT (chat_id) DO UPDATE SET chat_sealed = EXCLUDED.chat_sealed"
    " WHERE chats.chat_sealed IS NULL",
    "UPDATE drafts d SET chat_id = m.h FROM idmap m WHERE d.chat_id = m.clear",
    "UPDATE draft_media d SET chat_id = m.h FROM idmap m WHERE d.chat_id = m.clear",
    "UPDATE conv_messages d SET chat_id = m.h FROM idmap m WHERE d.chat_id = m.clear",
    "UPDATE conv_notices d SET chat_id = m.h FROM idmap m WHERE d.chat_id = m.clear",
    "UPDATE outbox o SET chat_id = m.h, params = CASE WHEN o.params ? 'chat_id'"
    " THEN jsonb_set(o.params, '{chat_id}', to_jsonb(m.h)) ELSE o.params END"
    " FROM idmap m WHERE o.chat_id = m.clear",
    "UPDATE inbox i SET chat_key = m.h FROM idmap m WHERE i.chat_key = m.clear",
};

int store_sealed_text_put(struct store *s, long long chat, long long message_id,
                          const unsigned char *sealed, size_t len, struct tl_errinfo *ei)
{
    char cb[32], mb[32];
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return TL_ENOMEM;
    tl_hex(sealed, len, hex);
    const char *v[3] = {st_ll(cb, chat), st_ll(mb, message_id), hex};
    int rc = st_exec(s,
                     "INSERT INTO sealed_texts (chat_id, message_id, sealed)"
                     " VALUES ($1::bigint, $2::bigint, decode($3, 'hex'))",
                     3, v, NULL, ei);
    free(hex);
    return rc;
}

int store_identity_seal_existing(struct store *s, const struct idkeys *k, size_t *chats,
                                 size_t *updates, size_t *redacted, struct tl_errinfo *ei)
{
    struct st_arr clear, hashed, sealed;
    PGresult *r = NULL;
    int pending = 0;
    *chats = *updates = *redacted = 0;
    int rc = st_ready(s, ei);
    if (rc)
        return rc;
    if (!idkeys_current(k) || !k->has_lookup)
        return tl_errf(ei, TL_ECONFIG, "the identity keys are not loaded");
    st_arr_init(&clear);
    st_arr_init(&hashed);
    st_arr_init(&sealed);
    if ((rc = st_begin(s, ei)))
        goto out;
    /* the row lock makes a second run wait, then find nothing pending */
    if ((rc = st_exec(s, "SELECT pending FROM identity_upgrade FOR UPDATE", 0, NULL, &r, ei)))
        goto fail;
    pending = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    r = NULL;
    if (!pending) {
        st_rollback(s);
        goto out;
    }
    if ((rc = upgrade_map(s, k, &clear, &hashed, &sealed, chats, ei)))
        goto fail;
    const char *v[3] = {st_arr_end(&clear), st_arr_end(&hashed), st_arr_end(&sealed)};
    if (!v[0] || !v[1] || !v[2]) {
        rc = TL_ENOMEM;
        goto fail;
    }
    if ((rc = st_exec(s,
                      "CREATE TEMP TABLE idmap ON COMMIT DROP AS SELECT x.clear, x.h,"
                      " decode(x.cs, 'hex') AS cs FROM"
                      " unnest($1::bigint[], $2::bigint[], $3::text[]) AS x(clear, h, cs)",
                      3, v, NULL, ei)) ||
        (rc = st_exec(s, "CREATE INDEX ON idmap (clear)", 0, NULL, NULL, ei)) ||
        (rc = st_exec(s, "ANALYZE idmap", 0, NULL, NULL, ei)))
        goto fail;
    for (size_t i = 0; i < sizeof(upgrade_sql) / sizeof(upgrade_sql[0]) && rc == TL_OK; i++)
        rc = st_exec(s, upgrade_sql[i], 0, NULL, NULL, ei);
    if (rc || (rc = upgrade_inbox(s, k, updates, ei)))
        goto fail;
    {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "WITH u AS (UPDATE inbox SET kind = COALESCE(kind, %s), payload = NULL"
                 " WHERE processed_at IS NOT NULL AND payload IS NOT NULL RETURNING 1)"
                 " SELECT count(*) FROM u",
                 kind_sql);
        if ((rc = st_exec_planned(s, sql, 0, NULL, &r, ei)))
            goto fail;
        *redacted = (size_t)st_getll(r, 0, 0);
        PQclear(r);
        r = NULL;
    }
    if ((rc = st_exec(s, "UPDATE identity_upgrade SET pending = false, done_at = now()", 0, NULL,
                      NULL, ei)) ||
        (rc = st_commit(s, ei)))
        goto fail;
    /* the old row versions, which still name everyone, go now rather than at the next
     * autovacuum; the WAL already written and older backups are the operator's to
     * destroy (README) */
    struct tl_errinfo vei;
    if (st_exec_planned(s,
                        "VACUUM FULL chats, drafts, draft_media, conv_messages, conv_notices,"
                        " outbox, inbox",
                        0, NULL, NULL, &vei) != TL_OK)
        log_warn("identities sealed, but the old row versions are still on disk: run VACUUM "
                 "FULL on chats, drafts, draft_media, conv_messages, conv_notices, outbox and "
                 "inbox detail=\"%s\"",
                 vei.msg);
    log_info("identities sealed chats=%zu updates_sealed=%zu updates_redacted=%zu", *chats,
             *updates, *redacted);
    goto out;
fail:
    st_rollback(s);
out:
    PQclear(r);
    st_arr_release(&clear);
    st_arr_release(&hashed);
    st_arr_release(&sealed);
    return rc;
}
