-- inbox_redact.sql
-- A handled update keeps only what idempotency and debugging need (update_id, times,
-- kind, chat key): its sealed copy (and any clear payload of an older row) is dropped
-- in the statement that marks it processed, whichever path marks it. An update the
-- database refused ("refused", set with processed_at) keeps its sealed copy until
-- retention deletes the row.
CREATE OR REPLACE FUNCTION inbox_redact() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.refused THEN
        NEW.sealed := NULL;
        NEW.payload := NULL;
    END IF;
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS inbox_redact ON inbox;
CREATE TRIGGER inbox_redact BEFORE UPDATE OF processed_at ON inbox
    FOR EACH ROW WHEN (NEW.processed_at IS NOT NULL AND OLD.processed_at IS NULL)
    EXECUTE FUNCTION inbox_redact();
