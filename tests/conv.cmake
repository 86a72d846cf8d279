# tests/conv.cmake - the citizen conversation (issue 5): whole conversations on the fake
# Bot API and the throwaway PostgreSQL (label db), and the parsers of what citizens and
# buttons send, fuzzed.
tl_add_test(NAME test_conv SOURCES test_conv.c
            LIBS tl_handlers tl_fakebot PkgConfig::EXIF PkgConfig::TURBOJPEG m DB TIMEOUT 600)
