/* tests/test_bot.h - the fixture and assertions test_bot's files share (test_bot.c:
 * the client, its faults and the fake server; test_bot_loops.c: the poller and the
 * sender). */
#ifndef TL_TEST_BOT_H
#define TL_TEST_BOT_H

#include <stddef.h>

struct fakebot;
struct tg_client;
struct json_object;

struct fx {
    struct fakebot *fb;
    struct tg_client *c;
};

/* A client of fb with token (NULL: the fake's own) and a total timeout. */
struct tg_client *tbot_client_for(struct fakebot *fb, const char *token, long timeout_ms);
/* A fresh fake server and a client of it in *state (struct fx), and its end. */
int tbot_setup(void **state);
int tbot_teardown(void **state);
/* Parses both texts and compares them as JSON values (key order ignored). */
void tbot_assert_json_eq(const char *actual, const char *expected);
/* The calls fb recorded of method (NULL: all) equal expected as JSON. */
void tbot_assert_calls(struct fakebot *fb, const char *method, const char *expected);
/* update_id of the i-th update in arr. */
long long tbot_upd_id(struct json_object *arr, size_t i);

/* test_bot_loops.c: the poller's and the sender's group; test_bot_update.c: the
 * update parser's. The number of failed tests. */
int test_bot_loops_group(void);
int test_bot_update_group(void);

#endif
