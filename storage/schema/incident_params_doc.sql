-- incident_params_doc.sql
-- The incident join's tuning (incident_params) as one jsonb object.
CREATE OR REPLACE FUNCTION incident_params_doc() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT COALESCE(jsonb_object_agg(key, value), '{}'::jsonb) FROM incident_params
$$;
