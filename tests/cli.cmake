# tests/cli.cmake - cli/: the option table (parsing, errors, generated --help). The
# commands themselves are run as the tipline binary by the tests of their modules.
tl_add_test(NAME test_cli SOURCES test_cli.c ${CMAKE_SOURCE_DIR}/cli/opt.c LIBS tl_common)
