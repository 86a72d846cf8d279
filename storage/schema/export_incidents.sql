-- export_incidents.sql
-- The incidents an exporter may read, in id order, as OGC API - Features publishes them:
-- the centroid, the categories, how many independent people corroborate, how many
-- reports and their time span, and the position fused from bearings when there is one;
-- never a reporter. An incident merged into another is gone from the feed (its members
-- count in the one it joined). acct NULL: every incident; else only those with a member
-- in a queue acct may see, as acct sees it (web_incident_seen: counted over the members
-- in its queues). decimals NULL: exact points, else rounded (the centroid and
-- the fused position both). The time filter keeps incidents whose span
-- [first_seen, last_seen] meets [p_since, p_until) (both the same: spans that hold that
-- instant). lim NULL: no limit; p_id: that incident only.
CREATE OR REPLACE FUNCTION export_incidents(acct text, p_since timestamptz,
    p_until timestamptz, after_id bigint, w float8, s float8, e float8, n float8,
    decimals integer, lim bigint, p_id bigint)
RETURNS TABLE (id bigint, categories text[], corroborations integer, n_reports integer,
    first_seen timestamptz, last_seen timestamptz, lon text, lat text, fused_lon text,
    fused_lat text, fused_uncertainty_m float8)
LANGUAGE sql STABLE AS $$
    SELECT i.id, i.categories, i.corroborations, i.n_reports, i.first_seen, i.last_seen,
        CASE WHEN decimals IS NULL THEN ST_X(i.centroid::geometry)::text
             ELSE round(ST_X(i.centroid::geometry)::numeric, decimals)::text END,
        CASE WHEN decimals IS NULL THEN ST_Y(i.centroid::geometry)::text
             ELSE round(ST_Y(i.centroid::geometry)::numeric, decimals)::text END,
        CASE WHEN i.fused IS NULL THEN NULL
             WHEN decimals IS NULL THEN ST_X(i.fused::geometry)::text
             ELSE round(ST_X(i.fused::geometry)::numeric, decimals)::text END,
        CASE WHEN i.fused IS NULL THEN NULL
             WHEN decimals IS NULL THEN ST_Y(i.fused::geometry)::text
             ELSE round(ST_Y(i.fused::geometry)::numeric, decimals)::text END,
        CASE WHEN i.fused IS NOT NULL THEN i.fused_uncertainty_m END
    FROM incidents i0
    CROSS JOIN LATERAL web_incident_seen(i0, CASE WHEN acct IS NOT NULL THEN
                                             ARRAY(SELECT unnest(web_queues_for(acct))) END) i
    WHERE i0.merged_into IS NULL AND i0.centroid IS NOT NULL
      AND (acct IS NULL OR EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = i0.id
           AND r.queue = ANY (ARRAY(SELECT unnest(web_queues_for(acct))))))
      AND (p_id IS NULL OR i0.id = p_id)
      AND (p_until IS NULL OR i0.first_seen < p_until
           OR (p_since = p_until AND i0.first_seen <= p_until))
      AND (p_since IS NULL OR i0.last_seen >= p_since)
      AND (after_id IS NULL OR i0.id > after_id)
      AND (w IS NULL OR i0.centroid::geometry && ST_MakeEnvelope(w, s, e, n, 4326))
      -- the same on what acct sees of it (a span within the stored one; a centroid that
      -- may lie elsewhere, found when the stored one is in the box too)
      AND i.centroid IS NOT NULL
      AND (p_until IS NULL OR i.first_seen < p_until
           OR (p_since = p_until AND i.first_seen <= p_until))
      AND (p_since IS NULL OR i.last_seen >= p_since)
      AND (w IS NULL OR i.centroid::geometry && ST_MakeEnvelope(w, s, e, n, 4326))
    ORDER BY i.id
    LIMIT lim
$$;
