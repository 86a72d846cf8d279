/* tests/test_moderation.c - moderation/: the rules engine (matching, actions, the
 * prefilter against plain pcre2, a catastrophic pattern under its limits, broken files
 * that keep the old set, the sample file), text hygiene, rate-limit maths, campaign
 * matching on a flood and on unrelated reports, and the verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/log.h"
#include "moderation/mod.h"

static struct mod_rules *parse_ok(const char *text)
{
    struct mod_rules *r = NULL;
    struct tl_errinfo ei;
    struct mod_rules_error err;
    tl_errinfo_clear(&ei);
    int rc = mod_rules_parse(text, strlen(text), "t.rules", NULL, &r, &err, &ei);
    if (rc != TL_OK)
        fail_msg("parse: %s", ei.msg);
    return r;
}

static const char *const rules_text =
    "# comment\n"
    "\n"
    "drop   scam.crypto   (?:подво|удво|double)\\w*\\s+(?:your\\s+)?(?:btc|bitcoin|біткоїн)\n"
    "hold   abuse.threat  (?:вб'?ю|i will kill)\n"
    "  flag disinfo.surrender здавайтесь  \n"
    "refuse abuse.slur    \\bслур\\w*\n"
    "flag   noise.digits  ^\\d+$\r\n";

static void test_moderation_rules_match_actions(void **state)
{
    (void)state;
    struct mod_rules *r = parse_ok(rules_text);
    struct mod_scratch *s = mod_scratch_new();
    struct mod_hit h[8];
    assert_int_equal(mod_rules_count(r), 5);

    /* caseless in Cyrillic and Latin, the strongest first in rule order */
    assert_int_equal(mod_rules_match(r, s, "ПОДВОЇТЬ Біткоїн за годину", 45, h, 8), 1);
    assert_int_equal(h[0].action, MOD_RULE_DROP);
    assert_string_equal(h[0].reason, "scam.crypto");
    const char *t = "Double your BTC! Або вб'ю. ЗДАВАЙТЕСЬ";
    assert_int_equal(mod_rules_match(r, s, t, strlen(t), h, 8), 3);
    assert_int_equal(h[0].rule, 0);
    assert_int_equal(h[1].action, MOD_RULE_HOLD);
    assert_string_equal(h[2].reason, "disinfo.surrender");
    /* the pattern is the rest of the line without trailing blanks: "здавайтесь" */
    struct mod_rule_info ri;
    mod_rule_info(r, 2, &ri);
    assert_string_equal(ri.pattern, "здавайтесь");
    assert_int_equal(ri.line, 5);
    assert_int_equal(ri.hits, 1);
    /* \b is Unicode-aware: no match inside a Cyrillic word */
    assert_int_equal(mod_rules_match(r, s, "преслур", strlen("преслур"), h, 8), 0);
    assert_int_equal(mod_rules_match(r, s, "це слури", strlen("це слури"), h, 8), 1);
    assert_int_equal(h[0].action, MOD_RULE_REFUSE);
    /* \r of a CRLF file is not part of the pattern */
    assert_int_equal(mod_rules_match(r, s, "12345", 5, h, 8), 1);
    assert_string_equal(h[0].reason, "noise.digits");
    /* nothing */
    assert_int_equal(mod_rules_match(r, s, "Бачу колону техніки", 35, h, 8), 0);
    /* invalid UTF-8 matches nothing (and does not crash pcre2's JIT) */
    assert_int_equal(mod_rules_match(r, s, "\xff\xfe double btc", 15, h, 8), 0);
    /* more hits than room: counted, stored up to max */
    assert_int_equal(mod_rules_match(r, s, t, strlen(t), h, 1), 3);
    mod_rule_info(r, 0, &ri);
    assert_int_equal(ri.hits, 3);
    assert_true(ri.prefiltered);
    mod_scratch_free(s);
    mod_rules_free(r);
}

