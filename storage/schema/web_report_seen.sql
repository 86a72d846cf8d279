-- web_report_seen.sql
-- A report's corroboration as an account sees it (qs: web_queues_for; NULL: every queue):
-- c, its own (the distinct other counted reporters of its incident), and ic, its
-- incident's (NULL without one). When the incident has members in queues the account may
-- not see, both are counted over the members it sees (incident_sum, as web_incident_seen
-- counts the incident), never more than stored; else, the common case, the stored
-- figures. So a report's view and list item do not tell how many reporters sit in a queue
-- the account is kept out of.
CREATE OR REPLACE FUNCTION web_report_seen(r reports, qs text[], OUT c integer, OUT ic integer)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_queues text[];
BEGIN
    c := r.corroborations;
    IF r.incident_id IS NULL THEN
        RETURN;
    END IF;
    SELECT i.corroborations, i.queues INTO ic, v_queues
    FROM incidents i WHERE i.id = r.incident_id;
    IF NOT web_incident_hides(v_queues, qs) THEN
        RETURN;
    END IF;
    SELECT s.c INTO ic FROM incident_sum(r.incident_id, qs) s;
    -- less its own reporter when that one counts among the members seen, as
    -- priority_corroborators takes it from the stored figure
    c := LEAST(c, GREATEST(ic - CASE WHEN EXISTS (
                   SELECT 1 FROM reports o
                   WHERE o.incident_id = r.incident_id AND o.reporter = r.reporter
                     AND o.queue = ANY (qs) AND incident_counts(o.status, o.reporter))
                   THEN 1 ELSE 0 END, 0));
END
$$;
