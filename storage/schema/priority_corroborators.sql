-- priority_corroborators.sql
-- How many distinct other reporters corroborate a report (the corroboration term of the
-- score): its incident's counted reporters (incident_refresh, incident_counts), less its
-- own reporter when that one counts. One definition: the incident's. A report with no
-- incident (no point, or not joined yet) has none.
-- Only the members that everyone who sees the report may see count: those in unrestricted
-- queues and in the report's own queue. A report's score is shown to every analyst of its
-- queue, so it must not move with reports in a restricted queue they are kept out of
-- (what the document shows is recounted per account: web_report_seen). When the
-- incident's queues (incidents.queues) hold no other restricted queue, the common case,
-- that is the incident's stored count (queues_seen_with, web_incident_hides).
CREATE OR REPLACE FUNCTION priority_corroborators(w jsonb, p_id bigint, p_reporter text, p_category text,
                                       p_point geography, p_at timestamptz) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_inc bigint;
    v_c integer;
    v_queue text;
    v_queues text[];
    seen text[];
    every boolean; -- every member counts: the stored count
BEGIN
    SELECT i.id, i.corroborations, r.queue, i.queues INTO v_inc, v_c, v_queue, v_queues
    FROM reports r JOIN incidents i ON i.id = r.incident_id WHERE r.id = p_id;
    IF v_inc IS NULL THEN
        RETURN 0;
    END IF;
    seen := queues_seen_with(v_queue);
    every := NOT web_incident_hides(v_queues, seen);
    IF NOT every THEN
        SELECT s.c INTO v_c FROM incident_sum(v_inc, seen) s;
    END IF;
    RETURN GREATEST(v_c - CASE WHEN EXISTS (
               SELECT 1 FROM reports o
               WHERE o.incident_id = v_inc AND o.reporter = p_reporter
                 AND (every OR o.queue = ANY (seen))
                 AND incident_counts(o.status, o.reporter)) THEN 1 ELSE 0 END, 0);
END
$$;
