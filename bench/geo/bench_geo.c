/* bench/geo/bench_geo.c - how many citizen messages geo_parse_text reads per second on
 * one core, on a mixed corpus shaped like a tipline's traffic: most messages carry no
 * coordinates at all, some name a settlement, fewer hold numbers, links or grid
 * references. Prints figures; never a pass/fail.
 *
 *   bench_geo [--area FILE] [--gazetteer FILE] [--settlements N] [--seconds N] [--rounds R]
 * Without --gazetteer the settlement lookups are not exercised (say so in the figures).
 * --settlements N builds a GeoNames dump of N settlements (the --gazetteer TSV's towns
 * plus synthetic villages, many sharing names, as tests/support/geonames_gen.c makes
 * them), imports it as `tipline gazetteer import` does, reports the index's size and
 * load time, and runs on it with a few messages naming villages added to the corpus.
 *
 * The machine is shared, so each round reports the rate per second of this thread's
 * own CPU time (what one core does while it runs us) beside the wall-clock rate; the
 * summary gives the median and the best round. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "geo/geo.h"
#include "tests/support/geonames_gen.h"
#include "common/banned.h"

static const char *const corpus[] = {
    /* plain reports, no place in numbers (the bulk of traffic) */
    "Доброго дня! Чули сильний вибух хвилину тому, дуже гучно",
    "Привіт, у нас тихо. Дякую за вашу роботу",
    "Бачу колону техніки, приблизно 20 машин, рухаються на північ",
    "Летить шахед, звук мопеда, низько над будинками",
    "Світло зникло після вибуху, дзвонити нікуди",
    "Hello, I saw three tanks and a truck, please check",
    "Two helicopters flying low, heading NE",
    "Ракета пролетіла над містом, курс на південний захід",
    "Вчора ввечері чули вибухи, світло зникло о 21:40",
    "Прошу перевірити, там стоїть техніка у посадці за селом",
    "Дрон-розвідник кружляє вже 15 хвилин",
    "Сьогодні 12.05.2024 о 14.30 було 3 вибухи",
    "На трасі стоять машини, дорогу перекрили, 5 одиниць",
    "Explosions again, windows shaking, no smoke visible",
    "Колона рухається в бік міста, серед них БТР і вантажівки",
    "Мама сказала що в сусідньому селі стріляли",
    /* settlements */
    "Обстріл біля Ізюму, горить склад",
    "Вибухи в Харкові, район ХТЗ",
    "Convoy near Kupiansk heading east",
    "над Краматорськом дрони, 3 штуки",
    "Ворог наступає на Куп'янськ з боку Сватового",
    "у Новій Каховці знову обстріл",
    "Дрони над Сумами, працює ППО",
    "біля Покровська бої, чути артилерію",
    /* coordinates, links, grid references */
    "Координати 49.7106, 37.6152 — там склад",
    "Танки в посадці 48°35'43\"N 38°0'1\"E, йдуть на захід",
    "N50.4501 E30.5234 приліт",
    "ціль 37U DQ 12345 67890 азимут 250",
    "https://maps.google.com/?q=48.2823,37.1759 ось тут",
    "https://www.google.com/maps/@49.9935,36.2304,15z поруч з Харковом",
    "geo:49.9935,36.2304;u=20 — техніка",
    "Точка 9G2GFG2F+2V, 2 танки",
};

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

#define N_VILLAGE_MSGS 8

/* Writes a dump of the TSV's towns plus villages up to total settlements, imports it
 * into idx, and prints the import's and the index's figures. Fills msgs with
 * messages naming villages. */
static int build_index(const char *tsv, size_t total, const char *dir, char *idx, size_t idxn,
                       char msgs[N_VILLAGE_MSGS][1024])
{
    char dump[512];
    snprintf(dump, sizeof dump, "%s/dump.txt", dir);
    snprintf(idx, idxn, "%s/gazetteer.idx", dir);
    FILE *f = fopen(dump, "w");
    if (!f)
        return 1;
    size_t towns = 0;
    char *buf = NULL;
    size_t len;
    if (tsv && tl_read_file(tsv, (size_t)64 << 20, &buf, &len) == TL_OK) {
        for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            char name[128], adm[16], cc[3];
            double lat, lon;
            unsigned long pop;
            if (line[0] == '#' || sscanf(line, "%127[^\t]\t%lf\t%lf\t%lu\t%15[^\t]\t%2s", name,
                                         &lat, &lon, &pop, adm, cc) != 6)
                continue;
            tl_gn_line(f, (unsigned)(1 + towns++), name, name, "", lat, lon, "P", "PPL", cc, adm,
                       pop);
        }
        free(buf);
    }
    char names[N_VILLAGE_MSGS][64];
    size_t villages = total > towns ? total - towns : 0;
    tl_gn_villages(f, villages, 1000000, 2026, names, N_VILLAGE_MSGS);
    if (fclose(f) != 0)
        return 1;
    /* a cue, the name, the rest */
    static const char *const around[N_VILLAGE_MSGS][2] = {
        {"колона біля ", ", 5 машин"},        {"дрони над ", ""},     {"вибухи: ", ", горить"},
        {"Обстріл ", " Харківської області"}, {"стріляють під ", ""}, {"", " - чути артилерію"},
        {"прилетіло в ", " вночі"},           {"shelling near ", ""}};
    for (int i = 0; i < N_VILLAGE_MSGS; i++)
        snprintf(msgs[i], 1024, "%s%s%s", around[i][0], names[i], around[i][1]);
    struct geo_import_stats st;
    struct tl_errinfo ei = {0};
    double t0 = clock_s(CLOCK_MONOTONIC);
    if (geo_gazetteer_import(dump, NULL, "", idx, &st, &ei) != TL_OK) {
        fprintf(stderr, "bench_geo: import: %s\n", ei.msg);
        return 1;
    }
    double ti = clock_s(CLOCK_MONOTONIC) - t0;
    /* load time: map and validate, best of 20 (the first pays the page cache) */
    double best = 1e9;
    for (int k = 0; k < 20; k++) {
        struct geo_ctx *c;
        double l0 = clock_s(CLOCK_MONOTONIC);
        if (geo_ctx_new(NULL, idx, &c, &ei) != TL_OK)
            return 1;
        double l = clock_s(CLOCK_MONOTONIC) - l0;
        best = l < best ? l : best;
        geo_ctx_free(c);
    }
    struct geo_ctx *c;
    double l0 = clock_s(CLOCK_MONOTONIC);
    if (geo_ctx_new(NULL, tsv ? tsv : idx, &c, &ei) != TL_OK)
        return 1;
    double lt = clock_s(CLOCK_MONOTONIC) - l0;
    geo_ctx_free(c);
    printf("index: %zu settlements (%zu towns, %zu villages), %zu names, %zu bytes (%.1f MB); "
           "import %.0f ms; load %.2f ms (best of 20; %s alone: %.2f ms)\n",
           st.places, towns, villages, st.names, st.index_bytes, st.index_bytes / 1e6, ti * 1e3,
           best * 1e3, tsv ? "the TSV" : "index", lt * 1e3);
    return 0;
}

