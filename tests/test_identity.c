/* tests/test_identity.c - Telegram identities never reach the disk in the clear: a
 * scripted run through the real bot on the fake Bot API, then a pg_dump and the
 * cluster's WAL searched for every citizen's ids, names, usernames and phone numbers in
 * every encoding PostgreSQL could hold them in; a wrong key refused at start; rotation
 * during a burst while the bot runs (tipline keys new, then rotate); the upgrade of a database
 * written before. And the masking of text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/idkey.h"
#include "common/util.h"
#include "daemon/daemon.h"
#include "daemon/seal.h"
#include "fakebot/fakebot.h"
#include "fakebot/photos.h"
#include "support/botrun.h"
#include "support/testsupport.h"

/* ---- masking (pure) ---- */

static void test_identity_mask_text(void **state)
{
    (void)state;
    static const struct {
        const char *in, *user, *out;
        int n;
    } cases[] = {
        {"call me +380 67 481 29 53 please", NULL, "call me +380 ** *** ** 53 please", 1},
        {"+380674812953", NULL, "+380*******53", 1},
        {"тел. 067-481-29-53, or (067) 481 29 53", NULL, "тел. ***-***-**-53, or (***) *** ** 53",
         2},
        {"0674812953 and 380674812953", NULL, "********53 and 380*******53", 2},
        {"I am @yaro_quokka_73 here", "yaro_quokka_73", "I am @*** here", 1},
        {"@yaro_quokka_73x is someone else", "yaro_quokka_73", "@yaro_quokka_73x is someone else",
         0},
        /* what is not a phone number stays: MGRS, coordinates, times, counts */
        {"37U DQ 12345 67890", NULL, "37U DQ 12345 67890", 0},
        {"48.4567, 35.0123 at 14:30, 120 tanks", NULL, "48.4567, 35.0123 at 14:30, 120 tanks", 0},
        {"4812953", NULL, "4812953", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *t = tl_strdup(cases[i].in);
        int n = seal_mask_text(t, cases[i].user);
        if (strcmp(t, cases[i].out) != 0 || n != cases[i].n)
            fail_msg("case %zu: \"%s\" -> \"%s\" (%d), want \"%s\" (%d)", i, cases[i].in, t, n,
                     cases[i].out, cases[i].n);
        free(t);
    }
}

/* ---- the poller's chat cache (pure) ---- */

/* A key set: the lookup key from a fixed secret, data keys ids[0..n-1] with bytes
 * seed + id (the last one current). */
static void chat_keys(struct idkeys *k, const int *ids, size_t n, unsigned char seed)
{
    static const unsigned char secret[32] = "a pseudonym key for the tests..";
    memset(k, 0, sizeof(*k));
    assert_int_equal(idkeys_set_lookup(k, secret, sizeof(secret)), TL_OK);
    for (size_t i = 0; i < n; i++) {
        k->key[i].id = ids[i];
        memset(k->key[i].k, seed + ids[i], sizeof(k->key[i].k));
    }
    k->n = n;
}

struct chat_seal {
    long long hash;
    unsigned char *ct;
    size_t len;
};

/* Seals chat through c and checks the value: the chat's keyed hash, bound to it, under
 * k's current key, opening to the clear id. */
static struct chat_seal chat_through(const struct idkeys *k, struct idkeys_cipher *cc,
                                     struct seal_chat_cache *c, long long chat)
{
    struct chat_seal v = {0};
    unsigned char *pt = NULL;
    size_t pl = 0;
    char want[32];
    assert_int_equal(seal_chat(k, cc, c, chat, &v.hash, &v.ct, &v.len), TL_OK);
    assert_int_equal(v.hash, idkeys_chat(k, chat));
    assert_int_equal(idkeys_sealed_id(v.ct, v.len), idkeys_current(k));
    assert_int_equal(idkeys_open_with(k, cc, "chat", v.hash, v.ct, v.len, &pt, &pl), TL_OK);
    snprintf(want, sizeof(want), "%lld", chat);
    assert_string_equal((const char *)pt, want);
    free(pt);
    return v;
}

static int same_seal(struct chat_seal a, struct chat_seal b)
{
    return a.len == b.len && memcmp(a.ct, b.ct, a.len) == 0;
}

static void test_identity_chat_cache(void **state)
{
    (void)state;
    const int one[] = {1}, two[] = {1, 2};
    const long long A = 7391846250LL, B = -1001234567890LL;
    struct idkeys k1, k1b, k2, k2x;
    chat_keys(&k1, one, 1, 0);
    chat_keys(&k1b, one, 1, 0); /* the same keys read again (a reload that changed nothing) */
    chat_keys(&k2, two, 2, 0);  /* a new current key */
    chat_keys(&k2x, two, 2, 7); /* the same key ids, other bytes */
    struct idkeys_cipher *cc = idkeys_cipher_new();
    struct seal_chat_cache *one_slot = seal_chat_cache_new(1), *big = seal_chat_cache_new(4096);
    assert_non_null(cc);
    assert_non_null(one_slot);
    assert_non_null(big);
    assert_null(seal_chat_cache_new(0));

    /* a chat seen again: the same sealed value (a fresh seal has a fresh nonce) */
    struct chat_seal a1 = chat_through(&k1, cc, one_slot, A);
    struct chat_seal a2 = chat_through(&k1, cc, one_slot, A);
    assert_true(same_seal(a1, a2));
    /* another chat takes the only slot: A is sealed again when it comes back */
    struct chat_seal b1 = chat_through(&k1, cc, one_slot, B);
    struct chat_seal a3 = chat_through(&k1, cc, one_slot, A);
    assert_false(same_seal(a1, b1));
    assert_false(same_seal(a1, a3));
    /* with room for both, both stay */
    struct chat_seal ba = chat_through(&k1, cc, big, A), bb = chat_through(&k1, cc, big, B);
    struct chat_seal ba2 = chat_through(&k1, cc, big, A), bb2 = chat_through(&k1, cc, big, B);
    assert_true(same_seal(ba, ba2));
    assert_true(same_seal(bb, bb2));
    /* the same keys in another set: still valid */
    struct chat_seal ba3 = chat_through(&k1b, cc, big, A);
    assert_true(same_seal(ba, ba3));
    /* a new current key: sealed anew under it (chat_through checks the key id) */
    struct chat_seal n1 = chat_through(&k2, cc, big, A), n2 = chat_through(&k2, cc, big, A);
    assert_false(same_seal(ba, n1));
    assert_true(same_seal(n1, n2));
    /* a key of the same id with other bytes: sealed anew (opens under it alone) */
    struct chat_seal x1 = chat_through(&k2x, cc, big, A);
    assert_false(same_seal(n1, x1));
    unsigned char *pt = NULL;
    size_t pl = 0;
    assert_int_equal(idkeys_open_with(&k2, cc, "chat", x1.hash, x1.ct, x1.len, &pt, &pl),
                     TL_EPARSE);
    /* back to the first key: nothing of the later sets is handed out */
    struct chat_seal back = chat_through(&k1, cc, big, A);
    assert_false(same_seal(back, ba));
    /* no cache: a new seal every time */
    struct chat_seal u1 = chat_through(&k1, cc, NULL, A), u2 = chat_through(&k1, cc, NULL, A);
    assert_false(same_seal(u1, u2));
    long long h = 1;
    unsigned char *ct = NULL;
    size_t len = 0;
    assert_int_equal(seal_chat(&k1, cc, big, 0, &h, &ct, &len), TL_EINVAL);
    assert_null(ct);

    struct chat_seal *all[] = {&a1,  &a2, &b1, &a3, &ba,   &bb, &ba2, &bb2,
                               &ba3, &n1, &n2, &x1, &back, &u1, &u2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]->ct);
    seal_chat_cache_free(one_slot);
    seal_chat_cache_free(big);
    idkeys_cipher_free(cc);
    idkeys_clear(&k1);
    idkeys_clear(&k1b);
    idkeys_clear(&k2);
    idkeys_clear(&k2x);
}

