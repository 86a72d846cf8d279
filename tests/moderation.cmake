# tests/moderation.cmake - moderation/ (pure): rules and their limits, rules files,
# hygiene, rate-limit maths, campaigns, the verdict; fuzzers for the rules parser and
# the text hygiene.
tl_add_test(NAME test_moderation SOURCES test_moderation.c LIBS tl_moderation)
tl_add_fuzzer(NAME fuzz_mod_rules SOURCES fuzz/fuzz_mod_rules.c LIBS tl_moderation
              SEEDS ${CMAKE_SOURCE_DIR}/deploy/moderation.rules SECONDS 10)
tl_add_fuzzer(NAME fuzz_mod_text SOURCES fuzz/fuzz_mod_text.c LIBS tl_moderation SECONDS 10)
# Moderation at intake played whole: the runtime (and `tipline bot` for SIGHUP and reloads
# through the API) on the fake Bot API and a throwaway PostgreSQL, the analysts' API on
# top; photos for the photo campaign made by tests/support/photogen.c.
tl_add_test(NAME test_mod_intake SOURCES test_mod_intake.c test_mod_intake_campaigns.c
            test_mod_intake_limits.c test_mod_intake_rules.c test_mod_intake_tools.c
            support/botrun.c support/botproc.c
            support/photogen.c support/promhttp.c
            LIBS tl_daemon tl_fakebot tl_web PkgConfig::CURL PkgConfig::CRYPTO PkgConfig::JSONC
            PkgConfig::TURBOJPEG m DB TIMEOUT 600)
