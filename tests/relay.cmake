# tests/relay.cmake - the relay between analysts and citizens (daemon/relay.c,
# storage/store_relay.c) on the fake Bot API and a throwaway PostgreSQL.
tl_add_test(NAME test_relay SOURCES test_relay.c support/botrun.c LIBS tl_daemon tl_fakebot DB TIMEOUT 300)
