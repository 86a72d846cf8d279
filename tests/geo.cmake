# tests/geo.cmake - geo/: the parser table, GeoConvert cross-checks, the CLI, the fuzzer.
# test_geo runs GeoConvert (Debian geographiclib-tools) to check every MGRS/UTM case.
# Set TL_GAZETTEER to a gazetteer built by deploy/gazetteer/build.sh to also check it.
tl_add_test(NAME test_geo SOURCES test_geo.c test_geo_parse.c test_geo_grids.c test_geo_checks.c
            LIBS tl_geo m)
tl_add_test(NAME test_geo_cli SOURCES test_geo_cli.c ${CMAKE_SOURCE_DIR}/cli/cmd_geo.c
            ${CMAKE_SOURCE_DIR}/cli/opt.c LIBS tl_geo tl_common)
# The seeds (real-looking messages in every format) live in the kept corpus
# tests/fuzz/corpus/fuzz_geo_text/, which run.sh replays before exploring.
tl_add_fuzzer(NAME fuzz_geo_text SOURCES fuzz/fuzz_geo_text.c LIBS tl_geo SECONDS 20)
# The gazetteer from a GeoNames dump the test writes (tests/support/geonames_gen.c).
tl_add_test(NAME test_gazetteer SOURCES test_gazetteer.c LIBS tl_geo m)
# fuzz_gazimport: any bytes as a GeoNames dump and as an index; its seeds are
# generated at build time by gen_gazimport_seeds (a dump, a damaged one, an index).
set(TL_GAZ_SEEDS ${CMAKE_BINARY_DIR}/tests/seeds_gazimport)
if(TIPLINE_FUZZ)
  add_executable(gen_gazimport_seeds fuzz/gen_gazimport_seeds.c)
  target_link_libraries(gen_gazimport_seeds PRIVATE tl_geo tl_testsupport)
  add_custom_command(OUTPUT ${TL_GAZ_SEEDS}/stamp
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${TL_GAZ_SEEDS}
                     COMMAND gen_gazimport_seeds ${TL_GAZ_SEEDS}
                     DEPENDS gen_gazimport_seeds)
  add_custom_target(gazimport_seeds ALL DEPENDS ${TL_GAZ_SEEDS}/stamp)
endif()
tl_add_fuzzer(NAME fuzz_gazimport SOURCES fuzz/fuzz_gazimport.c LIBS tl_geo SEEDS ${TL_GAZ_SEEDS}
              SECONDS 20)
