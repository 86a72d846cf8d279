-- web_incidents_list.sql
-- The open incidents an account may see (one member in its queues at least), as it sees
-- them (web_incident_seen: counted over the members it sees, never more than stored), the
-- most corroborated first, then the latest; p_min: the least corroboration listed.
CREATE OR REPLACE FUNCTION web_incidents_list(acct text, decimals integer, p_min integer,
                                              p_limit integer) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('incidents', COALESCE(jsonb_agg(web_incident_summary(x, decimals)
                                                   ORDER BY x.corroborations DESC,
                                                            x.last_seen DESC, x.id DESC), '[]'))::text
    FROM (SELECT v.* FROM incidents i
          CROSS JOIN (SELECT web_queues_for(acct) AS qs) q
          CROSS JOIN LATERAL web_incident_seen(i, q.qs) v
          WHERE i.merged_into IS NULL AND i.corroborations >= p_min
            AND EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = i.id
                        AND r.queue = ANY (q.qs))
            AND v.corroborations >= p_min
          ORDER BY v.corroborations DESC, v.last_seen DESC, v.id DESC
          LIMIT p_limit) x
$$;
