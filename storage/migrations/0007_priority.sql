-- 0007: the queue's priority score and corroboration, computed in the database.
--
-- reports.priority orders the triage queue (index reports_queue: priority DESC,
-- received_at). It is a sum of terms (docs/priority.md has the formula and why):
--   base (what intake saw: a point, a photo...; the value the writer inserted as
--   priority, kept in priority_base) + category weight + corroboration
--   - recency penalty + reporter track record + flag weights (+ banned).
-- The weights live in priority_weights (defaults below, changed with
-- `tipline priority set KEY VALUE`): the score is computed by triggers here, and every
-- process and the database must read the same weights, so they live in the database
-- and a change re-scores the queue in the same transaction.
--
-- Who keeps the columns right:
--   INSERT      a BEFORE trigger scores the new row and counts its corroborators; when
--               it has any, an AFTER trigger recounts the neighbours it corroborates.
--   UPDATE      of category, flags or priority_base re-scores the row; a report that
--               becomes (or stops being) rejected recounts its neighbours.
--   reporters   a ban, or a changed reputation or confirmed/rejected count, re-scores
--               that reporter's queued reports (a ban also recounts their neighbours).
--   refresh     priority_refresh() (storage: store_priority_refresh, called by the
--               janitor) decays recency for queued reports younger than the horizon
--               and recounts the corroborations of the last window's reports.
-- Rows another transaction holds locked (an analyst deciding them, a concurrent intake)
-- are skipped by these propagations (SKIP LOCKED): waiting could deadlock two analysts
-- deciding two reports of one reporter; the next refresh brings the skipped rows back.

ALTER TABLE reports ADD COLUMN priority_base integer NOT NULL DEFAULT 0;

-- Corroboration looks for reports near a point AND within a time window. The gist index
-- on the point alone (0001) returns every report ever made at that spot and the window
-- is filtered after: the probe grows with the database's age (a busy square collects
-- thousands of reports over months). Point and time in one gist index (btree_gist,
-- a trusted extension in postgresql-15) keep it to the window's few rows. It replaces
-- reports_point: its leading column serves point-only searches the same way, and each
-- insert maintains one gist index instead of two (with both, the planner also picked
-- the point-only one at equal estimated cost: 16 ms against 0.9 ms per probe measured).
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX reports_point_time ON reports USING gist (point, received_at);
DROP INDEX reports_point;

-- The report view lists the reporter's latest other reports: by reporter then newest
-- (replaces the plain reporter index; a prolific reporter's thousands were sorted on
-- every view). The list filtered by a decided status, newest first, reads its rows
-- directly instead of walking the whole time index for the few confirmed ones
-- (bench/triage, 1,000,000 reports: status=confirmed first page 273 ms -> 3.7 ms).
CREATE INDEX reports_reporter_recent ON reports (reporter, received_at DESC, id DESC);
DROP INDEX reports_reporter;
CREATE INDEX reports_status_recent ON reports (status, received_at DESC, id DESC);
UPDATE reports SET priority_base = priority;

CREATE TABLE priority_weights (
    key         text PRIMARY KEY,
    value       double precision NOT NULL,
    description text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (key IN ('corroboration.per_reporter', 'corroboration.max_reporters',
                   'corroboration.radius_m', 'corroboration.window_s',
                   'corroboration.same_category', 'corroboration.propagate_max',
                   'recency.penalty', 'recency.horizon_s',
                   'reputation.per_point', 'reputation.per_confirmed',
                   'reputation.per_rejected', 'reputation.max', 'banned')
           OR key ~ '^(category|flag)\.[a-z0-9_]{1,40}$'),
    CHECK (value BETWEEN -100000 AND 1000000),
    CHECK (CASE key
           WHEN 'corroboration.max_reporters' THEN value >= 0 AND value <= 100
           WHEN 'corroboration.radius_m' THEN value > 0 AND value <= 50000
           WHEN 'corroboration.window_s' THEN value >= 0 AND value <= 604800
           WHEN 'corroboration.same_category' THEN value IN (0, 1)
           WHEN 'corroboration.propagate_max' THEN value >= 1 AND value <= 10000
           WHEN 'recency.horizon_s' THEN value >= 60 AND value <= 2592000
           WHEN 'recency.penalty' THEN value >= 0
           WHEN 'reputation.max' THEN value >= 0
           ELSE true END)
);

