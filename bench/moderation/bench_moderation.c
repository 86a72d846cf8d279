/* bench/moderation/bench_moderation.c - how many messages mod_rules_match checks per
 * second on one core against 500 realistic rules (scam and spam phrases in Ukrainian,
 * Russian and English, shortener and channel links, phishing, abuse stems, a few
 * patterns with no literal such as card and phone numbers), on a corpus shaped like a
 * tipline's traffic (mostly plain reports, some spam). Beside it, the same 500 patterns
 * run one after the other with pcre2's JIT, which is what the prefilter saves; then the
 * full verdict (mod_decide) for a new reporter; the text hygiene intake adds to every
 * report (display form and links); then the campaign signature: its cost
 * and how it separates flood variants from unrelated reports, next to an exact
 * Jaccard of the same 4-code-point shingles. Prints figures; never a pass/fail.
 *
 *   bench_moderation [--seconds N] [--rounds R] [--sample FILE] [--dump-rules]
 * The rule set is FILE (default deploy/moderation.rules) topped up with generated rules
 * to 500; --dump-rules prints it.
 * Rates are per second of this thread's CPU time (the machine is shared); wall-clock
 * rates are printed beside them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "moderation/mod.h"
#include "common/banned.h"

static const char *const corpus[] = {
    "Добрий вечір, щойно двічі гупнуло десь за річкою, шибки задзвеніли",
    "У нас поки спокійно, дякуємо що ви є",
    "Помітила кілька вантажівок з тентами, їдуть у бік траси",
    "Звук як у мотоцикла, летить на висоті дерев, курс на схід",
    "Після вибуху немає води і світла в нашому районі",
    "Good evening, two armoured vehicles parked by the school",
    "Jets overhead about five minutes ago, very loud",
    "Щось пролетіло зі свистом у бік промзони, потім спалах",
    "Вночі працювала ППО, чули три постріли і гул",
    "Перевірте будь ласка, біля ферми поставили намет і антену",
    "Квадрокоптер висить над перехрестям вже пів години",
    "Сьогодні о 6.15 і о 7.40 були сильні прильоти",
    "На об'їзній розвернули блокпост, пропускають по одній машині",
    "Smoke rising near the grain elevator, sirens everywhere",
    "Бачили автобуси з солдатами, рухались у бік центру",
    "Сусід каже що біля ставка копають окопи",
    "Горить нафтобаза на околиці, чорний дим",
    "Прильот у приватному секторі, пошкоджено два будинки",
    "Column of trucks near the bridge, maybe 12",
    "Над містом кружляють дрони, чути вибухи",
    "Точка 48.4647, 35.0462 — там стоїть РЕБ",
    "https://maps.app.goo.gl/abc123 ось тут стоять",
    "Окупанти перевіряють телефони на блокпосту біля елеватора, забирають чоловіків",
    "У дворах між гаражами ховають техніку, номери зняті, білі позначки V",
    /* spam and abuse, about one message in six */
    "Подвоїмо ваш біткоїн за добу! Пишіть @cryptoking",
    "Заробіток від 500$ на день, без вкладень, t.me/+AbCdEfGhIjKl12",
    "Казино Вулкан дарує 100 фріспінів, переходь bit.ly/3xYz",
    "Скиньте код з смс, щоб отримати виплату від ООН",
    "Здавайтесь, все одно програєте",
};

/* Word stock for the generated rules: realistic stems, combined as rule writers do. */
static const char *const verbs[] = {
    "подво",  "удво",   "заробі", "зароб",  "отрима", "получи", "виграй", "выиграй", "забери",
    "купи",   "продам", "продаю", "обмін",  "обмен",  "інвест", "инвест", "вклад",   "earn",
    "double", "claim",  "win",    "invest", "buy",    "sell",   "join",   "free",
};
static const char *const objects[] = {
    "біткоїн", "биткоин", "крипт",  "usdt",   "бонус",  "фріспін",  "фриспин", "приз",
    "виплат",  "выплат",  "грош",   "денег",  "кредит", "позик",    "займ",    "iphone",
    "airdrop", "nft",     "token",  "prize",  "reward", "giveaway", "casino",  "слот",
    "ставк",   "прогноз", "сигнал", "підпис", "подпис", "квартир",
};
static const char *const domains[] = {
    "bit.ly", "tinyurl.com", "cutt.ly", "is.gd", "goo.su", "clck.ru", "t.ly",
    "rb.gy",  "shorturl.at", "u.to",    "vk.cc", "ow.ly",  "tiny.cc", "qps.ru",
};
static const char *const sylls[] = {"ka",  "zo",  "mi",  "ru",   "te",   "lo",  "vi",  "xa",
                                    "pro", "bet", "win", "cash", "coin", "max", "lux", "top"};
