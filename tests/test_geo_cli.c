/* tests/test_geo_cli.c - `tipline geo parse`: cmd_geo() called directly, its stdout
 * captured and read back as JSON; and the tipline binary run with its configuration
 * from the environment only, as after `. var/tipline.env`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "common/util.h"

/* Runs cmd_geo with argv, returns its exit code; *out gets stdout (free()). */
static int run(char **argv, int argc, char **out)
{
    char path[] = "/tmp/tipline-geo-cli-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    int saved = dup(1);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 1) >= 0);
    struct cli_ctx ctx;
    memset(&ctx, 0, sizeof(ctx)); /* no configuration: the flags alone */
    int rc = cmd_geo(argc, argv, &ctx);
    fflush(stdout);
    assert_true(dup2(saved, 1) >= 0);
    close(saved);
    close(fd);
    char *buf = NULL;
    size_t len;
    assert_int_equal(tl_read_file(path, 1 << 20, &buf, &len), TL_OK);
    unlink(path);
    *out = buf;
    return rc;
}

static char *area_path(void)
{
    const char *src = getenv("TL_SOURCE_DIR");
    return tl_asprintf("%s/deploy/area_ukraine.geojson", src ? src : ".");
}

static void test_geo_cli_parse_json(void **state)
{
    char *area = area_path();
    char *argv[] = {"geo",      "parse",    "--area",    area, "Бачу",  "колону:",
                    "50.4501,", "30.5234,", "рухаються", "на", "північ"};
    char *out;
    assert_int_equal(run(argv, 11, &out), 0);
    struct json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    struct json_object *c, *p, *v;
    assert_true(json_object_object_get_ex(root, "candidates", &c));
    assert_int_equal(json_object_array_length(c), 1);
    p = json_object_array_get_idx(c, 0);
    assert_true(json_object_object_get_ex(p, "lat", &v));
    assert_true(fabs(json_object_get_double(v) - 50.4501) < 1e-7);
    assert_true(json_object_object_get_ex(p, "lon", &v));
    assert_true(fabs(json_object_get_double(v) - 30.5234) < 1e-7);
    assert_true(json_object_object_get_ex(p, "kind", &v));
    assert_string_equal(json_object_get_string(v), "decimal");
    assert_true(json_object_object_get_ex(p, "source", &v));
    assert_string_equal(json_object_get_string(v), "text");
    assert_true(json_object_object_get_ex(p, "geohash", &v));
    assert_string_equal(json_object_get_string(v), "u8vxn84mn");
    assert_true(json_object_object_get_ex(root, "bearing_deg", &v));
    assert_true(json_object_get_double(v) == 0.0 && v != NULL);
    json_object_put(root);
    free(out);
    free(area);
}

static void test_geo_cli_rejected_and_places(void **state)
{
    char *area = area_path();
    char gaz[] = "/tmp/tipline-geo-gaz-XXXXXX";
    int fd = mkstemp(gaz);
    static const char tsv[] = "Izyum\t49.20875\t37.24849\t53778\t07\tUA\n";
    assert_int_equal(write(fd, tsv, sizeof tsv - 1), (ssize_t)(sizeof tsv - 1));
    close(fd);
    char *argv[] = {
        "geo", "parse", "--area", area, "--gazetteer", gaz, "біля Ізюму; і ще 55.7558, 37.6173"};
    char *out;
    assert_int_equal(run(argv, 7, &out), 0);
    struct json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    struct json_object *c, *r, *v;
    assert_true(json_object_object_get_ex(root, "candidates", &c));
    assert_int_equal(json_object_array_length(c), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(c, 0), "name", &v));
    assert_string_equal(json_object_get_string(v), "Izyum");
    assert_true(json_object_object_get_ex(json_object_array_get_idx(c, 0), "oblast", &v));
    assert_string_equal(json_object_get_string(v), "Kharkiv Oblast");
    assert_true(json_object_object_get_ex(root, "rejected", &r));
    assert_int_equal(json_object_array_length(r), 1);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(r, 0), "reason", &v));
    assert_string_equal(json_object_get_string(v), "outside_area");
    assert_true(json_object_object_get_ex(root, "bearing_deg", &v));
    assert_null(v);
    json_object_put(root);
    free(out);
    unlink(gaz);
    free(area);
}

static void test_geo_cli_usage_errors(void **state)
{
    char *out;
    char *a1[] = {"geo", "--help"};
    assert_int_equal(run(a1, 2, &out), 0);
    assert_non_null(strstr(out, "usage: tipline geo parse"));
    free(out);
    char *a2[] = {"geo", "frobnicate"};
    assert_int_equal(run(a2, 2, &out), 2);
    assert_string_equal(out, "");
    free(out);
    char *a3[] = {"geo", "parse"};
    assert_int_equal(run(a3, 2, &out), 2);
    free(out);
    char *a4[] = {"geo", "parse", "--area", "/nonexistent.geojson", "50.1, 30.1"};
    assert_int_equal(run(a4, 5, &out), 1);
    assert_string_equal(out, "");
    free(out);
    char *a5[] = {"geo", "parse", "--bogus", "x"};
    assert_int_equal(run(a5, 4, &out), 2);
    free(out);
}

