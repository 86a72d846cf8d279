-- incident_sum.sql
-- What an incident row summarises, from its members: their count, the distinct counted
-- reporters (its corroboration, incident_counts), the mean of their points (the
-- centroid), their time span, their categories and their queues. qs NULL: every member;
-- else only the members in those queues (what an account may see, web_incident_seen).
DROP FUNCTION IF EXISTS incident_sum(bigint, text[]);
CREATE FUNCTION incident_sum(p_inc bigint, qs text[])
RETURNS TABLE (n integer, c integer, centroid geography, t0 timestamptz, t1 timestamptz,
               cats text[], queues text[])
LANGUAGE sql STABLE AS $$
    WITH m AS (SELECT q.*, incident_counts(q.status, q.reporter) AS counts
               FROM reports q
               WHERE q.incident_id = p_inc AND (qs IS NULL OR q.queue = ANY (qs)))
    SELECT count(*)::integer,
           count(DISTINCT m.reporter) FILTER (WHERE m.counts)::integer,
           ST_SetSRID(ST_MakePoint(avg(ST_X(m.point::geometry)), avg(ST_Y(m.point::geometry))),
                      4326)::geography,
           min(COALESCE(m.observed_at, m.received_at)),
           max(COALESCE(m.observed_at, m.received_at)),
           COALESCE(array_agg(DISTINCT COALESCE(m.category, 'other')), '{}'),
           COALESCE(array_agg(DISTINCT m.queue), '{}')
    FROM m
$$;
