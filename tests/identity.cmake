# tests/identity.cmake - Telegram identities sealed: a scripted run through the real bot
# on the fake Bot API, then pg_dump and the cluster's pg_wal searched for the citizens;
# wrong keys, rotation during a burst, the upgrade of an older database.
tl_add_test(NAME test_identity SOURCES test_identity.c support/botrun.c
            LIBS tl_daemon tl_fakebot PkgConfig::TURBOJPEG m DB TIMEOUT 600)
# test_identity searches the cluster's pg_wal for what its run wrote: a test that floods
# the WAL at the same time (test_export_million's million rows) gets those segments
# recycled and overwritten before the search, so the two never overlap.
set_tests_properties(test_identity PROPERTIES RESOURCE_LOCK pg_wal)
