/* tests/test_gazetteer.c - the gazetteer from a GeoNames dump: a dump written here
 * (real places in three scripts, villages sharing a name across oblasts, synthetic
 * villages, malformed lines) imported with `geo_gazetteer_import`, then every form a
 * citizen writes looked up through geo_parse_text: case endings, letter case,
 * apostrophes, transliterations, distance-carrying prepositions; homonyms settled by
 * a named oblast, by a nearby point, or left ambiguous with every candidate; short
 * Plus Codes beside a place; the index mapped again after a new import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "geo/geo.h"
#include "tests/support/geonames_gen.h"
#include "tests/support/testsupport.h"

static char g_dir[] = "/tmp/tipline-gaz-XXXXXX";
static char g_dump[256], g_alt[256], g_idx[256], g_adm2[256];
static struct geo_ctx *g_ctx;
static struct geo_import_stats g_st;

#define N_VILLAGES 2000
#define N_MALFORMED 7
#define N_FILTERED 4

/* Novoselivka in four oblasts (Kharkiv 07, Donetsk 05, Zaporizhzhia 26, Kherson 08), two
 * of them in Kharkiv oblast, in the Izium and Chuhuiv districts. */
static const struct {
    double lat, lon;
    const char *adm, *adm2;
} novo[] = {
    {49.7801, 37.0402, "07", "IZ"}, {48.3150, 37.8420, "05", "BA"}, {47.4010, 35.9920, "26", ""},
    {46.8120, 33.1210, "08", ""},   {49.8402, 36.6911, "07", "CH"},
};
#define N_NOVO (sizeof novo / sizeof *novo)

static void write_dump(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a comment line, then the places\n", f);
    tl_gn_line(f, 706483, "Kharkiv", "Kharkiv", "Charkiw,Harkiv,Kharkov,Kharkiv,Харків,Харьков",
               49.98081, 36.25272, "P", "PPLA", "UA", "07", 1430885);
    tl_gn_line(f, 703448, "Kyiv", "Kyiv", "Kiev,Kijev,Kyjiv,Київ,Киев", 50.45466, 30.5238, "P",
               "PPLC", "UA", "12", 2797553);
    tl_gn_line(f, 707292, "Izium", "Izium", "Izyum,Izjum,Ізюм,Изюм", 49.20875, 37.24849, "P", "PPL",
               "UA", "07", 45000);
    tl_gn_line(f, 704147, "Kupiansk", "Kupiansk", "Kupjansk,Kupyansk,Куп'янськ,Купянск", 49.71055,
               37.61517, "P", "PPL", "UA", "07", 26000);
    tl_gn_line(f, 709932, "Kamianske", "Kamianske",
               "Kamenskoye,Dniprodzerzhynsk,Кам'янське,Каменское,Дніпродзержинськ", 48.5167,
               34.6167, "P", "PPL", "UA", "04", 229794);
    tl_gn_line(f, 699000, "Krynky", "Krynky", "Krinki,Кринки", 46.7386, 33.0947, "P", "PPL", "UA",
               "08", 1000);
    tl_gn_line(f, 699001, "Robotyne", "Robotyne", "Rabotino,Роботине,Работино", 47.4406, 35.8378,
               "P", "PPL", "UA", "26", 480);
    tl_gn_line(f, 699002, "Vuhledar", "Vuhledar", "Ugledar,Вугледар,Угледар", 47.7797, 37.2486, "P",
               "PPL", "UA", "05", 14000);
    for (unsigned i = 0; i < N_NOVO; i++)
        tl_gn_line_a2(f, 699010 + i, "Novoselivka", "Novoselovka,Новоселівка", novo[i].lat,
                      novo[i].lon, novo[i].adm, novo[i].adm2, 300 + 100 * i);
    /* well-formed, but no settlement or not wanted */
    tl_gn_line(f, 699100, "Kharkivska Oblast", "Kharkivska Oblast", "Харківська область", 49.5,
               36.5, "A", "ADM1", "UA", "07", 2600000);
    tl_gn_line(f, 699101, "Lwów", "Lwow", "Lwów", 49.84, 24.03, "P", "PPLH", "UA", "15", 0);
    tl_gn_line(f, 699102, "Przemyśl", "Przemysl", "Перемишль", 49.7838, 22.7677, "P", "PPLA2", "PL",
               "80", 60000);
    tl_gn_line(f, 699103, "Novoselivka River", "Novoselivka River", "", 48.0, 37.0, "H", "STM",
               "UA", "05", 0);
    /* malformed: each is counted and skipped */
    fputs("699200\tShort line\tShort line\n", f);
    fputs(
        "699201\tBad Lat\tBad Lat\t\tnorth\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t0\t\t1\tE\t2024-01-01\n",
        f);
    fputs("699202\tFar Lat\tFar Lat\t\t95.0\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t0\t\t1\tE\t2024-01-01\n",
          f);
    fputs("699203\tBad Cc\tBad Cc\t\t49.0\t36.2\tP\tPPL\tU1\t\t07\t\t\t\t0\t\t1\tE\t2024-01-01\n",
          f);
    fputs("699204\tBad Pop\tBad Pop\t\t49.0\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t-5\t\t1\tE\t2024\n", f);
    fputs("x699205\tBad Id\tBad Id\t\t49.0\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t0\t\t1\tE\t2024\n", f);
    fputs("699206\t\t\t\t49.0\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t0\t\t1\tE\t2024-01-01\textra\n", f);
    tl_gn_villages(f, N_VILLAGES, 800000, 7, NULL, 0);
    assert_int_equal(fclose(f), 0);
}

