-- web_decision_doc.sql
-- What a decision changed and the reporter's counters as the caller may see them
-- (Prefer: return=minimal, and the decision of "decide, then next").
DROP FUNCTION IF EXISTS web_decision_doc(bigint);
CREATE OR REPLACE FUNCTION web_decision_doc(p_id bigint, qs text[]) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (
        SELECT json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status,
            'claimed_by', CASE WHEN r.lease_until > now() THEN r.claimed_by END,
            'lease_until', CASE WHEN r.lease_until > now() THEN web_iso(r.lease_until) END,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'priority', r.priority,
            'reporter', web_reporter_doc(p, qs, false))::text
        FROM reports r LEFT JOIN reporters p ON p.pseudonym = r.reporter WHERE r.id = p_id);
END
$$;
