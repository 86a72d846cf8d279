-- web_incident_summary.sql
-- An incident as a list item of the API.
CREATE OR REPLACE FUNCTION web_incident_summary(i incidents, decimals integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'categories', to_jsonb(i.categories),
        'corroboration', i.corroborations, 'n_reports', i.n_reports,
        'first_seen', web_iso(i.first_seen), 'last_seen', web_iso(i.last_seen),
        'centroid', web_point(i.centroid, decimals), 'merged_into', i.merged_into,
        'fused', CASE WHEN i.fused IS NOT NULL THEN
            web_point(i.fused, decimals) || jsonb_build_object(
                'uncertainty_m', round(i.fused_uncertainty_m::numeric, 1),
                'lines', i.fused_lines) END)
$$;