/* ---- the scripted run ---- */

struct citizen {
    long long id;
    const char *first, *last, *user, *lang, *phone;
};

static const struct citizen CIT[3] = {
    {7391846250LL, "Ярослава", "Quillfeather", "yaro_quokka_73", "uk", NULL},
    {5820193746LL, "Zbigniew", "Ostrowski-Plum", "zbig_plum_19", "en", "+380974418263"},
    {6402718395LL, "Олекса", "Вербицький", "oleksa_wren_88", "uk", "+380674812953"},
};

static char *from_json(const struct citizen *c)
{
    return tl_asprintf("{\"id\":%lld,\"is_bot\":false,\"first_name\":\"%s\",\"last_name\":\"%s\","
                       "\"username\":\"%s\",\"language_code\":\"%s\"}",
                       c->id, c->first, c->last, c->user, c->lang);
}

static char *chat_json(const struct citizen *c)
{
    return tl_asprintf("{\"id\":%lld,\"type\":\"private\",\"first_name\":\"%s\",\"last_name\":"
                       "\"%s\",\"username\":\"%s\"}",
                       c->id, c->first, c->last, c->user);
}

/* A message of citizen c with body (the members after chat and from); its update id. */
static long long say(struct fakebot *fb, const struct citizen *c, int mid, const char *body)
{
    char *f = from_json(c), *ch = chat_json(c);
    char *u = tl_asprintf("{\"message\":{\"message_id\":%d,\"date\":1700000000,\"chat\":%s,"
                          "\"from\":%s,%s}}",
                          mid, ch, f, body);
    long long id = fakebot_push_update(fb, u);
    assert_true(id > 0);
    free(u);
    free(f);
    free(ch);
    return id;
}

/* Citizen c presses a button with data on message mid. */
static void press(struct fakebot *fb, const struct citizen *c, long long mid, const char *data)
{
    static int n;
    char *f = from_json(c), *ch = chat_json(c);
    char *u = tl_asprintf("{\"callback_query\":{\"id\":\"cq%d\",\"from\":%s,\"chat_instance\":"
                          "\"1\",\"data\":\"%s\",\"message\":{\"message_id\":%lld,\"date\":1,"
                          "\"chat\":%s,\"text\":\"draft\"}}}",
                          ++n, f, data, mid, ch);
    assert_true(fakebot_push_update(fb, u) > 0);
    free(u);
    free(f);
    free(ch);
}

static void wait_count(const char *ci, const char *sql, long long want, long timeout_ms)
{
    int64_t end = tl_now_ms() + timeout_ms;
    long long n = -1;
    while (tl_now_ms() < end) {
        if ((n = ts_db_count(ci, sql)) >= want)
            return;
        tl_sleep_ms(50, NULL);
    }
    fail_msg("timed out: %s = %lld, want %lld", sql, n, want);
}

/* How many calls of method went to Telegram chat id chat. */
static size_t calls_to(struct fakebot *fb, const char *method, long long chat)
{
    char *calls = fakebot_calls_json(fb, method);
    struct json_object *arr = json_tokener_parse(calls), *p, *v;
    size_t n = 0;
    for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
        if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "params", &p) &&
            json_object_object_get_ex(p, "chat_id", &v) && json_object_get_int64(v) == chat)
            n++;
    json_object_put(arr);
    free(calls);
    return n;
}

