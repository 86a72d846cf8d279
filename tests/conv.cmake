# tests/conv.cmake - the citizen conversation: whole conversations on the fake
# Bot API and the throwaway PostgreSQL (label db), and the parsers of what citizens and
# buttons send, fuzzed.
tl_add_test(NAME test_conv SOURCES test_conv.c test_conv_media.c support/botrun.c
            LIBS tl_daemon tl_fakebot PkgConfig::EXIF PkgConfig::TURBOJPEG m DB TIMEOUT 600)
# The seeds (callback data, typed times and directions, a draft, updates) live in the
# kept corpus tests/fuzz/corpus/fuzz_conv_input/; the bot's update seeds join them.
tl_add_fuzzer(NAME fuzz_conv_input SOURCES fuzz/fuzz_conv_input.c LIBS tl_handlers tl_bot SECONDS 20
              SEEDS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/fuzz_tg_update)
tl_add_test(NAME test_conv_parse SOURCES test_conv_parse.c LIBS tl_handlers tl_bot m)
