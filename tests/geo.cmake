# tests/geo.cmake - geo/: the parser table, GeoConvert cross-checks, the CLI, the fuzzer.
tl_add_test(NAME test_geo SOURCES test_geo.c LIBS tl_geo m)
tl_add_test(NAME test_geo_cli SOURCES test_geo_cli.c ${CMAKE_SOURCE_DIR}/cli/cmd_geo.c LIBS tl_geo)
tl_add_fuzzer(NAME fuzz_geo_text SOURCES fuzz/fuzz_geo_text.c LIBS tl_geo
              SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/fuzz_geo_text SECONDS 20)