/* The prefilter never changes a result: every rule on every text against plain pcre2. */
static void test_moderation_rules_prefilter_agrees_with_pcre2(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "abc",        "a(b|c)d",  "(?:x|yz)+w",  "ab+c",         "ab*c",
        "a{2}b",      "a{0,2}b",  "[ab]cd",      "\\d+ грн",     "(foo|)bar",
        "foo|bar|.",  "^тест$",   "k",           "ßa",           "s",
        "ВОДА\\s+є",  "(?i)abc",  "a\\.b",       "(?=x)xy",      "\\bкот\\b",
        "(a|b)(c|d)", "ÅNGSTRÖM", "x\\Qa.b\\Ey", "[[:alpha:]]z", "a(?:b(?:c|d)e)f",
        "\\x{41}b",   "ка?т",     "(?:ab){2,}c", "ь+",           "[\\]]x",
    };
    static const char *const texts[] = {
        "abc",   "ABD",    "xyzw",   "aBBc",   "ac",     "aab",   "b",        "BCD",
        "5 ГРН", "bar",    "тест",   "\u212A", "\u017F", "SSA",   "ßA",       "вода є",
        "a.b",   "xy",     "кот",    "котик",  "ad",     "bd",    "ångström", "x",
        "xa.by", "az",     "abcdef", "ABe",    "ab",     "ababc", "кт",       "ЬЬ",
        "]x",    "\u1C80", "в",      "ᲀ",    "",       "ЁЖ",    "Ab",       "кАт",
    };
    size_t np = sizeof(pats) / sizeof(*pats), nt = sizeof(texts) / sizeof(*texts);
    char *file = calloc(np, 64);
    size_t o = 0;
    for (size_t i = 0; i < np; i++)
        o += (size_t)snprintf(file + o, np * 64 - o, "flag r%zu %s\n", i, pats[i]);
    struct mod_rules *r = parse_ok(file);
    struct mod_scratch *s = mod_scratch_new();
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int prefiltered = 0;
    for (size_t i = 0; i < np; i++) {
        struct mod_rule_info ri;
        mod_rule_info(r, i, &ri);
        prefiltered += ri.prefiltered;
    }
    assert_true(prefiltered >= 20); /* most patterns do give literals */
    for (size_t ti = 0; ti < nt; ti++) {
        struct mod_hit h[64];
        size_t n = mod_rules_match(r, s, texts[ti], strlen(texts[ti]), h, 64);
        size_t k = 0;
        for (size_t i = 0; i < np; i++) {
            int ec;
            PCRE2_SIZE eo;
            pcre2_code *c = pcre2_compile((PCRE2_SPTR)pats[i], PCRE2_ZERO_TERMINATED,
                                          PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
            assert_non_null(c);
            int want =
                pcre2_match(c, (PCRE2_SPTR)texts[ti], strlen(texts[ti]), 0, 0, md, NULL) >= 0;
            int got = k < n && h[k].rule == i;
            if (got)
                k++;
            if (want != got)
                fail_msg("pattern %s on \"%s\": pcre2 %d, rules %d", pats[i], texts[ti], want, got);
            pcre2_code_free(c);
        }
    }
    pcre2_match_data_free(md);
    mod_scratch_free(s);
    mod_rules_free(r);
    free(file);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_moderation_rules_catastrophic_pattern_bounded(void **state)
{
    (void)state;
    struct mod_rules *r = parse_ok("hold evil (a+)+$\n"
                                   "flag spam spam\n");
    struct mod_scratch *s = mod_scratch_new();
    char logbuf[2048] = "";
    FILE *lf = fmemopen(logbuf, sizeof(logbuf) - 1, "w");
    log_set_stream(lf);

    size_t n = 40000;
    char *text = malloc(n + 16);
    memset(text, 'a', n);
    memcpy(text + n, "b spam", 7);
    struct mod_hit h[4];
    double t0 = now_s();
    size_t got = mod_rules_match(r, s, text, n + 6, h, 4);
    double took = now_s() - t0;
    /* unbounded, (a+)+$ on 40,000 a's and a b would not end in our lifetime */
    assert_true(took < 2.0);
    assert_int_equal(got, 1);
    assert_string_equal(h[0].reason, "spam");
    struct mod_rule_info ri;
    mod_rule_info(r, 0, &ri);
    assert_true(ri.disabled);
    assert_int_equal(ri.limited, 1);
    assert_int_equal(ri.hits, 0);
    fflush(lf);
    assert_non_null(strstr(logbuf, "rule disabled"));
    assert_non_null(strstr(logbuf, "reason=evil"));

    /* the next message is handled at once, the disabled rule is not run again even
     * where it would match */
    t0 = now_s();
    assert_int_equal(mod_rules_match(r, s, "aaa spam", 8, h, 4), 1);
    assert_string_equal(h[0].reason, "spam");
    assert_true(now_s() - t0 < 0.01);
    mod_rule_info(r, 0, &ri);
    assert_int_equal(ri.limited, 1);
    log_set_stream(NULL);
    fclose(lf);
    free(text);
    mod_scratch_free(s);
    mod_rules_free(r);
}

static void test_moderation_rules_bad_file_keeps_old_set(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        unsigned line, col;
        const char *words;
    } cases[] = {
        {"flag a x\n\nblock b y\n", 3, 1, "unknown action"},
        {"flag a x\nhold Bad y\n", 2, 6, "reason"},
        {"flag a x\n  hold b    \n", 2, 13, "pattern missing"},
        {"flag a x\ndrop b  foo(bar\n", 2, 16, "missing closing parenthesis"},
        {"flag a x\ndrop b  ab[c\n", 2, 13, "missing terminating ]"},
        {"flag a \xff\n", 1, 8, "not UTF-8"},
        {"flag a x\nflag\n", 2, 5, "reason missing"},
    };
    struct mod_rules *cur = parse_ok("hold scam scam\n");
    struct mod_scratch *s = mod_scratch_new();
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct mod_rules *next = (struct mod_rules *)1;
        struct mod_rules_error err;
        struct tl_errinfo ei;
        tl_errinfo_clear(&ei);
        int rc = mod_rules_parse(cases[i].file, strlen(cases[i].file), "new.rules", NULL, &next,
                                 &err, &ei);
        assert_int_not_equal(rc, TL_OK);
        assert_null(next);
        if (err.line != cases[i].line || err.column != cases[i].col ||
            !strstr(ei.msg, cases[i].words))
            fail_msg("case %zu: %u:%u %s", i, err.line, err.column, ei.msg);
        char where[32];
        snprintf(where, sizeof(where), "new.rules:%u:%u:", cases[i].line, cases[i].col);
        assert_non_null(strstr(ei.msg, where));
        /* the caller's set is untouched and still works */
        struct mod_hit h[2];
        assert_int_equal(mod_rules_match(cur, s, "a SCAM here", 11, h, 2), 1);
    }
    mod_scratch_free(s);
    mod_rules_free(cur);
}

