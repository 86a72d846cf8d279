-- 0034_incident_queues.sql - an incident row lists the queues its members sit in.
--
-- Why: what an incident shows an account that is kept out of a restricted queue is
-- recomputed over the members it may see (web_incident_seen, web_report_seen), and the
-- test for that ran over the incident's members on every report document: the claim of a
-- member of a 1,333-report incident read all 1,333 (and their dead index entries), 4.6 M
-- instructions of a decide-then-next pair's 8.1 M (bench/triage/callgrind.sh). With the
-- queues on the row the test is `queues <@` the account's queues, one row already read.
-- The list is exact after incident_refresh (merges, splits, decisions, bans) and grows as
-- members join (incident_join) or are routed to another queue (reports_incident_queues);
-- between refreshes it may still name a queue no member is in any more, which costs only
-- a recount, never a leak.
ALTER TABLE incidents ADD COLUMN queues text[] DEFAULT '{}'::text[] NOT NULL;

UPDATE incidents i
SET queues = ARRAY(SELECT DISTINCT r.queue FROM reports r WHERE r.incident_id = i.id
                   ORDER BY 1)
WHERE EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = i.id);
