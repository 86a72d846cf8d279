-- incident_fuse.sql
-- Stores on an incident of a moving target (a category incident_categories marks moving)
-- the position fused from its members' bearings: one line per counted reporter (their
-- latest report with a point and a bearing). Why in SQL and not in geo/: the estimate
-- changes with the membership, and membership changes in SQL functions only (the join
-- in the storing transaction, a merge, a split, a decision's refresh), each under the
-- incident's row lock; here it is recomputed in that same transaction, with no
-- read-compute-write round trip from C in each of those paths.
CREATE OR REPLACE FUNCTION incident_fuse(p_inc bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ip jsonb := incident_params_doc();
    f record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM incidents i JOIN incident_categories c
                   ON c.category = ANY (i.categories) AND c.moving WHERE i.id = p_inc) THEN
        UPDATE incidents SET fused = NULL, fused_uncertainty_m = NULL, fused_lines = 0
        WHERE id = p_inc AND (fused IS NOT NULL OR fused_lines <> 0);
        RETURN;
    END IF;
    SELECT l.* INTO f FROM (
        SELECT array_agg(ST_Y(b.point::geometry)) AS la, array_agg(ST_X(b.point::geometry)) AS lo,
               array_agg(b.accuracy_m) AS ac, array_agg(b.bearing) AS br
        FROM (SELECT DISTINCT ON (m.reporter) m.point, m.accuracy_m, m.bearing
              FROM reports m
              WHERE m.incident_id = p_inc AND m.bearing IS NOT NULL AND m.point IS NOT NULL
                AND incident_counts(m.status, m.reporter)
              ORDER BY m.reporter, m.id DESC) b) a,
        incident_fuse_lines(a.la, a.lo, a.ac, a.br, (ip ->> 'bearing_sigma_deg')::float8,
                            (ip ->> 'fuse_min_angle_deg')::float8,
                            (ip ->> 'fuse_max_range_m')::float8) l;
    UPDATE incidents SET
        fused = CASE WHEN f.lat IS NOT NULL
                     THEN ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326)::geography END,
        fused_uncertainty_m = f.uncertainty_m, fused_lines = f.lines
    WHERE id = p_inc;
END
$$;
