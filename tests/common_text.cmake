# tests/common_text.cmake - common/'s checks of outside text: the UTF-8 check against a
# reference decoder, and the log's logfmt quoting (no database).
tl_add_test(NAME test_common_text SOURCES test_common_text.c LIBS tl_common)