INSERT INTO priority_weights (key, value, description) VALUES
    ('category.aircraft', 40, 'aircraft, missiles: minutes count'),
    ('category.drones', 40, 'drones: minutes count'),
    ('category.shelling', 40, 'shelling under way'),
    ('category.troops', 30, 'troop movements'),
    ('category.equipment', 25, 'equipment seen'),
    ('category.collaborators', 20, 'collaborators (restricted queue)'),
    ('category.damage', 15, 'damage after the fact'),
    ('category.suspicious', 10, 'suspicious people or activity'),
    ('category.other', 0, 'other, no category, and any category without its own weight'),
    ('corroboration.per_reporter', 15, 'points per distinct other reporter nearby'),
    ('corroboration.max_reporters', 4, 'corroborating reporters counted in the score'),
    ('corroboration.radius_m', 1000, 'nearby: within this many metres'),
    ('corroboration.window_s', 3600, 'nearby: received within this many seconds'),
    ('corroboration.same_category', 1, '1: only reports of the same category; 0: any'),
    ('corroboration.propagate_max', 20, 'a new report raises neighbours counting fewer than this'),
    ('recency.penalty', 30, 'points lost at the horizon, linearly with age'),
    ('recency.horizon_s', 21600, 'age at which the whole penalty applies'),
    ('reputation.per_point', 2, 'points per point of reporters.reputation'),
    ('reputation.per_confirmed', 4, 'points per confirmed report of the reporter'),
    ('reputation.per_rejected', -8, 'points per rejected report of the reporter'),
    ('reputation.max', 30, 'the track record counts at most this much either way'),
    ('flag.outside_area', -40, 'the point lies outside the served area'),
    ('flag.point_invalid', -20, 'a location was sent but is impossible'),
    ('flag.location_disagrees', -15, 'the photo''s position is far from the shared one'),
    ('flag.place_ambiguous', -5, 'the place name matched several places'),
    ('flag.photo_missing', -5, 'a photo was sent but could not be kept'),
    ('banned', -1000, 'the reporter is banned: below everything else');

-- The weights as one jsonb object {key: value}, kept in a one-row table by a statement
-- trigger on priority_weights: every insert reads it, and one row costs less to read
-- than the aggregate of the table.
CREATE TABLE priority_params_doc (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    w  jsonb NOT NULL
);
INSERT INTO priority_params_doc (w) SELECT jsonb_object_agg(key, value) FROM priority_weights;

CREATE FUNCTION priority_weights_doc() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE priority_params_doc
       SET w = (SELECT COALESCE(jsonb_object_agg(key, value), '{}') FROM priority_weights);
    RETURN NULL;
END
$$;
CREATE TRIGGER priority_weights_doc AFTER INSERT OR UPDATE OR DELETE ON priority_weights
    FOR EACH STATEMENT EXECUTE FUNCTION priority_weights_doc();

CREATE FUNCTION priority_params() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT w FROM priority_params_doc
$$;

