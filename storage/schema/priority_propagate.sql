-- priority_propagate.sql
-- A report that gains or loses a point (a decision rejected it, or took the rejection
-- back) changes the corroboration of its incident and so of the incident's members:
-- the incident is refreshed (delta's sign no longer matters; the count is recomputed).
CREATE OR REPLACE FUNCTION priority_propagate(w jsonb, p_id bigint, p_reporter text, p_category text,
                                   p_point geography, p_at timestamptz, delta integer)
RETURNS integer
LANGUAGE sql AS $$
    SELECT COALESCE((SELECT incident_refresh(r.incident_id) FROM reports r
                     WHERE r.id = p_id AND r.incident_id IS NOT NULL), 0)
$$;
