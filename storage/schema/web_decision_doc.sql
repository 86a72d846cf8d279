-- web_decision_doc.sql
-- What a decision changed, from the decided row r (web_decide has it from its UPDATE),
-- and, with p_reporter, the reporter's counters as the caller may see them (Prefer:
-- return=minimal). "Decide, then next" leaves the reporter out: the
-- console moves on to the next report, whose own reporter it shows, and opens the
-- decided one afresh if it goes back to it.
DROP FUNCTION IF EXISTS web_decision_doc(bigint);
DROP FUNCTION IF EXISTS web_decision_doc(bigint, text[]);
DROP FUNCTION IF EXISTS web_decision_doc(bigint, text[], boolean);
CREATE OR REPLACE FUNCTION web_decision_doc(r reports, qs text[], p_reporter boolean)
RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v text;
BEGIN
    v := json_build_object(
             'id', r.id, 'ref', r.public_ref, 'status', r.status,
             'claimed_by', CASE WHEN r.lease_until > now() THEN r.claimed_by END,
             'lease_until', CASE WHEN r.lease_until > now() THEN web_iso(r.lease_until) END,
             'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
             'duplicate_of', r.duplicate_of, 'priority', r.priority)::text;
    IF NOT p_reporter THEN
        RETURN v;
    END IF;
    -- one more key, spliced as text (json has no concatenation), as web_reporter_doc does
    RETURN left(v, -1) || ', "reporter" : ' || COALESCE(web_reporter_doc(
        (SELECT p FROM reporters p WHERE p.pseudonym = r.reporter), qs, false)::text, 'null') || '}';
END
$$;
