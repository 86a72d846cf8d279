/* tests/support/botrun.h - the bot's runtime (poller, workers, sender, janitor) on the
 * fake Bot API, for the tests that drive it whole (intake, conversation, relay): a test
 * configuration, and a start/stop whose teardown undoes what a failed assertion (a
 * longjmp out of the test) left running, so one failure does not cascade. Compiled into
 * those tests (they link tl_handlers and tl_fakebot). */
#ifndef TL_BOTRUN_H
#define TL_BOTRUN_H

#include "common/cfg.h"
#include "fakebot/fakebot.h"

/* The defaults (cfg_load with no file) on database conninfo, with the tests' secret,
 * its identity keys (tb_idkeys), 1 s long polls, no send pacing, 1.5 s HTTP timeouts and 2 workers.
 * cfg_release(). */
void tb_cfg(struct cfg *c, const char *conninfo);

/* The keyed hash the database holds for Telegram chat (or user) id under the tests'
 * pseudonym key: what the tests look rows up by. */
long long tb_chat(long long id);

/* The tests' identity keys (the lookup key and data key 1), as tb_cfg sets them;
 * idkeys_clear() them. */
void tb_idkeys(struct idkeys *k);

/* Gives chats first .. first+n-1 (rows made when missing) a reply path: the chat's own
 * number sealed as its clear id, for tests that write outbox rows directly. */
void tb_seal_chats(const char *conninfo, long long first, int n);

/* Starts the runtime on c against fb (idle_ms, drafts_every_ms: 0 for the runtime's
 * defaults); asserts it started. One at a time. */
void tb_start(const struct cfg *c, struct fakebot *fb, long idle_ms, long drafts_every_ms);

/* Stops it: every thread finishes what it holds; asserts no fatal error happened. */
void tb_stop(void);

/* Whether one is running. */
int tb_running(void);
/* The one running (NULL none). */
struct daemon *tb_runtime(void);

/* Waits until the fake has no update queued and database conninfo has every inbox row
 * processed and no reply pending or being sent; fails the test after timeout_ms. */
void tb_settle(struct fakebot *fb, const char *conninfo, long timeout_ms);

/* Queues a private message with id mid from chat (its user, speaking lang), dated now,
 * with body (the message's other JSON members: "text":..., "photo":[...]). Returns its
 * update_id. */
long long tb_say(struct fakebot *fb, long long mid, long long chat, const char *lang,
                 const char *body);

/* Queues a press of the button with data on message msg_mid of chat (callback id
 * "q<qid>"). */
void tb_press(struct fakebot *fb, long long qid, long long chat, long long msg_mid,
              const char *data);

/* For cmocka teardowns: stops a runtime a failed test left running, says so on stderr
 * if it ended with an error. Returns 0. */
int tb_teardown(void **state);

#endif
