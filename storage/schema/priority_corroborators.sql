-- priority_corroborators.sql
-- How many distinct other reporters corroborate a report (the corroboration term of the
-- score): its incident's counted reporters (incident_refresh, incident_counts), less its
-- own reporter when that one counts. One definition: the incident's. A report with no
-- incident (no point, or not joined yet) has none.
CREATE OR REPLACE FUNCTION priority_corroborators(w jsonb, p_id bigint, p_reporter text, p_category text,
                                       p_point geography, p_at timestamptz) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((
        SELECT GREATEST(i.corroborations - CASE WHEN EXISTS (
                   SELECT 1 FROM reports o
                   WHERE o.incident_id = i.id AND o.reporter = p_reporter
                     AND incident_counts(o.status, o.reporter)) THEN 1 ELSE 0 END, 0)
        FROM reports r JOIN incidents i ON i.id = r.incident_id WHERE r.id = p_id), 0)
$$;