/* ---- the search for identities on disk ---- */

struct needle {
    unsigned char b[64];
    size_t n;
    char what[96];
};

struct needles {
    struct needle v[128];
    size_t n;
};

static void add(struct needles *ns, const void *b, size_t n, const char *what)
{
    assert_true(ns->n < 128 && n <= 64);
    struct needle *x = &ns->v[ns->n++];
    memcpy(x->b, b, n);
    x->n = n;
    snprintf(x->what, sizeof(x->what), "%s", what);
}

static void add_str(struct needles *ns, const char *s, const char *what)
{
    add(ns, s, strlen(s), what);
}

/* A UTF-8 string as JSON's \uXXXX escapes (what an escaping serializer would write). */
static void add_json_escaped(struct needles *ns, const char *s, const char *what)
{
    char out[256];
    size_t o = 0;
    int escaped = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 7 < sizeof(out);) {
        unsigned cp = *p++;
        if (cp >= 0xC0 && cp < 0xE0 && *p) {
            cp = (cp & 0x1F) << 6 | (*p++ & 0x3F);
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\u%04x", cp);
            escaped = 1;
        } else {
            out[o++] = (char)cp;
        }
    }
    out[o] = 0;
    if (escaped)
        add_str(ns, out, what);
}

/* Every form a 64-bit id could take in a dump, a heap page or a WAL record: decimal
 * text, int8 in either byte order, and numeric's base-10000 digits (jsonb numbers). */
static void add_id(struct needles *ns, long long id, const char *who)
{
    char txt[32], what[96];
    unsigned char le[8], be[8], num[16];
    snprintf(txt, sizeof(txt), "%lld", id);
    snprintf(what, sizeof(what), "%s: id as text", who);
    add_str(ns, txt, what);
    for (int i = 0; i < 8; i++) {
        le[i] = (unsigned char)((unsigned long long)id >> (8 * i));
        be[7 - i] = le[i];
    }
    snprintf(what, sizeof(what), "%s: id as int8 (little endian)", who);
    add(ns, le, 8, what);
    snprintf(what, sizeof(what), "%s: id as int8 (big endian)", who);
    add(ns, be, 8, what);
    /* numeric: base-10000 digits, most significant first, each an int16 (little endian) */
    int groups[8], ng = 0;
    for (long long v = id; v > 0; v /= 10000)
        groups[ng++] = (int)(v % 10000);
    size_t k = 0;
    for (int i = ng - 1; i >= 0; i--) {
        num[k++] = (unsigned char)(groups[i] & 0xff);
        num[k++] = (unsigned char)(groups[i] >> 8);
    }
    snprintf(what, sizeof(what), "%s: id as numeric digits", who);
    add(ns, num, k, what);
}

static void citizen_needles(struct needles *ns)
{
    for (int i = 0; i < 3; i++) {
        const struct citizen *c = &CIT[i];
        char who[64], what[96];
        snprintf(who, sizeof(who), "citizen %d", i);
        add_id(ns, c->id, who);
        const char *parts[] = {c->first, c->last, c->user};
        for (int j = 0; j < 3; j++) {
            snprintf(what, sizeof(what), "%s: \"%s\"", who, parts[j]);
            add_str(ns, parts[j], what);
            add_json_escaped(ns, parts[j], what);
        }
        if (c->phone) { /* +380XXXXXXXXX, 380..., 0XXXXXXXXX, the subscriber part */
            snprintf(what, sizeof(what), "%s: phone", who);
            add_str(ns, c->phone, what);
            add_str(ns, c->phone + 1, what);
            add_str(ns, c->phone + 3, what);
            add_str(ns, c->phone + 6, what);
        }
    }
    add_str(ns, "481 29 53", "citizen 2: phone as typed");
}

/* Fails naming the needle and the place when buf holds one. */
static void assert_none(const struct needles *ns, const void *buf, size_t n, const char *where)
{
    for (size_t i = 0; i < ns->n; i++)
        if (memmem(buf, n, ns->v[i].b, ns->v[i].n))
            fail_msg("%s holds %s", where, ns->v[i].what);
}

static void assert_dump_clean(const char *ci, const struct needles *ns)
{
    char dump[] = "/tmp/tipline-idump-XXXXXX";
    close(mkstemp(dump));
    char *cmd = tl_asprintf("/usr/lib/postgresql/15/bin/pg_dump -d '%s' -f %s", ci, dump);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    size_t n = 0;
    char *text = ts_read_file(dump, &n);
    assert_non_null(text);
    assert_true(n > 10000);
    /* the probe finds what is there: a table the bot wrote, a value it wrote */
    assert_non_null(strstr(text, "COPY public.chats"));
    assert_non_null(strstr(text, "tanks near Izium"));
    assert_none(ns, text, n, "pg_dump");
    free(text);
    unlink(dump);
}

/* Every file of the cluster's pg_wal, after the WAL was flushed. */
static void assert_wal_clean(const char *ci, const struct needles *ns)
{
    free(ts_db_scalar(ci, "SELECT pg_switch_wal()"));
    free(ts_db_scalar(ci, "CHECKPOINT; SELECT 1"));
    char *data = ts_db_scalar(ci, "SHOW data_directory");
    assert_non_null(data);
    char *dir = tl_asprintf("%s/pg_wal", data);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t files = 0, bytes = 0, probe = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strlen(e->d_name) != 24) /* segment files: 24 hex digits */
            continue;
        char *path = tl_asprintf("%s/%s", dir, e->d_name), *where = NULL;
        size_t n = 0;
        char *buf = ts_read_file(path, &n);
        assert_non_null(buf);
        where = tl_asprintf("pg_wal/%s", e->d_name);
        assert_none(ns, buf, n, where);
        probe += memmem(buf, n, "tanks near Izium", 16) != NULL;
        files++;
        bytes += n;
        free(where);
        free(buf);
        free(path);
    }
    closedir(d);
    printf("pg_wal: %zu segment files, %zu MB searched\n", files, bytes >> 20);
    assert_true(files > 0);
    assert_true(probe > 0); /* the WAL holds what the run wrote: the search can find */
    free(dir);
    free(data);
}

