-- 0010: the analysts' claim -> decide path in one round trip each (bench/triage, issue 6).
--
-- Measured on 1,000,000 queued reports with 8 claimers (pg_stat_statements), a pair
-- cost about 7 ms of server time over 9 round trips: the claim statement planned on
-- every call (1.0 of its 2.6 ms), its UPDATE rewriting all 15 indexes of a full heap
-- page (HOT updates: 8 %), the decision's four statements, and the full report drawn
-- twice in a second statement each. Here: the claim, the decision and the full report
-- are PL/pgSQL functions (their statements keep their plans for the session; the
-- tables' statistics changing re-plans them), a claim or a decision is one call, and
-- report pages keep room for the claim's row versions.

-- A claim, a renewal and a release change no indexed column: with room on the page
-- their new row version is a heap-only tuple, written without touching the indexes.
-- (Pages already full keep no room until they are rewritten; new reports get it.)
ALTER TABLE reports SET (fillfactor = 85);

-- The claim's order is (priority DESC, received_at, id): an index without the id made
-- every claim read 32 rows and more (an incremental sort's smallest batch) and fetch
-- each from the heap to hand back one. With the id, the first visible row is the answer.
DROP INDEX reports_queue;
DROP INDEX reports_queue_claim;
CREATE INDEX reports_queue ON reports (priority DESC, received_at, id) WHERE status = 'new';
CREATE INDEX reports_queue_claim ON reports (queue, priority DESC, received_at, id)
    WHERE status = 'new';

-- Indexes no query reads, written for every report and every decision: (received_at) is
-- served by reports_received_id (received_at DESC, id DESC), scanned either way, and no
-- query reads the trigram index of the text (a GIN index: every report and every
-- decision added its trigrams, and the writer that filled its pending list flushed it).
DROP INDEX reports_received_at;
DROP INDEX reports_text_trgm;
-- Likewise: 0008's reports_review_due replaced 0004's reports_review_unnotified for the
-- relay's reviewed notices, and the audit log is read by object or actor in id order,
-- never by time: audit_log_at only cost each of the pair's three audit rows an insert.
DROP INDEX reports_review_unnotified;
DROP INDEX audit_log_at;

-- The full report: the keys of 0009's web_report_summary (the list's, whose text is cut
-- to 200 characters) and of its web_report_full, which this replaces, with the
-- reporter's recent reports (those the caller may see), drawn in one statement (test_web
-- checks that a list item and the full report agree on every key they share); with
-- audit, the 'view' row. NULL when absent or hidden. qs: the caller's queues when the
-- caller already has them. The reporter appears by the first 12 hex digits of the
-- pseudonym, never by a chat id.
DROP FUNCTION web_report_full(reports, integer);
CREATE FUNCTION web_report_doc(p_id bigint, p_ref text, acct text, decimals integer,
                               audit boolean, qs text[] DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    r reports;
    v_live boolean;
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
    RETURN (
        SELECT json_build_object(
            'id', r.id, 'ref', r.public_ref, 'status', r.status, 'category', r.category,
            'queue', r.queue, 'text', r.text, 'received_at', web_iso(r.received_at),
            'observed_at', web_iso(r.observed_at), 'point', web_point(r.point, decimals),
            'point_source', r.point_source, 'flags', to_json(r.flags),
            'n_media', json_array_length(m.media), 'corroborations', r.corroborations,
            'priority', r.priority, 'claimed_by', CASE WHEN v_live THEN r.claimed_by END,
            'lease_until', CASE WHEN v_live THEN web_iso(r.lease_until) END,
            'bearing', r.bearing, 'accuracy_m', r.accuracy_m, 'forwarded', r.forwarded,
            'decided_by', r.decided_by, 'decided_at', web_iso(r.decided_at), 'note', r.note,
            'duplicate_of', r.duplicate_of, 'media', m.media, 'followups', f.followups,
            'reporter', rp.doc)::text
        FROM (SELECT COALESCE(json_agg(json_build_object('id', x.id, 'kind', x.kind,
                      'mime', x.mime, 'width', x.width, 'height', x.height,
                      'url', '/api/media/' || x.id,
                      'photo_point', web_point(x.gps, decimals) - 'rounded',
                      'taken_at', CASE WHEN x.taken_offset_min IS NOT NULL THEN
                          to_char(x.taken_local - x.taken_offset_min * interval '1 minute',
                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                          ELSE to_char(x.taken_local, 'YYYY-MM-DD"T"HH24:MI:SS') END)
                      ORDER BY x.id), '[]') AS media
              FROM media x WHERE x.report_id = r.id) m,
             (SELECT COALESCE(json_agg(json_build_object('id', x.id,
                      'question', x.question, 'asked_by', x.asked_by,
                      'asked_at', web_iso(x.asked_at), 'relayed_at', web_iso(x.relayed_at),
                      'relay_error', x.relay_error, 'answer', x.answer,
                      'answered_at', web_iso(x.answered_at)) ORDER BY x.asked_at, x.id),
                      '[]') AS followups
              FROM followups x WHERE x.report_id = r.id) f,
             (SELECT COALESCE(json_agg(json_build_object('id', o.id, 'ref', o.public_ref,
                      'status', o.status, 'category', o.category,
                      'received_at', web_iso(o.received_at))
                      ORDER BY o.received_at DESC, o.id DESC), '[]') AS recent
              FROM (SELECT o.* FROM reports o
                    WHERE o.reporter = r.reporter AND o.id <> r.id AND o.queue = ANY (qs)
                    ORDER BY o.received_at DESC, o.id DESC LIMIT 10) o) h
        LEFT JOIN LATERAL (
            SELECT json_build_object('pseudonym', left(p.pseudonym, 12),
                       'n_reports', p.n_reports, 'n_confirmed', p.n_confirmed,
                       'n_rejected', p.n_rejected, 'reputation', p.reputation,
                       'banned', p.banned, 'recent', h.recent) AS doc
            FROM reporters p WHERE p.pseudonym = r.reporter) rp ON true);
END
$$;

-- Claims the highest-priority, oldest claimable report of the caller's queues (q: only
-- that one, which must be one of them: SQLSTATE P0002 otherwise), skipping rows another
-- claim is locking; leases it, audits the claim and the view, returns its id and full
-- report (NULLs: nothing to claim).
CREATE FUNCTION web_claim(acct text, lease_s bigint, q text, decimals integer,
                          OUT report_id bigint, OUT doc text)
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    c record;
    v_until timestamptz := now() + lease_s * interval '1 second';
BEGIN
    IF q IS NULL THEN
        SELECT x.id, x.status, x.claimed_by, x.lease_until, x.reporter INTO c FROM reports x
        WHERE x.status = 'new' AND (x.lease_until IS NULL OR x.lease_until < now())
          AND x.queue = ANY (qs)
        ORDER BY x.priority DESC, x.received_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    ELSIF q = ANY (qs) THEN
        SELECT x.id, x.status, x.claimed_by, x.lease_until, x.reporter INTO c FROM reports x
        WHERE x.status = 'new' AND (x.lease_until IS NULL OR x.lease_until < now())
          AND x.queue = q
        ORDER BY x.priority DESC, x.received_at, x.id LIMIT 1 FOR UPDATE SKIP LOCKED;
    ELSE
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no queue %s', q);
    END IF;
    IF c.id IS NULL THEN
        RETURN;
    END IF;
    UPDATE reports SET claimed_by = acct, lease_until = v_until WHERE id = c.id;
    -- the claim, and the view of the report it hands back (as web_report_doc's)
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'claim', 'report:' || c.id,
            jsonb_build_object('status', c.status, 'claimed_by', c.claimed_by,
                               'lease_until', c.lease_until),
            jsonb_build_object('status', c.status, 'claimed_by', acct,
                               'lease_until', v_until)),
           (acct, 'view', 'report:' || c.id, NULL,
            jsonb_build_object('reporter', left(c.reporter, 12)));
    report_id := c.id;
    doc := web_report_doc(c.id, NULL, acct, decimals, false, qs);
END
$$;

-- A decision: status, note, duplicate link, the reporter's counters and the audit row
-- with before/after. acct: the caller whose queues limit what it may decide (NULL: no
-- limit, the CLI). Errors by SQLSTATE: P0002 no such report, TL409 another analyst holds
-- a live lease, 22023 a bad duplicate link. Returns the report's id and, with render,
-- its full report as the caller sees it afterwards.
CREATE FUNCTION web_decide(p_id bigint, p_ref text, acct text, analyst text, decision text,
                           p_note text, dup_of bigint, decimals integer, render boolean,
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
    IF dup_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reports d WHERE d.id = dup_of) THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('duplicate_of %s: no such report', dup_of);
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

-- A rejection's effect on its neighbours (a rejected report corroborates no one; one
-- un-rejected does again) moves from the decision to the periodic refresh: the
-- neighbours' recount probed 500 rows and more in a busy place (2.4 ms of a 3 ms
-- decision on the bench's seed) while the analyst waited for the next report. The
-- decision now only notes it; priority_propagate_pending applies the net change at the
-- next refresh (the bot's janitor: every minute), before that refresh's recount.
CREATE TABLE priority_pending (
    report_id bigint PRIMARY KEY,
    delta     integer NOT NULL
);

CREATE OR REPLACE FUNCTION reports_priority_rejected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO priority_pending (report_id, delta)
    VALUES (NEW.id, CASE WHEN NEW.status = 'rejected' THEN -1 ELSE 1 END)
    ON CONFLICT (report_id) DO UPDATE SET delta = priority_pending.delta + EXCLUDED.delta;
    RETURN NULL;
END
$$;

-- Returns the number of neighbours whose corroboration count changed.
CREATE FUNCTION priority_propagate_pending() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    p record;
    changed integer := 0;
BEGIN
    FOR p IN WITH d AS (DELETE FROM priority_pending RETURNING report_id, delta)
             SELECT r.id, r.reporter, r.category, r.point, r.received_at, d.delta
             FROM d JOIN reports r ON r.id = d.report_id
             WHERE d.delta <> 0 AND r.point IS NOT NULL
             ORDER BY r.id
    LOOP
        changed := changed + priority_propagate(w, p.id, p.reporter, p.category, p.point,
                                                p.received_at, sign(p.delta)::integer);
    END LOOP;
    RETURN changed;
END
$$;
