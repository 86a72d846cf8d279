-- priority_weights_doc.sql
-- Keeps priority_params_doc equal to the weights table, one statement at a time.
CREATE OR REPLACE FUNCTION priority_weights_doc() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE priority_params_doc
       SET w = (SELECT COALESCE(jsonb_object_agg(key, value), '{}') FROM priority_weights);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER priority_weights_doc AFTER INSERT OR UPDATE OR DELETE ON priority_weights
    FOR EACH STATEMENT EXECUTE FUNCTION priority_weights_doc();
