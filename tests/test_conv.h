/* tests/test_conv.h - the conversation world test_conv's files share (test_conv.c: the
 * conversation's flow; test_conv_media.c: photos, albums, videos and files): a database,
 * the fake Bot API and the bot's runtime; what the citizen sends, and checks of what the
 * bot sent (the fake's call record). */
#ifndef TL_TEST_CONV_H
#define TL_TEST_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "support/testsupport.h"

struct fakebot;
struct json_object;

/* One conversation's world: a database, the fake Bot API, the configuration. */
struct world {
    char name[48];
    char *ci;
    struct fakebot *fb;
    struct cfg c;
    long long next_mid; /* the citizen's next message id */
};

#define cw_count(w, ...) ts_db_countf((w)->ci, __VA_ARGS__)

/* Conversations: workers that poll fast and a drafts pass every 100 ms. */
void cw_start_runtime(const struct cfg *c, struct fakebot *fb);
/* A fresh database named t_conv_<name>, a fake Bot API and the runtime on them. */
void cw_open(struct world *w, const char *name);
void cw_close(struct world *w);
/* Waits until every update is handled and every reply delivered. */
void cw_settle(struct world *w);
/* Waits (20 s at most) until the count sql returns reaches want. */
void cw_wait_sql(struct world *w, const char *sql, long long want);

/* A private message from chat (the user is the chat) with body (JSON members); settles.
 * Returns its update_id. */
long long cw_say(struct world *w, long long chat, const char *lang, const char *body);
long long cw_say_text(struct world *w, long long chat, const char *lang, const char *text);
long long cw_command(struct world *w, long long chat, const char *lang, const char *cmd);
/* The Telegram id of the chat's current keyboard message (the draft's prompt). */
long long cw_prompt_mid(struct world *w, long long chat);
long long cw_draft_id(struct world *w, long long chat);
/* Presses a button with data on message mid. */
void cw_press(struct world *w, long long chat, long long mid, const char *data);
/* Presses the button act of the chat's current draft keyboard. */
void cw_press_draft(struct world *w, long long chat, const char *act);

/* The calls since the last check, as "method method ..." and the array (put it). */
struct json_object *cw_calls(struct world *w, char *methods, size_t cap);
/* Checks the methods called since the last check, in order; returns them (put). */
struct json_object *cw_expect(struct world *w, const char *want);
/* params.key of call i as a string ("" when absent; objects as JSON text). */
const char *cw_param(struct json_object *arr, size_t i, const char *key);
void cw_expect_has(struct json_object *arr, size_t i, const char *key, const char *needle);
/* The catalog text key in lang; free() it. */
char *cw_catalog(const char *lang, const char *key);
void cw_expect_text(struct json_object *arr, size_t i, const char *lang, const char *key);
/* A clean JPEG served by the fake as file_id. */
void cw_add_photo(struct world *w, const char *file_id, uint32_t seed);
/* The "photo" member of a message with file_id, then extra; free() it. */
char *cw_photo_body(const char *file_id, const char *extra);

/* test_conv_media.c's group: the number of failed tests. */
int test_conv_media_group(void);

#endif
