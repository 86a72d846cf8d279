# tests/storage.cmake - storage/ against the throwaway PostgreSQL (label db).
#
# Until cli/ provides `tipline migrate` in a tree, a small stand-in migrates the
# template database and the pg fixture is registered here with it.
add_executable(tl_migrate_tool ${CMAKE_CURRENT_LIST_DIR}/storage_migrate_tool.c)
target_link_libraries(tl_migrate_tool PRIVATE tl_storage)
if(NOT TARGET tipline AND NOT TEST pg_start)
  add_test(NAME pg_start COMMAND ${CMAKE_SOURCE_DIR}/tests/pgtmp.sh start ${TL_PG_STATE}
           $<TARGET_FILE:tl_migrate_tool>)
  set_tests_properties(pg_start PROPERTIES FIXTURES_SETUP pg LABELS db)
  add_test(NAME pg_stop COMMAND ${CMAKE_SOURCE_DIR}/tests/pgtmp.sh stop ${TL_PG_STATE})
  set_tests_properties(pg_stop PROPERTIES FIXTURES_CLEANUP pg LABELS db)
endif()

tl_add_test(NAME test_storage SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_storage.c
            ${CMAKE_CURRENT_LIST_DIR}/test_storage_migrate.c ${CMAKE_CURRENT_LIST_DIR}/test_storage_intake.c
            ${CMAKE_CURRENT_LIST_DIR}/test_storage_apply.c ${CMAKE_CURRENT_LIST_DIR}/test_storage_outbox.c
            ${CMAKE_CURRENT_LIST_DIR}/test_storage_triage.c
            LIBS tl_storage Threads::Threads DB)

# Not a test: prints store_apply throughput (updates/s).
add_executable(tl_storage_bench ${CMAKE_CURRENT_LIST_DIR}/test_storage_bench.c)
target_link_libraries(tl_storage_bench PRIVATE tl_storage tl_testsupport Threads::Threads)

# The upgrade from a database the migrations 0001-0017 built (tests/fixtures/) to the baseline
# and the schema files: rows kept, schema equal to a fresh one, read through the API.
if(TARGET tipline)
  add_test(NAME test_migrate_upgrade COMMAND ${CMAKE_CURRENT_LIST_DIR}/test_migrate_upgrade.sh)
  set_tests_properties(test_migrate_upgrade PROPERTIES FIXTURES_REQUIRED pg LABELS db TIMEOUT 300
                       ENVIRONMENT "${TL_TEST_ENV}")
endif()
