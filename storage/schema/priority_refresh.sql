-- priority_refresh.sql
-- The janitor's periodic refresh: rescores open reports whose age term moved,
-- and reporters marked dirty.
CREATE OR REPLACE FUNCTION priority_refresh(OUT scored integer, OUT changed integer,
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