/* alternateNamesV2.txt: Vuhledar's Russian name only here, and a language not kept */
static void write_alt(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("1\t699002\tru\tУгледар\t1\t\t\t\t\t\n", f);
    fputs("2\t699002\tuk\tВугледар\t1\t\t\t\t\t\n", f);
    fputs("3\t699002\tzh\t沃赫莱达尔\t\t\t\t\t\t\n", f);
    fputs("4\t699001\tru\tРаботино\t\t\t\t\t\t\n", f);
    fputs("5\t699002\tru\n", f);                   /* malformed */
    fputs("6\t12345\tru\tНечто\t\t\t\t\t\t\n", f); /* a place not kept */
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_dump, sizeof g_dump, "%s/UA.txt", g_dir);
    snprintf(g_alt, sizeof g_alt, "%s/alternateNamesV2.txt", g_dir);
    snprintf(g_idx, sizeof g_idx, "%s/gazetteer.idx", g_dir);
    snprintf(g_adm2, sizeof g_adm2, "%s/admin2Codes.txt", g_dir);
    write_dump(g_dump);
    write_alt(g_alt);
    FILE *f = fopen(g_adm2, "w");
    if (!f)
        return -1;
    fputs("UA.07.IZ\tIzium Raion\tIzium Raion\t1\nUA.07.CH\tChuhuivskyi Raion\tChuhuivskyi "
          "Raion\t2\nUA.05.BA\tBakhmut Raion\tBakhmut Raion\t3\nPL.80.XX\tPowiat\tPowiat\t4\n",
          f);
    fclose(f);
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    struct geo_import_opts o = {.dump = g_dump,
                                .alternate_names = g_alt,
                                .admin2 = g_adm2,
                                .countries = "UA",
                                .out = g_idx};
    if (geo_gazetteer_import_opts(&o, &g_st, &ei) != TL_OK) {
        fprintf(stderr, "import: %s\n", ei.msg);
        return -1;
    }
    char area[512];
    const char *src = getenv("TL_SOURCE_DIR");
    snprintf(area, sizeof area, "%s/deploy/area_ukraine.geojson", src ? src : ".");
    if (geo_ctx_new(area, g_idx, &g_ctx, &ei) != TL_OK) {
        fprintf(stderr, "geo_ctx_new: %s\n", ei.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    geo_ctx_free(g_ctx);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_gazetteer_import_counts(void **state)
{
    (void)state;
    size_t places = 8 + N_NOVO + N_VILLAGES;
    assert_int_equal(g_st.districts, 3);
    assert_int_equal(g_st.places, places);
    assert_int_equal(g_st.malformed, N_MALFORMED);
    assert_int_equal(g_st.filtered, N_FILTERED);
    assert_int_equal(g_st.lines, places + N_MALFORMED + N_FILTERED);
    assert_int_equal(g_st.alt_lines, 6);
    assert_int_equal(g_st.alt_malformed, 1);
    assert_int_equal(g_st.alt_used, 3); /* ru, uk, ru of kept places; zh dropped */
    assert_true(g_st.names > places * 2);
    assert_int_equal(geo_ctx_places(g_ctx), places);
    long sz = 0;
    FILE *f = fopen(g_idx, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    sz = ftell(f);
    fclose(f);
    assert_int_equal((size_t)sz, g_st.index_bytes);
    /* the same dump in memory gives the same bytes */
    char *buf;
    size_t len, ilen;
    unsigned char *img;
    struct geo_import_stats st;
    assert_int_equal(tl_read_file(g_dump, 1 << 24, &buf, &len), TL_OK);
    assert_int_equal(geo_gazetteer_import_mem(buf, len, "UA", &img, &ilen, &st, NULL), TL_OK);
    assert_int_equal(st.places, places);
    assert_int_equal(st.malformed, N_MALFORMED);
    assert_true(ilen > 0);
    free(img);
    /* no country asked for: Przemyśl is kept too */
    assert_int_equal(geo_gazetteer_import_mem(buf, len, "", &img, &ilen, &st, NULL), TL_OK);
    assert_int_equal(st.places, places + 1);
    free(img);
    assert_int_equal(geo_gazetteer_import_mem(buf, len, "PL, MD", &img, &ilen, &st, NULL), TL_OK);
    assert_int_equal(st.places, 1);
    free(img);
    free(buf);
}

/* The one settlement text names, or "" / "ambiguous". */
static void parse_one(const char *text, char *name, size_t n, char *oblast, size_t on)
{
    struct geo_result r;
    assert_int_equal(geo_parse_text(g_ctx, text, strlen(text), &r, NULL), TL_OK);
    name[0] = oblast[0] = '\0';
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.cand[i].kind, "place") == 0 && !name[0]) {
            tl_strlcpy(name, r.ambiguous ? "ambiguous" : r.cand[i].name, n);
            tl_strlcpy(oblast, r.cand[i].oblast, on);
        }
    geo_result_release(&r);
}

static void test_gazetteer_every_form(void **state)
{
    (void)state;
    static const struct {
        const char *text, *name;
    } cases[] = {
        /* case endings: locative, genitive, instrumental, dative; adjectival names */
        {"Вибухи в Харкові, район ХТЗ", "Kharkiv"},
        {"обстріл біля Ізюму, горить склад", "Izium"},
        {"колона біля Кринок", "Krynky"},
        {"вибухи в Роботиному", "Robotyne"},
        {"дрони над Вугледаром", "Vuhledar"},
        {"на околиці Вугледара чути бій", "Vuhledar"},
        {"приліт у Кам'янському", "Kamianske"},
        {"біля Кам'янського колона", "Kamianske"},
        {"Кам'янське обстріляли вночі", "Kamianske"},
        {"під Куп'янськом бої", "Kupiansk"},
        {"до Києва летить ракета", "Kyiv"},
        {"у Києві тривога", "Kyiv"},
        {"над Києвом шахеди", "Kyiv"},
        /* letter case */
        {"вибухи в києві", "Kyiv"},
        {"вибухи в харкові", "Kharkiv"},
        {"ВИБУХИ В ХАРКОВІ", "Kharkiv"},
        {"колона біля куп'янська", "Kupiansk"},
        /* apostrophes ' ’ ʼ */
        {"приліт у Кам’янському", "Kamianske"},
        {"приліт у Камʼянському", "Kamianske"},
        {"під Куп’янськом бої", "Kupiansk"},
        {"під Купʼянськом бої", "Kupiansk"},
        /* Russian */
        {"взрывы в Угледаре", "Vuhledar"},
        {"возле Изюма колонна", "Izium"},
        {"в Каменском прилет", "Kamianske"},
        {"бои под Работино", "Robotyne"},
        {"обстрел в Харькове", "Kharkiv"},
        /* Latin, national and common transliterations, old names */
        {"convoy near Kupiansk heading east", "Kupiansk"},
        {"shelling outside Kupjansk", "Kupiansk"},
        {"explosions in Kamenskoye", "Kamianske"},
        {"drones over Vuhledar", "Vuhledar"},
        {"near Ugledar", "Vuhledar"},
        {"artillery near Rabotino", "Robotyne"},
        {"в Дніпродзержинську вибухи", "Kamianske"},
        /* a shared name with nothing to decide */
        {"дрони над Новоселівкою", "ambiguous"},
    };
    char name[64], oblast[64];
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        parse_one(cases[i].text, name, sizeof name, oblast, sizeof oblast);
        if (strcmp(name, cases[i].name) != 0) {
            fprintf(stderr, "case %zu \"%s\": got \"%s\", want \"%s\"\n", i, cases[i].text, name,
                    cases[i].name);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* With Latin names only (no Cyrillic spelling to meet), the vowel alternations of
 * the case endings must be undone: Києві -> Київ, Харкові -> Харків. */
static void test_gazetteer_alternations_latin_only(void **state)
{
    (void)state;
    static const char dump[] =
        "1\tKyiv\tKyiv\t\t50.45466\t30.5238\tP\tPPLC\tUA\t\t12\t\t\t\t2797553\t\t1\tE\t2024\n"
        "2\tKharkiv\tKharkiv\t\t49.98081\t36.25272\tP\tPPLA\tUA\t\t07\t\t\t\t1430885\t\t1\tE"
        "\t2024\n";
    char path[300];
    snprintf(path, sizeof path, "%s/latin.idx", g_dir);
    unsigned char *img;
    size_t len;
    struct geo_import_stats st;
    assert_int_equal(geo_gazetteer_import_mem(dump, sizeof dump - 1, "UA", &img, &len, &st, NULL),
                     TL_OK);
    assert_int_equal(st.places, 2);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(img);
    struct geo_ctx *ctx;
    assert_int_equal(geo_ctx_new(NULL, path, &ctx, NULL), TL_OK);
    static const struct {
        const char *text, *name;
    } cases[] = {
        {"вибухи в києві", "Kyiv"},      {"у Києві тривога", "Kyiv"},
        {"над Києвом шахеди", "Kyiv"},   {"до Києва летить", "Kyiv"},
        {"в харкові вибухи", "Kharkiv"}, {"з Харкова виїхали", "Kharkiv"},
        {"під Харковом бої", "Kharkiv"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct geo_result r;
        assert_int_equal(geo_parse_text(ctx, cases[i].text, strlen(cases[i].text), &r, NULL),
                         TL_OK);
        if (r.n != 1 || strcmp(r.cand[0].name, cases[i].name) != 0)
            fail_msg("\"%s\": n=%zu name=%s", cases[i].text, r.n, r.n ? r.cand[0].name : "");
        geo_result_release(&r);
    }
    geo_ctx_free(ctx);
}

/* The distance-carrying prepositions widen the place's accuracy radius. */
static void test_gazetteer_near_widens(void **state)
{
    (void)state;
    struct geo_result in, near;
    const char *a = "вибухи в Ізюмі", *b = "вибухи біля Ізюму";
    assert_int_equal(geo_parse_text(g_ctx, a, strlen(a), &in, NULL), TL_OK);
    assert_int_equal(geo_parse_text(g_ctx, b, strlen(b), &near, NULL), TL_OK);
    assert_int_equal(in.n, 1);
    assert_int_equal(near.n, 1);
    assert_true(near.cand[0].accuracy_m > in.cand[0].accuracy_m);
    geo_result_release(&in);
    geo_result_release(&near);
}

static void test_gazetteer_homonym_ambiguous(void **state)
{
    (void)state;
    struct geo_result r;
    const char *t = "дрони над Новоселівкою";
    assert_int_equal(geo_parse_text(g_ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_true(r.ambiguous);
    assert_int_equal(r.n, N_NOVO); /* every Novoselivka, one alt_group */
    int seen[N_NOVO] = {0};
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.cand[i].alt_group, r.cand[0].alt_group);
        for (size_t k = 0; k < N_NOVO; k++)
            if (fabs(r.cand[i].lat - novo[k].lat) < 1e-4 &&
                fabs(r.cand[i].lon - novo[k].lon) < 1e-4)
                seen[k]++;
    }
    for (size_t k = 0; k < N_NOVO; k++)
        assert_int_equal(seen[k], 1);
    /* what the report keeps for the analyst: every candidate, with its district */
    char *j = geo_alternatives_json(&r);
    assert_non_null(j);
    size_t nobj = 0;
    for (const char *p = j; (p = strstr(p, "\"name\":\"Novoselivka\"")); p++)
        nobj++;
    assert_int_equal(nobj, N_NOVO);
    assert_non_null(strstr(j, "\"oblast\":\"Kharkiv Oblast\",\"district\":\"Izium Raion\""));
    assert_non_null(strstr(j, "\"district\":\"Chuhuivskyi Raion\""));
    assert_non_null(strstr(j, "\"lat\":47.401000,"));
    free(j);
    geo_result_release(&r);
}

/* A named oblast keeps its Novoselivkas (Kharkiv oblast has two: still ambiguous,
 * between those two only); a named district, its one. */
static void test_gazetteer_homonym_oblast(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *oblast;
        size_t n;
        double lat; /* n == 1: which one */
    } cases[] = {
        {"обстріл Новоселівки Харківської області", "Kharkiv Oblast", 2, 0},
        {"в Новоселівці Донецької обл. приліт", "Donetsk Oblast", 1, 48.3150},
        {"Новоселовка (Запорожская область) обстрел", "Zaporizhzhia Oblast", 1, 47.4010},
        {"shelling near Novoselivka, Kherson oblast", "Kherson Oblast", 1, 46.8120},
        /* districts */
        {"обстріл Новоселівки Ізюмського району", "Kharkiv Oblast", 1, 49.7801},
        {"в Новоселівці Чугуївського району Харківської області", "Kharkiv Oblast", 1, 49.8402},
        {"Новоселовка Изюмского района, обстрел", "Kharkiv Oblast", 1, 49.7801},
        {"near Novoselivka, Chuhuiv raion", "Kharkiv Oblast", 1, 49.8402},
        {"біля Новоселівки Бахмутського р-ну", "Donetsk Oblast", 1, 48.3150},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct geo_result r;
        assert_int_equal(geo_parse_text(g_ctx, cases[i].text, strlen(cases[i].text), &r, NULL),
                         TL_OK);
        int bad = r.n != cases[i].n || (r.n > 1) != r.ambiguous ||
                  (r.n == 1 && fabs(r.cand[0].lat - cases[i].lat) > 1e-4);
        for (size_t k = 0; k < r.n; k++)
            bad |= strcmp(r.cand[k].oblast, cases[i].oblast) != 0;
        if (bad)
            fail_msg("\"%s\": n=%zu ambiguous=%d oblast=%s lat=%f", cases[i].text, r.n, r.ambiguous,
                     r.n ? r.cand[0].oblast : "", r.n ? r.cand[0].lat : 0.0);
        geo_result_release(&r);
    }
}

static void test_gazetteer_homonym_nearby_point(void **state)
{
    (void)state;
    const char *t = "дрони над Новоселівкою";
    for (size_t k = 0; k < N_NOVO; k++) {
        struct geo_point near;
        /* a photo taken about 10 km from one of them */
        assert_int_equal(geo_point_make(g_ctx, novo[k].lat + 0.07, novo[k].lon - 0.05, 10,
                                        GEO_SRC_PHOTO_EXIF, &near),
                         TL_OK);
        struct geo_result r;
        assert_int_equal(geo_parse_text_near(g_ctx, t, strlen(t), &near, 1, &r, NULL), TL_OK);
        assert_int_equal(r.n, 1);
        assert_false(r.ambiguous);
        assert_true(fabs(r.cand[0].lat - novo[k].lat) < 1e-4);
        assert_true(fabs(r.cand[0].lon - novo[k].lon) < 1e-4);
        geo_result_release(&r);
    }
    /* a point far from all of them decides nothing */
    struct geo_point lviv;
    assert_int_equal(geo_point_make(g_ctx, 49.84, 24.03, 10, GEO_SRC_TELEGRAM_LOCATION, &lviv),
                     TL_OK);
    struct geo_result r;
    assert_int_equal(geo_parse_text_near(g_ctx, t, strlen(t), &lviv, 1, &r, NULL), TL_OK);
    assert_true(r.ambiguous);
    assert_int_equal(r.n, N_NOVO);
    geo_result_release(&r);
}

/* A short Plus Code beside a place: the same cell as its full code, also where the
 * place lies in another 1-degree cell than the point (the 8G/9G line at 50 N). */
static void test_gazetteer_short_plus_code(void **state)
{
    (void)state;
    static const struct {
        const char *text, *full;
    } cases[] = {
        {"X6VJ+95 Харків", "8GXRX6VJ+95"},
        {"техніка тут: 265J+X5, Харків", "9G2R265J+X5"},
        {"Харків 265J+X5", "9G2R265J+X5"},
        {"XRX6VJ+95 Kharkiv", "8GXRX6VJ+95"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double lat, lon, size;
        assert_int_equal(geo_olc_decode(cases[i].full, &lat, &lon, &size), TL_OK);
        struct geo_result r;
        assert_int_equal(geo_parse_text(g_ctx, cases[i].text, strlen(cases[i].text), &r, NULL),
                         TL_OK);
        if (r.n < 1 || strcmp(r.cand[0].kind, "olc") != 0)
            fail_msg("\"%s\": n=%zu kind=%s", cases[i].text, r.n, r.n ? r.cand[0].kind : "");
        assert_true(fabs(r.cand[0].lat - lat) < 1e-9);
        assert_true(fabs(r.cand[0].lon - lon) < 1e-9);
        assert_true(fabs(r.cand[0].accuracy_m - size) < 1e-6);
        geo_result_release(&r);
    }
    double lat, lon, la2, lo2;
    assert_int_equal(geo_olc_recover("265J+X5", 49.98, 36.25, &lat, &lon, NULL), TL_OK);
    assert_int_equal(geo_olc_decode("9G2R265J+X5", &la2, &lo2, NULL), TL_OK);
    assert_true(fabs(lat - la2) < 1e-9 && fabs(lon - lo2) < 1e-9);
    assert_int_equal(geo_olc_recover("265+X5", 49.98, 36.25, &lat, &lon, NULL), TL_EINVAL);
    assert_int_equal(geo_olc_recover("265J+", 49.98, 36.25, &lat, &lon, NULL), TL_EINVAL);
}

/* A new import replaces the index under a running context. */
static void test_gazetteer_reload(void **state)
{
    (void)state;
    char dump[300], idx[300];
    snprintf(dump, sizeof dump, "%s/small.txt", g_dir);
    snprintf(idx, sizeof idx, "%s/reload.idx", g_dir);
    FILE *f = fopen(dump, "w");
    assert_non_null(f);
    tl_gn_line(f, 1, "Izium", "Izium", "Ізюм", 49.20875, 37.24849, "P", "PPL", "UA", "07", 45000);
    assert_int_equal(fclose(f), 0);
    struct geo_import_stats st;
    assert_int_equal(geo_gazetteer_import(dump, NULL, "UA", idx, &st, NULL), TL_OK);
    struct geo_ctx *ctx;
    assert_int_equal(geo_ctx_new(NULL, idx, &ctx, NULL), TL_OK);
    assert_int_equal(geo_ctx_places(ctx), 1);
    const char *t = "вибухи у Вугледарі";
    struct geo_result r;
    assert_int_equal(geo_parse_text(ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 0);
    geo_result_release(&r);
    assert_int_equal(geo_gazetteer_import(g_dump, NULL, "UA", idx, &st, NULL), TL_OK);
    assert_int_equal(geo_ctx_reload(ctx, NULL), TL_OK);
    assert_int_equal(geo_ctx_places(ctx), st.places);
    assert_int_equal(geo_parse_text(ctx, t, strlen(t), &r, NULL), TL_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.cand[0].name, "Vuhledar");
    geo_result_release(&r);
    /* a damaged file is refused and the index in use stays */
    f = fopen(idx, "r+b");
    assert_non_null(f);
    fseek(f, 12, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    assert_int_not_equal(geo_ctx_reload(ctx, NULL), TL_OK);
    assert_int_equal(geo_ctx_places(ctx), st.places);
    geo_ctx_free(ctx);
}

/* Runs cmd; its stdout into out (size n). Returns the exit status. */
static int run(const char *cmd, char *out, size_t n)
{
    char *o = NULL;
    int st = ts_run(cmd, &o);
    tl_strlcpy(out, o, n);
    free(o);
    return st;
}

/* `tipline gazetteer import` and `check` as an operator runs them, and `tipline geo
 * parse` reading the index they wrote. */
static void test_gazetteer_cli(void **state)
{
    (void)state;
    const char *bin = getenv("TL_TIPLINE_BIN");
    if (!bin || !*bin)
        skip();
    char cmd[1200], out[4096], idx[300], want[128];
    snprintf(idx, sizeof idx, "%s/cli.idx", g_dir);
    snprintf(cmd, sizeof cmd,
             "env -u TIPLINE_GAZETTEER TIPLINE_GAZETTEER_COUNTRIES=UA %s gazetteer import %s "
             "--alternate-names %s --admin2 %s --out %s",
             bin, g_dump, g_alt, g_adm2, idx);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    snprintf(want, sizeof want, "places=%zu ", g_st.places);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, " malformed=%d filtered=%d ", N_MALFORMED, N_FILTERED);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, " alt_used=3 alt_malformed=1 districts=3 "));
    /* the countries key decides what is kept */
    snprintf(cmd, sizeof cmd,
             "env TIPLINE_GAZETTEER_COUNTRIES=PL %s gazetteer import %s --out %s.pl", bin, g_dump,
             idx);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "places=1 "));
    snprintf(cmd, sizeof cmd, "%s gazetteer check %s", bin, idx);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    snprintf(want, sizeof want, "settlements=%zu ", g_st.places);
    assert_non_null(strstr(out, want));
    snprintf(cmd, sizeof cmd, "%s geo parse --gazetteer %s 'вибухи в Роботиному'", bin, idx);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"name\":\"Robotyne\""));
    snprintf(cmd, sizeof cmd, "%s geo parse --gazetteer %s 'біля Новоселівки Ізюмського району'",
             bin, idx);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "\"lat\":49.7801000"));
    assert_non_null(strstr(out, "\"ambiguous\":false"));
    /* a missing dump fails; the demo TSV is not overwritten by mistake */
    snprintf(cmd, sizeof cmd, "%s gazetteer import %s/none.txt --out %s 2>/dev/null", bin, g_dir,
             idx);
    assert_int_equal(run(cmd, out, sizeof out), 1);
    snprintf(cmd, sizeof cmd, "env TIPLINE_GAZETTEER=%s/x.tsv %s gazetteer import %s 2>/dev/null",
             g_dir, bin, g_dump);
    assert_int_equal(run(cmd, out, sizeof out), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gazetteer_import_counts),
        cmocka_unit_test(test_gazetteer_every_form),
        cmocka_unit_test(test_gazetteer_alternations_latin_only),
        cmocka_unit_test(test_gazetteer_near_widens),
        cmocka_unit_test(test_gazetteer_homonym_ambiguous),
        cmocka_unit_test(test_gazetteer_homonym_oblast),
        cmocka_unit_test(test_gazetteer_homonym_nearby_point),
        cmocka_unit_test(test_gazetteer_short_plus_code),
        cmocka_unit_test(test_gazetteer_reload),
        cmocka_unit_test(test_gazetteer_cli),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
