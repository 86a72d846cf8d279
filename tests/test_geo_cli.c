/* tests/test_geo_cli.c - `tipline geo parse`: cmd_geo() called directly, its stdout
 * captured and read back as JSON. */
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
#include <unistd.h>

#include <json-c/json.h>

#include "common/util.h"

int cmd_geo(int argc, char **argv);

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
    int rc = cmd_geo(argc, argv);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geo_cli_parse_json),
        cmocka_unit_test(test_geo_cli_rejected_and_places),
        cmocka_unit_test(test_geo_cli_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