static void add_photo(struct fakebot *fb, const char *file_id, uint32_t seed)
{
    size_t len;
    unsigned char *rgb = fx_photo_rgb(160, 120, seed);
    unsigned char *j = fx_jpeg_encode(rgb, 160, 120, 85, &len);
    free(rgb);
    assert_int_equal(fakebot_add_file(fb, file_id, j, len), TL_OK);
    free(j);
}

/* The keyboard message of citizen c's draft, once sent, and the draft's id. */
static long long prompt_of(const char *ci, const struct citizen *c, long long *draft)
{
    char *sql = tl_asprintf("SELECT count(*) FROM drafts d JOIN outbox o ON o.id = "
                            "(d.state->>'po')::bigint WHERE d.chat_id = %lld AND "
                            "o.tg_message_id IS NOT NULL",
                            tb_chat(c->id));
    wait_count(ci, sql, 1, 20000);
    free(sql);
    sql = tl_asprintf("SELECT o.tg_message_id FROM drafts d JOIN outbox o ON o.id = "
                      "(d.state->>'po')::bigint WHERE d.chat_id = %lld",
                      tb_chat(c->id));
    long long mid = ts_db_count(ci, sql);
    free(sql);
    sql = tl_asprintf("SELECT (state->>'id')::bigint FROM drafts WHERE chat_id = %lld",
                      tb_chat(c->id));
    *draft = ts_db_count(ci, sql);
    free(sql);
    return mid;
}

/* A fresh database and a fake Bot API for one test. */
static char *env_open(const char *db, struct fakebot **fb)
{
    char *ci = ts_db_create(db);
    assert_non_null(ci);
    struct fakebot_opts fo = {.quiet = 1};
    assert_int_equal(fakebot_start(&fo, fb), TL_OK);
    return ci;
}