static const char *const abuse[] = {
    "хохл",  "бандерлог", "укроп",  "ватн",   "орк",   "русн",  "свинособак",
    "кацап", "москал",    "чурк",   "підар",  "пидор", "дебіл", "дебил",
    "ідіот", "идиот",     "тварин", "покидь", "мразь", "падл",
};
static const char *const nolit[] = {
    "\\b(?:\\d[ -]?){16}\\b",                                             /* a card number */
    "\\+?\\d{2,3}[ -]?\\(?\\d{2,3}\\)?[ -]?\\d{3}[ -]?\\d{2}[ -]?\\d{2}", /* a phone */
    "(?:\\w+@){1}\\w+\\.\\w{2,4}",                                        /* an e-mail */
    "[A-Z0-9]{20,}",                                                      /* a token-like blob */
    "(?:\\p{So}){6,}",                                                    /* a wall of emoji */
};

static unsigned cseed = 777;
static unsigned crnd(unsigned k)
{
    cseed = cseed * 1103515245u + 12345u;
    return (cseed >> 8) % k;
}

/* The sample deploy/moderation.rules first, then generated rules up to want. */
static char *make_rules(const char *sample, size_t want, size_t *nrules)
{
    size_t cap = want * 200 + 65536, o = 0, n = 0;
    char *f = malloc(cap);
    FILE *sf = fopen(sample, "r");
    char line[4096];
    while (sf && fgets(line, sizeof(line), sf)) {
        o += (size_t)snprintf(f + o, cap - o, "%s", line);
        n += line[0] != '#' && line[0] != '\n';
    }
    if (sf)
        fclose(sf);
    else
        fprintf(stderr, "bench: %s absent, generated rules only\n", sample);
#define RND(k) crnd((unsigned)(k))
#define COUNT(a) (sizeof(a) / sizeof(*(a)))
#define ADD(...)                                                                                   \
    do {                                                                                           \
        o += (size_t)snprintf(f + o, cap - o, __VA_ARGS__);                                        \
        n++;                                                                                       \
    } while (0)
    /* a few patterns no literal can be read from: always run */
    for (size_t i = 0; i < COUNT(nolit); i++)
        ADD("hold pii.%zu %s\n", i, nolit[i]);
    for (size_t i = 0; i < COUNT(domains); i++)
        ADD("drop spam.shortener \\b%s/\\w+\n", domains[i]);
    for (size_t i = 0; i < COUNT(abuse); i++)
        ADD("flag abuse.%zu \\b%s\\w*\n", i, abuse[i]);
    while (n < want) {
        switch (RND(4)) {
        case 0:
        case 1: /* verb ... object */
            ADD("drop scam.%zu (?:%s)\\w*\\s+(?:\\w+\\s+){0,2}(?:%s|%s)\\w*\n", n,
                verbs[RND(COUNT(verbs))], objects[RND(COUNT(objects))],
                objects[RND(COUNT(objects))]);
            break;
        case 2: { /* a spam channel or site */
            char name[32];
            size_t k = 0;
            for (int s = 0; s < 3; s++)
                k += (size_t)snprintf(name + k, sizeof(name) - k, "%s", sylls[RND(COUNT(sylls))]);
            if (RND(2))
                ADD("hold spam.channel.%zu t\\.me/%s\\w*\n", n, name);
            else
                ADD("drop spam.site.%zu \\b%s\\.(?:com|net|ru|top|xyz|online)\\b\n", n, name);
            break;
        }
        default: /* a phrase with a number */
            ADD("flag disinfo.%zu (?:%s|%s)\\w*\\s+(?:від|от|from)\\s+\\d+\n", n,
                objects[RND(COUNT(objects))], verbs[RND(COUNT(verbs))]);
            break;
        }
    }
    *nrules = n;
    return f;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct rate {
    double cpu, wall;
};

/* Runs fn over the corpus for secs; returns messages per CPU second and per wall second. */
static struct rate run(size_t (*fn)(void *, const char *, size_t), void *ctx, double secs,
                       size_t *sink)
{
    size_t nc = sizeof(corpus) / sizeof(*corpus), done = 0;
    size_t lens[sizeof(corpus) / sizeof(*corpus)];
    for (size_t i = 0; i < nc; i++)
        lens[i] = strlen(corpus[i]);
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), c1;
    do {
        for (int rep = 0; rep < 100; rep++)
            for (size_t i = 0; i < nc; i++)
                *sink += fn(ctx, corpus[i], lens[i]);
        done += 100 * nc;
        c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    } while (c1 - c0 < secs);
    struct rate r = {done / (c1 - c0), done / (clock_s(CLOCK_MONOTONIC) - w0)};
    return r;
}

