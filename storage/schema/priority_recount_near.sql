-- priority_recount_near.sql
-- Recounts the reports that share an incident with one report (its reporter was banned
-- or unbanned).
CREATE OR REPLACE FUNCTION priority_recount_near(w jsonb, p_id bigint, p_reporter text,
                                      p_category text, p_point geography, p_at timestamptz)
RETURNS integer
LANGUAGE sql AS $$
    SELECT COALESCE((SELECT incident_refresh(r.incident_id) FROM reports r
                     WHERE r.id = p_id AND r.incident_id IS NOT NULL), 0)
$$;
