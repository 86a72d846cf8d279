# tests/dedup.cmake - duplicates through the real intake (folding, near-duplicate photo
# links, "seen before") on the fake Bot API and the throwaway PostgreSQL, with photos
# and their variants made by tests/support/photogen.c.
tl_add_test(NAME test_dedup SOURCES test_dedup.c support/botrun.c support/photogen.c
            LIBS tl_daemon tl_fakebot tl_media PkgConfig::TURBOJPEG m DB TIMEOUT 600)
