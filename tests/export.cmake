# tests/export.cmake - the exporters (files, feeds, OGC API, tiles) read by GDAL's
# ogrinfo (Debian's gdal-bin) and curl, against the throwaway PostgreSQL.
tl_add_test(NAME test_export SOURCES test_export.c test_export_feeds.c test_export_tiles.c
            test_export_webhooks.c
            LIBS tl_daemon tl_web PkgConfig::CRYPTO PkgConfig::PQ Threads::Threads DB TIMEOUT 600)
# its JSON answers against web/openapi.yaml (as test_web's, tests/web_openapi.cmake)
set_tests_properties(test_export PROPERTIES FIXTURES_SETUP export_answers)
add_test(NAME test_openapi_export_answers COMMAND sh -c
         "command -v node >/dev/null || { echo 'SKIP: node is missing'; exit 77; }; exec node \"$0\" \"$@\""
         ${CMAKE_CURRENT_LIST_DIR}/openapi/check.mjs answers ${CMAKE_SOURCE_DIR}/web/openapi.yaml
         ${CMAKE_BINARY_DIR}/openapi/test_export.jsonl)
set_tests_properties(test_openapi_export_answers PROPERTIES FIXTURES_REQUIRED export_answers
                     LABELS db TIMEOUT 60 SKIP_RETURN_CODE 77)
# a 1,000,000-row export (file and feed) under 50 MB of peak RSS, in its own program so
# it runs beside the others; not under the sanitizers, whose shadow memory and pace are
# no export's (the memory test of test_export covers that build)
if(NOT TIPLINE_SANITIZE)
  tl_add_test(NAME test_export_million SOURCES test_export_million.c LIBS tl_common DB
              TIMEOUT 600 LABELS slow)
  # its WAL flood must not recycle the segments test_identity searches (identity.cmake)
  set_tests_properties(test_export_million PROPERTIES RESOURCE_LOCK pg_wal)
endif()
