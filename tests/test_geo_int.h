/* tests/test_geo_int.h - what test_geo's files share: the group fixture (a temporary
 * directory with the generated gazetteer and a small area, and the geo context on the
 * real area and that gazetteer) and files written into it. */
#ifndef TL_TEST_GEO_INT_H
#define TL_TEST_GEO_INT_H

#include "support/testparts.h"

extern char tgeo_g_dir[];
extern char *tgeo_g_gaz;
extern char *tgeo_g_area;
extern char *tgeo_g_small_area;
extern struct geo_ctx *tgeo_g_ctx;
char *tgeo_write_tmp(const char *name, const char *body);

/* The tables of the parts' tests, run by main in test_geo.c. */
extern const struct CMUnitTest tgeo_parse_tests[];
extern const size_t tgeo_parse_ntests;
extern const struct CMUnitTest tgeo_grids_tests[];
extern const size_t tgeo_grids_ntests;
extern const struct CMUnitTest tgeo_checks_tests[];
extern const size_t tgeo_checks_ntests;

#endif
