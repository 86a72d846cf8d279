-- 0013: live events go through a table the web servers poll, not through NOTIFY (issue 6).
--
-- 0006's and 0012's triggers called pg_notify in every transaction that created a report,
-- claimed, released or decided one, or moved a follow-up, whenever a web server was
-- listening, which in production is always. PostgreSQL serialises the commits of all
-- notifying transactions: PreCommit_Notify takes one lock for the whole cluster and holds
-- it until the commit is over, so that the notification queue is in commit order. Every
-- claim and every decision waited in that one line, and behind its WAL flush where
-- synchronous_commit is on (on a disk, one commit per fsync for the whole service). Here,
-- with fsync off and a listener registered, 8 pgbench clients doing claim+decide ran at
-- 836, 749, 846 pairs/s with NOTIFY, 1,136, 970, 1,097 with this table, and 830, 902,
-- 1,100 with nobody listening (alternating runs on copies of the bench's 1,000,000-report
-- database).
--
-- Now the same triggers append the same JSON to web_events, an append-only table that
-- costs one insert and no lock shared by all writers; each web server polls it (web/
-- events.c, every 100 ms: "within a second" holds) from the id it has read. Ids are
-- taken when the row is written, not at commit, so a transaction still running can
-- commit an event with a lower id than one already read: each poll also rereads the
-- events of the transactions that were in flight at its snapshot (pg_snapshot_xip), by
-- xid (storage/store_web.c, store_events_poll). Still only while some web server is
-- registered in web_listeners: without one the triggers cost one probe, as before.
-- Unlogged: an event only tells a console to refetch, the consoles resync after a crash
-- (the web server's poll connection breaks and it says so), and no WAL is written for it.
-- Kept 10 minutes: the web servers delete older ones as they poll, by id (ids follow
-- time closely enough for that; no second index to write).
CREATE UNLOGGED TABLE web_events (
    id   bigserial PRIMARY KEY,
    xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at   timestamptz NOT NULL DEFAULT now(),
    body text NOT NULL
);
CREATE INDEX web_events_xid ON web_events (xid);

CREATE OR REPLACE FUNCTION reports_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM web_listeners) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        ev := 'report';
    ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.decided_at IS DISTINCT FROM OLD.decided_at THEN
        ev := 'decide';
    ELSIF NEW.claimed_by IS NOT NULL AND NEW.claimed_by IS DISTINCT FROM OLD.claimed_by THEN
        ev := 'claim';
    ELSIF NEW.claimed_by IS NULL AND OLD.claimed_by IS NOT NULL THEN
        ev := 'release';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO web_events (body)
    VALUES (json_build_object('event', ev, 'id', NEW.id, 'status', NEW.status,
                              'claimed_by', NEW.claimed_by, 'queue', NEW.queue)::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION followups_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM web_listeners) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.relayed_at IS NOT DISTINCT FROM OLD.relayed_at
       AND NEW.relay_error IS NOT DISTINCT FROM OLD.relay_error
       AND NEW.answer IS NOT DISTINCT FROM OLD.answer THEN
        RETURN NULL;
    END IF;
    INSERT INTO web_events (body)
    VALUES (json_build_object('event', 'followup', 'id', NEW.report_id, 'followup', NEW.id,
                              'answered', NEW.answer IS NOT NULL,
                              'failed', NEW.relay_error IS NOT NULL,
                              'queue', (SELECT r.queue FROM reports r
                                        WHERE r.id = NEW.report_id))::text);
    RETURN NULL;
END
$$;
