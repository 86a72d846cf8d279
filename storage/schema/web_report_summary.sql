-- web_report_summary.sql
-- A report as a list item of the API; text: its start as displayed (controls and bidi
-- overrides neutralised; the raw text is the report's own document); seen_before_at:
-- when its photo was first seen, for a report flagged so (web_first_sighting). qs: the
-- caller's queues (web_queues_for): its corroboration and its incident's are those the
-- caller sees (web_report_seen).
DROP FUNCTION IF EXISTS web_report_summary(reports, integer);
CREATE OR REPLACE FUNCTION web_report_summary(r reports, decimals integer, qs text[])
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_n_media bigint;
    v_live boolean := r.lease_until > now();
    v record := web_report_seen(r, qs);
BEGIN
    SELECT count(*) INTO v_n_media FROM media m WHERE m.report_id = r.id;
    RETURN jsonb_build_object('id', r.id, 'ref', r.public_ref, 'status', r.status,
        'category', r.category, 'queue', r.queue,
        'text', left(COALESCE(r.text_display, r.text), 200),
        'received_at', web_iso(r.received_at), 'observed_at', web_iso(r.observed_at),
        'point', web_point(r.point, decimals), 'point_source', r.point_source,
        'flags', to_jsonb(r.flags), 'n_media', v_n_media,
        'corroborations', v.c, 'priority', r.priority,
        'incident_id', r.incident_id, 'incident_corroboration', v.ic,
        'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
        'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END,
        'folds', r.folds,
        'seen_before_at', CASE WHEN r.flags @> '{seen_before}'::text[] THEN
            (SELECT web_iso(f.at) FROM web_first_sighting(r.id) f) END);
END
$$;
