-- 0017: the full report without aggregate sorts, and a decision without a plan per call
-- (issue 6).
--
-- Counted with callgrind on PostgreSQL itself (a single-user backend running 300 of the
-- bench's claim+decide pairs on a copy of its 1,000,000-report database), per pair:
--
-- * web_report_doc (0010) built the media, the follow-ups and the reporter's recent
--   reports with json_agg(... ORDER BY ...), each a sort set up and torn down on every
--   claim, over rows its subqueries had already read in that order, and joined them in as
--   FROM items. Here each list is array_to_json(ARRAY(subquery ORDER BY ...)): an
--   ARRAY() subquery keeps its rows' order, and the index scans already give it, so no
--   sort is left; the reporter is a scalar subquery. Same keys, same values, same order
--   (test_web compares a list item with the full report, and the minimal decision with
--   the full report). 3,556,847 -> 3,440,272 instructions (-3.3 %).
-- * web_decide (0010) tested "dup_of IS NOT NULL AND NOT EXISTS (...)" in one IF: with
--   dup_of NULL the planner folds the whole test to false, so PostgreSQL's plan cache
--   judged a plan made for the call's own values cheaper than its reusable one, and
--   planned that statement again on every decision (pg_stat_statements: 7,131 plans for
--   7,129 calls). Nested, the subquery runs only when a duplicate link is given.
--   3,553,562 -> 3,517,270 instructions (-1.0 %).
--
-- Both bodies otherwise as 0010 wrote them (migrations are append-only once landed).

CREATE OR REPLACE FUNCTION web_report_doc(p_id bigint, p_ref text, acct text,
                                          decimals integer, audit boolean,
                                          qs text[] DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r reports;
    v_live boolean;
    v_media json;
    n_media integer;
BEGIN
    IF qs IS NULL THEN
        qs := web_queues_for(acct);
    END IF;
    -- By id, else (no id given) by reference, as web_decide.
    IF p_id IS NULL THEN
        SELECT x.id INTO p_id FROM reports x WHERE x.public_ref = p_ref;
    END IF;
    SELECT * INTO r FROM reports x WHERE x.id = p_id AND x.queue = ANY (qs);
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF audit THEN
        INSERT INTO audit_log (actor, action, object, after)
        VALUES (acct, 'view', 'report:' || r.id,
                jsonb_build_object('reporter', left(r.reporter, 12)));
    END IF;
    -- json, not jsonb: built and printed as text in one pass (the jsonb objects were
    -- sorted, merged with ||, then printed: most of the document's 0.3 ms).
    v_live := r.lease_until > now();
    v_media := array_to_json(ARRAY(
        SELECT json_build_object('id', x.id, 'kind', x.kind,
                      'mime', x.mime, 'width', x.width, 'height', x.height,
                      'url', '/api/media/' || x.id,
                      'photo_point', web_point(x.gps, decimals) - 'rounded',
                      'taken_at', CASE WHEN x.taken_offset_min IS NOT NULL THEN
                          to_char(x.taken_local - x.taken_offset_min * interval '1 minute',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                          ELSE to_char(x.taken_local, 'YYYY-MM-DD"T"HH24:MI:SS') END)
        FROM media x WHERE x.report_id = r.id ORDER BY x.id));
    n_media := json_array_length(v_media);
    RETURN json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status, 'category', r.category,
            'queue', r.queue, 'text', r.text, 'received_at', web_iso(r.received_at),
            'observed_at', web_iso(r.observed_at), 'point', web_point(r.point, decimals),
            'point_source', r.point_source, 'flags', to_json(r.flags),
            'n_media', n_media, 'corroborations', r.corroborations,
            'priority', r.priority, 'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
            'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END,
            'bearing', r.bearing, 'accuracy_m', r.accuracy_m, 'forwarded', r.forwarded,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'media', v_media, 'followups', array_to_json(ARRAY(
                SELECT json_build_object('id', x.id,
                      'question', x.question, 'asked_by', x.asked_by,
                      'asked_at', web_iso(x.asked_at), 'relayed_at', web_iso(x.relayed_at),
                      'relay_error', x.relay_error, 'answer', x.answer,
                      'answered_at', web_iso(x.answered_at))
                FROM followups x WHERE x.report_id = r.id ORDER BY x.asked_at, x.id)),
            'reporter', (SELECT json_build_object('pseudonym', left(p.pseudonym, 12),
                       'n_reports', p.n_reports, 'n_confirmed', p.n_confirmed,
                       'n_rejected', p.n_rejected, 'reputation', p.reputation,
                       'banned', p.banned, 'recent', array_to_json(ARRAY(
                  SELECT json_build_object('id', o.id, 'ref', o.public_ref,
                      'status', o.status, 'category', o.category,
                      'received_at', web_iso(o.received_at))
                  FROM reports o
                  WHERE o.reporter = r.reporter AND o.id <> r.id AND o.queue = ANY (qs)
                  ORDER BY o.received_at DESC, o.id DESC LIMIT 10)))
            FROM reporters p WHERE p.pseudonym = r.reporter))::text;
END
$$;

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
