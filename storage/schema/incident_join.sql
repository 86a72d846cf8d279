-- incident_join.sql
-- Puts a newly stored report into an incident, in the transaction that stores it
-- (store_apply_plan): the open incident of a compatible category whose time span,
-- widened by corroboration.window_s, holds the report's time (observed, else received)
-- and whose centroid is within reach, where
--   reach = (radius + min(accuracy_m, accuracy_cap_m)) * text factor,
--   radius = the category's radius_m (incident_categories), else corroboration.radius_m,
--   text factor = clamp(1 + text_gain * (similarity - text_neutral), min, max),
-- similarity being pg_trgm's best against the incident's latest members' texts (neutral
-- without text): a report that says what the others say reaches farther, one that says
-- something else must be closer. Of several, the nearest relative to its reach; none: a
-- new incident of one. Returns the incident's id (NULL: the report has no point, or is
-- held by moderation: it joins none, moves no incident and raises no one's count until
-- a moderator releases it, when mod_resolve joins it).
--
-- Two workers storing reports of one event at the same moment must end with ONE
-- incident, but neither sees the other's uncommitted report. So each first takes
-- transaction advisory locks on the report's cell of a coarse grid and its 8 neighbours,
-- in one global order (no deadlock between two joins): cells are at least the greatest
-- reach, so two reports that could join each other share a locked cell, and the second
-- waits until the first commits, then sees its incident (READ COMMITTED: each statement
-- here takes a fresh snapshot). Cells are square in metres up to 75 degrees of
-- latitude (wider toward the equator: only more waiting). The chosen incident's row is
-- then locked, and a merge that happened meanwhile is followed to the survivor.
CREATE OR REPLACE FUNCTION incident_join(p_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    ip jsonb := incident_params_doc();
    radius float8 := (w ->> 'corroboration.radius_m')::float8;
    win interval := make_interval(secs => (w ->> 'corroboration.window_s')::float8);
    acc_cap float8 := (ip ->> 'accuracy_cap_m')::float8;
    fmin float8 := (ip ->> 'text_factor_min')::float8;
    fmax float8 := (ip ->> 'text_factor_max')::float8;
    neutral float8 := (ip ->> 'text_neutral')::float8;
    gain float8 := (ip ->> 'text_gain')::float8;
    sample integer := (ip ->> 'text_sample')::float8;
    r record;
    cell float8;
    cy bigint;
    cx bigint;
    best bigint;
    nxt bigint;
    counts boolean;
    had boolean;
    n integer;
    cap integer;
    v_queues text[];
BEGIN
    SELECT q.id, q.reporter, q.category, q.queue, q.text, q.point, q.incident_id, q.bearing,
           q.status, COALESCE(q.observed_at, q.received_at) AS t,
           ST_Y(q.point::geometry) AS lat, ST_X(q.point::geometry) AS lon,
           COALESCE((SELECT c.radius_m FROM incident_categories c
                     WHERE c.category = COALESCE(q.category, 'other')), radius)
               + LEAST(COALESCE(q.accuracy_m, 0), acc_cap) AS base
    INTO r FROM reports q WHERE q.id = p_id;
    IF NOT FOUND OR r.point IS NULL OR r.incident_id IS NOT NULL OR r.status = 'held' THEN
        RETURN r.incident_id;
    END IF;
    cell := (GREATEST(radius, (SELECT max(c.radius_m) FROM incident_categories c)) + acc_cap)
            * fmax;
    cy := floor(r.lat * 111320 / cell);
    cx := floor(r.lon * 111320 * cos(radians(75)) / cell);
    PERFORM pg_advisory_xact_lock(1768842084, hashtext(g.y || ':' || g.x))
    FROM (SELECT y, x FROM generate_series(cy - 1, cy + 1) y, generate_series(cx - 1, cx + 1) x
          ORDER BY hashtext(y || ':' || x), y, x) g;

    SELECT c.id INTO best FROM (
        SELECT i.id, ST_Distance(i.centroid, r.point, false)
                   / (r.base * LEAST(fmax, GREATEST(fmin, 1 + gain * (COALESCE((
                         SELECT max(similarity(t.text, r.text)) FROM (
                             SELECT m.text FROM reports m
                             WHERE m.incident_id = i.id AND m.text IS NOT NULL
                             ORDER BY m.id DESC LIMIT sample) t), neutral) - neutral))))
                   AS score
        FROM incidents i
        WHERE i.merged_into IS NULL
          AND ST_DWithin(i.centroid, r.point, r.base * fmax, false)
          AND i.last_seen >= r.t - win AND i.first_seen <= r.t + win
          AND incident_compatible(w, r.category, i.categories)) c
    WHERE c.score <= 1
    ORDER BY c.score, c.id LIMIT 1;

    LOOP
        EXIT WHEN best IS NULL;
        SELECT i.merged_into INTO nxt FROM incidents i WHERE i.id = best FOR UPDATE;
        EXIT WHEN nxt IS NULL;
        best := nxt;
    END LOOP;
    IF best IS NULL THEN
        INSERT INTO incidents (centroid, category, categories, first_seen, last_seen,
                               corroborations, n_reports)
        VALUES (r.point, COALESCE(r.category, 'other'), ARRAY[COALESCE(r.category, 'other')],
                r.t, r.t, 0, 0)
        RETURNING id INTO best;
    END IF;
    UPDATE reports SET incident_id = best WHERE id = p_id;
    -- the summary moves by one member, not recomputed from all of them (incident_refresh
    -- does that for merges, splits and decisions): the centroid is the running mean of
    -- the members' points; the count rises when the report counts and its reporter had
    -- no counted report here yet; then each other member counts one more other reporter
    counts := incident_counts(r.status, r.reporter);
    had := EXISTS (SELECT 1 FROM reports o WHERE o.incident_id = best AND o.reporter = r.reporter
                     AND o.id <> p_id AND incident_counts(o.status, o.reporter));
    UPDATE incidents i SET n_reports = i.n_reports + 1,
        corroborations = i.corroborations + (counts AND NOT had)::integer,
        centroid = ST_SetSRID(ST_MakePoint(
            (ST_X(i.centroid::geometry) * i.n_reports + r.lon) / (i.n_reports + 1),
            (ST_Y(i.centroid::geometry) * i.n_reports + r.lat) / (i.n_reports + 1)),
            4326)::geography,
        first_seen = LEAST(i.first_seen, r.t), last_seen = GREATEST(i.last_seen, r.t),
        categories = CASE WHEN COALESCE(r.category, 'other') = ANY (i.categories)
                          THEN i.categories
                          ELSE i.categories || COALESCE(r.category, 'other') END,
        category = COALESCE(i.category, r.category),
        queues = CASE WHEN r.queue = ANY (i.queues) THEN i.queues ELSE i.queues || r.queue END,
        updated_at = now()
    WHERE i.id = best
    RETURNING i.corroborations, i.queues INTO n, v_queues;
    cap := (w ->> 'corroboration.propagate_max')::float8;
    -- with a member in a restricted queue, who counts for whom depends on the queues
    -- (priority_corroborators): the new member and the others still under the cap are
    -- recounted by that one definition
    IF web_incident_hides(v_queues, queues_seen_with(NULL)) THEN
        PERFORM priority_recount(w, ARRAY(SELECT q.id FROM reports q
                                          WHERE q.incident_id = best
                                            AND (q.id = p_id OR q.corroborations < cap)));
    ELSE
        -- the counts move by one: each other member under the cap counts one more
        -- reporter when the new one is new here; the new member counts the others
        IF counts AND NOT had THEN
            WITH l AS (SELECT q.id, q.reporter FROM reports q
                       WHERE q.incident_id = best AND q.id <> p_id AND q.corroborations < cap
                       ORDER BY q.id FOR UPDATE SKIP LOCKED),
            x AS (SELECT l.id, rp.banned, rp.reputation, rp.n_confirmed, rp.n_rejected
                  FROM l LEFT JOIN reporters rp ON rp.pseudonym = l.reporter)
            UPDATE reports q SET corroborations = q.corroborations + 1,
                priority = priority_formula(w, q.priority_base, q.category, q.flags,
                                            q.corroborations + 1,
                                            extract(epoch FROM now() - q.received_at)::float8,
                                            COALESCE(x.banned, false), COALESCE(x.reputation, 0),
                                            COALESCE(x.n_confirmed, 0), COALESCE(x.n_rejected, 0))
            FROM x WHERE q.id = x.id;
        END IF;
        UPDATE reports q SET corroborations = GREATEST(n - (counts OR had)::integer, 0),
            priority = priority_formula(w, q.priority_base, q.category, q.flags,
                                        GREATEST(n - (counts OR had)::integer, 0),
                                        extract(epoch FROM now() - q.received_at)::float8,
                                        COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                        COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
        FROM (SELECT 1) one LEFT JOIN reporters rp ON rp.pseudonym = r.reporter
        WHERE q.id = p_id;
    END IF;
    IF r.bearing IS NOT NULL THEN
        PERFORM incident_fuse(best);
    END IF;
    RETURN best;
END
$$;
