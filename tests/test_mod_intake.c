/* tests/test_mod_intake.c - moderation at intake, played whole: the runtime threads (or
 * the real `tipline bot` process, for SIGHUP) against the fake Bot API on loopback and a
 * throwaway PostgreSQL, with the analysts' API (web/) on top. Citizens send texts and
 * press "Send now"; the tests check the rows written (reports, verdicts, campaigns,
 * rate state), what the bot said to each citizen (the fake's call record), and what the
 * analysts' queue shows through the HTTP API. This file holds the world and its helpers
 * and main, which runs the tests of test_mod_intake_campaigns.c,
 * test_mod_intake_limits.c (bans, rate limits), test_mod_intake_rules.c (rules and their
 * reloads) and test_mod_intake_tools.c (the moderators' tools, text hygiene) as one
 * group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "fakebot/fakebot.h"
#include "handlers/hdl.h"
#include "storage/store.h"
#include "storage/store_web.h"
#include "support/botproc.h"
#include "support/botrun.h"
#include "support/photogen.h"
#include "support/promhttp.h"
#include "support/testsupport.h"
#include "web/web.h"
#include "test_mod_intake_int.h"

const char TOKEN_ANA[] = "tok-ana-moderation-0123456789";
const char TOKEN_MOD[] = "tok-mod-moderation-0123456789";

pid_t tmi_g_bot;

int tmi_teardown(void **state)
{
    (void)state;
    bp_kill(&tmi_g_bot);
    return tb_teardown(state);
}

static void add_account(const char *ci, const char *name, const char *role, const char *token)
{
    struct store *s = NULL;
    struct tl_errinfo ei;
    unsigned char md[32];
    unsigned int mdn = 0;
    char sha[65];
    assert_int_equal(store_open(ci, &s, &ei), TL_OK);
    assert_true(EVP_Digest(token, strlen(token), md, &mdn, EVP_sha256(), NULL));
    tl_hex(md, 32, sha);
    assert_int_equal(store_account_add(s, "test", name, role, sha, &ei), TL_OK);
    store_free(s);
}

void tmi_world_open(struct world *w, const char *name)
{
    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "t_modi_%s", name);
    w->ci = ts_db_create(w->name);
    assert_non_null(w->ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, &w->fb), TL_OK);
    tb_cfg(&w->c, w->ci);
    w->c.http_timeout_ms = 3000;
    w->c.moderation = 1;
    w->next_mid = 100;
    add_account(w->ci, "ana", "analyst", TOKEN_ANA);
    add_account(w->ci, "mo", "moderator", TOKEN_MOD);
}

void tmi_world_start(struct world *w)
{
    tb_start(&w->c, w->fb, 5, 0);
    struct tl_errinfo ei;
    struct web_opts o = {.cfg = &w->c, .listen = "127.0.0.1:0"};
    assert_int_equal(web_start(&o, &w->web, &ei), TL_OK);
}

void tmi_world_close(struct world *w)
{
    web_free(w->web);
    if (tb_running())
        tb_stop();
    cfg_release(&w->c);
    fakebot_stop(w->fb);
    ts_db_drop(w->name);
    free(w->ci);
}

void tmi_settle(struct world *w, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    while (tl_now_ms() < end) {
        if (fakebot_pending(w->fb) == 0 &&
            count(w, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 0 &&
            count(w, "SELECT count(*) FROM outbox WHERE state IN ('pending', 'sending')") == 0)
            return;
        tl_sleep_ms(20, NULL);
    }
    fail_msg("the bot did not settle");
}

void tmi_send_report(struct fakebot *fb, long long *next_mid, long long chat, const char *lang,
                     const char *text)
{
    struct json_object *t = json_object_new_string(text);
    long long mid = (*next_mid)++;
    char *j = tl_asprintf("{\"message\":{\"message_id\":%lld,\"date\":%lld,\"chat\":{\"id\":%lld,"
                          "\"type\":\"private\"},\"from\":{\"id\":%lld,\"is_bot\":false,"
                          "\"first_name\":\"C\",\"language_code\":\"%s\"},\"text\":%s}}",
                          mid, (long long)(tl_now_ms() / 1000), chat, chat, lang,
                          json_object_to_json_string(t));
    json_object_put(t);
    int id = fakebot_push_update(fb, j);
    free(j);
    assert_true(id > 0);
    j = tl_asprintf("{\"callback_query\":{\"id\":\"q%lld\",\"from\":{\"id\":%lld,"
                    "\"is_bot\":false,\"first_name\":\"C\",\"language_code\":\"%s\"},"
                    "\"chat_instance\":\"7\",\"data\":\"%d:send\",\"message\":{\"message_id\":"
                    "%lld,\"date\":1,\"chat\":{\"id\":%lld,\"type\":\"private\"},\"text\":\"k\"}}}",
                    mid, chat, lang, id, 100000 + mid, chat);
    assert_true(fakebot_push_update(fb, j) > 0);
    free(j);
}

size_t tmi_told(struct fakebot *fb, long long chat, const char *needle)
{
    size_t n = 0;
    const char *methods[] = {"sendMessage", "editMessageText"};
    for (size_t m = 0; m < 2; m++) {
        char *js = fakebot_calls_json(fb, methods[m]);
        struct json_object *arr = json_tokener_parse(js);
        free(js);
        assert_non_null(arr);
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            struct json_object *c = json_object_array_get_idx(arr, i), *p, *v;
            if (!json_object_object_get_ex(c, "params", &p))
                continue;
            long long to = 0;
            if (json_object_object_get_ex(p, "chat_id", &v))
                to = json_object_is_type(v, json_type_string)
                         ? strtoll(json_object_get_string(v), NULL, 10)
                         : json_object_get_int64(v);
            if (to == chat && json_object_object_get_ex(p, "text", &v) &&
                strstr(json_object_get_string(v), needle))
                n++;
        }
        json_object_put(arr);
    }
    return n;
}

char *tmi_catalog_head(const char *lang, const char *key)
{
    char *t = hdl_text(lang, key, (char *)NULL);
    assert_non_null(t);
    t[strcspn(t, "{\n")] = 0;
    return t;
}

struct ts_hres tmi_http(struct world *w, const char *token, const char *path, const char *body)
{
    return ts_http(web_port(w->web), path, token, body);
}

size_t tmi_queue_refs(struct world *w, char refs[][16], size_t max)
{
    struct ts_hres r = tmi_http(w, TOKEN_ANA, "/api/reports?limit=200", NULL);
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *items;
    tl_buf_release(&r.body);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "items", &items));
    size_t n = json_object_array_length(items);
    for (size_t i = 0; i < n && i < max; i++) {
        struct json_object *ref;
        assert_true(json_object_object_get_ex(json_object_array_get_idx(items, i), "ref", &ref));
        tl_strlcpy(refs[i], json_object_get_string(ref), 16);
    }
    json_object_put(o);
    return n;
}

int tmi_claim(struct world *w)
{
    struct ts_hres r = tmi_http(w, TOKEN_ANA, "/api/queue/claim", "{}");
    assert_int_equal(r.status, 200);
    struct json_object *o = json_tokener_parse((char *)r.body.data), *rep;
    tl_buf_release(&r.body);
    assert_non_null(o);
    int got = json_object_object_get_ex(o, "report", &rep) && rep != NULL;
    json_object_put(o);
    return got;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct ts_part parts[] = {
        {tmi_campaigns_tests, &tmi_campaigns_ntests},
        {tmi_limits_tests, &tmi_limits_ntests},
        {tmi_rules_tests, &tmi_rules_ntests},
        {tmi_tools_tests, &tmi_tools_ntests},
    };
    if (getenv("TL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("TL_TEST_FILTER"));
    int rc = ts_run_parts(parts, TS_NTESTS(parts), NULL, NULL);
    curl_global_cleanup();
    return rc;
}