static void test_moderation_rules_sample_file(void **state)
{
    (void)state;
    const char *src = getenv("TL_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/deploy/moderation.rules", src ? src : ".");
    struct mod_rules *r = NULL;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int rc = mod_rules_load(path, NULL, &r, NULL, &ei);
    if (rc != TL_OK)
        fail_msg("%s", ei.msg);
    assert_true(mod_rules_count(r) >= 25);
    struct mod_scratch *s = mod_scratch_new();
    static const struct {
        const char *text;
        const char *reason; /* first hit, NULL: none */
    } cases[] = {
        {"Подвоїмо ваш біткоїн за добу, пишіть", "scam.crypto"},
        {"Заробіток від 500$ на день без вкладень", "scam.investment"},
        {"Переходь t.me/+AbCdEfGhIjKl12", "spam.invite"},
        {"Бачу колону техніки біля Ізюму, 20 машин", NULL},
        {"тест", "noise.test"},
        {"  Привіт!!", "noise.greeting_only"},
        {"Привіт, у нас вибух", NULL},
        {"наші позиції стоять біля школи", "opsec.own_positions"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct mod_hit h[4];
        size_t n = mod_rules_match(r, s, cases[i].text, strlen(cases[i].text), h, 4);
        if (!cases[i].reason) {
            if (n != 0)
                fail_msg("\"%s\" matched %s", cases[i].text, h[0].reason);
        } else if (n == 0 || strcmp(h[0].reason, cases[i].reason) != 0) {
            fail_msg("\"%s\": %zu hits, first %s", cases[i].text, n, n ? h[0].reason : "-");
        }
    }
    struct mod_rules *none = (struct mod_rules *)1;
    rc = mod_rules_load("/nonexistent/x.rules", NULL, &none, NULL, NULL);
    assert_int_equal(rc, TL_EIO);
    assert_null(none);
    mod_scratch_free(s);
    mod_rules_free(r);
}

static void test_moderation_text_display(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *out;
        size_t n;
    } cases[] = {
        {"plain text\nand a tab\t", 21, "plain text\nand a tab\t", 0},
        {"bell\a esc\x1b[31m", 14, "bell\xEF\xBF\xBD esc\xEF\xBF\xBD[31m", 2},
        {"file \u202Egpj.exe", 15, "file gpj.exe", 1},
        {"\u2066a\u2069\u200F", 10, "a", 3},
        {"c1 \xC2\x85 x", 7, "c1 \xEF\xBF\xBD x", 1},
        {"bad \xff\xfe", 6, "bad \xEF\xBF\xBD\xEF\xBF\xBD", 2},
        {"a\u2028b", 5, "a\nb", 1},
        {"nul\0x", 5, "nul\xEF\xBF\xBDx", 1},
        {"Київ 🇺🇦", 17, "Київ 🇺🇦", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *out = NULL;
        size_t n = 99;
        assert_int_equal(mod_text_display(cases[i].in, cases[i].len, &out, &n), TL_OK);
        if (strcmp(out, cases[i].out) != 0 || n != cases[i].n)
            fail_msg("case %zu: \"%s\" (%zu)", i, out, n);
        free(out);
    }
}

static void test_moderation_text_length(void **state)
{
    (void)state;
    assert_int_equal(mod_text_utf16_len("abc", 3), 3);
    assert_int_equal(mod_text_utf16_len("Київ", 8), 4);
    assert_int_equal(mod_text_utf16_len("😀a", 5), 3); /* a surrogate pair */
    /* bound: never split a code point or a pair */
    assert_int_equal(mod_text_bound("ab😀c", 7, 3), 2);
    assert_int_equal(mod_text_bound("ab😀c", 7, 4), 6);
    assert_int_equal(mod_text_bound("Київ", 8, 3), 6);
    assert_int_equal(mod_text_bound("abc", 3, 10), 3);
    /* 4096 units allowed as text, 1024 as a caption */
    char *t = malloc(4097 * 2);
    for (int i = 0; i < 4097; i++)
        memcpy(t + 2 * i, "ї", 2);
    assert_int_equal(mod_text_utf16_len(t, 4096 * 2), MOD_TEXT_MAX_UTF16);
    assert_int_equal(mod_text_bound(t, 4097 * 2, MOD_TEXT_MAX_UTF16), 4096 * 2);
    assert_int_equal(mod_text_bound(t, 4097 * 2, MOD_CAPTION_MAX_UTF16), 1024 * 2);
    free(t);
}

static void test_moderation_links(void **state)
{
    (void)state;
    const char *t = "Дивись https://example.com/a?b=1, і (www.site.ua/x) та t.me/chan_1. "
                    "Also «http://x.org/path»! tg://resolve?domain=a and "
                    "https://en.wikipedia.org/wiki/A_(b) mailhttp://no, "
                    "join @real_news24. not me@mail.org, @abc, @name@host, @toolong_"
                    "abcdefghijklmnopqrstuvwxyz0123 or (@Kyiv_Channel)";
    static const char *const want[] = {
        "https://example.com/a?b=1",
        "www.site.ua/x",
        "t.me/chan_1",
        "http://x.org/path",
        "tg://resolve?domain=a",
        "https://en.wikipedia.org/wiki/A_(b)",
        "@real_news24",
        "@Kyiv_Channel",
    };
    struct mod_link l[8];
    size_t n = mod_links_find(t, strlen(t), l, 8);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++) {
        if (l[i].len != strlen(want[i]) || memcmp(t + l[i].off, want[i], l[i].len) != 0)
            fail_msg("link %zu: %.*s", i, (int)l[i].len, t + l[i].off);
    }
    assert_int_equal(mod_links_find(t, strlen(t), l, 2), 8);
    assert_int_equal(mod_links_find("no links here. www", 18, l, 8), 0);
}

