-- inbox_claim_chat.sql
-- A worker takes one chat at a time: the chat of the oldest unprocessed update
-- whose session advisory lock it can take, skipping the chats in exclude (contract 3).
-- Planned per call: a generic plan for the 16-row window is much slower.
CREATE OR REPLACE FUNCTION inbox_claim_chat(exclude bigint[]) RETURNS bigint
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    tried bigint[] := COALESCE(exclude, '{}');
    k bigint;
    seen boolean;
BEGIN
    LOOP
        seen := false;
        FOR k IN
            SELECT p.chat_key
            FROM (SELECT i.chat_key, i.update_id FROM inbox i
                  WHERE i.processed_at IS NULL AND i.chat_key <> ALL (tried)
                  ORDER BY i.update_id LIMIT 16) p
            GROUP BY p.chat_key ORDER BY min(p.update_id)
        LOOP
            seen := true;
            IF pg_try_advisory_lock(k) THEN
                RETURN k;
            END IF;
            tried := tried || k;
        END LOOP;
        IF NOT seen THEN
            RETURN NULL;
        END IF;
    END LOOP;
END
$$;
