-- reporters_priority_rescore.sql
-- A reporter's ban, reputation or counts changed: mark them for a rescore.
CREATE OR REPLACE FUNCTION reporters_priority_rescore() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    w jsonb;
    r record;
BEGIN
    IF OLD.banned IS NOT DISTINCT FROM NEW.banned AND OLD.reputation = NEW.reputation
       AND OLD.n_confirmed = NEW.n_confirmed AND OLD.n_rejected = NEW.n_rejected THEN
        RETURN NULL;
    END IF;
    -- (a reputation moved by a decision's outcome waits for the refresh, as the counts do)
    IF OLD.banned IS NOT DISTINCT FROM NEW.banned AND (OLD.reputation = NEW.reputation
        OR current_setting('tipline.reputation_outcome', true) = 'on') THEN
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

-- No WHEN clause: PostgreSQL reads a trigger's WHEN back from its stored text and
-- compiles it for every UPDATE statement, which costs more than the call that
-- returns at once; the function tests the condition itself.
CREATE OR REPLACE TRIGGER reporters_priority_rescore AFTER UPDATE OF banned, reputation, n_confirmed,
    n_rejected ON reporters FOR EACH ROW EXECUTE FUNCTION reporters_priority_rescore();
