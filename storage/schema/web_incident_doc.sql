-- web_incident_doc.sql
-- An incident as the console's view shows it: the summary, its members (those in the
-- caller's queues; the latest 200, n_reports says how many in all), the bearing lines of
-- the members that gave one, and its photo clusters: member photos whose perceptual
-- hashes differ by at most photo_hamming bits, grouped (single link over a small set, the
-- first 200 hashed photos) so the console shows them side by side. An incident the caller
-- sees no member of is not found; the summary counts only the members it sees
-- (web_incident_seen).
CREATE OR REPLACE FUNCTION web_incident_doc(p_id bigint, acct text, decimals integer)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    qs text[] := web_queues_for(acct);
    thr integer := (incident_params_doc() ->> 'photo_hamming')::float8;
    i incidents%ROWTYPE;
    ids bigint[];
    hs bigint[];
    par integer[] := '{}';
    roots integer[] := '{}';
    n integer;
    a integer;
    b integer;
    clusters jsonb;
BEGIN
    SELECT * INTO i FROM incidents WHERE id = p_id;
    IF NOT FOUND OR NOT EXISTS (SELECT 1 FROM reports r WHERE r.incident_id = p_id
                                AND r.queue = ANY (qs)) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no incident %s', p_id);
    END IF;
    i := web_incident_seen(i, qs);
    SELECT array_agg(x.id ORDER BY x.id), array_agg(x.phash ORDER BY x.id) INTO ids, hs
    FROM (SELECT m.id, m.phash FROM media m JOIN reports r ON r.id = m.report_id
          WHERE r.incident_id = p_id AND r.queue = ANY (qs) AND m.phash IS NOT NULL
          ORDER BY m.id LIMIT 200) x;
    n := COALESCE(cardinality(ids), 0);
    FOR k IN 1 .. n LOOP
        par[k] := k;
    END LOOP;
    FOR k IN 1 .. n LOOP
        FOR j IN k + 1 .. n LOOP
            IF bit_count((hs[k] # hs[j])::bit(64)) <= thr THEN
                a := k;
                WHILE par[a] <> a LOOP a := par[a]; END LOOP;
                b := j;
                WHILE par[b] <> b LOOP b := par[b]; END LOOP;
                IF a <> b THEN
                    par[GREATEST(a, b)] := LEAST(a, b);
                END IF;
            END IF;
        END LOOP;
    END LOOP;
    FOR k IN 1 .. n LOOP
        a := k;
        WHILE par[a] <> a LOOP a := par[a]; END LOOP;
        roots[k] := a;
    END LOOP;
    SELECT COALESCE(jsonb_agg(g.members ORDER BY g.first), '[]') INTO clusters
    FROM (SELECT jsonb_agg(c.id ORDER BY c.id) AS members, min(c.id) AS first
          FROM unnest(ids, roots) AS c(id, root)
          GROUP BY c.root HAVING count(*) > 1) g;
    RETURN (web_incident_summary(i, decimals) || jsonb_build_object(
        'members', COALESCE((SELECT jsonb_agg(web_report_summary(x, decimals, qs)
                                              || jsonb_build_object('bearing', x.bearing,
                                                                    'accuracy_m', x.accuracy_m)
                                              ORDER BY x.id)
                             FROM (SELECT r.* FROM reports r
                                   WHERE r.incident_id = p_id AND r.queue = ANY (qs)
                                   ORDER BY r.id DESC LIMIT 200) x),
                            '[]'),
        'bearings', COALESCE((SELECT jsonb_agg(web_point(r.point, decimals)
                                               || jsonb_build_object('report', r.id,
                                                                     'bearing', r.bearing)
                                               ORDER BY r.id)
                              FROM reports r WHERE r.incident_id = p_id AND r.queue = ANY (qs)
                                AND r.bearing IS NOT NULL AND r.point IS NOT NULL), '[]'),
        'photo_clusters', clusters))::text;
END
$$;
