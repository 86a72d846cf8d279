# tests/ops.cmake - operations: the standby poller on real processes, health and metrics, webhook
# intake, retention, systemd notifications, backup and restore.
tl_add_test(NAME test_standby SOURCES test_standby.c support/botproc.c LIBS tl_fakebot DB TIMEOUT 600)
tl_add_test(NAME test_metrics SOURCES test_metrics.c support/botrun.c support/promhttp.c LIBS tl_daemon tl_fakebot tl_web PkgConfig::CURL PkgConfig::CRYPTO DB TIMEOUT 300)
tl_add_test(NAME test_webhook SOURCES test_webhook.c support/botproc.c support/promhttp.c LIBS tl_fakebot PkgConfig::CURL Threads::Threads DB TIMEOUT 600)
tl_add_test(NAME test_purge SOURCES test_purge.c DB)
tl_add_test(NAME test_notify SOURCES test_notify.c support/botproc.c LIBS tl_fakebot DB)
tl_add_test(NAME test_backup SOURCES test_backup.c support/botproc.c LIBS tl_fakebot PkgConfig::JSONC DB TIMEOUT 300)
tl_add_test(NAME test_replica SOURCES test_replica.c support/promhttp.c LIBS tl_web PkgConfig::CURL PkgConfig::CRYPTO DB TIMEOUT 300)
tl_add_test(NAME test_bot_metrics SOURCES test_bot_metrics.c support/botproc.c support/promhttp.c LIBS tl_web tl_fakebot PkgConfig::CURL PkgConfig::JSONC PkgConfig::TURBOJPEG PkgConfig::EXIF m DB TIMEOUT 300)
# deploy/setup.sh install, as root, in a mount namespace over an overlay of / (nothing stays)
add_test(NAME test_install COMMAND ${CMAKE_SOURCE_DIR}/tests/test_install.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(test_install PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS "root")