struct lib_ctx {
    struct mod_rules *r;
    struct mod_scratch *s;
};

static size_t fn_lib(void *p, const char *t, size_t n)
{
    struct lib_ctx *c = p;
    struct mod_hit h[8];
    return mod_rules_match(c->r, c->s, t, n, h, 8);
}

struct plain_ctx {
    pcre2_code **code;
    size_t n;
    pcre2_match_data *md;
    pcre2_match_context *mc;
};

static size_t fn_plain(void *p, const char *t, size_t n)
{
    struct plain_ctx *c = p;
    size_t hits = 0;
    for (size_t i = 0; i < c->n; i++)
        hits += pcre2_jit_match(c->code[i], (PCRE2_SPTR)t, n, 0, 0, c->md, c->mc) >= 0;
    return hits;
}

struct decide_ctx {
    struct mod_policy p;
    struct mod_scratch *s;
    struct mod_rate_state rs;
    struct mod_recent win[200];
    int64_t t;
};

/* Text hygiene as intake does it for every report: the display form, then the links in
 * it (handlers/moderate.c hdl_text_hygiene, less the plan's bookkeeping). */
static size_t fn_hygiene(void *p, const char *t, size_t n)
{
    struct mod_link l[MOD_LINKS_MAX];
    char *d = NULL;
    size_t nn = 0, found = 0;
    (void)p;
    if (mod_text_display(t, n, &d, &nn) == TL_OK)
        found = mod_links_find(d, strlen(d), l, MOD_LINKS_MAX) + nn;
    free(d);
    return found;
}

static size_t fn_decide(void *p, const char *t, size_t n)
{
    struct decide_ctx *c = p;
    struct mod_standing st = {.first_seen_us = c->t};
    struct mod_message m = {.text = t, .len = n, .category = -1, .reporter = 1, .at_us = c->t};
    struct mod_history h = {.rate = &c->rs, .window = c->win, .nwindow = 200};
    struct mod_verdict v;
    c->rs.initialised = 0; /* never rate limited: measure the whole path */
    if (mod_decide(&c->p, c->s, &m, &st, &h, &v) != TL_OK)
        return 0;
    return v.kind;
}

/* ---- campaign separation ---- */

/* Exact Jaccard of the 4-byte shingles of two normalised texts (quadratic; a check). */
static double exact_jaccard(const char *a, const char *b)
{
    char *na = NULL, *nb = NULL;
    if (mod_text_normalise(a, strlen(a), &na) != TL_OK ||
        mod_text_normalise(b, strlen(b), &nb) != TL_OK) {
        free(na);
        return 0;
    }
    size_t la = strlen(na), lb = strlen(nb), inter = 0, ua = 0, ub = 0;
    for (size_t i = 0; i + 4 <= la; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = memcmp(na + i, na + j, 4) == 0;
        if (dup)
            continue;
        ua++;
        for (size_t j = 0; j + 4 <= lb; j++)
            if (memcmp(na + i, nb + j, 4) == 0) {
                inter++;
                break;
            }
    }
    for (size_t i = 0; i + 4 <= lb; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = memcmp(nb + i, nb + j, 4) == 0;
        ub += !dup;
    }
    free(na);
    free(nb);
    return ua + ub - inter ? (double)inter / (double)(ua + ub - inter) : 0;
}

static void mutate(const char *base, char *out, size_t cap)
{
    static const char *const tails[] = {"",    "!!!", " 🔥🔥", " ‼️ перешліть",
                                        "...", " 😱"};
    size_t o = (size_t)snprintf(out, cap, "%s", crnd(2) ? "⚠️ " : "");
    for (const char *p = base; *p && o + 8 < cap; p++) {
        if (*p == ' ' && crnd(12) == 0)
            out[o++] = ' ';
        if (*p == ',' && crnd(2))
            continue;
        if (*p >= '0' && *p <= '9') {
            out[o++] = (char)('0' + crnd(10));
            continue;
        }
        out[o++] = *p;
    }
    snprintf(out + o, cap - o, "%s", tails[crnd(6)]);
}