static void test_identity_dump_and_wal_name_no_one(void **state)
{
    (void)state;
    struct fakebot *fb = NULL;
    char *ci = env_open("t_identity_disk", &fb);
    /* the WAL of this run kept until it is searched: a slot reserves it, so the segments
     * are not recycled and overwritten by tests running beside this one */
    free(ts_db_scalar(ci, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                          " WHERE slot_name = 'tl_identity_wal'"));
    free(ts_db_scalar(ci, "SELECT lsn FROM pg_create_physical_replication_slot("
                          "'tl_identity_wal', true)"));
    add_photo(fb, "idph1", 41);
    add_photo(fb, "idph2", 42);
    struct cfg c;
    tb_cfg(&c, ci);
    tb_start(&c, fb, 0, 0);

    /* A: two photos with a caption; B: a contact card shared by mistake, then a text;
     * C: a text with a phone number and their own username */
    say(fb, &CIT[0], 1,
        "\"photo\":[{\"file_id\":\"idph1\",\"file_unique_id\":\"u-idph1\",\"width\":160,"
        "\"height\":120}],\"caption\":\"smoke over the depot\"");
    say(fb, &CIT[0], 2,
        "\"photo\":[{\"file_id\":\"idph2\",\"file_unique_id\":\"u-idph2\",\"width\":160,"
        "\"height\":120}]");
    char *contact = tl_asprintf("\"contact\":{\"phone_number\":\"%s\",\"first_name\":\"%s\","
                                "\"last_name\":\"%s\",\"user_id\":%lld}",
                                CIT[1].phone, CIT[1].first, CIT[1].last, CIT[1].id);
    say(fb, &CIT[1], 1, contact);
    free(contact);
    say(fb, &CIT[1], 2, "\"text\":\"two trucks on the bridge\"");
    say(fb, &CIT[2], 1,
        "\"text\":\"tanks near Izium, call me +380 67 481 29 53 or @oleksa_wren_88\"");
    wait_count(ci, "SELECT count(*) FROM draft_media", 2, 20000);
    long long kb[3];
    for (int i = 0; i < 3; i++) {
        long long draft = 0;
        char data[40];
        kb[i] = prompt_of(ci, &CIT[i], &draft);
        snprintf(data, sizeof(data), "%lld:send", draft);
        press(fb, &CIT[i], kb[i], data);
    }
    wait_count(ci, "SELECT count(*) FROM reports", 3, 20000);
    wait_count(ci, "SELECT count(*) FROM media", 2, 20000);
    /* the bot replied to each citizen, in their own chat */
    for (int i = 0; i < 3; i++)
        assert_true(calls_to(fb, "sendMessage", CIT[i].id) >= 1);
    /* the analysts read the phone number masked, and not the username */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports WHERE text = 'tanks near "
                                     "Izium, call me +380 ** *** ** 53 or @***'"),
                     1);

    /* an analyst's question to A, relayed, answered */
    free(ts_db_scalar(ci, "INSERT INTO followups (report_id, asked_by, question) SELECT id, "
                          "'alice', 'Which depot?' FROM reports WHERE text LIKE 'smoke%' "
                          "RETURNING id"));
    wait_count(ci, "SELECT count(*) FROM outbox WHERE followup_id IS NOT NULL AND state = 'sent'",
               1, 20000);
    long long qmid = ts_db_count(ci, "SELECT tg_message_id FROM outbox WHERE followup_id IS NOT "
                                     "NULL");
    char *reply = tl_asprintf("\"text\":\"the fuel depot north of the river\","
                              "\"reply_to_message\":{\"message_id\":%lld,\"date\":1}",
                              qmid);
    say(fb, &CIT[0], 3, reply);
    free(reply);
    wait_count(ci,
               "SELECT count(*) FROM followups WHERE answer = 'the fuel depot north of "
               "the river'",
               1, 20000);

    /* C clears the chat: the bot deletes the messages in C's own chat */
    char *ref = ts_db_scalar(ci, "SELECT public_ref FROM reports WHERE text LIKE 'tanks%'");
    char data[32];
    snprintf(data, sizeof(data), "x:%s", ref);
    /* every reply delivered first: the messages to delete are known by the ids Telegram
     * gave them, which a reply still queued does not have yet (slow under ASan) */
    wait_count(ci, "SELECT count(*) FROM outbox WHERE state IN ('sent', 'failed')",
               ts_db_count(ci, "SELECT count(*) FROM outbox"), 20000);
    size_t before = calls_to(fb, "deleteMessage", CIT[2].id);
    press(fb, &CIT[2], kb[2], data);
    int64_t end = tl_now_ms() + 20000;
    while (calls_to(fb, "deleteMessage", CIT[2].id) < before + 2 && tl_now_ms() < end)
        tl_sleep_ms(50, NULL);
    assert_true(calls_to(fb, "deleteMessage", CIT[2].id) >= before + 2);
    free(ref);
    wait_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL",
               ts_db_count(ci, "SELECT count(*) FROM inbox"), 20000);
    wait_count(ci, "SELECT count(*) FROM outbox WHERE state IN ('sent', 'failed')",
               ts_db_count(ci, "SELECT count(*) FROM outbox"), 20000);
    tb_stop();

    /* the masked text's full words, sealed for the record, in C's chat */
    char *st = ts_db_scalar(ci, "SELECT chat_id || ' ' || encode(sealed, 'hex') FROM sealed_texts");
    assert_non_null(st);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM sealed_texts"), 1);
    {
        struct idkeys k;
        tb_idkeys(&k);
        size_t cl = 0, pl = 0;
        unsigned char *ct = ts_unhex(strchr(st, ' ') + 1, &cl), *pt = NULL;
        assert_int_equal(strtoll(st, NULL, 10), tb_chat(CIT[2].id));
        assert_int_equal(idkeys_open(&k, "text", tb_chat(CIT[2].id), ct, cl, &pt, &pl), TL_OK);
        assert_string_equal((char *)pt,
                            "tanks near Izium, call me +380 67 481 29 53 or @oleksa_wren_88");
        free(pt);
        free(ct);
        idkeys_clear(&k);
    }
    free(st);
    /* every handled update kept only its id, times, kind and chat key */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE sealed IS NOT NULL OR "
                                     "payload IS NOT NULL OR kind IS NULL"),
                     0);
    assert_true(ts_db_count(ci, "SELECT count(*) FROM chats WHERE chat_sealed IS NOT NULL") >= 3);

    struct needles ns = {0};
    citizen_needles(&ns);
    assert_dump_clean(ci, &ns);
    assert_wal_clean(ci, &ns);
    free(ts_db_scalar(ci, "SELECT pg_drop_replication_slot('tl_identity_wal')"));
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_identity_disk");
    free(ci);
}

/* ---- a wrong key ---- */

static int start_with(const struct cfg *c, struct fakebot *fb, struct tl_errinfo *ei)
{
    volatile sig_atomic_t stop = 0;
    struct daemon *d = NULL;
    struct daemon_opts o = {
        .cfg = c, .api_base = fakebot_base_url(fb), .token = fakebot_token(fb), .stop = &stop};
    int rc = daemon_start(&o, &d, ei);
    if (rc == TL_OK) {
        stop = 1;
        assert_int_equal(daemon_join(d, NULL), TL_OK);
    }
    return rc;
}

static void test_identity_wrong_key_refused(void **state)
{
    (void)state;
    struct fakebot *fb = NULL;
    char *ci = env_open("t_identity_wrong", &fb);
    struct cfg c;
    tb_cfg(&c, ci);
    struct tl_errinfo ei;
    assert_int_equal(start_with(&c, fb, &ei), TL_OK); /* the first start records the keys */
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM identity_keys"), 2);
    /* another data key with the same id */
    c.idkeys.key[0].k[5] ^= 0x40;
    assert_int_equal(start_with(&c, fb, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "identity key 1"));
    assert_non_null(strstr(ei.msg, "refusing to start"));
    c.idkeys.key[0].k[5] ^= 0x40;
    /* another pseudonym key: every chat's hash would differ */
    c.secret[0] ^= 1;
    assert_int_equal(idkeys_set_lookup(&c.idkeys, c.secret, c.secret_len), TL_OK);
    assert_int_equal(start_with(&c, fb, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "pseudonym key"));
    c.secret[0] ^= 1;
    assert_int_equal(idkeys_set_lookup(&c.idkeys, c.secret, c.secret_len), TL_OK);
    /* a file without the key that sealed what the database holds */
    c.idkeys.key[0].id = 2;
    assert_int_equal(start_with(&c, fb, &ei), TL_ECONFIG);
    assert_non_null(strstr(ei.msg, "identity key 1, which sealed values"));
    c.idkeys.key[0].id = 1;
    assert_int_equal(start_with(&c, fb, &ei), TL_OK);

    /* the binary says it and exits 1 */
    char bad[] = "/tmp/tipline-badkey-XXXXXX", key[] = "/tmp/tipline-key-XXXXXX",
         log[] = "/tmp/tipline-badlog-XXXXXX";
    close(mkstemp(bad));
    close(mkstemp(key));
    close(mkstemp(log));
    assert_int_equal(ts_write_file(bad,
                                   "1 00112233445566778899aabbccddeeff00112233445566778899aabbc"
                                   "cddeeff\n"),
                     0);
    assert_int_equal(ts_write_file(key, "test-secret-test-secret-test-sec"), 0);
    assert_int_equal(chmod(bad, 0600), 0);
    char *cmd = tl_asprintf(
        "TIPLINE_DATABASE_URL='%s' TELEGRAM_API_BASE='%s' TELEGRAM_BOT_TOKEN='%s'"
        " TIPLINE_SECRET_FILE=%s TIPLINE_IDENTITY_KEY_FILE=%s %s bot 2>%s",
        ci, fakebot_base_url(fb), fakebot_token(fb), key, bad, getenv("TL_TIPLINE_BIN"), log);
    int st = system(cmd);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    char *text = ts_read_file(log, NULL);
    assert_non_null(strstr(text, "identity key 1 in"));
    assert_non_null(strstr(text, "refusing to start"));
    free(text);
    free(cmd);
    unlink(bad);
    unlink(key);
    unlink(log);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_identity_wrong");
    free(ci);
}

