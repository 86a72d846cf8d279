# tests/priority.cmake - the queue's priority score (migration 0007, storage/store_priority.c,
# `tipline priority`) against the throwaway PostgreSQL (label db).
tl_add_test(NAME test_priority SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_priority.c ${CMAKE_CURRENT_LIST_DIR}/support/storedb.c
            LIBS tl_storage DB)
