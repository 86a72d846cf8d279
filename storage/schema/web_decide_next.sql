-- web_decide_next.sql
-- "Decide, then next": the decision (web_decide, answered with what it changed, the
-- reporter left out: web_decision_doc) and the
-- claim of the caller's next report (web_claim) in one call, one transaction: a refused
-- decision claims nothing. next_id and next_doc are NULL when nothing is claimable.
CREATE OR REPLACE FUNCTION web_decide_next(p_id bigint, p_ref text, acct text, decision text,
                                           p_note text, dup_of bigint, p_override boolean,
                                           decimals integer, lease_s bigint, q text,
                                           OUT report_id bigint, OUT doc text,
                                           OUT next_id bigint, OUT next_doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct); -- read once for both
    d record;
    c record;
BEGIN
    -- (assignments: plain calls, where SELECT ... FROM f() would start a query each)
    d := web_decide(p_id, p_ref, acct, decision, p_note, dup_of, p_override, decimals,
                    'change', qs);
    report_id := d.report_id;
    doc := d.doc;
    c := web_claim(acct, lease_s, q, decimals, qs);
    next_id := c.report_id;
    next_doc := c.doc;
END
$$;
