-- web_reopen.sql
-- Takes a decision back so that the report can be decided again: status 'new', the
-- decision's fields and the reporter's counters undone, the report leased to the
-- caller (who reopens means to decide again). Only the decider or an admin may reopen;
-- audited with before and after. Returns the full report.
CREATE OR REPLACE FUNCTION web_reopen(p_id bigint, p_ref text, acct text, lease_s bigint,
                                      decimals integer, OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    x record;
    v_until timestamptz := now() + lease_s * interval '1 second';
    v_given text := COALESCE(p_id::text, p_ref);
    v_flag text;
BEGIN
    IF p_id IS NULL THEN
        SELECT r.id INTO p_id FROM reports r WHERE r.public_ref = p_ref;
    END IF;
    SELECT r.id, r.status, r.reporter, r.decided_by, r.decided_at, r.note, r.duplicate_of
    INTO x FROM reports r
    WHERE r.id = p_id AND r.queue = ANY (qs)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no report %s', v_given);
    END IF;
    IF x.status = 'new' THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is not decided', v_given);
    END IF;
    IF x.decided_by IS DISTINCT FROM acct AND NOT EXISTS (SELECT 1 FROM accounts a
            WHERE a.name = acct AND a.role = 'admin' AND NOT a.disabled) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = format('report %s was decided by %s: only they or an admin may reopen it',
                             v_given, x.decided_by);
    END IF;
    -- The reporter's counters are taken back by mod_reputation (as web_decide's).
    v_flag := set_config('tipline.count_decision', 'on', true);
    UPDATE reports SET status = 'new', claimed_by = acct, lease_until = v_until,
        decided_by = NULL, decided_at = NULL, duplicate_of = NULL
    WHERE id = x.id;
    v_flag := set_config('tipline.count_decision', 'off', true);
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'reopen', 'report:' || x.id,
            jsonb_build_object('status', x.status, 'decided_by', x.decided_by,
                               'decided_at', x.decided_at, 'note', x.note,
                               'duplicate_of', x.duplicate_of),
            jsonb_build_object('status', 'new', 'claimed_by', acct, 'lease_until', v_until));
    report_id := x.id;
    doc := web_report_doc(x.id, NULL, acct, decimals, false, qs);
END
$$;
