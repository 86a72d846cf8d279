-- web_claim.sql
-- Claim next: the top open report of the caller's queues (or of queue q) under a
-- lease, skipping locked rows; the view is audited; returns the full report but for the
-- reporter's history (web_report_doc, web_report_reporter). p_qs: the
-- caller's queues when the caller has just read them (web_decide_next), else NULL.
DROP FUNCTION IF EXISTS web_claim(text, bigint, text, integer);
CREATE OR REPLACE FUNCTION web_claim(acct text, lease_s bigint, q text, decimals integer,
                                     p_qs text[] DEFAULT NULL,
                                     OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := COALESCE(p_qs, web_queues_for(acct));
    pick text[] := qs; -- where to claim from; qs still limits what the report shows
    c record;
    v_until timestamptz := now() + lease_s * interval '1 second';
BEGIN
    IF q IS NOT NULL THEN
        IF NOT q = ANY (qs) THEN
            RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no queue %s', q);
        END IF;
        pick := ARRAY[q];
    END IF;
    SELECT x.id, x.status, x.claimed_by, x.lease_until, x.reporter INTO c
    FROM unnest(pick) AS w(queue)
    CROSS JOIN LATERAL (
        SELECT r.id, r.status, r.claimed_by, r.lease_until, r.reporter, r.priority,
               r.received_at
        FROM reports r
        WHERE r.queue = w.queue AND r.status = 'new'
          AND (r.lease_until IS NULL OR r.lease_until < now())
        ORDER BY r.priority DESC, r.received_at, r.id LIMIT 1 FOR UPDATE SKIP LOCKED) x
    ORDER BY x.priority DESC, x.received_at, x.id LIMIT 1;
    IF c.id IS NULL THEN
        RETURN;
    END IF;
    UPDATE reports SET claimed_by = acct, lease_until = v_until WHERE id = c.id;
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'claim', 'report:' || c.id,
            jsonb_build_object('status', c.status, 'claimed_by', c.claimed_by,
                               'lease_until', c.lease_until),
            jsonb_build_object('status', c.status, 'claimed_by', acct,
                               'lease_until', v_until)),
           (acct, 'view', 'report:' || c.id, NULL,
            jsonb_build_object('reporter', left(c.reporter, 12)));
    report_id := c.id;
    doc := web_report_doc(c.id, NULL, acct, decimals, false, qs, false);
END
$$;