-- The reporter's track record term, bounded by reputation.max either way.
CREATE FUNCTION priority_track(w jsonb, reputation integer, n_confirmed integer,
                               n_rejected integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT GREATEST(-COALESCE((w ->> 'reputation.max')::float8, 0),
                    LEAST(COALESCE((w ->> 'reputation.max')::float8, 0),
                          reputation * COALESCE((w ->> 'reputation.per_point')::float8, 0)
                          + n_confirmed * COALESCE((w ->> 'reputation.per_confirmed')::float8, 0)
                          + n_rejected * COALESCE((w ->> 'reputation.per_rejected')::float8, 0)))
$$;

-- The sum of the weights of a report's flags (flags without a weight count 0).
CREATE FUNCTION priority_flags(w jsonb, flags text[]) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(sum((w ->> ('flag.' || f))::float8), 0) FROM unnest(flags) AS f
$$;

-- The formula, on plain values (w from priority_params()). Rounded to an integer.
-- A single expression without sub-selects, so that PostgreSQL inlines it into the
-- set-based statements (refresh, re-score, seed): about 20x cheaper per row than a call.
CREATE FUNCTION priority_formula(w jsonb, base integer, category text, flags text[],
                                 corroborations integer, age_s double precision,
                                 banned boolean, reputation integer, n_confirmed integer,
                                 n_rejected integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(
        base
        + COALESCE((w ->> ('category.' || category))::float8,
                   (w ->> 'category.other')::float8, 0)
        + LEAST(corroborations, COALESCE((w ->> 'corroboration.max_reporters')::float8, 0))
          * COALESCE((w ->> 'corroboration.per_reporter')::float8, 0)
        - COALESCE((w ->> 'recency.penalty')::float8, 0)
          * LEAST(1, GREATEST(0, age_s) / COALESCE((w ->> 'recency.horizon_s')::float8, 1))
        + priority_track(w, reputation, n_confirmed, n_rejected)
        + CASE WHEN cardinality(flags) > 0 THEN priority_flags(w, flags) ELSE 0 END
        + CASE WHEN banned THEN COALESCE((w ->> 'banned')::float8, 0) ELSE 0 END
    )::integer
$$;

-- One report's score from its row and its reporter's row (a missing reporter row, as
-- within the statement that creates it, counts as a new reporter).
CREATE FUNCTION priority_of(w jsonb, r reports) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    rp reporters%ROWTYPE;
BEGIN
    SELECT * INTO rp FROM reporters WHERE pseudonym = r.reporter;
    RETURN priority_formula(w, r.priority_base, r.category, r.flags, r.corroborations,
                            extract(epoch FROM now() - r.received_at)::float8,
                            COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                            COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0));
END
$$;

-- The reports that corroborate a report at p_point received at p_at: another reporter,
-- not banned, within the radius (the gist index reports_point) and the window, not
-- rejected, and of the same category unless the weights say any. Distances on the
-- sphere (use_spheroid false): within a few km it differs from the spheroid by under
-- 0.5 %, and the spheroid's distance cost 0.6 ms a pair here (one probe: 12 ms against
-- 0.17 ms on the sphere).
CREATE FUNCTION priority_neighbours(w jsonb, p_id bigint, p_reporter text, p_category text,
                                    p_point geography, p_at timestamptz)
RETURNS TABLE (id bigint, reporter text)
LANGUAGE sql STABLE AS $$
    SELECT n.id, n.reporter FROM reports n
    WHERE ST_DWithin(n.point, p_point, (w ->> 'corroboration.radius_m')::float8, false)
      AND n.received_at BETWEEN p_at - make_interval(secs => (w ->> 'corroboration.window_s')::float8)
                            AND p_at + make_interval(secs => (w ->> 'corroboration.window_s')::float8)
      AND n.id <> p_id AND n.reporter <> p_reporter AND n.status <> 'rejected'
      AND ((w ->> 'corroboration.same_category')::float8 = 0
           OR n.category IS NOT DISTINCT FROM p_category)
      AND NOT EXISTS (SELECT 1 FROM reporters b WHERE b.pseudonym = n.reporter AND b.banned)
$$;

-- Distinct other reporters nearby: the value of reports.corroborations. PL/pgSQL so
-- that the plan of the index probe is cached for the session (an insert pays no planning).
CREATE FUNCTION priority_corroborators(w jsonb, p_id bigint, p_reporter text, p_category text,
                                       p_point geography, p_at timestamptz) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(DISTINCT n.reporter)::integer
            FROM priority_neighbours(w, p_id, p_reporter, p_category, p_point, p_at) AS n);
