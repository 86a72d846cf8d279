/* cli/cmd_gazetteer.c - `tipline gazetteer import DUMP`: builds the settlement index
 * the bot, `tipline geo parse` and the server map (gazetteer_file) from a GeoNames
 * dump, and `tipline gazetteer check` to see what a file holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opt.h"
#include "common/util.h"
#include "geo/geo.h"
#include "common/banned.h"

static const char gaz_usage[] =
    "usage: tipline gazetteer import DUMP [--alternate-names FILE] [--admin2 FILE]\n"
    "                                   [--countries LIST] [--out FILE]\n"
    "       tipline gazetteer check [FILE]\n";

static const char gaz_doc[] =
    "import reads a GeoNames dump (download.geonames.org/export/dump/: a country\n"
    "file such as UA.txt, or allCountries.txt), keeps the populated places of the\n"
    "countries asked for with every Latin and Cyrillic spelling, and writes the\n"
    "index the bot and `tipline geo parse` map. Lines that do not parse are\n"
    "skipped and counted. A running bot maps the new file on SIGHUP.\n"
    "check loads FILE (default: gazetteer_file), index or TSV, and prints the\n"
    "number of settlements and the load time.\n";

static int do_import(const char *dump, const char *alt, const char *adm2, const char *countries,
                     const char *out)
{
    if (!out || !*out) {
        fputs("tipline gazetteer import: no --out and no gazetteer_file configured\n", stderr);
        return 2;
    }
    size_t ol = strlen(out);
    if (ol >= 4 && strcmp(out + ol - 4, ".tsv") == 0) {
        fprintf(stderr,
                "tipline gazetteer import: gazetteer_file %s is the demo TSV; give --out "
                "(and point gazetteer_file at it)\n",
                out);
        return 2;
    }
    struct geo_import_stats st;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int64_t t0 = tl_now_ms();
    struct geo_import_opts o = {
        .dump = dump, .alternate_names = alt, .admin2 = adm2, .countries = countries, .out = out};
    int rc = geo_gazetteer_import_opts(&o, &st, &ei);
    if (rc != TL_OK)
        return cli_fail("gazetteer", "import", rc, &ei);
    printf("places=%zu names=%zu lines=%zu malformed=%zu filtered=%zu alt_lines=%zu "
           "alt_used=%zu alt_malformed=%zu districts=%zu index_bytes=%zu ms=%lld out=%s\n",
           st.places, st.names, st.lines, st.malformed, st.filtered, st.alt_lines, st.alt_used,
           st.alt_malformed, st.districts, st.index_bytes, (long long)(tl_now_ms() - t0), out);
    return 0;
}

static int do_check(const char *file)
{
    if (!file || !*file) {
        fputs("tipline gazetteer check: no FILE and no gazetteer_file configured\n", stderr);
        return 2;
    }
    struct geo_ctx *g = NULL;
    struct tl_errinfo ei;
    tl_errinfo_clear(&ei);
    int64_t t0 = tl_now_ms();
    int rc = geo_ctx_new(NULL, file, &g, &ei);
    if (rc != TL_OK)
        return cli_fail("gazetteer", "check", rc, &ei);
    printf("settlements=%zu load_ms=%lld file=%s\n", geo_ctx_places(g),
           (long long)(tl_now_ms() - t0), file);
    geo_ctx_free(g);
    return 0;
}

int cmd_gazetteer(int argc, char **argv, struct cli_ctx *ctx)
{
    const char *alt = NULL, *adm2 = NULL, *countries = ctx->cfg.gazetteer_countries,
               *out = ctx->cfg.gazetteer_file;
    const struct cli_opt opts[] = {
        CLI_STRING("alternate-names", "FILE", &alt,
                   "import: alternateNamesV2.txt: adds the Ukrainian, Russian,\n"
                   "Belarusian and English names"),
        CLI_STRING("admin2", "FILE", &adm2,
                   "import: admin2Codes.txt: district names, so that a message\n"
                   "naming the district settles a shared village name"),
        CLI_STRING("countries", "LIST", &countries,
                   "import: ISO codes, comma-separated (default: the\n"
                   "gazetteer_countries key; \"\" for all)"),
        CLI_STRING("out", "FILE", &out, "import: where to write (default: the gazetteer_file key)"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "gazetteer",
                                  .usage = gaz_usage,
                                  .doc = gaz_doc,
                                  .opts = opts,
                                  .min_args = 1,
                                  .max_args = 2};
    int rc = cli_parse(&spec, &argc, argv);
    if (rc >= 0)
        return rc;
    if (strcmp(argv[1], "import") == 0 && argc == 3)
        return do_import(argv[2], alt, adm2, countries, out);
    if (strcmp(argv[1], "check") == 0)
        return do_check(argc > 2 ? argv[2] : ctx->cfg.gazetteer_file);
    return cli_usage_error(&spec, "'%s' is not a subcommand", argv[1]);
}