static const struct mod_rate_cfg rate_cfg = {
    .per_hour = 60,
    .burst = 10,
    .new_per_hour = 6,
    .new_burst = 3,
    .new_for_s = 86400,
    .new_below_reputation = 0,
    .ncat = 2,
    .cat = {{0, 0}, {4, 2}},
};

static void test_moderation_rate_limits(void **state)
{
    (void)state;
    const int64_t S = 1000000, t0 = 1790000000LL * S;
    struct mod_rate_state st;
    memset(&st, 0, sizeof(st));
    /* an established reporter: a burst of 10, then one a minute */
    for (int i = 0; i < 10; i++)
        assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, 0, t0), 0);
    int64_t w = mod_rate_take(&rate_cfg, &st, 0, 0, t0);
    assert_true(w > 59 * S && w <= 60 * S + 1);
    assert_true(mod_rate_take(&rate_cfg, &st, 0, 0, t0 + 59 * S) > 0);
    assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, 0, t0 + 60 * S + 1), 0);
    /* the state is plain data: a copy (a restart) carries on where it was */
    struct mod_rate_state copy;
    memcpy(&copy, &st, sizeof(copy));
    assert_true(mod_rate_take(&rate_cfg, &copy, 0, 0, t0 + 61 * S) > 0);

    /* a new reporter: a burst of 3, one every 10 minutes */
    memset(&st, 0, sizeof(st));
    for (int i = 0; i < 3; i++)
        assert_int_equal(mod_rate_take(&rate_cfg, &st, 1, -1, t0), 0);
    w = mod_rate_take(&rate_cfg, &st, 1, -1, t0);
    assert_true(w > 599 * S && w <= 600 * S + 1);
    /* becoming established lifts the rate from then on */
    assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, -1, t0 + 60 * S + 1), 0);

    /* category 1: at most 2 at once and 4 an hour, whatever the reporter's bucket holds;
     * a refusal by the category costs the reporter's bucket nothing */
    memset(&st, 0, sizeof(st));
    assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, 1, t0), 0);
    assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, 1, t0), 0);
    w = mod_rate_take(&rate_cfg, &st, 0, 1, t0);
    assert_true(w > 899 * S && w <= 900 * S + 1);
    double before = st.all.tokens;
    assert_true(mod_rate_take(&rate_cfg, &st, 0, 1, t0) > 0);
    assert_true(st.all.tokens == before);
    for (int i = 0; i < 8; i++) /* other categories still flow */
        assert_int_equal(mod_rate_take(&rate_cfg, &st, 0, 0, t0), 0);
    assert_true(mod_rate_take(&rate_cfg, &st, 0, 0, t0) > 0);
    /* a wall clock set back an hour does not lock the reporter out for that hour */
    w = mod_rate_take(&rate_cfg, &st, 0, 0, t0 - 3600 * S);
    assert_true(w > 0 && w <= 60 * S + 1);
}

