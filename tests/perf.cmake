# tests/perf.cmake - intake throughput (perf part): a chat's common conversation updates
# held by storage and written in one statement (store_conv_defer), against the
# throwaway PostgreSQL (label db).
tl_add_test(NAME test_conv_batch SOURCES test_conv_batch.c LIBS tl_storage DB)