/* ---- rotation during a burst, the bot running throughout ---- */

/* `tipline keys VERB` against the test's database and key files; its exit status and
 * what it printed. */
struct keys_cmd {
    const char *ci, *secret_file, *key_file, *verb;
    int status;
    char *out;
};

static void keys_run(struct keys_cmd *k)
{
    char out[] = "/tmp/tipline-keysout-XXXXXX";
    close(mkstemp(out));
    char *cmd =
        tl_asprintf("TIPLINE_DATABASE_URL='%s' TIPLINE_SECRET_FILE=%s"
                    " TIPLINE_IDENTITY_KEY_FILE=%s %s keys %s >%s",
                    k->ci, k->secret_file, k->key_file, getenv("TL_TIPLINE_BIN"), k->verb, out);
    int st = system(cmd);
    k->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    k->out = ts_read_file(out, NULL);
    assert_non_null(k->out);
    fprintf(stderr, "%s", k->out);
    unlink(out);
    free(cmd);
}

static const char under_other_sql[] =
    "SELECT (SELECT count(*) FROM chats WHERE chat_sealed IS NULL OR get_byte(chat_sealed, 1) <> 2)"
    " + (SELECT count(*) FROM inbox WHERE get_byte(sealed, 1) <> 2)"
    " + (SELECT count(*) FROM sealed_texts WHERE get_byte(sealed, 1) <> 2)";

/* Every chat's sealed id opens under the key set only, to the id its hash names. */
static void assert_chats_under(const char *ci, const struct idkeys *only)
{
    char *all = ts_db_scalar(ci, "SELECT string_agg(chat_id || ':' || encode(chat_sealed, 'hex'),"
                                 " ' ') FROM chats");
    assert_non_null(all);
    size_t n = 0;
    for (char *p = all, *sp; p && *p; p = sp ? sp + 1 : NULL, n++) {
        sp = strchr(p, ' ');
        if (sp)
            *sp = 0;
        long long h = strtoll(p, NULL, 10);
        const char *hex = strchr(p, ':') + 1;
        size_t cl = 0, pl = 0;
        unsigned char *ct = ts_unhex(hex, &cl), *pt = NULL;
        assert_int_equal(idkeys_open(only, "chat", h, ct, cl, &pt, &pl), TL_OK);
        assert_int_equal(idkeys_chat(only, strtoll((char *)pt, NULL, 10)), h);
        free(pt);
        free(ct);
    }
    assert_true(n >= 30);
    free(all);
}

/* Waits until n updates are handled and the outbox has nothing left to send. */
static void settled(const char *ci, long long n, long timeout_ms)
{
    char *sql = tl_asprintf("SELECT ((SELECT count(*) FROM inbox WHERE processed_at IS NOT NULL)"
                            " >= %lld AND NOT EXISTS (SELECT 1 FROM outbox WHERE state IN"
                            " ('pending', 'sending')))::int",
                            n);
    wait_count(ci, sql, 1, timeout_ms);
    free(sql);
}

/* n synthetic reports all made and answered, each reply delivered: a draft's status per
 * message, an answer per press, the status edited per report. */
static void assert_answered(const char *ci, struct fakebot *fb, long long n)
{
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE refused"), 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM outbox WHERE state <> 'sent'"), 0);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM reports"), n);
    assert_int_equal(fakebot_count(fb, "sendMessage"), n);
    assert_int_equal(fakebot_count(fb, "answerCallbackQuery"), n);
    assert_int_equal(fakebot_count(fb, "editMessageText"), n);
}

