# tests/geo.cmake - geo/: the parser table, GeoConvert cross-checks, the CLI, the fuzzer.
# test_geo runs GeoConvert (Debian geographiclib-tools) to check every MGRS/UTM case.
# Set TL_GAZETTEER to a gazetteer built by deploy/gazetteer/build.sh to also check it.
tl_add_test(NAME test_geo SOURCES test_geo.c LIBS tl_geo m)
tl_add_test(NAME test_geo_cli SOURCES test_geo_cli.c ${CMAKE_SOURCE_DIR}/cli/cmd_geo.c LIBS tl_geo)
# The seeds (real-looking messages in every format) live in the kept corpus
# tests/fuzz/corpus/fuzz_geo_text/, which run.sh replays before exploring.
tl_add_fuzzer(NAME fuzz_geo_text SOURCES fuzz/fuzz_geo_text.c LIBS tl_geo SECONDS 20)
# The gazetteer from a GeoNames dump the test writes (tests/support/geonames_gen.c).
tl_add_test(NAME test_gazetteer SOURCES test_gazetteer.c LIBS tl_geo m)
