/* tests/fuzz/gen_gazimport_seeds.c - writes the seeds of fuzz_gazimport into DIR: a
 * small GeoNames dump (real places in three scripts, synthetic villages), one with
 * malformed lines, and the index built from the first (so the index reader is
 * explored from a valid image). */
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "geo/geo.h"
#include "tests/support/geonames_gen.h"

static FILE *open_in(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        exit(1);
    }
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    FILE *f = open_in(dir, "dump.txt");
    tl_gn_line(f, 706483, "Kharkiv", "Kharkiv", "Kharkov,Харків,Харьков", 49.98081, 36.25272, "P",
               "PPLA", "UA", "07", 1430885);
    tl_gn_line(f, 709932, "Kamianske", "Kamianske", "Kamenskoye,Кам'янське,Каменское", 48.5167,
               34.6167, "P", "PPL", "UA", "04", 229794);
    tl_gn_line(f, 699010, "Novoselivka", "Novoselivka", "Новоселівка,Новоселовка", 49.78, 37.04,
               "P", "PPL", "UA", "07", 300);
    tl_gn_line(f, 699011, "Novoselivka", "Novoselivka", "Новоселівка,Новоселовка", 48.31, 37.84,
               "P", "PPL", "UA", "05", 400);
    tl_gn_villages(f, 20, 800000, 3, NULL, 0);
    fclose(f);
    f = open_in(dir, "malformed.txt");
    fputs("# comment\n699200\tShort\n\n", f);
    fputs("699201\tBad\tBad\t\t95\t36.2\tP\tPPL\tUA\t\t07\t\t\t\t0\t\t1\tE\t2024\n", f);
    tl_gn_line(f, 1, "Lwów", "Lwow", "Львів", 49.84, 24.03, "P", "PPLH", "UA", "15", 0);
    tl_gn_line(f, 2, "Przemyśl", "Przemysl", "Перемишль", 49.78, 22.77, "P", "PPL", "PL", "80", 1);
    fclose(f);
    char *buf;
    size_t len, ilen;
    char p[1024];
    snprintf(p, sizeof p, "%s/dump.txt", dir);
    unsigned char *img;
    struct geo_import_stats st;
    if (tl_read_file(p, 1 << 20, &buf, &len) != TL_OK ||
        geo_gazetteer_import_mem(buf, len, "", &img, &ilen, &st, NULL) != TL_OK)
        return 1;
    f = open_in(dir, "index.bin");
    fwrite(img, 1, ilen, f);
    fclose(f);
    free(img);
    free(buf);
    f = open_in(dir, "stamp");
    fclose(f);
    return 0;
}
