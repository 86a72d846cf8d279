/* daemon/seal.h - where Telegram identities cross the process boundary (internal to
 * daemon/). In: an update is sealed whole before it is stored, and its chat is
 * stored by keyed hash with its clear id sealed once (the reply path). Through: a
 * worker opens the update and hands the handlers chat hashes, never a clear chat id,
 * and text with phone numbers and the sender's own username masked. Out: the sender
 * opens the chat's sealed id and puts it into the Bot API call it makes. */
#ifndef TL_DAEMON_SEAL_H
#define TL_DAEMON_SEAL_H

#include "bot/tg.h"
#include "common/idkey.h"
#include "storage/store.h"

struct json_object;

/* The buffers a sealed inbox row points into. */
struct seal_bufs {
    unsigned char *update, *chat;
};
void seal_bufs_release(struct seal_bufs *b);

/* A chat's keyed hash and its sealed id, kept by one thread (the poller) so that a chat
 * is hashed and sealed once per key, not once per update: slots entries, direct-mapped
 * (a chat whose slot another chat took is hashed and sealed again). Reusing the whole
 * sealed value is sound: the same plaintext bound to the same row under the same key and
 * nonce, never a new encryption with a used nonce; the keyed hash already tells a
 * chat's rows apart, so equal values tell nothing more. Emptied (and wiped) when the
 * key set it was filled under is not the one given: another current key or lookup key. */
struct seal_chat_cache;
/* Returns a new cache of slots (>= 1) entries (seal_chat_cache_free), NULL when out of
 * memory. */
struct seal_chat_cache *seal_chat_cache_new(size_t slots);
void seal_chat_cache_free(struct seal_chat_cache *c);

/* The hash of chat (a clear Telegram chat id, not 0) and its id sealed for the chats
 * row (bound to the hash); *sealed is new (free()). From c when it holds them under k,
 * else made and kept there. c NULL: made every call. */
int seal_chat(const struct idkeys *k, struct idkeys_cipher *cc, struct seal_chat_cache *c,
              long long chat, long long *hash, unsigned char **sealed, size_t *sealed_len) TL_WUR;

/* Fills row from the Update object u (update_id, chat hash, kind, the sealed update
 * and the sealed chat id) with buffers held in b. cc, here and below: the calling
 * thread's cipher context (idkeys_cipher_new), or NULL; cache: that thread's chat cache
 * (seal_chat), or NULL. */
int seal_inbox_row(const struct idkeys *k, struct idkeys_cipher *cc, struct seal_chat_cache *cache,
                   struct json_object *u, struct store_inbox_row *row, struct seal_bufs *b) TL_WUR;

/* Opens a stored update and parses it into u with every chat id replaced by its hash
 * (a callback without a message: the hash of its sender, the chat it came from) and its
 * text masked (seal_mask_text with the sender's username). When the mask changed the
 * text, *orig (new, free()) is the full text sealed for the record (bound to the chat's
 * hash), else NULL. TL_EPARSE: unreadable. */
int seal_open_update(const struct idkeys *k, struct idkeys_cipher *cc,
                     const struct store_update *su, struct tg_update *u, unsigned char **orig,
                     size_t *orig_len) TL_WUR;

/* Masks, in place, every phone number in text (an international "+" number, or a
 * Ukrainian national one: 0XX XXX XX XX, 380...): each digit but the country code's and
 * the last two becomes '*' ("+380 50 123 45 67" -> "+380 ** *** ** 67"), and every
 * "@username" of the given username (NULL: none) becomes "@***". Returns how many
 * were masked. */
int seal_mask_text(char *text, const char *username);

/* The params of an outbox row with "chat_id" set to the clear chat id sealed in
 * chat_sealed (bound to chat_hash); a new string (free()). TL_ENOTFOUND when there is no
 * sealed id, TL_ECONFIG when its key is not loaded, TL_EPARSE when it does not open. */
int seal_params_for_send(const struct idkeys *k, struct idkeys_cipher *cc, long long chat_hash,
                         const unsigned char *chat_sealed, size_t chat_sealed_len,
                         const char *params, char **out) TL_WUR;

#endif