/* ---- campaigns ---- */

static uint64_t rng = 88172645463325252ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const flood[] = {
    "Терміново! ЗСУ залишили місто, командування втекло, рятуйтеся хто може, "
    "виїжджайте на захід поки не пізно",
    "Увага всім: у водопроводі міста отрута, не пийте воду з крана, влада мовчить, "
    "перешліть усім знайомим",
};
static const char *const emoji[] = {"🔥", "‼️", "😱", "🇺🇦", "👉", "⚠️"};

/* A small variation of base, as copy-paste floods vary: case, spacing, punctuation,
 * emoji, digits, a look-alike letter, a word dropped or added. */
static void vary(const char *base, char *out, size_t cap)
{
    size_t o = 0, n = strlen(base);
    int upper = rnd(4) == 0;
    o += (size_t)snprintf(out + o, cap - o, "%s", rnd(2) ? emoji[rnd(6)] : "");
    if (rnd(3) == 0)
        o += (size_t)snprintf(out + o, cap - o, "%u) ", rnd(100));
    int dropped = 0;
    for (size_t i = 0; i < n && o + 8 < cap;) {
        unsigned char c = (unsigned char)base[i];
        if (c == ' ' && rnd(10) == 0) {
            out[o++] = ' ';
            out[o++] = ' ';
            i++;
            continue;
        }
        if (c == ' ' && !dropped && rnd(40) == 0) { /* drop the next word */
            dropped = 1;
            i++;
            while (i < n && base[i] != ' ')
                i++;
            continue;
        }
        if (c == 0xD0 && i + 1 < n && (unsigned char)base[i + 1] == 0xBE && rnd(5) == 0) {
            out[o++] = 'o'; /* Cyrillic о written as Latin o */
            i += 2;
            continue;
        }
        if (upper && c == 0xD0 && i + 1 < n && (unsigned char)base[i + 1] >= 0xB0 &&
            (unsigned char)base[i + 1] <= 0xBF) {
            out[o++] = (char)0xD0;
            out[o++] = (char)(base[i + 1] - 0x20); /* а-п -> А-П */
            i += 2;
            continue;
        }
        if (c == ',' && rnd(3) == 0) {
            i++;
            continue;
        }
        out[o++] = base[i++];
    }
    o += (size_t)snprintf(out + o, cap - o, "%s%s", rnd(2) ? "!!!" : ".",
                          rnd(2) ? emoji[rnd(6)] : "");
    out[o] = '\0';
}

static const char *const vocab[] = {
    "бачу",       "колону",       "техніки",    "біля",      "школи",      "вибух",
    "чути",       "сильний",      "дрон",       "летить",    "низько",     "над",
    "містом",     "танк",         "вантажівки", "рухаються", "на",         "північ",
    "південь",    "захід",        "схід",       "вокзалу",   "мосту",      "річки",
    "лісосмуги",  "заправки",     "складу",     "поля",      "села",       "дороги",
    "ракета",     "шахед",        "гелікоптер", "літак",     "пожежа",     "дим",
    "світло",     "зникло",       "зв'язку",    "немає",     "солдати",    "окупанти",
    "стріляють",  "мінометний",   "обстріл",    "артилерія", "вночі",      "зранку",
    "ввечері",    "вчора",        "сьогодні",   "годину",    "тому",       "хвилин",
    "приблизно",  "багато",       "декілька",   "двоє",      "троє",       "машин",
    "БТР",        "БМП",          "Урал",       "КАМАЗ",     "позначки",   "літера",
    "білі",       "зелені",       "номери",     "зняті",     "ховаються",  "у",
    "дворах",     "між",          "будинками",  "гаражами",  "за",         "магазином",
    "церквою",    "стадіоном",    "лікарнею",   "заводом",   "елеватором", "фермою",
    "кладовищем", "окопи",        "копають",    "блокпост",  "поставили",  "перевіряють",
    "телефони",   "документи",    "забирають",  "чоловіків", "мародерять", "квартири",
    "машини",     "проїхали",     "швидко",     "повільно",  "стоять",     "другий",
    "день",       "тиждень",      "помітили",   "антену",    "радар",      "комплекс",
    "ППО",        "пускову",      "установку",  "кулемет",   "снайпер",    "даху",
    "вежі",       "водонапірної", "колишньої",  "пошти",     "банку",      "ринку",
    "парку",      "озера",        "кар'єру",    "шахти",     "залізниці",  "переїзду",
    "трасі",      "Харків",       "Ізюм",       "Куп'янськ", "Балаклія",   "Лиман",
    "Сватове",    "Кремінна",     "Бахмут",     "Токмак",    "Мелітополь", "Бердянськ",
};

