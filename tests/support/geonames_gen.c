/* tests/support/geonames_gen.c - synthetic GeoNames dumps (see geonames_gen.h). */
#include "geonames_gen.h"

#include <stdint.h>
#include <string.h>

void tl_gn_line(FILE *f, unsigned id, const char *name, const char *ascii, const char *alts,
                double lat, double lon, const char *fclass, const char *fcode, const char *cc,
                const char *admin1, unsigned long pop)
{
    fprintf(
        f,
        "%u\t%s\t%s\t%s\t%.5f\t%.5f\t%s\t%s\t%s\t\t%s\t\t\t\t%lu\t\t150\tEurope/Kyiv\t2024-01-01\n",
        id, name, ascii, alts, lat, lon, fclass, fcode, cc, admin1, pop);
}

void tl_gn_line_a2(FILE *f, unsigned id, const char *name, const char *alts, double lat, double lon,
                   const char *admin1, const char *admin2, unsigned long pop)
{
    fprintf(f,
            "%u\t%s\t%s\t%s\t%.5f\t%.5f\tP\tPPL\tUA\t\t%s\t%s\t\t\t%lu\t\t150\tEurope/Kyiv\t"
            "2024-01-01\n",
            id, name, name, alts, lat, lon, admin1, admin2, pop);
}

/* Ukrainian, Russian, national Latin, common Latin */
struct syl {
    const char *uk, *ru, *lat, *lat2;
};

