-- web_decide.sql
-- A decision on a report: status, note, duplicate link; audited with before and
-- after; returns the full report, or the minimal document when asked.
CREATE OR REPLACE FUNCTION web_decide(p_id bigint, p_ref text, acct text, analyst text,
                                      decision text, p_note text, dup_of bigint,
                                      decimals integer, render boolean,
                                      OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[];
    x record;
    v_reporter text;
    v_given text := COALESCE(p_id::text, p_ref);
BEGIN
    IF acct IS NOT NULL THEN
        qs := web_queues_for(acct);
    END IF;
    -- By id, else (no id given) by reference; references are never all digits (TL-...).
    IF p_id IS NULL THEN
        SELECT r.id INTO p_id FROM reports r WHERE r.public_ref = p_ref;
    END IF;
    SELECT r.id, r.status, r.claimed_by, r.lease_until > now() AS live, r.lease_until,
           r.note, r.decided_by
    INTO x FROM reports r
    WHERE r.id = p_id AND (acct IS NULL OR r.queue = ANY (qs))
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002',
            MESSAGE = format('no report %s', v_given);
    END IF;
    IF x.live AND x.claimed_by IS NOT NULL AND x.claimed_by <> analyst THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is leased to %s until %s', v_given,
                             x.claimed_by, x.lease_until);
    END IF;
    IF dup_of IS NOT NULL AND dup_of = x.id THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'a report cannot duplicate itself';
    END IF;
    IF dup_of IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM reports d WHERE d.id = dup_of) THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = format('duplicate_of %s: no such report', dup_of);
        END IF;
    END IF;
    UPDATE reports SET status = decision, claimed_by = NULL, lease_until = NULL,
        decided_by = analyst, decided_at = now(), note = p_note, duplicate_of = dup_of
    WHERE id = x.id RETURNING reporter INTO v_reporter;
    -- The reporter's counters follow the decision (and a changed decision).
    UPDATE reporters SET
        n_confirmed = n_confirmed + (decision = 'confirmed')::int - (x.status = 'confirmed')::int,
        n_rejected = n_rejected + (decision = 'rejected')::int - (x.status = 'rejected')::int
    WHERE pseudonym = v_reporter
      AND ((decision = 'confirmed') <> (x.status = 'confirmed')
           OR (decision = 'rejected') <> (x.status = 'rejected'));
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (analyst, 'decide', 'report:' || x.id,
            jsonb_build_object('status', x.status, 'claimed_by', x.claimed_by,
                               'note', x.note, 'decided_by', x.decided_by),
            jsonb_build_object('status', decision, 'note', p_note,
                               'duplicate_of', dup_of, 'decided_by', analyst));
    report_id := x.id;
    IF render THEN
        doc := web_report_doc(x.id, NULL, acct, decimals, false, qs);
    END IF;
END
$$;