static void test_identity_rotation_during_burst(void **state)
{
    (void)state;
    struct fakebot *fb = NULL;
    char *ci = env_open("t_identity_rotate", &fb);
    char secret[] = "/tmp/tipline-rsecret-XXXXXX", keyf[] = "/tmp/tipline-rkeys-XXXXXX";
    char hex[65], *line;
    close(mkstemp(secret));
    close(mkstemp(keyf));
    struct cfg c;
    tb_cfg(&c, ci);
    /* the bot reads its keys from a file, as in production: key 1, the one tb_cfg holds */
    tl_hex(c.idkeys.key[0].k, 32, hex);
    line = tl_asprintf("1 %s\n", hex);
    assert_int_equal(ts_write_file(keyf, line), 0);
    free(line);
    assert_int_equal(chmod(keyf, 0600), 0);
    assert_int_equal(ts_write_file(secret, "test-secret-test-secret-test-sec"), 0);
    free(c.identity_key_file);
    c.identity_key_file = tl_strdup(keyf);
    /* the synthetic burst repeats its texts and its chats send far over a new reporter's
     * rate: every report is counted here, none folded or held (their own tests) */
    c.dedup_window_minutes = 0;
    c.moderation = 0;
    c.workers = 1; /* the burst outlasts the rotation's first pass */
    /* under key 1: 30 chats known, a burst under way */
    assert_int_equal(fakebot_push_synthetic_sent(fb, 2000, 30), TL_OK);
    tb_start(&c, fb, 0, 0);
    wait_count(ci, "SELECT count(*) FROM reports", 60, 30000);
    assert_int_equal(
        ts_db_count(ci, "SELECT count(*) FROM chats WHERE get_byte(chat_sealed, 1) = 1"), 30);
    /* key 2 added and the rotation run while the bot goes on with the burst */
    struct keys_cmd kn = {ci, secret, keyf, "new", -1, NULL};
    keys_run(&kn);
    assert_int_equal(kn.status, 0);
    free(kn.out);
    assert_true(ts_db_count(ci, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") > 100);
    struct keys_cmd kr = {ci, secret, keyf, "rotate --batch 50", -1, NULL};
    keys_run(&kr);
    assert_int_equal(kr.status, 0);
    /* the chats, and raw updates of the burst still waiting under key 1 */
    long long moved = 0;
    assert_int_equal(sscanf(kr.out, "re-sealed under key 2: %lld values", &moved), 1);
    /* the 30 chats, and the raw updates the burst still had waiting when the pass reached
     * the inbox (the one worker may have drained them first on a quiet machine: what must
     * hold either way is that nothing stays under key 1, checked below) */
    printf("rotation re-sealed %lld values (30 chats)\n", moved);
    assert_true(moved >= 30);
    free(kr.out);
    settled(ci, 4000, 180000);
    /* the old key retired: the file holds key 2 alone, the database forgot key 1 */
    struct idkeys only2 = {0};
    struct tl_errinfo ei;
    assert_int_equal(idkeys_set_lookup(&only2, c.secret, c.secret_len), TL_OK);
    assert_int_equal(idkeys_load(&only2, keyf, &ei), TL_OK);
    assert_int_equal(only2.n, 1);
    assert_int_equal(only2.key[0].id, 2);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM identity_keys WHERE key_id = 1"), 0);
    /* nothing under the old key, nothing lost: every message answered with its draft, every
     * press answered, every reply sent */
    assert_int_equal(ts_db_count(ci, under_other_sql), 0);
    assert_chats_under(ci, &only2);
    assert_answered(ci, fb, 2000);
    /* the running bot, with key 2 alone now, still answers the old chats */
    assert_int_equal(fakebot_push_synthetic_sent(fb, 30, 30), TL_OK);
    settled(ci, 4060, 60000);
    assert_answered(ci, fb, 2030);
    tb_stop();
    /* and so does a bot started with the file as it is now */
    cfg_release(&c);
    tb_cfg(&c, ci);
    c.dedup_window_minutes = 0;
    c.moderation = 0;
    idkeys_clear(&c.idkeys);
    assert_int_equal(idkeys_set_lookup(&c.idkeys, c.secret, c.secret_len), TL_OK);
    assert_int_equal(idkeys_load(&c.idkeys, keyf, &ei), TL_OK);
    tb_start(&c, fb, 0, 0);
    assert_int_equal(fakebot_push_synthetic_sent(fb, 30, 30), TL_OK);
    settled(ci, 4120, 60000);
    tb_stop();
    assert_answered(ci, fb, 2060);
    assert_int_equal(ts_db_count(ci, under_other_sql), 0);
    idkeys_clear(&only2);
    cfg_release(&c);
    fakebot_stop(fb);
    unlink(secret);
    unlink(keyf);
    ts_db_drop("t_identity_rotate");
    free(ci);
}

/* ---- the upgrade of a database written before ---- */

#define OLD_A 8123456701LL
#define OLD_B 8123456702LL

static void test_identity_upgrade_seals_existing(void **state)
{
    (void)state;
    struct fakebot *fb = NULL;
    char *ci = env_open("t_identity_upgrade", &fb);
    /* what an earlier tipline left: clear chat ids everywhere, raw updates in the clear
     * (one handled, one still to handle), a report of A's with a reply queued */
    char *sql = tl_asprintf(
        "INSERT INTO reporters (pseudonym) VALUES ('pa');"
        "INSERT INTO chats (chat_id, reporter, lang) VALUES (%lld, 'pa', 'en'), (%lld, NULL, "
        "'uk');"
        "INSERT INTO reports (public_ref, reporter, text) VALUES ('TL-OLD001', 'pa', 'old "
        "report');"
        "INSERT INTO conv_messages (chat_id, draft_id, message_id) VALUES (%lld, 1, 5);"
        "INSERT INTO outbox (chat_id, method, params, state) VALUES (%lld, 'sendMessage', "
        "'{\"chat_id\": %lld, \"text\": \"queued before the upgrade\"}', 'pending');"
        "INSERT INTO inbox (update_id, chat_key, payload, processed_at) VALUES (1, %lld, "
        "'{\"update_id\": 1, \"message\": {\"message_id\": 5, \"date\": 1, \"chat\": {\"id\": "
        "%lld, \"type\": \"private\"}, \"from\": {\"id\": %lld, \"is_bot\": false, "
        "\"first_name\": \"Mykhailyna\", \"username\": \"old_quokka\"}, \"text\": \"old "
        "report\"}}', now()),"
        " (2, %lld, '{\"update_id\": 2, \"message\": {\"message_id\": 1, \"date\": 1, \"chat\": "
        "{\"id\": %lld, \"type\": \"private\"}, \"from\": {\"id\": %lld, \"is_bot\": false, "
        "\"first_name\": \"Bohdanna\", \"language_code\": \"en\"}, \"text\": \"convoy at the "
        "crossroads\"}}', NULL);"
        "UPDATE bot_state SET update_offset = 3;"
        "UPDATE identity_upgrade SET pending = true RETURNING 1",
        OLD_A, OLD_B, OLD_A, OLD_A, OLD_A, OLD_A, OLD_A, OLD_A, OLD_B, OLD_B, OLD_B);
    free(ts_db_scalar(ci, sql));
    free(sql);
    struct cfg c;
    tb_cfg(&c, ci);
    /* not yet upgraded: the bot refuses, saying what to run */
    struct tl_errinfo ei;
    assert_int_equal(start_with(&c, fb, &ei), TL_ESCHEMA);
    assert_non_null(strstr(ei.msg, "tipline keys seal-existing"));

    /* tipline migrate with the keys readable seals what is there */
    char key[] = "/tmp/tipline-key-XXXXXX", out[] = "/tmp/tipline-migout-XXXXXX";
    close(mkstemp(key));
    close(mkstemp(out));
    assert_int_equal(ts_write_file(key, "test-secret-test-secret-test-sec"), 0);
    char *cmd = tl_asprintf("TIPLINE_DATABASE_URL='%s' TIPLINE_SECRET_FILE=%s "
                            "TIPLINE_IDENTITY_KEY_FILE=%s %s migrate >%s 2>&1",
                            ci, key, ts_idkey_file(), getenv("TL_TIPLINE_BIN"), out);
    int st = system(cmd);
    char *text = ts_read_file(out, NULL);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("tipline migrate: %s", text);
    assert_non_null(strstr(text, "identities sealed: 2 chats; raw updates: 1 sealed, 1 redacted"));
    free(text);
    free(cmd);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM identity_upgrade WHERE pending"), 0);
    struct needles ns = {0};
    add_id(&ns, OLD_A, "old chat A");
    add_id(&ns, OLD_B, "old chat B");
    add_str(&ns, "Mykhailyna", "old name");
    add_str(&ns, "old_quokka", "old username");
    add_str(&ns, "Bohdanna", "old name");
    char dump[] = "/tmp/tipline-udump-XXXXXX";
    close(mkstemp(dump));
    cmd = tl_asprintf("/usr/lib/postgresql/15/bin/pg_dump -d '%s' -f %s", ci, dump);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    size_t n = 0;
    text = ts_read_file(dump, &n);
    assert_non_null(strstr(text, "TL-OLD001"));
    assert_none(&ns, text, n, "pg_dump after the upgrade");
    free(text);
    unlink(dump);
    /* nothing lost: every row kept, now under the chats' hashes */
    sql =
        tl_asprintf("SELECT (SELECT count(*) FROM chats WHERE chat_id IN (%lld, %lld) AND "
                    "chat_sealed IS NOT NULL) + (SELECT count(*) FROM conv_messages WHERE "
                    "chat_id = %lld) + (SELECT count(*) FROM outbox WHERE chat_id = %lld) + "
                    "(SELECT count(*) FROM inbox WHERE chat_key = %lld AND sealed IS NOT NULL) +"
                    " (SELECT count(*) FROM inbox WHERE update_id = 1 AND payload IS NULL AND "
                    "sealed IS NULL AND kind = 'message')",
                    tb_chat(OLD_A), tb_chat(OLD_B), tb_chat(OLD_A), tb_chat(OLD_A), tb_chat(OLD_B));
    assert_int_equal(ts_db_count(ci, sql), 6);
    free(sql);
    assert_int_equal(ts_db_count(ci, "SELECT count(*) FROM chats"), 2);

    /* the bot starts: the queued reply reaches A, B's pending update is answered in B's
     * chat, and A gets an analyst's question */
    tb_start(&c, fb, 0, 0);
    free(ts_db_scalar(ci, "INSERT INTO followups (report_id, asked_by, question) SELECT id, "
                          "'alice', 'Still there?' FROM reports RETURNING id"));
    int64_t end = tl_now_ms() + 20000;
    while ((calls_to(fb, "sendMessage", OLD_A) < 2 || calls_to(fb, "sendMessage", OLD_B) < 1) &&
           tl_now_ms() < end)
        tl_sleep_ms(50, NULL);
    tb_stop();
    assert_int_equal(calls_to(fb, "sendMessage", OLD_A), 2);
    assert_int_equal(calls_to(fb, "sendMessage", OLD_B), 1);
    unlink(key);
    unlink(out);
    cfg_release(&c);
    fakebot_stop(fb);
    ts_db_drop("t_identity_upgrade");
    free(ci);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_mask_text),
        cmocka_unit_test(test_identity_chat_cache),
        cmocka_unit_test_teardown(test_identity_dump_and_wal_name_no_one, tb_teardown),
        cmocka_unit_test(test_identity_wrong_key_refused),
        cmocka_unit_test_teardown(test_identity_rotation_during_burst, tb_teardown),
        cmocka_unit_test_teardown(test_identity_upgrade_seals_existing, tb_teardown),
    };
    return cmocka_run_group_tests_name("identity", tests, NULL, NULL);
}