static const struct syl pre[] = {
    {"Ново", "Ново", "Novo", "Novo"},
    {"Старо", "Старо", "Staro", "Staro"},
    {"Вели", "Вели", "Vely", "Veli"},
    {"Мало", "Мало", "Malo", "Malo"},
    {"Верхньо", "Верхне", "Verkhnio", "Verkhne"},
    {"Нижньо", "Нижне", "Nyzhnio", "Nizhne"},
    {"Красно", "Красно", "Krasno", "Krasno"},
    {"Зелено", "Зелено", "Zeleno", "Zeleno"},
    {"Біло", "Бело", "Bilo", "Belo"},
    {"Черво", "Черво", "Chervo", "Chervo"},
    {"Кам'яно", "Камено", "Kamiano", "Kameno"},
    {"Золото", "Золото", "Zoloto", "Zoloto"},
    {"", "", "", ""},
    {"Вишне", "Вишне", "Vyshne", "Vishne"},
};
static const struct syl root[] = {
    {"берез", "берез", "berez", "berez"},
    {"дуб", "дуб", "dub", "dub"},
    {"лан", "лан", "lan", "lan"},
    {"гор", "гор", "hor", "gor"},
    {"лип", "лип", "lyp", "lip"},
    {"яр", "яр", "iar", "yar"},
    {"пол", "пол", "pol", "pol"},
    {"луг", "луг", "luh", "lug"},
    {"став", "став", "stav", "stav"},
    {"криниц", "криниц", "krynyts", "krinits"},
    {"гай", "гай", "hai", "gai"},
    {"бор", "бор", "bor", "bor"},
    {"михайл", "михайл", "mykhail", "mikhail"},
    {"іван", "иван", "ivan", "ivan"},
    {"петр", "петр", "petr", "petr"},
    {"олекс", "алекс", "oleks", "aleks"},
    {"вод", "вод", "vod", "vod"},
    {"рог", "рог", "roh", "rog"},
    {"мар", "мар", "mar", "mar"},
    {"кут", "кут", "kut", "kut"},
    {"бул", "бул", "bul", "bul"},
    {"дан", "дан", "dan", "dan"},
    {"тар", "тар", "tar", "tar"},
    {"мир", "мир", "myr", "mir"},
    {"слав", "слав", "slav", "slav"},
    {"город", "город", "horod", "gorod"},
    {"ліс", "лес", "lis", "les"},
    {"ков", "ков", "kov", "kov"},
    {"зор", "зор", "zor", "zor"},
    {"гнат", "гнат", "hnat", "gnat"},
    {"степ", "степ", "step", "step"},
    {"тополь", "тополь", "topol", "topol"},
    {"клен", "клен", "klen", "klen"},
    {"сосн", "сосн", "sosn", "sosn"},
    {"вільх", "ольх", "vilkh", "olkh"},
    {"ясен", "ясен", "iasen", "yasen"},
    {"калин", "калин", "kalyn", "kalin"},
    {"малин", "малин", "malyn", "malin"},
    {"терн", "терн", "tern", "tern"},
    {"дар", "дар", "dar", "dar"},
    {"юр", "юр", "iur", "yur"},
    {"гриш", "гриш", "hrysh", "grish"},
    {"федор", "федор", "fedor", "fedor"},
    {"павл", "павл", "pavl", "pavl"},
    {"степан", "степан", "stepan", "stepan"},
    {"андрі", "андре", "andri", "andre"},
    {"мирон", "мирон", "myron", "miron"},
    {"остап", "остап", "ostap", "ostap"},
    {"богдан", "богдан", "bohdan", "bogdan"},
    {"ром", "ром", "rom", "rom"},
};
static const struct syl suf[] = {
    {"івка", "овка", "ivka", "ovka"},   {"ове", "ово", "ove", "ovo"},
    {"ине", "ино", "yne", "ino"},       {"ське", "ское", "ske", "skoye"},
    {"иця", "ица", "ytsia", "itsa"},    {"ки", "ки", "ky", "ki"},
    {"івці", "овцы", "ivtsi", "ovtsy"}, {"ин", "ин", "yn", "in"},
    {"ів", "ов", "iv", "ov"},           {"ани", "аны", "any", "any"},
    {"ище", "ище", "yshche", "ishche"}, {"опіль", "ополь", "opil", "opol"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t rnd(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The name with its first letter in upper case (Cyrillic or Latin, 1 or 2 bytes). */
static void cap(char *s)
{
    unsigned char *u = (unsigned char *)s;
    if (u[0] >= 'a' && u[0] <= 'z')
        u[0] = (unsigned char)(u[0] - 32);
    else if (u[0] == 0xD0 && u[1] >= 0xB0 && u[1] <= 0xBF)
        u[1] = (unsigned char)(u[1] - 0x20);
    else if (u[0] == 0xD1 && u[1] >= 0x80 && u[1] <= 0x8F) {
        u[0] = 0xD0;
        u[1] = (unsigned char)(u[1] + 0x20);
    } else if (u[0] == 0xD1 && u[1] == 0x96) { /* і */
        u[0] = 0xD0;
        u[1] = 0x86;
    }
}

void tl_gn_villages(FILE *f, size_t n, unsigned first_id, unsigned seed, char (*names)[64],
                    size_t max_names)
{
    uint32_t s = seed ? seed : 1;
    for (size_t i = 0; i < n; i++) {
        const struct syl *p = &pre[rnd(&s) % N(pre)], *r = &root[rnd(&s) % N(root)],
                         *x = &suf[rnd(&s) % N(suf)];
        char uk[64], ru[64], l1[64], l2[64], alts[300];
        snprintf(uk, sizeof uk, "%s%s%s", p->uk, r->uk, x->uk);
        snprintf(ru, sizeof ru, "%s%s%s", p->ru, r->ru, x->ru);
        snprintf(l1, sizeof l1, "%s%s%s", p->lat, r->lat, x->lat);
        snprintf(l2, sizeof l2, "%s%s%s", p->lat2, r->lat2, x->lat2);
        cap(uk);
        cap(ru);
        cap(l1);
        cap(l2);
        snprintf(alts, sizeof alts, "%s,%s,%s", uk, ru, l2);
        double lat = 44.6 + (rnd(&s) % 7600) / 1000.0, lon = 22.3 + (rnd(&s) % 17800) / 1000.0;
        char adm[4];
        snprintf(adm, sizeof adm, "%02u", 1 + rnd(&s) % 27);
        tl_gn_line(f, first_id + (unsigned)i, l1, l1, alts, lat, lon, "P", "PPL", "UA", adm,
                   rnd(&s) % 4 ? 0 : rnd(&s) % 5000);
        if (names && i < max_names)
            memcpy(names[i], uk, sizeof uk);
    }
}
