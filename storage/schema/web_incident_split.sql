-- web_incident_split.sql
-- An analyst takes a report out of its incident: it becomes an incident of its own (no
-- later report is refused by it: joins happen as reports are stored), both are
-- refreshed, and the split is audited with the incident before and after. Returns the
-- new incident's document.
CREATE OR REPLACE FUNCTION web_incident_split(acct text, p_rid bigint, p_ref text,
                                              decimals integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    v_given text := COALESCE(p_rid::text, p_ref);
    r record;
    old incidents%ROWTYPE;
    fresh bigint;
BEGIN
    SELECT q.id, q.incident_id, q.point, q.category, COALESCE(q.observed_at, q.received_at) AS t
    INTO r FROM reports q
    WHERE (q.id = p_rid OR (p_rid IS NULL AND q.public_ref = p_ref)) AND q.queue = ANY (qs)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no report %s', v_given);
    END IF;
    SELECT * INTO old FROM incidents WHERE id = r.incident_id FOR UPDATE;
    IF old.id IS NULL OR old.n_reports < 2 THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('report %s is not one of several in an incident', v_given);
    END IF;
    INSERT INTO incidents (centroid, category, categories, first_seen, last_seen,
                           corroborations, n_reports)
    VALUES (r.point, COALESCE(r.category, 'other'), ARRAY[COALESCE(r.category, 'other')],
            r.t, r.t, 0, 0)
    RETURNING id INTO fresh;
    UPDATE reports SET incident_id = fresh WHERE id = r.id;
    PERFORM incident_refresh(old.id);
    PERFORM incident_refresh(fresh);
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'incident_split', 'report:' || r.id,
            jsonb_build_object('incident', web_incident_summary(old, NULL)),
            jsonb_build_object('incident', fresh,
                               'left', (SELECT web_incident_summary(x, NULL)
                                        FROM incidents x WHERE x.id = old.id)));
    RETURN web_incident_doc(fresh, acct, decimals);
END
$$;
