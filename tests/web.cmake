# tests/web.cmake - the analysts' HTTP API (web/) against the throwaway PostgreSQL,
# and the fuzzer of its request parsers.
tl_add_test(NAME test_web SOURCES test_web.c test_web_routes.c test_web_auth.c test_web_claims.c
            test_web_live.c test_web_reports.c test_web_input.c test_web_procs.c test_web_decide.c
            LIBS tl_web tl_fakebot PkgConfig::CURL PkgConfig::TURBOJPEG PkgConfig::EXIF PkgConfig::PQ Threads::Threads m
            DB TIMEOUT 300)
tl_add_fuzzer(NAME fuzz_web_request SOURCES fuzz/fuzz_web_request.c LIBS tl_web
              SEEDS ${CMAKE_CURRENT_LIST_DIR}/fuzz/seeds_web)
