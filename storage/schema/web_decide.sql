-- web_decide.sql
-- A decision on a report the caller may see: status, note, duplicate link; audited
-- with before and after. It needs the caller's own live lease, on a report not yet
-- decided (a decided one is reopened first: web_reopen); an admin may decide without
-- the lease by asking to override, audited as such. render: 'report' the full report,
-- 'decision' what the decision changed (web_decision_doc), 'change' the same without the
-- reporter (web_decide_next), NULL nothing.
-- p_qs: the caller's queues when the caller has read them (web_decide_next), else NULL.
DROP FUNCTION IF EXISTS web_decide(bigint, text, text, text, text, text, bigint, integer, boolean);
DROP FUNCTION IF EXISTS web_decide(bigint, text, text, text, text, bigint, boolean, integer, text);
CREATE OR REPLACE FUNCTION web_decide(p_id bigint, p_ref text, acct text, decision text,
                                      p_note text, dup_of bigint, p_override boolean,
                                      decimals integer, render text, p_qs text[] DEFAULT NULL,
                                      OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := COALESCE(p_qs, web_queues_for(acct));
    x record;
    v_row reports; -- the decided row, for the document
    v_flag text;
    v_given text := COALESCE(p_id::text, p_ref);
BEGIN
    -- By id, else (no id given) by reference; references are never all digits (TL-...).
    IF p_id IS NULL THEN
        SELECT r.id INTO p_id FROM reports r WHERE r.public_ref = p_ref;
    END IF;
    SELECT r.id, r.status, r.claimed_by, r.lease_until > now() AS live, r.lease_until,
           r.note, r.decided_by
    INTO x FROM reports r
    WHERE r.id = p_id AND r.queue = ANY (qs)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002',
            MESSAGE = format('no report %s', v_given);
    END IF;
    IF x.status <> 'new' THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is already decided (%s by %s): reopen it first',
                             v_given, x.status, x.decided_by);
    END IF;
    IF p_override THEN
        IF NOT EXISTS (SELECT 1 FROM accounts a
                       WHERE a.name = acct AND a.role = 'admin' AND NOT a.disabled) THEN
            RAISE EXCEPTION USING ERRCODE = '42501',
                MESSAGE = 'only an admin may decide without the lease (override)';
        END IF;
    ELSIF x.live AND x.claimed_by <> acct THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is leased to %s until %s', v_given,
                             x.claimed_by, web_iso(x.lease_until));
    ELSIF x.live IS NOT TRUE OR x.claimed_by IS DISTINCT FROM acct THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is not claimed by %s: claim it first', v_given, acct);
    END IF;
    IF dup_of IS NOT NULL AND dup_of = x.id THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a report cannot duplicate itself';
    END IF;
    -- A report the caller may not see is answered as one that does not exist (the
    -- same words, whatever the id).
    IF dup_of IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM reports d WHERE d.id = dup_of AND d.queue = ANY (qs)) THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = 'duplicate_of: no such report';
        END IF;
    END IF;
    -- The reporter's counters follow the decision (web_reopen takes it back): counted
    -- by mod_reputation, in its one UPDATE of the reporter's row.
    v_flag := set_config('tipline.count_decision', 'on', true);
    UPDATE reports SET status = decision, claimed_by = NULL, lease_until = NULL,
        decided_by = acct, decided_at = now(), note = p_note, duplicate_of = dup_of
    WHERE id = x.id
    RETURNING * INTO v_row;
    v_flag := set_config('tipline.count_decision', 'off', true);
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'decide', 'report:' || x.id,
            jsonb_build_object('status', x.status, 'claimed_by', x.claimed_by,
                               'lease_until', x.lease_until, 'note', x.note),
            jsonb_build_object('status', decision, 'note', p_note, 'duplicate_of', dup_of,
                               'decided_by', acct)
            || CASE WHEN p_override THEN jsonb_build_object('override', true)
                    ELSE '{}'::jsonb END);
    report_id := x.id;
    IF render = 'report' THEN
        doc := web_report_json(v_row, decimals, qs, true);
    ELSIF render IN ('decision', 'change') THEN
        doc := web_decision_doc(v_row, qs, render = 'decision');
    END IF;
END
$$;
