-- web_queues_for.sql
-- The queues an account may see: every unrestricted queue, the restricted ones it
-- is a member of, all for an admin.
CREATE OR REPLACE FUNCTION web_queues_for(acct text) RETURNS text[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT COALESCE(array_agg(q.name ORDER BY q.name), '{}') FROM queues q
        WHERE NOT q.restricted
           OR EXISTS (SELECT 1 FROM accounts a WHERE a.name = acct AND a.role = 'admin')
           OR EXISTS (SELECT 1 FROM queue_members m WHERE m.queue = q.name AND m.account = acct));
END
$$;
