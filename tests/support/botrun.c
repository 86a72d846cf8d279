/* tests/support/botrun.c - see botrun.h. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "daemon/daemon.h"
#include "botrun.h"
#include "testsupport.h"
#include "common/banned.h"

static const unsigned char SECRET[] = "test-secret-test-secret-test-sec";

static const unsigned char IDKEY[32] = "test-identity-key-test-identity";

static volatile sig_atomic_t g_stop;
static struct daemon *g_rt;

void tb_idkeys(struct idkeys *k)
{
    memset(k, 0, sizeof(*k));
    assert_int_equal(idkeys_set_lookup(k, SECRET, 32), TL_OK);
    k->key[0].id = 1;
    memcpy(k->key[0].k, IDKEY, 32);
    k->n = 1;
}

long long tb_chat(long long id)
{
    struct idkeys k;
    tb_idkeys(&k);
    long long h = idkeys_chat(&k, id);
    idkeys_clear(&k);
    return h;
}

void tb_seal_chats(const char *conninfo, long long first, int n)
{
    struct idkeys k;
    tb_idkeys(&k);
    for (long long id = first; id < first + n; id++) {
        char txt[32], hex[2 * (32 + IDKEY_OVERHEAD) + 1];
        unsigned char *ct = NULL;
        size_t cl = 0;
        int tl = snprintf(txt, sizeof(txt), "%lld", id);
        assert_int_equal(idkeys_seal(&k, "chat", id, txt, (size_t)tl, &ct, &cl), TL_OK);
        tl_hex(ct, cl, hex);
        free(ct);
        char *sql =
            tl_asprintf("INSERT INTO chats (chat_id, chat_sealed) VALUES (%lld, decode('%s',"
                        " 'hex')) ON CONFLICT (chat_id) DO UPDATE SET chat_sealed ="
                        " EXCLUDED.chat_sealed RETURNING 1",
                        id, hex);
        free(ts_db_scalar(conninfo, sql));
        free(sql);
    }
    idkeys_clear(&k);
}

void tb_cfg(struct cfg *c, const char *conninfo)
{
    struct tl_errinfo ei;
    assert_int_equal(cfg_load(c, NULL, &ei), TL_OK);
    free(c->database_url);
    c->database_url = tl_strdup(conninfo);
    memcpy(c->secret, SECRET, 32);
    c->secret_len = 32;
    tb_idkeys(&c->idkeys);
    c->poll_timeout = 1;
    c->send_chat_interval_ms = 0;
    c->send_rate = 100000;
    c->http_timeout_ms = 1500;
    c->workers = 2;
}

void tb_start(const struct cfg *c, struct fakebot *fb, long idle_ms, long drafts_every_ms)
{
    assert_null(g_rt);
    g_stop = 0;
    struct daemon_opts o = {.cfg = c,
                            .api_base = fakebot_base_url(fb),
                            .token = fakebot_token(fb),
                            .stop = &g_stop,
                            .idle_ms = idle_ms,
                            .drafts_every_ms = drafts_every_ms};
    struct tl_errinfo ei;
    assert_int_equal(daemon_start(&o, &g_rt, &ei), TL_OK);
}

void tb_stop(void)
{
    struct tl_errinfo ei;
    g_stop = 1;
    int rc = daemon_join(g_rt, &ei);
    g_rt = NULL;
    assert_int_equal(rc, TL_OK);
}

int tb_running(void)
{
    return g_rt != NULL;
}

struct daemon *tb_runtime(void)
{
    return g_rt;
}

int tb_teardown(void **state)
{
    (void)state;
    g_stop = 1;
    if (g_rt && daemon_join(g_rt, NULL) != TL_OK)
        fprintf(stderr, "teardown: the runtime ended with an error\n");
    g_rt = NULL;
    return 0;
}

void tb_settle(struct fakebot *fb, const char *conninfo, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    while (tl_now_ms() < end) {
        if (fakebot_pending(fb) == 0 &&
            ts_db_count(conninfo, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0 &&
            ts_db_count(conninfo, "SELECT count(*) FROM outbox WHERE state IN ('pending', "
                                  "'sending')") == 0)
            return;
        tl_sleep_ms(20, NULL);
    }
    fail_msg("the bot did not settle");
}

long long tb_say(struct fakebot *fb, long long mid, long long chat, const char *lang,
                 const char *body)
{
    char *j = tl_asprintf("{\"message\":{\"message_id\":%lld,\"date\":%lld,\"chat\":{\"id\":%lld,"
                          "\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"C\",\"language_code\":\"%s\"},%s}}",
                          mid, (long long)(tl_now_ms() / 1000), chat, chat, lang, body);
    int id = fakebot_push_update(fb, j);
    free(j);
    assert_true(id > 0);
    return id;
}

void tb_press(struct fakebot *fb, long long qid, long long chat, long long msg_mid,
              const char *data)
{
    char *j = tl_asprintf("{\"callback_query\":{\"id\":\"q%lld\",\"from\":{\"id\":%lld,"
                          "\"is_bot\":false,\"first_name\":\"C\"},\"chat_instance\":\"7\","
                          "\"data\":\"%s\",\"message\":{\"message_id\":%lld,\"date\":1,"
                          "\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":\"k\"}}}",
                          qid, chat, data, msg_mid, chat);
    assert_true(fakebot_push_update(fb, j) > 0);
    free(j);
}
