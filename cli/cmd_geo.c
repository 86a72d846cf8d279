/* cli/cmd_geo.c - `tipline geo parse "TEXT"`: what geo/ finds in a message, as JSON
 * on stdout. A front for analysts and for checking the parser by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "geo/geo.h"
#include "common/banned.h"

static const char geo_usage[] =
    "usage: tipline geo parse [--area FILE] [--gazetteer FILE] TEXT...\n";

static const char geo_doc[] =
    "Finds every place in TEXT (coordinates, map links, geo: URIs, MGRS/UTM,\n"
    "Plus Codes, settlement names) and a bearing of movement, checks each point\n"
    "against the area of interest, and prints JSON:\n"
    "  {\"candidates\": [...], \"rejected\": [...], \"bearing_deg\": N|null,\n"
    "   \"ambiguous\": bool}\n"
    "Several TEXT arguments are joined with spaces; \"-\" reads the text from stdin.\n"
    "The area and the gazetteer default to area_file and gazetteer_file of the\n"
    "configuration (TIPLINE_AREA_FILE, TIPLINE_GAZETTEER), as the bot reads them.\n";

/* A number printed as written with a fixed count of decimals. */
static struct json_object *num(double v, int decimals)
{
    char b[48];
    snprintf(b, sizeof b, "%.*f", decimals, v);
    return json_object_new_double_s(v, b);
}

static struct json_object *point_json(const struct geo_point *p)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "lat", num(p->lat, 7));
    json_object_object_add(o, "lon", num(p->lon, 7));
    json_object_object_add(o, "accuracy_m", num(p->accuracy_m, 1));
    json_object_object_add(o, "source", json_object_new_string(p->source ? p->source : ""));
    json_object_object_add(o, "kind", json_object_new_string(p->kind));
    if (p->name[0]) {
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "oblast", json_object_new_string(p->oblast));
        json_object_object_add(o, "country", json_object_new_string(p->country));
    }
    if (p->reject)
        json_object_object_add(o, "reason", json_object_new_string(p->reject));
    json_object_object_add(o, "swapped", json_object_new_boolean(p->swapped));
    json_object_object_add(o, "swapped_possible", json_object_new_boolean(p->swapped_possible));
    if (p->alt_group)
        json_object_object_add(o, "alt_group", json_object_new_int((int)p->alt_group));
    json_object_object_add(o, "offset", json_object_new_int64((int64_t)p->off));
    json_object_object_add(o, "length", json_object_new_int64((int64_t)p->len));
    char gh[13];
    if (geo_geohash_encode(p->lat, p->lon, 9, gh) == TL_OK)
        json_object_object_add(o, "geohash", json_object_new_string(gh));
    return o;
}

static int read_stdin(char **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    if (!b)
        return TL_ENOMEM;
    size_t r;
    while ((r = fread(b + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            if (cap >= ((size_t)16 << 20))
                break;
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return TL_ENOMEM;
            }
            b = nb;
            cap *= 2;
        }
    }
    *out = b;
    *len = n;
    return TL_OK;
}

int cmd_geo(int argc, char **argv, struct cli_ctx *cli)
{
    const char *area = cli->cfg.area_file, *gaz = cli->cfg.gazetteer_file;
    const struct cli_opt opts[] = {
        CLI_STRING("area", "FILE", &area,
                   "GeoJSON (Multi)Polygon of the area of interest\n"
                   "(deploy/area_ukraine.geojson); default: area_file"),
        CLI_STRING("gazetteer", "FILE", &gaz,
                   "settlements TSV from deploy/gazetteer/build.sh;\ndefault: gazetteer_file"),
        CLI_END,
    };
    const struct cli_spec spec = {.cmd = "geo parse",
                                  .usage = geo_usage,
                                  .doc = geo_doc,
                                  .opts = opts,
                                  .flags = CLI_STOP_AT_ARG,
                                  .min_args = 1,
                                  .max_args = -1};
    struct geo_ctx *ctx = NULL;
    struct geo_result res = {0};
    struct json_object *root = NULL;
    char *text = NULL;
    size_t tlen = 0;
    int rc = 2;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_help(&spec, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "parse") != 0)
        return cli_usage_error(&spec, "unknown subcommand '%s'", argv[1]);
    argc--;
    argv++;
    if ((rc = cli_parse(&spec, &argc, argv)) >= 0)
        return rc;
    rc = 2;
    if (!area || !*area)
        area = NULL;
    if (!gaz || !*gaz)
        gaz = NULL;
    if (argc == 2 && strcmp(argv[1], "-") == 0) {
        if (read_stdin(&text, &tlen) != TL_OK)
            goto out;
    } else {
        size_t need = 1;
        for (int k = 1; k < argc; k++)
            need += strlen(argv[k]) + 1;
        text = malloc(need);
        if (!text)
            goto out;
        for (int k = 1; k < argc; k++) {
            size_t l = strlen(argv[k]);
            if (k > 1)
                text[tlen++] = ' ';
            memcpy(text + tlen, argv[k], l);
            tlen += l;
        }
        text[tlen] = '\0';
    }
    struct tl_errinfo ei = {0};
    int err = geo_ctx_new(area, gaz, &ctx, &ei);
    if (err != TL_OK) {
        fprintf(stderr, "tipline geo parse: %s: %s\n", tl_strerror(err), ei.msg);
        rc = 1;
        goto out;
    }
    err = geo_parse_text(ctx, text, tlen, &res, &ei);
    if (err != TL_OK) {
        fprintf(stderr, "tipline geo parse: %s: %s\n", tl_strerror(err), ei.msg);
        rc = 1;
        goto out;
    }
    root = json_object_new_object();
    struct json_object *c = json_object_new_array(), *r = json_object_new_array();
    for (size_t k = 0; k < res.n; k++)
        json_object_array_add(c, point_json(&res.cand[k]));
    for (size_t k = 0; k < res.n_rej; k++)
        json_object_array_add(r, point_json(&res.rej[k]));
    json_object_object_add(root, "candidates", c);
    json_object_object_add(root, "rejected", r);
    json_object_object_add(root, "bearing_deg", res.has_bearing ? num(res.bearing_deg, 1) : NULL);
    json_object_object_add(root, "ambiguous", json_object_new_boolean(res.ambiguous));
    const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
    if (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF) {
        rc = 1;
        goto out;
    }
    rc = 0;
out:
    json_object_put(root);
    geo_result_release(&res);
    geo_ctx_free(ctx);
    free(text);
    return rc;
}