static void campaign_figures(void)
{
    static const char *const base =
        "Терміново! ЗСУ залишили місто о 14:30, командування втекло, рятуйтеся хто може, "
        "виїжджайте на захід поки не пізно";
    enum { N = 200 };
    static char v[N][512];
    struct mod_sig s[N], u[sizeof(corpus) / sizeof(*corpus)];
    size_t nc = sizeof(corpus) / sizeof(*corpus);
    for (int i = 0; i < N; i++) {
        mutate(base, v[i], sizeof(v[i]));
        if (mod_sig_make(v[i], strlen(v[i]), 0, 0, &s[i]) != TL_OK)
            return;
    }
    for (size_t i = 0; i < nc; i++)
        if (mod_sig_make(corpus[i], strlen(corpus[i]), 0, 0, &u[i]) != TL_OK)
            return;
    double vmin = 1, vsum = 0, umax = 0, emin = 1, emax = 0, errmax = 0;
    int nv = 0;
    for (int i = 1; i < N; i++) {
        double m = mod_sig_similarity(&s[0], &s[i]), e = exact_jaccard(v[0], v[i]);
        vmin = m < vmin ? m : vmin;
        emin = e < emin ? e : emin;
        vsum += m, nv++;
        errmax = m - e > errmax ? m - e : e - m > errmax ? e - m : errmax;
    }
    for (size_t i = 0; i < nc; i++)
        for (size_t j = i + 1; j < nc; j++) {
            double m = mod_sig_similarity(&u[i], &u[j]), e = exact_jaccard(corpus[i], corpus[j]);
            umax = m > umax ? m : umax;
            emax = e > emax ? e : emax;
        }
    for (size_t i = 0; i < nc; i++) {
        double m = mod_sig_similarity(&s[0], &u[i]);
        umax = m > umax ? m : umax;
    }
    size_t len = strlen(v[0]), iters = 0;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), c1;
    struct mod_sig tmp;
    do {
        for (int k = 0; k < 1000; k++)
            iters += mod_sig_make(v[k % N], strlen(v[k % N]), 0, 0, &tmp) == TL_OK;
        c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    } while (c1 - c0 < 0.5);
    double cmp0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    volatile double acc = 0;
    for (int r = 0; r < 5000; r++)
        for (int i = 0; i < N; i++)
            acc += mod_sig_similarity(&s[r % N], &s[i]);
    double cmp_ns = (clock_s(CLOCK_THREAD_CPUTIME_ID) - cmp0) / (5000.0 * N) * 1e9;
    if (acc < 0) /* read once, so the loop is neither dropped nor warned about */
        printf("impossible similarity sum %f\n", (double)acc);
    printf("campaign: %d variants of a %zu-byte flood text vs %zu unrelated reports\n", N, len, nc);
    printf("figure variant_minhash_min=%.2f variant_minhash_mean=%.2f variant_exact_min=%.2f "
           "unrelated_minhash_max=%.2f unrelated_exact_max=%.2f minhash_abs_err_max=%.2f\n",
           vmin, vsum / nv, emin, umax, emax, errmax);
    printf("figure sig_per_cpu_s=%.0f sig_us=%.2f compare_ns=%.1f\n", iters / (c1 - c0),
           (c1 - c0) / iters * 1e6, cmp_ns);
}

