/* daemon/seal.c - Telegram identities sealed at the boundary (seal.h). */
#include "seal.h"

#include <ctype.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "common/banned.h"

void seal_bufs_release(struct seal_bufs *b)
{
    free(b->update);
    free(b->chat);
    b->update = b->chat = NULL;
}

/* The update's kind: its member besides update_id (Telegram sends exactly one). */
static const char *update_kind(struct json_object *u)
{
    json_object_object_foreach(u, key, val)
    {
        (void)val;
        if (strcmp(key, "update_id") != 0)
            return key;
    }
    return NULL;
}

/* ---- the chat cache ---- */

/* "-" and 19 digits at most: the sealed value fits */
#define CHAT_SEALED_MAX (IDKEY_OVERHEAD + 24)

struct chat_slot {
    long long chat, hash; /* chat 0: empty */
    size_t len;
    unsigned char sealed[CHAT_SEALED_MAX];
};

struct seal_chat_cache {
    /* the keys the entries were made under: the current data key and the lookup key */
    int key_id;
    unsigned char key[32], lookup[32];
    size_t slots;
    struct chat_slot slot[];
};

struct seal_chat_cache *seal_chat_cache_new(size_t slots)
{
    if (!slots || slots > ((size_t)1 << 24))
        return NULL;
    struct seal_chat_cache *c = calloc(1, sizeof(*c) + slots * sizeof(c->slot[0]));
    if (c)
        c->slots = slots;
    return c;
}

static void cache_wipe(struct seal_chat_cache *c)
{
    OPENSSL_cleanse(c->slot, c->slots * sizeof(c->slot[0]));
    OPENSSL_cleanse(c->key, sizeof(c->key));
    OPENSSL_cleanse(c->lookup, sizeof(c->lookup));
    c->key_id = 0;
}

void seal_chat_cache_free(struct seal_chat_cache *c)
{
    if (!c)
        return;
    cache_wipe(c);
    free(c);
}

/* Empties c unless its entries were made under k's current key and lookup key. */
static void cache_key(struct seal_chat_cache *c, const struct idkeys *k)
{
    int id = idkeys_current(k);
    const unsigned char *key = k->key[k->n - 1].k;
    if (c->key_id == id && memcmp(c->key, key, sizeof(c->key)) == 0 &&
        memcmp(c->lookup, k->lookup, sizeof(c->lookup)) == 0)
        return;
    cache_wipe(c);
    c->key_id = id;
    memcpy(c->key, key, sizeof(c->key));
    memcpy(c->lookup, k->lookup, sizeof(c->lookup));
}

int seal_chat(const struct idkeys *k, struct idkeys_cipher *cc, struct seal_chat_cache *c,
              long long chat, long long *hash, unsigned char **sealed, size_t *sealed_len)
{
    char txt[32];
    *sealed = NULL;
    *sealed_len = 0;
    *hash = 0;
    if (!chat || !k->n)
        return TL_EINVAL;
    struct chat_slot *s = NULL;
    if (c) {
        cache_key(c, k);
        /* the ids' low bits are spread enough; a multiplicative mix for the rest */
        s = &c->slot[((unsigned long long)chat * 0x9e3779b97f4a7c15ULL >> 17) % c->slots];
        if (s->chat == chat) {
            if (!(*sealed = malloc(s->len)))
                return TL_ENOMEM;
            memcpy(*sealed, s->sealed, s->len);
            *sealed_len = s->len;
            *hash = s->hash;
            return TL_OK;
        }
    }
    long long h = idkeys_chat(k, chat);
    int n = snprintf(txt, sizeof(txt), "%lld", chat);
    int rc =
        h ? idkeys_seal_with(k, cc, "chat", h, txt, (size_t)n, sealed, sealed_len) : TL_ECONFIG;
    if (rc != TL_OK)
        return rc;
    *hash = h;
    if (s && *sealed_len <= sizeof(s->sealed)) {
        s->chat = chat;
        s->hash = h;
        s->len = *sealed_len;
        memcpy(s->sealed, *sealed, *sealed_len);
    }
    return TL_OK;
}