END
$$;

-- Recounts (and re-scores) the given reports; locks and writes only the rows whose
-- count changed, skipping rows another transaction holds. Returns how many changed.
CREATE FUNCTION priority_recount(w jsonb, ids bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    WITH c AS MATERIALIZED (
        SELECT r.id, r.reporter, priority_corroborators(w, r.id, r.reporter, r.category,
                                                        r.point, r.received_at) AS n
        FROM reports r WHERE r.id = ANY (ids) AND r.point IS NOT NULL),
    l AS (SELECT r.id, c.n, c.reporter FROM reports r JOIN c ON c.id = r.id
          WHERE r.corroborations <> c.n ORDER BY r.id FOR UPDATE OF r SKIP LOCKED)
    UPDATE reports r SET corroborations = l.n,
        priority = priority_formula(w, r.priority_base, r.category, r.flags, l.n,
                                    extract(epoch FROM now() - r.received_at)::float8,
                                    COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                    COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
    FROM l LEFT JOIN reporters rp ON rp.pseudonym = l.reporter
    WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- The neighbours of one report (as priority_neighbours sees them from it), recounted
-- in full: after a ban, when one reporter's reports stop (or start) counting at once.
CREATE FUNCTION priority_recount_near(w jsonb, p_id bigint, p_reporter text,
                                      p_category text, p_point geography, p_at timestamptz)
RETURNS integer
LANGUAGE sql AS $$
    SELECT priority_recount(w, ARRAY(
        SELECT n.id FROM reports n
        WHERE ST_DWithin(n.point, p_point, (w ->> 'corroboration.radius_m')::float8, false)
          AND n.received_at BETWEEN p_at - make_interval(secs => (w ->> 'corroboration.window_s')::float8)
                                AND p_at + make_interval(secs => (w ->> 'corroboration.window_s')::float8)
          AND n.id <> p_id AND n.reporter <> p_reporter
          AND ((w ->> 'corroboration.same_category')::float8 = 0
               OR n.category IS NOT DISTINCT FROM p_category)))
$$;

-- Report p_id (by p_reporter) starts (delta +1) or stops (-1) corroborating its
-- neighbours: each neighbour's count moves by one unless another report of the same
-- reporter near that neighbour already counts (or still counts) for it. Incremental,
-- so a burst of reports about one place costs each insert one pass over its
-- neighbours, not a recount of each; neighbours already at corroboration.propagate_max
-- are left (their count reads "at least that many"; the refresh recounts the recent
-- ones exactly). Rows locked elsewhere are skipped. Returns how many changed.
CREATE FUNCTION priority_propagate(w jsonb, p_id bigint, p_reporter text, p_category text,
                                   p_point geography, p_at timestamptz, delta integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    radius float8 := (w ->> 'corroboration.radius_m')::float8;
    win interval := make_interval(secs => (w ->> 'corroboration.window_s')::float8);
    anycat boolean := (w ->> 'corroboration.same_category')::float8 = 0;
    cap integer := (w ->> 'corroboration.propagate_max')::float8;
    changed integer;
BEGIN
    IF EXISTS (SELECT 1 FROM reporters b WHERE b.pseudonym = p_reporter AND b.banned) THEN
        RETURN 0;
    END IF;
    WITH nb AS MATERIALIZED (
        SELECT n.id, n.reporter FROM reports n
        WHERE ST_DWithin(n.point, p_point, radius, false)
          AND n.received_at BETWEEN p_at - win AND p_at + win
          AND n.id <> p_id AND n.reporter <> p_reporter
          AND (anycat OR n.category IS NOT DISTINCT FROM p_category)
          AND CASE WHEN delta > 0 THEN n.corroborations < cap
                   ELSE n.corroborations > 0 AND n.corroborations <= cap END
          AND NOT EXISTS (
              SELECT 1 FROM reports m
              WHERE m.reporter = p_reporter AND m.id <> p_id AND m.status <> 'rejected'
                AND ST_DWithin(m.point, n.point, radius, false)
                AND m.received_at BETWEEN n.received_at - win AND n.received_at + win
                AND (anycat OR m.category IS NOT DISTINCT FROM n.category))
        ORDER BY n.id FOR UPDATE OF n SKIP LOCKED)
    UPDATE reports r SET corroborations = r.corroborations + delta,
        priority = priority_formula(w, r.priority_base, r.category, r.flags,
                                    r.corroborations + delta,
                                    extract(epoch FROM now() - r.received_at)::float8,
                                    COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                    COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
    FROM nb LEFT JOIN reporters rp ON rp.pseudonym = nb.reporter
    WHERE r.id = nb.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- INSERT: the writer's priority becomes the base; corroborations are counted for a
-- report with a point (one probe of the gist index), kept as written for one without.
-- A report that has corroborators corroborates them in turn (the relation is
-- symmetric; with none, it has no neighbour to raise). That is done here, BEFORE the
-- row exists: in a statement inserting several rows, each later row then counts the
-- earlier ones itself, and no earlier row's propagation reaches a later one (AFTER row
-- triggers run at the end of the statement and would count those pairs twice).
-- (Written out rather than calling priority_of: measured on 20,000 inserts, the trigger
-- then costs 10-20 % of the insert against 40 % through the extra call, and 5x as a
-- single SELECT joining weights and reporter.)
CREATE FUNCTION reports_priority_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
    rp reporters%ROWTYPE;
BEGIN
    NEW.priority_base := NEW.priority;
    SELECT d.w INTO w FROM priority_params_doc d;
    IF NEW.point IS NOT NULL THEN
        NEW.corroborations := priority_corroborators(w, NEW.id, NEW.reporter, NEW.category,
                                                     NEW.point, NEW.received_at);
        IF NEW.corroborations > 0 AND NEW.status <> 'rejected' THEN
            PERFORM priority_propagate(w, NEW.id, NEW.reporter, NEW.category, NEW.point,
                                       NEW.received_at, 1);
        END IF;
    END IF;
    SELECT * INTO rp FROM reporters WHERE pseudonym = NEW.reporter;
    NEW.priority := priority_formula(w, NEW.priority_base, NEW.category, NEW.flags,
                                     NEW.corroborations,
                                     extract(epoch FROM now() - NEW.received_at)::float8,
                                     COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                     COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0));
    RETURN NEW;
END
$$;
CREATE TRIGGER reports_priority_insert BEFORE INSERT ON reports
    FOR EACH ROW EXECUTE FUNCTION reports_priority_insert();

-- A rejected report corroborates no one any more (and one un-rejected does again).
-- AFTER: a BEFORE trigger must not change rows its own statement may still update.
CREATE FUNCTION reports_priority_rejected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM priority_propagate(priority_params(), NEW.id, NEW.reporter, NEW.category,
                               NEW.point, NEW.received_at,
                               CASE WHEN NEW.status = 'rejected' THEN -1 ELSE 1 END);
    RETURN NULL;
END
$$;

-- UPDATE of what the score reads from the row itself.
CREATE FUNCTION reports_priority_rescore() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.priority := priority_of(priority_params(), NEW);
    RETURN NEW;
END
$$;
CREATE TRIGGER reports_priority_rescore BEFORE UPDATE OF category, flags, priority_base
    ON reports FOR EACH ROW
    WHEN (OLD.category IS DISTINCT FROM NEW.category OR OLD.flags IS DISTINCT FROM NEW.flags
          OR OLD.priority_base IS DISTINCT FROM NEW.priority_base)
    EXECUTE FUNCTION reports_priority_rescore();

CREATE TRIGGER reports_priority_rejected AFTER UPDATE OF status ON reports
    FOR EACH ROW
    WHEN (NEW.point IS NOT NULL AND (OLD.status = 'rejected') <> (NEW.status = 'rejected'))
    EXECUTE FUNCTION reports_priority_rejected();

-- A reporter's ban or reputation (moderators' acts, rare) re-scores their queued
-- reports at once; a ban (or unban) also recounts the neighbours of their recent
-- reports. Their confirmed/rejected counts change with every decision an analyst makes:
-- re-scoring a prolific reporter's queued reports inside each decision would put
-- hundreds of row writes on the analyst's click, so the reporter is only marked here
-- and the next refresh re-scores their queued reports (within a minute).
CREATE TABLE priority_dirty_reporters (
    pseudonym text PRIMARY KEY,
    marked_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION priority_rescore_reporter(w jsonb, p_reporter text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    changed integer;
BEGIN
    WITH q AS MATERIALIZED (
        SELECT x.id, priority_formula(w, x.priority_base, x.category, x.flags,
                   x.corroborations, extract(epoch FROM now() - x.received_at)::float8,
                   rp.banned, rp.reputation, rp.n_confirmed, rp.n_rejected) AS p
        FROM reports x JOIN reporters rp ON rp.pseudonym = x.reporter
        WHERE x.reporter = p_reporter AND x.status = 'new'),
    l AS (SELECT x.id, q.p FROM reports x JOIN q ON q.id = x.id WHERE x.priority <> q.p
          FOR UPDATE OF x SKIP LOCKED)
    UPDATE reports r SET priority = l.p FROM l WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

CREATE FUNCTION reporters_priority_rescore() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
    r record;
BEGIN
    IF OLD.banned IS NOT DISTINCT FROM NEW.banned AND OLD.reputation = NEW.reputation THEN
        INSERT INTO priority_dirty_reporters (pseudonym) VALUES (NEW.pseudonym)
            ON CONFLICT (pseudonym) DO NOTHING;
        RETURN NULL;
    END IF;
    w := priority_params();
    PERFORM priority_rescore_reporter(w, NEW.pseudonym);
    IF OLD.banned IS DISTINCT FROM NEW.banned THEN
        FOR r IN SELECT q.id, q.category, q.point, q.received_at FROM reports q
                 WHERE q.reporter = NEW.pseudonym AND q.point IS NOT NULL
                   AND q.received_at > now()
                       - make_interval(secs => (w ->> 'corroboration.window_s')::float8
                                               + (w ->> 'recency.horizon_s')::float8)
        LOOP
            PERFORM priority_recount_near(w, r.id, NEW.pseudonym, r.category, r.point,
                                          r.received_at);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER reporters_priority_rescore AFTER UPDATE OF banned, reputation, n_confirmed,
    n_rejected ON reporters FOR EACH ROW
    WHEN (OLD.banned IS DISTINCT FROM NEW.banned OR OLD.reputation <> NEW.reputation
          OR OLD.n_confirmed <> NEW.n_confirmed OR OLD.n_rejected <> NEW.n_rejected)
    EXECUTE FUNCTION reporters_priority_rescore();

-- The periodic refresh, bounded: re-scores queued reports received within the recency
-- horizon plus an hour (so a report crossing the horizon between two calls gets its
-- final value while the janitor calls at least hourly) and the queued reports of the
-- reporters decisions marked since the last call, writing only rows whose score
-- changed; first recounts the corroborations of the queued reports received since the
-- previous call (less 5 minutes for transactions still open then; at most the
-- corroboration window plus an hour back), which catches two reports that arrived
-- together in concurrent transactions (neither saw the other). Rows locked elsewhere
-- wait for the next call. Concurrent calls queue on the state row.
-- Returns (reports scored, priorities changed, corroborations changed).
CREATE TABLE priority_refresh_state (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO priority_refresh_state (id) VALUES (true);

CREATE FUNCTION priority_refresh(OUT scored integer, OUT changed integer,
                                 OUT recounted integer)
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    horizon interval := make_interval(secs => (w ->> 'recency.horizon_s')::float8 + 3600);
    since timestamptz;
    marked integer;
BEGIN
    SELECT last_at INTO since FROM priority_refresh_state FOR UPDATE;
    UPDATE priority_refresh_state SET last_at = now();
    recounted := priority_recount(w, ARRAY(
        SELECT q.id FROM reports q
        WHERE q.received_at > GREATEST(since - interval '5 minutes',
                  now() - make_interval(secs => (w ->> 'corroboration.window_s')::float8 + 3600))
          AND q.status = 'new' AND q.point IS NOT NULL));
    SELECT count(*) INTO scored FROM reports q
    WHERE q.status = 'new' AND q.received_at > now() - horizon;
    WITH c AS MATERIALIZED (
        SELECT q.id, priority_formula(w, q.priority_base, q.category, q.flags, q.corroborations,
                                      extract(epoch FROM now() - q.received_at)::float8,
                                      COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                      COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
                   AS p
        FROM reports q LEFT JOIN reporters rp ON rp.pseudonym = q.reporter
        WHERE q.status = 'new' AND q.received_at > now() - horizon),
    l AS (SELECT q.id, c.p FROM reports q JOIN c ON c.id = q.id
          WHERE q.priority <> c.p FOR UPDATE OF q SKIP LOCKED)
    UPDATE reports r SET priority = l.p FROM l WHERE r.id = l.id;
    GET DIAGNOSTICS changed = ROW_COUNT;
    WITH d AS (DELETE FROM priority_dirty_reporters RETURNING pseudonym),
    c AS MATERIALIZED (
        SELECT q.id, priority_formula(w, q.priority_base, q.category, q.flags, q.corroborations,
                                      extract(epoch FROM now() - q.received_at)::float8,
                                      rp.banned, rp.reputation, rp.n_confirmed, rp.n_rejected)
                   AS p
        FROM d JOIN reports q ON q.reporter = d.pseudonym
        JOIN reporters rp ON rp.pseudonym = d.pseudonym
        WHERE q.status = 'new' AND q.received_at <= now() - horizon),
    l AS (SELECT q.id, c.p FROM reports q JOIN c ON c.id = q.id
          WHERE q.priority <> c.p FOR UPDATE OF q SKIP LOCKED)
    UPDATE reports r SET priority = l.p FROM l WHERE r.id = l.id;
    GET DIAGNOSTICS marked = ROW_COUNT;
    changed := changed + marked;
END
$$;

-- Re-scores every queued report (after a weight changed); with recount, first recounts
-- the corroborations of the queued reports received within the horizon (after the
-- radius, window or category rule changed). Returns the number of priorities changed.
CREATE FUNCTION priority_rescore_queue(recount boolean) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb := priority_params();
    changed integer;
BEGIN
    IF recount THEN
        PERFORM priority_recount(w, ARRAY(
            SELECT q.id FROM reports q WHERE q.status = 'new' AND q.point IS NOT NULL
              AND q.received_at > now() - make_interval(secs => (w ->> 'recency.horizon_s')::float8)));
    END IF;
    WITH c AS (
        SELECT q.id, priority_formula(w, q.priority_base, q.category, q.flags, q.corroborations,
                                      extract(epoch FROM now() - q.received_at)::float8,
                                      COALESCE(rp.banned, false), COALESCE(rp.reputation, 0),
                                      COALESCE(rp.n_confirmed, 0), COALESCE(rp.n_rejected, 0))
                   AS p
        FROM reports q LEFT JOIN reporters rp ON rp.pseudonym = q.reporter
        WHERE q.status = 'new')
    UPDATE reports r SET priority = c.p FROM c WHERE r.id = c.id AND r.priority <> c.p;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Reports already queued when this migration runs get their score now.
SELECT priority_rescore_queue(true);