static void unrelated(char *out, size_t cap)
{
    size_t o = 0, nw = 9 + rnd(8), nv = sizeof(vocab) / sizeof(*vocab);
    for (size_t k = 0; k < nw && o + 40 < cap; k++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", k ? " " : "", vocab[rnd((uint32_t)nv)]);
    if (rnd(2))
        o += (size_t)snprintf(out + o, cap - o, ", %u", rnd(50));
}

static const struct mod_campaign_cfg camp_cfg = {
    .min_similarity = 0.5,
    .min_text_len = 40,
    .max_phash_distance = 6,
    .min_reporters = 3,
    .window_us = 600LL * 1000000,
};

/* Feeds n messages as the handlers would: each is checked against the window; one that
 * joins either joins the campaign named or founds a new one with its matched entries.
 * Returns how many messages ended in a campaign and the number of campaigns. */
static size_t run_window(int is_flood, size_t n, size_t *ncampaigns)
{
    struct mod_recent *w = calloc(n, sizeof(*w));
    size_t *matched = calloc(n, sizeof(*matched));
    int64_t next_campaign = 1, t0 = 1790000000LL * 1000000;
    char text[1024];
    size_t in = 0;
    *ncampaigns = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_flood)
            vary(flood[0], text, sizeof(text));
        else
            unrelated(text, sizeof(text));
        struct mod_recent *me = &w[i];
        assert_int_equal(mod_sig_make(text, strlen(text), 0, 0, &me->sig), TL_OK);
        me->reporter = 1000 + (int64_t)(i % 100); /* 100 reporters, 5 messages each */
        me->at_us = t0 + (int64_t)i * 300000;     /* 500 in 2.5 minutes */
        struct mod_campaign_result res;
        mod_campaign_check(&camp_cfg, &me->sig, me->reporter, me->at_us, w, i, matched, n, &res);
        if (!res.joins)
            continue;
        if (res.campaign) {
            me->campaign = res.campaign;
        } else {
            me->campaign = next_campaign++;
            (*ncampaigns)++;
            for (size_t k = 0; k < res.nmatched && k < n; k++)
                w[matched[k]].campaign = me->campaign;
        }
    }
    for (size_t i = 0; i < n; i++)
        in += w[i].campaign != 0;
    free(w);
    free(matched);
    return in;
}

static void test_moderation_campaign_flood_and_unrelated(void **state)
{
    (void)state;
    size_t nc = 0;
    assert_int_equal(run_window(1, 500, &nc), 500);
    assert_int_equal(nc, 1);
    assert_int_equal(run_window(0, 500, &nc), 0);
    assert_int_equal(nc, 0);

    /* two reporters are not a campaign; the third is; the same reporter thrice is not */
    struct mod_recent w[3];
    char text[1024];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 3; i++) {
        vary(flood[1], text, sizeof(text));
        assert_int_equal(mod_sig_make(text, strlen(text), 0, 0, &w[i].sig), TL_OK);
        w[i].reporter = 7;
        w[i].at_us = 1000;
    }
    struct mod_campaign_result res;
    size_t m[4];
    mod_campaign_check(&camp_cfg, &w[2].sig, 7, 2000, w, 2, m, 4, &res);
    assert_false(res.joins);
    assert_int_equal(res.nmatched, 2);
    w[1].reporter = 8;
    mod_campaign_check(&camp_cfg, &w[2].sig, 7, 2000, w, 2, m, 4, &res);
    assert_false(res.joins);
    mod_campaign_check(&camp_cfg, &w[2].sig, 9, 2000, w, 2, m, 4, &res);
    assert_true(res.joins);
    assert_int_equal(res.reporters, 3);
    assert_int_equal(res.campaign, 0);
    /* out of the window: nothing */
    mod_campaign_check(&camp_cfg, &w[2].sig, 9, 1000 + camp_cfg.window_us + 1, w, 2, m, 4, &res);
    assert_false(res.joins);
    /* the two flood texts are different campaigns */
    struct mod_sig other;
    vary(flood[0], text, sizeof(text));
    assert_int_equal(mod_sig_make(text, strlen(text), 0, 0, &other), TL_OK);
    assert_true(mod_sig_similarity(&other, &w[0].sig) < 0.2);
}