int main(int argc, char **argv)
{
    double secs = 1.0;
    int rounds = 5, dump = 0;
    const char *sample = BENCH_MOD_RULES;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (int)strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--sample") == 0 && i + 1 < argc)
            sample = argv[++i];
        else if (strcmp(argv[i], "--dump-rules") == 0)
            dump = 1;
        else {
            fprintf(stderr, "usage: bench_moderation [--seconds N] [--rounds R] [--sample FILE] "
                            "[--dump-rules]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 100)
        rounds = 5;
    size_t nrules = 0;
    char *file = make_rules(sample, 500, &nrules);
    if (dump) {
        fputs(file, stdout);
        free(file);
        return 0;
    }
    struct lib_ctx lc = {0};
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    if (mod_rules_parse(file, strlen(file), "bench", NULL, &lc.r, NULL, &ei) != TL_OK) {
        fprintf(stderr, "bench: rules: %s\n", ei.msg);
        return 1;
    }
    lc.s = mod_scratch_new();
    size_t pre = 0, nc = sizeof(corpus) / sizeof(*corpus), sink = 0, hits = 0;
    for (size_t i = 0; i < mod_rules_count(lc.r); i++) {
        struct mod_rule_info ri;
        mod_rule_info(lc.r, i, &ri);
        pre += ri.prefiltered;
    }
    for (size_t i = 0; i < nc; i++)
        hits += fn_lib(&lc, corpus[i], strlen(corpus[i])) > 0;
    printf("rules: %zu (%zu with a literal for the prefilter, %zu always run); corpus: %zu "
           "messages, %zu of them match a rule\n",
           mod_rules_count(lc.r), pre, mod_rules_count(lc.r) - pre, nc, hits);

    double cpu[100], wall[100];
    for (int r = 0; r < rounds; r++) {
        struct rate x = run(fn_lib, &lc, secs, &sink);
        cpu[r] = x.cpu, wall[r] = x.wall;
        printf("round %d: %.0f messages per CPU-second, %.0f per wall-second\n", r + 1, x.cpu,
               x.wall);
    }
    qsort(cpu, (size_t)rounds, sizeof(double), cmp_double);
    qsort(wall, (size_t)rounds, sizeof(double), cmp_double);
    printf("figure rules_msgs_per_cpu_s_median=%.0f rules_msgs_per_cpu_s_best=%.0f "
           "rules_msgs_per_wall_s_median=%.0f us_per_msg=%.2f\n",
           cpu[rounds / 2], cpu[rounds - 1], wall[rounds / 2], 1e6 / cpu[rounds / 2]);

    /* the same patterns, one by one, plain pcre2 JIT */
    struct plain_ctx pc = {.code = calloc(nrules, sizeof(pcre2_code *)), .n = 0};
    pc.md = pcre2_match_data_create(1, NULL);
    pc.mc = pcre2_match_context_create(NULL);
    for (size_t i = 0; i < mod_rules_count(lc.r); i++) {
        struct mod_rule_info ri;
        mod_rule_info(lc.r, i, &ri);
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *c = pcre2_compile((PCRE2_SPTR)ri.pattern, PCRE2_ZERO_TERMINATED,
                                      PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS, &ec, &eo, NULL);
        if (c && pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0)
            pc.code[pc.n++] = c;
        else
            pcre2_code_free(c);
    }
    struct rate plain = run(fn_plain, &pc, secs, &sink);
    printf("figure plain_jit_msgs_per_cpu_s=%.0f plain_us_per_msg=%.2f prefilter_speedup=%.1f\n",
           plain.cpu, 1e6 / plain.cpu, cpu[rounds / 2] / plain.cpu);

    /* the whole verdict for a new reporter: rules, signature, a window of 200 */
    struct decide_ctx *dc = calloc(1, sizeof(*dc));
    dc->p.rules = lc.r;
    dc->p.rate = (struct mod_rate_cfg){
        .per_hour = 60, .burst = 10, .new_per_hour = 6, .new_burst = 3, .new_for_s = 86400};
    dc->p.campaign = (struct mod_campaign_cfg){.min_similarity = 0.5,
                                               .min_text_len = 40,
                                               .max_phash_distance = 6,
                                               .min_reporters = 3,
                                               .window_us = 600000000};
    dc->s = lc.s;
    dc->t = 1790000000LL * 1000000;
    for (int i = 0; i < 200; i++) {
        const char *t = corpus[(size_t)i % nc];
        if (mod_sig_make(t, strlen(t), 0, 0, &dc->win[i].sig) != TL_OK)
            return 1;
        dc->win[i].reporter = 100 + i;
        dc->win[i].at_us = dc->t - 1000;
    }
    struct rate dec = run(fn_decide, dc, secs, &sink);
    printf("figure decide_new_reporter_per_cpu_s=%.0f decide_us=%.2f (window of 200)\n", dec.cpu,
           1e6 / dec.cpu);

    struct rate hyg = run(fn_hygiene, NULL, secs, &sink);
    printf("figure hygiene_per_cpu_s=%.0f hygiene_us=%.2f (display form and links)\n", hyg.cpu,
           1e6 / hyg.cpu);

    campaign_figures();
    for (size_t i = 0; i < pc.n; i++)
        pcre2_code_free(pc.code[i]);
    free(pc.code);
    pcre2_match_data_free(pc.md);
    pcre2_match_context_free(pc.mc);
    free(dc);
    mod_scratch_free(lc.s);
    mod_rules_free(lc.r);
    free(file);
    return sink == 42 ? 3 : 0;
}
