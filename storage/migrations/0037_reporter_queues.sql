-- 0037_reporter_queues.sql - a reporter row lists the queues its reports sit in.
--
-- Why: a reporter's counters (reports, confirmed, rejected) shown to an account leave out
-- the reports in queues the account may not see (web_reporter_doc), and that count read
-- every report of the reporter on every claimed report and decision, a heap fetch each
-- for the queue: a prolific reporter's hundreds. Three reporters in four never report in
-- a restricted queue; with the queues on the row, their counters are the stored ones
-- after one array test. The list only grows (a new report: reports_route; a report routed
-- to another queue: reports_queue_moved); a queue no report of the reporter is in any
-- more costs a count, never a leak.
ALTER TABLE reporters ADD COLUMN queues text[] DEFAULT '{}'::text[] NOT NULL;

UPDATE reporters p SET queues = q.queues
FROM (SELECT r.reporter, array_agg(DISTINCT r.queue ORDER BY r.queue) AS queues
      FROM reports r WHERE r.reporter IS NOT NULL GROUP BY r.reporter) q
WHERE q.reporter = p.pseudonym;