/* The key folding compares texts by: what differs only in case, blanks or trailing
 * punctuation and emoji is the same; other words, digits or inner punctuation are not. */
static void test_moderation_fold_key(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want; /* want NULL: no key */
    } cases[] = {
        {"Танк на Сумській", "танк на сумській"},
        {"  ТАНК   на\tСумській!!! 🔥🔥 ", "танк на сумській"},
        {"танк на сумській...", "танк на сумській"},
        {"Танк на Сумській 👍🏻", "танк на сумській"},
        {"Ґанок, ЇЖАК? Є.", "ґанок, їжак? є"},
        {"3 танки!", "3 танки"},
        {"5 танків", "5 танків"},
        {"вул. Сумська, 5 :)", "вул. сумська, 5"},
        {"Hello,\u00a0WORLD\u2003!", "hello, world"},
        {"🔥🔥!", "🔥🔥!"},
        {"   ", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *k = NULL;
        assert_int_equal(mod_text_fold_key(cases[i].in, strlen(cases[i].in), &k), TL_OK);
        if (cases[i].want)
            assert_string_equal(k, cases[i].want);
        else
            assert_null(k);
        free(k);
    }
    char *k = NULL;
    assert_int_equal(mod_text_fold_key(NULL, 0, &k), TL_OK);
    assert_null(k);
}

static void test_moderation_campaign_photo_and_normalise(void **state)
{
    (void)state;
    char *n = NULL;
    assert_int_equal(mod_text_normalise("  ТЕРМІНОВО!!! 🔥🔥 Вибух   о 14:35, 2 ракети...  ",
                                        strlen("  ТЕРМІНОВО!!! 🔥🔥 Вибух   о 14:35, 2 ракети...  "),
                                        &n),
                     TL_OK);
    assert_string_equal(n, "tepmihobo bибyx o 0 0 0 paketи");
    free(n);

    struct mod_sig a, b, c;
    assert_int_equal(mod_sig_make(NULL, 0, 1, 0xF0F0F0F0F0F0F0F0ULL, &a), TL_OK);
    assert_int_equal(mod_sig_make(NULL, 0, 1, 0xF0F0F0F0F0F0F0F3ULL, &b), TL_OK); /* 2 bits */
    assert_int_equal(mod_sig_make(NULL, 0, 1, 0x0F0F0F0F0F0F0F0FULL, &c), TL_OK);
    assert_int_equal(mod_phash_distance(a.phash, b.phash), 2);
    struct mod_recent w[2] = {{.sig = a, .reporter = 1, .at_us = 10},
                              {.sig = b, .reporter = 2, .at_us = 10}};
    struct mod_campaign_result res;
    size_t m[2];
    mod_campaign_check(&camp_cfg, &b, 3, 20, w, 2, m, 2, &res);
    assert_true(res.joins);
    mod_campaign_check(&camp_cfg, &c, 3, 20, w, 2, m, 2, &res);
    assert_false(res.joins);
    assert_int_equal(res.nmatched, 0);
    /* a short text never matches: "ok" from three people is no campaign */
    assert_int_equal(mod_sig_make("дякую!", strlen("дякую!"), 0, 0, &a), TL_OK);
    w[0].sig = a, w[1].sig = a;
    mod_campaign_check(&camp_cfg, &a, 3, 20, w, 2, m, 2, &res);
    assert_false(res.joins);
}

/* ---- the verdict ---- */