int main(int argc, char **argv)
{
    const char *area = BENCH_GEO_AREA, *gaz = NULL;
    size_t settlements = 0;
    double secs = 2.0;
    int rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--area") == 0 && i + 1 < argc)
            area = argv[++i];
        else if (strcmp(argv[i], "--gazetteer") == 0 && i + 1 < argc)
            gaz = argv[++i];
        else if (strcmp(argv[i], "--settlements") == 0 && i + 1 < argc)
            settlements = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            secs = strtod(argv[++i], NULL);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (int)strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_geo [--area FILE] [--gazetteer FILE] [--settlements N] "
                            "[--seconds N] [--rounds R]\n");
            return 2;
        }
    }
    struct geo_ctx *ctx = NULL;
    struct tl_errinfo ei = {0};
    char dir[] = "/tmp/bench-geo-XXXXXX", idx[600];
    static char vmsgs[N_VILLAGE_MSGS][1024];
    const char *text[64];
    size_t n = sizeof corpus / sizeof *corpus, lens[64], bytes = 0, found = 0;
    for (size_t i = 0; i < n; i++)
        text[i] = corpus[i];
    if (settlements) {
        if (!mkdtemp(dir) || build_index(gaz, settlements, dir, idx, sizeof idx, vmsgs) != 0)
            return 1;
        gaz = idx;
        for (size_t i = 0; i < N_VILLAGE_MSGS; i++)
            text[n++] = vmsgs[i];
    }
    if (geo_ctx_new(area, gaz, &ctx, &ei) != TL_OK) {
        fprintf(stderr, "bench_geo: %s\n", ei.msg);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        lens[i] = strlen(text[i]);
        bytes += lens[i];
    }
    /* warm up, and count what the corpus holds */
    for (size_t i = 0; i < n; i++) {
        struct geo_result r;
        if (geo_parse_text(ctx, text[i], lens[i], &r, NULL) != TL_OK)
            return 1;
        found += r.n;
        geo_result_release(&r);
    }
    if (rounds < 1 || rounds > 50)
        rounds = 5;
    double cpu_rates[50];
    for (int round = 0; round < rounds; round++) {
        unsigned long long msgs = 0;
        double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), wt, ct;
        do {
            for (int rep = 0; rep < 100; rep++)
                for (size_t i = 0; i < n; i++) {
                    struct geo_result r;
                    if (geo_parse_text(ctx, text[i], lens[i], &r, NULL) != TL_OK)
                        return 1;
                    geo_result_release(&r);
                }
            msgs += 100 * n;
            wt = clock_s(CLOCK_MONOTONIC) - w0;
        } while (wt < secs);
        ct = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        cpu_rates[round] = msgs / ct;
        printf("round %d: %llu messages, %.0f messages/s of CPU time (%.2f us/message), "
               "%.0f messages/s wall clock\n",
               round + 1, msgs, msgs / ct, 1e6 * ct / msgs, msgs / wt);
    }
    qsort(cpu_rates, (size_t)rounds, sizeof *cpu_rates, cmp_double);
    double med = cpu_rates[rounds / 2], best = cpu_rates[rounds - 1];
    printf("geo_parse_text: median %.0f messages/s, best %.0f messages/s on one core "
           "(%.2f us/message median; %.1f MB/s)\n",
           med, best, 1e6 / med, med * bytes / n / 1e6);
    printf("corpus: %zu messages, %zu bytes, %zu points found; gazetteer: %zu settlements%s\n", n,
           bytes, found, geo_ctx_places(ctx), gaz ? "" : " (none given)");
    geo_ctx_free(ctx);
    if (settlements) {
        unlink(idx);
        snprintf(idx, sizeof idx, "%s/dump.txt", dir);
        unlink(idx);
        rmdir(dir);
    }
    return 0;
}
