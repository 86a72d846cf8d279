tl_add_test(NAME test_handlers SOURCES test_handlers.c LIBS tl_handlers tl_bot tl_geo tl_media PkgConfig::EXIF PkgConfig::TURBOJPEG m)
tl_add_test(NAME test_intake SOURCES test_intake.c support/botrun.c support/botproc.c LIBS tl_daemon tl_fakebot DB TIMEOUT 600)