static void test_moderation_verdict(void **state)
{
    (void)state;
    struct mod_rules *r = parse_ok(rules_text);
    struct mod_scratch *s = mod_scratch_new();
    struct mod_policy p = {
        .rules = r, .rate = rate_cfg, .campaign = camp_cfg, .flag_below_reputation = -5};
    const int64_t t0 = 1790000000LL * 1000000;
    struct mod_standing old = {.reputation = 3, .first_seen_us = t0 - 90LL * 86400 * 1000000};
    struct mod_standing fresh = {.reputation = 0, .first_seen_us = t0 - 3600LL * 1000000};
    struct mod_rate_state rs;
    memset(&rs, 0, sizeof(rs));
    struct mod_history h = {.rate = &rs};
    struct mod_message m = {
        .text = "Бачу колону техніки біля школи", .category = -1, .reporter = 1, .at_us = t0};
    m.len = strlen(m.text);
    struct mod_verdict v;

    assert_int_equal(mod_decide(&p, s, &m, &old, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_ACCEPT);
    assert_int_equal(v.nreasons, 0);
    assert_false(v.is_new);

    struct mod_standing banned = old;
    banned.ban = MOD_BAN_OPEN;
    double tokens = rs.all.tokens;
    assert_int_equal(mod_decide(&p, s, &m, &banned, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_BANNED);
    assert_string_equal(v.reasons[0], "ban");
    assert_true(rs.all.tokens == tokens); /* a ban spends no rate */
    banned.ban = MOD_BAN_SHADOW;
    assert_int_equal(mod_decide(&p, s, &m, &banned, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_SHADOW_BANNED);
    assert_string_equal(mod_verdict_name(v.kind), "shadow_banned");

    /* rules: the strongest action, every reason */
    m.text = "double your btc, або вб'ю";
    m.len = strlen(m.text);
    assert_int_equal(mod_decide(&p, s, &m, &old, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_DROP);
    assert_int_equal(v.nreasons, 2);
    assert_string_equal(v.reasons[0], "rule:scam.crypto");
    assert_string_equal(v.reasons[1], "rule:abuse.threat");

    /* low reputation: accepted but flagged */
    struct mod_standing low = old;
    low.reputation = -10;
    m.text = "Бачу колону техніки";
    m.len = strlen(m.text);
    assert_int_equal(mod_decide(&p, s, &m, &low, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_FLAG);
    assert_string_equal(v.reasons[0], "low_reputation");
    assert_true(v.is_new); /* below new_below_reputation too */

    /* too long for a caption */
    char *big = malloc(1100);
    memset(big, 'x', 1100);
    struct mod_message cap = m;
    cap.text = big, cap.len = 1100, cap.is_caption = 1;
    assert_int_equal(mod_decide(&p, s, &cap, &old, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_REFUSE);
    assert_string_equal(v.reasons[0], "too_long");
    cap.is_caption = 0;
    assert_int_equal(mod_decide(&p, s, &cap, &old, &h, &v), TL_OK);
    assert_int_equal(v.kind, MOD_ACCEPT);
    free(big);

    /* a new reporter: 3 at once, the 4th is rate limited with the wait */
    struct mod_rate_state rs2;
    memset(&rs2, 0, sizeof(rs2));
    struct mod_recent win[4];
    memset(win, 0, sizeof(win));
    struct mod_history h2 = {.rate = &rs2, .window = win, .nwindow = 0};
    char text[1024];
    vary(flood[0], text, sizeof(text));
    m.text = text;
    m.len = strlen(text);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mod_decide(&p, s, &m, &fresh, &h2, &v), TL_OK);
        assert_int_equal(v.kind, MOD_ACCEPT);
        assert_true(v.is_new);
        assert_true(v.sig.text_len > 40);
    }
    assert_int_equal(mod_decide(&p, s, &m, &fresh, &h2, &v), TL_OK);
    assert_int_equal(v.kind, MOD_RATE_LIMITED);
    assert_string_equal(v.reasons[0], "rate_limit");
    assert_true(v.retry_after_us > 599LL * 1000000);

    /* a campaign: the same text already sent by two other new reporters */
    for (int i = 0; i < 2; i++) {
        char t2[1024];
        vary(flood[0], t2, sizeof(t2));
        assert_int_equal(mod_sig_make(t2, strlen(t2), 0, 0, &win[i].sig), TL_OK);
        win[i].reporter = 50 + i;
        win[i].at_us = t0 - 1000000;
    }
    memset(&rs2, 0, sizeof(rs2));
    h2.nwindow = 2;
    assert_int_equal(mod_decide(&p, s, &m, &fresh, &h2, &v), TL_OK);
    assert_int_equal(v.kind, MOD_HOLD);
    assert_string_equal(v.reasons[0], "campaign");
    assert_true(v.campaign.joins);
    assert_int_equal(v.campaign.nmatched, 2);
    assert_int_equal(v.matched[1], 1);
    /* an established reporter is never counted into a campaign */
    assert_int_equal(mod_decide(&p, s, &m, &old, &h2, &v), TL_OK);
    assert_int_equal(v.kind, MOD_ACCEPT);
    mod_scratch_free(s);
    mod_rules_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moderation_rules_match_actions),
        cmocka_unit_test(test_moderation_rules_prefilter_agrees_with_pcre2),
        cmocka_unit_test(test_moderation_rules_catastrophic_pattern_bounded),
        cmocka_unit_test(test_moderation_rules_bad_file_keeps_old_set),
        cmocka_unit_test(test_moderation_rules_sample_file),
        cmocka_unit_test(test_moderation_text_display),
        cmocka_unit_test(test_moderation_text_length),
        cmocka_unit_test(test_moderation_links),
        cmocka_unit_test(test_moderation_rate_limits),
        cmocka_unit_test(test_moderation_campaign_flood_and_unrelated),
        cmocka_unit_test(test_moderation_campaign_photo_and_normalise),
        cmocka_unit_test(test_moderation_fold_key),
        cmocka_unit_test(test_moderation_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
