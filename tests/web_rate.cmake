# tests/web_rate.cmake - web/rate.c's limiter called directly: no server, no database.
tl_add_test(NAME test_web_rate SOURCES test_web_rate.c LIBS tl_web Threads::Threads)
