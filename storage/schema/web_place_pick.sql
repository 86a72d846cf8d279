-- web_place_pick.sql
-- An analyst picks which of a report's candidate settlements (place_candidates: a name
-- several villages share) was meant: the report's point becomes that one's centre, the
-- place_ambiguous flag goes, the choice is audited with the candidates it was made
-- from; returns the full report.
CREATE OR REPLACE FUNCTION web_place_pick(p_id bigint, p_ref text, acct text, idx integer,
                                          decimals integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    x record;
    c jsonb;
    v_given text := COALESCE(p_id::text, p_ref);
BEGIN
    IF p_id IS NULL THEN
        SELECT r.id INTO p_id FROM reports r WHERE r.public_ref = p_ref;
    END IF;
    SELECT r.id, r.claimed_by, r.lease_until > now() AS live, r.lease_until,
           r.place_candidates, ST_Y(r.point::geometry) AS lat, ST_X(r.point::geometry) AS lon,
           r.accuracy_m, r.point_source
    INTO x FROM reports r
    WHERE r.id = p_id AND r.queue = ANY (qs)
    FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no report %s', v_given);
    END IF;
    IF x.live AND x.claimed_by IS NOT NULL AND x.claimed_by <> acct THEN
        RAISE EXCEPTION USING ERRCODE = 'TL409',
            MESSAGE = format('report %s is leased to %s until %s', v_given,
                             x.claimed_by, x.lease_until);
    END IF;
    IF x.place_candidates IS NULL OR jsonb_typeof(x.place_candidates) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('report %s has no place to pick', v_given);
    END IF;
    c := x.place_candidates -> idx;
    IF idx < 0 OR c IS NULL OR jsonb_typeof(c -> 'lat') <> 'number'
       OR jsonb_typeof(c -> 'lon') <> 'number' THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('report %s has no candidate %s (0..%s)', v_given, idx,
                             jsonb_array_length(x.place_candidates) - 1);
    END IF;
    UPDATE reports SET
        point = ST_SetSRID(ST_MakePoint((c ->> 'lon')::float8, (c ->> 'lat')::float8),
                           4326)::geography,
        accuracy_m = (c ->> 'accuracy_m')::float8, point_source = 'text',
        flags = array_remove(flags, 'place_ambiguous'), place_candidates = NULL
    WHERE id = x.id;
    INSERT INTO audit_log (actor, action, object, before, after)
    VALUES (acct, 'place', 'report:' || x.id,
            jsonb_build_object('lat', x.lat, 'lon', x.lon, 'accuracy_m', x.accuracy_m,
                               'point_source', x.point_source,
                               'place_candidates', x.place_candidates),
            jsonb_build_object('candidate', idx, 'name', c -> 'name', 'oblast', c -> 'oblast',
                               'lat', c -> 'lat', 'lon', c -> 'lon'));
    RETURN web_report_doc(x.id, NULL, acct, decimals, false, qs);
END
$$;
