# tests/ops.cmake - operations: the standby poller on real processes.
tl_add_test(NAME test_standby SOURCES test_standby.c LIBS tl_fakebot DB TIMEOUT 600)
