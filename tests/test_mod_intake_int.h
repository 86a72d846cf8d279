/* tests/test_mod_intake_int.h - what test_mod_intake's files share: a world (a
 * database, the fake Bot API, the runtime, the analysts' API), citizens sending reports,
 * checks of what the bot told them, and the analysts' queue through the HTTP API. */
#ifndef TL_TEST_MOD_INTAKE_INT_H
#define TL_TEST_MOD_INTAKE_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "common/cfg.h"
#include "support/promhttp.h"
#include "support/testparts.h"
#include "support/testsupport.h"

extern const char TOKEN_ANA[];
extern const char TOKEN_MOD[];

struct world {
    char name[48];
    char *ci;
    struct fakebot *fb;
    struct cfg c;
    struct web *web;
    long long next_mid;
};

extern pid_t tmi_g_bot;
int tmi_teardown(void **state);

/* A database, the fake Bot API and the configuration (moderation on, its limits as the
 * test sets them before world_start). */
void tmi_world_open(struct world *w, const char *name);

void tmi_world_start(struct world *w);
void tmi_world_close(struct world *w);

#define count(w, ...) ts_db_countf((w)->ci, __VA_ARGS__)

/* Waits until every update is handled and every reply delivered. */
void tmi_settle(struct world *w, long timeout_ms);

/* A citizen (user = chat) sends text and presses "Send now" on the draft it started;
 * pushed without waiting. */
void tmi_send_report(struct fakebot *fb, long long *next_mid, long long chat, const char *lang,
                     const char *text);

/* How many texts the bot sent or put in place (sendMessage, editMessageText) to chat
 * that contain needle. */
size_t tmi_told(struct fakebot *fb, long long chat, const char *needle);

/* The catalog's text for key up to its first placeholder or line end (what every reply
 * made from it starts with). */
char *tmi_catalog_head(const char *lang, const char *key);

struct ts_hres tmi_http(struct world *w, const char *token, const char *path, const char *body);

/* The public refs the analysts' list (GET /api/reports, every page) shows. */
size_t tmi_queue_refs(struct world *w, char refs[][16], size_t max);

/* POST /api/queue/claim: 1 when the analyst got a report. */
int tmi_claim(struct world *w);

char *tmi_write_rules(const char *text);

/* Runs `tipline mod ARGS` on w's database (stderr to stdout); returns its exit status. */
int tmi_mod_cli(struct world *w, const char *args, char **out);

/* The tables of the parts' tests, run by main in test_mod_intake.c. */
extern const struct CMUnitTest tmi_campaigns_tests[];
extern const size_t tmi_campaigns_ntests;
extern const struct CMUnitTest tmi_limits_tests[];
extern const size_t tmi_limits_ntests;
extern const struct CMUnitTest tmi_rules_tests[];
extern const size_t tmi_rules_ntests;
extern const struct CMUnitTest tmi_tools_tests[];
extern const size_t tmi_tools_ntests;

#endif
