-- mod_reputation.sql
-- Reputation from outcomes: a report confirmed raises its reporter's reputation by one,
-- rejected (spam, disinformation, a rejected campaign) lowers it by one; a decision
-- taken back (reopen) undoes its step. A held report released into the queue changes
-- nothing (held -> new). The rate limits (moderation/mod.h) and the priority score
-- (priority_track) read it.
CREATE OR REPLACE FUNCTION mod_reputation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d integer;
    was text;
BEGIN
    d := CASE NEW.status WHEN 'confirmed' THEN 1 WHEN 'rejected' THEN -1 ELSE 0 END
       - CASE OLD.status WHEN 'confirmed' THEN 1 WHEN 'rejected' THEN -1 ELSE 0 END;
    IF d <> 0 THEN
        -- re-scored by the next refresh with the counts the decision changed, not at once
        -- (reporters_priority_rescore.sql): a decision writes no queued report
        -- (assignments: plain expressions, where PERFORM would run a query each)
        was := set_config('tipline.reputation_outcome', 'on', true);
        UPDATE reporters SET reputation = reputation + d WHERE pseudonym = NEW.reporter;
        was := set_config('tipline.reputation_outcome', 'off', true);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER mod_reputation AFTER UPDATE OF status ON reports
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION mod_reputation();
