# tests/web.cmake - the analysts' HTTP API (web/) against the throwaway PostgreSQL,
# and the fuzzer of its request parsers.
tl_add_test(NAME test_web SOURCES test_web.c
            LIBS tl_web tl_fakebot PkgConfig::CURL PkgConfig::TURBOJPEG PkgConfig::EXIF PkgConfig::PQ Threads::Threads m
            DB TIMEOUT 300)
tl_add_fuzzer(NAME fuzz_web_request SOURCES fuzz/fuzz_web_request.c LIBS tl_web
              SEEDS ${CMAKE_CURRENT_LIST_DIR}/fuzz/seeds_web)
