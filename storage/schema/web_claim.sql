-- web_claim.sql
-- Claim next: the top open report of the caller's queues (or of queue q) under a
-- lease, skipping locked rows; the view is audited; returns the full report but for the
-- reporter's history (web_report_json, web_report_reporter). p_qs: the
-- caller's queues when the caller has just read them (web_decide_next), else NULL.
DROP FUNCTION IF EXISTS web_claim(text, bigint, text, integer);
CREATE OR REPLACE FUNCTION web_claim(acct text, lease_s bigint, q text, decimals integer,
                                     p_qs text[] DEFAULT NULL,
                                     OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := COALESCE(p_qs, web_queues_for(acct));
    pick text[] := qs; -- where to claim from; qs still limits what the report shows
    c record; -- the claimed row (c.r) and its lease before (an expired one, or none)
    r reports;
    v_until timestamptz := now() + lease_s * interval '1 second';
BEGIN
    IF q IS NOT NULL THEN
        IF NOT q = ANY (qs) THEN
            RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no queue %s', q);
        END IF;
        pick := ARRAY[q];
    END IF;
    -- One statement picks the top report (skipping rows another claim holds), leases it
    -- and reads it back whole for the document.
    UPDATE reports x SET claimed_by = acct, lease_until = v_until
    FROM (SELECT y.id, y.claimed_by, y.lease_until
          FROM unnest(pick) AS w(queue)
          CROSS JOIN LATERAL (
              SELECT t.id, t.claimed_by, t.lease_until, t.priority, t.received_at
              FROM reports t
              WHERE t.queue = w.queue AND t.status = 'new'
                AND (t.lease_until IS NULL OR t.lease_until < now())
              ORDER BY t.priority DESC, t.received_at, t.id LIMIT 1 FOR UPDATE SKIP LOCKED) y
          ORDER BY y.priority DESC, y.received_at, y.id LIMIT 1) o
    WHERE x.id = o.id
    RETURNING x AS r, o.claimed_by AS was_by, o.lease_until AS was_until INTO c;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    r := c.r;
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'claim', 'report:' || r.id,
            jsonb_build_object('status', r.status, 'claimed_by', c.was_by,
                               'lease_until', c.was_until),
            jsonb_build_object('status', r.status, 'claimed_by', acct,
                               'lease_until', v_until)),
           (acct, 'view', 'report:' || r.id, NULL,
            jsonb_build_object('reporter', left(r.reporter, 12)));
    report_id := r.id;
    doc := web_report_json(r, decimals, qs, false);
END
$$;
