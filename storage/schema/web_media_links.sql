-- web_media_links.sql
-- A photo's near-duplicates as the full report lists them (the 20 nearest, then by id),
-- leaving out those of reports in queues the caller may not see (qs). Its own function
-- so that a report without media never starts this query's plan (web_report_doc).
CREATE OR REPLACE FUNCTION web_media_links(p_media bigint, qs text[]) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN array_to_json(ARRAY(
        SELECT json_build_object('media_id', o.id, 'url', '/api/media/' || o.id,
                                 'ref', o.public_ref, 'distance', o.distance,
                                 'at', web_iso(o.created_at))
        FROM (SELECT DISTINCT ON (om.id) om.id, om.created_at, rr.public_ref, l.distance
              FROM media_links l
              JOIN media om ON om.id = CASE WHEN l.media_id = p_media
                  THEN l.near_media_id ELSE l.media_id END
              JOIN reports rr ON rr.id = om.report_id
              WHERE (l.media_id = p_media OR l.near_media_id = p_media)
                AND rr.queue = ANY (qs)
              ORDER BY om.id) o
        ORDER BY o.distance, o.id LIMIT 20));
END
$$;
