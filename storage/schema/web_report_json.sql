-- web_report_json.sql
-- The full report as the API returns it, rendered from the report's row r as the caller
-- has read it (web_report_doc reads it by id or reference; a claim, web_claim, has it
-- from its UPDATE): media with their near-duplicate photos, the first sighting of a
-- photo seen before, follow-ups, the reporter's pseudonymous counters and, with
-- p_recent, history. Linked photos of reports the caller may not see are left out, a
-- first sighting's reference too, and the corroboration is counted over the reports it
-- may see (web_report_seen). qs: the caller's queues (web_queues_for).
CREATE OR REPLACE FUNCTION web_report_json(r reports, decimals integer, qs text[],
                                           p_recent boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_live boolean;
    v_media json;
    n_media integer;
    v_corr record; -- the corroborations the caller sees (web_report_seen)
    v_seen timestamptz; -- the first sighting of a photo seen before
    v_seen_ref text;
    v_seen_queue text;
    v_seen_media bigint;
BEGIN
    -- json, not jsonb: built and printed as text in one pass (the jsonb objects were
    -- sorted, merged with ||, then printed: most of the document's 0.3 ms).
    v_live := r.lease_until > now();
    v_media := array_to_json(ARRAY(
        SELECT json_build_object('id', x.id, 'kind', x.kind,
                      'mime', x.mime, 'width', x.width, 'height', x.height,
                      'duration_ms', x.duration_ms,
                      'url', '/api/media/' || x.id,
                      'photo_point', web_point(x.gps, decimals) - 'rounded',
                      'taken_at', CASE WHEN x.taken_offset_min IS NOT NULL THEN
                          to_char(x.taken_local - x.taken_offset_min * interval '1 minute',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                          ELSE to_char(x.taken_local, 'YYYY-MM-DD"T"HH24:MI:SS') END,
                      'links', web_media_links(x.id, qs))
        FROM media x WHERE x.report_id = r.id ORDER BY x.id));
    n_media := json_array_length(v_media);
    -- a plain call: a subquery in the document's expression would start its plan for
    -- every report
    v_corr := web_report_seen(r, qs);
    IF r.flags @> '{seen_before}'::text[] THEN
        SELECT f.at, f.ref, f.queue, f.media_id INTO v_seen, v_seen_ref, v_seen_queue, v_seen_media
        FROM web_first_sighting(r.id) f;
    END IF;
    RETURN json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status, 'category', r.category,
            'queue', r.queue, 'text', r.text, 'received_at', web_iso(r.received_at),
            'text_display', COALESCE(r.text_display, r.text),
            'links', COALESCE(to_json(r.links), '[]'::json),
            'observed_at', web_iso(r.observed_at), 'point', web_point(r.point, decimals),
            'point_source', r.point_source, 'flags', to_json(r.flags),
            'n_media', n_media, 'corroborations', v_corr.c,
            'incident_id', r.incident_id,
            'incident_corroboration', v_corr.ic,
            'priority', r.priority, 'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
            'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END,
            'bearing', r.bearing, 'accuracy_m', r.accuracy_m, 'forwarded', r.forwarded,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'folds', r.folds,
            'seen_before_at', web_iso(v_seen),
            'seen_before', CASE WHEN v_seen IS NOT NULL THEN
                json_build_object('at', web_iso(v_seen),
                                  'ref', CASE WHEN v_seen_queue = ANY (qs) THEN v_seen_ref END,
                                  'media_id', CASE WHEN v_seen_queue = ANY (qs) THEN v_seen_media END)
                END,
            'place_candidates', r.place_candidates, 'media', v_media, 'followups', array_to_json(ARRAY(
                SELECT web_followup_doc(x)
                FROM followups x WHERE x.report_id = r.id ORDER BY x.asked_at, x.id)),
            'reporter', web_reporter_doc(
                (SELECT p FROM reporters p WHERE p.pseudonym = r.reporter), qs, p_recent,
                r.id))::text;
END
$$;
