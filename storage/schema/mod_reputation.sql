-- mod_reputation.sql
-- Reputation from outcomes: a report confirmed raises its reporter's reputation by one,
-- rejected (spam, disinformation, a rejected campaign) lowers it by one; a decision
-- taken back (reopen) undoes its step. A held report released into the queue changes
-- nothing (held -> new). The rate limits (moderation/mod.h) and the priority score
-- (priority_track) read it.
-- An analyst's decision and its reopening (web_decide, web_reopen) also move the
-- reporter's n_confirmed / n_rejected: they say so by setting tipline.count_decision
-- for their UPDATE, and the counters go in the same UPDATE of the reporter's row as the
-- reputation (one row version and one priority mark, not two).
CREATE OR REPLACE FUNCTION mod_reputation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d integer;
    dc integer := 0;
    dj integer := 0;
    was text;
BEGIN
    d := CASE NEW.status WHEN 'confirmed' THEN 1 WHEN 'rejected' THEN -1 ELSE 0 END
       - CASE OLD.status WHEN 'confirmed' THEN 1 WHEN 'rejected' THEN -1 ELSE 0 END;
    IF current_setting('tipline.count_decision', true) = 'on' THEN
        dc := (NEW.status = 'confirmed')::int - (OLD.status = 'confirmed')::int;
        dj := (NEW.status = 'rejected')::int - (OLD.status = 'rejected')::int;
    END IF;
    IF d <> 0 OR dc <> 0 OR dj <> 0 THEN
        -- re-scored by the next refresh with the counts the decision changed, not at once
        -- (reporters_priority_rescore.sql): a decision writes no queued report
        -- (assignments: plain expressions, where PERFORM would run a query each)
        was := set_config('tipline.reputation_outcome', 'on', true);
        UPDATE reporters SET reputation = reputation + d, n_confirmed = n_confirmed + dc,
                             n_rejected = n_rejected + dj
        WHERE pseudonym = NEW.reporter;
        was := set_config('tipline.reputation_outcome', 'off', true);
    END IF;
    RETURN NULL;
END
$$;

-- No WHEN clause: PostgreSQL reads a trigger's WHEN back from its stored text and
-- compiles it for every UPDATE statement, which costs more than the call that
-- returns at once; the function tests the condition itself.
-- (A status written unchanged moves nothing: every step below is then 0.)
CREATE OR REPLACE TRIGGER mod_reputation AFTER UPDATE OF status ON reports
    FOR EACH ROW EXECUTE FUNCTION mod_reputation();