int seal_inbox_row(const struct idkeys *k, struct idkeys_cipher *cc, struct seal_chat_cache *cache,
                   struct json_object *u, struct store_inbox_row *row, struct seal_bufs *b)
{
    struct json_object *id;
    memset(row, 0, sizeof(*row));
    memset(b, 0, sizeof(*b));
    if (!json_object_object_get_ex(u, "update_id", &id))
        return TL_EINVAL;
    row->update_id = json_object_get_int64(id);
    long long chat = tg_update_chat_key(u);
    row->kind = update_kind(u);
    const char *json = json_object_to_json_string_ext(u, JSON_C_TO_STRING_PLAIN);
    int rc = idkeys_seal_with(k, cc, "update", row->update_id, json, strlen(json), &b->update,
                              &row->sealed_len);
    if (rc == TL_OK && chat)
        rc = seal_chat(k, cc, cache, chat, &row->chat_key, &b->chat, &row->chat_sealed_len);
    if (rc != TL_OK) {
        seal_bufs_release(b);
        return rc;
    }
    row->sealed = b->update;
    row->chat_sealed = b->chat;
    return TL_OK;
}

/* ---- masking ---- */

/* The phone number starting at p, if one does: its length in bytes (ending on a digit)
 * and how many leading digits are its country code (kept). 0 when none. */
static size_t phone_at(const char *p, size_t *keep)
{
    int plus = *p == '+';
    size_t i = plus || *p == '(', digits = 0, last = 0;
    char first[4] = {0};
    while (p[i]) {
        if (isdigit((unsigned char)p[i])) {
            if (digits < 3)
                first[digits] = p[i];
            if (++digits > 15)
                return 0;
            last = ++i;
            continue;
        }
        /* one or two separators ("-", " ", ") ", "(") between digits */
        size_t j = i;
        while (j - i < 2 && p[j] && strchr(" -().", p[j]))
            j++;
        if (j > i && isdigit((unsigned char)p[j]) && (digits || plus)) {
            i = j;
            continue;
        }
        break;
    }
    if (plus && digits >= 10) {
        *keep = 3;
        return last;
    }
    /* national: 0XX XXX XX XX (operator code 0 then non-zero), or 380 XX XXX XX XX */
    if (!plus && digits == 10 && first[0] == '0' && first[1] != '0') {
        *keep = 0;
        return last;
    }
    if (!plus && digits == 12 && strncmp(first, "380", 3) == 0) {
        *keep = 3;
        return last;
    }
    return 0;
}

int seal_mask_text(char *text, const char *username)
{
    int n = 0;
    size_t ul = username ? strlen(username) : 0;
    for (size_t i = 0; text && text[i];) {
        /* a number begins after a non-digit (not inside a longer number or a word) */
        int start = (i == 0 || !isalnum((unsigned char)text[i - 1])) &&
                    (text[i] == '+' || text[i] == '(' || isdigit((unsigned char)text[i]));
        size_t keep = 0, len = start ? phone_at(text + i, &keep) : 0;
        if (len && !isdigit((unsigned char)text[i + len])) {
            size_t d = 0, total = 0;
            for (size_t j = 0; j < len; j++)
                total += isdigit((unsigned char)text[i + j]) != 0;
            for (size_t j = 0; j < len; j++)
                if (isdigit((unsigned char)text[i + j])) {
                    d++;
                    if (d > keep && d + 2 <= total)
                        text[i + j] = '*';
                }
            n++;
            i += len;
            continue;
        }
        if (ul && text[i] == '@' && strncasecmp(text + i + 1, username, ul) == 0 &&
            !isalnum((unsigned char)text[i + 1 + ul]) && text[i + 1 + ul] != '_') {
            /* "@***" and the rest of the name's place dropped */
            memcpy(text + i + 1, "***", ul < 3 ? ul : 3);
            if (ul > 3)
                memmove(text + i + 4, text + i + 1 + ul, strlen(text + i + 1 + ul) + 1);
            n++;
            i += 1 + (ul < 3 ? ul : 3);
            continue;
        }
        i++;
    }
    return n;
}

/* The hash of a clear chat id, in place; 0 stays 0. The chat the inbox keyed the update
 * by (clear) has its hash in the row already (known): not computed again. */
static void hash_id(const struct idkeys *k, long long clear, long long known, long long *id)
{
    *id = clear && known && *id == clear ? known : idkeys_chat(k, *id);
}

