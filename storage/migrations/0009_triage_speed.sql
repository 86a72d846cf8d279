-- 0009: the analysts' claim -> decide path (bench/triage, issue 6).
--
-- The report documents of 0006 were SQL functions: not inlinable (they hold sub-selects
-- and take a whole row), so every call planned their body again (2.5-7 ms per full
-- report on an idle database). The same documents from PL/pgSQL, whose statements keep
-- their plans for the session. Same keys, same values: tests/test_web.c checks them.

CREATE OR REPLACE FUNCTION web_report_summary(r reports, decimals integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_n_media bigint;
    v_live boolean := r.lease_until > now();
BEGIN
    SELECT count(*) INTO v_n_media FROM media m WHERE m.report_id = r.id;
    RETURN jsonb_build_object('id', r.id, 'ref', r.public_ref, 'status', r.status,
        'category', r.category, 'queue', r.queue, 'text', left(r.text, 200),
        'received_at', web_iso(r.received_at), 'observed_at', web_iso(r.observed_at),
        'point', web_point(r.point, decimals), 'point_source', r.point_source,
        'flags', to_jsonb(r.flags), 'n_media', v_n_media,
        'corroborations', r.corroborations, 'priority', r.priority,
        'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
        'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END);
END
$$;

-- The reporter appears by the first 12 hex digits of the pseudonym, never by a chat id.
CREATE OR REPLACE FUNCTION web_report_full(r reports, decimals integer) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_media jsonb;
    v_followups jsonb;
    v_reporter jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('id', m.id, 'kind', m.kind,
            'mime', m.mime, 'width', m.width, 'height', m.height,
            'url', '/api/media/' || m.id,
            'photo_point', web_point(m.gps, decimals) - 'rounded',
            'taken_at', CASE WHEN m.taken_offset_min IS NOT NULL THEN
                to_char(m.taken_local - m.taken_offset_min * interval '1 minute',
                        'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                ELSE to_char(m.taken_local, 'YYYY-MM-DD"T"HH24:MI:SS') END)
            ORDER BY m.id)
        INTO v_media FROM media m WHERE m.report_id = r.id;
    SELECT jsonb_agg(jsonb_build_object('id', f.id,
            'question', f.question, 'asked_by', f.asked_by, 'asked_at', web_iso(f.asked_at),
            'relayed_at', web_iso(f.relayed_at), 'relay_error', f.relay_error,
            'answer', f.answer, 'answered_at', web_iso(f.answered_at))
            ORDER BY f.asked_at, f.id)
        INTO v_followups FROM followups f WHERE f.report_id = r.id;
    SELECT jsonb_build_object('pseudonym', left(p.pseudonym, 12),
            'n_reports', p.n_reports, 'n_confirmed', p.n_confirmed,
            'n_rejected', p.n_rejected, 'reputation', p.reputation, 'banned', p.banned)
        INTO v_reporter FROM reporters p WHERE p.pseudonym = r.reporter;
    RETURN web_report_summary(r, decimals) || jsonb_build_object(
        'text', r.text, 'bearing', r.bearing, 'accuracy_m', r.accuracy_m,
        'forwarded', r.forwarded, 'decided_by', r.decided_by,
        'decided_at', web_iso(r.decided_at), 'note', r.note, 'duplicate_of', r.duplicate_of,
        'media', COALESCE(v_media, '[]'::jsonb),
        'followups', COALESCE(v_followups, '[]'::jsonb),
        'reporter', v_reporter);
END
$$;

-- The list's and the map's bounding box (store_web.c: r.point::geometry && envelope)
-- had no index on that expression: 560 ms for status=new bbox=Kyiv on 1,000,000 reports.
CREATE INDEX reports_point_geom ON reports USING gist ((point::geometry));

-- The queues an account may see: called 5 times per claim+decide pair (the claim, the
-- decide's checks, both full reports), planned again on each call as a SQL function.
CREATE OR REPLACE FUNCTION web_queues_for(acct text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(array_agg(q.name ORDER BY q.name), '{}') FROM queues q
        WHERE NOT q.restricted
           OR EXISTS (SELECT 1 FROM accounts a WHERE a.name = acct AND a.role = 'admin')
           OR EXISTS (SELECT 1 FROM queue_members m WHERE m.queue = q.name AND m.account = acct));
END
$$;
