-- web_report_doc.sql
-- The full report as the API returns it (media with their near-duplicate photos, the
-- first sighting of a photo seen before, follow-ups, the reporter's pseudonymous
-- history), or NULL when the caller may not see it; audits the view. Linked photos of
-- reports the caller may not see are left out, a first sighting's reference too.
CREATE OR REPLACE FUNCTION web_report_doc(p_id bigint, p_ref text, acct text,
                                          decimals integer, audit boolean,
                                          qs text[] DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r reports;
    v_live boolean;
    v_media json;
    n_media integer;
BEGIN
    IF qs IS NULL THEN
        qs := web_queues_for(acct);
    END IF;
    -- By id, else (no id given) by reference, as web_decide.
    IF p_id IS NULL THEN
        SELECT x.id INTO p_id FROM reports x WHERE x.public_ref = p_ref;
    END IF;
    SELECT * INTO r FROM reports x WHERE x.id = p_id AND x.queue = ANY (qs);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF audit THEN
        INSERT INTO audit_log (actor, action, object, after)
        VALUES (acct, 'view', 'report:' || r.id,
                jsonb_build_object('reporter', left(r.reporter, 12)));
    END IF;
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
                      'links', array_to_json(ARRAY(
                          SELECT json_build_object('media_id', o.id, 'url', '/api/media/' || o.id,
                                     'ref', o.public_ref, 'distance', o.distance,
                                     'at', web_iso(o.created_at))
                          FROM (SELECT DISTINCT ON (om.id) om.id, om.created_at, rr.public_ref,
                                    l.distance
                                FROM media_links l
                                JOIN media om ON om.id = CASE WHEN l.media_id = x.id
                                    THEN l.near_media_id ELSE l.media_id END
                                JOIN reports rr ON rr.id = om.report_id
                                WHERE (l.media_id = x.id OR l.near_media_id = x.id)
                                  AND rr.queue = ANY (qs)
                                ORDER BY om.id) o
                          ORDER BY o.distance, o.id LIMIT 20)))
        FROM media x WHERE x.report_id = r.id ORDER BY x.id));
    n_media := json_array_length(v_media);
    RETURN json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status, 'category', r.category,
            'queue', r.queue, 'text', r.text, 'received_at', web_iso(r.received_at),
            'text_display', COALESCE(r.text_display, r.text),
            'links', COALESCE(to_json(r.links), '[]'::json),
            'observed_at', web_iso(r.observed_at), 'point', web_point(r.point, decimals),
            'point_source', r.point_source, 'flags', to_json(r.flags),
            'n_media', n_media, 'corroborations', r.corroborations,
            'incident_id', r.incident_id,
            'incident_corroboration', (SELECT i.corroborations FROM incidents i
                                       WHERE i.id = r.incident_id),
            'priority', r.priority, 'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
            'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END,
            'bearing', r.bearing, 'accuracy_m', r.accuracy_m, 'forwarded', r.forwarded,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'folds', r.folds,
            'seen_before_at', CASE WHEN r.flags @> '{seen_before}'::text[] THEN
                (SELECT web_iso(f.at) FROM web_first_sighting(r.id) f) END,
            'seen_before', CASE WHEN r.flags @> '{seen_before}'::text[] THEN
                (SELECT json_build_object('at', web_iso(f.at),
                            'ref', CASE WHEN f.queue = ANY (qs) THEN f.ref END,
                            'media_id', CASE WHEN f.queue = ANY (qs) THEN f.media_id END)
                 FROM web_first_sighting(r.id) f) END,
            'place_candidates', r.place_candidates, 'media', v_media, 'followups', array_to_json(ARRAY(
                SELECT web_followup_doc(x)
                FROM followups x WHERE x.report_id = r.id ORDER BY x.asked_at, x.id)),
            'reporter', web_reporter_doc(
                (SELECT p FROM reporters p WHERE p.pseudonym = r.reporter), qs, true, r.id))::text;
END
$$;
