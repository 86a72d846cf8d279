-- 0014: a decision's answer without the full report (issue 6: Prefer: return=minimal).
--
-- The console already shows the full report it claimed; after a decision it needs what
-- the decision changed. Drawing the whole report again (media, follow-ups, the
-- reporter's recent reports) was one of the two report documents of every
-- claim+decide pair. The decision's fields and the reporter's counters after it,
-- as web_report_doc writes them (same keys, same formats: tests/test_web.c compares).
-- Volatile: called after web_decide in the same statement, it reads with a snapshot of
-- its own, which sees the decision.
CREATE FUNCTION web_decision_doc(p_id bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (
        SELECT json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status,
            'claimed_by', CASE WHEN r.lease_until > now() THEN r.claimed_by END,
            'lease_until', CASE WHEN r.lease_until > now() THEN web_iso(r.lease_until) END,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'priority', r.priority,
            'reporter', json_build_object('pseudonym', left(p.pseudonym, 12),
                'n_reports', p.n_reports, 'n_confirmed', p.n_confirmed,
                'n_rejected', p.n_rejected, 'reputation', p.reputation, 'banned', p.banned))::text
        FROM reports r LEFT JOIN reporters p ON p.pseudonym = r.reporter
        WHERE r.id = p_id);
END
$$;
