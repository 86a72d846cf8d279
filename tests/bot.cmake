# tests/bot.cmake - the Bot API client, poller, sender and update parser against the
# fake Bot API server on loopback (no database).
tl_add_test(NAME test_bot SOURCES test_bot.c test_bot_loops.c test_bot_update.c LIBS tl_bot tl_fakebot TIMEOUT 120)
tl_add_fuzzer(NAME fuzz_tg_update SOURCES fuzz/fuzz_tg_update.c LIBS tl_bot
              SEEDS ${TL_SHARED_DIR}/telegram)
# The sender whole (runtime's outbox sink, storage's claim, calls in flight) against
# the fake answering after a delay with 429s sprinkled in, on a throwaway PostgreSQL.
tl_add_test(NAME test_sender SOURCES test_sender.c support/botrun.c LIBS tl_daemon tl_fakebot
            DB TIMEOUT 120)
