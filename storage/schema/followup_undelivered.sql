-- followup_undelivered.sql
-- A follow-up whose relay message failed for good says so in relay_error,
-- so the analyst learns the citizen was not reached.
CREATE OR REPLACE FUNCTION followup_undelivered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE followups SET relay_error = 'not delivered: ' || COALESCE(NEW.last_error, 'unknown')
     WHERE id = NEW.followup_id AND relay_error IS NULL AND answer IS NULL;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER outbox_followup_failed AFTER UPDATE OF state ON outbox FOR EACH ROW
    WHEN (NEW.state = 'failed' AND OLD.state <> 'failed' AND NEW.followup_id IS NOT NULL)
    EXECUTE FUNCTION followup_undelivered();
