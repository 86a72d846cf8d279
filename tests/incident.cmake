# tests/incident.cmake - reports joined into incidents in the storing transaction,
# corroboration, merge and split, bearings fused (migration 0024, storage/schema/incident_*)
# against the throwaway PostgreSQL (label db).
tl_add_test(NAME test_incident SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_incident.c ${CMAKE_CURRENT_LIST_DIR}/support/storedb.c
            ${CMAKE_CURRENT_LIST_DIR}/support/botrun.c
            LIBS tl_daemon tl_fakebot tl_storage Threads::Threads m DB TIMEOUT 600)