/* A gazetteer of three settlements in the format of deploy/gazetteer/build.sh; free(). */
static char *small_gazetteer(void)
{
    char *path = tl_strdup("/tmp/tipline-geo-gaz-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char tsv[] = "Izyum\t49.20875\t37.24849\t53778\t07\tUA\n"
                              "Balakliya\t49.46278\t36.85866\t27000\t07\tUA\n"
                              "Kupiansk\t49.71055\t37.61517\t26000\t07\tUA\n";
    assert_int_equal(write(fd, tsv, sizeof tsv - 1), (ssize_t)(sizeof tsv - 1));
    close(fd);
    return path;
}

/* Runs the tipline binary with env (NAME=VALUE, ...) added to a clean environment and
 * args; returns its exit code, *out its stdout (free()). */
static int run_bin(const char *env, const char *args, char **out)
{
    const char *bin = getenv("TL_TIPLINE_BIN");
    assert_non_null(bin);
    char path[] = "/tmp/tipline-geo-bin-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char *cmd = tl_asprintf("env -i PATH=/usr/bin:/bin TZDIR=/usr/share/zoneinfo %s %s geo "
                            "parse %s > %s",
                            env, bin, args, path);
    int st = system(cmd);
    free(cmd);
    size_t len;
    assert_int_equal(tl_read_file(path, 1 << 20, out, &len), TL_OK);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The names of the candidates (or of the rejected points) in a geo parse answer, joined
 * with commas; "reason" instead of "name" gives the reasons. */
static void names(const char *json, const char *list, const char *field, char *buf, size_t cap)
{
    struct json_object *root = json_tokener_parse(json), *a, *v;
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, list, &a));
    buf[0] = 0;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        struct json_object *p = json_object_array_get_idx(a, i);
        const char *s = json_object_object_get_ex(p, field, &v) ? json_object_get_string(v) : "-";
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "%s%s", n ? "," : "", s);
    }
    json_object_put(root);
}

/* The README's example after `. var/tipline.env`: the gazetteer and the area come from
 * TIPLINE_GAZETTEER and TIPLINE_AREA_FILE, no flags; a flag still wins over them. */
static void test_geo_cli_config_from_environment(void **state)
{
    char *area = area_path(), *gaz = small_gazetteer(), *out = NULL, buf[512];
    char *env = tl_asprintf("TIPLINE_GAZETTEER=%s TIPLINE_AREA_FILE=%s", gaz, area);
    static const char text[] =
        "'колона біля Ізюму, 37U DQ 12345 67890, рухається на північ; і ще 55.7558, 37.6173'";
    assert_int_equal(run_bin(env, text, &out), 0);
    names(out, "candidates", "name", buf, sizeof(buf));
    if (!strstr(buf, "Izyum"))
        fail_msg("no Izyum among the candidates: %s", out);
    names(out, "rejected", "reason", buf, sizeof(buf));
    if (!strstr(buf, "outside_area")) /* Moscow: the area check applied */
        fail_msg("nothing rejected as outside the area: %s", out);
    free(out);

    /* without the environment: no place name, no area check */
    assert_int_equal(run_bin("", text, &out), 0);
    names(out, "candidates", "name", buf, sizeof(buf));
    assert_null(strstr(buf, "Izyum"));
    names(out, "rejected", "reason", buf, sizeof(buf));
    assert_null(strstr(buf, "outside_area"));
    free(out);

    /* the configuration file, then the environment, then the flags */
    char conf[] = "/tmp/tipline-geo-conf-XXXXXX";
    int fd = mkstemp(conf);
    assert_true(fd >= 0);
    char *line = tl_asprintf("gazetteer_file = /nonexistent.tsv\narea_file = %s\n", area);
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    close(fd);
    free(line);
    char *env2 = tl_asprintf("TIPLINE_CONFIG=%s", conf);
    assert_int_equal(run_bin(env2, text, &out), 1); /* the file's gazetteer is missing */
    free(out);
    free(env2);
    env2 = tl_asprintf("TIPLINE_CONFIG=%s TIPLINE_GAZETTEER=%s", conf, gaz);
    assert_int_equal(run_bin(env2, text, &out), 0);
    names(out, "candidates", "name", buf, sizeof(buf));
    assert_non_null(strstr(buf, "Izyum"));
    free(out);
    char *args = tl_asprintf("--gazetteer /nonexistent.tsv %s", text);
    assert_int_equal(run_bin(env2, args, &out), 1); /* the flag wins */
    free(out);
    free(args);
    free(env2);
    unlink(conf);

    /* the real gazetteer, when setup built it */
    const char *real = getenv("TL_GAZETTEER");
    if (real) {
        char *env3 = tl_asprintf("TIPLINE_GAZETTEER=%s TIPLINE_AREA_FILE=%s", real, area);
        assert_int_equal(run_bin(env3, text, &out), 0);
        names(out, "candidates", "name", buf, sizeof(buf));
        if (!strstr(buf, "Izium") && !strstr(buf, "Izyum") && !strstr(buf, "Ізюм"))
            fail_msg("the real gazetteer finds no Izium: %s", out);
        free(out);
        free(env3);
    }
    unlink(gaz);
    free(gaz);
    free(env);
    free(area);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geo_cli_parse_json),
        cmocka_unit_test(test_geo_cli_rejected_and_places),
        cmocka_unit_test(test_geo_cli_usage_errors),
        cmocka_unit_test(test_geo_cli_config_from_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
