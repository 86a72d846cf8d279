-- web_first_sighting.sql
-- The earliest photo that a photo of report p_report is linked to (media_links): its
-- first sighting, what a "seen_before" flag points at; with its report's reference and
-- queue, for the caller to show only what it may see.
CREATE OR REPLACE FUNCTION web_first_sighting(p_report bigint, OUT media_id bigint,
                                              OUT ref text, OUT queue text,
                                              OUT at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT o.id, r.public_ref, r.queue, o.created_at
    FROM media m
    JOIN media_links l ON l.media_id = m.id
    JOIN media o ON o.id = l.near_media_id
    JOIN reports r ON r.id = o.report_id
    WHERE m.report_id = p_report
    ORDER BY o.created_at, o.id
    LIMIT 1
$$;