int seal_open_update(const struct idkeys *k, struct idkeys_cipher *cc,
                     const struct store_update *su, struct tg_update *u, unsigned char **orig,
                     size_t *orig_len)
{
    unsigned char *json = NULL;
    size_t len = 0;
    struct json_object *obj = NULL;
    char *text = NULL;
    memset(u, 0, sizeof(*u));
    *orig = NULL;
    *orig_len = 0;
    int rc = su->sealed ? idkeys_open_with(k, cc, "update", su->update_id, su->sealed,
                                           su->sealed_len, &json, &len)
                        : TL_EPARSE;
    if (rc != TL_OK)
        return rc;
    if (len > (1u << 20)) {
        rc = TL_ETOOBIG;
        goto out;
    }
    if (!(obj = json_tokener_parse((const char *)json)) ||
        !json_object_is_type(obj, json_type_object)) {
        rc = TL_EPARSE;
        goto out;
    }
    if ((rc = tg_update_from_json(obj, u)) != TL_OK)
        goto out;
    /* the sender's username, to mask it in the text they typed */
    struct json_object *m = NULL, *from = NULL, *un = NULL;
    if (json_object_object_get_ex(obj, "message", &m) ||
        json_object_object_get_ex(obj, "edited_message", &m))
        if (json_object_object_get_ex(m, "from", &from))
            json_object_object_get_ex(from, "username", &un);
    long long clear = tg_update_chat_key(obj), known = su->chat_key;
    hash_id(k, clear, known, &u->msg.chat_id);
    if (u->msg.text && !(text = tl_strdup(u->msg.text))) {
        rc = TL_ENOMEM;
        goto out;
    }
    if (text && seal_mask_text(u->msg.text, un ? json_object_get_string(un) : NULL) > 0)
        rc = idkeys_seal_with(k, cc, "text", u->msg.chat_id, text, strlen(text), orig, orig_len);
    if (rc != TL_OK)
        goto out;
    hash_id(k, clear, known, &u->member.chat_id);
    if (u->kind == TG_UPD_CALLBACK_QUERY) {
        if (!u->cb.chat_id) { /* no message: the chat is the sender's (as the inbox keyed it) */
            u->cb.chat_id = u->cb.from_id;
            u->cb.chat_type = TG_CHAT_PRIVATE;
        } else if (!u->cb.chat_type && u->cb.chat_id == u->cb.from_id) {
            u->cb.chat_type = TG_CHAT_PRIVATE;
        }
        hash_id(k, clear, known, &u->cb.chat_id);
    }
out:
    json_object_put(obj);
    if (json) {
        memset(json, 0, len);
        free(json);
    }
    if (text) {
        memset(text, 0, strlen(text));
        free(text);
    }
    if (rc != TL_OK) {
        tg_update_release(u);
        free(*orig);
        *orig = NULL;
        *orig_len = 0;
    }
    return rc;
}

int seal_params_for_send(const struct idkeys *k, struct idkeys_cipher *cc, long long chat_hash,
                         const unsigned char *chat_sealed, size_t chat_sealed_len,
                         const char *params, char **out)
{
    unsigned char *pt = NULL;
    size_t pl = 0;
    long long chat = 0;
    struct json_object *o = NULL;
    *out = NULL;
    if (!chat_sealed)
        return TL_ENOTFOUND;
    int rc = idkeys_open_with(k, cc, "chat", chat_hash, chat_sealed, chat_sealed_len, &pt, &pl);
    if (rc != TL_OK)
        return rc;
    if (tl_parse_ll((const char *)pt, &chat) != TL_OK) {
        rc = TL_EPARSE;
        goto out;
    }
    o = json_tokener_parse(params ? params : "{}");
    if (!o || !json_object_is_type(o, json_type_object)) {
        rc = TL_EPARSE;
        goto out;
    }
    if (json_object_object_get_ex(o, "chat_id", NULL))
        json_object_object_add(o, "chat_id", json_object_new_int64(chat));
    *out = tl_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    rc = *out ? TL_OK : TL_ENOMEM;
out:
    json_object_put(o);
    if (pt) {
        memset(pt, 0, pl);
        free(pt);
    }
    return rc;
}
