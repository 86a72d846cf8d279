-- 0003: queue claims that stay fast whatever the backlog.
--
-- A queue's size swings from empty to a burst of thousands within a session. A plan
-- cached while the inbox was empty (a sequential scan and a sort) stays in use for the
-- session and costs milliseconds per claim once the burst arrives (measured: 6.2 ms a
-- claim during a 20,000-update burst, 0.37 ms once planned per call): plan each call.
-- The outbox claim is planned per call by storage/ for the same reason.
ALTER FUNCTION inbox_claim_chat(bigint[]) SET plan_cache_mode = force_custom_plan;
